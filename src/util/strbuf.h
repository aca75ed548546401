/*
 * strbuf.h: a growable byte buffer for building text (JSON, Prometheus
 * output, SSE chunks). An allocation failure is sticky: later appends are
 * ignored and strbuf_finish returns NULL, so callers check once at the end.
 */
#ifndef HEARTH_UTIL_STRBUF_H
#define HEARTH_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

void strbuf_init(strbuf *b);
void strbuf_append(strbuf *b, const void *data, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated text (owned: hearth_free) and its length, or
 * NULL if any append failed (the buffer is then freed). */
char *strbuf_finish(strbuf *b, size_t *len);
/* Frees the buffer without returning it. */
void strbuf_discard(strbuf *b);

#endif
