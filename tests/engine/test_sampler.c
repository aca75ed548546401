/*
 * test_sampler.c: the sampler chain behaves as defined (hearth.h):
 * greedy, seeded determinism, top-k / top-p / min-p supports, temperature,
 * repetition / frequency / presence penalties, reset, NaN and infinite
 * logits.
 */
#include "test.h"

#include "hearth.h"

#include <math.h>

enum { NV = 16, DRAWS = 2000 };

static hearth_sampler *mk(hearth_sampler_params p) {
    hearth_sampler *s = NULL;
    hearth_error e = {0};
    CHECKF(hearth_sampler_new(&p, NV, &s, &e) == HEARTH_OK, "%s", e.msg);
    return s;
}

/* Counts how often each token is drawn. */
static void histogram(hearth_sampler *s, const float *l, int *h) {
    for (int i = 0; i < NV; i++) h[i] = 0;
    for (int i = 0; i < DRAWS; i++) {
        int32_t t = hearth_sampler_sample(s, l);
        REQUIRE(t >= 0 && t < NV);
        h[t]++;
    }
}

static hearth_sampler_params open_params(void) {
    hearth_sampler_params p = hearth_sampler_default_params();
    p.temp = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 7;
    return p;
}

/* top-k over a large vocabulary with many tied logits keeps exactly the k
 * first tokens in (logit descending, id ascending) order. */
static void check_top_k_large(void) {
    enum { N = 5000, K = 37, MANY = 20000 };
    static float l[N];
    static int seen[N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        l[i] = (float)((x >> 33) % 97) / 8.0f; /* 97 values: plenty of ties */
    }
    /* The expected set: rank every token by the total order. */
    int want[N] = {0};
    for (int i = 0; i < N; i++) {
        int better = 0;
        for (int j = 0; j < N; j++)
            better += l[j] > l[i] || (l[j] == l[i] && j < i);
        want[i] = better < K;
    }
    hearth_sampler_params p = open_params();
    p.top_k = K;
    p.temp = 100.0f; /* nearly uniform over the kept tokens */
    hearth_sampler *s = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_sampler_new(&p, N, &s, &e) == HEARTH_OK);
    for (int i = 0; i < MANY; i++) seen[hearth_sampler_sample(s, l)] = 1;
    int wrong = 0;
    for (int i = 0; i < N; i++) wrong += seen[i] != want[i];
    CHECKF(wrong == 0, "%d tokens differ from the exact top-%d set", wrong, K);
    hearth_sampler_free(s);
}

