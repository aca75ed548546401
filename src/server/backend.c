/*
 * backend.c: the server's backend (see backend.h) on the agent and the
 * engine's batch scheduler. One model and one scheduler are shared; a small
 * pool of agents (one per scheduler slot, each with its own store
 * connection) lets several requests run at once, and the scheduler batches
 * their decode steps. Raw completions skip the agent (no chat template, no
 * session) and go to the scheduler directly. The model can be reloaded
 * while serving (srv_backend_swap, for `hearth serve --update-every`):
 * requests in flight finish on the model they started with.
 * A/B (hearth serve --variant): one engine per variant, each request
 * assigned to one by src/ab/assign.c, and every answer recorded with its
 * variant in the store's A/B records (one store handle of the backend's
 * own, under ab_mu) so that `hearth ab report` and POST /v1/feedback can
 * find it.
 */
#include "server/backend.h"

#include "ab/assign.h"
#include "models/resolve.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    /* for srv_backend_model_info, read once at open */
    int32_t per_seq;
    struct model_desc {
        uint64_t n_params;
        char quant[16];
        int64_t modified;
    } desc, embed_desc;
    hearth_model *embed_model; /* the "embed_model" setting's, shared by the agents; or NULL */
    hearth_model *draft_model; /* the "draft_model" setting's (speculation in the scheduler), or NULL */
    hearth_kv_store *kv;       /* saved conversation states behind the scheduler's hooks, or NULL */
} srv_engine;

struct srv_backend {
    srv_engine *cur[AB_MAX_VARIANTS]; /* one per variant, under mu */
    size_t n_var;          /* 1 without variants */
    char *vname[AB_MAX_VARIANTS]; /* owned; "" without variants */
    unsigned weight[AB_MAX_VARIANTS];
    hearth_store *ab_store; /* the A/B records, under ab_mu */
    pthread_mutex_t ab_mu;
    char *model_id;        /* fixed at open: clients keep their id across reloads */
    char *embed_id;        /* the embedding model's id (as model_id), or NULL */
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
    hearth_model_free(e->embed_model);
    hearth_model_free(e->draft_model);
    hearth_free(e->agents);
    hearth_free(e->busy);
    hearth_sched_free(e->sched); /* (its last saves run here: before the store goes) */
    hearth_kv_store_free(e->kv);
    hearth_model_free(e->model);
    hearth_free(e);
}

void srv_backend_free(srv_backend *b) {
    if (!b) return;
    for (size_t i = 0; i < AB_MAX_VARIANTS; i++) {
        engine_free(b->cur[i]);
        hearth_free(b->vname[i]);
    }
    hearth_store_free(b->ab_store);
    pthread_mutex_destroy(&b->ab_mu);
    hearth_settings_free(b->own_settings);
    hearth_free(b->model_id);
    hearth_free(b->embed_id);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    hearth_free(b);
}

/* Parameter count, the most common matrix type and the file's mtime, for
 * the ollama API's model details (a second, read-only mapping: cheap). */
static void describe(struct model_desc *e, const char *path) {
    struct stat sb;
    if (!stat(path, &sb)) e->modified = (int64_t)sb.st_mtime;
    hearth_gguf *g = NULL;
    if (hearth_gguf_open(path, &g, NULL)) return;
    uint64_t bytes_by_type[64] = {0};
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims && d < 4; d++) n *= (uint64_t)t->ne[d];
        e->n_params += n;
        if (t->n_dims >= 2 && (unsigned)t->type < 64) bytes_by_type[t->type] += t->nbytes;
    }
    int best = -1;
    for (int i = 0; i < 64; i++)
        if (bytes_by_type[i] && (best < 0 || bytes_by_type[i] > bytes_by_type[best])) best = i;
    const char *name = best >= 0 ? hearth_type_name(best) : NULL;
    snprintf(e->quant, sizeof e->quant, "%s", name ? name : "unknown");
    hearth_gguf_free(g);
}

static void kv_warn(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "hearth serve: %s\n", msg);
}

