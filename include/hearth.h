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
#include <stdio.h>

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
    HEARTH_E_SIGNATURE,   /* a file is unsigned, its signature is bad, by an untrusted key,
                             or the file changed after signing */
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
 * stays in the file mapping (or the caller's buffer).
 *
 * Errors at open: HEARTH_E_FORMAT for a malformed file, HEARTH_E_LIMIT when a
 * field passes a hard limit (key 64 KiB, tensor name 1 KiB, string 64 MiB,
 * array 2^28 elements, arrays nested 4 deep, 2^20 keys or tensors, alignment
 * 1 MiB), HEARTH_E_UNSUPPORTED for GGUF v1, a big-endian file or a tensor
 * type hearth cannot run, HEARTH_E_IO when the file cannot be read. The
 * message names the key or tensor, the field and its file offset, e.g.
 * "model.gguf: tensor 'blk.0.attn_q.weight': ne[1] is negative (-3) (at
 * offset 90)".
 *
 * A handle is immutable once open: every accessor below may be called from
 * any thread concurrently. Pointers it returns are borrowed and stay valid
 * until hearth_gguf_free. */
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

/* Options for hearth_gguf_open_ex. */
typedef struct {
    /* Accept tensors of types hearth cannot run (IQ*, TQ*, I8, ...): every
     * other check still applies. For tools that only show a file (hearth
     * inspect); a model must not be run from such a handle. Default false. */
    bool allow_unsupported_types;
} hearth_gguf_params;

HEARTH_API hearth_gguf_params hearth_gguf_default_params(void);

/* As hearth_gguf_open / hearth_gguf_open_buffer with options; p NULL means
 * the defaults. buf (if given) is borrowed and must outlive the handle;
 * path is used when buf is NULL. Any thread. */
HEARTH_API hearth_status hearth_gguf_open_ex(const char *path, const void *buf, size_t len,
                                             const hearth_gguf_params *p, hearth_gguf **out,
                                             hearth_error *err);

/* NULL is a no-op. Invalidates every pointer obtained from the handle. Not
 * concurrently with other calls on the same handle. */
HEARTH_API void hearth_gguf_free(hearth_gguf *g);

HEARTH_API uint32_t hearth_gguf_version(const hearth_gguf *g);
HEARTH_API size_t hearth_gguf_alignment(const hearth_gguf *g);
/* Absolute file offset of the tensor data section (the end of the tensor
 * infos rounded up to the alignment; a file without tensor data, such as a
 * vocab-only file, may end before it). */
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
                                   NULL for arrays of strings or arrays
                                   (elements of arrays of arrays are
                                   validated but not exposed). A BOOL is
                                   one byte; any non-zero value is true. */
} hearth_gguf_value;

HEARTH_API int64_t hearth_gguf_n_kv(const hearth_gguf *g);
/* Key of entry i (0 <= i < n_kv), NUL-terminated; NULL if i is out of range. */
HEARTH_API const char *hearth_gguf_kv_key(const hearth_gguf *g, int64_t i);
/* Index of key, or -1. */
HEARTH_API int64_t hearth_gguf_find_key(const hearth_gguf *g, const char *key);
/* Value of entry i; HEARTH_E_ARG if i is out of range. */
HEARTH_API hearth_status hearth_gguf_kv_value(const hearth_gguf *g, int64_t i,
                                              hearth_gguf_value *out);
/* Element j of a string array entry i: its bytes (not NUL-terminated; may
 * hold NUL bytes, so use *len) and length; NULL if entry i is not a string
 * array or j is out of range. O(1). */
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
 * its byte length. A value that contains a NUL byte is HEARTH_E_FORMAT
 * naming the key (read as a C string it would be a prefix of itself, e.g.
 * general.architecture "llama\0..."); hearth_gguf_kv_value still gives its
 * raw bytes. */
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
    const void *data;     /* into the mapping or buffer; NULL if nbytes is 0 */
} hearth_gguf_tensor;

HEARTH_API int64_t hearth_gguf_n_tensors(const hearth_gguf *g);
/* NULL if i is out of range. */
HEARTH_API const hearth_gguf_tensor *hearth_gguf_tensor_at(const hearth_gguf *g, int64_t i);
/* NULL if there is no tensor of that name. */
HEARTH_API const hearth_gguf_tensor *hearth_gguf_find_tensor(const hearth_gguf *g,
                                                             const char *name);

/* Writes GGUF v3 deterministically: keys and tensors in the order they were
 * added, alignment from general.alignment (default 32; it must be a u32
 * power of two up to 1 MiB, else the write fails with HEARTH_E_ARG), zero
 * padding after the header and after each tensor's data (so the file ends
 * aligned, as llama.cpp writes). Every file it writes opens with
 * hearth_gguf_open and reads back the same keys, values and tensors. One
 * thread per writer. */
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
/* Writes the file: to PATH.tmp.XXXXXX in the same directory, fsync'd, then
 * renamed over path, so a reader never sees a partial file. On failure the
 * temporary file is removed and path is untouched. */
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
 * bytes back. Deterministic; never an error. (Some "gpt2" vocabularies lack
 * the token of a rare byte, e.g. Falcon's has none for 0x0B; such a byte,
 * valid or not, gives no token, as in the model's own tokenizer.) */
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
 * add_space_prefix, the space that tokenizing put in front of the text (and
 * after each special token) is removed again from the next normal piece, so
 * hearth_detokenize(hearth_tokenize(s)) == s.
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

/* Token ids are int32_t throughout (as in GGUF's tokenizer arrays). */

/* ---- Models -------------------------------------------------------------- */

/* A loaded model: the GGUF file (weights stay in the file mapping, in the
 * file's own layout), its hyper-parameters and its tokenizer. Immutable once
 * opened, so one model can serve several contexts on different threads. */
typedef struct hearth_model hearth_model;

typedef struct {
    int n_threads; /* default threads for contexts; 0 = number of CPUs */
    bool use_mmap; /* true (default): map the file; false: read it into memory */
    bool prefault; /* with use_mmap: map every page of the file at open
                      (MADV_POPULATE_READ where the kernel has it), so the
                      first forward pass takes no page faults; open takes
                      that time instead, in one cheaper pass (false) */
} hearth_model_params;

/* Defaults: n_threads 0, use_mmap true, prefault false. Any thread. */
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
/* True for an encoder (embedding) model, architecture "bert": it has no
 * logits, hearth_ctx_decode refuses it (HEARTH_E_UNSUPPORTED) and
 * hearth_ctx_embed is its one use. Any thread. */
HEARTH_API bool hearth_model_is_encoder(const hearth_model *m);
HEARTH_API int32_t hearth_model_n_layer(const hearth_model *m);
/* Token ids are [0, n_vocab), and each logit vector has n_vocab floats. With
 * a tokenizer, n_vocab is its token count (hearth_tokenizer_n_vocab): rows
 * of token_embd/output past it (converters pad some vocabularies, e.g.
 * Qwen2.5's 151936 rows for 151665 tokens) are no token, are never scored
 * and can never be sampled. A tokenizer with more tokens than the embedding
 * has rows is refused at open. Without a tokenizer: the embedding's rows. */
HEARTH_API int32_t hearth_model_n_vocab(const hearth_model *m);
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
    /* KV cache element types (llama.cpp's --cache-type-k/-v). Keys:
     * HEARTH_TYPE_F16 (default), HEARTH_TYPE_F32 or HEARTH_TYPE_Q8_0; values:
     * those or HEARTH_TYPE_Q4_0. Q8_0 keys and values take 53% of F16's
     * bytes (Q8_0 keys with Q4_0 values 41%) and need a head size that is a
     * multiple of 32; anything else fails hearth_ctx_new with HEARTH_E_ARG.
     * Attention reads the blocks as stored; the outputs differ from F16's
     * by the quantization's rounding (see the README). */
    hearth_type type_k;
    hearth_type type_v;
} hearth_ctx_params;

/* Defaults as documented on each field. Any thread. */
HEARTH_API hearth_ctx_params hearth_ctx_default_params(void);
/* Parses a KV cache type name as llama.cpp's --cache-type-k/-v take it
 * ("f16", "f32", "q8_0"; for values also "q4_0"; any case) for keys
 * (values false) or values. OUT: *out. HEARTH_E_ARG naming the accepted
 * names otherwise (the context checks the head size later). Any thread. */
HEARTH_API hearth_status hearth_cache_type_parse(const char *name, bool values, hearth_type *out,
                                                 hearth_error *err);
/* Unless said otherwise, the hearth_ctx_* functions below and
 * hearth_generate are "one thread per context". */

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
/* Bytes the KV cache holds (keys and values of every position, allocated
 * when the context was made; 0 for an embedding model). */
HEARTH_API uint64_t hearth_ctx_kv_bytes(const hearth_ctx *c);
/* Positions stored for sequence seq (the position its next token gets);
 * -1 if seq is out of range. */
HEARTH_API int32_t hearth_ctx_seq_len(const hearth_ctx *c, int32_t seq);
/* Forgets sequence seq (seq == -1: every sequence). */
HEARTH_API hearth_status hearth_ctx_seq_clear(hearth_ctx *c, int32_t seq, hearth_error *err);
/* Keeps the first n_keep positions of seq and forgets the rest (reuse of a
 * shared prompt prefix). n_keep > seq_len is HEARTH_E_ARG. */
HEARTH_API hearth_status hearth_ctx_seq_truncate(hearth_ctx *c, int32_t seq, int32_t n_keep,
                                                 hearth_error *err);

/* Saved sequence state (src/engine/kv_state.c): the keys and values of a
 * sequence's positions [0, n), so that a later context (another process)
 * continues from them without evaluating those tokens again. The bytes are
 * a header (format version, a fingerprint of the model's shape and
 * weights, the KV type, layers, row size, n), the rows and a checksum; they
 * are only meaningful to a context of the same model file with the same KV
 * type. The engine does not know which tokens they stand for: the caller
 * keeps that beside them. Saving reads the context only (one thread per
 * handle). */

/* Bytes hearth_ctx_seq_state_save writes for n positions; 0 if n is
 * negative or the context has no KV cache (an embedding model). */
HEARTH_API size_t hearth_ctx_seq_state_size(const hearth_ctx *c, int32_t n);
/* Writes positions [0, n) of seq into buf (cap bytes, at least
 * hearth_ctx_seq_state_size(c, n)). OUT: *written (optional). Errors:
 * HEARTH_E_ARG (seq out of range, n outside [0, seq_len]), HEARTH_E_LIMIT
 * (cap too small), HEARTH_E_UNSUPPORTED (an embedding model). */
HEARTH_API hearth_status hearth_ctx_seq_state_save(const hearth_ctx *c, int32_t seq, int32_t n,
                                                   void *buf, size_t cap, size_t *written,
                                                   hearth_error *err);
/* The same bytes written to f at its current position (HEARTH_E_IO when a
 * write fails; f is not flushed or closed). */
HEARTH_API hearth_status hearth_ctx_seq_state_save_file(const hearth_ctx *c, int32_t seq,
                                                        int32_t n, FILE *f, hearth_error *err);
/* Restores a saved state (exactly len bytes) into the empty sequence seq:
 * afterwards seq holds n positions (OUT: *n_out, optional) as if their
 * tokens had been decoded there, and no logits (decode at least one token
 * next). Errors: HEARTH_E_ARG (seq out of range), HEARTH_E_STATE (seq is
 * not empty), HEARTH_E_FORMAT (not a state, another version, truncated,
 * checksum mismatch, or made for another model, KV type or shape: the
 * message says which), HEARTH_E_LIMIT (n above the sequence's capacity).
 * On any error the sequence stays empty. */
HEARTH_API hearth_status hearth_ctx_seq_state_load(hearth_ctx *c, int32_t seq, const void *buf,
                                                   size_t len, int32_t *n_out,
                                                   hearth_error *err);
/* The same read from f at its current position; reads exactly the state's
 * bytes (a state may be embedded in a larger file). HEARTH_E_IO for a read
 * error; a file that ends early is HEARTH_E_FORMAT. */
HEARTH_API hearth_status hearth_ctx_seq_state_load_file(hearth_ctx *c, int32_t seq, FILE *f,
                                                        int32_t *n_out, hearth_error *err);

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
 * Errors: HEARTH_E_ARG (a token id outside [0, hearth_model_n_vocab), a bad
 * sequence or position), HEARTH_E_LIMIT (a sequence would pass its
 * capacity: nothing is written, the context is unchanged). On error the
 * logits are invalid. */
HEARTH_API hearth_status hearth_ctx_decode(hearth_ctx *c, const hearth_batch *b,
                                           hearth_error *err);

/* Convenience: appends n tokens to sequence seq and computes the logits of
 * the last one (hearth_ctx_logits(c, -1)). Same errors as decode. */
HEARTH_API hearth_status hearth_ctx_eval(hearth_ctx *c, int32_t seq, const int32_t *tokens,
                                         int32_t n, hearth_error *err);

/* Logits (hearth_model_n_vocab floats, one per token id; padded embedding
 * rows past the tokenizer's vocabulary have none) of batch token i of the
 * last decode, or of the last token that had logits when i == -1. NULL if
 * that token had none.
 * Borrowed: valid until the next decode/eval/embed on c. */
HEARTH_API const float *hearth_ctx_logits(const hearth_ctx *c, int32_t i);

/* Embedding of a text: runs tokens through sequence seq (cleared before and
 * after), mean-pools the final (normed) hidden states and L2-normalizes.
 * out receives hearth_model_n_embd floats.
 * For an encoder (hearth_model_is_encoder: BERT family), the whole text goes
 * through the encoder at once and is pooled as the file's metadata says
 * (bert.pooling_type: mean, CLS or last), then L2-normalized; tokens should
 * then be tokenized with add_special (BERT's [CLS] text [SEP]). */
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
 * generator. Same seed, same logits, same history: same tokens. One thread
 * per sampler; samplers are independent of contexts and models. */
