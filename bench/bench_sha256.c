/*
 * bench_sha256.c: how fast hearth hashes a model file (issue 13's goal:
 * >= 1 GB/s). Writes a file of SIZE_MB (default 1024 = 1 GiB) random-ish
 * bytes in $HEARTH_BENCH_DIR (default /tmp), reads it once to warm the page
 * cache, then reports, best of 3:
 *   - hearth_sha256_file (SHA-256 of the file, OpenSSL EVP),
 *   - SHA-256 + BLAKE2b-512 in one pass (what a minisign "ED" check costs),
 *   - SHA-256 over the same bytes already in memory (the hash alone),
 * each in GB/s (10^9 bytes/s), by the wall clock and per second of the
 * process's CPU time, all threads (the figure that holds on a machine
 * shared with other work; `openssl speed -evp sha256` also counts CPU
 * time). With idle cores, the "ED" pair's wall time is about the slower
 * hash's alone (BLAKE2b runs on a second thread).
 * usage: bench_sha256 [SIZE_MB]
 */
#include "hearth.h"

#include "security/verify_int.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    double wall, cpu;
} best;

static void keep(best *b, double wall, double cpu) {
    if (wall < b->wall) b->wall = wall;
    if (cpu < b->cpu) b->cpu = cpu;
}

int main(int argc, char **argv) {
    long mb = argc > 1 ? atol(argv[1]) : 1024;
    if (mb <= 0) {
        fprintf(stderr, "usage: bench_sha256 [SIZE_MB]\n");
        return 2;
    }
    const char *dir = getenv("HEARTH_BENCH_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/hearth-bench-sha256-%ld.bin", dir && *dir ? dir : "/tmp",
             (long)getpid());
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    if (!buf) return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < chunk; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    for (long i = 0; i < mb; i++) {
        buf[0] = (unsigned char)i; /* no two megabytes alike */
        if (fwrite(buf, 1, chunk, f) != chunk) {
            perror("write");
            fclose(f);
            unlink(path);
            return 1;
        }
    }
    fclose(f);
    double bytes = (double)mb * (double)chunk;
    char hex[65];
    hearth_error e;
    if (hearth_sha256_file(path, hex, &e)) { /* warm the page cache */
        fprintf(stderr, "%s\n", e.msg);
        unlink(path);
        return 1;
    }
    best bf = {1e30, 1e30}, bb = {1e30, 1e30}, bm = {1e30, 1e30};
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s(), c0 = cpu_s();
        hearth_sha256_file(path, hex, &e);
        double t1 = now_s(), c1 = cpu_s();
        int fd = open(path, O_RDONLY);
        sec_digests d;
        sec_hash_fd(fd, path, true, &d, &e);
        close(fd);
        double t2 = now_s(), c2 = cpu_s();
        keep(&bf, t1 - t0, c1 - c0);
        keep(&bb, t2 - t1, c2 - c1);
    }
    /* the hash alone: 1 MiB in memory, hashed SIZE_MB times */
    for (int rep = 0; rep < 3; rep++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char out[32];
        unsigned int ol;
        double t0 = now_s(), c0 = cpu_s();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        for (long i = 0; i < mb; i++) EVP_DigestUpdate(md, buf, chunk);
        EVP_DigestFinal_ex(md, out, &ol);
        keep(&bm, now_s() - t0, cpu_s() - c0);
        EVP_MD_CTX_free(md);
    }
    unlink(path);
    free(buf);
    printf("file: %ld MiB (page cache warm), best of 3      wall clock    per CPU second\n", mb);
    printf("hearth_sha256_file                             %6.2f GB/s   %6.2f GB/s\n",
           bytes / bf.wall / 1e9, bytes / bf.cpu / 1e9);
    printf("sha256 + blake2b-512 (minisign \"ED\" check)    %6.2f GB/s   %6.2f GB/s\n",
           bytes / bb.wall / 1e9, bytes / bb.cpu / 1e9);
    printf("sha256 in memory (the hash alone)              %6.2f GB/s   %6.2f GB/s\n",
           bytes / bm.wall / 1e9, bytes / bm.cpu / 1e9);
    printf("sha256 %s\n", hex);
    return 0;
}
