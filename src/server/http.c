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
 * logged (never the content). A full queue answers 429.
 */
#include "server/backend.h"
#include "server/metrics.h"
#include "server/openai.h"
#include "server/seclog.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
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
    uint16_t port;
    srv_metrics *metrics;
    srv_seclog *seclog;

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
    bool counted_active; /* holds a slot in s->active */
} req_state;

/* ---- responses --------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, char *buf, size_t len,
                                const char *type) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        hearth_free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *o) {
    /* json_dumps allocates with malloc, which is what hearth_free and MHD
     * release with. */
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return MHD_NO;
    return send_buf(c, status, s, strlen(s), "application/json");
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
    char *body = srv_error_json(message, type, code, &len);
    if (!body) return MHD_NO;
    return send_buf(c, status, body, len, "application/json");
}

/* ---- routing ----------------------------------------------------------- */

typedef enum {
    R_NONE,
    R_CHAT,
    R_COMPLETIONS,
    R_EMBEDDINGS,
    R_MODELS,
    R_HEALTH,
    R_METRICS
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
    {"/health", "GET", R_HEALTH},
    {"/metrics", "GET", R_METRICS},
};

/* Route by path; *method_ok false if the path exists with another method. */
static int find_route(const char *url, const char *method, bool *method_ok) {
    *method_ok = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path)) continue;
        if (!strcmp(method, routes[i].method)) {
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
} gen_job;