typedef struct hearth_sampler hearth_sampler;

/* Any thread. */
HEARTH_API hearth_sampler_params hearth_sampler_default_params(void);
/* p may be NULL. n_vocab: length of the logit vectors it will see. Owned:
 * hearth_sampler_free. */
HEARTH_API hearth_status hearth_sampler_new(const hearth_sampler_params *p, int32_t n_vocab,
                                            hearth_sampler **out, hearth_error *err);
HEARTH_API void hearth_sampler_free(hearth_sampler *s);
/* Picks a token from logits (n_vocab floats, not modified). Does not record
 * it: call hearth_sampler_accept. A NaN logit counts as -inf (never picked
 * while any other is finite); when the best logit is +inf, or every one is
 * -inf or NaN, the pick is greedy's (lowest id on ties). Always returns an
 * id in [0, n_vocab). */
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
    HEARTH_FINISH_TOOL_CALLS, /* (agent answers only) the answer is one or more tool calls */
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

/* The model's own view of one sampled token: log-probabilities from the
 * softmax of the raw logits (before temperature, penalties and truncation),
 * with its most likely alternatives, best first. */
#define HEARTH_MAX_TOP_LOGPROBS 20
typedef struct {
    int32_t token;       /* the sampled token */
    float logprob;       /* log p(token), <= 0 */
    int32_t n_top;       /* entries in top_ids/top_logprobs (>= 2 when the
                            vocabulary has 2 tokens) */
    int32_t top_ids[HEARTH_MAX_TOP_LOGPROBS];
    float top_logprobs[HEARTH_MAX_TOP_LOGPROBS];
} hearth_token_logprob;

/* Called right after a token is sampled, before its text is streamed
 * (also for the EOG token that ends generation). lp is borrowed for the
 * call. */
typedef void (*hearth_logprob_cb)(void *user, const hearth_token_logprob *lp);

/* Fills *out for token under logits (n_vocab floats), with the n_top most
 * likely tokens (clamped to [2, HEARTH_MAX_TOP_LOGPROBS] and to n_vocab).
 * Non-finite logits count as impossible tokens. Any thread. */
HEARTH_API void hearth_logprob_compute(const float *logits, int32_t n_vocab, int32_t token,
                                       int32_t n_top, hearth_token_logprob *out);

typedef struct hearth_spec hearth_spec; /* speculative decoding (below) */

typedef struct {
    int32_t max_tokens;          /* <= 0: until EOG or the context is full */
    const char *const *stop;     /* n_stop stop strings (not emitted) */
    int32_t n_stop;
    int32_t seq;                 /* sequence to generate in (default 0) */
    hearth_sampler_params sampling;
    /* Optional (NULL: no log-probabilities are computed; they cost one pass
     * over the logits per token): called on the generating thread. */
    hearth_logprob_cb on_logprob;
    void *logprob_user;
    int32_t n_top_logprobs;      /* alternatives wanted (2..20; default 2) */
    /* Optional constrained decoding (NULL: unconstrained): only tokens that
     * keep the generated text a prefix of a string the grammar accepts are
     * sampled, and EOG is allowed only once the text is complete. Borrowed
     * for the call; one grammar may serve many generations at once. */
    const struct hearth_grammar *grammar;
    /* With a grammar: NULL constrains from the first token. Otherwise the
     * output is free until this string appears in it; from then on the text
     * after the trigger must match the grammar (tool calls in "auto" mode:
     * trigger "<tool_call>"). */
    const char *grammar_trigger;
    /* Optional prompt progress (NULL: none): called after each piece of
     * the prompt is evaluated with the positions done so far and the
     * prompt's length (done == total once, when prefill ends). Return
     * non-zero to cancel (finish = HEARTH_FINISH_CANCELLED, nothing
     * sampled). Runs where cb runs. */
    int (*on_progress)(void *user, int32_t done, int32_t total);
    void *progress_user;
    /* Optional speculative decoding (NULL: none; see hearth_spec_new):
     * tokens drafted by a small model or by prompt lookup are verified
     * several at a time. The output is the same as without: at temp <= 0
     * the target's greedy tokens, at temp > 0 the same distribution (not
     * the same draws for a seed). With a grammar, generation runs without
     * speculation. Borrowed; one generation at a time per hearth_spec. */
    hearth_spec *spec;
    /* The scheduler only (hearth_sched_generate; default false): true
     * neither reuses what a slot holds nor leaves this generation's tokens
     * there (its sequence is cleared when it ends), so that no later
     * request can find out from its speed or its n_cached that this prompt
     * was seen (the server's incognito requests). */
    bool no_reuse;
} hearth_gen_params;

typedef struct {
    hearth_finish_reason finish;
    int32_t n_prompt;  /* the prompt's tokens (hearth_generate evaluates them all) */
    int32_t n_cached;  /* of those, tokens not evaluated because the sequence
                          already held them (the scheduler's prefix reuse;
                          0 from hearth_generate) */
    int32_t n_restored; /* of n_cached, tokens a saved state restored (the
                           scheduler's restore hook; 0 otherwise) */
    double restore_ms; /* time in the restore hook (part of prompt_ms) */
    int32_t n_gen;     /* tokens sampled, including an EOG token or one that
                          completed a stop string */
    double prompt_ms;  /* prefill time */
    double gen_ms;     /* time of the generation steps (drafting included) */
    /* Speculative decoding (all 0 without): tokens drafted, drafted tokens
     * the target accepted, and verification steps that had drafts
     * (acceptance rate = n_accepted / n_drafted; mean accepted length =
     * n_accepted / n_spec_steps). */
    int32_t n_drafted;
    int32_t n_accepted;
    int32_t n_spec_steps;
} hearth_gen_result;

/* ---- Constrained decoding (src/engine/grammar*.c) ------------------------ */

/* A compiled grammar: immutable once made, shareable between threads and
 * generations (each generation keeps its own parse state). It knows nothing
 * of a vocabulary; hearth_generate binds it to the model's tokenizer (the
 * per-token byte strings are computed once per tokenizer and cached). */
typedef struct hearth_grammar hearth_grammar;

/* Compiles a grammar in llama.cpp's GBNF notation (rules `name ::= ...`,
 * literals, character classes, grouping, | * + ? and {m,n} up to 10000);
 * terminals are code points, matched as their UTF-8 bytes. root names the
 * start rule (NULL: "root"). Errors: HEARTH_E_FORMAT "grammar: line L
 * column C: ...", HEARTH_E_ARG for an undefined rule, a missing start rule
 * or left recursion. Owned: hearth_grammar_free. Any thread. */
HEARTH_API hearth_status hearth_grammar_from_gbnf(const char *text, size_t len, const char *root,
                                                  hearth_grammar **out, hearth_error *err);
/* Compiles a JSON Schema (the subset in docs/grammar.md: object with
 * properties/required/additionalProperties, enum, const, array with items,
 * minItems/maxItems, string with minLength/maxLength or the formats date,
 * time, date-time, uuid, email, number, integer with bounds, boolean, null,
 * anyOf/oneOf, $ref to #, #/$defs or #/definitions) into a grammar every
 * string of which is a JSON text that validates. The grammar picks one
 * canonical shape: properties in the schema's order, properties not listed
 * never generated, between tokens a space or a newline and an indent, 15 digits per
 * number part; oneOf is taken as anyOf (its alternatives should not
 * overlap). "{}" or "true": any JSON value (response_format json_object).
 * Errors: HEARTH_E_FORMAT (not JSON), HEARTH_E_UNSUPPORTED naming the
 * keyword (e.g. 'pattern'), HEARTH_E_ARG (a bad $ref, impossible bounds).
 * Any thread. */
HEARTH_API hearth_status hearth_grammar_from_json_schema(const char *schema, size_t len,
                                                         hearth_grammar **out,
                                                         hearth_error *err);
/* The GBNF text of a JSON Schema, its start rule named root_name (NULL:
 * "root") and every other rule prefixed with it, so callers can compose
 * several schemas and literal text into one grammar (tool calls wrapped in a
 * template's markers). *out is malloc'd: hearth_free. Same errors. */
HEARTH_API hearth_status hearth_json_schema_to_gbnf(const char *schema, size_t len,
                                                    const char *root_name, char **out,
                                                    hearth_error *err);
HEARTH_API void hearth_grammar_free(hearth_grammar *g);

HEARTH_API hearth_gen_params hearth_gen_default_params(void);

/* Appends prompt (n_prompt >= 1 tokens, already including BOS if wanted) to
 * sequence p->seq, then samples and decodes one token at a time, streaming
 * through cb (may be NULL), until EOG, a stop string, max_tokens, the end of
 * the sequence's capacity (finish = CTX, status OK) or cancellation. The
 * sequence keeps the prompt and every generated token except the last one
 * (the token that ended generation is sampled but not evaluated), so
 * hearth_ctx_seq_len tells what a later call continues from. Prompt tokens
 * are part of the penalties' history. If the prompt itself does not fit,
 * HEARTH_E_LIMIT and cb is never called. Needs the model's tokenizer when cb
 * or stop strings are given. res may be NULL. */
HEARTH_API hearth_status hearth_generate(hearth_ctx *c, const int32_t *prompt, int32_t n_prompt,
                                         const hearth_gen_params *p, hearth_gen_cb cb,
                                         void *user, hearth_gen_result *res,
                                         hearth_error *err);


/* ---- Speculative decoding (src/engine/spec*.c) -------------------------- */

/* On a CPU a decode step costs reading the weights once, so verifying k
 * drafted tokens in one batch costs little more than one token, and every
 * drafted token the target model accepts is nearly free. Drafts come from a
 * small model with the same vocabulary, from prompt lookup (the tokens that
 * followed the latest earlier occurrence of the sequence's last n-gram:
 * pays off when answers quote their input) or both, chosen per step by
 * their measured acceptance. A drafted token is accepted with probability
 * min(1, p_target / p_draft) and a rejection is redrawn from the normalized
 * max(0, p_target - p_draft), both distributions after the full sampler
 * chain (penalties, top-k, top-p, min-p, temperature), so the output
 * distribution is exactly the target's; at temp <= 0 a draft is accepted
 * iff it is the target's greedy token. The draft length adapts (the
 * expected accepted length against the measured costs of drafting and of
 * verifying), and drafting pauses while it does not pay, so speculation is
 * never much slower than plain decoding.
 * A hearth_spec keeps the draft model's context and the target sequence's
 * tokens between generations (a chat continues where it stopped). */
typedef struct {
    const hearth_model *draft; /* draft model (same tokenizer vocabulary as
                                  the target's), or NULL */
    bool lookup;               /* prompt lookup drafts (default false) */
    int32_t n_draft_max;       /* most tokens drafted per step (default 16, 1..64) */
    int32_t lookup_ngram_min;  /* n-gram lengths lookup matches (default 2..4) */
    int32_t lookup_ngram_max;
    bool adaptive;             /* default true; false: always n_draft_max */
    int n_threads;             /* the draft context's threads (0: the draft model's) */
} hearth_spec_params;

/* Defaults as documented on each field. Any thread. */
HEARTH_API hearth_spec_params hearth_spec_default_params(void);
/* Prepares speculation for generations on target (which, with p->draft,
 * must outlive it). Errors: HEARTH_E_ARG (neither a draft model nor
 * lookup, n_draft_max out of range, a draft that is an embedding model),
 * HEARTH_E_UNSUPPORTED "draft model's vocabulary differs from the
 * target's: ..." (token count or a token's text, naming the first that
 * differs). Owned: hearth_spec_free. Any thread. */
HEARTH_API hearth_status hearth_spec_new(const hearth_model *target, const hearth_spec_params *p,
                                         hearth_spec **out, hearth_error *err);
/* NULL is a no-op. */
HEARTH_API void hearth_spec_free(hearth_spec *s);
/* Forgets the tokens it holds (the draft context's too): call when the
 * target sequence was rewritten by other means. */
HEARTH_API void hearth_spec_reset(hearth_spec *s);
/* Tells s that sequence seq of c now holds tokens[0..n) (evaluated, or
 * restored, outside hearth_generate), so drafts continue them. NULL s is a
 * no-op; on allocation failure s forgets its history (as reset). */
HEARTH_API void hearth_spec_set_history(hearth_spec *s, const hearth_ctx *c, int32_t seq,
                                        const int32_t *tokens, int32_t n);

/* ---- Continuous batching (src/engine/sched.c) ---------------------------- */

/* A scheduler runs generations from many threads at once on one context with
 * n_seq sequence slots, decoding the next token of every running generation
 * in one batch per step (continuous batching): the weights are read once per
 * step for all of them. A generation waits for a free slot. A slot keeps its
 * sequence (prompt and answer) after its generation ends, and a new
 * generation goes to the free slot whose tokens share the longest prefix
 * with its prompt (one reusing at least half of what the slot holds; else
 * the least recently used slot, an empty one first): only the rest of the
 * prompt is evaluated (hearth_gen_result.n_cached tells how many were not),
 * so a conversation's next turn skips its history. The output is the same
 * as with a fresh sequence. While generations run, a new prompt is
 * evaluated in pieces beside them, each sized from the measured costs to
 * take about as long as the generations' own part of the step (16 tokens
 * at least, hearth_sched_set_prefill_chunk at most): a long prompt arriving
 * mid-stream slows running streams (to about half their pace where 16
 * tokens cost no more than a generation step) rather than stalling them. */
typedef struct hearth_sched hearth_sched;

/* Default bound on the prompt tokens a step takes beside running
 * generations. */
#define HEARTH_SCHED_PREFILL_CHUNK 256

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
/* Most prompt tokens a step evaluates while generations run in it (default
 * HEARTH_SCHED_PREFILL_CHUNK; pieces are sized below it as said above; n
 * <= 0: no bound but the batch, a whole batch of prompt per step, which
 * stalls running streams for as long). Steps with no generation take a
 * whole batch of prompt. Any thread; applies from the next step. */
