/*
 * test_confidence.c: the confidence score of src/router/confidence.c: its
 * bounds, that a stretch of guessing pulls it down, the refusal cap, and the
 * refusal check's phrases (with typographic apostrophes) and non-refusals.
 */
#include "router/confidence.h"
#include "test.h"

#include <math.h>

static conf_result score_all(const float *lp, const float *mg, int n, const char *text) {
    conf_acc a;
    conf_init(&a);
    for (int i = 0; i < n; i++) conf_add(&a, lp[i], mg[i]);
    return conf_score(&a, text, text ? strlen(text) : 0);
}

int main(void) {
    /* empty answer */
    conf_acc a;
    conf_init(&a);
    conf_result r = conf_score(&a, NULL, 0);
    CHECK(r.score == 0.0);
    CHECK_EQ_INT(r.n_tokens, 0);

    /* certain tokens: score 1 */
    float lp[64], mg[64];
    for (int i = 0; i < 64; i++) lp[i] = 0.0f, mg[i] = 1.0f;
    r = score_all(lp, mg, 20, "2 + 2 = 4.");
    CHECKF(fabs(r.score - 1.0) < 1e-9, "score %f", r.score);
    CHECK(!r.refusal);

    /* confident answer with one stretch of 8 guessed tokens scores lower than
     * the same mean spread evenly */
    for (int i = 0; i < 64; i++) lp[i] = -0.05f, mg[i] = 0.9f;
    conf_result even = score_all(lp, mg, 64, "an answer");
    for (int i = 0; i < 64; i++) lp[i] = (i >= 20 && i < 28) ? -0.4f : 0.0f;
    conf_result stretch = score_all(lp, mg, 64, "an answer");
    printf("even %.4f (win %.4f)  stretch %.4f (win %.4f)\n", even.score, even.min_window_prob,
           stretch.score, stretch.min_window_prob);
    CHECKF(fabs(even.mean_prob - stretch.mean_prob) < 1e-6, "%f %f", even.mean_prob,
           stretch.mean_prob);
    CHECK(stretch.score < even.score);
    CHECKF(fabs(stretch.min_window_prob - exp(-0.4)) < 1e-6, "%f", stretch.min_window_prob);

    /* shorter than a window: the window is the whole answer */
    for (int i = 0; i < 3; i++) lp[i] = -1.0f, mg[i] = 0.5f;
    r = score_all(lp, mg, 3, "x");
    CHECKF(fabs(r.min_window_prob - exp(-1.0)) < 1e-9, "%f", r.min_window_prob);
    CHECKF(fabs(r.score - cbrt(exp(-1.0) * exp(-1.0) * 0.5)) < 1e-9, "%f", r.score);

    /* out-of-range inputs are clamped, never NaN */
    float bad_lp[4] = {NAN, 3.0f, -INFINITY, -1e30f}, bad_mg[4] = {NAN, -1.0f, 2.0f, 0.5f};
    r = score_all(bad_lp, bad_mg, 4, "y");
    CHECK(r.score >= 0.0 && r.score <= 1.0 && !isnan(r.score));

    /* a certain refusal is capped */
    for (int i = 0; i < 16; i++) lp[i] = 0.0f, mg[i] = 1.0f;
    r = score_all(lp, mg, 16, "Sorry, I can't answer that. Try an arithmetic question.");
    CHECK(r.refusal);
    CHECK(r.score <= CONF_REFUSAL_CAP);

    static const char *const refusals[] = {
        "Sorry, I can't answer that. Try an arithmetic question, like: what is 12 - 5?",
        "I can't answer that, sorry. I only know simple arithmetic.",
        "I CANNOT help with that request.",
        "I don\xe2\x80\x99t know who wrote it.",
        "I'm not sure, but it might be Paris.",
        "As an AI, I have no opinion.",
        "I am unable to answer questions about the weather.",
    };
    static const char *const answers[] = {
        "2 + 2 = 4.",
        "Hello! I am the hearth demo model. Ask me a simple arithmetic question.",
        "The capital of France is Paris.",
        "Shakespeare wrote Hamlet around 1600.",
        "You can't divide by zero: 5 / 0 is undefined.", /* "can't" without "i " */
        "",
    };
    for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++)
        CHECKF(conf_is_refusal(refusals[i], strlen(refusals[i])), "%s", refusals[i]);
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++)
        CHECKF(!conf_is_refusal(answers[i], strlen(answers[i])), "%s", answers[i]);
    /* a phrase far into a long answer is content, not a refusal */
    char longer[600];
    memset(longer, 'a', sizeof longer);
    memcpy(longer + 400, " I can't ", 9);
    CHECK(!conf_is_refusal(longer, sizeof longer));
    return test_done();
}
