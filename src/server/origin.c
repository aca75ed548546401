/*
 * origin.c: the Host and Origin policy (see origin.h). Names compare case
 * insensitively; a Host or Origin that does not parse is refused.
 */
#include "server/origin.h"

#include "util/alloc.h"
#include "util/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NAME 256

struct srv_origin_policy {
    bool loopback, any;
    char bound[MAX_NAME];  /* the bound address as it appears in a Host: [::1] */
    char **hosts;          /* lower case */
    size_t n_hosts;
    char **origins;        /* lower case, no trailing '/'; "*" is kept out (any) */
    size_t n_origins;
};

/* Splits "host[:port]" (host may be "[v6]") into a lower-case host and a
 * port (-1 when absent). False if it does not parse. */
static bool split_hostport(const char *hp, size_t len, char host[MAX_NAME], long *port) {
    size_t hl;
    const char *rest;
    if (len && hp[0] == '[') {
        const char *close = memchr(hp, ']', len);
        if (!close) return false;
        hl = (size_t)(close - hp) + 1;
    } else {
        const char *colon = memchr(hp, ':', len);
        hl = colon ? (size_t)(colon - hp) : len;
    }
    if (hl == 0 || hl >= MAX_NAME) return false;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)hp[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '\\') return false;
        host[i] = (char)tolower(c);
    }
    host[hl] = '\0';
    rest = hp + hl;
    size_t rl = len - hl;
    *port = -1;
    if (rl == 0) return true;
    if (rest[0] != ':' || rl < 2 || rl > 6) return false;
    long v = 0;
    for (size_t i = 1; i < rl; i++) {
        if (!isdigit((unsigned char)rest[i])) return false;
        v = v * 10 + (rest[i] - '0');
    }
    if (v > 65535) return false;
    *port = v;
    return true;
}

static char *lower_dup(const char *s, size_t n) {
    char *d = hearth_strndup(s, n);
    if (d)
        for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    return d;
}

/* An origin as the user gave it: "*", or scheme://host[:port] (a trailing '/'
 * is dropped). Its normalized form goes to *out; NULL for "*". */
static hearth_status parse_allowed_origin(const char *o, char **out, hearth_error *err) {
    *out = NULL;
    if (!strcmp(o, "*")) return HEARTH_OK;
    size_t n = strlen(o);
    if (n && o[n - 1] == '/') n--;
    const char *sep = strstr(o, "://");
    char host[MAX_NAME];
    long port;
    size_t at = sep ? (size_t)(sep - o) + 3 : 0; /* where the host starts */
    if (!sep || sep == o || at >= n || !split_hostport(o + at, n - at, host, &port))
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "CORS origin '%.100s' is not scheme://host[:port] or '*'", o);
    for (const char *p = o; p < sep; p++)
        if (!isalpha((unsigned char)*p))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "CORS origin '%.100s' has a bad scheme", o);
    if (!(*out = lower_dup(o, n))) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

void srv_origin_policy_free(srv_origin_policy *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_hosts; i++) hearth_free(p->hosts[i]);
    for (size_t i = 0; i < p->n_origins; i++) hearth_free(p->origins[i]);
    hearth_free(p->hosts);
    hearth_free(p->origins);
    hearth_free(p);
}

hearth_status srv_origin_policy_new(const char *bind_host, bool loopback,
                                    const char *const *hosts, size_t n_hosts,
                                    const char *const *origins, size_t n_origins,
                                    srv_origin_policy **out, hearth_error *err) {
    *out = NULL;
    srv_origin_policy *p = hearth_calloc(1, sizeof *p);
    if (!p) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    p->loopback = loopback;
    bool v6 = bind_host && strchr(bind_host, ':');
    size_t bl = bind_host ? strlen(bind_host) : 0;
    if (bl && bl + 2 < MAX_NAME) {
        size_t at = 0;
        if (v6) p->bound[at++] = '[';
        for (size_t i = 0; i < bl; i++) p->bound[at++] = (char)tolower((unsigned char)bind_host[i]);
        if (v6) p->bound[at++] = ']';
        p->bound[at] = '\0';
    }
    hearth_status st = HEARTH_OK;
    if (n_hosts && !(p->hosts = hearth_calloc(n_hosts, sizeof *p->hosts)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n_hosts; i++) {
        char host[MAX_NAME];
        long port;
        if (!split_hostport(hosts[i], strlen(hosts[i]), host, &port))
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "allowed host '%.100s' is not a host name",
                             hosts[i]);
        else if (!(p->hosts[p->n_hosts++] = lower_dup(hosts[i], strlen(hosts[i]))))
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (!st && n_origins && !(p->origins = hearth_calloc(n_origins, sizeof *p->origins)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n_origins; i++) {
        char *o;
        st = parse_allowed_origin(origins[i], &o, err);
        if (st) break;
        if (o) p->origins[p->n_origins++] = o;
        else p->any = true;
    }
    if (st) {
        srv_origin_policy_free(p);
        return st;
    }
    *out = p;
    return HEARTH_OK;
}

/* localhost, 127.0.0.1, [::1] or the bound address. */
static bool is_self_name(const srv_origin_policy *p, const char *host) {
    return !strcmp(host, "localhost") || !strcmp(host, "127.0.0.1") || !strcmp(host, "[::1]") ||
           (p->bound[0] && !strcmp(host, p->bound));
}

bool srv_origin_host_ok(const srv_origin_policy *p, const char *host) {
    if (!p->loopback) return true;
    /* HTTP/1.0 without Host: no browser sends that, so no rebinding either. */
    if (!host) return true;
    char name[MAX_NAME];
    long port;
    size_t n = strlen(host);
    if (!split_hostport(host, n, name, &port)) return false;
    if (is_self_name(p, name)) return true;
    for (size_t i = 0; i < p->n_hosts; i++)
        if (!strcmp(p->hosts[i], name) || !strcasecmp(p->hosts[i], host)) return true;
    return false;
}

srv_origin_kind srv_origin_classify(const srv_origin_policy *p, const char *origin,
                                    unsigned port) {
    if (!origin) return SRV_ORIGIN_NONE;
    size_t n = strlen(origin);
    if (n > 7 && !strncasecmp(origin, "http://", 7)) {
        char host[MAX_NAME];
        long op;
        if (split_hostport(origin + 7, n - 7, host, &op) && is_self_name(p, host) &&
            (op < 0 ? port == 80 : (unsigned long)op == port))
            return SRV_ORIGIN_SAME;
    }
    for (size_t i = 0; i < p->n_origins; i++)
        if (!strcasecmp(p->origins[i], origin)) return SRV_ORIGIN_ALLOWED;
    if (p->any) return SRV_ORIGIN_ALLOWED;
    return SRV_ORIGIN_FOREIGN;
}

bool srv_origin_any(const srv_origin_policy *p) { return p->any; }

bool srv_origin_cors_on(const srv_origin_policy *p) { return p->any || p->n_origins > 0; }
