/* test_schema.c: opening the store (data directory, permissions, pragmas),
 * schema migrations, and refusing newer, foreign or non-SQLite files
 * without changing them. */
#include "test.h"

#include "store_util.h"

#include "store/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static void test_default_dir(void) {
    char home[1024];
    snprintf(home, sizeof home, "%s/home/a/b", tu_tmpdir());
    setenv("HEARTH_HOME", home, 1);
    char buf[1024];
    CHECK(hearth_store_default_dir(buf, sizeof buf, NULL) == HEARTH_OK);
    CHECK_STR(buf, home);
    char small[4];
    CHECK(hearth_store_default_dir(small, sizeof small, NULL) == HEARTH_E_LIMIT);

    hearth_store *s = NULL;
    hearth_error e;
    CHECK(hearth_store_open(NULL, &s, &e) == HEARTH_OK);
    REQUIRE(s);
    char want[1100];
    snprintf(want, sizeof want, "%s/hearth.db", home);
    CHECK_STR(hearth_store_path(s), want);
    struct stat sb;
    CHECK(stat(home, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    CHECK(stat(want, &sb) == 0 && (sb.st_mode & 0077) == 0);
    hearth_store_free(s);
    CHECK_EQ_INT(tu_sql_int(want, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(tu_sql_int(want, "PRAGMA application_id"), STORE_APP_ID);
    unsetenv("HEARTH_HOME");

    /* data_dir param wins over the environment */
    hearth_store_params p = hearth_store_default_params();
    char dd[1100];
    snprintf(dd, sizeof dd, "%s/explicit", tu_tmpdir());
    p.data_dir = dd;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_OK);
    CHECK(s && strstr(hearth_store_path(s), "/explicit/hearth.db"));
    hearth_store_free(s);
}

static void test_pragmas(void) {
    const char *path = tu_path("pragmas.db");
    hearth_store *s = tu_open(path);
    sqlite3_stmt *q;
    REQUIRE(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    REQUIRE(sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(q, 0), 2); /* FULL */
    sqlite3_finalize(q);
    REQUIRE(sqlite3_prepare_v2(s->db, "PRAGMA foreign_keys", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    hearth_store_free(s);
    /* sync_full = false: NORMAL */
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    p.sync_full = false;
    REQUIRE(hearth_store_open(&p, &s, NULL) == HEARTH_OK);
    REQUIRE(sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    hearth_store_free(s);
}

/* A database built at version 1 (an older hearth) is upgraded on open and
 * keeps its rows. */
static void test_upgrade(void) {
    const char *path = tu_path("v1.db");
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    hearth_error e;
    CHECK(store_migrate(db, path, 1, &e) == HEARTH_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('old', 1, 1);"
                       "INSERT INTO messages(session_id, role, content, created_ms)"
                       " VALUES (1, 'user', 'from v1', 5);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'embeddings'"), 0);

    hearth_store *s = tu_open(path);
    int64_t sid = 0;
    CHECK(hearth_store_session_find(s, "old", &sid, NULL) == HEARTH_OK);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *m = NULL;
    size_t n = 0;
    CHECK(hearth_store_messages(s, &q, &m, &n, NULL) == HEARTH_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_STR(m[0].content, "from v1");
    hearth_free(m);
    /* the v2 tables work */
    float v[3] = {1, 2, 3};
    CHECK(hearth_store_embedding_put(s, "message", 1, sid, "m", v, 3, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_put(s, "k", "v", 1, NULL) == HEARTH_OK);
    hearth_store_free(s);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION);
    /* the change log written by v1 triggers is intact */
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM changes WHERE tbl = 'messages'"), 1);

    /* migrate refuses targets out of range */
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_migrate(db, path, HEARTH_STORE_SCHEMA_VERSION + 1, NULL) == HEARTH_E_ARG);
    CHECK(store_migrate(db, path, 1, NULL) == HEARTH_OK); /* never downgrades */
    sqlite3_close(db);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION);
}

/* A version-3 database (before sync) is upgraded in place to global ids:
 * every existing session, message and task gets a distinct UUIDv7 made from
 * its creation time, the backfill writes no change records and marks nothing
 * for sync, and rows added afterwards get a gid from the store. */
static void test_upgrade_gid(void) {
    const char *path = tu_path("v3.db");
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_migrate(db, path, 3, NULL) == HEARTH_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('s3', 1700000000000, 1);"
                       "INSERT INTO messages(session_id, role, content, created_ms)"
                       " VALUES (1, 'user', 'a', 1700000000001), (1, 'assistant', 'b', 1700000000001);"
                       "INSERT INTO tasks(title, created_ms, updated_ms) VALUES ('t3', 1700000000002, 1);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    long long changes_before = tu_sql_int(path, "SELECT count(*) FROM changes");
    CHECK_EQ_INT(changes_before, 4);

    hearth_store *s = tu_open(path);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM changes"), changes_before);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM sync_dirty"), 0);
    /* every row has a well-formed, distinct UUIDv7 carrying its creation time */
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM (SELECT gid FROM sessions UNION ALL"
                                  " SELECT gid FROM messages UNION ALL SELECT gid FROM tasks)"
                                  " WHERE gid IS NULL OR length(gid) != 36 OR substr(gid, 15, 1) != '7'"
                                  " OR substr(gid, 20, 1) NOT IN ('8', '9', 'a', 'b')"
                                  " OR gid != lower(gid)"), 0);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(DISTINCT gid) FROM messages"), 2);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM tasks WHERE substr(gid, 1, 8) ||"
                                  " substr(gid, 10, 4) = printf('%012x', created_ms)"), 1);
    /* the unique index holds */
    CHECK(tu_sql_int(path, "UPDATE messages SET gid = (SELECT min(gid) FROM messages) RETURNING 1") == -1);
    /* new rows get a gid from the store's code and are marked for sync */
    hearth_task t = {.title = "after"};
    int64_t id = 0;
    CHECK(hearth_store_task_add(s, &t, &id, NULL) == HEARTH_OK);
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM tasks t JOIN sync_dirty d ON d.gid = t.gid"
                          " WHERE t.id = %lld AND d.op = 'upsert' AND length(t.gid) = 36", (long long)id);
    CHECK_EQ_INT(tu_sql_int(path, q), 1);
    hearth_store_free(s);
    /* a row written by another program without a gid still gets one */
    CHECK_EQ_INT(tu_sql_int(path, "INSERT INTO tasks(title, created_ms, updated_ms)"
                                  " VALUES ('raw', 5, 5) RETURNING 1"), 1);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM tasks WHERE title = 'raw' AND length(gid) = 36"), 1);
}

