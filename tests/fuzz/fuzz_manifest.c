/*
 * fuzz_manifest.c: libFuzzer target over manifest_parse (an update
 * channel's manifest, from the network). Any input must be rejected with a
 * message or parse into fields that obey the documented bounds: a valid
 * name, a version of printable ASCII, 64 lowercase hex digits, a size in
 * [1, 2^40], bounded signature and notes. Failed invariants abort.
 */
#include "models/manifest.h"
#include "models/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                      \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_manifest: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    manifest m;
    hearth_error err = {0};
    hearth_status st = manifest_parse(data, size, &m, &err);
    if (st) {
        FUZZ_ASSERT(err.msg[0] != '\0');
        FUZZ_ASSERT(m.signature == NULL && m.notes == NULL);
        return 0;
    }
    char norm[REGISTRY_NAME_MAX + 1];
    FUZZ_ASSERT(registry_name_norm(m.name, norm, sizeof norm, NULL) == HEARTH_OK);
    size_t vl = strlen(m.version);
    FUZZ_ASSERT(vl >= 1 && vl <= 64);
    for (size_t i = 0; i < vl; i++) FUZZ_ASSERT(m.version[i] > 0x20 && m.version[i] < 0x7f);
    FUZZ_ASSERT(strlen(m.sha256) == 64);
    for (int i = 0; i < 64; i++)
        FUZZ_ASSERT((m.sha256[i] >= '0' && m.sha256[i] <= '9') ||
                    (m.sha256[i] >= 'a' && m.sha256[i] <= 'f'));
    FUZZ_ASSERT(m.size >= 1 && m.size <= (1ull << 40));
    FUZZ_ASSERT(strlen(m.url) >= 1 && strlen(m.url) <= 4096);
    if (m.signature) FUZZ_ASSERT(strlen(m.signature) <= (64u << 10));
    if (m.notes) FUZZ_ASSERT(strlen(m.notes) <= (16u << 10));
    (void)manifest_version_ok(&m, "0.1.0");
    manifest_free(&m);
    return 0;
}
