/*
 * test_gguf_inspect.c: the reader and `hearth inspect` on real files made by
 * llama.cpp's tools: ../shared/testdata/models/stories260K.gguf and every
 * .gguf in ../shared/testdata/vocab. Checks known content (architecture,
 * sizes, tensor shapes, vocabulary sizes), that the text and --json outputs
 * agree with the library, and the command's error handling.
 */
#include "hearth.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs cmd through the shell; returns its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    size_t cap = 1 << 16, n = 0, k;
    char *out = malloc(cap);
    while ((k = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2) out = realloc(out, cap *= 2);
    }
    out[n] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* True if some line of text contains all of a, b and c (c may be NULL). */
static int line_has(const char *text, const char *a, const char *b, const char *c) {
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *line = strndup(s, n);
        int hit = strstr(line, a) && strstr(line, b) && (!c || strstr(line, c));
        free(line);
        if (hit) return 1;
        s += n + (e ? 1 : 0);
    }
    return 0;
}

static const char *bin(void) {
    const char *b = getenv("HEARTH_BIN");
    REQUIRE(b && *b);
    return b;
}

static void test_stories(const char *shared) {
    char path[1024], cmd[2048];
    snprintf(path, sizeof path, "%s/testdata/models/stories260K.gguf", shared);
    hearth_gguf *g;
    hearth_error err;
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    const char *s;
    uint32_t u;
    float eps;
    CHECK(!hearth_gguf_get_str(g, "general.architecture", &s, NULL, &err));
    CHECK_STR(s, "llama");
    CHECK(!hearth_gguf_get_u32(g, "llama.embedding_length", &u, &err) && u == 64);
    CHECK(!hearth_gguf_get_u32(g, "llama.block_count", &u, &err) && u == 5);
    CHECK(!hearth_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, &err) &&
          eps > 0.9e-5f && eps < 1.1e-5f);
    /* Type mismatch and absent key fail cleanly, naming the key. */
    CHECK(hearth_gguf_get_str(g, "llama.embedding_length", &s, NULL, &err) == HEARTH_E_FORMAT);
    CHECK(strstr(err.msg, "'llama.embedding_length' has type u32, expected str"));
    CHECK(hearth_gguf_get_u32(g, "llama.nope", &u, &err) == HEARTH_E_NOTFOUND);
    CHECK(strstr(err.msg, "llama.nope"));
    CHECK_EQ_INT(hearth_gguf_n_tensors(g), 48);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "token_embd.weight");
    REQUIRE(t);
    CHECK(t->type == HEARTH_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 512);
    CHECK(t->nbytes == 64 * 512 * 4);
    t = hearth_gguf_find_tensor(g, "blk.4.ffn_down.weight");
    CHECK(t && t->ne[0] == 172 && t->ne[1] == 64);
    hearth_gguf_value v;
    int64_t idx;
    CHECK(!hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &v, &idx, &err) && v.n == 512);
    size_t len;
    const char *tok = hearth_gguf_arr_str(g, idx, 1, &len);
    CHECK(tok && len == 3 && !memcmp(tok, "<s>", 3));
    hearth_gguf_free(g);

    int st;
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s'", bin(), path);
    char *out = run(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK(line_has(out, "general.architecture", "\"llama\"", NULL));
    CHECK(line_has(out, "llama.embedding_length", "= 64", NULL));
    CHECK(line_has(out, "token_embd.weight", " F32 ", "[64, 512]"));
    CHECK(line_has(out, "blk.0.ffn_down.weight", " F32 ", "[172, 64]"));
    CHECK(line_has(out, "tokenizer.ggml.tokens", "arr[str,512]", "\"<unk>\", \"<s>\""));
    CHECK(line_has(out, "tokenizer.ggml.tokens", "504 more", NULL)); /* abbreviated */
    CHECK(strstr(out, "parameters: 292800"));
    CHECK(strstr(out, "GGUF v3"));
    free(out);

    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s'", bin(), path);
    out = run(cmd, &st);
    CHECK_EQ_INT(st, 0);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    CHECKF(j, "JSON: %s", jerr.text);
    if (j) {
        CHECK_EQ_INT(json_integer_value(json_object_get(j, "version")), 3);
        CHECK_EQ_INT(json_integer_value(json_object_get(j, "n_params")), 292800);
        json_t *meta = json_object_get(j, "metadata");
        CHECK_EQ_INT(json_object_size(meta), 19);
        CHECK_STR(json_string_value(json_object_get(meta, "general.architecture")), "llama");
        CHECK_EQ_INT(json_integer_value(json_object_get(meta, "llama.embedding_length")), 64);
        json_t *toks = json_object_get(meta, "tokenizer.ggml.tokens");
        CHECK_EQ_INT(json_integer_value(json_object_get(toks, "n")), 512);
        CHECK_STR(json_string_value(json_array_get(json_object_get(toks, "values"), 2)), "</s>");
        json_t *tensors = json_object_get(j, "tensors");
        CHECK_EQ_INT(json_array_size(tensors), 48);
        json_t *t0 = json_array_get(tensors, 0);
        CHECK_STR(json_string_value(json_object_get(t0, "name")), "token_embd.weight");
        CHECK_STR(json_string_value(json_object_get(t0, "type")), "F32");
        json_t *shape = json_object_get(t0, "shape");
        CHECK(json_array_size(shape) == 2 && json_integer_value(json_array_get(shape, 0)) == 64 &&
              json_integer_value(json_array_get(shape, 1)) == 512);
        CHECK_EQ_INT(json_integer_value(json_object_get(t0, "nbytes")), 131072);
        json_decref(j);
    }
    free(out);
}

