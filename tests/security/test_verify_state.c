/*
 * test_verify_state.c: the verified-state memory of hearth_verify_file and
 * hearth_sha256_file. A model signed with the real minisign is verified
 * once (hashed), then answered from the state (r.from_state: nothing was
 * read); a new mtime, an in-place edit with the mtime set back (ctime
 * gives it away), a new inode, a removed trusted key, a replaced
 * signature, `fresh` and a damaged state file each force a full check. Two
 * threads recording at once both land in the state. SHA-256 matches known
 * vectors.
 */
#include "test.h"

#include "genutil.h"
#include "hearth.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[512], model[600], keydir[600], key[600], seckey[600], state[600];

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

static hearth_status verify(hearth_verify_params *p, hearth_verify_result *r, hearth_error *e) {
    memset(e, 0, sizeof *e);
    return hearth_verify_file(model, p, r, e);
}

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs(s, f);
    fclose(f);
}

static void flip_byte(const char *path, long off) {
    int fd = open(path, O_RDWR);
    REQUIRE(fd >= 0);
    unsigned char c;
    REQUIRE(pread(fd, &c, 1, off) == 1);
    c ^= 0x40;
    REQUIRE(pwrite(fd, &c, 1, off) == 1);
    close(fd);
}

typedef struct {
    const char *path;
    hearth_status st;
} thread_job;

static void *verify_thread(void *arg) {
    thread_job *j = arg;
    hearth_verify_params p = hearth_verify_default_params();
    p.state_path = state;
    hearth_verify_result r;
    j->st = hearth_verify_file(j->path, &p, &r, NULL);
    return NULL;
}

