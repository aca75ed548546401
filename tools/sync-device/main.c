/*
 * main.c: hearth-sync-device, one device's hand in the Jepsen-style sync test
 * (tests/sync/jepsen.py). Each call performs ONE operation on the store in
 * $HEARTH_HOME through the public API, or prints the store's synced content:
 *
 *   hearth-sync-device op --device D --wid W --seed S --log FILE [--kind K]
 *   hearth-sync-device dump
 *   hearth-sync-device bulk --device D --n N   (N tasks in one transaction,
 *                                              for bench/bench_sync.py)
 *
 * op picks (from S, deterministically for a given store) one of task_add,
 * task_update, task_delete, session_add, message_add, setting_set,
 * setting_unset, and writes values that name the write: device D, write W
 * (never reused by the driver), so that the checker can trace every value to
 * the write that made it. Every value a write sets is unique to it.
 *
 * The log (JSON lines, appended with one write(2) each) records, for each
 * write, an "intent" line INSIDE the store transaction, after the write and
 * before the commit (holding what the write read, "prev", and what it set,
 * "new"), and a "done" line after the commit returned. A write with an intent
 * and no done line may or may not have committed (SIGKILL between the two);
 * a done line means committed. So the record never claims more than the
 * store holds: SIGKILL-safe by construction.
 *
 * HEARTH_SYNC_DEVICE_CRASH=before_commit|after_commit makes the process
 * SIGKILL itself at that point (the driver's hook for "killed between a local
 * commit and its push").
 *
 * dump prints one canonical JSON object of the rows the test writes: tasks
 * by title (title "jt-..."; notes, status, priority, due_ms), sessions
 * "j-..." with their messages' contents in local id order, settings "j.*".
 * Exit status: 0 done, 3 nothing to do (e.g. no task to update), 1 error.
 */
#include "hearth.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_SETTING_KEYS 5

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rng_below(rng *r, size_t n) { return n ? (size_t)(rng_next(r) % n) : 0; }

typedef struct {
    int device;
    int64_t wid;
    const char *log_path;
    int log_fd;
    hearth_store *store;
} dev;

static void die_store(const char *what, const hearth_error *e) {
    fprintf(stderr, "hearth-sync-device: %s: %s\n", what, e->msg);
    exit(1);
}

static void crash_point(const char *where) {
    const char *c = getenv("HEARTH_SYNC_DEVICE_CRASH");
    if (c && !strcmp(c, where)) raise(SIGKILL);
}

/* Appends one JSON line with a single write(2). */
static void log_line(dev *d, json_t *rec) {
    char *s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) {
        fprintf(stderr, "hearth-sync-device: out of memory\n");
        exit(1);
    }
    size_t n = strlen(s);
    char *line = malloc(n + 2);
    if (!line) exit(1);
    memcpy(line, s, n);
    line[n] = '\n';
    ssize_t w = write(d->log_fd, line, n + 1);
    free(line);
    free(s);
    if (w != (ssize_t)(n + 1)) {
        fprintf(stderr, "hearth-sync-device: writing the log %s failed\n", d->log_path);
        exit(1);
    }
}

static void log_intent(dev *d, const char *op, const char *row, json_t *prev, json_t *new_) {
    json_t *r = json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:o}", "t", "intent", "d",
                          (json_int_t)d->device, "w", (json_int_t)d->wid, "op", op, "row", row,
                          "prev", prev ? prev : json_null(), "new", new_ ? new_ : json_null());
    log_line(d, r);
    json_decref(r);
}

static void log_done(dev *d) {
    json_t *r = json_pack("{s:s, s:I, s:I}", "t", "done", "d", (json_int_t)d->device, "w",
                          (json_int_t)d->wid);
    log_line(d, r);
    json_decref(r);
}

static void begin(dev *d) {
    hearth_error e = {0};
    if (hearth_store_begin(d->store, &e)) die_store("begin", &e);
}

/* Commits, with the crash hooks around it, then records the write as done. */
static void commit(dev *d) {
    hearth_error e = {0};
    crash_point("before_commit");
    if (hearth_store_commit(d->store, &e)) die_store("commit", &e);
    crash_point("after_commit");
    log_done(d);
}

static json_t *task_fields(const hearth_task *t) {
    return json_pack("{s:s, s:s, s:i, s:I}", "notes", t->notes ? t->notes : "", "status",
                     t->status ? t->status : "", "priority", (int)t->priority, "due_ms",
                     (json_int_t)t->due_ms);
}

/* The test's tasks ("jt-" titles), sorted by title so a seed picks the same
 * one on the same content. OUT: *out (hearth_free), *n. */
