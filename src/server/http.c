/*
 * http.c: `hearth serve`: the OpenAI-compatible HTTP API on libmicrohttpd.
 *
 * Threads: libmicrohttpd runs one thread per connection, so a handler may
 * block while the model answers; concurrent generations are batched by the
 * backend (continuous batching), not serialized here. The model loads on a
 * loader thread after the socket is bound, so GET /health can say "loading".
 *
 * Untrusted input: the body is collected up to max_body bytes (a larger one
 * is drained and answered 413), parsed by openai.c, and every failure is
 * answered with the OpenAI error JSON and counted; with a security log, also
 * logged (never the content). A full queue answers 429. Host and Origin are
 * checked first (origin.c: DNS rebinding, cross-site requests); slow and
 * greedy clients are held off by connguard.c. Error bodies never carry
 * server-side details such as file paths: those go to stderr.
 *
 * A client that hangs up stops its work: streams notice on their next
 * write, non-streamed generations and embeddings poll the socket between
 * tokens and between inputs.
 */
#include "agent/power_settings.h"
#include "server/backend.h"
#include "server/lp_json.h"
#include "server/connguard.h"
#include "server/feedback.h"
#include "server/metrics.h"
#include "server/ollama.h"
#include "server/openai.h"
#include "server/origin.h"
#include "server/seclog.h"
#include "server/webdir.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hearth_server {
    struct MHD_Daemon *daemon;
    hearth_server_params p;
    char *host, *model_path, *api_key, *data_dir; /* owned copies of p's strings */
    char *model_id;            /* owned copy of p->model_id, or NULL */
    char *web_dir;             /* owned copy of p->web_dir, or NULL: no /web/ */
    uint16_t port;
    srv_metrics *metrics;
    srv_seclog *seclog;
    srv_origin_policy *origin;
    srv_connguard *guard;

    pthread_t loader;
    bool loader_started;
    srv_backend *backend;      /* set once by the loader, then read only */
    atomic_int state;          /* 0 loading, 1 ready, 2 failed */
    char load_error[256];

    atomic_int active;         /* generation/embedding requests in flight */
    atomic_bool stopping;
    atomic_ullong next_id;
    time_t started_at;
};

enum { ST_LOADING, ST_READY, ST_FAILED };

/* Per-request state, kept in MHD's con_cls between calls. */
typedef struct {
    strbuf body;
    size_t received;
    bool too_large;
    bool answered;       /* answered from the headers alone (an error, a preflight) */
    bool counted_active; /* holds a slot in s->active */
} req_state;

/* ---- responses --------------------------------------------------------- */

/* What went wrong on our side, for the operator: stderr, never the client. */
static void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void server_log(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hearth serve: %s\n", line);
}

/* The port the request came in on (for same-origin checks). */
static unsigned local_port(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len)) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static const char *origin_of(struct MHD_Connection *c) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
}

/* CORS headers for an allowed cross-origin request; answers vary by Origin
 * whenever CORS is on (caches must not mix them up). */
static void add_cors(hearth_server *s, struct MHD_Connection *c, struct MHD_Response *r) {
    if (!srv_origin_cors_on(s->origin)) return;
    MHD_add_response_header(r, "Vary", "Origin");
    const char *o = origin_of(c);
    if (srv_origin_classify(s->origin, o, local_port(c)) == SRV_ORIGIN_ALLOWED)
        MHD_add_response_header(r, "Access-Control-Allow-Origin", o);
}

static enum MHD_Result queue(hearth_server *s, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r) {
    add_cors(s, c, r);
    srv_connguard_received(c); /* answering: no request is owed any more */
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The answer when even an error body cannot be built (no memory, text that
 * does not encode): fixed, so the client still gets a response. */
static const char fallback_500[] =
    "{\"error\":{\"message\":\"internal server error\",\"type\":\"server_error\","
    "\"param\":null,\"code\":null}}";

static enum MHD_Result send_fallback(hearth_server *s, struct MHD_Connection *c) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof fallback_500 - 1, (void *)fallback_500, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    return queue(s, c, 500, r);
}

static enum MHD_Result send_buf(hearth_server *s, struct MHD_Connection *c, unsigned status,
                                char *buf, size_t len, const char *type) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        hearth_free(buf);
        return send_fallback(s, c);
    }
    MHD_add_response_header(r, "Content-Type", type);
    return queue(s, c, status, r);
}

static enum MHD_Result send_json(hearth_server *s, struct MHD_Connection *c, unsigned status,
                                 json_t *o) {
    /* json_dumps allocates with malloc, which is what hearth_free and MHD
     * release with. */
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return send_fallback(s, c);
    return send_buf(s, c, status, text, strlen(text), "application/json");
}

static const char *client_addr(struct MHD_Connection *c, char *buf, size_t cap) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, cap, "?");
    if (!ci || !ci->client_addr) return buf;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)cap);
    return buf;
}

/* Answers an error in OpenAI's shape, counts it and, for rejections, writes
 * the security log. */
static enum MHD_Result send_error(hearth_server *s, struct MHD_Connection *c, const char *route,
                                  unsigned status, const char *type, const char *code,
                                  const char *message) {
    srv_metrics_request(s->metrics, route, status);
    srv_metrics_error(s->metrics, code ? code : type);
    if (status != 500 && status != 503) {
        char addr[64];
        srv_seclog_write(s->seclog, client_addr(c, addr, sizeof addr), route, status,
                         code ? code : type);
    }
    size_t len;
    char *body = srv_ollama_path(route) ? srv_ollama_error_json(message, &len)
                                        : srv_error_json(message, type, code, &len);
    if (!body) return send_fallback(s, c);
    return send_buf(s, c, status, body, len, "application/json");
}

/* A failure on our side: the details (which may name files) go to the log,
 * the client gets a generic message. */
static enum MHD_Result send_internal(hearth_server *s, struct MHD_Connection *c,
                                     const char *route, const char *detail) {
    server_log("%s: %s", route, detail);
    return send_error(s, c, route, 500, "server_error", NULL,
                      "internal server error (details are in the server's log)");
}

