/*
 * cloud.c: the cloud model client (see cloud.h): one libcurl easy handle per
 * hearth_cloud (so connections are reused between calls), a retry loop with
 * one deadline for the whole call, and per-attempt transfer state that feeds
 * the body either to the SSE parser (streamed answers), to a bounded buffer
 * (whole answers) or to a small buffer for an error body.
 *
 * The API key lives in two places only: the handle's copy and the
 * Authorization header list; both are wiped on free. Every message this
 * file builds goes through scrub() before it reaches the caller, so even a
 * server that echoes the key back in its error text can not make us print it.
 */
#include "router/cloud.h"

#include "router/cloud_json.h"
#include "router/sse.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define ERRBODY_MAX 8192 /* bytes of a non-2xx body kept for its message */
#define MAX_RETRIES 10

struct hearth_cloud {
    hearth_cloud_params p;    /* strings point into the copies below */
    char *endpoint;           /* full URL of /chat/completions */
    char *model;
    char *api_key;            /* NULL when none */
    char *ca_file;
    char host[300];           /* host[:port], for messages and audit records */
    struct curl_slist *headers;
    CURL *curl;
};

static const char *const kind_names[HEARTH_CLOUD_KIND_COUNT] = {
    "ok", "refused", "timeout", "http_status", "malformed", "too_large",
    "broken_stream", "cancelled", "tls", "network",
};

const char *hearth_cloud_kind_name(hearth_cloud_kind k) {
    return (unsigned)k < HEARTH_CLOUD_KIND_COUNT ? kind_names[k] : NULL;
}

hearth_cloud_params hearth_cloud_default_params(void) {
    hearth_cloud_params p = {0};
    p.connect_timeout_ms = 10000;
    p.timeout_ms = 60000;
    p.max_response = (size_t)8 << 20;
    p.max_line = (size_t)1 << 20;
    p.max_retries = 2;
    p.backoff_ms = 500;
    p.retry_after_cap_ms = 10000;
    p.stream_usage = true;
    return p;
}

/* ---- process-wide libcurl setup ------------------------------------------ */

static once_flag curl_once = ONCE_FLAG_INIT;
static CURLcode curl_init_rc; /* written once inside call_once, then read only */

static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- the key never leaves ----------------------------------------------- */

/* Overwrites with '*' every occurrence of key in the string s, and a prefix
 * of the key (4 bytes or more) at the very end of s, where a message may
 * have been cut in the middle of an echoed key. */
static void scrub(char *s, const char *key) {
    if (!s || !key || !*key) return;
    size_t kl = strlen(key), n = strlen(s);
    for (char *q = s; (q = strstr(q, key)) != NULL; q += kl) memset(q, '*', kl);
    size_t min = kl < 4 ? kl : 4;
    for (size_t m = kl - 1; m >= min && m > 0; m--) {
        if (m <= n && !memcmp(s + n - m, key, m)) {
            memset(s + n - m, '*', m);
            break;
        }
    }
}

static void wipe(char *s) {
    if (s) explicit_bzero(s, strlen(s));
}

/* ---- handle --------------------------------------------------------------- */

static bool is_loopback(const char *host) {
    if (!strcasecmp(host, "localhost") || !strcmp(host, "[::1]")) return true;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
    return false;
}

