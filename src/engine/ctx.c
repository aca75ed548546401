/*
 * ctx.c: hearth_ctx, the per-conversation state: KV cache with n_seq
 * sequence slots of n_ctx / n_seq positions each, forward scratch, a
 * persistent thread pool and the logits of the last decode. Validates every
 * batch completely before touching the cache, so a rejected batch leaves the
 * context as it was.
 */
#include "engine/ctx_int.h"
#include "model/encoder.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>
#include <strings.h>
#include <time.h>

hearth_ctx_params hearth_ctx_default_params(void) {
    hearth_ctx_params p = {.n_ctx = 0, .n_batch = 512, .n_seq = 1, .n_threads = 0,
                           .type_k = HEARTH_TYPE_F16, .type_v = HEARTH_TYPE_F16};
    return p;
}

hearth_status hearth_cache_type_parse(const char *name, bool values, hearth_type *out,
                                     hearth_error *err) {
    static const struct {
        const char *name;
        hearth_type t;
        bool values_only;
    } names[] = {{"f16", HEARTH_TYPE_F16, false},
                 {"f32", HEARTH_TYPE_F32, false},
                 {"q8_0", HEARTH_TYPE_Q8_0, false},
                 {"q4_0", HEARTH_TYPE_Q4_0, true}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name) && (values || !names[i].values_only)) {
            *out = names[i].t;
            return HEARTH_OK;
        }
    return HEARTH_FAIL(err, HEARTH_E_ARG, "KV cache type '%s' for %s: use %s", name ? name : "(null)",
                       values ? "values" : "keys", values ? "f16, q8_0, q4_0 or f32" : "f16, q8_0 or f32");
}

double hearth_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

hearth_status hearth_ctx_new(const hearth_model *m, const hearth_ctx_params *p, hearth_ctx **out,
                             hearth_error *err) {
    *out = NULL;
    hearth_ctx_params dp = hearth_ctx_default_params();
    if (!p) p = &dp;
    if (!m) return HEARTH_FAIL(err, HEARTH_E_ARG, "ctx: model is NULL");
    int32_t n_ctx = p->n_ctx;
    if (n_ctx == 0) n_ctx = m->hp.n_ctx_train < 4096 ? m->hp.n_ctx_train : 4096;
    if (n_ctx < 1 || n_ctx > (1 << 24))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "ctx: n_ctx %d outside [1, %d]", n_ctx, 1 << 24);
    if (p->n_seq < 1 || p->n_seq > 256 || p->n_seq > n_ctx)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "ctx: n_seq %d outside [1, min(256, n_ctx)]", p->n_seq);
    if (p->n_batch < 1 || p->n_batch > 65536)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "ctx: n_batch %d outside [1, 65536]", p->n_batch);
    if (p->n_threads < 0 || p->n_threads > 1024)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "ctx: n_threads %d outside [0, 1024]", p->n_threads);
    hearth_ctx *c = hearth_calloc(1, sizeof *c);
    if (!c) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "ctx: out of memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_seq = p->n_seq;
    c->cap = n_ctx / p->n_seq;
    c->n_batch = p->n_batch < c->cap * p->n_seq ? p->n_batch : c->cap * p->n_seq;
    int nth = p->n_threads > 0 ? p->n_threads : m->n_threads;
    hearth_status st;
    if (hearth_model_is_encoder(m)) {
        /* An encoder embeds whole texts: no cache, no decode scratch, and a
         * sequence holds what the model reads at most. */
        if (c->cap > m->hp.n_ctx_train) c->cap = m->hp.n_ctx_train;
        st = hearth_threadpool_new(nth, &c->pool, err);
        if (st) goto fail;
        c->kv.len = hearth_calloc((size_t)c->n_seq, sizeof *c->kv.len);
        if (!c->kv.len) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "ctx: out of memory");
            goto fail;
        }
        *out = c;
        return HEARTH_OK;
    }
    if ((st = hearth_kv_init(&c->kv, &m->hp, p->type_k, p->type_v, c->n_seq, c->cap, err)) ||
        (st = hearth_threadpool_new(nth, &c->pool, err)) ||
        (st = hearth_fwd_buf_new(m, c->n_batch, c->cap, nth, &c->buf, err)))
        goto fail;
    c->pos = hearth_malloc((size_t)c->n_batch * sizeof *c->pos);
    c->seqs = hearth_malloc((size_t)c->n_batch * sizeof *c->seqs);
    c->want = hearth_malloc((size_t)c->n_batch);
    c->next_pos = hearth_malloc((size_t)c->n_seq * sizeof *c->next_pos);
    if (!c->pos || !c->seqs || !c->want || !c->next_pos) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "ctx: out of memory");
        goto fail;
    }
    *out = c;
    return HEARTH_OK;
