/*
 * model.c: lays out a random-weight model (llama, qwen2, qwen3, gemma3,
 * phi3) and writes it as GGUF.
 *
 * Names, shapes and metadata keys are llama.cpp's, so llama.cpp can load the
 * files. Shapes are in GGUF order, ne[0] = row length (the input dimension):
 *   token_embd.weight       [n_embd, n_vocab]
 *   blk.N.attn_norm.weight  [n_embd]
 *   blk.N.attn_q.weight     [n_embd, n_embd]        .bias [n_embd]   (qkv bias)
 *   blk.N.attn_k.weight     [n_embd, kv_dim]        .bias [kv_dim]   (qkv bias)
 *   blk.N.attn_v.weight     [n_embd, kv_dim]        .bias [kv_dim]   (qkv bias)
 *   blk.N.attn_output.weight[n_embd, n_embd]
 *   blk.N.ffn_norm.weight   [n_embd]
 *   blk.N.ffn_gate.weight   [n_embd, n_ff]
 *   blk.N.ffn_up.weight     [n_embd, n_ff]
 *   blk.N.ffn_down.weight   [n_ff, n_embd]
 *   output_norm.weight      [n_embd]
 *   output.weight           [n_embd, n_vocab]       (untied only)
 * with kv_dim = n_head_kv * (n_embd / n_head). With --pad-vocab P the
 * token_embd and output rows are n_vocab + P (the tokenizer keeps n_vocab
 * tokens), the last P of them pad rows as GM_PAD_GAIN describes.
 *
 * Values (before quantization), chosen so activations keep unit scale
 * through any depth and the logits are spread (std ~1) rather than flat:
 *   matrices (and the embedding): mean 0, std 1/sqrt(ne[0]) (fan-in),
 *     except attn_q and attn_k: GM_QK_GAIN times that;
 *   norm weights: mean 1, std GM_NORM_STD; biases: mean 0, std GM_BIAS_STD.
 * Why the q/k gain: with unit-scale q and k, attention scores have std ~1,
 * so every head averages the whole context; the hidden state then hardly
 * depends on the latest token and greedy decoding settles on repeating one
 * token within a few steps. With scores of std ~GM_QK_GAIN^2 = 4 attention is
 * selective and greedy continuations stay varied (checked with hearth's
 * engine on llama and qwen2, tied and untied, 2 to 12 layers), which is what
 * engine tests comparing greedy tokens against a reference need.
 * Norm weights and biases are F32; matrices take the type mix.c picks.
 *
 * Every tensor is quantized into its own buffer, all are handed to the GGUF
 * writer, which borrows them until the file is written: the peak memory is
 * one copy of the model in its final types, plus a row buffer per thread.
 */
#include "genmodel.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
    char name[64];
    gm_tclass cls; /* GM_T_COUNT for 1D tensors */
    int64_t il;
    uint32_t n_dims;
    int64_t ne[2];
    hearth_type type;
    bool fell_back;
    float mean, std;
    int64_t n_hot; /* trailing pad rows (token_embd, output) */
    void *data;
    size_t nbytes;
    const float *fixed; /* F32 values to write instead of random ones, or NULL */
} tensor;

typedef struct {
    tensor *t;
    int64_t n, cap;
} tensor_list;

static hearth_status add(tensor_list *l, const gm_config *cfg, const char *name, gm_tclass cls,
                         int64_t il, int64_t ne0, int64_t ne1, hearth_error *err) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 64;
        tensor *t = hearth_realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor list");
        l->t = t;
        l->cap = cap;
    }
    tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->cls = cls;
    t->il = il;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    if (cls == GM_T_COUNT) {
        bool is_norm = strstr(name, "norm") != NULL;
        /* QK-norm weights carry the q/k gain (the norm undoes the
         * matrices' own) */
        bool qk_norm = strstr(name, "attn_q_norm") || strstr(name, "attn_k_norm");
        t->n_dims = 1;
        t->type = HEARTH_TYPE_F32;
        t->mean = qk_norm ? GM_QK_GAIN : is_norm ? 1.0f : 0.0f;
        t->std = qk_norm ? GM_QK_GAIN * GM_NORM_STD : is_norm ? GM_NORM_STD : GM_BIAS_STD;
    } else {
        t->n_dims = 2;
        t->type = gm_pick_type(cfg, cls, il, ne0, &t->fell_back);
        t->mean = 0.0f;
        t->std = (float)(1.0 / sqrt((double)ne0));
        if (cls == GM_T_ATTN_Q || cls == GM_T_ATTN_K) t->std *= GM_QK_GAIN;
        if (strstr(name, "attn_qkv")) t->std *= GM_QK_GAIN; /* fused: v rows too */
    }
    return HEARTH_OK;
}

