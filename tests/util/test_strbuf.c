/* test_strbuf.c: the growable text buffer (util/strbuf.c): every text it
 * returns is NUL-terminated, the empty one included (an unterminated empty
 * answer once leaked heap bytes through /v1/completions), and an allocation
 * failure is sticky. */
#include "test.h"

#include "hearth.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#include <malloc.h>

int main(void) {
    /* Fresh heap memory is filled with a non-zero byte (glibc's perturbation;
     * ASan fills new blocks with 0xbe anyway), so a missing terminator shows
     * as a non-empty string instead of passing by luck. */
    mallopt(M_PERTURB, 0x55);

    strbuf b;
    size_t len = 99;
    strbuf_init(&b);
    char *s = strbuf_finish(&b, &len);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(s[0], '\0');
    hearth_free(s);

    /* An empty append, an empty printf: still an empty, terminated text. */
    strbuf_init(&b);
    strbuf_append(&b, "", 0);
    s = strbuf_finish(&b, &len);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(len, 0);
    CHECK_STR(s, "");
    hearth_free(s);
    strbuf_init(&b);
    strbuf_printf(&b, "%s", "");
    s = strbuf_finish(&b, &len);
    REQUIRE(s != NULL);
    CHECK_STR(s, "");
    hearth_free(s);

    /* Text grows past the first allocation and stays terminated. */
    strbuf_init(&b);
    for (int i = 0; i < 100; i++) strbuf_printf(&b, "%d,", i % 10);
    strbuf_puts(&b, "end");
    s = strbuf_finish(&b, &len);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(len, 203);
    CHECK_EQ_INT(strlen(s), 203);
    CHECK(!strcmp(s + 200, "end"));
    hearth_free(s);

    /* A failed allocation is sticky: finish returns NULL, nothing leaks. */
    strbuf_init(&b);
    hearth_alloc_fail_after(1);
    strbuf_puts(&b, "x");
    hearth_alloc_fail_after(0);
    strbuf_puts(&b, "y");
    CHECK(strbuf_finish(&b, &len) == NULL);
    /* ... and so is one in finish itself, for an empty buffer. */
    strbuf_init(&b);
    hearth_alloc_fail_after(1);
    CHECK(strbuf_finish(&b, &len) == NULL);
    hearth_alloc_fail_after(0);
    return test_done();
}
