/*
 * agent.c: the agent handle: opens model and store, answers requests.
 *
 * The path of one request (hearth_agent_process):
 *   conversation (request messages, or stored history + the new message)
 *   -> fitted into the context window (context.c)
 *   -> chat template -> token ids (control tokens by id, content with
 *      special-token parsing off)
 *   -> response cache (temperature 0 only; key = SHA-256 of the model file's
 *      hash, the template, the prompt's token ids and the sampling settings)
 *   -> or the local model, streaming through the caller's callback
 *   -> one store transaction: the user message, the answer, their
 *      embeddings and the cache entry.
 * Nothing here touches the network. The context has two sequences: one for
 * the conversation (its content is remembered so that the next request only
 * evaluates the tokens after the common prefix) and one for embeddings.
 */
#include "agent/agent_int.h"
#include "agent/template.h"
#include "models/resolve.h"
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONTEXT 4096
#define CACHE_MAGIC "hearth-cache 2"

/* ---- small buffers -------------------------------------------------------- */

bool agent_buf_put(agent_buf *b, const char *s, size_t n) {
    if (n + 1 > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n + 1) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        char *v = hearth_realloc(b->v, cap);
        if (!v) return false;
        b->v = v;
        b->cap = cap;
    }
    if (n) memcpy(b->v + b->n, s, n);
    b->n += n;
    b->v[b->n] = '\0';
    return true;
}

bool agent_buf_puts(agent_buf *b, const char *s) { return agent_buf_put(b, s, strlen(s)); }

void agent_buf_free(agent_buf *b) {
    hearth_free(b->v);
    *b = (agent_buf){0};
}

bool agent_conv_own(agent_conv *c, void *p) {
    if (c->n_owned == c->cap_owned) {
        size_t cap = c->cap_owned ? c->cap_owned * 2 : 8;
        char **v = hearth_realloc(c->owned, cap * sizeof *v);
        if (!v) {
            hearth_free(p);
            return false;
        }
        c->owned = v;
        c->cap_owned = cap;
    }
    c->owned[c->n_owned++] = p;
    return true;
}

bool agent_conv_add(agent_conv *c, const char *role, char *content, bool take) {
    if (take && !agent_conv_own(c, content)) return false;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        hearth_chat_message *v = hearth_realloc(c->v, cap * sizeof *v);
        if (!v) return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (hearth_chat_message){role, content};
    return true;
}

void agent_conv_free(agent_conv *c) {
    for (size_t i = 0; i < c->n_owned; i++) hearth_free(c->owned[i]);
    hearth_free(c->owned);
    hearth_free(c->v);
    *c = (agent_conv){0};
}

void agent_warn(const hearth_agent *a, const char *fmt, ...) {
    if (!a->p.warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    a->p.warn(a->p.warn_user_data, msg);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- open / free ---------------------------------------------------------- */

/* The embedding model, when one is set: shared (p->embed_model) or opened
 * from p->embed_model_path (a file or a registry name), with a context of
 * one sequence as long as the model reads. */
static hearth_status open_embed_model(hearth_agent *a, const hearth_agent_params *p,
                                      hearth_error *err) {
    hearth_status st;
    const char *path = NULL;
    char resolved[4096];
    if (p->embed_model) {
        a->embed_model = (hearth_model *)p->embed_model;
        path = hearth_model_path(p->embed_model);
    } else if (p->embed_model_path && *p->embed_model_path) {
        if ((st = models_resolve_model(p->policy_settings, p->embed_model_path, NULL, resolved,
                                       sizeof resolved, err))) {
            hearth_error_prefix(err, "embed_model");
            return st;
        }
        path = resolved;
        hearth_model_params mp = hearth_model_default_params();
        mp.n_threads = p->n_threads;
        if ((st = hearth_model_open(path, &mp, &a->embed_model, err))) return st;
        a->owns_embed_model = true;
    } else {
        return HEARTH_OK;
    }
    if (!hearth_model_tokenizer(a->embed_model))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "embed_model '%s' has no tokenizer", path);
    hearth_ctx_params cp = hearth_ctx_default_params();
    int32_t train = hearth_model_n_ctx_train(a->embed_model);
    cp.n_ctx = train > 0 && train < 4096 ? train : 4096;
    cp.n_seq = 1;
    cp.n_threads = p->n_threads;
    if ((st = hearth_ctx_new(a->embed_model, &cp, &a->embed_ctx, err))) return st;
    a->n_embd = hearth_model_n_embd(a->embed_model);
    return agent_model_hash(path, a->store, a->embed_hash, err);
}

hearth_status hearth_agent_open(const hearth_agent_params *p, hearth_agent **out,
                                hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_agent_open: out is NULL");
    *out = NULL;
    if (!p || !p->model_path || !*p->model_path)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "agent: no model given (-m or HEARTH_MODEL)");
    if (p->max_context < 0 || p->n_threads < 0 || p->max_tokens < 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "agent: negative max_context/threads/max_tokens");
    hearth_agent *a = hearth_calloc(1, sizeof *a);
    if (!a) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "agent: out of memory");
    a->p = *p;
    a->model_path = hearth_strdup(p->model_path);
    a->system_prompt = p->system_prompt ? hearth_strdup(p->system_prompt) : NULL;
    hearth_status st = HEARTH_OK;
    if (!a->model_path || (p->system_prompt && !a->system_prompt)) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "agent: out of memory");
        goto fail;
    }
    a->p.model_path = a->model_path;
    a->p.system_prompt = a->system_prompt;
    a->p.data_dir = NULL; /* not kept: the store has its path */
    atomic_init(&a->cancel, 0);

    hearth_store_params sp = hearth_store_default_params();
    sp.data_dir = p->data_dir;
    if ((st = hearth_store_open(&sp, &a->store, err))) goto fail;

    if (p->model) {
        a->model = (hearth_model *)p->model; /* borrowed: never freed here */
    } else {
        hearth_model_params mp = hearth_model_default_params();
        mp.n_threads = p->n_threads;
        /* the weights are read in full by the first answer anyway; mapping
         * them at open keeps the page faults out of its time to first token */
        mp.prefault = true;
        if ((st = hearth_model_open(a->model_path, &mp, &a->model, err))) goto fail;
        a->owns_model = true;
    }
    a->tok = hearth_model_tokenizer(a->model);
    a->n_embd = hearth_model_n_embd(a->model);
    if (!a->tok) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "model '%s' has no tokenizer", a->model_path);
        goto fail;
    }

    bool known = false;
    const char *tmpl = hearth_model_chat_template(a->model);
    a->tmpl = hearth_template_detect(tmpl, &known);
    if (!known)
        agent_warn(a, "model '%s': %s chat template; using ChatML", a->model_path,
                   tmpl ? "unrecognized" : "no");
    if ((a->tmpl == HEARTH_TEMPLATE_CHATML || a->tmpl == HEARTH_TEMPLATE_QWEN3) &&
        (st = tmpl_default_system(tmpl, &a->template_system, err)))
        goto fail;

    int32_t n_ctx = p->max_context > 0 ? p->max_context : DEFAULT_CONTEXT;
    int32_t train = hearth_model_n_ctx_train(a->model);
    if (train > 0 && n_ctx > train) {
        /* Positions past the trained length give garbage. The default is
         * capped quietly; an explicit larger window gets a warning. */
        if (n_ctx != DEFAULT_CONTEXT)
            agent_warn(a, "context of %d tokens is more than the model was trained for; using %d",
                       (int)n_ctx, (int)train);
        n_ctx = train;
    }
    a->n_ctx = n_ctx;
    hearth_ctx_params cp = hearth_ctx_default_params();
    /* With a scheduler the chat sequence is unused (generation runs in the
     * scheduler's slots), so the context only needs room for embeddings. */
    cp.n_ctx = p->sched ? n_ctx : n_ctx * AGENT_N_SEQ;
    cp.n_seq = AGENT_N_SEQ;
    cp.n_threads = p->n_threads;
    cp.type_k = p->cache_type_k;
    cp.type_v = p->cache_type_v;
    if ((st = hearth_ctx_new(a->model, &cp, &a->ctx, err))) goto fail;

    if ((st = agent_model_hash(a->model_path, a->store, a->model_hash, err))) goto fail;
    memcpy(a->embed_hash, a->model_hash, sizeof a->embed_hash);
    if ((st = open_embed_model(a, p, err))) goto fail;
    if ((st = agent_open_spec(a, p, err))) goto fail;
    if ((st = agent_kv_open(a, p->kv_cache_bytes, err))) goto fail;

    router_params rp = {.cloud_url = p->cloud_url, .cloud_model = p->cloud_model,
                        .cloud_api_key = p->cloud_api_key, .cloud_ca_file = p->cloud_ca_file,
                        .cloud_timeout_ms = p->cloud_timeout_ms,
                        .threshold = p->confidence_threshold,
                        .audit_content = p->audit_content};
    router_policy_default(&rp.policy);
    if (p->policy_settings) {
        if ((st = router_policy_from_settings(p->policy_settings, &rp.policy, err))) goto fail;
        rp.redact_terms = hearth_settings_get(p->policy_settings, "redact_terms", NULL);
    }
    if ((st = router_new(&rp, &a->router, err))) goto fail;
    /* the copies are the router's; the agent keeps no cloud strings */
    a->p.cloud_url = a->p.cloud_model = a->p.cloud_api_key = a->p.cloud_ca_file = NULL;
    a->p.policy_settings = NULL;
    *out = a;
    return HEARTH_OK;
