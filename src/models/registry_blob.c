/*
 * registry_blob.c: the registry's files: the writer lock, durable atomic
 * replacement (temp + fsync + rename + fsync of the directory), blobs moved
 * or copied into blobs/ (hashed on the way when copied), and garbage
 * collection of blobs no name uses.
 *
 * Order that keeps a SIGKILL harmless: a blob is complete and fsync'd in
 * tmp/, renamed into blobs/, blobs/ fsync'd, and only then may
 * registry.json name it; a blob is deleted only after the registry.json
 * that no longer names it is durable.
 */
#include "models/registry_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

hearth_status reg_fsync_dir(const char *dir, hearth_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc && e != EINVAL) return HEARTH_FAIL(err, HEARTH_E_IO, "fsync %s: %s", dir, strerror(e));
    return HEARTH_OK;
}

static hearth_status write_all(int fd, const void *buf, size_t len, const char *what,
                               hearth_error *err) {
    const char *p = buf;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            return HEARTH_FAIL(err, HEARTH_E_IO, "writing %s: %s", what, strerror(errno));
        p += k;
        len -= (size_t)k;
    }
    return HEARTH_OK;
}

hearth_status reg_write_atomic(const char *path, const void *buf, size_t len,
                               hearth_error *err) {
    char tmp[4200], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "path too long: %.60s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp, strerror(errno));
    hearth_status st = write_all(fd, buf, len, tmp, err);
    if (!st && fsync(fd)) st = HEARTH_FAIL(err, HEARTH_E_IO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) && !st) st = HEARTH_FAIL(err, HEARTH_E_IO, "close %s: %s", tmp, strerror(errno));
    if (!st && rename(tmp, path))
        st = HEARTH_FAIL(err, HEARTH_E_IO, "rename to %s: %s", path, strerror(errno));
    if (st) {
        unlink(tmp);
        return st;
    }
    return reg_fsync_dir(dir, err);
}

hearth_status reg_lock(registry *r, hearth_error *err) {
    if (r->lock_fd >= 0) return HEARTH_FAIL(err, HEARTH_E_STATE, "registry already locked");
    int fd = open(r->lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", r->lockfile, strerror(errno));
    while (flock(fd, LOCK_EX)) {
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "lock %s: %s", r->lockfile, strerror(e));
    }
    r->lock_fd = fd;
    hearth_status st = reg_load(r, err);
    if (st) reg_unlock(r);
    return st;
}

void reg_unlock(registry *r) {
    if (r->lock_fd >= 0) close(r->lock_fd); /* closing drops the flock */
    r->lock_fd = -1;
}

bool reg_blob_used(const registry *r, const char *sha256) {
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < r->e[i].n; j++)
            if (!strcmp(r->e[i].v[j].sha256, sha256)) return true;
    return false;
}

void reg_blob_drop_unused(registry *r, const char *sha256, uint64_t *freed) {
    if (reg_blob_used(r, sha256)) return;
    char p[4096];
    struct stat sb;
    if (!registry_blob_path(r, sha256, p, sizeof p) || stat(p, &sb)) return;
    if (!unlink(p) && freed) *freed += (uint64_t)sb.st_size;
    char q[4200];
    snprintf(q, sizeof q, "%s.minisig", p);
    unlink(q);
    snprintf(q, sizeof q, "%s.sig", p);
    unlink(q);
}

hearth_status registry_attach_signature(registry *r, const char *sha256, const char *sig_path,
                                        hearth_error *err) {
    if (!r || !reg_is_sha256(sha256) || !sig_path)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_attach_signature: bad argument");
    size_t n = strlen(sig_path);
    bool minisig = n > 8 && !strcmp(sig_path + n - 8, ".minisig");
    char dst[4200];
    if (!registry_blob_path(r, sha256, dst, sizeof dst - 10))
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "blob path too long");
    strcat(dst, minisig ? ".minisig" : ".sig");
    int fd = open(sig_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", sig_path, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc || rename(sig_path, dst))
        return HEARTH_FAIL(err, HEARTH_E_IO, "keeping the signature as %s: %s", dst,
                           strerror(errno));
    return reg_fsync_dir(r->blobs, err);
}

bool registry_blob_path(const registry *r, const char *sha256, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s/sha256-%s", r->blobs, sha256);
    return n > 0 && (size_t)n < cap;
}

hearth_status registry_commit_blob(registry *r, const char *tmp_path, const char *sha256,
                                   hearth_error *err) {
    if (!reg_is_sha256(sha256))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_commit_blob: bad hash");
    char dst[4096];
    if (!registry_blob_path(r, sha256, dst, sizeof dst))
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "blob path too long");
    struct stat sb;
    if (!stat(dst, &sb)) {
        unlink(tmp_path);
        return HEARTH_OK;
    }
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp_path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc) return HEARTH_FAIL(err, HEARTH_E_IO, "fsync %s: %s", tmp_path, strerror(e));
    if (rename(tmp_path, dst))
        return HEARTH_FAIL(err, HEARTH_E_IO, "rename %s to %s: %s", tmp_path, dst,
                           strerror(errno));
    return reg_fsync_dir(r->blobs, err);
}

