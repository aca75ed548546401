/*
 * ref_cases.c: the engine against the plain float32 reference forward pass
 * (ref_forward.c) on one generator model per weight-type case (see
 * ref_cases.h); shared by test_reference.c (llama, qwen2) and test_archs.c
 * (qwen3, gemma3, phi3, Llama 3 rope scaling).
 */
#include "ref_cases.h"

#include "genutil.h"
#include "ref_forward.h"
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdlib.h>

/* Each case is one generator model; mixes cover several weight types in
 * one model (attention, attn_v, ffn, ffn_down, embeddings and output each
 * in their own type) so every type the engine runs is checked on both
 * architectures with few models. Tolerances, relative to the largest
 * reference logit: max is the worst logit, rms the root mean square over all
 * logits. The reference uses the same dequantized weights, so what remains
 * is the engine's activation quantization (none for F32/F16/BF16 weights;
 * Q8_0 rows for the 32-element blocks, Q8_K for the K-quants) and summation
 * order. */
const type_case ref_cases[] = {
    {"F32", "--pure --type F32", 1e-4, 1e-5, true},
    {"F16", "--pure --type F16", 1e-4, 1e-5, true},
    {"BF16/F16/F32", "--pure --type BF16 --type-attn F16 --type-ffn-down F32", 1e-4, 1e-5, false},
    {"Q8_0/Q4_0/Q4_1/Q5_0/Q5_1",
     "--pure --type Q8_0 --type-attn Q8_0 --type-attn-v Q4_1 --type-ffn Q5_0 --type-ffn-down Q5_1 "
     "--type-embd Q4_0 --type-output Q4_0",
     8e-2, 1e-2, false},
    {"Q2_K/Q3_K/Q4_K/Q5_K/Q6_K",
     "--pure --type Q4_K --type-attn Q2_K --type-attn-v Q3_K --type-ffn Q4_K --type-ffn-down Q5_K "
     "--type-embd Q6_K --type-output Q6_K",
     8e-2, 1e-2, false},
};

enum { N_PROMPT = 8, N_GREEDY = 32 };

const size_t ref_n_cases = sizeof ref_cases / sizeof ref_cases[0];

int ref_run_case(const char *label, const char *model_args, int n_ctx, double qscale,
                 const type_case *tc) {
    int f0 = test_failures;
    char name[64], args[512];
    snprintf(name, sizeof name, "%s-%d-%d.gguf", label, n_ctx, (int)(tc - ref_cases));
    snprintf(args, sizeof args, "%s --seed 11 %s", model_args, tc->args);
    const char *arch = label;
    const char *path = genmodel(name, args);
    REQUIRE(path);
    ref_model *ref = ref_open(path);
    REQUIRE(ref);
    ref_set_n_ctx(ref, n_ctx);
    hearth_error e = {0};
    hearth_model *m;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 2;
    CHECKF(hearth_model_open(path, &mp, &m, &e) == HEARTH_OK, "%s", e.msg);
    if (!m) return test_failures - f0;
    int32_t nv = hearth_model_n_vocab(m);
    REQUIRE(nv == ref_n_vocab(ref));
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.type_k = cp.type_v = HEARTH_TYPE_F32; /* the reference keeps keys and values in float */
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);

    int32_t toks[N_PROMPT + N_GREEDY];
    uint32_t x = 12345;
    for (int i = 0; i < N_PROMPT; i++) toks[i] = (int32_t)((x = x * 1103515245u + 12345u) >> 8) % nv;
    int8_t all[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) all[i] = 1;
    hearth_batch b = {.n_tokens = N_PROMPT, .tokens = toks, .logits = all};
    CHECKF(hearth_ctx_decode(c, &b, &e) == HEARTH_OK, "%s", e.msg);
    float *rl = ref_forward(ref, toks, N_PROMPT);
    double worst = 0, sq = 0, top = 0;
    for (int i = 0; i < N_PROMPT; i++) {
        const float *el = hearth_ctx_logits(c, i);
        REQUIRE(el);
        double ma, mr;
        logit_diff(el, rl + (size_t)i * nv, (size_t)nv, &ma, &mr);
        if (ma > worst) worst = ma;
        if (mr > top) top = mr;
        for (int32_t j = 0; j < nv; j++) {
            double dd = (double)el[j] - rl[(size_t)i * nv + j];
            sq += dd * dd;
        }
    }
    top = top > 1e-6 ? top : 1e-6;
    double rel_max = worst / top, rel_rms = sqrt(sq / ((double)N_PROMPT * nv)) / top;
    fprintf(stderr, "%-6s %-25s prefill: diff/max|ref|: max %.2e (tol %.0e), rms %.2e (tol %.0e)\n",
            arch, tc->name, rel_max, tc->max_tol, rel_rms, tc->rms_tol);
    double sc = tc->greedy ? 1.0 : qscale; /* quantized cases only */
    CHECKF(rel_max <= tc->max_tol * sc && rel_rms <= tc->rms_tol * sc, "%s %s (tolerance x%g)", arch,
           tc->name, sc);
    free(rl);

    if (tc->greedy) {
        int n = N_PROMPT;
        for (int s = 0; s < N_GREEDY; s++) {
            const float *l = hearth_ctx_logits(c, -1);
            int32_t t = argmax_f(l, nv);
            toks[n++] = t;
            if (s + 1 < N_GREEDY) CHECKF(hearth_ctx_eval(c, 0, &t, 1, &e) == HEARTH_OK, "%s", e.msg);
        }
        float *rg = ref_forward(ref, toks, n);
        int agree = 0;
        for (int s = 0; s < N_GREEDY; s++) {
            int pos = N_PROMPT - 1 + s; /* logits at pos predict token pos+1 */
            if (argmax_f(rg + (size_t)pos * nv, nv) == toks[pos + 1]) agree++;
        }
        fprintf(stderr, "%-6s %-25s greedy: %d/%d steps agree\n", arch, tc->name, agree, N_GREEDY);
        CHECK_EQ_INT(agree, N_GREEDY);
        free(rg);
    }
    hearth_ctx_free(c);
    hearth_model_free(m);
    ref_free(ref);
    return test_failures - f0;
}
