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

static inline bool rx_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline bool rx_upper(unsigned char c) { return (unsigned)(c - 'A') < 26u; }
static inline bool rx_lower(unsigned char c) { return (unsigned)(c - 'a') < 26u; }
static inline bool rx_alpha(unsigned char c) { return rx_upper(c) || rx_lower(c); }
static inline bool rx_alnum(unsigned char c) { return rx_alpha(c) || rx_digit(c); }
static inline bool rx_hex(unsigned char c) {
    return rx_digit(c) || (unsigned)((c | 0x20) - 'a') < 6u;
}
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
