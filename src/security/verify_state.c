/*
 * verify_state.c: the verified-state memory. A text file, one line per
 * verified model:
 *   path TAB dev TAB ino TAB size TAB mtime_ns TAB ctime_ns TAB sha256 TAB
 *   kind TAB sig_fp TAB key_fp TAB key_name
 * after a first line "hearth-verified-state 1". The path has '%', TAB, CR
 * and LF written as %25, %09, %0D, %0A. A model whose device, inode, size,
 * mtime and ctime all match its line (ctime can not be set back by a user,
 * so "touch -d" after an edit does not fool it) and whose signature and key
 * files hash as recorded is known to be the verified bytes without reading
 * them. Writers take an exclusive flock on STATE.lock and rename a new file
 * over the old, so readers never see half a file. The memory is only an
 * optimization: a damaged file reads as empty.
 */
#include "security/verify_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX_BYTES (8u << 20)
#define STATE_MAX_ENTRIES 4096
#define STATE_LINE_MAX 8192
static const char HEADER[] = "hearth-verified-state 1\n";

/* Reads a whole small file into a NUL-terminated buffer (owned). */
static char *slurp(const char *path, size_t max, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size <= max &&
        (buf = hearth_malloc((size_t)sb.st_size + 1))) {
        size_t got = 0;
        while (got < (size_t)sb.st_size) {
            ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        *len = got;
    }
    close(fd);
    return buf;
}

static bool unescape(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0') return false; /* a path with a NUL would match its prefix */
        if (c == '%') {
            if (n - i < 3) return false;
            char h[3] = {s[i + 1], s[i + 2], 0};
            char *end;
            long v = strtol(h, &end, 16);
            if (*end || v <= 0) return false;
            c = (char)v;
            i += 2;
        }
        if (o + 1 >= cap) return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return o > 0;
}

static void escape(const char *s, FILE *f) {
    for (; *s; s++) {
        if (*s == '%' || *s == '\t' || *s == '\n' || *s == '\r') fprintf(f, "%%%02X", (unsigned char)*s);
        else fputc(*s, f);
    }
}

static bool parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out) {
    bool neg = n && s[0] == '-';
    uint64_t u;
    if (!parse_u64(s + neg, n - neg, &u) || u > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)u : (int64_t)u;
    return true;
}

static bool copy_field(const char *s, size_t n, char *out, size_t cap, bool hex64) {
    if (n == 0 || n >= cap) return false;
    if (hex64 && !(n == 64 || (n == 1 && s[0] == '-'))) return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return strlen(out) == n;
}

/* Parses one line (without its newline). */
static bool parse_line(const char *l, size_t n, char *path, size_t pcap, sec_state_entry *e) {
    const char *f[11];
    size_t fl[11];
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || l[i] == '\t') {
            if (k == 11) return false;
            f[k] = l + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    if (k != 11) return false;
    uint64_t kind;
    memset(e, 0, sizeof *e);
    return unescape(f[0], fl[0], path, pcap) && parse_u64(f[1], fl[1], &e->dev) &&
           parse_u64(f[2], fl[2], &e->ino) && parse_u64(f[3], fl[3], &e->size) &&
           parse_i64(f[4], fl[4], &e->mtime_ns) && parse_i64(f[5], fl[5], &e->ctime_ns) &&
           copy_field(f[6], fl[6], e->sha256, sizeof e->sha256, true) && fl[6] == 64 &&
           parse_u64(f[7], fl[7], &kind) && kind <= HEARTH_SIG_SIGSTORE &&
           (e->kind = (int)kind, true) &&
           copy_field(f[8], fl[8], e->sig_fp, sizeof e->sig_fp, true) &&
           copy_field(f[9], fl[9], e->key_fp, sizeof e->key_fp, true) &&
           copy_field(f[10], fl[10], e->key_name, sizeof e->key_name, false);
}

void sec_state_parse(const char *buf, size_t len,
                     void (*fn)(void *user, const char *path, const sec_state_entry *e),
                     void *user) {
    size_t hl = sizeof HEADER - 1;
    if (len < hl || memcmp(buf, HEADER, hl)) return;
    size_t i = hl;
    char *path = hearth_malloc(STATE_LINE_MAX);
    if (!path) return;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
        sec_state_entry e;
        if (n < STATE_LINE_MAX && parse_line(buf + i, n, path, STATE_LINE_MAX, &e)) fn(user, path, &e);
        i += n + (nl ? 1 : 0);
    }
    hearth_free(path);
}

