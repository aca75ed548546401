/*
 * template.h: the chat template families as data, inside the agent.
 * Rendering is in two steps: messages -> pieces (this file's tmpl_pieces),
 * then pieces -> token ids (template_tokens.c). A piece is either text
 * (tokenized with special-token parsing off) or a control token named by its
 * vocabulary text, so message content can never become a control token.
 */
#ifndef HEARTH_AGENT_TEMPLATE_H
#define HEARTH_AGENT_TEMPLATE_H

#include "hearth.h"

typedef enum {
    TP_TEXT = 0, /* template literal or message content: plain text */
    TP_CTRL,     /* a control token, looked up by text (plain text if absent) */
    TP_BOS,      /* the tokenizer's BOS id (skipped if it has none) */
    TP_EOS,      /* the tokenizer's EOS id (skipped if it has none) */
} tmpl_piece_kind;

typedef struct {
    tmpl_piece_kind kind;
    const char *text; /* borrowed: from a static table or a message */
    size_t len;
} tmpl_piece;

typedef struct {
    tmpl_piece *v; /* owned */
    size_t n, cap;
} tmpl_pieces;

/* Renders msgs as family t, ending with the opening of the assistant's turn
 * (add_generation_prompt). Pieces borrow the messages' strings. bos: put a
 * TP_BOS first (the tokenizer wants one). Errors: HEARTH_E_ARG for a role
 * other than system/user/assistant, HEARTH_E_NOMEM. On failure out is empty. */
hearth_status tmpl_pieces_render(hearth_template t, const hearth_chat_message *msgs,
                                 size_t n_msgs, bool bos, tmpl_pieces *out, hearth_error *err);
void tmpl_pieces_free(tmpl_pieces *p);

/* The default system prompt a ChatML template writes when the conversation
 * has none (Qwen's "You are a helpful assistant."), found as the literal text
 * between "<|im_start|>system" + newline and "<|im_end|>" in the template's
 * source; only text with no template syntax in it counts. OUT: *out (owned:
 * hearth_free) or NULL when there is none. HEARTH_E_NOMEM. */
hearth_status tmpl_default_system(const char *tmpl, char **out, hearth_error *err);

/* The text of a family's end-of-turn marker ("<|im_end|>", "<|eot_id|>",
 * ...), or NULL when it is the EOS token. Generation stops on it. */
const char *tmpl_end_of_turn(hearth_template t);

#endif
