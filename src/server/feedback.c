/*
 * feedback.c: POST /v1/feedback (see feedback.h): validation of the body
 * and the store write; http.c only routes and sends what this returns.
 */
#include "server/feedback.h"

#include "util/utf8.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void fail(srv_feedback_result *o, unsigned status, const char *code, const char *msg) {
    o->status = status;
    o->code = code;
    snprintf(o->msg, sizeof o->msg, "%s", msg);
}

void srv_feedback_handle(srv_backend *b, const char *body, size_t len, srv_feedback_result *o) {
    memset(o, 0, sizeof *o);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char m[200];
        snprintf(m, sizeof m, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        fail(o, 400, "invalid_json", m);
        return;
    }
    json_t *id = json_object_get(root, "response_id"), *r = json_object_get(root, "rating");
    if (!json_is_object(root)) {
        fail(o, 400, "invalid_value", "the request body must be a JSON object");
    } else if (!id) {
        fail(o, 400, "invalid_value", "'response_id' is required");
    } else if (!json_is_string(id) || json_string_length(id) == 0 ||
               json_string_length(id) >= HEARTH_AB_NAME_MAX ||
               memchr(json_string_value(id), 0, json_string_length(id))) {
        fail(o, 400, "invalid_value", "'response_id' must be the id of an answer (a string of 1 to 63 bytes)");
    } else if (!r) {
        fail(o, 400, "invalid_value", "'rating' is required");
    } else if (!json_is_number(r) && !json_is_boolean(r)) {
        fail(o, 400, "invalid_value", "'rating' must be a number from -1 to 1, or true/false");
    } else {
        double v = json_is_boolean(r) ? (json_is_true(r) ? 1 : -1) : json_number_value(r);
        if (!isfinite(v) || v < -1 || v > 1) {
            fail(o, 400, "invalid_value", "'rating' must be a number from -1 to 1, or true/false");
        } else {
            hearth_error e = {0};
            hearth_status st = srv_backend_feedback(b, json_string_value(id), v, o->variant,
                                                    sizeof o->variant, &e);
            if (st == HEARTH_E_NOTFOUND) {
                char m[200];
                const char *s = json_string_value(id);
                snprintf(m, sizeof m, "no answer with id '%.*s' was recorded", (int)utf8_cut(s, strlen(s), 63), s);
                fail(o, 404, "response_not_found", m);
            } else if (st) {
                fprintf(stderr, "hearth serve: /v1/feedback: %s\n", e.msg);
                fail(o, 500, "server_error", "internal server error (details are in the server's log)");
            } else {
                o->status = 200;
                o->rating = v;
                o->reply = json_pack("{s:s, s:s, s:f, s:s}", "object", "feedback", "response_id",
                                     json_string_value(id), "rating", v, "variant", o->variant);
            }
        }
    }
    json_decref(root);
}
