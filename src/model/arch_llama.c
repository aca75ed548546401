/*
 * arch_llama.c: what is particular to "llama" (Llama 2/3, SmolLM, TinyLlama,
 * Mistral without sliding window): no attention biases, normal RoPE (the
 * converter permuted Q/K for it), and an optional rope_freqs tensor (Llama
 * 3.x frequency scaling: llama.cpp's converter turns the "llama3" rope type,
 * its low/high frequency factors and original context into this tensor of
 * per-frequency divisors). Everything else is the shared decoder block.
 */
#include "model/model_int.h"

hearth_status hearth_arch_llama_load(struct hearth_model *m, hearth_error *err) {
    int64_t half = m->hp.n_rot / 2;
    return hearth_model_get_vec(m, &m->rope_freqs, "rope_freqs.weight", -1, half, false, err);
}
