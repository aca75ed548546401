/*
 * openai.c: parsing and validation of OpenAI API request bodies (see
 * openai.h). Unknown fields are ignored, as OpenAI-compatible servers do;
 * known fields must have the documented type and range, and OpenAI fields
 * hearth cannot honour are refused by name (openai_format.c).
 */
#include "server/openai.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/utf8.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static hearth_status bad(hearth_error *err, const char *fmt, const char *field) {
    return HEARTH_FAIL(err, HEARTH_E_ARG, fmt, field);
}

/* Copies a JSON string that may contain NUL bytes; those are rejected
 * because they would silently cut the text short further down. */
static hearth_status dup_str(json_t *v, const char *field, char **out, hearth_error *err) {
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n)) return bad(err, "'%s' must not contain NUL characters", field);
    if (!(*out = hearth_strndup(s, n))) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

/* Text content: a string, or an array of {"type": "text", "text": "..."}. */
static hearth_status parse_content(json_t *v, char **out, hearth_error *err) {
    if (json_is_string(v)) return dup_str(v, "messages[].content", out, err);
    if (!json_is_array(v))
        return bad(err, "'%s' must be a string or an array of text parts", "messages[].content");
    size_t total = 0, i;
    json_t *part;
    json_array_foreach(v, i, part) {
        json_t *type = json_object_get(part, "type"), *text = json_object_get(part, "text");
        if (!json_is_object(part) || !json_is_string(type) ||
            strcmp(json_string_value(type), "text") || !json_is_string(text))
            return bad(err, "'%s' parts must be {\"type\": \"text\", \"text\": string}",
                       "messages[].content");
        total += json_string_length(text);
    }
    char *s = hearth_malloc(total + 1);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t at = 0;
    json_array_foreach(v, i, part) {
        json_t *text = json_object_get(part, "text");
        size_t n = json_string_length(text);
        if (memchr(json_string_value(text), '\0', n)) {
            hearth_free(s);
            return bad(err, "'%s' must not contain NUL characters", "messages[].content");
        }
        memcpy(s + at, json_string_value(text), n);
        at += n;
    }
    s[at] = '\0';
    *out = s;
    return HEARTH_OK;
}

static hearth_status parse_messages(json_t *root, srv_request *r, hearth_error *err) {
    json_t *msgs = json_object_get(root, "messages");
    if (!msgs) return bad(err, "'%s' is required", "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return bad(err, "'%s' must be a non-empty array", "messages");
    if (json_array_size(msgs) > SRV_MAX_MESSAGES)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages' has more than %d entries",
                           SRV_MAX_MESSAGES);
    r->messages = hearth_calloc(json_array_size(msgs), sizeof *r->messages);
    if (!r->messages) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        if (!json_is_object(m)) return bad(err, "'%s' must be objects", "messages[]");
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_string(role)) return bad(err, "'%s' must be a string", "messages[].role");
        const char *rs = json_string_value(role);
        if (!strcmp(rs, "tool") || (!strcmp(rs, "assistant") && json_object_get(m, "tool_calls") &&
                                    !json_is_null(json_object_get(m, "tool_calls")))) {
            r->n_messages = i + 1;
            hearth_status st = srv_tools_parse_message(m, i, &r->messages[i], err);
            if (st) return st;
            continue;
        }
        /* "developer" is OpenAI's newer name for the system role. */
        if (!strcmp(rs, "developer")) rs = "system";
        if (strcmp(rs, "system") && strcmp(rs, "user") && strcmp(rs, "assistant"))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "'messages[%zu].role' must be system, user, assistant or tool, not '%.*s'",
                               i, (int)utf8_cut(rs, strlen(rs), 32), rs);
        if (!content) return HEARTH_FAIL(err, HEARTH_E_ARG, "'messages[%zu].content' is required", i);
        r->n_messages = i + 1;
        if (!(r->messages[i].role = hearth_strdup(rs)))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        hearth_status st = parse_content(content, &r->messages[i].content, err);
        if (st) return st;
    }
    return HEARTH_OK;
}

/* A number field in [lo, hi]; absent leaves *out alone and *has false. */
static hearth_status get_number(json_t *root, const char *field, double lo, double hi,
                                float *out, bool *has, hearth_error *err) {
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (!json_is_number(v)) return bad(err, "'%s' must be a number", field);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'%s' must be between %g and %g", field, lo, hi);
    *out = (float)d;
    if (has) *has = true;
    return HEARTH_OK;
}

