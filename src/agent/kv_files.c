/*
 * kv_files.c: the files of saved states in $HEARTH_HOME/kv (kv_files.h),
 * shared by the agent's sessions (kv_cache.c) and the server's
 * conversations (kv_store.c). The format is kv_cache.c's.
 */
#include "agent/kv_files.h"

#include "agent/agent_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The prefix hash of a state: the first 16 hex digits of SHA-256 over the
 * model file's hash and the token ids (out: 17 bytes). */
bool kvf_prefix_hash(const char *model_hash, const int32_t *t, size_t n, char out[17]) {
    agent_buf key = {0};
    char ph[65];
    bool ok = agent_buf_put(&key, model_hash, 64) &&
              agent_buf_put(&key, (const char *)t, n * sizeof *t) &&
              agent_sha256_hex(key.v, key.n, ph, NULL) == HEARTH_OK;
    agent_buf_free(&key);
    if (ok) snprintf(out, 17, "%.16s", ph);
    return ok;
}

/* Reads the head of the file called name. OUT: *tokens (owned), *n. The
 * FILE is left at the engine state. False when the file is not one of ours
 * for this model, or its token ids do not hash to the name (damage: the
 * engine's checksum covers only the state). */
bool kvf_read_head(const char *model_hash, FILE *f, const char *name, int32_t **tokens,
                   uint32_t *n) {
    char magic[4], hash[64];
    uint32_t version;
    *tokens = NULL;
    if (fread(magic, 1, 4, f) != 4 || memcmp(magic, KVC_MAGIC, 4) ||
        fread(&version, 4, 1, f) != 1 || version != KVC_VERSION || fread(hash, 1, 64, f) != 64 ||
        memcmp(hash, model_hash, 64) || fread(n, 4, 1, f) != 1 || *n == 0 ||
        *n > KVC_MAX_TOKENS)
        return false;
    int32_t *t = hearth_malloc((size_t)*n * sizeof *t);
    if (!t) return false;
    char ph[17];
    size_t nl = strlen(name);
    if (fread(t, sizeof *t, *n, f) != *n || nl != 53 || !kvf_prefix_hash(model_hash, t, *n, ph) ||
        memcmp(name + 34, ph, 16)) {
        hearth_free(t);
        return false;
    }
    *tokens = t;
    return true;
}

bool kvf_head_at(const char *dir, const char *name, const char *model_hash, int32_t **tokens, uint32_t *n) {
    char path[4096];
    *tokens = NULL;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    bool ok = kvf_read_head(model_hash, f, name, tokens, n);
    fclose(f);
    return ok;
}

/* The regular files of the directory whose names start with stem (NULL:
 * every *.kv and stale temporary file). OUT: *out (owned), *n. */
bool kvf_list(const char *dir, const char *stem, kvf_file **out, size_t *n) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return false;
    size_t cap = 0;
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (len >= sizeof(((kvf_file *)0)->name) || (nm[0] == '.' && !strstr(nm, ".tmp"))) continue;
        if (stem ? strncmp(nm, stem, strlen(stem)) || len < 3 || strcmp(nm + len - 3, ".kv")
                 : !(len > 3 && !strcmp(nm + len - 3, ".kv")) && !strstr(nm, ".tmp"))
            continue;
        char path[4096];
        struct stat sb;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, nm) >= sizeof path ||
            lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            kvf_file *v = hearth_realloc(*out, nc * sizeof *v);
            if (!v) {
                ok = false;
                break;
            }
            *out = v;
            cap = nc;
        }
        kvf_file *k = &(*out)[(*n)++];
        memcpy(k->name, nm, len + 1);
        k->size = (int64_t)sb.st_size;
        k->mtime = sb.st_mtim;
    }
    closedir(d);
    if (!ok) {
        hearth_free(*out);
        *out = NULL;
        *n = 0;
    }
    return ok;
}

static int by_mtime(const void *x, const void *y) {
    const kvf_file *p = x, *q = y;
    if (p->mtime.tv_sec != q->mtime.tv_sec) return p->mtime.tv_sec < q->mtime.tv_sec ? -1 : 1;
    return p->mtime.tv_nsec < q->mtime.tv_nsec ? -1 : p->mtime.tv_nsec > q->mtime.tv_nsec;
}

/* Removes the least recently used files until the directory holds at most
 * max bytes, keeping keep (a name, or NULL); and stale temporary files. */
void kvf_evict(const char *dir, int64_t max, const char *keep, void (*gone)(void *, const char *),
               void *user) {
    kvf_file *v;
    size_t n;
    if (!kvf_list(dir, NULL, &v, &n)) return;
    qsort(v, n, sizeof *v, by_mtime);
    int64_t total = 0;
    time_t now = time(NULL);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        if (strstr(v[i].name, ".tmp")) {
            if (now - v[i].mtime.tv_sec > KVC_TMP_STALE_S) {
                snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
                unlink(path);
            }
            v[i].size = -1; /* a writer's, or gone: not counted */
            continue;
        }
        total += v[i].size;
    }
    for (size_t i = 0; i < n && total > max; i++) {
        if (v[i].size < 0 || (keep && !strcmp(v[i].name, keep))) continue;
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        if (unlink(path) == 0 || errno == ENOENT) {
            total -= v[i].size;
            if (gone) gone(user, v[i].name);
        }
    }
    hearth_free(v);
}

hearth_status kvf_write(const char *dir, const char *name, const char *model_hash, const hearth_ctx *ctx,
                        int32_t seq, const int32_t *t, size_t n, hearth_error *err) {
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    }
    uint32_t version = KVC_VERSION, tn = (uint32_t)n;
    hearth_error e = {0};
    bool ok = fwrite(KVC_MAGIC, 1, 4, f) == 4 && fwrite(&version, 4, 1, f) == 1 &&
              fwrite(model_hash, 1, 64, f) == 64 && fwrite(&tn, 4, 1, f) == 1 &&
              fwrite(t, sizeof(int32_t), n, f) == n;
    if (ok && hearth_ctx_seq_state_save_file(ctx, seq, (int32_t)n, f, &e) != HEARTH_OK) ok = false;
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        int en = errno;
        unlink(tmp);
        return HEARTH_FAIL(err, HEARTH_E_IO, "cannot write '%s': %s", path, e.msg[0] ? e.msg : strerror(en));
    }
    return HEARTH_OK;
}
