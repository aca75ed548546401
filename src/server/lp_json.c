/*
 * lp_json.c: log-probabilities in OpenAI's JSON shapes (see lp_json.h). A
 * token's piece may be part of a UTF-8 character: "token" is then the valid
 * part with U+FFFD for each bad byte, and "bytes" (chat) the exact bytes.
 */
#include "server/lp_json.h"

#include "util/strbuf.h"
#include "util/utf8.h"

#include <math.h>

static json_t *lossy(const char *s, size_t n) {
    strbuf b;
    strbuf_init(&b);
    while (n) {
        size_t k = utf8_valid_prefix(s, n);
        strbuf_append(&b, s, k);
        if (k == n) break;
        strbuf_append(&b, "\xEF\xBF\xBD", 3);
        s += k + 1;
        n -= k + 1;
    }
    strbuf_append(&b, "", 0);
    json_t *j = b.failed ? NULL : json_stringn(b.p ? b.p : "", b.len);
    strbuf_discard(&b);
    return j;
}

static json_t *bytes_of(const char *s, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer((unsigned char)s[i]));
    return a;
}

/* -inf (an impossible alternative) is not JSON: OpenAI sends -9999 there. */
static json_t *num(float lp) { return json_real(isfinite(lp) ? lp : -9999.0); }

void srv_lp_init(srv_lp_acc *a, bool chat) {
    *a = (srv_lp_acc){.chat = chat};
}

void srv_lp_free(srv_lp_acc *a) {
    json_decref(a->items);
    json_decref(a->tokens);
    json_decref(a->token_lps);
    json_decref(a->tops);
    json_decref(a->offsets);
    *a = (srv_lp_acc){.chat = a->chat};
}

void srv_lp_add(srv_lp_acc *a, const char *tok, size_t len, float lp, const char *const *alt,
                const size_t *alt_len, const float *alt_lp, int n_alt) {
    if (a->failed) return;
    if (a->chat) {
        if (!a->items && !(a->items = json_array())) goto oom;
        json_t *tops = json_array();
        for (int i = 0; tops && i < n_alt; i++)
            json_array_append_new(tops, json_pack("{s:o, s:o, s:o}", "token", lossy(alt[i], alt_len[i]),
                                                  "logprob", num(alt_lp[i]), "bytes",
                                                  bytes_of(alt[i], alt_len[i])));
        json_t *e = tops ? json_pack("{s:o, s:o, s:o, s:o}", "token", lossy(tok, len), "logprob",
                                     num(lp), "bytes", bytes_of(tok, len), "top_logprobs", tops)
                         : NULL;
        if (!e || json_array_append_new(a->items, e)) goto oom;
        return;
    }
    if (!a->tokens) {
        a->tokens = json_array();
        a->token_lps = json_array();
        a->tops = json_array();
        a->offsets = json_array();
        if (!a->tokens || !a->token_lps || !a->tops || !a->offsets) goto oom;
    }
    json_t *top = json_object();
    for (int i = 0; top && i < n_alt; i++) {
        json_t *k = lossy(alt[i], alt_len[i]);
        if (k && !json_object_get(top, json_string_value(k)))
            json_object_set_new(top, json_string_value(k), num(alt_lp[i]));
        json_decref(k);
    }
    if (!top || json_array_append_new(a->tokens, lossy(tok, len)) ||
        json_array_append_new(a->token_lps, num(lp)) || json_array_append_new(a->tops, top) ||
        json_array_append_new(a->offsets, json_integer((json_int_t)a->off)))
        goto oom;
    a->off += len;
    return;
oom:
    a->failed = true;
}

json_t *srv_lp_take(srv_lp_acc *a) {
    if (a->failed) return json_null();
    json_t *o;
    if (a->chat) {
        o = json_pack("{s:o, s:n}", "content", a->items ? a->items : json_array(), "refusal");
        a->items = NULL;
    } else {
        o = json_pack("{s:o, s:o, s:o, s:o}", "tokens", a->tokens ? a->tokens : json_array(),
                      "token_logprobs", a->token_lps ? a->token_lps : json_array(), "top_logprobs",
                      a->tops ? a->tops : json_array(), "text_offset",
                      a->offsets ? a->offsets : json_array());
        a->tokens = a->token_lps = a->tops = a->offsets = NULL;
    }
    return o ? o : json_null();
}