/* The "hearth" block: routing wishes of this request (booleans only). */
static hearth_status parse_hearth(json_t *root, srv_request *r, hearth_error *err) {
    r->cloud = -1;
    json_t *h = json_object_get(root, "hearth");
    if (!h || json_is_null(h)) return HEARTH_OK;
    if (!json_is_object(h)) return bad(err, "'%s' must be an object", "hearth");
    static const char *const keys[] = {"cloud", "incognito", "ask", "consent"};
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        size_t i = 0;
        while (i < 4 && strcmp(k, keys[i])) i++;
        if (i == 4)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'hearth' has an unknown field (known: cloud, "
                               "incognito, ask, consent)");
        if (!json_is_boolean(v))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "'hearth.%s' must be true or false", keys[i]);
        bool b = json_is_true(v);
        if (i == 0) r->cloud = b ? 1 : 0;
        else if (i == 1) r->incognito = b;
        else if (i == 2) r->ask = b;
        else r->consent = b;
    }
    return HEARTH_OK;
}

static hearth_status parse_sampling(json_t *root, srv_request *r, hearth_error *err) {
    hearth_status st;
    json_t *v = json_object_get(root, "stream");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) return bad(err, "'%s' must be a boolean", "stream");
        r->stream = json_is_true(v);
    }
    v = json_object_get(root, "stream_options");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) return bad(err, "'%s' must be an object", "stream_options");
        json_t *iu = json_object_get(v, "include_usage");
        if (iu && !json_is_boolean(iu))
            return bad(err, "'%s' must be a boolean", "stream_options.include_usage");
        r->include_usage = iu && json_is_true(iu);
    }
    r->max_tokens = -1;
    const char *mt_fields[] = {"max_tokens", "max_completion_tokens"};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(root, mt_fields[i]);
        if (!v || json_is_null(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1 << 20)
            return bad(err, "'%s' must be an integer between 1 and 1048576", mt_fields[i]);
        r->max_tokens = (int32_t)json_integer_value(v);
    }
    if ((st = get_number(root, "temperature", 0, 2, &r->temperature, &r->has_temperature, err)) ||
        (st = get_number(root, "top_p", 0, 1, &r->top_p, &r->has_top_p, err)) ||
        (st = get_number(root, "presence_penalty", -2, 2, &r->presence_penalty, NULL, err)) ||
        (st = get_number(root, "frequency_penalty", -2, 2, &r->frequency_penalty, NULL, err)))
        return st;
    v = json_object_get(root, "seed");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v)) return bad(err, "'%s' must be an integer", "seed");
        r->seed = (uint64_t)json_integer_value(v);
        r->has_seed = true;
    }
    v = json_object_get(root, "n");
    if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) != 1))
        return bad(err, "'%s' must be 1: hearth generates one choice per request", "n");
    v = json_object_get(root, "stop");
    if (v && !json_is_null(v)) {
        if (json_is_string(v)) {
            if (json_string_length(v) == 0) return bad(err, "'%s' must not be empty", "stop");
            if ((st = dup_str(v, "stop", &r->stop[0], err))) return st;
            r->n_stop = 1;
        } else if (json_is_array(v)) {
            if (json_array_size(v) > SRV_MAX_STOP)
                return bad(err, "'%s' may hold at most 4 strings", "stop");
            size_t i;
            json_t *s;
            json_array_foreach(v, i, s) {
                if (!json_is_string(s) || json_string_length(s) == 0)
                    return bad(err, "'%s' entries must be non-empty strings", "stop");
                if ((st = dup_str(s, "stop", &r->stop[i], err))) return st;
                r->n_stop = (int)i + 1;
            }
        } else {
            return bad(err, "'%s' must be a string or an array of strings", "stop");
        }
    }
    v = json_object_get(root, "session");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256)
            return bad(err, "'%s' must be a string of 1 to 256 bytes", "session");
        if ((st = dup_str(v, "session", &r->session, err))) return st;
    }
    return parse_hearth(root, r, err);
}

