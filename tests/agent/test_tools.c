/*
 * test_tools.c: tool calling inside the agent, without a model: the
 * calculator (values, precedence, errors, bounds), checking tool
 * definitions, each family's presentation of tools, calls and results,
 * the call grammar (it compiles for every family and choice, accepts the
 * calls the family's syntax writes and refuses others) and reading calls
 * back out of untrusted text.
 */
#include "test.h"

#include "agent/template.h"
#include "agent/tools_int.h"
#include "engine/grammar_int.h"
#include "hearth.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void calc_ok(const char *x, double want) {
    double v = NAN;
    hearth_error e;
    hearth_status st = tools_calc_eval(x, strlen(x), &v, &e);
    CHECKF(st == HEARTH_OK && fabs(v - want) <= 1e-9 * (1 + fabs(want)), "'%s' = %g (%s), want %g",
           x, v, st ? e.msg : "ok", want);
}

static void calc_bad(const char *x, hearth_status want) {
    double v = 0;
    hearth_error e;
    hearth_status st = tools_calc_eval(x, strlen(x), &v, &e);
    CHECKF(st == want, "'%s': status %d (%s), want %d", x, (int)st, st ? e.msg : "ok", (int)want);
}

static void test_calc(void) {
    calc_ok("1+2*3", 7);
    calc_ok("(1+2)*3", 9);
    calc_ok("2^3^2", 512);
    calc_ok("-2^2", -4);
    calc_ok("-(2+3)*4", -20);
    calc_ok("10 % 4", 2);
    calc_ok("7/2", 3.5);
    calc_ok("1e3/4", 250);
    calc_ok(" 1.5e-1 + .25 ", 0.4);
    calc_ok("sqrt(16)+abs(-2)", 6);
    calc_ok("min(3, 1, 2) + max(4, 9)", 10);
    calc_ok("pow(2, 10)", 1024);
    calc_ok("round(2.5) + floor(-1.5) + ceil(1.2)", 3 + -2 + 2);
    calc_ok("log(1000) + ln(e) + log2(8)", 3 + 1 + 3);
    calc_ok("sin(0) + cos(0)", 1);
    calc_ok("2*pi", 2 * M_PI);
    calc_ok("--3", 3);
    calc_bad("1/0", HEARTH_E_ARG);
    calc_bad("5 % 0", HEARTH_E_ARG);
    calc_bad("", HEARTH_E_ARG);
    calc_bad("2+", HEARTH_E_ARG);
    calc_bad("1 2", HEARTH_E_ARG);
    calc_bad("(1+2", HEARTH_E_ARG);
    calc_bad("foo(1)", HEARTH_E_ARG);
    calc_bad("sqrt(-1)", HEARTH_E_ARG);
    calc_bad("ln(0)", HEARTH_E_ARG);
    calc_bad("pow(2)", HEARTH_E_ARG);
    calc_bad("10^400", HEARTH_E_ARG);
    calc_bad("1e999", HEARTH_E_ARG);
    calc_bad("system(\"ls\")", HEARTH_E_ARG);
    calc_bad("2;3", HEARTH_E_ARG);
    /* nesting and length are bounded, not the stack */
    char deep[400];
    memset(deep, '(', 200);
    deep[200] = '1';
    memset(deep + 201, ')', 198);
    deep[399] = '\0';
    calc_bad(deep, HEARTH_E_ARG);
    char *big = malloc(2000);
    REQUIRE(big);
    for (int i = 0; i < 1999; i++) big[i] = i % 2 ? '+' : '1';
    big[1999] = '\0';
    calc_bad(big, HEARTH_E_LIMIT);
    free(big);
    /* a message that says where */
    hearth_error e;
    double v;
    CHECK(tools_calc_eval("1 + $", 5, &v, &e) == HEARTH_E_ARG && strstr(e.msg, "position 5"));
}

static const char weather[] =
    "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
    "\"Weather in a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
    "{\"type\": \"string\"}, \"days\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 7}}, "
    "\"required\": [\"city\"]}}}, {\"type\": \"function\", \"function\": {\"name\": \"now\"}}]";

static void defs_bad(const char *json, const char *says) {
    hearth_error e;
    hearth_status st = hearth_tools_check(json, strlen(json), &e);
    CHECKF(st != HEARTH_OK && strstr(e.msg, says), "%s: %s", json, st ? e.msg : "accepted");
}

