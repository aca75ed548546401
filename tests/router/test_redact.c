/*
 * test_redact.c: the redactor (src/router/redact*.c, restore.c): every
 * detector with positive and negative examples, the checksums (Luhn,
 * mod-97), placeholders and the per-request map, restore in one piece and
 * streamed at every split point, user-typed placeholders, UTF-8, linear
 * time on hostile input, and allocation failures.
 */
#include "router/redact.h"
#include "test.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

static redact_config *cfg;

/* The spans of text as "KIND:text|KIND:text|" (static buffer). */
static const char *spans(const char *text) {
    static char buf[4096];
    redact_span *sp;
    size_t n;
    hearth_error err;
    buf[0] = '\0';
    if (redact_find(cfg, text, strlen(text), &sp, &n, &err)) return "(error)";
    size_t l = 0;
    for (size_t i = 0; i < n && l < sizeof buf - 300; i++)
        l += (size_t)snprintf(buf + l, sizeof buf - l, "%s:%.*s|", redact_kind_name(sp[i].kind),
                              (int)(sp[i].end - sp[i].start), text + sp[i].start);
    hearth_free(sp);
    return buf;
}

#define FINDS(text, expect) CHECK_STR(spans(text), expect)
#define CLEAN(text) CHECK_STR(spans(text), "")

static void test_email(void) {
    FINDS("write to john.smith@example.com today", "EMAIL:john.smith@example.com|");
    FINDS("<Maria_G+news@mail.example.co.uk>", "EMAIL:Maria_G+news@mail.example.co.uk|");
    FINDS("mail: a@b.io.", "EMAIL:a@b.io|");
    CLEAN("@decorator and user@localhost and x = a@b");
    CLEAN("git push at 5 @ home");
}

static void test_phone(void) {
    FINDS("call +1 (415) 555-2671 now", "PHONE:+1 (415) 555-2671|");
    FINDS("+44 20 7946 0958", "PHONE:+44 20 7946 0958|");
    FINDS("+4915112345678.", "PHONE:+4915112345678|");
    FINDS("0044 20 7946 0958", "PHONE:0044 20 7946 0958|");
    FINDS("(415) 555-2671", "PHONE:(415) 555-2671|");
    FINDS("ring 415.555.2671", "PHONE:415.555.2671|");
    FINDS("020 7946 0958", "PHONE:020 7946 0958|");
    FINDS("06 12 34 56 78", "PHONE:06 12 34 56 78|");
    FINDS("1-800-555-0199", "PHONE:1-800-555-0199|");
    FINDS("phone: 5552671", "PHONE:5552671|");
    CLEAN("12 + 34 = 46 and 2024-05-17 and 1 2 3 4 5 6 7 8 9");
    CLEAN("ISBN 978-3-16-148410-0, order 12345678, 3.14159265");
    CLEAN("id 550e8400-e29b-41d4-a716-446655440000");
}

static void test_card(void) {
    FINDS("card 4111 1111 1111 1111 exp", "CARD:4111 1111 1111 1111|");
    FINDS("4111-1111-1111-1111", "CARD:4111-1111-1111-1111|");
    FINDS("5500000000000004", "CARD:5500000000000004|");
    FINDS("amex 3782 822463 10005", "CARD:3782 822463 10005|");
    /* Luhn: one digit off is not a card */
    CLEAN("card 4111 1111 1111 1112 exp");
    CLEAN("5500000000000005");
    /* a Luhn-valid number with a prefix no card network uses */
    CLEAN("id 0000000000000000");
}

static void test_iban(void) {
    FINDS("IBAN DE89 3704 0044 0532 0130 00.", "IBAN:DE89 3704 0044 0532 0130 00|");
    FINDS("GB82WEST12345698765432", "IBAN:GB82WEST12345698765432|");
    FINDS("to FR1420041010050500013M02606 now", "IBAN:FR1420041010050500013M02606|");
    /* mod-97: wrong check digits */
    CLEAN("IBAN DE88 3704 0044 0532 0130 00.");
    CLEAN("GB83WEST12345698765432");
}

