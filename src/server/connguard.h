/*
 * connguard.h: keeps slow and greedy clients from starving everyone else
 * (slowloris). libmicrohttpd's own timeout is an idle timeout that every byte
 * resets, and its per-address limit turns new connections away before the
 * application sees them; all local clients share 127.0.0.1, so a local
 * attacker at that limit would shut out /health too. So the guard:
 *
 *  - gives each request a deadline: a client has timeout_s seconds from
 *    connecting (or from the end of its previous response) to send the
 *    request's headers and body; a watchdog thread shuts down the socket of
 *    one that is late;
 *  - limits connections per client address to max_per_client, and when a
 *    client at its limit connects again, makes room by shutting down that
 *    client's connection that has waited longest for a request (a stalled
 *    one, or an idle keep-alive one), so a real request still gets in; only
 *    when all of them are busy answering is the new one refused.
 *
 * The guard hooks into MHD as its accept policy and connection notifier.
 * Thread-safe (one mutex).
 */
#ifndef HEARTH_SERVER_CONNGUARD_H
#define HEARTH_SERVER_CONNGUARD_H

#include "hearth.h"
#include "server/metrics.h"

#include <microhttpd.h>

typedef struct srv_connguard srv_connguard;

/* Starts the watchdog. m (borrowed, may be NULL) counts what the guard
 * drops ("request_timeout", "connection_evicted", "too_many_connections"). */
hearth_status srv_connguard_new(int max_per_client, int timeout_s, srv_metrics *m,
                                srv_connguard **out, hearth_error *err);
/* Stops the watchdog. Call after MHD_stop_daemon. NULL is a no-op. */
void srv_connguard_free(srv_connguard *g);

/* MHD_AcceptPolicyCallback (cls: the guard). */
enum MHD_Result srv_connguard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_NotifyConnectionCallback (cls: the guard). */
void srv_connguard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe);
/* The request on c has arrived whole: its deadline no longer applies. */
void srv_connguard_received(struct MHD_Connection *c);
/* The response on c is done: the deadline for the next request starts. */
void srv_connguard_waiting(struct MHD_Connection *c);

#endif
