/* test_merge.c: field-level three-way merge (src/sync/merge.c): different
 * fields merge silently, the same field is settled by each rule (lww by HLC
 * with the device-id tiebreak, server, device, manual), delete against
 * update both ways, agreement and one-sided changes, absent base. */
#include "test.h"

#include "sync/merge.h"

static json_t *J(const char *s) {
    json_t *v = json_loads(s, 0, NULL);
    REQUIRE(v);
    return v;
}

/* merged as canonical text ("null" when deleted), owned */
static char *txt(const json_t *v) {
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : strdup("null");
}

static void merge(const char *b, const char *l, const char *r, sync_rule rule, int64_t lh,
                  int64_t rh, sync_merge_out *out) {
    json_t *bj = b ? J(b) : NULL, *lj = l ? J(l) : NULL, *rj = r ? J(r) : NULL;
    REQUIRE(sync_merge(bj, lj, rj, rule, lh, "dev-b", rh, "dev-a", out, NULL) == HEARTH_OK);
    json_decref(bj);
    json_decref(lj);
    json_decref(rj);
}

#define EXPECT(out, want)                  \
    do {                                   \
        char *t_ = txt((out).merged);      \
        CHECK_STR(t_, want);               \
        free(t_);                          \
    } while (0)

static void test_disjoint(void) {
    sync_merge_out m;
    /* device changed the title, server the status and priority */
    merge("{\"title\":\"a\",\"status\":\"open\",\"priority\":0}",
          "{\"title\":\"A\",\"status\":\"open\",\"priority\":0}",
          "{\"title\":\"a\",\"status\":\"done\",\"priority\":2}", SYNC_RULE_LWW, 1, 2, &m);
    EXPECT(m, "{\"priority\":2,\"status\":\"done\",\"title\":\"A\"}");
    CHECK(!m.collided);
    CHECK(!m.pending);
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_VERSION);
    CHECK_STR(m.resolution, "merged");
    CHECK_EQ_INT(json_array_size(m.fields), 0);
    sync_merge_out_free(&m);
    /* a field added on one side and removed on the other */
    merge("{\"x\":1,\"y\":1}", "{\"x\":1,\"y\":1,\"z\":3}", "{\"x\":1}", SYNC_RULE_LWW, 1, 2, &m);
    EXPECT(m, "{\"x\":1,\"z\":3}");
    CHECK(!m.collided);
    sync_merge_out_free(&m);
}

static void test_same_field(void) {
    const char *b = "{\"title\":\"a\",\"notes\":\"n\"}";
    const char *l = "{\"title\":\"device\",\"notes\":\"n2\"}";
    const char *r = "{\"title\":\"server\",\"notes\":\"n\"}";
    sync_merge_out m;
    /* lww: the later HLC wins the collided field; other fields merge */
    merge(b, l, r, SYNC_RULE_LWW, 10, 20, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"server\"}");
    CHECK(m.collided && !m.pending);
    CHECK_STR(m.resolution, "lww-server");
    CHECK_EQ_INT(json_array_size(m.fields), 1);
    CHECK_STR(json_string_value(json_array_get(m.fields, 0)), "title");
    sync_merge_out_free(&m);
    merge(b, l, r, SYNC_RULE_LWW, 30, 20, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"device\"}");
    CHECK_STR(m.resolution, "lww-device");
    sync_merge_out_free(&m);
    /* equal clocks: the device id breaks the tie ("dev-b" > "dev-a") */
    merge(b, l, r, SYNC_RULE_LWW, 20, 20, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"device\"}");
    sync_merge_out_free(&m);
    /* server and device rules ignore the clocks */
    merge(b, l, r, SYNC_RULE_SERVER, 99, 1, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"server\"}");
    CHECK_STR(m.resolution, "server");
    sync_merge_out_free(&m);
    merge(b, l, r, SYNC_RULE_DEVICE, 1, 99, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"device\"}");
    CHECK_STR(m.resolution, "device");
    sync_merge_out_free(&m);
    /* manual: the row takes the server's value meanwhile, the user decides */
    merge(b, l, r, SYNC_RULE_MANUAL, 99, 1, &m);
    EXPECT(m, "{\"notes\":\"n2\",\"title\":\"server\"}");
    CHECK(m.collided && m.pending);
    CHECK_STR(m.resolution, "pending");
    sync_merge_out_free(&m);
    /* both made the same change: no conflict */
    merge(b, "{\"title\":\"x\",\"notes\":\"n\"}", "{\"title\":\"x\",\"notes\":\"n\"}", SYNC_RULE_MANUAL, 1, 2, &m);
    EXPECT(m, "{\"notes\":\"n\",\"title\":\"x\"}");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_NONE);
    sync_merge_out_free(&m);
}

