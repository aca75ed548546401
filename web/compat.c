/*
 * compat.c: GNU qsort_r for the browser build (compat.h). A heapsort: in
 * place, no allocation that could fail, O(n log n). Not stable, as qsort_r
 * is not required to be. And getrandom over getentropy.
 */
#include "compat.h"

#include <unistd.h>

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Sifts element i down the heap of n elements. */
static void sift(unsigned char *base, size_t i, size_t n, size_t size,
                 int (*cmp)(const void *, const void *, void *), void *arg) {
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && cmp(base + l * size, base + big * size, arg) > 0) big = l;
        if (r < n && cmp(base + r * size, base + big * size, arg) > 0) big = r;
        if (big == i) return;
        swap_bytes(base + i * size, base + big * size, size);
        i = big;
    }
}

void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
             void *arg) {
    unsigned char *b = base;
    if (n < 2 || size == 0) return;
    for (size_t i = n / 2; i-- > 0;) sift(b, i, n, size, cmp, arg);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(b, b + end * size, size);
        sift(b, 0, end, size, cmp, arg);
    }
}

ssize_t getrandom(void *buf, size_t n, unsigned flags) {
    (void)flags;
    unsigned char *p = buf;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 256 ? n - done : 256; /* getentropy's limit */
        if (getentropy(p + done, k)) return -1;
        done += k;
    }
    return (ssize_t)n;
}
