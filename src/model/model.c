/*
 * model.c: opening a model: the GGUF file, hyper-parameters from metadata
 * (with the format's defaults), the weight tensors checked for shape and
 * type, the architecture's own hook, and the tokenizer. Public accessors.
 *
 * Invariants after a successful open: every hearth_mat has a dot kernel and
 * rows of exactly the expected length; every float vector has its expected
 * length; hyper-parameters are positive and consistent (n_head % n_head_kv
 * == 0, n_rot even and <= head_dim); hp.n_vocab == output.nrows ==
 * tok_embd.nrows is the number of token ids (the tokenizer's count when the
 * file has a tokenizer, which may be fewer than the embedding's rows).
 */
#include "model/encoder.h"
#include "model/model_int.h"
#include "gguf/gguf_int.h"

#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

hearth_status hearth_model_load_tokenizer(hearth_model *m, hearth_error *err);
void hearth_model_free_tokenizer(hearth_model *m);

/* Every vector the model owns is one node of a list, so free is one loop. */
struct hearth_vec_node {
    struct hearth_vec_node *next;
    float data[];
};

static float *own_vec(hearth_model *m, int64_t n) {
    struct hearth_vec_node *nd = hearth_malloc(sizeof *nd + (size_t)n * sizeof(float));
    if (!nd) return NULL;
    nd->next = m->vecs;
    m->vecs = nd;
    return nd->data;
}

hearth_model_params hearth_model_default_params(void) {
    hearth_model_params p = {.n_threads = 0, .use_mmap = true};
    return p;
}

static void fmt_name(char *buf, size_t cap, const char *name, int il) {
    if (il >= 0) snprintf(buf, cap, name, il);
    else snprintf(buf, cap, "%s", name);
}

hearth_status hearth_model_get_mat(hearth_model *m, hearth_mat *out, const char *name, int il,
                                   int64_t n, int64_t nrows, bool required, hearth_error *err) {
    char nm[96];
    fmt_name(nm, sizeof nm, name, il);
    memset(out, 0, sizeof *out);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(m->gguf, nm);
    if (!t) {
        if (!required) return HEARTH_OK;
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor '%s' missing", nm);
    }
    if (t->n_dims > 2 || t->ne[0] != n || t->ne[1] != nrows)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "tensor '%s': shape [%lld, %lld, %lld], expected [%lld, %lld]", nm,
                           (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                           (long long)n, (long long)nrows);
    const hearth_dot_kernel *k = hearth_dot_kernel_get(t->type);
    const hearth_type_traits *tr = hearth_type_traits_get(t->type);
    size_t rs = hearth_type_row_size(t->type, n);
    if (!k || !tr || !tr->to_float || !rs)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "tensor '%s': type %s not supported for matrices",
                           nm, hearth_type_name(t->type) ? hearth_type_name(t->type) : "?");
    if (t->nbytes / rs < (size_t)nrows)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor '%s': %zu bytes < %lld rows of %zu", nm,
                           t->nbytes, (long long)nrows, rs);
    out->data = t->data;
    out->type = t->type;
    out->n = n;
    out->nrows = nrows;
    out->row_size = rs;
    out->k = k;
    return HEARTH_OK;
}

hearth_status hearth_model_get_vec(hearth_model *m, float **out, const char *name, int il,
                                   int64_t n, bool required, hearth_error *err) {
    char nm[96];
    fmt_name(nm, sizeof nm, name, il);
    *out = NULL;
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(m->gguf, nm);
    if (!t) {
        if (!required) return HEARTH_OK;
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor '%s' missing", nm);
    }
    int64_t total = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (t->ne[0] != n || total != n)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor '%s': %lld elements, expected %lld", nm,
                           (long long)total, (long long)n);
    const hearth_type_traits *tr = hearth_type_traits_get(t->type);
    if (!tr || !tr->to_float || n % tr->blck_size)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "tensor '%s': type %s not supported", nm,
                           hearth_type_name(t->type) ? hearth_type_name(t->type) : "?");
    float *v = own_vec(m, n);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor '%s': out of memory", nm);
    tr->to_float(t->data, v, n);
    *out = v;
    return HEARTH_OK;
}

/* ---- hyper-parameters ------------------------------------------------------ */

/* Reads integer key "<arch>.<suffix>" into *out. Absent: *out = def when
 * !required, else an error naming the key. Must lie in [lo, hi]. */