fail:
    hearth_agent_free(a);
    return st;
}

void hearth_agent_free(hearth_agent *a) {
    if (!a) return;
    router_free(a->router);
    agent_free_spec(a);
    hearth_ctx_free(a->embed_ctx);
    if (a->owns_embed_model) hearth_model_free(a->embed_model);
    hearth_ctx_free(a->ctx);
    if (a->owns_model) hearth_model_free(a->model);
    hearth_store_free(a->store);
    hearth_free(a->seq_tokens);
    agent_kv_close(a);
    hearth_free(a->model_path);
    hearth_free(a->system_prompt);
    hearth_free(a->template_system);
    hearth_free(a);
}

hearth_agent_request hearth_agent_default_request(const hearth_agent *a) {
    return hearth_agent_default_request_from(a ? &a->p : NULL);
}

bool hearth_agent_can_use_cloud(const hearth_agent *a) {
    return a && router_may_escalate(a->router, NULL);
}

void hearth_agent_cancel(hearth_agent *a) {
    if (a) atomic_store(&a->cancel, 1);
}

hearth_template hearth_agent_template(const hearth_agent *a) { return a->tmpl; }
const char *hearth_agent_model_hash(const hearth_agent *a) { return a->model_hash; }
const hearth_model *hearth_agent_model(const hearth_agent *a) { return a->model; }
const hearth_model *hearth_agent_embed_model(const hearth_agent *a) {
    return a->embed_model ? a->embed_model : a->model;
}
hearth_store *hearth_agent_store(hearth_agent *a) { return a->store; }

hearth_status hearth_agent_reset_session(hearth_agent *a, const char *session,
                                         hearth_error *err) {
    if (!a || !session) return HEARTH_FAIL(err, HEARTH_E_ARG, "reset: NULL argument");
    agent_kv_forget(a, session);
    int64_t id;
    hearth_error e2;
    hearth_status st = hearth_store_session_find(a->store, session, &id, &e2);
    if (st == HEARTH_E_NOTFOUND) return HEARTH_OK;
    if (st) {
        if (err) *err = e2;
        return st;
    }
    return hearth_store_session_clear(a->store, id, err);
}

hearth_status hearth_agent_delete_session(hearth_agent *a, const char *name, hearth_error *err) {
    if (!a || !name) return HEARTH_FAIL(err, HEARTH_E_ARG, "delete session: NULL argument");
    agent_kv_forget(a, name);
    int64_t id;
    hearth_error e2;
    hearth_status st = hearth_store_session_find(a->store, name, &id, &e2);
    if (st == HEARTH_E_NOTFOUND) return HEARTH_OK;
    if (st) {
        if (err) *err = e2;
        return st;
    }
    return hearth_store_session_delete(a->store, id, err);
}

/* ---- model runs ------------------------------------------------------------ */

hearth_status agent_count(hearth_agent *a, const hearth_chat_message *msgs, size_t n,
                          size_t *count, hearth_error *err) {
    int32_t *ids = NULL;
    size_t k = 0;
    hearth_status st = hearth_template_render(a->tmpl, a->tok, msgs, n, &ids, &k, err);
    hearth_free(ids);
    if (!st) *count = k;
    return st;
}

