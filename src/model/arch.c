/*
 * arch.c: the architecture table, indexed by hearth_arch. Adding an
 * architecture is an enum value (model_int.h), a row here and its
 * arch_<name>.c; shared code never tests which architecture it runs: the
 * row's data says which optional parts of the block the loader requires
 * and which choices the forward pass makes (hearth_hparams), and its hook
 * reads whatever data cannot say.
 */
#include "model/model_int.h"

#include <string.h>

hearth_status hearth_arch_llama_load(struct hearth_model *m, hearth_error *err);
hearth_status hearth_arch_gemma3_load(struct hearth_model *m, hearth_error *err);
hearth_status hearth_arch_phi3_load(struct hearth_model *m, hearth_error *err);
hearth_status hearth_arch_bert_load(struct hearth_model *m, hearth_error *err);

static const hearth_arch_info archs[HEARTH_ARCH_COUNT] = {
    /* Llama 2/3.x, SmolLM, TinyLlama: the plain block; Llama 3.x rope
     * scaling arrives as the rope_freqs tensor */
    [HEARTH_ARCH_LLAMA] = {.name = "llama", .rope_type = HEARTH_ROPE_NORMAL,
                           .act = HEARTH_ACT_SILU, .load = hearth_arch_llama_load},
    /* Qwen2, Qwen2.5: biases on q, k and v */
    [HEARTH_ARCH_QWEN2] = {.name = "qwen2", .rope_type = HEARTH_ROPE_NEOX,
                           .act = HEARTH_ACT_SILU, .qkv_bias = true},
    /* Qwen3 (dense): RMSNorm on each q and k head, no biases */
    [HEARTH_ARCH_QWEN3] = {.name = "qwen3", .rope_type = HEARTH_ROPE_NEOX,
                           .act = HEARTH_ACT_SILU, .qk_norm = true},
    /* Gemma 3 (text): QK-norm, post-norms, GELU, scaled embeddings; the
     * hook sets the sliding-window layers and their RoPE base */
    [HEARTH_ARCH_GEMMA3] = {.name = "gemma3", .rope_type = HEARTH_ROPE_NEOX,
                            .act = HEARTH_ACT_GELU_TANH, .qk_norm = true,
                            .post_norms = true, .embd_scale = true,
                            .load = hearth_arch_gemma3_load},
    /* Phi-3, Phi-3.5, Phi-4-mini: fused qkv and gate/up; the hook reads
     * LongRoPE */
    [HEARTH_ARCH_PHI3] = {.name = "phi3", .rope_type = HEARTH_ROPE_NEOX,
                          .act = HEARTH_ACT_SILU, .fused_qkv = true, .fused_gate_up = true,
                          .load = hearth_arch_phi3_load},
    /* BERT (embedding models): an encoder of its own (arch_bert.c) */
    [HEARTH_ARCH_BERT] = {.name = "bert", .load = hearth_arch_bert_load, .encoder = true},
};

const hearth_arch_info *hearth_arch_get(hearth_arch arch) {
    if ((int)arch < 0 || arch >= HEARTH_ARCH_COUNT) return NULL;
    return &archs[arch];
}

bool hearth_arch_find(const char *name, hearth_arch *out) {
    for (int i = 0; i < HEARTH_ARCH_COUNT; i++) {
        if (!strcmp(archs[i].name, name)) {
            *out = (hearth_arch)i;
            return true;
        }
    }
    return false;
}

const char *hearth_arch_list(void) { return "llama, qwen2, qwen3, gemma3, phi3, bert"; }
