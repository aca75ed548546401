/*
 * sampler.c: turns logits into a token. The chain, in llama.cpp's order:
 * repetition / frequency / presence penalties over the last repeat_last_n
 * accepted tokens, then greedy (temp <= 0) or top-k, top-p, min-p (on the
 * temperature-1 distribution), temperature, and a draw from the softmax with
 * a seeded xoshiro256** generator. Deterministic for a given seed, logits and
 * history. Ties in greedy and in sorting go to the lower token id. NaN
 * logits count as -inf; an infinite best logit is picked as greedy would.
 */
#include "engine/sampler_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    float logit;
    int32_t id;
} cand;

struct hearth_sampler {
    hearth_sampler_params p;
    int32_t n_vocab;
    uint64_t seed;   /* the seed actually used */
    uint64_t s[4];   /* xoshiro256** state */
    int32_t *hist;   /* accepted tokens, oldest first */
    size_t n_hist, hist_cap;
    int32_t *counts; /* (n_vocab) scratch, all zero between calls */
    cand *c;         /* (n_vocab) scratch */
    sampler_prob *d; /* (n_vocab) the last distribution (sampler_dist) */
    bool point;      /* it was a point mass picked without a draw (greedy, inf) */
};

hearth_sampler_params hearth_sampler_default_params(void) {
    hearth_sampler_params p = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                               .repeat_penalty = 1.0f, .repeat_last_n = 64,
                               .frequency_penalty = 0.0f, .presence_penalty = 0.0f,
                               .seed = HEARTH_SEED_RANDOM};
    return p;
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(hearth_sampler *s) {
    uint64_t *st = s->s, r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double next_unit(hearth_sampler *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

static void reseed(hearth_sampler *s) {
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++) s->s[i] = splitmix64(&x);
}

hearth_status hearth_sampler_new(const hearth_sampler_params *p, int32_t n_vocab, hearth_sampler **out,
                                 hearth_error *err) {
    *out = NULL;
    hearth_sampler_params dp = hearth_sampler_default_params();
    if (!p) p = &dp;
    if (n_vocab < 1) return HEARTH_FAIL(err, HEARTH_E_ARG, "sampler: n_vocab %d", n_vocab);
    if (!isfinite(p->temp) || !isfinite(p->top_p) || !isfinite(p->min_p) ||
        !isfinite(p->repeat_penalty) || p->repeat_penalty <= 0 || !isfinite(p->frequency_penalty) ||
        !isfinite(p->presence_penalty) || p->repeat_last_n < -1)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "sampler: bad parameters (temp %g, top_p %g, min_p %g, repeat_penalty %g, "
                           "repeat_last_n %d)",
                           p->temp, p->top_p, p->min_p, p->repeat_penalty, p->repeat_last_n);
    hearth_sampler *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sampler: out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    s->counts = hearth_calloc((size_t)n_vocab, sizeof *s->counts);
    s->c = hearth_malloc((size_t)n_vocab * sizeof *s->c);
    s->d = hearth_malloc((size_t)n_vocab * sizeof *s->d);
    if (!s->counts || !s->c || !s->d) {
        hearth_sampler_free(s);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sampler: out of memory");
    }
    if (p->seed == HEARTH_SEED_RANDOM) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)s;
    } else {
        s->seed = p->seed;
    }
    reseed(s);
    *out = s;
    return HEARTH_OK;
}

void hearth_sampler_free(hearth_sampler *s) {
    if (!s) return;
    hearth_free(s->hist);
    hearth_free(s->counts);
    hearth_free(s->c);
    hearth_free(s->d);
    hearth_free(s);
}

void hearth_sampler_accept(hearth_sampler *s, int32_t token) {
    if (token < 0 || token >= s->n_vocab) return;
    if (s->n_hist == s->hist_cap) {
        size_t cap = s->hist_cap ? s->hist_cap * 2 : 256;
        int32_t *h = hearth_realloc(s->hist, cap * sizeof *h);
        if (!h) {
            /* Out of memory: keep the most recent half so penalties still see
             * the newest tokens. */
            if (s->n_hist == 0) return; /* no history yet: the token is dropped */
            size_t keep = s->n_hist / 2;
            memmove(s->hist, s->hist + (s->n_hist - keep), keep * sizeof *s->hist);
            s->n_hist = keep;
        } else {
            s->hist = h;
            s->hist_cap = cap;
        }
    }
    s->hist[s->n_hist++] = token;
}

void hearth_sampler_reset(hearth_sampler *s) {
    s->n_hist = 0;
    reseed(s);
}

/* Descending by logit, ascending id on ties. */
static inline int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Restores the heap below node i of h[0..k): every node sorts after (is
 * worse than) its children, so h[0] is the worst candidate kept. */
static void sift_down(cand *h, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && cand_cmp(&h[l], &h[w]) > 0) w = l;
        if (r < k && cand_cmp(&h[r], &h[w]) > 0) w = r;
        if (w == i) return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Moves the k first candidates in cand_cmp order to c[0..k) (unordered) in
 * one pass: a size-k heap of the best so far, where almost every candidate
 * costs one comparison with the worst kept. Same set as a full sort would
 * keep, ties included (cand_cmp is a total order). */
static void select_top_k(cand *c, int32_t n, int32_t k) {
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int32_t i = k; i < n; i++) {
        if (cand_cmp(&c[i], &c[0]) >= 0) continue;
        c[0] = c[i];
        sift_down(c, k, 0);
    }
}

