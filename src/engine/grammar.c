/*
 * grammar.c: the compiled grammar (flattening, reference and left-recursion
 * checks) and its incremental matcher.
 *
 * The matcher keeps the set of parse stacks alive after the bytes so far, as
 * llama.cpp does: a stack's top is the next terminal (a byte set) to match,
 * its tail the continuations of the rules it is inside. Taking a byte keeps
 * the stacks whose top matches, advances them past it and expands rule
 * references until every top is a terminal again; an alternative that ends
 * pops to its continuation, and popping the last one means the text is a
 * complete sentence (gset.accept). A reference in last position does not
 * push a continuation (tail calls), so right recursion such as x* runs in
 * constant depth. Stacks are immutable linked lists in a bump arena:
 * trying bytes allocates in scratch space that is rewound afterwards, and
 * committing copies the live stacks into a fresh arena, so memory stays the
 * size of the live state however long the generation.
 *
 * Identical stacks reached along different paths are merged (hash, then
 * structure), and a state of more than GSET_MAX stacks refuses the byte, so
 * an ambiguous grammar cannot blow up time or memory.
 */
#include "engine/grammar_int.h"

#include "tokenizer/vtrie.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

/* ---- building ------------------------------------------------------------ */

void hearth_grammar_free(hearth_grammar *g) {
    if (!g) return;
    hearth_free(g->el);
    hearth_free(g->alt_start);
    hearth_free(g->rule_alt);
    hearth_free(g->sets);
    hearth_free(g);
}

static const char *rule_name(const grule *rules, uint32_t r, char *buf, size_t n) {
    if (rules[r].name) return rules[r].name;
    snprintf(buf, n, "(synthesized rule %u)", r);
    return buf;
}

/* Left recursion: rule A reaches itself through references each of which is
 * preceded, in its alternative, only by references to nullable rules. */
static hearth_status check_left_recursion(const hearth_grammar *g, const grule *rules,
                                          hearth_error *err) {
    uint32_t nr = g->n_rules;
    uint8_t *nullable = hearth_calloc(nr ? nr : 1, 1);
    uint8_t *color = hearth_calloc(nr ? nr : 1, 1);
    /* DFS stack of (rule, alternative index, element index) */
    struct frame {
        uint32_t r, a, e;
    } *st = hearth_malloc((size_t)(nr ? nr : 1) * sizeof *st);
    hearth_status ret = HEARTH_OK;
    if (!nullable || !color || !st) {
        ret = HEARTH_FAIL(err, HEARTH_E_NOMEM, "grammar: out of memory");
        goto out;
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t r = 0; r < nr; r++) {
            if (nullable[r]) continue;
            for (uint32_t a = g->rule_alt[r]; a < g->rule_alt[r + 1] && !nullable[r]; a++) {
                const gelem *e = g->el + g->alt_start[a];
                while (e->kind == GE_REF && nullable[e->arg]) e++;
                if (e->kind == GE_END) {
                    nullable[r] = 1;
                    changed = true;
                }
            }
        }
    }
    /* color: 0 unseen, 1 on the DFS path, 2 done */
    for (uint32_t s = 0; s < nr && !ret; s++) {
        if (color[s]) continue;
        size_t top = 0;
        st[top++] = (struct frame){s, g->rule_alt[s], 0};
        color[s] = 1;
        while (top && !ret) {
            struct frame *f = &st[top - 1];
            if (f->a >= g->rule_alt[f->r + 1]) {
                color[f->r] = 2;
                top--;
                continue;
            }
            const gelem *e = g->el + g->alt_start[f->a] + f->e;
            if (e->kind != GE_REF) {
                f->a++;
                f->e = 0;
                continue;
            }
            /* the leading reference e: visit it, and move on past it only if
             * it is nullable */
            uint32_t t = e->arg;
            if (nullable[t]) f->e++;
            else {
                f->a++;
                f->e = 0;
            }
            if (color[t] == 1) {
                char b[48];
                ret = HEARTH_FAIL(err, HEARTH_E_ARG,
                                  "grammar: left recursion: rule '%s' can reach itself "
                                  "before any character",
                                  rule_name(rules, t, b, sizeof b));
            } else if (color[t] == 0) {
                color[t] = 1;
                st[top++] = (struct frame){t, g->rule_alt[t], 0};
            }
        }
    }
out:
    hearth_free(nullable);
    hearth_free(color);
    hearth_free(st);
    return ret;
}