HEARTH_API void hearth_sched_set_prefill_chunk(hearth_sched *s, int32_t n);
/* As hearth_generate, in a free slot picked as said above (p->seq is
 * ignored; res->n_cached: the prompt tokens the slot already held), blocking
 * until the generation ends. cb runs on the scheduler's thread and must be quick.
 * A prompt longer than a slot's capacity is HEARTH_E_LIMIT, one with a token
 * id outside [0, hearth_model_n_vocab) HEARTH_E_ARG (cb never called; the
 * other generations are not disturbed). Any thread; concurrent calls are
 * batched together. */
HEARTH_API hearth_status hearth_sched_generate(hearth_sched *s, const int32_t *prompt,
                                               int32_t n_prompt, const hearth_gen_params *p,
                                               hearth_gen_cb cb, void *user,
                                               hearth_gen_result *res, hearth_error *err);

/* Speculative decoding for every generation of the scheduler (except
 * those with a grammar): each slot gets its own hearth_spec made from p
 * (its draft context runs on the scheduler's thread). Call once, before
 * the first generation (HEARTH_E_STATE otherwise); errors as
 * hearth_spec_new's. hearth_gen_params.spec is ignored by the scheduler. */
HEARTH_API hearth_status hearth_sched_enable_spec(hearth_sched *s, const hearth_spec_params *p,
                                                  hearth_error *err);

/* Saved states for the scheduler's slots, so that a conversation survives
 * the process (the server's hearth_kv_store provides them; the engine keeps
 * nothing on disk). Both hooks run on the scheduler's thread and may be
 * NULL. */
typedef struct {
    /* A generation ended with its answer (EOG, a stop string, max_tokens, a
     * full context; not a failure, a cancellation or a no_reuse one): slot
     * seq of ctx holds tokens[0..n) (its prompt, then the answer's tokens
     * but the last sampled one), which the hook may save
     * (hearth_ctx_seq_state_save*). Called once per such generation, after
     * its caller was woken, when the scheduler has nothing else to run (at
     * the latest before the slot's next generation, or when the scheduler
     * is freed), so it delays no running stream. ctx and tokens borrowed
     * for the call; the hook must not change the sequence. */
    void (*save)(void *user, const hearth_ctx *ctx, int32_t seq, const int32_t *tokens, int32_t n);
    /* A generation of prompt[0..n_prompt) starts in slot seq, whose sequence
     * shares n_have tokens with it (n_have < n_prompt - 1; never for a
     * no_reuse generation). To restore more: clear the sequence
     * (hearth_ctx_seq_clear), load a saved state of prompt[0..r) into it
     * (hearth_ctx_seq_state_load*) and return r, n_have < r <= n_prompt;
     * only the rest is evaluated (res->n_cached and n_restored count the r
     * tokens; a state as long as the prompt is cut by one, to have logits).
     * Return 0 to keep what the slot holds; a hook that cleared the
     * sequence and then failed returns 0 too (the generation evaluates
     * everything). The hook must restore only states whose tokens it knows
     * to be the prompt's: the scheduler cannot tell. */
    int32_t (*restore)(void *user, hearth_ctx *ctx, int32_t seq, const int32_t *prompt,
                       int32_t n_prompt, int32_t n_have);
    void *user;
} hearth_sched_state_hooks;

/* Installs h (copied; h->user must outlive s). Once, while no generation
 * runs or waits (HEARTH_E_STATE otherwise). Any thread. */
HEARTH_API hearth_status hearth_sched_set_state_hooks(hearth_sched *s, const hearth_sched_state_hooks *h,
                                                      hearth_error *err);

/* ======================================================================== */
/* Evaluation: perplexity, KL divergence, top-1 agreement (src/eval)        */
/* ======================================================================== */

/*
 * What a quantization costs in quality, measured as llama-perplexity
 * measures it (so the figures are comparable): the token sequence is cut
 * into non-overlapping windows of n_ctx tokens, each window is evaluated
 * from an empty context (its first token replaced by BOS when the base
 * model's tokenizer adds one), and only the second half is scored: the
 * next-token distribution at position j (j in [n_ctx/2, n_ctx-1)) against
 * the sequence's token j+1. With a test model beside the base, both run over
 * the same windows and the scored positions also give the KL divergence
 * KL(base || test) of the two next-token distributions (as llama.cpp's
 * --kl-divergence), whether both pick the same most likely token (top-1
 * agreement) and the ratio of the perplexities. The base logits are
 * computed on the fly (no saved logits file). All sums are in double.
 */
typedef struct hearth_eval hearth_eval;

typedef struct {
    int32_t n_ctx;      /* window length in tokens (>= 4); default 512 */
    int32_t max_chunks; /* hearth_eval_tokens: at most this many windows; <= 0: all */
    int n_threads;      /* 0: each model's default */
    /* KV cache types (hearth_ctx_params.type_k/type_v) of the evaluated
     * model's context: the test model's when there is one (the base keeps
     * F16, so a base that is the same file measures the cache's own cost),
     * else the base's. Default F16. */
    hearth_type type_k, type_v;
} hearth_eval_params;

/* Defaults as documented on each field. Any thread. */
HEARTH_API hearth_eval_params hearth_eval_default_params(void);

/* One model's perplexity over the scored positions: PPL = exp(nll), nll the
 * mean negative log-likelihood (nats), nll_se its standard error, ppl_err =
 * ppl * nll_se (llama-perplexity's "+/-"). */
typedef struct {
    double nll, nll_se, ppl, ppl_err;
} hearth_eval_ppl;

typedef struct {
    int32_t n_chunks;     /* windows evaluated */
    int64_t n_scored;     /* positions scored */
    hearth_eval_ppl base; /* the base model */
    bool has_test;        /* false: single-model evaluation, the fields below are 0 */
    hearth_eval_ppl test;
    double ppl_ratio;     /* test.ppl / base.ppl = exp(mean(nll_test - nll_base)) */
    double ppl_ratio_err; /* ppl_ratio * standard error of that mean */
    double kld_mean, kld_err; /* mean KL(base || test) in nats, its standard error */
    double kld_median, kld_p90, kld_p95, kld_p99, kld_max; /* over the scored positions;
                             percentiles interpolated linearly between ranks */
    double top1, top1_err; /* share of positions where both argmaxes agree, its std. error */
} hearth_eval_result;

/* Makes an evaluator of base (and, if test is non-NULL, of test against
 * base). Both models must outlive it. With a test model the vocabularies
 * must be the same (the same token count and the same text for every token
 * id; both with or both without a tokenizer), else HEARTH_E_ARG naming the
 * first difference. p may be NULL (defaults). Makes one context per model of
 * p->n_ctx positions. On success *out owns it (hearth_eval_free). Any thread. */
HEARTH_API hearth_status hearth_eval_new(const hearth_model *base, const hearth_model *test,
                                         const hearth_eval_params *p, hearth_eval **out,
                                         hearth_error *err);
/* NULL is a no-op. */
HEARTH_API void hearth_eval_free(hearth_eval *ev);
/* Evaluates one window: tokens[0..n_ctx) (exactly the evaluator's n_ctx
 * tokens, ids in [0, n_vocab)) and adds its scored positions to the totals.
 * Errors: HEARTH_E_ARG (a bad id), HEARTH_E_NOMEM, and what decode reports;
 * on error the totals are as before the call. One thread per evaluator. */
HEARTH_API hearth_status hearth_eval_window(hearth_eval *ev, const int32_t *tokens,
                                            hearth_error *err);
/* The figures over every window so far (zeros before the first). Error:
 * HEARTH_E_NOMEM (sorting for the percentiles). One thread per evaluator. */
HEARTH_API hearth_status hearth_eval_get(const hearth_eval *ev, hearth_eval_result *out,
                                         hearth_error *err);
/* Convenience: hearth_eval_new, then every whole window of tokens[0..n)
 * (at most p->max_chunks), then hearth_eval_get into *out. Fewer than n_ctx
 * tokens is HEARTH_E_ARG. test may be NULL (perplexity of base only). Any
 * thread. */
HEARTH_API hearth_status hearth_eval_tokens(const hearth_model *base, const hearth_model *test,
                                            const int32_t *tokens, size_t n,
                                            const hearth_eval_params *p, hearth_eval_result *out,
                                            hearth_error *err);

/* ======================================================================== */
/* Local store (src/store)                                                  */
/* ======================================================================== */

/*
 * The local store: one SQLite database (WAL mode) in the data directory
 * ($HEARTH_HOME, default ~/.local/share/hearth, file hearth.db) holding
 * sessions, messages, tasks, embeddings, the response cache, settings and a
 * change log for sync. The store knows nothing of models: embeddings are
 * plain float32 vectors, cache keys are strings the caller computes.
 *
 * Durability: every write that returned HEARTH_OK outside an explicit
 * transaction (or whose hearth_store_commit returned HEARTH_OK) survives the
 * process being killed (synchronous=FULL by default). Every change to
 * sessions, messages and tasks appends a change record in the same
 * transaction as the change itself.
 *
 * Times are Unix epoch milliseconds (UTC). A handle is used by one thread at
 * a time; several handles (in one or several processes) may open the same
 * database, SQLite serialises their writes (busy timeout in the params).
 *
 * Results that are arrays of records (messages, tasks, sessions, changes) are
 * returned as ONE owned allocation: free it with hearth_free; the strings the
 * records point to live inside that block.
 */

typedef struct hearth_store hearth_store;

/* Schema version this build writes; a database with a higher version is
 * refused (HEARTH_E_UNSUPPORTED) and left untouched. */
#define HEARTH_STORE_SCHEMA_VERSION 5

typedef struct {
    const char *path;         /* database file; NULL: <data_dir>/hearth.db */
    const char *data_dir;     /* NULL: $HEARTH_HOME, else ~/.local/share/hearth;
                                 created (mode 0700) if missing */
    int busy_timeout_ms;      /* wait for other writers; default 5000; past it a
                                 write fails with HEARTH_E_IO ("locked") */
    bool sync_full;           /* true (default): synchronous=FULL; false:
                                 NORMAL (survives a process crash, may lose
                                 the last commits on power loss) */
    int64_t cache_max_entries; /* response cache limits (<= 0: unlimited);
                                  default 10000 */
    int64_t cache_max_bytes;   /* default 64 MiB (sum of key+response sizes) */
} hearth_store_params;

/* Any thread. */
HEARTH_API hearth_store_params hearth_store_default_params(void);

/* Opens (creating if needed) the database named by p (NULL: defaults),
 * applies pending schema migrations, and sets WAL mode, the busy timeout and
 * foreign keys. The file is created 0600; an existing data directory, file,
 * -wal or -shm that this user owns loses its group and other permissions
 * (chmod by path: hearth never opens the database file outside SQLite, whose
 * POSIX locks any close() of it would drop). Errors: HEARTH_E_IO (directory
 * or file not usable), HEARTH_E_FORMAT (not a SQLite/hearth database, or a
 * negative schema version; nothing is written), HEARTH_E_UNSUPPORTED (schema
 * newer than this build; nothing is written). On success *out owns the handle
 * (hearth_store_free); on failure *out is NULL. Any thread. */
HEARTH_API hearth_status hearth_store_open(const hearth_store_params *p, hearth_store **out,
                                           hearth_error *err);

/* Closes the database. An open explicit transaction is rolled back.
 * NULL is a no-op. Invalidates nothing the caller owns (results are
 * independent allocations). */
HEARTH_API void hearth_store_free(hearth_store *s);

/* Path of the database file; borrowed, valid until hearth_store_free. */
HEARTH_API const char *hearth_store_path(const hearth_store *s);

/* Default data directory ($HEARTH_HOME, else $HOME/.local/share/hearth) into
 * buf (cap bytes, NUL-terminated). HEARTH_E_LIMIT if it does not fit,
 * HEARTH_E_IO if neither variable is set. Does not create it. Any thread. */
HEARTH_API hearth_status hearth_store_default_dir(char *buf, size_t cap, hearth_error *err);

/* ---- transactions -------------------------------------------------------- */

/* Groups writes into one atomic, durable unit (and makes batches fast).
 * Nestable: an inner begin/commit is a savepoint; an inner rollback undoes
 * only the work since its begin. The outermost commit makes everything
 * durable; if it fails, everything since the outermost begin is rolled
 * back. Every write call below is itself atomic: if it fails inside a
 * transaction, its partial effects are undone and the transaction stays
 * usable. begin takes the database's write lock (other writers wait up to
 * the busy timeout), so keep transactions short. HEARTH_E_STATE for
 * commit/rollback without begin. */
HEARTH_API hearth_status hearth_store_begin(hearth_store *s, hearth_error *err);
HEARTH_API hearth_status hearth_store_commit(hearth_store *s, hearth_error *err);
HEARTH_API hearth_status hearth_store_rollback(hearth_store *s, hearth_error *err);

/* ---- sessions ------------------------------------------------------------ */

typedef struct {
    int64_t id;
    const char *name;
    int64_t created_ms;
    int64_t updated_ms;   /* last message or change */
    int64_t n_messages;
    int64_t version;
} hearth_session;

/* Id of the session called name (1..256 bytes), created if it does not
 * exist (OUT: *id). */
HEARTH_API hearth_status hearth_store_session_ensure(hearth_store *s, const char *name,
                                                     int64_t *id, hearth_error *err);
/* Id of an existing session; HEARTH_E_NOTFOUND if there is none. */
HEARTH_API hearth_status hearth_store_session_find(hearth_store *s, const char *name,
                                                   int64_t *id, hearth_error *err);
/* All sessions, most recently updated first. OUT: *out (owned block, free
 * with hearth_free; NULL when *n == 0), *n. */
HEARTH_API hearth_status hearth_store_session_list(hearth_store *s, hearth_session **out,
                                                   size_t *n, hearth_error *err);
/* Deletes the session's messages and its summary, keeping the session
 * (chat /reset). HEARTH_E_NOTFOUND for an unknown id. */
