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
#define HEARTH_STORE_SCHEMA_VERSION 2

typedef struct {
    const char *path;         /* database file; NULL: <data_dir>/hearth.db */
    const char *data_dir;     /* NULL: $HEARTH_HOME, else ~/.local/share/hearth;
                                 created (mode 0700) if missing */
    int busy_timeout_ms;      /* wait for other writers; default 5000 */
    bool sync_full;           /* true (default): synchronous=FULL; false:
                                 NORMAL (survives a process crash, may lose
                                 the last commits on power loss) */
    int64_t cache_max_entries; /* response cache limits; default 10000 */
    int64_t cache_max_bytes;   /* default 64 MiB (sum of key+response sizes) */
} hearth_store_params;

HEARTH_API hearth_store_params hearth_store_default_params(void);

/* Opens (creating if needed) the database named by p (NULL: defaults),
 * applies pending schema migrations, and sets WAL mode, the busy timeout and
 * foreign keys. Errors: HEARTH_E_IO (directory or file not usable),
 * HEARTH_E_FORMAT (not a SQLite/hearth database), HEARTH_E_UNSUPPORTED (schema
 * newer than this build; nothing is written). On success *out owns the handle
 * (hearth_store_free); on failure *out is NULL. Any thread. */
HEARTH_API hearth_status hearth_store_open(const hearth_store_params *p, hearth_store **out,
                                           hearth_error *err);

/* Closes the database. An open explicit transaction is rolled back.
 * NULL is a no-op. */
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

/* All-zero query: every message of every session. */
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


/* ======================================================================== */
/* Agent (src/agent)                                                        */
/* ======================================================================== */

/* (agent API) */


#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
