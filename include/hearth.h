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


/* ======================================================================== */
/* Local store (src/store)                                                  */
/* ======================================================================== */

/* (store API) */


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
 * temp (0.8), top_p (0.95), top_k (40), max_tokens (512), seed (-1: random),
 * cache (1), cache_max_entries, cache_max_bytes.
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

/* ---- Chat messages and templates (src/agent/template.c) ----------------- */

/* (repeated from the tokenizer section, which C11 allows, so this section
 * stands on its own) */
typedef struct hearth_tokenizer hearth_tokenizer;

/* One chat message. role is "system", "user" or "assistant". */
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
    HEARTH_SOURCE_CLOUD,     /* a cloud model (not yet) */
} hearth_source;

/* Why generation ended. */
typedef enum {
    HEARTH_FINISH_STOP = 0,  /* end-of-turn token or a stop string */
    HEARTH_FINISH_LENGTH,    /* max_tokens or the context window was reached */
    HEARTH_FINISH_CANCELLED, /* hearth_agent_cancel or the callback said stop */
} hearth_finish;

/* "local", "cache", "cloud" / "stop", "length", "cancelled". Static. Any thread. */
HEARTH_API const char *hearth_source_name(hearth_source s);
HEARTH_API const char *hearth_finish_name(hearth_finish f);

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
    int max_tokens;            /* 512 */
    int64_t seed;              /* -1: random */
    bool use_cache;            /* response cache on (true) */
    /* Warnings (an unknown chat template, ...), never printed by hearth:
     * called from the thread that opened or is using the agent. Optional. */
    void (*warn)(void *user_data, const char *msg);
    void *warn_user_data;
} hearth_agent_params;

HEARTH_API hearth_agent_params hearth_agent_default_params(void);

/* Fills p's fields from resolved settings (model, home, max_context,
 * threads, system_prompt, temp, top_p, top_k, max_tokens, seed, cache).
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
    int max_tokens;            /* answer length limit */
    int64_t seed;              /* -1: random */
    float repeat_penalty;      /* 1: none */
    float presence_penalty;    /* 0: none */
    float frequency_penalty;   /* 0: none */
    const char *const *stop;   /* stop strings (not included in the answer) */
    size_t n_stop;
    bool no_cache;             /* neither read nor write the response cache */
    hearth_stream_fn on_text;  /* optional */
    void *user_data;
} hearth_agent_request;

/* A request with the agent's sampling defaults (built-in ones if a is NULL)
 * and nothing else set. Any thread. */
HEARTH_API hearth_agent_request hearth_agent_default_request(const hearth_agent *a);

typedef struct {
    char *content;             /* owned: hearth_agent_response_clear */
    int prompt_tokens;
    int completion_tokens;
    int decoded_tokens;        /* tokens the model actually evaluated (0 on a cache hit) */
    double prompt_ms;          /* prompt evaluation */
    double generate_ms;        /* generation after the first token */
    double total_ms;
    hearth_finish finish;
    hearth_source source;
    int64_t user_message_id;   /* store ids of the stored pair (0: not stored) */
    int64_t assistant_message_id;
} hearth_agent_response;

/* Answers one request. Streams the answer through on_text while it is made
 * (a cache hit streams it in one piece), then fills *resp. The exchange (user
 * and assistant messages, the cache entry) is written in one transaction
 * before this returns. Errors: HEARTH_E_ARG (no user message, bad role),
 * HEARTH_E_LIMIT (the prompt can not fit the context even after fitting),
 * HEARTH_E_IO (store), HEARTH_E_NOMEM. Cancelling is not an error: resp says
 * "cancelled" and the partial answer is kept (but not cached).
 * One thread per agent. */
HEARTH_API hearth_status hearth_agent_process(hearth_agent *a, const hearth_agent_request *req,
                                              hearth_agent_response *resp, hearth_error *err);
/* Frees resp's content and zeroes it. NULL is a no-op. */
HEARTH_API void hearth_agent_response_clear(hearth_agent_response *resp);

/* Asks the hearth_agent_process in progress (if any) to stop soon. Any thread. */
HEARTH_API void hearth_agent_cancel(hearth_agent *a);

/* Embedding of text with the agent's model: the mean over tokens of the
 * final hidden state, L2-normalized. OUT: *vec (owned: hearth_free), *dim.
 * One thread per agent. */
HEARTH_API hearth_status hearth_agent_embed(hearth_agent *a, const char *text, size_t len,
                                            float **vec, int *dim, hearth_error *err);

/* The chat template family in use. */
HEARTH_API hearth_template hearth_agent_template(const hearth_agent *a);
/* SHA-256 of the model file, 64 hex digits; borrowed from a. */
HEARTH_API const char *hearth_agent_model_hash(const hearth_agent *a);
/* Deletes a session's stored messages (its summaries too). */
HEARTH_API hearth_status hearth_agent_reset_session(hearth_agent *a, const char *session,
                                                    hearth_error *err);


#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
