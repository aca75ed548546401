/*
 * tools_builtin.c: the agent's own local tools (`hearth run/chat --tools`,
 * hearth_agent_request.builtin_tools): the user's tasks (add, list with
 * filters, complete), a search of the user's own conversations and tasks by
 * meaning (the agent's embedding search), the current date and time, and a
 * calculator (tools_calc.c). They touch only the agent's store: no shell,
 * no network, no file outside the store. Arguments come from the model and
 * are untrusted: every field is type-checked and bounded, and a tool that
 * cannot do what was asked answers {"error": "..."} for the model to read.
 */
#include "agent/tools_int.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char defs[] =
    "[{\"type\": \"function\", \"function\": {\"name\": \"task_add\", \"description\": "
    "\"Add a task to the user's task list.\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"title\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200}, "
    "\"notes\": {\"type\": \"string\", \"maxLength\": 1000}, \"priority\": {\"type\": "
    "\"integer\", \"minimum\": 0, \"maximum\": 9}, \"due\": {\"type\": \"string\", \"format\": "
    "\"date\"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"minLength\": "
    "1, \"maxLength\": 32}, \"maxItems\": 8}}, \"required\": [\"title\"], "
    "\"additionalProperties\": false}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"task_list\", \"description\": "
    "\"List the user's tasks, optionally filtered.\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"status\": {\"type\": \"string\", \"enum\": [\"open\", \"done\", "
    "\"any\"]}, \"tag\": {\"type\": \"string\", \"maxLength\": 32}, \"text\": {\"type\": "
    "\"string\", \"maxLength\": 100}, \"due_before\": {\"type\": \"string\", \"format\": "
    "\"date\"}, \"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 50}}, "
    "\"additionalProperties\": false}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"task_complete\", \"description\": "
    "\"Mark one of the user's tasks as done.\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"id\": {\"type\": \"integer\", \"minimum\": 1}}, \"required\": "
    "[\"id\"], \"additionalProperties\": false}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"search\", \"description\": "
    "\"Search the user's past conversations and tasks by meaning.\", \"parameters\": "
    "{\"type\": \"object\", \"properties\": {\"query\": {\"type\": \"string\", \"minLength\": "
    "1, \"maxLength\": 500}, \"kind\": {\"type\": \"string\", \"enum\": [\"message\", "
    "\"task\", \"all\"]}, \"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": "
    "10}}, \"required\": [\"query\"], \"additionalProperties\": false}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"current_datetime\", "
    "\"description\": \"The current date and time.\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {}, \"additionalProperties\": false}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"calculator\", \"description\": "
    "\"Evaluate an arithmetic expression (+ - * / % ^, parentheses, sqrt, ln, log, sin, "
    "cos, min, max, pi, e, ...).\", \"parameters\": {\"type\": \"object\", \"properties\": "
    "{\"expression\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200}}, "
    "\"required\": [\"expression\"], \"additionalProperties\": false}}}]";

const char *tools_builtin_defs(void) { return defs; }

#define SNIPPET 240

static json_t *error_obj(const char *fmt, const char *what) {
    char msg[300];
    snprintf(msg, sizeof msg, fmt, what);
    return json_pack("{s:s%}", "error", msg, utf8_valid_prefix(msg, strlen(msg)));
}

/* A string argument, or NULL (absent or not a string: *bad says which). */
static const char *str_arg(json_t *args, const char *key, size_t max, bool *bad) {
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v) || json_string_length(v) > max ||
        memchr(json_string_value(v), '\0', json_string_length(v))) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* "YYYY-MM-DD" (UTC midnight) as epoch ms; -1 if it is not one. */
static int64_t parse_date(const char *s) {
    int y, m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return -1;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    return (int64_t)t * 1000;
}

static json_t *date_json(int64_t ms) {
    if (ms <= 0) return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d", &tm)) return json_null();
    return json_string(buf);
}

static json_t *task_json(const hearth_task *t) {
    json_t *tags = json_array();
    for (size_t k = 0; k < t->n_tags; k++) json_array_append_new(tags, json_string(t->tags[k]));
    size_t tl = utf8_cut(t->title, strlen(t->title), SNIPPET);
    return json_pack("{s:I, s:s%, s:s, s:i, s:o, s:o}", "id", (json_int_t)t->id, "title",
                     t->title, tl, "status", t->status, "priority", (int)t->priority, "due",
                     date_json(t->due_ms), "tags", tags);
}

