/*
 * openai_format.c: the request fields about the shape of the answer:
 * response_format (text, json_object, json_schema compiled into a grammar
 * here, so a bad schema is a 400 before anything runs), logprobs and
 * top_logprobs, and the fields hearth does not support, which are refused
 * with their name rather than silently ignored.
 */
#include "server/openai.h"

#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool given(json_t *v) { return v && !json_is_null(v); }

static hearth_status unsupported(hearth_error *err, const char *field, const char *why) {
    return HEARTH_FAIL(err, HEARTH_E_ARG, "'%s' is not supported by hearth%s%s", field,
                       why[0] ? ": " : "", why);
}

static hearth_status check_unsupported(json_t *root, srv_kind kind, hearth_error *err) {
    json_t *v;
    if (given(v = json_object_get(root, "audio"))) return unsupported(err, "audio", "text only");
    if (given(v = json_object_get(root, "modalities"))) {
        size_t i;
        json_t *m;
        if (!json_is_array(v)) return HEARTH_FAIL(err, HEARTH_E_ARG, "'modalities' must be an array");
        json_array_foreach(v, i, m) if (!json_is_string(m) || strcmp(json_string_value(m), "text"))
            return unsupported(err, "modalities", "only [\"text\"]");
    }
    if (given(json_object_get(root, "prediction")))
        return unsupported(err, "prediction", "no predicted outputs");
    if (given(json_object_get(root, "web_search_options")))
        return unsupported(err, "web_search_options", "no web search: nothing leaves the device");
    v = json_object_get(root, "logit_bias");
    if (given(v) && (!json_is_object(v) || json_object_size(v)))
        return unsupported(err, "logit_bias", "");
    v = json_object_get(root, "n");
    if (given(v) && (!json_is_integer(v) || json_integer_value(v) != 1))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'n' must be 1: hearth generates one choice per request");
    if (kind == SRV_COMPLETION) {
        v = json_object_get(root, "best_of");
        if (given(v) && (!json_is_integer(v) || json_integer_value(v) != 1))
            return unsupported(err, "best_of", "one candidate per request");
        if (json_is_true(json_object_get(root, "echo")))
            return unsupported(err, "echo", "");
        v = json_object_get(root, "suffix");
        if (given(v) && (!json_is_string(v) || json_string_length(v)))
            return unsupported(err, "suffix", "no insertion");
    }
    return HEARTH_OK;
}

static hearth_status compile(const char *schema, size_t len, srv_request *r, hearth_error *err) {
    hearth_error e;
    hearth_status st = hearth_grammar_from_json_schema(schema, len, &r->grammar, &e);
    if (st == HEARTH_E_NOMEM) return HEARTH_FAIL(err, st, "out of memory");
    if (st) {
        const char *m = e.msg;
        if (!strncmp(m, "json schema: ", 13)) m += 13;
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.json_schema.schema': %s", m);
    }
    return HEARTH_OK;
}

static hearth_status parse_response_format(json_t *root, srv_request *r, hearth_error *err) {
    json_t *rf = json_object_get(root, "response_format");
    if (!given(rf)) return HEARTH_OK;
    if (!json_is_object(rf))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format' must be an object");
    json_t *type = json_object_get(rf, "type");
    if (!json_is_string(type))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.type' must be \"text\", "
                           "\"json_object\" or \"json_schema\"");
    const char *t = json_string_value(type);
    if (!strcmp(t, "text")) return HEARTH_OK;
    if (!strcmp(t, "json_object")) {
        static const char obj[] = "{\"type\":\"object\"}";
        return compile(obj, sizeof obj - 1, r, err);
    }
    if (strcmp(t, "json_schema"))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.type' must be \"text\", "
                           "\"json_object\" or \"json_schema\", not \"%.40s\"", t);
    json_t *js = json_object_get(rf, "json_schema");
    if (!json_is_object(js))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.json_schema' must be an object "
                           "with 'name' and 'schema'");
    json_t *name = json_object_get(js, "name"), *strict = json_object_get(js, "strict"),
           *schema = json_object_get(js, "schema");
    if (given(name) && !json_is_string(name))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.json_schema.name' must be a string");
    if (given(strict) && !json_is_boolean(strict))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.json_schema.strict' must be a boolean");
    /* strict or not, the output always follows the schema: the grammar
     * admits nothing else */
    if (!given(schema)) {
        static const char any[] = "{}";
        return compile(any, 2, r, err);
    }
    if (!json_is_object(schema) && !json_is_boolean(schema))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'response_format.json_schema.schema' must be a "
                           "JSON Schema object");
    char *text = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = compile(text, strlen(text), r, err);
    free(text);
    return st;
}

static hearth_status parse_logprobs(json_t *root, srv_request *r, hearth_error *err) {
    json_t *lp = json_object_get(root, "logprobs"), *top = json_object_get(root, "top_logprobs");
    if (r->kind == SRV_CHAT) {
        if (given(lp) && !json_is_boolean(lp))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'logprobs' must be a boolean");
        r->logprobs = json_is_true(lp);
        if (given(top)) {
            if (!json_is_integer(top) || json_integer_value(top) < 0 || json_integer_value(top) > 20)
                return HEARTH_FAIL(err, HEARTH_E_ARG,
                                   "'top_logprobs' must be an integer between 0 and 20");
            if (!r->logprobs)
                return HEARTH_FAIL(err, HEARTH_E_ARG,
                                   "'top_logprobs' needs 'logprobs' set to true");
            r->top_logprobs = (int32_t)json_integer_value(top);
        }
    } else {
        if (given(top)) return unsupported(err, "top_logprobs", "completions take 'logprobs': N");
        if (given(lp)) {
            if (!json_is_integer(lp) || json_integer_value(lp) < 0 || json_integer_value(lp) > 20)
                return HEARTH_FAIL(err, HEARTH_E_ARG, "'logprobs' must be an integer between 0 and 20");
            r->logprobs = true;
            r->top_logprobs = (int32_t)json_integer_value(lp);
        }
    }
    return HEARTH_OK;
}

hearth_status srv_parse_format(json_t *root, srv_request *r, hearth_error *err) {
    hearth_status st;
    if ((st = check_unsupported(root, r->kind, err))) return st;
    if ((st = parse_logprobs(root, r, err))) return st;
    if (r->kind == SRV_COMPLETION && given(json_object_get(root, "response_format")))
        return unsupported(err, "response_format", "it belongs to chat completions");
    return parse_response_format(root, r, err);
}