static void job_free(gen_job *j) {
    if (!j) return;
    srv_request_free(&j->req);
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
        choice = json_pack("{s:i, s:o, s:o}", "index", 0, "delta", delta, "finish_reason",
                           finish ? json_string(finish) : json_null());
    } else {
        choice = json_pack("{s:i, s:o, s:n, s:o}", "index", 0, "text",
                           json_stringn(text ? text : "", text ? len : 0), "logprobs",
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

static int on_stream_text(void *user, const char *text, size_t len) {
    gen_job *j = user;
    if (atomic_load(&j->cancel)) return 1;
    if (!len) return 0;
    pthread_mutex_lock(&j->mu);
    push_event(j, chunk_json(j, text, len, NULL));
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static json_t *usage_json(const srv_answer *a) {
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)a->prompt_tokens,
                     "completion_tokens", (json_int_t)a->completion_tokens, "total_tokens",
                     (json_int_t)(a->prompt_tokens + a->completion_tokens));
}

static void record_answer(hearth_server *s, const srv_answer *a) {
    srv_metrics_answer(s->metrics, a->source ? a->source : "local", a->prompt_tokens,
                       a->completion_tokens, a->ttft_s, a->per_token_s);
}

static void *stream_worker(void *arg) {
    gen_job *j = arg;
    hearth_server *s = j->s;
    srv_answer a = {0};
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = srv_backend_generate(s->backend, &j->req, on_stream_text, j, &a, &err);
    pthread_mutex_lock(&j->mu);
    if (st == HEARTH_OK) {
        record_answer(s, &a);
        push_event(j, chunk_json(j, NULL, 0, a.finish_reason ? a.finish_reason : "stop"));
        if (j->req.include_usage)
            push_event(j, json_pack("{s:s, s:s, s:i, s:s, s:[], s:o}", "id", j->id, "object",
                                    j->req.kind == SRV_CHAT ? "chat.completion.chunk"
                                                            : "text_completion",
                                    "created", (json_int_t)j->created, "model", j->req.model,
                                    "choices", "usage", usage_json(&a)));
        srv_metrics_request(s->metrics, j->route, 200);
    } else if (st != HEARTH_E_CANCELLED) {
        /* Headers are gone already: report the error in-band, as OpenAI does. */
        json_t *e = json_pack("{s:{s:s, s:s}}", "error", "message", err.msg, "type",
                              st == HEARTH_E_LIMIT ? "invalid_request_error" : "server_error");
        push_event(j, e);
        srv_metrics_request(s->metrics, j->route, st == HEARTH_E_LIMIT ? 400 : 500);
        srv_metrics_error(s->metrics, st == HEARTH_E_LIMIT ? "context_length_exceeded"
                                                           : "generation_failed");
    } else {
        srv_metrics_request(s->metrics, j->route, 499); /* client closed request */
        srv_metrics_error(s->metrics, "client_disconnected");
    }
    strbuf_puts(&j->out, "data: [DONE]\n\n");
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    hearth_free(a.text);
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
    if (strcmp(j->req.model, srv_backend_model_id(s->backend))) {
        char msg[400];
        snprintf(msg, sizeof msg, "The model '%.200s' does not exist; this server serves '%.64s'",
                 j->req.model, srv_backend_model_id(s->backend));
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
            return send_error(s, c, route, 500, "server_error", NULL, "cannot start a thread");
        }
        j->worker_started = true;
        rs->counted_active = false; /* stream_free releases the slot now */
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        enum MHD_Result ok = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ok;
    }
    srv_answer a = {0};
    st = srv_backend_generate(s->backend, &j->req, NULL, NULL, &a, &err);
    enum MHD_Result ok;
    if (st == HEARTH_OK) {
        record_answer(s, &a);
        json_t *choice;
        if (kind == SRV_CHAT)
            choice = json_pack("{s:i, s:{s:s, s:s}, s:s}", "index", 0, "message", "role",
                               "assistant", "content", a.text ? a.text : "", "finish_reason",
                               a.finish_reason ? a.finish_reason : "stop");
        else
            choice = json_pack("{s:i, s:s, s:n, s:s}", "index", 0, "text", a.text ? a.text : "",
                               "logprobs", "finish_reason",
                               a.finish_reason ? a.finish_reason : "stop");
        json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:[o], s:o, s:s}", "id", j->id, "object",
                              kind == SRV_CHAT ? "chat.completion" : "text_completion", "created",
                              (json_int_t)j->created, "model", j->req.model, "choices", choice,
                              "usage", usage_json(&a), "hearth_source",
                              a.source ? a.source : "local");
        srv_metrics_request(s->metrics, route, 200);
        ok = send_json(c, 200, o);
    } else if (st == HEARTH_E_LIMIT || st == HEARTH_E_ARG) {
        ok = send_error(s, c, route, 400, "invalid_request_error",
                        st == HEARTH_E_LIMIT ? "context_length_exceeded" : "invalid_value", err.msg);
    } else {
        ok = send_error(s, c, route, 500, "server_error", NULL, err.msg);
    }
    hearth_free(a.text);
    job_free(j);
    return ok;
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
    if (strcmp(req.model, srv_backend_model_id(s->backend))) {
        char msg[400];
        snprintf(msg, sizeof msg, "The model '%.200s' does not exist", req.model);
        srv_request_free(&req);
        return send_error(s, c, route, 404, "invalid_request_error", "model_not_found", msg);
    }
    json_t *data = json_array();
    int64_t tokens = 0;
    for (size_t i = 0; i < req.n_inputs && st == HEARTH_OK; i++) {
        float *v = NULL;
        int dim = 0;
        int64_t nt = 0;
        st = srv_backend_embed(s->backend, req.inputs[i], &v, &dim, &nt, &err);
        if (st) break;
        json_t *arr = json_array();
        for (int k = 0; k < dim; k++) json_array_append_new(arr, json_real(v[k]));
        hearth_free(v);
        json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding", arr));
        tokens += nt;
    }
    srv_request_free(&req);
    if (st) {
        json_decref(data);
        return send_error(s, c, route, st == HEARTH_E_LIMIT || st == HEARTH_E_ARG ? 400 : 500,
                          st == HEARTH_E_LIMIT || st == HEARTH_E_ARG ? "invalid_request_error"
                                                                      : "server_error",
                          st == HEARTH_E_LIMIT ? "context_length_exceeded" : NULL, err.msg);
    }
    srv_metrics_request(s->metrics, route, 200);
    srv_metrics_answer(s->metrics, "local", tokens, 0, -1, -1);
    return send_json(c, 200,
                     json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data,
                               "model", srv_backend_model_id(s->backend), "usage",
                               "prompt_tokens", (json_int_t)tokens, "total_tokens",
                               (json_int_t)tokens));
}

