/*
 * test_proto.c: the sync protocol module (src/sync/proto.c, base64.c):
 * every message survives encode -> parse unchanged; each malformed field is
 * refused with HEARTH_E_FORMAT naming it (and its change index); bodies,
 * change counts and payloads over the limits are HEARTH_E_LIMIT; the strict
 * base64 codec refuses every non-canonical spelling.
 */
#include "sync/base64.h"
#include "sync/proto.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_base64(void) {
    uint8_t in[64], out[64];
    char enc[128];
    for (size_t n = 0; n < sizeof in; n++) {
        for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(i * 37 + n);
        sync_b64_encode(in, n, enc);
        CHECK_EQ_INT(strlen(enc), sync_b64_encoded_len(n));
        size_t got = 99;
        CHECK(sync_b64_decode(enc, strlen(enc), out, &got));
        CHECK_EQ_INT(got, n);
        CHECK(!memcmp(in, out, n));
    }
    sync_b64_encode((const uint8_t *)"foobar", 6, enc);
    CHECK_STR(enc, "Zm9vYmFy");
    sync_b64_encode((const uint8_t *)"fo", 2, enc);
    CHECK_STR(enc, "Zm8=");
    sync_b64url_encode((const uint8_t *)"\xfb\xff", 2, enc);
    CHECK_STR(enc, "-_8");
    const char *bad[] = {"Zm8", "Zm8==", "Zm9=", "Zg=A", "Z===", "Zm 8", "Zm-8", "Zm_8",
                         "====", "Zm8=Zm8=", "Zh==", "\xff\xff\xff\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t got;
        CHECKF(!sync_b64_decode(bad[i], strlen(bad[i]), out, &got), "accepted '%s'", bad[i]);
    }
}

