/*
 * bpe.c: byte-level BPE ("gpt2" tokenizers). A fragment of raw text is
 * decoded to code points, split by the pre-tokenizer, and each piece's bytes
 * are merged: start from one symbol per byte (the token of that byte's
 * byte-level character), then repeatedly apply the adjacent merge of lowest
 * rank, the leftmost one on ties, until none applies. A heap keeps that
 * O(n log n) for long pieces; a per-call cache skips repeated words.
 */
#include "tokenizer/tokenizer_int.h"

#include "tokenizer/unicode.h"
#include "util/alloc.h"

#include <stdint.h>
#include <string.h>

bool hearth_idvec_push(hearth_idvec *v, int32_t id) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *p = hearth_realloc(v->v, cap * sizeof *p);
        if (!p) return false;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = id;
    return true;
}

void hearth_tok_scratch_free(hearth_tok_scratch *sc) {
    hearth_free(sc->cps);
    hearth_free(sc->offs);
    hearth_free(sc->ends);
    hearth_free(sc->tmp);
    hearth_free(sc->sid);
    hearth_free(sc->prev);
    hearth_free(sc->next);
    hearth_free(sc->start);
    hearth_free(sc->len);
    hearth_free(sc->heap);
    hearth_free(sc->esc);
    hearth_free(sc->cache);
    hearth_free(sc->cids.v);
    hearth_free(sc->cbytes);
    memset(sc, 0, sizeof *sc);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = hearth_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* Makes room for n symbols (and a heap of 2n entries). */
static bool sym_room(hearth_tok_scratch *sc, size_t n, size_t heap_elem) {
    if (n > sc->cap_sym) {
        size_t c = sc->cap_sym ? sc->cap_sym : 256;
        while (c < n) c *= 2;
        int32_t *a = hearth_realloc(sc->sid, c * sizeof(int32_t));
        if (!a) return false;
        sc->sid = a;
        if (!(a = hearth_realloc(sc->prev, c * sizeof(int32_t)))) return false;
        sc->prev = a;
        if (!(a = hearth_realloc(sc->next, c * sizeof(int32_t)))) return false;
        sc->next = a;
        uint32_t *u = hearth_realloc(sc->start, c * sizeof(uint32_t));
        if (!u) return false;
        sc->start = u;
        if (!(u = hearth_realloc(sc->len, c * sizeof(uint32_t)))) return false;
        sc->len = u;
        sc->cap_sym = c;
    }
    size_t hb = 2 * n + 8;
    return grow(&sc->heap, &sc->cap_heap, hb, heap_elem);
}

/* Min-heap of (rank << 32 | left). */
static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], v = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = (l + 1 < m && h[l + 1] < h[l]) ? l + 1 : l;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = v;
    return top;
}

static void try_pair(const hearth_tokenizer *t, hearth_tok_scratch *sc, uint64_t *h, size_t *hn,
                     int32_t l) {
    if (l < 0) return;
    int32_t r = sc->next[l];
    if (r < 0 || sc->sid[l] < 0 || sc->sid[r] < 0) return;
    int32_t res;
    int32_t rank = hearth_tok_merge(t, sc->sid[l], sc->sid[r], &res);
    if (rank < 0) return;
    heap_push(h, hn, ((uint64_t)(uint32_t)rank << 32) | (uint32_t)l);
}

#define SMALL_WORD 48

/* bpe_word for short words: a flat array of symbols with the rank of each
 * symbol's pair with the next one; each step scans for the lowest rank
 * (leftmost on ties), which beats a heap when n is small. */
static bool bpe_small(const hearth_tokenizer *t, const uint8_t *w, size_t n,
                      hearth_tok_scratch *sc, hearth_idvec *out) {
    int32_t *sid = sc->sid, *rank = sc->prev, *res = sc->next;
    for (size_t i = 0; i < n; i++) sid[i] = t->byte_id[w[i]];
    for (size_t i = 0; i + 1 < n; i++)
        rank[i] = (sid[i] < 0 || sid[i + 1] < 0) ? -1 : hearth_tok_merge(t, sid[i], sid[i + 1], &res[i]);
    rank[n - 1] = -1;
    for (;;) {
        size_t best = n;
        int32_t br = INT32_MAX;
        for (size_t i = 0; i + 1 < n; i++)
            if (rank[i] >= 0 && rank[i] < br) {
                br = rank[i];
                best = i;
            }
        if (best == n) break;
        sid[best] = res[best];
        /* Drop symbol best + 1. */
        memmove(sid + best + 1, sid + best + 2, (n - best - 2) * sizeof *sid);
        memmove(rank + best + 1, rank + best + 2, (n - best - 2) * sizeof *rank);
        memmove(res + best + 1, res + best + 2, (n - best - 2) * sizeof *res);
        n--;
        rank[n - 1] = -1;
        if (best > 0)
            rank[best - 1] = sid[best - 1] < 0 ? -1
                             : hearth_tok_merge(t, sid[best - 1], sid[best], &res[best - 1]);
        if (best + 1 < n)
            rank[best] = sid[best + 1] < 0 ? -1
                         : hearth_tok_merge(t, sid[best], sid[best + 1], &res[best]);
        else
            rank[best] = -1;
    }
    for (size_t i = 0; i < n; i++)
        if (sid[i] >= 0 && !hearth_idvec_push(out, sid[i])) return false;
    return true;
}