static int cmp_task_title(const void *a, const void *b) {
    return strcmp(((const hearth_task *)a)->title, ((const hearth_task *)b)->title);
}

static void load_tasks(dev *d, hearth_task **out, size_t *n) {
    hearth_task_query q = hearth_task_query_default();
    q.text = "jt-";
    hearth_error e = {0};
    if (hearth_store_tasks(d->store, &q, out, n, &e)) die_store("listing tasks", &e);
    if (*n) qsort(*out, *n, sizeof **out, cmp_task_title);
}

/* Unique values of write W on device D for each task field. */
static void value_notes(const dev *d, char *buf, size_t cap) {
    snprintf(buf, cap, "n-d%d-w%" PRId64, d->device, d->wid);
}
/* A status is [a-z_]: the digits of D and W are spelt a..j ("s_b_bc" is
 * device 1, write 12). */
static void value_status(const dev *d, char *buf, size_t cap) {
    char digits[48];
    int n = snprintf(digits, sizeof digits, "%d_%" PRId64, d->device, d->wid);
    for (int i = 0; i < n; i++)
        if (digits[i] >= '0' && digits[i] <= '9') digits[i] = (char)('a' + (digits[i] - '0'));
    snprintf(buf, cap, "s_%s", digits);
}
/* (D+1) million + W: never a small number that ids and versions in a
 * conflict record could also be. */
static int32_t value_priority(const dev *d) { return (int32_t)((d->device + 1) * 1000000 + d->wid); }
static int64_t value_due(const dev *d) {
    return 1700000000000ll + (int64_t)d->device * 1000000000ll + d->wid;
}

static int op_task_add(dev *d) {
    char title[64], notes[64], status[64];
    snprintf(title, sizeof title, "jt-d%d-w%" PRId64, d->device, d->wid);
    value_notes(d, notes, sizeof notes);
    value_status(d, status, sizeof status);
    hearth_task t = {0};
    t.title = title;
    t.notes = notes;
    t.status = status;
    t.priority = value_priority(d);
    t.due_ms = value_due(d);
    begin(d);
    hearth_error e = {0};
    if (hearth_store_task_add(d->store, &t, NULL, &e)) die_store("task_add", &e);
    log_intent(d, "task_add", title, NULL, task_fields(&t));
    commit(d);
    return 0;
}

static int op_task_update(dev *d, rng *r) {
    begin(d);
    hearth_task *ts = NULL;
    size_t n = 0;
    load_tasks(d, &ts, &n);
    if (!n) {
        hearth_error e = {0};
        hearth_store_rollback(d->store, &e);
        return 3;
    }
    hearth_task t = ts[rng_below(r, n)];
    json_t *prev = task_fields(&t);
    /* One to four fields, chosen by a mask that is never empty. */
    unsigned mask = (unsigned)(1 + rng_below(r, 15));
    char notes[64], status[64];
    if (mask & 1) {
        value_notes(d, notes, sizeof notes);
        t.notes = notes;
    }
    if (mask & 2) {
        value_status(d, status, sizeof status);
        t.status = status;
    }
    if (mask & 4) t.priority = value_priority(d);
    if (mask & 8) t.due_ms = value_due(d);
    t.version = 0;
    hearth_error e = {0};
    if (hearth_store_task_update(d->store, &t, NULL, &e)) die_store("task_update", &e);
    log_intent(d, "task_update", t.title, prev, task_fields(&t));
    hearth_free(ts);
    commit(d);
    return 0;
}

static int op_task_delete(dev *d, rng *r) {
    begin(d);
    hearth_task *ts = NULL;
    size_t n = 0;
    load_tasks(d, &ts, &n);
    if (!n) {
        hearth_error e = {0};
        hearth_store_rollback(d->store, &e);
        return 3;
    }
    const hearth_task *t = &ts[rng_below(r, n)];
    json_t *prev = task_fields(t);
    hearth_error e = {0};
    if (hearth_store_task_delete(d->store, t->id, &e)) die_store("task_delete", &e);
    log_intent(d, "task_delete", t->title, prev, NULL);
    hearth_free(ts);
    commit(d);
    return 0;
}

static int cmp_session_name(const void *a, const void *b) {
    return strcmp(((const hearth_session *)a)->name, ((const hearth_session *)b)->name);
}

/* The test's sessions ("j-" names), sorted by name. */
static void load_sessions(dev *d, hearth_session **out, size_t *n) {
    hearth_error e = {0};
    hearth_session *all = NULL;
    size_t na = 0;
    if (hearth_store_session_list(d->store, &all, &na, &e)) die_store("listing sessions", &e);
    size_t k = 0;
    for (size_t i = 0; i < na; i++)
        if (!strncmp(all[i].name, "j-", 2)) all[k++] = all[i];
    if (k) qsort(all, k, sizeof *all, cmp_session_name);
    *out = all;
    *n = k;
}

