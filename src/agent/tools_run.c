/*
 * tools_run.c: answering a request that carries tools (hearth_agent_process
 * with tools_json or builtin_tools).
 *
 *   conversation (system/user/assistant/tool messages, or the session's
 *   history and the new user message)
 *   -> the family's tool presentation (template_tools.c) -> token ids
 *   -> generation, constrained by the tools' grammar where a call is due
 *      (tools_grammar.c: required/named from the first token, auto after
 *      the family's opening marker)
 *   -> calls read back out of the text (tools_parse.c)
 *   -> caller's tools: the calls are the answer (finish TOOL_CALLS);
 *      built-in tools: each call runs (tools_builtin.c), the call and its
 *      result join the conversation and the model runs again (tool_choice
 *      auto from the second step), up to max_tool_steps model runs
 *   -> with a session: the user message, every call ("tool_call", the calls
 *      as a JSON array) and result ("tool", {"id", "name", "result"}) and
 *      the answer, in one transaction.
 * Such requests never read or write the response cache and never go to
 * the cloud: a tool's result is the user's data, and the cloud path knows
 * no tools.
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>


#define DEFAULT_STEPS 4
#define MAX_STEPS 16

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A tool conversation; strings borrowed, or owned by own. */
typedef struct {
    tool_msg *v;
    size_t n, cap;
    agent_conv own;
} tconv;

static bool tconv_add(tconv *c, const char *role, const char *content, const char *calls,
                      const char *id) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        tool_msg *v = hearth_realloc(c->v, cap * sizeof *v);
        if (!v) return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (tool_msg){role, content, calls, id};
    return true;
}

/* Takes over s (freed with the conv). */
static bool tconv_own(tconv *c, char *s) { return s && agent_conv_own(&c->own, s); }

static void tconv_free(tconv *c) {
    hearth_free(c->v);
    agent_conv_free(&c->own);
    *c = (tconv){0};
}

/* The request's messages as a conversation (roles system, user, assistant
 * with optional tool calls, tool), with the default system text first when
 * it brings none. */
static hearth_status messages_conv(hearth_agent *a, const hearth_agent_request *r, tconv *conv,
                                   const char **user, hearth_error *err) {
    *user = NULL;
    bool has_system = false;
    for (size_t i = 0; i < r->n_messages; i++) {
        const hearth_chat_message *m = &r->messages[i];
        if (!m->role || (strcmp(m->role, "system") && strcmp(m->role, "user") &&
                         strcmp(m->role, "assistant") && strcmp(m->role, "tool")))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "message %zu: role '%s' is not system, user, assistant or tool", i,
                               m->role ? m->role : "(null)");
        if (!m->content) return HEARTH_FAIL(err, HEARTH_E_ARG, "message %zu: content is NULL", i);
        has_system |= !strcmp(m->role, "system");
        if (!strcmp(m->role, "user")) *user = m->content;
    }
    if (!*user) return HEARTH_FAIL(err, HEARTH_E_ARG, "request: no user message");
    if (!has_system && agent_default_system(a) &&
        !tconv_add(conv, "system", agent_default_system(a), NULL, NULL))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
    for (size_t i = 0; i < r->n_messages; i++) {
        const hearth_chat_tool_info *ti = r->tool_info ? &r->tool_info[i] : NULL;
        if (!tconv_add(conv, r->messages[i].role, r->messages[i].content,
                       ti ? ti->tool_calls : NULL, ti ? ti->tool_call_id : NULL))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
    }
    return HEARTH_OK;
}

/* What one step adds to the stored conversation. */
typedef struct {
    const char *role;
    char *content; /* owned by the conv */
} stored;

typedef struct {
    stored *v;
    size_t n, cap;
} stored_list;

static bool stored_add(stored_list *l, const char *role, char *content) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        stored *v = hearth_realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (stored){role, content};
    return true;
}

/* Runs the built-in tools of calls (a JSON array text), appending the
 * assistant's calls and each result to conv and to the stored list. */
static hearth_status run_calls(hearth_agent *a, const hearth_agent_request *r,
                               const char *content, const char *calls_text, tconv *conv,
                               stored_list *keep, hearth_error *err) {
    char *calls_copy = hearth_strdup(calls_text);
    char *content_copy = hearth_strdup(content);
    bool ok = tconv_own(conv, calls_copy);
    if (!ok) hearth_free(content_copy);
    ok = ok && tconv_own(conv, content_copy) &&
         tconv_add(conv, "assistant", content_copy, calls_copy, NULL) &&
         stored_add(keep, "tool_call", calls_copy);
    if (!ok) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tools: out of memory");
    json_t *calls = json_loads(calls_text, 0, NULL);
    size_t i;
    json_t *c;
    hearth_status st = HEARTH_OK;
    json_array_foreach(calls, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *fn = json_object_get(c, "function");
        const char *name = json_string_value(json_object_get(fn, "name"));
        const char *args = json_string_value(json_object_get(fn, "arguments"));
        char *result = NULL;
        if ((st = tools_builtin_run(a, name, args, &result, err))) break;
        if (r->on_tool) r->on_tool(r->user_data, name, args, result);
        json_t *res = json_loads(result, 0, NULL);
        json_t *rec = json_pack("{s:s, s:s, s:o}", "id", id ? id : "", "name", name,
                                "result", res ? res : json_string(result));
        char *rec_text = rec ? tools_json_text(rec, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(rec);
        char *idc = hearth_strdup(id ? id : "");
        ok = tconv_own(conv, result);
        if (!ok) {
            hearth_free(rec_text);
            hearth_free(idc);
        } else if (!(ok = tconv_own(conv, rec_text))) {
            hearth_free(idc);
        } else {
            ok = tconv_own(conv, idc) && tconv_add(conv, "tool", result, NULL, idc) &&
                 stored_add(keep, "tool", rec_text);
        }
        if (!ok) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tools: out of memory");
            break;
        }
    }
    json_decref(calls);
    return st;
}

