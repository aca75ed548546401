/* test_openai.c: OpenAI request parsing and validation (server/openai.c). */
#include "test.h"

#include "server/metrics.h"
#include "server/openai.h"
#include "util/alloc.h"

static hearth_status parse(srv_kind k, const char *body, srv_request *r, hearth_error *e) {
    return srv_request_parse(k, body, strlen(body), r, e);
}

/* A body that must be rejected, with a message naming field. */
static void reject(srv_kind k, const char *body, const char *field) {
    srv_request r;
    hearth_error e;
    hearth_status st = parse(k, body, &r, &e);
    CHECKF(st != HEARTH_OK, "accepted: %s", body);
    if (st != HEARTH_OK) CHECKF(strstr(e.msg, field) != NULL, "'%s' not in '%s'", field, e.msg);
    CHECK(r.model == NULL && r.messages == NULL); /* nothing leaks on failure */
}

int main(void) {
    srv_request r;
    hearth_error e;

    const char *ok =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is \"},"
        "{\"type\":\"text\",\"text\":\"2+2?\"}]}],\"stream\":true,\"max_tokens\":16,"
        "\"temperature\":0.5,\"top_p\":0.9,\"seed\":42,\"stop\":[\"\\n\",\"END\"],"
        "\"presence_penalty\":0.1,\"frequency_penalty\":-0.2,\"session\":\"s1\","
        "\"stream_options\":{\"include_usage\":true},\"unknown_field\":[1,2]}";
    REQUIRE(parse(SRV_CHAT, ok, &r, &e) == HEARTH_OK);
    CHECK_STR(r.model, "m");
    CHECK_EQ_INT(r.n_messages, 2);
    CHECK_STR(r.messages[0].role, "system");
    CHECK_STR(r.messages[1].content, "What is 2+2?");
    CHECK(r.stream && r.include_usage);
    CHECK_EQ_INT(r.max_tokens, 16);
    CHECK(r.has_temperature && fabsf(r.temperature - 0.5f) < 1e-6f);
    CHECK(r.has_top_p && fabsf(r.top_p - 0.9f) < 1e-6f);
    CHECK(r.has_seed && r.seed == 42);
    CHECK_EQ_INT(r.n_stop, 2);
    CHECK_STR(r.stop[1], "END");
    CHECK_STR(r.session, "s1");
    srv_request_free(&r);

    REQUIRE(parse(SRV_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"once\"],\"stop\":\"x\"}", &r, &e) == 0);
    CHECK_STR(r.prompt, "once");
    CHECK_EQ_INT(r.max_tokens, -1);
    CHECK(!r.stream && !r.has_temperature);
    srv_request_free(&r);

    REQUIRE(parse(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":[\"a\",\"b\"]}", &r, &e) == 0);
    CHECK_EQ_INT(r.n_inputs, 2);
    CHECK_STR(r.inputs[1], "b");
    srv_request_free(&r);

    /* Malformed JSON is HEARTH_E_FORMAT with a position. */
    CHECK(parse(SRV_CHAT, "{\"model\":", &r, &e) == HEARTH_E_FORMAT);
    CHECK(strstr(e.msg, "invalid JSON") != NULL);
    CHECK(parse(SRV_CHAT, "", &r, &e) == HEARTH_E_FORMAT);
    CHECK(parse(SRV_CHAT, "{\"model\":\"a\",\"model\":\"b\"}", &r, &e) == HEARTH_E_FORMAT);

    reject(SRV_CHAT, "[]", "object");
    reject(SRV_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model");
    reject(SRV_CHAT, "{\"model\":5,\"messages\":[]}", "model");
    reject(SRV_CHAT, "{\"model\":\"m\"}", "messages");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[]}", "messages");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":{}}", "messages");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[1]}", "messages");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"function\",\"content\":\"x\"}]}", "role");
    /* tool results are messages now (tool calling), with the call they answer */
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "tool_call_id");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}", "content");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":7}]}", "content");
    reject(SRV_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "content");
    const char *base = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
    struct { const char *tail, *field; } bad[] = {
        {"\"stream\":\"yes\"}", "stream"},
        {"\"max_tokens\":0}", "max_tokens"},
        {"\"max_tokens\":1.5}", "max_tokens"},
        {"\"max_tokens\":\"9\"}", "max_tokens"},
        {"\"temperature\":3}", "temperature"},
        {"\"temperature\":\"hot\"}", "temperature"},
        {"\"top_p\":-0.1}", "top_p"},
        {"\"seed\":1.5}", "seed"},
        {"\"stop\":5}", "stop"},
        {"\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop"},
        {"\"stop\":[\"\"]}", "stop"},
        {"\"presence_penalty\":9}", "presence_penalty"},
        {"\"n\":2}", "n"},
        {"\"session\":\"\"}", "session"},
        {"\"stream_options\":3}", "stream_options"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "%s%s", base, bad[i].tail);
        reject(SRV_CHAT, body, bad[i].field);
    }
    reject(SRV_COMPLETION, "{\"model\":\"m\"}", "prompt");
    reject(SRV_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}", "prompt");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\"}", "input");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":[]}", "input");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":[[1,2]]}", "input");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"int8\"}", "encoding_format");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":1}", "encoding_format");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"dimensions\":0}", "dimensions");
    reject(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"dimensions\":\"8\"}", "dimensions");
    /* base64 and float (OpenAI's default when absent), and dimensions, are accepted */
    REQUIRE(parse(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"base64\","
                                  "\"dimensions\":64}", &r, &e) == 0);
    CHECK(r.base64);
    CHECK_EQ_INT(r.dimensions, 64);
    srv_request_free(&r);
    REQUIRE(parse(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"float\"}", &r, &e) == 0);
    CHECK(!r.base64);
    CHECK_EQ_INT(r.dimensions, 0);
    srv_request_free(&r);
    REQUIRE(parse(SRV_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\"}", &r, &e) == 0);
    CHECK(!r.base64);
    srv_request_free(&r);

    /* Every allocation failure is a clean error, never a crash or a leak. */
    long n = 0;
    hearth_alloc_fail_after(0);
    REQUIRE(parse(SRV_CHAT, ok, &r, &e) == HEARTH_OK);
    srv_request_free(&r);
    n = hearth_alloc_fail_after(0);
    for (long k = 1; k <= n; k++) {
        hearth_alloc_fail_after(k);
        hearth_status st = parse(SRV_CHAT, ok, &r, &e);
        hearth_alloc_fail_after(0);
        CHECKF(st == HEARTH_OK || st == HEARTH_E_NOMEM, "k=%ld st=%d", k, st);
        srv_request_free(&r);
    }

    /* The error body is OpenAI's shape. */
    size_t len;
    char *body = srv_error_json("bad \"thing\"", "invalid_request_error", "invalid_value", &len);
    REQUIRE(body);
    CHECK_STR(body, "{\"error\":{\"message\":\"bad \\\"thing\\\"\",\"type\":\"invalid_request_error\","
                    "\"param\":null,\"code\":\"invalid_value\"}}");
    hearth_free(body);

    /* Metrics render counters and histograms in Prometheus text format. */
    srv_metrics *m = srv_metrics_new();
    REQUIRE(m);
    srv_metrics_request(m, "/v1/chat/completions", 200);
    srv_metrics_request(m, "/v1/chat/completions", 200);
    srv_metrics_request(m, "/v1/chat/completions", 400);
    srv_metrics_answer(m, "cache", 10, 0, 0.001, -1);
    srv_metrics_answer(m, "local", 5, 7, 0.2, 0.02);
    srv_metrics_error(m, "invalid_json");
    char *text = srv_metrics_render(m, &len);
    REQUIRE(text);
    CHECK(strstr(text, "hearth_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n"));
    CHECK(strstr(text, "hearth_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n"));
    CHECK(strstr(text, "hearth_prompt_tokens_total 15\n"));
    CHECK(strstr(text, "hearth_completion_tokens_total 7\n"));
    CHECK(strstr(text, "hearth_cache_hits_total 1\n"));
    CHECK(strstr(text, "hearth_answers_total{source=\"local\"} 1\n"));
    CHECK(strstr(text, "hearth_answers_total{source=\"cloud\"} 0\n"));
    CHECK(strstr(text, "hearth_errors_total{kind=\"invalid_json\"} 1\n"));
    CHECK(strstr(text, "hearth_time_to_first_token_seconds_bucket{le=\"0.01\"} 1\n"));
    CHECK(strstr(text, "hearth_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK(strstr(text, "hearth_token_latency_seconds_count 1\n"));
    hearth_free(text);
    srv_metrics_free(m);
    return test_done();
}
