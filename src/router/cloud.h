/*
 * cloud.h: the client for a cloud model, i.e. any OpenAI-compatible
 * chat-completions endpoint (llama.cpp's server, vLLM, ollama's /v1, a
 * hosted API, another `hearth serve`). The router calls it only after the
 * privacy policy allowed the request and the redactor ran; this layer knows
 * nothing of either, of the store or of the agent. Settings and behaviour
 * are documented for users in docs/cloud.md.
 *
 * Guarantees:
 *  - TLS peer and host verification are always on; a CA file may be given
 *    (trusted instead of the system store), verification can not be turned
 *    off. Plain http:// is accepted only for loopback hosts.
 *  - Every call ends within timeout_ms (connect, response, retries and the
 *    waits between them all count), or sooner when cancelled.
 *  - The response body is bounded (max_response); past it the transfer is
 *    aborted with HEARTH_CLOUD_TOO_LARGE.
 *  - Retries only where the request can not have produced an answer the
 *    user saw: connection refused / DNS failure / timeout before any byte
 *    of response, 429 and 503 (honouring Retry-After up to a cap), other 5xx
 *    statuses. Never after a streamed delta reached the caller.
 *  - The API key is never part of an error message or of anything this
 *    layer writes or returns except the Authorization header it sends; it
 *    is wiped from memory when the handle is freed.
 */
#ifndef HEARTH_ROUTER_CLOUD_H
#define HEARTH_ROUTER_CLOUD_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a call failed (HEARTH_CLOUD_OK when it did not). */
typedef enum {
    HEARTH_CLOUD_OK = 0,
    HEARTH_CLOUD_REFUSED,       /* connection refused, host not found, unreachable */
    HEARTH_CLOUD_TIMEOUT,       /* the connect or total timeout passed */
    HEARTH_CLOUD_HTTP_STATUS,   /* the server answered with a non-2xx status */
    HEARTH_CLOUD_MALFORMED,     /* the answer is not a chat completion we can read */
    HEARTH_CLOUD_TOO_LARGE,     /* the answer passed max_response (or an SSE line bound) */
    HEARTH_CLOUD_BROKEN_STREAM, /* the answer ended early, or an error came mid-stream */
    HEARTH_CLOUD_CANCELLED,     /* the caller stopped it (delta callback or cancel hook) */
    HEARTH_CLOUD_TLS,           /* the TLS handshake or certificate verification failed */
    HEARTH_CLOUD_NETWORK,       /* another transport failure (connection reset, ...) */
    HEARTH_CLOUD_KIND_COUNT
} hearth_cloud_kind;

/* "ok", "refused", "timeout", "http_status", "malformed", "too_large",
 * "broken_stream", "cancelled", "tls", "network". Static; NULL out of
 * range. Any thread. */
const char *hearth_cloud_kind_name(hearth_cloud_kind k);

typedef struct {
    /* Base URL of the API, e.g. "https://api.example.com/v1" or
     * "http://127.0.0.1:8080". "/chat/completions" is appended; a URL with
     * no path gets "/v1/chat/completions"; a URL already ending in
     * "/chat/completions" is used as it is. Required. */
    const char *url;
    const char *model;         /* the "model" field sent; required */
    const char *api_key;       /* sent as "Authorization: Bearer KEY"; NULL/"": none */
    const char *ca_file;       /* PEM CA bundle trusted instead of the system store; NULL: system */
    long connect_timeout_ms;   /* per connection attempt; default 10000 */
    long timeout_ms;           /* whole call, retries included; default 60000 */
    size_t max_response;       /* response body bytes per attempt; default 8 MiB */
    size_t max_line;           /* longest SSE line / event; default 1 MiB */
    int max_retries;           /* retries after the first attempt; default 2 */
    long backoff_ms;           /* first wait between attempts, doubled each time
                                  (capped at 8x); default 500 */
    long retry_after_cap_ms;   /* longest Retry-After honoured; a longer one
                                  ends the call; default 10000 */
    bool stream_usage;         /* ask for usage in streams (stream_options); default true */
} hearth_cloud_params;

/* The defaults documented above (url and model NULL). Any thread. */
hearth_cloud_params hearth_cloud_default_params(void);