/* Saved conversation states (README "Prefix reuse across restarts"): in
 * HOME/kv beside the agents' store, bound by kv_cache_mb (0: off). A store
 * that cannot open only means none (a warning). */
static void open_kv(srv_engine *e, int64_t max_bytes) {
    const char *db = hearth_store_path(hearth_agent_store(e->agents[0]));
    const char *slash = db ? strrchr(db, '/') : NULL;
    if (max_bytes <= 0 || !slash) return; /* off, or an in-memory store */
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s/kv", (int)(slash - db), db);
    hearth_kv_store_params kp = {.dir = dir, .model_hash = hearth_agent_model_hash(e->agents[0]),
                                 .max_bytes = max_bytes, .warn = kv_warn};
    hearth_error ke;
    hearth_sched_state_hooks h;
    if (hearth_kv_store_open(&kp, &e->kv, &ke)) {
        kv_warn(NULL, ke.msg);
        return;
    }
    h = hearth_kv_store_hooks(e->kv);
    if (hearth_sched_set_state_hooks(e->sched, &h, &ke)) {
        kv_warn(NULL, ke.msg);
        hearth_kv_store_free(e->kv);
        e->kv = NULL;
    }
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
        cp.type_k = ap.cache_type_k;
        cp.type_v = ap.cache_type_v;
        st = hearth_sched_new(e->model, &cp, &e->sched, err);
        if (!st) {
            ap.max_context = per_seq;
            e->n_agents = slots;
            e->per_seq = per_seq;
        }
    }
    if (!st) {
        e->agents = hearth_calloc((size_t)e->n_agents, sizeof *e->agents);
        e->busy = hearth_calloc((size_t)e->n_agents, sizeof *e->busy);
        if (!e->agents || !e->busy) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (!st && ap.embed_model_path) {
        /* opened once here and shared: each agent would otherwise load it */
        char resolved[4096];
        hearth_model_params emp = hearth_model_default_params();
        emp.n_threads = p->n_threads;
        st = models_resolve_model(set, ap.embed_model_path, NULL, resolved, sizeof resolved, err);
        if (st) hearth_error_prefix(err, "embed_model");
        if (!st) st = hearth_model_open(resolved, &emp, &e->embed_model, err);
        if (!st) describe(&e->embed_desc, resolved);
        ap.embed_model = e->embed_model;
    }
    if (!st && (ap.draft_model_path || ap.lookup)) {
        /* speculative decoding runs in the scheduler, per slot */
        hearth_spec_params sp = hearth_spec_default_params();
        if (ap.draft_model_path) {
            char resolved[4096];
            hearth_model_params dmp = hearth_model_default_params();
            dmp.n_threads = p->n_threads;
            st = models_resolve_model(set, ap.draft_model_path, NULL, resolved, sizeof resolved, err);
            if (!st) st = hearth_model_open(resolved, &dmp, &e->draft_model, err);
            if (st) hearth_error_prefix(err, "draft_model");
            sp.draft = e->draft_model;
        }
        sp.lookup = ap.lookup;
        if (ap.draft_max > 0) sp.n_draft_max = ap.draft_max;
        if (!st && (st = hearth_sched_enable_spec(e->sched, &sp, err))) hearth_error_prefix(err, "draft_model");
        ap.draft_model_path = NULL;
        ap.lookup = false;
    }
    ap.model_path = path;
    ap.model = e->model;
    ap.sched = e->sched;
    if (p->data_dir) ap.data_dir = p->data_dir;
    if (p->n_threads > 0) ap.n_threads = p->n_threads;
    for (int i = 0; !st && i < e->n_agents; i++) st = hearth_agent_open(&ap, &e->agents[i], err);
    if (!st) open_kv(e, ap.kv_cache_bytes);
    if (st) {
        engine_free(e);
        return st;
    }
    describe(&e->desc, path);
    *out = e;
    return HEARTH_OK;
}

