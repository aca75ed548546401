/*
 * hearth.h: the one public C API of hearth, a privacy-first runtime for AI
 * agents that run on the user's own device.
 *
 * Conventions (see STYLE.md):
 *  - opaque handles, a hearth_ prefix, hearth_<noun>_<verb> names;
 *  - every fallible call returns a hearth_status and fills an optional,
 *    caller-owned hearth_error with a message that says what and where;
 *  - whoever calls _open/_new calls the matching _free; _free(NULL) is a no-op;
 *  - every function states its thread-safety; the default is "one thread per
 *    handle".
 *
 * The header is organised in sections, one per subsystem, in layer order.
 */
#ifndef HEARTH_H
#define HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HEARTH_BUILDING) && defined(__GNUC__)
#define HEARTH_API __attribute__((visibility("default")))
#else
#define HEARTH_API
#endif

/* ======================================================================== */
/* Errors and version                                                       */
/* ======================================================================== */

typedef enum {
    HEARTH_OK = 0,
    HEARTH_E_NOMEM,       /* an allocation failed */
    HEARTH_E_IO,          /* a file or socket operation failed */
    HEARTH_E_FORMAT,      /* input is malformed (model file, JSON, payload) */
    HEARTH_E_UNSUPPORTED, /* well-formed, but hearth cannot handle it */
    HEARTH_E_ARG,         /* the caller passed a bad argument */
    HEARTH_E_STATE,       /* the call is not valid in the handle's state */
    HEARTH_E_CANCELLED,   /* the operation was cancelled by the caller */
    HEARTH_E_LIMIT,       /* a size limit was reached (context, queue, body) */
    HEARTH_E_NOTFOUND,    /* the named thing does not exist */
} hearth_status;

/* Caller-owned error record. msg is always NUL-terminated. file/line name the
 * spot in hearth's sources that raised the error (static strings). */
typedef struct {
    hearth_status code;
    char msg[256];
    const char *file;
    int line;
} hearth_error;

/* Static, never free. Any thread. */
HEARTH_API const char *hearth_status_str(hearth_status s);

/* "MAJOR.MINOR.PATCH"; static. Any thread. */
HEARTH_API const char *hearth_version(void);

/* ======================================================================== */
/* Memory                                                                   */
/* ======================================================================== */

/* Frees memory that a hearth_ function documented as "owned: free with
 * hearth_free". NULL is a no-op. Any thread. */
HEARTH_API void hearth_free(void *p);

/* ======================================================================== */
/* GGUF model files (src/gguf)                                              */
/* ======================================================================== */

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum {
    HEARTH_GGUF_UINT8 = 0,
    HEARTH_GGUF_INT8 = 1,
    HEARTH_GGUF_UINT16 = 2,
    HEARTH_GGUF_INT16 = 3,
    HEARTH_GGUF_UINT32 = 4,
    HEARTH_GGUF_INT32 = 5,
    HEARTH_GGUF_FLOAT32 = 6,
    HEARTH_GGUF_BOOL = 7,
    HEARTH_GGUF_STRING = 8,
    HEARTH_GGUF_ARRAY = 9,
    HEARTH_GGUF_UINT64 = 10,
    HEARTH_GGUF_INT64 = 11,
    HEARTH_GGUF_FLOAT64 = 12,
    HEARTH_GGUF_TYPE_COUNT
} hearth_gguf_type;

/* Tensor element types, numbered as ggml numbers them (the values stored in
 * GGUF files). Gaps are numbers ggml retired. */
