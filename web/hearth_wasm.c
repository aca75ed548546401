/*
 * hearth_wasm.c: the C side of the browser worker (web/hearth-worker.js),
 * compiled by emscripten with the engine's layers of libhearth (web/
 * CMakeLists.txt). It uses include/hearth.h (and, as the CLI, kernels/dot.h
 * for the kernel's name).
 *
 * Generation is driven one token per call (hw_begin, then hw_step until it
 * says done) rather than through hearth_generate's callback: the worker
 * returns to its event loop between tokens, so a CANCEL message is seen and
 * each TOKEN is posted as soon as it exists, with no Asyncify. The loop is
 * the one hearth_generate runs: the prompt's tokens are part of the
 * sampler's history, a token is sampled from the last logits, an
 * end-of-generation token ends without being reported, and the token that
 * ends generation (EOG, max_tokens, a full sequence) is not evaluated.
 * Sequence 0's KV cache is kept between generations, and the part of a new
 * prompt it already holds is not evaluated again (begin). hw_embed gives the
 * model's embedding of a text (it reuses sequence 0).
 *
 * Every function takes the hw_session the worker got from hw_open (no global
 * state). Strings returned are borrowed from the session until its next
 * call. One thread (the worker's) per session.
 */
#include "hearth.h"
#include "kernels/dot.h" /* hearth_dot_impl_name, as src/cli/main.c */
#include "security/blake2b.h" /* minisign's prehash (WebCrypto has no BLAKE2b) */

#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hearth_model *model;
    hearth_ctx *ctx;
    const hearth_tokenizer *tok;
    hearth_template tmpl;
    hearth_sampler *sampler;
    hearth_detok *detok;
    hearth_error err;
    /* the generation in flight */
    int32_t max_tokens;
    int32_t n_prompt, n_gen;
    double prompt_ms, gen_ms;
    bool done;
    const char *finish;
    char *text;        /* the text the last step released, NUL-terminated */
    size_t text_cap;
    /* the tokens sequence 0 holds (its KV cache): a prompt that starts
     * with them is evaluated from where they end (a chat's next turn
     * re-sends the whole history) */
    int32_t *kv;
    size_t n_kv, kv_cap;
    int32_t n_reused;  /* prompt tokens of the generation in flight found there */
} hw_session;

/* Records id as evaluated into sequence 0. False when out of memory (the
 * record is then dropped: nothing will be reused). */
static bool kv_push(hw_session *s, const int32_t *ids, size_t n) {
    if (s->n_kv + n > s->kv_cap) {
        size_t cap = s->kv_cap ? s->kv_cap : 256;
        while (cap < s->n_kv + n) cap *= 2;
        int32_t *p = realloc(s->kv, cap * sizeof *p);
        if (!p) {
            s->n_kv = 0;
            return false;
        }
        s->kv = p;
        s->kv_cap = cap;
    }
    memcpy(s->kv + s->n_kv, ids, n * sizeof *ids);
    s->n_kv += n;
    return true;
}

static int fail(hw_session *s, hearth_status st, const char *what) {
    if (st != HEARTH_OK && !s->err.msg[0])
        snprintf(s->err.msg, sizeof s->err.msg, "%s: %s", what, hearth_status_str(st));
    s->err.code = st;
    return (int)st;
}

/* Opens the GGUF file at path (in the module's file system) with a context of
 * n_ctx positions (0: the engine's default) and n_threads threads. OUT: NULL
 * on failure with the reason in *code and msg (msg_len bytes); else the
 * session (hw_close). */
