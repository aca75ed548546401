/*
 * tools_defs.c: tool definitions as OpenAI sends them
 * ([{"type": "function", "function": {"name", "description", "parameters"}}]):
 * checked once, strictly (they come from HTTP clients), before anything is
 * rendered or compiled from them.
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

char *tools_json_text(const json_t *v, size_t flags) {
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
    if (!s) return NULL;
    char *out = hearth_strdup(s);
    free(s);
    return out;
}

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > TOOLS_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

hearth_status tools_defs_parse(const char *text, size_t len, json_t **out, hearth_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "'tools' is not JSON: %s", je.text);
    hearth_status st = HEARTH_OK;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools' must be a non-empty array");
    } else if (json_array_size(v) > TOOLS_MAX) {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools' has more than %d entries", TOOLS_MAX);
    }
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        if (st) break;
        json_t *type = json_object_get(t, "type"), *fn = json_object_get(t, "function");
        if (!json_is_object(t) || !json_is_string(type) ||
            strcmp(json_string_value(type), "function")) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].type' must be \"function\"", i);
            break;
        }
        if (!json_is_object(fn)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].function' must be an object", i);
            break;
        }
        json_t *name = json_object_get(fn, "name"), *desc = json_object_get(fn, "description");
        json_t *params = json_object_get(fn, "parameters");
        if (!json_is_string(name) || !valid_name(json_string_value(name))) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG,
                             "'tools[%zu].function.name' must be 1 to 64 of a-z, A-Z, 0-9, _ "
                             "and -", i);
            break;
        }
        if (desc && !json_is_string(desc) && !json_is_null(desc)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].function.description' must be a "
                             "string", i);
            break;
        }
        if (params && !json_is_object(params) && !json_is_null(params)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].function.parameters' must be a "
                             "JSON Schema object", i);
            break;
        }
        json_t *strict = json_object_get(fn, "strict");
        if (strict && !json_is_boolean(strict) && !json_is_null(strict)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].function.strict' must be a boolean",
                             i);
            break;
        }
        for (size_t k = 0; k < i; k++) {
            json_t *o = json_object_get(json_object_get(json_array_get(v, k), "function"), "name");
            if (!strcmp(json_string_value(o), json_string_value(name))) {
                st = HEARTH_FAIL(err, HEARTH_E_ARG, "'tools[%zu].function.name' '%s' is defined "
                                 "twice", i, json_string_value(name));
                break;
            }
        }
    }
    if (st) {
        json_decref(v);
        return st;
    }
    *out = v;
    return HEARTH_OK;
}

json_t *tools_defs_find(json_t *defs, const char *name) {
    size_t i;
    json_t *t;
    json_array_foreach(defs, i, t) {
        json_t *fn = json_object_get(t, "function");
        if (!strcmp(json_string_value(json_object_get(fn, "name")), name)) return fn;
    }
    return NULL;
}

hearth_status hearth_tools_check(const char *tools_json, size_t len, hearth_error *err) {
    if (!tools_json) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_tools_check: NULL tools");
    json_t *defs;
    hearth_status st = tools_defs_parse(tools_json, len, &defs, err);
    if (st) return st;
    /* Every parameters schema must compile: a call of it must be possible
     * to constrain. */
    char *g = NULL;
    const char *trig;
    st = tools_grammar(HEARTH_TEMPLATE_CHATML, defs, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true, &g,
                       &trig, err);
    hearth_free(g);
    json_decref(defs);
    return st;
}
