/*
 * server_http.c: `hearth sync-server`'s HTTP front (hearth.h, "Sync
 * server"): libmicrohttpd with a thread per connection, the endpoints of
 * docs/sync-protocol.md, device authentication by bearer token (only its
 * SHA-256 is looked up), per-device rate limits (server_rate.c), body,
 * change and payload limits, and JSON errors {"error": {"code", "message"}}.
 * A request is checked in this order: route and method (404/405), declared
 * body size (413), device token (401), rate (429); then the body is read
 * (413 past max_body), parsed by proto.c (400) and handed to server_apply.c.
 * The sync layer knows nothing of models; it shares no code with
 * src/server (which sits above it).
 */
#include "hearth.h"

#include "sync/proto.h"
#include "sync/server_apply.h"
#include "sync/server_rate.h"
#include "sync/server_store.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 512
#define PER_IP_CONNECTIONS 256
#define QUOTA_RETRY_S 3600

struct hearth_sync_server {
    hearth_sync_server_params p;
    sstore *store;
    ssrv_rate *rate;
    struct MHD_Daemon *daemon;
    uint16_t port;
    atomic_bool stopping;
    atomic_int active;
};

enum { R_REGISTER, R_KEYINFO, R_PUSH, R_PULL, R_STATUS };

static const struct {
    const char *path, *methods;
} routes[] = {
    [R_REGISTER] = {"/v1/register", "POST"},
    [R_KEYINFO] = {"/v1/keyinfo", "GET, PUT"},
    [R_PUSH] = {"/v1/push", "POST"},
    [R_PULL] = {"/v1/pull", "GET"},
    [R_STATUS] = {"/v1/status", "GET"},
};

typedef struct {
    bool answered;   /* an answer was queued on the first call */
    bool too_large;
    bool counted;    /* counted in active */
    int route;
    sstore_device dev; /* the authenticated device (not R_REGISTER) */
    strbuf body;
    size_t received;
} req_state;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hearth sync-server: %s\n", buf);
}

/* ---- answers ------------------------------------------------------------------ */

static const char fallback_500[] =
    "{\"error\":{\"code\":\"storage\",\"message\":\"out of memory\"}}";

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, char *buf,
                                size_t len, int retry_after, const char *allow) {
    struct MHD_Response *r;
    if (buf)
        r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(sizeof fallback_500 - 1, (void *)fallback_500,
                                            MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(buf);
        return MHD_NO;
    }
    if (!buf) status = 500;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (allow) MHD_add_response_header(r, "Allow", allow);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error_ex(struct MHD_Connection *c, unsigned status, const char *code,
                                     const char *message, int retry_after, const char *allow) {
    char *s = NULL;
    size_t n = 0;
    hearth_error e;
    if (sync_error_encode(code, message, &s, &n, &e)) s = NULL;
    return send_buf(c, status, s, n, retry_after, allow);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *message) {
    return send_error_ex(c, status, code, message, 0, NULL);
}

/* An error from below as the protocol's status and code. */
static enum MHD_Result send_status(struct MHD_Connection *c, hearth_status st,
                                   const hearth_error *e) {
    switch (st) {
    case HEARTH_E_FORMAT: return send_error(c, 400, "bad_request", e->msg);
    case HEARTH_E_LIMIT: return send_error(c, 413, "too_large", e->msg);
    default:
        log_line("storage: %s", e->msg);
        return send_error(c, 500, "storage", "storage failure; nothing was applied");
    }
}

static enum MHD_Result send_encoded(struct MHD_Connection *c, hearth_status st, char *s,
                                    size_t n, const hearth_error *e) {
    if (st) return send_status(c, st, e);
    return send_buf(c, 200, s, n, 0, NULL);
}

/* ---- requests ------------------------------------------------------------------ */

static int find_route(const char *url) {
    for (int i = 0; i < (int)(sizeof routes / sizeof *routes); i++)
        if (!strcmp(url, routes[i].path)) return i;
    return -1;
}

static bool method_ok(int ri, const char *method) {
    if (ri == R_KEYINFO) return !strcmp(method, "GET") || !strcmp(method, "PUT");
    return !strcmp(method, routes[ri].methods);
}

/* The device of "Authorization: Bearer TOKEN", not revoked. */
static bool authenticate(hearth_sync_server *s, struct MHD_Connection *c, sstore_device *d,
                         bool *storage_failed) {
    *storage_failed = false;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7)) return false;
    const char *tok = h + 7;
    size_t n = strlen(tok);
    if (n == 0 || n > 200) return false;
    char hash[SSTORE_HASH_HEX];
    sstore_hash_hex(tok, hash);
    hearth_error e;
    hearth_status st = s->store->ops->auth(s->store, hash, d, &e);
    if (st && st != HEARTH_E_NOTFOUND) {
        log_line("authenticate: %s", e.msg);
        *storage_failed = true;
        return false;
    }
    return st == HEARTH_OK && !d->revoked;
}

