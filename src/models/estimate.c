/*
 * estimate.c: model descriptions (from a GGUF header or from a shape and a
 * quantization mix) and the cost model of estimate.h.
 *
 * What a decode step reads: every matrix of every layer once, and the
 * output matrix (token_embd when tied; narrowed to the tokenizer's tokens
 * as model.c narrows it); of an untied token_embd only one row, which is
 * not counted. Norms and biases are a few KB and are not counted either,
 * which is what hearth_model_weight_bytes counts, so `hearth bench`'s
 * roofline and this estimate divide the same bytes.
 */
#include "models/estimate.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const file_types[] = {
    [0] = "F32",     [1] = "F16",     [2] = "Q4_0",    [3] = "Q4_1",    [7] = "Q8_0",
    [8] = "Q5_0",    [9] = "Q5_1",    [10] = "Q2_K",   [11] = "Q3_K_S", [12] = "Q3_K_M",
    [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M",
    [18] = "Q6_K",   [32] = "BF16",
};

const char *hearth_file_type_name(uint32_t ft) {
    return ft < sizeof file_types / sizeof file_types[0] ? file_types[ft] : NULL;
}

/* ---- from a file -------------------------------------------------------- */

static bool get_i32(const hearth_gguf *g, const char *arch, const char *suffix, int32_t *out) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v;
    if (hearth_gguf_get_int(g, key, &v, NULL) || v < 0 || v > (1 << 30)) return false;
    *out = (int32_t)v;
    return true;
}

static void add_read(hearth_model_desc *d, const hearth_gguf_tensor *t, int64_t rows) {
    if ((unsigned)t->type >= HEARTH_TYPE_COUNT) return;
    uint64_t row = hearth_type_row_size(t->type, t->ne[0]);
    d->read_bytes[t->type] += row * (uint64_t)rows;
    d->read_elems[t->type] += (uint64_t)t->ne[0] * (uint64_t)rows;
    d->read_rows[t->type] += (uint64_t)rows;
}

hearth_status hearth_model_desc_from_file(const char *path, hearth_model_desc *d, hearth_error *err) {
    memset(d, 0, sizeof *d);
    hearth_gguf *g;
    hearth_status st = hearth_gguf_open(path, &g, err);
    if (st) return st;
    const char *arch = NULL;
    hearth_shape *s = &d->shape;
    /* the decoder architectures the engine runs (model/arch.c); the bytes
     * read per token come from the tensors themselves, so fused or extra
     * per-layer tensors count as they are */
    if (hearth_gguf_get_str(g, "general.architecture", &arch, NULL, NULL) ||
        (strcmp(arch, "llama") && strcmp(arch, "qwen2") && strcmp(arch, "qwen3") &&
         strcmp(arch, "gemma3") && strcmp(arch, "phi3"))) {
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                         "%s: architecture '%s' is not llama, qwen2, qwen3, gemma3 or phi3", path,
                         arch ? arch : "(none)");
        goto out;
    }
    snprintf(s->arch, sizeof s->arch, "%s", arch);
    s->n_head_kv = -1;
    if (!get_i32(g, arch, "block_count", &s->n_layer) || !get_i32(g, arch, "embedding_length", &s->n_embd) ||
        !get_i32(g, arch, "feed_forward_length", &s->n_ff) ||
        !get_i32(g, arch, "attention.head_count", &s->n_head) || s->n_head < 1) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: missing %s shape keys", path, arch);
        goto out;
    }
    if (!get_i32(g, arch, "attention.head_count_kv", &s->n_head_kv)) s->n_head_kv = s->n_head;
    const hearth_gguf_tensor *emb = hearth_gguf_find_tensor(g, "token_embd.weight");
    const hearth_gguf_tensor *outw = hearth_gguf_find_tensor(g, "output.weight");
    if (!emb || emb->n_dims != 2) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: no 2-D token_embd.weight", path);
        goto out;
    }
    s->n_vocab = (int32_t)emb->ne[1];
    s->tied = outw == NULL;
    s->qkv_bias = hearth_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    /* rows of the output the model scores: the tokenizer's tokens (model.c) */
    int64_t out_rows = s->n_vocab;
    hearth_gguf_value v;
    if (!hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &v, NULL, NULL) && v.n > 0 &&
        v.n < (uint64_t)out_rows)
        out_rows = (int64_t)v.n;
    uint32_t ft;
    const char *ftn = NULL;
    if (!hearth_gguf_get_u32(g, "general.file_type", &ft, NULL)) ftn = hearth_file_type_name(ft);
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        int64_t nel = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        d->n_params += nel;
        if (t->n_dims < 2) continue;
        if (t == emb) {
            if (s->tied) add_read(d, t, out_rows);
        } else if (t == outw) {
            add_read(d, t, out_rows);
        } else if (!strncmp(t->name, "blk.", 4)) {
            add_read(d, t, t->ne[1]);
        }
    }
    d->file_bytes = hearth_gguf_file_size(g);
    if (!ftn) { /* the type with the most bytes read */
        int best = 0;
        for (int t = 0; t < HEARTH_TYPE_COUNT; t++)
            if (d->read_bytes[t] > d->read_bytes[best]) best = t;
        ftn = hearth_type_name(best);
    }
    snprintf(d->quant, sizeof d->quant, "%s", ftn ? ftn : "?");
