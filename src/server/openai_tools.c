/*
 * openai_tools.c: the tool-calling parts of the OpenAI chat API: the
 * request's tools, tool_choice and parallel_tool_calls, the history's
 * assistant messages with tool_calls and tool messages, and the calls in
 * answers, whole (message.tool_calls) or streamed as OpenAI streams them
 * (per call: index, id, type and function.name first, then fragments of
 * function.arguments). Bodies are untrusted: every field is checked and a
 * bad one is a 400 naming it; the tools themselves go through
 * hearth_tools_check (their parameter schemas must compile into grammars).
 */
#include "server/openai.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ARG_FRAGMENT 24 /* bytes of arguments per streamed delta, about a few tokens' worth */

static char *dump(json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s) return NULL;
    char *out = hearth_strdup(s);
    free(s);
    return out;
}

/* A string or an array of text parts, joined; NULL content is "" when
 * allow_null. */
static hearth_status text_of(json_t *v, bool allow_null, const char *field, size_t i, char **out,
                             hearth_error *err) {
    if (!v || json_is_null(v)) {
        if (!allow_null)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].%s' is required", i, field);
        *out = hearth_strdup("");
        return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    size_t total = 0, k;
    json_t *part;
    if (json_is_string(v)) {
        total = json_string_length(v);
    } else if (json_is_array(v)) {
        json_array_foreach(v, k, part) {
            json_t *type = json_object_get(part, "type"), *text = json_object_get(part, "text");
            if (!json_is_string(type) || strcmp(json_string_value(type), "text") ||
                !json_is_string(text))
                return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].%s' parts must be "
                                   "{\"type\": \"text\", \"text\": string}", i, field);
            total += json_string_length(text);
        }
    } else {
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].%s' must be a string or an array "
                           "of text parts", i, field);
    }
    char *s = hearth_malloc(total + 1);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t at = 0;
    if (json_is_string(v)) {
        memcpy(s, json_string_value(v), total);
        at = total;
    } else {
        json_array_foreach(v, k, part) {
            json_t *text = json_object_get(part, "text");
            memcpy(s + at, json_string_value(text), json_string_length(text));
            at += json_string_length(text);
        }
    }
    s[at] = '\0';
    if (strlen(s) != at) {
        hearth_free(s);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].%s' must not contain NUL "
                           "characters", i, field);
    }
    *out = s;
    return HEARTH_OK;
}

static bool is_str(json_t *v, size_t max) {
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
           !memchr(json_string_value(v), '\0', json_string_length(v));
}

hearth_status srv_tools_parse_message(void *mv, size_t i, srv_message *out, hearth_error *err) {
    json_t *m = mv;
    const char *role = json_string_value(json_object_get(m, "role"));
    hearth_status st;
    if (!strcmp(role, "tool")) {
        json_t *id = json_object_get(m, "tool_call_id");
        if (!is_str(id, 256))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].tool_call_id' must be a string "
                               "of 1 to 256 bytes", i);
        if (!(out->role = hearth_strdup("tool")) ||
            !(out->tool_call_id = hearth_strdup(json_string_value(id))))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        return text_of(json_object_get(m, "content"), false, "content", i, &out->content, err);
    }
    /* an assistant message with tool_calls */
    json_t *calls = json_object_get(m, "tool_calls");
    if (!json_is_array(calls) || json_array_size(calls) == 0 || json_array_size(calls) > 128)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].tool_calls' must be an array of 1 "
                           "to 128 calls", i);
    size_t k;
    json_t *c;
    json_array_foreach(calls, k, c) {
        json_t *fn = json_object_get(c, "function");
        json_t *type = json_object_get(c, "type");
        if (!json_is_object(c) || !is_str(json_object_get(c, "id"), 256) ||
            (type && (!json_is_string(type) || strcmp(json_string_value(type), "function"))) ||
            !json_is_object(fn) || !is_str(json_object_get(fn, "name"), 64) ||
            !json_is_string(json_object_get(fn, "arguments")))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "'messages[%zu].tool_calls[%zu]' must be {\"id\": string, \"type\": "
                               "\"function\", \"function\": {\"name\": string, \"arguments\": "
                               "string}}", i, k);
    }
    if (!(out->role = hearth_strdup("assistant")) || !(out->tool_calls = dump(calls)))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    st = text_of(json_object_get(m, "content"), true, "content", i, &out->content, err);
    return st;
}

