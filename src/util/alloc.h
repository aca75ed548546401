/*
 * alloc.h: the allocator every part of hearth uses. It wraps malloc and adds
 * fault injection for the allocation-failure test pass: a thread can ask that
 * its Nth allocation from now fail, and then checks that the code under test
 * reports HEARTH_E_NOMEM cleanly and leaks nothing.
 */
#ifndef HEARTH_UTIL_ALLOC_H
#define HEARTH_UTIL_ALLOC_H

#include <stddef.h>

/* As malloc/calloc/realloc/free, but subject to fault injection. Any thread. */
void *hearth_malloc(size_t n);
void *hearth_calloc(size_t count, size_t size);
void *hearth_realloc(void *p, size_t n);
/* hearth_free is public (hearth.h). */

/* Duplicates a string / n bytes plus a NUL. NULL on failure. */
char *hearth_strdup(const char *s);
char *hearth_strndup(const char *s, size_t n);

/* Tests only: make this thread's nth allocation from now fail (n >= 1), or
 * disarm with n == 0. Returns how many allocations this thread made since the
 * last call, so a test can learn the count and then sweep every N. */
long hearth_alloc_fail_after(long n);

#endif