static void test_ssn(void) {
    FINDS("SSN 123-45-6789.", "SSN:123-45-6789|");
    FINDS("social security number 123456789", "SSN:123456789|");
    CLEAN("000-12-3456 and 666-12-3456 and 900-12-3456 and 123-00-4567");
    CLEAN("the number 123456789 is large");
}

static void test_ip(void) {
    FINDS("ssh 192.168.1.20 now", "IP:192.168.1.20|");
    FINDS("host=10.0.0.1:8080", "IP:10.0.0.1|");
    FINDS("addr 2001:db8:85a3:0:0:8a2e:370:7334 up", "IP:2001:db8:85a3:0:0:8a2e:370:7334|");
    FINDS("via fe80::1ff:fe23:4567:890a.", "IP:fe80::1ff:fe23:4567:890a|");
    FINDS("loopback ::1 and ::ffff:192.0.2.1", "IP:::1|IP:::ffff:192.0.2.1|");
    CLEAN("version 1.2.3.4 and v1.2.3.4 and release 2.0.1.7 and 1.2.3.4-beta");
    CLEAN("upgrade to 10.2.0.1 today");
    CLEAN("256.1.1.1 and 1.2.3 and 1.2.3.4.5 and 01.2.3.4");
    CLEAN("12:30:45 and 00:1A:2B:3C:4D:5E and std::vector and a::b");
}

static void test_dob(void) {
    FINDS("I was born on 12/03/1990.", "DOB:12/03/1990|");
    FINDS("DOB: 1990-03-12", "DOB:1990-03-12|");
    FINDS("date of birth 12 March 1990", "DOB:12 March 1990|");
    FINDS("D.O.B. March 12, 1990", "DOB:March 12, 1990|");
    FINDS("she was born 3rd of May 1985, in Lyon", "DOB:3rd of May 1985|");
    /* dates of events stay */
    CLEAN("The meeting is on 12/03/2024. We launched on March 12, 2020.");
    CLEAN("I was born in Lyon. On 12 March 2020 we met.");
    CLEAN("born 32/13/1990");
}

static void test_address(void) {
    FINDS("I live at 221B Baker Street.", "ADDRESS:221B Baker Street|");
    FINDS("1600 Pennsylvania Avenue NW, Washington", "ADDRESS:1600 Pennsylvania Avenue NW|");
    FINDS("at 12 rue de la Paix", "ADDRESS:12 rue de la Paix|");
    FINDS("Hauptstraße 5, 10115 Berlin", "ADDRESS:Hauptstraße 5|POSTCODE:10115|");
    FINDS("Calle Mayor 10", "ADDRESS:Calle Mayor 10|");
    FINDS("742 Evergreen Terrace, Apt 4", "ADDRESS:742 Evergreen Terrace, Apt 4|");
    CLEAN("3 big roads and 5 lanes; walk 12 Streets? no: 12 streets");
    CLEAN("During 5 minutes the Spring 2024 sale ran.");
}

static void test_postcode(void) {
    FINDS("London SW1A 1AA.", "POSTCODE:SW1A 1AA|");
    FINDS("Ottawa ON K1A 0B1", "POSTCODE:K1A 0B1|");
    FINDS("Springfield, IL 62704", "POSTCODE:62704|");
    FINDS("1012 AB Amsterdam", "POSTCODE:1012 AB|");
    FINDS("zip code 90210", "POSTCODE:90210|");
    CLEAN("In 2020 US Open tickets cost 90210 yen; A4 paper");
}