/* The first call: everything that the headers settle. */
static enum MHD_Result check_headers(hearth_sync_server *s, struct MHD_Connection *c,
                                     const char *method, req_state *rs) {
    rs->answered = true;
    if (rs->route < 0) return send_error(c, 404, "not_found", "no such endpoint");
    if (!method_ok(rs->route, method))
        return send_error_ex(c, 405, "method_not_allowed", "method not allowed on this endpoint",
                             0, routes[rs->route].methods);
    if (atomic_load(&s->stopping))
        return send_error(c, 503, "shutting_down", "the server is shutting down");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || end == cl || v > s->p.max_body) {
            char m[96];
            snprintf(m, sizeof m, "request body over the limit of %zu bytes", s->p.max_body);
            return send_error(c, 413, "too_large", m);
        }
    }
    if (rs->route != R_REGISTER) {
        bool failed;
        if (!authenticate(s, c, &rs->dev, &failed))
            return failed ? send_error(c, 500, "storage", "storage failure")
                          : send_error(c, 401, "unauthorized",
                                       "missing, unknown or revoked device token");
        int retry;
        if (!ssrv_rate_take(s->rate, rs->dev.id, now_s(), &retry))
            return send_error_ex(c, 429, "rate_limited", "too many requests from this device",
                                 retry, NULL);
    }
    rs->answered = false;
    return MHD_YES;
}

static enum MHD_Result answer_register(hearth_sync_server *s, struct MHD_Connection *c,
                                       req_state *rs) {
    sync_register m;
    sync_register_reply out;
    hearth_error e;
    hearth_status st = sync_register_parse(rs->body.p, rs->body.len, &m, &e);
    if (st) return send_status(c, st, &e);
    st = ssrv_register(s->store, &m, &out, &e);
    memset(m.token, 0, sizeof m.token);
    if (st == HEARTH_E_NOTFOUND)
        return send_error(c, 401, "unauthorized", "unknown or revoked enrollment token");
    if (st == HEARTH_E_STATE) return send_error(c, 401, "unauthorized", e.msg);
    if (st) return send_status(c, st, &e);
    char *txt;
    size_t n;
    st = sync_register_reply_encode(&out, &txt, &n, &e);
    log_line("registered device %s of user %s", m.device, out.user);
    memset(&out, 0, sizeof out);
    return send_encoded(c, st, txt, n, &e);
}

static enum MHD_Result answer_keyinfo(hearth_sync_server *s, struct MHD_Connection *c,
                                      const char *method, req_state *rs) {
    sync_keyinfo k, cur;
    hearth_error e;
    hearth_status st;
    char *txt = NULL;
    size_t n = 0;
    if (!strcmp(method, "GET")) {
        st = s->store->ops->keyinfo_get(s->store, rs->dev.user, &k, &e);
        if (st == HEARTH_E_NOTFOUND)
            return send_error(c, 404, "not_found", "no key info for this user yet");
        if (st) return send_status(c, st, &e);
        st = sync_keyinfo_encode(&k, &txt, &n, &e);
        sync_keyinfo_free(&k);
        return send_encoded(c, st, txt, n, &e);
    }
    st = sync_keyinfo_parse(rs->body.p, rs->body.len, &k, &e);
    if (st) return send_status(c, st, &e);
    bool stored;
    st = s->store->ops->keyinfo_put(s->store, rs->dev.user, &k, &stored, &cur, &e);
    if (st) {
        sync_keyinfo_free(&k);
        return send_status(c, st, &e);
    }
    st = sync_keyinfo_encode(stored ? &k : &cur, &txt, &n, &e);
    sync_keyinfo_free(&k);
    sync_keyinfo_free(&cur);
    if (st) return send_status(c, st, &e);
    return send_buf(c, stored ? 200 : 409, txt, n, 0, NULL);
}