hearth_status grammar_build(grule *rules, size_t n_rules, uint8_t (*sets)[32], uint32_t n_sets,
                            uint32_t root, hearth_grammar **out, hearth_error *err) {
    *out = NULL;
    size_t n_alts = 0, n_el = 0;
    for (size_t r = 0; r < n_rules; r++) {
        if (!rules[r].defined)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: rule '%s' is used but not defined",
                               rules[r].name);
        n_alts += rules[r].n;
        for (size_t a = 0; a < rules[r].n; a++) n_el += rules[r].alts[a].n + 1;
    }
    if (n_el > GRAMMAR_MAX_ELEMS + GRAMMAR_MAX_RULES || n_alts > UINT32_MAX / 2)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: too large");
    hearth_grammar *g = hearth_calloc(1, sizeof *g);
    if (!g) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "grammar: out of memory");
    g->el = hearth_malloc((n_el ? n_el : 1) * sizeof *g->el);
    g->alt_start = hearth_malloc((n_alts ? n_alts : 1) * sizeof *g->alt_start);
    g->rule_alt = hearth_malloc((n_rules + 1) * sizeof *g->rule_alt);
    g->sets = hearth_malloc((n_sets ? n_sets : 1) * sizeof *g->sets);
    if (!g->el || !g->alt_start || !g->rule_alt || !g->sets) {
        hearth_grammar_free(g);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "grammar: out of memory");
    }
    if (n_sets) memcpy(g->sets, sets, (size_t)n_sets * 32);
    g->n_sets = n_sets;
    g->n_rules = (uint32_t)n_rules;
    g->root = root;
    size_t ai = 0, ei = 0;
    for (size_t r = 0; r < n_rules; r++) {
        g->rule_alt[r] = (uint32_t)ai;
        for (size_t a = 0; a < rules[r].n; a++) {
            g->alt_start[ai++] = (uint32_t)ei;
            if (rules[r].alts[a].n)
                memcpy(g->el + ei, rules[r].alts[a].v, rules[r].alts[a].n * sizeof *g->el);
            ei += rules[r].alts[a].n;
            g->el[ei++] = (gelem){GE_END, 0};
        }
    }
    g->rule_alt[n_rules] = (uint32_t)ai;
    g->n_alts = (uint32_t)ai;
    g->n_el = ei;
    hearth_status st = check_left_recursion(g, rules, err);
    if (st) {
        hearth_grammar_free(g);
        return st;
    }
    *out = g;
    return HEARTH_OK;
}

/* ---- arena --------------------------------------------------------------- */

#define CHUNK_BYTES (64 * 1024)

struct achunk {
    achunk *prev;
    size_t used, cap;
    alignas(16) unsigned char data[];
};

static void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        achunk *c = NULL;
        if (a->spare && a->spare->cap >= n) {
            c = a->spare;
            a->spare = c->prev;
        } else {
            size_t cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
            c = hearth_malloc(sizeof *c + cap);
            if (!c) {
                a->failed = true;
                return NULL;
            }
            c->cap = cap;
        }
        c->used = 0;
        c->prev = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static arena_mark arena_get_mark(const arena *a) {
    return (arena_mark){a->head, a->head ? a->head->used : 0};
}

static void arena_rewind(arena *a, arena_mark m) {
    while (a->head && a->head != m.chunk) {
        achunk *c = a->head;
        a->head = c->prev;
        c->prev = a->spare;
        a->spare = c;
    }
    if (a->head) a->head->used = m.used;
}

static void arena_reset(arena *a) {
    arena_rewind(a, (arena_mark){NULL, 0});
    a->failed = false;
}

static void arena_free(arena *a) {
    arena_reset(a);
    while (a->spare) {
        achunk *c = a->spare;
        a->spare = c->prev;
        hearth_free(c);
    }
}

/* ---- stack sets ------------------------------------------------------------ */

static inline uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static bool stack_eq(const gnode *a, const gnode *b) {
    while (a != b) {
        if (!a || !b || a->pos != b->pos || a->h != b->h) return false;
        a = a->parent;
        b = b->parent;
    }
    return true;
}

/* A set under construction: v has room for GSET_MAX. */
typedef struct {
    const gnode **v;
    uint32_t n;
    bool accept, overflow;
} gbuild;

static void add_stack(gbuild *b, const gnode *s) {
    for (uint32_t i = 0; i < b->n; i++)
        if (b->v[i]->h == s->h && stack_eq(b->v[i], s)) return;
    if (b->n == GSET_MAX) {
        b->overflow = true;
        return;
    }
    b->v[b->n++] = s;
}

