/*
 * test_registry.c: src/models/registry.c through its interface: name rules,
 * add/activate/rollback/remove_version semantics, two handles on one
 * registry (a writer re-reads under the lock, so neither loses the other's
 * change), refusal of hand-damaged registry.json files (each left as it
 * was), resolve by name, version, hash prefix, and gc of unreferenced blobs.
 */
#include "models/registry.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

/* A file of n bytes of b into dir/name; its path into out. */
static void make_file(const char *name, int b, size_t n, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    REQUIRE(f);
    for (size_t i = 0; i < n; i++) fputc(b, f);
    fclose(f);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static void test_names(void) {
    char b[REGISTRY_NAME_MAX + 1];
    CHECK(registry_name_norm("qwen", b, sizeof b, NULL) == HEARTH_OK);
    CHECK_STR(b, "qwen:latest");
    CHECK(registry_name_norm("org/qwen2.5:0.5b-q4_0", b, sizeof b, NULL) == HEARTH_OK);
    CHECK_STR(b, "org/qwen2.5:0.5b-q4_0");
    const char *bad[] = {"", ":x", "x:", "a b", "../x", ".x", "-x", "x/", "a//b", "a/.b",
                         "x:y/z", "x:y:z", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(registry_name_norm(bad[i], b, sizeof b, NULL) != HEARTH_OK, "'%s' accepted", bad[i]);
    char longname[300];
    memset(longname, 'a', 150);
    longname[150] = '\0';
    CHECK(registry_name_norm(longname, b, sizeof b, NULL) != HEARTH_OK);
}

static void test_versions(void) {
    char mdir[300], f1[300], f2[300], f3[300];
    snprintf(mdir, sizeof mdir, "%s/models", dir);
    make_file("one.gguf", 1, 1000, f1, sizeof f1);
    make_file("two.gguf", 2, 2000, f2, sizeof f2);
    make_file("three.gguf", 3, 3000, f3, sizeof f3);
    registry *r = NULL, *r2 = NULL;
    hearth_error err = {0};
    REQUIRE(registry_open(mdir, &r, &err) == HEARTH_OK);
    REQUIRE(registry_open(mdir, &r2, &err) == HEARTH_OK);
    registry_resolved a, b, c;
    registry_add_params v1 = {.version = "1", .activate = true};
    REQUIRE(registry_add_file(r, f1, "m", &v1, &a, &err) == HEARTH_OK);
    CHECK_STR(a.name, "m:latest");
    const registry_model *m = registry_find(r, "m");
    REQUIRE(m);
    CHECK_EQ_INT(m->n_versions, 1);
    CHECK(m->previous == NULL);
    CHECK(m->active->size == 1000);
    /* The second handle adds a version; the first, writing next, keeps it. */
    registry_add_params v2 = {.version = "2", .activate = true};
    REQUIRE(registry_add_file(r2, f2, "m", &v2, &b, &err) == HEARTH_OK);
    registry_add_params v3 = {.version = "3", .activate = false};
    REQUIRE(registry_add_file(r, f3, "m", &v3, &c, &err) == HEARTH_OK);
    m = registry_find(r, "m");
    REQUIRE(m);
    CHECK_EQ_INT(m->n_versions, 3);
    CHECK_STR(m->active->sha256, b.sha256);       /* v3 was added inactive */
    CHECK_STR(m->previous->sha256, a.sha256);
    /* rollback twice toggles */
    REQUIRE(registry_rollback(r, "m", &err) == HEARTH_OK);
    CHECK_STR(registry_find(r, "m")->active->sha256, a.sha256);
    REQUIRE(registry_rollback(r, "m", &err) == HEARTH_OK);
    CHECK_STR(registry_find(r, "m")->active->sha256, b.sha256);
    /* activate by version string and by hash prefix */
    REQUIRE(registry_activate(r, "m", "3", &err) == HEARTH_OK);
    CHECK_STR(registry_find(r, "m")->active->sha256, c.sha256);
    char pre[13];
    memcpy(pre, a.sha256, 12);
    pre[12] = '\0';
    REQUIRE(registry_activate(r, "m:latest", pre, &err) == HEARTH_OK);
    CHECK_STR(registry_find(r, "m")->active->sha256, a.sha256);
    CHECK(registry_activate(r, "m", "nope", &err) == HEARTH_E_NOTFOUND);
    CHECK(registry_activate(r, "m", "abc", &err) == HEARTH_E_NOTFOUND); /* too short a prefix */
    /* resolve */
    registry_resolved res;
    REQUIRE(registry_resolve(r, "m@2", &res, &err) == HEARTH_OK);
    CHECK_STR(res.sha256, b.sha256);
    char ref[80];
    snprintf(ref, sizeof ref, "sha256-%.16s", c.sha256);
    REQUIRE(registry_resolve(r, ref, &res, &err) == HEARTH_OK);
    CHECK_STR(res.sha256, c.sha256);
    CHECK_STR(res.name, "m:latest");
    CHECK(registry_resolve(r, NULL, &res, &err) == HEARTH_E_NOTFOUND); /* no default yet */
    REQUIRE(registry_set_default(r, "m", &err) == HEARTH_OK);
    REQUIRE(registry_reload(r2, &err) == HEARTH_OK);
    REQUIRE(registry_resolve(r2, NULL, &res, &err) == HEARTH_OK);
    CHECK_STR(res.sha256, a.sha256);
    /* the active version can not be removed; another can, its blob goes */
    CHECK(registry_remove_version(r, "m", a.sha256, NULL, &err) == HEARTH_E_STATE);
    uint64_t freed = 0;
    REQUIRE(registry_remove_version(r, "m", c.sha256, &freed, &err) == HEARTH_OK);
    CHECK_EQ_INT(freed, 3000);
    CHECK(access(c.path, F_OK) != 0);
    /* a blob no name uses is collected */
    char orphan[400];
    snprintf(orphan, sizeof orphan, "%s/blobs/sha256-%s", mdir, c.sha256);
    write_text(orphan, "x");
    REQUIRE(registry_gc(r, 0, &freed, &err) == HEARTH_OK);
    CHECK(access(orphan, F_OK) != 0);
    CHECK(access(a.path, F_OK) == 0 && access(b.path, F_OK) == 0);
    /* rm: the default goes with the name */
    REQUIRE(registry_remove(r, "m", &freed, &err) == HEARTH_OK);
    CHECK_EQ_INT(freed, 3000);
    CHECK(registry_default(r) == NULL);
    CHECK(registry_count(r) == 0);
    registry_free(r);
    registry_free(r2);
}

/* Each damaged registry.json is refused and left byte for byte as it was. */
static void test_damaged(void) {
    char mdir[300], file[400];
    snprintf(mdir, sizeof mdir, "%s/damaged", dir);
    mkdir(mdir, 0700);
    snprintf(file, sizeof file, "%s/registry.json", mdir);
    const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char ok_entry[600];
    snprintf(ok_entry, sizeof ok_entry,
             "{\"active\":\"%s\",\"versions\":[{\"sha256\":\"%s\",\"size\":1}]}", h, h);
    char cases[12][2000];
    int n = 0;
    snprintf(cases[n++], 2000, "[]");
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":[]}");
    snprintf(cases[n++], 2000, "{\"format\":\"1\"}");
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"bad name\":%s}}", ok_entry);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x\":%s}}", ok_entry); /* not normalized */
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%s\",\"versions\":[]}}}", h);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%.60s\",\"versions\":[{\"sha256\":\"%.60s\",\"size\":1}]}}}", h, h);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%s\",\"versions\":[{\"sha256\":\"%s\",\"size\":-1}]}}}", h, h);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%s\",\"previous\":\"%s\",\"versions\":[{\"sha256\":\"%s\",\"size\":1}]}}}", h, h, h);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%s\",\"versions\":[{\"sha256\":\"%s\",\"size\":1},{\"sha256\":\"%s\",\"size\":2}]}}}", h, h, h);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":%s,\"x:latest\":%s}}", ok_entry, ok_entry);
    snprintf(cases[n++], 2000, "{\"format\":1,\"models\":{\"x:latest\":{\"active\":\"%s\",\"versions\":[{\"sha256\":\"%s\",\"size\":1,\"source\":7}]}}}", h, h);
    for (int i = 0; i < n; i++) {
        write_text(file, cases[i]);
        registry *r = NULL;
        hearth_error err = {0};
        hearth_status st = registry_open(mdir, &r, &err);
        CHECKF(st == HEARTH_E_FORMAT && r == NULL, "case %d opened (%d): %s", i, st, cases[i]);
        CHECK(strstr(err.msg, "registry.json") != NULL);
        FILE *f = fopen(file, "r");
        char back[2000] = "";
        size_t k = fread(back, 1, sizeof back - 1, f);
        back[k] = '\0';
        fclose(f);
        CHECKF(!strcmp(back, cases[i]), "case %d rewritten", i);
    }
    write_text(file, "{\"format\":7}");
    registry *r = NULL;
    CHECK(registry_open(mdir, &r, NULL) == HEARTH_E_UNSUPPORTED);
    /* a good one with a default naming nothing opens, without a default */
    char good[2000];
    snprintf(good, sizeof good, "{\"format\":1,\"default\":\"gone:latest\",\"models\":{\"x:latest\":%s}}",
             ok_entry);
    write_text(file, good);
    REQUIRE(registry_open(mdir, &r, NULL) == HEARTH_OK);
    CHECK(registry_count(r) == 1 && registry_default(r) == NULL);
    /* its blob is missing: resolving says so */
    registry_resolved res;
    hearth_error err = {0};
    CHECK(registry_resolve(r, "x", &res, &err) == HEARTH_E_IO);
    CHECK(strstr(err.msg, "missing") != NULL);
    registry_free(r);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/hearth-test-registry-XXXXXX");
    REQUIRE(mkdtemp(dir));
    test_names();
    test_versions();
    test_damaged();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return test_done();
}
