/*
 * test_usable.c: what hearth-genmodel writes is usable by hearth itself:
 * the generated vocabulary loads in hearth's tokenizer, merges text into
 * multi-byte tokens and round-trips it; the models open and run, with
 * spread-out logits and greedy continuations that do not collapse onto one
 * token (the property engine tests rely on when they compare greedy tokens).
 */
#include "gm_helpers.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_tokenizer(void) {
    REQUIRE(gm_run("--arch qwen2 --n-vocab 2000 --type F16 -o %s", gm_path("t.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("t.gguf"));
    hearth_tokenizer *tk = NULL;
    hearth_error err = {0};
    CHECKF(hearth_tokenizer_load(g, &tk, &err) == HEARTH_OK, "%s", err.msg);
    if (tk) {
        const char *texts[] = {
            "The children thought about the question for days, and then they wrote.",
            "Hello world! It's 2024 and we're here: <|im_start|>user\nhi<|im_end|>",
            "zzqx \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \n\n  tabs\tend",
        };
        for (int k = 0; k < 3; k++) {
            int32_t *ids = NULL;
            size_t n = 0, len = strlen(texts[k]), outn = 0;
            char *out = NULL;
            REQUIRE(hearth_tokenize(tk, texts[k], len, false, true, &ids, &n, &err) == HEARTH_OK);
            CHECKF(n > 0 && n < len, "text %d: %zu tokens for %zu bytes", k, n, len);
            REQUIRE(hearth_detokenize(tk, ids, n, true, &out, &outn, &err) == HEARTH_OK);
            CHECKF(outn == len && !memcmp(out, texts[k], len), "text %d does not round-trip", k);
            if (k == 0) CHECKF(n < len / 2, "English text: %zu tokens for %zu bytes", n, len);
            if (k == 1) {
                bool has_ctl = false;
                for (size_t i = 0; i < n; i++) has_ctl |= ids[i] == 2000 - 2; /* <|im_start|> */
                CHECK(has_ctl);
            }
            hearth_free(ids);
            hearth_free(out);
        }
        hearth_tokenizer_free(tk);
    }
    hearth_gguf_free(g);
}

/* Greedy-decodes 16 tokens after a fixed prompt; checks the logits' spread
 * and that the continuation varies. */
static void check_runs(const char *args, const char *file) {
    REQUIRE(gm_run("%s -o %s", args, gm_path(file)) == 0);
    hearth_model *m = NULL;
    hearth_ctx *c = NULL;
    hearth_error err = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 1;
    REQUIRE(hearth_model_open(gm_path(file), &mp, &m, &err) == HEARTH_OK);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 64;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &err) == HEARTH_OK);
    int32_t nv = hearth_model_n_vocab(m);
    int32_t prompt[8] = {55, 71, 68, 3, 200, 17, 90, 255};
    REQUIRE(hearth_ctx_eval(c, 0, prompt, 8, &err) == HEARTH_OK);
    int32_t seen[16];
    int distinct = 0;
    for (int s = 0; s < 16; s++) {
        const float *lg = hearth_ctx_logits(c, -1);
        REQUIRE(lg);
        int32_t best = 0;
        double sum = 0, sum2 = 0;
        for (int32_t i = 0; i < nv; i++) {
            sum += lg[i];
            sum2 += (double)lg[i] * lg[i];
            if (lg[i] > lg[best]) best = i;
        }
        double sd = sqrt(sum2 / nv - (sum / nv) * (sum / nv));
        CHECKF(sd > 0.3 && sd < 10, "%s: step %d: logits std %g", args, s, sd);
        bool fresh = true;
        for (int j = 0; j < s; j++) fresh &= seen[j] != best;
        distinct += fresh;
        seen[s] = best;
        REQUIRE(hearth_ctx_eval(c, 0, &best, 1, &err) == HEARTH_OK);
    }
    CHECKF(distinct >= 8, "%s: only %d distinct greedy tokens in 16", args, distinct);
    hearth_ctx_free(c);
    hearth_model_free(m);
}

int main(void) {
    gm_failures = &test_failures;
    gm_checks = &test_checks;
    test_tokenizer();
    check_runs("--arch llama --preset tiny --type F32", "r1.gguf");
    check_runs("--arch qwen2 --preset tiny --type Q8_0", "r2.gguf");
    check_runs("--arch llama --preset tiny256 --n-layer 4 --type Q4_K_M", "r3.gguf");
    check_runs("--arch qwen2 --preset tiny256 --type Q4_0", "r4.gguf");
    gm_cleanup();
    return test_done();
}
