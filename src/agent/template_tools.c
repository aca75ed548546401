/*
 * template_tools.c: how each chat template family presents tools, tool
 * calls and tool results to the model. A conversation with tools is
 * rewritten into plain messages that the family's renderer (template.c)
 * then lays out, so template.c knows nothing of tools:
 *
 *   ChatML / Qwen2.5 (Qwen's own template):
 *     system: "<system text>\n\n# Tools\n\nYou may call one or more functions
 *     ... <tools>\n{tool json}\n...</tools>\n\nFor each function call, return
 *     a json object ... <tool_call></tool_call> XML tags: ..."
 *     assistant calls: "<tool_call>\n{"name": N, "arguments": A}\n</tool_call>"
 *     tool results: one user turn, "<tool_response>\nR\n</tool_response>" each.
 *   Llama 3.x (Meta's JSON tool calling, tools in the first user message):
 *     "Given the following functions, please respond with a JSON for a
 *     function call ... {tool json}\n\n<user text>"; calls
 *     {"name": N, "parameters": A}; results in the "ipython" role.
 *   Mistral (v3 tokenizer's markers, as text): "[AVAILABLE_TOOLS] [...]
 *     [/AVAILABLE_TOOLS]" before the last user message; calls
 *     "[TOOL_CALLS] [{"name": N, "arguments": A, "id": I}]"; results
 *     "[TOOL_RESULTS] {"content": R, "call_id": I}[/TOOL_RESULTS]".
 *   Every other family (Llama 2, Phi-3, Gemma, Zephyr) has no tool format of
 *   its own and gets the ChatML/Qwen text above (the generic prompt: README
 *   "Tool calling"), which any instruction-tuned model can follow and which
 *   the call grammar enforces.
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

static const char qwen_head[] =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
static const char qwen_tail[] =
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
    "<function-name>, \"arguments\": <args-json-object>}\n</tool_call>";
static const char llama3_head[] =
    "Given the following functions, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": "
    "function name, \"parameters\": dictionary of argument name and its value}. Do not use "
    "variables.\n\n";

/* Compact JSON with ", " and ": " separators, keys in order (as Jinja's
 * tojson writes them). */
#define FLAGS (JSON_PRESERVE_ORDER)

/* The tools' description block for family t. Owned. */
static char *describe(hearth_template t, json_t *defs) {
    agent_buf b = {0};
    bool ok = true;
    if (t == HEARTH_TEMPLATE_MISTRAL) {
        char *arr = tools_json_text(defs, FLAGS);
        ok = arr && agent_buf_puts(&b, "[AVAILABLE_TOOLS] ") && agent_buf_puts(&b, arr) &&
             agent_buf_puts(&b, "[/AVAILABLE_TOOLS]");
        hearth_free(arr);
    } else {
        ok = agent_buf_puts(&b, t == HEARTH_TEMPLATE_LLAMA3 ? llama3_head : qwen_head);
        size_t i;
        json_t *tool;
        json_array_foreach(defs, i, tool) {
            char *s = tools_json_text(t == HEARTH_TEMPLATE_LLAMA3 ? tool : tool, FLAGS);
            ok = ok && s && agent_buf_puts(&b, t == HEARTH_TEMPLATE_LLAMA3 ? "" : "\n") &&
                 agent_buf_puts(&b, s) && (t != HEARTH_TEMPLATE_LLAMA3 || agent_buf_puts(&b, "\n\n"));
            hearth_free(s);
        }
        if (t != HEARTH_TEMPLATE_LLAMA3) ok = ok && agent_buf_puts(&b, qwen_tail);
    }
    if (!ok) {
        agent_buf_free(&b);
        return NULL;
    }
    return b.v;
}

/* The arguments of a call as JSON text: the string OpenAI sends, tidied
 * into the form the model was shown, or as given when it is not JSON. */
