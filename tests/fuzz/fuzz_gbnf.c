/*
 * fuzz_gbnf.c: libFuzzer target over hearth_grammar_from_gbnf. Any input
 * must compile or be refused with a message; a grammar that compiles is
 * then driven with the input's own bytes as text (try and accept one byte
 * at a time), which must never crash, loop or grow without bound.
 */
#include "engine/grammar_int.h"
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    hearth_grammar *g = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_grammar_from_gbnf((const char *)data, size, NULL, &g, &e);
    if (st) {
        if (!e.msg[0] || g) {
            fprintf(stderr, "fuzz_gbnf: refused without a message or with a grammar\n");
            abort();
        }
        return 0;
    }
    gmatch m;
    if (gmatch_init(&m, g, NULL) == HEARTH_OK) {
        for (size_t i = 0; i < size && i < 512; i++) {
            if (gmatch_try(&m, data + i, 1)) gmatch_accept(&m, data + i, 1);
        }
        gmatch_free(&m);
    }
    hearth_grammar_free(g);
    return 0;
}
