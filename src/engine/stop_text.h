/*
 * stop_text.h: the text a generation holds back because of stop strings,
 * shared by the one-sequence loop (generate.c) and the batch scheduler
 * (sched.c). Generated text is appended; what may be shown is everything
 * before the first complete stop string, or else everything but the longest
 * tail that could still grow into one. So a stop string never reaches the
 * caller, even split across tokens.
 */
#ifndef HEARTH_ENGINE_STOP_TEXT_H
#define HEARTH_ENGINE_STOP_TEXT_H

#include "hearth.h"
#include "util/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

typedef strbuf stop_text; /* pending bytes; init with strbuf_init */

/* Appends n bytes. false on allocation failure. */
bool stop_text_add(stop_text *s, const char *t, size_t n);

/* How many leading bytes of s->p may be released now. *stopped: a stop
 * string of p begins right after them (release them, drop the rest). */
size_t stop_text_ready(const stop_text *s, const hearth_gen_params *p, bool *stopped);

/* Drops the first n bytes (after the caller has released them). */
void stop_text_consume(stop_text *s, size_t n);

#endif