static enum MHD_Result answer_push(hearth_sync_server *s, struct MHD_Connection *c,
                                   req_state *rs) {
    sync_push m;
    sync_push_reply out;
    hearth_error e;
    hearth_status st = sync_push_parse(rs->body.p, rs->body.len, &m, &e);
    if (st) return send_status(c, st, &e);
    if (m.n > s->p.max_changes) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu changes, over the limit of %zu", m.n, s->p.max_changes);
        sync_push_free(&m);
        return send_error(c, 413, "too_large", msg);
    }
    for (size_t i = 0; i < m.n; i++)
        if (m.changes[i].payload_len > s->p.max_payload) {
            char msg[128];
            snprintf(msg, sizeof msg, "changes[%zu].payload: %zu bytes, over the limit of %zu", i,
                     m.changes[i].payload_len, s->p.max_payload);
            sync_push_free(&m);
            return send_error(c, 413, "too_large", msg);
        }
    st = ssrv_push(s->store, &rs->dev, &m, s->p.quota_bytes, s->p.after_commit,
                   s->p.after_commit_user, &out, &e);
    sync_push_free(&m);
    if (st == HEARTH_E_LIMIT)
        return send_error_ex(c, 429, "quota_exceeded", e.msg, QUOTA_RETRY_S, NULL);
    if (st) return send_status(c, st, &e);
    char *txt;
    size_t n;
    st = sync_push_reply_encode(&out, &txt, &n, &e);
    sync_push_reply_free(&out);
    return send_encoded(c, st, txt, n, &e);
}

/* A query argument as a whole number in [min, max]; def when absent. */
static bool query_int(struct MHD_Connection *c, const char *key, int64_t min, int64_t max,
                      int64_t def, int64_t *out) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    *out = def;
    if (!v) return true;
    if (*v < '0' || *v > '9') return false;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) return false;
    *out = x;
    return true;
}

static enum MHD_Result answer_pull(hearth_sync_server *s, struct MHD_Connection *c,
                                   req_state *rs) {
    int64_t after, limit;
    if (!query_int(c, "after", 0, INT64_MAX, 0, &after))
        return send_error(c, 400, "bad_request", "after: not a whole number >= 0");
    if (!query_int(c, "limit", 1, (int64_t)s->p.max_changes, 500 < s->p.max_changes ? 500 : (int64_t)s->p.max_changes, &limit)) {
        char m[80];
        snprintf(m, sizeof m, "limit: not a whole number in [1, %zu]", s->p.max_changes);
        return send_error(c, 400, "bad_request", m);
    }
    sync_pull_reply out;
    hearth_error e;
    const char *own = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "own");
    bool own_bare = own && !strcmp(own, "meta"); /* the caller's own changes without payload */
    hearth_status st = ssrv_pull(s->store, &rs->dev, after, (size_t)limit, own_bare, &out, &e);
    if (st) return send_status(c, st, &e);
    char *txt;
    size_t n;
    st = sync_pull_reply_encode(&out, &txt, &n, &e);
    sync_pull_reply_free(&out);
    return send_encoded(c, st, txt, n, &e);
}

