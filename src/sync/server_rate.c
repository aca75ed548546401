/*
 * server_rate.c: token buckets by device id (server_rate.h) in an open
 * addressing hash table that doubles when half full. Buckets are never
 * dropped: there is one per registered device, which the operator bounds.
 */
#include "sync/server_rate.h"

#include "sync/proto.h"
#include "util/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char id[SYNC_MAX_ID + 1]; /* "" for an empty slot */
    double tokens, last;
} bucket;

struct ssrv_rate {
    pthread_mutex_t mu;
    double rate, burst;
    bucket *b;
    size_t cap, n;
};

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

ssrv_rate *ssrv_rate_new(double rate, double burst) {
    ssrv_rate *r = hearth_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->rate = rate;
    r->burst = burst < 1 ? 1 : burst;
    r->cap = 64;
    r->b = hearth_calloc(r->cap, sizeof *r->b);
    if (!r->b) {
        hearth_free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void ssrv_rate_free(ssrv_rate *r) {
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    hearth_free(r->b);
    hearth_free(r);
}

static bucket *slot(bucket *b, size_t cap, const char *id) {
    for (size_t i = hash(id) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!b[i].id[0] || !strcmp(b[i].id, id)) return &b[i];
}

static bool grow(ssrv_rate *r) {
    size_t nc = r->cap * 2;
    bucket *nb = hearth_calloc(nc, sizeof *nb);
    if (!nb) return false;
    for (size_t i = 0; i < r->cap; i++)
        if (r->b[i].id[0]) *slot(nb, nc, r->b[i].id) = r->b[i];
    hearth_free(r->b);
    r->b = nb;
    r->cap = nc;
    return true;
}

bool ssrv_rate_take(ssrv_rate *r, const char *device, double now_s, int *retry_after) {
    *retry_after = 0;
    if (r->rate <= 0) return true;
    pthread_mutex_lock(&r->mu);
    if (r->n * 2 >= r->cap && !grow(r)) {
        pthread_mutex_unlock(&r->mu);
        return true; /* out of memory: let it in rather than lock everyone out */
    }
    bucket *b = slot(r->b, r->cap, device);
    if (!b->id[0]) {
        snprintf(b->id, sizeof b->id, "%s", device);
        b->tokens = r->burst;
        b->last = now_s;
        r->n++;
    }
    if (now_s > b->last) {
        b->tokens = fmin(r->burst, b->tokens + (now_s - b->last) * r->rate);
        b->last = now_s;
    }
    bool ok = b->tokens >= 1;
    if (ok)
        b->tokens -= 1;
    else
        *retry_after = (int)ceil((1 - b->tokens) / r->rate);
    if (!ok && *retry_after < 1) *retry_after = 1;
    pthread_mutex_unlock(&r->mu);
    return ok;
}
