/*
 * feedback.h: POST /v1/feedback, the user's rating of one answer, for the
 * A/B comparison of model variants: {"response_id": "chatcmpl-...",
 * "rating": number from -1 to 1, or true/false for thumbs up/down}. The
 * body is untrusted: every field is checked and a failure says which.
 */
#ifndef HEARTH_SERVER_FEEDBACK_H
#define HEARTH_SERVER_FEEDBACK_H

#include "server/backend.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    unsigned status;       /* HTTP status */
    const char *code;      /* error code for the OpenAI error body (status != 200) */
    char msg[256];         /* error message (status != 200) */
    json_t *reply;         /* status 200: the answer body (owned by the caller) */
    char variant[HEARTH_AB_NAME_MAX]; /* status 200: the variant that gave the answer */
    double rating;
} srv_feedback_result;

/* Parses body (len bytes) and stores the rating through the backend. Bad
 * JSON or fields: 400; an unknown response id: 404; a store failure: 500
 * (its details go to stderr). Any thread. */
void srv_feedback_handle(srv_backend *b, const char *body, size_t len, srv_feedback_result *out);

#endif
