/*
 * error.h: internal helpers for hearth_error, the error record every fallible
 * call fills. HEARTH_FAIL records the raising spot (__FILE__:__LINE__) so one
 * breakpoint on hearth_fail catches every error.
 */
#ifndef HEARTH_UTIL_ERROR_H
#define HEARTH_UTIL_ERROR_H

#include "hearth.h"

/* Fills err (if non-NULL) with code and a printf-style message; returns code.
 * Any thread. */
hearth_status hearth_fail(hearth_error *err, hearth_status code, const char *file, int line,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define HEARTH_FAIL(err, code, ...) hearth_fail((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Clears err (if non-NULL) to HEARTH_OK with an empty message. */
void hearth_error_clear(hearth_error *err);

/* Prefixes err->msg with "prefix: " (used to add context such as a file
 * name while passing an error up). No-op when err is NULL. */
void hearth_error_prefix(hearth_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* HEARTH_NEVER(x): a should-never-happen defensive check. Aborts in debug
 * builds (an assert on our own invariant); in release builds it evaluates to
 * x so the caller handles the case. */
#ifdef NDEBUG
#define HEARTH_NEVER(x) (__builtin_expect(!!(x), 0))
#else
void hearth_never_hit(const char *expr, const char *file, int line) __attribute__((noreturn));
#define HEARTH_NEVER(x) ((x) ? (hearth_never_hit(#x, __FILE__, __LINE__), 1) : 0)
#endif

#endif