hearth_status srv_backend_open(const srv_backend_params *p, srv_backend **out, hearth_error *err) {
    *out = NULL;
    srv_backend *b = hearth_calloc(1, sizeof *b);
    if (!b) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_mutex_init(&b->ab_mu, NULL);
    b->p = *p;
    hearth_status st = p->settings ? HEARTH_OK : hearth_settings_load(&b->own_settings, err);
    bool ab = p->n_variants > 1;
    b->n_var = ab ? p->n_variants : 1;
    if (!st && b->n_var > AB_MAX_VARIANTS)
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "%zu variants (at most %d)", b->n_var, AB_MAX_VARIANTS);
    for (size_t i = 0; !st && i < b->n_var; i++) {
        const char *name = ab ? p->variant_names[i] : "";
        if (strlen(name) >= HEARTH_AB_NAME_MAX)
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "variant name '%.40s...' is too long", name);
        else if (!(b->vname[i] = hearth_strdup(name)))
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        b->weight[i] = ab && p->variant_weights ? p->variant_weights[i] : 1;
    }
    const char *first = ab ? p->variant_paths[0] : p->model_path;
    if (!st && !(b->model_id = p->model_id ? hearth_strdup(p->model_id) : model_id_from_path(first)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < b->n_var; i++) {
        st = engine_open(b, ab ? p->variant_paths[i] : p->model_path, &b->cur[i], err);
        if (st && ab) hearth_error_prefix(err, "variant %s", b->vname[i]);
    }
    if (!st) {
        /* the agents' own database, through a handle of the backend's */
        hearth_store_params sp = hearth_store_default_params();
        sp.path = hearth_store_path(hearth_agent_store(b->cur[0]->agents[0]));
        st = hearth_store_open(&sp, &b->ab_store, err);
    }
    const char *em = st ? NULL
                        : hearth_settings_get(p->settings ? p->settings : b->own_settings,
                                              "embed_model", NULL);
    if (!st && em && *em && !(b->embed_id = model_id_from_path(em)))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        srv_backend_free(b);
        return st;
    }
    *out = b;
    return HEARTH_OK;
}

hearth_status srv_backend_swap(srv_backend *b, const char *model_path, hearth_error *err) {
    if (b->n_var > 1)
        return HEARTH_FAIL(err, HEARTH_E_STATE, "a server with A/B variants does not reload models");
    srv_engine *e;
    hearth_status st = engine_open(b, model_path, &e, err);
    if (st) return st;
    pthread_mutex_lock(&b->mu);
    srv_engine *old = b->cur[0];
    b->cur[0] = e;
    old->retired = true;
    bool unused = old->refs == 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (unused) engine_free(old);
    return HEARTH_OK;
}

