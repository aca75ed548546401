/*
 * confidence.h: how sure the local model was of the answer it just gave,
 * from the generation itself (token log-probabilities) and from what the
 * answer says (a model-independent refusal check). The router compares the
 * score with the confidence_threshold setting: below it, the answer is a
 * candidate for the cloud (if the policy lets the request leave).
 *
 * The score is one number in [0, 1]: the geometric mean of three
 * probabilities measured over the answer's tokens,
 *   - the mean token probability, exp(mean log p(token));
 *   - the weakest stretch, exp(lowest mean log p over any window of
 *     CONF_WINDOW consecutive tokens; the whole answer if shorter);
 *   - the mean margin between the model's first and second choice, p1 - p2;
 * so 1 means every token was the model's certain choice, and a single
 * stretch of guessing pulls it down. An answer that refuses or says it does
 * not know ("I can't answer that", "I don't know", ...) is capped at
 * CONF_REFUSAL_CAP whatever its probabilities: a model can be very sure of
 * its refusal. An empty answer scores 0.
 * Probabilities are the model's own (softmax of the raw logits, before the
 * sampler's temperature, penalties or truncation).
 * Plain data, no allocation; one thread per accumulator.
 */
#ifndef HEARTH_ROUTER_CONFIDENCE_H
#define HEARTH_ROUTER_CONFIDENCE_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_WINDOW 8
#define CONF_REFUSAL_CAP 0.05

typedef struct {
    double ring[CONF_WINDOW]; /* the last CONF_WINDOW log-probabilities */
    double win_sum;           /* sum of ring's live entries */
    double min_win;           /* lowest full-window mean so far */
    double sum_lp, sum_margin;
    int n;
} conf_acc;

typedef struct {
    double score;       /* [0, 1], as the file comment defines it */
    double mean_prob;   /* exp(mean log p) */
    double min_window_prob;
    double mean_margin;
    bool refusal;       /* the text refuses / does not know */
    int n_tokens;
} conf_result;

/* Starts an empty accumulator. */
void conf_init(conf_acc *a);
/* Adds one generated token: logprob = log p(token) (<= 0), margin = p1 - p2
 * of the model's two most likely tokens (in [0, 1]). Values out of range
 * (NaN, logprob > 0, ...) are clamped. */
void conf_add(conf_acc *a, float logprob, float margin);
/* The score of the answer text[0..len) whose tokens were added to a.
 * text may be NULL when len is 0. */
conf_result conf_score(const conf_acc *a, const char *text, size_t len);
/* True if text reads as a refusal or an admission of not knowing, judged on
 * its first sentences (case-insensitive; ASCII and typographic apostrophes). */
bool conf_is_refusal(const char *text, size_t len);

#endif
