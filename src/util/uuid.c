/*
 * uuid.c: UUIDv7 generation and checking (see uuid.h). The layout, in
 * bytes: 0-5 Unix ms big-endian, 6 = 0x70 | 4 random bits, 7 random,
 * 8 = 0x80 | 6 random bits, 9-15 random.
 */
#include "util/uuid.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hearth_uuid7(int64_t ms, char out[HEARTH_UUID_LEN + 1]) {
    uint8_t b[16];
    out[0] = '\0';
    if (getrandom(b + 6, 10, 0) != 10) return false;
    if (ms <= 0) ms = now_ms();
    uint64_t t = (uint64_t)ms & 0xFFFFFFFFFFFFull;
    for (int i = 0; i < 6; i++) b[i] = (uint8_t)(t >> (8 * (5 - i)));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0F));
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3F));
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[w++] = '-';
        out[w++] = hex[b[i] >> 4];
        out[w++] = hex[b[i] & 15];
    }
    out[w] = '\0';
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool hearth_uuid7_valid(const char *s) {
    if (!s || strlen(s) != HEARTH_UUID_LEN) return false;
    for (int i = 0; i < HEARTH_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (hexval(s[i]) < 0) {
            return false;
        }
    }
    if (s[14] != '7') return false;
    int v = hexval(s[19]);
    return v >= 8 && v <= 11;
}

int64_t hearth_uuid7_ms(const char *s) {
    if (!hearth_uuid7_valid(s)) return -1;
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (i == 8) continue;
        ms = ms * 16 + hexval(s[i]);
    }
    return ms;
}