/* The engine of variant vi a request runs on, referenced until engine_put. */
static srv_engine *engine_get(srv_backend *b, size_t vi) {
    pthread_mutex_lock(&b->mu);
    srv_engine *e = b->cur[vi];
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
    if (r->has_top_k) q.top_k = r->top_k;
    if (r->has_min_p) q.min_p = r->min_p;
    if (r->has_repeat_penalty) q.repeat_penalty = r->repeat_penalty;
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
        out->cached_tokens = resp.source == HEARTH_SOURCE_CACHE ? 0 : resp.cached_tokens;
        out->restored_tokens = resp.source == HEARTH_SOURCE_CACHE ? 0 : resp.restored_tokens;
        out->restore_ms = resp.source == HEARTH_SOURCE_CACHE ? 0 : resp.restore_ms;
        out->completion_tokens = resp.completion_tokens;
        out->finish_reason = hearth_finish_reason_openai(resp.finish);
        out->source = hearth_source_name(resp.source);
        out->ttft_s = resp.source == HEARTH_SOURCE_CACHE ? resp.total_ms / 1e3 : resp.prompt_ms / 1e3;
        out->per_token_s = resp.completion_tokens > 1 && resp.source != HEARTH_SOURCE_CACHE
                               ? resp.generate_ms / 1e3 / (resp.completion_tokens - 1)
                               : -1;
        out->confidence = resp.confidence;
        out->prompt_ms = resp.source == HEARTH_SOURCE_CACHE ? 0 : resp.prompt_ms;
        out->gen_ms = resp.source == HEARTH_SOURCE_CACHE ? 0 : resp.generate_ms;
        out->drafted = resp.n_drafted;
        out->accepted = resp.n_accepted;
        out->spec_steps = resp.n_spec_steps;
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
    if (r->has_top_k) gp.sampling.top_k = r->top_k;
    if (r->has_min_p) gp.sampling.min_p = r->min_p;
    if (r->has_repeat_penalty) gp.sampling.repeat_penalty = r->repeat_penalty;
    if (r->has_repeat_last_n) gp.sampling.repeat_last_n = r->repeat_last_n;
    gp.stop = (const char *const *)r->stop;
    gp.n_stop = r->n_stop;
    gp.grammar = r->grammar;
    gp.no_reuse = r->incognito; /* nothing of it stays in a slot */
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
    out->cached_tokens = res.n_cached;
    out->restored_tokens = res.n_restored;
    out->restore_ms = res.restore_ms;
    out->completion_tokens = res.n_gen;
    out->drafted = res.n_drafted;
    out->accepted = res.n_accepted;
    out->spec_steps = res.n_spec_steps;
    out->finish_reason = hearth_finish_reason_openai(res.finish);
    out->source = "local";
    out->confidence = -1;
    out->ttft_s = res.prompt_ms / 1e3;
    out->prompt_ms = res.prompt_ms;
    out->gen_ms = res.gen_ms;
    out->per_token_s = res.n_gen > 1 ? res.gen_ms / 1e3 / (res.n_gen - 1) : -1;
    return HEARTH_OK;
}

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Keeps the answer's A/B record; a failure is only logged. */
static void record(srv_backend *b, const char *id, const srv_request *r, const srv_answer *a) {
    hearth_ab_record rec = {0};
    snprintf(rec.response_id, sizeof rec.response_id, "%s", id);
    snprintf(rec.variant, sizeof rec.variant, "%s", a->variant);
    snprintf(rec.kind, sizeof rec.kind, "%s", r->kind == SRV_CHAT ? "chat" : "completion");
    snprintf(rec.source, sizeof rec.source, "%s", a->source ? a->source : "local");
    rec.latency_ms = a->latency_ms;
    rec.ttft_ms = a->ttft_s >= 0 ? a->ttft_s * 1e3 : -1;
    rec.tokens_per_s = a->per_token_s > 0 ? 1 / a->per_token_s : -1;
    rec.prompt_tokens = a->prompt_tokens;
    rec.completion_tokens = a->completion_tokens;
    rec.confidence = a->confidence >= 0 && a->confidence <= 1 ? a->confidence : -1;
    hearth_error e;
    pthread_mutex_lock(&b->ab_mu);
    hearth_status st = hearth_store_ab_add(b->ab_store, &rec, &e);
    pthread_mutex_unlock(&b->ab_mu);
    if (st) fprintf(stderr, "hearth serve: cannot record answer %s: %s\n", id, e.msg);
}

hearth_status srv_backend_answer(srv_backend *b, const char *id, const srv_request *r,
                                 srv_text_cb cb, void *user, srv_answer *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    if (r->kind != SRV_CHAT && r->kind != SRV_COMPLETION)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "not a generation request");
    const char *key = r->session ? r->session : id ? id : "";
    size_t vi = b->n_var > 1 ? ab_assign(key, b->weight, b->n_var) : 0;
    double t0 = mono_ms();
    srv_engine *e = engine_get(b, vi);
    if (hearth_model_is_encoder(e->model)) {
        engine_put(b, e);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'%s' is an embedding model: it embeds text "
                           "(/v1/embeddings, /api/embed) but cannot generate it; serve a chat "
                           "model with -m and set embed_model to this one", b->model_id);
    }
    hearth_status st = r->kind == SRV_CHAT ? chat(b, e, r, cb, user, out, err)
                                           : completion(e, r, cb, user, out, err);
    engine_put(b, e);
    out->latency_ms = mono_ms() - t0;
    snprintf(out->variant, sizeof out->variant, "%s", b->vname[vi]);
    if (!st && id && !r->incognito) record(b, id, r, out);
    return st;
}

