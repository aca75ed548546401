/*
 * ollama.c: ollama's REST API on hearth's backend (see ollama.h).
 *
 * Endpoints: GET /api/tags, POST /api/show, /api/chat, /api/generate
 * (NDJSON streams by default, one object with "stream": false), /api/embed,
 * /api/embeddings, GET /api/version, /api/ps, and GET/HEAD "/". Model
 * management (/api/pull, /create, /push, /copy, /delete) answers 501 with
 * what to do instead: the server serves the one model it was started with.
 *
 * Bodies are untrusted: every field hearth reads is checked for type and
 * range; fields of ollama's API that hearth cannot honour (images, tools,
 * "format", a template override, "suffix", a "context" to continue) are
 * refused with a 400 naming the field rather than silently dropped. Unknown
 * fields and unknown "options" are ignored, as ollama does. keep_alive is
 * accepted and has no effect: the model stays loaded while the server runs.
 *
 * Durations are nanoseconds, as ollama reports them: total_duration is this
 * request's wall time, load_duration 0 (the model was loaded at start),
 * prompt_eval_duration and eval_duration the engine's own timings.
 */
#include "server/ollama.h"

#include "server/openai.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool srv_ollama_path(const char *path) {
    return path && (!strcmp(path, "/") || !strncmp(path, "/api/", 5));
}

char *srv_ollama_error_json(const char *message, size_t *len) {
    json_t *o = json_pack("{s:s%}", "error", message, utf8_valid_prefix(message, strlen(message)));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return NULL;
    char *out = hearth_strdup(s);
    free(s);
    if (out && len) *len = strlen(out);
    return out;
}

/* ---- responses ------------------------------------------------------------ */

static enum MHD_Result send_text(const srv_ollama_env *env, unsigned status, char *text,
                                 size_t len, const char *type) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        hearth_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    return env->queue(env->server, env->c, status, r);
}

static enum MHD_Result send_json(const srv_ollama_env *env, unsigned status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        static const char oom[] = "{\"error\":\"internal server error\"}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                                                 MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        return env->queue(env->server, env->c, 500, r);
    }
    srv_metrics_request(env->metrics, env->route, status);
    /* json_dumps allocates with malloc, which MHD's MUST_FREE releases with. */
    return send_text(env, status, s, strlen(s), "application/json; charset=utf-8");
}

/* An error in ollama's shape, counted by kind. */
static enum MHD_Result send_error(const srv_ollama_env *env, unsigned status, const char *kind,
                                  const char *msg) {
    srv_metrics_error(env->metrics, kind);
    return send_json(env, status, json_pack("{s:s%}", "error", msg,
                                            utf8_valid_prefix(msg, strlen(msg))));
}

/* Our own failure: details to the operator's log, a generic message out. */
static enum MHD_Result send_internal(const srv_ollama_env *env, const char *detail) {
    fprintf(stderr, "hearth serve: %s: %s\n", env->route, detail);
    return send_error(env, 500, "internal",
                      "internal server error (details are in the server's log)");
}

/* RFC 3339 UTC with nanoseconds, as ollama's created_at. */
static void now_rfc3339(char *buf, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%09ldZ", day, (long)ts.tv_nsec);
}

static void time_rfc3339(int64_t t, char *buf, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The name clients see for id: ollama names always carry a tag. */
static void tagged(const char *id, char *buf, size_t cap) {
    snprintf(buf, cap, strchr(id, ':') ? "%s" : "%s:latest", id);
}

static void shown_name(const srv_ollama_env *env, char *buf, size_t cap) {
    tagged(srv_backend_model_id(env->backend), buf, cap);
}

/* name is id, or id with ":latest". */
static bool id_matches(const char *id, const char *name) {
    size_t n = strlen(id);
    if (!strcmp(name, id)) return true;
    return !strchr(id, ':') && !strncmp(name, id, n) && !strcmp(name + n, ":latest");
}

/* The served (chat) model. */
static bool model_matches(const srv_ollama_env *env, const char *name) {
    return id_matches(srv_backend_model_id(env->backend), name);
}

/* What embeds: the served model or the embedding model (embed_model). */
static bool embed_matches(const srv_ollama_env *env, const char *name) {
    const char *eid = srv_backend_embed_id(env->backend);
    return model_matches(env, name) || (eid && id_matches(eid, name));
}

static enum MHD_Result model_not_found(const srv_ollama_env *env, const char *name) {
    char msg[400];
    snprintf(msg, sizeof msg, "model '%.*s' not found; this server serves '%s'",
             (int)utf8_cut(name, strlen(name), 128), name, srv_backend_model_id(env->backend));
    return send_error(env, 404, "model_not_found", msg);
}

/* "135.2M", "1.5B" as ollama's parameter_size. */
static void param_size(uint64_t n, char *buf, size_t cap) {
    if (n >= 1000000000ull) snprintf(buf, cap, "%.1fB", (double)n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, cap, "%.1fM", (double)n / 1e6);
    else snprintf(buf, cap, "%.1fK", (double)n / 1e3);
}

static json_t *details_json(const srv_model_info *mi) {
    char ps[32];
    param_size(mi->n_params, ps, sizeof ps);
    return json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s}", "parent_model", "", "format", "gguf",
                     "family", mi->arch, "families", mi->arch, "parameter_size", ps,
                     "quantization_level", mi->quant);
}