/* True if the client has hung up (or half-closed: it sends nothing more
 * and, for HTTP, waits for nothing more either). Cheap: one poll(2). Only
 * from the connection's own thread, which is the only reader. */
static bool client_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    struct pollfd pfd = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&pfd, 1, 0) <= 0) return false;
    if (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
    if (pfd.revents & POLLIN) {
        char b;
        ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
    return false;
}

/* "The model 'NAME' does not exist" with NAME cut to a whole character. */
static void model_not_found_msg(char *msg, size_t cap, const char *model, const char *served) {
    int n = (int)utf8_cut(model, strlen(model), 200);
    if (served)
        snprintf(msg, cap, "The model '%.*s' does not exist; this server serves '%.*s'", n, model,
                 (int)utf8_cut(served, strlen(served), 64), served);
    else
        snprintf(msg, cap, "The model '%.*s' does not exist", n, model);
}

/* ---- routing ----------------------------------------------------------- */

typedef enum {
    R_NONE,
    R_CHAT,
    R_COMPLETIONS,
    R_EMBEDDINGS,
    R_MODELS,
    R_MODEL,
    R_HEALTH,
    R_METRICS,
    R_FEEDBACK,
    R_OLLAMA_PLAIN, /* ollama.c, no model needed */
    R_OLLAMA        /* ollama.c */
} route_id;

static const struct {
    const char *path;
    const char *method;
    route_id id;
} routes[] = {
    {"/v1/chat/completions", "POST", R_CHAT},
    {"/chat/completions", "POST", R_CHAT},
    {"/v1/completions", "POST", R_COMPLETIONS},
    {"/completions", "POST", R_COMPLETIONS},
    {"/v1/embeddings", "POST", R_EMBEDDINGS},
    {"/embeddings", "POST", R_EMBEDDINGS},
    {"/v1/models", "GET", R_MODELS},
    {"/models", "GET", R_MODELS},
    /* a path ending in '/' matches what starts with it: /v1/models/{id} */
    {"/v1/models/", "GET", R_MODEL},
    {"/models/", "GET", R_MODEL},
    {"/health", "GET", R_HEALTH},
    {"/metrics", "GET", R_METRICS},
    {"/v1/feedback", "POST", R_FEEDBACK},
    /* ollama's API (ollama.c) */
    {"/", "GET", R_OLLAMA_PLAIN},
    {"/api/version", "GET", R_OLLAMA_PLAIN},
    {"/api/tags", "GET", R_OLLAMA},
    {"/api/ps", "GET", R_OLLAMA},
    {"/api/show", "POST", R_OLLAMA},
    {"/api/chat", "POST", R_OLLAMA},
    {"/api/generate", "POST", R_OLLAMA},
    {"/api/embed", "POST", R_OLLAMA},
    {"/api/embeddings", "POST", R_OLLAMA},
    {"/api/pull", "POST", R_OLLAMA},
    {"/api/push", "POST", R_OLLAMA},
    {"/api/create", "POST", R_OLLAMA},
    {"/api/copy", "POST", R_OLLAMA},
    {"/api/delete", "DELETE", R_OLLAMA},
};

/* Route by path; *method_ok false if the path exists with another method. */
static int find_route(const char *url, const char *method, bool *method_ok) {
    *method_ok = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        /* a path ending in '/' (not "/" itself) matches what starts with it */
        size_t n = strlen(routes[i].path);
        bool prefix = n > 1 && routes[i].path[n - 1] == '/';
        if (prefix ? strncmp(url, routes[i].path, n) || !url[n] : strcmp(url, routes[i].path))
            continue;
        /* HEAD is GET without the body (MHD leaves the body out) */
        if (!strcmp(method, routes[i].method) ||
            (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
            *method_ok = true;
            return (int)i;
        }
        return (int)i;
    }
    return -1;
}

/* Constant-time comparison so the key can't be guessed byte by byte from
 * response times. */
static bool key_matches(const char *given, const char *want) {
    size_t n = strlen(want), m = strlen(given);
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(want[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

static bool authorized(hearth_server *s, struct MHD_Connection *c) {
    if (!s->api_key) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7)) return false;
    return key_matches(h + 7, s->api_key);
}

/* ---- generation -------------------------------------------------------- */

typedef struct {
    hearth_server *s;
    srv_request req;
    char id[48];
    long created;
    const char *route;
    struct timespec t0;

    /* Streaming hand-off between the generating thread and MHD's reader. */
    pthread_t worker;
    bool worker_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    strbuf out;        /* SSE bytes not yet handed to MHD */
    size_t out_off;
    bool done;         /* the worker finished and queued its last chunk */
    atomic_bool cancel;
    bool sent_role;
    srv_lp_acc lp;     /* log-probabilities not yet sent (lp_json.c) */
} gen_job;

static void job_free(gen_job *j) {
    if (!j) return;
    srv_request_free(&j->req);
    srv_lp_free(&j->lp);
    strbuf_discard(&j->out);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    hearth_free(j);
}

/* One streamed chunk's JSON, in chat or completion shape. text may be NULL
 * (first role chunk / final chunk). */
static json_t *chunk_json(gen_job *j, const char *text, size_t len, const char *finish) {
    json_t *choice;
    if (j->req.kind == SRV_CHAT) {
        json_t *delta = json_object();
        if (!j->sent_role) {
            json_object_set_new(delta, "role", json_string("assistant"));
            j->sent_role = true;
        }
        if (text) json_object_set_new(delta, "content", json_stringn(text, len));
        choice = json_pack("{s:i, s:o, s:o, s:o}", "index", 0, "delta", delta, "logprobs",
                           j->req.logprobs ? srv_lp_take(&j->lp) : json_null(), "finish_reason",
                           finish ? json_string(finish) : json_null());
    } else {
        choice = json_pack("{s:i, s:o, s:o, s:o}", "index", 0, "text",
                           json_stringn(text ? text : "", text ? len : 0), "logprobs",
                           j->req.logprobs ? srv_lp_take(&j->lp) : json_null(),
                           "finish_reason", finish ? json_string(finish) : json_null());
    }
    return json_pack("{s:s, s:s, s:i, s:s, s:[o]}", "id", j->id, "object",
                     j->req.kind == SRV_CHAT ? "chat.completion.chunk" : "text_completion",
                     "created", (json_int_t)j->created, "model", j->req.model, "choices", choice);
}

/* Appends "data: <json>\n\n" to the stream buffer and wakes the reader.
 * Called with j->mu held. */
static void push_event(gen_job *j, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        j->out.failed = true;
        return;
    }
    strbuf_puts(&j->out, "data: ");
    strbuf_puts(&j->out, s);
    strbuf_puts(&j->out, "\n\n");
    free(s);
    pthread_cond_signal(&j->cv);
}

/* Each generated token's log-probabilities (on the generating thread). */
static void on_token_logprob(void *user, const char *tok, size_t len, float lp,
                             const char *const *alt, const size_t *alt_len, const float *alt_lp,
                             int n_alt) {
    gen_job *j = user;
    pthread_mutex_lock(&j->mu);
    srv_lp_add(&j->lp, tok, len, lp, alt, alt_len, alt_lp, n_alt);
    pthread_mutex_unlock(&j->mu);
}

static int on_stream_text(void *user, const char *text, size_t len) {
    gen_job *j = user;
    if (atomic_load(&j->cancel)) return 1;
    if (!len) return 0;
    pthread_mutex_lock(&j->mu);
    push_event(j, chunk_json(j, text, len, NULL));
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* OpenAI's usage; cached_tokens: prompt tokens a scheduler slot held from
 * an earlier request (prefix reuse), as OpenAI reports its prompt cache. */
static json_t *usage_json(const srv_answer *a) {
    return json_pack("{s:I, s:I, s:I, s:{s:I}}", "prompt_tokens", (json_int_t)a->prompt_tokens,
                     "completion_tokens", (json_int_t)a->completion_tokens, "total_tokens",
                     (json_int_t)(a->prompt_tokens + a->completion_tokens), "prompt_tokens_details",
                     "cached_tokens", (json_int_t)a->cached_tokens);
}

static void record_answer(hearth_server *s, const srv_answer *a) {
    srv_metrics_answer(s->metrics, a->source ? a->source : "local", a->prompt_tokens,
                       a->completion_tokens, a->ttft_s, a->per_token_s);
    srv_metrics_confidence(s->metrics, a->confidence);
    srv_metrics_spec(s->metrics, a->drafted, a->accepted, a->spec_steps);
    srv_metrics_cached(s->metrics, a->cached_tokens);
    srv_metrics_restored(s->metrics, a->restored_tokens);
    srv_metrics_variant(s->metrics, a->variant, a->source, a->completion_tokens,
                        a->latency_ms / 1e3, a->per_token_s > 0 ? 1 / a->per_token_s : -1);
    if (!a->decision[0]) return;
    const char *kinds[16];
    uint64_t counts[16];
    size_t nk = 0;
    json_t *red = json_loads(a->redactions, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(red, k, v) {
        if (nk < 16 && json_is_integer(v) && json_integer_value(v) > 0) {
            kinds[nk] = k;
            counts[nk++] = (uint64_t)json_integer_value(v);
        }
    }
    srv_metrics_route(s->metrics, a->decision, a->bytes_out, a->bytes_in,
                      a->cloud_ms >= 0 ? a->cloud_ms / 1e3 : -1, kinds, counts, nk);
    json_decref(red);
}

/* hearth's fields of an answer: where it came from, how sure the local
 * model was, and (when the router considered the cloud) what it decided;
 * with "ask", the consent answer: the exact redacted text that would be sent
 * and where, to send again with "hearth": {"consent": true}. */
static void add_hearth_fields(json_t *o, const srv_answer *a) {
    json_object_set_new(o, "hearth_source", json_string(a->source ? a->source : "local"));
    json_object_set_new(o, "hearth_confidence",
                        a->confidence >= 0 ? json_real(a->confidence) : json_null());
    if (a->variant[0]) json_object_set_new(o, "hearth_variant", json_string(a->variant));
    /* llama.cpp server's timings object, draft_n and draft_n_accepted
     * included; as there, prompt_n counts the tokens evaluated and cache_n
     * those reused */
    json_t *t = json_pack("{s:I, s:I, s:f, s:I, s:f, s:I, s:I}", "cache_n",
                          (json_int_t)a->cached_tokens, "prompt_n",
                          (json_int_t)(a->prompt_tokens - a->cached_tokens), "prompt_ms",
                          a->prompt_ms, "predicted_n", (json_int_t)a->completion_tokens,
                          "predicted_ms", a->gen_ms, "draft_n", (json_int_t)a->drafted,
                          "draft_n_accepted", (json_int_t)a->accepted);
    if (t && a->restored_tokens > 0) {
        /* of cache_n, read from a saved state after a restart (as `hearth
         * run --json` reports restore_ms) */
        json_object_set_new(t, "restored_n", json_integer((json_int_t)a->restored_tokens));
        json_object_set_new(t, "restore_ms", json_real(a->restore_ms));
    }
    if (t) json_object_set_new(o, "timings", t);
    if (a->decision[0]) {
        json_t *r = json_pack("{s:s, s:s, s:s, s:I}", "decision", a->decision, "category",
                              a->category, "host", a->host, "audit_id", (json_int_t)a->audit_id);
        /* the reason may quote a cloud server's error text: valid UTF-8 only */
        json_t *reason = json_stringn(a->reason, utf8_valid_prefix(a->reason, strlen(a->reason)));
        if (r && reason) json_object_set_new(r, "reason", reason);
        else json_decref(reason);
        if (r) json_object_set_new(o, "hearth_route", r);
    }
    if (a->consent_needed && a->consent_preview) {
        json_t *c = json_pack("{s:b, s:s, s:s}", "needed", 1, "host", a->host, "category",
                              a->category);
        json_t *pv = json_string(a->consent_preview);
        if (c && pv) json_object_set_new(c, "preview", pv);
        else json_decref(pv);
        if (c) json_object_set_new(o, "hearth_consent", c);
    }
}

/* A chunk carrying one tool-call delta (srv_tools_stream); j->mu held. */
static void push_tool_delta(void *user, void *delta) {
    gen_job *j = user;
    json_t *d = delta;
    if (!j->sent_role) {
        json_object_set_new(d, "role", json_string("assistant"));
        j->sent_role = true;
    }
    json_t *choice = json_pack("{s:i, s:o, s:n}", "index", 0, "delta", d, "finish_reason");
    push_event(j, json_pack("{s:s, s:s, s:i, s:s, s:[o]}", "id", j->id, "object",
                            "chat.completion.chunk", "created", (json_int_t)j->created, "model",
                            j->req.model, "choices", choice));
}

static void *stream_worker(void *arg) {
    gen_job *j = arg;
    hearth_server *s = j->s;
    srv_answer a = {0};
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = srv_backend_answer(s->backend, j->id, &j->req, on_stream_text, j, &a, &err);
    pthread_mutex_lock(&j->mu);
    if (st == HEARTH_OK) {
        record_answer(s, &a);
        if (a.tool_calls) srv_tools_stream(a.tool_calls, push_tool_delta, j);
        json_t *last = chunk_json(j, NULL, 0, a.finish_reason ? a.finish_reason : "stop");
        if (last) add_hearth_fields(last, &a);
        push_event(j, last);
        if (j->req.include_usage)
            push_event(j, json_pack("{s:s, s:s, s:i, s:s, s:[], s:o}", "id", j->id, "object",
                                    j->req.kind == SRV_CHAT ? "chat.completion.chunk"
                                                            : "text_completion",
                                    "created", (json_int_t)j->created, "model", j->req.model,
                                    "choices", "usage", usage_json(&a)));
        srv_metrics_request(s->metrics, j->route, 200);
    } else if (st != HEARTH_E_CANCELLED) {
        /* Headers are gone already: report the error in-band, as OpenAI does.
         * Our own failures' details stay in the log. */
        bool ours = st != HEARTH_E_LIMIT && st != HEARTH_E_ARG;
        if (ours) server_log("%s: %s", j->route, err.msg);
        json_t *e = json_pack("{s:{s:s, s:s}}", "error", "message",
                              ours ? "internal server error (details are in the server's log)"
                                   : err.msg,
                              "type", ours ? "server_error" : "invalid_request_error");
        push_event(j, e);
        srv_metrics_request(s->metrics, j->route, ours ? 500 : 400);
        srv_metrics_error(s->metrics, st == HEARTH_E_LIMIT ? "context_length_exceeded"
                                      : ours               ? "generation_failed"
                                                           : "invalid_value");
    } else {
        srv_metrics_request(s->metrics, j->route, 499); /* client closed request */
        srv_metrics_error(s->metrics, "client_disconnected");
    }
    strbuf_puts(&j->out, "data: [DONE]\n\n");
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    hearth_free(a.text);
    hearth_free(a.consent_preview);
    hearth_free(a.tool_calls);
    return NULL;
}

/* MHD pulls the stream through this; it blocks until the worker has bytes. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    gen_job *j = cls;
    pthread_mutex_lock(&j->mu);
    while (!j->done && j->out.len == j->out_off) pthread_cond_wait(&j->cv, &j->mu);
    ssize_t n;
    if (j->out.failed) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (j->out.len > j->out_off) {
        size_t k = j->out.len - j->out_off;
        if (k > max) k = max;
        memcpy(buf, j->out.p + j->out_off, k);
        j->out_off += k;
        if (j->out_off == j->out.len) j->out.len = j->out_off = 0; /* reuse the buffer */
        n = (ssize_t)k;
    } else {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&j->mu);
    return n;
}

/* MHD is done with the response: finished, or the client went away. */
static void stream_free(void *cls) {
    gen_job *j = cls;
    atomic_store(&j->cancel, true);
    if (j->worker_started) pthread_join(j->worker, NULL);
    atomic_fetch_sub(&j->s->active, 1);
    job_free(j);
}

/* srv_text_cb for answers that are not streamed: cancel if the client left. */
static int watch_client(void *user, const char *text, size_t len) {
    (void)text;
    (void)len;
    return client_gone(user);
}

/* The client hung up before its answer: count it and drop the connection. */
static enum MHD_Result client_left(hearth_server *s, const char *route) {
    srv_metrics_request(s->metrics, route, 499); /* client closed request */
    srv_metrics_error(s->metrics, "client_disconnected");
    return MHD_NO;
}

static enum MHD_Result answer_generation(hearth_server *s, struct MHD_Connection *c,
                                         const char *route, srv_kind kind, req_state *rs) {
    gen_job *j = hearth_calloc(1, sizeof *j);
    if (!j) return MHD_NO;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    strbuf_init(&j->out);
    j->s = s;
    j->route = route;
    j->created = (long)time(NULL);
    /* Unique per server run: start time and a counter. */
    snprintf(j->id, sizeof j->id, "%s-%lx%llx", kind == SRV_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long)s->started_at, (unsigned long long)atomic_fetch_add(&s->next_id, 1));
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = srv_request_parse(kind, rs->body.p ? rs->body.p : "", rs->body.len, &j->req, &err);
    if (st) {
        job_free(j);
        return send_error(s, c, route, st == HEARTH_E_NOMEM ? 500 : 400, "invalid_request_error",
                          st == HEARTH_E_FORMAT ? "invalid_json" : "invalid_value", err.msg);
    }
    srv_lp_init(&j->lp, kind == SRV_CHAT);
    if (j->req.logprobs) {
        j->req.on_logprob = on_token_logprob;
        j->req.logprob_user = j;
    }
    if (strcmp(j->req.model, srv_backend_model_id(s->backend))) {
        char msg[400];
        model_not_found_msg(msg, sizeof msg, j->req.model, srv_backend_model_id(s->backend));
        job_free(j);
        return send_error(s, c, route, 404, "invalid_request_error", "model_not_found", msg);
    }
    if (j->req.stream) {
        /* The worker produces, MHD's reader consumes; stream_free joins the
         * worker and releases the queue slot. */
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, j, stream_free);
        if (!r) {
            job_free(j);
            return MHD_NO;
        }
        if (pthread_create(&j->worker, NULL, stream_worker, j)) {
            j->worker_started = false;
            MHD_destroy_response(r); /* calls stream_free */
            rs->counted_active = false;
            return send_internal(s, c, route, "cannot start a thread");
        }
        j->worker_started = true;
        rs->counted_active = false; /* stream_free releases the slot now */
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        return queue(s, c, 200, r);
    }
    srv_answer a = {0};
    /* Not streamed: nothing is written until the end, so watch the socket
     * to stop when the client hangs up. */
    st = srv_backend_answer(s->backend, j->id, &j->req, watch_client, c, &a, &err);
    enum MHD_Result ok;
    if (st == HEARTH_OK) {
        record_answer(s, &a);
        json_t *choice;
        json_t *lps = j->req.logprobs ? srv_lp_take(&j->lp) : json_null();
        if (kind == SRV_CHAT && a.tool_calls) {
            /* OpenAI's shape: content null when the answer is only calls */
            json_t *calls = srv_tools_message_json(a.tool_calls);
            choice = json_pack("{s:i, s:{s:s, s:o, s:o}, s:o, s:s}", "index", 0, "message",
                               "role", "assistant", "content",
                               a.text && *a.text ? json_string(a.text) : json_null(),
                               "tool_calls", calls ? calls : json_array(), "logprobs", lps,
                               "finish_reason", a.finish_reason ? a.finish_reason : "tool_calls");
        } else if (kind == SRV_CHAT)
            choice = json_pack("{s:i, s:{s:s, s:s}, s:o, s:s}", "index", 0, "message", "role",
                               "assistant", "content", a.text ? a.text : "", "logprobs", lps,
                               "finish_reason", a.finish_reason ? a.finish_reason : "stop");
        else
            choice = json_pack("{s:i, s:s, s:o, s:s}", "index", 0, "text", a.text ? a.text : "",
                               "logprobs", lps, "finish_reason",
                               a.finish_reason ? a.finish_reason : "stop");
        json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:[o], s:o}", "id", j->id, "object",
                              kind == SRV_CHAT ? "chat.completion" : "text_completion", "created",
                              (json_int_t)j->created, "model", j->req.model, "choices", choice,
                              "usage", usage_json(&a));
        if (o) add_hearth_fields(o, &a); /* hearth_source, hearth_confidence, ... */
        srv_metrics_request(s->metrics, route, 200);
        ok = send_json(s, c, 200, o);
    } else if (st == HEARTH_E_LIMIT || st == HEARTH_E_ARG) {
        ok = send_error(s, c, route, 400, "invalid_request_error",
                        st == HEARTH_E_LIMIT ? "context_length_exceeded" : "invalid_value", err.msg);
    } else if (st == HEARTH_E_CANCELLED) {
        ok = client_left(s, route);
    } else {
        ok = send_internal(s, c, route, err.msg);
    }
    hearth_free(a.text);
    hearth_free(a.consent_preview);
    hearth_free(a.tool_calls);
    job_free(j);
    return ok;
}

