/*
 * model_hash.c: identifies a model file by the SHA-256 of its bytes, for
 * the response cache key (a cached answer is only valid for the very same
 * weights). Hashing a large file takes a while, so the digest is remembered
 * in the store's settings, keyed by the file's path and checked against its
 * size, modification time and inode: a file replaced in place is rehashed.
 */
#include "agent/agent_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void to_hex(const unsigned char *d, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

hearth_status agent_sha256_hex(const void *data, size_t len, char out[65], hearth_error *err) {
    unsigned char d[32];
    unsigned int dl = 0;
    if (!EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL) || dl != 32)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 is not available (libcrypto)");
    to_hex(d, 32, out);
    return HEARTH_OK;
}

static hearth_status hash_file(const char *path, char out[65], hearth_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return HEARTH_FAIL(err, HEARTH_E_IO, "model '%s': %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = hearth_malloc(CHUNK);
    hearth_status st = HEARTH_OK;
    if (!md || !buf) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "model hash: out of memory");
    else if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 is not available (libcrypto)");
    size_t n;
    while (!st && (n = fread(buf, 1, CHUNK, f)) > 0)
        if (!EVP_DigestUpdate(md, buf, n))
            st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 update failed");
    if (!st && ferror(f)) st = HEARTH_FAIL(err, HEARTH_E_IO, "model '%s': read error", path);
    unsigned char d[32];
    unsigned int dl = 0;
    if (!st && (!EVP_DigestFinal_ex(md, d, &dl) || dl != 32))
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 final failed");
    if (!st) to_hex(d, 32, out);
    EVP_MD_CTX_free(md);
    hearth_free(buf);
    fclose(f);
    return st;
}

hearth_status agent_model_hash(const char *path, hearth_store *store, char out[65],
                               hearth_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return HEARTH_FAIL(err, HEARTH_E_IO, "model '%s': %s", path, strerror(errno));
    char *real = realpath(path, NULL);
    const char *name = real ? real : path;
    char name_hash[65], key[96], stamp[128];
    hearth_status st = agent_sha256_hex(name, strlen(name), name_hash, err);
    free(real); /* realpath's buffer comes from malloc */
    if (st) return st;
    snprintf(key, sizeof key, "model_sha256:%s", name_hash);
    snprintf(stamp, sizeof stamp, "%" PRIu64 ":%" PRId64 ".%09ld:%" PRIu64 ":",
             (uint64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
             (uint64_t)sb.st_ino);
    char *known = NULL;
    if (store && hearth_store_setting_get(store, key, &known, NULL) == HEARTH_OK) {
        size_t sl = strlen(stamp);
        if (strlen(known) == sl + 64 && !strncmp(known, stamp, sl)) {
            memcpy(out, known + sl, 65);
            hearth_free(known);
            return HEARTH_OK;
        }
        hearth_free(known);
    }
    st = hash_file(path, out, err);
    if (st) return st;
    if (store) {
        char value[128 + 65];
        snprintf(value, sizeof value, "%s%s", stamp, out);
        /* Remembering is an optimization: a failure here costs time, not
         * correctness. */
        hearth_store_setting_set(store, key, value, NULL);
    }
    return HEARTH_OK;
}
