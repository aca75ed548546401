/* test_upgrade.c: a store from before sync (schema version 3, rows written
 * by an older hearth) is upgraded in place and syncs: its rows get gids,
 * enabling a collection queues every existing row, the dump shows them;
 * the device id is made once and kept; rows written while a pull is applied
 * (sync_applying) are not taken for local changes, rows written otherwise
 * are. */
#include "test.h"

#include "store/store_int.h"
#include "sync/client_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static long long q1(hearth_store *s, const char *sql) {
    sqlite3_stmt *q;
    long long v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/hearth-sync-upgrade-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    REQUIRE(mkdtemp(dir));
    char path[320];
    snprintf(path, sizeof path, "%s/hearth.db", dir);
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    REQUIRE(store_migrate(db, path, 3, NULL) == HEARTH_OK);
    REQUIRE(sqlite3_exec(db,
                         "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('old chat', 10, 10);"
                         "INSERT INTO messages(session_id, role, content, created_ms) VALUES (1, 'user', 'old words', 11);"
                         "INSERT INTO tasks(title, created_ms, updated_ms) VALUES ('old task', 12, 12);"
                         "INSERT INTO settings(key, value) VALUES ('theme', 'dark'), ('sync_resolve_tasks', 'manual');",
                         NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    hearth_store_params sp = hearth_store_default_params();
    sp.path = path;
    hearth_store *st = NULL;
    REQUIRE(hearth_store_open(&sp, &st, NULL) == HEARTH_OK);
    CHECK_EQ_INT(q1(st, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION);
    hearth_sync_params p = hearth_sync_default_params();
    p.store = st;
    hearth_sync *s = NULL;
    hearth_error e;
    REQUIRE(hearth_sync_open(&p, &s, &e) == HEARTH_OK);
    char dev[64];
    snprintf(dev, sizeof dev, "%s", s->device);
    CHECK_EQ_INT(strlen(dev), 36);
    /* the rule of a collection is a device-local setting */
    CHECK_EQ_INT(sync_rule_of(s, "tasks"), SYNC_RULE_MANUAL);
    CHECK_EQ_INT(sync_rule_of(s, "settings"), SYNC_RULE_LWW);
    CHECK(!sync_setting_shared("sync_resolve_tasks"));
    CHECK(!sync_setting_shared("cloud_api_key"));
    CHECK(!sync_setting_shared("model_sha256:abc"));
    CHECK(sync_setting_shared("theme"));
    CHECK(!sync_setting_shared("has space"));

    /* nothing is queued before enabling; enabling queues what exists */
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM sync_dirty"), 0);
    CHECK(hearth_sync_enable(s, "tasks", true, NULL) == HEARTH_OK);
    CHECK(hearth_sync_enable(s, "conversations", true, NULL) == HEARTH_OK);
    CHECK(hearth_sync_enable(s, "settings", true, NULL) == HEARTH_OK);
    CHECK(hearth_sync_enable(s, "embeddings", true, NULL) == HEARTH_E_ARG);
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM sync_dirty"), 5);
    char *out = NULL;
    REQUIRE(hearth_sync_status_json(s, &out, NULL) == HEARTH_OK);
    json_t *j = json_loads(out, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "pending")), 5);
    CHECK(json_is_false(json_object_get(j, "paired")));
    json_decref(j);
    hearth_free(out);
    REQUIRE(hearth_sync_dump_json(s, &out, NULL) == HEARTH_OK);
    j = json_loads(out, 0, NULL);
    json_t *t0 = json_array_get(json_object_get(j, "tasks"), 0);
    CHECK_STR(json_string_value(json_object_get(t0, "title")), "old task");
    CHECK_EQ_INT(json_string_length(json_object_get(t0, "gid")), 36);
    CHECK(!json_object_get(t0, "id") && !json_object_get(t0, "created_ms"));
    json_t *m0 = json_array_get(json_object_get(json_object_get(j, "conversations"), "messages"), 0);
    CHECK_STR(json_string_value(json_object_get(m0, "session")), "old chat");
    CHECK_STR(json_string_value(json_object_get(m0, "content")), "old words");
    /* device-local settings are not in the dump */
    CHECK_EQ_INT(json_array_size(json_object_get(j, "settings")), 1);
    json_decref(j);
    hearth_free(out);
    /* running without pairing is a clear error */
    hearth_sync_report r;
    CHECK(hearth_sync_run(s, &r, &e) == HEARTH_E_STATE);
    CHECK(strstr(e.msg, "not paired") != NULL);

    /* a write made while applying a pull is not a local change */
    CHECK(hearth_store_begin(st, NULL) == HEARTH_OK);
    CHECK(sync_applying(s, true, NULL) == HEARTH_OK);
    json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:n, s:[s], s:n}", "title", "pulled", "notes", "",
                          "status", "open", "priority", 2, "due_ms", "tags", "x", "payload");
    CHECK(sync_row_write(s, "tasks", "0193aaaa-0000-7000-8000-000000000001", c, NULL) == HEARTH_OK);
    CHECK(sync_applying(s, false, NULL) == HEARTH_OK);
    CHECK(hearth_store_commit(st, NULL) == HEARTH_OK);
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM sync_dirty WHERE gid = '0193aaaa-0000-7000-8000-000000000001'"), 0);
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM sync_applying"), 0);
    json_t *back = NULL;
    CHECK(sync_row_content(s, "tasks", "0193aaaa-0000-7000-8000-000000000001", &back, NULL) == HEARTH_OK);
    CHECK(back && json_equal(back, c));
    json_decref(back);
    /* the same write outside a pull is */
    json_object_set_new(c, "title", json_string("edited here"));
    CHECK(sync_row_write(s, "tasks", "0193aaaa-0000-7000-8000-000000000001", c, NULL) == HEARTH_OK);
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM sync_dirty WHERE gid = '0193aaaa-0000-7000-8000-000000000001'"), 1);
    /* untrusted content: wrong types take defaults, a bad status is refused */
    json_t *bad = json_pack("{s:i, s:s, s:s, s:s}", "title", 5, "status", "DROP TABLE", "priority", "x", "tags", "nope");
    CHECK(sync_row_write(s, "tasks", "0193aaaa-0000-7000-8000-000000000002", bad, NULL) == HEARTH_OK);
    CHECK_EQ_INT(q1(st, "SELECT count(*) FROM tasks WHERE gid = '0193aaaa-0000-7000-8000-000000000002'"
                        " AND title = '(untitled)' AND status = 'open' AND priority = 0 AND tags = '[]'"), 1);
    json_decref(bad);
    json_decref(c);
    hearth_sync_free(s);

    /* the device id is kept */
    REQUIRE(hearth_sync_open(&p, &s, NULL) == HEARTH_OK);
    CHECK_STR(s->device, dev);
    hearth_sync_free(s);
    hearth_store_free(st);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_done();
}