typedef struct hearth_cloud hearth_cloud;

/* Checks and copies p: the URL must be http(s) with a host and without user
 * info; http only to localhost / 127.0.0.0/8 / [::1]; ca_file (if given)
 * must be readable; api_key must not hold control characters; timeouts and
 * sizes must be positive (0 means the default). Opens no connection.
 * OUT: *out owns the handle (hearth_cloud_free). Errors: HEARTH_E_ARG (the
 * message names the setting, never the key's value), HEARTH_E_IO (ca_file),
 * HEARTH_E_NOMEM. Any thread. */
hearth_status hearth_cloud_new(const hearth_cloud_params *p, hearth_cloud **out,
                               hearth_error *err);

/* Wipes the key and frees everything. NULL is a no-op. */
void hearth_cloud_free(hearth_cloud *c);

/* The host the handle talks to (for audit records and messages); borrowed
 * until hearth_cloud_free. */
const char *hearth_cloud_host(const hearth_cloud *c);

/* Streaming delta: the next piece of the answer's text (valid UTF-8,
 * borrowed for the call). Return false to stop (HEARTH_CLOUD_CANCELLED). */
typedef bool (*hearth_cloud_delta_fn)(void *user_data, const char *text, size_t len);
/* Cancel hook, polled during the transfer (about every second at worst, and
 * on every piece of data) and while waiting to retry. Return true to abort. */
typedef bool (*hearth_cloud_cancel_fn)(void *user_data);

typedef struct {
    const hearth_chat_message *messages; /* role/content pairs, required (n >= 1) */
    size_t n_messages;
    int max_tokens;            /* 0: not sent (the server's default) */
    float temperature;         /* < 0: not sent */
    bool stream;               /* "stream": true; deltas go to on_delta as they come */
    hearth_cloud_delta_fn on_delta;   /* optional; called only when stream is set */
    hearth_cloud_cancel_fn cancel;    /* optional */
    void *user_data;           /* for both callbacks */
} hearth_cloud_request;

typedef struct {
    char *text;                /* owned (hearth_cloud_result_clear); the answer, or
                                  what was streamed before a failure; never NULL
                                  after a call that got past argument checks */
    size_t text_len;
    char finish_reason[32];    /* "stop", "length", ...; "" if the server gave none */
    bool has_usage;            /* the server reported usage: */
    int64_t prompt_tokens, completion_tokens, total_tokens;
    uint64_t bytes_sent;       /* HTTP bytes (headers + body) over all attempts */
    uint64_t bytes_received;
    double latency_ms;         /* the whole call */
    double first_delta_ms;     /* to the first streamed delta; < 0 if none */
    long http_status;          /* of the last attempt; 0 if no response came */
    int attempts;              /* requests started (1 + retries) */
    size_t n_deltas;           /* deltas given to on_delta */
    hearth_cloud_kind kind;    /* HEARTH_CLOUD_OK on success */
} hearth_cloud_result;

/* Sends one chat completion and waits for the whole answer. With
 * req->stream, each content delta goes to on_delta as it arrives, on the
 * calling thread. Unlike most hearth calls, a call that fails may have
 * called on_delta before (a stream that broke, or passed a limit, after
 * some deltas): res->n_deltas says how many, res->text holds them. res is
 * always filled (clear it with hearth_cloud_result_clear, also on failure).
 *
 * Returns HEARTH_OK with res->kind HEARTH_CLOUD_OK, or an error whose
 * category is res->kind: HEARTH_E_CANCELLED (cancelled), HEARTH_E_LIMIT
 * (too_large), HEARTH_E_FORMAT (malformed), HEARTH_E_IO (the others),
 * HEARTH_E_ARG (a bad request: no messages, a NULL role or content),
 * HEARTH_E_NOMEM. err->msg names the host, the category, the HTTP status
 * and the server's error message if any (cut, control characters
 * replaced), and the attempts made; never the key, the path or the query.
 * One thread per handle. */
hearth_status hearth_cloud_chat(hearth_cloud *c, const hearth_cloud_request *req,
                                hearth_cloud_result *res, hearth_error *err);

/* Frees res->text and zeroes res. NULL is a no-op. */
void hearth_cloud_result_clear(hearth_cloud_result *res);

#endif
