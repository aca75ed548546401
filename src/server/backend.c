/*
 * backend.c: the server's backend (see backend.h) on the agent and the
 * engine's batch scheduler. One model and one scheduler are shared; a small
 * pool of agents (one per scheduler slot, each with its own store
 * connection) lets several requests run at once, and the scheduler batches
 * their decode steps. Raw completions skip the agent (no chat template, no
 * session) and go to the scheduler directly. The model can be reloaded
 * while serving (srv_backend_swap, for `hearth serve --update-every`):
 * requests in flight finish on the model they started with.
 */
#include "server/backend.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One loaded model with its scheduler and agent pool. Requests hold a
 * reference for their whole duration; a reload (srv_backend_swap) puts a
 * new engine in place for the requests that start after it, and the old
 * one is freed when its last request ends: a switch never happens in the
 * middle of a request. */
typedef struct srv_engine {
    hearth_model *model;
    hearth_sched *sched;
    hearth_agent **agents; /* n_agents; a slot is free when busy[i] is false (under b->mu) */
    bool *busy;
    int n_agents;
    int refs;              /* requests using it (under b->mu) */
    bool retired;          /* replaced: freed when refs drops to 0 */
} srv_engine;

struct srv_backend {
    srv_engine *cur;       /* under mu */
    char *model_id;        /* fixed at open: clients keep their id across reloads */
    hearth_settings *own_settings; /* loaded here when the caller gave none */
    srv_backend_params p;  /* for reloads; strings borrowed from the server */

    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* The id clients use: the file name without directory and ".gguf". */
static char *model_id_from_path(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    return hearth_strndup(base, n);
}

static void engine_free(srv_engine *e) {
    if (!e) return;
    for (int i = 0; i < e->n_agents; i++) hearth_agent_free(e->agents[i]);
    hearth_free(e->agents);
    hearth_free(e->busy);
    hearth_sched_free(e->sched);
    hearth_model_free(e->model);
    hearth_free(e);
}

void srv_backend_free(srv_backend *b) {
    if (!b) return;
    engine_free(b->cur);
    hearth_settings_free(b->own_settings);
    hearth_free(b->model_id);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    hearth_free(b);
}

/* Loads path into a new engine. */
static hearth_status engine_open(const srv_backend *b, const char *path, srv_engine **out,
                                 hearth_error *err) {
    *out = NULL;
    const srv_backend_params *p = &b->p;
    srv_engine *e = hearth_calloc(1, sizeof *e);
    if (!e) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    const hearth_settings *set = p->settings ? p->settings : b->own_settings;
    hearth_agent_params ap = hearth_agent_default_params();
    hearth_status st = hearth_agent_params_from_settings(set, &ap, err);
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = p->n_threads;
    if (!st) st = hearth_model_open(path, &mp, &e->model, err);
    if (!st) {
        int32_t slots = p->n_slots > 0 ? p->n_slots : 4;
        int32_t per_seq = p->n_ctx > 0 ? p->n_ctx : ap.max_context > 0 ? ap.max_context : 4096;
        if (per_seq > hearth_model_n_ctx_train(e->model) && hearth_model_n_ctx_train(e->model) > 0)
            per_seq = hearth_model_n_ctx_train(e->model);
        hearth_ctx_params cp = hearth_ctx_default_params();
        cp.n_seq = slots;
        cp.n_ctx = per_seq * slots;
        cp.n_threads = p->n_threads;
        st = hearth_sched_new(e->model, &cp, &e->sched, err);
        if (!st) {
            ap.max_context = per_seq;
            e->n_agents = slots;
        }
    }
    if (!st) {
        e->agents = hearth_calloc((size_t)e->n_agents, sizeof *e->agents);
        e->busy = hearth_calloc((size_t)e->n_agents, sizeof *e->busy);
        if (!e->agents || !e->busy) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    ap.model_path = path;
    ap.model = e->model;
    ap.sched = e->sched;
    if (p->data_dir) ap.data_dir = p->data_dir;
    if (p->n_threads > 0) ap.n_threads = p->n_threads;
    for (int i = 0; !st && i < e->n_agents; i++) st = hearth_agent_open(&ap, &e->agents[i], err);
    if (st) {
        engine_free(e);
        return st;
    }
    *out = e;
    return HEARTH_OK;
}

hearth_status srv_backend_open(const srv_backend_params *p, srv_backend **out, hearth_error *err) {
    *out = NULL;
    srv_backend *b = hearth_calloc(1, sizeof *b);
    if (!b) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->p = *p;
    hearth_status st = p->settings ? HEARTH_OK : hearth_settings_load(&b->own_settings, err);
    if (!st && !(b->model_id = p->model_id ? hearth_strdup(p->model_id)
                                           : model_id_from_path(p->model_path)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (!st) st = engine_open(b, p->model_path, &b->cur, err);
    if (st) {
        srv_backend_free(b);
        return st;
    }
    *out = b;
    return HEARTH_OK;
}

hearth_status srv_backend_swap(srv_backend *b, const char *model_path, hearth_error *err) {
    srv_engine *e;
    hearth_status st = engine_open(b, model_path, &e, err);
    if (st) return st;
    pthread_mutex_lock(&b->mu);
    srv_engine *old = b->cur;
    b->cur = e;
    old->retired = true;
    bool unused = old->refs == 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (unused) engine_free(old);
    return HEARTH_OK;
}

/* The engine a request runs on, referenced until engine_put. */
static srv_engine *engine_get(srv_backend *b) {
    pthread_mutex_lock(&b->mu);
    srv_engine *e = b->cur;
    e->refs++;
    pthread_mutex_unlock(&b->mu);
    return e;
}

static void engine_put(srv_backend *b, srv_engine *e) {
    pthread_mutex_lock(&b->mu);
    bool last = --e->refs == 0 && e->retired;
    pthread_mutex_unlock(&b->mu);
    if (last) engine_free(e);
}

const char *srv_backend_model_id(const srv_backend *b) { return b->model_id; }

static int acquire(srv_backend *b, srv_engine *e) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
        for (int i = 0; i < e->n_agents; i++)
            if (!e->busy[i]) {
                e->busy[i] = true;
                pthread_mutex_unlock(&b->mu);
                return i;
            }
        pthread_cond_wait(&b->cv, &b->mu);
    }
}

static void release(srv_backend *b, srv_engine *e, int i) {
    pthread_mutex_lock(&b->mu);
    e->busy[i] = false;
    /* every waiter: they may wait on different engines */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* ---- log-probabilities as text ------------------------------------------ */

/* Turns the engine's token ids into the pieces the client sees; the token
 * that ends the answer (and control tokens, which show no text) are left
 * out, as OpenAI leaves out its stop token. */
typedef struct {
    const srv_request *r;
    const hearth_tokenizer *tok;
} lp_bridge;

static void lp_to_text(void *user, const hearth_token_logprob *lp) {
    lp_bridge *b = user;
    if (hearth_token_is_eog(b->tok, lp->token) || hearth_token_is_control(b->tok, lp->token)) return;
    size_t n = 0;
    const char *s = hearth_token_to_piece(b->tok, lp->token, &n);
    const char *alt[HEARTH_MAX_TOP_LOGPROBS];
    size_t alt_len[HEARTH_MAX_TOP_LOGPROBS];
    float alt_lp[HEARTH_MAX_TOP_LOGPROBS];
    int k = 0;
    for (int i = 0; i < lp->n_top && k < b->r->top_logprobs; i++) {
        alt[k] = hearth_token_to_piece(b->tok, lp->top_ids[i], &alt_len[k]);
        if (!alt[k]) alt[k] = "", alt_len[k] = 0;
        alt_lp[k++] = lp->top_logprobs[i];
    }
    b->r->on_logprob(b->r->logprob_user, s ? s : "", n, lp->logprob, alt, alt_len, alt_lp, k);
}

/* ---- chat, through an agent --------------------------------------------- */

typedef struct {
    srv_text_cb cb;
    void *user;
    bool cancelled;
} stream_ctx;

static bool agent_text(void *user, const char *text, size_t len) {
    stream_ctx *sc = user;
    if (sc->cb(sc->user, text, len)) sc->cancelled = true;
    return !sc->cancelled;
}

static void fill_sampling(const srv_request *r, float *temp, float *top_p, int *max_tokens,
                          int64_t *seed, float *presence, float *frequency) {
    if (r->has_temperature) *temp = r->temperature;
    if (r->has_top_p) *top_p = r->top_p;
    if (r->max_tokens > 0) *max_tokens = r->max_tokens;
    if (r->has_seed) *seed = (int64_t)(r->seed & INT64_MAX);
    *presence = r->presence_penalty;
    *frequency = r->frequency_penalty;
}

static hearth_status chat(srv_backend *b, srv_engine *e, const srv_request *r, srv_text_cb cb,
                          void *user, srv_answer *out, hearth_error *err) {
    hearth_chat_message *msgs = hearth_calloc(r->n_messages, sizeof *msgs);
    if (!msgs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_chat_tool_info *info = NULL;
    for (size_t i = 0; i < r->n_messages; i++) {
        msgs[i].role = r->messages[i].role;
        msgs[i].content = r->messages[i].content;
        if ((r->messages[i].tool_calls || r->messages[i].tool_call_id) && !info &&
            !(info = hearth_calloc(r->n_messages, sizeof *info))) {
            hearth_free(msgs);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; info && i < r->n_messages; i++) {
        info[i].tool_calls = r->messages[i].tool_calls;
        info[i].tool_call_id = r->messages[i].tool_call_id;
    }
    int ai = acquire(b, e);
    hearth_agent *a = e->agents[ai];
    hearth_agent_request q = hearth_agent_default_request(a);
    q.session = r->session;
    q.messages = msgs;
    q.n_messages = r->n_messages;
    fill_sampling(r, &q.temperature, &q.top_p, &q.max_tokens, &q.seed, &q.presence_penalty,
                  &q.frequency_penalty);
    q.stop = (const char *const *)r->stop;
    q.n_stop = (size_t)r->n_stop;
    q.local_only = r->cloud == 0;
    q.prefer_cloud = r->cloud == 1;
    q.incognito = r->incognito;
    q.ask = r->ask;
    q.consent = r->consent;
    /* tools (README "Tool calling"): the agent presents them, constrains
     * and parses the calls */
    q.tools_json = r->tools_json;
    q.tool_info = info;
    q.tool_choice = (hearth_tool_choice)r->tool_choice;
    q.tool_name = r->tool_name;
    q.parallel_tool_calls = r->parallel_tool_calls;
    q.grammar = r->grammar; /* response_format json_object / json_schema */
    lp_bridge lb = {r, hearth_model_tokenizer(e->model)};
    if (r->logprobs && r->on_logprob) {
        q.on_logprob = lp_to_text;
        q.logprob_user = &lb;
        q.n_top_logprobs = r->top_logprobs > 2 ? r->top_logprobs : 2;
    }
    stream_ctx sc = {cb, user, false};
    if (cb) {
        q.on_text = agent_text;
        q.user_data = &sc;
    }
    hearth_agent_response resp = {0};
    hearth_status st = hearth_agent_process(a, &q, &resp, err);
    release(b, e, ai);
    hearth_free(msgs);
    hearth_free(info);
    if (st == HEARTH_OK && (sc.cancelled || resp.finish == HEARTH_FINISH_CANCELLED))
        st = HEARTH_FAIL(err, HEARTH_E_CANCELLED, "cancelled by the client");
    if (st == HEARTH_OK) {
        out->text = resp.content;
        resp.content = NULL;
        out->prompt_tokens = resp.prompt_tokens;
        out->completion_tokens = resp.completion_tokens;
        out->finish_reason = hearth_finish_reason_openai(resp.finish);
        out->source = hearth_source_name(resp.source);
        out->ttft_s = resp.source == HEARTH_SOURCE_CACHE ? resp.total_ms / 1e3 : resp.prompt_ms / 1e3;
        out->per_token_s = resp.completion_tokens > 1 && resp.source != HEARTH_SOURCE_CACHE
                               ? resp.generate_ms / 1e3 / (resp.completion_tokens - 1)
                               : -1;
        out->confidence = resp.confidence;
        snprintf(out->decision, sizeof out->decision, "%s", resp.route_decision);
        snprintf(out->reason, sizeof out->reason, "%s", resp.route_reason);
        snprintf(out->category, sizeof out->category, "%s", resp.category);
        snprintf(out->host, sizeof out->host, "%s", resp.route_host);
        snprintf(out->redactions, sizeof out->redactions, "%s", resp.redactions);
        out->bytes_out = resp.bytes_out;
        out->bytes_in = resp.bytes_in;
        out->audit_id = resp.audit_id;
        out->cloud_ms = resp.cloud_ms;
        out->consent_needed = resp.consent_needed;
        out->consent_preview = resp.consent_preview;
        resp.consent_preview = NULL;
        out->tool_calls = resp.tool_calls_json;
        resp.tool_calls_json = NULL;
    }
    hearth_agent_response_clear(&resp);
    return st;
}

/* ---- raw completion, straight to the scheduler ----------------------------- */

typedef struct {
    srv_text_cb cb;
    void *user;
    strbuf text;
} gen_ctx;

static int gen_text(void *user, int32_t token, const char *text, size_t len) {
    (void)token;
    gen_ctx *g = user;
    if (!len) return 0;
    strbuf_append(&g->text, text, len);
    return g->cb ? g->cb(g->user, text, len) : 0;
}

static hearth_status completion(srv_engine *e, const srv_request *r, srv_text_cb cb, void *user,
                                srv_answer *out, hearth_error *err) {
    const hearth_tokenizer *tok = hearth_model_tokenizer(e->model);
    int32_t *ids = NULL;
    size_t n = 0;
    /* parse_special off: request text never becomes a control token. */
    hearth_status st = hearth_tokenize(tok, r->prompt, strlen(r->prompt), true, false, &ids, &n, err);
    if (st) return st;
    if (n == 0) {
        hearth_free(ids);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'prompt' is empty");
    }
    hearth_agent_request defaults = hearth_agent_default_request(e->agents[0]);
    hearth_gen_params gp = hearth_gen_default_params();
    float temp = defaults.temperature, top_p = defaults.top_p, presence = 0, frequency = 0;
    int max_tokens = defaults.max_tokens;
    int64_t seed = defaults.seed;
    fill_sampling(r, &temp, &top_p, &max_tokens, &seed, &presence, &frequency);
    gp.max_tokens = max_tokens;
    gp.sampling.temp = temp;
    gp.sampling.top_p = top_p;
    gp.sampling.presence_penalty = presence;
    gp.sampling.frequency_penalty = frequency;
    gp.sampling.seed = seed < 0 ? HEARTH_SEED_RANDOM : (uint64_t)seed;
    gp.stop = (const char *const *)r->stop;
    gp.n_stop = r->n_stop;
    gp.grammar = r->grammar;
    lp_bridge lb = {r, tok};
    if (r->logprobs && r->on_logprob) {
        gp.on_logprob = lp_to_text;
        gp.logprob_user = &lb;
        gp.n_top_logprobs = r->top_logprobs > 2 ? r->top_logprobs : 2;
    }
    gen_ctx g = {cb, user, {0}};
    strbuf_init(&g.text);
    hearth_gen_result res = {0};
    st = hearth_sched_generate(e->sched, ids, (int32_t)n, &gp, gen_text, &g, &res, err);
    hearth_free(ids);
    if (st == HEARTH_OK && res.finish == HEARTH_FINISH_CANCELLED)
        st = HEARTH_FAIL(err, HEARTH_E_CANCELLED, "cancelled by the client");
    if (st) {
        strbuf_discard(&g.text);
        return st;
    }
    if (!(out->text = strbuf_finish(&g.text, NULL)))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    out->prompt_tokens = res.n_prompt;
    out->completion_tokens = res.n_gen;
    out->finish_reason = hearth_finish_reason_openai(res.finish);
    out->source = "local";
    out->confidence = -1;
    out->ttft_s = res.prompt_ms / 1e3;
    out->per_token_s = res.n_gen > 1 ? res.gen_ms / 1e3 / (res.n_gen - 1) : -1;
    return HEARTH_OK;
}

hearth_status srv_backend_generate(srv_backend *b, const srv_request *r, srv_text_cb cb,
                                   void *user, srv_answer *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    if (r->kind != SRV_CHAT && r->kind != SRV_COMPLETION)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "not a generation request");
    srv_engine *e = engine_get(b);
    hearth_status st = r->kind == SRV_CHAT ? chat(b, e, r, cb, user, out, err)
                                           : completion(e, r, cb, user, out, err);
    engine_put(b, e);
    return st;
}

hearth_status srv_backend_embed(srv_backend *b, const char *text, float **out, int *dim,
                                int64_t *n_tokens, hearth_error *err) {
    srv_engine *e = engine_get(b);
    const hearth_tokenizer *tok = hearth_model_tokenizer(e->model);
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_status st = hearth_tokenize(tok, text, strlen(text), true, false, &ids, &n, err);
    if (st) {
        engine_put(b, e);
        return st;
    }
    hearth_free(ids);
    int ai = acquire(b, e);
    st = hearth_embed(e->agents[ai], text, strlen(text), out, dim, err);
    release(b, e, ai);
    engine_put(b, e);
    if (!st) *n_tokens = (int64_t)n;
    return st;
}