/* POST /v1/feedback: the rating of one recorded answer (server/feedback.c). */
static enum MHD_Result answer_feedback(hearth_server *s, struct MHD_Connection *c,
                                       const char *route, req_state *rs) {
    srv_feedback_result fr;
    srv_feedback_handle(s->backend, rs->body.p ? rs->body.p : "", rs->body.len, &fr);
    if (fr.status != 200)
        return send_error(s, c, route, fr.status,
                          fr.status >= 500 ? "server_error" : "invalid_request_error", fr.code,
                          fr.msg);
    srv_metrics_feedback(s->metrics, fr.variant, fr.rating);
    srv_metrics_request(s->metrics, route, 200);
    return send_json(s, c, 200, fr.reply);
}

/* v[0..dim) as OpenAI's encoding_format "base64": the little-endian float32
 * bytes in standard base64, as a JSON string; NULL when out of memory. */
static json_t *embedding_base64(const float *v, int dim) {
    size_t nb = (size_t)dim * 4;
    unsigned char *raw = hearth_malloc(nb ? nb : 1);
    char *b64 = hearth_malloc(4 * ((nb + 2) / 3) + 1);
    json_t *out = NULL;
    if (raw && b64) {
        for (int k = 0; k < dim; k++) {
            uint32_t u;
            memcpy(&u, &v[k], 4);
            for (int b = 0; b < 4; b++) raw[(size_t)k * 4 + (size_t)b] = (unsigned char)(u >> (8 * b));
        }
        int n = EVP_EncodeBlock((unsigned char *)b64, raw, (int)nb);
        out = json_stringn(b64, (size_t)n);
    }
    hearth_free(raw);
    hearth_free(b64);
    return out;
}

