/*
 * sha256.c: hashing model files: SHA-256 (OpenSSL's EVP, which uses the
 * CPU's SHA extensions where present) and, for minisign's prehashed form,
 * BLAKE2b-512 (libsodium) in the same pass. Reads go straight to the file
 * descriptor in large blocks (no stdio copy) and the kernel is told the
 * access is sequential, so the hash, not the reading, sets the speed.
 */
#include "hearth.h"

#include "security/verify_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
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

hearth_status sec_hash_fd(int fd, const char *name, bool want_blake2b, sec_digests *out,
                          hearth_error *err) {
    memset(out, 0, sizeof *out);
    if (want_blake2b && sodium_init() < 0)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "libsodium failed to initialize");
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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
