/* fuzz_sync_payload.c: libFuzzer target over the sync protocol's parsers
 * (src/sync/proto.c). The first byte picks the message kind (push, push
 * reply, pull reply, register, register reply, keyinfo, status, error);
 * whatever parses is encoded again and must parse back to the same encoding
 * (the encoder accepts everything the parser does). */
#include "sync/proto.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ROUND(type, parse, enc, freefn)                                          \
    do {                                                                         \
        type m, m2;                                                              \
        if (parse(body, len, &m, &e) != HEARTH_OK) break;                        \
        char *s = NULL, *s2 = NULL;                                              \
        size_t n = 0, n2 = 0;                                                    \
        if (enc(&m, &s, &n, &e) != HEARTH_OK) abort();                           \
        if (parse(s, n, &m2, &e) != HEARTH_OK) abort();                          \
        if (enc(&m2, &s2, &n2, &e) != HEARTH_OK) abort();                        \
        if (n != n2 || memcmp(s, s2, n)) abort();                                \
        free(s);                                                                 \
        free(s2);                                                                \
        freefn(&m);                                                              \
        freefn(&m2);                                                             \
    } while (0)

static void nofree(void *p) { (void)p; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    hearth_error e;
    switch (data[0] % 8) {
    case 0: ROUND(sync_push, sync_push_parse, sync_push_encode, sync_push_free); break;
    case 1:
        ROUND(sync_push_reply, sync_push_reply_parse, sync_push_reply_encode,
              sync_push_reply_free);
        break;
    case 2:
        ROUND(sync_pull_reply, sync_pull_reply_parse, sync_pull_reply_encode,
              sync_pull_reply_free);
        break;
    case 3: ROUND(sync_register, sync_register_parse, sync_register_encode, nofree); break;
    case 4:
        ROUND(sync_register_reply, sync_register_reply_parse, sync_register_reply_encode,
              nofree);
        break;
    case 5: ROUND(sync_keyinfo, sync_keyinfo_parse, sync_keyinfo_encode, sync_keyinfo_free); break;
    case 6:
        ROUND(sync_status_reply, sync_status_reply_parse, sync_status_reply_encode, nofree);
        break;
    case 7: {
        /* Messages are rewritten to printable ASCII, so only the second
         * round trip is exact. */
        sync_error_reply m, m2;
        if (sync_error_parse(body, len, &m, &e) != HEARTH_OK) break;
        char *s = NULL;
        size_t n = 0;
        if (sync_error_encode(m.code, m.message, &s, &n, &e) != HEARTH_OK) abort();
        if (sync_error_parse(s, n, &m2, &e) != HEARTH_OK) abort();
        if (strcmp(m.code, m2.code)) abort();
        free(s);
        break;
    }
    }
    return 0;
}