static enum MHD_Result answer_status(hearth_sync_server *s, struct MHD_Connection *c,
                                     req_state *rs) {
    sync_status_reply m = {0};
    hearth_error e;
    snprintf(m.user, sizeof m.user, "%s", rs->dev.user);
    snprintf(m.device, sizeof m.device, "%s", rs->dev.id);
    hearth_status st = s->store->ops->server_seq(s->store, rs->dev.user, &m.server_seq, &e);
    if (!st) st = s->store->ops->count_devices(s->store, rs->dev.user, &m.devices, &e);
    if (st) return send_status(c, st, &e);
    char *txt;
    size_t n;
    st = sync_status_reply_encode(&m, &txt, &n, &e);
    return send_encoded(c, st, txt, n, &e);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    hearth_sync_server *s = cls;
    req_state *rs = *con_cls;
    if (!rs) {
        rs = hearth_calloc(1, sizeof *rs);
        if (!rs) return MHD_NO;
        strbuf_init(&rs->body);
        rs->route = find_route(url);
        *con_cls = rs;
        atomic_fetch_add(&s->active, 1);
        rs->counted = true;
        return check_headers(s, c, method, rs);
    }
    if (*upload_size) {
        /* Keep reading an oversized body (so the client gets the answer)
         * without keeping it. */
        if (!rs->too_large && *upload_size > s->p.max_body - rs->received) rs->too_large = true;
        if (!rs->too_large && !rs->answered) strbuf_append(&rs->body, upload_data, *upload_size);
        rs->received += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rs->answered) return MHD_YES;
    rs->answered = true;
    if (rs->too_large) {
        char m[96];
        snprintf(m, sizeof m, "request body over the limit of %zu bytes", s->p.max_body);
        return send_error(c, 413, "too_large", m);
    }
    if (rs->body.failed) return send_error(c, 500, "storage", "out of memory for the body");
    switch (rs->route) {
    case R_REGISTER: return answer_register(s, c, rs);
    case R_KEYINFO: return answer_keyinfo(s, c, method, rs);
    case R_PUSH: return answer_push(s, c, rs);
    case R_PULL: return answer_pull(s, c, rs);
    case R_STATUS: return answer_status(s, c, rs);
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    hearth_sync_server *s = cls;
    req_state *rs = *con_cls;
    if (!rs) return;
    if (rs->counted) atomic_fetch_sub(&s->active, 1);
    strbuf_discard(&rs->body);
    hearth_free(rs);
    *con_cls = NULL;
}

/* ---- lifecycle ------------------------------------------------------------------ */

hearth_sync_server_params hearth_sync_server_default_params(void) {
    hearth_sync_server_params p = {
        .host = "127.0.0.1",
        .port = 8780,
        .max_body = SYNC_MAX_BODY,
        .max_changes = SYNC_MAX_CHANGES,
        .max_payload = SYNC_MAX_PAYLOAD,
        .quota_bytes = (int64_t)1 << 30,
        .rate = 50,
        .burst = 100,
        .request_timeout = 30,
    };
    return p;
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
        return HEARTH_FAIL(err, HEARTH_E_ARG, "cannot resolve host '%s': %s", host,
                           gai_strerror(rc));
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return HEARTH_OK;
}

hearth_status hearth_sync_server_start(const hearth_sync_server_params *p,
                                       hearth_sync_server **out, hearth_error *err) {
    *out = NULL;
    if (!p || !p->db) return HEARTH_FAIL(err, HEARTH_E_ARG, "no sync database given (--db)");
    if (p->max_body == 0 || p->max_body > SYNC_MAX_BODY || p->max_changes == 0 ||
        p->max_changes > SYNC_MAX_CHANGES || p->max_payload == 0 ||
        p->max_payload > SYNC_MAX_PAYLOAD)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "limits: body 1..%u bytes, changes 1..%d, payload 1..%u bytes",
                           SYNC_MAX_BODY, SYNC_MAX_CHANGES, SYNC_MAX_PAYLOAD);
    if (p->quota_bytes < 0 || p->rate < 0 || p->burst < 0 || p->request_timeout <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "quota, rate and burst must be >= 0 and the timeout positive");
    hearth_sync_server *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->p = *p;
    s->p.host = NULL;
    s->p.db = NULL; /* not kept: it may hold a password */
    const char *host = p->host ? p->host : "127.0.0.1";
    struct sockaddr_storage ss;
    hearth_status st = resolve(host, p->port, &ss, err);
    if (!st) st = sstore_open(p->db, &s->store, err);
    if (!st && !(s->rate = ssrv_rate_new(p->rate, p->burst)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        hearth_sync_server_stop(s);
        return st;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, p->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)p->request_timeout,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        hearth_sync_server_stop(s);
        return HEARTH_FAIL(err, HEARTH_E_IO, "cannot listen on %s:%u (in use, or no permission)",
                           host, p->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : p->port;
    *out = s;
    return HEARTH_OK;
}

uint16_t hearth_sync_server_port(const hearth_sync_server *s) { return s->port; }

void hearth_sync_server_stop(hearth_sync_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, true);
    if (s->daemon) {
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET) close(fd);
        /* In-flight requests (a push mid-transaction) run to their answer. */
        for (int i = 0; i < 300 && atomic_load(&s->active) > 0; i++) usleep(100 * 1000);
        MHD_stop_daemon(s->daemon);
    }
    if (s->store) s->store->ops->close(s->store);
    ssrv_rate_free(s->rate);
    hearth_free(s);
}

