/*
 * spec.c: speculative decoding's state between steps and generations: the
 * target sequence's tokens (what drafts continue), the two draft sources
 * (prompt lookup, a draft model with its own context and sampler) and the
 * controller that chooses source and draft length.
 *
 * The controller: with a per-token acceptance estimate a (decayed counts of
 * accepted drafts and of rejections, from a hopeful prior), k drafts yield
 * E(k) = (1 - a^(k+1)) / (1 - a) tokens per step (the accepted run plus the
 * target's own token). A step costs t_plain * (1 + beta * k) to verify plus
 * k * t_draft to draft, all measured as generation goes (t_plain from steps
 * without drafts, beta from verification steps). The source and k with the
 * best E(k) * t_plain / cost win; if none beats plain decoding, drafting
 * pauses for a few steps (doubling while it keeps not paying) and then
 * probes again, so a bad pair costs little.
 *
 * t_plain is what a step would cost without speculation, where the caches
 * hold only the target: it follows a faster step at once (half way) and a
 * slower one slowly, because the plain steps it sees are the first of a
 * generation (cold) or follow drafting (the draft model's weights in the
 * caches), both slower than plain decoding's steady state. And while
 * drafting goes on it is refreshed by one plain step every SPEC_REFRESH
 * drafting steps. It used to be measured at the start only, on steps that
 * the draft model's thread pool (still spinning after reading the prompt)
 * slowed: on the demo pair at 2 threads it stayed 1.6x too high and kept a
 * losing draft model drafting (0.80-0.96x of plain decoding). The prompt's
 * draft pass now runs before the target's (generate.c), and this estimate
 * no longer trusts a slow start.
 *
 * Invariants: hist holds the tokens of the target sequence as far as this
 * object saw them (prompt and produced tokens); dkv holds the draft
 * context's tokens, and the draft sampler's history is dkv plus at most the
 * last drafted token.
 */
#include "engine/ctx_int.h"
#include "engine/spec_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

/* Decay of the acceptance counts per verification step, and their prior:
 * a = 0.7 from two pseudo-observations, hopeful enough that a source is
 * tried. While drafting pauses, and at each new generation, the counts fade
 * toward the prior, so a source that did badly once is tried again. */
#define ACC_DECAY 0.85
#define ACC_PRIOR_ACC 1.4
#define ACC_PRIOR_REJ 0.6
#define PAUSE_FADE 0.95
#define GEN_FADE 0.5
/* Initial guesses until measured. */
#define BETA_INIT 0.05
#define DRAFT_RATIO_INIT 0.25
#define PAUSE_MIN 4
#define PAUSE_MAX 64
/* Drafting steps between two plain steps that refresh t_plain. */
#define SPEC_REFRESH 16

struct hearth_spec {
    hearth_spec_params p;
    const hearth_model *target;
    int32_t n_vocab_t; /* target's logit rows */

    /* the target sequence's tokens */
    const hearth_ctx *ctx;
    int32_t seq;
    int32_t *hist;
    int32_t n_hist, hist_cap;
    bool broken; /* hist lost a token (out of memory): no drafts */

    /* the draft model's context and sampler */
    hearth_ctx *dctx;
    int32_t dcap;
    int32_t *dkv;
    int32_t n_dkv, n_dkv_ok; /* tokens in its KV; of which known equal to hist */
    hearth_sampler *dsmp;

    /* the controller */
    double t_plain, beta, t_draft;
    bool have_plain, have_beta, have_draft;
    double acc[3], rej[3]; /* per spec_src */
    int32_t pause_left, pause_len;
    int32_t since_plain; /* drafting steps since the last plain one */
    bool probe;

    spec_draft draft;
    spec_verifier ver;
};

/* Moves the acceptance counts toward the prior (see ACC_PRIOR_*). */
static void fade(hearth_spec *s, double f) {
    for (int i = 0; i < 3; i++) {
        s->acc[i] *= f;
        s->rej[i] *= f;
    }
}

hearth_spec_params hearth_spec_default_params(void) {
    hearth_spec_params p = {.draft = NULL, .lookup = false, .n_draft_max = 16,
                            .lookup_ngram_min = 2, .lookup_ngram_max = 4, .adaptive = true,
                            .n_threads = 0};
    return p;
}