typedef struct {
    hearth_agent *a;
    agent_gen *g;
    int32_t *gen; /* generated ids */
    size_t n_gen, cap_gen;
    hearth_stream_fn fn;
    void *ud;
    bool nomem;
} gen_state;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    gen_state *s = user;
    if (token >= 0) {
        if (s->n_gen == 0) s->g->first_token_ms = now_ms();
        if (s->n_gen == s->cap_gen) {
            size_t cap = s->cap_gen ? s->cap_gen * 2 : 64;
            int32_t *v = hearth_realloc(s->gen, cap * sizeof *v);
            if (!v) {
                s->nomem = true;
                return 1;
            }
            s->gen = v;
            s->cap_gen = cap;
        }
        s->gen[s->n_gen++] = token;
    }
    if (len) {
        /* Answers are C strings everywhere after this (store, JSON, CLI): a
         * NUL byte the model may produce is dropped, from the stream too. */
        size_t at = s->g->text.n;
        for (size_t i = 0; i < len;) {
            const char *z = memchr(text + i, '\0', len - i);
            size_t run = z ? (size_t)(z - (text + i)) : len - i;
            if (!agent_buf_put(&s->g->text, text + i, run)) {
                s->nomem = true;
                return 1;
            }
            i += run + (z ? 1 : 0);
        }
        text = s->g->text.v + at;
        len = s->g->text.n - at;
        if (len && s->fn && !s->fn(s->ud, text, len)) {
            s->g->cb_stopped = true;
            return 1;
        }
    }
    return agent_should_stop(s->a) ? 1 : 0;
}

bool agent_should_stop(hearth_agent *a) {
    const hearth_agent_request *r = a->cur;
    return atomic_load(&a->cancel) || (r && r->should_stop && r->should_stop(r->user_data));
}

/* Prompt progress: the request's callback, and a chance to stop. */
static int on_progress(void *user, int32_t done, int32_t total) {
    hearth_agent *a = user;
    const hearth_agent_request *r = a->cur;
    if (r && r->on_prefill) r->on_prefill(r->user_data, done, total);
    return agent_should_stop(a) ? 1 : 0;
}

/* Remembers that the chat sequence holds a[0..na) ++ b[0..nb), as far as the
 * context says it holds anything. */
static void remember_seq(hearth_agent *a, const int32_t *x, size_t nx, const int32_t *y,
                         size_t ny) {
    int32_t len = hearth_ctx_seq_len(a->ctx, AGENT_SEQ_CHAT);
    size_t want = nx + ny;
    if (len < 0) len = 0;
    if ((size_t)len < want) want = (size_t)len;
    if (want > a->cap_seq_tokens) {
        int32_t *v = hearth_realloc(a->seq_tokens, want * sizeof *v);
        if (!v) {
            a->n_seq_tokens = 0;
            hearth_ctx_seq_clear(a->ctx, AGENT_SEQ_CHAT, NULL);
            return;
        }
        a->seq_tokens = v;
        a->cap_seq_tokens = want;
    }
    size_t from_x = want < nx ? want : nx;
    /* y is NULL when nothing was generated (a prefill that was cancelled) */
    if (from_x) memcpy(a->seq_tokens, x, from_x * sizeof *x);
    if (want > from_x) memcpy(a->seq_tokens + from_x, y, (want - from_x) * sizeof *y);
    a->n_seq_tokens = want;
    /* Positions we can not name are dropped so the prefix stays exact. */
    if ((size_t)len > want) hearth_ctx_seq_truncate(a->ctx, AGENT_SEQ_CHAT, (int32_t)want, NULL);
}

/* After an answer in a session: the next request's prompt starts with this
 * conversation plus the answer as the template renders it, which is not
 * always the tokens that were generated (a text can tokenize in more than
 * one way), then the turn's closing tokens and the opening of the next user
 * message. Evaluating those now, after the answer is out, takes them off
 * the next turn's time to first token, and the saved state holds them: the
 * next turn evaluates only its own text. What comes before the next user
 * text is the common prefix of the renderings with two different user
 * texts. A failure only costs that work. */
static void warm_next_turn(hearth_agent *a, agent_conv *conv, const char *answer) {
    if (a->p.sched || !answer) return;
    size_t n_conv = conv->n;
    int32_t *ids = NULL, *alt = NULL;
    size_t n = 0, n_alt = 0;
    bool ok = agent_conv_add(conv, "assistant", (char *)answer, false) &&
              agent_conv_add(conv, "user", "", false) &&
              hearth_template_render(a->tmpl, a->tok, conv->v, conv->n, &ids, &n, NULL) == HEARTH_OK;
    if (ok) {
        conv->v[conv->n - 1].content = "x";
        ok = hearth_template_render(a->tmpl, a->tok, conv->v, conv->n, &alt, &n_alt, NULL) == HEARTH_OK;
    }
    conv->n = n_conv;
    size_t keep = 0;
    while (ok && keep < n && keep < n_alt && ids[keep] == alt[keep]) keep++;
    hearth_free(alt);
    int32_t held = hearth_ctx_seq_len(a->ctx, AGENT_SEQ_CHAT);
    /* keep < n_alt: the next prompt has at least one more token to evaluate */
    if (!ok || held < 0 || keep == 0 || keep >= n_alt || keep > (size_t)hearth_ctx_seq_capacity(a->ctx) ||
        keep >= (size_t)a->n_ctx) {
        hearth_free(ids);
        return;
    }
    n = keep;
    size_t common = 0, lim = a->n_seq_tokens < (size_t)held ? a->n_seq_tokens : (size_t)held;
    while (common < lim && common < n && a->seq_tokens[common] == ids[common]) common++;
    if (common < n) {
        hearth_error e;
        if (hearth_ctx_seq_truncate(a->ctx, AGENT_SEQ_CHAT, (int32_t)common, &e) ||
            hearth_ctx_eval(a->ctx, AGENT_SEQ_CHAT, ids + common, (int32_t)(n - common), &e)) {
            hearth_ctx_seq_clear(a->ctx, AGENT_SEQ_CHAT, NULL);
            a->n_seq_tokens = 0;
            hearth_free(ids);
            return;
        }
    }
    hearth_free(a->seq_tokens);
    a->seq_tokens = ids;
    a->n_seq_tokens = n;
    a->cap_seq_tokens = n; /* ids holds more; n is what is known to be there */
    /* the sequence was extended outside a generation: speculation's drafts
     * continue what it holds now */
    hearth_spec_set_history(a->spec, a->ctx, AGENT_SEQ_CHAT, a->seq_tokens, (int32_t)n);
}

