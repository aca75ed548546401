/*
 * sched.c: continuous batching. One scheduler thread owns a hearth_ctx with
 * n_seq sequence slots; callers on any thread submit generations, and every
 * step decodes one batch holding the next token of each running generation
 * (plus a piece of any new prompt). Decode is bound by reading the weights,
 * and one batch reads them once for all its sequences, so k concurrent
 * clients cost little more than one.
 *
 * Invariants: a job is in at most one slot; slot i uses KV sequence i, and
 * kept[i][0 .. seq_len(i)) are the tokens that sequence holds (written as
 * the batch is built, so they hold whatever a job left there); callbacks
 * run on the scheduler thread; a failing job never disturbs the others
 * (capacity is checked per job before a batch is built, so decode never
 * hits the limit).
 *
 * Prefix reuse: a slot keeps its sequence when its job ends. A new job
 * goes to the free slot whose kept tokens share the longest prefix with
 * its prompt (see pick_slot; no match: the least recently used slot, an
 * empty one first); the sequence is cut back to that prefix and only the
 * rest of the prompt is evaluated, at least one token so that there are
 * logits to sample from. A conversation's next turn thus finds its
 * history where the previous turn left it. Only a failed decode (whose
 * sequence's contents are unknown) and a job with no_reuse clear a
 * sequence.
 *
 * Prefill in bounded pieces: while generations run, a step takes only a
 * piece of a new prompt beside their tokens, sized from the measured costs
 * so that the piece costs about what the generations' part of the step
 * does (at least PREFILL_MIN tokens, at most prefill_chunk): a long prompt
 * arriving mid-stream slows the running streams (to about half their pace
 * above the floor) instead of stalling them for whole batches of prompt. With nothing generating a step takes
 * as much of the prompt as the batch holds.
 *
 * Saved states (hearth_sched_set_state_hooks): a job that ended with its
 * answer (not a failure, a cancellation or a no_reuse job) marks its slot
 * "to save"; the save hook then runs on this thread once the caller has
 * its answer, when the scheduler has nothing to run (or, at the latest,
 * before the slot's next job or when stopping), so that it costs no
 * running stream a step. At admission, the restore hook may replace the
 * slot's sequence with a saved state sharing a longer prefix with the
 * prompt than the slot holds (counted in n_cached and n_restored).
 *
 * Speculative decoding (hearth_sched_enable_spec): each slot has its own
 * hearth_spec (lookup, and a draft context on one thread). A generating
 * job's entry in the batch is then its next token and its drafts, all with
 * logits; after the decode spec_verify hands the kept tokens one by one to
 * the same path a plain token takes, and the slot's sequence is cut back
 * to what plain decoding would hold.
 */
#include "hearth.h"

#include "engine/constrain.h"
#include "engine/spec_int.h"
#include "engine/stop_text.h"
#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

typedef enum { JOB_WAITING, JOB_PREFILL, JOB_GEN, JOB_DONE } job_state;

typedef struct sched_job {
    /* Request (borrowed from the caller, who waits until the job is done). */
    const int32_t *prompt;
    int32_t n_prompt;
    const hearth_gen_params *p;
    hearth_gen_cb cb;
    void *user;

    /* Result. */
    hearth_status status;
    hearth_error err;
    hearth_gen_result res;

    job_state state;
    int32_t n_fed;           /* prompt tokens already decoded */
    int32_t next;            /* sampled token to feed next step */
    int32_t batch_idx;       /* its logits row in the current batch, or -1 */
    int32_t n_draft;         /* drafts after it in the batch (speculation) */
    bool spec;               /* speculation on for this job (a slot spec, no grammar) */
    bool grammar_end;        /* the grammar ended it (its text is flushed) */
    hearth_sampler *sampler;
    gcons gc;                /* constrained decoding (gc.g NULL: none) */
    hearth_detok *detok;
    stop_text held;          /* text held back: it may begin a stop string */
    double t_start, t_first;
    struct sched_job *next_waiting;
    pthread_cond_t done_cv;
} sched_job;

struct hearth_sched {
    hearth_ctx *ctx;
    const hearth_model *model;
    const hearth_tokenizer *tok;
    int32_t n_slots, n_batch, n_vocab;
    int32_t cap;           /* positions per slot */
    _Atomic int32_t prefill_chunk; /* see hearth_sched_set_prefill_chunk */