HEARTH_API hearth_status hearth_store_session_clear(hearth_store *s, int64_t id,
                                                    hearth_error *err);
/* Deletes the session and its messages. HEARTH_E_NOTFOUND for an unknown id. */
HEARTH_API hearth_status hearth_store_session_delete(hearth_store *s, int64_t id,
                                                     hearth_error *err);

/* The session's stored summary of its older messages: text covering every
 * message with id <= through_id. Set replaces it; through_id is the caller's
 * bookkeeping (the store does not check it). get: OUT *text (owned, free with
 * hearth_free), *through_id; HEARTH_E_NOTFOUND if the session has none. */
HEARTH_API hearth_status hearth_store_summary_set(hearth_store *s, int64_t session_id,
                                                  const char *text, int64_t through_id,
                                                  hearth_error *err);
HEARTH_API hearth_status hearth_store_summary_get(hearth_store *s, int64_t session_id,
                                                  char **text, int64_t *through_id,
                                                  hearth_error *err);

/* ---- messages ------------------------------------------------------------ */

typedef struct {
    int64_t id;           /* assigned by the store (autoincrement) */
    int64_t session_id;
    const char *role;     /* "system", "user", "assistant", "tool", ... (1..32 bytes) */
    const char *content;  /* UTF-8; may be "" */
    int32_t n_tokens;     /* token count as the caller counted it; 0 if unknown */
    const char *model;    /* model that wrote it, or NULL */
    int64_t created_ms;   /* 0 on insert: now */
    /* Where an answer came from ("local", "cache", "cloud", "local-degraded",
     * as hearth_source_name), or NULL (not an answer, or not recorded); its
     * confidence in [0, 1] is stored only with a source (read back: -1 when
     * none was stored). */
    const char *source;
    double confidence;
} hearth_message;

/* Appends one message (m->id is ignored). OUT: *id (optional). HEARTH_E_ARG
 * for a missing role/content, HEARTH_E_NOTFOUND for an unknown session. */
HEARTH_API hearth_status hearth_store_message_add(hearth_store *s, const hearth_message *m,
                                                  int64_t *id, hearth_error *err);
/* Appends n messages in one transaction (all or nothing). ids (optional, n
 * entries) receives their ids. */
HEARTH_API hearth_status hearth_store_message_add_batch(hearth_store *s,
                                                        const hearth_message *m, size_t n,
                                                        int64_t *ids, hearth_error *err);

typedef struct {
    int64_t session_id;   /* 0: every session */
    int64_t since_ms;     /* created_ms >= since_ms; 0: no lower bound */
    int64_t until_ms;     /* created_ms < until_ms; 0: no upper bound */
    int64_t after_id;     /* id > after_id; 0: no bound */
    int64_t last_n;       /* > 0: only the newest last_n that match */
} hearth_message_query;

/* All-zero query: every message of every session. Any thread. */
HEARTH_API hearth_message_query hearth_message_query_default(void);

/* Messages matching q, oldest first (by id). OUT: *out (owned block, free
 * with hearth_free; NULL when *n == 0), *n. */
HEARTH_API hearth_status hearth_store_messages(hearth_store *s, const hearth_message_query *q,
                                               hearth_message **out, size_t *n,
                                               hearth_error *err);
/* One message by id. OUT: *out (owned, free with hearth_free).
 * HEARTH_E_NOTFOUND if there is none. */
HEARTH_API hearth_status hearth_store_message_get(hearth_store *s, int64_t id,
                                                  hearth_message **out, hearth_error *err);

/* ---- the audit log of outbound requests (src/store/audit.c) -------------- */

/* One outbound request (a cloud call; later sync, model pulls, update
 * checks), or one that was considered and not sent: what the policy decided
 * and why, where it went and how much. No content unless the user turned on
 * audit_content. The audit log never syncs. */
typedef struct {
    int64_t id;               /* assigned by the store */
    int64_t time_ms;          /* 0 on add: now */
    const char *kind;         /* "cloud", "sync", "pull", "update" (1..32 bytes) */
    const char *session;      /* session name, or NULL */
    const char *category;     /* the request's privacy category (1..32 bytes) */
    const char *decision;     /* e.g. "sent", "blocked", "consent-needed" (1..32) */
    const char *reason;       /* why, in words (0..1024 bytes) */
    const char *host;         /* destination host, or NULL when nothing was sent */
    int64_t bytes_out, bytes_in;
    const char *redactions_json; /* counts by kind, a JSON object ({"EMAIL":1});
                                    NULL on add: {} */
    double confidence;        /* the local answer's, or -1 */
    double latency_ms;        /* of the outbound request, or -1 */
    const char *outcome;      /* "ok", "timeout", "http 500", ... or NULL */
    const char *content;      /* what was sent (audit_content only), or NULL */
} hearth_audit_record;

/* Appends a record (id ignored). OUT: *id (optional). HEARTH_E_ARG for a
 * missing or oversized field, or redactions that are not a JSON object. */
HEARTH_API hearth_status hearth_store_audit_add(hearth_store *s, const hearth_audit_record *r,
                                                int64_t *id, hearth_error *err);
/* Replaces the outcome of record id once the request is done: decision,
 * reason, bytes_out, bytes_in, latency_ms, outcome and content of r (the
 * other fields stay as they were added). Lets a caller record a request
 * before it leaves and complete the record after. HEARTH_E_NOTFOUND for an
 * unknown id, HEARTH_E_ARG as for add. */
HEARTH_API hearth_status hearth_store_audit_update(hearth_store *s, int64_t id,
                                                   const hearth_audit_record *r,
                                                   hearth_error *err);
/* Records with time_ms >= since_ms (0: all), oldest first; last_n > 0 keeps
 * only the newest last_n. OUT: *out (owned block, free with hearth_free; NULL
 * when *n == 0), *n. */
HEARTH_API hearth_status hearth_store_audit_list(hearth_store *s, int64_t since_ms,
                                                 int64_t last_n, hearth_audit_record **out,
                                                 size_t *n, hearth_error *err);
/* One record. OUT: *out (owned: hearth_free). HEARTH_E_NOTFOUND if none. */
HEARTH_API hearth_status hearth_store_audit_get(hearth_store *s, int64_t id,
                                                hearth_audit_record **out, hearth_error *err);

/* ---- tasks --------------------------------------------------------------- */

typedef struct {
    int64_t id;               /* assigned by the store */
    const char *title;        /* 1..4096 bytes */
    const char *notes;        /* NULL on add: "" */
    const char *status;       /* [a-z_]{1,32}; NULL on add: "open" ("done" when completed) */
    int32_t priority;         /* higher is more urgent; 0 = none */
    int64_t due_ms;           /* 0: no due date */
    const char *const *tags;  /* n_tags tags, each 1..64 bytes, no duplicates */
    size_t n_tags;
    const char *payload_json; /* any JSON value, or NULL */
    int64_t created_ms;       /* set by the store */
    int64_t updated_ms;       /* set by the store */
    int64_t version;          /* 1 on add, +1 on every change */
} hearth_task;

/* Adds a task (id, times and version in t are ignored). OUT: *id (optional).
 * HEARTH_E_ARG for an invalid field (named in err). */
HEARTH_API hearth_status hearth_store_task_add(hearth_store *s, const hearth_task *t,
                                               int64_t *id, hearth_error *err);
/* Replaces every field of task t->id (NULL notes/status keep "" / the
 * current status). If t->version is non-zero it must equal the stored
 * version, else HEARTH_E_STATE (someone changed it meanwhile). OUT: *version
 * (optional) the new version. HEARTH_E_NOTFOUND for an unknown id. */
HEARTH_API hearth_status hearth_store_task_update(hearth_store *s, const hearth_task *t,
                                                  int64_t *version, hearth_error *err);
/* Sets the status of task id (e.g. "done"). HEARTH_E_NOTFOUND if unknown. */
HEARTH_API hearth_status hearth_store_task_set_status(hearth_store *s, int64_t id,
                                                      const char *status, hearth_error *err);
/* Deletes task id (and its "task" embeddings). HEARTH_E_NOTFOUND if unknown. */
HEARTH_API hearth_status hearth_store_task_delete(hearth_store *s, int64_t id,
                                                  hearth_error *err);
/* One task. OUT: *out (owned, free with hearth_free). HEARTH_E_NOTFOUND. */
HEARTH_API hearth_status hearth_store_task_get(hearth_store *s, int64_t id, hearth_task **out,
                                               hearth_error *err);

typedef struct {
    const char *status;     /* NULL: any */
    const char *tag;        /* NULL: any; else tasks carrying this tag */
    int32_t priority_min;   /* inclusive; default INT32_MIN */
    int32_t priority_max;   /* inclusive; default INT32_MAX */
    int64_t due_after_ms;   /* due_ms >= this; 0: no bound */
    int64_t due_before_ms;  /* due_ms < this; 0: no bound. With either bound,
                               tasks without a due date do not match. */
    const char *text;       /* NULL: any; else a case-insensitive (ASCII)
                               substring of title or notes */
    int64_t limit;          /* > 0: at most this many */
} hearth_task_query;

/* No filter (priority bounds at INT32_MIN/INT32_MAX: start from this, not
 * from a zeroed struct). Any thread. */
HEARTH_API hearth_task_query hearth_task_query_default(void);

/* Tasks matching q, ordered by priority (highest first), then due date
 * (soonest first, none last), then id. OUT: *out (owned block, free with
 * hearth_free; NULL when *n == 0), *n. */
HEARTH_API hearth_status hearth_store_tasks(hearth_store *s, const hearth_task_query *q,
                                            hearth_task **out, size_t *n, hearth_error *err);

/* ---- embeddings ---------------------------------------------------------- */

#define HEARTH_EMBED_KIND_MAX 16 /* owner kinds are 1..15 bytes */

/* Stores vec (dim floats, 1..65536, finite) as the embedding of (owner_kind,
 * owner_id) under model (1..256 bytes), replacing an earlier one for the same
 * triple. Owner kinds are the caller's names; two are tied to rows: deleting
 * a message or a task deletes its "message" / "task" embeddings. group_id is
 * a free grouping number searches can filter on (e.g. the session id of a
 * message; 0: none). OUT: *id (optional). */
HEARTH_API hearth_status hearth_store_embedding_put(hearth_store *s, const char *owner_kind,
                                                    int64_t owner_id, int64_t group_id,
                                                    const char *model, const float *vec,
                                                    int32_t dim, int64_t *id,
                                                    hearth_error *err);
/* Deletes the embeddings of (owner_kind, owner_id) under every model; no
 * error when there are none. */
HEARTH_API hearth_status hearth_store_embedding_delete(hearth_store *s, const char *owner_kind,
                                                       int64_t owner_id, hearth_error *err);

typedef struct {
    int64_t id;                             /* embedding id */
    char owner_kind[HEARTH_EMBED_KIND_MAX]; /* NUL-terminated */
    int64_t owner_id;
    int64_t group_id;
    float score;                            /* cosine similarity in [-1, 1] */
} hearth_embedding_hit;

/* The k embeddings of model (and owner_kind unless NULL, and group_id unless
 * 0) most similar to query (dim floats) by cosine similarity, best first
 * (ties: lower id first). Embeddings of another dimension are skipped. out
 * has room for k hits; OUT: *n_out (<= k). Brute force over vectors the
 * handle keeps in memory (loaded on the first search, kept current by this
 * handle's writes, reloaded when another connection changed the database).
 * HEARTH_E_STATE inside an explicit transaction (commit first). */
HEARTH_API hearth_status hearth_store_embedding_search(hearth_store *s, const char *model,
                                                       const char *owner_kind,
                                                       int64_t group_id,
                                                       const float *query, int32_t dim,
                                                       size_t k, hearth_embedding_hit *out,
                                                       size_t *n_out, hearth_error *err);

/* ---- response cache ------------------------------------------------------ */

/* Looks up key (1..512 bytes; a hash the caller computes). On a hit: OUT
 * *response (owned, free with hearth_free; NUL-terminated after *len bytes),
 * *len (optional); the entry's hit count and last-used time are updated.
 * HEARTH_E_NOTFOUND on a miss. */
HEARTH_API hearth_status hearth_store_cache_get(hearth_store *s, const char *key,
                                                char **response, size_t *len,
                                                hearth_error *err);
/* Stores (or replaces) key -> response (len bytes), then evicts least
 * recently used entries until both limits hold. HEARTH_E_LIMIT if the entry
 * alone exceeds the byte limit (nothing is stored). */
HEARTH_API hearth_status hearth_store_cache_put(hearth_store *s, const char *key,
                                                const void *response, size_t len,
                                                hearth_error *err);
/* Changes the limits (<= 0: unlimited) for this handle and evicts now. */
HEARTH_API hearth_status hearth_store_cache_set_limits(hearth_store *s, int64_t max_entries,
                                                       int64_t max_bytes, hearth_error *err);
/* Removes every cache entry. */
HEARTH_API hearth_status hearth_store_cache_clear(hearth_store *s, hearth_error *err);
/* OUT: *entries, *bytes (each optional): current cache totals. */
HEARTH_API hearth_status hearth_store_cache_stats(hearth_store *s, int64_t *entries,
                                                  int64_t *bytes, hearth_error *err);

/* ---- settings ------------------------------------------------------------ */

/* key 1..256 bytes. get: OUT *value (owned, free with hearth_free);
 * HEARTH_E_NOTFOUND if unset. set replaces; unset has no error if absent. */
HEARTH_API hearth_status hearth_store_setting_get(hearth_store *s, const char *key,
                                                  char **value, hearth_error *err);
HEARTH_API hearth_status hearth_store_setting_set(hearth_store *s, const char *key,
                                                  const char *value, hearth_error *err);
HEARTH_API hearth_status hearth_store_setting_unset(hearth_store *s, const char *key,
                                                    hearth_error *err);

/* ---- change log (read by sync) ------------------------------------------- */

