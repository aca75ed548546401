/*
 * constrain.c: grammar-constrained token choice (see constrain.h).
 *
 * Cost: the common case is one plain sample and one check of the chosen
 * token's bytes against the parse state. Only when the grammar refuses the
 * sample is the full set of allowed tokens computed, by walking the
 * vocabulary's byte trie together with the parse state (a prefix shared by
 * many tokens is matched once, and a refused byte cuts off the whole
 * subtree), then the sample is drawn again from the masked logits.
 * Sampling first and checking is exact for plain temperature sampling (a
 * rejected draw followed by a draw from the masked distribution gives the
 * masked distribution) and close to it with truncation (top-k/top-p pick
 * among the unmasked candidates when the first draw passes).
 */
#include "engine/constrain.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <string.h>

hearth_status gcons_init(gcons *c, const hearth_gen_params *p, const hearth_tokenizer *tok,
                         int32_t n_vocab, hearth_error *err) {
    memset(c, 0, sizeof *c);
    if (!p->grammar) return HEARTH_OK;
    if (!tok)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "generate: constrained decoding needs the model's tokenizer");
    c->tok = tok;
    c->n_vocab = n_vocab;
    if (!(c->trie = hearth_vtrie_get(tok, err))) return HEARTH_E_NOMEM;
    hearth_status st = gmatch_init(&c->gm, p->grammar, err);
    if (st) return st;
    c->g = p->grammar;
    c->masked = hearth_malloc((size_t)n_vocab * sizeof *c->masked);
    c->allowed = hearth_malloc((size_t)n_vocab * sizeof *c->allowed);
    c->abits = hearth_calloc((size_t)n_vocab, 1);
    if (p->grammar_trigger && p->grammar_trigger[0]) {
        c->trigger = p->grammar_trigger;
        c->trig_len = strlen(p->grammar_trigger);
        c->tail = hearth_malloc(c->trig_len);
    } else {
        c->active = true;
    }
    if (!c->masked || !c->allowed || !c->abits || (c->trigger && !c->tail)) {
        gcons_free(c);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "generate: out of memory");
    }
    return HEARTH_OK;
}

void gcons_free(gcons *c) {
    if (!c->g) return;
    gmatch_free(&c->gm);
    hearth_free(c->masked);
    hearth_free(c->allowed);
    hearth_free(c->abits);
    hearth_free(c->tail);
    hearth_free(c->scratch);
    memset(c, 0, sizeof *c);
}

static bool is_eog(const gcons *c, int32_t t) { return hearth_token_is_eog(c->tok, t); }

/* Whether the grammar, in its current state, lets token t come next. */
static bool tok_ok(gcons *c, int32_t t) {
    if (is_eog(c, t)) return gmatch_complete(&c->gm);
    if (hearth_token_is_control(c->tok, t)) return false;
    size_t n;
    const char *s = hearth_token_to_piece(c->tok, t, &n);
    return s && n && gmatch_try(&c->gm, s, n);
}

/* Before the trigger: tail + piece of t in scratch; *at the offset after the
 * trigger in it, or SIZE_MAX when it does not appear. */
static size_t trigger_end(gcons *c, int32_t t, size_t *len) {
    size_t n;
    const char *s = hearth_token_to_piece(c->tok, t, &n);
    if (!s) n = 0;
    size_t need = c->tail_len + n + 1;
    if (need > c->scratch_cap) {
        char *p = hearth_realloc(c->scratch, need);
        if (!p) return *len = 0, SIZE_MAX;
        c->scratch = p;
        c->scratch_cap = need;
    }
    memcpy(c->scratch, c->tail, c->tail_len);
    if (n) memcpy(c->scratch + c->tail_len, s, n);
    *len = c->tail_len + n;
    for (size_t i = 0; i + c->trig_len <= *len; i++)
        if (!memcmp(c->scratch + i, c->trigger, c->trig_len)) return i + c->trig_len;
    return SIZE_MAX;
}

static gcons_pick_result pick_before_trigger(gcons *c, hearth_sampler *smp, const float *logits,
                                             int32_t *out) {
    const float *cur = logits;
    for (int tries = 0; tries < 64; tries++) {
        int32_t t = hearth_sampler_sample(smp, cur);
        size_t len, end = trigger_end(c, t, &len);
        if (end == SIZE_MAX || gmatch_try(&c->gm, c->scratch + end, len - end)) {
            *out = t;
            return GC_TOKEN;
        }
        /* it would start the constrained part with text the grammar
         * refuses: draw again without it */
        if (cur == logits) {
            memcpy(c->masked, logits, (size_t)c->n_vocab * sizeof *c->masked);
            cur = c->masked;
        }
        c->masked[t] = -INFINITY;
    }
    return GC_DEAD;
}

gcons_pick_result gcons_pick(gcons *c, hearth_sampler *smp, const float *logits, int32_t *out) {
    if (!c->g) {
        *out = hearth_sampler_sample(smp, logits);
        return GC_TOKEN;
    }
    if (!c->active) return pick_before_trigger(c, smp, logits, out);
    if (!gmatch_can_continue(&c->gm)) return gmatch_complete(&c->gm) ? GC_DONE : GC_DEAD;
    int32_t t = hearth_sampler_sample(smp, logits);
    if (tok_ok(c, t)) {
        c->n_fast++;
        *out = t;
        return GC_TOKEN;
    }
    c->n_full++;
    size_t n = gmatch_allowed(&c->gm, c->trie, c->allowed);
    for (uint32_t i = 0; i < c->trie->n_long; i++)
        if (tok_ok(c, c->trie->long_ids[i])) c->allowed[n++] = c->trie->long_ids[i];
    if (gmatch_complete(&c->gm))
        for (uint32_t i = 0; i < c->trie->n_eog; i++) c->allowed[n++] = c->trie->eog_ids[i];
    if (n == 0) return GC_DEAD;
    for (int32_t i = 0; i < c->n_vocab; i++) c->masked[i] = -INFINITY;
    int32_t best = c->allowed[0];
    for (size_t i = 0; i < n; i++) {
        int32_t id = c->allowed[i];
        c->masked[id] = isnan(logits[id]) ? -INFINITY : logits[id];
        c->abits[id] = 1;
        if (c->masked[id] > c->masked[best]) best = id;
    }
    t = hearth_sampler_sample(smp, c->masked);
    /* every allowed logit -inf: the sampler's fallback may land anywhere */
    if (!c->abits[t]) t = best;
    for (size_t i = 0; i < n; i++) c->abits[c->allowed[i]] = 0;
    *out = t;
    return GC_TOKEN;
}

void gcons_accept(gcons *c, int32_t t) {
    if (!c->g) return;
    if (c->active) {
        if (is_eog(c, t)) return;
        size_t n;
        const char *s = hearth_token_to_piece(c->tok, t, &n);
        if (s && n) gmatch_accept(&c->gm, s, n);
        return;
    }
    size_t len, end = trigger_end(c, t, &len);
    if (end != SIZE_MAX) {
        c->active = true;
        gmatch_accept(&c->gm, c->scratch + end, len - end);
        return;
    }
    /* keep the last trig_len - 1 bytes: a trigger may straddle tokens */
    size_t keep = c->trig_len - 1;
    if (len > keep) {
        memcpy(c->tail, c->scratch + (len - keep), keep);
        c->tail_len = keep;
    } else {
        memcpy(c->tail, c->scratch, len);
        c->tail_len = len;
    }
}
