/*
 * tools_parse.c: reading tool calls out of a model's answer. The text is
 * untrusted (a model without constrained decoding writes anything): a call
 * counts only if it is well-formed JSON in the family's syntax, names a
 * tool of the request and has an object for its arguments; everything else
 * stays in the answer's text. Calls come out in OpenAI's shape with fresh
 * ids ("call_" and 24 random hex digits).
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

/* Appends one call (obj: {"name", "arguments"|"parameters"}) to calls if
 * it is a good one. */
static bool take_call(json_t *obj, json_t *defs, json_t *calls) {
    if (!json_is_object(obj)) return false;
    json_t *name = json_object_get(obj, "name");
    if (!json_is_string(name) || !tools_defs_find(defs, json_string_value(name))) return false;
    json_t *args = json_object_get(obj, "arguments");
    if (!args) args = json_object_get(obj, "parameters");
    char *text = NULL;
    if (!args) {
        text = hearth_strdup("{}");
    } else if (json_is_object(args)) {
        text = tools_json_text(args, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else if (json_is_string(args)) {
        json_t *v = json_loads(json_string_value(args), 0, NULL);
        if (json_is_object(v)) text = hearth_strdup(json_string_value(args));
        json_decref(v);
    }
    if (!text) return false;
    char uuid[HEARTH_UUID_LEN + 1], id[32] = "call_";
    if (!hearth_uuid7(0, uuid)) {
        hearth_free(text);
        return false;
    }
    size_t k = 5;
    for (size_t i = HEARTH_UUID_LEN; i-- > 0 && k < 29;)
        if (uuid[i] != '-') id[k++] = uuid[i];
    id[k] = '\0';
    json_t *c = json_pack("{s:s, s:s, s:{s:O, s:s}}", "id", id, "type", "function", "function",
                          "name", name, "arguments", text);
    hearth_free(text);
    return c && !json_array_append_new(calls, c);
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* JSON value at [p, end): parsed, *used bytes taken. NULL if none. */
static json_t *json_at(const char *p, const char *end, size_t *used) {
    json_error_t je;
    json_t *v = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
    if (v) *used = je.position;
    return v;
}

static const char *find(const char *p, const char *end, const char *needle) {
    size_t n = strlen(needle);
    while ((size_t)(end - p) >= n) {
        const char *c = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!c) return NULL;
        if (!memcmp(c, needle, n)) return c;
        p = c + 1;
    }
    return NULL;
}

/* <tool_call> JSON </tool_call> blocks anywhere in the text. */
static bool parse_tagged(const char *text, json_t *defs, json_t *calls, agent_buf *rest) {
    const char *p = text, *end = text + strlen(text);
    bool ok = true;
    while (ok) {
        const char *open = find(p, end, "<tool_call>");
        if (!open) {
            ok = agent_buf_put(rest, p, (size_t)(end - p));
            break;
        }
        const char *in = open + strlen("<tool_call>");
        const char *close = find(in, end, "</tool_call>");
        const char *in_end = close ? close : end;
        const char *after = close ? close + strlen("</tool_call>") : end;
        const char *q = skip_ws(in, in_end);
        size_t used = 0;
        json_t *v = json_at(q, in_end, &used);
        bool good = v && skip_ws(q + used, in_end) == in_end && take_call(v, defs, calls);
        json_decref(v);
        ok = agent_buf_put(rest, p, (size_t)(open - p));
        if (ok && !good) ok = agent_buf_put(rest, open, (size_t)(after - open));
        p = after;
    }
    return ok;
}

/* Llama 3: the answer is one or more JSON objects (optionally after
 * <|python_tag|>), separated by newlines or ';'; else it is text. */
static bool parse_llama3(const char *text, json_t *defs, json_t *calls, agent_buf *rest) {
    const char *end = text + strlen(text);
    const char *p = skip_ws(text, end);
    if ((size_t)(end - p) >= 14 && !memcmp(p, "<|python_tag|>", 14)) p = skip_ws(p + 14, end);
    json_t *got = json_array();
    bool all = got && p < end && *p == '{';
    while (all && p < end) {
        size_t used = 0;
        json_t *v = json_at(p, end, &used);
        all = v && take_call(v, defs, got);
        json_decref(v);
        p += used;
        while (p < end && (*p == ';' || *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
    }
    bool ok = true;
    if (all) ok = !json_array_extend(calls, got);
    else ok = agent_buf_puts(rest, text);
    json_decref(got);
    return ok;
}

/* Mistral: text, then [TOOL_CALLS] and a JSON array of calls. */
static bool parse_mistral(const char *text, json_t *defs, json_t *calls, agent_buf *rest) {
    const char *end = text + strlen(text);
    const char *m = find(text, end, "[TOOL_CALLS]");
    if (!m) return agent_buf_puts(rest, text);
    const char *p = skip_ws(m + strlen("[TOOL_CALLS]"), end);
    size_t used = 0;
    json_t *v = json_at(p, end, &used);
    json_t *got = json_array();
    bool all = got && json_is_array(v) && json_array_size(v) > 0;
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) {
        if (!all) break;
        all = take_call(c, defs, got);
    }
    json_decref(v);
    bool ok;
    if (all) {
        ok = !json_array_extend(calls, got) && agent_buf_put(rest, text, (size_t)(m - text)) &&
             agent_buf_put(rest, p + used, (size_t)(end - p - used));
    } else {
        ok = agent_buf_puts(rest, text);
    }
    json_decref(got);
    return ok;
}

hearth_status tools_parse(hearth_template t, const char *text, json_t *defs, bool parallel,
                          char **content, char **calls_out, hearth_error *err) {
    *content = NULL;
    *calls_out = NULL;
    json_t *calls = json_array();
    agent_buf rest = {0};
    bool ok = calls != NULL;
    if (ok) {
        switch (t) {
        case HEARTH_TEMPLATE_LLAMA3: ok = parse_llama3(text, defs, calls, &rest); break;
        case HEARTH_TEMPLATE_MISTRAL: ok = parse_mistral(text, defs, calls, &rest); break;
        default: ok = parse_tagged(text, defs, calls, &rest); break;
        }
    }
    /* One call only when the client asked for that: the first. */
    while (ok && !parallel && json_array_size(calls) > 1)
        json_array_remove(calls, json_array_size(calls) - 1);
    const char *r = rest.v ? rest.v : "", *re = r + strlen(r);
    r = skip_ws(r, re);
    while (re > r && (re[-1] == ' ' || re[-1] == '\n' || re[-1] == '\t' || re[-1] == '\r')) re--;
    if (ok && !(*content = hearth_strndup(r, (size_t)(re - r)))) ok = false;
    if (ok && json_array_size(calls) &&
        !(*calls_out = tools_json_text(calls, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        ok = false;
    json_decref(calls);
    agent_buf_free(&rest);
    if (!ok) {
        hearth_free(*content);
        *content = NULL;
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tool calls: out of memory");
    }
    return HEARTH_OK;
}