fail:
    hearth_ctx_free(c);
    return st;
}

void hearth_ctx_free(hearth_ctx *c) {
    if (!c) return;
    hearth_threadpool_free(c->pool);
    hearth_fwd_buf_free(c->buf);
    hearth_kv_free(&c->kv);
    hearth_free(c->logits);
    hearth_free(c->logit_idx);
    hearth_free(c->pos);
    hearth_free(c->seqs);
    hearth_free(c->want);
    hearth_free(c->next_pos);
    hearth_free(c);
}

const hearth_model *hearth_ctx_model(const hearth_ctx *c) { return c->m; }
int32_t hearth_ctx_n_ctx(const hearth_ctx *c) { return c->n_ctx; }
int32_t hearth_ctx_n_seq(const hearth_ctx *c) { return c->n_seq; }
int32_t hearth_ctx_seq_capacity(const hearth_ctx *c) { return c->cap; }

uint64_t hearth_ctx_kv_bytes(const hearth_ctx *c) {
    if (!c->kv.k) return 0;
    return (uint64_t)c->kv.n_layer * (uint64_t)c->kv.n_seq * (uint64_t)c->kv.cap * (c->kv.k_row + c->kv.v_row);
}

int32_t hearth_ctx_seq_len(const hearth_ctx *c, int32_t seq) {
    if (seq < 0 || seq >= c->n_seq) return -1;
    return c->kv.len[seq];
}

hearth_status hearth_ctx_seq_clear(hearth_ctx *c, int32_t seq, hearth_error *err) {
    if (seq == -1) {
        memset(c->kv.len, 0, (size_t)c->n_seq * sizeof *c->kv.len);
        return HEARTH_OK;
    }
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sequence %d outside [0, %d)", seq, c->n_seq);
    c->kv.len[seq] = 0;
    return HEARTH_OK;
}

hearth_status hearth_ctx_seq_truncate(hearth_ctx *c, int32_t seq, int32_t n_keep, hearth_error *err) {
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sequence %d outside [0, %d)", seq, c->n_seq);
    if (n_keep < 0 || n_keep > c->kv.len[seq])
        return HEARTH_FAIL(err, HEARTH_E_ARG, "truncate sequence %d to %d: it holds %d", seq, n_keep,
                           c->kv.len[seq]);
    c->kv.len[seq] = n_keep;
    return HEARTH_OK;
}

/* Makes room for n_logits logit rows. */
static hearth_status reserve_logits(hearth_ctx *c, int32_t n_logits, int32_t n_tokens,
                                    hearth_error *err) {
    size_t nv = (size_t)c->m->hp.n_vocab;
    if ((size_t)n_logits > c->logits_cap) {
        float *l = hearth_realloc(c->logits, (size_t)n_logits * nv * sizeof(float));
        if (!l) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "logits for %d tokens: out of memory", n_logits);
        c->logits = l;
        c->logits_cap = (size_t)n_logits;
    }
    if ((size_t)n_tokens > c->idx_cap) {
        int32_t *ix = hearth_realloc(c->logit_idx, (size_t)n_tokens * sizeof *ix);
        if (!ix) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "logit index: out of memory");
        c->logit_idx = ix;
        c->idx_cap = (size_t)n_tokens;
    }
    return HEARTH_OK;
}

