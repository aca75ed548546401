/*
 * base64.h: the bounds-checked base64 codec of the sync protocol: standard
 * alphabet with padding (payloads, salts: RFC 4648 section 4) and the
 * url-safe alphabet without padding (tokens: section 5). Decoding is strict:
 * one canonical spelling per byte string (no whitespace, no missing or extra
 * padding, zero unused bits), so two encodings of one payload never differ.
 */
#ifndef HEARTH_SYNC_BASE64_H
#define HEARTH_SYNC_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters sync_b64_encode writes for n bytes (no NUL). */
size_t sync_b64_encoded_len(size_t n);

/* Writes the padded standard encoding of in[0..n) to out (room for
 * sync_b64_encoded_len(n) + 1 bytes; NUL-terminated). Any thread. */
void sync_b64_encode(const uint8_t *in, size_t n, char *out);

/* Upper bound of the bytes that decoding len characters gives. */
static inline size_t sync_b64_decoded_max(size_t len) { return len / 4 * 3; }

/* Decodes the padded standard encoding in[0..len) into out (room for
 * sync_b64_decoded_max(len) bytes); *n is the decoded length. False when
 * in is not canonical base64 (length not a multiple of 4, a character
 * outside the alphabet, misplaced padding, non-zero unused bits). */
bool sync_b64_decode(const char *in, size_t len, uint8_t *out, size_t *n);

/* Writes the url-safe unpadded encoding of in[0..n) to out (room for
 * sync_b64_encoded_len(n) + 1; NUL-terminated). Any thread. */
void sync_b64url_encode(const uint8_t *in, size_t n, char *out);

#endif