static void test_ids(void) {
    CHECK(sync_id_valid("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
    CHECK(sync_id_valid("theme.dark:x_y"));
    CHECK(!sync_id_valid(""));
    CHECK(!sync_id_valid("a b"));
    CHECK(!sync_id_valid("a/b"));
    CHECK(!sync_id_valid("\xc3\xa9"));
    char long_id[SYNC_MAX_ID + 2];
    memset(long_id, 'a', sizeof long_id);
    long_id[SYNC_MAX_ID] = '\0';
    CHECK(sync_id_valid(long_id));
    long_id[SYNC_MAX_ID] = 'a';
    long_id[SYNC_MAX_ID + 1] = '\0';
    CHECK(!sync_id_valid(long_id));
}

static void test_push_roundtrip(void) {
    uint8_t p1[] = {0, 1, 2, 255, 254, 'x'};
    sync_change ch[3] = {
        {.change_id = 17, .collection = "tasks", .row = "0193-a", .op = SYNC_OP_UPSERT,
         .base_version = 3, .hlc = INT64_MAX, .payload = p1, .payload_len = sizeof p1},
        {.change_id = 18, .collection = "tasks", .row = "0193-b", .op = SYNC_OP_DELETE,
         .base_version = 2, .hlc = 1},
        {.change_id = 19, .collection = "conversations", .row = "m1", .op = SYNC_OP_APPEND,
         .base_version = 0, .hlc = 0, .payload = p1, .payload_len = 1},
    };
    sync_push m = {ch, 3};
    char *s;
    size_t n;
    hearth_error e;
    REQUIRE(sync_push_encode(&m, &s, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(strlen(s), n);
    sync_push q;
    REQUIRE(sync_push_parse(s, n, &q, &e) == HEARTH_OK);
    CHECK_EQ_INT(q.n, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(q.changes[i].change_id, ch[i].change_id);
        CHECK_STR(q.changes[i].collection, ch[i].collection);
        CHECK_STR(q.changes[i].row, ch[i].row);
        CHECK_EQ_INT(q.changes[i].op, ch[i].op);
        CHECK_EQ_INT(q.changes[i].base_version, ch[i].base_version);
        CHECK_EQ_INT(q.changes[i].hlc, ch[i].hlc);
        CHECK_EQ_INT(q.changes[i].payload_len, ch[i].payload_len);
        CHECK((q.changes[i].payload == NULL) == (ch[i].payload == NULL));
        if (ch[i].payload) CHECK(!memcmp(q.changes[i].payload, ch[i].payload, ch[i].payload_len));
    }
    sync_push_free(&q);
    sync_push_free(&q); /* idempotent on a freed message */
    free(s);

    /* An empty push is valid. */
    REQUIRE(sync_push_parse("{\"changes\":[]}", 14, &q, &e) == HEARTH_OK);
    CHECK_EQ_INT(q.n, 0);
    sync_push_free(&q);

    /* Encoder refuses what the parser would refuse. */
    sync_change badc = ch[0];
    strcpy(badc.row, "has space");
    sync_push bm = {&badc, 1};
    CHECK(sync_push_encode(&bm, &s, &n, &e) == HEARTH_E_ARG);
    badc = ch[1];
    badc.payload = p1;
    badc.payload_len = 1;
    CHECK(sync_push_encode(&bm, &s, &n, &e) == HEARTH_E_ARG);
}

/* Parses body as a push and checks the status and that the message names
 * `field`. */
static void push_bad(const char *body, hearth_status want, const char *field) {
    sync_push q;
    hearth_error e = {0};
    hearth_status st = sync_push_parse(body, strlen(body), &q, &e);
    CHECKF(st == want, "%s: status %d, want %d (%s)", body, st, want, e.msg);
    if (field) CHECKF(strstr(e.msg, field) != NULL, "%s: message '%s' lacks '%s'", body, e.msg, field);
    if (st == HEARTH_OK) {
        sync_push_free(&q);
        return;
    }
    CHECK_EQ_INT(q.n, 0);
    CHECK(q.changes == NULL);
}

#define GOOD0 "{\"change_id\":1,\"collection\":\"tasks\",\"row\":\"r1\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"
#define WRAP(x) "{\"changes\":[" GOOD0 "," x "]}"

static void test_push_malformed(void) {
    push_bad("", HEARTH_E_FORMAT, "JSON");
    push_bad("[]", HEARTH_E_FORMAT, "object");
    push_bad("{\"changes\":[]} x", HEARTH_E_FORMAT, "JSON");
    push_bad("{}", HEARTH_E_FORMAT, "changes");
    push_bad("{\"changes\":{}}", HEARTH_E_FORMAT, "changes");
    push_bad("{\"changes\":[],\"changes\":[]}", HEARTH_E_FORMAT, "JSON");
    push_bad(WRAP("3"), HEARTH_E_FORMAT, "changes[1]");
    /* Each field of the second change, wrong in turn. */
    push_bad(WRAP("{\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].change_id");
    push_bad(WRAP("{\"change_id\":0,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].change_id");
    push_bad(WRAP("{\"change_id\":1.5,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].change_id");
    push_bad(WRAP("{\"change_id\":\"2\",\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].change_id");
    push_bad(WRAP("{\"change_id\":99999999999999999999,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "JSON");
    push_bad(WRAP("{\"change_id\":2,\"collection\":7,\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].collection");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].collection");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"../x\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].row");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].row");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\\u0000\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, NULL);
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"merge\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].op");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":-1,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].base_version");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"append\",\"base_version\":3,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].base_version");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].hlc");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":-5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].hlc");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":null}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"\"}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"AAE\"}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":[1]}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"delete\",\"base_version\":1,\"hlc\":5,\"payload\":\"AAEC\"}"),
             HEARTH_E_FORMAT, "changes[1].payload");
    /* A valid delete: payload null or absent. */
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"delete\",\"base_version\":1,\"hlc\":5,\"payload\":null}"),
             HEARTH_OK, NULL);
    push_bad(WRAP("{\"change_id\":2,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"delete\",\"base_version\":1,\"hlc\":5}"),
             HEARTH_OK, NULL);
}