/* Per-frequency RoPE divisors of Llama 3.x's scaling (Meta's reference
 * formula, as llama.cpp's converter writes rope_freqs.weight): high
 * frequencies unchanged, low ones divided by the factor, a smooth blend in
 * between. */
static void llama3_factors(const gm_config *cfg, int64_t n_rot, float *out) {
    double lo_wl = cfg->l3_orig_ctx / cfg->l3_low, hi_wl = cfg->l3_orig_ctx / cfg->l3_high;
    for (int64_t i = 0; i < n_rot / 2; i++) {
        double freq = pow(cfg->rope_theta, -2.0 * (double)i / (double)n_rot);
        double wl = 6.283185307179586 / freq;
        if (wl < hi_wl) out[i] = 1.0f;
        else if (wl > lo_wl) out[i] = cfg->l3_factor;
        else {
            double sm = (cfg->l3_orig_ctx / wl - cfg->l3_low) / (cfg->l3_high - cfg->l3_low);
            out[i] = (float)(1.0 / ((1.0 - sm) / cfg->l3_factor + sm));
        }
    }
}

/* LongRoPE factors shaped like Phi-3's: short ones near 1, long ones
 * growing with the wavelength. */
static void longrope_factors(int64_t half, bool is_long, float *out) {
    for (int64_t i = 0; i < half; i++) {
        double x = (double)i / (double)(half > 1 ? half - 1 : 1);
        out[i] = (float)(is_long ? 1.0 + 15.0 * x * x : 1.0 + 0.5 * x);
    }
}

/* The fixed (non-random) 1-D tensors: rope divisors. Owned by the caller. */
typedef struct {
    float *l3, *lr_long, *lr_short;
} fixed_vals;

/* n_vocab: the tokenizer's tokens; token_embd and output get cfg->pad_vocab
 * pad rows more. Per architecture (llama.cpp's names):
 *   llama   as above, plus rope_freqs.weight [n_rot/2] with Llama 3 scaling
 *   qwen2   as above with q/k/v biases
 *   qwen3   attn_q [n_embd, q_dim], attn_q_norm/attn_k_norm [head_dim]
 *   gemma3  as qwen3, plus post_attention_norm and post_ffw_norm [n_embd]
 *   phi3    attn_qkv [n_embd, q_dim + 2 kv_dim], ffn_up [n_embd, 2 n_ff]
 *           (gate rows then up rows), no ffn_gate; rope_factors_long/short
 *           [n_rot/2] with LongRoPE
 * with q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim. */