typedef enum {
    HEARTH_TYPE_F32 = 0,
    HEARTH_TYPE_F16 = 1,
    HEARTH_TYPE_Q4_0 = 2,
    HEARTH_TYPE_Q4_1 = 3,
    HEARTH_TYPE_Q5_0 = 6,
    HEARTH_TYPE_Q5_1 = 7,
    HEARTH_TYPE_Q8_0 = 8,
    HEARTH_TYPE_Q8_1 = 9,
    HEARTH_TYPE_Q2_K = 10,
    HEARTH_TYPE_Q3_K = 11,
    HEARTH_TYPE_Q4_K = 12,
    HEARTH_TYPE_Q5_K = 13,
    HEARTH_TYPE_Q6_K = 14,
    HEARTH_TYPE_Q8_K = 15,
    HEARTH_TYPE_IQ2_XXS = 16,
    HEARTH_TYPE_IQ2_XS = 17,
    HEARTH_TYPE_IQ3_XXS = 18,
    HEARTH_TYPE_IQ1_S = 19,
    HEARTH_TYPE_IQ4_NL = 20,
    HEARTH_TYPE_IQ3_S = 21,
    HEARTH_TYPE_IQ2_S = 22,
    HEARTH_TYPE_IQ4_XS = 23,
    HEARTH_TYPE_I8 = 24,
    HEARTH_TYPE_I16 = 25,
    HEARTH_TYPE_I32 = 26,
    HEARTH_TYPE_I64 = 27,
    HEARTH_TYPE_F64 = 28,
    HEARTH_TYPE_IQ1_M = 29,
    HEARTH_TYPE_BF16 = 30,
    HEARTH_TYPE_TQ1_0 = 34,
    HEARTH_TYPE_TQ2_0 = 35,
    HEARTH_TYPE_MXFP4 = 39,
    HEARTH_TYPE_COUNT = 40
} hearth_type;

/* Name of a tensor type ("Q4_K"), or NULL for a number no ggml version used.
 * Static. Any thread. */
HEARTH_API const char *hearth_type_name(int type);

/* An open GGUF file (v2 or v3, little-endian), validated when opened: every
 * count, length, dimension, type, alignment and tensor range is checked
 * against hard limits and the bytes present. Tensor data is never copied: it
 * stays in the file mapping (or the caller's buffer). */
typedef struct hearth_gguf hearth_gguf;

/* Opens and validates the GGUF file at path through mmap. A tensor type that
 * hearth cannot run (IQ*, TQ*, ...) is an HEARTH_E_UNSUPPORTED error naming
 * the type and tensor. On success *out owns the handle (hearth_gguf_free).
 * On failure *out is NULL and err says what, where and at which file offset.
 * Any thread. */
HEARTH_API hearth_status hearth_gguf_open(const char *path, hearth_gguf **out,
                                          hearth_error *err);

/* As hearth_gguf_open, over a GGUF image in memory. buf is borrowed and must
 * outlive the handle. Used by the fuzz target and the browser build. */
HEARTH_API hearth_status hearth_gguf_open_buffer(const void *buf, size_t len,
                                                 hearth_gguf **out,
                                                 hearth_error *err);

/* NULL is a no-op. Invalidates every pointer obtained from the handle. */
HEARTH_API void hearth_gguf_free(hearth_gguf *g);

HEARTH_API uint32_t hearth_gguf_version(const hearth_gguf *g);
HEARTH_API size_t hearth_gguf_alignment(const hearth_gguf *g);
/* Absolute file offset of the tensor data section. */
HEARTH_API uint64_t hearth_gguf_data_offset(const hearth_gguf *g);
HEARTH_API uint64_t hearth_gguf_file_size(const hearth_gguf *g);

/* One metadata value, borrowed from the handle. Numeric scalars and numeric
 * array elements are stored little-endian, unaligned: read them through
 * memcpy or the typed getters below. */
typedef struct {
    hearth_gguf_type type;      /* HEARTH_GGUF_ARRAY for arrays */
    hearth_gguf_type elem_type; /* arrays only: the element type */
    uint64_t n;                 /* strings: byte length; arrays: elements */
    const void *data;           /* scalar value / string bytes (not NUL-
                                   terminated) / first array element;
                                   NULL for arrays of strings or arrays */
} hearth_gguf_value;

HEARTH_API int64_t hearth_gguf_n_kv(const hearth_gguf *g);
/* Key of entry i (0 <= i < n_kv), NUL-terminated; NULL if i is out of range. */
HEARTH_API const char *hearth_gguf_kv_key(const hearth_gguf *g, int64_t i);
/* Index of key, or -1. */
HEARTH_API int64_t hearth_gguf_find_key(const hearth_gguf *g, const char *key);
/* Value of entry i; HEARTH_E_ARG if i is out of range. */
HEARTH_API hearth_status hearth_gguf_kv_value(const hearth_gguf *g, int64_t i,
                                              hearth_gguf_value *out);