/* Same vocabulary: same count and the same text for every token. */
static hearth_status check_vocab(const hearth_model *t, const hearth_model *d, hearth_error *err) {
    const hearth_tokenizer *tt = hearth_model_tokenizer(t), *td = hearth_model_tokenizer(d);
    if (!tt || !td)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "draft model's vocabulary differs from the target's: %s has no tokenizer",
                           tt ? "the draft" : "the target");
    int32_t nt = hearth_tokenizer_n_vocab(tt), nd = hearth_tokenizer_n_vocab(td);
    if (nt != nd)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "draft model's vocabulary differs from the target's: %d tokens vs %d", nd, nt);
    for (int32_t i = 0; i < nt; i++) {
        size_t la, lb;
        const char *a = hearth_token_text(tt, i, &la), *b = hearth_token_text(td, i, &lb);
        if (la != lb || (la && memcmp(a, b, la)))
            return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                               "draft model's vocabulary differs from the target's: token %d is "
                               "'%.*s' in the draft, '%.*s' in the target",
                               i, (int)(lb > 40 ? 40 : lb), b ? b : "", (int)(la > 40 ? 40 : la),
                               a ? a : "");
    }
    return HEARTH_OK;
}

hearth_status hearth_spec_new(const hearth_model *target, const hearth_spec_params *p, hearth_spec **out,
                              hearth_error *err) {
    *out = NULL;
    hearth_spec_params dp = hearth_spec_default_params();
    if (!p) p = &dp;
    if (!target) return HEARTH_FAIL(err, HEARTH_E_ARG, "speculative decoding: no target model");
    if (!p->draft && !p->lookup)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "speculative decoding: neither a draft model nor lookup");
    if (p->n_draft_max < 1 || p->n_draft_max > SPEC_MAX_DRAFT)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "speculative decoding: draft length %d outside [1, %d]",
                           p->n_draft_max, SPEC_MAX_DRAFT);
    if (p->lookup && (p->lookup_ngram_min < 1 || p->lookup_ngram_max < p->lookup_ngram_min ||
                      p->lookup_ngram_max > 16))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "speculative decoding: lookup n-grams %d..%d (want 1..16)",
                           p->lookup_ngram_min, p->lookup_ngram_max);
    if (p->draft) {
        if (hearth_model_is_encoder(p->draft))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "speculative decoding: the draft is an embedding model; it cannot draft");
        hearth_status st = check_vocab(target, p->draft, err);
        if (st) return st;
    }
    hearth_spec *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "speculative decoding: out of memory");
    s->p = *p;
    s->target = target;
    s->n_vocab_t = hearth_model_n_vocab(target);
    s->pause_len = PAUSE_MIN;
    hearth_status st = spec_verifier_init(&s->ver, s->n_vocab_t, err);
    if (st) {
        hearth_free(s);
        return st;
    }
    *out = s;
    return HEARTH_OK;
}

void hearth_spec_free(hearth_spec *s) {
    if (!s) return;
    hearth_ctx_free(s->dctx);
    hearth_sampler_free(s->dsmp);
    hearth_free(s->hist);
    hearth_free(s->dkv);
    spec_draft_free(&s->draft);
    spec_verifier_free(&s->ver);
    hearth_free(s);
}

void hearth_spec_reset(hearth_spec *s) {
    if (!s) return;
    s->n_hist = 0;
    s->ctx = NULL;
    s->broken = false;
    s->n_dkv = s->n_dkv_ok = 0;
    if (s->dctx) hearth_ctx_seq_clear(s->dctx, 0, NULL);
}

static bool hist_reserve(hearth_spec *s, int32_t n);

void hearth_spec_set_history(hearth_spec *s, const hearth_ctx *c, int32_t seq, const int32_t *tokens,
                             int32_t n) {
    if (!s) return;
    if (n < 0 || (n && !tokens) || !hist_reserve(s, n)) {
        hearth_spec_reset(s);
        return;
    }
    s->ctx = c;
    s->seq = seq;
    s->broken = false;
    if (n) memcpy(s->hist, tokens, (size_t)n * sizeof *tokens); /* (hist is NULL before the first) */
    s->n_hist = n;
    s->n_dkv_ok = 0; /* compared again at the next draft */
}

spec_draft *spec_draft_buf(hearth_spec *s) { return &s->draft; }
spec_verifier *spec_verifier_of(hearth_spec *s) { return &s->ver; }

static bool hist_reserve(hearth_spec *s, int32_t n) {
    if (n <= s->hist_cap) return true;
    int32_t cap = s->hist_cap ? s->hist_cap : 256;
    while (cap < n) cap *= 2;
    int32_t *h = hearth_realloc(s->hist, (size_t)cap * sizeof *h);
    if (!h) return false;
    s->hist = h;
    s->hist_cap = cap;
    return true;
}