static void test_defs(void) {
    hearth_error e;
    CHECKF(hearth_tools_check(weather, strlen(weather), &e) == HEARTH_OK, "%s", e.msg);
    CHECK_EQ_INT(hearth_tools_check(tools_builtin_defs(), strlen(tools_builtin_defs()), &e), 0);
    defs_bad("[", "not JSON");
    defs_bad("{}", "non-empty array");
    defs_bad("[]", "non-empty array");
    defs_bad("[{\"type\": \"func\", \"function\": {\"name\": \"a\"}}]", "tools[0].type");
    defs_bad("[{\"type\": \"function\"}]", "tools[0].function");
    defs_bad("[{\"type\": \"function\", \"function\": {\"name\": \"a b\"}}]", "function.name");
    defs_bad("[{\"type\": \"function\", \"function\": {\"name\": \"\"}}]", "function.name");
    defs_bad("[{\"type\": \"function\", \"function\": {\"name\": \"a\", \"parameters\": 3}}]",
             "parameters");
    defs_bad("[{\"type\": \"function\", \"function\": {\"name\": \"a\"}}, {\"type\": \"function\", "
             "\"function\": {\"name\": \"a\"}}]", "twice");
    defs_bad("[{\"type\": \"function\", \"function\": {\"name\": \"a\", \"parameters\": "
             "{\"type\": \"object\", \"properties\": {\"x\": {\"$ref\": \"#/nowhere\"}}}}}]",
             "tools[0].function.parameters");
}

/* The conversation rendered as "role: content" lines. */
static char *show(hearth_template t, const tool_msg *m, size_t n, bool with_tools) {
    json_t *defs = NULL;
    hearth_error e;
    REQUIRE(tools_defs_parse(weather, strlen(weather), &defs, &e) == HEARTH_OK);
    agent_conv c = {0};
    REQUIRE(tools_conv(t, m, n, with_tools ? defs : NULL, &c, &e) == HEARTH_OK);
    agent_buf b = {0};
    for (size_t i = 0; i < c.n; i++) {
        agent_buf_puts(&b, c.v[i].role);
        agent_buf_puts(&b, ": ");
        agent_buf_puts(&b, c.v[i].content);
        agent_buf_puts(&b, "\n");
    }
    agent_conv_free(&c);
    json_decref(defs);
    return b.v;
}

static const tool_msg history[] = {
    {"system", "Be brief.", NULL, NULL},
    {"user", "Weather in Paris?", NULL, NULL},
    {"assistant", "",
     "[{\"id\": \"call_1\", \"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
     "\"arguments\": \"{\\\"city\\\":\\\"Paris\\\"}\"}}]",
     NULL},
    {"tool", "{\"temp\": 21}", NULL, "call_1"},
    {"tool", "second", NULL, "call_2"},
    {"user", "Thanks", NULL, NULL},
};

