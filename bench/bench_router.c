/*
 * bench_router.c: what the hybrid router costs a request, besides the cloud
 * call itself, measured in this thread's CPU time:
 *  - per generated token: hearth_logprob_compute over a Qwen2.5-sized
 *    vocabulary (151,936 logits; the confidence needs one pass per token),
 *    shown against one token of decode of the Qwen2.5-0.5B-shaped Q4_0
 *    model at the memory-bandwidth roofline of ~40 GB/s (~300 MB a token),
 *    the ratio being the figure;
 *  - per escalated request: classifying and redacting a typical
 *    conversation (system prompt, two earlier turns, a question with an
 *    e-mail address and a phone number; ~1.3 KB) into one map, and
 *    restoring a 600-byte answer through the streaming restorer in 7-byte
 *    chunks.
 *
 *   bench_router [iterations]
 */
#include "hearth.h"
#include "router/confidence.h"
#include "router/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool sink(void *ud, const char *p, size_t n) {
    (void)p;
    *(size_t *)ud += n;
    return true;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    if (iters <= 0) iters = 2000;
    enum { VOCAB = 151936 };
    float *logits = malloc(VOCAB * sizeof *logits);
    if (!logits) return 1;
    uint64_t x = 1;
    for (int i = 0; i < VOCAB; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        logits[i] = (float)((x >> 40) % 2000) / 100.0f - 10.0f;
    }
    hearth_token_logprob lp;
    int n_lp = iters;
    for (int i = 0; i < 50; i++) hearth_logprob_compute(logits, VOCAB, i, 2, &lp); /* warm */
    double t0 = cpu_s();
    conf_acc acc;
    conf_init(&acc);
    for (int i = 0; i < n_lp; i++) {
        hearth_logprob_compute(logits, VOCAB, i % VOCAB, 2, &lp);
        conf_add(&acc, lp.logprob, 0.5f);
    }
    double per_tok = (cpu_s() - t0) / n_lp;
    double roofline_tok = 300e6 / 40e9; /* s per token at ~40 GB/s, ~300 MB read */
    printf("logprob+confidence per token (vocab %d): %.1f us; %.1f%% of a %.1f ms decode step "
           "at the roofline\n", VOCAB, per_tok * 1e6, 100 * per_tok / roofline_tok,
           roofline_tok * 1e3);

    static const char *const conv[][2] = {
        {"system", "You are a helpful assistant."},
        {"user", "Can you remind me what we talked about yesterday regarding the trip to the "
                 "mountains? I think we said we would leave early in the morning."},
        {"assistant", "We said you would leave at 7 am on Saturday and take the train to the "
                      "valley, then walk up to the hut, about three hours with breaks."},
        {"user", "Right. Now write a short note to my friend to confirm the plan. Her e-mail is "
                 "claire.dupont@example.org and her phone +33 6 12 34 56 78; say we meet at the "
                 "station at 6:45, that I bring the map and the food for Saturday evening, and "
                 "that she should bring warm clothes because the forecast says 4 degrees at "
                 "night. Ask her whether her brother still wants to come along, and keep it "
                 "friendly and brief, maybe 100 words, without any emoji."},
    };
    size_t n_conv = sizeof conv / sizeof *conv, bytes = 0;
    for (size_t i = 0; i < n_conv; i++) bytes += strlen(conv[i][1]);
    char answer[640];
    memset(answer, 'x', sizeof answer);
    memcpy(answer + 100, "[EMAIL_1]", 9);
    memcpy(answer + 300, "[PHONE_1]", 9);
    answer[sizeof answer - 1] = '\0';
    redact_config *rc;
    hearth_error e;
    if (redact_config_new(&rc, &e)) return 1;
    t0 = cpu_s();
    size_t restored = 0;
    for (int it = 0; it < iters; it++) {
        redact_map m;
        redact_map_init(&m);
        uint32_t mask = 0;
        for (size_t i = 0; i < n_conv; i++) redact_map_reserve(&m, conv[i][1], strlen(conv[i][1]), NULL);
        for (size_t i = 0; i < n_conv; i++) {
            uint32_t before[REDACT_KIND_COUNT], cnt[REDACT_KIND_COUNT];
            memcpy(before, m.counts, sizeof before);
            char *out;
            size_t ol;
            if (redact_text(rc, &m, conv[i][1], strlen(conv[i][1]), &out, &ol, NULL)) return 1;
            for (int k = 0; k < REDACT_KIND_COUNT; k++) cnt[k] = m.counts[k] - before[k];
            router_class cl;
            router_classify(conv[i][1], strlen(conv[i][1]), cnt, &cl);
            mask |= cl.mask;
            hearth_free(out);
        }
        redact_restorer r;
        redact_restorer_init(&r, &m);
        for (size_t off = 0; off < sizeof answer - 1; off += 7) {
            size_t n = sizeof answer - 1 - off < 7 ? sizeof answer - 1 - off : 7;
            redact_restorer_feed(&r, answer + off, n, sink, &restored, NULL);
        }
        redact_restorer_finish(&r, sink, &restored, NULL);
        redact_map_clear(&m);
        (void)mask;
    }
    double per_req = (cpu_s() - t0) / iters;
    printf("classify + redact %zu bytes in %zu messages + restore %zu bytes: %.1f us per request\n",
           bytes, n_conv, sizeof answer - 1, per_req * 1e6);
    redact_config_free(rc);
    free(logits);
    return restored ? 0 : 1;
}
