/*
 * test_schema_gen.c: constrained decoding end to end. A generated model with
 * random weights, sampling at temperature 1 with no truncation, can only
 * produce valid output because of the grammar: for each schema and several
 * seeds, hearth_generate (and hearth_sched_generate for some) must end with
 * a complete text, and every text must parse and validate against its schema
 * by an independent validator (validate_schema.py, python3-jsonschema from
 * Debian). Also: a GBNF grammar, the trigger mode, and that the full mask is
 * the exception, not the rule, once the first sample fits.
 */
#include "test.h"

#include "engine/grammar_int.h"
#include "genutil.h"
#include "tokenizer/vtrie.h"
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *const schemas[] = {
    /* object, required and optional, bounded strings and integers */
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":8},\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":150},"
    "\"nick\":{\"type\":\"string\",\"maxLength\":4}},\"required\":[\"name\",\"age\"],"
    "\"additionalProperties\":false}",
    /* enums, booleans, null */
    "{\"type\":\"object\",\"properties\":{\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]},"
    "\"ok\":{\"type\":\"boolean\"},\"none\":{\"type\":\"null\"},\"k\":{\"const\":42}},"
    "\"required\":[\"unit\",\"ok\",\"none\",\"k\"]}",
    /* arrays with min/max items */
    "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":-20,\"maximum\":20},"
    "\"minItems\":2,\"maxItems\":4}",
    /* numbers with bounds */
    "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
    "\"t\":{\"type\":\"number\",\"exclusiveMinimum\":-5,\"exclusiveMaximum\":5},"
    "\"x\":{\"type\":\"number\"}},\"required\":[\"p\",\"t\",\"x\"]}",
    /* formats */
    "{\"type\":\"object\",\"properties\":{\"d\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"at\":{\"type\":\"string\","
    "\"format\":\"date-time\"},\"m\":{\"type\":\"string\",\"format\":\"email\"},"
    "\"tm\":{\"type\":\"string\",\"format\":\"time\"}},\"required\":[\"d\",\"id\",\"at\",\"m\",\"tm\"]}",
    /* anyOf / oneOf / type lists */
    "{\"type\":\"object\",\"properties\":{\"v\":{\"anyOf\":[{\"type\":\"integer\"},"
    "{\"type\":\"string\",\"maxLength\":5}]},\"w\":{\"oneOf\":[{\"type\":\"boolean\"},"
    "{\"type\":\"null\"}]},\"u\":{\"type\":[\"integer\",\"null\"]}},\"required\":[\"v\",\"w\",\"u\"]}",
    /* $ref with recursion through $defs, bounded */
    "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\","
    "\"minimum\":1,\"maximum\":9},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"},"
    "\"maxItems\":2}},\"required\":[\"id\"]}},\"$ref\":\"#/$defs/node\"}",
    /* a typical tool call */
    "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_weather\"},\"arguments\":"
    "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"maxLength\":12},"
    "\"unit\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"location\"]}},\"required\":[\"name\","
    "\"arguments\"]}",
    /* a map, definitions */
    "{\"definitions\":{\"s\":{\"type\":\"string\",\"maxLength\":3}},\"type\":\"object\","
    "\"additionalProperties\":{\"$ref\":\"#/definitions/s\"}}",
};
#define N_SCHEMAS (sizeof schemas / sizeof *schemas)
#define N_SEEDS 4

typedef struct {
    char buf[8192];
    size_t len;
} text;

static int collect(void *user, int32_t token, const char *s, size_t n) {
    (void)token;
    text *t = user;
    if (t->len + n < sizeof t->buf) {
        memcpy(t->buf + t->len, s, n);
        t->len += n;
    }
    return 0;
}

static hearth_gen_params params(const hearth_grammar *g, uint64_t seed) {
    hearth_gen_params p = hearth_gen_default_params();
    p.max_tokens = 1500;
    p.sampling.temp = 1.0f;
    p.sampling.top_k = 0;
    p.sampling.top_p = 1.0f;
    p.sampling.min_p = 0.0f;
    p.sampling.seed = seed;
    p.grammar = g;
    return p;
}

/* The full mask (trie walk over the cached DFA) equals testing every token
 * alone, at every prefix of text. */
static void check_mask(const hearth_grammar *g, const hearth_tokenizer *tok, const char *text,
                       size_t len) {
    const hearth_vtrie *vt = hearth_vtrie_get(tok, NULL);
    REQUIRE(vt);
    int32_t nv = hearth_tokenizer_n_vocab(tok);
    int32_t *got = malloc((size_t)nv * sizeof *got);
    char *want = calloc((size_t)nv, 1), *seen = calloc((size_t)nv, 1);
    REQUIRE(got && want && seen);
    gmatch m;
    REQUIRE(gmatch_init(&m, g, NULL) == HEARTH_OK);
    for (size_t at = 0; at <= len; at++) {
        size_t n = gmatch_allowed(&m, vt, got);
        memset(want, 0, (size_t)nv);
        memset(seen, 0, (size_t)nv);
        size_t n_want = 0;
        for (int32_t t = 0; t < nv; t++) {
            size_t pl;
            const char *pc = hearth_token_to_piece(tok, t, &pl);
            if (hearth_token_is_control(tok, t) || hearth_token_is_eog(tok, t) || !pl) continue;
            if (gmatch_try(&m, pc, pl)) want[t] = 1, n_want++;
        }
        bool same = n == n_want;
        for (size_t i = 0; i < n && same; i++) {
            same = want[got[i]] && !seen[got[i]];
            seen[got[i]] = 1;
        }
        CHECKF(same, "mask at byte %zu of '%.*s': %zu tokens, brute force %zu", at, (int)len, text,
               n, n_want);
        if (at < len) REQUIRE(gmatch_accept(&m, text + at, 1));
    }
    gmatch_free(&m);
    free(got);
    free(want);
    free(seen);
}