/* ---- request fields ----------------------------------------------------------- */

static hearth_status bad(hearth_error *err, const char *fmt, const char *field) {
    return HEARTH_FAIL(err, HEARTH_E_ARG, fmt, field);
}

static hearth_status dup_str(json_t *v, const char *field, char **out, hearth_error *err) {
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n)) return bad(err, "'%s' must not contain NUL characters", field);
    if (!(*out = hearth_strndup(s, n))) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

/* A field hearth cannot honour must be absent, null, false, "" or []. */
static hearth_status refuse_unless_empty(json_t *root, const char *field, const char *why,
                                         hearth_error *err) {
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v) || json_is_false(v) || (json_is_string(v) && !json_string_length(v)) ||
        (json_is_array(v) && !json_array_size(v)) || (json_is_object(v) && !json_object_size(v)))
        return HEARTH_OK;
    return HEARTH_FAIL(err, HEARTH_E_ARG, "'%s' is not supported: %s", field, why);
}

/* A number option in [lo, hi]; *has true when given. */
static hearth_status opt_num(json_t *o, const char *k, double lo, double hi, float *out, bool *has,
                             hearth_error *err) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (!json_is_number(v)) return HEARTH_FAIL(err, HEARTH_E_ARG, "option '%s' must be a number", k);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "option '%s' must be between %g and %g", k, lo, hi);
    *out = (float)d;
    if (has) *has = true;
    return HEARTH_OK;
}

static hearth_status opt_int(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out,
                             bool *has, hearth_error *err) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return HEARTH_OK;
    /* clients written in JavaScript send 40.0 for 40 */
    double d = json_is_integer(v) ? (double)json_integer_value(v)
               : json_is_real(v) ? json_real_value(v) : NAN;
    if (!isfinite(d) || d != floor(d))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "option '%s' must be an integer", k);
    if (d < (double)lo || d > (double)hi)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "option '%s' must be between %lld and %lld", k,
                           (long long)lo, (long long)hi);
    *out = (int64_t)d;
    *has = true;
    return HEARTH_OK;
}

static hearth_status parse_stop(json_t *v, srv_request *r, hearth_error *err) {
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (json_is_string(v)) {
        if (!json_string_length(v)) return HEARTH_OK;
        r->n_stop = 1;
        return dup_str(v, "stop", &r->stop[0], err);
    }
    if (!json_is_array(v)) return bad(err, "option '%s' must be an array of strings", "stop");
    if (json_array_size(v) > SRV_MAX_STOP)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "option 'stop' may hold at most %d strings",
                           SRV_MAX_STOP);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s) || !json_string_length(s))
            return bad(err, "option '%s' entries must be non-empty strings", "stop");
        hearth_status st = dup_str(s, "stop", &r->stop[r->n_stop], err);
        if (st) return st;
        r->n_stop++;
    }
    return HEARTH_OK;
}

/* "options": ollama's Modelfile parameters mapped onto hearth's sampling.
 * num_ctx is accepted but the context per request is the server's (-c);
 * num_predict -1 / -2 (no limit / fill the context) mean hearth's default
 * limit. Unknown options are ignored (ollama only warns). */
