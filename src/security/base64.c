/*
 * base64.c: a strict base64 decoder for signature and key files. Strict
 * because a lenient decoder (skipping junk, ignoring bad padding) would let
 * two different files decode to the same signature, and tests expect a
 * damaged file to be refused, not repaired.
 */
#include "security/verify_int.h"

static int b64_value(unsigned char c, bool url_ok) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    if (url_ok && c == '-') return 62;
    if (url_ok && c == '_') return 63;
    return -1;
}

bool sec_b64_decode(const char *in, size_t len, bool url_ok, uint8_t *out, size_t cap,
                    size_t *out_len) {
    size_t pad = 0;
    while (pad < 2 && len > pad && in[len - 1 - pad] == '=') pad++;
    size_t body = len - pad;
    if (pad && len % 4) return false;
    if (!url_ok && len % 4) return false;
    if (body % 4 == 1) return false;
    if (pad && (body + pad) % 4) return false;
    size_t n = body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0);
    if (n > cap) return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < body; i++) {
        int v = b64_value((unsigned char)in[i], url_ok);
        if (v < 0) return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The bits left over must be zero, or two encodings would name one
     * byte string. */
    if (acc != 0) return false;
    if (o != n) return false;
    *out_len = o;
    return true;
}