hearth_status srv_tools_parse_request(void *rootv, srv_request *r, hearth_error *err) {
    json_t *root = rootv;
    r->parallel_tool_calls = true;
    r->tool_choice = HEARTH_TOOL_CHOICE_AUTO;
    json_t *v = json_object_get(root, "parallel_tool_calls");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'parallel_tool_calls' must be a boolean");
        r->parallel_tool_calls = json_is_true(v);
    }
    json_t *tools = json_object_get(root, "tools");
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'tools' must be an array");
        if (json_array_size(tools)) {
            if (!(r->tools_json = dump(tools)))
                return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            hearth_status st = hearth_tools_check(r->tools_json, strlen(r->tools_json), err);
            if (st) return st == HEARTH_E_NOMEM ? st : HEARTH_E_ARG;
        }
    }
    v = json_object_get(root, "tool_choice");
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (json_is_string(v)) {
        const char *c = json_string_value(v);
        if (!strcmp(c, "auto")) r->tool_choice = HEARTH_TOOL_CHOICE_AUTO;
        else if (!strcmp(c, "none")) r->tool_choice = HEARTH_TOOL_CHOICE_NONE;
        else if (!strcmp(c, "required")) r->tool_choice = HEARTH_TOOL_CHOICE_REQUIRED;
        else
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'tool_choice' must be \"auto\", \"none\", "
                               "\"required\" or {\"type\": \"function\", \"function\": {\"name\": "
                               "...}}");
    } else {
        json_t *type = json_object_get(v, "type"), *fn = json_object_get(v, "function");
        json_t *name = json_object_get(fn, "name");
        if (!json_is_object(v) || !json_is_string(type) ||
            strcmp(json_string_value(type), "function") || !is_str(name, 64))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'tool_choice' must be \"auto\", \"none\", "
                               "\"required\" or {\"type\": \"function\", \"function\": {\"name\": "
                               "...}}");
        r->tool_choice = HEARTH_TOOL_CHOICE_NAMED;
        if (!(r->tool_name = hearth_strdup(json_string_value(name))))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        bool found = false;
        size_t i;
        json_t *t;
        json_array_foreach(tools, i, t) {
            const char *n = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
            found |= n && !strcmp(n, r->tool_name);
        }
        if (!found)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'tool_choice.function.name' '%.*s' is not one "
                               "of 'tools'", (int)utf8_cut(r->tool_name, strlen(r->tool_name), 64),
                               r->tool_name);
    }
    if (!r->tools_json && (r->tool_choice == HEARTH_TOOL_CHOICE_REQUIRED ||
                           r->tool_choice == HEARTH_TOOL_CHOICE_NAMED))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'tool_choice' %s needs 'tools'",
                           r->tool_choice == HEARTH_TOOL_CHOICE_REQUIRED ? "required" : "function");
    return HEARTH_OK;
}

void *srv_tools_message_json(const char *calls) {
    return calls ? json_loads(calls, 0, NULL) : NULL;
}

void srv_tools_stream(const char *calls_text, void (*emit)(void *user, void *delta), void *user) {
    json_t *calls = json_loads(calls_text, 0, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        json_t *fn = json_object_get(c, "function");
        const char *args = json_string_value(json_object_get(fn, "arguments"));
        if (!args) args = "";
        json_t *first = json_pack("{s:[{s:i, s:O, s:s, s:{s:O, s:s}}]}", "tool_calls", "index",
                                  (int)i, "id", json_object_get(c, "id"), "type", "function",
                                  "function", "name", json_object_get(fn, "name"), "arguments", "");
        if (first) emit(user, first);
        size_t len = strlen(args);
        for (size_t at = 0; at < len;) {
            size_t k = utf8_cut(args + at, len - at, ARG_FRAGMENT);
            if (k == 0) k = len - at; /* never stall on odd bytes */
            json_t *d = json_pack("{s:[{s:i, s:{s:s%}}]}", "tool_calls", "index", (int)i,
                                  "function", "arguments", args + at, k);
            if (d) emit(user, d);
            at += k;
        }
    }
    json_decref(calls);
}
