/*
 * mix.c: which tensor type each weight gets.
 *
 * The rules follow llama.cpp's llama_tensor_get_type (llama-quant.cpp) for
 * the mixes it names, without an importance matrix:
 *  - The output matrix (output.weight, or token_embd.weight when the
 *    embeddings are tied, since then it is the output) gets Q6_K for every
 *    quantized mix except Q8_0 (which keeps Q8_0); Q8_0 when its rows are not
 *    a multiple of 256 (Qwen2.5-0.5B: n_embd 896).
 *  - token_embd.weight of an untied model keeps the base type.
 *  - Q4_K_M / Q5_K_M: attn_v and ffn_down get Q6_K in the layers where
 *    use_more_bits(i, n) holds: the first and last eighth, and every third
 *    layer in between.
 *  - Q4_K_S: attn_v of layers 0-3 and ffn_down of the first n_layer/8 layers
 *    get Q5_K.
 *  - Plain K names (Q2_K, Q3_K, Q4_K, Q5_K) are that type everywhere, output
 *    Q6_K; this is simpler than llama.cpp's Q2_K/Q3_K_* mixes, which bump
 *    attn_v/ffn_down further. Q6_K is Q6_K everywhere.
 *  - Q4_0, Q4_1, Q5_0, Q5_1: that type everywhere, output Q6_K (Q8_0 when
 *    rows are not a multiple of 256), as llama.cpp does.
 *  - F32, F16, BF16: every 2D tensor in that type.
 * Then the --type-* overrides replace the result for their class, and
 * finally a K-quant whose block (256) does not divide the row length falls
 * back as llama.cpp does: Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, and
 * Q2_K/Q3_K->Q4_0 (llama.cpp picks IQ4_NL, which hearth does not run); a
 * 32-block type whose block does not divide the row falls back to F16.
 * general.file_type is llama.cpp's number for the mix; plain Q3_K, Q4_K and
 * Q5_K record the nearest _S mix (11, 14, 16).
 */
#include "genmodel.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const arch_names[GM_ARCH_COUNT] = {
    [GM_ARCH_LLAMA] = "llama",
    [GM_ARCH_QWEN2] = "qwen2",
    [GM_ARCH_QWEN3] = "qwen3",
    [GM_ARCH_GEMMA3] = "gemma3",
    [GM_ARCH_PHI3] = "phi3",
};

const char *gm_arch_name(gm_arch a) {
    return (unsigned)a < GM_ARCH_COUNT ? arch_names[a] : "?";
}

static const gm_mix mixes[] = {
    {"F32", GM_MIX_FLOAT, HEARTH_TYPE_F32, 0},
    {"F16", GM_MIX_FLOAT, HEARTH_TYPE_F16, 1},
    {"BF16", GM_MIX_FLOAT, HEARTH_TYPE_BF16, 32},
    {"Q8_0", GM_MIX_Q8_0, HEARTH_TYPE_Q8_0, 7},
    {"Q4_0", GM_MIX_PLAIN, HEARTH_TYPE_Q4_0, 2},
    {"Q4_1", GM_MIX_PLAIN, HEARTH_TYPE_Q4_1, 3},
    {"Q5_0", GM_MIX_PLAIN, HEARTH_TYPE_Q5_0, 8},
    {"Q5_1", GM_MIX_PLAIN, HEARTH_TYPE_Q5_1, 9},
    {"Q2_K", GM_MIX_PLAIN, HEARTH_TYPE_Q2_K, 10},
    {"Q3_K", GM_MIX_PLAIN, HEARTH_TYPE_Q3_K, 11},
    {"Q4_K", GM_MIX_PLAIN, HEARTH_TYPE_Q4_K, 14},
    {"Q5_K", GM_MIX_PLAIN, HEARTH_TYPE_Q5_K, 16},
    {"Q6_K", GM_MIX_Q6_K, HEARTH_TYPE_Q6_K, 18},
    {"Q4_K_S", GM_MIX_Q4_K_S, HEARTH_TYPE_Q4_K, 14},
    {"Q4_K_M", GM_MIX_Q4_K_M, HEARTH_TYPE_Q4_K, 15},
    {"Q5_K_S", GM_MIX_Q5_K_S, HEARTH_TYPE_Q5_K, 16},
    {"Q5_K_M", GM_MIX_Q5_K_M, HEARTH_TYPE_Q5_K, 17},
};