static char *args_text(json_t *fn) {
    json_t *a = json_object_get(fn, "arguments");
    if (json_is_string(a)) {
        json_t *v = json_loads(json_string_value(a), JSON_DECODE_ANY, NULL);
        if (v) {
            char *s = tools_json_text(v, FLAGS);
            json_decref(v);
            return s;
        }
        return hearth_strdup(json_string_value(a));
    }
    return tools_json_text(a ? a : json_object(), FLAGS);
}

/* The family's text of an assistant message's calls (calls_json: OpenAI's
 * tool_calls array), after its content. Owned; NULL on allocation failure
 * or calls that are not an array (HEARTH_E_ARG via *bad). */
static char *calls_text(hearth_template t, const char *content, const char *calls_json,
                        bool *bad) {
    json_t *calls = json_loads(calls_json, 0, NULL);
    if (!json_is_array(calls)) {
        json_decref(calls);
        *bad = true;
        return NULL;
    }
    agent_buf b = {0};
    bool ok = true;
    if (t != HEARTH_TEMPLATE_LLAMA3 && t != HEARTH_TEMPLATE_MISTRAL && content && *content)
        ok = agent_buf_puts(&b, content) && agent_buf_puts(&b, "\n");
    if (t == HEARTH_TEMPLATE_MISTRAL) ok = ok && agent_buf_puts(&b, "[TOOL_CALLS] [");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        json_t *fn = json_object_get(c, "function");
        const char *name = json_string_value(json_object_get(fn, "name"));
        if (!name) {
            *bad = true;
            ok = false;
            break;
        }
        char *args = args_text(fn);
        json_t *nm = json_string(name);
        char *nq = nm ? tools_json_text(nm, FLAGS) : NULL;
        json_decref(nm);
        ok = ok && args && nq;
        if (t == HEARTH_TEMPLATE_MISTRAL) {
            json_t *id = json_object_get(c, "id");
            json_t *idv = json_string(json_is_string(id) ? json_string_value(id) : "");
            char *iq = idv ? tools_json_text(idv, FLAGS) : NULL;
            json_decref(idv);
            ok = ok && iq && agent_buf_puts(&b, i ? ", " : "") &&
                 agent_buf_puts(&b, "{\"name\": ") && agent_buf_puts(&b, nq) &&
                 agent_buf_puts(&b, ", \"arguments\": ") && agent_buf_puts(&b, args) &&
                 agent_buf_puts(&b, ", \"id\": ") && agent_buf_puts(&b, iq) &&
                 agent_buf_puts(&b, "}");
            hearth_free(iq);
        } else if (t == HEARTH_TEMPLATE_LLAMA3) {
            ok = ok && agent_buf_puts(&b, i ? "\n" : "") && agent_buf_puts(&b, "{\"name\": ") &&
                 agent_buf_puts(&b, nq) && agent_buf_puts(&b, ", \"parameters\": ") &&
                 agent_buf_puts(&b, args) && agent_buf_puts(&b, "}");
        } else {
            ok = ok && agent_buf_puts(&b, i ? "\n" : "") &&
                 agent_buf_puts(&b, "<tool_call>\n{\"name\": ") && agent_buf_puts(&b, nq) &&
                 agent_buf_puts(&b, ", \"arguments\": ") && agent_buf_puts(&b, args) &&
                 agent_buf_puts(&b, "}\n</tool_call>");
        }
        hearth_free(args);
        hearth_free(nq);
    }
    if (t == HEARTH_TEMPLATE_MISTRAL) ok = ok && agent_buf_puts(&b, "]");
    json_decref(calls);
    if (!ok || !b.v) {
        agent_buf_free(&b);
        return NULL;
    }
    return b.v;
}

/* One tool result in the family's words, appended to b. */
static bool result_text(hearth_template t, agent_buf *b, const tool_msg *m,
                        bool first) {
    if (t == HEARTH_TEMPLATE_MISTRAL) {
        json_t *o = json_pack("{s:s, s:s}", "content", m->content, "call_id",
                              m->tool_call_id ? m->tool_call_id : "");
        char *s = o ? tools_json_text(o, FLAGS) : NULL;
        json_decref(o);
        bool ok = s && agent_buf_puts(b, "[TOOL_RESULTS] ") && agent_buf_puts(b, s) &&
                  agent_buf_puts(b, "[/TOOL_RESULTS]");
        hearth_free(s);
        return ok;
    }
    return agent_buf_puts(b, first ? "" : "\n") && agent_buf_puts(b, "<tool_response>\n") &&
           agent_buf_puts(b, m->content) && agent_buf_puts(b, "\n</tool_response>");
}