/* Merges the bytes w[0..n) into tokens appended to out. */
static bool bpe_word(const hearth_tokenizer *t, const uint8_t *w, size_t n, hearth_tok_scratch *sc,
                     hearth_idvec *out) {
    if (n == 1) {
        int32_t id = t->byte_id[w[0]];
        return id < 0 || hearth_idvec_push(out, id);
    }
    if (!sym_room(sc, n, sizeof(uint64_t))) return false;
    if (n <= SMALL_WORD) return bpe_small(t, w, n, sc, out);
    int32_t *sid = sc->sid, *prev = sc->prev, *next = sc->next;
    for (size_t i = 0; i < n; i++) {
        sid[i] = t->byte_id[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    uint64_t *h = sc->heap;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++) try_pair(t, sc, h, &hn, (int32_t)i);
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        int32_t l = (int32_t)(uint32_t)top, rank = (int32_t)(top >> 32);
        int32_t r = next[l];
        /* Stale entries: l was merged away (sid -2), or its pair changed. */
        if (sid[l] < 0 || r < 0 || sid[r] < 0) continue;
        int32_t res;
        if (hearth_tok_merge(t, sid[l], sid[r], &res) != rank) continue;
        sid[l] = res;
        sid[r] = -2;
        next[l] = next[r];
        if (next[r] >= 0) prev[next[r]] = l;
        try_pair(t, sc, h, &hn, prev[l]);
        try_pair(t, sc, h, &hn, l);
    }
    for (int32_t i = 0; i >= 0; i = next[i])
        if (sid[i] >= 0 && !hearth_idvec_push(out, sid[i])) return false;
    return true;
}

#define CACHE_MAX_WORD 48
/* The longest probe of the word cache. The cache is at most half full and
 * seeded, so chains are short; text crafted to collide anyway only makes
 * words skip the cache (it is only a cache), never a long walk. */
#define CACHE_MAX_PROBE 16

/* Cache lookup; on a hit appends the ids and returns 1; 0 on a miss; -1 on
 * allocation failure. */
static int cache_get(hearth_tok_scratch *sc, const uint8_t *w, size_t n, uint64_t hash,
                     hearth_idvec *out) {
    if (!sc->cache) return 0;
    sc->cstats.lookups++;
    uint32_t h = (uint32_t)hash & sc->cmask;
    for (uint32_t k = 1; k <= CACHE_MAX_PROBE; k++, h = (h + 1) & sc->cmask) {
        sc->cstats.probes++;
        if (k > sc->cstats.max_probe) sc->cstats.max_probe = k;
        const struct hearth_tok_cache_ent *e = &sc->cache[h];
        if (e->hash == 0) return 0;
        if (e->hash == hash && e->len == n && !memcmp(sc->cbytes + e->off, w, n)) {
            if (out->n + e->n > out->cap) {
                for (uint32_t j = 0; j < e->n; j++)
                    if (!hearth_idvec_push(out, sc->cids.v[e->pos + j])) return -1;
            } else {
                memcpy(out->v + out->n, sc->cids.v + e->pos, e->n * sizeof(int32_t));
                out->n += e->n;
            }
            return 1;
        }
    }
    return 0;
}

/* Remembers w -> ids; silently gives up when memory is short or the word's
 * probe chain is too long. */