/* A database from a newer hearth: a clear error, and not one byte changes. */
static void test_newer_refused(void) {
    const char *path = tu_path("newer.db");
    hearth_store *s = tu_open(path);
    int64_t sid;
    CHECK(hearth_store_session_ensure(s, "keep", &sid, NULL) == HEARTH_OK);
    hearth_store_free(s);
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", HEARTH_STORE_SCHEMA_VERSION + 1);
    CHECK(sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    size_t n0, n1;
    char *before = slurp(path, &n0);
    REQUIRE(before);
    hearth_error e;
    s = NULL;
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_UNSUPPORTED);
    CHECK(s == NULL);
    CHECK(strstr(e.msg, "newer") != NULL);
    CHECK(strstr(e.msg, path) != NULL);
    char *after = slurp(path, &n1);
    CHECK(after && n0 == n1 && memcmp(before, after, n0) == 0);
    /* still in rollback-journal mode: WAL was not switched on */
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), HEARTH_STORE_SCHEMA_VERSION + 1);
    free(before);
    free(after);
}

/* The same for a newer database still in WAL mode, with its log not yet
 * folded in: the database file and the log both stay as they were. */
static void test_newer_wal_refused(void) {
    const char *path = tu_path("newer-wal.db");
    hearth_store *s = tu_open(path);
    hearth_store_free(s);
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; CREATE TABLE newer_feature(x);",
             HEARTH_STORE_SCHEMA_VERSION + 5);
    /* keep the log: no checkpoint when this connection closes */
    CHECK(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", path);
    size_t n0, n1, w0, w1;
    char *before = slurp(path, &n0), *wbefore = slurp(wal, &w0);
    REQUIRE(before && wbefore && w0 > 0);
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_error e;
    s = NULL;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_UNSUPPORTED && s == NULL);
    CHECK(strstr(e.msg, "newer") != NULL);
    char *after = slurp(path, &n1), *wafter = slurp(wal, &w1);
    CHECK(after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(wafter && w0 == w1 && memcmp(wbefore, wafter, w0) == 0);
    free(before);
    free(after);
    free(wbefore);
    free(wafter);
}