static json_t *task_add(hearth_agent *a, json_t *args) {
    bool bad = false;
    const char *title = str_arg(args, "title", 200, &bad);
    const char *notes = str_arg(args, "notes", 1000, &bad);
    const char *due = str_arg(args, "due", 32, &bad);
    if (bad || !title || !*title) return error_obj("%s", "task_add needs a title (a string)");
    hearth_task t = {.title = title, .notes = notes};
    json_t *pr = json_object_get(args, "priority");
    if (pr && !json_is_null(pr)) {
        if (!json_is_integer(pr) || json_integer_value(pr) < 0 || json_integer_value(pr) > 9)
            return error_obj("%s", "priority must be an integer from 0 to 9");
        t.priority = (int32_t)json_integer_value(pr);
    }
    if (due && (t.due_ms = parse_date(due)) < 0)
        return error_obj("due '%s' is not a date (YYYY-MM-DD)", due);
    const char *tags[8];
    json_t *tv = json_object_get(args, "tags");
    if (tv && !json_is_null(tv)) {
        if (!json_is_array(tv) || json_array_size(tv) > 8)
            return error_obj("%s", "tags must be a list of at most 8 strings");
        size_t i;
        json_t *x;
        json_array_foreach(tv, i, x) {
            if (!json_is_string(x)) return error_obj("%s", "tags must be strings");
            tags[t.n_tags++] = json_string_value(x);
        }
        t.tags = tags;
    }
    hearth_error e;
    int64_t id;
    if (hearth_store_task_add(hearth_agent_store(a), &t, &id, &e))
        return error_obj("the task was not added: %s", e.msg);
    /* so that search finds it; a task without its vector is still a task */
    hearth_agent_index_task(a, id, NULL);
    hearth_task *got = NULL;
    json_t *o = NULL;
    if (hearth_store_task_get(hearth_agent_store(a), id, &got, &e) == HEARTH_OK) o = task_json(got);
    hearth_free(got);
    return o ? json_pack("{s:b, s:o}", "added", 1, "task", o) : error_obj("%s", "lookup failed");
}

static json_t *task_list(hearth_agent *a, json_t *args) {
    bool bad = false;
    const char *status = str_arg(args, "status", 32, &bad);
    const char *tag = str_arg(args, "tag", 64, &bad);
    const char *text = str_arg(args, "text", 100, &bad);
    const char *before = str_arg(args, "due_before", 32, &bad);
    if (bad) return error_obj("%s", "task_list: status, tag, text and due_before are strings");
    hearth_task_query q = hearth_task_query_default();
    q.status = status && strcmp(status, "any") ? status : status ? NULL : "open";
    q.tag = tag && *tag ? tag : NULL;
    q.text = text && *text ? text : NULL;
    if (before && (q.due_before_ms = parse_date(before)) < 0)
        return error_obj("due_before '%s' is not a date (YYYY-MM-DD)", before);
    q.limit = 20;
    json_t *lim = json_object_get(args, "limit");
    if (json_is_integer(lim) && json_integer_value(lim) >= 1 && json_integer_value(lim) <= 50)
        q.limit = json_integer_value(lim);
    hearth_task *ts = NULL;
    size_t n = 0;
    hearth_error e;
    if (hearth_store_tasks(hearth_agent_store(a), &q, &ts, &n, &e))
        return error_obj("the tasks could not be read: %s", e.msg);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, task_json(&ts[i]));
    hearth_free(ts);
    return json_pack("{s:o, s:I}", "tasks", arr, "count", (json_int_t)n);
}

static json_t *task_complete(hearth_agent *a, json_t *args) {
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id) || json_integer_value(id) < 1)
        return error_obj("%s", "task_complete needs the task's id (an integer)");
    hearth_error e;
    hearth_status st = hearth_store_task_set_status(hearth_agent_store(a),
                                                    (int64_t)json_integer_value(id), "done", &e);
    if (st == HEARTH_E_NOTFOUND) return error_obj("%s", "there is no task with that id");
    if (st) return error_obj("the task was not changed: %s", e.msg);
    return json_pack("{s:I, s:s}", "id", (json_int_t)json_integer_value(id), "status", "done");
}

