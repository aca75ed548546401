/*
 * redact_int.h: what the redactor's own files share: the config's layout and
 * the byte classes and UTF-8 helpers the scanners use.
 */
#ifndef HEARTH_ROUTER_REDACT_INT_H
#define HEARTH_ROUTER_REDACT_INT_H

#include "router/redact.h"

#define REDACT_MAX_TERMS 4096
#define REDACT_MAX_TERM_LEN 200

typedef struct {
    char *fold;  /* owned: the term with ASCII letters lower-cased */
    size_t len;
} redact_term;

struct redact_config {
    uint32_t kinds; /* bit per redact_kind */
    redact_term *terms;
    size_t n_terms, cap_terms;
    /* Term indices sorted by (first folded byte, length descending):
     * the terms starting with byte b are order[first[b] .. first[b+1]). */
    uint32_t *order;
    uint32_t first[257];
};

/* ASCII classes, one table lookup each (the scanners' inner loops). */
enum { RX_DIGIT = 1, RX_UPPER = 2, RX_LOWER = 4, RX_HEX = 8 };
#define RX_D RX_DIGIT | RX_HEX
#define RX_UH RX_UPPER | RX_HEX
#define RX_LH RX_LOWER | RX_HEX
#define RX_U RX_UPPER
#define RX_L RX_LOWER
static const unsigned char rx_class[256] = {
    ['0'] = RX_D, ['1'] = RX_D, ['2'] = RX_D, ['3'] = RX_D, ['4'] = RX_D, ['5'] = RX_D,
    ['6'] = RX_D, ['7'] = RX_D, ['8'] = RX_D, ['9'] = RX_D,
    ['A'] = RX_UH, ['B'] = RX_UH, ['C'] = RX_UH, ['D'] = RX_UH, ['E'] = RX_UH, ['F'] = RX_UH,
    ['G'] = RX_U, ['H'] = RX_U, ['I'] = RX_U, ['J'] = RX_U, ['K'] = RX_U, ['L'] = RX_U,
    ['M'] = RX_U, ['N'] = RX_U, ['O'] = RX_U, ['P'] = RX_U, ['Q'] = RX_U, ['R'] = RX_U,
    ['S'] = RX_U, ['T'] = RX_U, ['U'] = RX_U, ['V'] = RX_U, ['W'] = RX_U, ['X'] = RX_U,
    ['Y'] = RX_U, ['Z'] = RX_U,
    ['a'] = RX_LH, ['b'] = RX_LH, ['c'] = RX_LH, ['d'] = RX_LH, ['e'] = RX_LH, ['f'] = RX_LH,
    ['g'] = RX_L, ['h'] = RX_L, ['i'] = RX_L, ['j'] = RX_L, ['k'] = RX_L, ['l'] = RX_L,
    ['m'] = RX_L, ['n'] = RX_L, ['o'] = RX_L, ['p'] = RX_L, ['q'] = RX_L, ['r'] = RX_L,
    ['s'] = RX_L, ['t'] = RX_L, ['u'] = RX_L, ['v'] = RX_L, ['w'] = RX_L, ['x'] = RX_L,
    ['y'] = RX_L, ['z'] = RX_L,
};
#undef RX_D
#undef RX_UH
#undef RX_LH
#undef RX_U
#undef RX_L

static inline bool rx_digit(unsigned char c) { return rx_class[c] & RX_DIGIT; }
static inline bool rx_upper(unsigned char c) { return rx_class[c] & RX_UPPER; }
static inline bool rx_lower(unsigned char c) { return rx_class[c] & RX_LOWER; }
static inline bool rx_alpha(unsigned char c) { return rx_class[c] & (RX_UPPER | RX_LOWER); }
static inline bool rx_alnum(unsigned char c) { return rx_class[c] & (RX_UPPER | RX_LOWER | RX_DIGIT); }
static inline bool rx_hex(unsigned char c) { return rx_class[c] & RX_HEX; }
static inline unsigned char rx_fold(unsigned char c) {
    return rx_upper(c) ? (unsigned char)(c | 0x20) : c;
}
static inline bool rx_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Decodes the UTF-8 character at s[i] (i < n): returns its length (1..4)
 * and sets *cp; an invalid or truncated sequence is one byte, U+FFFD. */
size_t rx_utf8(const unsigned char *s, size_t n, size_t i, uint32_t *cp);
/* Whether code point cp (>= 0x80) counts as part of a word (letters, marks,
 * CJK...) rather than punctuation, symbols or spaces. */
bool rx_word_cp(uint32_t cp);
/* Whether the character starting at s[i] / ending just before s[i] is a word
 * character (ASCII letter or digit, or a word code point). False at the
 * ends of the text. */
bool rx_word_at(const unsigned char *s, size_t n, size_t i);
bool rx_word_before(const unsigned char *s, size_t i);

#endif