void spec_push(hearth_spec *s, int32_t token) {
    if (s->broken) return;
    if (!hist_reserve(s, s->n_hist + 1)) {
        s->broken = true;
        return;
    }
    s->hist[s->n_hist++] = token;
}

hearth_status spec_begin(hearth_spec *s, const hearth_ctx *c, int32_t seq, int32_t len0,
                         const int32_t *prompt, int32_t n_prompt, const hearth_sampler_params *sp,
                         hearth_error *err) {
    /* The same sequence continues: its first len0 tokens are what this
     * object saw (a caller that truncated for prefix reuse kept a prefix).
     * Otherwise the earlier tokens are unknown: drafts see the prompt on. */
    if (s->ctx == c && s->seq == seq && len0 <= s->n_hist && !s->broken) {
        s->n_hist = len0;
    } else {
        s->n_hist = 0;
        s->broken = false;
    }
    s->ctx = c;
    s->seq = seq;
    /* the draft's tokens are known equal to the history only up to what
     * of the history was kept */
    if (s->n_dkv_ok > s->n_hist) s->n_dkv_ok = s->n_hist;
    if (!hist_reserve(s, s->n_hist + n_prompt + 1))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "speculative decoding: out of memory");
    memcpy(s->hist + s->n_hist, prompt, (size_t)n_prompt * sizeof *prompt);
    s->n_hist += n_prompt;
    s->pause_left = 0;
    s->probe = false;
    fade(s, GEN_FADE);
    if (!s->p.draft) return HEARTH_OK;

    int32_t cap = hearth_ctx_seq_capacity(c);
    if (!s->dctx || s->dcap < cap) {
        hearth_ctx_free(s->dctx);
        s->dctx = NULL;
        hearth_free(s->dkv);
        s->dkv = NULL;
        s->n_dkv = s->n_dkv_ok = 0;
        hearth_ctx_params cp = hearth_ctx_default_params();
        cp.n_ctx = cap;
        cp.n_seq = 1;
        cp.n_threads = s->p.n_threads;
        hearth_status st = hearth_ctx_new(s->p.draft, &cp, &s->dctx, err);
        if (st) return st;
        s->dcap = hearth_ctx_seq_capacity(s->dctx);
        if (!(s->dkv = hearth_malloc((size_t)s->dcap * sizeof *s->dkv)))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "speculative decoding: out of memory");
    }
    hearth_sampler_free(s->dsmp);
    s->dsmp = NULL;
    hearth_sampler_params dp = *sp;
    if (dp.seed != HEARTH_SEED_RANDOM) dp.seed ^= 0x9e3779b97f4a7c15ull; /* its own draws */
    hearth_status st = hearth_sampler_new(&dp, hearth_model_n_vocab(s->p.draft), &s->dsmp, err);
    if (st) return st;
    for (int32_t i = 0; i < s->n_dkv; i++) hearth_sampler_accept(s->dsmp, s->dkv[i]);
    return HEARTH_OK;
}

/* ---- the controller ---- */

static double acceptance(const hearth_spec *s, spec_src src) {
    return (s->acc[src] + ACC_PRIOR_ACC) / (s->acc[src] + s->rej[src] + ACC_PRIOR_ACC + ACC_PRIOR_REJ);
}


/* Expected speedup over plain decoding of k drafts at acceptance a, when
 * drafting costs draft_ratio plain steps per token. */
static double speedup(const hearth_spec *s, double a, int32_t k, double draft_ratio) {
    double e = 1, ak = 1;
    for (int32_t i = 0; i < k; i++) {
        ak *= a;
        e += ak;
    }
    double beta = s->have_beta ? s->beta : BETA_INIT;
    return e / (1 + beta * k + draft_ratio * k);
}

static int32_t best_k(const hearth_spec *s, spec_src src, int32_t k_max, double draft_ratio,
                      double *gain) {
    double a = acceptance(s, src);
    int32_t best = 1;
    *gain = speedup(s, a, 1, draft_ratio);
    for (int32_t k = 2; k <= k_max; k++) {
        double g = speedup(s, a, k, draft_ratio);
        if (g > *gain) {
            *gain = g;
            best = k;
        }
    }
    return best;
}

