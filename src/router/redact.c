/*
 * redact.c: the mapping of one request (redact_map) and redact_text, which
 * replaces what redact_find found with typed placeholders.
 *
 * The map has two open-addressing tables: (kind, original bytes) -> entry,
 * so the same value gets the same placeholder, and (kind, number) -> entry
 * or "reserved", so restore finds an entry by its placeholder and numbers
 * that the user typed ("[EMAIL_1]" in the input) are never handed out.
 *
 * Why redaction is reversible: a placeholder-shaped text in the output is
 * either one we inserted (its brackets cannot combine with neighbouring
 * bytes into another placeholder, as a placeholder holds no brackets inside)
 * or a copy of input bytes, whose number was reserved before any was given
 * out; a reserved number that an earlier text of the same map already gave
 * out is itself replaced by a fresh placeholder (an "escape" entry).
 */
#include "router/redact_int.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <string.h>

#define VAL_RESERVED 0xFFFFFFFFu
#define MAX_NUM 999999999u

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_value(redact_kind k, const char *v, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)k;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)v[i];
        h *= 0x100000001b3ull;
    }
    return mix(h);
}

static uint64_t num_key(redact_kind k, uint32_t num) { return (((uint64_t)k << 32) | num) + 1; }

void redact_map_init(redact_map *m) { memset(m, 0, sizeof *m); }

void redact_map_clear(redact_map *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) hearth_free(m->e[i].orig);
    hearth_free(m->e);
    hearth_free(m->vslots);
    hearth_free(m->nkeys);
    hearth_free(m->nvals);
    memset(m, 0, sizeof *m);
}

/* ---- (kind, value) table ---- */

static size_t vprobe(const redact_map *m, redact_kind k, const char *v, size_t n, bool *found) {
    size_t mask = m->nvslots - 1, i = (size_t)hash_value(k, v, n) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t s = m->vslots[i];
        if (!s) {
            *found = false;
            return i;
        }
        const redact_entry *e = &m->e[s - 1];
        if (e->kind == k && e->orig_len == n && !memcmp(e->orig, v, n)) {
            *found = true;
            return i;
        }
    }
}

/* Room for one more entry in the value table (load <= 1/2). */
static hearth_status vreserve(redact_map *m, hearth_error *err) {
    if (m->nvslots && (m->n + 1) * 2 <= m->nvslots) return HEARTH_OK;
    size_t ns = m->nvslots ? m->nvslots * 2 : 32;
    uint32_t *slots = hearth_calloc(ns, sizeof *slots);
    if (!slots) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    hearth_free(m->vslots);
    m->vslots = slots;
    m->nvslots = ns;
    for (size_t i = 0; i < m->n; i++) {
        bool found;
        size_t j = vprobe(m, m->e[i].kind, m->e[i].orig, m->e[i].orig_len, &found);
        m->vslots[j] = (uint32_t)i + 1;
    }
    return HEARTH_OK;
}

/* ---- (kind, number) table ---- */

static size_t nprobe(const redact_map *m, uint64_t key, bool *found) {
    size_t mask = m->nnslots - 1, i = (size_t)mix(key) & mask;
    for (;; i = (i + 1) & mask) {
        if (!m->nkeys[i]) {
            *found = false;
            return i;
        }
        if (m->nkeys[i] == key) {
            *found = true;
            return i;
        }
    }
}

/* The value stored for key, or 0 with *found false. */
static uint32_t nget(const redact_map *m, uint64_t key, bool *found) {
    if (!m->nnslots) {
        *found = false;
        return 0;
    }
    size_t i = nprobe(m, key, found);
    return *found ? m->nvals[i] : 0;
}

static hearth_status nput(redact_map *m, uint64_t key, uint32_t val, hearth_error *err) {
    if (!m->nnslots || (m->nnused + 1) * 2 > m->nnslots) {
        size_t ns = m->nnslots ? m->nnslots * 2 : 32;
        uint64_t *keys = hearth_calloc(ns, sizeof *keys);
        uint32_t *vals = hearth_calloc(ns, sizeof *vals);
        if (!keys || !vals) {
            hearth_free(keys);
            hearth_free(vals);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
        }
        uint64_t *ok = m->nkeys;
        uint32_t *ov = m->nvals;
        size_t on = m->nnslots;
        m->nkeys = keys;
        m->nvals = vals;
        m->nnslots = ns;
        for (size_t i = 0; i < on; i++) {
            if (!ok[i]) continue;
            bool f;
            size_t j = nprobe(m, ok[i], &f);
            m->nkeys[j] = ok[i];
            m->nvals[j] = ov[i];
        }
        hearth_free(ok);
        hearth_free(ov);
    }
    bool found;
    size_t i = nprobe(m, key, &found);
    if (!found) {
        m->nkeys[i] = key;
        m->nnused++;
    }
    m->nvals[i] = val;
    return HEARTH_OK;
}

