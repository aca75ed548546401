/*
 * template_tokens.c: rendered template pieces -> token ids.
 *
 * Invariant that makes special-token injection impossible: text pieces
 * (message content above all) are tokenized with special-token parsing OFF;
 * the only control tokens in the output are the ones the template names,
 * inserted by id after looking their text up in the vocabulary. A control
 * piece whose text is not in the vocabulary (Llama 2's "[INST]" is plain
 * text there) is tokenized as text, as the reference templates do.
 * Consecutive text pieces are tokenized together so the token boundaries are
 * those of the rendered string.
 */
#include "agent/template.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

typedef struct {
    int32_t *v;
    size_t n, cap;
} ids;

static bool ids_push(ids *a, const int32_t *src, size_t n) {
    if (n > a->cap - a->n) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap - a->n < n) cap *= 2;
        int32_t *v = hearth_realloc(a->v, cap * sizeof *v);
        if (!v) return false;
        a->v = v;
        a->cap = cap;
    }
    memcpy(a->v + a->n, src, n * sizeof *src);
    a->n += n;
    return true;
}

typedef struct {
    char *v;
    size_t n, cap;
} bytes;

static bool bytes_push(bytes *b, const char *s, size_t n) {
    if (n + 1 > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n + 1) cap *= 2;
        char *v = hearth_realloc(b->v, cap);
        if (!v) return false;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v + b->n, s, n);
    b->n += n;
    b->v[b->n] = '\0';
    return true;
}

/* Tokenizes the pending text (parse_special off) onto out. */
static hearth_status flush(const hearth_tokenizer *tok, bytes *text, ids *out,
                           hearth_error *err) {
    if (text->n == 0) return HEARTH_OK;
    int32_t *t = NULL;
    size_t n = 0;
    hearth_status st = hearth_tokenize(tok, text->v, text->n, false, false, &t, &n, err);
    if (st) return st;
    bool ok = ids_push(out, t, n);
    hearth_free(t);
    text->n = 0;
    return ok ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
}

hearth_status hearth_template_render(hearth_template t, const hearth_tokenizer *tok,
                                     const hearth_chat_message *msgs, size_t n_msgs,
                                     int32_t **out_ids, size_t *n_out, hearth_error *err) {
    if (!tok || !out_ids || !n_out || (n_msgs && !msgs))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_template_render: NULL argument");
    *out_ids = NULL;
    *n_out = 0;
    bool bos = hearth_tokenizer_add_bos(tok) && hearth_token_bos(tok) >= 0;
    tmpl_pieces p;
    hearth_status st = tmpl_pieces_render(t, msgs, n_msgs, bos, &p, err);
    if (st) return st;
    ids out = {0};
    bytes text = {0};
    for (size_t i = 0; i < p.n && !st; i++) {
        const tmpl_piece *q = &p.v[i];
        int32_t id = -1;
        switch (q->kind) {
        case TP_TEXT: break;
        case TP_CTRL: id = hearth_token_find(tok, q->text, q->len); break;
        case TP_BOS: id = hearth_token_bos(tok); if (id < 0) continue; break;
        case TP_EOS: id = hearth_token_eos(tok); if (id < 0) continue; break;
        }
        if (id < 0) {
            if (!bytes_push(&text, q->text, q->len))
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
            continue;
        }
        st = flush(tok, &text, &out, err);
        if (!st && !ids_push(&out, &id, 1))
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
    }
    if (!st) st = flush(tok, &text, &out, err);
    tmpl_pieces_free(&p);
    hearth_free(text.v);
    if (!st && !out.v && !(out.v = hearth_malloc(sizeof(int32_t))))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
    if (st) {
        hearth_free(out.v);
        return st;
    }
    *out_ids = out.v;
    *n_out = out.n;
    return HEARTH_OK;
}