int main(void) {
    check_top_k_large();
    /* probabilities proportional to exp(l): token 3 > 5 > 1 > 0 > rest */
    float l[NV];
    for (int i = 0; i < NV; i++) l[i] = -4.0f;
    l[3] = 2.0f;
    l[5] = 1.5f;
    l[1] = 1.0f;
    l[0] = 0.0f;
    int h[NV];

    /* greedy */
    hearth_sampler_params p = open_params();
    p.temp = 0;
    hearth_sampler *s = mk(p);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 3);
    hearth_sampler_free(s);

    /* ties in greedy go to the lower id */
    float tie[NV] = {0};
    tie[4] = tie[9] = 1.0f;
    s = mk(p);
    CHECK_EQ_INT(hearth_sampler_sample(s, tie), 4);
    hearth_sampler_free(s);

    /* same seed, same sequence; another seed, another sequence */
    p = open_params();
    hearth_sampler *a = mk(p), *b = mk(p);
    p.seed = 8;
    hearth_sampler *c = mk(p);
    int same = 1, differ = 0;
    for (int i = 0; i < 200; i++) {
        int32_t x = hearth_sampler_sample(a, l), y = hearth_sampler_sample(b, l),
                z = hearth_sampler_sample(c, l);
        same &= x == y;
        differ |= x != z;
    }
    CHECK(same);
    CHECK(differ);
    /* reset restarts the sequence */
    hearth_sampler_reset(a);
    hearth_sampler_reset(b);
    int32_t first = hearth_sampler_sample(a, l);
    hearth_sampler_free(b);
    p.seed = 7;
    b = mk(p);
    CHECK_EQ_INT(hearth_sampler_sample(b, l), first);
    hearth_sampler_free(a);
    hearth_sampler_free(b);
    hearth_sampler_free(c);

    /* unrestricted at temp 1: every token appears, frequencies near softmax */
    p = open_params();
    s = mk(p);
    histogram(s, l, h);
    double z = 0;
    for (int i = 0; i < NV; i++) z += exp(l[i]);
    CHECKF(fabs(h[3] / (double)DRAWS - exp(2.0) / z) < 0.05, "p(3) = %g", h[3] / (double)DRAWS);
    hearth_sampler_free(s);

    /* top-k 2: only 3 and 5 */
    p = open_params();
    p.top_k = 2;
    s = mk(p);
    histogram(s, l, h);
    CHECK(h[3] > 0 && h[5] > 0 && h[3] + h[5] == DRAWS);
    hearth_sampler_free(s);

    /* top-p: p(3)=.42 p(5)=.26 p(1)=.15 p(0)=.06 ...: top_p 0.6 keeps {3, 5} */
    p = open_params();
    p.top_p = 0.6f;
    s = mk(p);
    histogram(s, l, h);
    CHECK(h[3] > 0 && h[5] > 0 && h[3] + h[5] == DRAWS);
    hearth_sampler_free(s);

    /* min-p 0.3: keeps p >= 0.3 * p(3), i.e. l >= 2 + ln 0.3 = 0.796: {3, 5, 1} */
    p = open_params();
    p.min_p = 0.3f;
    s = mk(p);
    histogram(s, l, h);
    CHECK(h[3] > 0 && h[5] > 0 && h[1] > 0 && h[3] + h[5] + h[1] == DRAWS);
    hearth_sampler_free(s);

    /* low temperature sharpens: at 0.1 nearly always 3 */
    p = open_params();
    p.temp = 0.1f;
    s = mk(p);
    histogram(s, l, h);
    CHECK(h[3] > DRAWS * 0.95);
    hearth_sampler_free(s);

    /* repetition penalty: 3 (logit 2) divided by 2 -> 1.0 < 1.5: greedy picks 5 */
    p = open_params();
    p.temp = 0;
    p.repeat_penalty = 2.0f;
    s = mk(p);
    hearth_sampler_accept(s, 3);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 5);
    /* the window: with repeat_last_n 1, an older 3 no longer counts */
    hearth_sampler_free(s);
    p.repeat_last_n = 1;
    s = mk(p);
    hearth_sampler_accept(s, 3);
    hearth_sampler_accept(s, 7);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 3);
    hearth_sampler_free(s);

    /* frequency penalty scales with the count; presence does not */
    p = open_params();
    p.temp = 0;
    p.frequency_penalty = 0.3f; /* 3 seen twice: 2 - 0.6 = 1.4 < 1.5 */
    s = mk(p);
    hearth_sampler_accept(s, 3);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 3); /* once: 1.7 still wins */
    hearth_sampler_accept(s, 3);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 5);
    hearth_sampler_free(s);
    p.frequency_penalty = 0;
    p.presence_penalty = 0.4f; /* 2 - 0.4 = 1.6 > 1.5, however often */
    s = mk(p);
    for (int i = 0; i < 5; i++) hearth_sampler_accept(s, 3);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 3);
    hearth_sampler_free(s);
    p.presence_penalty = 0.6f;
    s = mk(p);
    hearth_sampler_accept(s, 3);
    CHECK_EQ_INT(hearth_sampler_sample(s, l), 5);
    hearth_sampler_free(s);

    /* logits are not modified */
    CHECK(l[3] == 2.0f);

    /* NaN logits (a damaged model) are never picked while another is
     * finite; +inf and all-NaN give greedy's pick; ids stay in range. */
    float ln[NV];
    for (int i = 0; i < NV; i++) ln[i] = (float)(i % 5);
    ln[0] = NAN;
    ln[9] = NAN;
    p = open_params();
    p.temp = 0;
    s = mk(p);
    CHECK_EQ_INT(hearth_sampler_sample(s, ln), 4); /* first 4.0, not the NaN at 0 */
    hearth_sampler_free(s);
    p = open_params();
    s = mk(p);
    int hn[NV];
    histogram(s, ln, hn);
    CHECKF(hn[0] == 0 && hn[9] == 0, "NaN logits drawn %d and %d times", hn[0], hn[9]);
    CHECK(hn[4] > 0 && hn[14] > 0);
    hearth_sampler_free(s);
    p.top_k = 3;
    s = mk(p);
    histogram(s, ln, hn);
    CHECKF(hn[0] == 0 && hn[9] == 0 && hn[4] + hn[14] + hn[3] == DRAWS, "top-k 3 with NaNs: %d %d %d",
           hn[4], hn[14], hn[3]);
    ln[7] = INFINITY;
    CHECK_EQ_INT(hearth_sampler_sample(s, ln), 7);
    hearth_sampler_free(s);
    for (int i = 0; i < NV; i++) ln[i] = NAN;
    p = open_params();
    s = mk(p);
    CHECK_EQ_INT(hearth_sampler_sample(s, ln), 0);
    hearth_sampler_free(s);

    /* bad parameters */
    hearth_sampler *bad = NULL;
    hearth_error e = {0};
    p = open_params();
    p.temp = NAN;
    CHECK(hearth_sampler_new(&p, NV, &bad, &e) == HEARTH_E_ARG && !bad);
    CHECK(hearth_sampler_new(NULL, 0, &bad, &e) == HEARTH_E_ARG);
    return test_done();
}
