/*
 * cmd_tasks.c: `hearth tasks add|list|done|rm`: the task list in the local
 * store ($HEARTH_HOME/hearth.db). Dates are UTC: YYYY-MM-DD, or
 * YYYY-MM-DDTHH:MM[:SS][Z].
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TAGS 64

static const char usage[] =
    "usage: hearth tasks add [OPTIONS] [--] TITLE...   (options: --notes N, --priority P,\n"
    "                        --due DATE, --tag T (repeatable), --payload JSON, --json)\n"
    "       hearth tasks list [--status S] [--tag T] [--priority P] [--min-priority P]\n"
    "                         [--due-before D] [--due-after D] [--search TEXT] [--limit N] [--json]\n"
    "       hearth tasks done ID\n"
    "       hearth tasks rm ID\n"
    "\n"
    "Keeps a task list in the local store ($HEARTH_HOME, default ~/.local/share/hearth).\n"
    "\n"
    "  add       adds a task (the words of TITLE are joined) and prints its id\n"
    "  list      lists tasks, most urgent first (priority, then due date)\n"
    "  done      marks task ID done\n"
    "  rm        deletes task ID\n"
    "\n"
    "options:\n"
    "  --notes N          free text\n"
    "  --priority P       a number (higher is more urgent) or low|medium|high (1|2|3);\n"
    "                     with list: only tasks of exactly this priority\n"
    "  --min-priority P   list: only tasks of at least this priority\n"
    "  --due DATE         due date, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]\n"
    "  --tag T            a tag (repeatable); with list: only tasks carrying T\n"
    "  --payload JSON     any JSON value kept with the task\n"
    "  --status S         list: only tasks in status S (open, done, ...)\n"
    "  --due-before D     list: due strictly before D\n"
    "  --due-after D      list: due at or after D\n"
    "  --search TEXT      list: TEXT in title or notes (case-insensitive)\n"
    "  --limit N          list: at most N tasks\n"
    "  --json             machine-readable output\n"
    "\n"
    "Without --json, control characters in titles, statuses and tags are shown as\n"
    "escapes (ESC as \\x1b), so stored text cannot drive the terminal.\n";

/* If argv[*i] is --name VALUE or --name=VALUE, stores VALUE and returns 1
 * (advancing *i past a separate value); 0 if it is another option; -1 if
 * the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

static bool parse_priority(const char *s, int32_t *out) {
    static const struct { const char *name; int v; } names[] = {
        {"none", 0}, {"low", 1}, {"medium", 2}, {"high", 3}, {"urgent", 4}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(s, names[k].name)) {
            *out = names[k].v;
            return true;
        }
    long v;
    if (!cli_parse_long(s, -1000000, 1000000, &v)) return false;
    *out = (int32_t)v;
    return true;
}

/* UTC date or date-time -> Unix ms. */
static bool parse_date(const char *s, int64_t *out) {
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10) return false;
    const char *p = s + used;
    if (*p == 'T' || *p == ' ') {
        int u2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &u2) != 2 || u2 != 5) return false;
        p += 1 + u2;
        if (*p == ':') {
            int u3 = 0;
            if (sscanf(p + 1, "%2d%n", &sec, &u3) != 1 || u3 != 2) return false;
            p += 1 + u3;
        }
        if (*p == 'Z') p++;
    }
    if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) return false; /* e.g. 02-30 normalised away */
    *out = (int64_t)t * 1000;
    return true;
}