/* ---- placeholders ---- */

size_t redact_parse_placeholder(const char *p, size_t n, redact_kind *kind, uint32_t *num,
                                bool *partial) {
    if (partial) *partial = false;
    if (!n || p[0] != '[') return 0;
    for (int k = 0; k < REDACT_KIND_COUNT; k++) {
        const char *name = redact_kind_name((redact_kind)k);
        size_t nl = strlen(name), i = 1, j = 0;
        while (j < nl && i < n && p[i] == name[j]) i++, j++;
        if (i == n) {
            if (partial && j <= nl) *partial = true;
            if (j < nl) continue;
            *kind = (redact_kind)k;
            return 0;
        }
        if (j < nl) continue;
        if (p[i] != '_') return 0;
        i++;
        *kind = (redact_kind)k;
        if (i == n) {
            if (partial) *partial = true;
            return 0;
        }
        if (p[i] < '1' || p[i] > '9') return 0;
        uint32_t v = 0;
        size_t d = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && d < 9) v = v * 10 + (uint32_t)(p[i] - '0'), i++, d++;
        *num = v;
        if (i == n) {
            if (partial) *partial = true;
            return 0;
        }
        if (p[i] != ']') return 0;
        return i + 1;
    }
    return 0;
}

size_t redact_placeholder(const redact_entry *e, char buf[32]) {
    int l = snprintf(buf, 32, "[%s_%u]", redact_kind_name(e->kind), e->num);
    return l > 0 ? (size_t)l : 0;
}

const redact_entry *redact_map_lookup(const redact_map *m, const char *ph, size_t len) {
    redact_kind k;
    uint32_t num;
    if (!m || !ph || redact_parse_placeholder(ph, len, &k, &num, NULL) != len || !len) return NULL;
    bool found;
    uint32_t v = nget(m, num_key(k, num), &found);
    return found && v != VAL_RESERVED ? &m->e[v] : NULL;
}

/* Calls fn for every placeholder-shaped text in text[0..len). */
typedef hearth_status (*lit_fn)(redact_map *m, size_t at, size_t len, redact_kind k, uint32_t num,
                                void *ud, hearth_error *err);

static hearth_status each_literal(redact_map *m, const char *text, size_t len, lit_fn fn, void *ud,
                                  hearth_error *err) {
    const char *p = text, *end = text + len;
    while (p < end && (p = memchr(p, '[', (size_t)(end - p)))) {
        redact_kind k;
        uint32_t num;
        size_t l = redact_parse_placeholder(p, (size_t)(end - p), &k, &num, NULL);
        if (l) {
            hearth_status st = fn(m, (size_t)(p - text), l, k, num, ud, err);
            if (st) return st;
            p += l;
        } else {
            p++;
        }
    }
    return HEARTH_OK;
}

static hearth_status reserve_one(redact_map *m, size_t at, size_t len, redact_kind k, uint32_t num,
                                 void *ud, hearth_error *err) {
    (void)at, (void)len, (void)ud;
    bool found;
    nget(m, num_key(k, num), &found);
    return found ? HEARTH_OK : nput(m, num_key(k, num), VAL_RESERVED, err);
}

hearth_status redact_map_reserve(redact_map *m, const char *text, size_t len, hearth_error *err) {
    if (!m || (!text && len)) return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_map_reserve: NULL argument");
    return each_literal(m, text, len, reserve_one, NULL, err);
}

/* The entry for (k, value): the existing one, or a new one with the next
 * free number. */