/* ---- administration ------------------------------------------------------------- */

hearth_status hearth_sync_admin_token(const char *db, const char *user, char *out, size_t cap,
                                      hearth_error *err) {
    if (!out || cap < 64) return HEARTH_FAIL(err, HEARTH_E_ARG, "token buffer too small");
    out[0] = '\0';
    if (!sync_id_valid(user))
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "user '%s': 1..%d characters of [A-Za-z0-9._:-]", user ? user : "",
                           SYNC_MAX_ID);
    sstore *s;
    hearth_status st = sstore_open(db, &s, err);
    if (st) return st;
    char tok[48], h[SSTORE_HASH_HEX];
    ssrv_token_new(tok);
    sstore_hash_hex(tok, h);
    st = s->ops->add_token(s, user, h, err);
    s->ops->close(s);
    if (!st) snprintf(out, cap, "%s", tok);
    memset(tok, 0, sizeof tok);
    return st;
}

hearth_status hearth_sync_admin_devices(const char *db, char **json, hearth_error *err) {
    *json = NULL;
    sstore *s;
    hearth_status st = sstore_open(db, &s, err);
    if (st) return st;
    sstore_device *d;
    size_t n;
    st = s->ops->list_devices(s, &d, &n, err);
    s->ops->close(s);
    if (st) return st;
    json_t *arr = json_array();
    bool oom = !arr;
    for (size_t i = 0; i < n && !oom; i++) {
        json_t *name = json_string(d[i].name);
        if (!name) name = json_string("?");
        json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:b}", "id", d[i].id, "user",
                              d[i].user, "name", name, "created", (json_int_t)d[i].created,
                              "last_seen", (json_int_t)d[i].last_seen, "pull_position",
                              (json_int_t)d[i].pull_pos, "stored_bytes",
                              (json_int_t)d[i].stored_bytes, "revoked", d[i].revoked);
        if (!o || json_array_append_new(arr, o)) oom = true;
    }
    hearth_free(d);
    char *txt = oom ? NULL : json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!txt) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    *json = hearth_strdup(txt);
    free(txt);
    if (!*json) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

hearth_status hearth_sync_admin_revoke_tokens(const char *db, const char *user, int64_t *n,
                                              hearth_error *err) {
    *n = 0;
    if (!sync_id_valid(user))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "not a user name: '%s'", user ? user : "");
    sstore *s;
    hearth_status st = sstore_open(db, &s, err);
    if (st) return st;
    st = s->ops->revoke_tokens(s, user, n, err);
    s->ops->close(s);
    return st;
}

hearth_status hearth_sync_admin_revoke(const char *db, const char *device, hearth_error *err) {
    if (!sync_id_valid(device))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "not a device id: '%s'", device ? device : "");
    sstore *s;
    hearth_status st = sstore_open(db, &s, err);
    if (st) return st;
    st = s->ops->revoke(s, device, err);
    s->ops->close(s);
    return st;
}