void spec_observe(hearth_spec *s, const spec_draft *d, int32_t n_accepted, double draft_ms,
                  double decode_ms) {
    if (d->n == 0) {
        double w = decode_ms < s->t_plain ? 0.5 : 0.1; /* see the file comment */
        s->t_plain = s->have_plain ? (1 - w) * s->t_plain + w * decode_ms : decode_ms;
        s->have_plain = true;
        s->since_plain = 0;
        return;
    }
    s->since_plain++;
    s->acc[d->src] = ACC_DECAY * s->acc[d->src] + n_accepted;
    s->rej[d->src] = ACC_DECAY * s->rej[d->src] + (n_accepted < d->n ? 1 : 0);
    if (s->have_plain && s->t_plain > 0) {
        double b = (decode_ms / s->t_plain - 1) / d->n;
        if (b < 0) b = 0;
        s->beta = s->have_beta ? 0.7 * s->beta + 0.3 * b : b;
        s->have_beta = true;
        if (d->src == SPEC_SRC_MODEL) {
            double r = draft_ms / d->n;
            s->t_draft = s->have_draft ? 0.7 * s->t_draft + 0.3 * r : r;
            s->have_draft = true;
        }
    }
    if (n_accepted > 0) s->pause_len = PAUSE_MIN;
}

/* ---- the sources ---- */

/* Prompt lookup: the tokens after the latest earlier occurrence of the
 * history's last n-gram, longest n first. Returns how many (<= k). */
static int32_t lookup(const hearth_spec *s, int32_t k, const int32_t **cont) {
    const int32_t *h = s->hist;
    int32_t n = s->n_hist;
    for (int32_t ng = s->p.lookup_ngram_max; ng >= s->p.lookup_ngram_min; ng--) {
        if (ng >= n) continue;
        const int32_t *suf = h + n - ng;
        for (int32_t j = n - ng - 1; j >= 0; j--) {
            if (h[j] != suf[0] || memcmp(h + j, suf, (size_t)ng * sizeof *h)) continue;
            int32_t avail = n - (j + ng);
            *cont = h + j + ng;
            return avail < k ? avail : k;
        }
    }
    return 0;
}

static bool q_reserve(spec_draft *d, size_t n) {
    if (n <= d->q_cap) return true;
    size_t cap = d->q_cap ? d->q_cap : 1024;
    while (cap < n) cap *= 2;
    sampler_prob *q = hearth_realloc(d->q, cap * sizeof *q);
    if (!q) return false;
    d->q = q;
    d->q_cap = cap;
    return true;
}

/* Brings the draft context to the history (the history's last token
 * evaluated, its logits there); *n_eval: the tokens that took. */
static hearth_status draft_sync(hearth_spec *s, int32_t *n_eval, hearth_error *err) {
    *n_eval = 0;
    int32_t nh = s->n_hist;
    int32_t lcp = s->n_dkv_ok;
    int32_t lim = s->n_dkv < nh ? s->n_dkv : nh;
    while (lcp < lim && s->dkv[lcp] == s->hist[lcp]) lcp++;
    if (lcp == nh) lcp--; /* the last token's logits are needed: evaluate it again */
    hearth_status st;
    if ((st = hearth_ctx_seq_truncate(s->dctx, 0, lcp, err))) return st;
    s->n_dkv = lcp;
    sampler_hist_truncate(s->dsmp, (size_t)lcp);
    if ((st = hearth_ctx_eval(s->dctx, 0, s->hist + lcp, nh - lcp, err))) {
        s->n_dkv = s->n_dkv_ok = hearth_ctx_seq_len(s->dctx, 0);
        return st;
    }
    for (int32_t i = lcp; i < nh; i++) {
        s->dkv[i] = s->hist[i];
        hearth_sampler_accept(s->dsmp, s->hist[i]);
    }
    s->n_dkv = s->n_dkv_ok = nh;
    *n_eval = nh - lcp;
    return HEARTH_OK;
}

hearth_status spec_prefill(hearth_spec *s, hearth_error *err) {
    if (!s->p.draft || !s->dctx || s->broken || s->n_hist < 1 || s->n_hist > s->dcap) return HEARTH_OK;
    int32_t n;
    return draft_sync(s, &n, err);
}

