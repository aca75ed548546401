/*
 * store.c: opening and closing the local store (data directory, file
 * permissions, pragmas, schema upgrade), and the helpers every store file
 * uses (SQLite error mapping, clock, argument checks).
 *
 * Privacy: the data directory is created 0700 and the database file 0600
 * before SQLite opens it (SQLite gives its -wal and -shm files the same
 * permissions as the database). Existing ones with group or other
 * permissions (e.g. 0755/0644 from an older hearth or a copy) are tightened
 * to the owner's bits alone when this user owns them.
 *
 * Locks: SQLite's unix VFS keeps POSIX advisory locks on the database file,
 * and POSIX drops every lock a process holds on a file as soon as the
 * process closes ANY descriptor of that file. Closing one next to SQLite
 * (an open()+close() to create or check the file) silently unlocks every
 * connection this process has on it: another process can then take the
 * exclusive lock, checkpoint and delete the -wal/-shm that our connections
 * still write into, and acknowledged writes are lost. So nothing here opens
 * hearth.db, -wal or -shm itself: the file is created under a temporary name
 * and linked into place (its only descriptor is closed before the name
 * exists), and permissions are changed with chmod by path, which opens no
 * descriptor.
 *
 * Durability: WAL mode with synchronous=FULL by default, so a commit that
 * returned is on disk; with sync_full=false (NORMAL) a commit is in the
 * WAL file (the OS page cache) when it returns, which survives the process
 * being killed but not power loss.
 */
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

hearth_status store_sqlite_fail(hearth_store *s, int rc, hearth_error *err, const char *file,
                                int line, const char *what) {
    hearth_status code;
    switch (rc & 0xff) {
    case SQLITE_NOMEM: code = HEARTH_E_NOMEM; break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: code = HEARTH_E_ARG; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: code = HEARTH_E_FORMAT; break;
    case SQLITE_FULL: code = HEARTH_E_LIMIT; break;
    case SQLITE_INTERRUPT: code = HEARTH_E_CANCELLED; break;
    default: code = HEARTH_E_IO; break;
    }
    return hearth_fail(err, code, file, line, "%s: %s (SQLite %d)", what,
                       s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
}

int64_t store_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hearth_status store_check_str(const char *str, size_t min, size_t max, const char *field,
                              hearth_error *err) {
    if (!str) return HEARTH_FAIL(err, HEARTH_E_ARG, "%s is NULL", field);
    size_t n = strnlen(str, max + 1);
    if (n < min || n > max)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "%s: length %s%zu outside [%zu, %zu]", field,
                           n > max ? "> " : "", n > max ? max : n, min, max);
    return HEARTH_OK;
}

hearth_store_params hearth_store_default_params(void) {
    return (hearth_store_params){
        .path = NULL,
        .data_dir = NULL,
        .busy_timeout_ms = 5000,
        .sync_full = true,
        .cache_max_entries = 10000,
        .cache_max_bytes = (int64_t)64 << 20,
    };
}

hearth_status hearth_store_default_dir(char *buf, size_t cap, hearth_error *err) {
    const char *home = getenv("HEARTH_HOME");
    int n;
    if (home && *home) n = snprintf(buf, cap, "%s", home);
    else if ((home = getenv("HOME")) && *home) n = snprintf(buf, cap, "%s/.local/share/hearth", home);
    else return HEARTH_FAIL(err, HEARTH_E_IO, "no data directory: set HEARTH_HOME or HOME");
    if (n < 0 || (size_t)n >= cap)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "data directory path longer than %zu bytes", cap);
    return HEARTH_OK;
}

/* Takes group and other permissions away from path (a file or directory
 * of the store) if it has any and this user owns it; keeps the owner's
 * bits. By path, never through a descriptor (see the top of this file). A
 * missing path, or one this user cannot change, is left alone: tightening
 * is a courtesy, not a condition of opening. */
static void make_private(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0 || (sb.st_mode & 077) == 0 || sb.st_uid != geteuid()) return;
    (void)chmod(path, sb.st_mode & 07700);
}

/* Creates path as an empty file of mode 0600 if nothing is there yet.
 * The file is made under a unique temporary name next to it, its
 * descriptor closed, and only then linked to path: no connection can have
 * the new file open while hearth holds a descriptor of it, and link()
 * never replaces a file another process created meanwhile (EEXIST is
 * success). Where the file system has no hard links, SQLite creates the
 * file and hearth_store_open tightens its mode right after. */
static hearth_status create_private(const char *path, hearth_error *err) {
    struct stat sb;
    if (lstat(path, &sb) == 0) return HEARTH_OK;
    if (errno != ENOENT) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.new-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp, strerror(errno));
    close(fd); /* the only descriptor of a file no one else can name yet */
    int rc = link(tmp, path), e = errno;
    unlink(tmp);
    if (rc == 0 || e == EEXIST || e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK)
        return HEARTH_OK;
    return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(e));
}