static void apply_penalties(hearth_sampler *s) {
    const hearth_sampler_params *p = &s->p;
    if (p->repeat_last_n == 0 || s->n_hist == 0) return;
    if (p->repeat_penalty == 1.0f && p->frequency_penalty == 0.0f && p->presence_penalty == 0.0f)
        return;
    size_t w = p->repeat_last_n < 0 || (size_t)p->repeat_last_n > s->n_hist ? s->n_hist
                                                                              : (size_t)p->repeat_last_n;
    const int32_t *h = s->hist + (s->n_hist - w);
    for (size_t i = 0; i < w; i++) s->counts[h[i]]++;
    for (size_t i = 0; i < w; i++) {
        int32_t t = h[i];
        int cnt = s->counts[t];
        if (!cnt) continue; /* already applied */
        float *l = &s->c[t].logit;
        if (*l > 0) *l /= p->repeat_penalty;
        else *l *= p->repeat_penalty;
        *l -= (float)cnt * p->frequency_penalty + p->presence_penalty;
        s->counts[t] = 0;
    }
}

void sampler_dist(hearth_sampler *s, const float *logits, const sampler_prob **out, int32_t *n_out,
                  double *tot_out) {
    const hearth_sampler_params *p = &s->p;
    int32_t n = s->n_vocab;
    sampler_prob *d = s->d;
    *out = d;
    *n_out = 1;
    *tot_out = 1.0;
    s->point = true;
    bool penalties = p->repeat_last_n != 0 && s->n_hist != 0 &&
                     (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f ||
                      p->presence_penalty != 0.0f);
    if (p->temp <= 0 && !penalties) {
        /* greedy on the logits as they are: no copy of the vocabulary (the
         * scheduler samples every stream on its one thread); NaN loses
         * every comparison, as -inf would */
        int32_t best = 0;
        float bv = isnan(logits[0]) ? -INFINITY : logits[0];
        for (int32_t i = 1; i < n; i++)
            if (logits[i] > bv) bv = logits[best = i];
        d[0] = (sampler_prob){best, 1.0};
        return;
    }
    /* A NaN logit (a damaged model: NaN or huge weights) counts as -inf:
     * compared as is it would win greedy at id 0 forever, and make the sort
     * order (and so the candidate set) undefined. */
    for (int32_t i = 0; i < n; i++) {
        float l = logits[i];
        s->c[i].logit = isnan(l) ? -INFINITY : l;
        s->c[i].id = i;
    }
    apply_penalties(s);
    if (p->temp <= 0) {
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (s->c[i].logit > s->c[best].logit) best = i;
        d[0] = (sampler_prob){best, 1.0};
        return;
    }
    /* top-k: keep the k largest, sorted. Selection first so that sorting
     * costs O(k log k), not O(n log n). */
    int32_t k = p->top_k > 0 && p->top_k < n ? p->top_k : n;
    if (k < n) select_top_k(s->c, n, k);
    qsort(s->c, (size_t)k, sizeof *s->c, cand_cmp);
    /* probabilities at temperature 1 for top-p and min-p */
    float mx = s->c[0].logit;
    /* +inf (or every logit -inf): no distribution to draw from; the best
     * candidate it is, as greedy would pick. */
    if (isinf(mx)) {
        d[0] = (sampler_prob){s->c[0].id, 1.0};
        return;
    }
    double sum = 0;
    for (int32_t i = 0; i < k; i++) sum += exp((double)s->c[i].logit - mx);
    if (p->top_p < 1.0f) {
        double cum = 0;
        int32_t keep = k;
        for (int32_t i = 0; i < k; i++) {
            cum += exp((double)s->c[i].logit - mx) / sum;
            if (cum >= p->top_p) {
                keep = i + 1;
                break;
            }
        }
        k = keep;
    }
    if (p->min_p > 0.0f) {
        /* p_i >= min_p * p_max  <=>  logit_i >= mx + log(min_p) */
        double floor_l = mx + log((double)p->min_p);
        int32_t keep = 1;
        while (keep < k && s->c[keep].logit >= floor_l) keep++;
        k = keep;
    }
    /* temperature */
    double tot = 0;
    for (int32_t i = 0; i < k; i++) {
        d[i].id = s->c[i].id;
        d[i].w = exp(((double)s->c[i].logit - mx) / p->temp);
        tot += d[i].w;
    }
    *n_out = k;
    *tot_out = tot;
    s->point = false;
}

int32_t sampler_draw(hearth_sampler *s, const sampler_prob *d, int32_t n, double tot) {
    double r = next_unit(s) * tot, acc = 0;
    for (int32_t i = 0; i < n; i++) {
        acc += d[i].w;
        if (r < acc) return d[i].id;
    }
    return d[n - 1].id;
}

int32_t hearth_sampler_sample(hearth_sampler *s, const float *logits) {
    const sampler_prob *d;
    int32_t n;
    double tot;
    sampler_dist(s, logits, &d, &n, &tot);
    return sampler_pick(s, d, n, tot);
}

int32_t sampler_pick(hearth_sampler *s, const sampler_prob *d, int32_t n, double tot) {
    /* greedy, or nothing to draw from: no draw (the generator stays put) */
    if (s->point) return d[0].id;
    return sampler_draw(s, d, n, tot);
}

double sampler_unit(hearth_sampler *s) { return next_unit(s); }
bool sampler_is_greedy(const hearth_sampler *s) { return s->p.temp <= 0; }
const hearth_sampler_params *sampler_params(const hearth_sampler *s) { return &s->p; }
size_t sampler_hist_len(const hearth_sampler *s) { return s->n_hist; }
void sampler_hist_truncate(hearth_sampler *s, size_t n) {
    if (n < s->n_hist) s->n_hist = n;
}
