/* test_origin.c: the Host and Origin policy (server/origin.c) against DNS
 * rebinding and cross-site requests. */
#include "test.h"

#include "server/origin.h"

int main(void) {
    hearth_error e;
    srv_origin_policy *p = NULL;
    const char *hosts[] = {"box.lan", "Other.Example:9000"};
    const char *origins[] = {"https://App.example/", "http://localhost:3000"};
    REQUIRE(srv_origin_policy_new("127.0.0.1", true, hosts, 2, origins, 2, &p, &e) == HEARTH_OK);

    /* Host: loopback names with or without a port, the allowed ones. */
    const char *good[] = {NULL, "localhost", "localhost:8080", "LocalHost:1", "127.0.0.1",
                          "127.0.0.1:8080", "[::1]", "[::1]:8080", "box.lan", "BOX.lan:80",
                          "other.example:9000"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECKF(srv_origin_host_ok(p, good[i]), "refused Host %s", good[i] ? good[i] : "(none)");
    /* A rebinding page's own names, look-alikes and junk. */
    const char *bad[] = {"evil.example", "evil.example:8080", "localhost.evil.example",
                         "127.0.0.1.nip.io", "[::2]:8080", "other.example", "other.example:9001",
                         "localhost:", "localhost:x", "localhost:99999", "local host", "",
                         "[::1", "user@localhost", "localhost/x", ":8080"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(!srv_origin_host_ok(p, bad[i]), "accepted Host '%s'", bad[i]);

    /* Origin: absent, the server itself on its port, allowed, foreign. */
    CHECK_EQ_INT(srv_origin_classify(p, NULL, 8080), SRV_ORIGIN_NONE);
    CHECK_EQ_INT(srv_origin_classify(p, "http://127.0.0.1:8080", 8080), SRV_ORIGIN_SAME);
    CHECK_EQ_INT(srv_origin_classify(p, "http://localhost:8080", 8080), SRV_ORIGIN_SAME);
    CHECK_EQ_INT(srv_origin_classify(p, "http://[::1]:8080", 8080), SRV_ORIGIN_SAME);
    CHECK_EQ_INT(srv_origin_classify(p, "http://localhost", 80), SRV_ORIGIN_SAME);
    CHECK_EQ_INT(srv_origin_classify(p, "http://localhost", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "http://localhost:8081", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "https://localhost:8080", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "https://app.example", 8080), SRV_ORIGIN_ALLOWED);
    CHECK_EQ_INT(srv_origin_classify(p, "http://localhost:3000", 8080), SRV_ORIGIN_ALLOWED);
    CHECK_EQ_INT(srv_origin_classify(p, "https://app.example.evil", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "http://app.example", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "null", 8080), SRV_ORIGIN_FOREIGN);
    CHECK_EQ_INT(srv_origin_classify(p, "http://evil.example:8080", 8080), SRV_ORIGIN_FOREIGN);
    CHECK(srv_origin_cors_on(p) && !srv_origin_any(p));
    srv_origin_policy_free(p);

    /* Not loopback: Host is not checked; no origins: CORS off. "*" allows any. */
    const char *star[] = {"*"};
    REQUIRE(srv_origin_policy_new("0.0.0.0", false, NULL, 0, star, 1, &p, &e) == HEARTH_OK);
    CHECK(srv_origin_host_ok(p, "evil.example"));
    CHECK(srv_origin_any(p) && srv_origin_cors_on(p));
    CHECK_EQ_INT(srv_origin_classify(p, "https://x.example", 80), SRV_ORIGIN_ALLOWED);
    srv_origin_policy_free(p);
    REQUIRE(srv_origin_policy_new("::1", true, NULL, 0, NULL, 0, &p, &e) == HEARTH_OK);
    CHECK(!srv_origin_cors_on(p));
    CHECK_EQ_INT(srv_origin_classify(p, "https://x.example", 80), SRV_ORIGIN_FOREIGN);
    CHECK(srv_origin_host_ok(p, "[::1]:5"));
    srv_origin_policy_free(p);

    /* Bad settings are refused at start, naming the value. */
    const char *bad_origins[] = {"app.example", "https://", "https://a.example/path", "://x",
                                 "ht!p://x.example"};
    for (size_t i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++) {
        p = NULL;
        CHECKF(srv_origin_policy_new("127.0.0.1", true, NULL, 0, &bad_origins[i], 1, &p, &e) ==
                   HEARTH_E_ARG, "accepted origin '%s'", bad_origins[i]);
        CHECK(p == NULL);
    }
    const char *bad_host[] = {"a b"};
    CHECK(srv_origin_policy_new("127.0.0.1", true, bad_host, 1, NULL, 0, &p, &e) == HEARTH_E_ARG);
    CHECK(strstr(e.msg, "a b") != NULL);
    return test_done();
}
