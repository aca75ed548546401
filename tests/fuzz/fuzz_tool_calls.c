/*
 * fuzz_tool_calls.c: libFuzzer target over reading tool calls out of model
 * text (tools_parse) and over tool definitions (tools_defs_parse), both
 * untrusted. Invariants: parsing never fails but for memory; every call it
 * returns names a defined tool, has a "call_" id and arguments that are a
 * JSON object's text; the text outside the calls is a valid C string no
 * longer than the input. Definitions either parse or are refused with
 * HEARTH_E_FORMAT / HEARTH_E_ARG.
 *
 * Input: byte 0 picks the family (ChatML, Llama 3, Mistral) and parallel
 * calls; the rest is the model's text, and also tried as a tools array.
 * Seeds: tests/fuzz/corpus/tool_calls.
 */
#include "hearth.h"

#include "agent/tools_int.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                        \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_tool_calls: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static const char defs_text[] =
    "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}, {\"type\": "
    "\"function\", \"function\": {\"name\": \"now\"}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const hearth_template fam[3] = {HEARTH_TEMPLATE_CHATML, HEARTH_TEMPLATE_LLAMA3,
                                           HEARTH_TEMPLATE_MISTRAL};
    hearth_template t = fam[data[0] % 3];
    bool parallel = data[0] & 4;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* model text is a C string (the agent drops NULs) */
    json_t *defs = NULL;
    FUZZ_ASSERT(tools_defs_parse(defs_text, strlen(defs_text), &defs, NULL) == HEARTH_OK);
    char *content = NULL, *calls = NULL;
    hearth_status st = tools_parse(t, text, defs, parallel, &content, &calls, NULL);
    FUZZ_ASSERT(st == HEARTH_OK || st == HEARTH_E_NOMEM);
    if (st == HEARTH_OK) {
        FUZZ_ASSERT(content && strlen(content) <= strlen(text));
        if (calls) {
            json_t *arr = json_loads(calls, 0, NULL);
            FUZZ_ASSERT(json_is_array(arr) && json_array_size(arr) >= 1);
            FUZZ_ASSERT(parallel || json_array_size(arr) == 1);
            size_t i;
            json_t *c;
            json_array_foreach(arr, i, c) {
                json_t *fn = json_object_get(c, "function");
                const char *name = json_string_value(json_object_get(fn, "name"));
                FUZZ_ASSERT(name && tools_defs_find(defs, name));
                FUZZ_ASSERT(!strncmp(json_string_value(json_object_get(c, "id")), "call_", 5));
                json_t *a = json_loads(json_string_value(json_object_get(fn, "arguments")), 0, NULL);
                FUZZ_ASSERT(json_is_object(a));
                json_decref(a);
            }
            json_decref(arr);
        }
    }
    hearth_free(content);
    hearth_free(calls);
    json_decref(defs);
    json_t *d2 = NULL;
    st = tools_defs_parse(text, strlen(text), &d2, NULL);
    FUZZ_ASSERT(st == HEARTH_OK || st == HEARTH_E_FORMAT || st == HEARTH_E_ARG ||
                st == HEARTH_E_NOMEM);
    FUZZ_ASSERT((st == HEARTH_OK) == (d2 != NULL));
    json_decref(d2);
    free(text);
    return 0;
}
