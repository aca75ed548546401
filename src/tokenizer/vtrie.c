/*
 * vtrie.c: the byte trie of a vocabulary's pieces (see vtrie.h). Built from
 * the ids sorted by piece: the tokens under one node are a contiguous run of
 * that order, so each node is made from its run in one pass, children laid
 * out next to each other.
 */
#include "tokenizer/vtrie.h"

#include "tokenizer/tokenizer_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const hearth_tokenizer *tok;
    vtrie_node *nodes;
    uint32_t n_nodes, cap;
} builder;

static const uint8_t *piece(const hearth_tokenizer *t, int32_t id, uint32_t *len) {
    *len = t->piece_len[id];
    return (const uint8_t *)t->piece_blob + t->piece_off[id];
}

static int cmp_piece(const void *a, const void *b, void *arg) {
    const hearth_tokenizer *t = arg;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint32_t lx, ly;
    const uint8_t *px = piece(t, x, &lx), *py = piece(t, y, &ly);
    int c = memcmp(px, py, lx < ly ? lx : ly);
    if (c) return c;
    if (lx != ly) return lx < ly ? -1 : 1;
    return (x > y) - (x < y);
}

/* Fills node ni from ids[lo, hi), which share their first depth bytes. */
static void build(builder *b, const int32_t *ids, uint32_t lo, uint32_t hi, uint32_t depth,
                  uint32_t ni) {
    uint32_t len, i = lo;
    while (i < hi && (piece(b->tok, ids[i], &len), len == depth)) i++;
    b->nodes[ni].tok_first = lo;
    b->nodes[ni].n_tok = i - lo;
    /* count children */
    uint32_t nc = 0;
    for (uint32_t j = i; j < hi;) {
        uint8_t c = piece(b->tok, ids[j], &len)[depth];
        while (j < hi && piece(b->tok, ids[j], &len)[depth] == c) j++;
        nc++;
    }
    uint32_t first = b->n_nodes;
    b->n_nodes += nc;
    b->nodes[ni].first_child = first;
    b->nodes[ni].n_child = nc;
    uint32_t k = 0;
    for (uint32_t j = i; j < hi; k++) {
        uint8_t c = piece(b->tok, ids[j], &len)[depth];
        uint32_t s = j;
        while (j < hi && piece(b->tok, ids[j], &len)[depth] == c) j++;
        b->nodes[first + k].byte = c;
        build(b, ids, s, j, depth + 1, first + k);
    }
}

static hearth_vtrie *make(const hearth_tokenizer *t) {
    hearth_vtrie *v = hearth_calloc(1, sizeof *v);
    if (!v) return NULL;
    int32_t n = t->n_vocab;
    v->ids = hearth_malloc((size_t)n * sizeof *v->ids);
    v->long_ids = hearth_malloc((size_t)n * sizeof *v->long_ids);
    v->eog_ids = hearth_malloc((size_t)n * sizeof *v->eog_ids);
    if (!v->ids || !v->long_ids || !v->eog_ids) goto fail;
    size_t total = 1;
    for (int32_t id = 0; id < n; id++) {
        uint32_t len;
        piece(t, id, &len);
        if (t->eog[id]) v->eog_ids[v->n_eog++] = id;
        else if (t->types[id] == HEARTH_TOKEN_CONTROL || len == 0) continue;
        else if (len > VTRIE_MAX_DEPTH) v->long_ids[v->n_long++] = id;
        else {
            v->ids[v->n_ids++] = id;
            total += len;
        }
    }
    qsort_r(v->ids, v->n_ids, sizeof *v->ids, cmp_piece, (void *)t);
    builder b = {.tok = t, .cap = (uint32_t)total};
    b.nodes = hearth_calloc(total, sizeof *b.nodes);
    if (!b.nodes) goto fail;
    b.n_nodes = 1;
    build(&b, v->ids, 0, v->n_ids, 0, 0);
    vtrie_node *shrunk = hearth_realloc(b.nodes, (size_t)b.n_nodes * sizeof *b.nodes);
    v->nodes = shrunk ? shrunk : b.nodes;
    v->n_nodes = b.n_nodes;
    return v;
fail:
    hearth_vtrie_free(v);
    return NULL;
}

const hearth_vtrie *hearth_vtrie_get(const hearth_tokenizer *tok, hearth_error *err) {
    hearth_tokenizer *t = (hearth_tokenizer *)tok; /* only the atomic cache field is written */
    hearth_vtrie *v = atomic_load_explicit(&t->vtrie, memory_order_acquire);
    if (v) return v;
    hearth_vtrie *mine = make(tok);
    if (!mine) {
        HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary trie: out of memory");
        return NULL;
    }
    hearth_vtrie *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&t->vtrie, &expected, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    hearth_vtrie_free(mine); /* another thread published one first */
    return expected;
}

void hearth_vtrie_free(hearth_vtrie *v) {
    if (!v) return;
    hearth_free(v->nodes);
    hearth_free(v->ids);
    hearth_free(v->long_ids);
    hearth_free(v->eog_ids);
    hearth_free(v);
}
