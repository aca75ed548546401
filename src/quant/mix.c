/*
 * mix.c: which tensor type each weight gets under a quantization mix.
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
 *  - Q3_K_M: attn_v Q5_K in layers 0-1, else Q4_K; ffn_down Q5_K in the
 *    first n_layer/16 layers, else Q4_K; attn_output Q4_K.
 *  - Q2_K: attn_v Q4_K when n_head/n_head_kv >= 4, else Q3_K; ffn_down and
 *    attn_output Q3_K.
 *  - Plain K names (Q3_K, Q4_K, Q5_K) are that type everywhere, output Q6_K;
 *    Q6_K is Q6_K everywhere.
 *  - Q4_0, Q4_1, Q5_0, Q5_1: that type everywhere, output Q6_K (Q8_0 when
 *    rows are not a multiple of 256), as llama.cpp does.
 *  - F32, F16, BF16: every 2D tensor in that type.
 * Then the overrides replace the result for their class, and finally a
 * K-quant whose block (256) does not divide the row length falls back as
 * llama.cpp does: Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, and Q2_K/Q3_K->Q4_0
 * (llama.cpp picks IQ4_NL, which hearth does not run); a 32-block type whose
 * block does not divide the row falls back to F16.
 * general.file_type is llama.cpp's number for the mix; plain Q3_K, Q4_K and
 * Q5_K record the nearest _S mix (11, 14, 16).
 */
#include "quant/mix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const hearth_qmix mixes[] = {
    {"F32", HEARTH_QMIX_FLOAT, HEARTH_TYPE_F32, 0},
    {"F16", HEARTH_QMIX_FLOAT, HEARTH_TYPE_F16, 1},
    {"BF16", HEARTH_QMIX_FLOAT, HEARTH_TYPE_BF16, 32},
    {"Q8_0", HEARTH_QMIX_Q8_0, HEARTH_TYPE_Q8_0, 7},
    {"Q4_0", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q4_0, 2},
    {"Q4_1", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q4_1, 3},
    {"Q5_0", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q5_0, 8},
    {"Q5_1", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q5_1, 9},
    {"Q2_K", HEARTH_QMIX_Q2_K, HEARTH_TYPE_Q2_K, 10},
    {"Q3_K", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q3_K, 11},
    {"Q4_K", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q4_K, 14},
    {"Q5_K", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q5_K, 16},
    {"Q6_K", HEARTH_QMIX_Q6_K, HEARTH_TYPE_Q6_K, 18},
    {"Q3_K_S", HEARTH_QMIX_PLAIN, HEARTH_TYPE_Q3_K, 11},
    {"Q3_K_M", HEARTH_QMIX_Q3_K_M, HEARTH_TYPE_Q3_K, 12},
    {"Q4_K_S", HEARTH_QMIX_Q4_K_S, HEARTH_TYPE_Q4_K, 14},
    {"Q4_K_M", HEARTH_QMIX_Q4_K_M, HEARTH_TYPE_Q4_K, 15},
    {"Q5_K_S", HEARTH_QMIX_Q5_K_S, HEARTH_TYPE_Q5_K, 16},
    {"Q5_K_M", HEARTH_QMIX_Q5_K_M, HEARTH_TYPE_Q5_K, 17},
};

/* The plain types a tensor can be written in (the first 13 rows above). */
#define N_PLAIN 13

const hearth_qmix *hearth_qmix_find(const char *name) {
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++)
        if (!strcasecmp(name, mixes[i].name)) return &mixes[i];
    return NULL;
}