static enum MHD_Result answer_embeddings(hearth_server *s, struct MHD_Connection *c,
                                         const char *route, req_state *rs) {
    srv_request req;
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = srv_request_parse(SRV_EMBEDDINGS, rs->body.p ? rs->body.p : "",
                                         rs->body.len, &req, &err);
    if (st)
        return send_error(s, c, route, st == HEARTH_E_NOMEM ? 500 : 400, "invalid_request_error",
                          st == HEARTH_E_FORMAT ? "invalid_json" : "invalid_value", err.msg);
    if (!srv_backend_embed_model_ok(s->backend, req.model)) {
        char msg[400];
        model_not_found_msg(msg, sizeof msg, req.model, NULL);
        srv_request_free(&req);
        return send_error(s, c, route, 404, "invalid_request_error", "model_not_found", msg);
    }
    json_t *data = json_array();
    int64_t tokens = 0;
    for (size_t i = 0; i < req.n_inputs && st == HEARTH_OK; i++) {
        /* Nothing is written until every input is done: stop as soon as
         * the client is gone rather than finish work nobody will read. */
        if (client_gone(c)) {
            st = HEARTH_E_CANCELLED;
            break;
        }
        float *v = NULL;
        int dim = 0;
        int64_t nt = 0;
        st = srv_backend_embed(s->backend, req.inputs[i], &v, &dim, &nt, &err);
        if (st) break;
        /* The model's embeddings are not trained to be cut short (no
         * Matryoshka training): only their own size is honoured. */
        if (req.dimensions && req.dimensions != dim) {
            hearth_free(v);
            st = HEARTH_FAIL(&err, HEARTH_E_ARG,
                             "'dimensions' must be %d for this model (its embeddings cannot be "
                             "shortened)", dim);
            break;
        }
        srv_metrics_embedded(s->metrics);
        json_t *arr = req.base64 ? embedding_base64(v, dim) : json_array();
        if (!req.base64)
            for (int k = 0; k < dim; k++) json_array_append_new(arr, json_real(v[k]));
        hearth_free(v);
        if (!arr) {
            st = HEARTH_FAIL(&err, HEARTH_E_NOMEM, "out of memory");
            break;
        }
        json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding", arr));
        tokens += nt;
    }
    srv_request_free(&req);
    if (st) {
        json_decref(data);
        if (st == HEARTH_E_CANCELLED) return client_left(s, route);
        if (st != HEARTH_E_LIMIT && st != HEARTH_E_ARG) return send_internal(s, c, route, err.msg);
        return send_error(s, c, route, 400, "invalid_request_error",
                          st == HEARTH_E_LIMIT ? "context_length_exceeded" : "invalid_value",
                          err.msg);
    }
    srv_metrics_request(s->metrics, route, 200);
    srv_metrics_answer(s->metrics, "local", tokens, 0, -1, -1);
    return send_json(s, c, 200,
                     json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data,
                               "model", srv_backend_model_id(s->backend), "usage",
                               "prompt_tokens", (json_int_t)tokens, "total_tokens",
                               (json_int_t)tokens));
}

