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


/* ---- Continuous batching (src/engine/sched.c) ---------------------------- */

/* A scheduler runs generations from many threads at once on one context with
 * n_seq sequence slots, decoding the next token of every running generation
 * in one batch per step (continuous batching): the weights are read once per
 * step for all of them. A generation waits for a free slot; its sequence is
 * cleared when it ends, so generations are independent. */
typedef struct hearth_sched hearth_sched;

/* Makes the scheduler's context (cp->n_seq slots, each cp->n_ctx / n_seq
 * positions) and its thread. m must outlive it. OUT: *out owns it
 * (hearth_sched_free). Any thread. */
HEARTH_API hearth_status hearth_sched_new(const hearth_model *m, const hearth_ctx_params *cp,
                                          hearth_sched **out, hearth_error *err);
/* Ends running generations (finish CANCELLED) and waiting ones
 * (HEARTH_E_CANCELLED), then frees. Callers must have returned before the
 * memory is gone: call it only once no thread is inside generate. NULL: no-op. */
HEARTH_API void hearth_sched_free(hearth_sched *s);
HEARTH_API int32_t hearth_sched_n_slots(const hearth_sched *s);
/* As hearth_generate, in a free slot (p->seq is ignored), blocking until
 * the generation ends. cb runs on the scheduler's thread and must be quick.
 * A prompt longer than a slot's capacity is HEARTH_E_LIMIT (cb never called).
 * Any thread; concurrent calls are batched together. */
HEARTH_API hearth_status hearth_sched_generate(hearth_sched *s, const int32_t *prompt,
                                               int32_t n_prompt, const hearth_gen_params *p,
                                               hearth_gen_cb cb, void *user,
                                               hearth_gen_result *res, hearth_error *err);

/* ======================================================================== */
/* Local store (src/store)                                                  */
/* ======================================================================== */

/* (store API) */


/* ======================================================================== */
/* Agent (src/agent)                                                        */
/* ======================================================================== */

/* (agent API) */

/* ======================================================================== */
/* HTTP server (src/server)                                                 */
/* ======================================================================== */

/* The OpenAI-compatible HTTP API (`hearth serve`): POST /v1/chat/completions,
 * /v1/completions, /v1/embeddings; GET /v1/models, /health, /metrics. */
typedef struct hearth_server hearth_server;

typedef struct {
    const char *host;         /* default "127.0.0.1" (loopback only) */
    uint16_t port;            /* default 8080; 0 picks a free port */
    const char *model_path;   /* required */
    const char *api_key;      /* NULL or "": no authentication */
    const char *data_dir;     /* the store's directory; NULL: HEARTH_HOME or default */
    const char *security_log; /* path of the security log; NULL: off */
    size_t max_body;          /* largest request body, default 8 MiB */
    int max_queue;            /* requests in flight before 429, default 64 */
    int32_t n_slots;          /* generations batched together, default 4 */
    int32_t n_ctx;            /* context per generation; 0: the default */
    int n_threads;            /* 0: default */
} hearth_server_params;

/* Defaults as documented on each field (model_path NULL). Any thread. */
HEARTH_API hearth_server_params hearth_server_default_params(void);

/* Binds the socket and starts serving; the model loads in the background
 * (GET /health answers 503 "loading" until it is ready). On success *out
 * owns the server (hearth_server_stop). Any thread. */
HEARTH_API hearth_status hearth_server_start(const hearth_server_params *p,
                                             hearth_server **out, hearth_error *err);
/* The bound port (useful with port 0). */
HEARTH_API uint16_t hearth_server_port(const hearth_server *s);
/* 0 loading, 1 ready, 2 failed (then *error, if non-NULL, is the reason,
 * borrowed until hearth_server_stop). Any thread. */
HEARTH_API int hearth_server_state(const hearth_server *s, const char **error);
/* Graceful stop: stops accepting, lets in-flight answers finish (up to 60 s),
 * then closes the store and frees everything. NULL is a no-op. */
HEARTH_API void hearth_server_stop(hearth_server *s);


#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