/* A negative schema version (user_version is signed; no hearth writes
 * one) is a corrupt or foreign database, not one from a newer hearth: a
 * clear error, HEARTH_E_FORMAT, and not one byte changes. */
static void test_negative_version_refused(void) {
    const char *path = tu_path("negative.db");
    hearth_store *s = tu_open(path);
    int64_t sid;
    CHECK(hearth_store_session_ensure(s, "keep", &sid, NULL) == HEARTH_OK);
    hearth_store_free(s);
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = -1", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), -1);

    size_t n0, n1;
    char *before = slurp(path, &n0);
    REQUIRE(before);
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_error e;
    s = NULL;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_FORMAT);
    CHECK(s == NULL);
    CHECKF(strstr(e.msg, "newer") == NULL, "message: %s", e.msg);
    CHECKF(strstr(e.msg, "invalid schema version -1") != NULL, "message: %s", e.msg);
    CHECKF(strstr(e.msg, "corrupt") != NULL, "message: %s", e.msg);
    CHECK(strstr(e.msg, path) != NULL);
    char *after = slurp(path, &n1);
    CHECK(after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), -1);
    free(before);
    free(after);
    /* store_migrate refuses it the same way */
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_migrate(db, path, HEARTH_STORE_SCHEMA_VERSION, NULL) == HEARTH_E_FORMAT);
    sqlite3_close(db);
}

/* A data directory and store files left group/world readable (an older
 * hearth, a copy, a wide umask) are tightened on open to the owner's bits;
 * a new store is private from the start. */