/* Element j of a string array entry i: its bytes (not NUL-terminated) and
 * length; NULL if entry i is not a string array or j is out of range. O(1). */
HEARTH_API const char *hearth_gguf_arr_str(const hearth_gguf *g, int64_t i,
                                           uint64_t j, size_t *len);

/* Typed getters by key. Each fails with HEARTH_E_NOTFOUND when the key is
 * absent and HEARTH_E_FORMAT (naming key, expected and actual type) on a type
 * mismatch; *out is untouched on failure. _get_int accepts any integer type
 * whose value fits in int64_t, _get_float either float type, because writers
 * differ in the width they use for the same key. */
HEARTH_API hearth_status hearth_gguf_get_u32(const hearth_gguf *g, const char *key,
                                             uint32_t *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_i32(const hearth_gguf *g, const char *key,
                                             int32_t *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_u64(const hearth_gguf *g, const char *key,
                                             uint64_t *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_f32(const hearth_gguf *g, const char *key,
                                             float *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_bool(const hearth_gguf *g, const char *key,
                                              bool *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_int(const hearth_gguf *g, const char *key,
                                             int64_t *out, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_get_float(const hearth_gguf *g, const char *key,
                                               double *out, hearth_error *err);
/* String value: NUL-terminated copy owned by the handle; *len (optional) is
 * its byte length (the string may itself contain NUL bytes). */
HEARTH_API hearth_status hearth_gguf_get_str(const hearth_gguf *g, const char *key,
                                             const char **out, size_t *len,
                                             hearth_error *err);
/* Array value; *kv_index (optional) receives the entry index for
 * hearth_gguf_arr_str. */
HEARTH_API hearth_status hearth_gguf_get_arr(const hearth_gguf *g, const char *key,
                                             hearth_gguf_value *out, int64_t *kv_index,
                                             hearth_error *err);

/* One tensor, borrowed from the handle. */
typedef struct {
    const char *name;     /* NUL-terminated */
    hearth_type type;
    uint32_t n_dims;      /* 1..4 */
    int64_t ne[4];        /* ne[0] is the row length; unused dimensions are 1 */
    uint64_t offset;      /* relative to the data section, as stored */
    size_t nbytes;
    const void *data;     /* into the mapping or buffer */
} hearth_gguf_tensor;

HEARTH_API int64_t hearth_gguf_n_tensors(const hearth_gguf *g);
/* NULL if i is out of range. */
HEARTH_API const hearth_gguf_tensor *hearth_gguf_tensor_at(const hearth_gguf *g, int64_t i);
/* NULL if there is no tensor of that name. */
HEARTH_API const hearth_gguf_tensor *hearth_gguf_find_tensor(const hearth_gguf *g,
                                                             const char *name);

/* Writes GGUF v3 deterministically: keys and tensors in the order they were
 * added, alignment from general.alignment (default 32), zero padding. */
typedef struct hearth_gguf_writer hearth_gguf_writer;

/* Owned: free with hearth_gguf_writer_free. NULL on allocation failure. */
HEARTH_API hearth_gguf_writer *hearth_gguf_writer_new(void);
HEARTH_API void hearth_gguf_writer_free(hearth_gguf_writer *w);

/* Setters add a key (or replace the value of an existing one, keeping its
 * position). The value is copied. */
HEARTH_API hearth_status hearth_gguf_writer_set_u32(hearth_gguf_writer *w, const char *key,
                                                    uint32_t v, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_writer_set_i32(hearth_gguf_writer *w, const char *key,
                                                    int32_t v, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_writer_set_u64(hearth_gguf_writer *w, const char *key,
                                                    uint64_t v, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_writer_set_f32(hearth_gguf_writer *w, const char *key,
                                                    float v, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_writer_set_bool(hearth_gguf_writer *w, const char *key,
                                                     bool v, hearth_error *err);
HEARTH_API hearth_status hearth_gguf_writer_set_str(hearth_gguf_writer *w, const char *key,
                                                    const char *v, hearth_error *err);
/* Any scalar type (including the ones without a named setter), raw value. */
HEARTH_API hearth_status hearth_gguf_writer_set_scalar(hearth_gguf_writer *w, const char *key,
                                                       hearth_gguf_type type,
                                                       const void *v, hearth_error *err);
/* Numeric array of n elements of elem_type, copied from data. */
HEARTH_API hearth_status hearth_gguf_writer_set_arr(hearth_gguf_writer *w, const char *key,
                                                    hearth_gguf_type elem_type,
                                                    const void *data, uint64_t n,
                                                    hearth_error *err);
/* String array; lens may be NULL (then each string is NUL-terminated). */
HEARTH_API hearth_status hearth_gguf_writer_set_arr_str(hearth_gguf_writer *w, const char *key,
                                                        const char *const *strs,
                                                        const size_t *lens, uint64_t n,
                                                        hearth_error *err);
/* Adds a tensor. ne[0..n_dims) as in hearth_gguf_tensor. data (nbytes, which
 * must equal the size implied by type and shape) is borrowed until the write. */
HEARTH_API hearth_status hearth_gguf_writer_add_tensor(hearth_gguf_writer *w, const char *name,
                                                       hearth_type type, uint32_t n_dims,
                                                       const int64_t *ne, const void *data,
                                                       size_t nbytes, hearth_error *err);
/* Writes the file (to a temporary name, then renamed into place). */
HEARTH_API hearth_status hearth_gguf_writer_write_file(const hearth_gguf_writer *w,
                                                       const char *path, hearth_error *err);
/* Writes to memory. *out is owned: free with hearth_free. */
HEARTH_API hearth_status hearth_gguf_writer_write_buffer(const hearth_gguf_writer *w,
                                                         void **out, size_t *len,
                                                         hearth_error *err);

/* Bytes of one row of ne0 elements of type; 0 if the type is unknown or ne0
 * is not a multiple of its block size. Any thread. */
HEARTH_API size_t hearth_type_row_size(int type, int64_t ne0);
/* Elements per block (1 for F32/F16/BF16; 0 for an unknown type). */
HEARTH_API int64_t hearth_type_block_size(int type);
/* true if hearth can load and run tensors of this type. */
HEARTH_API bool hearth_type_supported(int type);

/* ======================================================================== */
/* Tokenizers (src/tokenizer)                                               */
/* ======================================================================== */

/* (tokenizer API) */


/* ======================================================================== */
/* Models and inference (src/model, src/engine)                             */
/* ======================================================================== */

/* (model and inference API) */

/* Token ids are int32_t throughout (as in GGUF's tokenizer arrays). */
typedef struct hearth_tokenizer hearth_tokenizer; /* see the tokenizer section */

/* ---- Models -------------------------------------------------------------- */

/* A loaded model: the GGUF file (weights stay in the file mapping, in the
 * file's own layout), its hyper-parameters and its tokenizer. Immutable once
 * opened, so one model can serve several contexts on different threads. */
typedef struct hearth_model hearth_model;

typedef struct {
    int n_threads; /* default threads for contexts; 0 = number of CPUs */
    bool use_mmap; /* true (default): map the file; false: read it into memory */
} hearth_model_params;

/* Defaults: n_threads 0, use_mmap true. Any thread. */
HEARTH_API hearth_model_params hearth_model_default_params(void);

/* Opens a GGUF model. The architecture comes from general.architecture
 * (supported: "llama", "qwen2"); hyper-parameters from "<arch>.*" metadata,
 * with the format's defaults where a key is optional (rope.freq_base 10000,
 * head_count_kv = head_count, ...). A missing required key, an inconsistent
 * value or a tensor of the wrong shape or type is an error naming the key or
 * tensor. p may be NULL (defaults). On success *out owns the model
 * (hearth_model_free); on failure *out is NULL. Any thread. */
HEARTH_API hearth_status hearth_model_open(const char *path, const hearth_model_params *p,
                                           hearth_model **out, hearth_error *err);

/* NULL is a no-op. Free every hearth_ctx made from this model first. */
HEARTH_API void hearth_model_free(hearth_model *m);

/* Accessors. Strings are borrowed from the model (valid until
 * hearth_model_free). All are safe from any thread. */
HEARTH_API const char *hearth_model_arch(const hearth_model *m);      /* "llama" */
HEARTH_API const char *hearth_model_name(const hearth_model *m);      /* general.name or "" */
HEARTH_API const char *hearth_model_path(const hearth_model *m);
HEARTH_API uint64_t hearth_model_file_size(const hearth_model *m);    /* bytes */
HEARTH_API int32_t hearth_model_n_ctx_train(const hearth_model *m);
HEARTH_API int32_t hearth_model_n_embd(const hearth_model *m);
HEARTH_API int32_t hearth_model_n_layer(const hearth_model *m);
HEARTH_API int32_t hearth_model_n_vocab(const hearth_model *m);       /* logits per token */
/* Bytes of weights one decode step reads (every matrix once): the figure the
 * bandwidth roofline divides by. */
HEARTH_API uint64_t hearth_model_weight_bytes(const hearth_model *m);
/* tokenizer.chat_template, or NULL if the file has none. */
HEARTH_API const char *hearth_model_chat_template(const hearth_model *m);
/* The model's tokenizer, borrowed: valid until hearth_model_free. */
HEARTH_API const hearth_tokenizer *hearth_model_tokenizer(const hearth_model *m);
/* true if token ends generation: the EOS token, the EOT token, or a control
 * token that ends a turn (<|im_end|>, <|eot_id|>, <|end|>, <|endoftext|>,
 * <end_of_turn>). */
HEARTH_API bool hearth_model_token_is_eog(const hearth_model *m, int32_t token);

/* ---- Contexts ------------------------------------------------------------ */

/* Per-conversation state: the KV cache (n_seq sequence slots), scratch
 * buffers, a persistent thread pool and the logits of the last decode. One
 * thread at a time per context; several contexts of one model may run on
 * different threads at once. */
typedef struct hearth_ctx hearth_ctx;

typedef struct {
    int32_t n_ctx;   /* total KV positions; 0 = min(model's n_ctx_train, 4096).
                        Each sequence holds up to n_ctx / n_seq positions. */
    int32_t n_batch; /* most tokens one decode call takes (default 512) */
    int32_t n_seq;   /* sequence slots, ids 0..n_seq-1 (default 1) */
    int n_threads;   /* 0 = the model's n_threads */
    hearth_type kv_type; /* HEARTH_TYPE_F16 (default) or HEARTH_TYPE_F32 */
} hearth_ctx_params;

/* Defaults as documented on each field. Any thread. */
HEARTH_API hearth_ctx_params hearth_ctx_default_params(void);

/* Makes a context on model m (which must outlive it). p may be NULL. On
 * success *out owns it (hearth_ctx_free). Any thread. */
HEARTH_API hearth_status hearth_ctx_new(const hearth_model *m, const hearth_ctx_params *p,
                                        hearth_ctx **out, hearth_error *err);
/* NULL is a no-op. Stops the context's threads. */
HEARTH_API void hearth_ctx_free(hearth_ctx *c);

HEARTH_API const hearth_model *hearth_ctx_model(const hearth_ctx *c);
HEARTH_API int32_t hearth_ctx_n_ctx(const hearth_ctx *c);     /* total positions */
HEARTH_API int32_t hearth_ctx_n_seq(const hearth_ctx *c);
HEARTH_API int32_t hearth_ctx_seq_capacity(const hearth_ctx *c); /* n_ctx / n_seq */
/* Positions stored for sequence seq (the position its next token gets);
 * -1 if seq is out of range. */
HEARTH_API int32_t hearth_ctx_seq_len(const hearth_ctx *c, int32_t seq);
/* Forgets sequence seq (seq == -1: every sequence). */
HEARTH_API hearth_status hearth_ctx_seq_clear(hearth_ctx *c, int32_t seq, hearth_error *err);
/* Keeps the first n_keep positions of seq and forgets the rest (reuse of a
 * shared prompt prefix). n_keep > seq_len is HEARTH_E_ARG. */
HEARTH_API hearth_status hearth_ctx_seq_truncate(hearth_ctx *c, int32_t seq, int32_t n_keep,
                                                 hearth_error *err);

/* A batch of tokens for hearth_ctx_decode, as llama_batch: token i goes to
 * sequence seq[i] at position pos[i]. Positions of one sequence must follow
 * on from its stored length in batch order (the KV cache of a sequence is
 * dense: truncate first to rewrite). Tokens of several sequences may be mixed
 * (continuous batching). */
typedef struct {
    int32_t n_tokens;
    const int32_t *tokens;  /* n_tokens ids */
    const int32_t *pos;     /* NULL: each sequence continues where it stopped */
    const int32_t *seq;     /* NULL: every token in sequence 0 */
    const int8_t *logits;   /* non-zero: compute logits for token i;
                               NULL: only for the last token of the batch */
} hearth_batch;

/* Runs the forward pass over a batch (split into n_batch pieces internally
 * if larger), appending every token's keys and values to its sequence.
 * Errors: HEARTH_E_ARG (bad token id, sequence, or position),
 * HEARTH_E_LIMIT (a sequence would pass its capacity: nothing is written,
 * the context is unchanged). On error the logits are invalid. */
HEARTH_API hearth_status hearth_ctx_decode(hearth_ctx *c, const hearth_batch *b,
                                           hearth_error *err);

/* Convenience: appends n tokens to sequence seq and computes the logits of
 * the last one (hearth_ctx_logits(c, -1)). Same errors as decode. */
HEARTH_API hearth_status hearth_ctx_eval(hearth_ctx *c, int32_t seq, const int32_t *tokens,
                                         int32_t n, hearth_error *err);

/* Logits (n_vocab floats) of batch token i of the last decode, or of the
 * last token that had logits when i == -1. NULL if that token had none.
 * Borrowed: valid until the next decode/eval/embed on c. */
HEARTH_API const float *hearth_ctx_logits(const hearth_ctx *c, int32_t i);

/* Embedding of a text: runs tokens through sequence seq (cleared before and
 * after), mean-pools the final (normed) hidden states and L2-normalizes.
 * out receives hearth_model_n_embd floats. */
HEARTH_API hearth_status hearth_ctx_embed(hearth_ctx *c, int32_t seq, const int32_t *tokens,
                                          int32_t n, float *out, hearth_error *err);

/* Time spent in decode since the context was made or the last reset
 * (milliseconds, token counts). Prompt = decode calls of more than one token
 * per sequence; gen = single-token steps. */
typedef struct {
    double prompt_ms;
    int64_t n_prompt;
    double gen_ms;
    int64_t n_gen;
} hearth_ctx_timings;
HEARTH_API hearth_ctx_timings hearth_ctx_get_timings(const hearth_ctx *c);
HEARTH_API void hearth_ctx_reset_timings(hearth_ctx *c);

/* ---- Sampling ------------------------------------------------------------ */

#define HEARTH_SEED_RANDOM UINT64_MAX

typedef struct {
    float temp;              /* <= 0: greedy (argmax). default 0.8 */
    int32_t top_k;           /* <= 0: off. default 40 */
    float top_p;             /* >= 1: off. default 0.95 */
    float min_p;             /* <= 0: off. default 0.05 */
    float repeat_penalty;    /* 1: off (default). >1 discourages repeats */
    int32_t repeat_last_n;   /* window of recent tokens the penalties see (64);
                                0: off, -1: the whole history */
    float frequency_penalty; /* logit -= f * count. default 0 */
    float presence_penalty;  /* logit -= p if seen. default 0 */
    uint64_t seed;           /* HEARTH_SEED_RANDOM (default): from the clock */
} hearth_sampler_params;

/* Order (as llama.cpp): penalties, then greedy if temp <= 0; else top-k,
 * top-p, min-p, temperature, a draw from the softmax with the seeded
 * generator. Same seed, same logits, same history: same tokens. */
typedef struct hearth_sampler hearth_sampler;

HEARTH_API hearth_sampler_params hearth_sampler_default_params(void);
/* p may be NULL. n_vocab: length of the logit vectors it will see. Owned:
 * hearth_sampler_free. */
HEARTH_API hearth_status hearth_sampler_new(const hearth_sampler_params *p, int32_t n_vocab,
                                            hearth_sampler **out, hearth_error *err);
HEARTH_API void hearth_sampler_free(hearth_sampler *s);
/* Picks a token from logits (n_vocab floats, not modified). Does not record
 * it: call hearth_sampler_accept. */
HEARTH_API int32_t hearth_sampler_sample(hearth_sampler *s, const float *logits);
/* Adds token to the history the penalties see (prompt tokens too). */
HEARTH_API void hearth_sampler_accept(hearth_sampler *s, int32_t token);
/* Clears the history and re-seeds with the original seed. */
HEARTH_API void hearth_sampler_reset(hearth_sampler *s);

/* ---- Generation ---------------------------------------------------------- */

typedef enum {
    HEARTH_FINISH_NONE = 0,
    HEARTH_FINISH_EOG,       /* the model produced an end-of-generation token */
    HEARTH_FINISH_STOP,      /* a stop string appeared */
    HEARTH_FINISH_LENGTH,    /* max_tokens reached */
    HEARTH_FINISH_CTX,       /* the sequence is full (clean stop) */
    HEARTH_FINISH_CANCELLED, /* the callback asked to stop */
} hearth_finish_reason;

/* Static name: "eog", "stop", "length", "ctx", "cancelled", "none". */
HEARTH_API const char *hearth_finish_reason_str(hearth_finish_reason r);

/* Called for each generated token: token is its id, text/len the text this
 * step releases (complete UTF-8; may be empty while text is held back because
 * it could begin a stop string, and may include text of earlier tokens).
 * After the last token a final call with token == -1 flushes held-back text.
 * The end-of-generation token itself is not reported. Return non-zero to
 * cancel (finish = HEARTH_FINISH_CANCELLED). */
typedef int (*hearth_gen_cb)(void *user, int32_t token, const char *text, size_t len);

typedef struct {
    int32_t max_tokens;          /* <= 0: until EOG or the context is full */
    const char *const *stop;     /* n_stop stop strings (not emitted) */
    int32_t n_stop;
    int32_t seq;                 /* sequence to generate in (default 0) */
    hearth_sampler_params sampling;
} hearth_gen_params;

typedef struct {
    hearth_finish_reason finish;
    int32_t n_prompt;  /* tokens evaluated from the prompt */
    int32_t n_gen;     /* tokens generated (including one that hit a stop) */
    double prompt_ms;  /* prefill time */
    double gen_ms;     /* time of the generation steps */
} hearth_gen_result;

HEARTH_API hearth_gen_params hearth_gen_default_params(void);

/* Appends prompt (n_prompt >= 1 tokens, already including BOS if wanted) to
 * sequence p->seq, then samples and decodes one token at a time, streaming
 * through cb (may be NULL), until EOG, a stop string, max_tokens, the end of
 * the sequence's capacity (finish = CTX, status OK) or cancellation. The
 * sequence keeps everything evaluated, so a later call continues the
 * conversation. If the prompt itself does not fit, HEARTH_E_LIMIT and cb is
 * never called. res may be NULL. */
HEARTH_API hearth_status hearth_generate(hearth_ctx *c, const int32_t *prompt, int32_t n_prompt,
                                         const hearth_gen_params *p, hearth_gen_cb cb,
                                         void *user, hearth_gen_result *res,
                                         hearth_error *err);


/* ======================================================================== */
/* Local store (src/store)                                                  */
/* ======================================================================== */

/* (store API) */


/* ======================================================================== */
/* Agent (src/agent)                                                        */
/* ======================================================================== */

/* (agent API) */


#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
