/*
 * detok.c: ids back to text. hearth_detokenize concatenates pieces as raw
 * bytes; the streaming hearth_detok holds back the bytes of an unfinished
 * UTF-8 character and replaces what can never become one with U+FFFD, so
 * every chunk it hands out is valid UTF-8 on its own.
 *
 * The SPM space rule: tokenizing puts "▁" in front of the text and of every
 * raw fragment after a special token; the first normal piece after such a
 * point loses one leading space again.
 */
#include "tokenizer/tokenizer_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

struct hearth_detok {
    const hearth_tokenizer *tok;
    bool render_special, text_start;
    bool strip_next;    /* SPM: drop one leading space of the next normal piece */
    uint8_t pend[4];    /* bytes of an unfinished character */
    size_t npend;
    char *buf;          /* output of the last call */
    size_t cap;
};

static bool is_special_type(hearth_token_type ty) {
    return ty == HEARTH_TOKEN_CONTROL || ty == HEARTH_TOKEN_UNKNOWN ||
           ty == HEARTH_TOKEN_USER_DEFINED;
}

/* The bytes id contributes given the strip state; updates *strip. */
static const char *piece_of(const hearth_tokenizer *t, int32_t id, bool render_special, bool *strip,
                            size_t *len) {
    hearth_token_type ty = (hearth_token_type)t->types[id];
    size_t n;
    const char *p = hearth_token_to_piece(t, id, &n);
    bool spm_rule = t->model == HEARTH_TOK_SPM && t->add_space_prefix;
    if ((ty == HEARTH_TOKEN_CONTROL || ty == HEARTH_TOKEN_UNKNOWN) && !render_special) n = 0;
    if (spm_rule && is_special_type(ty)) {
        *strip = true;
    } else if (n > 0) {
        if (*strip && spm_rule && (ty == HEARTH_TOKEN_NORMAL || ty == HEARTH_TOKEN_UNDEFINED) &&
            p[0] == ' ') {
            p++;
            n--;
        }
        *strip = false;
    }
    *len = n;
    return p;
}

hearth_status hearth_detokenize(const hearth_tokenizer *t, const int32_t *ids, size_t n,
                                bool render_special, char **out, size_t *len, hearth_error *err) {
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!t || !out || !len || (!ids && n))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detokenize: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detokenize: ids[%zu] = %d is outside the "
                               "vocabulary (%d tokens)", i, (int)ids[i], (int)t->n_vocab);
        total += t->piece_len[ids[i]];
    }
    char *buf = hearth_malloc(total + 1);
    if (!buf) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_detokenize: out of memory");
    size_t k = 0;
    bool strip = true;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *p = piece_of(t, ids[i], render_special, &strip, &l);
        memcpy(buf + k, p, l);
        k += l;
    }
    buf[k] = '\0';
    *out = buf;
    *len = k;
    return HEARTH_OK;
}

hearth_status hearth_detok_new(const hearth_tokenizer *tok, bool render_special, bool text_start,
                               hearth_detok **out, hearth_error *err) {
    if (out) *out = NULL;
    if (!tok || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detok_new: NULL argument");
    hearth_detok *d = hearth_calloc(1, sizeof *d);
    if (!d) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_detok_new: out of memory");
    d->tok = tok;
    d->render_special = render_special;
    d->text_start = text_start;
    d->strip_next = text_start;
    *out = d;
    return HEARTH_OK;
}

void hearth_detok_free(hearth_detok *d) {
    if (!d) return;
    hearth_free(d->buf);
    hearth_free(d);
}

void hearth_detok_reset(hearth_detok *d) {
    if (!d) return;
    d->npend = 0;
    d->strip_next = d->text_start;
}

/* Bytes needed for the character that lead byte c starts (0: c can not
 * start one), and the allowed range of the second byte. */
static int seq_len(uint8_t c, uint8_t *lo, uint8_t *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

/* Validates p[0..n) (pending bytes first) into d->buf; keeps an unfinished
 * tail in d->pend unless final. Output grows by at most 3 bytes per input
 * byte, so the caller sizes buf to 3 * (n + 4). */
static size_t emit(hearth_detok *d, const uint8_t *p, size_t n, bool final) {
    uint8_t tmp[4];
    size_t np = d->npend;
    memcpy(tmp, d->pend, np);
    d->npend = 0;
    char *o = d->buf;
    size_t k = 0;
    /* Reads byte j of the stream pend ++ p. */
#define AT(j) ((j) < np ? tmp[j] : p[(j) - np])
    size_t total = np + n, i = 0;
    while (i < total) {
        uint8_t c = AT(i), lo, hi;
        int need = seq_len(c, &lo, &hi);
        if (need == 1) {
            o[k++] = (char)c;
            i++;
            continue;
        }
        if (need == 0) {
            memcpy(o + k, fffd, 3);
            k += 3;
            i++;
            continue;
        }
        int got = 1;
        bool bad = false;
        while (got < need && i + (size_t)got < total) {
            uint8_t x = AT(i + (size_t)got);
            uint8_t l2 = got == 1 ? lo : 0x80, h2 = got == 1 ? hi : 0xBF;
            if (x < l2 || x > h2) {
                bad = true;
                break;
            }
            got++;
        }
        if (got == need) {
            for (int j = 0; j < need; j++) o[k++] = (char)AT(i + (size_t)j);
            i += (size_t)need;
        } else if (bad || final) {
            /* A maximal subpart that can not be completed: one U+FFFD. */
            memcpy(o + k, fffd, 3);
            k += 3;
            i += (size_t)got;
        } else {
            for (int j = 0; j < got; j++) d->pend[j] = AT(i + (size_t)j);
            d->npend = (size_t)got;
            i += (size_t)got;
        }
    }
#undef AT
    return k;
}

static bool buf_room(hearth_detok *d, size_t n) {
    size_t need = 3 * (n + 4) + 1;
    if (need <= d->cap) return true;
    char *b = hearth_realloc(d->buf, need);
    if (!b) return false;
    d->buf = b;
    d->cap = need;
    return true;
}

hearth_status hearth_detok_push(hearth_detok *d, int32_t id, const char **text, size_t *len,
                                hearth_error *err) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!d || !text || !len) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detok_push: NULL argument");
    const hearth_tokenizer *t = d->tok;
    if (id < 0 || id >= t->n_vocab)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detok_push: id %d is outside the vocabulary "
                           "(%d tokens)", (int)id, (int)t->n_vocab);
    if (!buf_room(d, t->piece_len[id]))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_detok_push: out of memory");
    size_t n;
    const char *p = piece_of(t, id, d->render_special, &d->strip_next, &n);
    size_t k = emit(d, (const uint8_t *)p, n, false);
    d->buf[k] = '\0';
    *text = d->buf;
    *len = k;
    return HEARTH_OK;
}

hearth_status hearth_detok_flush(hearth_detok *d, const char **text, size_t *len,
                                 hearth_error *err) {
    if (text) *text = "";
    if (len) *len = 0;
    if (!d || !text || !len)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_detok_flush: NULL argument");
    if (!buf_room(d, 0)) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_detok_flush: out of memory");
    size_t k = emit(d, NULL, 0, true);
    d->buf[k] = '\0';
    *text = d->buf;
    *len = k;
    hearth_detok_reset(d);
    return HEARTH_OK;
}