out:
    hearth_gguf_free(g);
    return st;
}

/* ---- from a shape and a mix -------------------------------------------- */

typedef enum { MIX_FLOAT, MIX_Q8_0, MIX_PLAIN, MIX_Q6_K, MIX_Q4_K_S, MIX_Q4_K_M, MIX_Q5_K_S, MIX_Q5_K_M } mix_kind;

typedef struct {
    const char *name;
    mix_kind kind;
    hearth_type base;
} mix_row;

static const mix_row mixes[] = {
    {"F32", MIX_FLOAT, HEARTH_TYPE_F32},       {"F16", MIX_FLOAT, HEARTH_TYPE_F16},
    {"BF16", MIX_FLOAT, HEARTH_TYPE_BF16},     {"Q8_0", MIX_Q8_0, HEARTH_TYPE_Q8_0},
    {"Q4_0", MIX_PLAIN, HEARTH_TYPE_Q4_0},     {"Q4_1", MIX_PLAIN, HEARTH_TYPE_Q4_1},
    {"Q5_0", MIX_PLAIN, HEARTH_TYPE_Q5_0},     {"Q5_1", MIX_PLAIN, HEARTH_TYPE_Q5_1},
    {"Q2_K", MIX_PLAIN, HEARTH_TYPE_Q2_K},     {"Q3_K", MIX_PLAIN, HEARTH_TYPE_Q3_K},
    {"Q4_K", MIX_PLAIN, HEARTH_TYPE_Q4_K},     {"Q5_K", MIX_PLAIN, HEARTH_TYPE_Q5_K},
    {"Q6_K", MIX_Q6_K, HEARTH_TYPE_Q6_K},      {"Q4_K_S", MIX_Q4_K_S, HEARTH_TYPE_Q4_K},
    {"Q4_K_M", MIX_Q4_K_M, HEARTH_TYPE_Q4_K},  {"Q5_K_S", MIX_Q5_K_S, HEARTH_TYPE_Q5_K},
    {"Q5_K_M", MIX_Q5_K_M, HEARTH_TYPE_Q5_K},
};

static hearth_type fallback(hearth_type t, int64_t ne0) {
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
    return blk > 0 && ne0 % blk == 0 ? t : HEARTH_TYPE_F16;
}

static bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

typedef enum { C_OUTPUT, C_EMBD, C_Q, C_K, C_V, C_O, C_GATE, C_UP, C_DOWN } tclass;

static hearth_type pick(const mix_row *m, tclass c, bool tied, int64_t il, int64_t n_layer, int64_t ne0) {
    hearth_type t = m->base;
    if (c == C_OUTPUT || (c == C_EMBD && tied)) {
        if (m->kind != MIX_FLOAT && m->kind != MIX_Q8_0) t = ne0 % 256 ? HEARTH_TYPE_Q8_0 : HEARTH_TYPE_Q6_K;
    } else if (c == C_V || c == C_DOWN) {
        if ((m->kind == MIX_Q4_K_M || m->kind == MIX_Q5_K_M) && use_more_bits(il, n_layer))
            t = HEARTH_TYPE_Q6_K;
        else if (m->kind == MIX_Q4_K_S && (c == C_V ? il < 4 : il < n_layer / 8))
            t = HEARTH_TYPE_Q5_K;
    }
    return fallback(t, ne0);
}

/* Adds a (ne0 x rows) matrix of class c; read: a decode step streams it. */
static void add_mat(hearth_model_desc *d, const mix_row *m, tclass c, int64_t il, int64_t ne0,
                    int64_t rows, bool read) {
    hearth_type t = pick(m, c, d->shape.tied, il, d->shape.n_layer, ne0);
    uint64_t bytes = (uint64_t)hearth_type_row_size(t, ne0) * (uint64_t)rows;
    d->n_params += ne0 * rows;
    d->file_bytes += (bytes + 31) & ~(uint64_t)31; /* GGUF's default alignment */
    if (read) {
        d->read_bytes[t] += bytes;
        d->read_elems[t] += (uint64_t)(ne0 * rows);
        d->read_rows[t] += (uint64_t)rows;
    }
}

static void add_vec(hearth_model_desc *d, int64_t n) {
    d->n_params += n;
    d->file_bytes += ((uint64_t)n * 4 + 31) & ~(uint64_t)31;
}