hearth_status hearth_ctx_decode_ex(hearth_ctx *c, const hearth_batch *b, float *hidden,
                                   hearth_error *err) {
    c->n_logit_idx = 0;
    c->last_logit = -1;
    if (hearth_model_is_encoder(c->m))
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "'%s' is an embedding model (architecture %s): it embeds text but "
                           "cannot generate it; use a chat model", c->m->name[0] ? c->m->name : "the model",
                           c->m->ai->name);
    if (!b || b->n_tokens < 1 || !b->tokens)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "decode: empty batch");
    int32_t n = b->n_tokens, nv = c->m->hp.n_vocab;
    /* validate everything first: a rejected batch leaves the context as it was */
    memcpy(c->next_pos, c->kv.len, (size_t)c->n_seq * sizeof *c->next_pos);
    int32_t n_logits = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t tok = b->tokens[i], sq = b->seq ? b->seq[i] : 0;
        if (tok < 0 || tok >= nv)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "decode: token %d at %d outside [0, %d)", tok, i, nv);
        if (sq < 0 || sq >= c->n_seq)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "decode: sequence %d at %d outside [0, %d)", sq, i,
                               c->n_seq);
        int32_t want_pos = c->next_pos[sq];
        if (b->pos && b->pos[i] != want_pos)
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "decode: token %d has position %d, sequence %d continues at %d", i,
                               b->pos[i], sq, want_pos);
        if (want_pos >= c->cap)
            return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                               "context full: sequence %d would need position %d, capacity is %d", sq,
                               want_pos, c->cap);
        c->next_pos[sq] = want_pos + 1;
        if (b->logits ? b->logits[i] != 0 : i == n - 1) n_logits++;
    }
    hearth_status st = reserve_logits(c, n_logits, n, err);
    if (st) return st;

    double t0 = hearth_now_ms();
    int32_t done = 0, k = 0;
    memcpy(c->next_pos, c->kv.len, (size_t)c->n_seq * sizeof *c->next_pos);
    bool multi = false;
    while (done < n) {
        int32_t m = n - done < c->n_batch ? n - done : c->n_batch, ml = 0;
        for (int32_t i = 0; i < m; i++) {
            int32_t gi = done + i, sq = b->seq ? b->seq[gi] : 0;
            c->seqs[i] = sq;
            c->pos[i] = c->next_pos[sq]++;
            bool w = b->logits ? b->logits[gi] != 0 : gi == n - 1;
            c->want[i] = (int8_t)w;
            c->logit_idx[gi] = w ? k + ml : -1;
            ml += w;
        }
        for (int32_t i = 0; i < m && !multi; i++)
            for (int32_t j = 0; j < i; j++)
                if (c->seqs[j] == c->seqs[i]) {
                    multi = true;
                    break;
                }
        hearth_forward(c->m, &c->kv, c->pool, c->buf, m, b->tokens + done, c->pos, c->seqs, c->want,
                       ml ? c->logits + (size_t)k * (size_t)nv : NULL,
                       hidden ? hidden + (size_t)done * (size_t)c->m->hp.n_embd : NULL);
        k += ml;
        done += m;
    }
    double dt = hearth_now_ms() - t0;
    if (multi) {
        c->timings.prompt_ms += dt;
        c->timings.n_prompt += n;
    } else {
        c->timings.gen_ms += dt;
        c->timings.n_gen += n;
    }
    c->n_logit_idx = n;
    for (int32_t i = n - 1; i >= 0; i--)
        if (c->logit_idx[i] >= 0) {
            c->last_logit = c->logit_idx[i];
            break;
        }
    return HEARTH_OK;
}