static hearth_status parse_options(json_t *root, srv_request *r, hearth_error *err) {
    json_t *o = json_object_get(root, "options");
    if (!o || json_is_null(o)) return HEARTH_OK;
    if (!json_is_object(o)) return bad(err, "'%s' must be an object", "options");
    hearth_status st;
    int64_t iv = 0;
    bool has = false, dummy;
    if ((st = opt_num(o, "temperature", 0, 100, &r->temperature, &r->has_temperature, err)) ||
        (st = opt_num(o, "top_p", 0, 1, &r->top_p, &r->has_top_p, err)) ||
        (st = opt_num(o, "min_p", 0, 1, &r->min_p, &r->has_min_p, err)) ||
        (st = opt_num(o, "repeat_penalty", 0, 100, &r->repeat_penalty, &r->has_repeat_penalty, err)) ||
        (st = opt_num(o, "presence_penalty", -100, 100, &r->presence_penalty, NULL, err)) ||
        (st = opt_num(o, "frequency_penalty", -100, 100, &r->frequency_penalty, NULL, err)))
        return st;
    if ((st = opt_int(o, "top_k", 0, 1 << 20, &iv, &has, err))) return st;
    if (has) {
        r->top_k = (int32_t)iv;
        r->has_top_k = true;
    }
    has = false;
    if ((st = opt_int(o, "repeat_last_n", -1, 1 << 20, &iv, &has, err))) return st;
    if (has) {
        r->repeat_last_n = (int32_t)iv;
        r->has_repeat_last_n = true;
    }
    has = false;
    if ((st = opt_int(o, "seed", INT64_MIN / 2, INT64_MAX / 2, &iv, &has, err))) return st;
    if (has) {
        r->seed = (uint64_t)iv;
        r->has_seed = true;
    }
    has = false;
    if ((st = opt_int(o, "num_predict", -2, 1 << 20, &iv, &has, err))) return st;
    if (has && iv > 0) r->max_tokens = (int32_t)iv;
    if ((st = opt_int(o, "num_ctx", 1, 1 << 24, &iv, &dummy, err))) return st;
    return parse_stop(json_object_get(o, "stop"), r, err);
}

/* keep_alive: a duration string ("5m", "-1", "0") or a number of seconds. */
static hearth_status parse_keep_alive(json_t *root, hearth_error *err) {
    json_t *v = json_object_get(root, "keep_alive");
    if (!v || json_is_null(v) || json_is_string(v) || json_is_number(v)) return HEARTH_OK;
    return bad(err, "'%s' must be a duration string or a number", "keep_alive");
}

static hearth_status parse_common(json_t *root, srv_request *r, bool *stream, hearth_error *err) {
    *stream = true;
    json_t *v = json_object_get(root, "stream");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) return bad(err, "'%s' must be a boolean", "stream");
        *stream = json_is_true(v);
    }
    r->max_tokens = -1;
    r->cloud = -1;
    hearth_status st;
    if ((st = parse_keep_alive(root, err)) ||
        (st = refuse_unless_empty(root, "format",
                                  "JSON mode and structured outputs are not available in "
                                  "hearth yet", err)) ||
        (st = refuse_unless_empty(root, "tools", "tool calling is not available through "
                                  "hearth's ollama API yet", err)) ||
        (st = refuse_unless_empty(root, "think", "this model has no thinking mode", err)))
        return st;
    return parse_options(root, r, err);
}

/* The body as a JSON object with a string "model" (or, as older clients
 * send, "name"). */
static hearth_status parse_root(const char *body, size_t len, json_t **root, const char **model,
                                hearth_error *err) {
    json_error_t jerr;
    *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "invalid JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    if (!json_is_object(*root)) return bad(err, "the request body must be a JSON %s", "object");
    json_t *m = json_object_get(*root, "model");
    if (!m || json_is_null(m)) m = json_object_get(*root, "name");
    if (!m) return bad(err, "'%s' is required", "model");
    if (!json_is_string(m) || !json_string_length(m) ||
        memchr(json_string_value(m), '\0', json_string_length(m)))
        return bad(err, "'%s' must be a non-empty string", "model");
    *model = json_string_value(m);
    return HEARTH_OK;
}

static hearth_status add_message(srv_request *r, const char *role, json_t *content,
                                 hearth_error *err) {
    srv_message *m = &r->messages[r->n_messages];
    if (!(m->role = hearth_strdup(role))) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    r->n_messages++;
    return dup_str(content, "content", &m->content, err);
}

static hearth_status parse_chat(json_t *root, srv_request *r, hearth_error *err) {
    json_t *msgs = json_object_get(root, "messages");
    if (!msgs || json_is_null(msgs)) return HEARTH_OK; /* load only */
    if (!json_is_array(msgs)) return bad(err, "'%s' must be an array", "messages");
    if (json_array_size(msgs) > SRV_MAX_MESSAGES)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages' has more than %d entries",
                           SRV_MAX_MESSAGES);
    if (!json_array_size(msgs)) return HEARTH_OK;
    if (!(r->messages = hearth_calloc(json_array_size(msgs), sizeof *r->messages)))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        if (!json_is_object(m)) return bad(err, "'%s' must be objects", "messages[]");
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_string(role)) return bad(err, "'%s' must be a string", "messages[].role");
        const char *rs = json_string_value(role);
        if (strcmp(rs, "system") && strcmp(rs, "user") && strcmp(rs, "assistant"))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "'messages[%zu].role' must be system, user or assistant, not '%.*s'",
                               i, (int)utf8_cut(rs, strlen(rs), 32), rs);
        hearth_status st;
        if ((st = refuse_unless_empty(m, "images", "this model reads no images", err)) ||
            (st = refuse_unless_empty(m, "tool_calls", "tool calling is not available through "
                                      "hearth's ollama API yet", err)))
            return st;
        if (!content || json_is_null(content)) content = json_string("");
        else json_incref(content);
        if (!json_is_string(content)) {
            json_decref(content);
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].content' must be a string", i);
        }
        st = add_message(r, rs, content, err);
        json_decref(content);
        if (st) return st;
    }
    return HEARTH_OK;
}

