/*
 * utf8.h: cutting text at UTF-8 code point boundaries. Messages that quote
 * user text keep only a prefix of it; a prefix that ends inside a multi-byte
 * character is not valid UTF-8, and JSON encoders (jansson) refuse it, so
 * every such cut goes through here.
 */
#ifndef HEARTH_UTIL_UTF8_H
#define HEARTH_UTIL_UTF8_H

#include <stddef.h>

/* The length of the longest prefix of s[0..len) that is at most max bytes
 * and does not end inside a character: a cut at max moves back over the
 * continuation bytes of a character that does not fit whole. Bytes before
 * the cut are not validated (see utf8_valid_prefix). Any thread. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* len, or less if s[0..len) ends with an incomplete multi-byte character
 * (what a byte-count truncation leaves): then the length before it. Any
 * thread. */
size_t utf8_trim_partial(const char *s, size_t len);

/* The length of the longest prefix of s[0..len) that is valid UTF-8
 * (shortest forms only, no surrogates, nothing above U+10FFFF). Any thread. */
size_t utf8_valid_prefix(const char *s, size_t len);

#endif
