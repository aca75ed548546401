/*
 * cloud_json.h: the OpenAI chat-completions JSON the cloud client sends and
 * reads (private to src/router). Building the request body, reading a whole
 * (non-streamed) response, reading one streamed chunk, and pulling a
 * readable message out of an error body. The parsers take (buf, len) of
 * untrusted bytes and are fuzzed by tests/fuzz/fuzz_sse.c.
 */
#ifndef HEARTH_ROUTER_CLOUD_JSON_H
#define HEARTH_ROUTER_CLOUD_JSON_H

#include "router/cloud.h"
#include "util/strbuf.h"

/* What the answer holds so far. */
typedef struct {
    strbuf text;               /* content, concatenated */
    size_t max_text;           /* bound on text (0: none) */
    char finish_reason[32];
    bool has_usage;
    int64_t prompt_tokens, completion_tokens, total_tokens;
    bool done;                 /* the stream sent [DONE] */
    size_t n_deltas;           /* non-empty content deltas seen */
} oa_answer;

void oa_answer_init(oa_answer *a, size_t max_text);
void oa_answer_free(oa_answer *a);

/* The request body: {"model", "messages": [{"role","content"}...],
 * "max_tokens" (if > 0), "temperature" (if >= 0), "stream" and, when
 * streaming with stream_usage, "stream_options": {"include_usage": true}}.
 * OUT: the body (owned: hearth_free) and *len. Errors: HEARTH_E_ARG (no
 * messages, a NULL role or content, text that is not UTF-8),
 * HEARTH_E_NOMEM. Any thread. */
char *oa_request_json(const char *model, const hearth_cloud_request *req, bool stream_usage,
                      size_t *len, hearth_error *err);

/* Reads a whole chat.completion: choices[0].message.content (a string),
 * choices[0].finish_reason, usage. Errors: HEARTH_E_FORMAT (not JSON, no
 * choices, content missing or not a string), HEARTH_E_IO (the body is an
 * error object; the message quotes it), HEARTH_E_LIMIT (text past
 * max_text), HEARTH_E_NOMEM. Any thread. */
hearth_status oa_parse_response(const void *buf, size_t len, oa_answer *a, hearth_error *err);

/* Reads one streamed event's data: "[DONE]" sets done; otherwise a
 * chat.completion.chunk whose choices[0].delta.content (if a non-empty
 * string) is appended and passed to on_delta (optional), and whose
 * finish_reason and usage are kept. Data after [DONE] is ignored. Errors:
 * HEARTH_E_FORMAT (not a JSON object, choices not an array, ...),
 * HEARTH_E_IO (an error object in the stream), HEARTH_E_CANCELLED (on_delta
 * returned false), HEARTH_E_LIMIT (text past max_text), HEARTH_E_NOMEM. */
hearth_status oa_stream_chunk(const void *buf, size_t len, oa_answer *a,
                              hearth_cloud_delta_fn on_delta, void *user_data,
                              hearth_error *err);

/* A short readable message from an error body ({"error": {"message": ...}},
 * {"error": "..."} or {"message": ...}); "" if there is none. Only printable
 * ASCII is kept (anything else becomes '?'), cut to cap - 1 bytes. */
void oa_error_message(const void *buf, size_t len, char *out, size_t cap);

#endif
