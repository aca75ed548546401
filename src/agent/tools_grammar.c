/*
 * tools_grammar.c: the grammar a tool call's text must follow, composed
 * from each tool's parameters schema (hearth_json_schema_to_gbnf, one rule
 * set per tool, prefixed "tN") and the family's call syntax:
 *   ChatML/Qwen and the generic prompt: <tool_call>\n{"name": "N",
 *     "arguments": ARGS}\n</tool_call>, calls separated by a newline;
 *   Llama 3.x: {"name": "N", "parameters": ARGS} (no marker);
 *   Mistral: [TOOL_CALLS] [{"name": "N", "arguments": ARGS}, ...].
 * required / named: the answer is calls from its first token. auto: the
 * answer is free text until the family's opening marker appears, then the
 * rest must be calls (hearth_gen_params.grammar_trigger); a family without
 * a marker (Llama 3) runs auto unconstrained and its calls are parsed as
 * they come.
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>


typedef enum { SYN_TAGGED, SYN_LLAMA3, SYN_MISTRAL } syntax;

static syntax syntax_of(hearth_template t) {
    switch (t) {
    case HEARTH_TEMPLATE_LLAMA3: return SYN_LLAMA3;
    case HEARTH_TEMPLATE_MISTRAL: return SYN_MISTRAL;
    default: return SYN_TAGGED;
    }
}

hearth_status tools_grammar(hearth_template t, json_t *defs, hearth_tool_choice choice,
                            const char *name, bool parallel, char **gbnf, const char **trigger,
                            hearth_error *err) {
    *gbnf = NULL;
    *trigger = NULL;
    syntax syn = syntax_of(t);
    if (choice == HEARTH_TOOL_CHOICE_NONE) return HEARTH_OK;
    if (choice == HEARTH_TOOL_CHOICE_AUTO && syn == SYN_LLAMA3) return HEARTH_OK;
    agent_buf g = {0};
    hearth_status st = HEARTH_OK;
    bool ok = true;
    /* call ::= alternatives, one per allowed tool */
    agent_buf call = {0};
    ok = agent_buf_puts(&call, "call ::= ");
    size_t i, n_alt = 0;
    json_t *tool;
    json_array_foreach(defs, i, tool) {
        if (!ok || st) break;
        json_t *fn = json_object_get(tool, "function");
        const char *tn = json_string_value(json_object_get(fn, "name"));
        if (choice == HEARTH_TOOL_CHOICE_NAMED && strcmp(tn, name)) continue;
        json_t *params = json_object_get(fn, "parameters");
        char *schema = params && json_is_object(params) ? tools_json_text(params, JSON_COMPACT)
                                                         : hearth_strdup("{\"type\": \"object\"}");
        if (!schema) {
            ok = false;
            break;
        }
        char root[32], *rules = NULL;
        snprintf(root, sizeof root, "t%zu", i);
        st = hearth_json_schema_to_gbnf(schema, strlen(schema), root, &rules, err);
        hearth_free(schema);
        if (st) {
            /* name the tool: the schema's own message says what */
            hearth_error e2 = err ? *err : (hearth_error){0};
            st = HEARTH_FAIL(err, st, "'tools[%zu].function.parameters': %s", i, e2.msg);
            break;
        }
        char head[200];
        snprintf(head, sizeof head, "%s\"{\\\"name\\\": \\\"%s\\\", \\\"%s\\\": \" %s \"}\"",
                 n_alt ? " | " : "", tn, syn == SYN_LLAMA3 ? "parameters" : "arguments", root);
        ok = agent_buf_puts(&call, head) && agent_buf_puts(&g, rules) && agent_buf_puts(&g, "\n");
        hearth_free(rules);
        n_alt++;
    }
    if (!st && ok && n_alt == 0)
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tool_choice' names '%s', which is not in 'tools'",
                         name ? name : "");
    if (!st && ok) {
        const char *root;
        bool from_start = choice != HEARTH_TOOL_CHOICE_AUTO;
        switch (syn) {
        case SYN_TAGGED:
            root = parallel ? (from_start ? "root ::= \"<tool_call>\" body (\"\\n<tool_call>\" body)*\n"
                                          : "root ::= body (\"\\n<tool_call>\" body)*\n")
                            : (from_start ? "root ::= \"<tool_call>\" body\n" : "root ::= body\n");
            ok = agent_buf_puts(&g, root) &&
                 agent_buf_puts(&g, "body ::= \"\\n\" call \"\\n</tool_call>\"\n");
            if (!from_start) *trigger = "<tool_call>";
            break;
        case SYN_LLAMA3:
            ok = agent_buf_puts(&g, parallel ? "root ::= call (\"\\n\" call)*\n"
                                             : "root ::= call\n");
            break;
        case SYN_MISTRAL:
            root = parallel ? "calls ::= \" [\" call (\", \" call)* \"]\"\n"
                            : "calls ::= \" [\" call \"]\"\n";
            ok = agent_buf_puts(&g, root) &&
                 agent_buf_puts(&g, from_start ? "root ::= \"[TOOL_CALLS]\" calls\n"
                                               : "root ::= calls\n");
            if (!from_start) *trigger = "[TOOL_CALLS]";
            break;
        }
        ok = ok && agent_buf_puts(&g, call.v) && agent_buf_puts(&g, "\n");
    }
    agent_buf_free(&call);
    if (!st && !ok) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tool grammar: out of memory");
    if (st) {
        agent_buf_free(&g);
        *trigger = NULL;
        return st;
    }
    *gbnf = g.v;
    return HEARTH_OK;
}
