/*
 * test_bert.c: BERT encoders (arch_bert.c) against the float reference
 * (ref_bert.c) on generator models, for the weight types the engine runs:
 * the pooled, normalized embedding of a few texts, tokenized as BERT does
 * ([CLS] text [SEP]), must match within a per-type tolerance (none but
 * rounding for F32; the activation quantization for the others), for mean
 * and CLS pooling, and for a model shaped like all-MiniLM-L6-v2 with the
 * real bert-bge vocabulary. Also: an encoder is one (hearth_model_is_encoder),
 * decoding it is refused with a message that says why, and the embedding's
 * dimension is the model's n_embd.
 */
#include "genutil.h"
#include "ref_bert.h"
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const texts[] = {
    "Hello, world of notes!",
    "the meeting is tomorrow",
    "a",
    "Search my notes about the cat and the dog, and the meeting of tomorrow (3 items).",
};

/* 1 - cosine and max |a - b| of engine vs reference over the texts. */
static void compare(const char *path, double *worst_cos, double *worst_abs) {
    *worst_cos = *worst_abs = 0;
    ref_bert *ref = ref_bert_open(path);
    REQUIRE(ref);
    hearth_error e = {0};
    hearth_model *m = NULL;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 2;
    CHECKF(hearth_model_open(path, &mp, &m, &e) == HEARTH_OK, "%s", e.msg);
    REQUIRE(m);
    CHECK(hearth_model_is_encoder(m));
    int d = hearth_model_n_embd(m);
    REQUIRE(d == ref_bert_n_embd(ref));
    hearth_ctx *c = NULL;
    REQUIRE(hearth_ctx_new(m, NULL, &c, &e) == HEARTH_OK);
    float *a = malloc((size_t)d * sizeof *a), *b = malloc((size_t)d * sizeof *b);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        REQUIRE(hearth_tokenize(hearth_model_tokenizer(m), texts[i], strlen(texts[i]), true, false,
                                &ids, &n, &e) == HEARTH_OK);
        CHECKF(hearth_ctx_embed(c, 0, ids, (int32_t)n, a, &e) == HEARTH_OK, "%s", e.msg);
        ref_bert_embed(ref, ids, (int)n, b);
        double dot = 0, na = 0;
        for (int j = 0; j < d; j++) {
            dot += (double)a[j] * b[j];
            na += (double)a[j] * a[j];
            double df = fabs((double)a[j] - b[j]);
            if (df > *worst_abs) *worst_abs = df;
        }
        CHECKF(fabs(na - 1) < 1e-4, "normalized: |v|^2 = %g", na);
        if (1 - dot > *worst_cos) *worst_cos = 1 - dot;
        hearth_free(ids);
    }
    /* an encoder cannot generate: decode says so */
    int32_t t = 2;
    hearth_batch bt = {.n_tokens = 1, .tokens = &t};
    CHECK(hearth_ctx_decode(c, &bt, &e) == HEARTH_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "embedding model") != NULL);
    free(a);
    free(b);
    hearth_ctx_free(c);
    hearth_model_free(m);
    ref_bert_free(ref);
}

typedef struct {
    const char *args;
    double cos_tol, abs_tol;
} bcase;

int main(void) {
    static const bcase cases[] = {
        {"--preset bert-tiny --type F32", 1e-6, 1e-5},
        {"--preset bert-tiny --type F16", 1e-6, 1e-5},
        {"--preset bert-tiny --type BF16", 1e-6, 1e-5},
        {"--preset bert-tiny --type F32 --pooling cls", 1e-6, 1e-5},
        {"--preset bert-tiny --type Q8_0", 1e-4, 1e-2},
        {"--preset bert-tiny --type Q4_0 --pooling cls", 5e-4, 2e-2},
        {"--preset bert-tiny --type Q5_1", 5e-4, 2e-2},
        {"--preset bert-tiny --type Q4_K", 5e-4, 2e-2}, /* rows of 64: falls back to Q5_0 */
    };
    char name[32], args[600];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(name, sizeof name, "bert-%zu.gguf", i);
        snprintf(args, sizeof args, "--arch bert --seed 5 %s", cases[i].args);
        const char *path = genmodel(name, args);
        REQUIRE(path);
        double wc, wa;
        compare(path, &wc, &wa);
        fprintf(stderr, "%-45s 1-cos %.2e (tol %.0e), max diff %.2e (tol %.0e)\n", cases[i].args,
                wc, cases[i].cos_tol, wa, cases[i].abs_tol);
        CHECKF(wc <= cases[i].cos_tol && wa <= cases[i].abs_tol, "%s", cases[i].args);
    }
    /* all-MiniLM-L6-v2's shape with the real WordPiece vocabulary */
    const char *shared = getenv("HEARTH_SHARED_DIR");
    if (shared) {
        snprintf(args, sizeof args, "--arch bert --preset minilm --type Q8_0 --seed 6 --vocab "
                 "%s/testdata/vocab/ggml-vocab-bert-bge.gguf", shared);
        const char *path = genmodel("minilm.gguf", args);
        REQUIRE(path);
        double wc, wa;
        compare(path, &wc, &wa);
        fprintf(stderr, "minilm Q8_0 (bert-bge vocabulary)               1-cos %.2e, max diff %.2e\n",
                wc, wa);
        CHECK(wc <= 1e-4 && wa <= 1e-2);
    }
    tmpdir_cleanup();
    return test_done();
}
