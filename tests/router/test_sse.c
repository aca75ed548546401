/*
 * test_sse.c: the SSE parser (src/router/sse.c) and the OpenAI JSON readers
 * and writer (src/router/cloud_json.c) on hand-made inputs: every way of
 * splitting a stream into pieces gives the same events; line ends, comments,
 * multi-line data, BOM, limits and stops; whole responses, stream chunks,
 * error bodies and the request body.
 */
#include "router/cloud_json.h"
#include "router/sse.h"
#include "test.h"

#include <jansson.h>

typedef struct {
    char log[4096]; /* "event|data" lines */
    size_t n;
    int stop_after; /* 0: never */
} sink;

static bool on_ev(void *ud, const char *event, const char *data, size_t len, hearth_error *err) {
    (void)err;
    sink *s = ud;
    size_t used = strlen(s->log);
    snprintf(s->log + used, sizeof s->log - used, "%s|%.*s\n", event, (int)len, data);
    s->n++;
    return !(s->stop_after && (int)s->n >= s->stop_after);
}

/* Parses text fed in pieces of `piece` bytes (0: one feed); returns the log. */
static hearth_status parse(const char *text, size_t len, size_t piece, size_t max_line,
                           sink *s, bool *pending) {
    sse_parser p;
    sse_init(&p, max_line, on_ev, s);
    hearth_error e;
    hearth_status st = HEARTH_OK;
    if (!piece) piece = len ? len : 1;
    for (size_t i = 0; i < len && !st; i += piece)
        st = sse_feed(&p, text + i, len - i < piece ? len - i : piece, &e);
    if (pending) *pending = sse_pending(&p);
    sse_free(&p);
    return st;
}

static void test_splits(void) {
    const char *in =
        "\xEF\xBB\xBF: comment\r\n"
        "data: one\r\n\r\n"
        "event: message\ndata:two\ndata:  three\n\n"
        "id: 7\rretry: 10\rdata\r\r"
        "event: x\n\n"              /* no data: not dispatched */
        "data: a:b\r\ndata: \r\n\r\n"
        "unknown: field\n"
        "data: last\n\n";
    const char *want =
        "|one\n"
        "message|two\n three\n"
        "|\n"
        "|a:b\n\n"
        "|last\n";
    size_t len = strlen(in);
    for (size_t piece = 0; piece <= len; piece++) {
        sink s = {0};
        bool pend = true;
        CHECK_EQ_INT(parse(in, len, piece, 0, &s, &pend), HEARTH_OK);
        CHECKF(!strcmp(s.log, want), "piece %zu: got [%s]", piece, s.log);
        CHECK(!pend);
    }
    /* Every split point into two pieces, the CRLF pair split included. */
    for (size_t cut = 0; cut <= len; cut++) {
        sink s = {0};
        sse_parser p;
        sse_init(&p, 0, on_ev, &s);
        CHECK_EQ_INT(sse_feed(&p, in, cut, NULL), HEARTH_OK);
        CHECK_EQ_INT(sse_feed(&p, in + cut, len - cut, NULL), HEARTH_OK);
        CHECKF(!strcmp(s.log, want), "cut %zu: got [%s]", cut, s.log);
        sse_free(&p);
    }
}

static void test_edges(void) {
    sink s = {0};
    bool pend = false;
    /* An event not closed by an empty line is pending, not dispatched. */
    CHECK_EQ_INT(parse("data: x\n\ndata: cut", 18, 0, 0, &s, &pend), HEARTH_OK);
    CHECK_STR(s.log, "|x\n");
    CHECK(pend);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(parse("data: y\n", 8, 0, 0, &s, &pend), HEARTH_OK);
    CHECK(pend && s.n == 0);
    /* A BOM prefix that is not a BOM stays text; a BOM later is data. */
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(parse("\xEF" "data: z\n\n", 10, 1, 0, &s, NULL), HEARTH_OK);
    CHECK_EQ_INT(s.n, 0); /* the field name is "\xEF" "data", unknown */
    /* Limits: a line, and one event's data over several lines. */
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "data: ", 6);
    memset(&s, 0, sizeof s);
    hearth_error e;
    sse_parser p;
    sse_init(&p, 100, on_ev, &s);
    CHECK_EQ_INT(sse_feed(&p, big, sizeof big, &e), HEARTH_E_LIMIT);
    CHECK(strstr(e.msg, "too long") != NULL);
    CHECK_EQ_INT(sse_feed(&p, "\n\n", 2, &e), HEARTH_E_STATE);
    sse_free(&p);
    sse_init(&p, 100, on_ev, &s);
    const char *line = "data: 0123456789012345678901234567890123456789\n";
    hearth_status st = HEARTH_OK;
    for (int i = 0; i < 5 && !st; i++) st = sse_feed(&p, line, strlen(line), &e);
    CHECK_EQ_INT(st, HEARTH_E_LIMIT);
    sse_free(&p);
    /* Exactly max_line bytes fit. */
    memset(&s, 0, sizeof s);
    char fit[107 + 3];
    memcpy(fit, "data:", 5);
    memset(fit + 5, 'b', 95); /* line of 100 bytes, data of 95 */
    memcpy(fit + 100, "\n\n", 2);
    CHECK_EQ_INT(parse(fit, 102, 7, 100, &s, NULL), HEARTH_OK);
    CHECK_EQ_INT(s.n, 1);
    /* A callback that stops the parser. */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    CHECK_EQ_INT(parse("data: 1\n\ndata: 2\n\n", 18, 0, 0, &s, NULL), HEARTH_E_CANCELLED);
    CHECK_EQ_INT(s.n, 1);
}