static int op_session_add(dev *d) {
    char name[64];
    snprintf(name, sizeof name, "j-d%d-w%" PRId64, d->device, d->wid);
    begin(d);
    hearth_error e = {0};
    int64_t id;
    if (hearth_store_session_ensure(d->store, name, &id, &e)) die_store("session_add", &e);
    log_intent(d, "session_add", name, NULL, json_pack("{s:s}", "name", name));
    commit(d);
    return 0;
}

static int op_message_add(dev *d, rng *r) {
    begin(d);
    hearth_session *ss = NULL;
    size_t n = 0;
    load_sessions(d, &ss, &n);
    if (!n) {
        hearth_error e = {0};
        hearth_store_rollback(d->store, &e);
        hearth_free(ss);
        return 3;
    }
    const hearth_session *s = &ss[rng_below(r, n)];
    char content[64];
    snprintf(content, sizeof content, "m-d%d-w%" PRId64, d->device, d->wid);
    hearth_message m = {0};
    m.session_id = s->id;
    m.role = (d->wid & 1) ? "assistant" : "user";
    m.content = content;
    m.confidence = -1;
    hearth_error e = {0};
    if (hearth_store_message_add(d->store, &m, NULL, &e)) die_store("message_add", &e);
    log_intent(d, "message_add", s->name, NULL, json_pack("{s:s}", "content", content));
    hearth_free(ss);
    commit(d);
    return 0;
}

static json_t *setting_value(dev *d, const char *key) {
    char *v = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_store_setting_get(d->store, key, &v, &e);
    if (st == HEARTH_E_NOTFOUND) return json_pack("{s:n}", "value");
    if (st) die_store("setting_get", &e);
    json_t *j = json_pack("{s:s}", "value", v);
    hearth_free(v);
    return j;
}

static int op_setting(dev *d, rng *r, bool unset) {
    char key[32], value[64];
    snprintf(key, sizeof key, "j.k%zu", rng_below(r, N_SETTING_KEYS));
    snprintf(value, sizeof value, "v-d%d-w%" PRId64, d->device, d->wid);
    begin(d);
    json_t *prev = setting_value(d, key);
    hearth_error e = {0};
    hearth_status st = unset ? hearth_store_setting_unset(d->store, key, &e)
                             : hearth_store_setting_set(d->store, key, value, &e);
    if (st) die_store(unset ? "setting_unset" : "setting_set", &e);
    log_intent(d, unset ? "setting_unset" : "setting_set", key, prev,
               unset ? json_pack("{s:n}", "value") : json_pack("{s:s}", "value", value));
    commit(d);
    return 0;
}

static const char *const kinds[] = {"task_add",    "task_update", "task_delete",  "session_add",
                                    "message_add", "setting_set", "setting_unset"};
/* Weights of the random choice, in the order of kinds. */
static const unsigned weights[] = {5, 6, 2, 2, 5, 4, 1};

static int do_op(dev *d, const char *kind, rng *r) {
    if (!kind) {
        unsigned total = 0;
        for (size_t i = 0; i < sizeof weights / sizeof *weights; i++) total += weights[i];
        unsigned x = (unsigned)rng_below(r, total);
        for (size_t i = 0; i < sizeof weights / sizeof *weights; i++) {
            if (x < weights[i]) {
                kind = kinds[i];
                break;
            }
            x -= weights[i];
        }
    }
    if (!strcmp(kind, "task_add")) return op_task_add(d);
    if (!strcmp(kind, "task_update")) return op_task_update(d, r);
    if (!strcmp(kind, "task_delete")) return op_task_delete(d, r);
    if (!strcmp(kind, "session_add")) return op_session_add(d);
    if (!strcmp(kind, "message_add")) return op_message_add(d, r);
    if (!strcmp(kind, "setting_set")) return op_setting(d, r, false);
    if (!strcmp(kind, "setting_unset")) return op_setting(d, r, true);
    fprintf(stderr, "hearth-sync-device: unknown --kind %s\n", kind);
    return 1;
}