static void test_conv(void) {
    char *s = show(HEARTH_TEMPLATE_CHATML, history, 6, true);
    CHECKF(strstr(s, "system: Be brief.\n\n# Tools\n\nYou may call one or more functions") &&
               strstr(s, "<tools>\n{\"type\": \"function\", \"function\": {\"name\": "
                         "\"get_weather\", \"description\": \"Weather in a city\"") &&
               strstr(s, "</tools>\n\nFor each function call, return a json object"),
           "%s", s);
    CHECKF(strstr(s, "assistant: <tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                     "{\"city\": \"Paris\"}}\n</tool_call>\n"),
           "%s", s);
    CHECKF(strstr(s, "user: <tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\n"
                     "second\n</tool_response>\nuser: Thanks\n"),
           "%s", s);
    free(s);
    /* tool_choice none: no tools shown, the history still rendered */
    s = show(HEARTH_TEMPLATE_CHATML, history, 6, false);
    CHECKF(!strstr(s, "<tools>") && strstr(s, "<tool_response>") && strstr(s, "<tool_call>"),
           "%s", s);
    free(s);
    /* no system message: the tools make one */
    s = show(HEARTH_TEMPLATE_GEMMA, history + 1, 1, true);
    CHECKF(!strncmp(s, "system: # Tools\n", 16) && strstr(s, "user: Weather in Paris?"), "%s", s);
    free(s);
    s = show(HEARTH_TEMPLATE_LLAMA3, history, 6, true);
    CHECKF(strstr(s, "system: Be brief.\nuser: Given the following functions, please respond "
                     "with a JSON for a function call") &&
               strstr(s, "Do not use variables.\n\n{\"type\": \"function\"") &&
               strstr(s, "\n\nWeather in Paris?\n") &&
               strstr(s, "assistant: {\"name\": \"get_weather\", \"parameters\": {\"city\": "
                         "\"Paris\"}}\nipython: {\"temp\": 21}\nipython: second\n"),
           "%s", s);
    free(s);
    s = show(HEARTH_TEMPLATE_MISTRAL, history, 6, true);
    CHECKF(strstr(s, "user: Weather in Paris?\n") &&
               strstr(s, "assistant: [TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": "
                         "{\"city\": \"Paris\"}, \"id\": \"call_1\"}]\n") &&
               strstr(s, "user: [TOOL_RESULTS] {\"content\": \"{\\\"temp\\\": 21}\", "
                         "\"call_id\": \"call_1\"}[/TOOL_RESULTS][TOOL_RESULTS]") &&
               strstr(s, "user: [AVAILABLE_TOOLS] [{\"type\": \"function\"") &&
               strstr(s, "[/AVAILABLE_TOOLS]Thanks\n"),
           "%s", s);
    free(s);
    /* a bad tool_calls value is the caller's error */
    tool_msg bad[] = {{"user", "x", NULL, NULL}, {"assistant", "", "{\"no\": 1}", NULL}};
    agent_conv c = {0};
    hearth_error e;
    CHECK(tools_conv(HEARTH_TEMPLATE_CHATML, bad, 2, NULL, &c, &e) == HEARTH_E_ARG);
    agent_conv_free(&c);
    /* every family renders the rewritten conversation */
    json_t *defs;
    REQUIRE(tools_defs_parse(weather, strlen(weather), &defs, &e) == HEARTH_OK);
    for (int t = 0; t < HEARTH_TEMPLATE_COUNT; t++) {
        agent_conv v = {0};
        REQUIRE(tools_conv((hearth_template)t, history, 6, defs, &v, &e) == HEARTH_OK);
        tmpl_pieces p;
        hearth_status st = tmpl_pieces_render((hearth_template)t, v.v, v.n, false, &p, &e);
        CHECKF(st == HEARTH_OK, "family %s: %s", hearth_template_name((hearth_template)t), e.msg);
        if (!st) tmpl_pieces_free(&p);
        agent_conv_free(&v);
    }
    json_decref(defs);
}

/* Does the grammar of (family, choice) accept text? */
static int accepts(hearth_template t, hearth_tool_choice choice, const char *name, bool parallel,
                   const char *text) {
    json_t *defs;
    hearth_error e;
    REQUIRE(tools_defs_parse(weather, strlen(weather), &defs, &e) == HEARTH_OK);
    char *gbnf = NULL;
    const char *trig = NULL;
    hearth_status st = tools_grammar(t, defs, choice, name, parallel, &gbnf, &trig, &e);
    json_decref(defs);
    CHECKF(st == HEARTH_OK, "%s", e.msg);
    if (st || !gbnf) return -1;
    hearth_grammar *g = NULL;
    st = hearth_grammar_from_gbnf(gbnf, strlen(gbnf), "root", &g, &e);
    CHECKF(st == HEARTH_OK, "%s\n%s", e.msg, gbnf);
    hearth_free(gbnf);
    if (st) return -1;
    gmatch m;
    REQUIRE(gmatch_init(&m, g, NULL) == HEARTH_OK);
    int ok = gmatch_accept(&m, text, strlen(text)) && gmatch_complete(&m);
    gmatch_free(&m);
    hearth_grammar_free(g);
    return ok;
}

static void test_grammar(void) {
    const char *one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                      "\"Paris\"}}\n</tool_call>";
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true, one), 1);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_NAMED, "get_weather", false,
                         one), 1);
    /* named: another tool is refused */
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_NAMED, "now", false, one), 0);
    /* the schema holds: required property, integer bounds */
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true,
                         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n"
                         "</tool_call>"), 0);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true,
                         "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                         "\"x\", \"days\": 9}}\n</tool_call>"), 0);
    char two[600];
    snprintf(two, sizeof two, "%s\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n"
             "</tool_call>", one);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true, two), 1);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_REQUIRED, NULL, false, two), 0);
    /* auto: the text after the trigger */
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_CHATML, HEARTH_TOOL_CHOICE_AUTO, NULL, true,
                         one + strlen("<tool_call>")), 1);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_LLAMA3, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true,
                         "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}"), 1);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_LLAMA3, HEARTH_TOOL_CHOICE_AUTO, NULL, true, "x"), -1);
    CHECK_EQ_INT(accepts(HEARTH_TEMPLATE_MISTRAL, HEARTH_TOOL_CHOICE_REQUIRED, NULL, true,
                         "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                         "\"Rome\"}}, {\"name\": \"now\", \"arguments\": {}}]"), 1);
    /* the built-in tools' schemas compile */
    json_t *defs;
    hearth_error e;
    REQUIRE(tools_defs_parse(tools_builtin_defs(), strlen(tools_builtin_defs()), &defs, &e) == 0);
    char *gbnf;
    const char *trig;
    CHECKF(tools_grammar(HEARTH_TEMPLATE_CHATML, defs, HEARTH_TOOL_CHOICE_AUTO, NULL, true, &gbnf,
                         &trig, &e) == HEARTH_OK && trig && !strcmp(trig, "<tool_call>"),
           "%s", e.msg);
    hearth_grammar *g = NULL;
    CHECKF(hearth_grammar_from_gbnf(gbnf, strlen(gbnf), "root", &g, &e) == HEARTH_OK, "%s", e.msg);
    hearth_grammar_free(g);
    hearth_free(gbnf);
    json_decref(defs);
}

