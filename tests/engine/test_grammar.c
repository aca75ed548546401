/*
 * test_grammar.c: the GBNF parser and the byte-level matcher
 * (src/engine/grammar_gbnf.c, grammar.c): grammars that must compile and
 * the strings they must accept or refuse (prefixes too), grammars that must
 * fail with their line and column, left recursion, and the JSON Schema
 * compiler's errors (json_schema.c; its outputs are validated against the
 * schemas by test_schema_gen.sh).
 */
#include "engine/grammar_int.h"
#include "test.h"

#include "hearth.h"

#include <string.h>

static hearth_grammar *compile(const char *g) {
    hearth_grammar *gr = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_grammar_from_gbnf(g, strlen(g), NULL, &gr, &e);
    CHECKF(st == HEARTH_OK, "grammar %s: %s", g, e.msg);
    return gr;
}

/* 1: complete sentence; 0: a prefix of one (not complete); -1: refused. */
static int match(const hearth_grammar *g, const char *s) {
    gmatch m;
    if (gmatch_init(&m, g, NULL)) return -2;
    int r;
    if (!gmatch_accept(&m, s, strlen(s))) r = -1;
    else r = gmatch_complete(&m) ? 1 : 0;
    gmatch_free(&m);
    return r;
}

/* The same, one byte at a time (the state carried across commits). */
static int match_bytes(const hearth_grammar *g, const char *s) {
    gmatch m;
    if (gmatch_init(&m, g, NULL)) return -2;
    int r = 0;
    for (size_t i = 0; s[i]; i++) {
        if (!gmatch_try(&m, s + i, 1)) {
            r = -1;
            break;
        }
        if (!gmatch_accept(&m, s + i, 1)) {
            r = -2;
            break;
        }
    }
    if (r == 0) r = gmatch_complete(&m) ? 1 : 0;
    gmatch_free(&m);
    return r;
}

typedef struct {
    const char *s;
    int want;
} sample;

static void check_grammar(const char *g, const sample *ss) {
    hearth_grammar *gr = compile(g);
    if (!gr) return;
    for (; ss->s; ss++) {
        int a = match(gr, ss->s), b = match_bytes(gr, ss->s);
        CHECKF(a == ss->want && b == ss->want, "grammar %s on \"%s\": %d/%d, want %d", g, ss->s, a,
               b, ss->want);
    }
    hearth_grammar_free(gr);
}

static void check_bad(const char *g, hearth_status code, const char *msg_part) {
    hearth_grammar *gr = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_grammar_from_gbnf(g, strlen(g), NULL, &gr, &e);
    CHECKF(st == code && !gr && strstr(e.msg, msg_part), "grammar %s: status %d, msg \"%s\" (want "
           "%d with \"%s\")", g, st, e.msg, code, msg_part);
    hearth_grammar_free(gr);
}

static void check_schema_bad(const char *schema, hearth_status code, const char *msg_part) {
    hearth_grammar *gr = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_grammar_from_json_schema(schema, strlen(schema), &gr, &e);
    CHECKF(st == code && !gr && strstr(e.msg, msg_part), "schema %s: status %d, msg \"%s\" (want "
           "%d with \"%s\")", schema, st, e.msg, code, msg_part);
    hearth_grammar_free(gr);
}

static void check_schema(const char *schema, const sample *ss) {
    hearth_grammar *gr = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_grammar_from_json_schema(schema, strlen(schema), &gr, &e);
    CHECKF(st == HEARTH_OK, "schema %s: %s", schema, e.msg);
    if (st) return;
    for (; ss->s; ss++) {
        int a = match(gr, ss->s);
        CHECKF(a == ss->want, "schema %s on '%s': %d, want %d", schema, ss->s, a, ss->want);
    }
    hearth_grammar_free(gr);
}