static hearth_status store_all(hearth_agent *a, const char *session, const char *user,
                               const stored_list *keep, hearth_agent_response *resp,
                               hearth_error *err) {
    size_t n = keep->n + 3; /* user, the steps, the last calls, the answer */
    hearth_message *m = hearth_calloc(n, sizeof *m);
    int64_t *ids = hearth_calloc(n, sizeof *ids);
    hearth_status st = HEARTH_OK;
    int64_t sid = 0;
    if (!m || !ids) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tools: out of memory");
    if (!st) st = hearth_store_session_ensure(a->store, session, &sid, err);
    if (!st) {
        const char *model = hearth_model_name(a->model);
        size_t k = 0;
        m[k++] = (hearth_message){.session_id = sid, .role = "user", .content = user};
        for (size_t i = 0; i < keep->n; i++)
            m[k++] = (hearth_message){.session_id = sid, .role = keep->v[i].role,
                                      .content = keep->v[i].content,
                                      .model = model && *model ? model : NULL};
        if (resp->tool_calls_json)
            m[k++] = (hearth_message){.session_id = sid, .role = "tool_call",
                                      .content = resp->tool_calls_json,
                                      .model = model && *model ? model : NULL};
        m[k++] = (hearth_message){.session_id = sid, .role = "assistant",
                                  .content = resp->content,
                                  .n_tokens = resp->completion_tokens,
                                  .model = model && *model ? model : NULL,
                                  .source = hearth_source_name(resp->source),
                                  .confidence = resp->confidence};
        if (resp->tool_calls_json && !*resp->content) k--; /* the calls are the answer */
        st = hearth_store_message_add_batch(a->store, m, k, ids, err);
        if (!st) {
            resp->user_message_id = ids[0];
            resp->assistant_message_id = ids[k - 1];
        }
    }
    hearth_free(m);
    hearth_free(ids);
    return st;
}

