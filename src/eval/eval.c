/*
 * eval.c: the quality figures of a model, or of a test model against a base
 * (a quantization against its source): perplexity of each, their ratio, the
 * KL divergence KL(base || test) of the next-token distributions (mean and
 * percentiles) and top-1 agreement, over the windows llama-perplexity uses
 * (hearth.h, "Evaluation"). Both models decode the same window in their own
 * context; the two logit arrays are then compared position by position, so
 * no logits are ever saved. Everything past the logits is double precision:
 * a model against itself gives KLD exactly 0, top-1 exactly 1, ratio 1.
 *
 * Invariant: the running sums and the per-position KLD list only change in
 * the last step of hearth_eval_window, after every position of the window
 * was computed, so a failed window leaves the totals as they were.
 */
#include "hearth.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hearth_eval {
    const hearth_model *model[2]; /* base, test (NULL: single model) */
    hearth_ctx *ctx[2];
    int32_t n_ctx, n_vocab, bos; /* bos < 0: the windows keep their first token */
    int32_t *win;                /* (n_ctx) the window as decoded (BOS first) */
    int8_t *want;                /* (n_ctx) which positions need logits */
    double *ebuf;                /* (n_vocab) exp(l - max) of the base logits */
    double *wk;                  /* (n_ctx) this window's KLD per position */
    double *wn[2];               /* (n_ctx) this window's NLL per position, per model */
    int8_t *wt;                  /* (n_ctx) this window's top-1 agreement per position */
    /* totals over every window so far */
    int32_t n_chunks;
    int64_t n;
    double s_nll[2], s_nll2[2], s_d, s_d2, s_kld, s_kld2;
    int64_t n_top1;
    double *kld; /* (kld_cap) per-position KLD, n of them */
    size_t kld_cap;
};

hearth_eval_params hearth_eval_default_params(void) {
    return (hearth_eval_params){.n_ctx = 512, .max_chunks = 0, .n_threads = 0, .type_k = HEARTH_TYPE_F16,
                                .type_v = HEARTH_TYPE_F16};
}

/* Same token count and the same stored text for every id. */
static hearth_status check_vocab(const hearth_model *a, const hearth_model *b, hearth_error *err) {
    int32_t na = hearth_model_n_vocab(a), nb = hearth_model_n_vocab(b);
    if (na != nb)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "vocabularies differ: %s has %d tokens, %s has %d", hearth_model_path(a),
                           na, hearth_model_path(b), nb);
    const hearth_tokenizer *ta = hearth_model_tokenizer(a), *tb = hearth_model_tokenizer(b);
    if (!ta != !tb)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "vocabularies differ: %s has a tokenizer, %s has none",
                           hearth_model_path(ta ? a : b), hearth_model_path(ta ? b : a));
    if (!ta) return HEARTH_OK;
    for (int32_t i = 0; i < na; i++) {
        size_t la, lb;
        const char *sa = hearth_token_text(ta, i, &la), *sb = hearth_token_text(tb, i, &lb);
        if (la != lb || (la && memcmp(sa, sb, la)))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "vocabularies differ at token %d: '%.*s' in %s, '%.*s' in %s", i,
                               (int)(la > 40 ? 40 : la), sa ? sa : "", hearth_model_path(a),
                               (int)(lb > 40 ? 40 : lb), sb ? sb : "", hearth_model_path(b));
    }
    return HEARTH_OK;
}