/* Unix ms -> "YYYY-MM-DD" (midnight) or "YYYY-MM-DDTHH:MM:SSZ". */
static void format_date(int64_t ms, char *buf, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0)
        strftime(buf, cap, "%Y-%m-%d", &tm);
    else
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *task_json(const hearth_task *t) {
    json_t *o = json_object(), *tags = json_array();
    char d[32];
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "title", cli_json_str(t->title));
    json_object_set_new(o, "notes", cli_json_str(t->notes));
    json_object_set_new(o, "status", cli_json_str(t->status));
    json_object_set_new(o, "priority", json_integer(t->priority));
    if (t->due_ms) {
        format_date(t->due_ms, d, sizeof d);
        json_object_set_new(o, "due", json_string(d));
    } else {
        json_object_set_new(o, "due", json_null());
    }
    for (size_t i = 0; i < t->n_tags; i++) json_array_append_new(tags, cli_json_str(t->tags[i]));
    json_object_set_new(o, "tags", tags);
    json_t *payload = t->payload_json ? json_loads(t->payload_json, JSON_DECODE_ANY, NULL) : NULL;
    json_object_set_new(o, "payload", payload ? payload : json_null());
    json_object_set_new(o, "created_ms", json_integer(t->created_ms));
    json_object_set_new(o, "updated_ms", json_integer(t->updated_ms));
    json_object_set_new(o, "version", json_integer(t->version));
    return o;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "hearth tasks: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see hearth tasks --help)\n");
    return 2;
}

static hearth_store *open_store(void) {
    hearth_store *s = NULL;
    hearth_error e;
    if (hearth_store_open(NULL, &s, &e) != HEARTH_OK) {
        cli_fail("tasks", &e, "cannot open the store");
        return NULL;
    }
    return s;
}

