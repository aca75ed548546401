/*
 * ollama.h: ollama's REST API (/api/...) beside the OpenAI one, on the same
 * port and behind the same Host/Origin/key checks (http.c does those before
 * it hands a request here). Requests are parsed into the same srv_request
 * the OpenAI endpoints use, so sampling, sessions-less chat, the cache and
 * the router behave alike; answers use ollama's field names, nanosecond
 * durations, NDJSON streams and {"error": "..."} bodies.
 */
#ifndef HEARTH_SERVER_OLLAMA_H
#define HEARTH_SERVER_OLLAMA_H

#include "server/backend.h"
#include "server/metrics.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The version /api/version reports: the level of ollama's API this
 * implements (clients gate features on it), not hearth's own version. */
#define SRV_OLLAMA_API_VERSION "0.6.0"

/* What ollama.c needs of the HTTP server, borrowed for one request. */
typedef struct {
    srv_backend *backend;
    srv_metrics *metrics;
    struct MHD_Connection *c;
    const char *route;       /* the route's path, the metrics label */
    void *server;
    /* Queues r (adding CORS headers) and destroys it. */
    enum MHD_Result (*queue)(void *server, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r);
    bool (*client_gone)(struct MHD_Connection *c);
    /* The server's count of requests in flight and this request's share of
     * it: a stream takes the share over and gives it back when it ends. */
    atomic_int *active;
    bool *counted_active;
} srv_ollama_env;

/* True for the paths this module answers ("/", "/api/..."), whose errors
 * are ollama's {"error": "..."} rather than OpenAI's. */
bool srv_ollama_path(const char *path);

/* Answers the routes that need no model: GET/HEAD "/" and /api/version. */
enum MHD_Result srv_ollama_answer_plain(const srv_ollama_env *env, const char *path);

/* Answers path (an /api/ route; the model is loaded, the headers were
 * checked) with the request body (len bytes, untrusted). */
enum MHD_Result srv_ollama_answer(const srv_ollama_env *env, const char *path, const char *body,
                                  size_t len);

/* {"error": message} (message cut to its valid UTF-8 prefix). Owned:
 * hearth_free; NULL on allocation failure. */
char *srv_ollama_error_json(const char *message, size_t *len);

#endif
