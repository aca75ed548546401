/*
 * tools_int.h: tool calling inside the agent: checking tool definitions,
 * presenting tools and tool messages in each chat template family
 * (template_tools.c), the grammar that constrains a call (tools_grammar.c),
 * reading calls back out of the model's text (tools_parse.c), the built-in
 * local tools (tools_builtin.c, tools_calc.c) and the model -> tool -> model
 * loop (tools_run.c).
 */
#ifndef HEARTH_AGENT_TOOLS_INT_H
#define HEARTH_AGENT_TOOLS_INT_H

#include "agent/agent_int.h"

#include <jansson.h>

#define TOOLS_MAX 128        /* definitions per request */
#define TOOLS_NAME_MAX 64    /* [A-Za-z0-9_-]{1,64}, as OpenAI */

/* Checks an OpenAI tools array (text, len bytes) and returns it parsed.
 * OUT: *out (json_decref). HEARTH_E_FORMAT (not JSON), HEARTH_E_ARG naming
 * the entry and field. */
hearth_status tools_defs_parse(const char *text, size_t len, json_t **out, hearth_error *err);

/* The "function" object of the tool called name in defs, or NULL. Borrowed. */
json_t *tools_defs_find(json_t *defs, const char *name);

/* One message of a tool conversation. */
typedef struct {
    const char *role;          /* system, user, assistant, tool */
    const char *content;
    const char *tool_calls;    /* assistant: OpenAI tool_calls JSON array, or NULL */
    const char *tool_call_id;  /* tool: or NULL */
} tool_msg;

/* Rewrites a conversation with tools for template family t into messages
 * the family's renderer takes (system/user/assistant, and "ipython" for
 * Llama 3): the tools' description joins the system text (or the first
 * user message, as Llama 3.1 does), assistant tool calls become the
 * family's call text, tool results the family's result text. defs NULL: no
 * tools shown (tool_choice none) but tool messages still rendered. The
 * output borrows msgs' strings and owns what it made. */
hearth_status tools_conv(hearth_template t, const tool_msg *msgs, size_t n,
                         json_t *defs, agent_conv *out, hearth_error *err);

/* The GBNF grammar of the calls the model may make under choice (REQUIRED
 * or NAMED: from the first token; AUTO: after *trigger), in family t's
 * call syntax. OUT: *gbnf (owned: hearth_free), *trigger (static, or NULL
 * when constrained from the first token). HEARTH_E_UNSUPPORTED when the
 * family has no marker to trigger on (AUTO then runs unconstrained: *gbnf
 * NULL, HEARTH_OK), schema errors as hearth_json_schema_to_gbnf's. */
hearth_status tools_grammar(hearth_template t, json_t *defs, hearth_tool_choice choice,
                            const char *name, bool parallel, char **gbnf,
                            const char **trigger, hearth_error *err);

/* Reads the tool calls out of text (the model's answer; untrusted): only
 * well-formed calls of tools in defs count; anything else stays text.
 * OUT: *content (owned: the text outside the calls, trimmed), *calls (owned
 * JSON array text in OpenAI's shape with fresh ids, or NULL when none). */
hearth_status tools_parse(hearth_template t, const char *text, json_t *defs, bool parallel,
                          char **content, char **calls, hearth_error *err);

/* The built-in tools' definitions (an OpenAI tools array). Static. */
const char *tools_builtin_defs(void);

/* Runs built-in tool name with arguments (a JSON object text) on agent a's
 * store. OUT: *result (owned JSON text; failures of the tool itself are a
 * result {"error": "..."} the model reads, not an error here). Errors:
 * HEARTH_E_NOMEM. */
hearth_status tools_builtin_run(hearth_agent *a, const char *name, const char *arguments,
                                char **result, hearth_error *err);

/* Evaluates an arithmetic expression (see tools_calc.c for the grammar).
 * OUT: *out. HEARTH_E_ARG with the reason and position, HEARTH_E_LIMIT for
 * an expression over 1024 bytes. Any thread. */
hearth_status tools_calc_eval(const char *text, size_t len, double *out, hearth_error *err);

/* hearth_agent_process for a request with tools (tools_json or
 * builtin_tools). */
hearth_status agent_tools_process(hearth_agent *a, const hearth_agent_request *r,
                                  hearth_agent_response *resp, hearth_error *err);

/* A json_dumps result re-homed in hearth's allocator (NULL on failure). */
char *tools_json_text(const json_t *v, size_t flags);

#endif