hearth_status hearth_model_desc_from_shape(const hearth_shape *s, const char *mix, hearth_model_desc *d,
                                           hearth_error *err) {
    memset(d, 0, sizeof *d);
    const mix_row *m = NULL;
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++)
        if (mix && !strcasecmp(mix, mixes[i].name)) m = &mixes[i];
    if (!m) return HEARTH_FAIL(err, HEARTH_E_ARG, "unknown quantization '%s'", mix ? mix : "(null)");
    if (s->n_layer < 1 || s->n_embd < 1 || s->n_ff < 1 || s->n_head < 1 || s->n_head_kv < 1 ||
        s->n_vocab < 1 || s->n_embd % s->n_head || s->n_head % s->n_head_kv || s->n_layer > 1024 ||
        s->n_embd > (1 << 20) || s->n_ff > (1 << 22) || s->n_vocab > (1 << 24))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "bad shape (layers %d, embd %d, ff %d, heads %d/%d, vocab %d)",
                           s->n_layer, s->n_embd, s->n_ff, s->n_head, s->n_head_kv, s->n_vocab);
    d->shape = *s;
    snprintf(d->quant, sizeof d->quant, "%s", m->name);
    int64_t e = s->n_embd, kv = (int64_t)s->n_embd / s->n_head * s->n_head_kv, ff = s->n_ff;
    d->file_bytes = 4u << 20; /* header: metadata and vocabulary, a few MB for 150k tokens */
    add_mat(d, m, C_EMBD, 0, e, s->n_vocab, s->tied);
    if (!s->tied) add_mat(d, m, C_OUTPUT, 0, e, s->n_vocab, true);
    add_vec(d, e); /* output_norm */
    for (int64_t il = 0; il < s->n_layer; il++) {
        add_vec(d, e);
        add_vec(d, e);
        add_mat(d, m, C_Q, il, e, e, true);
        add_mat(d, m, C_K, il, e, kv, true);
        add_mat(d, m, C_V, il, e, kv, true);
        add_mat(d, m, C_O, il, e, e, true);
        if (s->qkv_bias) {
            add_vec(d, e);
            add_vec(d, kv);
            add_vec(d, kv);
        }
        add_mat(d, m, C_GATE, il, e, ff, true);
        add_mat(d, m, C_UP, il, e, ff, true);
        add_mat(d, m, C_DOWN, il, ff, e, true);
    }
    return HEARTH_OK;
}

/* ---- the cost model ------------------------------------------------------ */

double hearth_kv_elem_bytes(hearth_type type_k, hearth_type type_v) {
    return (double)(hearth_type_row_size(type_k, 32) + hearth_type_row_size(type_v, 32)) / 32.0;
}

hearth_estimate hearth_estimate_model(const hearth_model_desc *d, const hearth_device *dev, int32_t n_ctx,
                                      int32_t n_pos, int32_t n_prompt, double kv_elem_bytes) {
    hearth_estimate e = {.runnable = true};
    const hearth_shape *s = &d->shape;
    double head_dim = (double)s->n_embd / (s->n_head > 0 ? s->n_head : 1);
    double kv_dim = head_dim * s->n_head_kv;
    double weights_s = 0, prompt_s = 0;
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        if (!d->read_bytes[t]) continue;
        const hearth_device_type *r = &dev->types[t];
        if (!r->measured || r->gemv_gbps <= 0 || r->gemm_gflops <= 0) {
            e.runnable = false;
            continue;
        }
        weights_s += (double)d->read_bytes[t] / (r->gemv_gbps * 1e9) + (double)d->read_rows[t] * r->row_ns * 1e-9;
        prompt_s += 2.0 * (double)d->read_elems[t] * n_prompt / (r->gemm_gflops * 1e9);
    }
    double bw = dev->bandwidth_gbps > 0 ? dev->bandwidth_gbps * 1e9 : 1e9;
    /* KV cache (K and V, kv_elem_bytes per element pair) read at position n_pos */
    double kv_read = kv_elem_bytes * s->n_layer * (double)n_pos * kv_dim;
    e.decode_ms = (weights_s + kv_read / bw) * 1e3;
    e.tokens_per_s = e.decode_ms > 0 ? 1e3 / e.decode_ms : 0;
    /* attention of the prompt: QK^T and AV, n_prompt^2/2 positions per head;
     * F32 dot products at about the F32 gemm rate */
    double f32 = dev->types[HEARTH_TYPE_F32].gemm_gflops > 0 ? dev->types[HEARTH_TYPE_F32].gemm_gflops : 1;
    double attn_flops = 2.0 * 2.0 * s->n_layer * s->n_head * head_dim * (double)n_prompt * n_prompt / 2.0;
    e.prompt_ms = (prompt_s + attn_flops / (f32 * 1e9)) * 1e3;
    e.kv_bytes = (uint64_t)(kv_elem_bytes * s->n_layer * (double)n_ctx * kv_dim);
    /* compute buffers: a 512-token batch of activations (hidden, norm, q,
     * k, v, attention out, gate, up: F32) plus quantized copies, the logits
     * of one token, per-thread attention scores over the context; and the
     * runtime itself (code, tokenizer tables) */
    double batch = 512;
    double act = batch * (4.0 * s->n_embd + 2.0 * kv_dim + 2.0 * s->n_ff) * 4.0 * 1.25;
    double scores = (double)n_ctx * s->n_head * 4.0 * 2;
    double logits = (double)s->n_vocab * 4.0;
    uint64_t runtime = 24u << 20;
    e.ram_bytes = d->file_bytes + e.kv_bytes + (uint64_t)(act + scores + logits) + runtime;
    return e;
}
