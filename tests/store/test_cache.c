/* test_cache.c: the response cache (hits, LRU eviction under entry and
 * byte limits, clear), settings, storage sizes and vacuum. */
#include "test.h"

#include "store_util.h"

static bool has(hearth_store *s, const char *key) {
    char *r = NULL;
    hearth_status st = hearth_store_cache_get(s, key, &r, NULL, NULL);
    hearth_free(r);
    return st == HEARTH_OK;
}

static void test_cache(const char *path) {
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    p.cache_max_entries = 3;
    p.cache_max_bytes = 0; /* unlimited */
    hearth_store *s = NULL;
    REQUIRE(hearth_store_open(&p, &s, NULL) == HEARTH_OK);

    char *r = NULL;
    size_t len = 0;
    hearth_error e;
    CHECK(hearth_store_cache_get(s, "k1", &r, &len, &e) == HEARTH_E_NOTFOUND && r == NULL);
    CHECK(hearth_store_cache_put(s, "k1", "answer one", 10, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_get(s, "k1", &r, &len, NULL) == HEARTH_OK);
    CHECK(r && len == 10 && !strcmp(r, "answer one"));
    hearth_free(r);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT hits FROM response_cache WHERE key = 'k1'"), 1);
    CHECK(tu_sql_int(path, "SELECT last_used_ms FROM response_cache WHERE key = 'k1'") > 0);

    /* k1 k2 k3, then use k1, then add k4: k2 (least recently used) goes */
    CHECK(hearth_store_cache_put(s, "k2", "two", 3, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_put(s, "k3", "three", 5, NULL) == HEARTH_OK);
    CHECK(has(s, "k1"));
    CHECK(hearth_store_cache_put(s, "k4", "four", 4, NULL) == HEARTH_OK);
    int64_t entries = 0, bytes = 0;
    CHECK(hearth_store_cache_stats(s, &entries, &bytes, NULL) == HEARTH_OK);
    CHECK_EQ_INT(entries, 3);
    CHECK_EQ_INT(bytes, (2 + 10) + (2 + 5) + (2 + 4));
    CHECK(!has(s, "k2"));
    CHECK(has(s, "k3") && has(s, "k1") && has(s, "k4"));
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM response_cache"), 3);

    /* replacing an entry keeps the count, updates bytes, resets hits */
    CHECK(hearth_store_cache_put(s, "k3", "3", 1, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_stats(s, &entries, &bytes, NULL) == HEARTH_OK);
    CHECK(entries == 3 && bytes == 12 + 3 + 6);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT hits FROM response_cache WHERE key = 'k3'"), 0);
    /* totals agree with the table */
    CHECK_EQ_INT(tu_sql_int(path, "SELECT sum(size) FROM response_cache"), bytes);

    /* byte limit: LRU order now k1 k4 k3 (oldest first) */
    CHECK(hearth_store_cache_set_limits(s, 0, 10, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_stats(s, &entries, &bytes, NULL) == HEARTH_OK);
    CHECK(entries == 2 && bytes == 9);
    CHECK(!has(s, "k1") && has(s, "k4") && has(s, "k3"));
    CHECK(hearth_store_cache_put(s, "big", "0123456789", 10, &e) == HEARTH_E_LIMIT);
    CHECK(!has(s, "big"));
    CHECK(hearth_store_cache_put(s, "k5", "12345", 5, NULL) == HEARTH_OK); /* 7 bytes: k4 goes, k3 stays */
    CHECK(hearth_store_cache_stats(s, &entries, &bytes, NULL) == HEARTH_OK);
    CHECK(entries == 2 && bytes == 10);
    CHECK(!has(s, "k4") && has(s, "k3") && has(s, "k5"));
    /* a binary response round-trips */
    CHECK(hearth_store_cache_set_limits(s, 100, 1000, NULL) == HEARTH_OK);
    const char bin[5] = {'a', 0, 'b', 0, 'c'};
    CHECK(hearth_store_cache_put(s, "bin", bin, 5, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_get(s, "bin", &r, &len, NULL) == HEARTH_OK);
    CHECK(r && len == 5 && !memcmp(r, bin, 5) && r[5] == 0);
    hearth_free(r);
    /* clear */
    CHECK(hearth_store_cache_clear(s, NULL) == HEARTH_OK);
    CHECK(hearth_store_cache_stats(s, &entries, &bytes, NULL) == HEARTH_OK);
    CHECK(entries == 0 && bytes == 0);
    CHECK(!has(s, "k3"));
    CHECK(hearth_store_cache_get(s, "", &r, NULL, NULL) == HEARTH_E_ARG);
    /* limits survive heavy churn: 200 puts under a 50-entry limit */
    CHECK(hearth_store_cache_set_limits(s, 50, 0, NULL) == HEARTH_OK);
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "c%d", i);
        CHECK(hearth_store_cache_put(s, k, k, strlen(k), NULL) == HEARTH_OK);
    }
    CHECK(hearth_store_cache_stats(s, &entries, NULL, NULL) == HEARTH_OK && entries == 50);
    CHECK(has(s, "c199") && has(s, "c150") && !has(s, "c149"));
    hearth_store_free(s);
}

static void test_settings(hearth_store *s) {
    char *v = NULL;
    CHECK(hearth_store_setting_get(s, "theme", &v, NULL) == HEARTH_E_NOTFOUND && v == NULL);
    CHECK(hearth_store_setting_set(s, "theme", "dark", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_set(s, "theme", "light", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_get(s, "theme", &v, NULL) == HEARTH_OK);
    CHECK_STR(v, "light");
    hearth_free(v);
    CHECK(hearth_store_setting_set(s, "empty", "", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_get(s, "empty", &v, NULL) == HEARTH_OK);
    CHECK_STR(v, "");
    hearth_free(v);
    CHECK(hearth_store_setting_unset(s, "theme", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_unset(s, "theme", NULL) == HEARTH_OK);
    CHECK(hearth_store_setting_get(s, "theme", &v, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_setting_set(s, "", "x", NULL) == HEARTH_E_ARG);
    CHECK(hearth_store_setting_set(s, "k", NULL, NULL) == HEARTH_E_ARG);
}

static const hearth_store_table_stat *table(const hearth_store_stats *st, const char *name) {
    for (size_t i = 0; i < st->n_tables; i++)
        if (!strcmp(st->tables[i].name, name)) return &st->tables[i];
    return NULL;
}

static void test_stats(hearth_store *s) {
    int64_t sid;
    REQUIRE(hearth_store_session_ensure(s, "big", &sid, NULL) == HEARTH_OK);
    static char text[2000];
    memset(text, 'x', sizeof text - 1);
    hearth_message m[200];
    for (int i = 0; i < 200; i++) m[i] = (hearth_message){.session_id = sid, .role = "user", .content = text};
    REQUIRE(hearth_store_message_add_batch(s, m, 200, NULL, NULL) == HEARTH_OK);
    hearth_store_stats st;
    CHECK(hearth_store_stats_get(s, &st, NULL) == HEARTH_OK);
    const hearth_store_table_stat *msgs = table(&st, "messages"), *tasks = table(&st, "tasks");
    REQUIRE(msgs && tasks && table(&st, "embeddings") && table(&st, "response_cache") &&
            table(&st, "settings") && table(&st, "changes") && table(&st, "sessions"));
    CHECK_EQ_INT(msgs->rows, 200);
    CHECK(msgs->bytes >= 200 * 2000); /* dbstat, indexes included */
    CHECK(tasks->rows == 0 && tasks->bytes > 0 && tasks->bytes < msgs->bytes);
    CHECK(st.page_size >= 512 && st.file_bytes + st.wal_bytes >= msgs->bytes);

    /* vacuum after deleting reclaims the space */
    CHECK(hearth_store_session_delete(s, sid, NULL) == HEARTH_OK);
    CHECK(hearth_store_stats_get(s, &st, NULL) == HEARTH_OK);
    CHECK(st.free_pages > 0);
    CHECK(hearth_store_begin(s, NULL) == HEARTH_OK);
    CHECK(hearth_store_vacuum(s, NULL) == HEARTH_E_STATE);
    CHECK(hearth_store_rollback(s, NULL) == HEARTH_OK);
    hearth_error e;
    hearth_status vs = hearth_store_vacuum(s, &e);
    if (vs) fprintf(stderr, "vacuum: %s\n", e.msg);
    CHECK(vs == HEARTH_OK);
    hearth_store_stats after;
    CHECK(hearth_store_stats_get(s, &after, NULL) == HEARTH_OK);
    CHECK_EQ_INT(after.free_pages, 0);
    CHECK_EQ_INT(after.wal_bytes, 0);
    CHECK(after.file_bytes < 200 * 2000);
    CHECK(table(&after, "messages")->rows == 0);
}

int main(void) {
    test_cache(tu_path("cache.db"));
    hearth_store *s = tu_open(tu_path("settings.db"));
    test_settings(s);
    test_stats(s);
    hearth_store_free(s);
    return test_done();
}
