/*
 * client_http.c: every request of the sync client, through one function:
 * the egress gate decides (no gate or a refusal: no socket is opened), an
 * audit record of kind "sync" is written before the request leaves (if it
 * can not be written, nothing is sent) and completed after with bytes,
 * latency and outcome. Audit records never hold content: only the method,
 * the path's name and counts.
 */
#include "sync/client_int.h"

#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

static size_t on_write(char *p, size_t size, size_t n, void *user) {
    sync_sink *k = user;
    size_t add = size * n;
    if (add > SYNC_MAX_BODY + 1024 - k->len) {
        k->over = true;
        return 0;
    }
    if (k->len + add + 1 > k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 8192;
        while (cap < k->len + add + 1) cap *= 2;
        char *b = realloc(k->buf, cap);
        if (!b) return 0;
        k->buf = b;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, p, add);
    k->len += add;
    k->buf[k->len] = '\0';
    return add;
}

/* The host of url (between "://" and the next '/', ':' or the end). */
static void host_of(const char *url, char *out, size_t cap) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = 0;
    if (*p == '[') { /* IPv6 literal */
        const char *e = strchr(p, ']');
        n = e ? (size_t)(e - p + 1) : strlen(p);
    } else {
        while (p[n] && p[n] != '/' && p[n] != ':' && p[n] != '?') n++;
    }
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void sync_reply_free(sync_reply *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

hearth_status sync_reply_fail(const sync_reply *r, hearth_status code, const char *what,
                              hearth_error *err) {
    sync_error_reply er = {0};
    bool has = r->body && r->len <= SYNC_MAX_BODY &&
               sync_error_parse(r->body, r->len, &er, NULL) == HEARTH_OK && er.message[0];
    if (r->status == 401)
        return HEARTH_FAIL(err, code, "%s: the server does not know this device or its token (401%s%.160s); pair it again (hearth sync pair)",
                           what, has ? ": " : "", has ? er.message : "");
    return HEARTH_FAIL(err, code, "%s: the server answered %ld%s%.24s%s%.160s", what, r->status,
                       has ? " " : "", has ? er.code : "", has ? ": " : "", has ? er.message : "");
}

/* The request runs on its own thread so that the caller can read and
 * write the store meanwhile (the pipelined push and pull): the thread only
 * touches the curl handle and the reply buffer, never the store. */
static void *perform_thread(void *arg) {
    sync_call *c = arg;
    double t0 = now_ms();
    c->cc = curl_easy_perform(c->h);
    c->dt = now_ms() - t0;
    long status = 0;
    if (c->parse && c->cc == CURLE_OK &&
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
        c->parse_st = c->parse(c->sink.buf ? c->sink.buf : "", c->sink.len, c->parse_out,
                               &c->parse_err);
        c->parsed = true;
    }
    return NULL;
}

static hearth_status call_start(hearth_sync *s, const char *method, const char *path,
                                const char *body, size_t len, const char *what,
                                hearth_status (*parse)(const char *, size_t, void *, hearth_error *),
                                void *out, sync_call *c, hearth_error *err) {
    memset(c, 0, sizeof *c);
    c->parse = parse;
    c->parse_out = out;
    if (!s->server[0]) return HEARTH_FAIL(err, HEARTH_E_STATE, "no sync server: pair first (hearth sync pair --server URL --token T) or give --server");
    char url[1024];
    snprintf(url, sizeof url, "%s%s", s->server, path);
    host_of(s->server, c->host, sizeof c->host);
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->what, sizeof c->what, "%s", what);
    c->bytes_out = (int64_t)len;

    hearth_audit_record a = {.kind = "sync", .category = "sync", .confidence = -1, .latency_ms = -1};
    char reason[512];
    if (!s->gate || !s->gate(s->gate_user, c->host, c->refusal, sizeof c->refusal)) {
        if (!s->gate) snprintf(c->refusal, sizeof c->refusal, "no egress gate: nothing may leave");
        if (!c->refusal[0]) snprintf(c->refusal, sizeof c->refusal, "refused by the privacy policy");
        c->refused = true;
        snprintf(reason, sizeof reason, "%s %s: %s", method, what, c->refusal);
        a.decision = "blocked";
        a.reason = reason;
        hearth_store_audit_add(s->store, &a, NULL, NULL); /* nothing leaves either way */
        return HEARTH_OK;
    }
    snprintf(reason, sizeof reason, "%s %s", method, what);
    a.decision = "sending";
    a.reason = reason;
    a.host = c->host;
    a.bytes_out = c->bytes_out;
    hearth_error ae;
    if (hearth_store_audit_add(s->store, &a, &c->audit_id, &ae))
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: not sent: the audit log could not be written (%.150s)", ae.msg);

    if (!s->curl && !(s->curl = curl_easy_init()))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync: curl_easy_init failed");
    CURL *h = c->h = s->curl;
    curl_easy_reset(h);
    c->hdr = curl_slist_append(c->hdr, "Content-Type: application/json");
    c->hdr = curl_slist_append(c->hdr, "Expect:");
    if (s->token[0]) {
        char auth[200];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
        c->hdr = curl_slist_append(c->hdr, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url); /* libcurl copies the strings */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 5000 ? s->timeout_ms : 5000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->sink);
    if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    c->started = true;
    c->threaded = pthread_create(&c->thread, NULL, perform_thread, c) == 0;
    if (!c->threaded) perform_thread(c); /* no thread to be had: in line */
    return HEARTH_OK;
}