/* Generation through a shared batch scheduler, decoded together with other
 * agents' generations; the scheduler reuses the prefix a slot holds (the
 * previous turn of the conversation, when it is still there). */
static hearth_status agent_generate_sched(hearth_agent *a, const int32_t *prompt, size_t n,
                                          const hearth_gen_params *gp, hearth_stream_fn fn,
                                          void *ud, agent_gen *g, hearth_error *err) {
    gen_state s = {.a = a, .g = g, .fn = fn, .ud = ud};
    hearth_status st = hearth_sched_generate(a->p.sched, prompt, (int32_t)n, gp, on_token, &s,
                                             &g->res, err);
    if (!st && s.nomem) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "generate: out of memory");
    hearth_free(s.gen);
    if (st) {
        agent_buf_free(&g->text);
        return st;
    }
    if (!g->text.v && !agent_buf_put(&g->text, "", 0))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "generate: out of memory");
    g->res.n_prompt = (int32_t)n;
    g->n_cached = (size_t)g->res.n_cached;
    return HEARTH_OK;
}

/* The confidence accumulator and, when the request wants them too, its own
 * log-probability callback. */
typedef struct {
    conf_acc *conf;
    hearth_logprob_cb cb;
    void *user;
} lp_fan;

/* Feeds each sampled token's log-probability to the answer's confidence
 * (and to the request's callback). */
static void on_logprob(void *user, const hearth_token_logprob *lp) {
    lp_fan *f = user;
    if (f->cb) f->cb(f->user, lp);
    float margin = lp->n_top >= 2 ? expf(lp->top_logprobs[0]) - expf(lp->top_logprobs[1])
                   : lp->n_top == 1 ? 1.0f : 0.0f;
    /* The margin is the model's own certainty at this step, whatever the
     * sampler drew: a drawn runner-up still had the same margin. */
    conf_add(f->conf, lp->logprob, margin);
}

hearth_status agent_generate(hearth_agent *a, const int32_t *prompt, size_t n,
                             const hearth_gen_params *gp_in, hearth_stream_fn fn, void *ud,
                             agent_gen *g, hearth_error *err) {
    *g = (agent_gen){0};
    conf_init(&g->conf);
    hearth_gen_params lp_params = *gp_in;
    lp_fan fan = {&g->conf, gp_in->on_logprob, gp_in->logprob_user};
    lp_params.on_logprob = on_logprob;
    lp_params.logprob_user = &fan;
    if (!lp_params.on_progress) {
        lp_params.on_progress = on_progress;
        lp_params.progress_user = a;
    }
    const hearth_gen_params *gp = &lp_params;
    if (n == 0) return HEARTH_FAIL(err, HEARTH_E_ARG, "generate: empty prompt");
    if (n >= (size_t)a->n_ctx)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                           "prompt of %zu tokens does not fit the context window of %d", n,
                           (int)a->n_ctx);
    if (a->p.sched) return agent_generate_sched(a, prompt, n, gp, fn, ud, g, err);
    size_t common = 0;
    int32_t held = hearth_ctx_seq_len(a->ctx, AGENT_SEQ_CHAT);
    size_t limit = a->n_seq_tokens < (size_t)(held > 0 ? held : 0) ? a->n_seq_tokens
                                                                    : (size_t)(held > 0 ? held : 0);
    while (common < limit && common < n && a->seq_tokens[common] == prompt[common]) common++;
    if (common == n) common--; /* at least one token must be evaluated for logits */
    hearth_status st = hearth_ctx_seq_truncate(a->ctx, AGENT_SEQ_CHAT, (int32_t)common, err);
    if (st) {
        a->n_seq_tokens = 0;
        return st;
    }
    a->n_seq_tokens = common;
    g->n_cached = common;

    hearth_gen_params p = *gp;
    p.seq = AGENT_SEQ_CHAT;
    if (!p.spec) p.spec = a->spec;
    gen_state s = {.a = a, .g = g, .fn = fn, .ud = ud};
    st = hearth_generate(a->ctx, prompt + common, (int32_t)(n - common), &p, on_token, &s,
                         &g->res, err);
    if (!st && s.nomem) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "generate: out of memory");
    if (st) {
        hearth_ctx_seq_clear(a->ctx, AGENT_SEQ_CHAT, NULL);
        a->n_seq_tokens = 0;
        hearth_free(s.gen);
        agent_buf_free(&g->text);
        return st;
    }
    remember_seq(a, prompt, n, s.gen, s.n_gen);
    hearth_free(s.gen);
    if (!g->text.v && !agent_buf_put(&g->text, "", 0)) {
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "generate: out of memory");
    }
    g->res.n_prompt = (int32_t)n;
    return HEARTH_OK;
}

hearth_status hearth_embed(hearth_agent *a, const char *text, size_t len, float **vec,
                           int *dim, hearth_error *err) {
    if (!a || !text || !vec || !dim)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_embed: NULL argument");
    *vec = NULL;
    *dim = 0;
    int32_t *ids = NULL;
    size_t n = 0;
    /* the embedding model when one is set, with its own tokenizer */
    const hearth_tokenizer *tok = a->embed_model ? hearth_model_tokenizer(a->embed_model) : a->tok;
    hearth_ctx *ctx = a->embed_ctx ? a->embed_ctx : a->ctx;
    int32_t seq = a->embed_ctx ? 0 : AGENT_SEQ_EMBED;
    hearth_status st = hearth_tokenize(tok, text, len, true, false, &ids, &n, err);
    if (st) return st;
    if (n == 0) {
        /* An empty text still gets a vector: that of the BOS or EOS token. */
        int32_t t = hearth_token_bos(tok);
        if (t < 0) t = hearth_token_eos(tok);
        if (t < 0) t = 0;
        ids[0] = t;
        n = 1;
    }
    /* A text longer than the sequence's room is embedded by its beginning
     * (an encoder's closing [SEP] kept). */
    int32_t room = hearth_ctx_seq_capacity(ctx);
    if (room > 0 && n > (size_t)room) {
        n = (size_t)room;
        if (a->embed_model && hearth_tokenizer_add_eos(tok) && n > 1) ids[n - 1] = hearth_token_eos(tok);
    }
    float *v = hearth_malloc((size_t)a->n_embd * sizeof *v);
    if (!v) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "embed: out of memory");
    if (!st) st = hearth_ctx_embed(ctx, seq, ids, (int32_t)n, v, err);
    hearth_free(ids);
    if (st) {
        hearth_free(v);
        return st;
    }
    *vec = v;
    *dim = a->n_embd;
    return HEARTH_OK;
}

