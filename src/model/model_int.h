/*
 * model_int.h: the loaded model as the forward pass sees it (private to
 * src/model and src/engine).
 *
 * Weight matrices point into the GGUF mapping in the file's own layout (no
 * copy); only the small per-layer vectors (norm weights, biases) are
 * dequantized into owned float arrays at load time. Architectures are an enum
 * plus one table (arch.c); each row's hook in arch_<name>.c reads what is
 * particular to that architecture.
 */
#ifndef HEARTH_MODEL_INT_H
#define HEARTH_MODEL_INT_H

#include "hearth.h"
#include "kernels/dot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HEARTH_ARCH_LLAMA,
    HEARTH_ARCH_QWEN2,
    HEARTH_ARCH_QWEN3,
    HEARTH_ARCH_GEMMA3,
    HEARTH_ARCH_PHI3,
    HEARTH_ARCH_BERT,
    HEARTH_ARCH_COUNT
} hearth_arch;

/* How RoPE pairs dimensions: NORMAL rotates (2i, 2i+1) (llama, whose GGUF
 * converter permutes Q/K rows for it), NEOX rotates (i, i + rot/2). */
typedef enum { HEARTH_ROPE_NORMAL, HEARTH_ROPE_NEOX } hearth_rope_type;

/* The gate's activation in the gated feed-forward: act(gate) * up. */
typedef enum { HEARTH_ACT_SILU, HEARTH_ACT_GELU_TANH } hearth_act;

/* RoPE frequency sets: every layer rotates with one of them (gemma3's local
 * sliding-window layers have a base of their own). */
enum { HEARTH_ROPE_SETS = 2 };

typedef struct {
    int32_t n_vocab;   /* token ids, = logits per token (the tokenizer's count
                          when there is one: pad rows past it are cut off) */
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;  /* per head, keys and values */
    int32_t n_ff;
    int32_t n_rot;     /* dimensions RoPE rotates (<= head_dim, even) */
    float rope_freq_base;
    float rope_freq_scale; /* 1 / linear scaling factor */
    float rms_eps;
    hearth_rope_type rope_type;
    /* The steps architectures differ in, resolved at open (the forward pass
     * reads only these, never the architecture): */
    hearth_act act;
    float embd_scale;      /* embeddings are multiplied by it (1: none) */
    float attn_scale;      /* attention scores are q.k * attn_scale */
    float final_softcap;   /* logits = c * tanh(logits / c); 0: none */
    float rope_mscale;     /* cos and sin are multiplied by it (LongRoPE's
                              attention factor; 1: none) */
    int32_t n_rope_sets;   /* 1, or 2 when some layer uses set 1 */
    float rope_base[HEARTH_ROPE_SETS];
    float rope_scale[HEARTH_ROPE_SETS]; /* 1 / linear scaling factor */
    int32_t n_ctx_orig;    /* LongRoPE: contexts above it use the long factors */
} hearth_hparams;

/* A weight matrix of nrows rows of n elements, borrowed from the mapping. */
typedef struct {
    const void *data;
    hearth_type type;
    int64_t n;       /* row length (input features) */
    int64_t nrows;   /* output features */
    size_t row_size; /* bytes per row */
    const hearth_dot_kernel *k;
} hearth_mat;

/* One decoder block. Fused tensors (attn_qkv, a gate+up ffn_up) are loaded
 * as row ranges of the one tensor, so the forward pass sees separate
 * matrices either way. Optional parts are NULL when the architecture has no
 * such step. */
typedef struct {
    float *attn_norm;          /* (n_embd) */
    hearth_mat wq, wk, wv, wo;
    float *bq, *bk, *bv;       /* (n_head*head_dim), (kv_dim), (kv_dim) or NULL */
    float *q_norm, *k_norm;    /* (head_dim) RMSNorm of each q / k head, or NULL */
    float *post_attn_norm;     /* (n_embd) norm of the attention output before
                                  the residual add, or NULL */
    float *ffn_norm;           /* (n_embd) */
    hearth_mat w_gate, w_up, w_down;
    float *post_ffn_norm;      /* (n_embd) same for the feed-forward, or NULL */
    int32_t n_swa;             /* sliding window: attend to the last n_swa
                                  positions (the token's own included); 0: all */
    int32_t rope_set;          /* index into the RoPE frequency sets */
} hearth_layer;