/* Fills c->endpoint and c->host from url. */
static hearth_status parse_url(hearth_cloud *c, const char *url, hearth_error *err) {
    hearth_status st = HEARTH_OK;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *path = NULL, *full = NULL;
    char *newpath = NULL;
    CURLU *u = curl_url();
    if (!u) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud_url: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url: not a URL (want http(s)://host[:port]/path)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0)) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url: needs a scheme and a host");
        goto out;
    }
    if (strcasecmp(scheme, "https") && strcasecmp(scheme, "http")) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url: scheme must be https (or http to a loopback host)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url: must not hold a user name or password (use cloud_api_key)");
        goto out;
    }
    if (!strcasecmp(scheme, "http") && !is_loopback(host)) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG,
                         "cloud_url: plain http is only allowed to a loopback host; use https");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    snprintf(c->host, sizeof c->host, "%s%s%s", host, port ? ":" : "", port ? port : "");
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) path = NULL;
    size_t pl = path ? strlen(path) : 0;
    while (pl > 0 && path[pl - 1] == '/') pl--;
    static const char tail[] = "/chat/completions";
    size_t tl = sizeof tail - 1;
    strbuf b;
    strbuf_init(&b);
    strbuf_append(&b, path ? path : "", pl);
    if (pl == 0) strbuf_puts(&b, "/v1/chat/completions");
    else if (pl < tl || memcmp(path + pl - tl, tail, tl)) strbuf_puts(&b, tail);
    newpath = strbuf_finish(&b, NULL);
    if (!newpath || curl_url_set(u, CURLUPART_PATH, newpath, 0) ||
        curl_url_get(u, CURLUPART_URL, &full, 0)) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud_url: out of memory");
        goto out;
    }
    if (!(c->endpoint = hearth_strdup(full)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud_url: out of memory");
out:
    hearth_free(newpath);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(path);
    curl_free(full);
    curl_url_cleanup(u);
    return st;
}

static bool has_ctl(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F) return true;
    return false;
}

hearth_status hearth_cloud_new(const hearth_cloud_params *p, hearth_cloud **out,
                               hearth_error *err) {
    if (out) *out = NULL;
    if (!p || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud: no params");
    if (!p->url || !*p->url) return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url is not set");
    if (!p->model || !*p->model) return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_model is not set");
    if (p->api_key && has_ctl(p->api_key))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_api_key holds control characters");
    if (has_ctl(p->model) || has_ctl(p->url))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url or cloud_model holds control characters");
    if (p->connect_timeout_ms < 0 || p->timeout_ms < 0 || p->backoff_ms < 0 ||
        p->retry_after_cap_ms < 0 || p->max_retries < 0 || p->max_retries > MAX_RETRIES)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "cloud: timeouts must be >= 0 and retries in [0, %d]", MAX_RETRIES);
    if (p->ca_file && *p->ca_file && access(p->ca_file, R_OK))
        return HEARTH_FAIL(err, HEARTH_E_IO, "cloud_ca_file '%s' can not be read", p->ca_file);
    call_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return HEARTH_FAIL(err, HEARTH_E_IO, "cloud: libcurl init failed: %s",
                           curl_easy_strerror(curl_init_rc));

    hearth_cloud *c = hearth_calloc(1, sizeof *c);
    if (!c) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud: out of memory");
    hearth_cloud_params d = hearth_cloud_default_params();
    c->p = *p;
    if (!c->p.connect_timeout_ms) c->p.connect_timeout_ms = d.connect_timeout_ms;
    if (!c->p.timeout_ms) c->p.timeout_ms = d.timeout_ms;
    if (!c->p.max_response) c->p.max_response = d.max_response;
    if (!c->p.max_line) c->p.max_line = d.max_line;
    hearth_status st = parse_url(c, p->url, err);
    if (st) goto fail;
    c->model = hearth_strdup(p->model);
    c->ca_file = p->ca_file && *p->ca_file ? hearth_strdup(p->ca_file) : NULL;
    c->api_key = p->api_key && *p->api_key ? hearth_strdup(p->api_key) : NULL;
    if (!c->model || (p->ca_file && *p->ca_file && !c->ca_file) ||
        (p->api_key && *p->api_key && !c->api_key))
        goto nomem;
    c->p.url = c->endpoint;
    c->p.model = c->model;
    c->p.api_key = c->api_key;
    c->p.ca_file = c->ca_file;

    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: application/json, text/event-stream",
                                        "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *h = curl_slist_append(c->headers, fixed[i]);
        if (!h) goto nomem;
        c->headers = h;
    }
    if (c->api_key) {
        strbuf a;
        strbuf_init(&a);
        strbuf_puts(&a, "Authorization: Bearer ");
        strbuf_puts(&a, c->api_key);
        char *line = strbuf_finish(&a, NULL);
        if (!line) goto nomem;
        struct curl_slist *h = curl_slist_append(c->headers, line);
        wipe(line);
        hearth_free(line);
        if (!h) goto nomem;
        c->headers = h;
    }
    if (!(c->curl = curl_easy_init())) goto nomem;
    *out = c;
    return HEARTH_OK;
