/* test_utf8.c: cutting text at code point boundaries (util/utf8.c). A cut
 * inside a character once made the server's error JSON unencodable, and the
 * client got a closed connection instead of an answer. */
#include "test.h"

#include "util/utf8.h"

int main(void) {
    /* ASCII: cut where asked. */
    CHECK_EQ_INT(utf8_cut("hello", 5, 3), 3);
    CHECK_EQ_INT(utf8_cut("hello", 5, 9), 5);
    CHECK_EQ_INT(utf8_cut("hello", 5, 0), 0);
    /* "a" + e-acute (2 bytes): a cut after its first byte keeps only "a". */
    const char *e = "a\xc3\xa9z";
    CHECK_EQ_INT(utf8_cut(e, 4, 2), 1);
    CHECK_EQ_INT(utf8_cut(e, 4, 3), 3);
    CHECK_EQ_INT(utf8_cut(e, 4, 1), 1);
    /* A 3-byte (euro sign) and a 4-byte (U+1F600) character, every cut. */
    const char *eu = "x\xe2\x82\xac";
    CHECK_EQ_INT(utf8_cut(eu, 4, 2), 1);
    CHECK_EQ_INT(utf8_cut(eu, 4, 3), 1);
    CHECK_EQ_INT(utf8_cut(eu, 4, 4), 4);
    const char *sm = "\xf0\x9f\x98\x80!";
    for (size_t m = 0; m < 4; m++) CHECK_EQ_INT(utf8_cut(sm, 5, m), 0);
    CHECK_EQ_INT(utf8_cut(sm, 5, 4), 4);
    /* Every cut of a mixed text is valid UTF-8. */
    const char *mix = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "b\xc3\xa9";
    size_t n = strlen(mix);
    for (size_t m = 0; m <= n; m++) {
        size_t k = utf8_cut(mix, n, m);
        CHECKF(k <= m && utf8_valid_prefix(mix, k) == k, "cut at %zu -> %zu", m, k);
    }
    /* Not UTF-8 at the cut (a run of continuation bytes): cut where asked. */
    CHECK_EQ_INT(utf8_cut("\x80\x80\x80\x80\x80", 5, 4), 4);

    /* A byte-count truncation's incomplete tail is dropped, a whole one kept. */
    CHECK_EQ_INT(utf8_trim_partial("ab\xc3", 3), 2);
    CHECK_EQ_INT(utf8_trim_partial("ab\xe2\x82", 4), 2);
    CHECK_EQ_INT(utf8_trim_partial("ab\xe2\x82\xac", 5), 5);
    CHECK_EQ_INT(utf8_trim_partial("\xf0\x9f\x98", 3), 0);
    CHECK_EQ_INT(utf8_trim_partial("abc", 3), 3);
    CHECK_EQ_INT(utf8_trim_partial("", 0), 0);

    /* Validity: good text whole; stops before a bad or truncated sequence. */
    CHECK_EQ_INT(utf8_valid_prefix(mix, n), n);
    CHECK_EQ_INT(utf8_valid_prefix("ab\xc3", 3), 2);
    CHECK_EQ_INT(utf8_valid_prefix("ab\xff" "cd", 5), 2);
    CHECK_EQ_INT(utf8_valid_prefix("\xc0\xaf", 2), 0);          /* overlong '/' */
    CHECK_EQ_INT(utf8_valid_prefix("\xe0\x80\xaf", 3), 0);      /* overlong */
    CHECK_EQ_INT(utf8_valid_prefix("\xed\xa0\x80", 3), 0);      /* surrogate */
    CHECK_EQ_INT(utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
    CHECK_EQ_INT(utf8_valid_prefix("a\xc3z", 3), 1);            /* bad continuation */
    return test_done();
}