static hearth_status parse_inputs(json_t *root, srv_request *r, hearth_error *err) {
    /* As OpenAI: "float" when absent; "base64" is the little-endian
     * float32 array in base64 (what the official clients ask for by default). */
    json_t *v = json_object_get(root, "encoding_format");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || (strcmp(json_string_value(v), "float") &&
                                   strcmp(json_string_value(v), "base64")))
            return bad(err, "'%s' must be \"float\" or \"base64\"", "encoding_format");
        r->base64 = !strcmp(json_string_value(v), "base64");
    }
    /* 'dimensions' is checked against the model once its size is known
     * (http.c): only its own size is honoured. */
    v = json_object_get(root, "dimensions");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1 << 20)
            return bad(err, "'%s' must be a positive integer", "dimensions");
        r->dimensions = (int32_t)json_integer_value(v);
    }
    v = json_object_get(root, "input");
    if (!v) return bad(err, "'%s' is required", "input");
    hearth_status st;
    if (json_is_string(v)) {
        r->inputs = hearth_calloc(1, sizeof *r->inputs);
        if (!r->inputs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        r->n_inputs = 1;
        return dup_str(v, "input", &r->inputs[0], err);
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(err, "'%s' must be a string or a non-empty array of strings", "input");
    if (json_array_size(v) > SRV_MAX_INPUTS)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'input' has more than %d entries", SRV_MAX_INPUTS);
    r->inputs = hearth_calloc(json_array_size(v), sizeof *r->inputs);
    if (!r->inputs) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s))
            return bad(err, "'%s' entries must be strings (token arrays are not supported)",
                       "input");
        r->n_inputs = i + 1;
        if ((st = dup_str(s, "input", &r->inputs[i], err))) return st;
    }
    return HEARTH_OK;
}

static hearth_status parse_prompt(json_t *root, srv_request *r, hearth_error *err) {
    json_t *v = json_object_get(root, "prompt");
    if (!v) return bad(err, "'%s' is required", "prompt");
    /* A one-element array is what some clients send for a single prompt. */
    if (json_is_array(v) && json_array_size(v) == 1) v = json_array_get(v, 0);
    if (!json_is_string(v)) return bad(err, "'%s' must be a string", "prompt");
    return dup_str(v, "prompt", &r->prompt, err);
}

hearth_status srv_request_parse(srv_kind kind, const char *body, size_t len, srv_request *out,
                                hearth_error *err) {
    memset(out, 0, sizeof *out);
    out->kind = kind;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "invalid JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    hearth_status st = HEARTH_OK;
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(root))
        st = bad(err, "the request body must be a JSON %s", "object");
    else if (!model)
        st = bad(err, "'%s' is required", "model");
    else if (!json_is_string(model))
        st = bad(err, "'%s' must be a string", "model");
    else
        st = dup_str(model, "model", &out->model, err);
    if (!st) {
        switch (kind) {
        case SRV_CHAT:
            if (!(st = parse_messages(root, out, err))) st = parse_sampling(root, out, err);
            if (!st) st = srv_tools_parse_request(root, out, err);
            if (!st) st = srv_parse_format(root, out, err); /* openai_format.c */
            break;
        case SRV_COMPLETION:
            if (!(st = parse_prompt(root, out, err))) st = parse_sampling(root, out, err);
            if (!st) st = srv_parse_format(root, out, err); /* openai_format.c */
            break;
        case SRV_EMBEDDINGS: st = parse_inputs(root, out, err); break;
        }
    }
    json_decref(root);
    if (st) srv_request_free(out);
    return st;
}

void srv_request_free(srv_request *r) {
    if (!r) return;
    hearth_free(r->model);
    for (size_t i = 0; i < r->n_messages; i++) {
        hearth_free(r->messages[i].role);
        hearth_free(r->messages[i].content);
        hearth_free(r->messages[i].tool_calls);
        hearth_free(r->messages[i].tool_call_id);
    }
    hearth_free(r->tools_json);
    hearth_free(r->tool_name);
    hearth_free(r->messages);
    hearth_free(r->prompt);
    for (size_t i = 0; i < r->n_inputs; i++) hearth_free(r->inputs[i]);
    hearth_free(r->inputs);
    for (int i = 0; i < r->n_stop; i++) hearth_free(r->stop[i]);
    hearth_free(r->session);
    hearth_grammar_free(r->grammar);
    srv_kind kind = r->kind;
    memset(r, 0, sizeof *r);
    r->kind = kind;
}

char *srv_error_json(const char *message, const char *type, const char *code, size_t *len) {
    /* Messages may quote request text (parser errors do): keep the valid
     * UTF-8 part, which JSON can carry, rather than fail the whole answer. */
    size_t ml = strlen(message);
    json_t *o = json_pack("{s:{s:s%, s:s, s:n, s:s?}}", "error", "message", message,
                          utf8_valid_prefix(message, ml), "type", type, "param", "code", code);
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) return NULL;
    /* Re-home into hearth's allocator so every returned buffer is freed alike. */
    char *out = hearth_strdup(s);
    free(s);
    if (out && len) *len = strlen(out);
    return out;
}
