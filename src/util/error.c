/*
 * error.c: hearth_error helpers and the status names.
 */
#include "util/error.h"

#include "util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hearth_status hearth_fail(hearth_error *err, hearth_status code, const char *file, int line,
                          const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* A message cut short must not end inside a character: it may quote
         * user text, and it may end up in JSON. */
        if (n >= (int)sizeof err->msg) {
            size_t len = sizeof err->msg - 1;
            err->msg[utf8_trim_partial(err->msg, len)] = '\0';
        }
        err->code = code;
        err->file = file;
        err->line = line;
    }
    return code;
}

void hearth_error_clear(hearth_error *err) {
    if (!err) return;
    err->code = HEARTH_OK;
    err->msg[0] = '\0';
    err->file = NULL;
    err->line = 0;
}

void hearth_error_prefix(hearth_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Truncation is acceptable: the message is for people. */
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    n = utf8_trim_partial(prefix, n); /* either cut may have split a character */
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3, m = strnlen(old, sizeof old - 1);
    if (m > room) m = utf8_cut(old, m, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
}

#ifndef NDEBUG
void hearth_never_hit(const char *expr, const char *file, int line) {
    /* Debug builds only: an internal invariant broke, which is our bug. */
    fprintf(stderr, "hearth: internal invariant failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
#endif

const char *hearth_status_str(hearth_status s) {
    switch (s) {
    case HEARTH_OK: return "ok";
    case HEARTH_E_NOMEM: return "out of memory";
    case HEARTH_E_IO: return "i/o error";
    case HEARTH_E_FORMAT: return "bad format";
    case HEARTH_E_UNSUPPORTED: return "not supported";
    case HEARTH_E_ARG: return "bad argument";
    case HEARTH_E_STATE: return "invalid state";
    case HEARTH_E_CANCELLED: return "cancelled";
    case HEARTH_E_LIMIT: return "limit reached";
    case HEARTH_E_NOTFOUND: return "not found";
    case HEARTH_E_SIGNATURE: return "signature refused";
    }
    return "unknown status";
}

const char *hearth_version(void) { return HEARTH_VERSION_STRING; }
