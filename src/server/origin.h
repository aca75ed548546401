/*
 * origin.h: which Host and Origin headers the server answers, against DNS
 * rebinding and cross-site requests (a web page the user visits must not be
 * able to write into their sessions or read answers).
 *
 *  - Host: bound to a loopback address, the server answers only requests for
 *    localhost, 127.0.0.1, [::1] or its bound address (any port), or a name
 *    the user allowed. A rebinding page's requests carry its own name.
 *  - Origin: browsers send it on every cross-site POST and fetch. The
 *    server's own origins (http://localhost:PORT, http://127.0.0.1:PORT,
 *    http://[::1]:PORT, http://BOUND:PORT) are same-origin; the user may allow
 *    others (CORS); the rest are refused. No Origin: not a browser's
 *    cross-site request (curl, SDKs), allowed.
 *
 * The policy is built once at server start and read only afterwards, so the
 * checks are safe from any thread.
 */
#ifndef HEARTH_SERVER_ORIGIN_H
#define HEARTH_SERVER_ORIGIN_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct srv_origin_policy srv_origin_policy;

typedef enum {
    SRV_ORIGIN_NONE,    /* no Origin header */
    SRV_ORIGIN_SAME,    /* the server itself */
    SRV_ORIGIN_ALLOWED, /* allowed cross-origin (CORS headers go with the answer) */
    SRV_ORIGIN_FOREIGN, /* refuse */
} srv_origin_kind;

/* Builds the policy. bind_host: the address bound (as given, e.g.
 * "127.0.0.1" or "::1"); loopback: whether it is a loopback address (then
 * Host is checked). hosts: extra Host names (a name, or name:port for one
 * port only). origins: allowed origins, "scheme://host[:port]" or "*"; a bad
 * one is HEARTH_E_ARG naming it. Strings are copied. OUT: *out (free with
 * srv_origin_policy_free). */
hearth_status srv_origin_policy_new(const char *bind_host, bool loopback,
                                    const char *const *hosts, size_t n_hosts,
                                    const char *const *origins, size_t n_origins,
                                    srv_origin_policy **out, hearth_error *err);
void srv_origin_policy_free(srv_origin_policy *p);

/* True if the Host header value (NULL: absent) may be answered. */
bool srv_origin_host_ok(const srv_origin_policy *p, const char *host);
/* Classifies an Origin header value (NULL: absent); port is the port the
 * request came in on. */
srv_origin_kind srv_origin_classify(const srv_origin_policy *p, const char *origin,
                                    unsigned port);
/* True if "*" is among the allowed origins. */
bool srv_origin_any(const srv_origin_policy *p);
/* True if any cross-origin origin is allowed (answers then vary by Origin). */
bool srv_origin_cors_on(const srv_origin_policy *p);

#endif
