/*
 * test_server_rate.c: the sync server's per-device token buckets
 * (src/sync/server_rate.c): a burst passes, the next request is refused with
 * the seconds until a token is back, tokens come back at the rate (time is
 * passed in, so nothing here waits), devices do not share buckets, the table
 * grows past its first size, and rate 0 turns limiting off.
 */
#include "sync/server_rate.h"
#include "test.h"

#include <stdio.h>

int main(void) {
    ssrv_rate *r = ssrv_rate_new(2.0, 3.0); /* 2 per second, burst 3 */
    REQUIRE(r);
    int retry = -1;
    for (int i = 0; i < 3; i++) CHECK(ssrv_rate_take(r, "dev-a", 100.0, &retry));
    CHECK(!ssrv_rate_take(r, "dev-a", 100.0, &retry));
    CHECK_EQ_INT(retry, 1); /* half a second, rounded up */
    CHECK(ssrv_rate_take(r, "dev-b", 100.0, &retry)); /* its own bucket */
    CHECK(!ssrv_rate_take(r, "dev-a", 100.2, &retry));
    CHECK(ssrv_rate_take(r, "dev-a", 100.5, &retry)); /* one token back */
    CHECK(!ssrv_rate_take(r, "dev-a", 100.5, &retry));
    /* A long pause refills only up to the burst. */
    int got = 0;
    for (int i = 0; i < 10; i++) got += ssrv_rate_take(r, "dev-a", 1000.0, &retry);
    CHECK_EQ_INT(got, 3);
    /* Many devices: each gets its full burst (the table grows). */
    char id[32];
    int passed = 0;
    for (int d = 0; d < 500; d++) {
        snprintf(id, sizeof id, "many-%d", d);
        for (int i = 0; i < 4; i++) passed += ssrv_rate_take(r, id, 2000.0, &retry);
    }
    CHECK_EQ_INT(passed, 500 * 3);
    ssrv_rate_free(r);

    /* A slow rate: Retry-After is the whole seconds to the next token. */
    r = ssrv_rate_new(0.2, 1.0);
    REQUIRE(r);
    CHECK(ssrv_rate_take(r, "d", 0.0, &retry));
    CHECK(!ssrv_rate_take(r, "d", 1.0, &retry));
    CHECK_EQ_INT(retry, 4);
    ssrv_rate_free(r);

    r = ssrv_rate_new(0.0, 1.0);
    REQUIRE(r);
    for (int i = 0; i < 1000; i++) CHECK(ssrv_rate_take(r, "d", 0.0, &retry));
    ssrv_rate_free(r);
    ssrv_rate_free(NULL);
    return test_done();
}