static const struct {
    const char *file, *arch, *model;
    uint64_t n_tokens;
} vocabs[] = {
    {"ggml-vocab-baichuan.gguf", "baichuan", "llama", 64000},
    {"ggml-vocab-bert-bge.gguf", "bert", "bert", 30522},
    {"ggml-vocab-deepseek-coder.gguf", "llama", "gpt2", 32256},
    {"ggml-vocab-deepseek-llm.gguf", "llama", "gpt2", 102400},
    {"ggml-vocab-falcon.gguf", "falcon", "gpt2", 65024},
    {"ggml-vocab-gpt-2.gguf", "gpt2", "gpt2", 50257},
    {"ggml-vocab-gpt-neox.gguf", "gptneox", "gpt2", 50432},
    {"ggml-vocab-llama-spm.gguf", "llama", "llama", 32000},
    {"ggml-vocab-mpt.gguf", "mpt", "gpt2", 50432},
    {"ggml-vocab-phi-3.gguf", "phi3", "llama", 32064},
    {"ggml-vocab-refact.gguf", "refact", "gpt2", 49216},
    {"ggml-vocab-starcoder.gguf", "starcoder2", "gpt2", 49152},
};

/* One vocab file: library and CLI (text and JSON) agree with each other and
 * with what is known about the file. */
static void test_vocab(const char *dir, const char *file) {
    char path[2048], cmd[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    hearth_gguf *g;
    hearth_error err;
    hearth_status st0 = hearth_gguf_open(path, &g, &err);
    CHECKF(!st0, "%s: %s", file, err.msg);
    if (st0) return;
    const char *arch = NULL, *model = NULL;
    hearth_gguf_value toks = {0};
    int64_t tidx = -1;
    CHECKF(!hearth_gguf_get_str(g, "general.architecture", &arch, NULL, &err), "%s", file);
    CHECKF(!hearth_gguf_get_str(g, "tokenizer.ggml.model", &model, NULL, &err), "%s", file);
    CHECKF(!hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks, &tidx, &err), "%s", file);
    CHECK(toks.elem_type == HEARTH_GGUF_STRING);
    /* Every token string is reachable. */
    for (uint64_t i = 0; i < toks.n; i++) {
        size_t len;
        if (!hearth_gguf_arr_str(g, tidx, i, &len)) {
            CHECKF(0, "%s: token %llu", file, (unsigned long long)i);
            break;
        }
    }
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        if (strcmp(vocabs[i].file, file)) continue;
        CHECK_STR(arch, vocabs[i].arch);
        CHECK_STR(model, vocabs[i].model);
        CHECKF(toks.n == vocabs[i].n_tokens, "%s: %llu tokens", file, (unsigned long long)toks.n);
    }

    int st;
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s'", bin(), path);
    char *out = run(cmd, &st);
    CHECKF(st == 0, "%s: inspect exit %d", file, st);
    char want[64], q[80];
    snprintf(want, sizeof want, "arr[str,%llu]", (unsigned long long)toks.n);
    snprintf(q, sizeof q, "\"%s\"", arch ? arch : "");
    CHECKF(line_has(out, "tokenizer.ggml.tokens", want, NULL), "%s: tokens line", file);
    CHECKF(line_has(out, "general.architecture", q, NULL), "%s: arch line", file);
    CHECKF(strstr(out, "parameters: 0 "), "%s: parameters", file);
    free(out);

    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s'", bin(), path);
    out = run(cmd, &st);
    CHECKF(st == 0, "%s: inspect --json exit %d", file, st);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    CHECKF(j, "%s: JSON: %s", file, jerr.text);
    if (j) {
        json_t *meta = json_object_get(j, "metadata");
        CHECK_EQ_INT(json_object_size(meta), hearth_gguf_n_kv(g));
        CHECK_EQ_INT(json_array_size(json_object_get(j, "tensors")), 0);
        json_t *jt = json_object_get(meta, "tokenizer.ggml.tokens");
        CHECK_EQ_INT(json_integer_value(json_object_get(jt, "n")), toks.n);
        size_t len;
        const char *t0 = hearth_gguf_arr_str(g, tidx, 0, &len);
        const char *j0 = json_string_value(json_array_get(json_object_get(jt, "values"), 0));
        CHECKF(t0 && j0 && strlen(j0) == len && !memcmp(t0, j0, len), "%s: token 0", file);
        json_decref(j);
    }
    free(out);
    hearth_gguf_free(g);
}