/* Tightens the database file and its -wal and -shm (see make_private). */
static void make_db_private(const char *path) {
    char side[PATH_MAX];
    make_private(path);
    if (snprintf(side, sizeof side, "%s-wal", path) < (int)sizeof side) make_private(side);
    if (snprintf(side, sizeof side, "%s-shm", path) < (int)sizeof side) make_private(side);
}

/* mkdir -p with mode 0700 for what it creates; the last component, hearth's
 * own directory, is tightened to 0700 if it already existed wider. */
static hearth_status make_dirs(const char *dir, hearth_error *err) {
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "data directory '%s': bad length", dir);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return HEARTH_FAIL(err, HEARTH_E_IO, "creating directory '%s': %s", p, strerror(errno));
        p[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return HEARTH_FAIL(err, HEARTH_E_IO, "data directory '%s' is not a directory", dir);
    make_private(dir);
    return HEARTH_OK;
}

static hearth_status resolve_path(const hearth_store_params *p, char **out, hearth_error *err) {
    char dir[PATH_MAX];
    hearth_status st;
    if (p->path && *p->path) {
        *out = hearth_strdup(p->path);
        return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (p->data_dir && *p->data_dir) {
        if (strlen(p->data_dir) >= sizeof dir)
            return HEARTH_FAIL(err, HEARTH_E_LIMIT, "data directory path too long");
        snprintf(dir, sizeof dir, "%s", p->data_dir);
    } else if ((st = hearth_store_default_dir(dir, sizeof dir, err))) {
        return st;
    }
    if ((st = make_dirs(dir, err))) return st;
    size_t n = strlen(dir) + sizeof "/hearth.db";
    *out = hearth_malloc(n);
    if (!*out) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    snprintf(*out, n, "%s/hearth.db", dir);
    return HEARTH_OK;
}

static hearth_status exec(hearth_store *s, const char *sqltext, hearth_error *err) {
    int rc = sqlite3_exec(s->db, sqltext, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        STORE_FAIL_SQL(s, rc, err, sqltext);
        hearth_error_prefix(err, "%s", s->path);
        return err ? err->code : HEARTH_E_IO;
    }
    return HEARTH_OK;
}

hearth_status hearth_store_open(const hearth_store_params *p, hearth_store **out,
                                hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "out is NULL");
    *out = NULL;
    hearth_store_params def = hearth_store_default_params();
    if (!p) p = &def;
    hearth_store *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    vec_index_init(&s->vecs);
    s->cache_max_entries = p->cache_max_entries;
    s->cache_max_bytes = p->cache_max_bytes;
    hearth_status st = resolve_path(p, &s->path, err);
    if (st) goto fail;

    /* Private from the start, without a descriptor next to SQLite's. */
    if ((st = create_private(s->path, err))) goto fail;
    int rc = sqlite3_open_v2(s->path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = STORE_FAIL_SQL(s, rc, err, "opening");
        hearth_error_prefix(err, "%s", s->path);
        goto fail;
    }
    /* Before the first read, which opens (or creates, with the database's
     * mode) the -wal and -shm. */
    make_db_private(s->path);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, p->busy_timeout_ms > 0 ? p->busy_timeout_ms : 0);
    /* Refuse a newer or foreign database before anything below writes. The
     * last connection to close folds the WAL into the database file, so
     * until the check has passed, closing must not (a refused file keeps
     * every byte). */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if ((st = store_schema_check(s->db, s->path, err))) goto fail;
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
    if ((st = exec(s, "PRAGMA foreign_keys = ON", err))) goto fail;
    {
        sqlite3_stmt *q;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
        bool wal = rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
                   !sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "wal");
        sqlite3_finalize(q);
        if (!wal) {
            st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: cannot switch to WAL mode: %s", s->path,
                             sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    if ((st = exec(s, p->sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                   err)))
        goto fail;
    /* 16 MiB of page cache (SQLite's default is 2 MiB): a batch of a few
     * thousand rows then stays in memory until its commit writes it once. */
    if ((st = exec(s, "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY", err))) goto fail;
    if ((st = store_migrate(s->db, s->path, HEARTH_STORE_SCHEMA_VERSION, err))) goto fail;
    sqlite3_update_hook(s->db, store_update_hook, s);
    *out = s;
    return HEARTH_OK;
fail:
    hearth_store_free(s);
    return st;
}

void hearth_store_free(hearth_store *s) {
    if (!s) return;
    if (s->db) {
        sqlite3_update_hook(s->db, NULL, NULL);
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        store_stmt_finalize_all(s);
        sqlite3_close_v2(s->db);
    }
    vec_index_clear(&s->vecs);
    hearth_free(s->touched);
    hearth_free(s->path);
    hearth_free(s);
}

const char *hearth_store_path(const hearth_store *s) { return s ? s->path : NULL; }