static hearth_status layout(const gm_config *cfg, int64_t n_vocab, const fixed_vals *fx,
                            tensor_list *l, hearth_error *err) {
    int64_t rows = n_vocab + cfg->pad_vocab;
    int64_t E = cfg->n_embd, hd = cfg->head_dim, Q = cfg->n_head * hd, kv = cfg->n_head_kv * hd,
            F = cfg->n_ff;
    bool qk_norm = cfg->arch == GM_ARCH_QWEN3 || cfg->arch == GM_ARCH_GEMMA3;
    bool post = cfg->arch == GM_ARCH_GEMMA3, fused = cfg->arch == GM_ARCH_PHI3;
    hearth_status st;
    char nm[64];
#define ADD(cls, il, ne0, ne1)                                                 \
    do {                                                                       \
        if ((st = add(l, cfg, nm, cls, il, ne0, ne1, err))) return st;         \
    } while (0)
#define BLK(suffix, cls, ne0, ne1)                                             \
    do {                                                                       \
        snprintf(nm, sizeof nm, "blk.%lld." suffix, (long long)il);            \
        ADD(cls, il, ne0, ne1);                                                \
    } while (0)
#define FIXED(name_, vals, cnt)                                                \
    do {                                                                       \
        snprintf(nm, sizeof nm, name_);                                        \
        ADD(GM_T_COUNT, 0, cnt, 1);                                            \
        l->t[l->n - 1].fixed = vals;                                           \
    } while (0)
    snprintf(nm, sizeof nm, "token_embd.weight");
    ADD(GM_T_EMBD, 0, E, rows);
    l->t[l->n - 1].n_hot = cfg->pad_vocab;
    if (fx->l3) FIXED("rope_freqs.weight", fx->l3, cfg->n_rot / 2);
    if (fx->lr_long) {
        FIXED("rope_factors_long.weight", fx->lr_long, cfg->n_rot / 2);
        FIXED("rope_factors_short.weight", fx->lr_short, cfg->n_rot / 2);
    }
    for (int64_t il = 0; il < cfg->n_layer; il++) {
        BLK("attn_norm.weight", GM_T_COUNT, E, 1);
        if (fused) {
            BLK("attn_qkv.weight", GM_T_ATTN_Q, E, Q + 2 * kv);
        } else {
            BLK("attn_q.weight", GM_T_ATTN_Q, E, Q);
            if (cfg->qkv_bias) BLK("attn_q.bias", GM_T_COUNT, Q, 1);
            BLK("attn_k.weight", GM_T_ATTN_K, E, kv);
            if (cfg->qkv_bias) BLK("attn_k.bias", GM_T_COUNT, kv, 1);
            BLK("attn_v.weight", GM_T_ATTN_V, E, kv);
            if (cfg->qkv_bias) BLK("attn_v.bias", GM_T_COUNT, kv, 1);
        }
        if (qk_norm) {
            BLK("attn_q_norm.weight", GM_T_COUNT, hd, 1);
            BLK("attn_k_norm.weight", GM_T_COUNT, hd, 1);
        }
        BLK("attn_output.weight", GM_T_ATTN_OUT, Q, E);
        if (post) BLK("post_attention_norm.weight", GM_T_COUNT, E, 1);
        BLK("ffn_norm.weight", GM_T_COUNT, E, 1);
        if (fused) {
            BLK("ffn_up.weight", GM_T_FFN_UP, E, 2 * F);
        } else {
            BLK("ffn_gate.weight", GM_T_FFN_GATE, E, F);
            BLK("ffn_up.weight", GM_T_FFN_UP, E, F);
        }
        BLK("ffn_down.weight", GM_T_FFN_DOWN, F, E);
        if (post) BLK("post_ffw_norm.weight", GM_T_COUNT, E, 1);
    }
    snprintf(nm, sizeof nm, "output_norm.weight");
    ADD(GM_T_COUNT, 0, E, 1);
    if (!cfg->tied) {
        snprintf(nm, sizeof nm, "output.weight");
        ADD(GM_T_OUTPUT, 0, E, rows);
        l->t[l->n - 1].n_hot = cfg->pad_vocab;
    }
#undef FIXED
#undef BLK
#undef ADD
    return HEARTH_OK;
}

/* Limits keep every count inside the u32 metadata fields and every product
 * far from overflow. */
static hearth_status validate(const gm_config *cfg, hearth_error *err) {
    struct {
        const char *flag;
        int64_t v, max;
    } dims[] = {
        {"--n-embd", cfg->n_embd, 1 << 20},  {"--n-layer", cfg->n_layer, 4096},
        {"--n-head", cfg->n_head, 4096},     {"--n-head-kv", cfg->n_head_kv, 4096},
        {"--n-ff", cfg->n_ff, 1 << 22},      {"--n-ctx", cfg->n_ctx, 1 << 24},
        {"--n-vocab", cfg->n_vocab, 1 << 24},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        if (cfg->vocab_path && !strcmp(dims[i].flag, "--n-vocab")) continue;
        if (dims[i].v < 1 || dims[i].v > dims[i].max)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "%s %lld: must be in [1, %lld]", dims[i].flag,
                               (long long)dims[i].v, (long long)dims[i].max);
    }
    if (cfg->pad_vocab < 0 || cfg->pad_vocab > (1 << 20))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--pad-vocab %lld: must be in [0, %d]",
                           (long long)cfg->pad_vocab, 1 << 20);
    if (cfg->head_dim < 2 || cfg->head_dim > (1 << 14) || cfg->head_dim % 2)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "head size %lld must be even, in [2, 16384] "
                           "(--head-dim, or --n-embd a multiple of --n-head)",
                           (long long)cfg->head_dim);
    if (cfg->n_rot < 2 || cfg->n_rot > cfg->head_dim || cfg->n_rot % 2)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--n-rot %lld must be even, in [2, head size %lld]",
                           (long long)cfg->n_rot, (long long)cfg->head_dim);
    if (cfg->arch == GM_ARCH_GEMMA3 && cfg->n_swa < 1)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gemma3 needs --n-swa >= 1");
    if (cfg->rope_llama3 && !(cfg->l3_factor >= 1 && cfg->l3_low > 0 && cfg->l3_high > cfg->l3_low &&
                              cfg->l3_orig_ctx > 0))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--rope-llama3: factor >= 1, 0 < low < high, orig > 0");
    if (cfg->n_head % cfg->n_head_kv)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--n-head %lld is not a multiple of --n-head-kv %lld",
                           (long long)cfg->n_head, (long long)cfg->n_head_kv);
    if (!(cfg->rope_theta > 0) || !(cfg->rms_eps > 0))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--rope-theta and --rms-eps must be positive");
    return HEARTH_OK;
}

