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

/* A tokenizer built from a model file's tokenizer.ggml.* metadata:
 * "llama" (SentencePiece-style BPE by scores, <0xNN> byte fallback) or
 * "gpt2" (byte-level BPE by merge ranks, with the pre-tokenizer named by
 * tokenizer.ggml.pre). Immutable once loaded: every function below that takes
 * a const hearth_tokenizer * may be called from any thread at once.
 *
 * Token ids are int32_t in [0, n_vocab). "Special" ids (bos, eos, ...) are -1
 * when the model has none.
 *
 * Invalid UTF-8 in input text: every byte that does not start a complete,
 * well-formed UTF-8 sequence (stray continuation bytes, truncated sequences,
 * overlong forms, surrogates, values above U+10FFFF) is taken alone as a
 * one-byte unit that belongs to no letter/number/space class. A "gpt2"
 * tokenizer encodes it as that raw byte, and a "llama" one as its <0xNN>
 * byte token (or unk without byte tokens), so detokenizing gives the input
 * bytes back. Deterministic; never an error. */
typedef struct hearth_tokenizer hearth_tokenizer;

/* Token types, numbered as tokenizer.ggml.token_type stores them. */
typedef enum {
    HEARTH_TOKEN_UNDEFINED = 0,
    HEARTH_TOKEN_NORMAL = 1,
    HEARTH_TOKEN_UNKNOWN = 2,
    HEARTH_TOKEN_CONTROL = 3,
    HEARTH_TOKEN_USER_DEFINED = 4,
    HEARTH_TOKEN_UNUSED = 5,
    HEARTH_TOKEN_BYTE = 6,
} hearth_token_type;

/* Builds the tokenizer described by g's tokenizer.ggml.* keys. Everything it
 * needs is copied, so the tokenizer may outlive g. Fails with
 * HEARTH_E_UNSUPPORTED naming an unknown tokenizer.ggml.model or
 * tokenizer.ggml.pre, and HEARTH_E_FORMAT for damage (missing or mistyped
 * arrays, array lengths that differ, special ids outside the vocabulary,
 * merges naming unknown tokens, ...). On success *out owns the tokenizer
 * (hearth_tokenizer_free); on failure *out is NULL. Any thread. */
HEARTH_API hearth_status hearth_tokenizer_load(const hearth_gguf *g, hearth_tokenizer **out,
                                               hearth_error *err);
/* NULL is a no-op. Free every hearth_detok made from it first. */
HEARTH_API void hearth_tokenizer_free(hearth_tokenizer *tok);

/* "llama" or "gpt2" (static). Any thread. */
HEARTH_API const char *hearth_tokenizer_model(const hearth_tokenizer *tok);
/* The pre-tokenizer in use ("default", "llama-bpe", "qwen2", ...; "" for
 * "llama" tokenizers). Borrowed from tok. Any thread. */
HEARTH_API const char *hearth_tokenizer_pre(const hearth_tokenizer *tok);
HEARTH_API int32_t hearth_tokenizer_n_vocab(const hearth_tokenizer *tok);

/* Special token ids, -1 when absent. eot is the end-of-turn token of chat
 * models (e.g. <|eot_id|>, <|im_end|>). Any thread. */
HEARTH_API int32_t hearth_token_bos(const hearth_tokenizer *tok);
HEARTH_API int32_t hearth_token_eos(const hearth_tokenizer *tok);
HEARTH_API int32_t hearth_token_eot(const hearth_tokenizer *tok);
HEARTH_API int32_t hearth_token_pad(const hearth_tokenizer *tok);
HEARTH_API int32_t hearth_token_unk(const hearth_tokenizer *tok);
/* Whether the model wants BOS / EOS added around a prompt (add_bos_token /
 * add_eos_token, or the tokenizer's default when the key is absent). */
HEARTH_API bool hearth_tokenizer_add_bos(const hearth_tokenizer *tok);
HEARTH_API bool hearth_tokenizer_add_eos(const hearth_tokenizer *tok);

/* Type of a token; HEARTH_TOKEN_UNDEFINED for an id out of range. */
HEARTH_API hearth_token_type hearth_token_get_type(const hearth_tokenizer *tok, int32_t id);
/* true for control tokens (BOS, EOS, <|im_start|>, ...); false out of range. */
HEARTH_API bool hearth_token_is_control(const hearth_tokenizer *tok, int32_t id);
/* true if generating id ends the turn: eos, eot, and control tokens whose
 * text is a known end marker (<|im_end|>, <|endoftext|>, <|eot_id|>, ...). */
HEARTH_API bool hearth_token_is_eog(const hearth_tokenizer *tok, int32_t id);

