/*
 * test_unicode.c: the generated class table (spot checks across scripts and
 * planes, and its Unicode version) and UTF-8 decoding of invalid input.
 */
#include "test.h"

#include "tokenizer/unicode.h"

#include <string.h>

static void cls(uint32_t cp, unsigned want) {
    CHECKF(hearth_uc_flags(cp) == want, "U+%04X: flags %u, want %u", cp, hearth_uc_flags(cp), want);
}

static void dec(const char *s, size_t n, uint32_t want_cp, size_t want_len) {
    uint32_t cp;
    size_t l = hearth_utf8_decode((const uint8_t *)s, n, &cp);
    CHECKF(cp == want_cp && l == want_len, "decode %02x..: U+%X len %zu, want U+%X len %zu",
           (unsigned)(uint8_t)s[0], cp, l, want_cp, want_len);
}

int main(void) {
    CHECK_STR(hearth_unicode_version, "15.0.0");
    cls('A', HEARTH_UC_L);
    cls('z', HEARTH_UC_L);
    cls('5', HEARTH_UC_N);
    cls('!', HEARTH_UC_P);
    cls('$', HEARTH_UC_S);
    cls(' ', HEARTH_UC_WS);
    cls('\t', HEARTH_UC_WS);
    cls(0x0B, HEARTH_UC_WS);
    cls(0x1C, 0);                          /* not White_Space */
    cls(0x85, HEARTH_UC_WS);
    cls(0xA0, HEARTH_UC_WS);
    cls(0x3000, HEARTH_UC_WS);
    cls(0x200B, 0);                        /* zero width space is Cf */
    cls(0x0301, HEARTH_UC_M);              /* combining acute */
    cls(0x0663, HEARTH_UC_N);              /* Arabic-Indic three */
    cls(0x2167, HEARTH_UC_N);              /* Roman numeral eight (Nl) */
    cls(0x00BD, HEARTH_UC_N);              /* ½ (No) */
    cls(0x4E00, HEARTH_UC_L);              /* CJK, from a First/Last range */
    cls(0x9FFF, HEARTH_UC_L);              /* the range's end in 15.0 */
    cls(0xAC00, HEARTH_UC_L);              /* Hangul */
    cls(0x1F999, HEARTH_UC_S);             /* 🦙 */
    cls(0x20000, HEARTH_UC_L);             /* plane 2 */
    cls(0x31350, HEARTH_UC_L);             /* CJK Ext H, new in 15.0 */
    cls(0xE000, 0);                        /* private use */
    cls(0x10FFFF, 0);
    cls(0x110000, 0);
    cls(HEARTH_UC_INVALID(0xFF), 0);
    cls(0x3002, HEARTH_UC_P);              /* 。 */
    cls(0x2028, HEARTH_UC_WS);

    dec("a", 1, 'a', 1);
    dec("\xc3\xa9", 2, 0xE9, 2);
    dec("\xe2\x82\xac", 3, 0x20AC, 3);
    dec("\xf0\x9f\xa6\x99", 4, 0x1F999, 4);
    dec("\xc3", 1, HEARTH_UC_INVALID(0xC3), 1);            /* truncated */
    dec("\xc0\xaf", 2, HEARTH_UC_INVALID(0xC0), 1);        /* overlong */
    dec("\xe0\x80\xaf", 3, HEARTH_UC_INVALID(0xE0), 1);    /* overlong */
    dec("\xed\xa0\x80", 3, HEARTH_UC_INVALID(0xED), 1);    /* surrogate */
    dec("\xf4\x90\x80\x80", 4, HEARTH_UC_INVALID(0xF4), 1); /* > U+10FFFF */
    dec("\x80", 1, HEARTH_UC_INVALID(0x80), 1);
    dec("\xff", 1, HEARTH_UC_INVALID(0xFF), 1);
    dec("\xe2\x82" "A", 3, HEARTH_UC_INVALID(0xE2), 1);

    char buf[4];
    CHECK_EQ_INT(hearth_utf8_encode(0x1F999, buf), 4);
    CHECK(!memcmp(buf, "\xf0\x9f\xa6\x99", 4));
    return test_done();
}
