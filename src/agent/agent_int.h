/*
 * agent_int.h: functions shared between the agent's own files.
 */
#ifndef HEARTH_AGENT_INT_H
#define HEARTH_AGENT_INT_H

#include "hearth.h"
#include "router/confidence.h"
#include "router/hybrid.h"

#include <stdatomic.h>

/* Growable byte buffer, always NUL-terminated once non-empty. */
typedef struct {
    char *v;
    size_t n, cap;
} agent_buf;

bool agent_buf_put(agent_buf *b, const char *s, size_t n);
bool agent_buf_puts(agent_buf *b, const char *s);
void agent_buf_free(agent_buf *b);

/* Sequence slots of the agent's context. */
enum { AGENT_SEQ_CHAT = 0, AGENT_SEQ_EMBED = 1, AGENT_N_SEQ = 2 };

struct hearth_agent {
    hearth_agent_params p; /* strings point at the owned copies below */
    char *model_path;      /* owned */
    char *system_prompt;   /* owned, may be NULL */
    char *template_system; /* owned, may be NULL: the template's own default */
    hearth_model *model;
    bool owns_model;       /* false when shared through hearth_agent_params.model */
    const hearth_tokenizer *tok; /* borrowed from model */
    hearth_ctx *ctx;       /* AGENT_N_SEQ sequences of n_ctx positions each */
    hearth_store *store;
    hearth_template tmpl;
    char model_hash[65];   /* SHA-256 of the model file */
    /* Embeddings: the embedding model when one is set (its own context and
     * hash, under which vectors are stored), else the chat model's. */
    hearth_model *embed_model;
    bool owns_embed_model;
    hearth_ctx *embed_ctx;
    char embed_hash[65];
    /* Speculative decoding (draft_model / lookup), NULL: off. */
    hearth_model *draft_model;
    bool owns_draft_model;
    hearth_spec *spec;
    int32_t n_ctx;         /* the context window: positions per sequence */
    int32_t n_embd;
    atomic_int cancel;
    router *router;        /* the hybrid router (always present; local-only
                              when no cloud is configured) */
    /* What sequence AGENT_SEQ_CHAT holds, to reuse a common prompt prefix. */
    int32_t *seq_tokens;   /* owned */
    size_t n_seq_tokens, cap_seq_tokens;
    /* Saved chat-sequence states (kv_cache.c): <home>/kv, NULL when off. */
    char *kv_dir;          /* owned */
    int64_t kv_max_bytes;
    /* The request hearth_agent_process is answering (its should_stop and
     * on_prefill hooks), NULL between requests. */
    const hearth_agent_request *cur;
};

/* Opens the draft model and the hearth_spec when p asks for speculative
 * decoding (spec_setup.c); a->spec stays NULL otherwise. */
hearth_status agent_open_spec(hearth_agent *a, const hearth_agent_params *p, hearth_error *err);
void agent_free_spec(hearth_agent *a);

/* True when the answer in progress should stop: hearth_agent_cancel or
 * the request's should_stop. */
bool agent_should_stop(hearth_agent *a);

/* The system text of a conversation that brings none: the agent's system
 * prompt, else the template's default, else NULL. Borrowed. */
const char *agent_default_system(const hearth_agent *a);


/* Result of one run of the model. */
typedef struct {
    agent_buf text;       /* the answer (owned) */
    hearth_gen_result res;
    bool cb_stopped;      /* the stream callback asked to stop */
    conf_acc conf;        /* the generated tokens' log-probabilities */
    size_t n_cached;      /* prompt tokens whose keys and values were reused */
    double first_token_ms;/* clock (now_ms) at the first generated token; 0: none */
} agent_gen;

/* Runs prompt[0..n) through the chat sequence (reusing the prefix it already
 * holds) and generates with gp, streaming through fn (optional). OUT: *g
 * (text owned by the caller: agent_buf_free). */
hearth_status agent_generate(hearth_agent *a, const int32_t *prompt, size_t n,
                             const hearth_gen_params *gp, hearth_stream_fn fn, void *ud,
                             agent_gen *g, hearth_error *err);

