/*
 * connguard.c: request deadlines and per-client connection limits (see
 * connguard.h).
 *
 * Every connection has a record from MHD's STARTED notification to its
 * CLOSED one, kept in a list under the guard's mutex. MHD closes the socket
 * only after CLOSED, so a record's fd is the connection's own while the
 * record is listed: shutting it down under the mutex is safe, and it makes
 * the connection's thread see the end of the stream and close the
 * connection the ordinary way.
 */
#include "server/connguard.h"

#include "util/alloc.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct conn_rec {
    struct conn_rec *prev, *next;
    srv_connguard *g;
    int fd;
    uint8_t addr[17];  /* family tag + address (v4-mapped v6 as v4) */
    double since;      /* monotonic seconds: start of the wait for a request */
    bool receiving;    /* a request is owed */
    bool dropped;      /* shut down by the guard; closing */
} conn_rec;

struct srv_connguard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t watchdog;
    bool stop;
    int max_per_client, timeout_s;
    srv_metrics *metrics;
    conn_rec *head;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The address as a comparable key; false for other families. */
static bool addr_key(const struct sockaddr *sa, uint8_t key[17]) {
    memset(key, 0, 17);
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 16);
        }
        return true;
    }
    return false;
}

/* Shuts a connection down (with g->mu held). */
static void drop(srv_connguard *g, conn_rec *r, const char *why) {
    r->dropped = true;
    shutdown(r->fd, SHUT_RDWR);
    if (g->metrics) srv_metrics_error(g->metrics, why);
}

static void *watchdog_main(void *arg) {
    srv_connguard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 250 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        double t = now_s();
        for (conn_rec *r = g->head; r; r = r->next)
            if (r->receiving && !r->dropped && t - r->since >= g->timeout_s)
                drop(g, r, "request_timeout");
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

hearth_status srv_connguard_new(int max_per_client, int timeout_s, srv_metrics *m,
                                srv_connguard **out, hearth_error *err) {
    *out = NULL;
    if (max_per_client <= 0 || timeout_s <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "connections per client and the request timeout must be positive");
    srv_connguard *g = hearth_calloc(1, sizeof *g);
    if (!g) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    g->max_per_client = max_per_client;
    g->timeout_s = timeout_s;
    g->metrics = m;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->watchdog, NULL, watchdog_main, g)) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        hearth_free(g);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "cannot start the connection watchdog");
    }
    *out = g;
    return HEARTH_OK;
}

void srv_connguard_free(srv_connguard *g) {
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->watchdog, NULL);
    /* MHD has closed every connection by now; anything left is unreachable. */
    while (g->head) {
        conn_rec *r = g->head;
        g->head = r->next;
        hearth_free(r);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    hearth_free(g);
}

enum MHD_Result srv_connguard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
    (void)addrlen;
    srv_connguard *g = cls;
    uint8_t key[17];
    if (!addr_key(addr, key)) return MHD_YES;
    pthread_mutex_lock(&g->mu);
    int n = 0;
    conn_rec *oldest = NULL;
    for (conn_rec *r = g->head; r; r = r->next) {
        if (r->dropped || memcmp(r->addr, key, sizeof key)) continue;
        n++;
        if (r->receiving && (!oldest || r->since < oldest->since)) oldest = r;
    }
    enum MHD_Result ok = MHD_YES;
    if (n >= g->max_per_client) {
        if (oldest) {
            drop(g, oldest, "connection_evicted");
        } else {
            ok = MHD_NO;
            if (g->metrics) srv_metrics_error(g->metrics, "too_many_connections");
        }
    }
    pthread_mutex_unlock(&g->mu);
    return ok;
}

void srv_connguard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    srv_connguard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        conn_rec *r = hearth_calloc(1, sizeof *r);
        /* Untracked (no memory, no fd): MHD's idle timeout still applies. */
        if (!r || !fi) {
            hearth_free(r);
            *socket_context = NULL;
            return;
        }
        r->g = g;
        r->fd = fi->connect_fd;
        addr_key(ai ? ai->client_addr : NULL, r->addr);
        r->since = now_s();
        r->receiving = true;
        pthread_mutex_lock(&g->mu);
        r->next = g->head;
        if (g->head) g->head->prev = r;
        g->head = r;
        pthread_mutex_unlock(&g->mu);
        *socket_context = r;
        return;
    }
    conn_rec *r = *socket_context;
    if (!r) return;
    pthread_mutex_lock(&g->mu);
    if (r->prev) r->prev->next = r->next;
    else g->head = r->next;
    if (r->next) r->next->prev = r->prev;
    pthread_mutex_unlock(&g->mu);
    hearth_free(r);
    *socket_context = NULL;
}

static conn_rec *rec_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void srv_connguard_received(struct MHD_Connection *c) {
    conn_rec *r = rec_of(c);
    if (!r) return;
    pthread_mutex_lock(&r->g->mu);
    r->receiving = false;
    pthread_mutex_unlock(&r->g->mu);
}

void srv_connguard_waiting(struct MHD_Connection *c) {
    conn_rec *r = rec_of(c);
    if (!r) return;
    pthread_mutex_lock(&r->g->mu);
    r->receiving = true;
    r->since = now_s();
    pthread_mutex_unlock(&r->g->mu);
}
