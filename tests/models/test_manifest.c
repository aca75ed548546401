/*
 * test_manifest.c: src/models/manifest.c: a full and a minimal manifest
 * parse into the right fields; each rejection path (type, length, form of
 * every field, duplicate keys, size limit, not an object) is refused with a
 * message naming the field and nothing to free; version comparison.
 */
#include "models/manifest.h"
#include "test.h"

#define H64 "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"

static hearth_status parse(const char *s, manifest *m, hearth_error *err) {
    return manifest_parse(s, strlen(s), m, err);
}

int main(void) {
    manifest m;
    hearth_error err = {0};
    const char *full = "{\"name\":\"qwen:0.5b\",\"version\":\"2026.1\",\"url\":\"https://x/q.gguf\","
                       "\"size\":123,\"sha256\":\"" H64 "\",\"signature\":\"q.gguf.minisig\","
                       "\"min_hearth_version\":\"0.2.3\",\"notes\":\"line 1\\nline 2\",\"extra\":[1]}";
    REQUIRE(parse(full, &m, &err) == HEARTH_OK);
    CHECK_STR(m.name, "qwen:0.5b");
    CHECK_STR(m.version, "2026.1");
    CHECK_STR(m.url, "https://x/q.gguf");
    CHECK(m.size == 123);
    CHECK_STR(m.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    CHECK_STR(m.signature, "q.gguf.minisig");
    CHECK(!m.signature_is_url);
    CHECK_STR(m.notes, "line 1\nline 2");
    CHECK(m.min_version[0] == 0 && m.min_version[1] == 2 && m.min_version[2] == 3);
    CHECK(!manifest_version_ok(&m, "0.2.2"));
    CHECK(manifest_version_ok(&m, "0.2.3"));
    CHECK(manifest_version_ok(&m, "0.10.0"));
    CHECK(manifest_version_ok(&m, "1.0.0-rc1"));
    CHECK(!manifest_version_ok(&m, "junk"));
    manifest_free(&m);
    const char *minimal = "{\"name\":\"t\",\"version\":\"1\",\"url\":\"t.gguf\",\"size\":1,\"sha256\":\"" H64 "\"}";
    REQUIRE(parse(minimal, &m, &err) == HEARTH_OK);
    CHECK(m.signature == NULL && m.notes == NULL && m.min_version[0] == 0);
    CHECK(manifest_version_ok(&m, "0.0.1"));
    manifest_free(&m);

    static const struct { const char *json, *says; } bad[] = {
        {"[]", "not a JSON object"},
        {"{\"name\":", "line 1"},
        {"{\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'name' missing"},
        {"{\"name\":\"a b\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'name'"},
        {"{\"name\":\"t\",\"version\":1,\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'version' is not a string"},
        {"{\"name\":\"t\",\"version\":\"1 2\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'version'"},
        {"{\"name\":\"t\",\"version\":\"\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'version' is empty"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"ftp://h/t\",\"size\":1,\"sha256\":\"" H64 "\"}", "'url' is not http"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"a b\",\"size\":1,\"sha256\":\"" H64 "\"}", "'url'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\\u0001\",\"size\":1,\"sha256\":\"" H64 "\"}", "control byte"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":0,\"sha256\":\"" H64 "\"}", "'size'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1.5,\"sha256\":\"" H64 "\"}", "'size'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":2199023255553,\"sha256\":\"" H64 "\"}", "'size'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"abc\"}", "'sha256'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\"}", "'sha256'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\",\"signature\":\"https://a b\"}", "'signature'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\",\"signature\":\"\\u0000x\"}", "u0000"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\",\"min_hearth_version\":\"1.2\"}", "'min_hearth_version'"},
        {"{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\",\"notes\":7}", "'notes'"},
        {"{\"name\":\"t\",\"name\":\"u\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\"}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hearth_error e = {0};
        hearth_status st = parse(bad[i].json, &m, &e);
        CHECKF(st == HEARTH_E_FORMAT, "case %zu accepted: %s", i, bad[i].json);
        CHECKF(strstr(e.msg, bad[i].says) != NULL, "case %zu says '%s', not '%s'", i, e.msg,
               bad[i].says);
        CHECK(m.signature == NULL && m.notes == NULL);
    }
    /* the size limit */
    size_t big = MANIFEST_MAX_BYTES + 1;
    char *huge = malloc(big);
    REQUIRE(huge);
    memset(huge, ' ', big);
    CHECK(manifest_parse(huge, big, &m, &err) == HEARTH_E_FORMAT);
    free(huge);
    /* notes over 16 KiB */
    size_t nl = (16u << 10) + 200;
    char *long_notes = malloc(nl + 200);
    REQUIRE(long_notes);
    int k = snprintf(long_notes, nl + 200, "{\"name\":\"t\",\"version\":\"1\",\"url\":\"t\",\"size\":1,\"sha256\":\"" H64 "\",\"notes\":\"");
    memset(long_notes + k, 'x', (16u << 10) + 1);
    strcpy(long_notes + k + (16u << 10) + 1, "\"}");
    CHECK(parse(long_notes, &m, &err) == HEARTH_E_FORMAT);
    free(long_notes);
    return test_done();
}
