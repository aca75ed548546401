/*
 * compat.h: force-included into every file of the browser build (web/
 * CMakeLists.txt): what emscripten's C library lacks and libhearth uses.
 */
#ifndef HEARTH_WEB_COMPAT_H
#define HEARTH_WEB_COMPAT_H
#include <stddef.h>
#include <stdlib.h>

/* GNU qsort_r (emscripten 3.1's musl has none): web/compat.c. */
void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
             void *arg);

/* getrandom(2) (emscripten 3.1 has getentropy, backed by
 * crypto.getRandomValues, but no getrandom): web/compat.c. */
#include <sys/types.h>
ssize_t getrandom(void *buf, size_t n, unsigned flags);
#endif