static void parse(hearth_template t, const char *text, bool parallel, const char *want_content,
                  int want_calls, const char *want_in_calls) {
    json_t *defs;
    hearth_error e;
    REQUIRE(tools_defs_parse(weather, strlen(weather), &defs, &e) == HEARTH_OK);
    char *content = NULL, *calls = NULL;
    REQUIRE(tools_parse(t, text, defs, parallel, &content, &calls, &e) == HEARTH_OK);
    CHECKF(!strcmp(content, want_content), "'%s': content '%s', want '%s'", text, content,
           want_content);
    json_t *arr = calls ? json_loads(calls, 0, NULL) : NULL;
    CHECKF((int)json_array_size(arr) == want_calls, "'%s': %zu calls (%s), want %d", text,
           json_array_size(arr), calls ? calls : "none", want_calls);
    if (want_in_calls) CHECKF(calls && strstr(calls, want_in_calls), "%s", calls ? calls : "none");
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        CHECK(id && !strncmp(id, "call_", 5) && strlen(id) == 29);
        CHECK_STR(json_string_value(json_object_get(c, "type")), "function");
        json_t *a = json_loads(json_string_value(
                                   json_object_get(json_object_get(c, "function"), "arguments")),
                               0, NULL);
        CHECK(json_is_object(a)); /* arguments: a JSON object's text */
        json_decref(a);
    }
    json_decref(arr);
    hearth_free(content);
    hearth_free(calls);
    json_decref(defs);
}

static void test_parse(void) {
    parse(HEARTH_TEMPLATE_CHATML, "plain answer", true, "plain answer", 0, NULL);
    parse(HEARTH_TEMPLATE_CHATML,
          "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
          "\"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n"
          "</tool_call>",
          true, "Let me check.", 2, "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"");
    parse(HEARTH_TEMPLATE_CHATML,
          "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"A\"}}</tool_call>"
          "<tool_call>{\"name\": \"now\"}</tool_call>",
          false, "", 1, "get_weather");
    /* arguments given as a string of JSON, and "parameters" */
    parse(HEARTH_TEMPLATE_CHATML,
          "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"B\\\"}\"}"
          "</tool_call><tool_call>{\"name\": \"now\", \"parameters\": {}}</tool_call>",
          true, "", 2, NULL);
    /* untrusted text: broken JSON, unknown tools, non-object arguments,
     * an unclosed call stay text; a closed good call after them counts */
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call>{\"name\": \"get_weather\", </tool_call>", true,
          "<tool_call>{\"name\": \"get_weather\", </tool_call>", 0, NULL);
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>",
          true, "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>", 0, NULL);
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call>{\"name\": \"now\", \"arguments\": [1]}</tool_call>x",
          true, "<tool_call>{\"name\": \"now\", \"arguments\": [1]}</tool_call>x", 0, NULL);
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call>{\"name\": \"now\", \"arguments\": {}} trailing"
          "</tool_call>", true, "<tool_call>{\"name\": \"now\", \"arguments\": {}} trailing"
          "</tool_call>", 0, NULL);
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}", true, "",
          1, "now");
    parse(HEARTH_TEMPLATE_CHATML, "<tool_call><tool_call>{\"name\": \"now\"}</tool_call>", true,
          "<tool_call><tool_call>{\"name\": \"now\"}</tool_call>", 0, NULL);
    parse(HEARTH_TEMPLATE_LLAMA3, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"C\"}}",
          true, "", 1, "get_weather");
    parse(HEARTH_TEMPLATE_LLAMA3, "<|python_tag|>{\"name\": \"now\", \"parameters\": {}}; "
          "{\"name\": \"now\", \"parameters\": {}}", true, "", 2, NULL);
    parse(HEARTH_TEMPLATE_LLAMA3, "{\"name\": \"now\"} and more", true,
          "{\"name\": \"now\"} and more", 0, NULL);
    parse(HEARTH_TEMPLATE_LLAMA3, "The answer is 4.", true, "The answer is 4.", 0, NULL);
    parse(HEARTH_TEMPLATE_MISTRAL, "ok [TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}]", true,
          "ok", 1, "now");
    parse(HEARTH_TEMPLATE_MISTRAL, "[TOOL_CALLS] [{\"name\": \"nope\", \"arguments\": {}}]", true,
          "[TOOL_CALLS] [{\"name\": \"nope\", \"arguments\": {}}]", 0, NULL);
}

int main(void) {
    test_calc();
    test_defs();
    test_conv();
    test_grammar();
    test_parse();
    return test_done();
}