/* ---- the access handler ------------------------------------------------ */

/* A header list a preflight may ask for: tokens, commas and spaces only. */
static bool header_list_ok(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > 512) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = h[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == ',' || ch == ' '))
            return false;
    }
    return true;
}

/* OPTIONS on a known route: the CORS preflight (the origin was checked
 * already), or a plain question about the methods. */
static enum MHD_Result answer_options(hearth_server *s, struct MHD_Connection *c,
                                      const char *route, int ri) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    const char *methods = strcmp(routes[ri].method, "GET") ? "POST, OPTIONS" : "GET, OPTIONS";
    MHD_add_response_header(r, "Allow", methods);
    if (srv_origin_classify(s->origin, origin_of(c), local_port(c)) == SRV_ORIGIN_ALLOWED) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", methods);
        char headers[600] = "Authorization, Content-Type";
        const char *want =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
        /* The origin is trusted: let it send the headers its client library
         * adds (the openai package sends x-stainless-*). */
        if (want && header_list_ok(want))
            snprintf(headers, sizeof headers, "Authorization, Content-Type, %s", want);
        MHD_add_response_header(r, "Access-Control-Allow-Headers", headers);
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    }
    srv_metrics_request(s->metrics, route, 204);
    return queue(s, c, 204, r);
}

