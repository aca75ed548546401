/* test_tasks.c: tasks: add, get, update (optimistic by version), status,
 * delete, every query filter, ordering, validation, change records. */
#include "test.h"

#include "store_util.h"

#include <stdint.h>

#define DAY (86400LL * 1000)

static size_t query(hearth_store *s, const hearth_task_query *q, int64_t *ids, size_t cap) {
    hearth_task *t = NULL;
    size_t n = 0;
    hearth_error e;
    hearth_status st = hearth_store_tasks(s, q, &t, &n, &e);
    if (st) fprintf(stderr, "query: %s\n", e.msg);
    CHECK(st == HEARTH_OK);
    for (size_t i = 0; i < n && i < cap; i++) ids[i] = t[i].id;
    hearth_free(t);
    return n;
}

int main(void) {
    hearth_store *s = tu_open(tu_path("tasks.db"));
    const char *tags_home[] = {"home", "weekend"};
    const char *tags_work[] = {"work"};
    const char *tags_both[] = {"work", "home"};
    hearth_task in[] = {
        {.title = "buy milk", .notes = "2 litres", .priority = 1, .due_ms = 10 * DAY,
         .tags = tags_home, .n_tags = 2},
        {.title = "write report", .notes = "quarterly NUMBERS", .priority = 3, .due_ms = 5 * DAY,
         .tags = tags_work, .n_tags = 1, .payload_json = "{\"pages\": 12}"},
        {.title = "call mum", .priority = 2},
        {.title = "fix 100% of bugs_now", .priority = 3, .due_ms = 20 * DAY, .tags = tags_both,
         .n_tags = 2, .status = "doing"},
    };
    int64_t id[4];
    for (int i = 0; i < 4; i++) CHECK(hearth_store_task_add(s, &in[i], &id[i], NULL) == HEARTH_OK);

    /* get returns every field */
    hearth_task *t = NULL;
    CHECK(hearth_store_task_get(s, id[1], &t, NULL) == HEARTH_OK);
    REQUIRE(t);
    CHECK_STR(t->title, "write report");
    CHECK_STR(t->notes, "quarterly NUMBERS");
    CHECK_STR(t->status, "open");
    CHECK_EQ_INT(t->priority, 3);
    CHECK_EQ_INT(t->due_ms, 5 * DAY);
    CHECK_EQ_INT(t->n_tags, 1);
    if (t->n_tags == 1) CHECK_STR(t->tags[0], "work");
    CHECK_STR(t->payload_json, "{\"pages\": 12}");
    CHECK_EQ_INT(t->version, 1);
    CHECK(t->created_ms > 0 && t->updated_ms == t->created_ms);
    hearth_free(t);
    CHECK(hearth_store_task_get(s, id[2], &t, NULL) == HEARTH_OK);
    CHECK(t && t->notes && !strcmp(t->notes, "") && t->due_ms == 0 && t->n_tags == 0 &&
          t->payload_json == NULL);
    hearth_free(t);
    CHECK(hearth_store_task_get(s, 9999, &t, NULL) == HEARTH_E_NOTFOUND && !t);

    /* ordering: priority desc, due soonest first, no due last, id */
    int64_t got[8];
    hearth_task_query q = hearth_task_query_default();
    CHECK_EQ_INT(query(s, &q, got, 8), 4);
    CHECK(got[0] == id[1] && got[1] == id[3] && got[2] == id[2] && got[3] == id[0]);

    q.status = "open";
    CHECK_EQ_INT(query(s, &q, got, 8), 3);
    q.status = "doing";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[3]);

    q = hearth_task_query_default();
    q.tag = "home";
    CHECK(query(s, &q, got, 8) == 2 && got[0] == id[3] && got[1] == id[0]);
    q.tag = "weekend";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[0]);
    q.tag = "hom"; /* whole tags only */
    CHECK_EQ_INT(query(s, &q, got, 8), 0);

    q = hearth_task_query_default();
    q.priority_min = 2;
    CHECK_EQ_INT(query(s, &q, got, 8), 3);
    q.priority_max = 2;
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[2]);

    q = hearth_task_query_default();
    q.due_after_ms = 5 * DAY; /* inclusive */
    q.due_before_ms = 20 * DAY; /* exclusive; tasks without due never match */
    CHECK(query(s, &q, got, 8) == 2 && got[0] == id[1] && got[1] == id[0]);
    q.due_after_ms = 0;
    q.due_before_ms = 6 * DAY;
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[1]);

    q = hearth_task_query_default();
    q.text = "numbers"; /* case-insensitive, in notes */
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[1]);
    q.text = "MILK";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[0]);
    q.text = "100%"; /* LIKE wildcards are literal */
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[3]);
    q.text = "0%_";
    CHECK_EQ_INT(query(s, &q, got, 8), 0);
    q.text = "s_n";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[3]);
    q.text = "%";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[3]);

    /* filters combine */
    q = hearth_task_query_default();
    q.tag = "work";
    q.status = "open";
    q.text = "report";
    q.priority_min = 3;
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[1]);
    q = hearth_task_query_default();
    q.limit = 2;
    CHECK_EQ_INT(query(s, &q, got, 8), 2);

    /* status and versions */
    CHECK(hearth_store_task_set_status(s, id[0], "done", NULL) == HEARTH_OK);
    CHECK(hearth_store_task_set_status(s, 9999, "done", NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_task_set_status(s, id[0], "Done!", NULL) == HEARTH_E_ARG);
    q = hearth_task_query_default();
    q.status = "done";
    CHECK(query(s, &q, got, 8) == 1 && got[0] == id[0]);
    CHECK(hearth_store_task_get(s, id[0], &t, NULL) == HEARTH_OK);
    CHECK(t && t->version == 2 && !strcmp(t->status, "done"));
    hearth_free(t);

    /* update replaces fields; the version guards against lost updates */
    const char *new_tags[] = {"errand"};
    hearth_task up = {.id = id[0], .title = "buy oat milk", .priority = 5, .tags = new_tags,
                      .n_tags = 1, .version = 2};
    int64_t ver = 0;
    CHECK(hearth_store_task_update(s, &up, &ver, NULL) == HEARTH_OK);
    CHECK_EQ_INT(ver, 3);
    hearth_error e;
    CHECK(hearth_store_task_update(s, &up, &ver, &e) == HEARTH_E_STATE); /* stale version 2 */
    CHECK(strstr(e.msg, "changed meanwhile") != NULL);
    CHECK(hearth_store_task_get(s, id[0], &t, NULL) == HEARTH_OK);
    CHECK(t && !strcmp(t->title, "buy oat milk") && !strcmp(t->status, "done") && t->due_ms == 0 &&
          t->n_tags == 1 && !strcmp(t->tags[0], "errand") && t->version == 3 &&
          t->updated_ms >= t->created_ms);
    hearth_free(t);
    up.version = 0; /* unconditional */
    up.id = 9999;
    CHECK(hearth_store_task_update(s, &up, NULL, NULL) == HEARTH_E_NOTFOUND);

    /* validation */
    hearth_task bad = {.title = ""};
    CHECK(hearth_store_task_add(s, &bad, NULL, NULL) == HEARTH_E_ARG);
    bad.title = "x";
    bad.payload_json = "{not json";
    CHECK(hearth_store_task_add(s, &bad, NULL, &e) == HEARTH_E_ARG);
    CHECK(strstr(e.msg, "payload") != NULL);
    bad.payload_json = NULL;
    const char *dup[] = {"a", "a"};
    bad.tags = dup;
    bad.n_tags = 2;
    CHECK(hearth_store_task_add(s, &bad, NULL, NULL) == HEARTH_E_ARG);
    const char *badutf[] = {"\xff\xfe"};
    bad.tags = badutf;
    bad.n_tags = 1;
    CHECK(hearth_store_task_add(s, &bad, NULL, NULL) == HEARTH_E_ARG);
    bad.n_tags = 0;
    bad.status = "UPPER";
    CHECK(hearth_store_task_add(s, &bad, NULL, NULL) == HEARTH_E_ARG);
    q = hearth_task_query_default();
    q.status = "no way";
    hearth_task *none = NULL;
    size_t nn;
    CHECK(hearth_store_tasks(s, &q, &none, &nn, NULL) == HEARTH_E_ARG);

    /* delete */
    float v[4] = {1, 0, 0, 0};
    CHECK(hearth_store_embedding_put(s, "task", id[2], 0, "m", v, 4, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_task_delete(s, id[2], NULL) == HEARTH_OK);
    CHECK(hearth_store_task_delete(s, id[2], NULL) == HEARTH_E_NOTFOUND);
    hearth_embedding_hit hit[2];
    size_t nh = 9;
    CHECK(hearth_store_embedding_search(s, "m", "task", 0, v, 4, 2, hit, &nh, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nh, 0); /* its embedding went with it */
    q = hearth_task_query_default();
    CHECK_EQ_INT(query(s, &q, got, 8), 3);

    /* change records: 4 inserts, 1 status + 1 update, 1 delete */
    hearth_change *c = NULL;
    size_t nc = 0;
    CHECK(hearth_store_changes(s, 0, 0, &c, &nc, NULL) == HEARTH_OK);
    int ins = 0, upd = 0, del = 0;
    for (size_t i = 0; i < nc; i++) {
        if (strcmp(c[i].table, "tasks")) continue;
        if (!strcmp(c[i].op, "insert")) ins++;
        if (!strcmp(c[i].op, "update")) {
            upd++;
            CHECK(c[i].key == id[0] && c[i].version == upd + 1);
        }
        if (!strcmp(c[i].op, "delete")) {
            del++;
            CHECK(c[i].key == id[2] && c[i].version == 0 && c[i].time_ms > 0);
        }
    }
    CHECK(ins == 4 && upd == 2 && del == 1);
    hearth_free(c);
    hearth_store_free(s);
    return test_done();
}
