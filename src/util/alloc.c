/*
 * alloc.c: malloc wrappers with per-thread fault injection (see alloc.h).
 * The counters are thread-local so parallel tests don't disturb each other.
 */
#include "util/alloc.h"

#include "hearth.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local long fail_countdown; /* 0: disarmed */
static _Thread_local long alloc_count;

static int should_fail(void) {
    alloc_count++;
    if (fail_countdown > 0 && --fail_countdown == 0) return 1;
    return 0;
}

long hearth_alloc_fail_after(long n) {
    long made = alloc_count;
    alloc_count = 0;
    fail_countdown = n > 0 ? n : 0;
    return made;
}

void *hearth_malloc(size_t n) {
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *hearth_calloc(size_t count, size_t size) {
    if (should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *hearth_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void hearth_free(void *p) { free(p); }

char *hearth_strndup(const char *s, size_t n) {
    char *d = hearth_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *hearth_strdup(const char *s) { return hearth_strndup(s, strlen(s)); }
