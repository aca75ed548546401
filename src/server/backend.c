/*
 * backend.c: the server's backend (see backend.h) on the agent and the
 * engine's batch scheduler. One model and one scheduler are shared; a small
 * pool of agents (one per scheduler slot, each with its own store
 * connection) lets several requests run at once, and the scheduler batches
 * their decode steps. Raw completions skip the agent (no chat template, no
 * session) and go to the scheduler directly.
 */
#include "server/backend.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct srv_backend {
    hearth_model *model;
    hearth_sched *sched;
    char *model_id;
    hearth_settings *own_settings; /* loaded here when the caller gave none */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    hearth_agent **agents; /* n_agents; a slot is free when busy[i] is false */
    bool *busy;
    int n_agents;
};

/* The id clients use: the file name without directory and ".gguf". */
static char *model_id_from_path(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    return hearth_strndup(base, n);
}

void srv_backend_free(srv_backend *b) {
    if (!b) return;
    for (int i = 0; i < b->n_agents; i++) hearth_agent_free(b->agents[i]);
    hearth_free(b->agents);
    hearth_free(b->busy);
    hearth_sched_free(b->sched);
    hearth_model_free(b->model);
    hearth_settings_free(b->own_settings);
    hearth_free(b->model_id);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    hearth_free(b);
}

hearth_status srv_backend_open(const srv_backend_params *p, srv_backend **out, hearth_error *err) {
    *out = NULL;
    srv_backend *b = hearth_calloc(1, sizeof *b);
    if (!b) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    const hearth_settings *set = p->settings;
    hearth_status st = set ? HEARTH_OK : hearth_settings_load(&b->own_settings, err);
    if (!set) set = b->own_settings;
    hearth_agent_params ap = hearth_agent_default_params();
    if (!st) st = hearth_agent_params_from_settings(set, &ap, err);
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = p->n_threads;
    if (!st) st = hearth_model_open(p->model_path, &mp, &b->model, err);
    if (!st && !(b->model_id = model_id_from_path(p->model_path)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (!st) {
        int32_t slots = p->n_slots > 0 ? p->n_slots : 4;
        int32_t per_seq = p->n_ctx > 0 ? p->n_ctx : ap.max_context > 0 ? ap.max_context : 4096;
        if (per_seq > hearth_model_n_ctx_train(b->model) && hearth_model_n_ctx_train(b->model) > 0)
            per_seq = hearth_model_n_ctx_train(b->model);
        hearth_ctx_params cp = hearth_ctx_default_params();
        cp.n_seq = slots;
        cp.n_ctx = per_seq * slots;
        cp.n_threads = p->n_threads;
        st = hearth_sched_new(b->model, &cp, &b->sched, err);
        if (!st) {
            ap.max_context = per_seq;
            b->n_agents = slots;
        }
    }
    if (!st) {
        b->agents = hearth_calloc((size_t)b->n_agents, sizeof *b->agents);
        b->busy = hearth_calloc((size_t)b->n_agents, sizeof *b->busy);
        if (!b->agents || !b->busy) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    ap.model_path = p->model_path;
    ap.model = b->model;
    ap.sched = b->sched;
    if (p->data_dir) ap.data_dir = p->data_dir;
    if (p->n_threads > 0) ap.n_threads = p->n_threads;
    for (int i = 0; !st && i < b->n_agents; i++) st = hearth_agent_open(&ap, &b->agents[i], err);
    if (st) {
        srv_backend_free(b);
        return st;
    }
    *out = b;
    return HEARTH_OK;
}

const char *srv_backend_model_id(const srv_backend *b) { return b->model_id; }

static int acquire(srv_backend *b) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
        for (int i = 0; i < b->n_agents; i++)
            if (!b->busy[i]) {
                b->busy[i] = true;
                pthread_mutex_unlock(&b->mu);
                return i;
            }
        pthread_cond_wait(&b->cv, &b->mu);
    }
}

static void release(srv_backend *b, int i) {
    pthread_mutex_lock(&b->mu);
    b->busy[i] = false;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
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

static hearth_status chat(srv_backend *b, const srv_request *r, srv_text_cb cb, void *user,
                          srv_answer *out, hearth_error *err) {
    hearth_chat_message *msgs = hearth_calloc(r->n_messages, sizeof *msgs);
    if (!msgs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < r->n_messages; i++) {
        msgs[i].role = r->messages[i].role;
        msgs[i].content = r->messages[i].content;
    }
    int ai = acquire(b);
    hearth_agent *a = b->agents[ai];
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
    stream_ctx sc = {cb, user, false};
    if (cb) {
        q.on_text = agent_text;
        q.user_data = &sc;
    }
    hearth_agent_response resp = {0};
    hearth_status st = hearth_agent_process(a, &q, &resp, err);
    release(b, ai);
    hearth_free(msgs);
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

static hearth_status completion(srv_backend *b, const srv_request *r, srv_text_cb cb, void *user,
                                srv_answer *out, hearth_error *err) {
    const hearth_tokenizer *tok = hearth_model_tokenizer(b->model);
    int32_t *ids = NULL;
    size_t n = 0;
    /* parse_special off: request text never becomes a control token. */
    hearth_status st = hearth_tokenize(tok, r->prompt, strlen(r->prompt), true, false, &ids, &n, err);
    if (st) return st;
    if (n == 0) {
        hearth_free(ids);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'prompt' is empty");
    }
    hearth_agent_request defaults = hearth_agent_default_request(b->agents[0]);
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
    gen_ctx g = {cb, user, {0}};
    strbuf_init(&g.text);
    hearth_gen_result res = {0};
    st = hearth_sched_generate(b->sched, ids, (int32_t)n, &gp, gen_text, &g, &res, err);
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
    if (r->kind == SRV_CHAT) return chat(b, r, cb, user, out, err);
    if (r->kind == SRV_COMPLETION) return completion(b, r, cb, user, out, err);
    return HEARTH_FAIL(err, HEARTH_E_ARG, "not a generation request");
}

hearth_status srv_backend_embed(srv_backend *b, const char *text, float **out, int *dim,
                                int64_t *n_tokens, hearth_error *err) {
    const hearth_tokenizer *tok = hearth_model_tokenizer(b->model);
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_status st = hearth_tokenize(tok, text, strlen(text), true, false, &ids, &n, err);
    if (st) return st;
    hearth_free(ids);
    int ai = acquire(b);
    st = hearth_embed(b->agents[ai], text, strlen(text), out, dim, err);
    release(b, ai);
    if (!st) *n_tokens = (int64_t)n;
    return st;
}