typedef struct {
    char text[256];
    int n;
    int stop_after;
} deltas;

static bool on_delta(void *ud, const char *t, size_t n) {
    deltas *d = ud;
    size_t used = strlen(d->text);
    snprintf(d->text + used, sizeof d->text - used, "%.*s", (int)n, t);
    d->n++;
    return !(d->stop_after && d->n >= d->stop_after);
}

static void test_response(void) {
    oa_answer a;
    hearth_error e;
    const char *ok = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"4\"},"
                     "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,"
                     "\"total_tokens\":4}}";
    oa_answer_init(&a, 0);
    CHECK_EQ_INT(oa_parse_response(ok, strlen(ok), &a, &e), HEARTH_OK);
    CHECK_STR(a.text.p, "4");
    CHECK_STR(a.finish_reason, "stop");
    CHECK(a.has_usage && a.prompt_tokens == 3 && a.completion_tokens == 1 && a.total_tokens == 4);
    oa_answer_free(&a);
    static const struct { const char *body; hearth_status want; } bad[] = {
        {"", HEARTH_E_FORMAT},
        {"[1]", HEARTH_E_FORMAT},
        {"{\"choices\":[]}", HEARTH_E_FORMAT},
        {"{\"choices\":{}}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"message\":{\"content\":null}}]}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"message\":{\"content\":7}}]}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":-1}}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"message\":{\"content\":\"\\u0000\"}}]}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}", HEARTH_E_FORMAT},
        {"{\"a\":1,\"a\":2}", HEARTH_E_FORMAT},
        {"{\"error\":{\"message\":\"quota\"}}", HEARTH_E_IO},
        {"{\"choices\":[{\"message\":{\"content\":\"0123456789abc\"}}]}", HEARTH_E_LIMIT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oa_answer_init(&a, 10);
        hearth_status st = oa_parse_response(bad[i].body, strlen(bad[i].body), &a, &e);
        CHECKF(st == bad[i].want, "case %zu: status %d (%s)", i, st, e.msg);
        oa_answer_free(&a);
    }
    oa_answer_init(&a, 0);
    CHECK_EQ_INT(oa_parse_response(bad[10].body, strlen(bad[10].body), &a, &e), HEARTH_E_IO);
    CHECK(strstr(e.msg, "quota") != NULL);
    oa_answer_free(&a);
}