static json_t *search(hearth_agent *a, json_t *args) {
    bool bad = false;
    const char *query = str_arg(args, "query", 500, &bad);
    const char *kind = str_arg(args, "kind", 16, &bad);
    if (bad || !query || !*query) return error_obj("%s", "search needs a query (a string)");
    if (kind && strcmp(kind, "message") && strcmp(kind, "task") && strcmp(kind, "all"))
        return error_obj("kind '%s' is not message, task or all", kind);
    size_t k = 5;
    json_t *lim = json_object_get(args, "limit");
    if (json_is_integer(lim) && json_integer_value(lim) >= 1 && json_integer_value(lim) <= 10)
        k = (size_t)json_integer_value(lim);
    hearth_embedding_hit hits[10];
    size_t n = 0;
    hearth_error e;
    if (hearth_agent_search(a, query, kind && strcmp(kind, "all") ? kind : NULL, 0, k, hits, &n,
                            &e))
        return error_obj("the search failed: %s", e.msg);
    json_t *arr = json_array();
    hearth_store *s = hearth_agent_store(a);
    for (size_t i = 0; i < n; i++) {
        json_t *o = NULL;
        if (!strcmp(hits[i].owner_kind, "task")) {
            hearth_task *t = NULL;
            if (hearth_store_task_get(s, hits[i].owner_id, &t, NULL) == HEARTH_OK)
                o = json_pack("{s:s, s:o}", "kind", "task", "task", task_json(t));
            hearth_free(t);
        } else {
            hearth_message *m = NULL;
            if (hearth_store_message_get(s, hits[i].owner_id, &m, NULL) == HEARTH_OK) {
                size_t cl = utf8_cut(m->content, strlen(m->content), SNIPPET);
                o = json_pack("{s:s, s:I, s:s, s:s%}", "kind", "message", "id",
                              (json_int_t)m->id, "role", m->role, "text", m->content, cl);
            }
            hearth_free(m);
        }
        if (o) {
            json_object_set_new(o, "score", json_real(round(hits[i].score * 1000) / 1000));
            json_array_append_new(arr, o);
        }
    }
    return json_pack("{s:o}", "results", arr);
}

static json_t *now_json(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec;
    struct tm u, l;
    char ub[32], lb[40], wd[16], tz[16];
    if (!gmtime_r(&t, &u) || !localtime_r(&t, &l)) return error_obj("%s", "no clock");
    strftime(ub, sizeof ub, "%Y-%m-%dT%H:%M:%SZ", &u);
    strftime(lb, sizeof lb, "%Y-%m-%dT%H:%M:%S%z", &l);
    strftime(wd, sizeof wd, "%A", &l);
    strftime(tz, sizeof tz, "%Z", &l);
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "utc", ub, "local", lb, "weekday", wd,
                     "timezone", tz, "unix_ms",
                     (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static json_t *calculator(json_t *args) {
    bool bad = false;
    const char *x = str_arg(args, "expression", 1024, &bad);
    if (bad || !x) return error_obj("%s", "calculator needs an expression (a string)");
    double v;
    hearth_error e;
    if (tools_calc_eval(x, strlen(x), &v, &e)) return error_obj("%s", e.msg);
    json_t *r = v == floor(v) && fabs(v) < 9e15 ? json_integer((json_int_t)v) : json_real(v);
    return json_pack("{s:s, s:o}", "expression", x, "result", r);
}

hearth_status tools_builtin_run(hearth_agent *a, const char *name, const char *arguments,
                                char **result, hearth_error *err) {
    *result = NULL;
    json_t *args = json_loads(arguments ? arguments : "{}", 0, NULL);
    json_t *r;
    if (!json_is_object(args)) r = error_obj("%s", "the arguments are not a JSON object");
    else if (!strcmp(name, "task_add")) r = task_add(a, args);
    else if (!strcmp(name, "task_list")) r = task_list(a, args);
    else if (!strcmp(name, "task_complete")) r = task_complete(a, args);
    else if (!strcmp(name, "search")) r = search(a, args);
    else if (!strcmp(name, "current_datetime")) r = now_json();
    else if (!strcmp(name, "calculator")) r = calculator(args);
    else r = error_obj("there is no tool called '%s'", name);
    json_decref(args);
    *result = r ? tools_json_text(r, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(r);
    return *result ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "tool result: out of memory");
}
