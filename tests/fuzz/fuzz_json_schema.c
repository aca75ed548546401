/*
 * fuzz_json_schema.c: libFuzzer target over the JSON Schema compiler. Any
 * input must either be refused with a message or give GBNF text that the
 * GBNF parser compiles (the compiler never emits a grammar it cannot
 * parse), and whose start state is reachable.
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    char *text = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_json_schema_to_gbnf((const char *)data, size, "root", &text, &e);
    if (st) {
        if (!e.msg[0] || text) {
            fprintf(stderr, "fuzz_json_schema: refused without a message\n");
            abort();
        }
        return 0;
    }
    hearth_grammar *g = NULL;
    st = hearth_grammar_from_gbnf(text, strlen(text), "root", &g, &e);
    /* the compiler's own output must parse; only its size limits may refuse */
    if (st && !strstr(e.msg, "too large") && !strstr(e.msg, "too many") && st != HEARTH_E_NOMEM) {
        fprintf(stderr, "fuzz_json_schema: generated grammar refused: %s\n%s\n", e.msg, text);
        abort();
    }
    hearth_grammar_free(g);
    hearth_free(text);
    return 0;
}