/* The plain types a tensor can be written in (the first 13 rows above). */
#define N_PLAIN 13

const gm_mix *gm_mix_find(const char *name) {
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++)
        if (!strcasecmp(name, mixes[i].name)) return &mixes[i];
    return NULL;
}

void gm_mix_list(char *buf, size_t len) {
    size_t used = 0;
    if (len) buf[0] = '\0';
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", mixes[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}

bool gm_type_parse(const char *name, hearth_type *out) {
    for (size_t i = 0; i < N_PLAIN; i++) {
        if (!strcasecmp(name, mixes[i].name)) {
            *out = mixes[i].base;
            return true;
        }
    }
    return false;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and
 * every third one in between get the bigger type. */
static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

hearth_type gm_fallback_type(hearth_type t, int64_t ne0) {
    int64_t blk = hearth_type_block_size(t);
    if (blk > 0 && ne0 % blk == 0) return t;
    switch (t) {
    case HEARTH_TYPE_Q4_K: t = HEARTH_TYPE_Q5_0; break;
    case HEARTH_TYPE_Q5_K: t = HEARTH_TYPE_Q5_1; break;
    case HEARTH_TYPE_Q6_K: t = HEARTH_TYPE_Q8_0; break;
    case HEARTH_TYPE_Q2_K:
    case HEARTH_TYPE_Q3_K: t = HEARTH_TYPE_Q4_0; break;
    default: break;
    }
    blk = hearth_type_block_size(t);
    if (blk > 0 && ne0 % blk == 0) return t;
    return HEARTH_TYPE_F16;
}

static hearth_type output_rule(const gm_mix *m, int64_t ne0) {
    if (m->kind == GM_MIX_FLOAT || m->kind == GM_MIX_Q8_0) return m->base;
    return ne0 % 256 ? HEARTH_TYPE_Q8_0 : HEARTH_TYPE_Q6_K;
}

hearth_type gm_pick_type(const gm_config *cfg, gm_tclass c, int64_t il, int64_t ne0,
                         bool *fell_back) {
    const gm_mix *m = cfg->mix;
    hearth_type t = m->base;
    const int *ovr = cfg->override;
    bool is_output = c == GM_T_OUTPUT || (c == GM_T_EMBD && cfg->tied);

    if (!cfg->pure) {
        if (is_output) {
            t = output_rule(m, ne0);
        } else if (c == GM_T_ATTN_V || c == GM_T_FFN_DOWN) {
            if ((m->kind == GM_MIX_Q4_K_M || m->kind == GM_MIX_Q5_K_M) &&
                use_more_bits(il, cfg->n_layer))
                t = HEARTH_TYPE_Q6_K;
            else if (m->kind == GM_MIX_Q4_K_S &&
                     (c == GM_T_ATTN_V ? il < 4 : il < cfg->n_layer / 8))
                t = HEARTH_TYPE_Q5_K;
        }
    }

    int o = -1;
    switch (c) {
    case GM_T_EMBD:
        /* Tied: the matrix is also the output, and the output override wins
         * as in llama.cpp, whose output rule comes first. */
        o = cfg->tied && ovr[GM_OVR_OUTPUT] >= 0 ? ovr[GM_OVR_OUTPUT] : ovr[GM_OVR_EMBD];
        break;
    case GM_T_OUTPUT: o = ovr[GM_OVR_OUTPUT]; break;
    case GM_T_ATTN_V: o = ovr[GM_OVR_ATTN_V] >= 0 ? ovr[GM_OVR_ATTN_V] : ovr[GM_OVR_ATTN]; break;
    case GM_T_ATTN_Q:
    case GM_T_ATTN_K:
    case GM_T_ATTN_OUT: o = ovr[GM_OVR_ATTN]; break;
    case GM_T_FFN_DOWN:
        o = ovr[GM_OVR_FFN_DOWN] >= 0 ? ovr[GM_OVR_FFN_DOWN] : ovr[GM_OVR_FFN];
        break;
    case GM_T_FFN_GATE:
    case GM_T_FFN_UP: o = ovr[GM_OVR_FFN]; break;
    default: break;
    }
    if (o >= 0) t = (hearth_type)o;

    hearth_type f = gm_fallback_type(t, ne0);
    if (fell_back) *fell_back = f != t;
    return f;
}
