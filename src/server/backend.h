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
} srv_backend_params;

/* Loads the model and opens the store. Slow (seconds): http.c calls it on a
 * loader thread while /health answers "loading". */
hearth_status srv_backend_open(const srv_backend_params *p, srv_backend **out, hearth_error *err);
void srv_backend_free(srv_backend *b);

/* Loads model_path (slow; outside any lock) and makes it the model of the
 * requests that start from now on; requests in flight finish on the old
 * one, which is freed after the last of them. On failure nothing changes.
 * The model id stays as it was. Any thread. */
hearth_status srv_backend_swap(srv_backend *b, const char *model_path, hearth_error *err);

/* The id clients name the model by in requests and GET /v1/models. Borrowed. */
const char *srv_backend_model_id(const srv_backend *b);

/* Called with each piece of generated text (complete UTF-8). Return non-zero
 * to cancel the generation (the client went away). */
typedef int (*srv_text_cb)(void *user, const char *text, size_t len);

typedef struct {
    char *text;                 /* whole answer; owned: hearth_free */
    int64_t prompt_tokens, completion_tokens;
    const char *finish_reason;  /* "stop" or "length" (static) */
    const char *source;         /* "cache", "local", "cloud", "local-degraded" (static) */
    double ttft_s, per_token_s; /* < 0: unknown */
    double confidence;          /* of the local answer; < 0: unknown (raw completions) */
    /* Routing (chat only; see hearth_agent_response): decision "" when the
     * request was never a candidate for the cloud. */
    char decision[32], reason[256], category[16], host[128], redactions[256];
    int64_t bytes_out, bytes_in, audit_id;
    double cloud_ms;
    bool consent_needed;
    char *consent_preview;      /* owned: hearth_free */
    char *tool_calls;           /* the answer's tool calls, a JSON array text (owned:
                                   hearth_free), or NULL; finish_reason "tool_calls" */
} srv_answer;

/* Answers a chat or completion request; cb (may be NULL) streams the text.
 * HEARTH_E_LIMIT: the prompt does not fit the context (nothing generated).
 * HEARTH_E_CANCELLED: cb asked to stop. Any thread: concurrent calls are
 * batched together by the engine. */
hearth_status srv_backend_generate(srv_backend *b, const srv_request *r, srv_text_cb cb,
                                   void *user, srv_answer *out, hearth_error *err);

/* Embeds text into out (owned: hearth_free), *dim floats; *n_tokens tokens
 * were read. Any thread. */
hearth_status srv_backend_embed(srv_backend *b, const char *text, float **out, int *dim,
                                int64_t *n_tokens, hearth_error *err);

#endif
