/*
 * think.h: reasoning blocks (Qwen3's "<think>...</think>") in model output:
 * a streaming filter that hides them from what is shown, and the function
 * that finds where an answer starts after its block, so the block is never
 * fed back into the history the chat template renders.
 */
#ifndef HEARTH_AGENT_THINK_H
#define HEARTH_AGENT_THINK_H

#include <stdbool.h>
#include <stddef.h>

/* Streaming state: text may split a tag anywhere. */
typedef struct {
    bool show;      /* pass everything through */
    bool inside;    /* within a block */
    bool skip_nl;   /* newlines right after "</think>" are the block's */
    size_t held;    /* bytes of a possible tag held back */
    char hold[8];
} think_filter;

void think_filter_init(think_filter *f, bool show);
/* Writes the shown part of text[0, n) to out (room for n + 8 bytes) and
 * returns its length. */
size_t think_filter_feed(think_filter *f, const char *text, size_t n, char *out);
/* At the end of the text: the held bytes that turned out to be no tag
 * (when outside a block) go to out (room for 8); returns their length. */
size_t think_filter_flush(think_filter *f, char *out);

/* Offset in s[0, n) where the answer starts: after the last "</think>" and
 * the newlines that follow it; 0 when there is none. */
size_t think_answer_start(const char *s, size_t n);

#endif