static hearth_status write_meta(const gm_config *cfg, int64_t n_vocab, hearth_gguf_writer *w,
                                hearth_error *err) {
    const char *a = gm_arch_name(cfg->arch);
    char k[96];
    hearth_status st;
#define U32(key, v)                                                               \
    do {                                                                          \
        snprintf(k, sizeof k, "%s." key, a);                                      \
        if ((st = hearth_gguf_writer_set_u32(w, k, (uint32_t)(v), err))) return st; \
    } while (0)
#define F32(key, v)                                                               \
    do {                                                                          \
        snprintf(k, sizeof k, "%s." key, a);                                      \
        if ((st = hearth_gguf_writer_set_f32(w, k, (v), err))) return st;         \
    } while (0)
    if ((st = hearth_gguf_writer_set_str(w, "general.architecture", a, err)) ||
        (st = hearth_gguf_writer_set_str(w, "general.name", cfg->name, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "general.alignment", 32, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "general.file_type", cfg->mix->ftype, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "general.quantization_version", 2, err)))
        return st;
    U32("context_length", cfg->n_ctx);
    U32("embedding_length", cfg->n_embd);
    U32("block_count", cfg->n_layer);
    U32("feed_forward_length", cfg->n_ff);
    U32("attention.head_count", cfg->n_head);
    U32("attention.head_count_kv", cfg->n_head_kv);
    F32("rope.freq_base", cfg->rope_theta);
    U32("rope.dimension_count", cfg->n_rot);
    F32("attention.layer_norm_rms_epsilon", cfg->rms_eps);
    /* llama.cpp's converter writes the head size when the config has one
     * (qwen3, gemma3 always; others when it is not n_embd / n_head) */
    if (cfg->arch == GM_ARCH_QWEN3 || cfg->arch == GM_ARCH_GEMMA3 ||
        cfg->head_dim != cfg->n_embd / cfg->n_head || cfg->n_embd % cfg->n_head) {
        U32("attention.key_length", cfg->head_dim);
        U32("attention.value_length", cfg->head_dim);
    }
    if (cfg->n_swa > 0) U32("attention.sliding_window", cfg->n_swa);
    if (cfg->softcap > 0) F32("final_logit_softcapping", cfg->softcap);
    if (cfg->longrope) {
        /* Phi-3's converter: attn_factor = sqrt(1 + ln(scale) / ln(orig)) */
        double scale = (double)cfg->n_ctx / (double)cfg->lr_orig_ctx;
        U32("rope.scaling.original_context_length", cfg->lr_orig_ctx);
        F32("rope.scaling.attn_factor",
            scale > 1 ? (float)sqrt(1.0 + log(scale) / log((double)cfg->lr_orig_ctx)) : 1.0f);
    }
    U32("vocab_size", n_vocab + cfg->pad_vocab); /* as llama.cpp: the embedding's rows */
#undef U32
#undef F32
    return HEARTH_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void summary(const gm_config *cfg, const tensor_list *l, int64_t n_vocab, double secs) {
    int64_t count[HEARTH_TYPE_COUNT] = {0}, params = 0, fallbacks = 0;
    size_t bytes = 0;
    for (int64_t i = 0; i < l->n; i++) {
        count[l->t[i].type]++;
        params += l->t[i].ne[0] * l->t[i].ne[1];
        bytes += l->t[i].nbytes;
        fallbacks += l->t[i].fell_back;
    }
    fprintf(stderr, "hearth-genmodel: %s: %s, n_embd %lld, %lld layers, vocab %lld",
            cfg->out_path, gm_arch_name(cfg->arch), (long long)cfg->n_embd,
            (long long)cfg->n_layer, (long long)n_vocab);
    if (cfg->pad_vocab) fprintf(stderr, " (+%lld pad rows)", (long long)cfg->pad_vocab);
    fprintf(stderr, ", %s%s\n", cfg->mix->name, cfg->pure ? " (pure)" : "");
    fprintf(stderr, "  %lld tensors, %.3f M parameters, %.1f MiB of tensor data, types:",
            (long long)l->n, (double)params / 1e6, (double)bytes / (1024.0 * 1024.0));
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++)
        if (count[t]) fprintf(stderr, " %s x%lld", hearth_type_name(t), (long long)count[t]);
    fprintf(stderr, "\n");
    if (fallbacks)
        fprintf(stderr, "  %lld tensors fell back from a K-quant (rows not a multiple of 256)\n",
                (long long)fallbacks);
    fprintf(stderr, "  %.2f s\n", secs);
}

