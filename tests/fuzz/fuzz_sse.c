/*
 * fuzz_sse.c: libFuzzer target over the cloud client's parsers of untrusted
 * bytes: the SSE parser (src/router/sse.c) feeding the stream-chunk reader
 * (src/router/cloud_json.c), and the whole-response and error-body readers.
 * The stream is parsed twice, in one piece and in pieces whose size the
 * first byte picks: both must give the same events, text and status (the
 * parser may not depend on where the network cut the bytes). Text stays
 * within its bound. Crashes, sanitizer reports and failed invariants abort.
 */
#include "router/cloud_json.h"
#include "router/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                 \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "fuzz_sse: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

#define MAX_TEXT 4096
#define MAX_LINE 2048

static bool on_event(void *ud, const char *event, const char *data, size_t len, hearth_error *err) {
    oa_answer *a = ud;
    FUZZ_ASSERT(strlen(event) < 64);
    FUZZ_ASSERT(len <= MAX_LINE);
    FUZZ_ASSERT(data[len] == '\0');
    return oa_stream_chunk(data, len, a, NULL, NULL, err) == HEARTH_OK;
}

typedef struct {
    hearth_status st;
    size_t n_events;
    bool pending;
} run;

static run parse(const uint8_t *d, size_t n, size_t piece, oa_answer *a) {
    sse_parser p;
    sse_init(&p, MAX_LINE, on_event, a);
    hearth_error e;
    run r = {HEARTH_OK, 0, false};
    for (size_t i = 0; i < n && !r.st; i += piece)
        r.st = sse_feed(&p, d + i, n - i < piece ? n - i : piece, &e);
    if (r.st) FUZZ_ASSERT(e.msg[0] != '\0');
    r.n_events = p.n_events;
    r.pending = sse_pending(&p);
    sse_free(&p);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t piece = (size_t)(data[0] % 17) + 1;
    oa_answer a1, a2;
    oa_answer_init(&a1, MAX_TEXT);
    oa_answer_init(&a2, MAX_TEXT);
    run r1 = parse(data + 1, size - 1, size - 1 ? size - 1 : 1, &a1);
    run r2 = parse(data + 1, size - 1, piece, &a2);
    FUZZ_ASSERT(r1.st == r2.st);
    FUZZ_ASSERT(r1.n_events == r2.n_events);
    if (!r1.st) FUZZ_ASSERT(r1.pending == r2.pending);
    FUZZ_ASSERT(a1.text.len == a2.text.len);
    FUZZ_ASSERT(a1.text.len <= MAX_TEXT);
    FUZZ_ASSERT(!a1.text.len || !memcmp(a1.text.p, a2.text.p, a1.text.len));
    FUZZ_ASSERT(a1.n_deltas == a2.n_deltas && a1.done == a2.done);
    FUZZ_ASSERT(!strcmp(a1.finish_reason, a2.finish_reason));
    oa_answer_free(&a1);
    oa_answer_free(&a2);

    /* The same bytes as a whole response and as an error body. */
    oa_answer w;
    oa_answer_init(&w, MAX_TEXT);
    hearth_error e;
    if (oa_parse_response(data + 1, size - 1, &w, &e) == HEARTH_OK) {
        FUZZ_ASSERT(w.text.len <= MAX_TEXT);
        FUZZ_ASSERT(w.text.len == 0 || strlen(w.text.p) == w.text.len);
    }
    oa_answer_free(&w);
    char msg[64];
    oa_error_message(data + 1, size - 1, msg, sizeof msg);
    FUZZ_ASSERT(strlen(msg) < sizeof msg);
    for (const char *q = msg; *q; q++) FUZZ_ASSERT(*q >= 0x20 && *q < 0x7F);
    return 0;
}