static void test_cli_errors(void) {
    char cmd[2048];
    int st;
    snprintf(cmd, sizeof cmd, "'%s' inspect --help", bin());
    char *out = run(cmd, &st);
    CHECK(st == 0 && strstr(out, "usage: hearth inspect FILE"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect 2>&1", bin());
    out = run(cmd, &st);
    CHECK(st == 1 && strstr(out, "missing FILE"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s/tests/data/bad_overlap.gguf' 2>&1", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    CHECK(st == 1 && strstr(out, "overlaps tensor 'a'"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s/tests/data/unsupported_iq2_xxs.gguf' 2>&1", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    /* Shown (inspect is how a user learns what a file holds), but marked. */
    CHECK(st == 0 && line_has(out, "blk.0.ffn_up.weight", "IQ2_XXS*", "[256]"));
    CHECK(strstr(out, "note: 1 tensors (marked *) have types hearth cannot run"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s/tests/data/unsupported_tq1_0.gguf'", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    CHECK(st == 0 && strstr(out, "\"TQ1_0\"") && strstr(out, "\"supported\": false"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect --bogus x 2>&1", bin());
    out = run(cmd, &st);
    CHECK(st == 1 && strstr(out, "unknown option '--bogus'"));
    free(out);
    /* Nested arrays and v2 files print. */
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s/tests/data/good_nested.gguf'", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    CHECK(st == 0 && line_has(out, " n ", "arr[arr,1]", "[[...]]"));
    free(out);
    /* Control bytes in names never reach the terminal; bad UTF-8 still
     * gives valid JSON with every key. */
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s/tests/data/good_odd_names.gguf'", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    CHECK(st == 0 && !strchr(out, 0x1b) && !strchr(out, 0x07));
    CHECK(line_has(out, "\\x1b[31m", "= 1", NULL) && line_has(out, "t\\x1b]0;x\\x07", "F32", NULL));
    CHECK(line_has(out, " s ", "\\x1b[2J", NULL));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s/tests/data/good_odd_names.gguf'", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    CHECKF(st == 0 && j, "odd names JSON: %s", jerr.text);
    CHECK_EQ_INT(json_object_size(json_object_get(j, "metadata")), 2);
    CHECK(json_is_integer(json_object_get(json_object_get(j, "metadata"), "k?\x1b[31m")));
    json_decref(j);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s/tests/data/good_v2.gguf'", bin(),
             HEARTH_SOURCE_DIR);
    out = run(cmd, &st);
    CHECK(st == 0 && strstr(out, "GGUF v2"));
    free(out);
}

int main(void) {
    const char *shared = getenv("HEARTH_SHARED_DIR");
    if (!shared || !*shared) shared = HEARTH_SHARED_DIR;
    test_stories(shared);

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/testdata/vocab", shared);
    DIR *d = opendir(dir);
    REQUIRE(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".gguf")) continue;
        test_vocab(dir, e->d_name);
        n++;
    }
    closedir(d);
    fprintf(stderr, "%d vocab files\n", n);
    CHECK(n >= 12);
    test_cli_errors();
    return test_done();
}
