/*
 * lp_json.h: generated tokens' log-probabilities in OpenAI's JSON shapes
 * (lp_json.c): chat {"content": [{token, logprob, bytes, top_logprobs}],
 * "refusal": null}; completions {tokens, token_logprobs, top_logprobs,
 * text_offset}. Tokens are collected as they are generated and taken in
 * pieces, one per streamed chunk (or all at once).
 */
#ifndef HEARTH_SERVER_LP_JSON_H
#define HEARTH_SERVER_LP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool chat;
    json_t *items;  /* chat: entries since the last take */
    json_t *tokens, *token_lps, *tops, *offsets; /* completion: the same */
    size_t off;     /* bytes of text so far (completion text_offset) */
    bool failed;    /* out of memory: takes give null */
} srv_lp_acc;

void srv_lp_init(srv_lp_acc *a, bool chat);
void srv_lp_free(srv_lp_acc *a);
/* Adds one token: its piece, log-probability and n_alt alternatives. */
void srv_lp_add(srv_lp_acc *a, const char *tok, size_t len, float lp, const char *const *alt,
                const size_t *alt_len, const float *alt_lp, int n_alt);
/* The logprobs object of the tokens added since the last take (a new
 * reference; json null when out of memory). */
json_t *srv_lp_take(srv_lp_acc *a);

#endif
