/*
 * logprob.c: the model's log-probability of a sampled token and of its most
 * likely alternatives, from the raw logits (what the router's confidence and
 * the API's logprobs report). One pass finds the maximum and the top n, a
 * second sums exp(l - max), so log p(i) = l_i - max - log(sum) never
 * overflows.
 */
#include "hearth.h"

#include "engine/logprob_int.h"
#include "kernels/dot.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Inserts (id, l) into the descending list top[0..*n) of capacity cap. */
static void top_insert(int32_t *ids, float *vals, int32_t *n, int32_t cap, int32_t id, float l) {
    if (*n == cap && l <= vals[cap - 1]) return;
    int32_t i = *n < cap ? (*n)++ : cap - 1;
    while (i > 0 && vals[i - 1] < l) {
        ids[i] = ids[i - 1];
        vals[i] = vals[i - 1];
        i--;
    }
    ids[i] = id;
    vals[i] = l;
}

/* The vocabulary-wide passes run with AVX2 where the kernels do (one CPU
 * decision for the whole engine; HEARTH_FORCE_SCALAR=1 forces these loops). */
static bool use_avx2(void) {
#if defined(__x86_64__)
    return strcmp(hearth_dot_impl_name(), "scalar") != 0;
#else
    return false;
#endif
}

void hearth_logprob_compute(const float *logits, int32_t n_vocab, int32_t token, int32_t n_top,
                            hearth_token_logprob *out) {
    out->token = token;
    out->logprob = -INFINITY;
    out->n_top = 0;
    if (!logits || n_vocab <= 0) return;
    if (n_top < 2) n_top = 2;
    if (n_top > HEARTH_MAX_TOP_LOGPROBS) n_top = HEARTH_MAX_TOP_LOGPROBS;
    if (n_top > n_vocab) n_top = n_vocab;
    bool simd = use_avx2();
    float mx = -INFINITY;
#if defined(__x86_64__)
    if (simd) mx = logprob_max_avx2(logits, n_vocab);
#endif
    if (!simd)
        for (int32_t i = 0; i < n_vocab; i++)
            if (isfinite(logits[i]) && logits[i] > mx) mx = logits[i];
    if (mx == -INFINITY) return; /* every token impossible: nothing to say */
    /* top n: almost every logit fails the first comparison */
    for (int32_t i = 0; i < n_vocab; i++) {
        float l = logits[i];
        if (out->n_top == n_top && !(l > out->top_logprobs[n_top - 1])) continue;
        if (isfinite(l)) top_insert(out->top_ids, out->top_logprobs, &out->n_top, n_top, i, l);
    }
    double sum = 0.0;
#if defined(__x86_64__)
    if (simd) sum = logprob_sumexp_avx2(logits, n_vocab, mx);
#endif
    if (!simd)
        for (int32_t i = 0; i < n_vocab; i++)
            if (isfinite(logits[i])) sum += exp((double)logits[i] - mx);
    float lse = (float)(mx + log(sum));
    for (int32_t k = 0; k < out->n_top; k++) out->top_logprobs[k] -= lse;
    if (token >= 0 && token < n_vocab && isfinite(logits[token])) {
        float lp = logits[token] - lse;
        out->logprob = lp > 0.0f ? 0.0f : lp;
    }
}