static hearth_status get_i(hearth_model *m, const char *suffix, int32_t *out, bool required,
                           int32_t def, int64_t lo, int64_t hi, hearth_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->ai->name, suffix);
    int64_t v;
    hearth_status st = hearth_gguf_get_int(m->gguf, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) {
        if (required) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' missing", key);
        *out = def;
        return HEARTH_OK;
    }
    if (st) return st;
    if (v < lo || v > hi)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' = %lld, outside [%lld, %lld]",
                           key, (long long)v, (long long)lo, (long long)hi);
    *out = (int32_t)v;
    return HEARTH_OK;
}

static hearth_status get_f(hearth_model *m, const char *suffix, float *out, bool required,
                           float def, hearth_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->ai->name, suffix);
    double v;
    hearth_status st = hearth_gguf_get_float(m->gguf, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) {
        if (required) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' missing", key);
        *out = def;
        return HEARTH_OK;
    }
    if (st) return st;
    if (!(v > 0) || v > 1e30)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' = %g, must be positive", key, v);
    *out = (float)v;
    return HEARTH_OK;
}

static hearth_status load_hparams(hearth_model *m, hearth_error *err) {
    hearth_hparams *hp = &m->hp;
    hearth_status st;
    if ((st = get_i(m, "context_length", &hp->n_ctx_train, true, 0, 1, 1 << 24, err)) ||
        (st = get_i(m, "embedding_length", &hp->n_embd, true, 0, 1, 1 << 16, err)) ||
        (st = get_i(m, "block_count", &hp->n_layer, true, 0, 1, 1024, err)) ||
        (st = get_i(m, "feed_forward_length", &hp->n_ff, true, 0, 1, 1 << 20, err)) ||
        (st = get_i(m, "attention.head_count", &hp->n_head, true, 0, 1, 4096, err)) ||
        (st = get_i(m, "attention.head_count_kv", &hp->n_head_kv, false, hp->n_head, 1, 4096, err)))
        return st;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.head_count_kv", m->ai->name);
    if (hp->n_head % hp->n_head_kv)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' = %d does not divide head_count %d",
                           key, hp->n_head_kv, hp->n_head);
    int32_t def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    int32_t vlen;
    if ((st = get_i(m, "attention.key_length", &hp->head_dim, def_hd == 0, def_hd, 1, 1 << 14, err)) ||
        (st = get_i(m, "attention.value_length", &vlen, false, hp->head_dim, 1, 1 << 14, err)))
        return st;
    if (vlen != hp->head_dim)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "metadata key '%s.attention.value_length' = %d differs from key_length %d",
                           m->ai->name, vlen, hp->head_dim);
    if ((st = get_i(m, "rope.dimension_count", &hp->n_rot, false, hp->head_dim, 2, hp->head_dim, err)))
        return st;
    if (hp->n_rot % 2)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s.rope.dimension_count' = %d is odd",
                           m->ai->name, hp->n_rot);
    if ((st = get_f(m, "rope.freq_base", &hp->rope_freq_base, false, 10000.0f, err)) ||
        (st = get_f(m, "attention.layer_norm_rms_epsilon", &hp->rms_eps, true, 0, err)))
        return st;
    hp->rope_freq_scale = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->ai->name);
    const char *stype = NULL;
    st = hearth_gguf_get_str(m->gguf, key, &stype, NULL, err);
    if (st && st != HEARTH_E_NOTFOUND) return st;
    hearth_error_clear(err);
    /* "longrope" (Phi-3) is the rope_factors_long/short tensors the arch
     * hook reads; Llama 3.x's scaling is the rope_freqs tensor (its
     * converter writes no type). Others (yarn, ...) are refused by name. */
    if (stype && strcmp(stype, "none") && strcmp(stype, "linear") && strcmp(stype, "longrope"))
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "metadata key '%s' = '%s': rope scaling type '%s' not supported "
                           "(supported: none, linear, longrope; Llama 3.x scaling comes as "
                           "the rope_freqs tensor)",
                           key, stype, stype);
    if (stype && !strcmp(stype, "linear")) {
        float factor;
        if ((st = get_f(m, "rope.scaling.factor", &factor, true, 1.0f, err))) return st;
        hp->rope_freq_scale = 1.0f / factor;
    }
    hp->rope_type = m->ai->rope_type;
    hp->act = m->ai->act;
    hp->embd_scale = m->ai->embd_scale ? sqrtf((float)hp->n_embd) : 1.0f;
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    hp->final_softcap = 0.0f;
    hp->rope_mscale = 1.0f;
    hp->n_rope_sets = 1;
    hp->rope_base[0] = hp->rope_base[1] = hp->rope_freq_base;
    hp->rope_scale[0] = hp->rope_scale[1] = hp->rope_freq_scale;
    hp->n_ctx_orig = hp->n_ctx_train;
    return HEARTH_OK;
}

