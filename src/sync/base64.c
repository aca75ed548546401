/*
 * base64.c: the sync protocol's base64 codec (see base64.h). Decoding reads
 * through explicit index checks against len; a table maps each byte to its
 * 6-bit value or to "not in the alphabet".
 */
#include "sync/base64.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sync_b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

static size_t encode(const uint8_t *in, size_t n, char *out, const char *alpha, bool pad) {
    size_t o = 0, i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

void sync_b64_encode(const uint8_t *in, size_t n, char *out) {
    encode(in, n, out, std_alpha, true);
}

void sync_b64url_encode(const uint8_t *in, size_t n, char *out) {
    encode(in, n, out, url_alpha, false);
}

/* 0..63, or -1 for a character outside the standard alphabet. */
static int val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool sync_b64_decode(const char *in, size_t len, uint8_t *out, size_t *n) {
    *n = 0;
    if (len % 4) return false;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = len - i == 4;
        int a = val((unsigned char)in[i]), b = val((unsigned char)in[i + 1]);
        if (a < 0 || b < 0) return false;
        unsigned char c3 = (unsigned char)in[i + 2], c4 = (unsigned char)in[i + 3];
        if (last && c3 == '=' && c4 == '=') {
            if (b & 15) return false; /* unused bits must be zero */
            out[o++] = (uint8_t)(a << 2 | b >> 4);
            break;
        }
        int c = val(c3);
        if (c < 0) return false;
        if (last && c4 == '=') {
            if (c & 3) return false;
            out[o++] = (uint8_t)(a << 2 | b >> 4);
            out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
            break;
        }
        int d = val(c4);
        if (d < 0) return false;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
        out[o++] = (uint8_t)((c & 3) << 6 | d);
    }
    *n = o;
    return true;
}