int main(void) {
    if (system("command -v minisign >/dev/null 2>&1")) {
        fprintf(stderr, "SKIP: no minisign\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "%s", tmpdir_path());
    const char *g = genmodel("m.gguf", "--arch llama --preset tiny --type F32");
    REQUIRE(g);
    snprintf(model, sizeof model, "%s", g);
    snprintf(keydir, sizeof keydir, "%s/keys", dir);
    snprintf(key, sizeof key, "%s/keys/k.pub", dir);
    snprintf(seckey, sizeof seckey, "%s/k.key", dir);
    snprintf(state, sizeof state, "%s/verified-state", dir);
    REQUIRE(mkdir(keydir, 0700) == 0);
    REQUIRE(sh("minisign -G -W -p '%s' -s '%s' >/dev/null", key, seckey) == 0);
    REQUIRE(sh("minisign -S -s '%s' -m '%s' -t first >/dev/null", seckey, model) == 0);

    hearth_verify_params p = hearth_verify_default_params();
    p.trust_dir = keydir;
    p.state_path = state;
    p.require_signature = true;
    hearth_verify_result r;
    hearth_error e;

    /* first open: hashed; second: from the state */
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state && r.signature_ok);
    char sha[65];
    memcpy(sha, r.sha256, 65);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECKF(r.from_state, "second open re-hashed");
    CHECK_STR(r.sha256, sha);
    CHECK_STR(r.trusted_comment, "first");
    CHECK(r.signature_ok && r.sig_kind == HEARTH_SIG_MINISIGN);
    /* fresh: re-checked even though remembered */
    p.fresh = true;
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    p.fresh = false;
    /* without a state file nothing is remembered */
    hearth_verify_params q = p;
    q.state_path = NULL;
    CHECK_EQ_INT(verify(&q, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);

    /* a new mtime: checked again, then remembered again */
    struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    REQUIRE(utimensat(AT_FDCWD, model, ts, 0) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(r.from_state);

    /* an in-place edit with the mtime set back: same size and mtime, but
     * the ctime moved: refused, and the message says it was modified */
    struct stat before;
    REQUIRE(stat(model, &before) == 0);
    usleep(20000);
    flip_byte(model, (long)before.st_size / 2);
    struct timespec back[2] = {before.st_atim, before.st_mtim};
    REQUIRE(utimensat(AT_FDCWD, model, back, 0) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_E_SIGNATURE);
    CHECK(!r.from_state);
    CHECK_EQ_INT(r.failure, HEARTH_VERIFY_MODIFIED);
    CHECKF(strstr(e.msg, "modified after signing") != NULL, "%s", e.msg);
    CHECKF(strstr(e.msg, "verified earlier") != NULL, "%s", e.msg);
    /* and stays refused (a failure is never remembered as good) */
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_E_SIGNATURE);
    flip_byte(model, (long)before.st_size / 2); /* undo */
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    CHECK_STR(r.sha256, sha);

    /* a new inode with the same bytes, size and mtime: checked again */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.new", model);
    REQUIRE(sh("cp -p '%s' '%s'", model, tmp) == 0);
    REQUIRE(rename(tmp, model) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(r.from_state);

    /* the key is no longer trusted: refused, not answered from the state */
    char moved[700];
    snprintf(moved, sizeof moved, "%s/k.pub.away", dir);
    REQUIRE(rename(key, moved) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_E_SIGNATURE);
    CHECK_EQ_INT(r.failure, HEARTH_VERIFY_UNTRUSTED_KEY);
    CHECK(!r.from_state);
    REQUIRE(rename(moved, key) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);

    /* a new signature file: checked again (its trusted comment is new) */
    char sig[700];
    snprintf(sig, sizeof sig, "%s.minisig", model);
    REQUIRE(unlink(sig) == 0);
    REQUIRE(sh("minisign -S -s '%s' -m '%s' -t second >/dev/null", seckey, model) == 0);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    CHECK_STR(r.trusted_comment, "second");
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(r.from_state);
    CHECK_STR(r.trusted_comment, "second");

    /* a damaged state file: a full check, no failure */
    write_file(state, "hearth-verified-state 1\ngarbage\tline\n\t\t\t\n");
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    write_file(state, "not a state file at all");
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(!r.from_state);
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(r.from_state);

    /* unsigned and not required: the hash is remembered too */
    char plain[700];
    snprintf(plain, sizeof plain, "%s/plain.bin", dir);
    write_file(plain, "abc");
    hearth_verify_params u = hearth_verify_default_params();
    u.state_path = state;
    CHECK_EQ_INT(hearth_verify_file(plain, &u, &r, &e), HEARTH_OK);
    CHECK(!r.from_state && !r.signature_ok && r.sig_kind == HEARTH_SIG_NONE);
    CHECK_STR(r.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_EQ_INT(hearth_verify_file(plain, &u, &r, &e), HEARTH_OK);
    CHECK(r.from_state);
    u.require_signature = true;
    CHECK_EQ_INT(hearth_verify_file(plain, &u, &r, &e), HEARTH_E_SIGNATURE);
    CHECK_EQ_INT(r.failure, HEARTH_VERIFY_UNSIGNED);
    CHECKF(!strncmp(e.msg, "unsigned: ", 10), "%s", e.msg);
    /* the model's entry survived the other file's writes */
    CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK);
    CHECK(r.from_state);

    /* a state line whose path is the file's plus a NUL and more is not the
     * file's: its (wrong) hash must not be believed */
    {
        write_file(plain, "abc");
        struct stat sb;
        REQUIRE(stat(plain, &sb) == 0);
        char *real = realpath(plain, NULL);
        REQUIRE(real);
        FILE *f = fopen(state, "wb");
        REQUIRE(f);
        fprintf(f, "hearth-verified-state 1\n%s", real);
        fputc('\0', f);
        fprintf(f, "x\t%llu\t%llu\t%llu\t%lld\t%lld\t%064d\t0\t-\t-\t-\n",
                (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
                (unsigned long long)sb.st_size,
                (long long)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec,
                (long long)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec, 0);
        fclose(f);
        free(real);
        u.require_signature = false;
        CHECK_EQ_INT(hearth_verify_file(plain, &u, &r, &e), HEARTH_OK);
        CHECKF(!r.from_state, "a line for another path (NUL inside) was taken as this file's");
        CHECK_STR(r.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK_EQ_INT(verify(&p, &r, &e), HEARTH_OK); /* the model: its entry is gone, checked again */
        CHECK(!r.from_state);
    }

    /* two threads recording at once */
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/a.bin", dir);
    snprintf(b, sizeof b, "%s/b.bin", dir);
    write_file(a, "a");
    write_file(b, "b");
    thread_job ja = {a, -1}, jb = {b, -1};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, verify_thread, &ja);
    pthread_create(&tb, NULL, verify_thread, &jb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ_INT(ja.st, HEARTH_OK);
    CHECK_EQ_INT(jb.st, HEARTH_OK);
    hearth_verify_params s = hearth_verify_default_params();
    s.state_path = state;
    CHECK_EQ_INT(hearth_verify_file(a, &s, &r, &e), HEARTH_OK);
    CHECK(r.from_state);
    CHECK_EQ_INT(hearth_verify_file(b, &s, &r, &e), HEARTH_OK);
    CHECK(r.from_state);

    /* hearth_sha256_file: known vectors */
    char hex[65];
    write_file(plain, "");
    CHECK_EQ_INT(hearth_sha256_file(plain, hex, &e), HEARTH_OK);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    write_file(plain, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    CHECK_EQ_INT(hearth_sha256_file(plain, hex, &e), HEARTH_OK);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK_EQ_INT(hearth_sha256_file("/nonexistent/x", hex, &e), HEARTH_E_IO);
    CHECK_EQ_INT(hearth_verify_file("/nonexistent/x", &p, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(hearth_verify_file(dir, &p, &r, &e), HEARTH_E_IO);
    CHECK_STR(hearth_verify_failure_str(HEARTH_VERIFY_MODIFIED), "modified after signing");

    tmpdir_cleanup();
    return test_done();
}