static void json_escape(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int main(void) {
    const char *path = genmodel("m.gguf", "--arch qwen2 --preset tiny --type F32 --seed 11");
    REQUIRE(path);
    hearth_error e;
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 2048;
    cp.n_threads = 1;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    hearth_ctx_params sp = cp;
    sp.n_seq = 2;
    sp.n_ctx = 4096;
    hearth_sched *sch;
    REQUIRE(hearth_sched_new(m, &sp, &sch, &e) == HEARTH_OK);

    char out_path[512];
    snprintf(out_path, sizeof out_path, "%s/outputs.jsonl", tmpdir_path());
    FILE *f = fopen(out_path, "w");
    REQUIRE(f);
    int32_t prompt[4] = {5, 17, 33, 2};
    int n_done = 0;
    for (size_t k = 0; k < N_SCHEMAS; k++) {
        hearth_grammar *g = NULL;
        hearth_status st = hearth_grammar_from_json_schema(schemas[k], strlen(schemas[k]), &g, &e);
        CHECKF(st == HEARTH_OK, "schema %zu: %s", k, e.msg);
        if (st) continue;
        for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
            text t = {.len = 0};
            hearth_gen_params p = params(g, seed * 7919 + k);
            hearth_gen_result r;
            bool use_sched = seed == N_SEEDS;
            if (use_sched) {
                st = hearth_sched_generate(sch, prompt, 4, &p, collect, &t, &r, &e);
            } else {
                REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
                st = hearth_generate(c, prompt, 4, &p, collect, &t, &r, &e);
            }
            CHECKF(st == HEARTH_OK, "schema %zu seed %d: %s", k, (int)seed, e.msg);
            CHECKF(r.finish == HEARTH_FINISH_EOG, "schema %zu seed %d (%s): finish %s after %d "
                   "tokens: %.*s", k, (int)seed, use_sched ? "sched" : "generate",
                   hearth_finish_reason_str(r.finish), r.n_gen, (int)t.len, t.buf);
            if (seed == 1 && r.finish == HEARTH_FINISH_EOG)
                check_mask(g, hearth_model_tokenizer(m), t.buf, t.len);
            fprintf(f, "{\"schema\": %s, \"output\": ", schemas[k]);
            json_escape(f, t.buf, t.len);
            fprintf(f, "}\n");
            n_done++;
        }
        hearth_grammar_free(g);
    }
    fclose(f);
    CHECK_EQ_INT(n_done, (int)(N_SCHEMAS * N_SEEDS));

    /* the independent validator */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/engine/validate_schema.py %s",
             HEARTH_SOURCE_DIR, out_path);
    int rc = system(cmd);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
        fprintf(stderr, "SKIP: python3-jsonschema missing (apt-get install python3-jsonschema)\n");
        tmpdir_cleanup();
        return 77;
    }
    CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "validator exit %d", rc);

    /* GBNF directly, and the trigger: free text until "<<", then the grammar */
    {
        const char *gb = "root ::= \"yes\" | \"no\" | [0-9]{1,3}\n";
        hearth_grammar *g = NULL;
        REQUIRE(hearth_grammar_from_gbnf(gb, strlen(gb), NULL, &g, &e) == HEARTH_OK);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            text t = {.len = 0};
            hearth_gen_params p = params(g, seed);
            hearth_gen_result r;
            REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
            REQUIRE(hearth_generate(c, prompt, 4, &p, collect, &t, &r, &e) == HEARTH_OK);
            t.buf[t.len] = 0;
            bool digits = t.len >= 1 && t.len <= 3 && strspn(t.buf, "0123456789") == t.len;
            CHECKF(!strcmp(t.buf, "yes") || !strcmp(t.buf, "no") || digits, "gbnf output '%s'", t.buf);
        }
        /* trigger: the model's text is free until the trigger; its tokens
         * are random, so the trigger is forced by a grammar that accepts
         * exactly one continuation and checked structurally */
        {
            text t = {.len = 0};
            hearth_gen_params p = params(g, 5);
            p.grammar_trigger = "a"; /* a byte the random model emits soon */
            p.max_tokens = 400;
            hearth_gen_result r;
            REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
            REQUIRE(hearth_generate(c, prompt, 4, &p, collect, &t, &r, &e) == HEARTH_OK);
            t.buf[t.len] = 0;
            char *at = strchr(t.buf, 'a');
            if (r.finish == HEARTH_FINISH_EOG && at) {
                const char *rest = at + 1;
                size_t rl = strlen(rest);
                bool digits = rl >= 1 && rl <= 3 && strspn(rest, "0123456789") == rl;
                CHECKF(!strcmp(rest, "yes") || !strcmp(rest, "no") || digits,
                       "after the trigger: '%s' (whole: '%s')", rest, t.buf);
            } else {
                /* no trigger appeared: the text was free (EOG or length) */
                CHECKF(!at, "trigger seen but finish %s: '%s'", hearth_finish_reason_str(r.finish),
                       t.buf);
            }
        }
        hearth_grammar_free(g);
    }

    hearth_sched_free(sch);
    hearth_ctx_free(c);
    hearth_model_free(m);
    tmpdir_cleanup();
    return test_done();
}
