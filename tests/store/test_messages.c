/* test_messages.c: sessions, messages (single, batched, queries by session,
 * time, id and last N), summaries, transactions (nesting, rollback), and
 * the change records written in the same transaction as each change. */
#include "test.h"

#include "store_util.h"

#include <stdint.h>

static int64_t count_changes(hearth_store *s, const char *table, const char *op) {
    hearth_change *c = NULL;
    size_t n = 0;
    REQUIRE(hearth_store_changes(s, 0, 0, &c, &n, NULL) == HEARTH_OK);
    int64_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].table, table) && (!op || !strcmp(c[i].op, op))) k++;
    hearth_free(c);
    return k;
}

static hearth_message msg(int64_t sid, const char *role, const char *content, int64_t t) {
    return (hearth_message){.session_id = sid, .role = role, .content = content, .created_ms = t};
}

static void test_sessions(hearth_store *s) {
    int64_t a, a2, b;
    hearth_error e;
    CHECK(hearth_store_session_find(s, "alpha", &a, &e) == HEARTH_E_NOTFOUND);
    CHECK(strstr(e.msg, "alpha") != NULL);
    CHECK(hearth_store_session_ensure(s, "alpha", &a, NULL) == HEARTH_OK);
    CHECK(hearth_store_session_ensure(s, "alpha", &a2, NULL) == HEARTH_OK);
    CHECK_EQ_INT(a, a2);
    CHECK(hearth_store_session_ensure(s, "beta", &b, NULL) == HEARTH_OK);
    CHECK(a != b);
    CHECK(hearth_store_session_find(s, "beta", &a2, NULL) == HEARTH_OK && a2 == b);
    CHECK(hearth_store_session_ensure(s, "", &a2, NULL) == HEARTH_E_ARG);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(hearth_store_session_ensure(s, longname, &a2, NULL) == HEARTH_E_ARG);
    CHECK_EQ_INT(count_changes(s, "sessions", "insert"), 2);

    hearth_message m = msg(b, "user", "hi beta", 0);
    CHECK(hearth_store_message_add(s, &m, NULL, NULL) == HEARTH_OK);
    hearth_session *ls = NULL;
    size_t n = 0;
    CHECK(hearth_store_session_list(s, &ls, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(ls[0].name, "beta"); /* most recently updated first */
        CHECK_EQ_INT(ls[0].n_messages, 1);
        CHECK_STR(ls[1].name, "alpha");
        CHECK_EQ_INT(ls[1].n_messages, 0);
        CHECK(ls[0].version == 1 && ls[0].created_ms > 0);
    }
    hearth_free(ls);

    /* summaries */
    char *text = NULL;
    int64_t through = -1;
    CHECK(hearth_store_summary_get(s, a, &text, &through, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_summary_set(s, a, "they greeted", 41, NULL) == HEARTH_OK);
    CHECK(hearth_store_summary_get(s, a, &text, &through, NULL) == HEARTH_OK);
    CHECK_STR(text, "they greeted");
    CHECK_EQ_INT(through, 41);
    hearth_free(text);
    CHECK(hearth_store_summary_set(s, 999, "x", 1, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_summary_get(s, 999, &text, NULL, NULL) == HEARTH_E_NOTFOUND);
    CHECK_EQ_INT(count_changes(s, "sessions", "update"), 1);

    /* clear keeps the session, drops messages and summary; delete drops all */
    CHECK(hearth_store_session_clear(s, b, NULL) == HEARTH_OK);
    CHECK(hearth_store_session_find(s, "beta", &a2, NULL) == HEARTH_OK);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = b;
    hearth_message *ms = NULL;
    CHECK(hearth_store_messages(s, &q, &ms, &n, NULL) == HEARTH_OK && n == 0 && ms == NULL);
    CHECK_EQ_INT(count_changes(s, "messages", "delete"), 1);
    CHECK(hearth_store_session_clear(s, a, NULL) == HEARTH_OK);
    CHECK(hearth_store_summary_get(s, a, &text, NULL, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_session_delete(s, b, NULL) == HEARTH_OK);
    CHECK(hearth_store_session_find(s, "beta", &a2, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_session_delete(s, b, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_session_clear(s, b, NULL) == HEARTH_E_NOTFOUND);
    CHECK_EQ_INT(count_changes(s, "sessions", "delete"), 1);
}

static void test_messages(hearth_store *s) {
    int64_t a, b;
    REQUIRE(hearth_store_session_ensure(s, "m-a", &a, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_session_ensure(s, "m-b", &b, NULL) == HEARTH_OK);
    int64_t before = count_changes(s, "messages", "insert");

    /* 10 messages in a, at times 1000..1009; 5 in b at 2000..2004 */
    hearth_message batch[15];
    char texts[15][16];
    for (int i = 0; i < 15; i++) {
        snprintf(texts[i], sizeof texts[i], "text %d", i);
        batch[i] = msg(i < 10 ? a : b, i % 2 ? "assistant" : "user", texts[i],
                       i < 10 ? 1000 + i : 2000 + i - 10);
        batch[i].n_tokens = i;
    }
    batch[3].model = "tiny-model";
    int64_t ids[15];
    CHECK(hearth_store_message_add_batch(s, batch, 15, ids, NULL) == HEARTH_OK);
    for (int i = 1; i < 15; i++) CHECK(ids[i] > ids[i - 1]);
    CHECK_EQ_INT(count_changes(s, "messages", "insert") - before, 15);

    hearth_message *m = NULL;
    size_t n = 0;
    hearth_message_query q = hearth_message_query_default();
    q.session_id = a;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 10);
    for (size_t i = 0; i < n && i < 10; i++) {
        CHECK_EQ_INT(m[i].id, ids[i]);
        CHECK_STR(m[i].content, texts[i]);
        CHECK_STR(m[i].role, i % 2 ? "assistant" : "user");
        CHECK_EQ_INT(m[i].n_tokens, (long long)i);
        CHECK_EQ_INT(m[i].created_ms, 1000 + (long long)i);
        CHECK_EQ_INT(m[i].session_id, a);
        CHECK(i == 3 ? m[i].model && !strcmp(m[i].model, "tiny-model") : m[i].model == NULL);
    }
    hearth_free(m);

    /* last N, oldest first */
    q.last_n = 3;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_STR(m[0].content, "text 7");
        CHECK_STR(m[2].content, "text 9");
    }
    hearth_free(m);

    /* time range [1002, 1005) */
    q = hearth_message_query_default();
    q.session_id = a;
    q.since_ms = 1002;
    q.until_ms = 1005;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) CHECK(m[0].created_ms == 1002 && m[2].created_ms == 1004);
    hearth_free(m);

    /* all sessions, a time range spanning both */
    q = hearth_message_query_default();
    q.since_ms = 1008;
    q.until_ms = 2002;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 4);
    hearth_free(m);

    /* id bound */
    q = hearth_message_query_default();
    q.after_id = ids[12];
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 2);
    hearth_free(m);

    /* get by id */
    hearth_message *one = NULL;
    CHECK(hearth_store_message_get(s, ids[3], &one, NULL) == HEARTH_OK);
    CHECK(one && !strcmp(one->content, "text 3") && !strcmp(one->model, "tiny-model"));
    hearth_free(one);
    CHECK(hearth_store_message_get(s, 987654, &one, NULL) == HEARTH_E_NOTFOUND && !one);

    /* errors: unknown session, missing role; a failing batch adds nothing */
    hearth_error e;
    hearth_message bad = msg(424242, "user", "x", 0);
    CHECK(hearth_store_message_add(s, &bad, NULL, &e) == HEARTH_E_NOTFOUND);
    bad = msg(a, NULL, "x", 0);
    CHECK(hearth_store_message_add(s, &bad, NULL, NULL) == HEARTH_E_ARG);
    hearth_message two[2] = {msg(a, "user", "ok", 0), msg(424242, "user", "orphan", 0)};
    int64_t n_before = count_changes(s, "messages", "insert");
    CHECK(hearth_store_message_add_batch(s, two, 2, NULL, NULL) == HEARTH_E_NOTFOUND);
    CHECK_EQ_INT(count_changes(s, "messages", "insert"), n_before);
    q = hearth_message_query_default();
    q.session_id = a;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK && n == 10);
    hearth_free(m);
    /* content with NUL-free UTF-8 and quotes round-trips */
    hearth_message u = msg(a, "user", "caf\xc3\xa9 'quoted' \"dq\" %_\\", 0);
    int64_t uid;
    CHECK(hearth_store_message_add(s, &u, &uid, NULL) == HEARTH_OK);
    CHECK(hearth_store_message_get(s, uid, &one, NULL) == HEARTH_OK);
    CHECK(one && !strcmp(one->content, u.content) && one->created_ms > 1000000000000LL);
    hearth_free(one);
}

/* Explicit transactions: rollback drops rows and their change records;
 * nested rollback drops only the inner part. */
static void test_transactions(hearth_store *s) {
    int64_t sid;
    REQUIRE(hearth_store_session_ensure(s, "tx", &sid, NULL) == HEARTH_OK);
    hearth_change *c = NULL;
    size_t nc0 = 0, nc1 = 0;
    REQUIRE(hearth_store_changes(s, 0, 0, &c, &nc0, NULL) == HEARTH_OK);
    int64_t last_seq = nc0 ? c[nc0 - 1].seq : 0;
    hearth_free(c);

    CHECK(hearth_store_commit(s, NULL) == HEARTH_E_STATE);
    CHECK(hearth_store_rollback(s, NULL) == HEARTH_E_STATE);

    CHECK(hearth_store_begin(s, NULL) == HEARTH_OK);
    hearth_message m = msg(sid, "user", "rolled back", 0);
    CHECK(hearth_store_message_add(s, &m, NULL, NULL) == HEARTH_OK);
    hearth_task t = {.title = "rolled back task"};
    CHECK(hearth_store_task_add(s, &t, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_rollback(s, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_changes(s, last_seq, 0, &c, &nc1, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nc1, 0);
    hearth_free(c);

    /* nested: outer keeps "kept", inner "dropped" rolled back */
    CHECK(hearth_store_begin(s, NULL) == HEARTH_OK);
    m.content = "kept";
    int64_t kept_id, drop_id;
    CHECK(hearth_store_message_add(s, &m, &kept_id, NULL) == HEARTH_OK);
    CHECK(hearth_store_begin(s, NULL) == HEARTH_OK);
    m.content = "dropped";
    CHECK(hearth_store_message_add(s, &m, &drop_id, NULL) == HEARTH_OK);
    CHECK(hearth_store_rollback(s, NULL) == HEARTH_OK);
    /* a failing call inside the transaction leaves it usable */
    hearth_message bad = msg(999999, "user", "x", 0);
    CHECK(hearth_store_message_add(s, &bad, NULL, NULL) == HEARTH_E_NOTFOUND);
    m.content = "also kept";
    CHECK(hearth_store_message_add(s, &m, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_commit(s, NULL) == HEARTH_OK);

    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *ms = NULL;
    size_t n = 0;
    CHECK(hearth_store_messages(s, &q, &ms, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(ms[0].content, "kept");
        CHECK_STR(ms[1].content, "also kept");
    }
    hearth_free(ms);
    /* exactly two change records, for exactly those two rows */
    REQUIRE(hearth_store_changes(s, last_seq, 0, &c, &nc1, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nc1, 2);
    if (nc1 == 2) {
        CHECK(!strcmp(c[0].table, "messages") && !strcmp(c[0].op, "insert") && c[0].key == kept_id);
        CHECK(c[1].seq > c[0].seq && c[1].version == 1);
    }
    hearth_free(c);
    /* paging through the log */
    REQUIRE(hearth_store_changes(s, 0, 3, &c, &nc1, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nc1, 3);
    hearth_free(c);
    /* closing with an open transaction rolls it back (checked by reopening) */
    CHECK(hearth_store_begin(s, NULL) == HEARTH_OK);
    m.content = "never committed";
    CHECK(hearth_store_message_add(s, &m, NULL, NULL) == HEARTH_OK);
}

int main(void) {
    const char *path = tu_path("messages.db");
    hearth_store *s = tu_open(path);
    test_sessions(s);
    test_messages(s);
    test_transactions(s);
    hearth_store_free(s);
    s = tu_open(path);
    int64_t sid;
    REQUIRE(hearth_store_session_find(s, "tx", &sid, NULL) == HEARTH_OK);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *ms = NULL;
    size_t n = 0;
    CHECK(hearth_store_messages(s, &q, &ms, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 2);
    hearth_free(ms);
    /* the change log matches the tables: every message insert logged */
    hearth_store_free(s);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM"
                                  " changes c WHERE c.tbl = 'messages' AND c.key = m.id AND"
                                  " c.op = 'insert')"),
                 0);
    return test_done();
}