nomem:
    st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud: out of memory");
fail:
    hearth_cloud_free(c);
    return st;
}

void hearth_cloud_free(hearth_cloud *c) {
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    for (struct curl_slist *h = c->headers; h; h = h->next) wipe(h->data);
    curl_slist_free_all(c->headers);
    wipe(c->api_key);
    hearth_free(c->api_key);
    hearth_free(c->endpoint);
    hearth_free(c->model);
    hearth_free(c->ca_file);
    hearth_free(c);
}

const char *hearth_cloud_host(const hearth_cloud *c) { return c ? c->host : ""; }

void hearth_cloud_result_clear(hearth_cloud_result *res) {
    if (!res) return;
    hearth_free(res->text);
    memset(res, 0, sizeof *res);
}

/* ---- one attempt ---------------------------------------------------------- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef enum { BODY_UNKNOWN, BODY_SSE, BODY_WHOLE, BODY_ERROR } body_mode;

typedef struct {
    hearth_cloud *c;
    const hearth_cloud_request *req;
    hearth_cloud_result *res;
    double t0;
    /* this attempt */
    body_mode mode;
    long status;
    size_t body_bytes;
    sse_parser sse;
    oa_answer ans;
    strbuf body;              /* BODY_WHOLE / BODY_ERROR */
    hearth_cloud_kind kind;   /* set by a callback that aborted the transfer */
    hearth_error why;         /* its message */
} xfer;

static void xfer_reset(xfer *x) {
    x->mode = BODY_UNKNOWN;
    x->status = 0;
    x->body_bytes = 0;
    x->kind = HEARTH_CLOUD_OK;
    hearth_error_clear(&x->why);
    sse_free(&x->sse);
    oa_answer_free(&x->ans);
    strbuf_discard(&x->body);
    oa_answer_init(&x->ans, x->c->p.max_response);
}

static bool user_delta(void *ud, const char *text, size_t len) {
    xfer *x = ud;
    if (x->res->n_deltas++ == 0) x->res->first_delta_ms = now_ms() - x->t0;
    return x->req->on_delta ? x->req->on_delta(x->req->user_data, text, len) : true;
}

static hearth_cloud_kind kind_of_status(hearth_status st) {
    switch (st) {
    case HEARTH_E_CANCELLED: return HEARTH_CLOUD_CANCELLED;
    case HEARTH_E_LIMIT: return HEARTH_CLOUD_TOO_LARGE;
    case HEARTH_E_FORMAT: return HEARTH_CLOUD_MALFORMED;
    case HEARTH_E_NOMEM: return HEARTH_CLOUD_NETWORK; /* reported as NOMEM below */
    default: return HEARTH_CLOUD_BROKEN_STREAM;
    }
}

static bool on_event(void *ud, const char *event, const char *data, size_t len,
                     hearth_error *err) {
    xfer *x = ud;
    if (!strcmp(event, "error")) {
        char msg[160];
        oa_error_message(data, len, msg, sizeof msg);
        HEARTH_FAIL(err, HEARTH_E_IO, "server error mid-stream: %s", msg[0] ? msg : "(no message)");
        return false;
    }
    if (event[0] && strcmp(event, "message")) return true; /* not ours (e.g. "ping") */
    return oa_stream_chunk(data, len, &x->ans, user_delta, x, err) == HEARTH_OK;
}