static void test_one_side(void) {
    sync_merge_out m;
    /* only the server changed: take it, no conflict */
    merge("{\"t\":1}", "{\"t\":1}", "{\"t\":2}", SYNC_RULE_DEVICE, 9, 1, &m);
    EXPECT(m, "{\"t\":2}");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_NONE);
    sync_merge_out_free(&m);
    /* only the device changed */
    merge("{\"t\":1}", "{\"t\":3}", "{\"t\":1}", SYNC_RULE_SERVER, 1, 9, &m);
    EXPECT(m, "{\"t\":3}");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_NONE);
    sync_merge_out_free(&m);
    /* the server deleted a row the device did not change: deleted */
    merge("{\"t\":1}", "{\"t\":1}", NULL, SYNC_RULE_LWW, 1, 2, &m);
    EXPECT(m, "null");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_NONE);
    sync_merge_out_free(&m);
    /* no base (both made a row of this id): field merge against nothing */
    merge(NULL, "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":3}", SYNC_RULE_SERVER, 1, 2, &m);
    EXPECT(m, "{\"a\":1,\"b\":3}");
    CHECK(m.collided);
    sync_merge_out_free(&m);
}

static void test_delete_update(void) {
    sync_merge_out m;
    const char *b = "{\"t\":1}";
    /* the device deleted, the server updated: delete_of_updated */
    merge(b, NULL, "{\"t\":2}", SYNC_RULE_LWW, 5, 9, &m);
    EXPECT(m, "{\"t\":2}");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_DELETE_OF_UPDATED);
    CHECK(m.collided);
    sync_merge_out_free(&m);
    merge(b, NULL, "{\"t\":2}", SYNC_RULE_LWW, 9, 5, &m);
    EXPECT(m, "null");
    sync_merge_out_free(&m);
    merge(b, NULL, "{\"t\":2}", SYNC_RULE_DEVICE, 1, 9, &m);
    EXPECT(m, "null");
    sync_merge_out_free(&m);
    /* manual never deletes what the user did not confirm */
    merge(b, NULL, "{\"t\":2}", SYNC_RULE_MANUAL, 9, 1, &m);
    EXPECT(m, "{\"t\":2}");
    CHECK(m.pending);
    sync_merge_out_free(&m);
    /* the device updated, the server deleted: update_of_deleted */
    merge(b, "{\"t\":3}", NULL, SYNC_RULE_LWW, 9, 5, &m);
    EXPECT(m, "{\"t\":3}");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_UPDATE_OF_DELETED);
    sync_merge_out_free(&m);
    merge(b, "{\"t\":3}", NULL, SYNC_RULE_SERVER, 9, 5, &m);
    EXPECT(m, "null");
    CHECK_STR(m.resolution, "server");
    sync_merge_out_free(&m);
    merge(b, "{\"t\":3}", NULL, SYNC_RULE_MANUAL, 1, 5, &m);
    EXPECT(m, "{\"t\":3}");
    CHECK(m.pending);
    sync_merge_out_free(&m);
    /* both deleted: deleted, no conflict */
    merge(b, NULL, NULL, SYNC_RULE_MANUAL, 1, 5, &m);
    EXPECT(m, "null");
    CHECK_EQ_INT(m.kind, SYNC_CONFLICT_NONE);
    sync_merge_out_free(&m);
}

static void test_rules(void) {
    sync_rule r;
    CHECK(sync_rule_parse("manual", &r) && r == SYNC_RULE_MANUAL);
    CHECK(sync_rule_parse("lww", &r) && r == SYNC_RULE_LWW);
    CHECK(!sync_rule_parse("LWW", &r));
    CHECK(!sync_rule_parse(NULL, &r));
    CHECK_STR(sync_rule_name(SYNC_RULE_DEVICE), "device");
}

int main(void) {
    test_disjoint();
    test_same_field();
    test_one_side();
    test_delete_update();
    test_rules();
    return test_done();
}