hearth_status hearth_ctx_decode(hearth_ctx *c, const hearth_batch *b, hearth_error *err) {
    return hearth_ctx_decode_ex(c, b, NULL, err);
}

hearth_status hearth_ctx_eval(hearth_ctx *c, int32_t seq, const int32_t *tokens, int32_t n,
                              hearth_error *err) {
    if (n < 1 || n > (1 << 24)) return HEARTH_FAIL(err, HEARTH_E_ARG, "eval: %d tokens", n);
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "eval: sequence %d outside [0, %d)", seq, c->n_seq);
    if (n > c->cap - c->kv.len[seq])
        return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                           "context full: sequence %d holds %d of %d positions, %d more do not fit",
                           seq, c->kv.len[seq], c->cap, n);
    /* one sequence: the seq array is only needed when seq != 0 */
    int32_t *seqs = NULL;
    if (seq != 0) {
        seqs = hearth_malloc((size_t)n * sizeof *seqs);
        if (!seqs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "eval: out of memory");
        for (int32_t i = 0; i < n; i++) seqs[i] = seq;
    }
    hearth_batch b = {.n_tokens = n, .tokens = tokens, .seq = seqs};
    hearth_status st = hearth_ctx_decode(c, &b, err);
    hearth_free(seqs);
    return st;
}

const float *hearth_ctx_logits(const hearth_ctx *c, int32_t i) {
    int32_t k;
    if (i == -1) k = c->last_logit;
    else if (i < 0 || i >= c->n_logit_idx) return NULL;
    else k = c->logit_idx[i];
    if (k < 0) return NULL;
    return c->logits + (size_t)k * (size_t)c->m->hp.n_vocab;
}

hearth_status hearth_ctx_embed(hearth_ctx *c, int32_t seq, const int32_t *tokens, int32_t n, float *out,
                               hearth_error *err) {
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "embed: sequence %d outside [0, %d)", seq, c->n_seq);
    if (n < 1 || n > c->cap)
        return HEARTH_FAIL(err, n < 1 ? HEARTH_E_ARG : HEARTH_E_LIMIT,
                           "embed: %d tokens (sequence capacity %d)", n, c->cap);
    if (!out || !tokens) return HEARTH_FAIL(err, HEARTH_E_ARG, "embed: NULL buffer");
    if (hearth_model_is_encoder(c->m)) return hearth_encoder_embed(c->m, c->pool, tokens, n, out, err);
    size_t d = (size_t)c->m->hp.n_embd;
    float *hidden = hearth_malloc((size_t)n * d * sizeof(float));
    int32_t *seqs = hearth_malloc((size_t)n * sizeof *seqs);
    int8_t *none = hearth_calloc((size_t)n, 1);
    hearth_status st = HEARTH_OK;
    if (!hidden || !seqs || !none) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "embed: out of memory");
        goto done;
    }
    for (int32_t i = 0; i < n; i++) seqs[i] = seq;
    c->kv.len[seq] = 0;
    hearth_batch b = {.n_tokens = n, .tokens = tokens, .seq = seqs, .logits = none};
    st = hearth_ctx_decode_ex(c, &b, hidden, err);
    c->kv.len[seq] = 0;
    if (st) goto done;
    double ss = 0;
    for (size_t j = 0; j < d; j++) {
        double acc = 0;
        for (int32_t i = 0; i < n; i++) acc += hidden[(size_t)i * d + j];
        out[j] = (float)(acc / n);
        ss += (double)out[j] * out[j];
    }
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (size_t j = 0; j < d; j++) out[j] *= inv;
done:
    hearth_free(hidden);
    hearth_free(seqs);
    hearth_free(none);
    return st;
}

hearth_ctx_timings hearth_ctx_get_timings(const hearth_ctx *c) { return c->timings; }
void hearth_ctx_reset_timings(hearth_ctx *c) { memset(&c->timings, 0, sizeof c->timings); }