/* generate: prompt (and system) as one chat turn through the model's
 * template, or with "raw" the prompt as it is. */
static hearth_status parse_generate(json_t *root, srv_request *r, hearth_error *err) {
    hearth_status st;
    if ((st = refuse_unless_empty(root, "images", "this model reads no images", err)) ||
        (st = refuse_unless_empty(root, "suffix", "fill-in-the-middle is not available", err)) ||
        (st = refuse_unless_empty(root, "template", "hearth uses the model's own chat template; "
                                  "send \"raw\": true with a formatted prompt instead", err)) ||
        (st = refuse_unless_empty(root, "context", "hearth returns no context to continue; use "
                                  "/api/chat with the conversation", err)))
        return st;
    json_t *raw = json_object_get(root, "raw");
    if (raw && !json_is_null(raw) && !json_is_boolean(raw))
        return bad(err, "'%s' must be a boolean", "raw");
    json_t *prompt = json_object_get(root, "prompt"), *system = json_object_get(root, "system");
    if (prompt && !json_is_null(prompt) && !json_is_string(prompt))
        return bad(err, "'%s' must be a string", "prompt");
    if (system && !json_is_null(system) && !json_is_string(system))
        return bad(err, "'%s' must be a string", "system");
    if (!prompt || json_is_null(prompt) || !json_string_length(prompt)) return HEARTH_OK; /* load */
    if (raw && json_is_true(raw)) {
        r->kind = SRV_COMPLETION;
        return dup_str(prompt, "prompt", &r->prompt, err);
    }
    r->kind = SRV_CHAT;
    if (!(r->messages = hearth_calloc(2, sizeof *r->messages)))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (system && json_is_string(system) && json_string_length(system) &&
        (st = add_message(r, "system", system, err)))
        return st;
    return add_message(r, "user", prompt, err);
}

/* ---- generation ------------------------------------------------------------- */

typedef struct {
    srv_ollama_env env;  /* c, queue and client_gone are not used off the connection */
    srv_request req;
    bool chat;           /* /api/chat (message objects) or /api/generate (response) */
    char name[300];      /* the model as the client named it */
    int64_t t0;
    pthread_t worker;
    bool worker_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    strbuf out;          /* NDJSON not yet handed to MHD */
    size_t out_off;
    bool done;
    atomic_bool cancel;
} ol_job;

static void job_free(ol_job *j) {
    if (!j) return;
    srv_request_free(&j->req);
    strbuf_discard(&j->out);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    hearth_free(j);
}

/* {"model", "created_at", "message"/"response", "done"} */
static json_t *piece_json(const ol_job *j, const char *text, size_t len, bool done) {
    char at[64];
    now_rfc3339(at, sizeof at);
    json_t *o = json_pack("{s:s, s:s}", "model", j->name, "created_at", at);
    if (!o) return NULL;
    json_t *t = json_stringn(text ? text : "", text ? len : 0);
    if (j->chat) json_object_set_new(o, "message", json_pack("{s:s, s:o}", "role", "assistant",
                                                             "content", t));
    else json_object_set_new(o, "response", t);
    json_object_set_new(o, "done", json_boolean(done));
    return o;
}

/* The last object: done, why, and the counts and durations. */
static json_t *final_json(const ol_job *j, const srv_answer *a, const char *reason) {
    json_t *o = piece_json(j, NULL, 0, true);
    if (!o) return NULL;
    json_object_set_new(o, "done_reason", json_string(reason));
    json_object_set_new(o, "total_duration", json_integer(mono_ns() - j->t0));
    json_object_set_new(o, "load_duration", json_integer(0));
    if (a) {
        /* the whole prompt, cached tokens included, as ollama counts it;
         * prompt_eval_cached_count (ollama's, omitted when 0): those a
         * scheduler slot held from an earlier request */
        json_object_set_new(o, "prompt_eval_count", json_integer(a->prompt_tokens));
        if (a->cached_tokens > 0)
            json_object_set_new(o, "prompt_eval_cached_count", json_integer(a->cached_tokens));
        json_object_set_new(o, "prompt_eval_duration",
                            json_integer((json_int_t)llround(a->prompt_ms * 1e6)));
        json_object_set_new(o, "eval_count", json_integer(a->completion_tokens));
        json_object_set_new(o, "eval_duration", json_integer((json_int_t)llround(a->gen_ms * 1e6)));
        /* hearth's own: where the answer came from */
        json_object_set_new(o, "hearth_source", json_string(a->source ? a->source : "local"));
    }
    return o;
}

