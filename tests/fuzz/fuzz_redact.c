/* fuzz_redact.c: libFuzzer target over the redactor. The first byte picks
 * options (user terms on or off, a second text in the same map, chunk size
 * for the streaming restore); the rest is the text. Checks the invariants:
 * restore(redact(x)) == x byte for byte, in one piece and streamed, and
 * spans are sorted, disjoint and inside the text. */
#include "router/redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static bool put(void *ud, const char *p, size_t n) {
    buf *b = ud;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        char *q = realloc(b->p, cap);
        if (!q) abort();
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return true;
}

static void roundtrip(const redact_config *c, redact_map *m, const char *t, size_t n, size_t chunk) {
    char *out, *back;
    size_t ol, bl;
    if (redact_text(c, m, t, n, &out, &ol, NULL)) abort();
    if (redact_restore(m, out, ol, &back, &bl, NULL)) abort();
    if (bl != n || memcmp(back, t, n)) abort();
    buf b = {0};
    redact_restorer r;
    redact_restorer_init(&r, m);
    for (size_t i = 0; i < ol; i += chunk)
        if (redact_restorer_feed(&r, out + i, ol - i < chunk ? ol - i : chunk, put, &b, NULL)) abort();
    if (redact_restorer_finish(&r, put, &b, NULL)) abort();
    if (b.n != n || (n && memcmp(b.p, t, n))) abort();
    free(b.p);
    hearth_free(out);
    hearth_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t opt = data[0];
    const char *t = (const char *)data + 1;
    size_t n = size - 1;
    redact_config *c;
    if (redact_config_new(&c, NULL)) return 0;
    if (opt & 1) redact_config_add_terms(c, "Alice, New York, Zoë, [EMAIL_1], x", NULL);
    redact_span *sp;
    size_t ns;
    if (redact_find(c, t, n, &sp, &ns, NULL)) abort();
    for (size_t i = 0; i < ns; i++)
        if (sp[i].start >= sp[i].end || sp[i].end > n || (i && sp[i].start < sp[i - 1].end)) abort();
    hearth_free(sp);
    redact_map m;
    redact_map_init(&m);
    size_t chunk = 1 + (opt >> 2);
    if (opt & 2) {
        /* two texts, one map: the second half after the first */
        roundtrip(c, &m, t, n / 2, chunk);
        roundtrip(c, &m, t + n / 2, n - n / 2, chunk);
    } else {
        roundtrip(c, &m, t, n, chunk);
    }
    redact_map_clear(&m);
    redact_config_free(c);
    return 0;
}