hearth_status gm_model_write(const gm_config *cfg, hearth_error *err) {
    double t0 = now_s();
    hearth_status st = validate(cfg, err);
    if (st) return st;
    gm_vocab *v = NULL;
    hearth_gguf_writer *w = NULL;
    tensor_list l = {0};
    fixed_vals fx = {0};
    if ((st = gm_vocab_new(cfg, &v, err))) return st;
    int64_t n_vocab = gm_vocab_n(v);
    if (cfg->vocab_path && cfg->n_vocab > 0 && cfg->n_vocab != n_vocab) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "--n-vocab %lld, but %s has %lld tokens",
                         (long long)cfg->n_vocab, cfg->vocab_path, (long long)n_vocab);
        goto done;
    }
    if (n_vocab + cfg->pad_vocab > (1 << 24)) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "%lld tokens + --pad-vocab %lld: more than %d rows",
                         (long long)n_vocab, (long long)cfg->pad_vocab, 1 << 24);
        goto done;
    }
    if (!(w = hearth_gguf_writer_new())) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "GGUF writer");
        goto done;
    }
    int64_t half = cfg->n_rot / 2;
    if (cfg->rope_llama3 && !(fx.l3 = hearth_malloc((size_t)half * sizeof(float)))) goto nomem;
    if (cfg->longrope && (!(fx.lr_long = hearth_malloc((size_t)half * sizeof(float))) ||
                          !(fx.lr_short = hearth_malloc((size_t)half * sizeof(float)))))
        goto nomem;
    if (fx.l3) llama3_factors(cfg, cfg->n_rot, fx.l3);
    if (fx.lr_long) {
        longrope_factors(half, true, fx.lr_long);
        longrope_factors(half, false, fx.lr_short);
    }
    if ((st = write_meta(cfg, n_vocab, w, err)) || (st = gm_vocab_write(v, w, err)) ||
        (st = layout(cfg, n_vocab, &fx, &l, err)))
        goto done;
    for (int64_t i = 0; i < l.n; i++) {
        tensor *t = &l.t[i];
        size_t row = hearth_type_row_size(t->type, t->ne[0]);
        if (!row || __builtin_mul_overflow(row, (size_t)t->ne[1], &t->nbytes)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "tensor '%s': size of %lld x %lld %s", t->name,
                             (long long)t->ne[0], (long long)t->ne[1], hearth_type_name(t->type));
            goto done;
        }
        if (!(t->data = hearth_malloc(t->nbytes))) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor '%s': %zu bytes", t->name, t->nbytes);
            goto done;
        }
        gm_fill f = {.name = t->name, .type = t->type, .ne0 = t->ne[0], .nrows = t->ne[1],
                     .mean = t->mean, .std = t->std, .n_hot = t->n_hot, .seed = cfg->seed,
                     .n_threads = cfg->n_threads};
        if (t->fixed) memcpy(t->data, t->fixed, t->nbytes);
        else if ((st = gm_fill_tensor(&f, t->data, err))) goto done;
        if (
            (st = hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                                t->nbytes, err)))
            goto done;
    }
    if ((st = hearth_gguf_writer_write_file(w, cfg->out_path, err))) goto done;
    if (!cfg->quiet) summary(cfg, &l, n_vocab, now_s() - t0);
    goto done;
nomem:
    st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "rope factors");
done:
    hearth_free(fx.l3);
    hearth_free(fx.lr_long);
    hearth_free(fx.lr_short);
    hearth_gguf_writer_free(w);
    for (int64_t i = 0; i < l.n; i++) hearth_free(l.t[i].data);
    hearth_free(l.t);
    gm_vocab_free(v);
    return st;
}
