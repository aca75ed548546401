/*
 * kv_store.c: saved states of the server's conversations (hearth_kv_store),
 * behind the scheduler's state hooks, so that a restarted `hearth serve`
 * continues a conversation without evaluating its history again.
 *
 * Files are the agent's (kv_files.h, format in kv_cache.c) in the same
 * <home>/kv, under the same bound and LRU eviction: named
 * <model16>-<serve16>-<prefix16>.kv, where serve16 stands for "the server"
 * (SHA-256 of KVS_KEY) in place of a session's name. The store keeps an
 * index in memory, built at open from the files' heads: per file, its token
 * ids. Finding the longest saved prefix of a prompt is a scan of the index
 * (hundreds of entries compared token by token: microseconds); a file is
 * only opened to be loaded. A state whose tokens are a prefix of a newer
 * one is removed (the newer serves every prompt it would, cut back); a
 * state already saved, or held within a saved one, is not written again.
 * Every failure only means the history is evaluated (and a warning); a
 * damaged file is removed. The hooks run on the scheduler's thread only,
 * so the index needs no lock.
 */
#include "agent/kv_files.h"

#include "agent/agent_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KVS_KEY "\x01hearth serve" /* no session name starts with a control byte */

typedef struct {
    char name[64];
    int32_t *tokens; /* owned */
    uint32_t n;
} kvs_entry;

struct hearth_kv_store {
    char *dir;
    char model_hash[65];
    int64_t max_bytes;
    char stem[40];
    kvs_entry *v;
    size_t n, cap;
    void (*warn)(void *, const char *);
    void *warn_user;
};

static void kvs_warn(const hearth_kv_store *k, const char *fmt, ...) {
    if (!k->warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->warn(k->warn_user, msg);
}

static void drop(hearth_kv_store *k, size_t i) {
    hearth_free(k->v[i].tokens);
    k->v[i] = k->v[--k->n];
}

static void drop_name(void *user, const char *name) {
    hearth_kv_store *k = user;
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->v[i].name, name)) {
            drop(k, i);
            return;
        }
}

static bool add(hearth_kv_store *k, const char *name, int32_t *tokens, uint32_t n) {
    size_t len = strlen(name);
    if (len >= sizeof k->v[0].name) return false; /* not a name this store writes */
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 16;
        kvs_entry *v = hearth_realloc(k->v, nc * sizeof *v);
        if (!v) return false;
        k->v = v;
        k->cap = nc;
    }
    kvs_entry *e = &k->v[k->n++];
    memcpy(e->name, name, len + 1);
    e->tokens = tokens;
    e->n = n;
    return true;
}

hearth_status hearth_kv_store_open(const hearth_kv_store_params *p, hearth_kv_store **out,
                                   hearth_error *err) {
    *out = NULL;
    if (!p || !p->dir || !p->model_hash || strlen(p->model_hash) != 64)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "kv store: no directory or model hash");
    hearth_kv_store *k = hearth_calloc(1, sizeof *k);
    if (!k || !(k->dir = hearth_strdup(p->dir))) {
        hearth_free(k);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "kv store: out of memory");
    }
    memcpy(k->model_hash, p->model_hash, 65);
    k->max_bytes = p->max_bytes;
    k->warn = p->warn;
    k->warn_user = p->warn_user;
    char sh[65];
    hearth_status st = agent_sha256_hex(KVS_KEY, strlen(KVS_KEY), sh, err);
    if (!st && mkdir(k->dir, 0700) != 0 && errno != EEXIST)
        st = HEARTH_FAIL(err, HEARTH_E_IO, "kv store: cannot create '%s': %s", k->dir, strerror(errno));
    if (st) {
        hearth_kv_store_free(k);
        return st;
    }
    snprintf(k->stem, sizeof k->stem, "%.16s-%.16s-", k->model_hash, sh);
    /* the index: the heads of this model's server states */
    kvf_file *v;
    size_t nv;
    if (kvf_list(k->dir, k->stem, &v, &nv)) {
        for (size_t i = 0; i < nv; i++) {
            int32_t *t;
            uint32_t tn;
            if (kvf_head_at(k->dir, v[i].name, k->model_hash, &t, &tn) && !add(k, v[i].name, t, tn))
                hearth_free(t);
        }
        hearth_free(v);
    }
    *out = k;
    return HEARTH_OK;
}

void hearth_kv_store_free(hearth_kv_store *k) {
    if (!k) return;
    for (size_t i = 0; i < k->n; i++) hearth_free(k->v[i].tokens);
    hearth_free(k->v);
    hearth_free(k->dir);
    hearth_free(k);
}

size_t hearth_kv_store_count(const hearth_kv_store *k) { return k ? k->n : 0; }