void hearth_qmix_list(char *buf, size_t len) {
    size_t used = 0;
    if (len) buf[0] = '\0';
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", mixes[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}

bool hearth_qtype_parse(const char *name, hearth_type *out) {
    for (size_t i = 0; i < N_PLAIN; i++) {
        if (!strcasecmp(name, mixes[i].name)) {
            *out = mixes[i].base;
            return true;
        }
    }
    return false;
}

hearth_qrules hearth_qrules_default(const hearth_qmix *mix, int64_t n_layer) {
    hearth_qrules r = {.mix = mix, .n_layer = n_layer, .n_gqa = 1};
    for (int i = 0; i < HEARTH_QOVR_COUNT; i++) r.override[i] = -1;
    return r;
}

/* Names inside a block, after "blk.N.". */
static const struct {
    const char *suffix;
    hearth_qclass c;
} blk_names[] = {
    {"attn_q.weight", HEARTH_QCLASS_ATTN_Q},       {"attn_k.weight", HEARTH_QCLASS_ATTN_K},
    {"attn_v.weight", HEARTH_QCLASS_ATTN_V},       {"attn_output.weight", HEARTH_QCLASS_ATTN_OUT},
    {"ffn_gate.weight", HEARTH_QCLASS_FFN_GATE},   {"ffn_up.weight", HEARTH_QCLASS_FFN_UP},
    {"ffn_down.weight", HEARTH_QCLASS_FFN_DOWN},
};

hearth_qclass hearth_qclass_of(const char *name, int64_t *il) {
    *il = -1;
    if (!strcmp(name, "token_embd.weight")) return HEARTH_QCLASS_EMBD;
    if (!strcmp(name, "output.weight")) return HEARTH_QCLASS_OUTPUT;
    if (strncmp(name, "blk.", 4)) return HEARTH_QCLASS_COUNT;
    const char *p = name + 4;
    int64_t n = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) n = n * 10 + (*p - '0');
    if (!digits || *p != '.') return HEARTH_QCLASS_COUNT;
    p++;
    for (size_t i = 0; i < sizeof blk_names / sizeof blk_names[0]; i++) {
        if (!strcmp(p, blk_names[i].suffix)) {
            *il = n;
            return blk_names[i].c;
        }
    }
    return HEARTH_QCLASS_COUNT;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and
 * every third one in between get the bigger type. */
static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

hearth_type hearth_qtype_fallback(hearth_type t, int64_t ne0) {
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

static hearth_type output_rule(const hearth_qmix *m, int64_t ne0) {
    if (m->kind == HEARTH_QMIX_FLOAT || m->kind == HEARTH_QMIX_Q8_0) return m->base;
    return ne0 % 256 ? HEARTH_TYPE_Q8_0 : HEARTH_TYPE_Q6_K;
}

/* The mix rule for attn_v, ffn_down and attn_output of layer il. */
static hearth_type layer_rule(const hearth_qrules *r, hearth_qclass c, int64_t il, hearth_type t) {
    const hearth_qmix *m = r->mix;
    int64_t n = r->n_layer;
    switch (m->kind) {
    case HEARTH_QMIX_Q4_K_M:
    case HEARTH_QMIX_Q5_K_M:
        if ((c == HEARTH_QCLASS_ATTN_V || c == HEARTH_QCLASS_FFN_DOWN) && use_more_bits(il, n))
            return HEARTH_TYPE_Q6_K;
        return t;
    case HEARTH_QMIX_Q4_K_S:
        if (c == HEARTH_QCLASS_ATTN_V ? il < 4 : c == HEARTH_QCLASS_FFN_DOWN && il < n / 8)
            return HEARTH_TYPE_Q5_K;
        return t;
    case HEARTH_QMIX_Q3_K_M:
        if (c == HEARTH_QCLASS_ATTN_V) return il < 2 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K;
        if (c == HEARTH_QCLASS_FFN_DOWN) return il < n / 16 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K;
        if (c == HEARTH_QCLASS_ATTN_OUT) return HEARTH_TYPE_Q4_K;
        return t;
    case HEARTH_QMIX_Q2_K:
        if (c == HEARTH_QCLASS_ATTN_V) return r->n_gqa >= 4 ? HEARTH_TYPE_Q4_K : HEARTH_TYPE_Q3_K;
        if (c == HEARTH_QCLASS_FFN_DOWN || c == HEARTH_QCLASS_ATTN_OUT) return HEARTH_TYPE_Q3_K;
        return t;
    default: return t;
    }
}

hearth_type hearth_qrules_pick(const hearth_qrules *r, hearth_qclass c, int64_t il, int64_t ne0,
                               bool *fell_back) {
    const hearth_qmix *m = r->mix;
    hearth_type t = m->base;
    const int *ovr = r->override;
    bool is_output = c == HEARTH_QCLASS_OUTPUT || (c == HEARTH_QCLASS_EMBD && r->tied);

    if (!r->pure) {
        if (is_output) t = output_rule(m, ne0);
        else if (c != HEARTH_QCLASS_EMBD) t = layer_rule(r, c, il, t);
    }

    int o = -1;
    switch (c) {
    case HEARTH_QCLASS_EMBD:
        /* Tied: the matrix is also the output, and the output override wins
         * as in llama.cpp, whose output rule comes first. */
        o = r->tied && ovr[HEARTH_QOVR_OUTPUT] >= 0 ? ovr[HEARTH_QOVR_OUTPUT] : ovr[HEARTH_QOVR_EMBD];
        break;
    case HEARTH_QCLASS_OUTPUT: o = ovr[HEARTH_QOVR_OUTPUT]; break;
    case HEARTH_QCLASS_ATTN_V:
        o = ovr[HEARTH_QOVR_ATTN_V] >= 0 ? ovr[HEARTH_QOVR_ATTN_V] : ovr[HEARTH_QOVR_ATTN];
        break;
    case HEARTH_QCLASS_ATTN_Q:
    case HEARTH_QCLASS_ATTN_K:
    case HEARTH_QCLASS_ATTN_OUT: o = ovr[HEARTH_QOVR_ATTN]; break;
    case HEARTH_QCLASS_FFN_DOWN:
        o = ovr[HEARTH_QOVR_FFN_DOWN] >= 0 ? ovr[HEARTH_QOVR_FFN_DOWN] : ovr[HEARTH_QOVR_FFN];
        break;
    case HEARTH_QCLASS_FFN_GATE:
    case HEARTH_QCLASS_FFN_UP: o = ovr[HEARTH_QOVR_FFN]; break;
    default: break;
    }
    if (o >= 0) t = (hearth_type)o;

    hearth_type f = hearth_qtype_fallback(t, ne0);
    if (fell_back) *fell_back = f != t;
    return f;
}
