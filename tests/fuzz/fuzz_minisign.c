/*
 * fuzz_minisign.c: libFuzzer target over the minisign parsers
 * (src/security/minisign.c) and the strict base64 decoder they use
 * (base64.c), and the verified-state parser (verify_state.c). Invariants:
 * a parsed signature's trusted comment is within its bound and has no NUL;
 * strict base64 that decodes re-encodes to exactly the input (one byte
 * string, one encoding); state entries are well-formed. Crashes, sanitizer
 * reports and failed invariants abort.
 */
#include "security/verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                      \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_minisign: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static size_t b64_encode(const uint8_t *in, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    return o;
}

static void on_entry(void *user, const char *path, const sec_state_entry *e) {
    (void)user;
    FUZZ_ASSERT(path[0] != '\0');
    FUZZ_ASSERT(strlen(e->sha256) == 64);
    FUZZ_ASSERT(e->kind >= 0 && e->kind <= HEARTH_SIG_SIGSTORE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sec_minisign_sig s;
    sec_minisign_key k;
    if (sec_minisign_sig_parse(data, size, &s, NULL) == HEARTH_OK) {
        FUZZ_ASSERT(s.trusted_comment_len <= SEC_MINISIGN_COMMENT_MAX);
        FUZZ_ASSERT(strlen(s.trusted_comment) == s.trusted_comment_len);
        /* checking a parsed signature must not crash either */
        memset(&k, 0, sizeof k);
        (void)sec_minisign_global_ok(&s, &k);
        uint8_t h[64] = {0};
        (void)sec_minisign_file_ok(&s, &k, h, data, size);
    }
    (void)sec_minisign_key_parse(data, size, &k, NULL);

    if (size <= 4096) {
        static uint8_t out[4096];
        static char again[6000];
        size_t n;
        if (sec_b64_decode((const char *)data, size, false, out, sizeof out, &n)) {
            FUZZ_ASSERT(n <= size);
            size_t m = b64_encode(out, n, again);
            FUZZ_ASSERT(m == size && !memcmp(again, data, size));
        }
        (void)sec_b64_decode((const char *)data, size, true, out, sizeof out, &n);
    }
    sec_state_parse((const char *)data, size, on_entry, NULL);
    return 0;
}
