/* test_multi_open.c: several store handles in one process (as `hearth
 * serve` opens one per slot) keep SQLite's locks on the database, so that
 * another process opening and closing the store (`hearth history`) cannot
 * take the exclusive lock, checkpoint and delete the -wal/-shm under the
 * first one. POSIX drops every lock a process holds on a file when any of
 * its descriptors of that file is closed, so nothing in hearth may open and
 * close the database file next to SQLite.
 *
 * A child opens N_HANDLES handles, makes acknowledged writes through all of
 * them, the parent runs a second process on the same store (`$HEARTH_BIN
 * history`, or a forked child that opens and frees the store when
 * HEARTH_BIN is unset), the first child makes more acknowledged writes and
 * is killed with SIGKILL. Every acknowledged write must be in the database,
 * the log the child wrote must still be the one on disk (not an unlinked
 * file), and the files must keep mode 0600. */
#include "test.h"

#include "store_util.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_HANDLES 4
#define N_PER_PHASE 40

/* The writer: opens N_HANDLES handles on the store in dir, then for each
 * phase makes N_PER_PHASE writes round-robin over the handles, acking
 * each on ack_fd, and waits for a byte on go_fd before the next phase.
 * Waits to be killed at the end. */
static void writer(const char *dir, int ack_fd, int go_fd) {
    hearth_store_params p = hearth_store_default_params();
    p.data_dir = dir;
    hearth_store *s[N_HANDLES] = {0};
    int64_t sid[N_HANDLES];
    for (int h = 0; h < N_HANDLES; h++) {
        if (hearth_store_open(&p, &s[h], NULL)) _exit(2);
        if (hearth_store_session_ensure(s[h], "multi", &sid[h], NULL)) _exit(3);
    }
    for (int phase = 0; phase < 2; phase++) {
        for (int i = 0; i < N_PER_PHASE; i++) {
            int k = phase * N_PER_PHASE + i;
            char text[32];
            snprintf(text, sizeof text, "m%d", k);
            hearth_message m = {.session_id = sid[k % N_HANDLES], .role = "user", .content = text};
            if (hearth_store_message_add(s[k % N_HANDLES], &m, NULL, NULL)) _exit(4);
            int32_t ack = k;
            if (write(ack_fd, &ack, sizeof ack) != (ssize_t)sizeof ack) _exit(5);
        }
        int32_t done = -1;
        if (write(ack_fd, &done, sizeof done) != (ssize_t)sizeof done) _exit(5);
        char c;
        if (read(go_fd, &c, 1) != 1) _exit(6);
    }
    pause();
    _exit(0);
}

/* Reads acks up to the end-of-phase marker; returns how many. */
static int read_phase(int fd, bool *acked) {
    int n = 0;
    for (;;) {
        int32_t a;
        ssize_t r = read(fd, &a, sizeof a);
        if (r != (ssize_t)sizeof a) return n;
        if (a == -1) return n;
        if (a >= 0 && a < 2 * N_PER_PHASE) acked[a] = true;
        n++;
    }
}

/* A second process that opens the store in dir and closes it again. */
static void other_process(const char *dir) {
    const char *bin = getenv("HEARTH_BIN");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("HEARTH_HOME", dir, 1);
        if (bin && *bin) {
            /* its output is of no interest; stdout to /dev/null */
            if (!freopen("/dev/null", "w", stdout)) _exit(7);
            execl(bin, bin, "history", "--session", "multi", (char *)NULL);
            _exit(8);
        }
        hearth_store *s = NULL;
        if (hearth_store_open(NULL, &s, NULL)) _exit(9);
        hearth_store_free(s);
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second process status %d", status);
}

/* Counts fds of process pid that point at a deleted "...hearth.db-wal". */
static int deleted_wal_fds(pid_t pid) {
    char fddir[64];
    snprintf(fddir, sizeof fddir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(fddir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[PATH_MAX], target[PATH_MAX];
        snprintf(link, sizeof link, "%s/%s", fddir, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        if (strstr(target, "hearth.db-wal") && strstr(target, "(deleted)")) n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/home", tu_tmpdir());
    int acks[2], go[2];
    REQUIRE(pipe(acks) == 0 && pipe(go) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(acks[0]);
        close(go[1]);
        writer(dir, acks[1], go[0]);
    }
    close(acks[1]);
    close(go[0]);
    bool acked[2 * N_PER_PHASE] = {0};

    CHECK_EQ_INT(read_phase(acks[0], acked), N_PER_PHASE);
    other_process(dir); /* with the writer's handles all open */
    CHECK_EQ_INT(deleted_wal_fds(pid), 0);
    REQUIRE(write(go[1], "g", 1) == 1);
    CHECK_EQ_INT(read_phase(acks[0], acked), N_PER_PHASE);
    CHECK_EQ_INT(deleted_wal_fds(pid), 0);
    other_process(dir); /* a reader while the writer still runs, once more */
    kill(pid, SIGKILL);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(acks[0]);
    close(go[1]);

    char db[PATH_MAX + 16];
    snprintf(db, sizeof db, "%s/hearth.db", dir);
    int missing = 0;
    for (int k = 0; k < 2 * N_PER_PHASE; k++) {
        CHECK(acked[k]);
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM messages WHERE content = 'm%d'", k);
        if (tu_sql_int(db, sql) != 1) {
            if (missing++ < 5) fprintf(stderr, "acknowledged write m%d is missing\n", k);
        }
    }
    CHECK_EQ_INT(missing, 0);
    struct stat sb;
    CHECK(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    fprintf(stderr, "%d handles, %d acknowledged writes, %d missing\n", N_HANDLES,
            2 * N_PER_PHASE, missing);
    return test_done();
}