static const gnode *mk(arena *a, uint32_t pos, const gnode *parent) {
    gnode *n = arena_alloc(a, sizeof *n);
    if (!n) return NULL;
    n->pos = pos;
    n->parent = parent;
    n->h = mix(parent ? parent->h : 0x1234567ull, pos);
    return n;
}

/* Expands the stack (pos, parent) until every top is a terminal; adds the
 * results to b. existing: a node equal to (pos, parent), reused if pos is a
 * terminal. Iterative (a work list in the arena) so a long chain of rules
 * cannot exhaust the C stack. */
typedef struct {
    uint32_t pos;
    const gnode *parent, *existing;
} work;

/* The work list lives in m (reused by every expansion; expand is never
 * re-entered). */
static bool wpush(gmatch *m, size_t *n, work x) {
    if (*n == m->work_cap) {
        size_t nc = m->work_cap ? m->work_cap * 2 : 256;
        work *nv = hearth_realloc(m->work, nc * sizeof *nv);
        if (!nv) return false;
        m->work = nv;
        m->work_cap = nc;
    }
    ((work *)m->work)[(*n)++] = x;
    return true;
}

static bool expand(gmatch *m, arena *a, uint32_t pos, const gnode *parent, const gnode *existing,
                   gbuild *b) {
    const hearth_grammar *g = m->g;
    size_t n = 0;
    if (!wpush(m, &n, (work){pos, parent, existing})) return false;
    size_t steps = 0;
    while (n) {
        work x = ((work *)m->work)[--n];
        if (++steps > (size_t)1 << 20) return b->overflow = true, true;
        const gelem *e = &g->el[x.pos];
        if (e->kind == GE_END) {
            if (!x.parent) b->accept = true;
            else if (!wpush(m, &n, (work){x.parent->pos, x.parent->parent, x.parent})) return false;
        } else if (e->kind == GE_SET) {
            const gnode *s = x.existing ? x.existing : mk(a, x.pos, x.parent);
            if (!s) return false;
            add_stack(b, s);
        } else {
            const gnode *cont = x.parent;
            if (g->el[x.pos + 1].kind != GE_END && !(cont = mk(a, x.pos + 1, x.parent))) return false;
            uint32_t a0 = g->rule_alt[e->arg], a1 = g->rule_alt[e->arg + 1];
            /* pushed in reverse so alternatives come out in order */
            for (uint32_t k = a1; k > a0; k--)
                if (!wpush(m, &n, (work){g->alt_start[k - 1], cont, NULL})) return false;
        }
    }
    return true;
}

static bool set_has(const hearth_grammar *g, uint32_t pos, uint8_t byte) {
    const uint8_t *bits = g->sets[g->el[pos].arg];
    return bits[byte >> 3] >> (byte & 7) & 1;
}

/* The state after byte c from in, allocated in a. false: out of memory. */
static bool step(gmatch *m, arena *a, const gset *in, uint8_t c, gset *out) {
    const hearth_grammar *g = m->g;
    gbuild b = {.v = m->tmpv};
    for (uint32_t i = 0; i < in->n; i++) {
        const gnode *s = in->v[i];
        if (!set_has(g, s->pos, c)) continue;
        if (!expand(m, a, s->pos + 1, s->parent, NULL, &b)) return false;
    }
    if (b.overflow) b.n = 0, b.accept = false; /* too ambiguous: refuse the byte */
    const gnode **v = arena_alloc(a, (b.n ? b.n : 1) * sizeof *v);
    if (!v) return false;
    memcpy(v, b.v, b.n * sizeof *v);
    *out = (gset){v, b.n, b.accept};
    return true;
}

/* Copies the stacks of s into a (no sharing kept). */
static bool copy_set(arena *a, const gset *s, gset *out) {
    const gnode **v = arena_alloc(a, (s->n ? s->n : 1) * sizeof *v);
    if (!v) return false;
    for (uint32_t i = 0; i < s->n; i++) {
        size_t d = 0;
        for (const gnode *x = s->v[i]; x; x = x->parent) d++;
        gnode *nn = arena_alloc(a, d * sizeof *nn);
        if (!nn) return false;
        size_t k = 0;
        for (const gnode *x = s->v[i]; x; x = x->parent, k++) {
            nn[k] = *x;
            nn[k].parent = k + 1 < d ? &nn[k + 1] : NULL;
        }
        v[i] = nn;
    }
    *out = (gset){v, s->n, s->accept};
    return true;
}