    /* Prefix reuse (scheduler thread only): per slot, the tokens its
     * sequence holds (cap each) and when a job last started there. */
    int32_t **kept;
    uint64_t *last_used;
    uint64_t clock;
    /* Saved states: the hooks (set before the first job, then read by
     * this thread only) and, per slot, whether its finished job is still
     * to be saved. */
    hearth_sched_state_hooks hooks;
    bool *to_save;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    sched_job *waiting_head, *waiting_tail; /* FIFO of submitted jobs */
    sched_job **slots;                      /* n_slots; NULL: free */
    bool stopping;
    bool started;                           /* the thread runs (join it when freeing) */

    /* Speculative decoding: per slot, NULL when off (scheduler thread only
     * once enabled). */
    hearth_spec **specs;
    double last_decode_ms;
    /* Measured costs (EMAs, ms; 0: not measured yet): a step of generation
     * rows only, and one prompt token beside them. */
    double ms_gen_step, ms_prompt_tok;
    /* While hold_done is set (a verification step, which may end its job
     * mid-way), finish_job leaves the ended job in done_held instead of
     * waking its caller, so the step can still record its statistics in
     * the job: once woken, the caller returns and the job (on its stack)
     * is gone. Scheduler thread only. */
    bool hold_done;
    sched_job *done_held;

