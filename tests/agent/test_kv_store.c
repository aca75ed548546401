/*
 * test_kv_store.c: the server's saved states (src/agent/kv_store.c) behind
 * a scheduler's hooks, on the real files of a temporary kv directory:
 *  - an answered generation is saved once (when the scheduler is freed at
 *    the latest), 0600, and a new store's index finds it from the file;
 *  - the next turn in a new scheduler restores it (n_restored > 0) and its
 *    own, longer state supersedes the first (one file left);
 *  - the same prompt again writes no second file, a no_reuse one nothing;
 *  - a damaged file is refused (a warning), the generation evaluates all,
 *    and its answer's state replaces the file.
 */
#include "fixture.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>

static int n_files(const char *dir, char *last, size_t cap) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".kv")) continue;
        if (last) snprintf(last, cap, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static int warnings;
static void on_warn(void *user, const char *msg) {
    (void)user;
    warnings++;
    fprintf(stderr, "warning: %s\n", msg);
}

typedef struct {
    hearth_sched *s;
    hearth_kv_store *k;
} server;

static server start(const hearth_model *m, const char *dir, const char *hash) {
    server v;
    hearth_error e;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_seq = 1;
    cp.n_ctx = 256;
    cp.n_threads = 1;
    REQUIRE(hearth_sched_new(m, &cp, &v.s, &e) == HEARTH_OK);
    hearth_kv_store_params kp = {.dir = dir, .model_hash = hash, .max_bytes = 64 << 20, .warn = on_warn};
    REQUIRE(hearth_kv_store_open(&kp, &v.k, &e) == HEARTH_OK);
    hearth_sched_state_hooks h = hearth_kv_store_hooks(v.k);
    REQUIRE(hearth_sched_set_state_hooks(v.s, &h, &e) == HEARTH_OK);
    return v;
}

static void stop(server *v) {
    hearth_sched_free(v->s); /* its pending save runs here */
    hearth_kv_store_free(v->k);
}

static int gen_tokens[64];
static int n_gen_tokens;
static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)user, (void)text, (void)len;
    if (token >= 0 && n_gen_tokens < 64) gen_tokens[n_gen_tokens++] = token;
    return 0;
}

static hearth_gen_result run(server *v, const int32_t *prompt, int n, bool no_reuse) {
    hearth_gen_params p = hearth_gen_default_params();
    p.max_tokens = 6;
    p.sampling.temp = 0;
    p.no_reuse = no_reuse;
    hearth_gen_result r = {0};
    hearth_error e;
    n_gen_tokens = 0;
    CHECKF(hearth_sched_generate(v->s, prompt, n, &p, collect, NULL, &r, &e) == HEARTH_OK, "%s", e.msg);
    return r;
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "tiny.gguf", "--arch qwen2 --preset tiny --type F32 --seed 5");
    hearth_model *m;
    hearth_error e;
    REQUIRE(hearth_model_open(model, NULL, &m, &e) == HEARTH_OK);
    char kv[4096], path[4096];
    snprintf(kv, sizeof kv, "%s/kv", dir);
    const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    int32_t p1[80], p2[80];
    int n1 = 20;
    for (int i = 0; i < n1; i++) p1[i] = (int32_t)(5 + (i * 37) % 250);

    server v = start(m, kv, hash);
    CHECK_EQ_INT((int)hearth_kv_store_count(v.k), 0);
    hearth_gen_result r = run(&v, p1, n1, false);
    CHECK_EQ_INT(r.n_restored, 0);
    int n2 = 0;
    for (int i = 0; i < n1; i++) p2[n2++] = p1[i];
    for (int i = 0; i < n_gen_tokens; i++) p2[n2++] = gen_tokens[i];
    for (int i = 0; i < 6; i++) p2[n2++] = (int32_t)(9 + i * 11);
    stop(&v);
    CHECK_EQ_INT(n_files(kv, path, sizeof path), 1);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(kv, &sb) == 0 && (sb.st_mode & 0777) == 0700);

    /* restarted: the index comes from the file; the next turn restores */
    v = start(m, kv, hash);
    CHECK_EQ_INT((int)hearth_kv_store_count(v.k), 1);
    r = run(&v, p2, n2, false);
    CHECKF(r.n_restored > n1 && r.n_restored == r.n_cached, "restored %d, cached %d", r.n_restored,
           r.n_cached);
    stop(&v);
    CHECK_EQ_INT(n_files(kv, path, sizeof path), 1); /* the longer state replaced the first */

    /* the same prompt again: the state exists, nothing new; no_reuse: nothing */
    v = start(m, kv, hash);
    r = run(&v, p2, n2, false);
    CHECK(r.n_restored > 0);
    int32_t p3[8] = {7, 8, 9, 10, 11, 12, 13, 14};
    r = run(&v, p3, 8, true);
    CHECK_EQ_INT(r.n_restored, 0);
    stop(&v);
    CHECK_EQ_INT(n_files(kv, path, sizeof path), 1);

    /* damaged: refused with a warning, removed, everything evaluated */
    FILE *f = fopen(path, "r+b");
    REQUIRE(f);
    REQUIRE(fstat(fileno(f), &sb) == 0);
    fseek(f, (long)sb.st_size / 2, SEEK_SET);
    fputc(0x5a ^ fgetc(f), f);
    fclose(f);
    f = fopen(path, "r+b");
    fseek(f, (long)sb.st_size / 2, SEEK_SET);
    fputc(0xa5, f);
    fclose(f);
    v = start(m, kv, hash);
    warnings = 0;
    r = run(&v, p2, n2, false);
    CHECK_EQ_INT(r.n_restored, 0);
    CHECK_EQ_INT(r.n_cached, 0);
    CHECK(warnings >= 1);
    stop(&v);
    /* the damaged file is gone: the answer's own state took its place */
    CHECK_EQ_INT(n_files(kv, NULL, 0), 1);
    v = start(m, kv, hash);
    r = run(&v, p2, n2, false);
    CHECK(r.n_restored > 0);
    stop(&v);

    hearth_model_free(m);
    fx_cleanup(dir);
    free(model);
    free(dir);
    return test_done();
}