hearth_status hearth_model_opt_f32(hearth_model *m, const char *suffix, float *out,
                                   hearth_error *err) {
    return get_f(m, suffix, out, false, *out, err);
}

hearth_status hearth_model_opt_i32(hearth_model *m, const char *suffix, int32_t *out, int64_t lo,
                                   int64_t hi, hearth_error *err) {
    return get_i(m, suffix, out, false, *out, lo, hi, err);
}

/* ---- tensors ----------------------------------------------------------------- */

static uint64_t mat_bytes(const hearth_mat *w) { return (uint64_t)w->row_size * (uint64_t)w->nrows; }

/* Rows [r0, r0 + nr) of a loaded matrix, as a matrix of its own. */
static hearth_mat mat_rows(const hearth_mat *w, int64_t r0, int64_t nr) {
    hearth_mat v = *w;
    v.data = (const uint8_t *)w->data + (size_t)r0 * w->row_size;
    v.nrows = nr;
    return v;
}

typedef struct {
    char s[96];
} layer_name;

static layer_name fmt_layer(const char *fmt, int il) {
    layer_name n;
    fmt_name(n.s, sizeof n.s, fmt, il);
    return n;
}

static hearth_status load_tensors(hearth_model *m, hearth_error *err) {
    hearth_hparams *hp = &m->hp;
    const hearth_gguf_tensor *te = hearth_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'token_embd.weight' missing");
    if (te->ne[1] < 1 || te->ne[1] > (1 << 24))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'token_embd.weight': %lld rows",
                           (long long)te->ne[1]);
    hp->n_vocab = (int32_t)te->ne[1];
    int32_t vs;
    hearth_status st;
    if ((st = get_i(m, "vocab_size", &vs, false, hp->n_vocab, 1, 1 << 24, err))) return st;
    if (vs != hp->n_vocab)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s.vocab_size' = %d, but token_embd has %d rows",
                           m->ai->name, vs, hp->n_vocab);
    int64_t d = hp->n_embd, q_dim = (int64_t)hp->n_head * hp->head_dim,
            kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, ff = hp->n_ff;
    if ((st = hearth_model_get_mat(m, &m->tok_embd, "token_embd.weight", -1, d, hp->n_vocab, true, err)) ||
        (st = hearth_model_get_vec(m, &m->output_norm, "output_norm.weight", -1, d, true, err)) ||
        (st = hearth_model_get_mat(m, &m->output, "output.weight", -1, d, hp->n_vocab, false, err)))
        return st;
    if (!m->output.data) m->output = m->tok_embd; /* tied */
    m->layers = hearth_calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "model: out of memory for layers");
    uint64_t wb = mat_bytes(&m->output);
    const hearth_arch_info *ai = m->ai;
    int64_t hd = hp->head_dim;
    for (int il = 0; il < hp->n_layer; il++) {
        hearth_layer *L = &m->layers[il];
        hearth_mat fused = {0};
        if (ai->fused_qkv &&
            (st = hearth_model_get_mat(m, &fused, "blk.%d.attn_qkv.weight", il, d,
                                       q_dim + 2 * kv_dim, false, err)))
            return st;
        if (fused.data) { /* rows: q, then k, then v */
            L->wq = mat_rows(&fused, 0, q_dim);
            L->wk = mat_rows(&fused, q_dim, kv_dim);
            L->wv = mat_rows(&fused, q_dim + kv_dim, kv_dim);
        } else if ((st = hearth_model_get_mat(m, &L->wq, "blk.%d.attn_q.weight", il, d, q_dim, true, err)) ||
                   (st = hearth_model_get_mat(m, &L->wk, "blk.%d.attn_k.weight", il, d, kv_dim, true, err)) ||
                   (st = hearth_model_get_mat(m, &L->wv, "blk.%d.attn_v.weight", il, d, kv_dim, true, err))) {
            return st;
        }
        bool fused_ffn = ai->fused_gate_up &&
                         !hearth_gguf_find_tensor(m->gguf, fmt_layer("blk.%d.ffn_gate.weight", il).s);
        if (fused_ffn) { /* rows: gate, then up */
            if ((st = hearth_model_get_mat(m, &fused, "blk.%d.ffn_up.weight", il, d, 2 * ff, true, err)))
                return st;
            L->w_gate = mat_rows(&fused, 0, ff);
            L->w_up = mat_rows(&fused, ff, ff);
        } else if ((st = hearth_model_get_mat(m, &L->w_gate, "blk.%d.ffn_gate.weight", il, d, ff, true, err)) ||
                   (st = hearth_model_get_mat(m, &L->w_up, "blk.%d.ffn_up.weight", il, d, ff, true, err))) {
            return st;
        }
        if ((st = hearth_model_get_vec(m, &L->attn_norm, "blk.%d.attn_norm.weight", il, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->wo, "blk.%d.attn_output.weight", il, q_dim, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bq, "blk.%d.attn_q.bias", il, q_dim, ai->qkv_bias, err)) ||
            (st = hearth_model_get_vec(m, &L->bk, "blk.%d.attn_k.bias", il, kv_dim, ai->qkv_bias, err)) ||
            (st = hearth_model_get_vec(m, &L->bv, "blk.%d.attn_v.bias", il, kv_dim, ai->qkv_bias, err)) ||
            (st = hearth_model_get_vec(m, &L->ffn_norm, "blk.%d.ffn_norm.weight", il, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->w_down, "blk.%d.ffn_down.weight", il, ff, d, true, err)))
            return st;
        if (ai->qk_norm &&
            ((st = hearth_model_get_vec(m, &L->q_norm, "blk.%d.attn_q_norm.weight", il, hd, true, err)) ||
             (st = hearth_model_get_vec(m, &L->k_norm, "blk.%d.attn_k_norm.weight", il, hd, true, err))))
            return st;
        if (ai->post_norms &&
            ((st = hearth_model_get_vec(m, &L->post_attn_norm, "blk.%d.post_attention_norm.weight", il, d,
                                        true, err)) ||
             (st = hearth_model_get_vec(m, &L->post_ffn_norm, "blk.%d.post_ffw_norm.weight", il, d, true,
                                        err))))
            return st;
        wb += mat_bytes(&L->wq) + mat_bytes(&L->wk) + mat_bytes(&L->wv) + mat_bytes(&L->wo) +
              mat_bytes(&L->w_gate) + mat_bytes(&L->w_up) + mat_bytes(&L->w_down);
    }
    m->weight_bytes = wb;
    return HEARTH_OK;
}