int main(void) {
    /* literals, sequences, alternatives */
    check_grammar("root ::= \"ab\" \"c\" | \"x\"\n",
                  (sample[]){{"abc", 1}, {"ab", 0}, {"x", 1}, {"xa", -1}, {"", 0}, {"b", -1}, {0}});
    /* repetition */
    check_grammar("root ::= [a-c]* \"!\"",
                  (sample[]){{"!", 1}, {"abcab!", 1}, {"abd", -1}, {"aaa", 0}, {"!!", -1}, {0}});
    check_grammar("root ::= \"a\"+", (sample[]){{"", 0}, {"a", 1}, {"aaaa", 1}, {"ab", -1}, {0}});
    check_grammar("root ::= \"a\"? \"b\"", (sample[]){{"b", 1}, {"ab", 1}, {"aab", -1}, {0}});
    check_grammar("root ::= [0-9]{2,3}",
                  (sample[]){{"1", 0}, {"12", 1}, {"123", 1}, {"1234", -1}, {"1a", -1}, {0}});
    check_grammar("root ::= \"x\"{3}", (sample[]){{"xx", 0}, {"xxx", 1}, {"xxxx", -1}, {0}});
    check_grammar("root ::= (\"ab\"){2,}",
                  (sample[]){{"ab", 0}, {"abab", 1}, {"ababab", 1}, {"aba", 0}, {0}});
    /* negated classes and UTF-8: a class of code points matches their bytes */
    check_grammar("root ::= \"\\\"\" [^\"\\\\]* \"\\\"\"",
                  (sample[]){{"\"hi\"", 1}, {"\"h\\", -1}, {"\"caf\xc3\xa9\"", 1},
                             {"\"\xf0\x9f\x98\x80\"", 1}, {"\"\xc3", 0}, {"\"\xc3(", -1},
                             {"\"\xed\xa0\x80", -1} /* a surrogate */, {0}});
    check_grammar("root ::= [\\u00e0-\\u00ff\\x41]+",
                  (sample[]){{"A\xc3\xa0\xc3\xbf", 1}, {"\xc3\x9f", -1}, {"B", -1}, {0}});
    check_grammar("root ::= .", (sample[]){{"a", 1}, {"\xe2\x82\xac", 1}, {"ab", -1}, {0}});
    /* rules, references, comments, newlines inside groups and after | */
    check_grammar("# a comment\nroot ::= item (\",\" item)*  # trailing\n"
                  "item ::= (\n  \"a\" |\n  \"bb\"\n)\n",
                  (sample[]){{"a,bb,a", 1}, {"a,", 0}, {"a,b", 0}, {"a,c", -1}, {0}});
    check_grammar("root ::= \"a\"\n  | \"b\"\n", (sample[]){{"a", 1}, {"b", 1}, {0}});
    /* right recursion runs in constant depth; nested recursion works */
    check_grammar("root ::= \"(\" root \")\" | \"\"",
                  (sample[]){{"((()))", 1}, {"(()", 0}, {"())", -1}, {0}});
    {
        hearth_grammar *g = compile("root ::= [a]*");
        char big[20001];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        CHECK(match_bytes(g, big) == 1);
        hearth_grammar_free(g);
    }
    /* escapes */
    check_grammar("root ::= \"\\n\\t\\x41\\u00e9\\U0001F600\\\\\"",
                  (sample[]){{"\n\tA\xc3\xa9\xf0\x9f\x98\x80\\", 1}, {0}});
    /* another start rule */
    {
        hearth_grammar *g = NULL;
        const char *t = "a ::= \"x\"\nb ::= \"y\"\n";
        CHECK(hearth_grammar_from_gbnf(t, strlen(t), "b", &g, NULL) == HEARTH_OK);
        CHECK(match(g, "y") == 1 && match(g, "x") == -1);
        hearth_grammar_free(g);
    }

    /* bad grammars: format errors carry line and column */
    check_bad("root ::= \"abc", HEARTH_E_FORMAT, "line 1 column 10");
    check_bad("root ::= [a-", HEARTH_E_FORMAT, "line 1");
    check_bad("root ::= \"a\"\nfoo \"b\"", HEARTH_E_FORMAT, "line 2 column 5: expected '::='");
    check_bad("root ::= (\"a\" | \"b\"", HEARTH_E_FORMAT, "expected ')'");
    check_bad("root ::= \"a\")", HEARTH_E_FORMAT, "line 1 column 13");
    check_bad("root ::= \"\\q\"", HEARTH_E_FORMAT, "unknown escape");
    check_bad("root ::= * \"a\"", HEARTH_E_FORMAT, "follows nothing");
    check_bad("root ::= \"a\"{3,2}", HEARTH_E_FORMAT, "below the minimum");
    check_bad("root ::= \"a\"{99999}", HEARTH_E_FORMAT, "above");
    check_bad("root ::= [z-a]", HEARTH_E_FORMAT, "range end below");
    check_bad("root ::= \"a\"\nroot ::= \"b\"", HEARTH_E_FORMAT, "line 2 column 1: rule 'root' is defined twice");
    check_bad("", HEARTH_E_FORMAT, "no rules");
    check_bad("root ::= \"\xff\"", HEARTH_E_FORMAT, "invalid UTF-8");
    check_bad("root ::= \"a\" \"b\" x ::= \"c\"", HEARTH_E_FORMAT, "missing newline");
    /* semantic errors */
    check_bad("root ::= foo", HEARTH_E_ARG, "rule 'foo' is used but not defined");
    check_bad("x ::= \"a\"", HEARTH_E_ARG, "no rule 'root'");
    check_bad("root ::= root \"a\" | \"b\"", HEARTH_E_ARG, "left recursion: rule 'root'");
    check_bad("root ::= a\na ::= b \"x\"\nb ::= \"\" | a", HEARTH_E_ARG, "left recursion");
    check_bad("root ::= (\"a\"?)*", HEARTH_E_ARG, "left recursion");
    {
        /* deep nesting is refused, not a stack overflow */
        char g[2000] = "root ::= ";
        for (int i = 0; i < 600; i++) strcat(g, "(");
        check_bad(g, HEARTH_E_FORMAT, "nested");
    }

    /* JSON Schema: shapes accepted and refused */
    check_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},"
                 "\"b\":{\"type\":\"string\",\"maxLength\":3}},\"required\":[\"b\"]}",
                 (sample[]){{"{\"a\": 12, \"b\": \"xy\"}", 1}, {"{\"b\":\"\"}", 1},
                            {"{\"a\":1}", -1}, {"{\"b\":\"abcd\"}", -1}, {"{}", -1},
                            {"{\"a\":01,", -1}, {0}});
    check_schema("{\"type\":\"integer\",\"minimum\":-5,\"maximum\":130}",
                 (sample[]){{"-5", 1}, {"130", 1}, {"131", -1}, {"-6", -1}, {"99", 1}, {"007", -1},
                            {"0", 1}, {0}});
    check_schema("{\"type\":\"number\",\"exclusiveMinimum\":0,\"maximum\":1}",
                 (sample[]){{"0.5", 1}, {"1", 1}, {"0", 0}, {"0.0", 0}, {"0.01", 1}, {"1.5", -1}, {"-0.5", -1}, {0}});
    check_schema("{\"enum\":[\"red\",\"green\",3,null]}",
                 (sample[]){{"\"red\"", 1}, {"3", 1}, {"null", 1}, {"\"blue\"", -1}, {0}});
    check_schema("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}",
                 (sample[]){{"[true]", 1}, {"[true, false]", 1}, {"[]", -1},
                            {"[true,true,true]", -1}, {0}});
    check_schema("{\"type\":\"string\",\"format\":\"date\"}",
                 (sample[]){{"\"2024-02-28\"", 1}, {"\"2024-02-30\"", -1}, {"\"2024-13-01\"", -1},
                            {0}});
    check_schema("{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"array\","
                 "\"items\":{\"$ref\":\"#/$defs/n\"}}}}},\"$ref\":\"#/$defs/n\"}",
                 (sample[]){{"{\"c\":[{\"c\":[]},{}]}", 1}, {"{\"d\":1}", -1}, {0}});
    check_schema("{}", (sample[]){{"{\"x\": [1, \"y\", null]}", 1}, {"tru", 0}, {"nul!", -1}, {0}});

    check_schema_bad("{\"type\":\"string\",\"pattern\":\"^a\"}", HEARTH_E_UNSUPPORTED, "'pattern'");
    check_schema_bad("{\"type\":\"string\",\"format\":\"uri\"}", HEARTH_E_UNSUPPORTED, "uri");
    check_schema_bad("{\"type\":", HEARTH_E_FORMAT, "invalid JSON");
    check_schema_bad("{\"$ref\":\"#/$defs/missing\"}", HEARTH_E_ARG, "points at nothing");
    check_schema_bad("{\"$ref\":\"http://x/y\"}", HEARTH_E_ARG, "only references inside");
    check_schema_bad("{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", HEARTH_E_ARG, "no integer");
    check_schema_bad("{\"type\":\"wat\"}", HEARTH_E_ARG, "unknown type");
    check_schema_bad("false", HEARTH_E_ARG, "accepts nothing");
    check_schema_bad("{\"type\":\"array\",\"minItems\":3,\"maxItems\":1}", HEARTH_E_ARG, "below");
    check_schema_bad("{\"allOf\":[{},{}]}", HEARTH_E_UNSUPPORTED, "allOf");
    /* fuzz_json_schema: a root that refers to itself before any text */
    check_schema_bad("{\"$defs\":{\"n\":{\"type\":\"object\"}},\"$ref\":\"#\"}", HEARTH_E_UNSUPPORTED, "refers back to itself");

    /* composition: rules prefixed with the root name */
    {
        char *g = NULL;
        const char *s = "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}}}";
        CHECK(hearth_json_schema_to_gbnf(s, strlen(s), "tool_a", &g, NULL) == HEARTH_OK);
        CHECK(g && strstr(g, "tool_a ::= ") && strstr(g, "tool_a-ws ::="));
        char *all = NULL;
        if (g) {
            size_t n = strlen(g) + 64;
            all = malloc(n);
            snprintf(all, n, "root ::= \"<call>\" tool_a \"</call>\"\n%s", g);
            hearth_grammar *gr = compile(all);
            CHECK(gr && match(gr, "<call>{\"q\": \"x\"}</call>") == 1);
            hearth_grammar_free(gr);
        }
        free(all);
        hearth_free(g);
        hearth_error e;
        CHECK(hearth_json_schema_to_gbnf(s, strlen(s), "bad name", &g, &e) == HEARTH_E_ARG);
    }
    return test_done();
}