/* Checks what the headers alone decide (Host, Origin, route, method, key,
 * declared size) and answers if they settle it. MHD_YES with rs->answered
 * false: go on and read the body. */
/* GET/HEAD under /web/ with --web DIR: the web app's files (webdir.c). */
static enum MHD_Result answer_web(hearth_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method) {
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_error(s, c, "/web/", 405, "invalid_request_error", "method_not_allowed",
                          "the web app's files are read with GET");
    unsigned status = 500;
    struct MHD_Response *r = srv_web_answer(s->web_dir, url, &status);
    if (!r) return send_fallback(s, c);
    return queue(s, c, status, r);
}

static enum MHD_Result check_headers(hearth_server *s, struct MHD_Connection *c, int ri,
                                     bool method_ok, const char *method, const char *route,
                                     const char *url, req_state *rs) {
    rs->answered = true;
    if (!srv_origin_host_ok(s->origin, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
        return send_error(s, c, route, 403, "invalid_request_error", "host_not_allowed",
                          "this server answers only requests for localhost; start it with "
                          "--allow-host NAME to serve another host name");
    if (srv_origin_classify(s->origin, origin_of(c), local_port(c)) == SRV_ORIGIN_FOREIGN)
        return send_error(s, c, route, 403, "invalid_request_error", "origin_not_allowed",
                          "cross-origin requests from this origin are not allowed; start the "
                          "server with --cors-origin ORIGIN to allow it");
    if (s->web_dir && srv_web_path(url)) return answer_web(s, c, url, method);
    if (ri < 0)
        return send_error(s, c, route, 404, "invalid_request_error", "not_found",
                          "no such endpoint");
    if (!strcmp(method, "OPTIONS")) return answer_options(s, c, route, ri);
    if (!method_ok)
        return send_error(s, c, route, 405, "invalid_request_error", "method_not_allowed",
                          "method not allowed on this endpoint");
    if (routes[ri].id != R_HEALTH && routes[ri].id != R_OLLAMA_PLAIN && !authorized(s, c))
        return send_error(s, c, route, 401, "invalid_request_error", "invalid_api_key",
                          "missing or wrong API key (Authorization: Bearer KEY)");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > s->p.max_body)
        return send_error(s, c, route, 413, "invalid_request_error", "request_too_large",
                          "request body is over the limit");
    rs->answered = false;
    return MHD_YES;
}

/* ---- ollama's API (ollama.c) ------------------------------------------- */

static enum MHD_Result ollama_queue(void *server, struct MHD_Connection *c, unsigned status,
                                    struct MHD_Response *r) {
    return queue(server, c, status, r);
}

static srv_ollama_env ollama_env(hearth_server *s, struct MHD_Connection *c, const char *route,
                                 req_state *rs) {
    srv_ollama_env env = {
        .backend = s->backend, .metrics = s->metrics, .c = c, .route = route, .server = s,
        .queue = ollama_queue, .client_gone = client_gone, .active = &s->active,
        .counted_active = &rs->counted_active,
    };
    return env;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    hearth_server *s = cls;
    bool method_ok;
    int ri = find_route(url, method, &method_ok);
    const char *route = ri >= 0 ? routes[ri].path : !strncmp(url, "/api/", 5) ? "/api/other" : "other";

    req_state *rs = *con_cls;
    if (!rs) {
        /* First call: headers only. Reject what needs no body right away. */
        rs = hearth_calloc(1, sizeof *rs);
        if (!rs) return MHD_NO;
        strbuf_init(&rs->body);
        *con_cls = rs;
        return check_headers(s, c, ri, method_ok, method, route, url, rs);
    }
    if (*upload_size) {
        /* Keep reading an oversized body (so the client sees our answer) but
         * don't keep it. */
        if (!rs->too_large && *upload_size > s->p.max_body - rs->received) rs->too_large = true;
        if (!rs->too_large) strbuf_append(&rs->body, upload_data, *upload_size);
        rs->received += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rs->answered) return MHD_YES;
    srv_connguard_received(c); /* the whole request is in */
    if (rs->too_large)
        return send_error(s, c, route, 413, "invalid_request_error", "request_too_large",
                          "request body is over the limit");
    if (rs->body.failed) return send_internal(s, c, route, "out of memory for the request body");

    int state = atomic_load(&s->state);
    switch (routes[ri].id) {
    case R_HEALTH: {
        unsigned st = state == ST_READY ? 200 : 503;
        srv_metrics_request(s->metrics, route, st);
        return send_json(s, c, st, json_pack("{s:s}", "status",
                                          state == ST_READY ? "ok"
                                          : state == ST_LOADING ? "loading" : "error"));
    }
    case R_METRICS: {
        srv_metrics_request(s->metrics, route, 200);
        size_t len;
        char *text = srv_metrics_render(s->metrics, &len);
        if (!text) return send_fallback(s, c);
        return send_buf(s, c, 200, text, len, "text/plain; version=0.0.4");
    }
    case R_OLLAMA_PLAIN: {
        srv_ollama_env env = ollama_env(s, c, route, rs);
        return srv_ollama_answer_plain(&env, routes[ri].path);
    }
    default: break;
    }
    /* The load error itself (it names files) is in the server's log. */
    if (state != ST_READY)
        return send_error(s, c, route, 503, "server_error", "model_not_ready",
                          state == ST_LOADING
                              ? "the model is still loading"
                              : "the model or the store failed to load (see the server's log)");
    if (routes[ri].id == R_MODELS) {
        srv_metrics_request(s->metrics, route, 200);
        return send_json(s, c, 200, json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}", "object", "list",
                                           "data", "id", srv_backend_model_id(s->backend),
                                           "object", "model", "created", (json_int_t)0,
                                           "owned_by", "hearth"));
    }
    if (routes[ri].id == R_MODEL) {
        /* models.retrieve: the one model served, or OpenAI's 404 */
        const char *id = url + strlen(routes[ri].path);
        if (strcmp(id, srv_backend_model_id(s->backend))) {
            char msg[400];
            model_not_found_msg(msg, sizeof msg, id, srv_backend_model_id(s->backend));
            return send_error(s, c, route, 404, "invalid_request_error", "model_not_found", msg);
        }
        srv_metrics_request(s->metrics, route, 200);
        return send_json(s, c, 200, json_pack("{s:s, s:s, s:i, s:s}", "id",
                                           srv_backend_model_id(s->backend), "object", "model",
                                           "created", (json_int_t)0, "owned_by", "hearth"));
    }
    if (atomic_load(&s->stopping))
        return send_error(s, c, route, 503, "server_error", "shutting_down",
                          "the server is shutting down");
    if (atomic_fetch_add(&s->active, 1) >= s->p.max_queue) {
        atomic_fetch_sub(&s->active, 1);
        return send_error(s, c, route, 429, "rate_limit_error", "queue_full",
                          "too many requests in flight; retry later");
    }
    rs->counted_active = true;
    switch (routes[ri].id) {
    case R_CHAT: return answer_generation(s, c, route, SRV_CHAT, rs);
    case R_COMPLETIONS: return answer_generation(s, c, route, SRV_COMPLETION, rs);
    case R_EMBEDDINGS: return answer_embeddings(s, c, route, rs);
    case R_FEEDBACK: return answer_feedback(s, c, route, rs);
    case R_OLLAMA: {
        srv_ollama_env env = ollama_env(s, c, route, rs);
        return srv_ollama_answer(&env, routes[ri].path, rs->body.p ? rs->body.p : "", rs->body.len);
    }
    default: return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    hearth_server *s = cls;
    srv_connguard_waiting(c); /* keep-alive: the next request's deadline starts */
    req_state *rs = *con_cls;
    if (!rs) return;
    if (rs->counted_active) atomic_fetch_sub(&s->active, 1);
    strbuf_discard(&rs->body);
    hearth_free(rs);
    *con_cls = NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void *loader_main(void *arg) {
    hearth_server *s = arg;
    srv_backend_params bp = {
        .settings = s->p.settings,
        .model_path = s->model_path,
        .model_id = s->model_id,
        .data_dir = s->data_dir,
        .n_threads = s->p.n_threads,
        .n_ctx = s->p.n_ctx,
        .n_slots = s->p.n_slots,
        .variant_names = s->p.variant_names,
        .variant_paths = s->p.variant_paths,
        .variant_weights = s->p.variant_weights,
        .n_variants = s->p.n_variants,
    };
    hearth_error err;
    hearth_error_clear(&err);
    srv_backend *b = NULL;
    if (srv_backend_open(&bp, &b, &err) == HEARTH_OK) {
        s->backend = b;
        atomic_store(&s->state, ST_READY);
    } else {
        snprintf(s->load_error, sizeof s->load_error, "%s", err.msg);
        server_log("cannot load: %s", err.msg);
        atomic_store(&s->state, ST_FAILED);
    }
    return NULL;
}

hearth_server_params hearth_server_default_params(void) {
    hearth_server_params p = {
        .host = "127.0.0.1",
        .port = 8080,
        .max_body = 8u << 20,
        .max_queue = 64,
        .n_slots = 4,
        .max_client_conns = 128,
        .request_timeout = 30,
    };
    return p;
}

static char *dup_opt(const char *s, bool *oom) {
    if (!s) return NULL;
    char *d = hearth_strdup(s);
    if (!d) *oom = true;
    return d;
}

static hearth_status resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
                             hearth_error *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc || !res)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "cannot resolve host '%s': %s", host, gai_strerror(rc));
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return HEARTH_OK;
}