/* Converters pad the embedding of some models past the tokenizer's last
 * token (Qwen2.5: 151936 rows, 151665 tokens); the pad rows are no token, so
 * nothing may produce or consume them. Narrowing the output to the
 * tokenizer's rows makes the logits exactly one per token: no sampler, no
 * caller of hearth_ctx_logits and no perplexity can see a pad row, and the
 * pad rows cost no work. Decode then also refuses pad ids as input. The
 * opposite (fewer rows than tokens) was refused when the tokenizer loaded. */
static void narrow_vocab(hearth_model *m) {
    int32_t nt = m->tok ? hearth_tokenizer_n_vocab(m->tok) : m->hp.n_vocab;
    if (nt >= m->hp.n_vocab) return;
    m->weight_bytes -= (uint64_t)m->output.row_size * (uint64_t)(m->hp.n_vocab - nt);
    m->hp.n_vocab = nt;
    m->output.nrows = nt;
    m->tok_embd.nrows = nt;
}

#ifdef __EMSCRIPTEN__
/* The browser build (web/): F16 and BF16 weight matrices are widened to F32
 * once at open when all of them fit HEARTH_WASM_WIDEN_MAX bytes as floats.
 * WebAssembly has no half-precision conversion instruction, so the SIMD128
 * F16 kernel spends more on widening than on multiplying (4.8 against 11
 * GMAC/s for F32 in node); a small model's weights sit in the cache either
 * way, so twice the bytes cost little there, while a large one keeps its
 * F16 (bandwidth wins). The widening is exact and the wasm F32 kernel adds
 * in the order of the F16 one, so the logits do not change. The floats are
 * the model's own vectors (freed with it); the file's copy stays. */