static const char *done_reason(const srv_answer *a) {
    return a->finish_reason && !strcmp(a->finish_reason, "length") ? "length" : "stop";
}

static void push_line(ol_job *j, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        j->out.failed = true;
        return;
    }
    strbuf_puts(&j->out, s);
    strbuf_puts(&j->out, "\n");
    free(s);
    pthread_cond_signal(&j->cv);
}

static int on_text(void *user, const char *text, size_t len) {
    ol_job *j = user;
    if (atomic_load(&j->cancel)) return 1;
    if (!len) return 0;
    pthread_mutex_lock(&j->mu);
    push_line(j, piece_json(j, text, len, false));
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static void count_answer(const srv_ollama_env *env, const srv_answer *a) {
    srv_metrics_answer(env->metrics, a->source ? a->source : "local", a->prompt_tokens,
                       a->completion_tokens, a->ttft_s, a->per_token_s);
    srv_metrics_confidence(env->metrics, a->confidence);
    srv_metrics_cached(env->metrics, a->cached_tokens);
    srv_metrics_restored(env->metrics, a->restored_tokens);
}

/* A generation failure's status and message: the client's fault (context
 * overflow, a bad value) says why; ours is logged and answered generically. */
static unsigned failure(const srv_ollama_env *env, hearth_status st, const hearth_error *err,
                        const char **msg, const char **kind) {
    if (st == HEARTH_E_LIMIT || st == HEARTH_E_ARG) {
        *msg = err->msg;
        *kind = st == HEARTH_E_LIMIT ? "context_length_exceeded" : "invalid_value";
        return 400;
    }
    fprintf(stderr, "hearth serve: %s: %s\n", env->route, err->msg);
    *msg = "internal server error (details are in the server's log)";
    *kind = "generation_failed";
    return 500;
}

static void *stream_worker(void *arg) {
    ol_job *j = arg;
    srv_answer a = {0};
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = srv_backend_generate(j->env.backend, &j->req, on_text, j, &a, &err);
    pthread_mutex_lock(&j->mu);
    if (st == HEARTH_OK) {
        count_answer(&j->env, &a);
        push_line(j, final_json(j, &a, done_reason(&a)));
        srv_metrics_request(j->env.metrics, j->env.route, 200);
    } else if (st != HEARTH_E_CANCELLED) {
        /* The status line is sent: the error goes in-band, as ollama does. */
        const char *msg, *kind;
        unsigned code = failure(&j->env, st, &err, &msg, &kind);
        push_line(j, json_pack("{s:s%}", "error", msg, utf8_valid_prefix(msg, strlen(msg))));
        srv_metrics_request(j->env.metrics, j->env.route, code);
        srv_metrics_error(j->env.metrics, kind);
    } else {
        srv_metrics_request(j->env.metrics, j->env.route, 499);
        srv_metrics_error(j->env.metrics, "client_disconnected");
    }
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    hearth_free(a.text);
    hearth_free(a.consent_preview);
    return NULL;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    ol_job *j = cls;
    pthread_mutex_lock(&j->mu);
    while (!j->done && j->out.len == j->out_off) pthread_cond_wait(&j->cv, &j->mu);
    ssize_t n;
    if (j->out.failed) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (j->out.len > j->out_off) {
        size_t k = j->out.len - j->out_off;
        if (k > max) k = max;
        memcpy(buf, j->out.p + j->out_off, k);
        j->out_off += k;
        if (j->out_off == j->out.len) j->out.len = j->out_off = 0;
        n = (ssize_t)k;
    } else {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&j->mu);
    return n;
}

static void stream_free(void *cls) {
    ol_job *j = cls;
    atomic_store(&j->cancel, true);
    if (j->worker_started) pthread_join(j->worker, NULL);
    atomic_fetch_sub(j->env.active, 1);
    job_free(j);
}

static int watch_client(void *user, const char *text, size_t len) {
    (void)text;
    (void)len;
    const srv_ollama_env *env = user;
    return env->client_gone(env->c);
}

static enum MHD_Result answer_generation(const srv_ollama_env *env, bool chat, const char *body,
                                         size_t len) {
    ol_job *j = hearth_calloc(1, sizeof *j);
    if (!j) return MHD_NO;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    strbuf_init(&j->out);
    j->env = *env;
    j->chat = chat;
    j->t0 = mono_ns();
    j->req.kind = SRV_CHAT;
    hearth_error err;
    hearth_error_clear(&err);
    json_t *root = NULL;
    const char *model = NULL;
    bool stream = true;
    hearth_status st = parse_root(body, len, &root, &model, &err);
    if (!st) {
        snprintf(j->name, sizeof j->name, "%.*s", (int)utf8_cut(model, strlen(model), 256), model);
        st = parse_common(root, &j->req, &stream, &err);
    }
    if (!st) st = chat ? parse_chat(root, &j->req, &err) : parse_generate(root, &j->req, &err);
    bool matches = !st && model_matches(env, model);
    json_decref(root);
    if (st) {
        job_free(j);
        return send_error(env, st == HEARTH_E_NOMEM ? 500 : 400,
                          st == HEARTH_E_FORMAT ? "invalid_json" : "invalid_value", err.msg);
    }
    if (!matches) {
        enum MHD_Result ok = model_not_found(env, j->name);
        job_free(j);
        return ok;
    }
    srv_model_info mi;
    srv_backend_model_info(env->backend, &mi);
    if (mi.embedding_only) {
        job_free(j);
        return send_error(env, 400, "invalid_value",
                          "this model is an embedding model: it does not generate text (use "
                          "/api/embed)");
    }
    bool load_only = j->req.kind == SRV_CHAT ? j->req.n_messages == 0 : !j->req.prompt;
    if (load_only) {
        /* ollama's way of loading a model: nothing to generate. */
        json_t *o = final_json(j, NULL, "load");
        job_free(j);
        return send_json(env, 200, o);
    }
    if (stream) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, j, stream_free);
        if (!r) {
            job_free(j);
            return MHD_NO;
        }
        /* From here stream_free gives the queue slot back. */
        *env->counted_active = false;
        if (pthread_create(&j->worker, NULL, stream_worker, j)) {
            MHD_destroy_response(r); /* stream_free: slot back, job freed */
            atomic_fetch_add(env->active, 1);
            *env->counted_active = true;
            return send_internal(env, "cannot start a thread");
        }
        j->worker_started = true;
        MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        return env->queue(env->server, env->c, 200, r);
    }
    srv_answer a = {0};
    st = srv_backend_generate(env->backend, &j->req, watch_client, (void *)env, &a, &err);
    enum MHD_Result ok;
    if (st == HEARTH_OK) {
        count_answer(env, &a);
        json_t *o = final_json(j, &a, done_reason(&a));
        if (o && chat)
            json_object_set_new(o, "message", json_pack("{s:s, s:s}", "role", "assistant",
                                                        "content", a.text ? a.text : ""));
        else if (o)
            json_object_set_new(o, "response", json_string(a.text ? a.text : ""));
        ok = send_json(env, 200, o);
    } else if (st == HEARTH_E_CANCELLED) {
        srv_metrics_request(env->metrics, env->route, 499);
        srv_metrics_error(env->metrics, "client_disconnected");
        ok = MHD_NO;
    } else {
        const char *msg, *kind;
        unsigned code = failure(env, st, &err, &msg, &kind);
        ok = send_error(env, code, kind, msg);
    }
    hearth_free(a.text);
    hearth_free(a.consent_preview);
    job_free(j);
    return ok;
}