static uint32_t common(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb) {
    uint32_t c = 0;
    while (c < na && c < nb && a[c] == b[c]) c++;
    return c;
}

static void kvs_save(void *user, const hearth_ctx *ctx, int32_t seq, const int32_t *tokens, int32_t n) {
    hearth_kv_store *k = user;
    if (n < 2) return;
    char path[4096];
    /* already saved, as itself or within a longer state: only used again */
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].n >= (uint32_t)n && common(k->v[i].tokens, k->v[i].n, tokens, (uint32_t)n) == (uint32_t)n) {
            snprintf(path, sizeof path, "%s/%s", k->dir, k->v[i].name);
            if (utimensat(AT_FDCWD, path, NULL, 0) == 0) return;
            drop(k, i); /* gone (another process evicted it): write it again */
            break;
        }
    size_t state = hearth_ctx_seq_state_size(ctx, n);
    int64_t bytes = (int64_t)(76 + (size_t)n * sizeof(int32_t) + state);
    if (state == 0 || bytes > k->max_bytes) return; /* would not fit the bound at all */
    char ph[17], name[64];
    if (!kvf_prefix_hash(k->model_hash, tokens, (size_t)n, ph)) return;
    snprintf(name, sizeof name, "%s%s.kv", k->stem, ph);
    int32_t *copy = hearth_malloc((size_t)n * sizeof *copy);
    hearth_error e = {0};
    if (!copy || kvf_write(k->dir, name, k->model_hash, ctx, seq, tokens, (size_t)n, &e)) {
        if (copy) kvs_warn(k, "kv cache: %s", e.msg);
        hearth_free(copy);
        return;
    }
    memcpy(copy, tokens, (size_t)n * sizeof *copy);
    /* states this one extends are superseded */
    for (size_t i = 0; i < k->n;) {
        if (k->v[i].n < (uint32_t)n && common(k->v[i].tokens, k->v[i].n, tokens, (uint32_t)n) == k->v[i].n) {
            snprintf(path, sizeof path, "%s/%s", k->dir, k->v[i].name);
            unlink(path);
            drop(k, i);
        } else {
            i++;
        }
    }
    if (!add(k, name, copy, (uint32_t)n)) hearth_free(copy);
    kvf_evict(k->dir, k->max_bytes, name, drop_name, k);
}

static int32_t kvs_restore(void *user, hearth_ctx *ctx, int32_t seq, const int32_t *prompt,
                           int32_t n_prompt, int32_t n_have) {
    hearth_kv_store *k = user;
    size_t best = SIZE_MAX;
    uint32_t best_c = (uint32_t)(n_have > 0 ? n_have : 0);
    for (size_t i = 0; i < k->n; i++) {
        uint32_t c = common(k->v[i].tokens, k->v[i].n, prompt, (uint32_t)n_prompt);
        if (c > best_c) best_c = c, best = i;
    }
    if (best == SIZE_MAX || best_c < 2) return 0;
    kvs_entry *en = &k->v[best];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", k->dir, en->name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        drop(k, best); /* evicted by another process */
        return 0;
    }
    int32_t *t = NULL;
    uint32_t tn = 0;
    int32_t got = 0;
    hearth_error e = {0};
    hearth_status st = HEARTH_OK;
    if (!kvf_read_head(k->model_hash, f, en->name, &t, &tn) || tn != en->n ||
        common(t, tn, en->tokens, en->n) != en->n) {
        st = HEARTH_E_FORMAT;
        snprintf(e.msg, sizeof e.msg, "'%s': its head does not match its name", en->name);
    }
    if (!st) {
        hearth_ctx_seq_clear(ctx, seq, NULL);
        st = hearth_ctx_seq_state_load_file(ctx, seq, f, &got, &e);
        if (!st && (uint32_t)got != tn) {
            st = HEARTH_E_FORMAT;
            snprintf(e.msg, sizeof e.msg, "'%s' holds %d positions for %u tokens", en->name, got, tn);
        }
    }
    fclose(f);
    hearth_free(t);
    if (!st && hearth_ctx_seq_truncate(ctx, seq, (int32_t)best_c, NULL) == HEARTH_OK) {
        utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
        return (int32_t)best_c;
    }
    hearth_ctx_seq_clear(ctx, seq, NULL);
    kvs_warn(k, "kv cache: not restored (%s); evaluating the history", e.msg);
    if (st == HEARTH_E_FORMAT) {
        unlink(path); /* a damaged file is of no further use */
        drop(k, best);
    }
    return 0;
}

hearth_sched_state_hooks hearth_kv_store_hooks(hearth_kv_store *k) {
    hearth_sched_state_hooks h = {0};
    if (k) h = (hearth_sched_state_hooks){kvs_save, kvs_restore, k};
    return h;
}