enum { HEARTH_WASM_WIDEN_MAX = 256 << 20 };

static bool widens(const hearth_mat *w) {
    return w->data && (w->type == HEARTH_TYPE_F16 || w->type == HEARTH_TYPE_BF16);
}

/* counted: whether w is part of weight_bytes (the output matrix and the
 * layers' are, an untied embedding is not: a step reads one row of it) */
static bool widen_mat(hearth_model *m, hearth_mat *w, bool counted) {
    if (!widens(w)) return true;
    const hearth_type_traits *tr = hearth_type_traits_get(w->type);
    const hearth_dot_kernel *k = hearth_dot_kernel_get(HEARTH_TYPE_F32);
    float *f = k ? own_vec(m, w->n * w->nrows) : NULL;
    if (!f) return false;
    for (int64_t r = 0; r < w->nrows; r++)
        tr->to_float((const uint8_t *)w->data + (size_t)r * w->row_size, f + r * w->n, w->n);
    if (counted)
        m->weight_bytes += (uint64_t)w->nrows * ((uint64_t)w->n * sizeof(float) - w->row_size);
    w->data = f;
    w->type = HEARTH_TYPE_F32;
    w->row_size = (size_t)w->n * sizeof(float);
    w->k = k;
    return true;
}

/* The layer's matrices, in order. */
static hearth_mat *layer_mat(hearth_layer *L, int i) {
    hearth_mat *lm[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    return lm[i];
}

/* Widens what fits (see above). Out of memory: the matrices not yet widened
 * stay F16 (still correct), so it never fails. */
static void widen_f16(hearth_model *m) {
    if (m->ai->encoder) return;
    bool tied = m->output.data == m->tok_embd.data;
    uint64_t bytes = 0;
    hearth_mat *top[2] = {&m->tok_embd, tied ? NULL : &m->output};
    for (int i = 0; i < 2; i++)
        if (top[i] && widens(top[i])) bytes += (uint64_t)top[i]->n * (uint64_t)top[i]->nrows * 4;
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int i = 0; i < 7; i++) {
            hearth_mat *w = layer_mat(&m->layers[il], i);
            if (widens(w)) bytes += (uint64_t)w->n * (uint64_t)w->nrows * 4;
        }
    if (bytes == 0 || bytes > HEARTH_WASM_WIDEN_MAX) return;
    bool ok = widen_mat(m, &m->tok_embd, tied);
    if (tied) m->output = m->tok_embd;
    else ok = ok && widen_mat(m, &m->output, true);
    for (int il = 0; ok && il < m->hp.n_layer; il++)
        for (int i = 0; ok && i < 7; i++) ok = widen_mat(m, layer_mat(&m->layers[il], i), true);
}
#endif

/* ---- open / free --------------------------------------------------------------- */

/* An optional string key: *out NULL when absent; an error naming the key
 * when it is not a string or holds a NUL byte. */
static hearth_status get_opt_str(hearth_model *m, const char *key, const char **out,
                                 hearth_error *err) {
    *out = NULL;
    hearth_status st = hearth_gguf_get_str(m->gguf, key, out, NULL, err);
    if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    return st;
}

static hearth_status read_whole_file(const char *path, void **out, size_t *len, hearth_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || sb.st_size < 0) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = hearth_malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "%s: cannot hold %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            close(fd);
            hearth_free(buf);
            return HEARTH_FAIL(err, HEARTH_E_IO, "%s: read failed at %zu", path, got);
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return HEARTH_OK;
}

static void load_eog(hearth_model *m) {
    /* Fallback until the tokenizer decides: the file's eos/eot ids. */
    static const char *const keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t v;
        if (!hearth_gguf_get_int(m->gguf, keys[i], &v, NULL) && v >= 0 && v < m->hp.n_vocab)
            m->eog_ids[m->n_eog++] = (int32_t)v;
    }
}

