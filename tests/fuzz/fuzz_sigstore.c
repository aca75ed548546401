/*
 * fuzz_sigstore.c: libFuzzer target over the OpenSSF model-signing bundle
 * parser (src/security/sigstore.c): the bundle JSON and its DSSE envelope,
 * the in-toto statement inside (looked up for a fixed digest and for the
 * first digest-shaped string of the input), the signature check against a
 * fixed P-256 key, and the PEM key parser. Invariants: a found resource
 * name fits its buffer; a key that parses has a 64-hex-digit hint. Crashes,
 * sanitizer reports and failed invariants abort.
 */
#include "security/verify_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                      \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_sigstore: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* A fixed P-256 public key, so that the signature path runs. */
static const char KEY_PEM[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDE90Tb4q5uIw5TAb206+/Ec3YnL4\n"
    "HT34fIlPANf91gbp5CY73m5eRHXUoLI74bF/tNlCCXQTng4WoDi4ekTNsQ==\n"
    "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static EVP_PKEY *key;
    static char key_hint[65];
    if (!key && sec_pem_key_parse(KEY_PEM, sizeof KEY_PEM - 1, &key, key_hint, NULL)) abort();
    sec_bundle *b = NULL;
    if (sec_bundle_parse(data, size, &b, NULL) == HEARTH_OK) {
        (void)sec_bundle_sig_ok(b, key);
        const char *h = sec_bundle_hint(b);
        if (h) FUZZ_ASSERT(strlen(h) == 64);
        char name[64];
        hearth_status st = sec_bundle_find_digest(
            b, "0000000000000000000000000000000000000000000000000000000000000000", name,
            sizeof name, NULL);
        if (st == HEARTH_OK) FUZZ_ASSERT(strlen(name) < sizeof name);
        /* a digest the input itself names, so that "found" is reachable */
        for (size_t i = 0; i + 64 <= size; i++) {
            size_t n = 0;
            while (n < 64 && ((data[i + n] >= '0' && data[i + n] <= '9') ||
                              (data[i + n] >= 'a' && data[i + n] <= 'f')))
                n++;
            if (n == 64) {
                char hex[65];
                memcpy(hex, data + i, 64);
                hex[64] = '\0';
                (void)sec_bundle_find_digest(b, hex, name, sizeof name, NULL);
                break;
            }
        }
        sec_bundle_free(b);
    }
    EVP_PKEY *k = NULL;
    char hint[65];
    if (sec_pem_key_parse(data, size, &k, hint, NULL) == HEARTH_OK) {
        FUZZ_ASSERT(strlen(hint) == 64);
        EVP_PKEY_free(k);
    }
    return 0;
}