static void test_secret(void) {
    FINDS("key sk-abcdefghijklmnopqrstuvwxyz123456 ok", "SECRET:sk-abcdefghijklmnopqrstuvwxyz123456|");
    FINDS("ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "SECRET:ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|");
    FINDS("AKIAIOSFODNN7EXAMPLE", "SECRET:AKIAIOSFODNN7EXAMPLE|");
    FINDS("xoxb-1234-5678-abcdefABCDEF", "SECRET:xoxb-1234-5678-abcdefABCDEF|");
    FINDS("password: hunter2", "SECRET:hunter2|");
    FINDS("DB_PASSWORD=Tr0ub4dor&3", "SECRET:Tr0ub4dor&3|");
    FINDS("my password is C0rrect-Horse", "SECRET:C0rrect-Horse|");
    FINDS("{\"api_key\": \"a1b2c3d4e5\"}", "SECRET:a1b2c3d4e5|");
    FINDS("Bearer aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1", "SECRET:aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1|");
    FINDS("x -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- y",
          "SECRET:-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----|");
    /* code and prose */
    CLEAN("password = getpass.getpass(\"Password: \")");
    CLEAN("def get_password(self): return self._password");
    CLEAN("interface U { password: string; token: number }");
    CLEAN("the password is correct and the token: a word");
    CLEAN("git checkout 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39");
    CLEAN("getElementsByClassName and internationalization");
    CLEAN("/usr/local/lib/x86_64-linux-gnu/libfoo.so");
}

static void test_terms(void) {
    redact_config *c2;
    hearth_error err;
    REQUIRE(!redact_config_new(&c2, &err));
    REQUIRE(!redact_config_add_terms(c2, "Alice Martin, Zoë, Project Falcon,, Lyon\nNew York, New York City", &err));
    CHECK_EQ_INT(redact_config_n_terms(c2), 6);
    redact_config *saved = cfg;
    cfg = c2;
    FINDS("Tell alice martin that PROJECT FALCON moved to Lyon.",
          "TERM:alice martin|TERM:PROJECT FALCON|TERM:Lyon|");
    FINDS("«Zoë» met Zoë's friend", "TERM:Zoë|TERM:Zoë|");
    FINDS("in New York City today", "TERM:New York City|");
    CLEAN("Lyonnaise food, Zoëlle, Alice Martinez");
    cfg = saved;
    /* bad terms */
    CHECK(redact_config_add_term(c2, "\xff\xfe", 2, &err) == HEARTH_E_ARG);
    char big[300];
    memset(big, 'a', sizeof big);
    CHECK(redact_config_add_term(c2, big, sizeof big, &err) == HEARTH_E_ARG);
    redact_config_free(c2);
}

/* redact + restore in one piece and streamed at every split */
typedef struct {
    char buf[8192];
    size_t n;
    int calls, stop_after;
} sink;

static bool sink_put(void *ud, const char *p, size_t n) {
    sink *s = ud;
    if (s->stop_after && ++s->calls > s->stop_after) return false;
    if (s->n + n < sizeof s->buf) memcpy(s->buf + s->n, p, n);
    s->n += n;
    return true;
}

static void check_stream(const redact_map *m, const char *text, const char *expect) {
    size_t n = strlen(text), el = strlen(expect);
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            /* three chunks: [0,a) [a,b) [b,n) */
            sink s = {.n = 0};
            redact_restorer r;
            redact_restorer_init(&r, m);
            hearth_error err;
            bool ok = !redact_restorer_feed(&r, text, a, sink_put, &s, &err) &&
                      !redact_restorer_feed(&r, text + a, b - a, sink_put, &s, &err) &&
                      !redact_restorer_feed(&r, text + b, n - b, sink_put, &s, &err) &&
                      !redact_restorer_finish(&r, sink_put, &s, &err);
            if (!ok || s.n != el || memcmp(s.buf, expect, el)) {
                CHECKF(false, "split %zu/%zu of '%s': got '%.*s'", a, b, text, (int)s.n, s.buf);
                return;
            }
        }
    }
    /* byte by byte, and the restorer never holds more than a placeholder */
    sink s = {.n = 0};
    redact_restorer r;
    redact_restorer_init(&r, m);
    for (size_t i = 0; i < n; i++) {
        redact_restorer_feed(&r, text + i, 1, sink_put, &s, NULL);
        CHECK(r.npend <= 20);
    }
    redact_restorer_finish(&r, sink_put, &s, NULL);
    CHECK(s.n == el && !memcmp(s.buf, expect, el));
    test_checks++;
}