static void test_chunks(void) {
    oa_answer a;
    hearth_error e;
    deltas d = {0};
    oa_answer_init(&a, 0);
    const char *c[] = {
        "{\"choices\":[{\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":null}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"lo \\u00e9\"}}]}",
        "{\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}",
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}",
        "{\"timings\":{}}",
        "[DONE]",
        "not json after done is ignored",
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        CHECKF(oa_stream_chunk(c[i], strlen(c[i]), &a, on_delta, &d, &e) == HEARTH_OK, "chunk %zu: %s", i, e.msg);
    CHECK_STR(a.text.p, "Hello \xc3\xa9");
    CHECK_STR(d.text, "Hello \xc3\xa9");
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_INT(a.n_deltas, 2);
    CHECK_STR(a.finish_reason, "length");
    CHECK(a.done && a.has_usage && a.prompt_tokens == 5 && a.completion_tokens == 2);
    oa_answer_free(&a);

    static const struct { const char *data; hearth_status want; } bad[] = {
        {"", HEARTH_E_FORMAT},
        {"{", HEARTH_E_FORMAT},
        {"\"str\"", HEARTH_E_FORMAT},
        {"{\"choices\":7}", HEARTH_E_FORMAT},
        {"{\"choices\":[3]}", HEARTH_E_FORMAT},
        {"{\"choices\":[{\"delta\":{\"content\":[1]}}]}", HEARTH_E_FORMAT},
        {"{\"usage\":[]}", HEARTH_E_FORMAT},
        {"{\"error\":{\"message\":\"overloaded\"}}", HEARTH_E_IO},
        {"{\"error\":\"plain\"}", HEARTH_E_IO},
        {"{\"choices\":[{\"delta\":{\"content\":\"abcdefghijk\"}}]}", HEARTH_E_LIMIT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oa_answer_init(&a, 10);
        hearth_status st = oa_stream_chunk(bad[i].data, strlen(bad[i].data), &a, NULL, NULL, &e);
        CHECKF(st == bad[i].want, "bad chunk %zu: status %d (%s)", i, st, e.msg);
        oa_answer_free(&a);
    }
    /* The delta callback stops the stream. */
    deltas stop = {.stop_after = 1};
    oa_answer_init(&a, 0);
    CHECK_EQ_INT(oa_stream_chunk(c[1], strlen(c[1]), &a, on_delta, &stop, &e), HEARTH_E_CANCELLED);
    oa_answer_free(&a);
}

static void test_error_message(void) {
    char m[32];
    const char *b1 = "{\"error\":{\"message\":\"bad key \\u00e9\\n xyz\",\"type\":\"auth\"}}";
    oa_error_message(b1, strlen(b1), m, sizeof m);
    CHECK_STR(m, "bad key ?? xyz");
    oa_error_message("{\"error\":\"flat\"}", 16, m, sizeof m);
    CHECK_STR(m, "flat");
    oa_error_message("{\"message\":\"top\"}", 17, m, sizeof m);
    CHECK_STR(m, "top");
    oa_error_message("<html>502</html>", 16, m, sizeof m);
    CHECK_STR(m, "");
    const char *b2 = "{\"error\":{\"message\":\"0123456789012345678901234567890123456789\"}}";
    oa_error_message(b2, strlen(b2), m, sizeof m);
    CHECK_EQ_INT(strlen(m), sizeof m - 1);
}

static void test_request(void) {
    hearth_chat_message msgs[2] = {{"system", "Be brief."}, {"user", "Caf\xc3\xa9 \"quoted\"?"}};
    hearth_cloud_request r = {.messages = msgs, .n_messages = 2, .max_tokens = 32,
                              .temperature = 0.7f, .stream = true};
    size_t len = 0;
    hearth_error e;
    char *body = oa_request_json("gpt-x", &r, true, &len, &e);
    REQUIRE(body);
    CHECK_EQ_INT(strlen(body), len);
    json_t *j = json_loads(body, 0, NULL);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "model")), "gpt-x");
    json_t *m = json_object_get(j, "messages");
    CHECK_EQ_INT(json_array_size(m), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 1), "role")), "user");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 1), "content")), msgs[1].content);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "max_tokens")), 32);
    CHECK(fabs(json_real_value(json_object_get(j, "temperature")) - 0.7) < 1e-6);
    CHECK(json_is_true(json_object_get(j, "stream")));
    CHECK(json_is_true(json_object_get(json_object_get(j, "stream_options"), "include_usage")));
    CHECK(strstr(body, "0.69999") == NULL); /* no float noise on the wire */
    json_decref(j);
    hearth_free(body);

    r.stream = false;
    r.max_tokens = 0;
    r.temperature = -1;
    body = oa_request_json("m", &r, true, &len, &e);
    REQUIRE(body);
    CHECK(strstr(body, "max_tokens") == NULL && strstr(body, "temperature") == NULL);
    CHECK(strstr(body, "stream_options") == NULL && strstr(body, "\"stream\":false") != NULL);
    hearth_free(body);

    hearth_chat_message bad[1] = {{"user", "\xff\xfe"}};
    r.messages = bad;
    r.n_messages = 1;
    CHECK(oa_request_json("m", &r, true, &len, &e) == NULL && e.code == HEARTH_E_ARG);
    hearth_chat_message nul[1] = {{"user", NULL}};
    r.messages = nul;
    CHECK(oa_request_json("m", &r, true, &len, &e) == NULL && e.code == HEARTH_E_ARG);
    r.n_messages = 0;
    CHECK(oa_request_json("m", &r, true, &len, &e) == NULL && e.code == HEARTH_E_ARG);
}

int main(void) {
    test_splits();
    test_edges();
    test_response();
    test_chunks();
    test_error_message();
    test_request();
    return test_done();
}