static void test_push_limits(void) {
    /* Body over the limit: refused before parsing. */
    hearth_error e;
    sync_push q;
    CHECK(sync_push_parse("{}", (size_t)SYNC_MAX_BODY + 1, &q, &e) == HEARTH_E_LIMIT);
    /* Too many changes. */
    size_t cap = 64 + (size_t)(SYNC_MAX_CHANGES + 1) * 4;
    char *b = malloc(cap);
    REQUIRE(b);
    size_t o = (size_t)snprintf(b, cap, "{\"changes\":[");
    for (int i = 0; i <= SYNC_MAX_CHANGES; i++) o += (size_t)snprintf(b + o, cap - o, "%s{}", i ? "," : "");
    o += (size_t)snprintf(b + o, cap - o, "]}");
    CHECK(sync_push_parse(b, o, &q, &e) == HEARTH_E_LIMIT);
    CHECK(strstr(e.msg, "changes") != NULL);
    free(b);
    /* A payload one byte over SYNC_MAX_PAYLOAD; one exactly at it passes. */
    for (int over = 0; over <= 1; over++) {
        size_t pn = SYNC_MAX_PAYLOAD + (size_t)over;
        uint8_t *p = calloc(1, pn);
        REQUIRE(p);
        size_t el = sync_b64_encoded_len(pn);
        char *enc = malloc(el + 1);
        REQUIRE(enc);
        sync_b64_encode(p, pn, enc);
        size_t bl = el + 200;
        char *body = malloc(bl);
        REQUIRE(body);
        int bn = snprintf(body, bl,
                          "{\"changes\":[{\"change_id\":1,\"collection\":\"tasks\",\"row\":\"r\","
                          "\"op\":\"upsert\",\"base_version\":0,\"hlc\":5,\"payload\":\"%s\"}]}",
                          enc);
        hearth_status st = sync_push_parse(body, (size_t)bn, &q, &e);
        CHECKF(st == (over ? HEARTH_E_LIMIT : HEARTH_OK), "payload %zu: %d %s", pn, st, e.msg);
        if (st == HEARTH_OK) {
            CHECK_EQ_INT(q.changes[0].payload_len, pn);
            sync_push_free(&q);
        } else {
            CHECK(strstr(e.msg, "changes[0].payload") != NULL);
        }
        free(body);
        free(enc);
        free(p);
    }
}

static void test_push_reply(void) {
    uint8_t pl[] = {9, 8, 7, 6};
    sync_result r[4] = {
        {.change_id = 17, .status = SYNC_APPLIED, .seq = 901, .version = 4},
        {.change_id = 18, .status = SYNC_DUPLICATE, .seq = 877, .version = 2},
        {.change_id = 19, .status = SYNC_CONFLICT, .kind = SYNC_CONFLICT_VERSION,
         .current = {.version = 6, .hlc = 99, .op = SYNC_OP_UPSERT, .device = "dev-b",
                     .payload = pl, .payload_len = 4}},
        {.change_id = 20, .status = SYNC_CONFLICT, .kind = SYNC_CONFLICT_UPDATE_OF_DELETED,
         .current = {.version = 7, .hlc = 100, .op = SYNC_OP_DELETE, .device = "dev-c"}},
    };
    sync_push_reply m = {.results = r, .n = 4, .server_seq = 901, .has_own = true,
                         .own_after = 880, .own_last = 901};
    char *s;
    size_t n;
    hearth_error e;
    REQUIRE(sync_push_reply_encode(&m, &s, &n, &e) == HEARTH_OK);
    sync_push_reply q;
    REQUIRE(sync_push_reply_parse(s, n, &q, &e) == HEARTH_OK);
    free(s);
    CHECK_EQ_INT(q.n, 4);
    CHECK_EQ_INT(q.server_seq, 901);
    CHECK(q.has_own);
    CHECK_EQ_INT(q.own_after, 880);
    CHECK_EQ_INT(q.own_last, 901);
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(q.results[i].change_id, r[i].change_id);
        CHECK_EQ_INT(q.results[i].status, r[i].status);
        if (r[i].status != SYNC_CONFLICT) {
            CHECK_EQ_INT(q.results[i].seq, r[i].seq);
            CHECK_EQ_INT(q.results[i].version, r[i].version);
        } else {
            CHECK_EQ_INT(q.results[i].kind, r[i].kind);
            CHECK_EQ_INT(q.results[i].current.version, r[i].current.version);
            CHECK_EQ_INT(q.results[i].current.hlc, r[i].current.hlc);
            CHECK_EQ_INT(q.results[i].current.op, r[i].current.op);
            CHECK_STR(q.results[i].current.device, r[i].current.device);
            CHECK_EQ_INT(q.results[i].current.payload_len, r[i].current.payload_len);
        }
    }
    CHECK(!memcmp(q.results[2].current.payload, pl, 4));
    sync_push_reply_free(&q);

    const char *bad[][2] = {
        {"{\"results\":[]}", "server_seq"},
        {"{\"results\":[],\"server_seq\":5,\"own_after\":4}", "own_last"},
        {"{\"results\":[],\"server_seq\":5,\"own_after\":4,\"own_last\":3}", "own_last"},
        {"{\"results\":[],\"server_seq\":5,\"own_last\":3}", "own_after"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"applied\",\"seq\":0,\"version\":1}],\"server_seq\":1}", "results[0].seq"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"ok\"}],\"server_seq\":1}", "results[0].status"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"conflict\",\"kind\":\"x\"}],\"server_seq\":1}", "results[0].kind"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"conflict\",\"kind\":\"version\"}],\"server_seq\":1}", "results[0].current"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"conflict\",\"kind\":\"version\",\"current\":{\"version\":2,\"hlc\":1,\"op\":\"upsert\",\"device\":\"d\"}}],\"server_seq\":1}", "results[0].current.payload"},
        {"{\"results\":[{\"change_id\":1,\"status\":\"conflict\",\"kind\":\"version\",\"current\":{\"version\":2,\"hlc\":1,\"op\":\"upsert\",\"device\":\"d d\",\"payload\":\"AA==\"}}],\"server_seq\":1}", "results[0].current.device"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hearth_status st = sync_push_reply_parse(bad[i][0], strlen(bad[i][0]), &q, &e);
        CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, bad[i][1]), "%s: %d %s", bad[i][0], st, e.msg);
        CHECK(q.results == NULL);
    }
}

