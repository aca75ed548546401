/*
 * cloud_json.c: OpenAI chat-completions JSON for the cloud client (see
 * cloud_json.h). jansson does the parsing; it rejects invalid UTF-8 and
 * (without JSON_ALLOW_NUL) NUL characters in strings, so every piece of
 * text handed on is valid UTF-8 without embedded NULs.
 */
#include "router/cloud_json.h"

#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <string.h>

void oa_answer_init(oa_answer *a, size_t max_text) {
    memset(a, 0, sizeof *a);
    strbuf_init(&a->text);
    a->max_text = max_text;
}

void oa_answer_free(oa_answer *a) { strbuf_discard(&a->text); }

char *oa_request_json(const char *model, const hearth_cloud_request *req, bool stream_usage,
                      size_t *len, hearth_error *err) {
    if (!model || !req || !req->messages || req->n_messages == 0) {
        HEARTH_FAIL(err, HEARTH_E_ARG, "cloud request: no messages");
        return NULL;
    }
    json_t *root = json_object(), *msgs = json_array();
    if (!root || !msgs) goto nomem;
    if (json_object_set_new(root, "model", json_string(model))) {
        HEARTH_FAIL(err, HEARTH_E_ARG, "cloud request: the model name is not UTF-8");
        goto fail;
    }
    for (size_t i = 0; i < req->n_messages; i++) {
        const hearth_chat_message *m = &req->messages[i];
        if (!m->role || !m->content) {
            HEARTH_FAIL(err, HEARTH_E_ARG, "cloud request: message %zu has no %s", i,
                        m->role ? "content" : "role");
            goto fail;
        }
        json_t *r = json_string(m->role), *t = json_string(m->content);
        if (!r || !t) {
            json_decref(r);
            json_decref(t);
            HEARTH_FAIL(err, HEARTH_E_ARG, "cloud request: message %zu is not UTF-8", i);
            goto fail;
        }
        json_t *o = json_object();
        if (!o || json_object_set_new(o, "role", r) || json_object_set_new(o, "content", t) ||
            json_array_append_new(msgs, o))
            goto nomem;
    }
    if (json_object_set(root, "messages", msgs)) goto nomem;
    if (req->max_tokens > 0 &&
        json_object_set_new(root, "max_tokens", json_integer(req->max_tokens)))
        goto nomem;
    if (req->temperature >= 0 &&
        json_object_set_new(root, "temperature", json_real(req->temperature)))
        goto nomem;
    if (json_object_set_new(root, "stream", json_boolean(req->stream))) goto nomem;
    if (req->stream && stream_usage &&
        json_object_set_new(root, "stream_options", json_pack("{s:b}", "include_usage", 1)))
        goto nomem;
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!text) goto nomem;
    /* json_dumps allocates with malloc; callers free with hearth_free. */
    size_t n = strlen(text);
    char *out = hearth_strndup(text, n);
    free(text);
    if (!out) goto nomem;
    json_decref(msgs);
    json_decref(root);
    if (len) *len = n;
    return out;
nomem:
    HEARTH_FAIL(err, HEARTH_E_NOMEM, "cloud request: out of memory");
fail:
    json_decref(msgs);
    json_decref(root);
    return NULL;
}

/* Copies printable ASCII of s[0..n) into out (others become '?'). */
static void printable(const char *s, size_t n, char *out, size_t cap) {
    if (!cap) return;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80) continue; /* one '?' per UTF-8 sequence */
        out[k++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    out[k] = '\0';
}

static void error_text(json_t *root, char *out, size_t cap) {
    if (cap) out[0] = '\0';
    json_t *e = json_object_get(root, "error");
    json_t *m = NULL;
    if (json_is_object(e)) m = json_object_get(e, "message");
    else if (json_is_string(e)) m = e;
    if (!m && json_is_object(root)) m = json_object_get(root, "message");
    if (json_is_string(m)) printable(json_string_value(m), json_string_length(m), out, cap);
    else if (e && cap) printable("(no message)", 12, out, cap);
}

void oa_error_message(const void *buf, size_t len, char *out, size_t cap) {
    if (cap) out[0] = '\0';
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    error_text(root, out, cap);
    json_decref(root);
}