static void test_roundtrip(void) {
    const char *in = "Mail bob@example.com or call +44 20 7946 0958; again bob@example.com, "
                     "card 4111 1111 1111 1111, key sk-abcdefghijklmnopqrstuvwxyz123456.";
    redact_map m;
    redact_map_init(&m);
    char *out;
    size_t ol;
    hearth_error err;
    REQUIRE(!redact_text(cfg, &m, in, strlen(in), &out, &ol, &err));
    CHECK_STR(out, "Mail [EMAIL_1] or call [PHONE_1]; again [EMAIL_1], card [CARD_1], key [SECRET_1].");
    CHECK_EQ_INT(m.counts[REDACT_EMAIL], 2);
    CHECK_EQ_INT(m.counts[REDACT_PHONE], 1);
    CHECK_EQ_INT(m.counts[REDACT_CARD], 1);
    CHECK_EQ_INT(m.counts[REDACT_SECRET], 1);
    CHECK_EQ_INT(m.n, 4);
    char *back;
    size_t bl;
    REQUIRE(!redact_restore(&m, out, ol, &back, &bl, &err));
    CHECK_STR(back, in);
    hearth_free(back);
    /* the cloud's answer: placeholders in other places, split anywhere */
    const char *answer = "Sure, I emailed [EMAIL_1] and [PHONE_1]. [EMAIL_2] is unknown, [EMAIL_1";
    const char *expect = "Sure, I emailed bob@example.com and +44 20 7946 0958. [EMAIL_2] is unknown, [EMAIL_1";
    REQUIRE(!redact_restore(&m, answer, strlen(answer), &back, &bl, &err));
    CHECK_STR(back, expect);
    hearth_free(back);
    check_stream(&m, answer, expect);
    check_stream(&m, "[[EMAIL_1]][CARD_1[SECRET_1]x[", "[bob@example.com][CARD_1sk-abcdefghijklmnopqrstuvwxyz123456x[");
    /* a second text in the same map: same value, same placeholder */
    char *out2;
    REQUIRE(!redact_text(cfg, &m, "again bob@example.com and eve@example.org", 41, &out2, NULL, &err));
    CHECK_STR(out2, "again [EMAIL_1] and [EMAIL_2]");
    CHECK(redact_map_lookup(&m, "[EMAIL_2]", 9) != NULL);
    CHECK(redact_map_lookup(&m, "[EMAIL_3]", 9) == NULL);
    CHECK(redact_map_lookup(&m, "[EMAIL_2] ", 10) == NULL);
    hearth_free(out2);
    /* the receiver can stop the stream */
    sink s = {.stop_after = 1};
    redact_restorer r;
    redact_restorer_init(&r, &m);
    CHECK(redact_restorer_feed(&r, "a [EMAIL_1] b", 13, sink_put, &s, &err) == HEARTH_E_CANCELLED);
    CHECK(redact_restorer_feed(&r, "x", 1, NULL, NULL, &err) == HEARTH_E_ARG);
    hearth_free(out);
    redact_map_clear(&m);
}

static void test_user_placeholders(void) {
    /* the user types a placeholder: it is sent as typed, and the real
     * address gets a number the user did not use */
    const char *in = "What does [EMAIL_1] mean? Mail me at ann@example.com [EMAIL_3]";
    redact_map m;
    redact_map_init(&m);
    char *out, *back;
    hearth_error err;
    REQUIRE(!redact_text(cfg, &m, in, strlen(in), &out, NULL, &err));
    CHECK_STR(out, "What does [EMAIL_1] mean? Mail me at [EMAIL_2] [EMAIL_3]");
    REQUIRE(!redact_restore(&m, out, strlen(out), &back, NULL, &err));
    CHECK_STR(back, in);
    hearth_free(back);
    /* an answer echoing the user's [EMAIL_1] keeps it */
    REQUIRE(!redact_restore(&m, "[EMAIL_1] vs [EMAIL_2]", 22, &back, NULL, &err));
    CHECK_STR(back, "[EMAIL_1] vs ann@example.com");
    hearth_free(back);
    hearth_free(out);
    /* a later text of the same request types the number already given out:
     * it is escaped, and restores to what the user typed */
    REQUIRE(!redact_text(cfg, &m, "and [EMAIL_2] too", 17, &out, NULL, &err));
    CHECK(strstr(out, "[EMAIL_2]") == NULL);
    CHECK_EQ_INT(m.counts[REDACT_EMAIL], 1); /* escapes are not counted */
    REQUIRE(!redact_restore(&m, out, strlen(out), &back, NULL, &err));
    CHECK_STR(back, "and [EMAIL_2] too");
    hearth_free(back);
    hearth_free(out);
    redact_map_clear(&m);
    /* redact_map_reserve over all texts first avoids even that */
    redact_map_init(&m);
    REQUIRE(!redact_map_reserve(&m, "[PHONE_1] [PHONE_2]", 19, &err));
    REQUIRE(!redact_text(cfg, &m, "+44 20 7946 0958", 16, &out, NULL, &err));
    CHECK_STR(out, "[PHONE_3]");
    hearth_free(out);
    redact_map_clear(&m);
}