/* ---- the response cache ---------------------------------------------------- */

/* Key: SHA-256 over the model file's hash, the template family, the prompt
 * ids and every setting that changes a greedy answer. */
static hearth_status cache_key(const hearth_agent *a, const hearth_agent_request *r,
                               const int32_t *ids, size_t n, int max_tokens, char key[80],
                               hearth_error *err) {
    agent_buf b = {0};
    char head[512];
    snprintf(head, sizeof head, "model=%s\ntemplate=%s\nmax_tokens=%d\nrepeat=%.9g\n"
             "presence=%.9g\nfrequency=%.9g\nn_stop=%zu\n",
             a->model_hash, hearth_template_name(a->tmpl), max_tokens, r->repeat_penalty,
             r->presence_penalty, r->frequency_penalty, r->n_stop);
    bool ok = agent_buf_puts(&b, head);
    for (size_t i = 0; ok && i < r->n_stop; i++) {
        char len[32];
        snprintf(len, sizeof len, "%zu:", strlen(r->stop[i]));
        ok = agent_buf_puts(&b, len) && agent_buf_puts(&b, r->stop[i]);
    }
    ok = ok && agent_buf_puts(&b, "\nprompt=");
    for (size_t i = 0; ok && i < n; i++) {
        char t[16];
        snprintf(t, sizeof t, "%" PRId32 ",", ids[i]);
        ok = agent_buf_puts(&b, t);
    }
    if (!ok) {
        agent_buf_free(&b);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "cache key: out of memory");
    }
    char hex[65];
    hearth_status st = agent_sha256_hex(b.v, b.n, hex, err);
    agent_buf_free(&b);
    if (!st) snprintf(key, 80, "chat:%s", hex);
    return st;
}

/* A cache entry: a header line, the answer, then the float32 embeddings of
 * the user message and of the answer (dim each, or none), so that a hit can
 * store the exchange with its embeddings without running the model. */
typedef struct {
    int finish;
    int completion_tokens;
    size_t content_len;
    int dim;
    double confidence;                  /* -1: unknown (a version 1 entry) */
    const char *content;
    const float *user_vec, *answer_vec; /* unaligned: read with memcpy */
} cache_entry;

static bool cache_parse(const char *v, size_t len, cache_entry *e) {
    const char *nl = memchr(v, '\n', len);
    if (!nl) return false;
    char head[128];
    size_t hl = (size_t)(nl - v);
    if (hl >= sizeof head) return false;
    memcpy(head, v, hl);
    head[hl] = '\0';
    char magic1[16], magic2[4];
    unsigned long long cl;
    e->confidence = -1.0;
    int got = sscanf(head, "%15s %3s %d %d %llu %d %lf", magic1, magic2, &e->finish,
                     &e->completion_tokens, &cl, &e->dim, &e->confidence);
    if (got < 6 || strcmp(magic1, "hearth-cache")) return false;
    /* Version 2 added the confidence; version 1 entries stay readable. */
    if (!(strcmp(magic2, "1") == 0 && got == 6) && !(strcmp(magic2, "2") == 0 && got == 7))
        return false;
    if (e->dim < 0 || e->dim > 65536) return false;
    if (!(e->confidence >= 0.0 && e->confidence <= 1.0)) e->confidence = -1.0;
    size_t body = len - hl - 1, vecs = (size_t)e->dim * 2 * sizeof(float);
    if (cl > body || vecs != body - cl) return false;
    e->content_len = (size_t)cl;
    e->content = nl + 1;
    e->user_vec = (const float *)(const void *)(e->content + cl);
    e->answer_vec = e->user_vec + e->dim;
    return true;
}

/* ---- storing an exchange ---------------------------------------------------- */

typedef struct {
    const char *user;
    int32_t user_tokens;
    const char *answer;
    int32_t answer_tokens;
    const float *user_vec, *answer_vec; /* may be NULL */
    int dim;
    const char *cache_key;              /* NULL: no cache entry */
    const void *cache_val;
    size_t cache_len;
} exchange;

static hearth_status put_vec(hearth_agent *a, int64_t owner, int64_t group, const float *v,
                             int dim, hearth_error *err) {
    if (!v || dim <= 0) return HEARTH_OK;
    float *tmp = hearth_malloc((size_t)dim * sizeof *tmp);
    if (!tmp) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding: out of memory");
    memcpy(tmp, v, (size_t)dim * sizeof *tmp); /* v may be unaligned */
    hearth_status st = hearth_store_embedding_put(a->store, AGENT_EMBED_KIND, owner, group,
                                                  a->embed_hash, tmp, dim, NULL, err);
    hearth_free(tmp);
    return st;
}

/* One transaction: messages, embeddings, cache entry; all or nothing. */
static hearth_status store_exchange(hearth_agent *a, const char *session, const exchange *x,
                                    hearth_agent_response *resp, hearth_error *err) {
    hearth_status st = hearth_store_begin(a->store, err);
    if (st) return st;
    int64_t sid = 0, ids[2] = {0, 0};
    if (session) {
        st = hearth_store_session_ensure(a->store, session, &sid, err);
        const char *name = hearth_model_name(a->model);
        hearth_message m[2] = {
            {.session_id = sid, .role = "user", .content = x->user, .n_tokens = x->user_tokens},
            {.session_id = sid, .role = "assistant", .content = x->answer,
             .n_tokens = x->answer_tokens, .model = name && *name ? name : NULL,
             .source = hearth_source_name(resp->source), .confidence = resp->confidence},
        };
        if (!st) st = hearth_store_message_add_batch(a->store, m, 2, ids, err);
        if (!st) st = put_vec(a, ids[0], sid, x->user_vec, x->dim, err);
        if (!st) st = put_vec(a, ids[1], sid, x->answer_vec, x->dim, err);
    }
    if (!st && x->cache_key) {
        hearth_error ce;
        hearth_status cs = hearth_store_cache_put(a->store, x->cache_key, x->cache_val,
                                                  x->cache_len, &ce);
        /* An answer too big for the cache is still a good answer. */
        if (cs && cs != HEARTH_E_LIMIT) {
            st = cs;
            if (err) *err = ce;
        }
    }
    if (st) {
        hearth_store_rollback(a->store, NULL);
        return st;
    }
    st = hearth_store_commit(a->store, err);
    if (st) {
        hearth_store_rollback(a->store, NULL);
        return st;
    }
    resp->user_message_id = ids[0];
    resp->assistant_message_id = ids[1];
    return HEARTH_OK;
}