typedef struct {
    int64_t seq;          /* increasing, never reused */
    const char *table;    /* "sessions", "messages" or "tasks" */
    int64_t key;          /* the row's id */
    int64_t version;      /* the row's version after the change (0 for delete) */
    const char *op;       /* "insert", "update" or "delete" */
    int64_t time_ms;
} hearth_change;

/* Change records with seq > after_seq, oldest first, at most limit (> 0) or
 * all (<= 0). OUT: *out (owned block, free with hearth_free; NULL when
 * *n == 0), *n. */
HEARTH_API hearth_status hearth_store_changes(hearth_store *s, int64_t after_seq, int64_t limit,
                                              hearth_change **out, size_t *n,
                                              hearth_error *err);

/* ---- storage management -------------------------------------------------- */

#define HEARTH_STORE_MAX_TABLES 16

typedef struct {
    const char *name;     /* static: "messages", "tasks", ... */
    int64_t rows;
    int64_t bytes;        /* pages of the table and its indexes; -1 if unknown */
} hearth_store_table_stat;

typedef struct {
    int64_t file_bytes;   /* database file */
    int64_t wal_bytes;    /* write-ahead log (0 if none) */
    int64_t page_size;
    int64_t free_pages;   /* reclaimable by vacuum */
    size_t n_tables;
    hearth_store_table_stat tables[HEARTH_STORE_MAX_TABLES];
} hearth_store_stats;

/* Sizes of the file and of each table. OUT: *st. */
HEARTH_API hearth_status hearth_store_stats_get(hearth_store *s, hearth_store_stats *st,
                                                hearth_error *err);
/* Rebuilds the file to reclaim free pages and truncates the log.
 * HEARTH_E_STATE inside a transaction. */
HEARTH_API hearth_status hearth_store_vacuum(hearth_store *s, hearth_error *err);


/* ---- A/B records (src/store/ab.c) ---------------------------------------- */

/* One answer of `hearth serve`, kept for A/B comparisons of model variants
 * (schema migration 5, table ab_responses): which variant answered, how
 * fast, where from, how sure, and the user's rating once given. No content:
 * the store stays model-agnostic, a variant is only a name. */
#define HEARTH_AB_NAME_MAX 64
typedef struct {
    char response_id[HEARTH_AB_NAME_MAX]; /* the id the API answered with; unique */
    char variant[HEARTH_AB_NAME_MAX];     /* "" when the server had no variants */
    char kind[16];                        /* "chat" or "completion" */
    char source[16];                      /* "local", "cloud", "cache", "local-degraded" */
    int64_t time_ms;                      /* 0 on add: now */
    double latency_ms;                    /* the whole request; < 0: unknown */
    double ttft_ms;                       /* time to the first token; < 0: unknown */
    double tokens_per_s;                  /* generation speed; < 0: unknown */
    int64_t prompt_tokens, completion_tokens;
    double confidence;                    /* the router's, in [0, 1]; < 0: not recorded */
    bool has_rating;                      /* read back: feedback was given */
    double rating;                        /* in [-1, 1] */
    int64_t rated_ms;
} hearth_ab_record;

/* Adds r (its has_rating/rating/rated_ms are ignored). Strings must be
 * non-empty except variant; a response id already stored is HEARTH_E_ARG. */
HEARTH_API hearth_status hearth_store_ab_add(hearth_store *s, const hearth_ab_record *r,
                                             hearth_error *err);
/* Records the user's rating (in [-1, 1]: -1 bad, 1 good) of a stored
 * response; a second rating replaces the first. OUT: variant (optional,
 * cap bytes): the variant that answered. HEARTH_E_NOTFOUND: no such
 * response; HEARTH_E_ARG: rating out of range or not finite. */
HEARTH_API hearth_status hearth_store_ab_feedback(hearth_store *s, const char *response_id,
                                                  double rating, char *variant, size_t cap,
                                                  hearth_error *err);
/* The records since since_ms (0: all), oldest first. OUT: *out (owned:
 * hearth_free; NULL when *n is 0), *n. */
HEARTH_API hearth_status hearth_store_ab_list(hearth_store *s, int64_t since_ms,
                                              hearth_ab_record **out, size_t *n,
                                              hearth_error *err);

/* The A/B report over the records since since_ms, as JSON (owned:
 * hearth_free): {"since_ms", "baseline", "variants": [{"variant", "n",
 * "latency_ms", "tokens_per_s", "confidence", "rating": {"n", "mean", "lo",
 * "hi"}, "cloud_share", "positive_share": {"k", "n", "p", "lo", "hi"}}],
 * "comparisons": [{"variant", "baseline", "metric", "diff", "lo", "hi",
 * "verdict"}]}. Intervals are 95%: Welch's t for means, Wilson's score
 * interval for shares; a comparison of each variant with the baseline
 * (baseline NULL: the variant with the most records, ties by name) is a
 * Welch interval of the difference of means, or Newcombe's interval of the
 * difference of shares, and its verdict is "no difference yet" when the
 * interval holds 0 or either side has fewer than 2 records (for shares:
 * none), else "higher" or "lower" (the variant against the baseline).
 * HEARTH_E_NOTFOUND: baseline named but without records. src/ab. */
HEARTH_API hearth_status hearth_ab_report_json(hearth_store *s, int64_t since_ms,
                                               const char *baseline, char **json,
                                               hearth_error *err);

/* ======================================================================== */
/* Agent (src/agent)                                                        */
/* ======================================================================== */

/* (agent API) */

/* ---- Settings (src/agent/settings.c) ------------------------------------ */

/* Settings resolved in the order DESIGN.md gives: values set by the caller
 * (command-line flags), then HEARTH_<KEY> environment variables, then the
 * config file (key = value lines; '#' starts a comment; keys may be written
 * "max_context" or "HEARTH_MAX_CONTEXT"), then built-in defaults.
 * The config file is $HEARTH_CONFIG if set, else
 * $XDG_CONFIG_HOME/hearth/config, else ~/.config/hearth/config; a missing
 * file is not an error. Keys are lower case ("model", "home", "max_context",
 * "threads", "host", "port", "api_key", "security_log", "system_prompt",
 * "temp", "top_p", "top_k", "max_tokens", "seed", ...); any key may be
 * looked up, defaults exist for the known ones: home
 * ($XDG_DATA_HOME/hearth, else ~/.local/share/hearth), max_context (4096),
 * threads (0 = physical cores), host (127.0.0.1), port (8080),
 * temp (0.8), top_p (0.95), top_k (40), min_p (0.05), repeat_penalty (1),
 * max_tokens (512), seed (-1: random),
 * cache (1), cache_max_entries, cache_max_bytes, sandbox (1: `hearth run` and
 * `hearth chat` apply hearth_sandbox_apply once the model is mapped).
 * The environment and the file are read once, by hearth_settings_load; the
 * handle is then self-contained. One thread per handle; reading from several
 * threads at once is safe once no more hearth_settings_set calls happen. */
typedef struct hearth_settings hearth_settings;

/* Where a setting's value came from. */
typedef enum {
    HEARTH_SETTING_UNSET = 0, /* no value anywhere, no default */
    HEARTH_SETTING_FLAG,      /* hearth_settings_set */
    HEARTH_SETTING_ENV,       /* HEARTH_<KEY> */
    HEARTH_SETTING_FILE,      /* the config file */
    HEARTH_SETTING_DEFAULT,   /* built in */
} hearth_setting_source;

/* Reads the environment and the config file. A config line that is not
 * "key = value" is an HEARTH_E_FORMAT error naming file and line.
 * OUT: *out owns the handle (hearth_settings_free); NULL on failure. */
HEARTH_API hearth_status hearth_settings_load(hearth_settings **out, hearth_error *err);
/* NULL is a no-op. */
HEARTH_API void hearth_settings_free(hearth_settings *s);
/* Sets key from a flag (highest priority); value is copied. NULL value
 * removes the flag's value. Errors: HEARTH_E_NOMEM, HEARTH_E_ARG. */
HEARTH_API hearth_status hearth_settings_set(hearth_settings *s, const char *key,
                                             const char *value, hearth_error *err);
/* The resolved value (borrowed: valid until the next set of that key or
 * hearth_settings_free), or NULL if the key has no value anywhere.
 * *source (optional) says where it came from. */
HEARTH_API const char *hearth_settings_get(const hearth_settings *s, const char *key,
                                           hearth_setting_source *source);
/* As _get, parsed as a whole decimal integer / finite float. A key with no
 * value leaves *out untouched and returns HEARTH_E_NOTFOUND; a value that does
 * not parse is HEARTH_E_ARG naming the key, the value and where it came from. */
HEARTH_API hearth_status hearth_settings_get_int(const hearth_settings *s, const char *key,
                                                 int64_t *out, hearth_error *err);
HEARTH_API hearth_status hearth_settings_get_float(const hearth_settings *s, const char *key,
                                                   double *out, hearth_error *err);
/* The config file path the handle read (or would have read); borrowed. */
HEARTH_API const char *hearth_settings_config_path(const hearth_settings *s);
/* "flag", "env", "file", "default", "unset". Static. Any thread. */
HEARTH_API const char *hearth_setting_source_name(hearth_setting_source src);

/* -- known keys, warnings and where values came from (settings_keys.c) -- */

/* One setting hearth knows: its key, an example value (its default where
 * it has one; NULL: none) and one line of help. */
typedef struct {
    const char *key, *example, *help;
} hearth_setting_info;
/* The i-th known setting (a fixed order, grouped by subject), NULL past the
 * end. Static. Any thread. */
HEARTH_API const hearth_setting_info *hearth_setting_known(size_t i);
/* True if key (normalized: lower case, no "hearth_" prefix) is known. */
HEARTH_API bool hearth_setting_is_known(const char *key);
/* The known key nearest to key by edit distance, if it is close enough to
 * be a likely typo; NULL otherwise. Static. */
HEARTH_API const char *hearth_setting_nearest(const char *key);
/* Of words[0..n), the one nearest to word by edit distance (insertions,
 * deletions, substitutions, swaps of neighbours) when close enough to be a
 * likely typo (1 edit for words under 4 bytes, 2 up to 8, len/3 beyond);
 * NULL otherwise. Borrowed from words. Any thread. */
HEARTH_API const char *hearth_nearest_word(const char *word, const char *const *words, size_t n);
/* The i-th warning hearth_settings_load found (a config file key that is
 * not known: "config file 'PATH' line N: unknown key 'modle' (did you mean
 * 'model'?)"), NULL past the end. The key is still kept. Borrowed. */
HEARTH_API const char *hearth_settings_warning(const hearth_settings *s, size_t i);
/* The config file line key's file value came from; 0 if the file sets no
 * value for key. */
HEARTH_API long hearth_settings_file_line(const hearth_settings *s, const char *key);

/* ---- Chat messages and templates (src/agent/template.c) ----------------- */

/* (repeated from the tokenizer section, which C11 allows, so this section
 * stands on its own) */
typedef struct hearth_tokenizer hearth_tokenizer;

/* One chat message. role is "system", "user" or "assistant" (and "tool",
 * the result of a tool call, in requests with tools). */
typedef struct {
    const char *role;
    const char *content;
} hearth_chat_message;

/* Chat template families, recognized from the text of a model's
 * tokenizer.chat_template (template code is never executed). */
typedef enum {
    HEARTH_TEMPLATE_CHATML = 0, /* <|im_start|>role\n...<|im_end|> (Qwen, ...) */
    HEARTH_TEMPLATE_LLAMA2,     /* <s>[INST] <<SYS>>...<</SYS>> ... [/INST] */
    HEARTH_TEMPLATE_LLAMA3,     /* <|start_header_id|>role<|end_header_id|> */
    HEARTH_TEMPLATE_MISTRAL,    /* [INST] ... [/INST] without <<SYS>> */
    HEARTH_TEMPLATE_PHI3,       /* <|user|>\n...<|end|>\n<|assistant|> */
    HEARTH_TEMPLATE_GEMMA,      /* <start_of_turn>user ... <end_of_turn> */
    HEARTH_TEMPLATE_ZEPHYR,     /* <|user|>\n...</s>\n<|assistant|> */
    HEARTH_TEMPLATE_QWEN3,      /* ChatML whose assistant turns may open with a
                                   <think>...</think> block; earlier turns are
                                   rendered without it */
    HEARTH_TEMPLATE_COUNT
} hearth_template;

/* Recognizes the family of a chat template's text (NULL or unknown text:
 * HEARTH_TEMPLATE_CHATML with *known = false). known is optional. Any thread. */
HEARTH_API hearth_template hearth_template_detect(const char *tmpl, bool *known);
/* "chatml", "llama2", "llama3", "mistral", "phi3", "gemma", "zephyr"; static;
 * NULL out of range. Any thread. */
HEARTH_API const char *hearth_template_name(hearth_template t);

/* Renders messages as the family's prompt, ending with the opening of the
 * assistant's turn, into token ids: the template's control tokens
 * (<|im_start|>, [INST] where it is a vocabulary token, ...) are looked up
 * by their text in tok's vocabulary and inserted by id; everything else, the
 * messages' content above all, is tokenized with special-token parsing OFF,
 * so content can never produce a control token. A BOS is put first when the
 * tokenizer asks for one. OUT: *ids (owned: hearth_free), *n.
 * Errors: HEARTH_E_ARG (bad role), HEARTH_E_NOMEM. Any thread. */
HEARTH_API hearth_status hearth_template_render(hearth_template t, const hearth_tokenizer *tok,
                                                const hearth_chat_message *msgs, size_t n_msgs,
                                                int32_t **ids, size_t *n, hearth_error *err);

/* ---- The agent (src/agent/agent.c) -------------------------------------- */

/* An agent: one model, one store, the settings it was opened with. It keeps
 * sessions' history in the store, renders chat templates, fits the context
 * window (summaries and recall of similar older turns), answers repeated
 * temperature-0 requests from the response cache, and writes every exchange
 * in one store transaction. Nothing here opens a network connection.
 * One thread per handle, except hearth_agent_cancel (any thread). */
