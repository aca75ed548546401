/*
 * utf8.c: code point boundaries and validity for cutting text (see utf8.h).
 */
#include "util/utf8.h"

#include <stdbool.h>
#include <stdint.h>

/* Bytes in the sequence a lead byte starts; 0 for a continuation byte or a
 * byte that never starts a sequence. */
static size_t seq_len(uint8_t c) {
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return 2;
    if (c >= 0xe0 && c <= 0xef) return 3;
    if (c >= 0xf0 && c <= 0xf4) return 4;
    return 0;
}

size_t utf8_trim_partial(const char *s, size_t len) {
    const uint8_t *p = (const uint8_t *)s;
    /* Back over continuation bytes (at most 3 in a valid sequence) to the
     * start of the last character. */
    size_t at = len;
    for (int i = 0; i < 3 && at > 0 && (p[at - 1] & 0xc0) == 0x80; i++) at--;
    if (at == 0) return len;
    size_t lead = at - 1, n = seq_len(p[lead]);
    if (n > 1 && n > len - lead) return lead; /* it does not fit whole */
    return len;
}

size_t utf8_cut(const char *s, size_t len, size_t max) {
    return len <= max ? len : utf8_trim_partial(s, max);
}

size_t utf8_valid_prefix(const char *s, size_t len) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = seq_len(p[i]);
        if (n == 0 || n > len - i) break;
        bool ok = true;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80) ok = false;
        if (!ok) break;
        /* Overlong 3- and 4-byte forms, surrogates and values past U+10FFFF. */
        if (n == 3 && ((p[i] == 0xe0 && p[i + 1] < 0xa0) || (p[i] == 0xed && p[i + 1] >= 0xa0)))
            break;
        if (n == 4 && ((p[i] == 0xf0 && p[i + 1] < 0x90) || (p[i] == 0xf4 && p[i + 1] >= 0x90)))
            break;
        i += n;
    }
    return i;
}
