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

typedef struct {
    char *buf;
    size_t len, cap;
    bool over;
} sink;

static size_t on_write(char *p, size_t size, size_t n, void *user) {
    sink *k = user;
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

hearth_status sync_request(hearth_sync *s, const char *method, const char *path,
                           const char *body, size_t len, const char *what, sync_reply *r,
                           hearth_error *err) {
    *r = (sync_reply){0};
    if (!s->server[0]) return HEARTH_FAIL(err, HEARTH_E_STATE, "no sync server: pair first (hearth sync pair --server URL --token T) or give --server");
    char url[1024], host[256];
    snprintf(url, sizeof url, "%s%s", s->server, path);
    host_of(s->server, host, sizeof host);

    hearth_audit_record a = {.kind = "sync", .category = "sync", .confidence = -1, .latency_ms = -1};
    char reason[512];
    if (!s->gate || !s->gate(s->gate_user, host, r->reason, sizeof r->reason)) {
        if (!s->gate) snprintf(r->reason, sizeof r->reason, "no egress gate: nothing may leave");
        if (!r->reason[0]) snprintf(r->reason, sizeof r->reason, "refused by the privacy policy");
        r->offline = true;
        snprintf(reason, sizeof reason, "%s %s: %s", method, what, r->reason);
        a.decision = "blocked";
        a.reason = reason;
        hearth_store_audit_add(s->store, &a, NULL, NULL); /* nothing leaves either way */
        return HEARTH_OK;
    }
    snprintf(reason, sizeof reason, "%s %s", method, what);
    a.decision = "sending";
    a.reason = reason;
    a.host = host;
    a.bytes_out = (int64_t)len;
    int64_t audit_id = 0;
    hearth_error ae;
    if (hearth_store_audit_add(s->store, &a, &audit_id, &ae))
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: not sent: the audit log could not be written (%.150s)", ae.msg);

    if (!s->curl && !(s->curl = curl_easy_init()))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync: curl_easy_init failed");
    CURL *h = s->curl;
    curl_easy_reset(h);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL;
    char auth[200];
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    if (s->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
        hdr = curl_slist_append(hdr, auth);
    }
    sink k = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 5000 ? s->timeout_ms : 5000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
    if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    double t0 = now_ms();
    CURLcode cc = curl_easy_perform(h);
    double dt = now_ms() - t0;
    curl_slist_free_all(hdr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    char outcome[160];
    hearth_status st = HEARTH_OK;
    if (cc != CURLE_OK) {
        free(k.buf);
        k.buf = NULL;
        if (k.over) {
            snprintf(outcome, sizeof outcome, "reply over %u bytes", SYNC_MAX_BODY);
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync: %s: the reply is over %u bytes", what, SYNC_MAX_BODY);
        } else {
            snprintf(outcome, sizeof outcome, "%.150s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
            r->offline = true;
            snprintf(r->reason, sizeof r->reason, "%.64s is not reachable: %.160s", host, outcome);
        }
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        r->body = k.buf ? k.buf : calloc(1, 1);
        r->len = k.len;
        snprintf(outcome, sizeof outcome, r->status == 200 ? "ok" : "http %ld", r->status);
        if (r->status >= 500 || r->status == 429) {
            r->offline = true;
            snprintf(r->reason, sizeof r->reason, "the server at %.64s answered %ld", host, r->status);
        }
    }
    a.decision = cc == CURLE_OK ? "sent" : "failed";
    a.bytes_in = (int64_t)r->len;
    a.latency_ms = dt;
    a.outcome = outcome;
    hearth_store_audit_update(s->store, audit_id, &a, NULL);
    return st;
}
