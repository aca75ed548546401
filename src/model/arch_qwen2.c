/*
 * arch_qwen2.c: what is particular to "qwen2" (Qwen2, Qwen2.5): biases on
 * the Q, K and V projections are required (the shared loader reads them when
 * present), and RoPE is NEOX-style (table row).
 */
#include "model/model_int.h"

#include "util/error.h"

hearth_status hearth_arch_qwen2_load(struct hearth_model *m, hearth_error *err) {
    for (int il = 0; il < m->hp.n_layer; il++) {
        const hearth_layer *L = &m->layers[il];
        const char *missing = !L->bq ? "attn_q" : !L->bk ? "attn_k" : !L->bv ? "attn_v" : NULL;
        if (missing)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'blk.%d.%s.bias' missing (qwen2 needs it)",
                               il, missing);
    }
    return HEARTH_OK;
}
