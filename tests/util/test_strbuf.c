/*
 * test_strbuf.c: util/strbuf.c. An empty buffer finishes as an empty
 * string (it used to come back as 64 uninitialized bytes), appends and
 * printf grow it, and a finished buffer starts over empty.
 */
#include "test.h"
#include "util/strbuf.h"

#include "hearth.h"
#include "util/alloc.h"

int main(void) {
    /* Leave garbage where the next small allocation will likely land. */
    char *junk = hearth_malloc(64);
    REQUIRE(junk);
    memset(junk, 'J', 64);
    hearth_free(junk);
    strbuf b;
    strbuf_init(&b);
    size_t len = 99;
    char *s = strbuf_finish(&b, &len);
    REQUIRE(s);
    CHECK_EQ_INT(len, 0);
    CHECK_STR(s, "");
    hearth_free(s);

    for (int i = 0; i < 1000; i++) strbuf_printf(&b, "%d,", i % 10);
    strbuf_append(&b, "end", 3);
    s = strbuf_finish(&b, &len);
    REQUIRE(s);
    CHECK_EQ_INT(len, 2003);
    CHECK(!strncmp(s, "0,1,2,", 6) && !strcmp(s + 2000, "end"));
    hearth_free(s);
    CHECK(b.p == NULL && b.len == 0);
    return test_done();
}