static hearth_status assign(redact_map *m, redact_kind k, const char *v, size_t n, bool escape,
                            uint32_t *idx, hearth_error *err) {
    hearth_status st = vreserve(m, err);
    if (st) return st;
    bool found;
    size_t slot = vprobe(m, k, v, n, &found);
    if (found) {
        *idx = m->vslots[slot] - 1;
        return HEARTH_OK;
    }
    if (m->n >= 0x7FFFFFFF) return HEARTH_FAIL(err, HEARTH_E_LIMIT, "redact: too many entries");
    uint32_t num = m->next[k] ? m->next[k] : 1;
    for (;;) {
        if (num > MAX_NUM) return HEARTH_FAIL(err, HEARTH_E_LIMIT, "redact: placeholder numbers exhausted");
        bool taken;
        nget(m, num_key(k, num), &taken);
        if (!taken) break;
        num++;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        redact_entry *e = hearth_realloc(m->e, cap * sizeof *e);
        if (!e) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
        m->e = e;
        m->cap = cap;
    }
    char *copy = hearth_strndup(v, n);
    if (!copy) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    st = nput(m, num_key(k, num), (uint32_t)m->n, err);
    if (st) {
        hearth_free(copy);
        return st;
    }
    m->e[m->n] = (redact_entry){k, num, copy, n, escape};
    m->vslots[slot] = (uint32_t)m->n + 1;
    *idx = (uint32_t)m->n;
    m->n++;
    m->next[k] = num + 1;
    if (num > m->maxnum[k]) m->maxnum[k] = num;
    return HEARTH_OK;
}

typedef struct {
    redact_span *v;
    size_t n, cap;
} span_list;

/* First pass over the literals: reserve the free ones, collect the ones
 * that clash with a number given out before (to escape them). */
static hearth_status literal_pass(redact_map *m, size_t at, size_t len, redact_kind k, uint32_t num,
                                  void *ud, hearth_error *err) {
    span_list *l = ud;
    bool found;
    uint32_t v = nget(m, num_key(k, num), &found);
    if (!found) return nput(m, num_key(k, num), VAL_RESERVED, err);
    if (v == VAL_RESERVED) return HEARTH_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        redact_span *nv = hearth_realloc(l->v, cap * sizeof *nv);
        if (!nv) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = (redact_span){at, at + len, k};
    return HEARTH_OK;
}

hearth_status redact_text(const redact_config *c, redact_map *m, const char *text, size_t len,
                          char **out, size_t *out_len, hearth_error *err) {
    if (!c || !m || !out || (!text && len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_text: NULL argument");
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!text) text = "";
    span_list esc = {0};
    redact_span *sp = NULL;
    size_t nsp = 0;
    hearth_status st = each_literal(m, text, len, literal_pass, &esc, err);
    if (!st) st = redact_find(c, text, len, &sp, &nsp, err);
    strbuf b;
    strbuf_init(&b);
    size_t pos = 0, i = 0, j = 0;
    while (!st && (i < nsp || j < esc.n)) {
        /* next span from either sorted list; merge overlaps into a union */
        bool from_esc = j < esc.n && (i >= nsp || esc.v[j].start < sp[i].start);
        redact_span cur = from_esc ? esc.v[j++] : sp[i++];
        bool escape = from_esc;
        for (;;) {
            if (i < nsp && sp[i].start < cur.end) {
                if (sp[i].end - sp[i].start > cur.end - cur.start) cur.kind = sp[i].kind;
                if (sp[i].end > cur.end) cur.end = sp[i].end;
                escape = false;
                i++;
            } else if (j < esc.n && esc.v[j].start < cur.end) {
                if (esc.v[j].end > cur.end) cur.end = esc.v[j].end;
                j++;
            } else {
                break;
            }
        }
        if (cur.start < pos) cur.start = pos; /* cannot happen: lists are disjoint and sorted */
        uint32_t idx = 0;
        st = assign(m, cur.kind, text + cur.start, cur.end - cur.start, escape, &idx, err);
        if (st) break;
        char ph[32];
        size_t pl = redact_placeholder(&m->e[idx], ph);
        strbuf_append(&b, text + pos, cur.start - pos);
        strbuf_append(&b, ph, pl);
        pos = cur.end;
        if (!escape) m->counts[cur.kind]++;
    }
    hearth_free(sp);
    hearth_free(esc.v);
    if (st) {
        strbuf_discard(&b);
        return st;
    }
    strbuf_append(&b, text + pos, len - pos);
    size_t ol;
    char *res = strbuf_finish(&b, &ol);
    if (!res) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    *out = res;
    if (out_len) *out_len = ol;
    return HEARTH_OK;
}