hearth_status agent_tools_process(hearth_agent *a, const hearth_agent_request *r,
                                  hearth_agent_response *resp, hearth_error *err) {
    double t0 = now_ms();
    if (r->max_tokens < 0 || r->n_stop > 64 || (r->n_stop && !r->stop))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "request: bad max_tokens or stop list");
    if ((unsigned)r->tool_choice > HEARTH_TOOL_CHOICE_NAMED)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "request: bad tool_choice %d", (int)r->tool_choice);
    if (r->tool_choice == HEARTH_TOOL_CHOICE_NAMED && (!r->tool_name || !*r->tool_name))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "request: tool_choice names no function");
    if (r->max_tool_steps < 0 || r->max_tool_steps > MAX_STEPS)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "request: max_tool_steps must be 0..%d", MAX_STEPS);
    int max_tokens = r->max_tokens > 0 ? r->max_tokens : a->p.max_tokens;
    if (max_tokens <= 0) max_tokens = 512;
    size_t reserve = (size_t)max_tokens < (size_t)a->n_ctx / 2 ? (size_t)max_tokens
                                                                : (size_t)a->n_ctx / 2;
    size_t budget = (size_t)a->n_ctx - reserve;
    int steps = r->builtin_tools ? (r->max_tool_steps ? r->max_tool_steps : DEFAULT_STEPS) : 1;

    json_t *defs = NULL;
    const char *dt = r->builtin_tools ? tools_builtin_defs() : r->tools_json;
    hearth_status st = dt ? tools_defs_parse(dt, strlen(dt), &defs, err) : HEARTH_OK;
    if (st) return st;
    /* tool messages in the history but no tools: nothing to call now */
    if (!defs && r->tool_choice != HEARTH_TOOL_CHOICE_AUTO &&
        r->tool_choice != HEARTH_TOOL_CHOICE_NONE)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "tool_choice needs tools");
    if (defs && r->tool_choice == HEARTH_TOOL_CHOICE_NAMED && !tools_defs_find(defs, r->tool_name)) {
        json_decref(defs);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "tool_choice names '%s', which is not a tool",
                           r->tool_name);
    }
    tconv conv = {0};
    stored_list keep = {0};
    const char *user = NULL;
    int64_t sid = 0;
    char *content = NULL, *calls = NULL;
    hearth_grammar *g = NULL;
    char *gbnf = NULL;
    agent_gen gen = {0};
    int32_t *ids = NULL;
    if (r->n_messages) {
        if (!r->messages) st = HEARTH_FAIL(err, HEARTH_E_ARG, "request: messages is NULL");
        else st = messages_conv(a, r, &conv, &user, err);
    } else {
        /* the session's stored chat (its tool steps are not replayed) */
        st = agent_build_conv(a, r, budget, &conv.own, &user, &sid, err);
        for (size_t i = 0; !st && i < conv.own.n; i++)
            if (!tconv_add(&conv, conv.own.v[i].role, conv.own.v[i].content, NULL, NULL))
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "request: out of memory");
    }
    hearth_tool_choice choice = defs ? r->tool_choice : HEARTH_TOOL_CHOICE_NONE;
    int completion = 0, decoded = 0;
    double prompt_ms = 0, gen_ms = 0;
    for (int step = 0; !st && step < steps; step++) {
        agent_conv view = {0};
        size_t n = 0;
        const char *trigger = NULL;
        hearth_free(content);
        hearth_free(calls);
        content = calls = NULL;
        st = tools_conv(a->tmpl, conv.v, conv.n, choice == HEARTH_TOOL_CHOICE_NONE ? NULL : defs,
                        &view, err);
        if (!st) st = hearth_template_render(a->tmpl, a->tok, view.v, view.n, &ids, &n, err);
        agent_conv_free(&view);
        if (!st && n > budget)
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT,
                             "the prompt takes %zu tokens; the context window of %d holds %zu "
                             "with room for the answer", n, (int)a->n_ctx, budget);
        if (!st)
            st = tools_grammar(a->tmpl, defs, choice, r->tool_name, r->parallel_tool_calls,
                               &gbnf, &trigger, err);
        if (!st && gbnf)
            st = hearth_grammar_from_gbnf(gbnf, strlen(gbnf), "root", &g, err);
        if (st) break;
        hearth_gen_params gp = agent_gen_params(r, max_tokens);
        gp.grammar = g;
        gp.grammar_trigger = g ? trigger : NULL;
        st = agent_generate(a, ids, n, &gp, NULL, NULL, &gen, err);
        hearth_free(ids);
        ids = NULL;
        if (g) hearth_grammar_free(g);
        g = NULL;
        hearth_free(gbnf);
        gbnf = NULL;
        if (st) break;
        completion += gen.res.n_gen;
        decoded += gen.res.n_prompt - (int)gen.n_cached + gen.res.n_gen;
        prompt_ms += gen.res.prompt_ms;
        gen_ms += gen.res.gen_ms;
        resp->n_drafted += gen.res.n_drafted;
        resp->n_accepted += gen.res.n_accepted;
        resp->n_spec_steps += gen.res.n_spec_steps;
        resp->prompt_tokens = (int)n;
        resp->cached_tokens = (int)gen.n_cached;
        resp->finish = gen.res.finish;
        resp->tool_steps = step + 1;
        if (gen.cb_stopped || agent_should_stop(a)) resp->finish = HEARTH_FINISH_CANCELLED;
        resp->confidence = conf_score(&gen.conf, gen.text.v, gen.text.n).score;
        if (choice == HEARTH_TOOL_CHOICE_NONE) {
            content = gen.text.v;
            gen.text = (agent_buf){0};
        } else {
            st = tools_parse(a->tmpl, gen.text.v, defs, r->parallel_tool_calls, &content, &calls,
                             err);
        }
        agent_buf_free(&gen.text);
        if (st || resp->finish == HEARTH_FINISH_CANCELLED || !calls || !r->builtin_tools ||
            step + 1 == steps)
            break;
        st = run_calls(a, r, content, calls, &conv, &keep, err);
        choice = HEARTH_TOOL_CHOICE_AUTO;
    }
    if (!st) {
        resp->source = HEARTH_SOURCE_LOCAL;
        resp->content = content;
        resp->tool_calls_json = calls;
        content = calls = NULL;
        if (resp->tool_calls_json && resp->finish != HEARTH_FINISH_CANCELLED)
            resp->finish = HEARTH_FINISH_TOOL_CALLS;
        resp->completion_tokens = completion;
        resp->decoded_tokens = decoded;
        resp->prompt_ms = prompt_ms;
        resp->generate_ms = gen_ms;
        if (r->on_text && *resp->content)
            r->on_text(r->user_data, resp->content, strlen(resp->content));
        if (r->session && !r->incognito)
            st = store_all(a, r->session, user, &keep, resp, err);
    }
    resp->total_ms = now_ms() - t0;
    hearth_free(content);
    hearth_free(calls);
    hearth_free(keep.v);
    tconv_free(&conv);
    json_decref(defs);
    if (st) hearth_agent_response_clear(resp);
    return st;
}