static hearth_status append_text(oa_answer *a, const char *s, size_t n, hearth_error *err) {
    if (a->max_text && (n > a->max_text || a->text.len > a->max_text - n))
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "the answer passed %zu bytes", a->max_text);
    strbuf_append(&a->text, s, n);
    if (a->text.failed) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

static void take_finish(oa_answer *a, json_t *choice) {
    json_t *f = json_object_get(choice, "finish_reason");
    if (json_is_string(f))
        printable(json_string_value(f), json_string_length(f), a->finish_reason,
                  sizeof a->finish_reason);
}

static hearth_status take_usage(oa_answer *a, json_t *root, hearth_error *err) {
    json_t *u = json_object_get(root, "usage");
    if (!u || json_is_null(u)) return HEARTH_OK;
    if (!json_is_object(u)) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "'usage' is not an object");
    static const char *const keys[3] = {"prompt_tokens", "completion_tokens", "total_tokens"};
    int64_t *dst[3] = {&a->prompt_tokens, &a->completion_tokens, &a->total_tokens};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(u, keys[i]);
        if (!v) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "'usage.%s' is not a count", keys[i]);
        *dst[i] = json_integer_value(v);
    }
    a->has_usage = true;
    return HEARTH_OK;
}

/* root's error object, if any, as an HEARTH_E_IO error. */
static hearth_status check_error_object(json_t *root, const char *where, hearth_error *err) {
    json_t *e = json_object_get(root, "error");
    if (!e || json_is_null(e)) return HEARTH_OK;
    char msg[160];
    error_text(root, msg, sizeof msg);
    return HEARTH_FAIL(err, HEARTH_E_IO, "server error %s: %s", where, msg);
}

static json_t *load_object(const void *buf, size_t len, const char *what, hearth_error *err) {
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s is not JSON (at byte %d)", what, je.position);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s is not a JSON object", what);
        return NULL;
    }
    return root;
}

hearth_status oa_parse_response(const void *buf, size_t len, oa_answer *a, hearth_error *err) {
    json_t *root = load_object(buf, len, "the response", err);
    if (!root) return HEARTH_E_FORMAT;
    hearth_status st = check_error_object(root, "in the response", err);
    if (st) goto out;
    json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "the response has no 'choices'");
        goto out;
    }
    json_t *c0 = json_array_get(choices, 0);
    json_t *msg = json_object_get(c0, "message");
    json_t *content = json_object_get(msg, "content");
    if (!json_is_string(content)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "the response has no 'choices[0].message.content' string");
        goto out;
    }
    if ((st = append_text(a, json_string_value(content), json_string_length(content), err)))
        goto out;
    take_finish(a, c0);
    st = take_usage(a, root, err);
out:
    json_decref(root);
    return st;
}

hearth_status oa_stream_chunk(const void *buf, size_t len, oa_answer *a,
                              hearth_cloud_delta_fn on_delta, void *user_data,
                              hearth_error *err) {
    if (a->done) return HEARTH_OK;
    if (len == 6 && !memcmp(buf, "[DONE]", 6)) {
        a->done = true;
        return HEARTH_OK;
    }
    json_t *root = load_object(buf, len, "a stream chunk", err);
    if (!root) return HEARTH_E_FORMAT;
    hearth_status st = check_error_object(root, "mid-stream", err);
    if (st) goto out;
    json_t *choices = json_object_get(root, "choices");
    if (choices && !json_is_array(choices) && !json_is_null(choices)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "a stream chunk's 'choices' is not an array");
        goto out;
    }
    json_t *c0 = json_array_get(choices, 0); /* NULL when empty or absent (usage chunk) */
    if (c0) {
        if (!json_is_object(c0)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "a stream chunk's choice is not an object");
            goto out;
        }
        json_t *delta = json_object_get(c0, "delta");
        json_t *content = json_object_get(delta, "content");
        if (content && !json_is_string(content) && !json_is_null(content)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "a stream chunk's 'delta.content' is not a string");
            goto out;
        }
        size_t n = json_string_length(content);
        if (n) {
            const char *s = json_string_value(content);
            if ((st = append_text(a, s, n, err))) goto out;
            a->n_deltas++;
            if (on_delta && !on_delta(user_data, s, n)) {
                st = HEARTH_FAIL(err, HEARTH_E_CANCELLED, "stopped by the caller");
                goto out;
            }
        }
        take_finish(a, c0);
    }
    st = take_usage(a, root, err);
out:
    json_decref(root);
    return st;
}