/* ---- the access handler ------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    hearth_server *s = cls;
    bool method_ok;
    int ri = find_route(url, method, &method_ok);
    const char *route = ri >= 0 ? routes[ri].path : "other";

    req_state *rs = *con_cls;
    if (!rs) {
        /* First call: headers only. Reject what needs no body right away. */
        rs = hearth_calloc(1, sizeof *rs);
        if (!rs) return MHD_NO;
        strbuf_init(&rs->body);
        *con_cls = rs;
        if (ri < 0)
            return send_error(s, c, route, 404, "invalid_request_error", "not_found",
                              "no such endpoint");
        if (!method_ok)
            return send_error(s, c, route, 405, "invalid_request_error", "method_not_allowed",
                              "method not allowed on this endpoint");
        if (routes[ri].id != R_HEALTH && !authorized(s, c))
            return send_error(s, c, route, 401, "invalid_request_error", "invalid_api_key",
                              "missing or wrong API key (Authorization: Bearer KEY)");
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->p.max_body)
            return send_error(s, c, route, 413, "invalid_request_error", "request_too_large",
                              "request body is over the limit");
        return MHD_YES;
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
    if (ri < 0 || !method_ok) return MHD_YES; /* already answered */
    if (rs->too_large)
        return send_error(s, c, route, 413, "invalid_request_error", "request_too_large",
                          "request body is over the limit");
    if (rs->body.failed) return send_error(s, c, route, 500, "server_error", NULL, "out of memory");

    int state = atomic_load(&s->state);
    switch (routes[ri].id) {
    case R_HEALTH: {
        unsigned st = state == ST_READY ? 200 : 503;
        srv_metrics_request(s->metrics, route, st);
        return send_json(c, st, json_pack("{s:s}", "status",
                                          state == ST_READY ? "ok"
                                          : state == ST_LOADING ? "loading" : "error"));
    }
    case R_METRICS: {
        srv_metrics_request(s->metrics, route, 200);
        size_t len;
        char *text = srv_metrics_render(s->metrics, &len);
        if (!text) return MHD_NO;
        return send_buf(c, 200, text, len, "text/plain; version=0.0.4");
    }
    default: break;
    }
    if (state != ST_READY)
        return send_error(s, c, route, 503, "server_error", "model_not_ready",
                          state == ST_LOADING ? "the model is still loading" : s->load_error);
    if (routes[ri].id == R_MODELS) {
        srv_metrics_request(s->metrics, route, 200);
        return send_json(c, 200, json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}", "object", "list",
                                           "data", "id", srv_backend_model_id(s->backend),
                                           "object", "model", "created", (json_int_t)0,
                                           "owned_by", "hearth"));
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
    default: return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    hearth_server *s = cls;
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
        .data_dir = s->data_dir,
        .n_threads = s->p.n_threads,
        .n_ctx = s->p.n_ctx,
        .n_slots = s->p.n_slots,
    };
    hearth_error err;
    hearth_error_clear(&err);
    srv_backend *b = NULL;
    if (srv_backend_open(&bp, &b, &err) == HEARTH_OK) {
        s->backend = b;
        atomic_store(&s->state, ST_READY);
    } else {
        snprintf(s->load_error, sizeof s->load_error, "%s", err.msg);
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

hearth_status hearth_server_start(const hearth_server_params *p, hearth_server **out,
                                  hearth_error *err) {
    *out = NULL;
    if (!p || !p->model_path) return HEARTH_FAIL(err, HEARTH_E_ARG, "no model given");
    if (p->max_body == 0 || p->max_queue <= 0 || p->n_slots <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "max_body, max_queue and n_slots must be positive");
    hearth_server *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->p = *p;
    s->started_at = time(NULL);
    bool oom = false;
    s->host = dup_opt(p->host ? p->host : "127.0.0.1", &oom);
    s->model_path = dup_opt(p->model_path, &oom);
    s->api_key = p->api_key && *p->api_key ? dup_opt(p->api_key, &oom) : NULL;
    s->data_dir = dup_opt(p->data_dir, &oom);
    s->metrics = srv_metrics_new();
    hearth_status st = HEARTH_OK;
    if (oom || !s->metrics) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (!st && p->security_log) st = srv_seclog_open(p->security_log, &s->seclog, err);
    struct sockaddr_storage ss;
    if (!st) st = resolve(s->host, p->port, &ss, err);
    if (st) {
        hearth_server_stop(s);
        return st;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, p->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
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
    if (s->loader_started) pthread_join(s->loader, NULL);
    srv_backend_free(s->backend);
    srv_seclog_free(s->seclog);
    srv_metrics_free(s->metrics);
    hearth_free(s->host);
    hearth_free(s->model_path);
    hearth_free(s->api_key);
    hearth_free(s->data_dir);
    hearth_free(s);
}
