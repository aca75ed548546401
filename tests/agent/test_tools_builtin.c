/*
 * test_tools_builtin.c: the built-in local tools on a real agent and store:
 * tasks (add with every field, list with filters, complete), search by
 * meaning over stored tasks, the date and time, the calculator, and the
 * model's bad arguments answered as {"error": ...} results, never as a
 * failure of the request.
 */
#include "test.h"

#include "agent/tools_int.h"
#include "fixture.h"
#include "hearth.h"
#include "util/alloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *run(hearth_agent *a, const char *name, const char *args) {
    char *out = NULL;
    hearth_error e;
    REQUIRE(tools_builtin_run(a, name, args, &out, &e) == HEARTH_OK);
    json_t *v = json_loads(out, 0, NULL);
    CHECKF(json_is_object(v), "%s(%s) -> %s", name, args, out);
    hearth_free(out);
    return v;
}

static void is_error(hearth_agent *a, const char *name, const char *args) {
    json_t *v = run(a, name, args);
    CHECKF(json_is_string(json_object_get(v, "error")), "%s(%s) is not an error", name, args);
    json_decref(v);
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "m.gguf", "--arch qwen2 --preset tiny --type Q8_0 --seed 2");
    hearth_agent *a = fx_agent(model, dir, 1024);

    json_t *v = run(a, "task_add", "{\"title\": \"buy milk\", \"notes\": \"2 litres\", \"priority\": 3, "
                                   "\"due\": \"2026-12-24\", \"tags\": [\"home\", \"shop\"]}");
    json_t *t = json_object_get(v, "task");
    CHECK(json_is_true(json_object_get(v, "added")));
    CHECK_STR(json_string_value(json_object_get(t, "title")), "buy milk");
    CHECK_STR(json_string_value(json_object_get(t, "due")), "2026-12-24");
    CHECK_EQ_INT(json_integer_value(json_object_get(t, "priority")), 3);
    CHECK_EQ_INT(json_array_size(json_object_get(t, "tags")), 2);
    json_int_t milk = json_integer_value(json_object_get(t, "id"));
    json_decref(v);
    json_decref(run(a, "task_add", "{\"title\": \"call the bank\", \"tags\": [\"work\"]}"));
    json_decref(run(a, "task_add", "{\"title\": \"write report\", \"due\": \"2026-12-03\"}"));

    v = run(a, "task_list", "{}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 3);
    /* highest priority first */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "tasks"), 0), "title")),
              "buy milk");
    json_decref(v);
    v = run(a, "task_list", "{\"tag\": \"work\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 1);
    json_decref(v);
    v = run(a, "task_list", "{\"due_before\": \"2026-12-10\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 1);
    json_decref(v);
    v = run(a, "task_list", "{\"text\": \"BANK\", \"limit\": 5}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 1);
    json_decref(v);

    char args[64];
    snprintf(args, sizeof args, "{\"id\": %lld}", (long long)milk);
    v = run(a, "task_complete", args);
    CHECK_STR(json_string_value(json_object_get(v, "status")), "done");
    json_decref(v);
    v = run(a, "task_list", "{}"); /* open ones by default */
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 2);
    json_decref(v);
    v = run(a, "task_list", "{\"status\": \"done\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 1);
    json_decref(v);
    v = run(a, "task_list", "{\"status\": \"any\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 3);
    json_decref(v);

    /* search by meaning: the tasks were indexed when added; the exact text
     * of one is its own nearest neighbour */
    v = run(a, "search", "{\"query\": \"call the bank\", \"kind\": \"task\", \"limit\": 3}");
    json_t *res = json_object_get(v, "results");
    CHECKF(json_array_size(res) >= 1, "no results");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(res, 0), "task"), "title")),
              "call the bank");
    json_decref(v);

    v = run(a, "current_datetime", "{}");
    const char *utc = json_string_value(json_object_get(v, "utc"));
    CHECK(utc && strlen(utc) == 20 && utc[4] == '-' && utc[10] == 'T' && utc[19] == 'Z');
    CHECK(json_integer_value(json_object_get(v, "unix_ms")) > 1700000000000LL);
    json_decref(v);

    v = run(a, "calculator", "{\"expression\": \"(2 + 3) * 4 ^ 2\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "result")), 80);
    json_decref(v);
    v = run(a, "calculator", "{\"expression\": \"1/3\"}");
    CHECK(json_is_real(json_object_get(v, "result")));
    json_decref(v);

    /* what a model may send instead */
    is_error(a, "calculator", "{\"expression\": \"1/0\"}");
    is_error(a, "calculator", "{}");
    is_error(a, "calculator", "{\"expression\": 5}");
    is_error(a, "task_add", "{}");
    is_error(a, "task_add", "{\"title\": \"\"}");
    is_error(a, "task_add", "{\"title\": \"x\", \"due\": \"tomorrow\"}");
    is_error(a, "task_add", "{\"title\": \"x\", \"priority\": 99}");
    is_error(a, "task_add", "{\"title\": \"x\", \"tags\": [\"a\", \"a\"]}");
    is_error(a, "task_complete", "{\"id\": 999999}");
    is_error(a, "task_complete", "{\"id\": \"1\"}");
    is_error(a, "task_list", "{\"due_before\": \"soon\"}");
    is_error(a, "search", "{\"query\": \"\"}");
    is_error(a, "search", "{\"query\": \"x\", \"kind\": \"files\"}");
    is_error(a, "shell", "{\"cmd\": \"ls\"}");
    is_error(a, "task_list", "[1]");
    is_error(a, "task_list", "not json");
    /* bad adds added nothing */
    v = run(a, "task_list", "{\"status\": \"any\"}");
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "count")), 3);
    json_decref(v);

    hearth_agent_free(a);
    fx_cleanup(dir);
    free(model);
    free(dir);
    return test_done();
}
