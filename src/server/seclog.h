/*
 * seclog.h: the security log (HEARTH_SECURITY_LOG=1): one line per rejected
 * request or failed authentication, with time, client address, route,
 * status and reason. Never the request's content, headers or key.
 */
#ifndef HEARTH_SERVER_SECLOG_H
#define HEARTH_SERVER_SECLOG_H

#include "hearth.h"

typedef struct srv_seclog srv_seclog;

/* Opens path for appending (created 0600). */
hearth_status srv_seclog_open(const char *path, srv_seclog **out, hearth_error *err);
void srv_seclog_free(srv_seclog *l);
/* Thread-safe. l may be NULL (logging off). Strings are sanitized to
 * printable ASCII and cut to a fixed length. */
void srv_seclog_write(srv_seclog *l, const char *client, const char *route, unsigned status,
                      const char *reason);

#endif
