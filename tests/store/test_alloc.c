/* test_alloc.c: allocation failure in the store. For each operation, the
 * Nth of hearth's allocations is made to fail, for every N until the
 * operation no longer reaches it: the call must report HEARTH_E_NOMEM (or
 * succeed), leak nothing (ASan), and leave the handle working: the same
 * call then gives the right answer. */
#include "test.h"

#include "store_util.h"

#include "store/store_int.h"
#include "util/alloc.h"

#include <math.h>

static hearth_store *g;
static int64_t g_sid;

/* Each op returns its status; check() verifies the full result when the op
 * succeeded. */
typedef hearth_status (*op_fn)(bool check);

static hearth_status op_open(bool check) {
    hearth_store_params p = hearth_store_default_params();
    p.path = tu_path("alloc.db");
    hearth_store *s = NULL;
    hearth_status st = hearth_store_open(&p, &s, NULL);
    if (st) CHECK(s == NULL);
    if (check) CHECK(st == HEARTH_OK && s);
    hearth_store_free(s);
    return st;
}

static hearth_status op_tasks(bool check) {
    hearth_task_query q = hearth_task_query_default();
    q.text = "task";
    hearth_task *t = NULL;
    size_t n = 99;
    hearth_status st = hearth_store_tasks(g, &q, &t, &n, NULL);
    if (st) CHECK(t == NULL && n == 0);
    if (check) {
        CHECK(st == HEARTH_OK && n == 3);
        for (size_t i = 0; i < n; i++) CHECK(t[i].n_tags == 2 && !strcmp(t[i].tags[1], "b"));
    }
    hearth_free(t);
    return st;
}

static hearth_status op_messages(bool check) {
    hearth_message_query q = hearth_message_query_default();
    q.session_id = g_sid;
    hearth_message *m = NULL;
    size_t n = 0;
    hearth_status st = hearth_store_messages(g, &q, &m, &n, NULL);
    if (check) CHECK(st == HEARTH_OK && n == 5 && !strcmp(m[4].content, "message 4"));
    hearth_free(m);
    return st;
}

static hearth_status op_update(bool check) {
    const char *tags[] = {"a", "b"};
    hearth_task t = {.id = 1, .title = "task 0", .tags = tags, .n_tags = 2};
    hearth_status st = hearth_store_task_update(g, &t, NULL, NULL);
    if (check) CHECK(st == HEARTH_OK);
    return st;
}

static hearth_status op_search(bool check) {
    vec_index_clear(&g->vecs); /* every call loads the index again */
    float q[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    hearth_embedding_hit h[3];
    size_t n = 0;
    hearth_status st = hearth_store_embedding_search(g, "m", NULL, 0, q, 8, 3, h, &n, NULL);
    if (check) CHECK(st == HEARTH_OK && n == 3 && h[0].owner_id == 0 && fabsf(h[0].score - 1) < 1e-6f);
    return st;
}

/* A write after the index is loaded: the commit refreshes the index. */
static hearth_status op_put_then_search(bool check) {
    float v[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    hearth_status st = hearth_store_embedding_put(g, "x", 77, 0, "m", v, 8, NULL, NULL);
    if (st) return st;
    hearth_embedding_hit h[1];
    size_t n = 0;
    st = hearth_store_embedding_search(g, "m", NULL, 0, v, 8, 1, h, &n, NULL);
    if (check) CHECK(st == HEARTH_OK && n == 1 && h[0].owner_id == 77);
    return st;
}

static hearth_status op_cache(bool check) {
    char *r = NULL;
    size_t len = 0;
    hearth_status st = hearth_store_cache_get(g, "key", &r, &len, NULL);
    if (check) CHECK(st == HEARTH_OK && r && len == 5 && !strcmp(r, "value"));
    hearth_free(r);
    return st;
}

static hearth_status op_misc(bool check) {
    char *v = NULL;
    hearth_status st = hearth_store_setting_get(g, "k", &v, NULL);
    if (check) CHECK(st == HEARTH_OK && v && !strcmp(v, "v"));
    hearth_free(v);
    if (st) return st;
    hearth_session *ss = NULL;
    size_t n = 0;
    st = hearth_store_session_list(g, &ss, &n, NULL);
    if (check) CHECK(st == HEARTH_OK && n == 1 && !strcmp(ss[0].name, "s"));
    hearth_free(ss);
    if (st) return st;
    hearth_change *c = NULL;
    st = hearth_store_changes(g, 0, 0, &c, &n, NULL);
    if (check) CHECK(st == HEARTH_OK && n > 0);
    hearth_free(c);
    if (st) return st;
    char *sum = NULL;
    st = hearth_store_summary_get(g, g_sid, &sum, NULL, NULL);
    if (check) CHECK(st == HEARTH_OK && sum && !strcmp(sum, "summary"));
    hearth_free(sum);
    return st;
}

static void sweep(const char *name, op_fn op) {
    long n;
    int nomem = 0;
    for (n = 1; n < 10000; n++) {
        hearth_alloc_fail_after(n);
        hearth_status st = op(false);
        long made = hearth_alloc_fail_after(0);
        CHECKF(st == HEARTH_OK || st == HEARTH_E_NOMEM, "%s: allocation %ld failed -> status %d", name,
               n, (int)st);
        if (st == HEARTH_E_NOMEM) nomem++;
        op(true); /* the handle still works and answers correctly */
        if (made < n) break; /* the nth allocation was never reached */
    }
    fprintf(stderr, "%-18s %3ld allocation points, %d reported out of memory\n", name, n - 1, nomem);
    CHECK(n > 1 && nomem > 0);
}

int main(void) {
    g = tu_open(tu_path("alloc.db"));
    REQUIRE(hearth_store_session_ensure(g, "s", &g_sid, NULL) == HEARTH_OK);
    const char *tags[] = {"a", "b"};
    for (int i = 0; i < 3; i++) {
        char title[16];
        snprintf(title, sizeof title, "task %d", i);
        hearth_task t = {.title = title, .tags = tags, .n_tags = 2};
        REQUIRE(hearth_store_task_add(g, &t, NULL, NULL) == HEARTH_OK);
    }
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "message %d", i);
        hearth_message m = {.session_id = g_sid, .role = "user", .content = text};
        REQUIRE(hearth_store_message_add(g, &m, NULL, NULL) == HEARTH_OK);
    }
    for (int i = 0; i < 6; i++) {
        float v[8] = {0};
        v[i] = 1;
        REQUIRE(hearth_store_embedding_put(g, "x", i, 0, "m", v, 8, NULL, NULL) == HEARTH_OK);
    }
    REQUIRE(hearth_store_cache_put(g, "key", "value", 5, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_setting_set(g, "k", "v", NULL) == HEARTH_OK);
    REQUIRE(hearth_store_summary_set(g, g_sid, "summary", 3, NULL) == HEARTH_OK);

    sweep("open", op_open);
    sweep("tasks", op_tasks);
    sweep("messages", op_messages);
    sweep("task update", op_update);
    sweep("search (load)", op_search);
    sweep("put + search", op_put_then_search);
    sweep("cache get", op_cache);
    sweep("settings/list/log", op_misc);
    hearth_store_free(g);
    return test_done();
}