/* Brings the draft context to the history and drafts up to k tokens. */
static hearth_status draft_model(hearth_spec *s, int32_t k, spec_draft *d, double *draft_ms,
                                 hearth_error *err) {
    double t0 = hearth_now_ms();
    int32_t nh = s->n_hist, caught;
    if (nh < 1 || nh + k - 1 > s->dcap) return HEARTH_OK;
    hearth_status st = draft_sync(s, &caught, err);
    if (st) return st;
    /* a catch-up over a new prompt (where spec_prefill did not run) is
     * prefill, not the cost of drafting */
    if (caught > 2) t0 = hearth_now_ms();
    const hearth_tokenizer *tok = hearth_model_tokenizer(s->target);
    for (int32_t i = 0; i < k; i++) {
        const float *logits = hearth_ctx_logits(s->dctx, -1);
        const sampler_prob *pd;
        int32_t pn;
        double ptot;
        sampler_dist(s->dsmp, logits, &pd, &pn, &ptot);
        int32_t t = sampler_pick(s->dsmp, pd, pn, ptot);
        if (t >= s->n_vocab_t) break; /* a padding row the target has not */
        if (!q_reserve(d, (size_t)d->q_off[i] + (size_t)pn)) break;
        memcpy(d->q + d->q_off[i], pd, (size_t)pn * sizeof *pd);
        d->q_off[i + 1] = d->q_off[i] + pn;
        d->q_tot[i] = ptot;
        d->tok[i] = t;
        d->n = i + 1;
        hearth_sampler_accept(s->dsmp, t);
        if (i + 1 == k || (tok && hearth_token_is_eog(tok, t))) break;
        if ((st = hearth_ctx_eval(s->dctx, 0, &t, 1, err))) return st;
        s->dkv[s->n_dkv++] = t;
    }
    *draft_ms = hearth_now_ms() - t0;
    return HEARTH_OK;
}

hearth_status spec_make_draft(hearth_spec *s, int32_t limit, spec_draft *d, double *draft_ms,
                              hearth_error *err) {
    d->n = 0;
    d->src = SPEC_SRC_NONE;
    d->q_off[0] = 0;
    *draft_ms = 0;
    if (limit <= 0 || s->broken || s->n_hist < 1) return HEARTH_OK;
    int32_t k_cap = limit < s->p.n_draft_max ? limit : s->p.n_draft_max;
    if (s->p.adaptive && !s->have_plain) return HEARTH_OK; /* measure a plain step first */
    if (s->p.adaptive && s->since_plain >= SPEC_REFRESH) return HEARTH_OK; /* refresh t_plain */
    if (s->pause_left > 0) {
        fade(s, PAUSE_FADE);
        if (--s->pause_left == 0) s->probe = true;
        return HEARTH_OK;
    }
    const int32_t *cont = NULL;
    int32_t n_look = s->p.lookup ? lookup(s, k_cap, &cont) : 0;
    spec_src src = SPEC_SRC_NONE;
    int32_t k = 0;
    if (!s->p.adaptive) {
        src = n_look ? SPEC_SRC_LOOKUP : s->p.draft ? SPEC_SRC_MODEL : SPEC_SRC_NONE;
        k = n_look ? n_look : k_cap;
    } else {
        double g_look = 0, g_model = 0;
        int32_t k_look = n_look ? best_k(s, SPEC_SRC_LOOKUP, n_look, 0, &g_look) : 0;
        int32_t k_model = 0;
        if (s->p.draft) {
            double ratio = s->have_draft && s->t_plain > 0 ? s->t_draft / s->t_plain : DRAFT_RATIO_INIT;
            k_model = best_k(s, SPEC_SRC_MODEL, k_cap, ratio, &g_model);
        }
        if (k_look && g_look >= g_model) {
            src = SPEC_SRC_LOOKUP;
            k = k_look;
        } else if (k_model) {
            src = SPEC_SRC_MODEL;
            k = k_model;
        }
        double g = src == SPEC_SRC_LOOKUP ? g_look : g_model;
        if (src != SPEC_SRC_NONE && g < 1.0 && !s->probe) {
            /* not worth it now: plain steps for a while, then a probe */
            s->pause_left = s->pause_len;
            s->pause_len = s->pause_len * 2 > PAUSE_MAX ? PAUSE_MAX : s->pause_len * 2;
            return HEARTH_OK;
        }
        s->probe = false;
    }
    if (src == SPEC_SRC_LOOKUP) {
        memcpy(d->tok, cont, (size_t)k * sizeof *cont);
        for (int32_t i = 0; i < k; i++) d->q_off[i + 1] = 0; /* point masses */
        d->n = k;
        d->src = src;
        return HEARTH_OK;
    }
    if (src != SPEC_SRC_MODEL) return HEARTH_OK;
    hearth_status st = draft_model(s, k, d, draft_ms, err);
    if (d->n) d->src = src;
    return st;
}
