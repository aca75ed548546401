/* test_crash.c: durability under SIGKILL. A child process makes 1,000
 * numbered writes (messages, tasks, a 3-message transaction, cache entries,
 * embeddings) and reports each one through a pipe once the store call has
 * returned (acknowledged). The parent kills it with SIGKILL at random
 * moments, several times, starting a new child after each kill to go on
 * from the last acknowledged write. Afterwards the database opens, passes
 * PRAGMA integrity_check and foreign_key_check, and holds every
 * acknowledged write together with its change records. */
#include "test.h"

#include "store_util.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_WRITES 1000
#define N_KILLS 8

static void child(const char *path, int from, int fd) {
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_store *s = NULL;
    if (hearth_store_open(&p, &s, NULL)) _exit(2);
    int64_t sid;
    if (hearth_store_session_ensure(s, "crash", &sid, NULL)) _exit(3);
    for (int i = from; i < N_WRITES; i++) {
        char text[32];
        hearth_status st = HEARTH_OK;
        switch (i % 5) {
        case 0: {
            snprintf(text, sizeof text, "w%d", i);
            hearth_message m = {.session_id = sid, .role = "user", .content = text};
            st = hearth_store_message_add(s, &m, NULL, NULL);
            break;
        }
        case 1: {
            snprintf(text, sizeof text, "t%d", i);
            const char *tags[] = {"crash"};
            hearth_task t = {.title = text, .tags = tags, .n_tags = 1, .payload_json = "[1,2]"};
            st = hearth_store_task_add(s, &t, NULL, NULL);
            break;
        }
        case 2: {
            /* three messages that must appear together or not at all */
            char a[32], b[32], c[32];
            snprintf(a, sizeof a, "b%d-0", i);
            snprintf(b, sizeof b, "b%d-1", i);
            snprintf(c, sizeof c, "b%d-2", i);
            st = hearth_store_begin(s, NULL);
            const char *texts[3] = {a, b, c};
            for (int k = 0; k < 3 && !st; k++) {
                hearth_message m = {.session_id = sid, .role = "assistant", .content = texts[k]};
                st = hearth_store_message_add(s, &m, NULL, NULL);
            }
            if (!st) st = hearth_store_commit(s, NULL);
            break;
        }
        case 3:
            snprintf(text, sizeof text, "c%d", i);
            st = hearth_store_cache_put(s, text, text, strlen(text), NULL);
            break;
        case 4: {
            float v[16];
            for (int k = 0; k < 16; k++) v[k] = (float)((i * 31 + k * 7) % 13) - 6.0f;
            st = hearth_store_embedding_put(s, "crash", i, 0, "m", v, 16, NULL, NULL);
            break;
        }
        }
        if (st) _exit(4);
        int32_t ack = i;
        if (write(fd, &ack, sizeof ack) != (ssize_t)sizeof ack) _exit(5);
    }
    hearth_store_free(s);
    _exit(0);
}

/* Reads every complete ack available on fd (blocking until at least want
 * more arrived or EOF); records them in acked. Returns the count read. */
static int read_acks(int fd, bool *acked, int *next, int want) {
    int got = 0;
    while (want < 0 || got < want) {
        int32_t a;
        ssize_t r = read(fd, &a, sizeof a);
        if (r <= 0) break;
        if (r != (ssize_t)sizeof a || a < 0 || a >= N_WRITES) {
            fprintf(stderr, "bad ack (%zd bytes)\n", r);
            test_failures++;
            break;
        }
        acked[a] = true;
        if (a + 1 > *next) *next = a + 1;
        got++;
    }
    return got;
}

static char *sql_text(sqlite3 *db, const char *sql) {
    sqlite3_stmt *q;
    char *out = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return NULL;
    if (sqlite3_step(q) == SQLITE_ROW) out = strdup(sqlite3_column_text(q, 0) ? (const char *)sqlite3_column_text(q, 0) : "");
    sqlite3_finalize(q);
    return out;
}