hearth_status hearth_model_open(const char *path, const hearth_model_params *p, hearth_model **out,
                                hearth_error *err) {
    *out = NULL;
    hearth_model_params dp = hearth_model_default_params();
    if (!p) p = &dp;
    if (!path) return HEARTH_FAIL(err, HEARTH_E_ARG, "model path is NULL");
    if (p->n_threads < 0 || p->n_threads > 1024)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "n_threads %d outside [0, 1024]", p->n_threads);
    hearth_model *m = hearth_calloc(1, sizeof *m);
    if (!m) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "model: out of memory");
    hearth_status st;
    m->path = hearth_strdup(path);
    if (!m->path) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "model: out of memory");
        goto fail;
    }
    if (p->use_mmap) {
        st = hearth_gguf_open(path, &m->gguf, err);
    } else {
        size_t len = 0;
        st = read_whole_file(path, &m->file_buf, &len, err);
        if (!st) st = hearth_gguf_open_buffer(m->file_buf, len, &m->gguf, err);
    }
    if (st) goto fail;
    const char *arch = NULL;
    if ((st = hearth_gguf_get_str(m->gguf, "general.architecture", &arch, NULL, err))) {
        if (st == HEARTH_E_NOTFOUND)
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key 'general.architecture' missing");
        goto fail;
    }
    if (!hearth_arch_find(arch, &m->arch)) {
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                         "metadata key 'general.architecture' = '%s' (supported: %s)", arch,
                         hearth_arch_list());
        goto fail;
    }
    m->ai = hearth_arch_get(m->arch);
    /* Optional, but when present they must be proper strings: a mistyped
     * or NUL-cut template silently dropped would change every prompt. */
    if ((st = get_opt_str(m, "general.name", &m->name, err)) ||
        (st = get_opt_str(m, "tokenizer.chat_template", &m->chat_template, err)))
        goto fail;
    if (!m->name) m->name = "";
    if (m->ai->encoder) {
        if ((st = m->ai->load(m, err))) goto fail;
    } else if ((st = load_hparams(m, err)) || (st = load_tensors(m, err)) ||
               (m->ai->load && (st = m->ai->load(m, err)))) {
        goto fail;
    }
    load_eog(m);
    if ((st = hearth_model_load_tokenizer(m, err))) goto fail;
    narrow_vocab(m);
#ifdef __EMSCRIPTEN__
    widen_f16(m);
#endif
    m->n_threads = p->n_threads > 0 ? p->n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (m->n_threads < 1) m->n_threads = 1;
#ifdef MADV_POPULATE_READ
    /* A hint: on an older kernel (EINVAL) the pages fault in as they are
     * first read, as without it. */
    if (p->use_mmap && p->prefault && m->gguf->map)
        (void)madvise(m->gguf->map, m->gguf->map_len, MADV_POPULATE_READ);
#endif
    *out = m;
    return HEARTH_OK;
fail:
    /* the file's own errors (gguf_open.c) name it already: never twice */
    if (err && strncmp(err->msg, path, strlen(path)) != 0) hearth_error_prefix(err, "%s", path);
    hearth_model_free(m);
    return st;
}

void hearth_model_free(hearth_model *m) {
    if (!m) return;
    hearth_model_free_tokenizer(m);
    while (m->vecs) {
        struct hearth_vec_node *n = m->vecs->next;
        hearth_free(m->vecs);
        m->vecs = n;
    }
    hearth_free(m->layers);
    hearth_bert_free(m->bert);
    hearth_gguf_free(m->gguf);
    hearth_free(m->file_buf);
    hearth_free(m->path);
    hearth_free(m);
}

/* ---- accessors ------------------------------------------------------------------- */

const char *hearth_model_arch(const hearth_model *m) { return m->ai->name; }
const char *hearth_model_name(const hearth_model *m) { return m->name; }
const char *hearth_model_path(const hearth_model *m) { return m->path; }
uint64_t hearth_model_file_size(const hearth_model *m) { return hearth_gguf_file_size(m->gguf); }
int32_t hearth_model_n_ctx_train(const hearth_model *m) { return m->hp.n_ctx_train; }
int32_t hearth_model_n_embd(const hearth_model *m) { return m->hp.n_embd; }
int32_t hearth_model_n_layer(const hearth_model *m) { return m->hp.n_layer; }
int32_t hearth_model_n_vocab(const hearth_model *m) { return m->hp.n_vocab; }
uint64_t hearth_model_weight_bytes(const hearth_model *m) { return m->weight_bytes; }
const char *hearth_model_chat_template(const hearth_model *m) { return m->chat_template; }
