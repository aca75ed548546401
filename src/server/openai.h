/*
 * openai.h: the OpenAI API's request bodies, parsed and validated into plain
 * structs, and its error body. Bodies are untrusted: every field is checked
 * for presence, JSON type and range, and a failure says which field and why
 * (the message goes back to the client in the OpenAI error JSON).
 */
#ifndef HEARTH_SERVER_OPENAI_H
#define HEARTH_SERVER_OPENAI_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SRV_CHAT, SRV_COMPLETION, SRV_EMBEDDINGS } srv_kind;

#define SRV_MAX_STOP 4
#define SRV_MAX_MESSAGES 4096
#define SRV_MAX_INPUTS 2048

typedef struct {
    char *role;    /* "system", "user", "assistant" or "tool" */
    char *content; /* text; arrays of text parts are joined ("" for an
                      assistant message that only calls tools) */
    char *tool_calls;   /* assistant: its tool_calls as a JSON array text, or NULL */
    char *tool_call_id; /* tool: the call it answers, or NULL */
} srv_message;

typedef struct {
    srv_kind kind;
    char *model;              /* as sent */
    srv_message *messages;    /* chat */
    size_t n_messages;
    char *prompt;             /* completion */
    char **inputs;            /* embeddings */
    size_t n_inputs;
    bool base64;              /* embeddings: encoding_format "base64" (else "float") */
    int32_t dimensions;       /* embeddings: 'dimensions' asked for; 0: not given */
    bool stream;
    bool include_usage;       /* stream_options.include_usage */
    int32_t max_tokens;       /* -1: not given */
    bool has_temperature, has_top_p, has_seed;
    float temperature, top_p;
    uint64_t seed;
    float presence_penalty, frequency_penalty;
    char *stop[SRV_MAX_STOP];
    int n_stop;
    char *session;            /* hearth extension: keep the conversation */
    /* hearth extension "hearth": {"cloud": bool, "incognito": bool,
     * "ask": bool, "consent": bool}: tightens the policy, never loosens it */
    int8_t cloud;             /* -1: not given; 0: local only; 1: prefer the cloud */
    bool incognito, ask, consent;
    /* Sampling that only ollama's "options" can set (ollama.c). */
    bool has_top_k, has_min_p, has_repeat_penalty, has_repeat_last_n;
    int32_t top_k, repeat_last_n;
    float min_p, repeat_penalty;
    /* Tool calling (openai_tools.c): the tools array as JSON text (checked
     * with hearth_tools_check), tool_choice (hearth_tool_choice) and the
     * named function, parallel_tool_calls (default true). */
    char *tools_json;
    int tool_choice;
    char *tool_name;
    bool parallel_tool_calls;
    /* Structured output and log-probabilities (openai_format.c). */
    hearth_grammar *grammar;  /* response_format json_object / json_schema; owned */
    bool logprobs;            /* chat: logprobs true; completion: logprobs given */
    int32_t top_logprobs;     /* alternatives per token (0..20) */
    /* Set by http.c before generating, not parsed: where the backend sends
     * each generated token's log-probabilities (piece text, not ids). */
    void (*on_logprob)(void *user, const char *tok, size_t len, float logprob,
                       const char *const *alt, const size_t *alt_len, const float *alt_lp,
                       int n_alt);
    void *logprob_user;
} srv_request;

/* openai_tools.c: the tool-calling fields of a chat request. */
/* A "tool" message, or an "assistant" one with "tool_calls" (m is its JSON
 * object, i its index), into *out. HEARTH_E_ARG naming the field. */
hearth_status srv_tools_parse_message(void *m, size_t i, srv_message *out, hearth_error *err);
/* tools, tool_choice, parallel_tool_calls of the request object root. */
hearth_status srv_tools_parse_request(void *root, srv_request *r, hearth_error *err);
/* Calls (a JSON array text from the agent) as the message's tool_calls
 * value (a jansson json_t *, new reference), or NULL. */
void *srv_tools_message_json(const char *calls);
/* The streamed deltas of calls, as OpenAI sends them: per call, one delta
 * with index, id, type and function.name (arguments ""), then deltas of
 * function.arguments fragments. emit gets each delta object (a json_t *,
 * stolen). */
void srv_tools_stream(const char *calls, void (*emit)(void *user, void *delta), void *user);

/* Parses response_format, logprobs and top_logprobs of root into r, and
 * refuses the fields hearth does not support (n > 1, audio, modalities other
 * than text, prediction, logit_bias, web_search_options; best_of > 1, echo,
 * suffix for completions) with a 400 naming the field. An invalid schema is
 * HEARTH_E_ARG naming the problem. Any thread. */
struct json_t;
hearth_status srv_parse_format(struct json_t *root, srv_request *r, hearth_error *err);

/* Parses body (len bytes, not necessarily NUL-terminated) as a request of the
 * given kind into *out. On failure *out is zeroed and err->msg says which
 * field was wrong (HEARTH_E_FORMAT for bad JSON, HEARTH_E_ARG for a bad
 * field). Any thread. */
hearth_status srv_request_parse(srv_kind kind, const char *body, size_t len, srv_request *out,
                                hearth_error *err);
void srv_request_free(srv_request *r);

/* The OpenAI error body {"error": {"message", "type", "param", "code"}}.
 * A message that is not valid UTF-8 is cut before the first bad byte.
 * Owned: hearth_free. NULL on allocation failure. */
char *srv_error_json(const char *message, const char *type, const char *code, size_t *len);

#endif