static void cache_put(hearth_tok_scratch *sc, const uint8_t *w, size_t n, uint64_t hash,
                      const int32_t *ids, size_t nid) {
    if (!sc->cache) {
        /* Sized to the text: about one entry per 4 bytes, 256..2^17. */
        uint32_t cap = 256;
        while (cap < (1u << 17) && cap < sc->text_len / 4) cap <<= 1;
        sc->cache = hearth_calloc(cap, sizeof *sc->cache);
        if (!sc->cache) return;
        sc->cmask = cap - 1;
    }
    if (sc->cused * 2 >= sc->cmask) return; /* full enough: stop adding */
    uint32_t h = (uint32_t)hash & sc->cmask, k = 1;
    for (;; k++, h = (h + 1) & sc->cmask) {
        sc->cstats.probes++;
        if (k > sc->cstats.max_probe) sc->cstats.max_probe = k;
        if (!sc->cache[h].hash) break;
        if (k == CACHE_MAX_PROBE) {
            sc->cstats.skipped++;
            return;
        }
    }
    if (sc->ncbytes + n > UINT32_MAX || sc->cids.n + nid > UINT32_MAX) return;
    if (!grow((void **)&sc->cbytes, &sc->cap_cbytes, sc->ncbytes + n, 1)) return;
    size_t pos0 = sc->cids.n;
    for (size_t j = 0; j < nid; j++)
        if (!hearth_idvec_push(&sc->cids, ids[j])) {
            sc->cids.n = pos0;
            return;
        }
    memcpy(sc->cbytes + sc->ncbytes, w, n);
    struct hearth_tok_cache_ent *e = &sc->cache[h];
    e->hash = hash;
    e->off = (uint32_t)sc->ncbytes;
    e->len = (uint32_t)n;
    e->pos = (uint32_t)pos0;
    e->n = (uint32_t)nid;
    sc->ncbytes += n;
    sc->cused++;
}

static bool encode_piece(const hearth_tokenizer *t, const uint8_t *w, size_t n,
                         hearth_tok_scratch *sc, hearth_idvec *out) {
    if (t->ignore_merges && n <= HEARTH_TOK_MAX_TOKEN_LEN / 2) {
        /* Llama 3: a piece that is a token as a whole is taken as it is. */
        char buf[256];
        if (n * 2 <= sizeof buf) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                memcpy(buf + k, t->bc_utf8[w[i]], t->bc_len[w[i]]);
                k += t->bc_len[w[i]];
            }
            int32_t id = hearth_tok_lookup(t, buf, k);
            if (id >= 0 && !t->protect[id] && (t->types[id] == HEARTH_TOKEN_NORMAL ||
                                                t->types[id] == HEARTH_TOKEN_UNDEFINED))
                return hearth_idvec_push(out, id);
        }
    }
    if (n > CACHE_MAX_WORD || n == 1) return bpe_word(t, w, n, sc, out);
    uint64_t hash = hearth_tok_hash(t->seed, w, n);
    if (!hash) hash = 1;
    int c = cache_get(sc, w, n, hash, out);
    if (c) return c > 0;
    size_t before = out->n;
    if (!bpe_word(t, w, n, sc, out)) return false;
    /* out->v is NULL while nothing was pushed (every byte lacked a token). */
    if (out->n > before) cache_put(sc, w, n, hash, out->v + before, out->n - before);
    return true;
}

bool hearth_bpe_encode(const hearth_tokenizer *t, const uint8_t *s, size_t n,
                       hearth_tok_scratch *sc, hearth_idvec *out) {
    if (n == 0) return true;
    sc->text_len = n;
    if (n > sc->cap_cps) {
        size_t c = sc->cap_cps ? sc->cap_cps : 256;
        while (c < n) c *= 2;
        uint32_t *a;
        if (!(a = hearth_realloc(sc->cps, c * 4))) return false;
        sc->cps = a;
        if (!(a = hearth_realloc(sc->offs, (c + 1) * 4))) return false;
        sc->offs = a;
        if (!(a = hearth_realloc(sc->ends, c * 4))) return false;
        sc->ends = a;
        if (!(a = hearth_realloc(sc->tmp, c * 4))) return false;
        sc->tmp = a;
        sc->cap_cps = c;
    }
    uint32_t nc = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = hearth_utf8_decode(s + i, n - i, &cp);
        sc->cps[nc] = cp;
        sc->offs[nc] = (uint32_t)i;
        nc++;
        i += l;
    }
    sc->offs[nc] = (uint32_t)n;
    uint32_t np;
    hearth_pre_split(t->pre, sc->cps, nc, sc->ends, sc->tmp, &np);
    uint32_t a = 0;
    for (uint32_t p = 0; p < np; p++) {
        uint32_t b = sc->ends[p];
        size_t off = sc->offs[a];
        if (!encode_piece(t, s + off, sc->offs[b] - off, sc, out)) return false;
        a = b;
    }
    return true;
}