/* ---- embeddings ------------------------------------------------------------- */

/* /api/embed (input: a string or strings; {"embeddings": [[...]]}) and the
 * older /api/embeddings (prompt: one string; {"embedding": [...]}). */
static enum MHD_Result answer_embed(const srv_ollama_env *env, bool legacy, const char *body,
                                    size_t len) {
    int64_t t0 = mono_ns();
    hearth_error err;
    hearth_error_clear(&err);
    json_t *root = NULL;
    const char *model = NULL;
    hearth_status st = parse_root(body, len, &root, &model, &err);
    json_t *input = NULL;
    int64_t want_dim = 0;
    if (!st) st = parse_keep_alive(root, &err);
    if (!st) {
        input = json_object_get(root, legacy ? "prompt" : "input");
        if (!input || json_is_null(input)) {
            input = NULL;
            if (!legacy) st = bad(&err, "'%s' is required", "input");
        } else if (json_is_string(input)) {
        } else if (legacy || !json_is_array(input)) {
            st = bad(&err, legacy ? "'%s' must be a string" : "'%s' must be a string or an array "
                     "of strings", legacy ? "prompt" : "input");
        } else if (json_array_size(input) > SRV_MAX_INPUTS) {
            st = HEARTH_FAIL(&err, HEARTH_E_ARG, "'input' has more than %d entries", SRV_MAX_INPUTS);
        } else {
            size_t i;
            json_t *s;
            json_array_foreach(input, i, s) if (!json_is_string(s)) {
                st = bad(&err, "'%s' entries must be strings", "input");
                break;
            }
        }
    }
    if (!st) {
        json_t *t = json_object_get(root, "truncate"), *d = json_object_get(root, "dimensions");
        if (t && !json_is_null(t) && !json_is_boolean(t))
            st = bad(&err, "'%s' must be a boolean", "truncate");
        else if (d && !json_is_null(d)) {
            if (!json_is_integer(d) || json_integer_value(d) < 1)
                st = bad(&err, "'%s' must be a positive integer", "dimensions");
            else want_dim = json_integer_value(d);
        }
    }
    if (st) {
        json_decref(root);
        return send_error(env, st == HEARTH_E_NOMEM ? 500 : 400,
                          st == HEARTH_E_FORMAT ? "invalid_json" : "invalid_value", err.msg);
    }
    char name[300];
    snprintf(name, sizeof name, "%.*s", (int)utf8_cut(model, strlen(model), 256), model);
    if (!embed_matches(env, model)) {
        json_decref(root);
        return model_not_found(env, name);
    }
    size_t n = !input ? 0 : json_is_string(input) ? 1 : json_array_size(input);
    json_t *all = json_array();
    int64_t tokens = 0;
    for (size_t i = 0; i < n && !st; i++) {
        json_t *s = json_is_string(input) ? input : json_array_get(input, i);
        if (memchr(json_string_value(s), '\0', json_string_length(s))) {
            st = bad(&err, "'%s' must not contain NUL characters", legacy ? "prompt" : "input");
            break;
        }
        if (legacy && !json_string_length(s)) break; /* ollama: an empty prompt, an empty vector */
        if (env->client_gone(env->c)) {
            st = HEARTH_E_CANCELLED;
            break;
        }
        float *v = NULL;
        int dim = 0;
        int64_t nt = 0;
        st = srv_backend_embed(env->backend, json_string_value(s), &v, &dim, &nt, &err);
        if (st) break;
        if (want_dim && want_dim != dim) {
            hearth_free(v);
            st = HEARTH_FAIL(&err, HEARTH_E_ARG, "'dimensions' must be %d for this model (its "
                             "embeddings are not truncatable)", dim);
            break;
        }
        srv_metrics_embedded(env->metrics);
        json_t *arr = json_array();
        for (int k = 0; k < dim; k++) json_array_append_new(arr, json_real(v[k]));
        hearth_free(v);
        json_array_append_new(all, arr);
        tokens += nt;
    }
    json_decref(root);
    if (st) {
        json_decref(all);
        if (st == HEARTH_E_CANCELLED) {
            srv_metrics_request(env->metrics, env->route, 499);
            srv_metrics_error(env->metrics, "client_disconnected");
            return MHD_NO;
        }
        const char *msg, *kind;
        unsigned code = failure(env, st, &err, &msg, &kind);
        return send_error(env, code, kind, msg);
    }
    srv_metrics_answer(env->metrics, "local", tokens, 0, -1, -1);
    if (legacy) {
        json_t *first = json_array_size(all) ? json_incref(json_array_get(all, 0)) : json_array();
        json_decref(all);
        return send_json(env, 200, json_pack("{s:o}", "embedding", first));
    }
    return send_json(env, 200, json_pack("{s:s, s:o, s:I, s:I, s:I}", "model", name, "embeddings",
                                         all, "total_duration", (json_int_t)(mono_ns() - t0),
                                         "load_duration", (json_int_t)0, "prompt_eval_count",
                                         (json_int_t)tokens));
}

