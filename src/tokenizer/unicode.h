/*
 * unicode.h: what the pre-tokenizers need to know about a code point (its
 * general category class and whether it is White_Space), and UTF-8 decoding
 * with a fixed rule for invalid bytes.
 *
 * The class table is generated (unicode_tables.c, by
 * tools/unicode/gen_unicode_tables.py) from the Unicode Character Database;
 * hearth_unicode_version names the version it was made from.
 *
 * Invalid UTF-8: a byte that does not start a complete, well-formed sequence
 * (as Unicode's table 3-7 defines it: no overlongs, no surrogates, nothing
 * above U+10FFFF) decodes alone, one byte long, to HEARTH_UC_INVALID(byte), a
 * value above U+10FFFF whose class flags are all zero. Callers keep the
 * original byte, so nothing is lost.
 */
#ifndef HEARTH_TOKENIZER_UNICODE_H
#define HEARTH_TOKENIZER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

enum {
    HEARTH_UC_L = 1,   /* \p{L}: letter */
    HEARTH_UC_N = 2,   /* \p{N}: number */
    HEARTH_UC_P = 4,   /* \p{P}: punctuation */
    HEARTH_UC_S = 8,   /* \p{S}: symbol */
    HEARTH_UC_M = 16,  /* \p{M}: mark */
    HEARTH_UC_WS = 32, /* \s: White_Space */
};

#define HEARTH_UC_INVALID(byte) (0x110000u + (uint32_t)(byte))

extern const char hearth_unicode_version[];
extern const uint16_t hearth_uc_stage1[0x1100];
extern const uint8_t hearth_uc_stage2[];

/* Class flags of code point cp (0 for unassigned ones and invalid units). */
static inline unsigned hearth_uc_flags(uint32_t cp) {
    if (cp >= 0x110000u) return 0;
    return hearth_uc_stage2[(size_t)hearth_uc_stage1[cp >> 8] * 256 + (cp & 255)];
}

/* Decodes one unit at s[0..n) (n >= 1): sets *cp and returns its length in
 * bytes (1..4). Invalid bytes give HEARTH_UC_INVALID(s[0]) and length 1. */
static inline size_t hearth_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
            return 2;
        }
    } else if (c >= 0xE0 && c <= 0xEF) {
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            return 3;
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
            (s[3] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                  ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            return 4;
        }
    }
    *cp = HEARTH_UC_INVALID(c);
    return 1;
}

/* Encodes code point cp (< 0x110000) into out (room for 4); returns length. */
static inline size_t hearth_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

#endif