struct hearth_model;

/* An architecture as data: which optional parts of the block the shared
 * loader requires, and the choices the forward pass makes, plus a hook for
 * what data cannot say. */
typedef struct {
    const char *name; /* general.architecture value */
    hearth_rope_type rope_type;
    hearth_act act;
    bool qkv_bias;     /* blk.N.attn_{q,k,v}.bias required (else optional) */
    bool qk_norm;      /* blk.N.attn_{q,k}_norm.weight required */
    bool post_norms;   /* blk.N.post_attention_norm / post_ffw_norm required */
    bool fused_qkv;    /* blk.N.attn_qkv.weight accepted for q, k and v */
    bool fused_gate_up;/* blk.N.ffn_up.weight holds gate rows then up rows */
    bool embd_scale;   /* embeddings scaled by sqrt(n_embd) */
    /* Reads what is particular to this architecture (after the shared
     * hyper-parameters and tensors are loaded); NULL: nothing. */
    hearth_status (*load)(struct hearth_model *m, hearth_error *err);
    /* An encoder (bert): load reads everything itself (hyper-parameters and
     * tensors; the decoder's shared loaders are skipped), and the model only
     * embeds (model/encoder.h). */
    bool encoder;
} hearth_arch_info;

/* Row for arch, or NULL. Table lookup by general.architecture string. */
const hearth_arch_info *hearth_arch_get(hearth_arch arch);
bool hearth_arch_find(const char *name, hearth_arch *out);
/* The supported names, comma separated (static string). */
const char *hearth_arch_list(void);

struct hearth_model {
    hearth_gguf *gguf;
    void *file_buf; /* owned copy when !use_mmap */
    char *path;
    const char *name;
    const char *chat_template;
    hearth_arch arch;
    const hearth_arch_info *ai;
    hearth_hparams hp;
    int n_threads;

    hearth_mat tok_embd;  /* (n_vocab rows of n_embd) */
    float *output_norm;   /* (n_embd) */
    hearth_mat output;    /* (n_vocab rows of n_embd); == tok_embd when tied */
    float *rope_freqs;    /* (n_rot/2) frequency divisors, or NULL (Llama 3.x
                             scaling comes as this tensor) */
    float *rope_long, *rope_short; /* (n_rot/2) LongRoPE divisors, or NULL */
    hearth_layer *layers; /* (n_layer) */

    hearth_tokenizer *tok;
    int32_t eog_ids[8];
    int n_eog;
    uint64_t weight_bytes;
    struct hearth_vec_node *vecs; /* owned float vectors (list) */
    struct hearth_bert *bert;     /* encoder weights (arch_bert.c), or NULL */
};

/* Shared loaders used by the arch hooks. The name is formatted with layer il
 * when it contains %d. A missing required tensor, or one whose shape differs
 * from (n, nrows), is an error naming it. */
hearth_status hearth_model_get_mat(struct hearth_model *m, hearth_mat *out, const char *name,
                                   int il, int64_t n, int64_t nrows, bool required,
                                   hearth_error *err);
/* Reads "<arch>.<suffix>" as a float into *out; absent: *out unchanged
 * (HEARTH_OK). Present but not a positive number: an error naming it. */
hearth_status hearth_model_opt_f32(struct hearth_model *m, const char *suffix, float *out,
                                   hearth_error *err);
/* Same for an integer in [lo, hi]. */
hearth_status hearth_model_opt_i32(struct hearth_model *m, const char *suffix, int32_t *out,
                                   int64_t lo, int64_t hi, hearth_error *err);
/* A 1-D tensor of n elements dequantized into a new float array (*out owned
 * by the model, NULL when absent and !required). */
hearth_status hearth_model_get_vec(struct hearth_model *m, float **out, const char *name, int il,
                                   int64_t n, bool required, hearth_error *err);

#endif
