/* test_hlc.c: the hybrid logical clock (src/sync/hlc.c): local ticks,
 * receives, a wall clock that steps back, counter carry, and the device-id
 * tiebreak; and UUIDv7 ids (src/util/uuid.c). */
#include "test.h"

#include "sync/hlc.h"
#include "util/uuid.h"

#include <stdint.h>

static void test_tick(void) {
    int64_t h = sync_hlc_tick(0, 1000);
    CHECK_EQ_INT(SYNC_HLC_WALL(h), 1000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(h), 0);
    /* same millisecond: the counter moves */
    int64_t h2 = sync_hlc_tick(h, 1000);
    CHECK(h2 > h);
    CHECK_EQ_INT(SYNC_HLC_WALL(h2), 1000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(h2), 1);
    /* the wall clock steps back: still forward */
    int64_t h3 = sync_hlc_tick(h2, 10);
    CHECK(h3 > h2);
    CHECK_EQ_INT(SYNC_HLC_WALL(h3), 1000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(h3), 2);
    /* time moves on: the counter restarts */
    int64_t h4 = sync_hlc_tick(h3, 2000);
    CHECK_EQ_INT(SYNC_HLC_WALL(h4), 2000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(h4), 0);
    /* a full counter carries into the wall part and stays monotonic */
    int64_t full = SYNC_HLC_MAKE(5000, 0xFFFF);
    int64_t c = sync_hlc_tick(full, 5000);
    CHECK(c > full);
    CHECK_EQ_INT(SYNC_HLC_WALL(c), 5001);
    CHECK_EQ_INT(SYNC_HLC_COUNT(c), 0);
    /* 100000 ticks within one millisecond never repeat or go back */
    int64_t last = SYNC_HLC_MAKE(7000, 0);
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t n = sync_hlc_tick(last, 7000);
        bad += n <= last;
        last = n;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_recv(void) {
    int64_t local = SYNC_HLC_MAKE(1000, 3);
    /* remote ahead of both clocks: take its wall, count past it */
    int64_t remote = SYNC_HLC_MAKE(5000, 7);
    int64_t r = sync_hlc_recv(local, remote, 2000);
    CHECK(r > local && r > remote);
    CHECK_EQ_INT(SYNC_HLC_WALL(r), 5000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(r), 8);
    /* same wall time on both: past the larger counter */
    r = sync_hlc_recv(SYNC_HLC_MAKE(5000, 9), SYNC_HLC_MAKE(5000, 4), 100);
    CHECK_EQ_INT(SYNC_HLC_WALL(r), 5000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(r), 10);
    /* local ahead */
    r = sync_hlc_recv(SYNC_HLC_MAKE(6000, 2), SYNC_HLC_MAKE(5000, 40), 100);
    CHECK_EQ_INT(SYNC_HLC_WALL(r), 6000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(r), 3);
    /* the physical clock ahead of both: counter 0 */
    r = sync_hlc_recv(SYNC_HLC_MAKE(6000, 2), SYNC_HLC_MAKE(5000, 40), 9000);
    CHECK_EQ_INT(SYNC_HLC_WALL(r), 9000);
    CHECK_EQ_INT(SYNC_HLC_COUNT(r), 0);
    /* a change after a receive orders after the received one (causality) */
    int64_t after = sync_hlc_tick(sync_hlc_recv(0, remote, 10), 10);
    CHECK(after > remote);
}

static void test_cmp(void) {
    CHECK(sync_hlc_cmp(5, "a", 6, "a") < 0);
    CHECK(sync_hlc_cmp(7, "a", 6, "z") > 0);
    /* equal clocks: the device id decides, the same way on every device */
    CHECK(sync_hlc_cmp(6, "0193-a", 6, "0193-b") < 0);
    CHECK(sync_hlc_cmp(6, "0193-b", 6, "0193-a") > 0);
    CHECK(sync_hlc_cmp(6, "x", 6, "x") == 0);
}

static void test_uuid(void) {
    char a[HEARTH_UUID_LEN + 1], b[HEARTH_UUID_LEN + 1];
    REQUIRE(hearth_uuid7(1700000000123, a));
    CHECK_EQ_INT(strlen(a), 36);
    CHECK(hearth_uuid7_valid(a));
    CHECK_EQ_INT(hearth_uuid7_ms(a), 1700000000123);
    CHECK(a[14] == '7');
    CHECK(strchr("89ab", a[19]) != NULL);
    /* ids of later times sort after earlier ones; same time: distinct */
    REQUIRE(hearth_uuid7(1700000000124, b));
    CHECK(strcmp(a, b) < 0);
    int dup = 0, invalid = 0;
    char prev[HEARTH_UUID_LEN + 1] = "";
    for (int i = 0; i < 10000; i++) {
        REQUIRE(hearth_uuid7(1700000000123, b));
        invalid += !hearth_uuid7_valid(b);
        dup += !strcmp(prev, b) || !strcmp(a, b);
        memcpy(prev, b, sizeof b);
    }
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(invalid, 0);
    /* now (0) is after 2020 */
    REQUIRE(hearth_uuid7(0, b));
    CHECK(hearth_uuid7_ms(b) > 1577836800000LL);
    /* rejected forms */
    CHECK(!hearth_uuid7_valid(NULL));
    CHECK(!hearth_uuid7_valid(""));
    CHECK(!hearth_uuid7_valid("018bcfe5-68a4-4d2c-8f37-5b5e2c8f1a00")); /* version 4 */
    CHECK(!hearth_uuid7_valid("018bcfe5-68a4-7d2c-cf37-5b5e2c8f1a00")); /* variant 110x */
    CHECK(!hearth_uuid7_valid("018BCFE5-68A4-7D2C-8F37-5B5E2C8F1A00")); /* upper case */
    CHECK(!hearth_uuid7_valid("018bcfe5068a4-7d2c-8f37-5b5e2c8f1a00"));
    CHECK(hearth_uuid7_valid("018bcfe5-68a4-7d2c-8f37-5b5e2c8f1a00"));
    CHECK_EQ_INT(hearth_uuid7_ms("nope"), -1);
}

int main(void) {
    test_tick();
    test_recv();
    test_cmp();
    test_uuid();
    return test_done();
}