/* 127.0.0.0/8, ::1 or a v4-mapped 127.x address. */
static bool is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* Connections in all; above the per-client limit so that one address can
 * not take them all, and low enough for select(2)'s descriptor limit. */
#define MAX_CONNECTIONS 512

/* The battery policy and the active model for /metrics' device gauges. */
static hearth_status metrics_device(srv_metrics *m, const hearth_server_params *p, hearth_error *err) {
    hearth_settings *own = NULL;
    const hearth_settings *set = p->settings;
    hearth_status st = set ? HEARTH_OK : hearth_settings_load(&own, err);
    if (!set) set = own;
    hearth_power_policy pol = {0};
    if (!st) st = hearth_power_policy_from_settings(set, &pol, err);
    int64_t th = 0;
    if (!st && hearth_settings_get_int(set, "threads", &th, NULL)) th = 0;
    hearth_settings_free(own);
    if (st) return st;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int normal = p->n_threads > 0 ? p->n_threads : th > 0 ? (int)th : (ncpu > 0 ? (int)ncpu : 1);
    /* a registry model by its name; a file by its base name */
    const char *path = p->n_variants > 1 ? p->variant_paths[0] : p->model_path;
    const char *base = strrchr(path, '/');
    const char *shown = p->model_id && *p->model_id ? p->model_id : base ? base + 1 : path;
    srv_metrics_set_device(m, pol.enabled, pol.low_percent, pol.battery_threads, normal, shown);
    return HEARTH_OK;
}