static void test_pull_reply(void) {
    uint8_t pl[] = {1, 2, 3};
    sync_pulled c[2] = {
        {.seq = 902, .device = "dev-a", .change_id = 5, .collection = "tasks", .row = "r1",
         .op = SYNC_OP_UPSERT, .version = 5, .hlc = 77, .payload = pl, .payload_len = 3},
        {.seq = 905, .device = "dev-b", .change_id = 9, .collection = "tasks", .row = "r2",
         .op = SYNC_OP_DELETE, .version = 2, .hlc = 78},
    };
    sync_pull_reply m = {c, 2, 905, true, 950};
    char *s;
    size_t n;
    hearth_error e;
    REQUIRE(sync_pull_reply_encode(&m, &s, &n, &e) == HEARTH_OK);
    sync_pull_reply q;
    REQUIRE(sync_pull_reply_parse(s, n, &q, &e) == HEARTH_OK);
    free(s);
    CHECK_EQ_INT(q.n, 2);
    CHECK_EQ_INT(q.next, 905);
    CHECK(q.more);
    CHECK_EQ_INT(q.server_seq, 950);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ_INT(q.changes[i].seq, c[i].seq);
        CHECK_STR(q.changes[i].device, c[i].device);
        CHECK_EQ_INT(q.changes[i].change_id, c[i].change_id);
        CHECK_STR(q.changes[i].row, c[i].row);
        CHECK_EQ_INT(q.changes[i].op, c[i].op);
        CHECK_EQ_INT(q.changes[i].version, c[i].version);
        CHECK_EQ_INT(q.changes[i].hlc, c[i].hlc);
        CHECK_EQ_INT(q.changes[i].payload_len, c[i].payload_len);
    }
    CHECK(!memcmp(q.changes[0].payload, pl, 3));
    CHECK(!q.changes[0].bare && !q.changes[1].bare);
    sync_pull_reply_free(&q);

    /* a bare change (the puller's own, pulled with own=meta): no payload on
     * the wire, "bare": true, and it parses back bare */
    c[0].bare = true;
    REQUIRE(sync_pull_reply_encode(&m, &s, &n, &e) == HEARTH_OK);
    c[0].bare = false;
    CHECK(strstr(s, "\"bare\":true") != NULL);
    REQUIRE(sync_pull_reply_parse(s, n, &q, &e) == HEARTH_OK);
    free(s);
    CHECK(q.changes[0].bare && q.changes[0].payload == NULL && q.changes[0].payload_len == 0);
    CHECK(!q.changes[1].bare);
    sync_pull_reply_free(&q);

