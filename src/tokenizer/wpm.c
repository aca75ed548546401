/*
 * wpm.c: the WordPiece encoder of BERT vocabularies (tokenizer.ggml.model
 * "bert"), as llama.cpp's converter writes them: a token that starts a word
 * is stored with a "▁" in front ("▁hello"), a continuation without BERT's
 * "##" ("llo").
 *
 * Normalizing (BERT's uncased basic tokenizer): each code point is mapped to
 * the first code point of its NFD form (accents go) and lowercased; control
 * characters (Cc, Cf, Cs, Co), NUL and U+FFFD are dropped; white space ends
 * a word; punctuation, ASCII symbols and CJK ideographs are words of their
 * own. Each word then becomes the longest vocabulary matches from its start
 * ("▁" + word), greedily; a word with any part that matches nothing becomes
 * the one unknown token, and so does a word of more than WPM_MAX_WORD code
 * points (BERT's max_input_chars_per_word; llama.cpp has no such limit, but
 * it keeps the work per word bounded: at most (word bytes) x (longest token)
 * lookups, whatever the vocabulary holds).
 */
#include "tokenizer/tokenizer_int.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wpm.h"

#include "util/alloc.h"

#include <string.h>

/* The run of tab (n sorted runs) holding cp, or NULL. */
static const uint32_t *find_run(const uint32_t (*tab)[3], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < tab[mid][0]) hi = mid;
        else if (cp > tab[mid][1]) lo = mid + 1;
        else return tab[mid];
    }
    return NULL;
}

static uint32_t map_cp(const uint32_t (*tab)[3], size_t n, uint32_t cp) {
    const uint32_t *r = find_run(tab, n, cp);
    return r ? r[2] : cp;
}

static bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

enum { WPM_MAX_WORD = 100 };

/* A growable byte buffer for the normalized words. */
typedef struct {
    char *p;
    size_t n, cap;
} bytes;

static bool put(bytes *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n) cap *= 2;
        char *q = hearth_realloc(b->p, cap);
        if (!q) return false;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return true;
}

/* One word (its normalized bytes w[0..n)), as the greedy longest matches of
 * "▁" + word; the unknown token if any part matches nothing. */
static bool encode_word(const hearth_tokenizer *t, bytes *tmp, const char *w, size_t n,
                        size_t n_cps, hearth_idvec *out) {
    if (n_cps > WPM_MAX_WORD) return t->unk < 0 || hearth_idvec_push(out, t->unk);
    tmp->n = 0;
    if (!put(tmp, "\xe2\x96\x81", 3) || !put(tmp, w, n)) return false;
    const char *s = tmp->p;
    size_t len = tmp->n, start = out->n;
    for (size_t i = 0; i < len;) {
        size_t j = len - i < (size_t)t->max_tok_len ? len : i + t->max_tok_len;
        int32_t id = -1;
        for (; j > i; j--)
            if ((id = hearth_tok_lookup(t, s + i, j - i)) >= 0) break;
        if (id < 0) {
            out->n = start;
            break;
        }
        if (!hearth_idvec_push(out, id)) return false;
        i = j;
    }
    if (out->n == start && t->unk >= 0) return hearth_idvec_push(out, t->unk);
    return true;
}

bool hearth_wpm_encode(const hearth_tokenizer *t, const uint8_t *s, size_t n, hearth_idvec *out) {
    bytes word = {0}, tmp = {0};
    size_t cps = 0; /* code points in word */
    bool ok = true;
    for (size_t i = 0; ok && i < n;) {
        uint32_t cp;
        i += hearth_utf8_decode(s + i, n - i, &cp);
        if (cp >= 0x110000u) continue; /* an invalid byte: dropped, as U+FFFD is */
        cp = map_cp(hearth_wpm_nfd, hearth_wpm_n_nfd, cp);
        unsigned fl = hearth_uc_flags(cp);
        if (fl & HEARTH_UC_WS) {
            if (word.n) ok = encode_word(t, &tmp, word.p, word.n, cps, out);
            word.n = cps = 0;
            continue;
        }
        if (cp == 0 || cp == 0xFFFD || find_run(hearth_wpm_control, hearth_wpm_n_control, cp))
            continue;
        char u[4];
        size_t ul = hearth_utf8_encode(map_cp(hearth_wpm_lower, hearth_wpm_n_lower, cp), u);
        if ((fl & HEARTH_UC_P) || (cp < 0x7F && (fl & HEARTH_UC_S)) || is_cjk(cp)) {
            if (word.n) ok = encode_word(t, &tmp, word.p, word.n, cps, out);
            word.n = cps = 0;
            if (ok) ok = encode_word(t, &tmp, u, ul, 1, out);
        } else {
            ok = put(&word, u, ul);
            cps++;
        }
    }
    if (ok && word.n) ok = encode_word(t, &tmp, word.p, word.n, cps, out);
    hearth_free(word.p);
    hearth_free(tmp.p);
    return ok;
}