/* Id of the token whose text is exactly text[0..len) as stored in the
 * vocabulary (e.g. "<|im_start|>"), or -1. For chat templates. Any thread. */
HEARTH_API int32_t hearth_token_find(const hearth_tokenizer *tok, const char *text, size_t len);

/* Tokenizes text[0..len) (UTF-8; see above for invalid bytes).
 * add_special: add BOS/EOS as hearth_tokenizer_add_bos/_eos say (false: add
 * nothing). parse_special: when true, the text of control and user-defined
 * tokens (e.g. "<|endoftext|>") becomes that token; when false no text ever
 * becomes a control token, whatever it contains. OUT: *out_ids (owned: free
 * with hearth_free; non-NULL even when *n_out is 0) and *n_out.
 * Errors: HEARTH_E_NOMEM, HEARTH_E_ARG. Any thread. */
HEARTH_API hearth_status hearth_tokenize(const hearth_tokenizer *tok, const char *text, size_t len,
                                         bool add_special, bool parse_special,
                                         int32_t **out_ids, size_t *n_out, hearth_error *err);

/* The bytes a token stands for: "▁" becomes a space (llama), byte-level
 * characters become their bytes (gpt2), <0xNN> becomes byte NN; control
 * tokens give their text (e.g. "<|endoftext|>"). May be part of a UTF-8
 * character. Borrowed from tok (valid until hearth_tokenizer_free); *len is
 * the byte length; NULL (and *len 0) for an id out of range. Any thread. */
HEARTH_API const char *hearth_token_to_piece(const hearth_tokenizer *tok, int32_t id, size_t *len);
/* The token's text exactly as stored in the vocabulary ("Ġthe", "▁the",
 * "<0x0A>"); borrowed as above; NULL out of range. Any thread. */
HEARTH_API const char *hearth_token_text(const hearth_tokenizer *tok, int32_t id, size_t *len);

/* Whole-sequence detokenizing: the concatenated pieces of ids[0..n), as raw
 * bytes (not checked for UTF-8). render_special: include the text of control
 * tokens (false: they give nothing). For a "llama" tokenizer with
 * add_space_prefix, the space that tokenizing put in front of the text is
 * removed again, so hearth_detokenize(hearth_tokenize(s)) == s.
 * OUT: *out (owned: hearth_free; NUL-terminated, not counted in *len).
 * Errors: HEARTH_E_ARG for an id out of range, HEARTH_E_NOMEM. Any thread. */
HEARTH_API hearth_status hearth_detokenize(const hearth_tokenizer *tok, const int32_t *ids,
                                           size_t n, bool render_special, char **out,
                                           size_t *len, hearth_error *err);

/* Streaming detokenizer for generation: push ids one at a time and get the
 * text that is ready. It never hands out part of a UTF-8 character: bytes of
 * an unfinished character wait for the next push. Output is always valid
 * UTF-8: a byte sequence that can not become a valid character is replaced
 * by U+FFFD (one per maximal invalid subpart, as Unicode recommends), also at
 * flush. render_special as in hearth_detokenize. A child of its tokenizer
 * (must not outlive it). One thread per handle. */
typedef struct hearth_detok hearth_detok;

/* text_start: true when the ids begin a text, so the leading space rule of
 * hearth_detokenize applies to the first piece; false when they continue text
 * already shown (generation after a prompt: "▁time" must keep its space).
 * OUT: *out owns the decoder (hearth_detok_free). Errors: HEARTH_E_NOMEM. */
HEARTH_API hearth_status hearth_detok_new(const hearth_tokenizer *tok, bool render_special,
                                          bool text_start, hearth_detok **out,
                                          hearth_error *err);
/* NULL is a no-op. */
HEARTH_API void hearth_detok_free(hearth_detok *d);
/* Adds token id. OUT: *text and *len: the bytes now ready (possibly 0), borrowed
 * until the next call on d. Errors: HEARTH_E_ARG for an id out of range (the
 * decoder is unchanged), HEARTH_E_NOMEM. */
HEARTH_API hearth_status hearth_detok_push(hearth_detok *d, int32_t id, const char **text,
                                           size_t *len, hearth_error *err);
/* Ends the stream: the held-back bytes of an unfinished character come out as
 * U+FFFD. OUT as for push. The decoder is then reset for a new stream. */
HEARTH_API hearth_status hearth_detok_flush(hearth_detok *d, const char **text, size_t *len,
                                            hearth_error *err);
/* Drops held-back bytes and starts a new stream (with the same text_start). */
HEARTH_API void hearth_detok_reset(hearth_detok *d);


/* ======================================================================== */
/* Models and inference (src/model, src/engine)                             */
/* ======================================================================== */

/* (model and inference API) */


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