static void test_utf8_and_hostile(void) {
    /* multibyte text around findings stays intact */
    const char *in = "Grüße — écrivez à ana@example.com ✉, 電話 +33 6 12 34 56 78。";
    redact_map m;
    redact_map_init(&m);
    char *out, *back;
    hearth_error err;
    REQUIRE(!redact_text(cfg, &m, in, strlen(in), &out, NULL, &err));
    CHECK_STR(out, "Grüße — écrivez à [EMAIL_1] ✉, 電話 [PHONE_1]。");
    REQUIRE(!redact_restore(&m, out, strlen(out), &back, NULL, &err));
    CHECK_STR(back, in);
    hearth_free(out);
    hearth_free(back);
    redact_map_clear(&m);
    /* Hostile inputs that would take quadratic time in a backtracking
     * scanner: 8 MB each; linear scanning finishes well within the ctest
     * timeout, quadratic would not. Also: round trip holds. */
    static const char *const pats[] = {"1-", "a@", "[EMAIL_", "-----BEGIN ", "1.", "+1 ", "::", "aB3", "password: "};
    size_t N = 8u << 20;
    char *big = malloc(N + 1);
    REQUIRE(big);
    for (size_t p = 0; p < sizeof pats / sizeof pats[0]; p++) {
        size_t pl = strlen(pats[p]);
        for (size_t i = 0; i < N; i++) big[i] = pats[p][i % pl];
        big[N] = '\0';
        redact_map_init(&m);
        size_t ol, bl;
        hearth_status st = redact_text(cfg, &m, big, N, &out, &ol, &err);
        CHECKF(st == HEARTH_OK, "pattern '%s': %s", pats[p], err.msg);
        if (st) continue;
        REQUIRE(!redact_restore(&m, out, ol, &back, &bl, &err));
        CHECKF(bl == N && !memcmp(back, big, N), "pattern '%s': round trip", pats[p]);
        hearth_free(out);
        hearth_free(back);
        redact_map_clear(&m);
    }
    free(big);
}

static void test_alloc_failures(void) {
    const char *in = "bob@example.com +44 20 7946 0958 [EMAIL_1] sk-abcdefghijklmnopqrstuvwxyz123456";
    hearth_error err;
    for (long n = 1;; n++) {
        redact_map m;
        redact_map_init(&m);
        char *out = NULL;
        hearth_alloc_fail_after(n);
        hearth_status st = redact_text(cfg, &m, in, strlen(in), &out, NULL, &err);
        hearth_alloc_fail_after(0);
        if (st == HEARTH_OK) {
            CHECK(out != NULL);
            hearth_free(out);
            redact_map_clear(&m);
            CHECK(n > 3);
            break;
        }
        CHECKF(st == HEARTH_E_NOMEM, "alloc failure %ld: status %d", n, st);
        CHECK(out == NULL);
        redact_map_clear(&m);
        if (n > 1000) break;
    }
}

int main(void) {
    hearth_error err;
    REQUIRE(!redact_config_new(&cfg, &err));
    test_email();
    test_phone();
    test_card();
    test_iban();
    test_ssn();
    test_ip();
    test_dob();
    test_address();
    test_postcode();
    test_secret();
    test_terms();
    test_roundtrip();
    test_user_placeholders();
    test_utf8_and_hostile();
    test_alloc_failures();
    /* kinds can be turned off */
    redact_config_set_kinds(cfg, ~(1u << REDACT_EMAIL));
    CLEAN("bob@example.com");
    redact_config_free(cfg);
    return test_done();
}
