/*
 * tokenize.c: hearth_tokenize. The text is cut at the special tokens that
 * may be matched (leftmost first, the longest one at a position): control
 * and unknown tokens only when the caller asks for special parsing, and
 * user-defined tokens always, except those that end a turn or are one of the
 * model's special ids. The raw text between them goes to the model's
 * encoder (bpe.c or spm.c).
 */
#include "tokenizer/tokenizer_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

/* Id of the special token that may be matched at s[0..n), or -1. */
static int32_t special_at(const hearth_tokenizer *t, const uint8_t *s, size_t n, bool parse_special) {
    uint8_t b = s[0];
    for (uint32_t k = t->spec_start[b]; k < t->spec_start[b + 1]; k++) {
        int32_t id = t->spec_ids[k];
        size_t l = t->text_len[id];
        if (l > n || memcmp(t->text_blob + t->text_off[id], s, l)) continue;
        if (!parse_special && t->protect[id]) continue;
        return id;
    }
    return -1;
}

/* Every raw fragment starts the text or follows a special token; SPM puts
 * its space prefix in front of each (as SentencePiece sees each fragment as
 * a text of its own). */
static bool encode_raw(const hearth_tokenizer *t, const uint8_t *s, size_t n,
                       hearth_tok_scratch *sc, hearth_idvec *out) {
    if (n == 0) return true;
    if (t->model == HEARTH_TOK_SPM)
        return hearth_spm_encode(t, s, n, t->add_space_prefix, sc, out);
    if (t->model == HEARTH_TOK_WPM) return hearth_wpm_encode(t, s, n, out);
    return hearth_bpe_encode(t, s, n, sc, out);
}

hearth_status hearth_tokenize(const hearth_tokenizer *t, const char *text, size_t len,
                              bool add_special, bool parse_special, int32_t **out_ids,
                              size_t *n_out, hearth_error *err) {
    return hearth_tok_tokenize(t, text, len, add_special, parse_special, out_ids, n_out, NULL,
                               err);
}

hearth_status hearth_tok_tokenize(const hearth_tokenizer *t, const char *text, size_t len,
                                  bool add_special, bool parse_special, int32_t **out_ids,
                                  size_t *n_out, hearth_tok_cache_stats *stats,
                                  hearth_error *err) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (out_ids) *out_ids = NULL;
    if (n_out) *n_out = 0;
    if (!t || !out_ids || !n_out || (!text && len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_tokenize: NULL argument");
    if (len > HEARTH_TOK_MAX_TEXT)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "hearth_tokenize: %zu bytes of text is more than "
                           "the %zu one call takes", len, HEARTH_TOK_MAX_TEXT);
    hearth_idvec out = {0};
    hearth_tok_scratch sc;
    memset(&sc, 0, sizeof sc);
    const uint8_t *s = (const uint8_t *)text;
    bool ok = true;
    if (add_special && t->add_bos) ok = hearth_idvec_push(&out, t->bos);
    size_t frag = 0;
    for (size_t i = 0; ok && i < len;) {
        uint8_t b = s[i];
        if (t->spec_start[b] == t->spec_start[b + 1]) {
            i++;
            continue;
        }
        int32_t id = special_at(t, s + i, len - i, parse_special);
        if (id < 0) {
            i++;
            continue;
        }
        ok = encode_raw(t, s + frag, i - frag, &sc, &out) && hearth_idvec_push(&out, id);
        i += t->text_len[id];
        frag = i;
    }
    if (ok) ok = encode_raw(t, s + frag, len - frag, &sc, &out);
    if (ok && add_special && t->add_eos) ok = hearth_idvec_push(&out, t->eos);
    if (ok && !out.v) ok = (out.v = hearth_malloc(sizeof(int32_t))) != NULL;
    if (stats) *stats = sc.cstats;
    hearth_tok_scratch_free(&sc);
    if (!ok) {
        hearth_free(out.v);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_tokenize: out of memory (%zu bytes of text)",
                           len);
    }
    *out_ids = out.v;
    *n_out = out.n;
    return HEARTH_OK;
}