/* ---- process ---------------------------------------------------------------- */

static bool valid_role(const char *r) {
    return r && (!strcmp(r, "system") || !strcmp(r, "user") || !strcmp(r, "assistant"));
}

/* The system text of a conversation that brings none: the agent's system
 * prompt, else the one the chat template writes by default, else NULL. */
const char *agent_default_system(const hearth_agent *a) {
    return a->system_prompt ? a->system_prompt : a->template_system;
}

/* Builds the conversation of a request. OUT: *conv, *user (the new user
 * message: borrowed), *hist (owned by caller: hearth_free) for session mode. */
hearth_status agent_build_conv(hearth_agent *a, const hearth_agent_request *r, size_t budget,
                                agent_conv *conv, const char **user, int64_t *sid,
                                hearth_error *err) {
    *user = NULL;
    *sid = 0;
    if (r->n_messages) {
        if (!r->messages) return HEARTH_FAIL(err, HEARTH_E_ARG, "request: messages is NULL");
        bool has_system = false;
        for (size_t i = 0; i < r->n_messages; i++) {
            if (!valid_role(r->messages[i].role))
                return HEARTH_FAIL(err, HEARTH_E_ARG,
                                   "message %zu: role '%s' is not system, user or assistant", i,
                                   r->messages[i].role ? r->messages[i].role : "(null)");
            if (!r->messages[i].content)
                return HEARTH_FAIL(err, HEARTH_E_ARG, "message %zu: content is NULL", i);
            has_system |= !strcmp(r->messages[i].role, "system");
            if (!strcmp(r->messages[i].role, "user")) *user = r->messages[i].content;
        }
        if (!*user) return HEARTH_FAIL(err, HEARTH_E_ARG, "request: no user message");
        if (!has_system && agent_default_system(a) &&
            !agent_conv_add(conv, "system", (char *)agent_default_system(a), false))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
        for (size_t i = 0; i < r->n_messages; i++)
            if (!agent_conv_add(conv, r->messages[i].role, (char *)r->messages[i].content, false))
                return HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
        size_t count;
        hearth_status st = agent_count(a, conv->v, conv->n, &count, err);
        if (st) return st;
        if (count > budget)
            return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                               "the messages take %zu tokens; the context window of %d holds "
                               "%zu with room for the answer",
                               count, (int)a->n_ctx, budget);
        return HEARTH_OK;
    }
    if (!r->user) return HEARTH_FAIL(err, HEARTH_E_ARG, "request: no user message");
    *user = r->user;
    hearth_message *hist = NULL;
    size_t n_hist = 0;
    hearth_status st = HEARTH_OK;
    if (r->session) {
        st = hearth_store_session_find(a->store, r->session, sid, NULL);
        if (st == HEARTH_E_NOTFOUND) {
            *sid = 0;
            st = HEARTH_OK;
        } else if (st) {
            return HEARTH_FAIL(err, st, "session '%s': lookup failed", r->session);
        } else {
            hearth_message_query q = hearth_message_query_default();
            q.session_id = *sid;
            if ((st = hearth_store_messages(a->store, &q, &hist, &n_hist, err))) return st;
        }
    }
    /* Stored messages of other roles (tools, ...) are not part of the chat. */
    size_t k = 0;
    for (size_t i = 0; i < n_hist; i++)
        if (!strcmp(hist[i].role, "user") || !strcmp(hist[i].role, "assistant"))
            hist[k++] = hist[i];
    st = agent_fit(a, *sid, agent_default_system(a), hist, k, r->user, budget, conv, err);
    /* conv borrows hist's strings: the conv frees the block. */
    if (hist && !agent_conv_own(conv, hist) && !st)
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
    return st;
}

static bool agent_cancelled(void *ud) {
    hearth_agent *a = ud;
    return atomic_load(&a->cancel) != 0;
}

static void emit(const hearth_agent_request *r, const char *text, size_t len) {
    if (r->on_text && len) r->on_text(r->user_data, text, len);
}

/* After a held-back local answer: keeps it (and releases it to the stream)
 * or replaces it with the cloud's, as the router decides (the router writes
 * the audit record; resp gets its figures). resp->content is the local
 * answer on entry. */
static hearth_status route(hearth_agent *a, const hearth_agent_request *r,
                           const router_overrides *ov, const agent_conv *conv, int max_tokens,
                           hearth_agent_response *resp, hearth_error *err) {
    size_t local_len = strlen(resp->content);
    bool escalate = resp->finish != HEARTH_FINISH_CANCELLED &&
                    (resp->confidence < router_threshold(a->router) || r->prefer_cloud);
    if (!escalate) {
        emit(r, resp->content, local_len);
        return HEARTH_OK;
    }
    router_request rq = {.messages = conv->v, .n_messages = conv->n, .session = r->session,
                         .confidence = resp->confidence, .overrides = ov,
                         .consent_given = r->consent, .consent = r->consent_fn,
                         .consent_ud = r->consent_user_data, .on_text = r->on_text,
                         .user_data = r->user_data, .cancelled = agent_cancelled,
                         .cancel_ud = a, .store = a->store, .max_tokens = max_tokens,
                         .temperature = r->temperature};
    router_result rr;
    hearth_status st = router_escalate(a->router, &rq, &rr, err);
    if (st) return st;
    snprintf(resp->route_reason, sizeof resp->route_reason, "%s", rr.reason);
    snprintf(resp->category, sizeof resp->category, "%s",
             router_category_name(rr.category) ? router_category_name(rr.category) : "");
    const char *host = router_cloud_host(a->router);
    snprintf(resp->route_host, sizeof resp->route_host, "%s", host ? host : "");
    if (rr.has_audit) {
        snprintf(resp->route_decision, sizeof resp->route_decision, "%s", rr.audit.decision);
        resp->bytes_out = rr.audit.bytes_out;
        resp->bytes_in = rr.audit.bytes_in;
        resp->cloud_ms = rr.audit.latency_ms;
        snprintf(resp->redactions, sizeof resp->redactions, "%s", rr.audit.redactions_json);
        resp->audit_id = rr.audit_id;
        /* the request already left (or was stopped): a failed write of its
         * outcome must not cost the user the answer, but it must be said */
        if (rr.audit_error[0]) agent_warn(a, "audit log: %s", rr.audit_error);
    }
    switch (rr.outcome) {
    case ROUTER_OUT_CLOUD: {
        if (!rr.streamed) emit(r, rr.text, strlen(rr.text));
        hearth_free(resp->content);
        resp->content = rr.text;
        rr.text = NULL;
        resp->source = HEARTH_SOURCE_CLOUD;
        resp->finish = HEARTH_FINISH_STOP;
        int32_t *t = NULL;
        size_t tn = 0;
        if (hearth_tokenize(a->tok, resp->content, strlen(resp->content), false, false, &t, &tn,
                            NULL) == HEARTH_OK)
            resp->completion_tokens = (int)tn;
        hearth_free(t);
        break;
    }
    case ROUTER_OUT_DEGRADED:
        resp->source = HEARTH_SOURCE_LOCAL_DEGRADED;
        /* a stream that broke after some text: the local answer follows it */
        if (rr.streamed) emit(r, "\n\n", 2);
        emit(r, resp->content, local_len);
        break;
    case ROUTER_OUT_CONSENT_NEEDED:
        resp->consent_needed = true;
        resp->consent_preview = rr.preview;
        rr.preview = NULL;
        emit(r, resp->content, local_len);
        break;
    default:
        emit(r, resp->content, local_len);
        break;
    }
    router_result_clear(&rr);
    return HEARTH_OK;
}