    /* Batch scratch, n_batch entries each; used by the scheduler thread only. */
    int32_t *b_tok, *b_pos, *b_seq;
    int8_t *b_logits;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- text and stop strings --------------------------------------------- */

/* Hands text to the callback; returns true if it asked to cancel. */
static bool emit(sched_job *j, int32_t token, const char *s, size_t n) {
    return j->cb && j->cb(j->user, token, s, n) != 0;
}

/* ---- job lifecycle (scheduler thread) ---------------------------------- */

/* The job is over: its caller returns from hearth_sched_generate, and j
 * must not be touched after this. */
static void wake_caller(hearth_sched *s, sched_job *j) {
    pthread_mutex_lock(&s->mu);
    j->state = JOB_DONE;
    pthread_cond_signal(&j->done_cv);
    pthread_mutex_unlock(&s->mu);
}

static void finish_job(hearth_sched *s, int32_t slot, hearth_finish_reason why) {
    sched_job *j = s->slots[slot];
    if (j->status == HEARTH_OK && why != HEARTH_FINISH_CANCELLED && j->cb && j->detok) {
        /* Flush, as hearth_generate does: bytes of an unfinished character
         * and held-back text, unless a stop string ended the answer. */
        const char *t;
        size_t n = 0;
        if (why != HEARTH_FINISH_STOP || j->grammar_end) {
            if (j->detok && hearth_detok_flush(j->detok, &t, &n, NULL) == HEARTH_OK)
                stop_text_add(&j->held, t, n);
            if (j->held.len && !j->held.failed) emit(j, -1, j->held.p, j->held.len);
        }
    }
    double t = now_ms();
    j->res.finish = why;
    if (j->t_first > 0) {
        j->res.prompt_ms = j->t_first - j->t_start;
        j->res.gen_ms = t - j->t_first;
    } else {
        j->res.prompt_ms = t - j->t_start;
    }
    /* the sequence stays: the next job in this slot may share its prefix
     * (unless the job asked to leave nothing; with speculation the step
     * cuts rejected drafts after this, which an empty sequence has none of) */
    if (j->p->no_reuse) hearth_ctx_seq_clear(s->ctx, slot, NULL);
    /* an answer delivered: worth keeping for a later process (saved once
     * the caller has it, see run_saves) */
    s->to_save[slot] = s->hooks.save && !j->p->no_reuse && j->status == HEARTH_OK &&
                       why != HEARTH_FINISH_CANCELLED && why != HEARTH_FINISH_NONE;
    s->slots[slot] = NULL;
    if (s->hold_done) s->done_held = j;
    else wake_caller(s, j);
}

static void fail_job(hearth_sched *s, int32_t slot, hearth_status st, const hearth_error *e) {
    sched_job *j = s->slots[slot];
    j->status = st;
    if (e) j->err = *e;
    finish_job(s, slot, HEARTH_FINISH_NONE);
}

/* Everything after token tok was chosen from logits and accepted by the
 * sampler: grammar, log-probabilities, EOG, text and stop strings,
 * max_tokens, and (vlen: positions the sequence holds before tok is
 * evaluated) capacity. Returns false when the job ended. */
static bool take_token(hearth_sched *s, int32_t slot, int32_t tok, const float *logits, int32_t vlen) {
    sched_job *j = s->slots[slot];
    gcons_accept(&j->gc, tok);
    if (j->spec) spec_push(s->specs[slot], tok);
    if (j->p->on_logprob) {
        hearth_token_logprob lp;
        hearth_logprob_compute(logits, s->n_vocab, tok, j->p->n_top_logprobs, &lp);
        j->p->on_logprob(j->p->logprob_user, &lp);
    }
    if (j->t_first == 0) j->t_first = now_ms();
    j->state = JOB_GEN;
    j->res.n_gen++; /* counted as hearth_generate counts: the EOG token too */
    if (hearth_model_token_is_eog(s->model, tok)) {
        finish_job(s, slot, HEARTH_FINISH_EOG);
        return false;
    }
    const char *text = "";
    size_t n = 0;
    hearth_error e;
    hearth_status st = j->detok ? hearth_detok_push(j->detok, tok, &text, &n, &e) : HEARTH_OK;
    if (st) {
        fail_job(s, slot, st, &e);
        return false;
    }
    if (!stop_text_add(&j->held, text, n)) {
        HEARTH_FAIL(&e, HEARTH_E_NOMEM, "out of memory");
        fail_job(s, slot, HEARTH_E_NOMEM, &e);
        return false;
    }
    bool stopped;
    size_t ready = stop_text_ready(&j->held, j->p, &stopped);
    bool cancelled = emit(j, tok, j->held.p ? j->held.p : "", ready);
    if (stopped) j->held.len = 0;
    else stop_text_consume(&j->held, ready);
    if (cancelled || stopped) {
        finish_job(s, slot, cancelled ? HEARTH_FINISH_CANCELLED : HEARTH_FINISH_STOP);
        return false;
    }
    if (j->p->max_tokens > 0 && j->res.n_gen >= j->p->max_tokens) {
        finish_job(s, slot, HEARTH_FINISH_LENGTH);
        return false;
    }
    if (vlen >= hearth_ctx_seq_capacity(s->ctx)) {
        finish_job(s, slot, HEARTH_FINISH_CTX);
        return false;
    }
    j->next = tok;
    return true;
}

/* After the token's logits are known: sample, then take_token. */
static void step_job(hearth_sched *s, int32_t slot) {
    sched_job *j = s->slots[slot];
    const float *logits = hearth_ctx_logits(s->ctx, j->batch_idx);
    if (!logits) {
        hearth_error e;
        HEARTH_FAIL(&e, HEARTH_E_STATE, "no logits for sequence %d", slot);
        fail_job(s, slot, HEARTH_E_STATE, &e);
        return;
    }
    int32_t tok;
    gcons_pick_result pr = gcons_pick(&j->gc, j->sampler, logits, &tok);
    if (pr != GC_TOKEN) {
        /* the grammar's text is complete (as EOG) or cannot go on */
        j->grammar_end = true;
        finish_job(s, slot, pr == GC_DONE ? HEARTH_FINISH_EOG : HEARTH_FINISH_STOP);
        return;
    }
    hearth_sampler_accept(j->sampler, tok);
    take_token(s, slot, tok, logits, hearth_ctx_seq_len(s->ctx, slot));
}

/* ---- speculation (scheduler thread) ---- */

typedef struct {
    hearth_sched *s;
    int32_t slot;
    int32_t row0;  /* the job's first row in the batch */
    int32_t vlen;  /* positions held before the next emitted token is evaluated */
    bool alive;
} spec_job_ctx;

static const float *spec_row(void *user, int32_t i) {
    spec_job_ctx *x = user;
    return hearth_ctx_logits(x->s->ctx, x->row0 + i);
}

static bool spec_take(void *user, int32_t tok, const float *logits) {
    spec_job_ctx *x = user;
    x->alive = take_token(x->s, x->slot, tok, logits, x->vlen);
    x->vlen++;
    return x->alive;
}

/* After a batch with drafts: verify job slot's rows, keep what was
 * accepted. len: the sequence's length before this batch. */
static void spec_step_job(hearth_sched *s, int32_t slot, int32_t len) {
    sched_job *j = s->slots[slot];
    hearth_spec *sp = s->specs[slot];
    spec_draft *d = spec_draft_buf(sp);
    spec_job_ctx x = {s, slot, j->batch_idx, len + 1, true};
    int32_t n_emitted = 0;
    /* the step may end the job (EOG, a stop string, max_tokens): j stays
     * valid until its caller is woken below */
    s->hold_done = true;
    s->done_held = NULL;
    int32_t acc = spec_verify(spec_verifier_of(sp), j->sampler, d, spec_row, &x, spec_take, &x,
                              &n_emitted);
    spec_observe(sp, d, acc, 0, s->last_decode_ms);
    if (d->n) {
        j->res.n_drafted += d->n;
        j->res.n_accepted += acc;
        j->res.n_spec_steps++;
    }
    s->hold_done = false;
    /* Positions past the emitted tokens hold rejected drafts. Whether or
     * not the job ended, the sequence keeps what plain decoding would: the
     * last emitted token is not evaluated yet. */
    if (hearth_ctx_seq_len(s->ctx, slot) > len + n_emitted)
        hearth_ctx_seq_truncate(s->ctx, slot, len + n_emitted, NULL);
    if (s->done_held) wake_caller(s, s->done_held);
    s->done_held = NULL;
}

/* Hands slot's finished sequence to the save hook, if it is still to be
 * saved. Scheduler thread, outside mu. */
static void save_slot(hearth_sched *s, int32_t slot) {
    if (!s->to_save[slot]) return;
    s->to_save[slot] = false;
    int32_t len = hearth_ctx_seq_len(s->ctx, slot);
    if (len > 0) s->hooks.save(s->hooks.user, s->ctx, slot, s->kept[slot], len);
}

/* Every free slot's pending save. */
static void run_saves(hearth_sched *s) {
    for (int32_t i = 0; i < s->n_slots; i++)
        if (!s->slots[i]) save_slot(s, i);
}

/* Tokens at the start of slot's sequence equal to the prompt's. */
static int32_t common_prefix(const hearth_sched *s, int32_t slot, const sched_job *j) {
    int32_t len = hearth_ctx_seq_len(s->ctx, slot), n = 0;
    const int32_t *k = s->kept[slot];
    while (n < len && n < j->n_prompt && k[n] == j->prompt[n]) n++;
    return n;
}

/* The free slot for job j; -1 if none is free. A slot that would reuse at
 * least half of what it holds "matches": the one sharing the longest
 * prefix wins. Without a match, the least recently used slot (an empty one
 * first), so that a prompt sharing only a system prompt with a long
 * conversation does not throw the conversation away while a slot is empty
 * (it still reuses whatever prefix the slot it gets shares). */
static int32_t pick_slot(const hearth_sched *s, const sched_job *j) {
    int32_t best = -1, best_n = 0, lru = -1;
    uint64_t best_t = 0, lru_t = 0;
    for (int32_t i = 0; i < s->n_slots; i++) {
        if (s->slots[i]) continue;
        int32_t len = hearth_ctx_seq_len(s->ctx, i);
        uint64_t t = len > 0 ? s->last_used[i] : 0;
        if (lru < 0 || t < lru_t) lru = i, lru_t = t;
        int32_t n = j->p->no_reuse ? 0 : common_prefix(s, i, j);
        if (n == 0 || (int64_t)2 * n < len) continue;
        if (n > best_n || (n == best_n && t < best_t)) best = i, best_n = n, best_t = t;
    }
    return best >= 0 ? best : lru;
}

static void start_job(hearth_sched *s, int32_t slot, sched_job *j) {
    s->slots[slot] = j;
    s->last_used[slot] = ++s->clock;
    j->state = JOB_PREFILL;
    j->t_start = now_ms();
    /* Reuse what the slot holds of the prompt, leaving at least one token
     * to evaluate (its logits give the first sampled token). */
    bool fits = j->n_prompt <= s->cap; /* (else it fails below, leaving the slot as it was) */
    save_slot(s, slot); /* what the slot holds may be replaced below */
    int32_t keep = j->p->no_reuse || !fits ? 0 : common_prefix(s, slot, j);
    if (s->hooks.restore && !j->p->no_reuse && fits && keep < j->n_prompt - 1) {
        /* a saved state may hold more of the prompt than the slot does */
        double t0 = now_ms();
        int32_t r = s->hooks.restore(s->hooks.user, s->ctx, slot, j->prompt, j->n_prompt, keep);
        j->res.restore_ms = now_ms() - t0;
        if (r > keep && r <= j->n_prompt && hearth_ctx_seq_len(s->ctx, slot) == r) {
            memcpy(s->kept[slot], j->prompt, (size_t)r * sizeof *j->prompt);
            keep = r;
            j->res.n_restored = r;
        } else {
            keep = common_prefix(s, slot, j); /* the hook may have cleared the sequence */
        }
    }
    if (keep >= j->n_prompt) keep = j->n_prompt - 1;
    if (fits && hearth_ctx_seq_truncate(s->ctx, slot, keep, NULL)) {
        hearth_ctx_seq_clear(s->ctx, slot, NULL); /* (cannot happen: keep <= seq_len) */
        keep = 0;
    }
    j->n_fed = keep;
    j->res.n_cached = keep;
    if (j->res.n_restored > keep) j->res.n_restored = keep;
    hearth_error e;
    hearth_status st;
    if (j->n_prompt > hearth_ctx_seq_capacity(s->ctx)) {
        st = HEARTH_FAIL(&e, HEARTH_E_LIMIT,
                         "the prompt (%d tokens) does not fit the context (%d tokens)",
                         j->n_prompt, hearth_ctx_seq_capacity(s->ctx));
    } else if (!(st = hearth_sampler_new(&j->p->sampling, s->n_vocab, &j->sampler, &e)) &&
               !(st = gcons_init(&j->gc, j->p, s->tok, s->n_vocab, &e)) && s->tok) {
        /* Without a tokenizer the tokens still come, with no text. */
        st = hearth_detok_new(s->tok, false, false, &j->detok, &e);
    }
    if (st) {
        fail_job(s, slot, st, &e);
        return;
    }
    for (int32_t i = 0; i < j->n_prompt; i++) hearth_sampler_accept(j->sampler, j->prompt[i]);
    j->res.n_prompt = j->n_prompt;
    if (s->specs && s->specs[slot] && !j->p->grammar) {
        /* The slot's spec saw the tokens of its last speculating job only
         * (a job with a grammar does not tell it its tokens): tell it what
         * the kept prefix is. */
        hearth_spec_set_history(s->specs[slot], s->ctx, slot, s->kept[slot], keep);
        if (spec_begin(s->specs[slot], s->ctx, slot, keep, j->prompt + keep, j->n_prompt - keep,
                       &j->p->sampling, &e) == HEARTH_OK)
            j->spec = true; /* (a failing draft setup just means no speculation) */
    }
}

/* Fewest prompt tokens a step beside generations takes, so that a long
 * prompt still moves on a machine where one token costs more than a
 * generation step. */
#define PREFILL_MIN 16

/* Prompt tokens the next step may take beside n_rows generation rows (0:
 * no bound but the batch). Sized so that the prompt's part of the step
 * costs about what the generations' part does (the measured costs), at
 * most the set chunk: running streams keep about half their pace while a
 * prompt is evaluated, and the prompt gets about half the machine. */
static int32_t prefill_piece(const hearth_sched *s, int32_t n_rows) {
    int32_t cap = atomic_load_explicit(&s->prefill_chunk, memory_order_relaxed);
    if (n_rows == 0 || cap <= 0) return 0;
    int32_t lo = cap < PREFILL_MIN ? cap : PREFILL_MIN;
    if (s->ms_gen_step <= 0 || s->ms_prompt_tok <= 0) return lo;
    double fit = s->ms_gen_step / s->ms_prompt_tok;
    int32_t k = fit >= cap ? cap : (int32_t)fit;
    return k < lo ? lo : k;
}

/* Updates the measured costs with a step of n_rows generation rows and
 * n_prompt prompt tokens that took ms. */
static void observe_step(hearth_sched *s, int32_t n_rows, int32_t n_prompt, double ms) {
    const double a = 0.25; /* weight of the newest step */
    if (n_prompt == 0) {
        if (n_rows > 0)
            s->ms_gen_step = s->ms_gen_step > 0 ? (1 - a) * s->ms_gen_step + a * ms : ms;
        return;
    }
    if (n_rows > 0 && s->ms_gen_step <= 0) return; /* the prompt's share is not separable yet */
    /* the prompt's share: the step less what its generation rows cost */
    double per = (n_rows > 0 ? ms - s->ms_gen_step : ms) / n_prompt;
    if (per <= 0) return;
    s->ms_prompt_tok = s->ms_prompt_tok > 0 ? (1 - a) * s->ms_prompt_tok + a * per : per;
}

/* Puts one token of slot seq at pos into the batch (entry n), noting it
 * among the slot's kept tokens. */
static void batch_put(hearth_sched *s, int32_t n, int32_t tok, int32_t pos, int32_t seq, bool logits) {
    s->b_tok[n] = tok;
    s->b_pos[n] = pos;
    s->b_seq[n] = seq;
    s->b_logits[n] = logits;
    s->kept[seq][pos] = tok;
}

static void *sched_main(void *arg) {
    hearth_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        for (;;) {
            /* Admit waiting jobs into free slots, oldest first. A job that
             * fails to start frees its slot at once, so scan again until no
             * slot is free or nobody waits. */
            for (;;) {
                if (!s->waiting_head) break;
                int32_t i = pick_slot(s, s->waiting_head);
                if (i < 0) break;
                sched_job *j = s->waiting_head;
                s->waiting_head = j->next_waiting;
                if (!s->waiting_head) s->waiting_tail = NULL;
                pthread_mutex_unlock(&s->mu);
                start_job(s, i, j);
                pthread_mutex_lock(&s->mu);
            }
            bool busy = false, saves = false;
            for (int32_t i = 0; i < s->n_slots; i++) {
                busy |= s->slots[i] != NULL;
                saves |= s->to_save[i];
            }
            if (busy || s->stopping) break;
            if (saves) {
                /* nothing to run: the finished answers' states now */
                pthread_mutex_unlock(&s->mu);
                run_saves(s);
                pthread_mutex_lock(&s->mu);
                continue;
            }
            pthread_cond_wait(&s->work_cv, &s->mu);
        }
        bool stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stopping) break;