static int do_dump(dev *d) {
    json_t *root = json_object(), *tasks = json_object(), *sessions = json_object(),
           *settings = json_object();
    hearth_task *ts = NULL;
    size_t nt = 0;
    load_tasks(d, &ts, &nt);
    for (size_t i = 0; i < nt; i++) {
        if (strncmp(ts[i].title, "jt-", 3)) continue; /* the text filter also matches notes */
        json_t *prior = json_object_get(tasks, ts[i].title);
        if (prior) {
            /* Two rows with one title: a change applied twice. Kept visible. */
            json_t *arr = json_is_array(prior) ? json_incref(prior) : json_pack("[O]", prior);
            json_array_append_new(arr, task_fields(&ts[i]));
            json_object_set_new(tasks, ts[i].title, arr);
        } else {
            json_object_set_new(tasks, ts[i].title, task_fields(&ts[i]));
        }
    }
    hearth_free(ts);
    hearth_session *ss = NULL;
    size_t ns = 0;
    load_sessions(d, &ss, &ns);
    for (size_t i = 0; i < ns; i++) {
        hearth_message_query q = hearth_message_query_default();
        q.session_id = ss[i].id;
        hearth_message *ms = NULL;
        size_t nm = 0;
        hearth_error e = {0};
        if (hearth_store_messages(d->store, &q, &ms, &nm, &e)) die_store("messages", &e);
        json_t *arr = json_array();
        for (size_t k = 0; k < nm; k++) json_array_append_new(arr, json_string(ms[k].content));
        hearth_free(ms);
        json_object_set_new(sessions, ss[i].name, arr);
    }
    hearth_free(ss);
    for (int k = 0; k < N_SETTING_KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "j.k%d", k);
        char *v = NULL;
        hearth_error e = {0};
        hearth_status st = hearth_store_setting_get(d->store, key, &v, &e);
        if (st == HEARTH_E_NOTFOUND) continue;
        if (st) die_store("setting_get", &e);
        json_object_set_new(settings, key, json_string(v));
        hearth_free(v);
    }
    json_object_set_new(root, "tasks", tasks);
    json_object_set_new(root, "sessions", sessions);
    json_object_set_new(root, "settings", settings);
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    if (!s) return 1;
    puts(s);
    free(s);
    return 0;
}

/* bulk: n tasks "jb-dD-I" in one transaction (the benchmark's backlog). */
static int do_bulk(dev *d, int64_t n) {
    begin(d);
    for (int64_t i = 0; i < n; i++) {
        char title[64], notes[96];
        snprintf(title, sizeof title, "jb-d%d-%" PRId64, d->device, i);
        snprintf(notes, sizeof notes, "benchmark task %" PRId64 " of device %d", i, d->device);
        hearth_task t = {0};
        t.title = title;
        t.notes = notes;
        t.priority = (int32_t)(i % 4);
        hearth_error e = {0};
        if (hearth_store_task_add(d->store, &t, NULL, &e)) die_store("task_add", &e);
    }
    hearth_error e = {0};
    if (hearth_store_commit(d->store, &e)) die_store("commit", &e);
    return 0;
}

static const char usage[] =
    "usage: hearth-sync-device op --device D --wid W --seed S --log FILE [--kind K]\n"
    "       hearth-sync-device dump\n"
    "       hearth-sync-device bulk --device D --n N\n"
    "One random write (or a dump) on the store in $HEARTH_HOME, for tests/sync/jepsen.py.\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    dev d = {.device = -1, .wid = -1, .log_fd = -1};
    uint64_t seed = 0;
    const char *kind = NULL;
    int64_t bulk_n = 0;
    for (int i = 2; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fputs(usage, stderr);
            return 2;
        }
        if (!strcmp(a, "--device")) d.device = atoi(v);
        else if (!strcmp(a, "--wid")) d.wid = strtoll(v, NULL, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--log")) d.log_path = v;
        else if (!strcmp(a, "--kind")) kind = v;
        else if (!strcmp(a, "--n")) bulk_n = strtoll(v, NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    hearth_error e = {0};
    hearth_store_params p = hearth_store_default_params();
    p.busy_timeout_ms = 20000;
    if (hearth_store_open(&p, &d.store, &e)) die_store("opening the store", &e);
    int rc;
    if (!strcmp(argv[1], "dump")) {
        rc = do_dump(&d);
    } else if (!strcmp(argv[1], "bulk")) {
        rc = d.device < 0 || bulk_n <= 0 ? 2 : do_bulk(&d, bulk_n);
    } else if (!strcmp(argv[1], "op")) {
        if (d.device < 0 || d.device > 9 || d.wid < 0 || d.wid >= 1000000 || !d.log_path) {
            fputs(usage, stderr);
            hearth_store_free(d.store);
            return 2;
        }
        d.log_fd = open(d.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (d.log_fd < 0) {
            fprintf(stderr, "hearth-sync-device: cannot open %s\n", d.log_path);
            hearth_store_free(d.store);
            return 1;
        }
        rng r = {seed};
        rc = do_op(&d, kind, &r);
        close(d.log_fd);
    } else {
        fputs(usage, stderr);
        rc = 2;
    }
    hearth_store_free(d.store);
    return rc;
}