/* Copies src into a new temp file in tmp/, hashing it. OUT: tmp_out (the
 * temp file's path), hex, *size. */
static hearth_status copy_hash(registry *r, const char *src, char tmp_out[4200], char hex[65],
                               uint64_t *size, hearth_error *err) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", src, strerror(errno));
    struct stat sb;
    if (fstat(in, &sb) || !S_ISREG(sb.st_mode)) {
        close(in);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "%s: not a regular file", src);
    }
    snprintf(tmp_out, 4200, "%s/add-XXXXXX", r->tmp);
    int out = mkostemp(tmp_out, O_CLOEXEC);
    if (out < 0) {
        close(in);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp_out, strerror(errno));
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    hearth_status st = HEARTH_OK;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "SHA-256 context");
    enum { BUF = 1 << 20 };
    unsigned char *buf = st ? NULL : hearth_malloc(BUF);
    if (!st && !buf) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    uint64_t total = 0;
    while (!st) {
        ssize_t k = read(in, buf, BUF);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            st = HEARTH_FAIL(err, HEARTH_E_IO, "reading %s: %s", src, strerror(errno));
            break;
        }
        if (k == 0) break;
        EVP_DigestUpdate(md, buf, (size_t)k);
        st = write_all(out, buf, (size_t)k, tmp_out, err);
        total += (uint64_t)k;
    }
    unsigned char d[32];
    unsigned dl = 0;
    if (!st && !EVP_DigestFinal_ex(md, d, &dl)) st = HEARTH_FAIL(err, HEARTH_E_IO, "SHA-256");
    if (!st && fsync(out)) st = HEARTH_FAIL(err, HEARTH_E_IO, "fsync: %s", strerror(errno));
    if (close(out) && !st) st = HEARTH_FAIL(err, HEARTH_E_IO, "close: %s", strerror(errno));
    close(in);
    hearth_free(buf);
    EVP_MD_CTX_free(md);
    if (st) {
        unlink(tmp_out);
        return st;
    }
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    *size = total;
    return HEARTH_OK;
}

/* The default name for a file: its base name without ".gguf". */
static void name_from_path(const char *path, char *buf, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, cap, "%s", b);
    size_t n = strlen(buf);
    if (n > 5 && !strcasecmp(buf + n - 5, ".gguf")) buf[n - 5] = '\0';
    /* ':' would be read as a tag separator: make it a plain name. */
    for (char *p = buf; *p; p++)
        if (*p == ':') *p = '-';
    hearth_error e;
    char norm[REGISTRY_NAME_MAX + 1];
    if (registry_name_norm(buf, norm, sizeof norm, &e)) snprintf(buf, cap, "model");
}

hearth_status registry_add_file(registry *r, const char *path, const char *name,
                                const registry_add_params *p, registry_resolved *res,
                                hearth_error *err) {
    if (!r || !path) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_add_file: NULL argument");
    char nbuf[REGISTRY_NAME_MAX + 1];
    if (!name) {
        name_from_path(path, nbuf, sizeof nbuf);
        name = nbuf;
    }
    char norm[REGISTRY_NAME_MAX + 1];
    hearth_status st = registry_name_norm(name, norm, sizeof norm, err);
    if (st) return st;
    char tmp[4200], hex[65];
    uint64_t size = 0;
    if ((st = copy_hash(r, path, tmp, hex, &size, err))) return st;
    if ((st = registry_commit_blob(r, tmp, hex, err))) {
        unlink(tmp);
        return st;
    }
    registry_add_params ap = p ? *p : (registry_add_params){.activate = true};
    char abspath[4096];
    if (!ap.source) ap.source = realpath(path, abspath) ? abspath : path;
    if ((st = registry_add_version(r, norm, hex, &ap, err))) return st;
    if (res) {
        char ref[REGISTRY_NAME_MAX + 80];
        snprintf(ref, sizeof ref, "%s@%s", norm, hex);
        return registry_resolve(r, ref, res, err);
    }
    return HEARTH_OK;
}

hearth_status registry_gc(registry *r, int64_t max_age_s, uint64_t *freed, hearth_error *err) {
    if (freed) *freed = 0;
    hearth_status st = reg_lock(r, err);
    if (st) return st;
    DIR *d = opendir(r->blobs);
    if (!d) {
        reg_unlock(r);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", r->blobs, strerror(errno));
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "sha256-", 7)) continue;
        const char *h = de->d_name + 7;
        if (!reg_is_sha256(h)) continue;
        reg_blob_drop_unused(r, h, freed);
    }
    closedir(d);
    if (max_age_s >= 0 && (d = opendir(r->tmp))) {
        time_t now = time(NULL);
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            /* Partial downloads (pull.c) stay: a later pull resumes them. */
            if (strstr(de->d_name, ".partial")) continue;
            char p[4400];
            struct stat sb;
            snprintf(p, sizeof p, "%s/%s", r->tmp, de->d_name);
            if (stat(p, &sb) || !S_ISREG(sb.st_mode) || now - sb.st_mtime < max_age_s) continue;
            if (!unlink(p) && freed) *freed += (uint64_t)sb.st_size;
        }
        closedir(d);
    }
    reg_unlock(r);
    return HEARTH_OK;
}
