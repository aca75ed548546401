/*
 * spm.c: SentencePiece-style BPE ("llama" tokenizers). Spaces become "▁"
 * (and one "▁" goes in front when add_space_prefix says so); the text starts
 * as one symbol per UTF-8 character (an invalid byte is a symbol of its own);
 * then the adjacent pair whose concatenation is the normal token of highest
 * score is merged, the leftmost on ties, until no pair is a token. A symbol
 * left that is not a token becomes its bytes' <0xNN> tokens (or unk).
 * Only normal tokens take part, so text never turns into a control token.
 */
#include "tokenizer/tokenizer_int.h"

#include "tokenizer/unicode.h"
#include "util/alloc.h"

#include <string.h>

typedef struct {
    float score;
    int32_t left, right;
    uint32_t size;
} bigram;

/* Max-heap on score; on equal scores the lower left index first. */
static bool before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(bigram *h, size_t *n, bigram v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&v, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static bigram heap_pop(bigram *h, size_t *n) {
    bigram top = h[0], v = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = (l + 1 < m && before(&h[l + 1], &h[l])) ? l + 1 : l;
        if (!before(&h[c], &v)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = v;
    return top;
}

static int32_t normal_token(const hearth_tokenizer *t, const uint8_t *s, size_t n) {
    int32_t id = hearth_tok_lookup(t, (const char *)s, n);
    if (id >= 0 && ((t->types[id] != HEARTH_TOKEN_NORMAL &&
                     t->types[id] != HEARTH_TOKEN_UNDEFINED) || t->protect[id]))
        return -1;
    return id;
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

static void try_pair(const hearth_tokenizer *t, const uint8_t *s, hearth_tok_scratch *sc,
                     bigram *h, size_t *hn, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    uint32_t size = sc->len[l] + sc->len[r];
    int32_t id = normal_token(t, s + sc->start[l], size);
    if (id < 0) return;
    bigram b = {t->scores[id], l, r, size};
    heap_push(h, hn, b);
}

bool hearth_spm_encode(const hearth_tokenizer *t, const uint8_t *s, size_t n, bool prefix_space,
                       hearth_tok_scratch *sc, hearth_idvec *out) {
    if (n == 0) return true;
    /* Escape: at most 3 bytes per input byte, plus the prefix. */
    size_t cap = n * 3 + 3;
    if (!grow((void **)&sc->esc, &sc->cap_esc, cap, 1)) return false;
    uint8_t *e = sc->esc;
    size_t m = 0;
    if (prefix_space) {
        memcpy(e, "\xe2\x96\x81", 3);
        m = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            memcpy(e + m, "\xe2\x96\x81", 3);
            m += 3;
        } else {
            e[m++] = s[i];
        }
    }
    /* Symbols: one per UTF-8 unit. */
    size_t nsym = 0;
    for (size_t i = 0; i < m; nsym++) {
        uint32_t cp;
        i += hearth_utf8_decode(e + i, m - i, &cp);
    }
    if (nsym > sc->cap_sym) {
        size_t c = sc->cap_sym ? sc->cap_sym : 256;
        while (c < nsym) c *= 2;
        int32_t *a;
        if (!(a = hearth_realloc(sc->sid, c * 4))) return false;
        sc->sid = a;
        if (!(a = hearth_realloc(sc->prev, c * 4))) return false;
        sc->prev = a;
        if (!(a = hearth_realloc(sc->next, c * 4))) return false;
        sc->next = a;
        uint32_t *u;
        if (!(u = hearth_realloc(sc->start, c * 4))) return false;
        sc->start = u;
        if (!(u = hearth_realloc(sc->len, c * 4))) return false;
        sc->len = u;
        sc->cap_sym = c;
    }
    if (!grow(&sc->heap, &sc->cap_heap, 2 * nsym + 8, sizeof(bigram))) return false;
    int32_t *prev = sc->prev, *next = sc->next;
    uint32_t *start = sc->start, *len = sc->len;
    size_t k = 0;
    for (size_t i = 0; i < m; k++) {
        uint32_t cp;
        size_t l = hearth_utf8_decode(e + i, m - i, &cp);
        start[k] = (uint32_t)i;
        len[k] = (uint32_t)l;
        prev[k] = (int32_t)k - 1;
        next[k] = k + 1 < nsym ? (int32_t)k + 1 : -1;
        i += l;
    }
    bigram *h = sc->heap;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < nsym; i++) try_pair(t, e, sc, h, &hn, (int32_t)i, (int32_t)i + 1);
    while (hn) {
        bigram b = heap_pop(h, &hn);
        int32_t l = b.left, r = b.right;
        /* Stale: one side already merged (len 0) or changed size. */
        if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size || next[l] != r) continue;
        len[l] += len[r];
        len[r] = 0;
        next[l] = next[r];
        if (next[r] >= 0) prev[next[r]] = l;
        try_pair(t, e, sc, h, &hn, prev[l], l);
        try_pair(t, e, sc, h, &hn, l, next[l]);
    }
    for (int32_t i = 0; i >= 0; i = next[i]) {
        int32_t id = normal_token(t, e + start[i], len[i]);
        if (id >= 0) {
            if (!hearth_idvec_push(out, id)) return false;
            continue;
        }
        /* Byte fallback; a symbol with a byte the vocabulary has no <0xNN>
         * for becomes one unknown token as a whole (dropped without one), so
         * no byte token stands for part of a character. */
        bool all = true;
        for (uint32_t j = 0; j < len[i] && all; j++) all = t->byte_id[e[start[i] + j]] >= 0;
        if (!all) {
            if (t->unk_fallback >= 0 && !hearth_idvec_push(out, t->unk_fallback)) return false;
            continue;
        }
        for (uint32_t j = 0; j < len[i]; j++)
            if (!hearth_idvec_push(out, t->byte_id[e[start[i] + j]])) return false;
    }
    return true;
}