/* Number of tokens msgs render to with the agent's template. */
hearth_status agent_count(hearth_agent *a, const hearth_chat_message *msgs, size_t n,
                          size_t *count, hearth_error *err);

/* A conversation being assembled: messages whose strings are either
 * borrowed (from the request, the stored history) or owned by the conv. */
typedef struct {
    hearth_chat_message *v;
    size_t n, cap;
    char **owned;
    size_t n_owned, cap_owned;
} agent_conv;

/* Appends (role, content); content is borrowed, or taken over (freed with
 * the conv) when take is true. False on allocation failure (a taken string
 * is then freed). */
bool agent_conv_add(agent_conv *c, const char *role, char *content, bool take);
/* Takes over p (any hearth_malloc block), freed with the conv. False on
 * allocation failure (p is then freed). */
bool agent_conv_own(agent_conv *c, void *p);
void agent_conv_free(agent_conv *c);

/* Builds the conversation of a request (messages, or the session's history
 * fitted with the new user message) within budget tokens. OUT: *conv,
 * *user (borrowed), *sid (the session's id, 0: none yet). */
hearth_status agent_build_conv(hearth_agent *a, const hearth_agent_request *r, size_t budget,
                               agent_conv *conv, const char **user, int64_t *sid,
                               hearth_error *err);

/* Fits a session's conversation (system text sys, may be NULL; stored
 * history hist oldest first; the new user message) into budget tokens:
 * unchanged if it fits; else the system text, the newest turns, a summary of
 * the older ones (written by the model once, kept in the store, reused) and
 * the older messages most similar to the new one while they fit. OUT: *out.
 * HEARTH_E_LIMIT if even the system text and the new message alone do not
 * fit. */
hearth_status agent_fit(hearth_agent *a, int64_t session_id, const char *sys,
                        const hearth_message *hist, size_t n_hist, const char *user,
                        size_t budget, agent_conv *out, hearth_error *err);

/* The embedding model name under which the agent stores vectors. */
#define AGENT_EMBED_KIND "message"

/* Calls the warning callback, if any. */
void agent_warn(const hearth_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A request carrying p's sampling defaults (built-in ones if p is NULL). */
hearth_agent_request hearth_agent_default_request_from(const hearth_agent_params *p);

/* SHA-256 of data as 64 hex digits plus NUL. */
hearth_status agent_sha256_hex(const void *data, size_t len, char out[65], hearth_error *err);

/* SHA-256 of the model file at path (64 hex digits plus NUL), remembered in
 * store's settings (optional) so an unchanged file is hashed once. */
hearth_status agent_model_hash(const char *path, hearth_store *store, char out[65],
                               hearth_error *err);

/* Saved session states (kv_cache.c). None of these fail the request: a
 * state that can not be read or written only costs evaluating the history
 * again (and a warning through agent_warn).
 * open: <home>/kv for states of up to max_bytes in all (<= 0: off; also off
 * with a scheduler, which keeps no chat sequence). */
hearth_status agent_kv_open(hearth_agent *a, int64_t max_bytes, hearth_error *err);
void agent_kv_close(hearth_agent *a);
/* Before evaluating prompt[0..n) of session: if a saved state of this
 * model and session shares a longer prefix with it than the chat sequence
 * holds, loads it into the chat sequence, cut to that prefix. OUT:
 * *restored (positions restored; 0: none), *ms (time spent looking and
 * loading). Always HEARTH_OK. */
hearth_status agent_kv_restore(hearth_agent *a, const char *session, const int32_t *prompt,
                               size_t n, int32_t *restored, double *ms);
/* After an answer: saves what the chat sequence holds as session's state
 * (replacing its older ones), then keeps the directory under the bound by
 * removing the least recently used states. */
void agent_kv_save(hearth_agent *a, const char *session);
/* Removes every saved state of session (any model). */
void agent_kv_forget(hearth_agent *a, const char *session);

/* The generation parameters a request asks for (length, stop strings,
 * sampling); the caller adds its grammar. agent.c; tools_run.c uses it too. */
hearth_gen_params agent_gen_params(const hearth_agent_request *r, int32_t max_tokens);

#endif
