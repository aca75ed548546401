/*
 * test_audit.c: the audit log (store/audit.c) and the answer provenance of
 * messages (schema migration 3): records round-trip with every field,
 * optional fields stay NULL, bad fields are refused, list by time and last
 * N; the audit log writes no change records (it never syncs); a message's
 * source and confidence round-trip and are absent when not given, also for
 * a message added after one that had them on the same handle.
 */
#include "store_util.h"
#include "test.h"

#include <math.h>

int main(void) {
    hearth_store *s = tu_open(tu_path("a.db"));
    hearth_error e = {0};
    long long changes0 = tu_sql_int(tu_path("a.db"), "SELECT count(*) FROM changes");

    hearth_audit_record r = {.time_ms = 1000, .kind = "cloud", .session = "default",
                             .category = "general", .decision = "sent",
                             .reason = "confidence 0.05 < 0.50; general: allow",
                             .host = "api.example.com", .bytes_out = 321, .bytes_in = 654,
                             .redactions_json = "{\"EMAIL\":2,\"PHONE\":1}", .confidence = 0.05,
                             .latency_ms = 12.5, .outcome = "ok", .content = NULL};
    int64_t id1, id2, id3;
    REQUIRE(hearth_store_audit_add(s, &r, &id1, &e) == HEARTH_OK);
    hearth_audit_record bare = {.kind = "cloud", .category = "health", .decision = "blocked",
                                .reason = "health: never", .confidence = -1, .latency_ms = -1};
    REQUIRE(hearth_store_audit_add(s, &bare, &id2, &e) == HEARTH_OK);
    r.time_ms = 3000;
    r.content = "what left: [EMAIL_1]";
    REQUIRE(hearth_store_audit_add(s, &r, &id3, &e) == HEARTH_OK);

    hearth_audit_record *got;
    REQUIRE(hearth_store_audit_get(s, id1, &got, &e) == HEARTH_OK);
    CHECK_STR(got->kind, "cloud");
    CHECK_STR(got->session, "default");
    CHECK_STR(got->host, "api.example.com");
    CHECK_STR(got->redactions_json, "{\"EMAIL\":2,\"PHONE\":1}");
    CHECK_STR(got->reason, r.reason);
    CHECK_STR(got->outcome, "ok");
    CHECK(got->content == NULL);
    CHECK_EQ_INT(got->bytes_out, 321);
    CHECK_EQ_INT(got->bytes_in, 654);
    CHECK_EQ_INT(got->time_ms, 1000);
    CHECK(fabs(got->confidence - 0.05) < 1e-9 && fabs(got->latency_ms - 12.5) < 1e-9);
    hearth_free(got);
    REQUIRE(hearth_store_audit_get(s, id2, &got, &e) == HEARTH_OK);
    CHECK(got->session == NULL && got->host == NULL && got->outcome == NULL);
    CHECK_STR(got->redactions_json, "{}");
    CHECK(got->confidence == -1 && got->latency_ms == -1);
    CHECK(got->time_ms > 1000); /* now */
    hearth_free(got);
    CHECK(hearth_store_audit_get(s, 999, &got, &e) == HEARTH_E_NOTFOUND);

    hearth_audit_record *list;
    size_t n;
    REQUIRE(hearth_store_audit_list(s, 0, 0, &list, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) CHECK_STR(list[2].content, "what left: [EMAIL_1]");
    hearth_free(list);
    REQUIRE(hearth_store_audit_list(s, 2000, 0, &list, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(n, 2); /* id2 (now) and id3 (3000) */
    hearth_free(list);
    REQUIRE(hearth_store_audit_list(s, 0, 1, &list, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_INT(list[0].id, id3);
    hearth_free(list);

    /* refused fields */
    hearth_audit_record bad = r;
    bad.redactions_json = "[1,2]";
    CHECK(hearth_store_audit_add(s, &bad, NULL, &e) == HEARTH_E_ARG);
    bad.redactions_json = "{not json";
    CHECK(hearth_store_audit_add(s, &bad, NULL, &e) == HEARTH_E_ARG);
    bad = r;
    bad.kind = NULL;
    CHECK(hearth_store_audit_add(s, &bad, NULL, &e) == HEARTH_E_ARG);
    bad = r;
    bad.bytes_out = -1;
    CHECK(hearth_store_audit_add(s, &bad, NULL, &e) == HEARTH_E_ARG);
    CHECK_EQ_INT(tu_sql_int(tu_path("a.db"), "SELECT count(*) FROM audit"), 3);
    CHECK_EQ_INT(tu_sql_int(tu_path("a.db"), "SELECT count(*) FROM changes"), changes0);

    /* message provenance */
    int64_t sid, ids[4];
    REQUIRE(hearth_store_session_ensure(s, "p", &sid, &e) == HEARTH_OK);
    hearth_message m[2] = {
        {.session_id = sid, .role = "user", .content = "hi"},
        {.session_id = sid, .role = "assistant", .content = "hello", .model = "demo",
         .source = "cloud", .confidence = 0.25},
    };
    REQUIRE(hearth_store_message_add_batch(s, m, 2, ids, &e) == HEARTH_OK);
    REQUIRE(hearth_store_message_add_batch(s, m, 2, ids + 2, &e) == HEARTH_OK);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *msgs;
    REQUIRE(hearth_store_messages(s, &q, &msgs, &n, &e) == HEARTH_OK);
    REQUIRE(n == 4);
    for (int i = 0; i < 4; i += 2) {
        CHECKF(msgs[i].source == NULL && msgs[i].model == NULL && msgs[i].confidence == -1,
               "message %d: source %s model %s", i, msgs[i].source ? msgs[i].source : "NULL",
               msgs[i].model ? msgs[i].model : "NULL");
        CHECK_STR(msgs[i + 1].source, "cloud");
        CHECK_STR(msgs[i + 1].model, "demo");
        CHECK(fabs(msgs[i + 1].confidence - 0.25) < 1e-9);
    }
    hearth_free(msgs);
    hearth_message *one;
    REQUIRE(hearth_store_message_get(s, ids[1], &one, &e) == HEARTH_OK);
    CHECK_STR(one->source, "cloud");
    hearth_free(one);
    hearth_store_free(s);
    return test_done();
}