EMSCRIPTEN_KEEPALIVE hw_session *hw_open(const char *path, int n_ctx, int n_threads, int *code,
                                         char *msg, int msg_len) {
    hw_session *s = calloc(1, sizeof *s);
    hearth_status st = HEARTH_E_NOMEM;
    if (!s) goto fail;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = n_threads > 0 ? n_threads : 1;
    mp.use_mmap = false; /* a MEMFS file: read once, then the worker unlinks it */
    if ((st = hearth_model_open(path, &mp, &s->model, &s->err))) goto fail;
    s->tok = hearth_model_tokenizer(s->model);
    if (!s->tok) {
        st = HEARTH_E_FORMAT;
        snprintf(s->err.msg, sizeof s->err.msg, "%s has no tokenizer", path);
        goto fail;
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = mp.n_threads;
    if ((st = hearth_ctx_new(s->model, &cp, &s->ctx, &s->err))) goto fail;
    s->tmpl = hearth_template_detect(hearth_model_chat_template(s->model), NULL);
    return s;
fail:
    *code = (int)st;
    snprintf(msg, (size_t)msg_len, "%s", s && s->err.msg[0] ? s->err.msg : hearth_status_str(st));
    if (s) {
        hearth_ctx_free(s->ctx);
        hearth_model_free(s->model);
        free(s);
    }
    return NULL;
}

EMSCRIPTEN_KEEPALIVE void hw_close(hw_session *s) {
    if (!s) return;
    hearth_detok_free(s->detok);
    hearth_sampler_free(s->sampler);
    hearth_ctx_free(s->ctx);
    hearth_model_free(s->model);
    free(s->text);
    free(s->kv);
    free(s);
}

/* Accessors, all borrowed from the session: the last error (message, status),
 * the model's general.name, its chat template family. */
EMSCRIPTEN_KEEPALIVE const char *hw_error(hw_session *s) { return s->err.msg; }
EMSCRIPTEN_KEEPALIVE int hw_error_code(hw_session *s) { return (int)s->err.code; }
EMSCRIPTEN_KEEPALIVE const char *hw_model_name(hw_session *s) { return hearth_model_name(s->model); }
EMSCRIPTEN_KEEPALIVE const char *hw_template_name(hw_session *s) {
    return hearth_template_name(s->tmpl);
}

/* Starts a generation from prompt ids (owned by the caller): the sampler
 * made, and the prompt evaluated after the longest prefix of it that
 * sequence 0 already holds (at least its last token is evaluated: its
 * logits start the generation). Every generation stands alone otherwise: a
 * chat renders its whole history, and finds most of it here. */
static int begin(hw_session *s, const int32_t *prompt, size_t n, int max_tokens, float temp,
                 float top_p, double seed) {
    hearth_status st;
    s->err.msg[0] = 0;
    s->err.code = HEARTH_OK;
    s->n_prompt = (int32_t)n;
    s->n_gen = 0;
    s->prompt_ms = s->gen_ms = 0;
    s->done = false;
    s->finish = "none";
    s->max_tokens = max_tokens;
    if (n == 0) {
        snprintf(s->err.msg, sizeof s->err.msg, "the prompt gives no tokens");
        return fail(s, HEARTH_E_ARG, "prompt");
    }
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temp = temp;
    sp.top_p = top_p;
    sp.seed = seed < 0 ? HEARTH_SEED_RANDOM : (uint64_t)seed;
    hearth_sampler_free(s->sampler);
    s->sampler = NULL;
    hearth_detok_free(s->detok);
    s->detok = NULL;
    if ((st = hearth_sampler_new(&sp, hearth_model_n_vocab(s->model), &s->sampler, &s->err)) ||
        (st = hearth_detok_new(s->tok, false, false, &s->detok, &s->err)))
        return fail(s, st, "begin");
    size_t keep = 0;
    while (keep < s->n_kv && keep + 1 < n && s->kv[keep] == prompt[keep]) keep++;
    if ((st = hearth_ctx_seq_truncate(s->ctx, 0, (int32_t)keep, &s->err))) {
        s->n_kv = 0;
        hearth_ctx_seq_clear(s->ctx, 0, NULL);
        return fail(s, st, "begin");
    }
    s->n_kv = keep;
    s->n_reused = (int32_t)keep;
    for (size_t i = 0; i < n; i++) hearth_sampler_accept(s->sampler, prompt[i]);
    double t0 = emscripten_get_now();
    st = hearth_ctx_eval(s->ctx, 0, prompt + keep, (int32_t)(n - keep), &s->err);
    s->prompt_ms = emscripten_get_now() - t0;
    if (st) {
        s->n_kv = 0;
        hearth_ctx_seq_clear(s->ctx, 0, NULL);
        return fail(s, st, "prompt");
    }
    kv_push(s, prompt + keep, n - keep);
    return HEARTH_OK;
}

/* A raw prompt (no chat template; special tokens parsed, BOS as the
 * tokenizer asks): what `hearth run --raw` generates from. seed < 0:
 * random. Returns a hearth_status (hw_error says why). */
EMSCRIPTEN_KEEPALIVE int hw_begin_raw(hw_session *s, const char *prompt, int max_tokens,
                                      float temp, float top_p, double seed) {
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_status st = hearth_tokenize(s->tok, prompt, strlen(prompt), true, true, &ids, &n,
                                       &s->err);
    if (st) return fail(s, st, "tokenize");
    int rc = begin(s, ids, n, max_tokens, temp, top_p, seed);
    hearth_free(ids);
    return rc;
}

/* A conversation of n messages (roles[i], contents[i]) rendered with the
 * model's chat template, ending with the opening of the assistant's turn. */
EMSCRIPTEN_KEEPALIVE int hw_begin_chat(hw_session *s, int n, const char **roles,
                                       const char **contents, int max_tokens, float temp,
                                       float top_p, double seed) {
    hearth_chat_message *m = calloc(n > 0 ? (size_t)n : 1, sizeof *m);
    if (!m) return fail(s, HEARTH_E_NOMEM, "messages");
    for (int i = 0; i < n; i++) m[i] = (hearth_chat_message){.role = roles[i], .content = contents[i]};
    int32_t *ids = NULL;
    size_t n_ids = 0;
    hearth_status st = hearth_template_render(s->tmpl, s->tok, m, (size_t)n, &ids, &n_ids, &s->err);
    free(m);
    if (st) return fail(s, st, "template");
    int rc = begin(s, ids, n_ids, max_tokens, temp, top_p, seed);
    hearth_free(ids);
    return rc;
}

static bool set_text(hw_session *s, const char *t, size_t len) {
    if (len + 1 > s->text_cap) {
        char *p = realloc(s->text, len + 1);
        if (!p) return false;
        s->text = p;
        s->text_cap = len + 1;
    }
    if (len) memcpy(s->text, t, len);
    s->text[len] = 0;
    return true;
}

/* One token. Returns its id (>= 0) with its text in hw_text, or -1 when
 * generation has ended (hw_text holds any held-back text; hw_finish says
 * why), or -2 on an error (hw_error). After -1 or -2, hw_begin_* again. */
EMSCRIPTEN_KEEPALIVE int hw_step(hw_session *s) {
    const char *t = "";
    size_t len = 0;
    hearth_status st;
    set_text(s, "", 0);
    if (s->done) return -1;
    const float *logits = hearth_ctx_logits(s->ctx, -1);
    if (!logits) return fail(s, HEARTH_E_STATE, "no logits"), -2;
    int32_t id = hearth_sampler_sample(s->sampler, logits);
    hearth_sampler_accept(s->sampler, id);
    s->n_gen++;
    if (hearth_model_token_is_eog(s->model, id)) {
        s->done = true;
        s->finish = "eog";
        if ((st = hearth_detok_flush(s->detok, &t, &len, &s->err)) || !set_text(s, t, len))
            return fail(s, st ? st : HEARTH_E_NOMEM, "detok"), -2;
        return -1;
    }
    if ((st = hearth_detok_push(s->detok, id, &t, &len, &s->err)) || !set_text(s, t, len))
        return fail(s, st ? st : HEARTH_E_NOMEM, "detok"), -2;
    if (s->max_tokens > 0 && s->n_gen >= s->max_tokens) {
        s->done = true;
        s->finish = "length";
    } else if (hearth_ctx_seq_len(s->ctx, 0) >= hearth_ctx_seq_capacity(s->ctx)) {
        s->done = true;
        s->finish = "ctx";
    } else {
        double t0 = emscripten_get_now();
        st = hearth_ctx_eval(s->ctx, 0, &id, 1, &s->err);
        s->gen_ms += emscripten_get_now() - t0;
        if (st) {
            s->n_kv = 0;
            hearth_ctx_seq_clear(s->ctx, 0, NULL);
            return fail(s, st, "decode"), -2;
        }
        kv_push(s, &id, 1);
    }
    if (s->done) {
        /* the last token's text and whatever the decoder still held */
        const char *f = "";
        size_t flen = 0;
        if ((st = hearth_detok_flush(s->detok, &f, &flen, &s->err)))
            return fail(s, st, "detok"), -2;
        if (flen) {
            char *both = malloc(len + flen + 1);
            if (!both) return fail(s, HEARTH_E_NOMEM, "detok"), -2;
            memcpy(both, s->text, len);
            memcpy(both + len, f, flen);
            bool ok = set_text(s, both, len + flen);
            free(both);
            if (!ok) return fail(s, HEARTH_E_NOMEM, "detok"), -2;
        }
    }
    return id;
}

/* The embedding of text (tokenized with the tokenizer's special tokens, no
 * special-token parsing): hearth_ctx_embed's mean-pooled, L2-normalized
 * hidden state. OUT: out, hw_n_embd floats. Ends any generation in flight
 * (the sequence is shared). Returns a hearth_status (hw_error says why). */
EMSCRIPTEN_KEEPALIVE int hw_embed(hw_session *s, const char *text, float *out) {
    int32_t *ids = NULL;
    size_t n = 0;
    s->err.msg[0] = 0;
    s->done = true;
    hearth_status st = hearth_tokenize(s->tok, text, strlen(text), true, false, &ids, &n, &s->err);
    if (st) return fail(s, st, "tokenize");
    if (n == 0) {
        hearth_free(ids);
        snprintf(s->err.msg, sizeof s->err.msg, "the text gives no tokens");
        return fail(s, HEARTH_E_ARG, "embed");
    }
    s->n_kv = 0; /* the embedding clears sequence 0 */
    st = hearth_ctx_embed(s->ctx, 0, ids, (int32_t)n, out, &s->err);
    hearth_free(ids);
    return fail(s, st, "embed");
}

EMSCRIPTEN_KEEPALIVE int hw_n_embd(hw_session *s) { return hearth_model_n_embd(s->model); }

/* Marks the generation cancelled (the next hw_step returns -1). */
EMSCRIPTEN_KEEPALIVE void hw_cancel(hw_session *s) {
    s->done = true;
    s->finish = "cancelled";
}

/* The generation in flight (or the last one): ended?, the text the last
 * step released, why it ended ("eog", "length", "ctx", "cancelled",
 * "none"), prompt tokens, tokens sampled (with the EOG one), prompt tokens
 * found in the KV cache, prefill and decode milliseconds. */
EMSCRIPTEN_KEEPALIVE int hw_done(hw_session *s) { return s->done; }
EMSCRIPTEN_KEEPALIVE const char *hw_text(hw_session *s) { return s->text ? s->text : ""; }
EMSCRIPTEN_KEEPALIVE const char *hw_finish(hw_session *s) { return s->finish; }
EMSCRIPTEN_KEEPALIVE int hw_n_prompt(hw_session *s) { return s->n_prompt; }
EMSCRIPTEN_KEEPALIVE int hw_n_gen(hw_session *s) { return s->n_gen; }
EMSCRIPTEN_KEEPALIVE int hw_n_reused(hw_session *s) { return s->n_reused; }
EMSCRIPTEN_KEEPALIVE double hw_prompt_ms(hw_session *s) { return s->prompt_ms; }
EMSCRIPTEN_KEEPALIVE double hw_gen_ms(hw_session *s) { return s->gen_ms; }
/* The kernel implementation the dot products run on ("scalar", "wasm128"). */
EMSCRIPTEN_KEEPALIVE const char *hw_kernels(void) { return hearth_dot_impl_name(); }

/* BLAKE2b-512 of a file fed in pieces, for minisign's prehashed ("ED")
 * signatures, which the worker checks with WebCrypto's Ed25519 over this
 * digest: hw_blake2b_new (NULL when out of memory), hw_blake2b_update for
 * each piece (n bytes at p, in the module's memory), hw_blake2b_final
 * (writes 64 bytes to out and frees the state). */
EMSCRIPTEN_KEEPALIVE sec_blake2b *hw_blake2b_new(void) {
    sec_blake2b *s = malloc(sizeof *s);
    if (s) sec_blake2b_init(s, 64);
    return s;
}
EMSCRIPTEN_KEEPALIVE void hw_blake2b_update(sec_blake2b *s, const void *p, int n) {
    sec_blake2b_update(s, p, (size_t)n);
}
EMSCRIPTEN_KEEPALIVE void hw_blake2b_final(sec_blake2b *s, uint8_t *out) {
    sec_blake2b_final(s, out);
    free(s);
}
