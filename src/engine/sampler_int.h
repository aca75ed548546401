/*
 * sampler_int.h: what speculative decoding needs from the sampler beyond
 * hearth.h: the distribution a sample is drawn from (so a drafted token can
 * be accepted with probability p_target / p_draft and a rejection redrawn
 * from the residual), draws from the sampler's own generator, and rolling
 * the penalties' history back past rejected drafts.
 */
#ifndef HEARTH_ENGINE_SAMPLER_INT_H
#define HEARTH_ENGINE_SAMPLER_INT_H

#include "hearth.h"

#include <stddef.h>

/* One candidate of a distribution: token id and unnormalized weight. */
typedef struct {
    int32_t id;
    double w;
} sampler_prob;

/* The distribution hearth_sampler_sample would draw from for logits (with
 * the current history's penalties, top-k, top-p, min-p and temperature):
 * *n candidates, best first, weights summing to *tot. A greedy sampler (or
 * a distribution with nothing to draw from) gives one candidate, weight 1.
 * *out points into the sampler's scratch: valid until the next call on s.
 * hearth_sampler_sample(s, l) is d[0] without a draw when the sampler is
 * greedy or the best logit infinite, sampler_draw(s, d, n, tot) otherwise. */
void sampler_dist(hearth_sampler *s, const float *logits, const sampler_prob **out, int32_t *n,
                  double *tot);
/* What hearth_sampler_sample returns for the distribution sampler_dist
 * just gave. */
int32_t sampler_pick(hearth_sampler *s, const sampler_prob *d, int32_t n, double tot);
/* Draws from d[0..n) (n >= 1, weights summing to tot) with s's generator. */
int32_t sampler_draw(hearth_sampler *s, const sampler_prob *d, int32_t n, double tot);
/* Uniform in [0, 1) from s's generator. */
double sampler_unit(hearth_sampler *s);
bool sampler_is_greedy(const hearth_sampler *s);
const hearth_sampler_params *sampler_params(const hearth_sampler *s);
/* Tokens in the history; forgets all but the first n (n > length: no-op). */
size_t sampler_hist_len(const hearth_sampler *s);
void sampler_hist_truncate(hearth_sampler *s, size_t n);

#endif
