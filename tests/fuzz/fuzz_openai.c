/* fuzz_openai.c: libFuzzer target over the OpenAI request parser, for all
 * three request kinds (the first byte picks the kind). */
#include "server/openai.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    srv_kind kind = (srv_kind)(data[0] % 3);
    srv_request r;
    hearth_error e;
    if (srv_request_parse(kind, (const char *)data + 1, size - 1, &r, &e) == HEARTH_OK)
        srv_request_free(&r);
    return 0;
}