typedef struct hearth_agent hearth_agent;

/* Where an answer came from. */
typedef enum {
    HEARTH_SOURCE_LOCAL = 0, /* the local model ran */
    HEARTH_SOURCE_CACHE,     /* the response cache; the model did not run */
    HEARTH_SOURCE_CLOUD,     /* a cloud model */
    HEARTH_SOURCE_LOCAL_DEGRADED, /* the local model's answer, kept because the
                                     cloud was wanted but failed */
} hearth_source;

/* "local", "cache", "cloud", "local-degraded". Static. Any thread. */
HEARTH_API const char *hearth_source_name(hearth_source s);
/* OpenAI's finish_reason for r: "stop" (eog, stop string), "length" (max
 * tokens, context full), "cancelled". Static. Any thread. */
HEARTH_API const char *hearth_finish_reason_openai(hearth_finish_reason r);

typedef struct {
    const char *model_path;    /* GGUF file (required) */
    const char *data_dir;      /* directory of the store (hearth.db); created if
                                  missing. NULL: "home" of hearth_settings */
    int max_context;           /* tokens; 0: 4096 */
    int n_threads;             /* 0: physical cores */
    const char *system_prompt; /* NULL: none */
    /* Sampling defaults for requests (hearth_agent_default_request). */
    float temperature;         /* 0.8 */
    float top_p;               /* 0.95 */
    int top_k;                 /* 40 */
    float min_p;               /* 0.05 */
    float repeat_penalty;      /* 1 (off) */
    int max_tokens;            /* 512 */
    int64_t seed;              /* -1: random */
    bool use_cache;            /* response cache on (true) */
    /* Sharing (the HTTP server's pool of agents): an open model to use
     * instead of opening model_path (borrowed; must outlive the agent), and
     * a batch scheduler to generate through, so that several agents' answers
     * are decoded together (borrowed). Both NULL by default. */
    const hearth_model *model;
    hearth_sched *sched;
    /* The embedding model (setting "embed_model": a file or a registry
     * name, e.g. a BERT-family encoder): hearth_embed, the recall of older
     * turns and the search use it instead of the chat model. NULL: the chat
     * model embeds (mean-pooled). embed_model: an open one to share instead
     * (borrowed; the server opens it once for all its agents). */
    const char *embed_model_path;
    const hearth_model *embed_model;
    /* Speculative decoding (settings "draft_model", "lookup", "draft_max";
     * see hearth_spec_new): a draft model with the chat model's vocabulary
     * (a file or a registry name; draft_model: an open one to share,
     * borrowed), prompt lookup, the most tokens drafted per step (0: 16).
     * Same answers, sooner. */
    const char *draft_model_path;
    const hearth_model *draft_model;
    bool lookup;
    int draft_max;
    /* Warnings (an unknown chat template, ...), never printed by hearth:
     * called from the thread that opened or is using the agent. Optional. */
    void (*warn)(void *user_data, const char *msg);
    void *warn_user_data;
    /* Hybrid processing (README "Privacy and the cloud"). An answer whose
     * confidence is below confidence_threshold may go to the cloud, redacted,
     * if the privacy policy lets its category leave. The policy (policy,
     * policy_<category>) and redact_terms are read from policy_settings at
     * open (borrowed for the call; NULL: the defaults, local-only). The
     * strings are copied at open. No cloud_url: nothing ever leaves. */
    const hearth_settings *policy_settings;
    const char *cloud_url;      /* an OpenAI-compatible API, e.g. https://host/v1 */
    const char *cloud_model;
    const char *cloud_api_key;  /* never stored, logged or shown */
    const char *cloud_ca_file;  /* PEM CAs trusted instead of the system's */
    int cloud_timeout_ms;       /* the whole cloud call; 0: 60000 */
    double confidence_threshold; /* 0.5 */
    bool audit_content;         /* keep the redacted text sent in the audit log */
    /* Saved session states (README "Sessions resume without re-reading
     * them"): after each answer in a session, the chat sequence's keys and
     * values are written to <data_dir>/kv/, and a later agent (another
     * process) restores the longest saved prefix of a session's prompt
     * instead of evaluating it. The files of all sessions together stay
     * under this many bytes (least recently used removed first); 0: off.
     * Default 1 GiB (setting kv_cache_mb). */
    int64_t kv_cache_bytes;
    /* KV cache types of the agent's context (settings cache_type_k,
     * cache_type_v; see hearth_ctx_params.type_k): HEARTH_TYPE_F16 both by
     * default. The server's scheduler contexts use them too. */
    hearth_type cache_type_k, cache_type_v;
} hearth_agent_params;

HEARTH_API hearth_agent_params hearth_agent_default_params(void);

/* Fills p's fields from resolved settings (model, home, max_context,
 * threads, system_prompt, temp, top_p, top_k, min_p, repeat_penalty,
 * max_tokens, seed, cache, cloud_url, cloud_model, cloud_api_key,
 * cloud_ca_file, cloud_timeout_ms, confidence_threshold, audit_content,
 * kv_cache_mb, cache_type_k, cache_type_v; and
 * policy_settings = s).
 * Strings in p are borrowed from s. Errors: HEARTH_E_ARG for a value that
 * does not parse or is out of range, naming the key. */
HEARTH_API hearth_status hearth_agent_params_from_settings(const hearth_settings *s,
                                                           hearth_agent_params *p,
                                                           hearth_error *err);

/* Opens the model and the store. OUT: *out owns the agent
 * (hearth_agent_free); NULL on failure. Any thread. */
HEARTH_API hearth_status hearth_agent_open(const hearth_agent_params *p, hearth_agent **out,
                                           hearth_error *err);
/* NULL is a no-op. */
HEARTH_API void hearth_agent_free(hearth_agent *a);

/* What a message of a tool conversation carries besides role and content
 * (hearth_agent_request.tool_info). */
typedef struct {
    const char *tool_calls;   /* assistant: JSON array of calls, or NULL */
    const char *tool_call_id; /* tool: the call it answers, or NULL */
} hearth_chat_tool_info;

/* Which tool calls a request allows (OpenAI's tool_choice). */
typedef enum {
    HEARTH_TOOL_CHOICE_AUTO = 0, /* the model decides: text or calls */
    HEARTH_TOOL_CHOICE_NONE,     /* no calls; the tools are not shown to the model */
    HEARTH_TOOL_CHOICE_REQUIRED, /* at least one call, of any tool */
    HEARTH_TOOL_CHOICE_NAMED,    /* a call of tool_name */
} hearth_tool_choice;

/* Streaming callback: text is the next piece of the answer (valid UTF-8,
 * borrowed for the call). Return false to stop generation (finish
 * "cancelled"). Called on the thread inside hearth_agent_process. */
typedef bool (*hearth_stream_fn)(void *user_data, const char *text, size_t len);

typedef struct {
    /* Either messages (the whole conversation, OpenAI style; the prompt is
     * exactly these) or user (one new user message appended to the session's
     * stored history). With a session, the last user message and the answer
     * are stored in it; without one (NULL), nothing is kept but the cache. */
    const char *session;
    const hearth_chat_message *messages;
    size_t n_messages;
    const char *user;
    /* Sampling. */
    float temperature;         /* 0: greedy (and cacheable) */
    float top_p;
    int top_k;
    float min_p;               /* 0: off */
    int max_tokens;            /* answer length limit; 0: the agent's default */
    int64_t seed;              /* -1: random */
    float repeat_penalty;      /* 1: none */
    float presence_penalty;    /* 0: none */
    float frequency_penalty;   /* 0: none */
    const char *const *stop;   /* stop strings (not included in the answer) */
    size_t n_stop;
    bool no_cache;             /* neither read nor write the response cache */
    hearth_stream_fn on_text;  /* optional */
    void *user_data;
    /* Routing: a request can tighten the user's policy, never loosen it. */
    bool local_only;           /* never the cloud */
    bool prefer_cloud;         /* ask the cloud even if the local answer is
                                  confident (only where the policy allows) */
    bool incognito;            /* nothing stored (messages, cache, audit), nothing sent */
    bool ask;                  /* confirm before anything leaves (allow -> ask) */
    bool consent;              /* the user approved this request's preview (the
                                  second request after consent_needed) */
    /* Asks the user before anything leaves ("ask"): host and the exact
     * redacted text; return true to send. NULL: the answer says
     * consent_needed instead. Called on the thread inside process. */
    bool (*consent_fn)(void *user_data, const char *host, const char *preview);
    void *consent_user_data;
    /* ---- Tool calling (src/agent/tools*.c; README "Tool calling") ----
     * tools_json: the functions the model may call, a JSON array in
     * OpenAI's shape ([{"type": "function", "function": {"name",
     * "description", "parameters": JSON Schema}}]); NULL: none. The
     * template presents them as the model's family expects; the output
     * that carries a call is constrained by the parameters' schemas. Calls
     * come back in resp->tool_calls_json (finish HEARTH_FINISH_TOOL_CALLS);
     * the caller runs them and sends the results as "tool" messages.
     * builtin_tools: the agent's own local tools instead (tasks, search of
     * the user's history, date and time, calculator; they touch only the
     * store): the agent runs them itself and loops model -> tool -> model
     * up to max_tool_steps model calls, storing every call and result with
     * the session. Requests with tools never use the cache or the cloud. */
    const char *tools_json;
    /* Per message (n_messages entries, or NULL): an assistant message's
     * tool calls, a JSON array in OpenAI's shape ([{"id", "type":
     * "function", "function": {"name", "arguments"}}], arguments a JSON
     * text in a string), and a tool message's tool_call_id; NULL fields
     * where a message has none. */
    const hearth_chat_tool_info *tool_info;
    bool builtin_tools;
    hearth_tool_choice tool_choice; /* default AUTO */
    const char *tool_name;          /* HEARTH_TOOL_CHOICE_NAMED: the function */
    bool parallel_tool_calls;       /* more than one call per answer (default true) */
    int max_tool_steps;             /* builtin_tools: model calls at most (0: 4) */
    /* builtin_tools: told of each call and its result (JSON texts,
     * borrowed for the call); for `-v`. Optional. */
    void (*on_tool)(void *user_data, const char *name, const char *arguments,
                    const char *result);
    /* Polled while the answer is made (prefill and each token); true
     * stops it as hearth_agent_cancel does. Optional. */
    bool (*should_stop)(void *user_data);
    /* Prompt progress: tokens of the prompt evaluated so far of total.
     * Optional; called on the thread inside process. */
    void (*on_prefill)(void *user_data, int32_t done, int32_t total);
    /* Constrained decoding and log-probabilities, passed to the generation
     * as in hearth_gen_params (NULL: none). A request with either is
     * answered by the local model, never the cloud, and skips the response
     * cache (a cached answer has no log-probabilities and was not made
     * under the grammar). on_logprob runs on the generating thread. */
    const struct hearth_grammar *grammar;
    const char *grammar_trigger;
    hearth_logprob_cb on_logprob;
    void *logprob_user;
    int32_t n_top_logprobs;
} hearth_agent_request;

/* Checks an OpenAI tools array (tools_json, len bytes) as a request's
 * tools_json is checked: type "function", a name of 1..64 [A-Za-z0-9_-],
 * no name twice, description a string, parameters a JSON Schema object
 * that compiles into a grammar (hearth_json_schema_to_gbnf). Errors:
 * HEARTH_E_FORMAT (not JSON), HEARTH_E_ARG / HEARTH_E_UNSUPPORTED naming
 * the entry and field. Any thread. */
HEARTH_API hearth_status hearth_tools_check(const char *tools_json, size_t len,
                                            hearth_error *err);

/* A request with the agent's sampling defaults (built-in ones if a is NULL)
 * and nothing else set. Any thread. */
HEARTH_API hearth_agent_request hearth_agent_default_request(const hearth_agent *a);

typedef struct {
    char *content;             /* owned: hearth_agent_response_clear */
    int prompt_tokens;
    int completion_tokens;
    int decoded_tokens;        /* tokens the model actually evaluated (0 on a cache hit) */
    int cached_tokens;         /* prompt tokens not evaluated: their keys and values were
                                  held from the previous request or restored */
    int restored_tokens;       /* of those, read from a saved session state */
    double restore_ms;         /* looking for and loading a saved state */
    double ttft_ms;            /* from the call to the first answer token (a cache hit:
                                  total_ms) */
    double prompt_ms;          /* prompt evaluation */
    double generate_ms;        /* generation after the first token */
    double total_ms;
    hearth_finish_reason finish; /* as hearth_generate's; a cache hit: EOG */
    hearth_source source;
    /* How sure the local model was of the answer, in [0, 1] (the geometric
     * mean of its mean token probability, its weakest 8-token stretch and its
     * top-1/top-2 margin; a refusal or "I don't know" is capped at 0.05; see
     * src/router/confidence.h). A cache hit reports the stored answer's
     * score; -1 when unknown (an entry from an older hearth). */
    double confidence;
    int64_t user_message_id;   /* store ids of the stored pair (0: not stored) */
    int64_t assistant_message_id;
    /* Routing: why the answer came from where it did ("" when the local
     * answer was confident or nothing could leave anyway), the category of
     * the request, the cloud host asked (or that would be), and the audit
     * record written (0: none). With consent_needed, consent_preview is the
     * exact redacted text that would be sent (owned; the answer is the
     * local one). */
    char route_reason[256];
    char category[16];
    char route_host[128];
    int64_t audit_id;
    bool consent_needed;
    char *consent_preview;
    /* The audit record's figures ("" / 0 / -1 when none): decision ("sent",
     * "blocked", "consent-needed", "declined"), HTTP bytes out and in, the
     * cloud call's latency, redactions by kind as a JSON object. */
    char route_decision[32];
    int64_t bytes_out, bytes_in;
    double cloud_ms;
    char redactions[256];
    /* Tool calls the answer made (request tools_json): a JSON array
     * [{"id", "type": "function", "function": {"name", "arguments"}}]
     * (arguments a JSON text), owned; NULL when there are none. content is
     * then the text outside the calls (often ""). */
    char *tool_calls_json;
    int tool_steps;            /* builtin_tools: model calls made */
    /* Speculative decoding (0 without): as hearth_gen_result's. */
    int n_drafted, n_accepted, n_spec_steps;
} hearth_agent_response;

