/* test_error.c: error records, status names and allocation fault injection. */
#include "test.h"

#include "util/alloc.h"
#include "util/cursor.h"
#include "util/error.h"
#include "util/utf8.h"

int main(void) {
    hearth_error e;
    hearth_error_clear(&e);
    CHECK_EQ_INT(e.code, HEARTH_OK);
    hearth_status s = HEARTH_FAIL(&e, HEARTH_E_FORMAT, "tensor '%s': offset %d", "x", 7);
    CHECK_EQ_INT(s, HEARTH_E_FORMAT);
    CHECK_STR(e.msg, "tensor 'x': offset 7");
    CHECK(e.file && strstr(e.file, "test_error.c"));
    hearth_error_prefix(&e, "model.gguf");
    CHECK_STR(e.msg, "model.gguf: tensor 'x': offset 7");
    CHECK(HEARTH_FAIL(NULL, HEARTH_E_IO, "no record") == HEARTH_E_IO);
    /* A message cut to fit never ends inside a character (it may quote user
     * text and go out as JSON): every alignment of 2-byte characters. */
    for (int pad = 0; pad < 2; pad++) {
        char text[600];
        size_t at = 0;
        for (int i = 0; i < pad; i++) text[at++] = 'a';
        while (at + 2 < sizeof text) text[at++] = (char)0xc3, text[at++] = (char)0xa9;
        text[at] = '\0';
        HEARTH_FAIL(&e, HEARTH_E_ARG, "bad '%s'", text);
        size_t n = strlen(e.msg);
        CHECKF(n > 200 && utf8_valid_prefix(e.msg, n) == n, "pad %d: %zu bytes", pad, n);
        HEARTH_FAIL(&e, HEARTH_E_ARG, "x");
        hearth_error_prefix(&e, "%s", text);
        n = strlen(e.msg);
        CHECKF(n > 100 && utf8_valid_prefix(e.msg, n) == n, "prefix pad %d: %zu bytes", pad, n);
    }
    CHECK_STR(hearth_status_str(HEARTH_E_NOMEM), "out of memory");
    CHECK(hearth_version()[0] != '\0');

    /* The 3rd allocation from now fails, the others succeed. */
    hearth_alloc_fail_after(3);
    void *a = hearth_malloc(8), *b = hearth_malloc(8), *c = hearth_malloc(8), *d = hearth_malloc(8);
    CHECK(a && b && !c && d);
    hearth_free(a); hearth_free(b); hearth_free(d);
    CHECK_EQ_INT(hearth_alloc_fail_after(0), 4);

    /* The cursor never reads past its input. */
    uint8_t buf[6] = {1, 0, 0, 0, 2, 0};
    rd r = rd_init(buf, sizeof buf);
    uint32_t u;
    uint16_t h;
    CHECK(rd_u32(&r, &u) && u == 1);
    CHECK(!rd_u32(&r, &u));
    CHECK(rd_u16(&r, &h) && h == 2);
    CHECK(!rd_skip(&r, 1));
    CHECK_EQ_INT(rd_offset(&r), 6);
    return test_done();
}