hearth_status hearth_server_start(const hearth_server_params *p, hearth_server **out,
                                  hearth_error *err) {
    *out = NULL;
    if (!p || (!p->model_path && p->n_variants < 2))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "no model given");
    if (p->max_body == 0 || p->max_queue <= 0 || p->n_slots <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "max_body, max_queue and n_slots must be positive");
    if (p->max_client_conns <= 0 || p->max_client_conns >= MAX_CONNECTIONS / 2 ||
        p->request_timeout <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "connections per client must be in [1, %d] and the request timeout "
                           "positive", MAX_CONNECTIONS / 2 - 1);
    for (size_t i = 0; i < p->n_cors_origins; i++)
        if (!strcmp(p->cors_origins[i], "*") && !(p->api_key && *p->api_key))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "CORS origin '*' needs an API key (--api-key): without one, "
                               "any web page could use this server");
    hearth_server *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->p = *p;
    s->started_at = time(NULL);
    bool oom = false;
    s->host = dup_opt(p->host ? p->host : "127.0.0.1", &oom);
    s->model_path = dup_opt(p->model_path, &oom);
    s->model_id = dup_opt(p->model_id, &oom);
    s->web_dir = dup_opt(p->web_dir, &oom);
    s->api_key = p->api_key && *p->api_key ? dup_opt(p->api_key, &oom) : NULL;
    s->data_dir = dup_opt(p->data_dir, &oom);
    s->metrics = srv_metrics_new();
    hearth_status st = HEARTH_OK;
    if (oom || !s->metrics) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (!st) st = metrics_device(s->metrics, p, err);
    if (!st && p->security_log) st = srv_seclog_open(p->security_log, &s->seclog, err);
    struct sockaddr_storage ss;
    if (!st) st = resolve(s->host, p->port, &ss, err);
    if (!st)
        st = srv_origin_policy_new(s->host, is_loopback(&ss), p->allow_hosts, p->n_allow_hosts,
                                   p->cors_origins, p->n_cors_origins, &s->origin, err);
    if (!st) st = srv_connguard_new(p->max_client_conns, p->request_timeout, s->metrics, &s->guard, err);
    if (st) {
        hearth_server_stop(s);
        return st;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* The guard is the accept policy (per-client limit) and tracks every
     * connection (request deadline); MHD's idle timeout stays as a backstop
     * for connections that stall while an answer is sent. */
    s->daemon = MHD_start_daemon(flags, p->port, srv_connguard_accept, s->guard, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, srv_connguard_notify, s->guard,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        hearth_server_stop(s);
        return HEARTH_FAIL(err, HEARTH_E_IO, "cannot listen on %s:%u (in use, or no permission)",
                           p->host ? p->host : "127.0.0.1", p->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : p->port;
    if (pthread_create(&s->loader, NULL, loader_main, s)) {
        hearth_server_stop(s);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "cannot start the loader thread");
    }
    s->loader_started = true;
    *out = s;
    return HEARTH_OK;
}

uint16_t hearth_server_port(const hearth_server *s) { return s->port; }

hearth_status hearth_server_reload_model(hearth_server *s, const char *path, hearth_error *err) {
    if (!s || !path) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_server_reload_model: NULL");
    if (atomic_load(&s->state) != ST_READY || atomic_load(&s->stopping))
        return HEARTH_FAIL(err, HEARTH_E_STATE, "the server's model is not loaded");
    return srv_backend_swap(s->backend, path, err);
}

int hearth_server_state(const hearth_server *s, const char **error) {
    int st = atomic_load(&((hearth_server *)s)->state);
    if (error) *error = st == ST_FAILED ? s->load_error : NULL;
    return st;
}

void hearth_server_stop(hearth_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, true);
    if (s->daemon) {
        /* Stop accepting; in-flight answers go on to their end. */
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET) close(fd);
        for (int i = 0; i < 600 && atomic_load(&s->active) > 0; i++) usleep(100 * 1000);
        MHD_stop_daemon(s->daemon);
    }
    srv_connguard_free(s->guard);
    srv_origin_policy_free(s->origin);
    if (s->loader_started) pthread_join(s->loader, NULL);
    srv_backend_free(s->backend);
    srv_seclog_free(s->seclog);
    srv_metrics_free(s->metrics);
    hearth_free(s->host);
    hearth_free(s->model_path);
    hearth_free(s->model_id);
    hearth_free(s->web_dir);
    hearth_free(s->api_key);
    hearth_free(s->data_dir);
    hearth_free(s);
}