        /* Build one batch: every generating job's next token first (they
         * are what clients are waiting on), then prompt pieces. */
        int32_t n = 0;
        int32_t cap = hearth_ctx_seq_capacity(s->ctx);
        int32_t n_gen_left = 0; /* generating jobs not yet in the batch: one row each is kept */
        for (int32_t i = 0; i < s->n_slots; i++)
            n_gen_left += s->slots[i] && s->slots[i]->state == JOB_GEN;
        for (int32_t i = 0; i < s->n_slots; i++) {
            sched_job *j = s->slots[i];
            if (!j) continue;
            j->batch_idx = -1;
            j->n_draft = 0;
            if (j->state != JOB_GEN) continue;
            n_gen_left--;
            int32_t len = hearth_ctx_seq_len(s->ctx, i);
            if (len + 1 > cap) {
                finish_job(s, i, HEARTH_FINISH_CTX);
                continue;
            }
            batch_put(s, n, j->next, len, i, true);
            j->batch_idx = n++;
            if (!j->spec) continue;
            int32_t limit = cap - len - 1;
            if (j->p->max_tokens > 0 && j->p->max_tokens - j->res.n_gen - 1 < limit)
                limit = j->p->max_tokens - j->res.n_gen - 1;
            if (s->n_batch - n - n_gen_left < limit) limit = s->n_batch - n - n_gen_left;
            spec_draft *d = spec_draft_buf(s->specs[i]);
            double draft_ms;
            hearth_error de;
            if (spec_make_draft(s->specs[i], limit, d, &draft_ms, &de)) {
                j->spec = false; /* a failing draft source: plain decoding from here */
                d->n = 0;
            }
            for (int32_t k = 0; k < d->n; k++, n++) batch_put(s, n, d->tok[k], len + 1 + k, i, true);
            j->n_draft = d->n;
        }
        /* Prompt pieces: bounded while generations wait on this step. */
        int32_t n_rows = n, limit = s->n_batch;
        int32_t chunk = prefill_piece(s, n);
        if (chunk > 0 && n + chunk < limit) limit = n + chunk;
        for (int32_t i = 0; i < s->n_slots && n < limit; i++) {
            sched_job *j = s->slots[i];
            if (!j || j->state != JOB_PREFILL) continue;
            int32_t pos0 = hearth_ctx_seq_len(s->ctx, i);
            while (j->n_fed < j->n_prompt && n < limit) {
                batch_put(s, n, j->prompt[j->n_fed], pos0++, i, false);
                j->n_fed++;
                n++;
            }
            if (j->n_fed == j->n_prompt) {
                s->b_logits[n - 1] = 1;
                j->batch_idx = n - 1;
            }
        }
        if (n == 0) continue;
        hearth_batch b = {.n_tokens = n, .tokens = s->b_tok, .pos = s->b_pos,
                          .seq = s->b_seq, .logits = s->b_logits};
        hearth_error e;
        double t_dec = now_ms();
        hearth_status st = hearth_ctx_decode(s->ctx, &b, &e);
        s->last_decode_ms = now_ms() - t_dec;
        if (!st) observe_step(s, n_rows, n - n_rows, s->last_decode_ms);
        for (int32_t i = 0; i < s->n_slots; i++) {
            sched_job *j = s->slots[i];
            if (!j) continue;
            bool in_batch = false;
            for (int32_t k = 0; k < n && !in_batch; k++) in_batch = s->b_seq[k] == i;
            if (!in_batch) continue;
            if (st) {
                /* what the sequence holds after a failed decode is unknown */
                hearth_ctx_seq_clear(s->ctx, i, NULL);
                fail_job(s, i, st, &e);
                continue;
            }
            if (j->state == JOB_PREFILL && j->p->on_progress &&
                j->p->on_progress(j->p->progress_user, j->n_fed, j->n_prompt)) {
                finish_job(s, i, HEARTH_FINISH_CANCELLED);
                continue;
            }
            if (j->batch_idx < 0) continue;
            if (j->spec && j->state == JOB_GEN) spec_step_job(s, i, s->b_pos[j->batch_idx]);
            else step_job(s, i);
        }
    }
    /* Stopping: end whatever is left, and save what finished. */
    for (int32_t i = 0; i < s->n_slots; i++)
        if (s->slots[i]) finish_job(s, i, HEARTH_FINISH_CANCELLED);
    run_saves(s);
    pthread_mutex_lock(&s->mu);
    while (s->waiting_head) {
        sched_job *j = s->waiting_head;
        s->waiting_head = j->next_waiting;
        j->status = HEARTH_FAIL(&j->err, HEARTH_E_CANCELLED, "the scheduler is stopping");
        j->state = JOB_DONE;
        pthread_cond_signal(&j->done_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- public API -------------------------------------------------------- */

hearth_status hearth_sched_new(const hearth_model *m, const hearth_ctx_params *cp,
                               hearth_sched **out, hearth_error *err) {
    *out = NULL;
    hearth_sched *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = hearth_ctx_new(m, cp, &s->ctx, err);
    if (st) {
        hearth_free(s);
        return st;
    }
    s->model = m;
    s->tok = hearth_model_tokenizer(m);
    s->n_slots = hearth_ctx_n_seq(s->ctx);
    s->n_batch = cp && cp->n_batch > 0 ? cp->n_batch : 512;
    if (s->n_batch < s->n_slots) s->n_batch = s->n_slots;
    s->n_vocab = hearth_model_n_vocab(m);
    s->cap = hearth_ctx_seq_capacity(s->ctx);
    atomic_init(&s->prefill_chunk, HEARTH_SCHED_PREFILL_CHUNK);
    s->slots = hearth_calloc((size_t)s->n_slots, sizeof *s->slots);
    s->kept = hearth_calloc((size_t)s->n_slots, sizeof *s->kept);
    s->last_used = hearth_calloc((size_t)s->n_slots, sizeof *s->last_used);
    s->to_save = hearth_calloc((size_t)s->n_slots, sizeof *s->to_save);
    for (int32_t i = 0; s->kept && i < s->n_slots; i++)
        s->kept[i] = hearth_malloc((size_t)(s->cap > 0 ? s->cap : 1) * sizeof **s->kept);
    bool kept_ok = s->kept && s->last_used && s->to_save;
    for (int32_t i = 0; kept_ok && i < s->n_slots; i++) kept_ok = s->kept[i] != NULL;
    s->b_tok = hearth_malloc((size_t)s->n_batch * sizeof *s->b_tok);
    s->b_pos = hearth_malloc((size_t)s->n_batch * sizeof *s->b_pos);
    s->b_seq = hearth_malloc((size_t)s->n_batch * sizeof *s->b_seq);
    s->b_logits = hearth_malloc((size_t)s->n_batch);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    if (!s->slots || !kept_ok || !s->b_tok || !s->b_pos || !s->b_seq || !s->b_logits) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else if (pthread_create(&s->thread, NULL, sched_main, s)) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "cannot start the scheduler thread");
    }
    if (st) {
        hearth_sched_free(s);
        return st;
    }
    s->started = true;
    *out = s;
    return HEARTH_OK;
}