typedef struct {
    const char *want;
    sec_state_entry *out;
    bool found;
} lookup_ctx;

static void on_lookup(void *user, const char *path, const sec_state_entry *e) {
    lookup_ctx *c = user;
    if (!strcmp(path, c->want)) {
        *c->out = *e; /* the last line for a path wins */
        c->found = true;
    }
}

bool sec_state_lookup(const char *state_path, const char *path, sec_state_entry *out) {
    if (!state_path || !path) return false;
    size_t len = 0;
    char *buf = slurp(state_path, STATE_MAX_BYTES, &len);
    if (!buf) return false;
    lookup_ctx c = {path, out, false};
    sec_state_parse(buf, len, on_lookup, &c);
    hearth_free(buf);
    return c.found;
}

typedef struct {
    const char *skip; /* the path being replaced */
    FILE *f;
    size_t n_kept, n_skip_first; /* oldest lines dropped to stay under the cap */
    size_t seen;
} rewrite_ctx;

static void write_entry(FILE *f, const char *path, const sec_state_entry *e) {
    escape(path, f);
    fprintf(f, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64 "\t%" PRId64 "\t%s\t%d\t%s\t%s\t",
            e->dev, e->ino, e->size, e->mtime_ns, e->ctime_ns, e->sha256, e->kind, e->sig_fp,
            e->key_fp);
    /* a key name never holds a tab or newline in the file */
    for (const char *s = e->key_name; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
    fputc('\n', f);
}

static void on_count(void *user, const char *path, const sec_state_entry *e) {
    (void)e;
    rewrite_ctx *c = user;
    if (strcmp(path, c->skip)) c->n_kept++;
}

static void on_copy(void *user, const char *path, const sec_state_entry *e) {
    rewrite_ctx *c = user;
    if (!strcmp(path, c->skip)) return;
    if (c->seen++ < c->n_skip_first) return;
    write_entry(c->f, path, e);
}

hearth_status sec_state_store(const char *state_path, const char *path,
                              const sec_state_entry *e, hearth_error *err) {
    if (!state_path || !path) return HEARTH_FAIL(err, HEARTH_E_ARG, "state: NULL path");
    size_t sl = strlen(state_path);
    char *lock = hearth_malloc(sl + 64), *tmp = hearth_malloc(sl + 64);
    if (!lock || !tmp) {
        hearth_free(lock);
        hearth_free(tmp);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "state: out of memory");
    }
    snprintf(lock, sl + 64, "%s.lock", state_path);
    snprintf(tmp, sl + 64, "%s.tmp.%ld.%lx", state_path, (long)getpid(),
             (unsigned long)pthread_self());
    hearth_status st = HEARTH_OK;
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "state '%s': %s", lock, strerror(errno));
        goto out;
    }
    size_t len = 0;
    char *old = slurp(state_path, STATE_MAX_BYTES, &len);
    rewrite_ctx c = {.skip = path};
    if (old) sec_state_parse(old, len, on_count, &c);
    size_t cap = STATE_MAX_ENTRIES - 1;
    c.n_skip_first = c.n_kept > cap ? c.n_kept - cap : 0;
    int tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    c.f = tfd >= 0 ? fdopen(tfd, "w") : NULL;
    if (!c.f) {
        if (tfd >= 0) close(tfd);
        hearth_free(old);
        st = HEARTH_FAIL(err, HEARTH_E_IO, "state '%s': %s", tmp, strerror(errno));
        goto out;
    }
    fputs(HEADER, c.f);
    if (old) sec_state_parse(old, len, on_copy, &c);
    hearth_free(old);
    if (e) write_entry(c.f, path, e);
    bool ok = fflush(c.f) == 0 && fsync(fileno(c.f)) == 0;
    ok = (fclose(c.f) == 0) && ok;
    if (!ok || rename(tmp, state_path) != 0) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "state '%s': %s", state_path, strerror(errno));
        unlink(tmp);
    }
out:
    if (lfd >= 0) close(lfd); /* releases the lock */
    hearth_free(lock);
    hearth_free(tmp);
    return st;
}