hearth_status hearth_eval_new(const hearth_model *base, const hearth_model *test,
                              const hearth_eval_params *p, hearth_eval **out, hearth_error *err) {
    *out = NULL;
    hearth_eval_params dp = hearth_eval_default_params();
    if (!p) p = &dp;
    if (!base) return HEARTH_FAIL(err, HEARTH_E_ARG, "no base model");
    if (p->n_ctx < 4) return HEARTH_FAIL(err, HEARTH_E_ARG, "window of %d tokens (need >= 4)", p->n_ctx);
    if (test) {
        hearth_status st = check_vocab(base, test, err);
        if (st) return st;
    }
    hearth_eval *ev = hearth_calloc(1, sizeof *ev);
    if (!ev) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    ev->model[0] = base;
    ev->model[1] = test;
    ev->n_ctx = p->n_ctx;
    ev->n_vocab = hearth_model_n_vocab(base);
    const hearth_tokenizer *tok = hearth_model_tokenizer(base);
    ev->bos = tok && hearth_tokenizer_add_bos(tok) ? hearth_token_bos(tok) : -1;
    size_t nc = (size_t)p->n_ctx;
    ev->win = hearth_malloc(nc * sizeof *ev->win);
    ev->want = hearth_calloc(nc, 1);
    ev->ebuf = hearth_malloc((size_t)ev->n_vocab * sizeof *ev->ebuf);
    ev->wk = hearth_malloc(nc * sizeof *ev->wk);
    ev->wn[0] = hearth_malloc(nc * sizeof *ev->wn[0]);
    ev->wn[1] = hearth_malloc(nc * sizeof *ev->wn[1]);
    ev->wt = hearth_malloc(nc);
    if (!ev->win || !ev->want || !ev->ebuf || !ev->wk || !ev->wn[0] || !ev->wn[1] || !ev->wt) {
        hearth_eval_free(ev);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    for (int32_t j = ev->n_ctx / 2; j < ev->n_ctx - 1; j++) ev->want[j] = 1;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = p->n_ctx;
    cp.n_threads = p->n_threads;
    for (int k = 0; k < (test ? 2 : 1); k++) {
        bool evaluated = k == (test ? 1 : 0);
        cp.type_k = evaluated ? p->type_k : HEARTH_TYPE_F16;
        cp.type_v = evaluated ? p->type_v : HEARTH_TYPE_F16;
        hearth_status st = hearth_ctx_new(ev->model[k], &cp, &ev->ctx[k], err);
        if (st) {
            hearth_eval_free(ev);
            return st;
        }
    }
    *out = ev;
    return HEARTH_OK;
}

void hearth_eval_free(hearth_eval *ev) {
    if (!ev) return;
    hearth_ctx_free(ev->ctx[0]);
    hearth_ctx_free(ev->ctx[1]);
    hearth_free(ev->win);
    hearth_free(ev->want);
    hearth_free(ev->ebuf);
    hearth_free(ev->wk);
    hearth_free(ev->wn[0]);
    hearth_free(ev->wn[1]);
    hearth_free(ev->wt);
    hearth_free(ev->kld);
    hearth_free(ev);
}

/* Non-finite logits count as impossible tokens (as hearth_logprob_compute). */
static bool usable(float l) {
    return isfinite(l);
}

/* max over the usable logits, log of sum exp(l - max), argmax (lowest id on
 * ties). If e is non-NULL it receives exp(l - max) (0 for unusable ones).
 * false if no logit is usable. */
static bool softmax_stats(const float *l, int32_t nv, double *e, double *mx, double *lz,
                          int32_t *arg) {
    int32_t a = -1;
    for (int32_t k = 0; k < nv; k++)
        if (usable(l[k]) && (a < 0 || l[k] > l[a])) a = k;
    if (a < 0) return false;
    double m = l[a], z = 0;
    for (int32_t k = 0; k < nv; k++) {
        double x = usable(l[k]) ? exp((double)l[k] - m) : 0;
        if (e) e[k] = x;
        z += x;
    }
    *mx = m;
    *lz = log(z);
    *arg = a;
    return true;
}

hearth_status hearth_eval_window(hearth_eval *ev, const int32_t *tokens, hearth_error *err) {
    int32_t nc = ev->n_ctx, nv = ev->n_vocab;
    for (int32_t j = 0; j < nc; j++)
        if (tokens[j] < 0 || tokens[j] >= nv)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "token %d at %d outside [0, %d)", tokens[j], j, nv);
    int32_t first = nc / 2, m = nc - 1 - first; /* scored positions */
    if ((size_t)ev->n + (size_t)m > ev->kld_cap) {
        size_t cap = ev->kld_cap ? ev->kld_cap : 1024;
        while (cap < (size_t)ev->n + (size_t)m) cap *= 2;
        double *nk = hearth_realloc(ev->kld, cap * sizeof *nk);
        if (!nk) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        ev->kld = nk;
        ev->kld_cap = cap;
    }
    memcpy(ev->win, tokens, (size_t)nc * sizeof *ev->win);
    if (ev->bos >= 0) ev->win[0] = ev->bos;
    int nm = ev->model[1] ? 2 : 1;
    for (int k = 0; k < nm; k++) {
        hearth_status st = hearth_ctx_seq_clear(ev->ctx[k], -1, err);
        if (st) return st;
        hearth_batch b = {.n_tokens = nc, .tokens = ev->win, .logits = ev->want};
        st = hearth_ctx_decode(ev->ctx[k], &b, err);
        if (st) {
            hearth_error_prefix(err, "window %d of %s", ev->n_chunks,
                                hearth_model_path(ev->model[k]));
            return st;
        }
    }
    for (int32_t j = first; j < nc - 1; j++) {
        /* the target is the sequence's token, not the BOS substitute */
        int32_t next = tokens[j + 1], i = j - first;
        const float *lb = hearth_ctx_logits(ev->ctx[0], j);
        double mb, lzb;
        int32_t ab;
        if (!lb || !softmax_stats(lb, nv, nm > 1 ? ev->ebuf : NULL, &mb, &lzb, &ab))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: no finite logit at position %d",
                               hearth_model_path(ev->model[0]), j);
        ev->wn[0][i] = usable(lb[next]) ? -((double)lb[next] - mb - lzb) : INFINITY;
        if (nm == 1) continue;
        const float *lt = hearth_ctx_logits(ev->ctx[1], j);
        double mt, lzt;
        int32_t at;
        if (!lt || !softmax_stats(lt, nv, NULL, &mt, &lzt, &at))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: no finite logit at position %d",
                               hearth_model_path(ev->model[1]), j);
        ev->wn[1][i] = usable(lt[next]) ? -((double)lt[next] - mt - lzt) : INFINITY;
        /* KL(b||t) = sum_k p_k (log p_k - log q_k), over the tokens the base
         * thinks possible; the base's normaliser z = exp(lzb) */
        double z = exp(lzb), kl = 0;
        for (int32_t k = 0; k < nv; k++) {
            if (ev->ebuf[k] == 0) continue;
            double lp = (double)lb[k] - mb - lzb;
            double lq = usable(lt[k]) ? (double)lt[k] - mt - lzt : -INFINITY;
            kl += ev->ebuf[k] / z * (lp - lq);
        }
        ev->wk[i] = kl;
        ev->wt[i] = ab == at;
    }
    for (int32_t i = 0; i < m; i++) {
        for (int k = 0; k < nm; k++) {
            ev->s_nll[k] += ev->wn[k][i];
            ev->s_nll2[k] += ev->wn[k][i] * ev->wn[k][i];
        }
        if (nm == 1) continue;
        double d = ev->wn[1][i] - ev->wn[0][i];
        ev->s_d += d;
        ev->s_d2 += d * d;
        ev->s_kld += ev->wk[i];
        ev->s_kld2 += ev->wk[i] * ev->wk[i];
        ev->n_top1 += ev->wt[i];
        ev->kld[(size_t)ev->n + (size_t)i] = ev->wk[i];
    }
    ev->n += m;
    ev->n_chunks++;
    return HEARTH_OK;
}

