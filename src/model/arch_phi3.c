/*
 * arch_phi3.c: what is particular to "phi3" (Phi-3, Phi-3.5, Phi-4-mini)
 * beyond its table row (fused attn_qkv and gate/up tensors, NEOX RoPE over
 * rope.dimension_count dimensions, which Phi-4-mini makes partial):
 *  - LongRoPE: rope_factors_long.weight and rope_factors_short.weight (n_rot/2
 *    frequency divisors each); a context larger than
 *    phi3.rope.scaling.original_context_length uses the long ones, as
 *    llama.cpp chooses; phi3.rope.scaling.attn_factor multiplies cos and sin;
 *  - phi3.attention.sliding_window is ignored: llama.cpp runs every layer
 *    with full attention (its SWA for phi3 is disabled), and so does hearth.
 */
#include "model/model_int.h"

#include "util/error.h"

hearth_status hearth_arch_phi3_load(struct hearth_model *m, hearth_error *err) {
    hearth_hparams *hp = &m->hp;
    int64_t half = hp->n_rot / 2;
    hearth_status st;
    if ((st = hearth_model_get_vec(m, &m->rope_long, "rope_factors_long.weight", -1, half, false, err)) ||
        (st = hearth_model_get_vec(m, &m->rope_short, "rope_factors_short.weight", -1, half, false, err)))
        return st;
    if (!m->rope_long != !m->rope_short)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor '%s' missing (LongRoPE needs both)",
                           m->rope_long ? "rope_factors_short.weight" : "rope_factors_long.weight");
    if ((st = hearth_model_opt_i32(m, "rope.scaling.original_context_length", &hp->n_ctx_orig, 1,
                                   1 << 24, err)))
        return st;
    return hearth_model_opt_f32(m, "rope.scaling.attn_factor", &hp->rope_mscale, err);
}
