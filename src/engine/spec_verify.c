/*
 * spec_verify.c: the acceptance rule of speculative sampling (Leviathan et
 * al. 2023; Chen et al. 2023). With p the target's distribution after the
 * full sampler chain and q the one the draft token x was drawn from: accept
 * x with probability min(1, p(x) / q(x)); on rejection draw from
 * max(0, p - q) normalized. The token that comes out is distributed exactly
 * as p, whatever q is, so the output is the target's. At temp <= 0, p is a
 * point mass on the greedy token: a draft is kept iff it is that token.
 *
 * The drafts are decided in order because the penalties make row i's p
 * depend on the tokens accepted before it (the sampler's history).
 */
#include "engine/spec_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

void spec_draft_free(spec_draft *d) {
    hearth_free(d->q);
    memset(d, 0, sizeof *d);
}

hearth_status spec_verifier_init(spec_verifier *v, int32_t n_vocab, hearth_error *err) {
    memset(v, 0, sizeof *v);
    v->n_vocab = n_vocab;
    v->qd = hearth_calloc((size_t)n_vocab, sizeof *v->qd);
    v->rw = hearth_malloc((size_t)n_vocab * sizeof *v->rw);
    if (!v->qd || !v->rw) {
        spec_verifier_free(v);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "speculative decoding: out of memory");
    }
    return HEARTH_OK;
}

void spec_verifier_free(spec_verifier *v) {
    hearth_free(v->qd);
    hearth_free(v->rw);
    memset(v, 0, sizeof *v);
}

/* q(x) of draft i, normalized. */
static double q_of(const spec_draft *d, int32_t i, int32_t x) {
    int32_t a = d->q_off[i], b = d->q_off[i + 1];
    if (a == b) return x == d->tok[i] ? 1.0 : 0.0;
    for (int32_t j = a; j < b; j++)
        if (d->q[j].id == x) return d->q[j].w / d->q_tot[i];
    return 0.0;
}

/* Draws from max(0, p - q_i) normalized, p = pd[0..pn) / ptot. */
static int32_t draw_residual(spec_verifier *v, hearth_sampler *smp, const spec_draft *d, int32_t i,
                             const sampler_prob *pd, int32_t pn, double ptot) {
    if (v->wrong_rule) return sampler_draw(smp, pd, pn, ptot);
    int32_t a = d->q_off[i], b = d->q_off[i + 1];
    if (a == b) {
        if (d->tok[i] >= 0 && d->tok[i] < v->n_vocab) v->qd[d->tok[i]] = 1.0;
    } else {
        for (int32_t j = a; j < b; j++)
            if (d->q[j].id >= 0 && d->q[j].id < v->n_vocab) v->qd[d->q[j].id] = d->q[j].w / d->q_tot[i];
    }
    double rtot = 0;
    int32_t rn = 0;
    for (int32_t j = 0; j < pn; j++) {
        double r = pd[j].w / ptot - v->qd[pd[j].id];
        if (r > 0) {
            v->rw[rn++] = (sampler_prob){pd[j].id, r};
            rtot += r;
        }
    }
    if (a == b) {
        if (d->tok[i] >= 0 && d->tok[i] < v->n_vocab) v->qd[d->tok[i]] = 0;
    } else {
        for (int32_t j = a; j < b; j++)
            if (d->q[j].id >= 0 && d->q[j].id < v->n_vocab) v->qd[d->q[j].id] = 0;
    }
    /* p <= q everywhere only when p == q up to rounding, and then a
     * rejection has probability ~0: p itself is the right fallback */
    if (rn == 0 || !(rtot > 0)) return sampler_draw(smp, pd, pn, ptot);
    return sampler_draw(smp, v->rw, rn, rtot);
}

int32_t spec_verify(spec_verifier *v, hearth_sampler *smp, const spec_draft *d, spec_row_fn row,
                    void *row_user, spec_emit_fn emit, void *emit_user, int32_t *n_emitted) {
    bool greedy = sampler_is_greedy(smp);
    int32_t accepted = 0;
    *n_emitted = 0;
    for (int32_t i = 0; i <= d->n; i++) {
        const float *logits = row(row_user, i);
        const sampler_prob *pd;
        int32_t pn;
        double ptot;
        sampler_dist(smp, logits, &pd, &pn, &ptot);
        int32_t t;
        bool keep_going = false;
        if (i == d->n) {
            /* every draft accepted: the target's own next token */
            t = sampler_pick(smp, pd, pn, ptot);
        } else if (greedy) {
            t = pd[0].id;
            keep_going = t == d->tok[i];
        } else {
            int32_t x = d->tok[i];
            double px = 0;
            for (int32_t j = 0; j < pn; j++)
                if (pd[j].id == x) {
                    px = pd[j].w / ptot;
                    break;
                }
            double qx = q_of(d, i, x);
            /* accept with probability min(1, px / qx): u < px / qx */
            if (px > 0 && sampler_unit(smp) * qx < px) {
                t = x;
                keep_going = true;
            } else {
                t = draw_residual(v, smp, d, i, pd, pn, ptot);
            }
        }
        hearth_sampler_accept(smp, t);
        (*n_emitted)++;
        if (keep_going) accepted++;
        if (!emit(emit_user, t, logits) || !keep_going) break;
    }
    return accepted;
}
