/*
 * backend.h: what the HTTP layer needs from the rest of hearth, in one small
 * interface: answer a validated request (streaming text through a callback),
 * embed texts, and name the served model. backend.c implements it on the
 * agent (sessions, cache, store) and the engine's batch scheduler; http.c
 * knows nothing of models or storage.
 */
#ifndef HEARTH_SERVER_BACKEND_H
#define HEARTH_SERVER_BACKEND_H

#include "hearth.h"
#include "server/openai.h"

typedef struct srv_backend srv_backend;

typedef struct {
    const hearth_settings *settings; /* agent defaults; NULL: load them */
    const char *model_path;
    const char *model_id;  /* the id clients use; NULL: the file name without .gguf */
    const char *data_dir;  /* store location; NULL: the default */
    int n_threads;         /* 0: default */
    int32_t n_ctx;         /* per-request context; 0: default */
    int32_t n_slots;       /* concurrent generations batched together */
    /* A/B (hearth serve --variant): n_variants > 1 serves these files side
     * by side (model_path is then ignored), each with its own model,
     * scheduler and agents; srv_backend_answer assigns each request to one
     * (src/ab/assign.h) under weights (NULL: equal). Names are at most
     * HEARTH_AB_NAME_MAX - 1 bytes. Borrowed for the backend's life. */
    const char *const *variant_names;
    const char *const *variant_paths;
    const unsigned *variant_weights;
    size_t n_variants;
} srv_backend_params;

/* Loads the model and opens the store. Slow (seconds): http.c calls it on a
 * loader thread while /health answers "loading". */
hearth_status srv_backend_open(const srv_backend_params *p, srv_backend **out, hearth_error *err);
void srv_backend_free(srv_backend *b);

/* Loads model_path (slow; outside any lock) and makes it the model of the
 * requests that start from now on; requests in flight finish on the old
 * one, which is freed after the last of them. On failure nothing changes.
 * The model id stays as it was. With variants: HEARTH_E_STATE. Any thread. */
hearth_status srv_backend_swap(srv_backend *b, const char *model_path, hearth_error *err);

/* The id clients name the model by in requests and GET /v1/models. Borrowed. */
const char *srv_backend_model_id(const srv_backend *b);

/* Called with each piece of generated text (complete UTF-8). Return non-zero
 * to cancel the generation (the client went away). */
typedef int (*srv_text_cb)(void *user, const char *text, size_t len);

typedef struct {
    char *text;                 /* whole answer; owned: hearth_free */
    int64_t prompt_tokens, completion_tokens;
    int64_t cached_tokens;      /* of the prompt's, not evaluated: a scheduler slot held
                                   them from an earlier request (0 on a cache hit) */
    int64_t restored_tokens;    /* of cached_tokens, read from a saved state (HOME/kv) */
    double restore_ms;          /* finding and loading it (part of prompt_ms) */
    const char *finish_reason;  /* "stop" or "length" (static) */
    const char *source;         /* "cache", "local", "cloud", "local-degraded" (static) */
    double ttft_s, per_token_s; /* < 0: unknown */
    double prompt_ms, gen_ms;   /* prompt evaluation; generation after it (0 on a cache hit) */
    double confidence;          /* of the local answer; < 0: unknown (raw completions) */
    int64_t drafted, accepted, spec_steps; /* speculative decoding (0 without) */
    /* Routing (chat only; see hearth_agent_response): decision "" when the
     * request was never a candidate for the cloud. */
    char decision[32], reason[256], category[16], host[128], redactions[256];
    int64_t bytes_out, bytes_in, audit_id;
    double cloud_ms;
    bool consent_needed;
    char *consent_preview;      /* owned: hearth_free */
    char variant[HEARTH_AB_NAME_MAX]; /* the A/B variant that answered ("" without variants) */
    double latency_ms;          /* the whole answer, in the backend */
    char *tool_calls;           /* the answer's tool calls, a JSON array text (owned:
                                   hearth_free), or NULL; finish_reason "tool_calls" */
} srv_answer;

/* Answers a chat or completion request; cb (may be NULL) streams the text.
 * HEARTH_E_LIMIT: the prompt does not fit the context (nothing generated).
 * HEARTH_E_CANCELLED: cb asked to stop. Any thread: concurrent calls are
 * batched together by the engine. */
hearth_status srv_backend_generate(srv_backend *b, const srv_request *r, srv_text_cb cb,
                                   void *user, srv_answer *out, hearth_error *err);

/* As srv_backend_generate, as the answer with response id `id`: with
 * variants, the request's session (or, without one, id) picks the variant;
 * out->variant names it. A successful answer that is not incognito is
 * recorded in the store's A/B records under id (a failure to record is
 * only logged: the answer stands). Any thread. */
hearth_status srv_backend_answer(srv_backend *b, const char *id, const srv_request *r,
                                 srv_text_cb cb, void *user, srv_answer *out, hearth_error *err);

/* Stores the user's rating (in [-1, 1]) of answer id (hearth_store_ab_feedback).
 * OUT: variant (cap bytes), the variant that gave it. HEARTH_E_NOTFOUND: no
 * such answer recorded. Any thread. */
hearth_status srv_backend_feedback(srv_backend *b, const char *id, double rating, char *variant,
                                   size_t cap, hearth_error *err);

/* The number of variants (1 without --variant) and the name of variant i. */
size_t srv_backend_n_variants(const srv_backend *b);
const char *srv_backend_variant_name(const srv_backend *b, size_t i);

/* Embeds text into out (owned: hearth_free), *dim floats; *n_tokens tokens
 * were read. With an embed_model setting that model embeds, else the chat
 * model. Any thread. */
hearth_status srv_backend_embed(srv_backend *b, const char *text, float **out, int *dim,
                                int64_t *n_tokens, hearth_error *err);

/* What the ollama API shows of the served model (/api/tags, /api/show,
 * /api/ps). Nothing here names a file path. */
typedef struct {
    char arch[32];             /* general.architecture */
    char quant[16];            /* the most common matrix type, e.g. "Q8_0" */
    char digest[65];           /* SHA-256 of the file, hex */
    uint64_t file_size, n_params;
    int64_t modified;          /* the file's mtime, seconds since the epoch */
    int32_t n_ctx_train, n_ctx, n_embd, n_layer, n_head, n_vocab;
    bool embedding_only;       /* an encoder (BERT): no chat, no generation */
} srv_model_info;

/* Fills *out for the model now served. Any thread. */
void srv_backend_model_info(srv_backend *b, srv_model_info *out);
/* The same for the embedding model (setting "embed_model"); false (and *out
 * zeroed) when there is none. Any thread. */
bool srv_backend_embed_model_info(srv_backend *b, srv_model_info *out);
/* The id of the embedding model (its file name without .gguf, or the
 * registry name as set), or NULL when the chat model embeds. Borrowed. */
const char *srv_backend_embed_id(const srv_backend *b);
/* True if an embeddings request may name the model name: the served
 * model's id or the embedding model's. */
bool srv_backend_embed_model_ok(const srv_backend *b, const char *name);

/* The model's chat template (NULL: none), copied into an owned string
 * (hearth_free); NULL also on allocation failure. Any thread. */
char *srv_backend_chat_template(srv_backend *b);

#endif