/* Standard error of a mean from the sum and the sum of squares of n values. */
static double std_err(double s, double s2, int64_t n) {
    if (n < 2) return 0;
    double mean = s / (double)n, var = s2 / (double)n - mean * mean;
    return var > 0 ? sqrt(var / (double)(n - 1)) : 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[0..n), interpolated between ranks q*(n-1). */
static double quantile(const double *v, size_t n, double q) {
    double r = q * (double)(n - 1);
    size_t i = (size_t)r;
    if (i + 1 >= n) return v[n - 1];
    double f = r - (double)i;
    return v[i] + f * (v[i + 1] - v[i]);
}

static hearth_eval_ppl ppl_of(double s, double s2, int64_t n) {
    hearth_eval_ppl r = {0};
    if (n < 1) return r;
    r.nll = s / (double)n;
    r.nll_se = std_err(s, s2, n);
    r.ppl = exp(r.nll);
    r.ppl_err = r.ppl * r.nll_se;
    return r;
}

hearth_status hearth_eval_get(const hearth_eval *ev, hearth_eval_result *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    out->n_chunks = ev->n_chunks;
    out->n_scored = ev->n;
    out->has_test = ev->model[1] != NULL;
    if (ev->n < 1) return HEARTH_OK;
    out->base = ppl_of(ev->s_nll[0], ev->s_nll2[0], ev->n);
    if (!out->has_test) return HEARTH_OK;
    out->test = ppl_of(ev->s_nll[1], ev->s_nll2[1], ev->n);
    double dn = (double)ev->n;
    out->ppl_ratio = exp(ev->s_d / dn);
    out->ppl_ratio_err = out->ppl_ratio * std_err(ev->s_d, ev->s_d2, ev->n);
    out->kld_mean = ev->s_kld / dn;
    out->kld_err = std_err(ev->s_kld, ev->s_kld2, ev->n);
    out->top1 = (double)ev->n_top1 / dn;
    out->top1_err = ev->n > 1 ? sqrt(out->top1 * (1 - out->top1) / (dn - 1)) : 0;
    size_t n = (size_t)ev->n;
    double *v = hearth_malloc(n * sizeof *v);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    memcpy(v, ev->kld, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    out->kld_median = quantile(v, n, 0.5);
    out->kld_p90 = quantile(v, n, 0.90);
    out->kld_p95 = quantile(v, n, 0.95);
    out->kld_p99 = quantile(v, n, 0.99);
    out->kld_max = v[n - 1];
    hearth_free(v);
    return HEARTH_OK;
}

hearth_status hearth_eval_tokens(const hearth_model *base, const hearth_model *test,
                                 const int32_t *tokens, size_t n, const hearth_eval_params *p,
                                 hearth_eval_result *out, hearth_error *err) {
    hearth_eval_params dp = hearth_eval_default_params();
    if (!p) p = &dp;
    memset(out, 0, sizeof *out);
    if (p->n_ctx < 4 || n < (size_t)p->n_ctx)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "%zu tokens, fewer than one window of %d", n,
                           p->n_ctx);
    hearth_eval *ev;
    hearth_status st = hearth_eval_new(base, test, p, &ev, err);
    if (st) return st;
    size_t nw = n / (size_t)p->n_ctx;
    if (p->max_chunks > 0 && nw > (size_t)p->max_chunks) nw = (size_t)p->max_chunks;
    for (size_t w = 0; w < nw && !st; w++)
        st = hearth_eval_window(ev, tokens + w * (size_t)p->n_ctx, err);
    if (!st) st = hearth_eval_get(ev, out, err);
    hearth_eval_free(ev);
    return st;
}