/* ---- matcher ----------------------------------------------------------------- */

hearth_status gmatch_reset(gmatch *m, hearth_error *err) {
    arena_reset(&m->scratch);
    int nx = 1 - m->cur;
    arena_reset(&m->a[nx]);
    if (!m->tmpv && !(m->tmpv = hearth_malloc(GSET_MAX * sizeof *m->tmpv)))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "grammar: out of memory");
    gbuild b = {.v = m->tmpv};
    /* the root as a reference from an empty stack: (root, no parent) is
     * expanded through a one-off REF element would need a slot in el, so
     * expand its alternatives directly */
    const hearth_grammar *g = m->g;
    bool ok = true;
    for (uint32_t k = g->rule_alt[g->root]; ok && k < g->rule_alt[g->root + 1]; k++)
        ok = expand(m, &m->a[nx], g->alt_start[k], NULL, NULL, &b);
    const gnode **v = ok ? arena_alloc(&m->a[nx], (b.n ? b.n : 1) * sizeof *v) : NULL;
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "grammar: out of memory");
    memcpy(v, b.v, b.n * sizeof *v);
    if (b.overflow) return HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: too ambiguous at its start");
    arena_reset(&m->a[m->cur]);
    m->cur = nx;
    m->state = (gset){v, b.n, b.accept};
    return HEARTH_OK;
}

hearth_status gmatch_init(gmatch *m, const hearth_grammar *g, hearth_error *err) {
    memset(m, 0, sizeof *m);
    m->g = g;
    for (int i = 0; i < GMASK_CACHE; i++) m->mask[i].id = -1;
    hearth_status st = gmatch_reset(m, err);
    if (st) gmatch_free(m);
    return st;
}

void gmatch_free(gmatch *m) {
    if (!m) return;
    arena_free(&m->a[0]);
    arena_free(&m->a[1]);
    arena_free(&m->scratch);
    arena_free(&m->dfa);
    hearth_free(m->tmpv);
    hearth_free(m->work);
    hearth_free(m->ds);
    hearth_free(m->shash);
    hearth_free(m->tkey);
    hearth_free(m->tval);
    for (int i = 0; i < GMASK_CACHE; i++) hearth_free(m->mask[i].ids);
    memset(m, 0, sizeof *m);
}

/* Runs s over the state in scratch; *out the result. */
static bool run(gmatch *m, const uint8_t *s, size_t n, gset *out) {
    gset cur = m->state;
    for (size_t i = 0; i < n; i++) {
        if (!cur.n) return false;
        gset nx;
        if (!step(m, &m->scratch, &cur, s[i], &nx)) return false;
        cur = nx;
    }
    *out = cur;
    return cur.n || cur.accept;
}

bool gmatch_try(gmatch *m, const void *s, size_t n) {
    arena_mark mk0 = arena_get_mark(&m->scratch);
    gset r;
    bool ok = run(m, s, n, &r);
    arena_rewind(&m->scratch, mk0);
    return ok;
}

bool gmatch_accept(gmatch *m, const void *s, size_t n) {
    arena_reset(&m->scratch);
    gset r;
    if (!run(m, s, n, &r)) {
        arena_reset(&m->scratch);
        return false;
    }
    int nx = 1 - m->cur;
    arena_reset(&m->a[nx]);
    gset c;
    if (!copy_set(&m->a[nx], &r, &c)) {
        arena_reset(&m->scratch);
        return false;
    }
    arena_reset(&m->a[m->cur]);
    m->cur = nx;
    m->state = c;
    arena_reset(&m->scratch);
    return true;
}

/* ---- the full mask: a DFA of the states met, built as the walk goes ---- */

#define DFA_MAX_BYTES ((size_t)64 << 20) /* then the cache is flushed */

static void dfa_flush(gmatch *m) {
    for (int i = 0; i < GMASK_CACHE; i++) m->mask[i].id = -1;
    arena_reset(&m->dfa);
    m->dfa_bytes = 0;
    m->n_ds = 0;
    m->n_t = 0;
    if (m->shash) memset(m->shash, 0xff, m->shash_cap * sizeof *m->shash);
    if (m->tkey) memset(m->tkey, 0, m->t_cap * sizeof *m->tkey);
}

static uint64_t set_hash(const gset *s) {
    uint64_t h = s->accept ? 0x51ed27ull : 0x2545f491ull;
    for (uint32_t i = 0; i < s->n; i++) h += s->v[i]->h * 0x9e3779b97f4a7c15ull; /* order-free */
    return h ^ (h >> 29);
}