hearth_status sync_call_finish(hearth_sync *s, sync_call *c, sync_reply *r, hearth_error *err) {
    *r = (sync_reply){0};
    if (c->refused) {
        r->offline = true;
        snprintf(r->reason, sizeof r->reason, "%s", c->refusal);
        c->refused = false;
        return HEARTH_OK;
    }
    if (!c->started) return HEARTH_OK;
    if (c->threaded) pthread_join(c->thread, NULL);
    c->started = c->threaded = false;
    curl_slist_free_all(c->hdr);
    c->hdr = NULL;
    curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, NULL);
    sync_sink *k = &c->sink;
    char outcome[160];
    hearth_status st = HEARTH_OK;
    if (c->cc != CURLE_OK) {
        free(k->buf);
        k->buf = NULL;
        if (k->over) {
            snprintf(outcome, sizeof outcome, "reply over %u bytes", SYNC_MAX_BODY);
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync: %s: the reply is over %u bytes", c->what, SYNC_MAX_BODY);
        } else {
            snprintf(outcome, sizeof outcome, "%.150s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->cc));
            r->offline = true;
            snprintf(r->reason, sizeof r->reason, "%.64s is not reachable: %.160s", c->host, outcome);
        }
    } else {
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
        r->body = k->buf ? k->buf : calloc(1, 1);
        r->len = k->len;
        k->buf = NULL;
        snprintf(outcome, sizeof outcome, r->status == 200 ? "ok" : "http %ld", r->status);
        if (r->status >= 500 || r->status == 429) {
            r->offline = true;
            snprintf(r->reason, sizeof r->reason, "the server at %.64s answered %ld", c->host, r->status);
        }
    }
    char reason[512];
    snprintf(reason, sizeof reason, "%s %s", c->method, c->what);
    hearth_audit_record a = {.kind = "sync", .category = "sync", .confidence = -1,
                             .decision = c->cc == CURLE_OK ? "sent" : "failed", .reason = reason,
                             .host = c->host, .bytes_out = c->bytes_out,
                             .bytes_in = (int64_t)r->len, .latency_ms = c->dt, .outcome = outcome};
    hearth_store_audit_update(s->store, c->audit_id, &a, NULL);
    return st;
}

hearth_status sync_call_start(hearth_sync *s, const char *method, const char *path,
                              const char *body, size_t len, const char *what, sync_call *c,
                              hearth_error *err) {
    return call_start(s, method, path, body, len, what, NULL, NULL, c, err);
}

hearth_status sync_call_start_parsed(hearth_sync *s, const char *method, const char *path,
                                     const char *body, size_t len, const char *what,
                                     hearth_status (*parse)(const char *, size_t, void *,
                                                            hearth_error *),
                                     void *out, sync_call *c, hearth_error *err) {
    return call_start(s, method, path, body, len, what, parse, out, c, err);
}

void sync_call_abandon(hearth_sync *s, sync_call *c) {
    sync_reply r;
    if (c->started || c->refused) {
        sync_call_finish(s, c, &r, NULL);
        sync_reply_free(&r);
    }
}

hearth_status sync_request(hearth_sync *s, const char *method, const char *path,
                           const char *body, size_t len, const char *what, sync_reply *r,
                           hearth_error *err) {
    sync_call c;
    *r = (sync_reply){0};
    hearth_status st = sync_call_start(s, method, path, body, len, what, &c, err);
    if (st) return st;
    return sync_call_finish(s, &c, r, err);
}