hearth_status srv_backend_generate(srv_backend *b, const srv_request *r, srv_text_cb cb,
                                   void *user, srv_answer *out, hearth_error *err) {
    return srv_backend_answer(b, NULL, r, cb, user, out, err);
}

hearth_status srv_backend_feedback(srv_backend *b, const char *id, double rating, char *variant,
                                   size_t cap, hearth_error *err) {
    pthread_mutex_lock(&b->ab_mu);
    hearth_status st = hearth_store_ab_feedback(b->ab_store, id, rating, variant, cap, err);
    pthread_mutex_unlock(&b->ab_mu);
    return st;
}

size_t srv_backend_n_variants(const srv_backend *b) { return b->n_var; }

const char *srv_backend_variant_name(const srv_backend *b, size_t i) {
    return i < b->n_var ? b->vname[i] : NULL;
}

hearth_status srv_backend_embed(srv_backend *b, const char *text, float **out, int *dim,
                                int64_t *n_tokens, hearth_error *err) {
    srv_engine *e = engine_get(b, 0);
    /* the tokens of the model that embeds (embed_model when set) */
    const hearth_tokenizer *tok =
        hearth_model_tokenizer(e->embed_model ? e->embed_model : e->model);
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

/* ---- what the ollama API shows ------------------------------------------- */

void srv_backend_model_info(srv_backend *b, srv_model_info *out) {
    memset(out, 0, sizeof *out);
    srv_engine *e = engine_get(b, 0);
    const hearth_model *m = e->model;
    snprintf(out->arch, sizeof out->arch, "%s", hearth_model_arch(m));
    snprintf(out->digest, sizeof out->digest, "%s", hearth_agent_model_hash(e->agents[0]));
    out->file_size = hearth_model_file_size(m);
    out->n_ctx_train = hearth_model_n_ctx_train(m);
    out->n_ctx = e->per_seq;
    out->n_embd = hearth_model_n_embd(m);
    out->n_layer = hearth_model_n_layer(m);
    out->n_vocab = hearth_model_n_vocab(m);
    out->n_params = e->desc.n_params;
    snprintf(out->quant, sizeof out->quant, "%s", e->desc.quant);
    out->modified = e->desc.modified;
    out->embedding_only = hearth_model_is_encoder(m);
    engine_put(b, e);
}

bool srv_backend_embed_model_info(srv_backend *b, srv_model_info *out) {
    memset(out, 0, sizeof *out);
    srv_engine *e = engine_get(b, 0);
    const hearth_model *m = e->embed_model;
    if (m) {
        snprintf(out->arch, sizeof out->arch, "%s", hearth_model_arch(m));
        out->file_size = hearth_model_file_size(m);
        out->n_ctx_train = out->n_ctx = hearth_model_n_ctx_train(m);
        out->n_embd = hearth_model_n_embd(m);
        out->n_layer = hearth_model_n_layer(m);
        out->n_vocab = hearth_model_n_vocab(m);
        out->n_params = e->embed_desc.n_params;
        snprintf(out->quant, sizeof out->quant, "%s", e->embed_desc.quant);
        out->modified = e->embed_desc.modified;
        out->embedding_only = hearth_model_is_encoder(m);
    }
    engine_put(b, e);
    return m != NULL;
}

const char *srv_backend_embed_id(const srv_backend *b) { return b->embed_id; }

bool srv_backend_embed_model_ok(const srv_backend *b, const char *name) {
    return !strcmp(name, b->model_id) || (b->embed_id && !strcmp(name, b->embed_id));
}

char *srv_backend_chat_template(srv_backend *b) {
    srv_engine *e = engine_get(b, 0);
    const char *t = hearth_model_chat_template(e->model);
    char *s = t ? hearth_strdup(t) : NULL;
    engine_put(b, e);
    return s;
}