static bool wants_cancel(const xfer *x) {
    return x->req->cancel && x->req->cancel(x->req->user_data);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->kind != HEARTH_CLOUD_OK) return 0;
    if (x->mode == BODY_UNKNOWN) {
        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &x->status);
        char *ct = NULL;
        curl_easy_getinfo(x->c->curl, CURLINFO_CONTENT_TYPE, &ct);
        if (x->status < 200 || x->status > 299) x->mode = BODY_ERROR;
        else if (x->req->stream && ct && !strncasecmp(ct, "text/event-stream", 17)) x->mode = BODY_SSE;
        else x->mode = BODY_WHOLE;
        if (x->mode == BODY_SSE) sse_init(&x->sse, x->c->p.max_line, on_event, x);
    }
    if (n > x->c->p.max_response || x->body_bytes > x->c->p.max_response - n) {
        x->kind = HEARTH_CLOUD_TOO_LARGE;
        HEARTH_FAIL(&x->why, HEARTH_E_LIMIT, "the response passed %zu bytes", x->c->p.max_response);
        return 0;
    }
    x->body_bytes += n;
    if (wants_cancel(x)) {
        x->kind = HEARTH_CLOUD_CANCELLED;
        HEARTH_FAIL(&x->why, HEARTH_E_CANCELLED, "cancelled by the caller");
        return 0;
    }
    switch (x->mode) {
    case BODY_SSE: {
        hearth_status st = sse_feed(&x->sse, ptr, n, &x->why);
        if (st) {
            x->kind = st == HEARTH_E_CANCELLED ? kind_of_status(x->why.code) : kind_of_status(st);
            if (x->why.code == HEARTH_E_NOMEM || st == HEARTH_E_NOMEM) x->why.code = HEARTH_E_NOMEM;
            return 0;
        }
        break;
    }
    case BODY_WHOLE:
        strbuf_append(&x->body, ptr, n);
        break;
    case BODY_ERROR:
        if (x->body.len < ERRBODY_MAX)
            strbuf_append(&x->body, ptr, n < ERRBODY_MAX - x->body.len ? n : ERRBODY_MAX - x->body.len);
        break;
    case BODY_UNKNOWN: break;
    }
    if (x->body.failed) {
        x->kind = HEARTH_CLOUD_NETWORK;
        HEARTH_FAIL(&x->why, HEARTH_E_NOMEM, "out of memory");
        return 0;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)dt, (void)dn, (void)ut, (void)un;
    xfer *x = ud;
    if (x->kind == HEARTH_CLOUD_OK && wants_cancel(x)) {
        x->kind = HEARTH_CLOUD_CANCELLED;
        HEARTH_FAIL(&x->why, HEARTH_E_CANCELLED, "cancelled by the caller");
    }
    return x->kind == HEARTH_CLOUD_OK ? 0 : 1;
}

/* Counts HTTP bytes (headers and bodies, before TLS) both ways. Nothing of
 * what passes here is kept: the outgoing headers hold the key. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud) {
    (void)h, (void)data;
    hearth_cloud_result *res = ud;
    if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) res->bytes_sent += size;
    else if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN) res->bytes_received += size;
    return 0;
}

/* What one attempt came to. */
typedef struct {
    hearth_cloud_kind kind;
    hearth_status code;
    bool retry;               /* the failure may be retried */
    long retry_after_ms;      /* the server's Retry-After (-1: none) */
    char detail[200];
} outcome;

static void set_out(outcome *o, hearth_cloud_kind k, hearth_status code, bool retry,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_out(outcome *o, hearth_cloud_kind k, hearth_status code, bool retry,
                    const char *fmt, ...) {
    o->kind = k;
    o->code = code;
    o->retry = retry;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof o->detail, fmt, ap);
    va_end(ap);
}

static hearth_status code_of_kind(hearth_cloud_kind k) {
    switch (k) {
    case HEARTH_CLOUD_OK: return HEARTH_OK;
    case HEARTH_CLOUD_CANCELLED: return HEARTH_E_CANCELLED;
    case HEARTH_CLOUD_TOO_LARGE: return HEARTH_E_LIMIT;
    case HEARTH_CLOUD_MALFORMED: return HEARTH_E_FORMAT;
    default: return HEARTH_E_IO;
    }
}

static void classify_curl(xfer *x, CURLcode rc, const char *errbuf, outcome *o) {
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    bool began = x->status != 0 || x->body_bytes > 0;
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        set_out(o, HEARTH_CLOUD_CANCELLED, HEARTH_E_CANCELLED, false, "cancelled by the caller");
        return;
    case CURLE_FILESIZE_EXCEEDED:
        set_out(o, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, false, "the response passed %zu bytes",
                x->c->p.max_response);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        set_out(o, HEARTH_CLOUD_REFUSED, HEARTH_E_IO, true, "%s", why);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        set_out(o, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, !began, "%s", why);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        set_out(o, HEARTH_CLOUD_TLS, HEARTH_E_IO, false, "%s", why);
        return;
    case CURLE_OUT_OF_MEMORY:
        set_out(o, HEARTH_CLOUD_NETWORK, HEARTH_E_NOMEM, false, "out of memory");
        return;
    default:
        if (x->status >= 200 && x->status <= 299 && x->body_bytes > 0)
            set_out(o, HEARTH_CLOUD_BROKEN_STREAM, HEARTH_E_IO, false, "the response was cut off (%s)", why);
        else
            set_out(o, HEARTH_CLOUD_NETWORK, HEARTH_E_IO, false, "%s", why);
        return;
    }
}