static int cmd_add(int argc, char **argv) {
    hearth_task t = {0};
    const char *tags[MAX_TAGS];
    char title[4097] = "";
    size_t tl = 0;
    bool json = false, words_only = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        bool word = words_only || argv[i][0] != '-' || argv[i][1] == '\0';
        if (word) {
            size_t n = strlen(argv[i]);
            if (tl + n + 1 >= sizeof title) return usage_error("title longer than %s bytes", "4096");
            if (tl) title[tl++] = ' ';
            memcpy(title + tl, argv[i], n + 1);
            tl += n;
        } else if (!strcmp(argv[i], "--")) {
            words_only = true; /* the rest is title, even if it starts with - */
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if ((r = opt_value(argc, argv, &i, "--notes", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--notes");
            t.notes = v;
        } else if ((r = opt_value(argc, argv, &i, "--priority", &v))) {
            if (r < 0 || !parse_priority(v, &t.priority))
                return usage_error("--priority: '%s' is not a number or low|medium|high", r < 0 ? "" : v);
        } else if ((r = opt_value(argc, argv, &i, "--due", &v))) {
            if (r < 0 || !parse_date(v, &t.due_ms))
                return usage_error("--due: '%s' is not YYYY-MM-DD[THH:MM[:SS]]", r < 0 ? "" : v);
        } else if ((r = opt_value(argc, argv, &i, "--tag", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--tag");
            if (t.n_tags == MAX_TAGS) return usage_error("more than %s tags", "64");
            tags[t.n_tags++] = v;
        } else if ((r = opt_value(argc, argv, &i, "--payload", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--payload");
            t.payload_json = v;
        } else {
            return usage_error("unknown option '%s' (put -- before a title that starts with -)", argv[i]);
        }
    }
    if (!tl) return usage_error("%s", "add needs a TITLE");
    t.title = title;
    t.tags = tags;
    hearth_store *s = open_store();
    if (!s) return 1;
    hearth_error e;
    int64_t id;
    int rc = 0;
    if (hearth_store_task_add(s, &t, &id, &e) != HEARTH_OK) {
        rc = cli_fail("tasks", &e, "cannot add the task");
    } else if (json) {
        hearth_task *got = NULL;
        if (hearth_store_task_get(s, id, &got, &e) == HEARTH_OK) cli_print_json(task_json(got));
        else rc = cli_fail("tasks", &e, "cannot read task %lld back", (long long)id);
        hearth_free(got);
    } else {
        printf("%lld\n", (long long)id);
    }
    hearth_store_free(s);
    return rc;
}

static int cmd_list(int argc, char **argv) {
    hearth_task_query q = hearth_task_query_default();
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        int32_t p;
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if ((r = opt_value(argc, argv, &i, "--status", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--status");
            q.status = v;
        } else if ((r = opt_value(argc, argv, &i, "--tag", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--tag");
            q.tag = v;
        } else if ((r = opt_value(argc, argv, &i, "--priority", &v))) {
            if (r < 0 || !parse_priority(v, &p))
                return usage_error("--priority: '%s' is not a number or low|medium|high", r < 0 ? "" : v);
            q.priority_min = q.priority_max = p;
        } else if ((r = opt_value(argc, argv, &i, "--min-priority", &v))) {
            if (r < 0 || !parse_priority(v, &p))
                return usage_error("--min-priority: '%s' is not a priority", r < 0 ? "" : v);
            q.priority_min = p;
        } else if ((r = opt_value(argc, argv, &i, "--due-before", &v))) {
            if (r < 0 || !parse_date(v, &q.due_before_ms))
                return usage_error("--due-before: '%s' is not a date", r < 0 ? "" : v);
        } else if ((r = opt_value(argc, argv, &i, "--due-after", &v))) {
            if (r < 0 || !parse_date(v, &q.due_after_ms))
                return usage_error("--due-after: '%s' is not a date", r < 0 ? "" : v);
        } else if ((r = opt_value(argc, argv, &i, "--search", &v))) {
            if (r < 0) return usage_error("%s needs a value", "--search");
            q.text = v;
        } else if ((r = opt_value(argc, argv, &i, "--limit", &v))) {
            long n;
            if (r < 0 || !cli_parse_long(v, 1, 1000000000L, &n))
                return usage_error("--limit: '%s' is not a positive number", r < 0 ? "" : v);
            q.limit = n;
        } else {
            return usage_error("list: unexpected argument '%s'", argv[i]);
        }
    }
    hearth_store *s = open_store();
    if (!s) return 1;
    hearth_task *t = NULL;
    size_t n = 0;
    hearth_error e;
    int rc = 0;
    if (hearth_store_tasks(s, &q, &t, &n, &e) != HEARTH_OK) {
        rc = cli_fail("tasks", &e, "cannot list tasks");
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, task_json(&t[i]));
        cli_print_json(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            char due[32] = "-";
            if (t[i].due_ms) format_date(t[i].due_ms, due, sizeof due);
            /* titles, statuses and tags are user text: no terminal controls */
            char *status = cli_safe_dup(t[i].status, CLI_SAFE_LINE);
            printf("%4lld  %-6s %4d  %-10s  ", (long long)t[i].id, status ? status : "?",
                   (int)t[i].priority, due);
            free(status);
            cli_put_safe(stdout, t[i].title, strlen(t[i].title), CLI_SAFE_LINE);
            for (size_t k = 0; k < t[i].n_tags; k++) {
                fputs(" #", stdout);
                cli_put_safe(stdout, t[i].tags[k], strlen(t[i].tags[k]), CLI_SAFE_LINE);
            }
            putchar('\n');
        }
    }
    hearth_free(t);
    hearth_store_free(s);
    return rc;
}

/* done ID / rm ID */
static int cmd_one(int argc, char **argv, bool remove) {
    long id;
    if (argc != 2) return usage_error("%s takes exactly one task ID", argv[0]);
    if (!cli_parse_long(argv[1], 1, 0x7fffffffffffffffL, &id))
        return usage_error("'%s' is not a task ID", argv[1]);
    hearth_store *s = open_store();
    if (!s) return 1;
    hearth_error e;
    hearth_status st = remove ? hearth_store_task_delete(s, id, &e)
                              : hearth_store_task_set_status(s, id, "done", &e);
    int rc = 0;
    if (st) rc = cli_fail("tasks", &e, "%s", remove ? "cannot delete" : "cannot mark done");
    else printf("task %ld %s\n", id, remove ? "deleted" : "done");
    hearth_store_free(s);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2) return usage_error("%s", "missing subcommand: add, list, done or rm");
    const char *sub = argv[1];
    if (!strcmp(sub, "add")) return cmd_add(argc - 1, argv + 1);
    if (!strcmp(sub, "list") || !strcmp(sub, "ls")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "done")) return cmd_one(argc - 1, argv + 1, false);
    if (!strcmp(sub, "rm")) return cmd_one(argc - 1, argv + 1, true);
    return usage_error("unknown subcommand '%s'", sub);
}

const cli_command cli_cmd_tasks = {
    .name = "tasks",
    .summary = "manage the task list (add, list, done, rm)",
    .usage = usage,
    .run = run,
};