static hearth_status agent_process(hearth_agent *a, const hearth_agent_request *r,
                                   hearth_agent_response *resp, hearth_error *err);

hearth_gen_params agent_gen_params(const hearth_agent_request *r, int32_t max_tokens) {
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = max_tokens;
    gp.stop = r->stop;
    gp.n_stop = (int32_t)r->n_stop;
    gp.sampling.temp = r->temperature;
    gp.sampling.top_k = r->top_k;
    gp.sampling.top_p = r->top_p > 0 ? r->top_p : 1.0f;
    gp.sampling.min_p = r->min_p;
    gp.sampling.repeat_penalty = r->repeat_penalty > 0 ? r->repeat_penalty : 1.0f;
    gp.sampling.presence_penalty = r->presence_penalty;
    gp.sampling.frequency_penalty = r->frequency_penalty;
    gp.sampling.seed = r->seed >= 0 ? (uint64_t)r->seed : HEARTH_SEED_RANDOM;
    /* an incognito request leaves nothing in a scheduler slot either */
    gp.no_reuse = r->incognito;
    return gp;
}

hearth_status hearth_agent_process(hearth_agent *a, const hearth_agent_request *r,
                                   hearth_agent_response *resp, hearth_error *err) {
    if (!a || !r || !resp)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_agent_process: NULL argument");
    *resp = (hearth_agent_response){0};
    atomic_store(&a->cancel, 0);
    a->cur = r;
    hearth_status tst = agent_process(a, r, resp, err);
    a->cur = NULL;
    return tst;
}