/* ---- models ------------------------------------------------------------------- */

/* id: the chat model's (NULL) or the embedding model's. */
static json_t *model_entry(const srv_ollama_env *env, const srv_model_info *mi, const char *id) {
    char name[300], mod[32];
    if (id) tagged(id, name, sizeof name);
    else shown_name(env, name, sizeof name);
    time_rfc3339(mi->modified, mod, sizeof mod);
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "name", name, "model", name, "modified_at",
                     mod, "size", (json_int_t)mi->file_size, "digest", mi->digest, "details",
                     details_json(mi));
}

static enum MHD_Result answer_tags(const srv_ollama_env *env) {
    srv_model_info mi, emi;
    srv_backend_model_info(env->backend, &mi);
    json_t *list = json_pack("[o]", model_entry(env, &mi, NULL));
    /* the embedding model too: apps pick their embedding model from here */
    if (list && srv_backend_embed_model_info(env->backend, &emi))
        json_array_append_new(list, model_entry(env, &emi, srv_backend_embed_id(env->backend)));
    return send_json(env, 200, json_pack("{s:o}", "models", list));
}

static enum MHD_Result answer_ps(const srv_ollama_env *env) {
    srv_model_info mi;
    srv_backend_model_info(env->backend, &mi);
    json_t *e = model_entry(env, &mi, NULL);
    if (e) {
        json_object_del(e, "modified_at");
        /* loaded for as long as the server runs (keep_alive has no effect) */
        json_object_set_new(e, "expires_at", json_string("2318-01-01T00:00:00Z"));
        json_object_set_new(e, "size_vram", json_integer(0));
        json_object_set_new(e, "context_length", json_integer(mi.n_ctx));
    }
    return send_json(env, 200, json_pack("{s:[o]}", "models", e));
}

