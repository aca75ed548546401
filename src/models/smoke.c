/*
 * smoke.c: the smoke test a new model version passes before it may become
 * active (update.h). It needs no reference answer: a fixed English probe,
 * its tokens' perplexity under the model, and checks that catch a file that
 * loads but is broken (NaN or infinite weights, a vocabulary that does not
 * match the embedding, a model worse than guessing).
 */
#include "models/update.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char probe[] =
    "The quick brown fox jumps over the lazy dog. Once upon a time there was a small "
    "house by the sea, and every morning the children walked down to the water.";

hearth_status models_smoke_test(const char *path, int n_threads, double *ppl_out,
                                hearth_error *err) {
    if (ppl_out) *ppl_out = -1;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads;
    hearth_model *m = NULL;
    hearth_ctx *c = NULL;
    int32_t *toks = NULL;
    int8_t *want = NULL;
    hearth_status st = hearth_model_open(path, &mp, &m, err);
    if (st) {
        hearth_error_prefix(err, "smoke test: does not load");
        return st;
    }
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    size_t nt = 0;
    if (!tok) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "smoke test: the model has no tokenizer");
        goto out;
    }
    if ((st = hearth_tokenize(tok, probe, strlen(probe), true, false, &toks, &nt, err))) {
        hearth_error_prefix(err, "smoke test: the probe does not tokenize");
        goto out;
    }
    int32_t nv = hearth_model_n_vocab(m);
    if (nt < 4) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "smoke test: the probe gives %zu tokens", nt);
        goto out;
    }
    if (nt > 256) nt = 256;
    for (size_t i = 0; i < nt; i++) {
        if (toks[i] < 0 || toks[i] >= nv) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "smoke test: token %d of the probe is outside the model's %d "
                             "logits (vocabulary and weights do not match)", toks[i], nv);
            goto out;
        }
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 512;
    cp.n_threads = n_threads;
    if ((st = hearth_ctx_new(m, &cp, &c, err))) {
        hearth_error_prefix(err, "smoke test");
        goto out;
    }
    want = hearth_calloc(nt, 1);
    if (!want) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        goto out;
    }
    memset(want, 1, nt);
    hearth_batch b = {.n_tokens = (int32_t)nt, .tokens = toks, .logits = want};
    if ((st = hearth_ctx_decode(c, &b, err))) {
        hearth_error_prefix(err, "smoke test: the probe does not run");
        goto out;
    }
    double sum = 0;
    for (size_t j = 0; j + 1 < nt; j++) {
        const float *l = hearth_ctx_logits(c, (int32_t)j);
        if (!l) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "smoke test: no logits");
            goto out;
        }
        double mx = -INFINITY;
        for (int32_t k = 0; k < nv; k++) {
            if (!isfinite(l[k])) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                                 "smoke test: logit %d of probe token %zu is %f (broken weights)",
                                 k, j, (double)l[k]);
                goto out;
            }
            if (l[k] > mx) mx = l[k];
        }
        double z = 0;
        for (int32_t k = 0; k < nv; k++) z += exp((double)l[k] - mx);
        sum += -((double)l[toks[j + 1]] - mx - log(z));
    }
    double ppl = exp(sum / (double)(nt - 1));
    if (ppl_out) *ppl_out = ppl;
    if (!isfinite(ppl) || ppl > 2.0 * (double)nv)
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                         "smoke test: perplexity %.1f on the probe, worse than twice uniform "
                         "guessing over %d tokens", ppl, nv);
out:
    hearth_free(want);
    hearth_free(toks);
    hearth_ctx_free(c);
    hearth_model_free(m);
    return st;
}