static long long sql_int_bound(sqlite3 *db, const char *sql, const char *arg) {
    sqlite3_stmt *q;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

int main(void) {
    const char *path = tu_path("crash.db");
    bool acked[N_WRITES] = {0};
    int next = 0, kills = 0;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "seed %u\n", seed);
    srand(seed);

    for (int round = 0; next < N_WRITES && round < N_KILLS + 20; round++) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(path, next, fds[1]);
        }
        close(fds[1]);
        if (kills < N_KILLS) {
            /* let it acknowledge a random number of writes (including none
             * in the first round: the kill may land during open/migration),
             * then give it a random slice of time so the kill lands anywhere
             * inside a write */
            int want = round == 0 ? 0 : 1 + rand() % 120;
            read_acks(fds[0], acked, &next, want);
            struct timespec ts = {0, (long)(rand() % 3000) * 1000};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
            kills++;
        }
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        read_acks(fds[0], acked, &next, -1); /* acks written before it died */
        close(fds[0]);
        if (WIFEXITED(status)) CHECKF(WEXITSTATUS(status) == 0, "child exit %d", WEXITSTATUS(status));
    }
    CHECK_EQ_INT(kills, N_KILLS);
    CHECK_EQ_INT(next, N_WRITES);

    /* The store opens (recovering the WAL) and works. */
    hearth_store *s = tu_open(path);
    int64_t sid;
    CHECK(hearth_store_session_find(s, "crash", &sid, NULL) == HEARTH_OK);
    hearth_store_free(s);

    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    char *ic = sql_text(db, "PRAGMA integrity_check");
    CHECKF(ic && !strcmp(ic, "ok"), "integrity_check: %s", ic ? ic : "(null)");
    free(ic);
    char *fk = sql_text(db, "PRAGMA foreign_key_check");
    CHECKF(fk == NULL, "foreign_key_check reports %s", fk);
    free(fk);

    int n_acked = 0, missing = 0;
    for (int i = 0; i < N_WRITES; i++) {
        if (!acked[i]) continue;
        n_acked++;
        char key[32];
        long long have = -1;
        switch (i % 5) {
        case 0:
            snprintf(key, sizeof key, "w%d", i);
            have = sql_int_bound(db, "SELECT count(*) FROM messages m JOIN changes c ON c.tbl ="
                                     " 'messages' AND c.key = m.id AND c.op = 'insert'"
                                     " WHERE m.content = ?1", key);
            break;
        case 1:
            snprintf(key, sizeof key, "t%d", i);
            have = sql_int_bound(db, "SELECT count(*) FROM tasks t JOIN changes c ON c.tbl ="
                                     " 'tasks' AND c.key = t.id AND c.op = 'insert'"
                                     " WHERE t.title = ?1", key);
            break;
        case 2:
            snprintf(key, sizeof key, "b%d-%%", i);
            have = sql_int_bound(db, "SELECT count(*) / 3 FROM messages WHERE content LIKE ?1", key);
            break;
        case 3:
            snprintf(key, sizeof key, "c%d", i);
            have = sql_int_bound(db, "SELECT count(*) FROM response_cache WHERE key = ?1", key);
            break;
        case 4:
            snprintf(key, sizeof key, "%d", i);
            have = sql_int_bound(db, "SELECT count(*) FROM embeddings WHERE owner_kind = 'crash'"
                                     " AND owner_id = CAST(?1 AS INTEGER)", key);
            break;
        }
        if (have < 1) {
            missing++;
            if (missing < 10) fprintf(stderr, "acknowledged write %d is missing\n", i);
        }
    }
    CHECK_EQ_INT(missing, 0);
    CHECK(n_acked >= N_WRITES - N_KILLS); /* each kill loses at most the write in flight */
    /* transactions are all-or-nothing: every batch has 0 or 3 rows (a batch
     * redone after a kill has 3 or 6) */
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM (SELECT substr(content, 1, instr(content,"
                                  " '-') - 1) AS b, count(*) AS n FROM messages WHERE content"
                                  " LIKE 'b%' GROUP BY b HAVING n % 3 != 0)"),
                 0);
    /* every row of the logged tables has its change record */
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1"
                                  " FROM changes c WHERE c.tbl = 'messages' AND c.key = m.id)"),
                 0);
    CHECK_EQ_INT(tu_sql_int(path, "SELECT count(*) FROM tasks t WHERE NOT EXISTS (SELECT 1"
                                  " FROM changes c WHERE c.tbl = 'tasks' AND c.key = t.id)"),
                 0);
    sqlite3_close(db);
    fprintf(stderr, "%d kills, %d acknowledged writes, all present\n", kills, n_acked);
    return test_done();
}