void hearth_sched_free(hearth_sched *s) {
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->specs)
        for (int32_t i = 0; i < s->n_slots; i++) hearth_spec_free(s->specs[i]);
    hearth_free(s->specs);
    hearth_ctx_free(s->ctx);
    hearth_free(s->slots);
    for (int32_t i = 0; s->kept && i < s->n_slots; i++) hearth_free(s->kept[i]);
    hearth_free(s->kept);
    hearth_free(s->last_used);
    hearth_free(s->to_save);
    hearth_free(s->b_tok);
    hearth_free(s->b_pos);
    hearth_free(s->b_seq);
    hearth_free(s->b_logits);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    hearth_free(s);
}

int32_t hearth_sched_n_slots(const hearth_sched *s) { return s->n_slots; }

void hearth_sched_set_prefill_chunk(hearth_sched *s, int32_t n) {
    if (s) atomic_store_explicit(&s->prefill_chunk, n > 0 ? n : 0, memory_order_relaxed);
}

hearth_status hearth_sched_enable_spec(hearth_sched *s, const hearth_spec_params *p, hearth_error *err) {
    if (!s || !p) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sched_enable_spec: NULL argument");
    pthread_mutex_lock(&s->mu);
    bool busy = s->specs || s->waiting_head;
    for (int32_t i = 0; i < s->n_slots && !busy; i++) busy = s->slots[i] != NULL;
    pthread_mutex_unlock(&s->mu);
    if (busy)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "hearth_sched_enable_spec: only once, before the first generation");
    hearth_spec **specs = hearth_calloc((size_t)s->n_slots, sizeof *specs);
    if (!specs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_spec_params sp = *p;
    sp.n_threads = 1; /* each slot drafts on the scheduler's thread */
    for (int32_t i = 0; i < s->n_slots; i++) {
        hearth_status st = hearth_spec_new(s->model, &sp, &specs[i], err);
        if (st) {
            for (int32_t k = 0; k < i; k++) hearth_spec_free(specs[k]);
            hearth_free(specs);
            return st;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->specs = specs;
    pthread_mutex_unlock(&s->mu);
    return HEARTH_OK;
}

hearth_status hearth_sched_set_state_hooks(hearth_sched *s, const hearth_sched_state_hooks *h,
                                          hearth_error *err) {
    if (!s || !h) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sched_set_state_hooks: NULL argument");
    pthread_mutex_lock(&s->mu);
    bool busy = s->waiting_head || s->hooks.save || s->hooks.restore;
    for (int32_t i = 0; i < s->n_slots && !busy; i++) busy = s->slots[i] != NULL;
    if (!busy) s->hooks = *h;
    pthread_mutex_unlock(&s->mu);
    if (busy)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "hearth_sched_set_state_hooks: only once, while no generation runs");
    return HEARTH_OK;
}

hearth_status hearth_sched_generate(hearth_sched *s, const int32_t *prompt, int32_t n_prompt,
                                    const hearth_gen_params *p, hearth_gen_cb cb, void *user,
                                    hearth_gen_result *res, hearth_error *err) {
    if (!s || !prompt || n_prompt < 1 || !p)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sched_generate: no prompt");
    /* Checked here, not left to decode: a bad id in a shared batch would
     * fail the decode, and with it every job in the batch. */
    for (int32_t i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= s->n_vocab)
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "hearth_sched_generate: prompt token %d at %d outside [0, %d)",
                               prompt[i], i, s->n_vocab);
    sched_job j;
    memset(&j, 0, sizeof j);
    j.prompt = prompt;
    j.n_prompt = n_prompt;
    j.p = p;
    j.cb = cb;
    j.user = user;
    j.batch_idx = -1;
    pthread_cond_init(&j.done_cv, NULL);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        pthread_cond_destroy(&j.done_cv);
        return HEARTH_FAIL(err, HEARTH_E_CANCELLED, "the scheduler is stopping");
    }
    if (s->waiting_tail) s->waiting_tail->next_waiting = &j;
    else s->waiting_head = &j;
    s->waiting_tail = &j;
    pthread_cond_signal(&s->work_cv);
    while (j.state != JOB_DONE) pthread_cond_wait(&j.done_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&j.done_cv);
    hearth_sampler_free(j.sampler);
    gcons_free(&j.gc);
    hearth_detok_free(j.detok);
    strbuf_discard(&j.held);
    if (res) *res = j.res;
    if (j.status && err) *err = j.err;
    return j.status;
}
