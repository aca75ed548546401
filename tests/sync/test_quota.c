/*
 * test_quota.c: the per-device storage quota holds against a stale view of
 * the device (src/sync/server_apply.c). The server authenticates a request
 * (reading the device's stored bytes) before the push's transaction takes
 * the user's lock, so two pushes of one device in flight at once both saw
 * the figure from before either: each alone fits the quota, together they
 * pass it. Here the second push is given the device record read before the
 * first committed, which is what the second of two concurrent pushes holds;
 * it must be refused (HEARTH_E_LIMIT, nothing applied) and a push that fits
 * must still pass. SQLite store on disk.
 */
#include "sync/server_apply.h"
#include "sync/server_store.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sync_change change(int64_t id, const char *row, uint8_t *payload, size_t n) {
    sync_change c = {.change_id = id, .op = SYNC_OP_UPSERT, .hlc = 1000 + id,
                     .payload = payload, .payload_len = n};
    snprintf(c.collection, sizeof c.collection, "tasks");
    snprintf(c.row, sizeof c.row, "%s", row);
    return c;
}

int main(void) {
    char dir[] = "/tmp/hearth-quota-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s/server.db", dir);
    hearth_error e;
    sstore *s = NULL;
    REQUIRE(sstore_open(url, &s, &e) == HEARTH_OK);

    char enroll[SSTORE_HASH_HEX], devtok[SSTORE_HASH_HEX], user[SYNC_MAX_ID + 1];
    sstore_hash_hex("enroll-token", enroll);
    sstore_hash_hex("device-token", devtok);
    REQUIRE(s->ops->add_token(s, "alice", enroll, &e) == HEARTH_OK);
    REQUIRE(s->ops->enroll(s, enroll, "dev-a", "laptop", devtok, user, &e) == HEARTH_OK);
    sstore_device stale;
    REQUIRE(s->ops->auth(s, devtok, &stale, &e) == HEARTH_OK);
    CHECK_EQ_INT(stale.stored_bytes, 0);

    const int64_t quota = 1000;
    uint8_t pl[600];
    memset(pl, 0x5a, sizeof pl);

    /* the first push fits: 600 of 1000 */
    sync_change c1 = change(1, "row-1", pl, sizeof pl);
    sync_push m1 = {.changes = &c1, .n = 1};
    sync_push_reply r1;
    CHECK(ssrv_push(s, &stale, &m1, quota, NULL, NULL, &r1, &e) == HEARTH_OK);
    CHECK_EQ_INT(r1.n, 1);
    CHECK_EQ_INT(r1.results[0].status, SYNC_APPLIED);
    sync_push_reply_free(&r1);

    /* the second, with the record from before the first committed, would
     * make 1200: refused, and nothing of it stored */
    sync_change c2 = change(2, "row-2", pl, sizeof pl);
    sync_push m2 = {.changes = &c2, .n = 1};
    sync_push_reply r2;
    hearth_status st = ssrv_push(s, &stale, &m2, quota, NULL, NULL, &r2, &e);
    CHECK_EQ_INT(st, HEARTH_E_LIMIT);
    if (st == HEARTH_OK) sync_push_reply_free(&r2);
    else CHECK(strstr(e.msg, "quota") != NULL);
    sstore_device now;
    REQUIRE(s->ops->auth(s, devtok, &now, &e) == HEARTH_OK);
    CHECK_EQ_INT(now.stored_bytes, 600);
    int64_t head = -1;
    REQUIRE(s->ops->server_seq(s, user, &head, &e) == HEARTH_OK);
    sync_pull_reply pr;
    REQUIRE(ssrv_pull(s, &now, 0, 100, false, &pr, &e) == HEARTH_OK);
    CHECK_EQ_INT(pr.n, 1); /* row-1 only */
    sync_pull_reply_free(&pr);

    /* a push that fits beside what is stored still passes, stale record or not */
    uint8_t small[300];
    memset(small, 0x33, sizeof small);
    sync_change c3 = change(3, "row-3", small, sizeof small);
    sync_push m3 = {.changes = &c3, .n = 1};
    sync_push_reply r3;
    CHECK(ssrv_push(s, &stale, &m3, quota, NULL, NULL, &r3, &e) == HEARTH_OK);
    sync_push_reply_free(&r3);
    REQUIRE(s->ops->auth(s, devtok, &now, &e) == HEARTH_OK);
    CHECK_EQ_INT(now.stored_bytes, 900);

    s->ops->close(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return test_done();
}