static hearth_status agent_process(hearth_agent *a, const hearth_agent_request *r,
                                   hearth_agent_response *resp, hearth_error *err) {
    if (r->tools_json || r->builtin_tools || r->tool_info)
        return agent_tools_process(a, r, resp, err);
    double t0 = now_ms();
    if (r->max_tokens < 0 || r->n_stop > 64 || (r->n_stop && !r->stop))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "request: bad max_tokens or stop list");
    for (size_t i = 0; i < r->n_stop; i++)
        if (!r->stop[i] || !*r->stop[i])
            return HEARTH_FAIL(err, HEARTH_E_ARG, "request: stop string %zu is empty", i);

    int max_tokens = r->max_tokens > 0 ? r->max_tokens : a->p.max_tokens;
    if (max_tokens <= 0) max_tokens = 512;
    size_t reserve = (size_t)max_tokens < (size_t)a->n_ctx / 2 ? (size_t)max_tokens
                                                                : (size_t)a->n_ctx / 2;
    size_t budget = (size_t)a->n_ctx - reserve;

    agent_conv conv = {0};
    const char *user = NULL;
    int64_t sid = 0;
    int32_t *ids = NULL;
    size_t n = 0;
    agent_gen g = {0};
    char *cached = NULL;
    float *uvec = NULL, *avec = NULL;
    agent_buf entry = {0};
    hearth_status st = agent_build_conv(a, r, budget, &conv, &user, &sid, err);
    if (!st) st = hearth_template_render(a->tmpl, a->tok, conv.v, conv.n, &ids, &n, err);
    if (st) goto done;
    if (n > budget) {
        st = HEARTH_FAIL(err, HEARTH_E_LIMIT,
                         "the prompt takes %zu tokens; the context window of %d holds %zu "
                         "with room for the answer", n, (int)a->n_ctx, budget);
        goto done;
    }

    bool cacheable = a->p.use_cache && !r->no_cache && r->temperature <= 0.0f && !r->grammar &&
                     !r->on_logprob;
    /* The request's tightening of the policy; with a cloud in reach, the
     * local answer is held back until its confidence is known (it is then
     * released in one piece, or replaced by the cloud's streamed answer). */
    router_overrides ov;
    router_overrides_init(&ov);
    /* a grammar or log-probabilities: only the local model can honour them */
    if (r->local_only || r->grammar || r->on_logprob) ov.cloud = 0;
    else if (r->prefer_cloud) ov.cloud = 1;
    ov.incognito = r->incognito;
    ov.ask = r->ask;
    bool hold = router_may_escalate(a->router, &ov);
    double threshold = router_threshold(a->router);
    bool cache_read = cacheable && !(hold && (r->prefer_cloud || r->consent));
    char key[80];
    if (cacheable && (st = cache_key(a, r, ids, n, max_tokens, key, err))) goto done;

    size_t cached_len = 0;
    cache_entry ce;
    int32_t user_tokens = 0;
    {
        int32_t *ut = NULL;
        size_t un = 0;
        if ((st = hearth_tokenize(a->tok, user, strlen(user), false, false, &ut, &un, err)))
            goto done;
        hearth_free(ut);
        user_tokens = (int32_t)un;
    }
    if (cache_read && hearth_store_cache_get(a->store, key, &cached, &cached_len, NULL) == HEARTH_OK &&
        cache_parse(cached, cached_len, &ce) && (ce.dim == 0 || ce.dim == a->n_embd) &&
        /* an answer not confident enough is not served where the cloud
         * could now do better */
        !(hold && ce.confidence >= 0 && ce.confidence < threshold)) {
        /* A hit: the model does not run at all. */
        if (r->on_text && ce.content_len) r->on_text(r->user_data, ce.content, ce.content_len);
        resp->content = hearth_strndup(ce.content, ce.content_len);
        if (!resp->content) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "agent: out of memory");
            goto done;
        }
        resp->source = HEARTH_SOURCE_CACHE;
        resp->confidence = ce.confidence;
        resp->finish = (hearth_finish_reason)ce.finish;
        resp->prompt_tokens = (int)n;
        resp->completion_tokens = ce.completion_tokens;
        if (r->session && !r->incognito) {
            exchange x = {user, user_tokens, resp->content, ce.completion_tokens,
                          ce.dim ? ce.user_vec : NULL, ce.dim ? ce.answer_vec : NULL, ce.dim,
                          NULL, NULL, 0};
            st = store_exchange(a, r->session, &x, resp, err);
        }
        goto done;
    }

    hearth_gen_params gp = agent_gen_params(r, max_tokens);
    gp.grammar = r->grammar;
    gp.grammar_trigger = r->grammar_trigger;
    gp.on_logprob = r->on_logprob;
    gp.logprob_user = r->logprob_user;
    if (r->on_logprob && r->n_top_logprobs > 0) gp.n_top_logprobs = r->n_top_logprobs;
    /* A session's saved state spares evaluating its history again (a new
     * process, or another session in between). */
    if (r->session)
        agent_kv_restore(a, r->session, ids, n, &resp->restored_tokens, &resp->restore_ms);
    if ((st = agent_generate(a, ids, n, &gp, hold ? NULL : r->on_text, r->user_data, &g, err)))
        goto done;

    resp->source = HEARTH_SOURCE_LOCAL;
    resp->finish = g.res.finish;
    if (g.cb_stopped || atomic_load(&a->cancel)) resp->finish = HEARTH_FINISH_CANCELLED;
    resp->prompt_tokens = (int)n;
    resp->completion_tokens = g.res.n_gen;
    resp->cached_tokens = (int)g.n_cached;
    if (a->p.sched) {
        /* the scheduler's restore hook (a server's saved states) */
        resp->restored_tokens = g.res.n_restored;
        resp->restore_ms = g.res.restore_ms;
    }
    if (resp->restored_tokens > resp->cached_tokens) resp->restored_tokens = resp->cached_tokens;
    resp->decoded_tokens = (int)(n - g.n_cached) + g.res.n_gen;
    resp->ttft_ms = g.first_token_ms > 0 ? g.first_token_ms - t0 : -1;
    resp->prompt_ms = g.res.prompt_ms;
    resp->generate_ms = g.res.gen_ms;
    resp->n_drafted = g.res.n_drafted;
    resp->n_accepted = g.res.n_accepted;
    resp->n_spec_steps = g.res.n_spec_steps;
    resp->content = g.text.v;
    g.text = (agent_buf){0};
    resp->confidence = conf_score(&g.conf, resp->content, strlen(resp->content)).score;
    if (hold && (st = route(a, r, &ov, &conv, max_tokens, resp, err))) goto done;
    if (r->session && !r->incognito) {
        /* only where the next request builds on this one: the session's
         * history (a request that brings its messages stands alone) */
        if (resp->finish != HEARTH_FINISH_CANCELLED && !r->n_messages)
            warm_next_turn(a, &conv, resp->content);
        agent_kv_save(a, r->session);
    }
    if (!hold && resp->confidence < threshold) {
        /* Not confident, and nothing could have left: say why (no audit
         * record, since no request was ever a candidate). */
        char why[200];
        router_why_local(a->router, &ov, why, sizeof why);
        snprintf(resp->route_reason, sizeof resp->route_reason, "confidence %.2f < %.2f; not sent: %s",
                 resp->confidence, threshold, why);
    }

    if ((r->session || cacheable) && !r->incognito) {
        bool complete = resp->finish != HEARTH_FINISH_CANCELLED;
        int dim = 0;
        /* Embeddings let later turns find this exchange (context.c). */
        if (r->session) {
            hearth_error ee;
            if (hearth_embed(a, user, strlen(user), &uvec, &dim, &ee) == HEARTH_OK &&
                hearth_embed(a, resp->content, strlen(resp->content), &avec, &dim,
                                   &ee) == HEARTH_OK) {
            } else {
                agent_warn(a, "embedding failed: %s", ee.msg);
                hearth_free(uvec);
                hearth_free(avec);
                uvec = avec = NULL;
                dim = 0;
            }
        }
        /* Only the local model's own answers are cached: a cloud answer
         * or a degraded one would be served later without its story. */
        bool put_cache = cacheable && complete && resp->source == HEARTH_SOURCE_LOCAL &&
                         !resp->consent_needed;
        if (put_cache) {
            char head[128];
            size_t cl = strlen(resp->content);
            snprintf(head, sizeof head, CACHE_MAGIC " %d %d %zu %d %.6f\n", (int)resp->finish,
                     resp->completion_tokens, cl, dim, resp->confidence);
            if (!agent_buf_puts(&entry, head) || !agent_buf_put(&entry, resp->content, cl) ||
                (dim && (!agent_buf_put(&entry, (const char *)uvec, (size_t)dim * sizeof(float)) ||
                         !agent_buf_put(&entry, (const char *)avec, (size_t)dim * sizeof(float))))) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "cache entry: out of memory");
                goto done;
            }
        }
        exchange x = {user, user_tokens, resp->content, resp->completion_tokens, uvec, avec, dim,
                      put_cache ? key : NULL, entry.v, entry.n};
        if (r->session || put_cache) st = store_exchange(a, r->session, &x, resp, err);
    }

done:
    resp->total_ms = now_ms() - t0;
    if (resp->source == HEARTH_SOURCE_CACHE) resp->ttft_ms = resp->total_ms;
    agent_buf_free(&entry);
    hearth_free(uvec);
    hearth_free(avec);
    hearth_free(cached);
    agent_buf_free(&g.text);
    hearth_free(ids);
    agent_conv_free(&conv);
    if (st) hearth_agent_response_clear(resp);
    return st;
}

void hearth_agent_response_clear(hearth_agent_response *resp) {
    if (!resp) return;
    hearth_free(resp->content);
    hearth_free(resp->consent_preview);
    hearth_free(resp->tool_calls_json);
    *resp = (hearth_agent_response){0};
}
