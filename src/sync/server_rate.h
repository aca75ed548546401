/*
 * server_rate.h: per-device request rate limits for the sync server, one
 * token bucket per device id (rate tokens per second, at most burst). Kept
 * in memory: a restart refills every bucket, which only errs toward letting
 * a request in. Thread-safe (one mutex).
 */
#ifndef HEARTH_SYNC_SERVER_RATE_H
#define HEARTH_SYNC_SERVER_RATE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ssrv_rate ssrv_rate;

/* NULL when out of memory. rate <= 0 turns limiting off. */
ssrv_rate *ssrv_rate_new(double rate, double burst);
void ssrv_rate_free(ssrv_rate *r);

/* Takes one token from device's bucket at time now_s (seconds, monotonic).
 * True if there was one; otherwise *retry_after is the whole seconds until
 * there will be (>= 1). */
bool ssrv_rate_take(ssrv_rate *r, const char *device, double now_s, int *retry_after);

#endif