/* Answers one request. Streams the answer through on_text while it is made
 * (a cache hit streams it in one piece), then fills *resp. The exchange (user
 * and assistant messages, the cache entry) is written in one transaction
 * before this returns. Errors: HEARTH_E_ARG (no user message, bad role),
 * HEARTH_E_LIMIT (the prompt can not fit the context even after fitting),
 * HEARTH_E_IO (store), HEARTH_E_NOMEM. Cancelling is not an error: resp says
 * "cancelled" and the partial answer is stored (but not cached).
 * One thread per agent. */
HEARTH_API hearth_status hearth_agent_process(hearth_agent *a, const hearth_agent_request *req,
                                              hearth_agent_response *resp, hearth_error *err);
/* Frees resp's content and zeroes it. NULL is a no-op. */
HEARTH_API void hearth_agent_response_clear(hearth_agent_response *resp);

/* Deletes the session called name: its messages and summary from the
 * store, and its saved states (kv_cache_bytes) for every model. An unknown
 * name is not an error. One thread per agent. */
HEARTH_API hearth_status hearth_agent_delete_session(hearth_agent *a, const char *name,
                                                     hearth_error *err);

/* True if this agent can send a request to the cloud at all (a cloud is
 * configured and the policy is hybrid); false means no socket is ever
 * opened for it. Any thread. */
HEARTH_API bool hearth_agent_can_use_cloud(const hearth_agent *a);

/* Asks the hearth_agent_process in progress (if any) to stop soon. Any thread. */
HEARTH_API void hearth_agent_cancel(hearth_agent *a);

/* Embedding of text with the agent's embedding model (embed_model; else
 * the chat model: the mean over tokens of the final hidden state),
 * L2-normalized. OUT: *vec (owned: hearth_free), *dim. One thread per agent. */
HEARTH_API hearth_status hearth_embed(hearth_agent *a, const char *text, size_t len,
                                      float **vec, int *dim, hearth_error *err);

/* Stores the embedding of task task_id (its title, a blank line, its notes)
 * under owner kind "task", so that hearth_agent_search finds it; call it
 * after adding or changing a task. (Messages of exchanges are indexed by
 * hearth_agent_process, under "message", grouped by session id.)
 * HEARTH_E_NOTFOUND for an unknown task. One thread per agent. */
HEARTH_API hearth_status hearth_agent_index_task(hearth_agent *a, int64_t task_id,
                                                 hearth_error *err);
/* The k stored messages/tasks (owner_kind "message" or "task"; NULL: both)
 * whose embeddings under this model are most similar to text, best first.
 * group_id: a session id to search one session's messages (0: all).
 * out has room for k hits; OUT: *n_out. One thread per agent. */
HEARTH_API hearth_status hearth_agent_search(hearth_agent *a, const char *text,
                                             const char *owner_kind, int64_t group_id,
                                             size_t k, hearth_embedding_hit *out,
                                             size_t *n_out, hearth_error *err);

/* The chat template family in use. */
HEARTH_API hearth_template hearth_agent_template(const hearth_agent *a);
/* SHA-256 of the model file, 64 hex digits; borrowed from a. */
HEARTH_API const char *hearth_agent_model_hash(const hearth_agent *a);

/* ---- Saved conversation states for a scheduler (src/agent/kv_store.c) --- */

/* The server's store of saved states: behind a scheduler's state hooks
 * (hearth_sched_set_state_hooks), each answered generation's keys and values
 * are saved to dir (the agent's HOME/kv, shared with saved sessions: same
 * format, bound and LRU eviction, files 0600 in a 0700 directory), keyed by
 * the model file's hash and the token prefix; a generation whose prompt
 * shares a longer prefix with a saved state than its slot holds starts from
 * that state (a restarted server continues its conversations). A damaged
 * state is refused with a warning and removed. No-reuse (incognito)
 * generations are neither saved nor restored (the scheduler does not call
 * the hooks for them). */
typedef struct hearth_kv_store hearth_kv_store;

typedef struct {
    const char *dir;        /* the directory (HOME/kv); created 0700 */
    const char *model_hash; /* SHA-256 of the model file, 64 hex digits (hearth_agent_model_hash) */
    int64_t max_bytes;      /* bound on the directory's states (kv_cache_mb) */
    void (*warn)(void *user, const char *msg); /* why a state was not saved or restored; may be NULL */
    void *warn_user;
} hearth_kv_store_params;

/* Opens the store and builds its index from the heads of dir's states of
 * this model. OUT: *out owns it (hearth_kv_store_free). Any thread. */
HEARTH_API hearth_status hearth_kv_store_open(const hearth_kv_store_params *p, hearth_kv_store **out,
                                              hearth_error *err);
/* Free the scheduler that uses its hooks first. NULL: no-op. */
HEARTH_API void hearth_kv_store_free(hearth_kv_store *k);
/* The hooks to install in one scheduler (k NULL: none). The store is used
 * from that scheduler's thread only. */
HEARTH_API hearth_sched_state_hooks hearth_kv_store_hooks(hearth_kv_store *k);
/* States in its index (for tests). Not while its scheduler runs a job. */
HEARTH_API size_t hearth_kv_store_count(const hearth_kv_store *k);
/* Deletes a session's stored messages and summary (chat /reset) and its
 * saved states; no error for a session that does not exist. */
HEARTH_API hearth_status hearth_agent_reset_session(hearth_agent *a, const char *session,
                                                    hearth_error *err);
/* The agent's model and store, borrowed: valid until hearth_agent_free. Use
 * them from the agent's thread only (e.g. to list a session's history). */
HEARTH_API const hearth_model *hearth_agent_model(const hearth_agent *a);
/* The model hearth_embed uses: the embed_model, else the chat model. */
HEARTH_API const hearth_model *hearth_agent_embed_model(const hearth_agent *a);
HEARTH_API hearth_store *hearth_agent_store(hearth_agent *a);

/* ---- Asynchronous jobs (src/agent/job.c) ------------------------------- */

/*
 * A job is one hearth_agent_request answered on a worker thread while the
 * caller goes on. A runner (hearth_jobs) has one worker per agent it is
 * given: one agent answers jobs one after another; several agents sharing
 * one hearth_sched (hearth_agent_params.sched, as the HTTP server's pool
 * does) answer several at once, their decode steps batched together.
 * Messages, in the browser worker's vocabulary, in this order per job:
 *   INIT      on_init, on the caller's thread inside hearth_job_submit;
 *   PROGRESS  on_progress: LOADING (the job started on a worker), PREFILL
 *             (done of total prompt tokens evaluated, one or more times),
 *             GENERATING (the first token), and on_token for each piece of
 *             the answer (valid UTF-8);
 *   RESULT    on_result with the whole response (borrowed for the call)
 *   or ERROR  on_error (borrowed for the call);
 * and exactly one of RESULT or ERROR ends every job that was submitted,
 * cancelled or not (a cancelled job ends with ERROR, HEARTH_E_CANCELLED,
 * never with a partial RESULT). Callbacks other than on_init run on a
 * worker thread (the job's worker, or the scheduler's thread for PREFILL
 * and tokens when the agents share a hearth_sched), one job's callbacks
 * never concurrently with each other; they may call hearth_job_cancel but
 * not hearth_job_wait, hearth_job_free or hearth_jobs_free. The request is copied at submit (its strings and
 * messages too): nothing of it needs to outlive the call. Its on_text,
 * should_stop, on_prefill, on_tool, consent_fn and user_data are the job's
 * own and are replaced.
 */
typedef struct hearth_jobs hearth_jobs;
typedef struct hearth_job hearth_job;

typedef enum {
    HEARTH_JOB_INIT = 0,
    HEARTH_JOB_PROGRESS,
    HEARTH_JOB_RESULT,
    HEARTH_JOB_ERROR,
} hearth_job_msg;

typedef enum {
    HEARTH_JOB_LOADING = 0,   /* taken by a worker; preparing the prompt */
    HEARTH_JOB_PREFILL,       /* evaluating the prompt: done of total tokens */
    HEARTH_JOB_GENERATING,    /* producing the answer */
} hearth_job_phase;

/* "INIT", "PROGRESS", "RESULT", "ERROR" / "loading", "prefill",
 * "generating"; static; NULL out of range. Any thread. */
HEARTH_API const char *hearth_job_msg_name(hearth_job_msg m);
HEARTH_API const char *hearth_job_phase_name(hearth_job_phase p);

typedef struct {
    void (*on_init)(void *user_data, hearth_job *job);
    void (*on_progress)(void *user_data, hearth_job *job, hearth_job_phase phase,
                        int64_t done, int64_t total);
    void (*on_token)(void *user_data, hearth_job *job, const char *text, size_t len);
    void (*on_result)(void *user_data, hearth_job *job, const hearth_agent_response *resp);
    void (*on_error)(void *user_data, hearth_job *job, const hearth_error *err);
    void *user_data;
} hearth_job_callbacks;

/* A runner over agents[0..n) (1..256, borrowed: they must outlive it and
 * must not be used by anyone else meanwhile), with one worker thread each.
 * OUT: *out (hearth_jobs_free). Errors: HEARTH_E_ARG, HEARTH_E_NOMEM. Any
 * thread. */
HEARTH_API hearth_status hearth_jobs_new(hearth_agent *const *agents, size_t n,
                                         hearth_jobs **out, hearth_error *err);
/* Cancels every job not yet ended (each still gets its ERROR callback),
 * waits for the workers and frees the runner. Job handles stay valid until
 * their own hearth_job_free. Not concurrently with hearth_job_submit on
 * the same runner. NULL is a no-op. */
HEARTH_API void hearth_jobs_free(hearth_jobs *q);

/* Queues req and returns at once. cb (optional; copied) receives the
 * job's messages. OUT: *out, the job (hearth_job_free). Errors (no callback
 * is then called): HEARTH_E_ARG, HEARTH_E_NOMEM, HEARTH_E_STATE (the
 * runner is being freed). Any thread. */
HEARTH_API hearth_status hearth_job_submit(hearth_jobs *q, const hearth_agent_request *req,
                                           const hearth_job_callbacks *cb, hearth_job **out,
                                           hearth_error *err);
/* Asks the job to stop: a waiting job never starts, a running one stops at
 * its next prefill piece or token; either way it ends with ERROR
 * (HEARTH_E_CANCELLED). A job that already ended is not changed. Any
 * thread, any number of times, until hearth_job_free. */
HEARTH_API void hearth_job_cancel(hearth_job *job);
/* Blocks until the job has ended (its RESULT or ERROR callback returned).
 * Returns HEARTH_OK for a result, else the error's code. Any thread. */
HEARTH_API hearth_status hearth_job_wait(hearth_job *job);
/* true once the job has ended. Any thread. */
HEARTH_API bool hearth_job_done(hearth_job *job);
/* Cancels the job if it still runs, waits for its end and frees it; the
 * handle is invalid afterwards. Once per job, by its owner, not from the
 * job's own callbacks. NULL is a no-op. */
HEARTH_API void hearth_job_free(hearth_job *job);

/* ======================================================================== */
/* Model files' integrity and signatures (src/security/verify*.c)           */
/* ======================================================================== */

/* Which signature a file carried. */
typedef enum {
    HEARTH_SIG_NONE,     /* no signature was found or asked for */
    HEARTH_SIG_MINISIGN, /* minisign, Ed25519 ("ED" prehashed or legacy "Ed") */
    HEARTH_SIG_SIGSTORE, /* OpenSSF model-signing bundle, ECDSA P-256 over SHA-256 */
} hearth_sig_kind;

typedef struct {
    /* The signature file. NULL: PATH.minisig, else PATH.sig (a sigstore
     * bundle), if either exists. */
    const char *sig_path;
    /* One trusted public key (a minisign .pub file or a PEM P-256 public
     * key). NULL: every key in trust_dir is trusted. */
    const char *pubkey_path;
    /* Directory of trusted public keys (*.pub, *.pem). NULL: none. */
    const char *trust_dir;
    /* An unsigned file is refused (HEARTH_E_SIGNATURE) instead of reported
     * as unsigned. */
    bool require_signature;
    /* File remembering verified files (path, size, mtime, inode, hash), so
     * that reopening an unchanged file costs no re-hash. NULL: no memory. */
    const char *state_path;
    /* Check the file afresh even when state_path remembers it (the result
     * is still recorded there); `hearth verify` does. */
    bool fresh;
} hearth_verify_params;

/* Why hearth_verify_file refused a file (HEARTH_E_SIGNATURE); the message
 * starts with the same words: "unsigned: ...", "bad signature: ...". */
typedef enum {
    HEARTH_VERIFY_OK,            /* not refused */
    HEARTH_VERIFY_UNSIGNED,      /* no signature, and one is required */
    HEARTH_VERIFY_BAD_SIGNATURE, /* the signature was not made by the key it names */
    HEARTH_VERIFY_UNTRUSTED_KEY, /* signed by a key that is not trusted */
    HEARTH_VERIFY_MODIFIED,      /* an authentic signature that does not cover these bytes */
    HEARTH_VERIFY_MALFORMED_SIGNATURE, /* the signature file can not be parsed */
    HEARTH_VERIFY_MALFORMED_KEY, /* a trusted key file can not be parsed */
} hearth_verify_failure;

