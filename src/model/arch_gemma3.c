/*
 * arch_gemma3.c: what is particular to "gemma3" (Gemma 3 text models, 1B
 * and up) beyond its table row (QK-norm, post-norms, GELU, embeddings scaled
 * by sqrt(n_embd)):
 *  - five of every six layers are local: they attend to the last
 *    gemma3.attention.sliding_window positions and rotate with RoPE base
 *    10000 and no scaling; every sixth layer (il % 6 == 5) is global, with
 *    the file's rope.freq_base and scaling (as llama.cpp runs it; the file
 *    does not store the pattern nor the local base);
 *  - attention scores are scaled by 1/sqrt(head_dim), except the 27B
 *    (62 layers), whose query_pre_attn_scalar is n_embd / n_head;
 *  - gemma3.final_logit_softcapping when present (Gemma 2 style).
 * The norms' (1 + weight) of the Hugging Face model is folded into the
 * weights by the GGUF converter, so the norms are plain RMSNorm here.
 */
#include "model/model_int.h"

#include "util/error.h"

#include <math.h>

enum { GEMMA3_SWA_PERIOD = 6 };

hearth_status hearth_arch_gemma3_load(struct hearth_model *m, hearth_error *err) {
    hearth_hparams *hp = &m->hp;
    int32_t n_swa = 0;
    hearth_status st = hearth_model_opt_i32(m, "attention.sliding_window", &n_swa, 1, 1 << 24, err);
    if (st) return st;
    if (n_swa == 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key 'gemma3.attention.sliding_window' missing");
    hp->n_rope_sets = 2;
    hp->rope_base[1] = 10000.0f;
    hp->rope_scale[1] = 1.0f;
    for (int il = 0; il < hp->n_layer; il++) {
        bool local = il % GEMMA3_SWA_PERIOD < GEMMA3_SWA_PERIOD - 1;
        m->layers[il].n_swa = local ? n_swa : 0;
        m->layers[il].rope_set = local ? 1 : 0;
    }
    if (hp->n_layer == 62) hp->attn_scale = 1.0f / sqrtf((float)hp->n_embd / (float)hp->n_head);
    return hearth_model_opt_f32(m, "final_logit_softcapping", &hp->final_softcap, err);
}