#define PC(seq, extra) "{\"seq\":" #seq ",\"device\":\"d\",\"change_id\":1,\"collection\":\"tasks\",\"row\":\"r\",\"op\":\"upsert\",\"version\":1,\"hlc\":1,\"payload\":\"AA==\"" extra "}"
    const char *bad[][2] = {
        {"{\"changes\":[],\"next\":0,\"server_seq\":0}", "more"},
        {"{\"changes\":[],\"next\":0,\"more\":1,\"server_seq\":0}", "more"},
        {"{\"changes\":[" PC(5, "") "," PC(5, "") "],\"next\":5,\"more\":false,\"server_seq\":5}", "changes[1].seq"},
        {"{\"changes\":[" PC(5, "") "],\"next\":4,\"more\":false,\"server_seq\":5}", "next"},
        {"{\"changes\":[" PC(5, "") "," PC(6, ",\"version\":0") "],\"next\":6,\"more\":false,\"server_seq\":6}", "JSON"},
        {"{\"changes\":[" PC(5, ",\"bare\":true") "],\"next\":5,\"more\":false,\"server_seq\":5}", "bare change carries no payload"},
        {"{\"changes\":[" PC(5, ",\"bare\":1") "],\"next\":5,\"more\":false,\"server_seq\":5}", "bare: not a boolean"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hearth_status st = sync_pull_reply_parse(bad[i][0], strlen(bad[i][0]), &q, &e);
        CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, bad[i][1]), "%s: %d %s", bad[i][0], st, e.msg);
        CHECK(q.changes == NULL);
    }
}

static void test_register_keyinfo(void) {
    sync_register r = {.token = "abc-DEF_123", .device = "0193-dev", .name = "Alice's phone"};
    char *s;
    size_t n;
    hearth_error e;
    REQUIRE(sync_register_encode(&r, &s, &n, &e) == HEARTH_OK);
    sync_register q;
    REQUIRE(sync_register_parse(s, n, &q, &e) == HEARTH_OK);
    free(s);
    CHECK_STR(q.token, r.token);
    CHECK_STR(q.device, r.device);
    CHECK_STR(q.name, r.name);
    const char *bad[][2] = {
        {"{\"device\":\"d\"}", "token"},
        {"{\"token\":\"a b\",\"device\":\"d\"}", "token"},
        {"{\"token\":\"\",\"device\":\"d\"}", "token"},
        {"{\"token\":\"t\",\"device\":\"d/e\"}", "device"},
        {"{\"token\":\"t\",\"device\":\"d\",\"name\":\"a\\nb\"}", "name"},
        {"{\"token\":\"t\",\"device\":\"d\",\"name\":5}", "name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hearth_status st = sync_register_parse(bad[i][0], strlen(bad[i][0]), &q, &e);
        CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, bad[i][1]), "%s: %d %s", bad[i][0], st, e.msg);
    }

    sync_register_reply rr = {.device_token = "tok_-x", .user = "alice", .server_seq = 42};
    REQUIRE(sync_register_reply_encode(&rr, &s, &n, &e) == HEARTH_OK);
    sync_register_reply qr;
    REQUIRE(sync_register_reply_parse(s, n, &qr, &e) == HEARTH_OK);
    free(s);
    CHECK_STR(qr.device_token, "tok_-x");
    CHECK_STR(qr.user, "alice");
    CHECK_EQ_INT(qr.server_seq, 42);

    uint8_t check[61];
    for (size_t i = 0; i < sizeof check; i++) check[i] = (uint8_t)(i * 3);
    sync_keyinfo k = {.check = check, .check_len = sizeof check, .opslimit = 2,
                      .memlimit = 67108864};
    for (int i = 0; i < 16; i++) k.salt[i] = (uint8_t)(200 + i);
    REQUIRE(sync_keyinfo_encode(&k, &s, &n, &e) == HEARTH_OK);
    sync_keyinfo qk;
    REQUIRE(sync_keyinfo_parse(s, n, &qk, &e) == HEARTH_OK);
    free(s);
    CHECK(!memcmp(qk.salt, k.salt, 16));
    CHECK_EQ_INT(qk.check_len, sizeof check);
    CHECK(!memcmp(qk.check, check, sizeof check));
    CHECK_EQ_INT(qk.opslimit, 2);
    CHECK_EQ_INT(qk.memlimit, 67108864);
    sync_keyinfo_free(&qk);
    const char *kbad[][2] = {
        {"{\"salt\":\"AAAA\",\"check\":\"AAAA\",\"opslimit\":1,\"memlimit\":1}", "salt"},
        {"{\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"opslimit\":1,\"memlimit\":1}", "check"},
        {"{\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"check\":\"AAAA\",\"opslimit\":0,\"memlimit\":1}", "opslimit"},
        {"{\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"check\":\"AAAA\",\"opslimit\":1}", "memlimit"},
    };
    for (size_t i = 0; i < sizeof kbad / sizeof *kbad; i++) {
        hearth_status st = sync_keyinfo_parse(kbad[i][0], strlen(kbad[i][0]), &qk, &e);
        CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, kbad[i][1]), "%s: %d %s", kbad[i][0], st, e.msg);
        CHECK(qk.check == NULL);
    }
    /* A salt of 17 bytes is over its limit. */
    const char *b17 = "{\"salt\":\"AAAAAAAAAAAAAAAAAAAAAAA=\",\"check\":\"AAAA\",\"opslimit\":1,\"memlimit\":1}";
    hearth_status st = sync_keyinfo_parse(b17, strlen(b17), &qk, &e);
    CHECKF(st == HEARTH_E_LIMIT || st == HEARTH_E_FORMAT, "%d %s", st, e.msg);
}