typedef struct {
    char sha256[65];          /* lowercase hex of the whole file */
    uint64_t size;            /* bytes */
    hearth_sig_kind sig_kind;
    bool signature_ok;        /* a signature was checked and is good */
    char key_name[128];       /* the key that verified it (file name or key id) */
    char trusted_comment[512];/* minisign's trusted comment (verified), else "" */
    bool from_state;          /* the answer came from state_path, nothing was re-hashed */
    hearth_verify_failure failure; /* why it was refused; HEARTH_VERIFY_OK otherwise */
} hearth_verify_result;

/* "unsigned", "bad signature", "untrusted key", "modified after signing",
 * "malformed signature file", "malformed key file", or "ok". Static. */
HEARTH_API const char *hearth_verify_failure_str(hearth_verify_failure f);

/* Defaults: all NULL, require_signature and fresh false. Any thread. */
HEARTH_API hearth_verify_params hearth_verify_default_params(void);

/* Hashes the file and checks its signature as p says (p NULL: defaults).
 * HEARTH_OK when the file is acceptable under p (signed by a trusted key,
 * or unsigned and not required); r describes it. A signature that is
 * present is always checked, required or not. HEARTH_E_SIGNATURE when it is
 * refused, with r->failure and a message that say which: unsigned, bad
 * signature, untrusted key, modified after signing, malformed signature or
 * key file (r->sha256 is filled when the file was hashed). HEARTH_E_IO when
 * the file can not be read. docs/model-trust.md has the formats. Any
 * thread (p->state_path is locked while written). */
HEARTH_API hearth_status hearth_verify_file(const char *path, const hearth_verify_params *p,
                                            hearth_verify_result *r, hearth_error *err);

/* SHA-256 of a file as 64 lowercase hex digits (OpenSSL; the CPU's SHA
 * extensions where present). Any thread. */
HEARTH_API hearth_status hearth_sha256_file(const char *path, char hex[65], hearth_error *err);

/* ======================================================================== */
/* Sandbox (src/security/sandbox.c)                                         */
/* ======================================================================== */

/* What the sandbox forbids (seccomp; Linux only). */
enum {
    /* internet and raw sockets (socket/socketpair for AF_INET, AF_INET6,
     * AF_PACKET) and io_uring: nothing can be sent off the device */
    HEARTH_SANDBOX_NO_NET = 1u << 0,
    /* execve, execveat, ptrace, process_vm_writev (ptrace stays allowed in
     * AddressSanitizer builds: LeakSanitizer needs it at exit) */
    HEARTH_SANDBOX_NO_EXEC = 1u << 1,
};

/* Applies a seccomp filter to every thread of the process that makes the
 * calls flags names fail with EPERM (other calls, files and AF_UNIX sockets
 * included, stay allowed). Irreversible; children inherit it. flags 0: no-op.
 * Errors: HEARTH_E_ARG (unknown flag), HEARTH_E_UNSUPPORTED (the kernel
 * refused the filter). Any thread. */
HEARTH_API hearth_status hearth_sandbox_apply(unsigned flags, hearth_error *err);

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
    /* Resolved settings for the agents' defaults (temp, system_prompt, ...);
     * borrowed until hearth_server_stop. NULL: read them when loading. */
    const hearth_settings *settings;
    /* DNS rebinding: bound to a loopback address, the server answers only
     * requests whose Host is localhost, 127.0.0.1, [::1] (any port) or one
     * of these names (403 otherwise). Copied at start. */
    const char *const *allow_hosts;
    size_t n_allow_hosts;
    /* Requests that carry an Origin other than the server's own are refused
     * (403) unless it is one of these ("https://app.example", or "*" for any,
     * which needs api_key); those get CORS headers and preflight answers.
     * Copied at start. */
    const char *const *cors_origins;
    size_t n_cors_origins;
    int max_client_conns;     /* connections per client address, default 128 */
    int request_timeout;      /* seconds to send a request (headers and body), default 30 */
    /* The id clients name the model by (GET /v1/models, "model" in
     * requests); NULL: the file name without ".gguf". Kept across
     * hearth_server_reload_model. Copied at start. */
    const char *model_id;
    /* A/B tests of model variants: n_variants > 1 serves these files side
     * by side under the one model id (model_path is then ignored); each
     * request goes to variant ab_assign(session, or the response id without
     * one) under variant_weights (NULL: equal), its answer carries
     * "hearth_variant" and is recorded in the store with it (POST
     * /v1/feedback rates it; `hearth ab report` compares). Names: at most
     * 63 bytes of [A-Za-z0-9._-]. Borrowed until hearth_server_stop. */
    const char *const *variant_names;
    const char *const *variant_paths;
    const unsigned *variant_weights;
    size_t n_variants;
    /* The browser build (web/, `make web`: build-web/) to serve under /web/
     * beside the API, read with GET without the API key, every answer with
     * the COOP/COEP headers that make the page cross-origin isolated. NULL
     * (default): no /web/. Copied at start. */
    const char *web_dir;
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
/* Loads the model file at path and makes it the model of every request
 * that starts afterwards (`hearth serve --update-every`); requests in flight
 * finish on the model they started with, which is freed after the last of
 * them. Slow (the load); while it loads the old model keeps serving. On
 * failure nothing changes. HEARTH_E_STATE until the first model is ready.
 * Any thread. */
HEARTH_API hearth_status hearth_server_reload_model(hearth_server *s, const char *path,
                                                    hearth_error *err);
/* Graceful stop: stops accepting, lets in-flight answers finish (up to 60 s),
 * then closes the store and frees everything. NULL is a no-op. */
HEARTH_API void hearth_server_stop(hearth_server *s);


/* ======================================================================== */
/* Sync client (src/sync/client*.c; docs/sync.md, docs/sync-protocol.md)    */
/* ======================================================================== */

/*
 * The device side of sync: pairing with a sync server, choosing collections
 * (tasks, conversations, settings), pushing local changes, pulling others'
 * and merging conflicts, all end-to-end encrypted. A hearth_sync works on a
 * store the caller opened (borrowed; it must outlive the handle). One thread
 * per handle; two processes syncing one store take turns (a lock file).
 *
 * Every request leaves only after the egress gate said yes and an audit
 * record (kind "sync", no content) was written; a gate that says no means
 * no socket is opened.
 */
typedef struct hearth_sync hearth_sync;

/* The egress gate: true lets a request to host go out; false refuses it,
 * with the reason (shown to the user, kept in the audit log) in reason (cap
 * bytes). Called on the handle's thread before every request. */
typedef bool (*hearth_sync_gate_fn)(void *user, const char *host, char *reason, size_t cap);

typedef struct {
    hearth_store *store;         /* borrowed; required */
    const char *server;          /* base URL; NULL: the one stored at pairing */
    const char *passphrase;      /* NULL: the key cached at pairing (sync.key) */
    const char *key_file;        /* NULL: <the store's directory>/sync.key */
    hearth_sync_gate_fn gate;    /* NULL: every request is refused (offline) */
    void *gate_user;
    int timeout_ms;              /* per request; default 15000 */
} hearth_sync_params;

/* Any thread. */
HEARTH_API hearth_sync_params hearth_sync_default_params(void);

/* Opens the sync layer on p->store; makes the device id and secret on first
 * use. Opens no connection. OUT: *out (hearth_sync_free). */
HEARTH_API hearth_status hearth_sync_open(const hearth_sync_params *p, hearth_sync **out,
                                          hearth_error *err);
HEARTH_API void hearth_sync_free(hearth_sync *s);

/* Registers this device with the server at url using an enrollment token,
 * then sets up (first device) or checks (later devices) the key derived from
 * passphrase. A wrong passphrase is HEARTH_E_STATE ("wrong sync
 * passphrase") and nothing is kept. On success the server, device token and
 * key (cached in key_file, 0600) are stored. name: the device's name (NULL:
 * the host name). */
HEARTH_API hearth_status hearth_sync_pair(hearth_sync *s, const char *url, const char *token,
                                          const char *name, const char *passphrase,
                                          hearth_error *err);

/* Turns a collection ("tasks", "conversations", "settings") on or off. On:
 * every existing row of it is queued for the next sync. */
HEARTH_API hearth_status hearth_sync_enable(hearth_sync *s, const char *collection, bool on,
                                            hearth_error *err);

typedef enum {
    HEARTH_SYNC_SYNCED,     /* something was pushed, pulled or merged */
    HEARTH_SYNC_NO_CHANGES, /* reached the server; nothing to do */
    HEARTH_SYNC_OFFLINE,    /* not reached (gate refused, no connection, 5xx) */
} hearth_sync_state;

typedef struct {
    hearth_sync_state state;
    int64_t pushed;         /* changes the server acknowledged */
    int64_t pulled;         /* changes of other devices applied here */
    int64_t conflicts;      /* rows where both sides changed one field (or delete vs update) */
    int64_t resolved;       /* of those, settled by the collection's rule */
    int64_t merged;         /* rows both sides changed in different fields (merged silently) */
    char reason[256];       /* why offline */
} hearth_sync_report;

/* "synced", "no_changes", "offline". Static. */
HEARTH_API const char *hearth_sync_state_name(hearth_sync_state st);

/* One sync: pull every page, push the outbox (merging what the server
 * reports as conflicts and pushing the result), pull again. Offline is not
 * an error: HEARTH_OK with r->state OFFLINE and r->reason. Errors:
 * HEARTH_E_STATE (not paired, no key, wrong key), HEARTH_E_IO (the server
 * refused: 401, 4xx), HEARTH_E_FORMAT (a bad reply or a payload that does
 * not open), store errors. */
HEARTH_API hearth_status hearth_sync_run(hearth_sync *s, hearth_sync_report *r,
                                         hearth_error *err);

/* JSON texts (owned: hearth_free): status {device, name, server, paired,
 * cursor, pending, enabled: [...], rules: {...}, last_sync_ms}; conflicts
 * (pending ones, or all): [{id, collection, row, kind, fields, local,
 * server, severity, resolution, time_ms}]; dump: the canonical content of
 * the enabled collections (see docs/sync.md), byte-identical on devices that
 * have converged. */
HEARTH_API hearth_status hearth_sync_status_json(hearth_sync *s, char **out, hearth_error *err);
HEARTH_API hearth_status hearth_sync_conflicts_json(hearth_sync *s, bool all, char **out,
                                                    hearth_error *err);
HEARTH_API hearth_status hearth_sync_dump_json(hearth_sync *s, char **out, hearth_error *err);

/* Settles conflict id: keep "local" (this device's side), "server" (the
 * server's current side: the newest version seen from another device), or
 * "FIELD=VALUE" (VALUE as JSON if it parses, else as a string). The choice
 * becomes a local change, pushed by the next sync. HEARTH_E_NOTFOUND for an
 * unknown id, HEARTH_E_ARG for a bad keep. */
HEARTH_API hearth_status hearth_sync_resolve(hearth_sync *s, int64_t id, const char *keep,
                                             hearth_error *err);

/* ======================================================================== */
/* Sync server (src/sync/server*.c; docs/sync-protocol.md, docs/sync-server.md) */
/* ======================================================================== */

/* `hearth sync-server`: stores each user's change log (ciphertext and the
 * metadata that orders it) for their devices; never decodes a payload. */
typedef struct hearth_sync_server hearth_sync_server;

typedef struct {
    const char *host;       /* default "127.0.0.1" */
    uint16_t port;          /* default 8780; 0 picks a free port */
    const char *db;         /* "sqlite:PATH", PATH or "postgresql://..."; required */
    size_t max_body;        /* largest request body, default (and at most) 8 MiB */
    size_t max_changes;     /* changes per push / pull page, default (and at most) 5000 */
    size_t max_payload;     /* bytes of one payload, default (and at most) 1 MiB */
    int64_t quota_bytes;    /* payload bytes one device may have stored, default 1 GiB */
    double rate;            /* requests per second per device, default 50; 0: no limit */
    double burst;           /* token bucket size, default 100 */
    int request_timeout;    /* seconds of silence before a connection is closed, default 30 */
    /* Test hook: called after each push's transaction committed and before
     * its answer is sent (the crash test kills the process there). */
    void (*after_commit)(void *user);
    void *after_commit_user;
} hearth_sync_server_params;

/* Defaults as documented on each field (db NULL). Any thread. */
HEARTH_API hearth_sync_server_params hearth_sync_server_default_params(void);
/* Opens the database (creating its schema), binds and serves. On success
 * *out owns the server (hearth_sync_server_stop). Errors: HEARTH_E_ARG (bad
 * parameter, unknown database scheme), HEARTH_E_IO (database or socket).
 * Any thread. */
HEARTH_API hearth_status hearth_sync_server_start(const hearth_sync_server_params *p,
                                                  hearth_sync_server **out, hearth_error *err);
/* The bound port (useful with port 0). Any thread. */
HEARTH_API uint16_t hearth_sync_server_port(const hearth_sync_server *s);
/* Graceful stop: new requests get 503, in-flight ones finish, the database
 * is closed. NULL is a no-op. */
HEARTH_API void hearth_sync_server_stop(hearth_sync_server *s);

/* Administration of a sync database (db as above; no server needs to run).
 * token: creates user if new and a new enrollment token for it, written
 * NUL-terminated into out (cap >= 64); only its hash is stored. */
HEARTH_API hearth_status hearth_sync_admin_token(const char *db, const char *user, char *out,
                                                 size_t cap, hearth_error *err);
/* All devices as a JSON array text (*json owned: hearth_free) of objects
 * {id, user, name, created, last_seen, pull_position, stored_bytes, revoked}. */
HEARTH_API hearth_status hearth_sync_admin_devices(const char *db, char **json,
                                                   hearth_error *err);
/* Revokes a device: its token stops working (401). HEARTH_E_NOTFOUND if
 * there is no such device. */
HEARTH_API hearth_status hearth_sync_admin_revoke(const char *db, const char *device,
                                                  hearth_error *err);
/* Revokes every enrollment token of user (registered devices keep their
 * device tokens); *n says how many were active. */
HEARTH_API hearth_status hearth_sync_admin_revoke_tokens(const char *db, const char *user,
                                                         int64_t *n, hearth_error *err);


#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
