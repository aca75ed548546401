/*
 * test_context.c: the context window with a tiny context (512 tokens): a
 * long session keeps working, every prompt fits, the system prompt and the
 * newest turns are kept, older turns are replaced by a summary stored in the
 * store and reused by the next requests, and an older message similar to the
 * new one is added back. A new message that can not fit is a clear error.
 */
#include "test.h"

#include "agent/agent_int.h"
#include "fixture.h"
#include "hearth.h"

#include <stdlib.h>
#include <string.h>

#define CTX 512
#define MAXTOK 8
#define SYS "You are a test assistant."
#define SECRET "My cat is named Zorblax and she likes boxes."

static hearth_agent *open_agent(const char *model, const char *home) {
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = model;
    p.data_dir = home;
    p.max_context = CTX;
    p.n_threads = 1;
    p.temperature = 0.0f;
    p.max_tokens = MAXTOK;
    p.system_prompt = SYS;
    hearth_agent *a = NULL;
    hearth_error err = {0};
    if (hearth_agent_open(&p, &a, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    return a;
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "tiny.gguf", "--arch llama --preset tiny --n-ctx 1024 --type F32");
    char home[512];
    snprintf(home, sizeof home, "%s/home", dir);
    hearth_agent *a = open_agent(model, home);
    hearth_store *st = hearth_agent_store(a);
    hearth_error err = {0};

    static const char *const topics[] = {
        SECRET,
        "Tell me about the weather in the mountains in spring.",
        "What should I cook for dinner tonight with rice and beans?",
        "How many legs does a spider have, and why?",
        "Please explain how a bicycle stays upright while moving.",
        "What is the capital of France and what is it known for?",
        "Give me three ideas for a birthday present for my sister.",
        "Why is the sky blue during the day and red at sunset?",
        "How do I water a cactus without drowning it in the pot?",
        "What is the difference between a lake and a pond exactly?",
        "Describe a quiet morning walk by the sea in a few words.",
        "Which is heavier, a kilogram of feathers or of stones?",
    };
    const size_t n_topics = sizeof topics / sizeof topics[0];
    int64_t sid = 0;
    char *prev_summary = NULL;
    int64_t prev_through = 0;
    int summaries_written = 0, reused = 0;
    for (size_t i = 0; i < n_topics; i++) {
        hearth_agent_request r = hearth_agent_default_request(a);
        r.session = "long";
        r.user = topics[i];
        r.no_cache = true;
        hearth_agent_response resp;
        hearth_status s = hearth_agent_process(a, &r, &resp, &err);
        CHECKF(s == HEARTH_OK, "turn %zu: %s", i, err.msg);
        if (s) break;
        CHECKF(resp.prompt_tokens + MAXTOK <= CTX, "turn %zu: prompt %d", i, resp.prompt_tokens);
        hearth_agent_response_clear(&resp);
        if (!sid) REQUIRE(hearth_store_session_find(st, "long", &sid, &err) == HEARTH_OK);
        char *sum = NULL;
        int64_t through = 0;
        if (hearth_store_summary_get(st, sid, &sum, &through, NULL) == HEARTH_OK) {
            if (!prev_summary || through != prev_through) summaries_written++;
            else if (!strcmp(sum, prev_summary)) reused++;
            hearth_free(prev_summary);
            prev_summary = sum;
            prev_through = through;
        }
    }
    /* Everything was kept in the store, however little reached the model. */
    CHECK_EQ_INT(fx_count_messages(st, "long"), 2 * (long)n_topics);
    CHECKF(summaries_written >= 1, "no summary was written");
    CHECKF(reused >= 1, "the summary was never reused (written %d times)", summaries_written);
    CHECK(prev_through > 0);

    /* The fitted conversation for a new message like the first one: system
     * prompt first, with the summary and the similar old message added back;
     * the newest turn kept; the new message last; all within the budget. */
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *hist = NULL;
    size_t n_hist = 0;
    REQUIRE(hearth_store_messages(st, &q, &hist, &n_hist, &err) == HEARTH_OK);
    REQUIRE(n_hist == 2 * n_topics);
    agent_conv conv = {0};
    size_t budget = CTX - MAXTOK;
    REQUIRE(agent_fit(a, sid, SYS, hist, n_hist, SECRET, budget, &conv, &err) == HEARTH_OK);
    REQUIRE(conv.n >= 2);
    CHECK_STR(conv.v[0].role, "system");
    CHECK(!strncmp(conv.v[0].content, SYS, strlen(SYS)));
    CHECK(strstr(conv.v[0].content, "Summary of the earlier conversation: ") != NULL);
    CHECKF(strstr(conv.v[0].content, "Earlier messages related to this one:\nuser: " SECRET) !=
               NULL,
           "system text: %s", conv.v[0].content);
    CHECK_STR(conv.v[conv.n - 1].content, SECRET);
    CHECK_STR(conv.v[conv.n - 2].content, hist[n_hist - 1].content); /* newest answer kept */
    CHECK(conv.n < n_hist + 2);                                      /* older turns left out */
    size_t count = 0;
    REQUIRE(agent_count(a, conv.v, conv.n, &count, &err) == HEARTH_OK);
    CHECK(count <= budget);
    agent_conv_free(&conv);
    hearth_free(hist);

    /* A new message that alone overflows the window: HEARTH_E_LIMIT. */
    size_t big = 4000;
    char *huge = malloc(big + 1);
    REQUIRE(huge);
    for (size_t i = 0; i < big; i++) huge[i] = "abcdefgh "[i % 9];
    huge[big] = '\0';
    hearth_agent_request r = hearth_agent_default_request(a);
    r.session = "long";
    r.user = huge;
    hearth_agent_response resp;
    CHECK(hearth_agent_process(a, &r, &resp, &err) == HEARTH_E_LIMIT);
    CHECK(strstr(err.msg, "context window") != NULL);
    CHECK_EQ_INT(fx_count_messages(st, "long"), 2 * (long)n_topics); /* nothing stored */
    free(huge);

    hearth_free(prev_summary);
    hearth_agent_free(a);
    fx_cleanup(dir);
    free(model);
    free(dir);
    return test_done();
}