/* The outcome of a transfer that completed at the HTTP level. */
static void classify_done(xfer *x, outcome *o) {
    curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->status < 200 || x->status > 299) {
        char msg[160] = "";
        if (x->body.len) {
            scrub(x->body.p, x->c->api_key);
            oa_error_message(x->body.p, x->body.len, msg, sizeof msg);
        }
        curl_off_t ra = 0;
        curl_easy_getinfo(x->c->curl, CURLINFO_RETRY_AFTER, &ra);
        bool retry = x->status >= 500 || x->status == 429;
        if ((x->status == 429 || x->status == 503) && ra > 0)
            o->retry_after_ms = ra > (curl_off_t)1 << 30 ? (long)1 << 30 : (long)ra * 1000;
        set_out(o, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, retry, "HTTP %ld%s%s", x->status,
                msg[0] ? ": " : "", msg);
        return;
    }
    if (x->mode == BODY_SSE) {
        if (!x->ans.done && !x->ans.finish_reason[0]) {
            set_out(o, HEARTH_CLOUD_BROKEN_STREAM, HEARTH_E_IO, false,
                    "the stream ended %s before [DONE] (after %zu deltas)",
                    sse_pending(&x->sse) ? "mid-event" : "", x->ans.n_deltas);
            return;
        }
        set_out(o, HEARTH_CLOUD_OK, HEARTH_OK, false, "ok");
        return;
    }
    /* A whole answer: asked for so, or a server that does not stream. */
    hearth_error e;
    hearth_error_clear(&e);
    hearth_status st = x->body.failed ? HEARTH_E_NOMEM
                                      : oa_parse_response(x->body.p ? x->body.p : "", x->body.len,
                                                          &x->ans, &e);
    if (st == HEARTH_E_NOMEM) {
        set_out(o, HEARTH_CLOUD_NETWORK, HEARTH_E_NOMEM, false, "out of memory");
    } else if (st == HEARTH_E_LIMIT) {
        set_out(o, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, false, "%s", e.msg);
    } else if (st) {
        set_out(o, HEARTH_CLOUD_MALFORMED, HEARTH_E_FORMAT, false, "%s", e.msg);
    } else {
        set_out(o, HEARTH_CLOUD_OK, HEARTH_OK, false, "ok");
        if (x->req->stream && x->ans.text.len &&
            !user_delta(x, x->ans.text.p, x->ans.text.len))
            set_out(o, HEARTH_CLOUD_CANCELLED, HEARTH_E_CANCELLED, false, "cancelled by the caller");
    }
}

static void attempt(xfer *x, long budget_ms, outcome *o) {
    hearth_cloud *c = x->c;
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    long ct = c->p.connect_timeout_ms < budget_ms ? c->p.connect_timeout_ms : budget_ms;
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, ct);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, budget_ms);
    o->retry_after_ms = -1;
    CURLcode rc = curl_easy_perform(c->curl);
    if (x->kind != HEARTH_CLOUD_OK) {
        set_out(o, x->kind, x->why.code ? x->why.code : code_of_kind(x->kind), false, "%s",
                x->why.msg);
    } else if (rc != CURLE_OK) {
        classify_curl(x, rc, errbuf, o);
    } else {
        classify_done(x, o);
    }
    long st = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK) x->res->http_status = st;
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
}

/* Sleeps ms, in slices, unless the caller cancels. False when cancelled. */
static bool wait_ms(xfer *x, long ms) {
    double end = now_ms() + (double)ms;
    for (;;) {
        if (wants_cancel(x)) return false;
        double left = end - now_ms();
        if (left <= 0) return true;
        long slice = left > 50 ? 50 : (long)left + 1;
        struct timespec ts = {0, slice * 1000000L};
        nanosleep(&ts, NULL);
    }
}