static enum MHD_Result answer_show(const srv_ollama_env *env, const char *body, size_t len) {
    hearth_error err;
    hearth_error_clear(&err);
    json_t *root = NULL;
    const char *model = NULL;
    hearth_status st = parse_root(body, len, &root, &model, &err);
    if (st) {
        json_decref(root);
        return send_error(env, 400, st == HEARTH_E_FORMAT ? "invalid_json" : "invalid_value",
                          err.msg);
    }
    if (!model_matches(env, model)) {
        char name[300];
        snprintf(name, sizeof name, "%.*s", (int)utf8_cut(model, strlen(model), 256), model);
        json_decref(root);
        return model_not_found(env, name);
    }
    json_decref(root);
    srv_model_info mi;
    srv_backend_model_info(env->backend, &mi);
    char *tmpl = srv_backend_chat_template(env->backend);
    char name[300], mod[32], key[64];
    shown_name(env, name, sizeof name);
    time_rfc3339(mi.modified, mod, sizeof mod);
    json_t *info = json_pack("{s:s, s:I}", "general.architecture", mi.arch,
                             "general.parameter_count", (json_int_t)mi.n_params);
    if (info) {
        const struct { const char *k; int64_t v; } kv[] = {
            {"context_length", mi.n_ctx_train}, {"embedding_length", mi.n_embd},
            {"block_count", mi.n_layer}, {"vocab_size", mi.n_vocab}};
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
            snprintf(key, sizeof key, "%s.%s", mi.arch, kv[i].k);
            json_object_set_new(info, key, json_integer(kv[i].v));
        }
    }
    strbuf mf;
    strbuf_init(&mf);
    strbuf_printf(&mf, "# served by hearth %s\nFROM %s\n", hearth_version(), name);
    char *modelfile = strbuf_finish(&mf, NULL);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:[s], s:s}", "modelfile",
                          modelfile ? modelfile : "", "parameters", "", "template",
                          tmpl ? tmpl : "", "details", details_json(&mi), "model_info", info,
                          "capabilities", mi.embedding_only ? "embedding" : "completion",
                          "modified_at", mod);
    hearth_free(modelfile);
    hearth_free(tmpl);
    return send_json(env, 200, o);
}

/* ---- dispatch ------------------------------------------------------------------ */

enum MHD_Result srv_ollama_answer_plain(const srv_ollama_env *env, const char *path) {
    if (!strcmp(path, "/api/version"))
        return send_json(env, 200, json_pack("{s:s, s:s}", "version", SRV_OLLAMA_API_VERSION,
                                             "hearth_version", hearth_version()));
    /* Apps probe "/" to see that a server is there. Not ollama's own words:
     * it is hearth answering, in ollama's API. */
    static const char text[] = "hearth is running (ollama API at /api, OpenAI API at /v1)";
    char *t = hearth_strdup(text);
    if (!t) return MHD_NO;
    srv_metrics_request(env->metrics, env->route, 200);
    return send_text(env, 200, t, strlen(t), "text/plain; charset=utf-8");
}

enum MHD_Result srv_ollama_answer(const srv_ollama_env *env, const char *path, const char *body,
                                  size_t len) {
    if (!strcmp(path, "/api/tags")) return answer_tags(env);
    if (!strcmp(path, "/api/ps")) return answer_ps(env);
    if (!strcmp(path, "/api/show")) return answer_show(env, body, len);
    if (!strcmp(path, "/api/chat")) return answer_generation(env, true, body, len);
    if (!strcmp(path, "/api/generate")) return answer_generation(env, false, body, len);
    if (!strcmp(path, "/api/embed")) return answer_embed(env, false, body, len);
    if (!strcmp(path, "/api/embeddings")) return answer_embed(env, true, body, len);
    /* pull, create, push, copy, delete, blobs */
    return send_error(env, 501, "not_implemented",
                      "model management is not available through this API: hearth serves the "
                      "model it was started with; download one with `hearth pull NAME` and "
                      "serve it with `hearth serve -m NAME`");
}
