/*
 * sha256.c: hashing model files: SHA-256 (OpenSSL's EVP, which uses the
 * CPU's SHA extensions where present) and, for minisign's prehashed form,
 * BLAKE2b-512 (libsodium). A regular file is mapped and hashed straight
 * from the page cache (no copy into a buffer), the kernel told the access
 * is sequential; when both hashes are wanted, BLAKE2b runs on a second
 * thread over the same mapping, so the pair costs about as much wall time
 * as the slower one. What can not be mapped is read in 4 MiB blocks.
 */
#include "hearth.h"

#include "security/verify_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_BLOCK (4u << 20) /* bytes per read */

void sec_hex(const uint8_t *d, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* read() fallback: both hashes in one pass over a buffer. */
static hearth_status hash_read(int fd, const char *name, bool want_blake2b, sec_digests *out,
                               hearth_error *err) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t *buf = hearth_malloc(HASH_BLOCK);
    crypto_generichash_state bs;
    hearth_status st = HEARTH_OK;
    if (!md || !buf) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "hashing '%s': out of memory", name);
    else if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 is not available (libcrypto)");
    else if (want_blake2b && crypto_generichash_init(&bs, NULL, 0, 64) != 0)
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "BLAKE2b-512 is not available (libsodium)");
    uint64_t total = 0;
    while (!st) {
        ssize_t n = read(fd, buf, HASH_BLOCK);
        if (n < 0) {
            if (errno == EINTR) continue;
            st = HEARTH_FAIL(err, HEARTH_E_IO, "reading '%s': %s", name, strerror(errno));
            break;
        }
        if (n == 0) break;
        if (!EVP_DigestUpdate(md, buf, (size_t)n))
            st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 update failed");
        else if (want_blake2b && crypto_generichash_update(&bs, buf, (unsigned long long)n) != 0)
            st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "BLAKE2b update failed");
        total += (uint64_t)n;
    }
    unsigned int dl = 0;
    if (!st && (!EVP_DigestFinal_ex(md, out->sha256, &dl) || dl != 32))
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 final failed");
    if (!st && want_blake2b && crypto_generichash_final(&bs, out->blake2b, 64) != 0)
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "BLAKE2b final failed");
    out->size = total;
    EVP_MD_CTX_free(md);
    hearth_free(buf);
    return st;
}

typedef struct {
    const uint8_t *p;
    size_t n;
    uint8_t out[64];
    bool ok;
} blake_job;

static void *blake_thread(void *arg) {
    blake_job *j = arg;
    j->ok = crypto_generichash(j->out, 64, j->p, (unsigned long long)j->n, NULL, 0) == 0;
    return NULL;
}

static bool sha256_mem(const uint8_t *p, size_t n, uint8_t out[32]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int dl = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    /* in blocks, so that a huge file is not one call with a size_t that
     * some implementation might narrow */
    for (size_t off = 0; ok && off < n; off += HASH_BLOCK)
        ok = EVP_DigestUpdate(md, p + off, n - off < HASH_BLOCK ? n - off : HASH_BLOCK);
    ok = ok && EVP_DigestFinal_ex(md, out, &dl) && dl == 32;
    EVP_MD_CTX_free(md);
    return ok;
}

hearth_status sec_hash_fd(int fd, const char *name, bool want_blake2b, sec_digests *out,
                          hearth_error *err) {
    memset(out, 0, sizeof *out);
    if (want_blake2b && sodium_init() < 0)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "libsodium failed to initialize");
    struct stat sb;
    off_t start = lseek(fd, 0, SEEK_CUR);
    void *map = MAP_FAILED;
    size_t n = 0;
    if (start == 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size <= SIZE_MAX) {
        n = (size_t)sb.st_size;
        map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    if (map == MAP_FAILED) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        return hash_read(fd, name, want_blake2b, out, err);
    }
    (void)madvise(map, n, MADV_SEQUENTIAL | MADV_WILLNEED);
    blake_job job = {.p = map, .n = n};
    pthread_t th;
    bool threaded = want_blake2b && pthread_create(&th, NULL, blake_thread, &job) == 0;
    bool sha_ok = sha256_mem(map, n, out->sha256);
    if (threaded) pthread_join(th, NULL);
    else if (want_blake2b) blake_thread(&job);
    munmap(map, n);
    if (!sha_ok) return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 is not available (libcrypto)");
    if (want_blake2b && !job.ok)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "BLAKE2b-512 is not available (libsodium)");
    if (want_blake2b) memcpy(out->blake2b, job.out, 64);
    out->size = n;
    /* what is mapped is read to the end of the file as it was at fstat;
     * the offset moves as a read would have moved it */
    (void)lseek(fd, (off_t)n, SEEK_SET);
    return HEARTH_OK;
}

hearth_status hearth_sha256_file(const char *path, char hex[65], hearth_error *err) {
    if (!path || !hex) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sha256_file: NULL argument");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "'%s': %s", path, strerror(errno));
    sec_digests d;
    hearth_status st = sec_hash_fd(fd, path, false, &d, err);
    close(fd);
    if (!st) sec_hex(d.sha256, 32, hex);
    return st;
}