static void test_status_error(void) {
    sync_status_reply m = {.user = "alice", .device = "dev-a", .server_seq = 950, .devices = 2};
    char *s;
    size_t n;
    hearth_error e;
    REQUIRE(sync_status_reply_encode(&m, &s, &n, &e) == HEARTH_OK);
    sync_status_reply q;
    REQUIRE(sync_status_reply_parse(s, n, &q, &e) == HEARTH_OK);
    free(s);
    CHECK_STR(q.user, "alice");
    CHECK_STR(q.device, "dev-a");
    CHECK_EQ_INT(q.server_seq, 950);
    CHECK_EQ_INT(q.devices, 2);
    const char *sb = "{\"user\":\"alice\",\"device\":\"dev-a\",\"server_seq\":-1,\"devices\":2}";
    CHECK(sync_status_reply_parse(sb, strlen(sb), &q, &e) == HEARTH_E_FORMAT && strstr(e.msg, "server_seq"));

    REQUIRE(sync_error_encode("quota_exceeded", "over \x01 quota \xc3\xa9", &s, &n, &e) == HEARTH_OK);
    sync_error_reply er;
    REQUIRE(sync_error_parse(s, n, &er, &e) == HEARTH_OK);
    free(s);
    CHECK_STR(er.code, "quota_exceeded");
    CHECK_STR(er.message, "over ? quota ??");
    CHECK(sync_error_encode("Bad-Code", "x", &s, &n, &e) == HEARTH_E_ARG);
    /* A long message is cut at a UTF-8 boundary. */
    char big[600];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"error\":{\"code\":\"storage\",\"message\":\"");
    for (int i = 0; i < 150; i++) o += (size_t)snprintf(big + o, sizeof big - o, "\xc3\xa9");
    o += (size_t)snprintf(big + o, sizeof big - o, "\"}}");
    REQUIRE(sync_error_parse(big, o, &er, &e) == HEARTH_OK);
    CHECK_EQ_INT(strlen(er.message), 254);
    const char *eb[] = {"{}", "{\"error\":\"x\"}", "{\"error\":{\"message\":\"m\"}}",
                        "{\"error\":{\"code\":\"A B\"}}"};
    for (size_t i = 0; i < sizeof eb / sizeof *eb; i++)
        CHECKF(sync_error_parse(eb[i], strlen(eb[i]), &er, &e) == HEARTH_E_FORMAT, "%s", eb[i]);
}

int main(void) {
    test_status_error();
    test_base64();
    test_ids();
    test_push_roundtrip();
    test_push_malformed();
    test_push_limits();
    test_push_reply();
    test_pull_reply();
    test_register_keyinfo();
    return test_done();
}
