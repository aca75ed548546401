/*
 * test_archs.c: the engine against the independent float reference
 * (ref_forward.c) for the architectures beyond llama/qwen2, for every weight
 * type case of ref_cases.c, on their tiny generator presets:
 *   qwen3-tiny   QK-norm, head size 128 != n_embd / n_head, NEOX, tied
 *   gemma3-tiny  QK-norm, post-norms, GELU, scaled embeddings, 5 local
 *                layers with a window of 4 (reached by the 8-token prompt
 *                and the 32 greedy steps) and their own RoPE base, one
 *                global layer, final soft-cap
 *   phi3-tiny    fused qkv and gate/up, partial rotary (48 of 64), LongRoPE
 *                short factors (context 64) and long ones (context 256 >
 *                the original 128), attn_factor
 *   llama3-tiny  Llama 3 rope scaling (rope_freqs.weight)
 * The quantized cases of gemma3 (6 layers, post-norms) and phi3 (v rows in
 * the fused Q2_K qkv, with the q/k gain) get 2x the llama/qwen2 tolerances:
 * what differs there is the engine's activation quantization (Q8_0/Q8_K
 * rows), which these shapes amplify more; the float cases agree to ~2e-6
 * on every architecture.
 * Also checks that the Llama 3 file really carries divisors other than 1,
 * so the comparison would catch an engine that ignored them.
 * tests/model/test_archs_scalar.sh runs this again on the scalar kernels.
 */
#include "genutil.h"
#include "ref_cases.h"
#include "test.h"

#include "hearth.h"
#include "kernels/types.h"

static void check_llama3_freqs(void) {
    const char *path = genmodel("l3-freqs.gguf", "--preset llama3-tiny --type F32 --seed 11");
    REQUIRE(path);
    hearth_gguf *g;
    hearth_error e = {0};
    REQUIRE(hearth_gguf_open(path, &g, &e) == HEARTH_OK);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "rope_freqs.weight");
    REQUIRE(t && t->type == HEARTH_TYPE_F32 && t->ne[0] == 32);
    const float *f = t->data;
    int scaled = 0;
    for (int i = 0; i < 32; i++) scaled += f[i] > 1.001f;
    /* high frequencies unchanged, low ones divided by the factor 8 */
    CHECKF(f[0] == 1.0f && f[31] == 8.0f && scaled >= 16, "f[0] %g f[31] %g, %d scaled", f[0], f[31],
           scaled);
    hearth_gguf_free(g);
}

int main(void) {
    static const struct {
        const char *label, *args;
        int n_ctx;
        double qscale;
    } models[] = {
        {"qwen3", "--preset qwen3-tiny", 64, 1.0},
        {"gemma3", "--preset gemma3-tiny", 64, 2.0},
        {"phi3", "--preset phi3-tiny", 64, 2.0},
        {"phi3-long", "--preset phi3-tiny", 256, 2.0},
        {"llama3", "--preset llama3-tiny", 64, 1.0},
    };
    check_llama3_freqs();
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++)
        for (size_t i = 0; i < ref_n_cases; i++)
            ref_run_case(models[m].label, models[m].args, models[m].n_ctx, models[m].qscale,
                         &ref_cases[i]);
    tmpdir_cleanup();
    return test_done();
}