static bool set_eq(const gset *a, const gset *b) {
    if (a->n != b->n || a->accept != b->accept) return false;
    for (uint32_t i = 0; i < a->n; i++) {
        uint32_t j = 0;
        while (j < b->n && !(b->v[j]->h == a->v[i]->h && stack_eq(b->v[j], a->v[i]))) j++;
        if (j == b->n) return false;
    }
    return true;
}

/* Grows the tables so one more state and transition fit. */
static bool dfa_room(gmatch *m) {
    if (m->n_ds == m->cap_ds) {
        uint32_t cap = m->cap_ds ? m->cap_ds * 2 : 64;
        dstate *d = hearth_realloc(m->ds, cap * sizeof *d);
        if (!d) return false;
        m->ds = d;
        m->cap_ds = cap;
    }
    if (2 * (m->n_ds + 1) > m->shash_cap) {
        uint32_t cap = m->shash_cap ? m->shash_cap * 2 : 128;
        int32_t *t = hearth_malloc(cap * sizeof *t);
        if (!t) return false;
        memset(t, 0xff, cap * sizeof *t);
        for (uint32_t i = 0; i < m->n_ds; i++) {
            uint32_t k = (uint32_t)m->ds[i].h & (cap - 1);
            while (t[k] >= 0) k = (k + 1) & (cap - 1);
            t[k] = (int32_t)i;
        }
        hearth_free(m->shash);
        m->shash = t;
        m->shash_cap = cap;
    }
    if (2 * (m->n_t + 1) > m->t_cap) {
        uint32_t cap = m->t_cap ? m->t_cap * 2 : 1024;
        uint64_t *k2 = hearth_calloc(cap, sizeof *k2);
        int32_t *v2 = hearth_malloc(cap * sizeof *v2);
        if (!k2 || !v2) {
            hearth_free(k2);
            hearth_free(v2);
            return false;
        }
        for (uint32_t i = 0; i < m->t_cap; i++) {
            if (!m->tkey[i]) continue;
            uint32_t k = (uint32_t)(m->tkey[i] * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
            while (k2[k]) k = (k + 1) & (cap - 1);
            k2[k] = m->tkey[i];
            v2[k] = m->tval[i];
        }
        hearth_free(m->tkey);
        hearth_free(m->tval);
        m->tkey = k2;
        m->tval = v2;
        m->t_cap = cap;
    }
    return true;
}

/* The id of state s (copied into the cache if new), or -3 when the cache
 * cannot take it. */
static int32_t intern(gmatch *m, const gset *s) {
    if (!dfa_room(m)) return -3;
    uint64_t h = set_hash(s);
    uint32_t k = (uint32_t)h & (m->shash_cap - 1);
    for (; m->shash[k] >= 0; k = (k + 1) & (m->shash_cap - 1)) {
        const dstate *d = &m->ds[m->shash[k]];
        if (d->h == h && set_eq(&d->set, s)) return m->shash[k];
    }
    if (m->dfa_bytes > DFA_MAX_BYTES) return -3;
    gset c;
    arena_mark mk0 = arena_get_mark(&m->dfa);
    if (!copy_set(&m->dfa, s, &c)) {
        arena_rewind(&m->dfa, mk0);
        return -3;
    }
    size_t bytes = (s->n + 1) * (sizeof(gnode *) + 2 * sizeof(gnode));
    m->dfa_bytes += bytes;
    m->ds[m->n_ds] = (dstate){c, h};
    m->shash[k] = (int32_t)m->n_ds;
    return (int32_t)m->n_ds++;
}

/* The state after byte c from state id: an id, -1 (refused) or -3 (not
 * cached: out of room). */
static int32_t trans(gmatch *m, int32_t id, uint8_t c) {
    uint64_t key = ((uint64_t)(uint32_t)id << 8 | c) + 1;
    if (m->t_cap) {
        uint32_t k = (uint32_t)(key * 0x9e3779b97f4a7c15ull >> 32) & (m->t_cap - 1);
        for (; m->tkey[k]; k = (k + 1) & (m->t_cap - 1))
            if (m->tkey[k] == key) return m->tval[k];
    }
    arena_mark mk0 = arena_get_mark(&m->scratch);
    gset nx;
    int32_t r;
    if (!step(m, &m->scratch, &m->ds[id].set, c, &nx)) r = -3;
    else if (!nx.n && !nx.accept) r = -1;
    else r = intern(m, &nx);
    arena_rewind(&m->scratch, mk0);
    if (r == -3 || !dfa_room(m)) return -3;
    uint32_t k = (uint32_t)(key * 0x9e3779b97f4a7c15ull >> 32) & (m->t_cap - 1);
    while (m->tkey[k]) k = (k + 1) & (m->t_cap - 1);
    m->tkey[k] = key;
    m->tval[k] = r;
    m->n_t++;
    return r;
}

/* Depth-first over the trie below node ni, with the grammar state st
 * (uncached: the fallback when the cache is out of room). */
static void walk_plain(gmatch *m, const hearth_vtrie *t, uint32_t ni, const gset *st, int32_t *out,
                       size_t *n_out) {
    const vtrie_node *nd = &t->nodes[ni];
    for (uint32_t k = 0; k < nd->n_child; k++) {
        const vtrie_node *ch = &t->nodes[nd->first_child + k];
        arena_mark mk0 = arena_get_mark(&m->scratch);
        gset nx;
        if (step(m, &m->scratch, st, (uint8_t)ch->byte, &nx) && (nx.n || nx.accept)) {
            for (uint32_t j = 0; j < ch->n_tok; j++) out[(*n_out)++] = t->ids[ch->tok_first + j];
            if (nx.n && ch->n_child) walk_plain(m, t, nd->first_child + k, &nx, out, n_out);
        }
        arena_rewind(&m->scratch, mk0);
    }
}

/* The same with the state as a cached id. */
static void walk(gmatch *m, const hearth_vtrie *t, uint32_t ni, int32_t id, int32_t *out,
                 size_t *n_out) {
    const vtrie_node *nd = &t->nodes[ni];
    for (uint32_t k = 0; k < nd->n_child; k++) {
        const vtrie_node *ch = &t->nodes[nd->first_child + k];
        int32_t nx = trans(m, id, (uint8_t)ch->byte);
        if (nx == -1) continue;
        if (nx == -3) {
            /* out of room: this subtree the slow way */
            arena_mark mk0 = arena_get_mark(&m->scratch);
            gset st;
            if (step(m, &m->scratch, &m->ds[id].set, (uint8_t)ch->byte, &st) && (st.n || st.accept)) {
                for (uint32_t j = 0; j < ch->n_tok; j++) out[(*n_out)++] = t->ids[ch->tok_first + j];
                if (st.n && ch->n_child) walk_plain(m, t, nd->first_child + k, &st, out, n_out);
            }
            arena_rewind(&m->scratch, mk0);
            continue;
        }
        for (uint32_t j = 0; j < ch->n_tok; j++) out[(*n_out)++] = t->ids[ch->tok_first + j];
        if (m->ds[nx].set.n && ch->n_child) walk(m, t, nd->first_child + k, nx, out, n_out);
    }
}

size_t gmatch_allowed(gmatch *m, const hearth_vtrie *t, int32_t *out) {
    size_t n = 0;
    arena_reset(&m->scratch);
    if (!m->state.n) return 0;
    if (m->dfa_bytes > DFA_MAX_BYTES / 2) dfa_flush(m);
    int32_t id = intern(m, &m->state);
    for (int i = 0; id >= 0 && i < GMASK_CACHE; i++)
        if (m->mask[i].id == id) {
            m->mask[i].used = ++m->mask_clock;
            if (m->mask[i].n) memcpy(out, m->mask[i].ids, m->mask[i].n * sizeof *out);
            return m->mask[i].n;
        }
    if (id >= 0) walk(m, t, 0, id, out, &n);
    else walk_plain(m, t, 0, &m->state, out, &n);
    arena_reset(&m->scratch);
    if (id >= 0) {
        /* keep it in the least recently used slot */
        int w = 0;
        for (int i = 1; i < GMASK_CACHE; i++)
            if (m->mask[i].used < m->mask[w].used) w = i;
        if (n > m->mask[w].cap) {
            int32_t *k = hearth_realloc(m->mask[w].ids, n * sizeof *k);
            if (k) m->mask[w].ids = k, m->mask[w].cap = n;
        }
        m->mask[w].id = -1;
        if (n <= m->mask[w].cap) {
            if (n) memcpy(m->mask[w].ids, out, n * sizeof *out);
            m->mask[w].n = n;
            m->mask[w].id = id;
            m->mask[w].used = ++m->mask_clock;
        }
    }
    return n;
}