static hearth_status nomem(hearth_error *err) {
    return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tools: out of memory");
}

hearth_status tools_conv(hearth_template t, const tool_msg *msgs, size_t n,
                         json_t *defs, agent_conv *out, hearth_error *err) {
    char *desc = defs ? describe(t, defs) : NULL;
    if (defs && !desc) return nomem(err);
    if (desc && !agent_conv_own(out, desc)) return nomem(err);
    bool llama3 = t == HEARTH_TEMPLATE_LLAMA3, mistral = t == HEARTH_TEMPLATE_MISTRAL;
    bool system_slot = !llama3 && !mistral; /* the description joins the system text */
    size_t last_user = n, first_user = n;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(msgs[i].role, "user")) {
            last_user = i;
            if (first_user == n) first_user = i;
        }
    if (desc && system_slot && (n == 0 || strcmp(msgs[0].role, "system")) &&
        !agent_conv_add(out, "system", desc, false))
        return nomem(err);
    for (size_t i = 0; i < n; i++) {
        const tool_msg *m = &msgs[i];
        if (!strcmp(m->role, "system")) {
            if (i == 0 && desc && system_slot) {
                agent_buf b = {0};
                bool ok = agent_buf_puts(&b, m->content) &&
                          agent_buf_puts(&b, *m->content ? "\n\n" : "") && agent_buf_puts(&b, desc);
                if (!ok || !agent_conv_add(out, "system", b.v, true)) {
                    if (!ok) agent_buf_free(&b);
                    return nomem(err);
                }
                continue;
            }
            if (!agent_conv_add(out, "system", (char *)m->content, false)) return nomem(err);
        } else if (!strcmp(m->role, "user")) {
            bool prefix = desc && ((llama3 && i == first_user) || (mistral && i == last_user));
            if (!prefix) {
                if (!agent_conv_add(out, "user", (char *)m->content, false)) return nomem(err);
                continue;
            }
            agent_buf b = {0};
            bool ok = agent_buf_puts(&b, desc) && agent_buf_puts(&b, mistral ? "" : "") &&
                      agent_buf_puts(&b, m->content);
            if (!ok || !agent_conv_add(out, "user", b.v, true)) {
                if (!ok) agent_buf_free(&b);
                return nomem(err);
            }
        } else if (!strcmp(m->role, "assistant")) {
            if (!m->tool_calls) {
                if (!agent_conv_add(out, "assistant", (char *)m->content, false))
                    return nomem(err);
                continue;
            }
            bool bad = false;
            char *s = calls_text(t, m->content, m->tool_calls, &bad);
            if (!s)
                return bad ? HEARTH_FAIL(err, HEARTH_E_ARG,
                                         "message %zu: tool_calls is not an array of calls", i)
                           : nomem(err);
            if (!agent_conv_add(out, "assistant", s, true)) return nomem(err);
        } else if (!strcmp(m->role, "tool")) {
            if (llama3) {
                if (!agent_conv_add(out, "ipython", (char *)m->content, false)) return nomem(err);
                continue;
            }
            /* Consecutive results share one user turn, as Qwen's template does. */
            agent_buf b = {0};
            bool ok = true;
            size_t j = i;
            for (; ok && j < n && !strcmp(msgs[j].role, "tool"); j++)
                ok = result_text(t, &b, &msgs[j], j == i);
            if (!ok || !agent_conv_add(out, "user", b.v, true)) {
                if (!ok) agent_buf_free(&b);
                return nomem(err);
            }
            i = j - 1;
        } else {
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "message %zu: role '%s' is not system, user, assistant or tool",
                               i, m->role);
        }
    }
    return HEARTH_OK;
}