hearth_status hearth_cloud_chat(hearth_cloud *c, const hearth_cloud_request *req,
                                hearth_cloud_result *res, hearth_error *err) {
    if (res) memset(res, 0, sizeof *res);
    if (!c || !req || !res) return HEARTH_FAIL(err, HEARTH_E_ARG, "cloud: NULL argument");
    res->first_delta_ms = -1;
    size_t body_len = 0;
    hearth_error berr;
    char *body = oa_request_json(c->model, req, c->p.stream_usage, &body_len, &berr);
    if (!body) {
        res->text = hearth_strdup("");
        if (err) *err = berr;
        return berr.code;
    }
    xfer x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.req = req;
    x.res = res;
    x.t0 = now_ms();
    strbuf_init(&x.body);
    oa_answer_init(&x.ans, c->p.max_response);

    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->p.max_response);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, res);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);

    outcome o;
    memset(&o, 0, sizeof o);
    double deadline = x.t0 + (double)c->p.timeout_ms;
    char note[96] = "";
    for (;;) {
        long budget = (long)(deadline - now_ms());
        if (budget <= 0) {
            if (res->attempts == 0)
                set_out(&o, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, false, "no time left");
            break;
        }
        xfer_reset(&x);
        res->attempts++;
        attempt(&x, budget, &o);
        /* Never again once the caller saw part of an answer. */
        if (o.kind == HEARTH_CLOUD_OK || !o.retry || res->n_deltas > 0) break;
        if (res->attempts > c->p.max_retries) break;
        long wait;
        if (o.retry_after_ms >= 0) {
            if (o.retry_after_ms > c->p.retry_after_cap_ms) {
                snprintf(note, sizeof note, "; the server asked to wait %ld s, more than the %ld ms cap",
                         o.retry_after_ms / 1000, c->p.retry_after_cap_ms);
                break;
            }
            wait = o.retry_after_ms;
        } else {
            int shift = res->attempts - 1 < 3 ? res->attempts - 1 : 3;
            wait = c->p.backoff_ms << shift;
        }
        if (now_ms() + (double)wait >= deadline) {
            snprintf(note, sizeof note, "; no time left to retry");
            break;
        }
        if (!wait_ms(&x, wait)) {
            set_out(&o, HEARTH_CLOUD_CANCELLED, HEARTH_E_CANCELLED, false,
                    "cancelled by the caller while waiting to retry");
            break;
        }
    }
    explicit_bzero(body, body_len);
    hearth_free(body);

    res->kind = o.kind;
    memcpy(res->finish_reason, x.ans.finish_reason, sizeof res->finish_reason);
    res->has_usage = x.ans.has_usage;
    res->prompt_tokens = x.ans.prompt_tokens;
    res->completion_tokens = x.ans.completion_tokens;
    res->total_tokens = x.ans.total_tokens;
    res->text = strbuf_finish(&x.ans.text, &res->text_len);
    if (!res->text) {
        res->text = hearth_strdup("");
        res->text_len = 0;
        if (o.kind == HEARTH_CLOUD_OK) set_out(&o, HEARTH_CLOUD_NETWORK, HEARTH_E_NOMEM, false, "out of memory");
    }
    sse_free(&x.sse);
    oa_answer_free(&x.ans);
    strbuf_discard(&x.body);
    res->latency_ms = now_ms() - x.t0;
    if (o.code == HEARTH_OK && o.kind == HEARTH_CLOUD_OK) return HEARTH_OK;
    if (o.code == HEARTH_OK) o.code = code_of_kind(o.kind);
    res->kind = o.kind == HEARTH_CLOUD_OK ? HEARTH_CLOUD_NETWORK : o.kind;
    scrub(o.detail, c->api_key);
    HEARTH_FAIL(err, o.code, "cloud %s: %s: %s (%d attempt%s%s)", c->host,
                hearth_cloud_kind_name(res->kind), o.detail, res->attempts,
                res->attempts == 1 ? "" : "s", note);
    if (err) scrub(err->msg, c->api_key);
    return o.code;
}