static void test_permissions_tightened(void) {
    char dir[1100], db[1200], wal[1300], shm[1300];
    snprintf(dir, sizeof dir, "%s/wide", tu_tmpdir());
    snprintf(db, sizeof db, "%s/hearth.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);
    hearth_store_params p = hearth_store_default_params();
    p.data_dir = dir;
    hearth_store *s = NULL;
    REQUIRE(hearth_store_open(&p, &s, NULL) == HEARTH_OK);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    CHECK(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(shm, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    /* no temporary file is left next to the database */
    char tmpglob[1300];
    snprintf(tmpglob, sizeof tmpglob, "ls '%s' | grep -q 'new-'", dir);
    CHECK(system(tmpglob) != 0);

    /* widen everything while a handle is open (so -wal/-shm exist), then
     * open a second handle: it tightens all four */
    REQUIRE(chmod(dir, 0755) == 0 && chmod(db, 0644) == 0 && chmod(wal, 0664) == 0 &&
            chmod(shm, 0666) == 0);
    hearth_store *s2 = NULL;
    REQUIRE(hearth_store_open(&p, &s2, NULL) == HEARTH_OK);
    CHECKF(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "dir %o", sb.st_mode & 0777);
    CHECKF(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600, "db %o", sb.st_mode & 0777);
    CHECKF(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600, "wal %o", sb.st_mode & 0777);
    CHECKF(stat(shm, &sb) == 0 && (sb.st_mode & 0777) == 0600, "shm %o", sb.st_mode & 0777);
    /* both still work */
    int64_t a, b;
    CHECK(hearth_store_session_ensure(s, "x", &a, NULL) == HEARTH_OK);
    CHECK(hearth_store_session_ensure(s2, "x", &b, NULL) == HEARTH_OK);
    CHECK_EQ_INT(a, b);
    hearth_store_free(s2);
    hearth_store_free(s);

    /* a store opened by path (not data_dir) is tightened too */
    REQUIRE(chmod(db, 0640) == 0);
    p.path = db;
    p.data_dir = NULL;
    REQUIRE(hearth_store_open(&p, &s, NULL) == HEARTH_OK);
    CHECKF(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600, "db %o", sb.st_mode & 0777);
    hearth_store_free(s);
}

static void test_foreign_refused(void) {
    /* another program's SQLite database */
    const char *path = tu_path("foreign.db");
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE theirs(x); INSERT INTO theirs VALUES (42);", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_store *s = NULL;
    hearth_error e;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_FORMAT);
    CHECK(strstr(e.msg, "another program") != NULL);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM sqlite_schema"), 1);
    CHECK_EQ_INT(tu_sql_int(path, "PRAGMA user_version"), 0);

    /* a non-hearth application id */
    path = tu_path("appid.db");
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA application_id = 7", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    p.path = path;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_FORMAT);
    CHECK(strstr(e.msg, "not a hearth database") != NULL);

    /* not SQLite at all */
    path = tu_path("text.db");
    write_file(path, "this is a text file, certainly not a database, but long enough to have a header"
                     " of one hundred bytes or so, which SQLite reads first............\n");
    size_t n0, n1;
    char *before = slurp(path, &n0);
    p.path = path;
    CHECK(hearth_store_open(&p, &s, &e) == HEARTH_E_FORMAT);
    CHECK(s == NULL);
    char *after = slurp(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);

    /* a directory that cannot be made */
    write_file(tu_path("file"), "x");
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/file/sub", tu_tmpdir());
    hearth_store_params p2 = hearth_store_default_params();
    p2.data_dir = bad;
    CHECK(hearth_store_open(&p2, &s, &e) == HEARTH_E_IO);
    CHECK(s == NULL);
}

/* Two handles on one file: the second sees the first's commits. */
static void test_two_handles(void) {
    const char *path = tu_path("two.db");
    hearth_store *a = tu_open(path), *b = tu_open(path);
    int64_t ida, idb;
    CHECK(hearth_store_session_ensure(a, "shared", &ida, NULL) == HEARTH_OK);
    CHECK(hearth_store_session_ensure(b, "shared", &idb, NULL) == HEARTH_OK);
    CHECK_EQ_INT(ida, idb);
    CHECK(hearth_store_setting_set(a, "k", "v1", NULL) == HEARTH_OK);
    char *v = NULL;
    CHECK(hearth_store_setting_get(b, "k", &v, NULL) == HEARTH_OK);
    CHECK_STR(v, "v1");
    hearth_free(v);
    /* a writer holding the lock makes the other wait, then fail after the
     * busy timeout with a clear error rather than hang */
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    p.busy_timeout_ms = 50;
    hearth_store *c = NULL;
    CHECK(hearth_store_open(&p, &c, NULL) == HEARTH_OK);
    CHECK(hearth_store_begin(a, NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_set(a, "k", "v2", NULL) == HEARTH_OK);
    hearth_error e;
    CHECK(hearth_store_setting_set(c, "k", "v3", &e) == HEARTH_E_IO);
    CHECK(strstr(e.msg, "locked") != NULL);
    CHECK(hearth_store_commit(a, NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_set(c, "k", "v3", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_get(b, "k", &v, NULL) == HEARTH_OK);
    CHECK_STR(v, "v3");
    hearth_free(v);
    hearth_store_free(c);
    hearth_store_free(b);
    hearth_store_free(a);
    hearth_store_free(NULL);
}

int main(void) {
    test_default_dir();
    test_pragmas();
    test_upgrade();
    test_upgrade_gid();
    test_newer_refused();
    test_newer_wal_refused();
    test_negative_version_refused();
    test_permissions_tightened();
    test_foreign_refused();
    test_two_handles();
    return test_done();
}
