/*
 * confidence.c: the local answer's confidence score (see confidence.h for
 * its definition). The refusal check looks for a fixed list of phrases in
 * the first REFUSAL_SCAN bytes: refusals come first in what models say
 * ("Sorry, I can't...", "I'm not sure, but..."), and a phrase quoted deep in
 * a long answer is more likely content than a refusal.
 */
#include "router/confidence.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define REFUSAL_SCAN 240

void conf_init(conf_acc *a) {
    memset(a, 0, sizeof *a);
    a->min_win = 0.0; /* log-space: the best possible mean */
}

void conf_add(conf_acc *a, float logprob, float margin) {
    double lp = logprob;
    if (!(lp <= 0.0)) lp = 0.0;     /* NaN or > 0 */
    if (lp < -50.0) lp = -50.0;     /* one -inf must not make the mean NaN */
    double m = margin;
    if (!(m >= 0.0)) m = 0.0;
    if (m > 1.0) m = 1.0;
    int slot = a->n % CONF_WINDOW;
    if (a->n >= CONF_WINDOW) a->win_sum -= a->ring[slot];
    a->ring[slot] = lp;
    a->win_sum += lp;
    a->n++;
    a->sum_lp += lp;
    a->sum_margin += m;
    if (a->n >= CONF_WINDOW) {
        double mean = a->win_sum / CONF_WINDOW;
        if (mean < a->min_win) a->min_win = mean;
    }
}

/* Lower-cases text[0..n) into out, mapping U+2019 (’) to '\'' so the phrase
 * list needs one spelling. Returns the length written. */
static size_t fold(const char *text, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0xE2 && i + 2 < n && (unsigned char)text[i + 1] == 0x80 &&
            (unsigned char)text[i + 2] == 0x99) {
            out[o++] = '\'';
            i += 2;
        } else {
            out[o++] = (char)tolower(c);
        }
    }
    out[o] = '\0';
    return o;
}

bool conf_is_refusal(const char *text, size_t len) {
    static const char *const phrases[] = {
        "i can't",        "i cannot",       "i can not",       "i'm sorry",
        "i am sorry",     "sorry, i",       "i don't know",    "i do not know",
        "i'm not able",   "i am not able",  "i'm unable",      "i am unable",
        "i'm not sure",   "i am not sure",  "i won't be able", "i will not be able",
        "as an ai",       "i have no information", "i don't have information",
        "i do not have information", "i don't have access", "i do not have access",
        "i'm afraid i",   "unable to answer", "not able to answer", "can't help with",
        "cannot help with",
    };
    if (!text || !len) return false;
    char buf[REFUSAL_SCAN + 1];
    size_t n = len < REFUSAL_SCAN ? len : REFUSAL_SCAN;
    fold(text, n, buf, sizeof buf);
    for (size_t i = 0; i < sizeof phrases / sizeof *phrases; i++)
        if (strstr(buf, phrases[i])) return true;
    return false;
}

conf_result conf_score(const conf_acc *a, const char *text, size_t len) {
    conf_result r = {0};
    r.n_tokens = a->n;
    r.refusal = conf_is_refusal(text, len);
    if (a->n == 0) return r;
    double mean_lp = a->sum_lp / a->n;
    double win_lp = a->n >= CONF_WINDOW ? a->min_win : mean_lp;
    r.mean_prob = exp(mean_lp);
    r.min_window_prob = exp(win_lp);
    r.mean_margin = a->sum_margin / a->n;
    r.score = cbrt(r.mean_prob * r.min_window_prob * r.mean_margin);
    if (r.score > 1.0) r.score = 1.0;
    if (r.refusal && r.score > CONF_REFUSAL_CAP) r.score = CONF_REFUSAL_CAP;
    return r;
}
