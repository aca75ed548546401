/*
 * strbuf.c: growable text buffer (see strbuf.h).
 */
#include "util/strbuf.h"

#include "hearth.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strbuf_init(strbuf *b) {
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

static bool reserve(strbuf *b, size_t extra) {
    if (b->failed) return false;
    if (extra < b->cap - b->len) return true; /* room for extra + NUL */
    size_t need;
    if (__builtin_add_overflow(b->len, extra + 1, &need)) goto fail;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (__builtin_mul_overflow(cap, 2, &cap)) goto fail;
    }
    char *p = hearth_realloc(b->p, cap);
    if (!p) goto fail;
    b->p = p;
    b->cap = cap;
    return true;
fail:
    b->failed = true;
    return false;
}

void strbuf_append(strbuf *b, const void *data, size_t n) {
    if (!reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s) { strbuf_append(b, s, strlen(s)); }

void strbuf_printf(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *strbuf_finish(strbuf *b, size_t *len) {
    /* Nothing appended: the buffer is not allocated yet, and an empty text is
     * still a text (a NUL-terminated one). */
    if (!b->failed && !b->p && reserve(b, 0)) b->p[0] = '\0';
    if (b->failed) {
        strbuf_discard(b);
        return NULL;
    }
    char *p = b->p;
    if (len) *len = b->len;
    strbuf_init(b);
    return p;
}

void strbuf_discard(strbuf *b) {
    hearth_free(b->p);
    strbuf_init(b);
}
