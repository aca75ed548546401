/*
 * test_confidence.c: the confidence of the agent's local answers with the
 * bundled demo model (which answers small arithmetic and declines anything
 * else): held-out arithmetic questions (tests/demo/arith_heldout.tsv) score
 * at or above the router's default threshold, out-of-domain questions
 * (tests/demo/ood_questions.txt) below it, each for at least 95% of them;
 * a cache hit reports the confidence of the answer it stored. Prints both
 * shares (the routing figures of the demo).
 */
#include "hearth.h"
#include "test.h"

#include "fixture.h"

#define THRESHOLD 0.5 /* the router's default confidence_threshold */

static double ask(hearth_agent *a, const char *q, hearth_source *src, char *answer, size_t cap) {
    hearth_agent_request r = hearth_agent_default_request(a);
    r.user = q;
    r.temperature = 0;
    hearth_agent_response resp;
    hearth_error e = {0};
    hearth_status st = hearth_agent_process(a, &r, &resp, &e);
    REQUIRE(st == HEARTH_OK);
    double c = resp.confidence;
    if (src) *src = resp.source;
    if (answer) snprintf(answer, cap, "%s", resp.content);
    hearth_agent_response_clear(&resp);
    return c;
}

int main(void) {
    char *dir = fx_tmpdir();
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = HEARTH_SOURCE_DIR "/models/hearth-demo.gguf";
    p.data_dir = dir;
    p.n_threads = 1;
    hearth_agent *a;
    hearth_error e = {0};
    REQUIRE(hearth_agent_open(&p, &a, &e) == HEARTH_OK);

    char line[512], answer[512];
    int n_in = 0, in_local = 0, n_out = 0, out_cloud = 0;
    FILE *f = fopen(HEARTH_SOURCE_DIR "/tests/demo/arith_heldout.tsv", "r");
    REQUIRE(f);
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        double c = ask(a, line, NULL, answer, sizeof answer);
        CHECK(c >= 0.0 && c <= 1.0);
        n_in++;
        if (c >= THRESHOLD) in_local++;
        else printf("in-domain, low confidence %.3f: %s -> %s\n", c, line, answer);
    }
    fclose(f);
    f = fopen(HEARTH_SOURCE_DIR "/tests/demo/ood_questions.txt", "r");
    REQUIRE(f);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!*line) continue;
        double c = ask(a, line, NULL, answer, sizeof answer);
        CHECK(c >= 0.0 && c <= 1.0);
        n_out++;
        if (c < THRESHOLD) out_cloud++;
        else printf("out-of-domain, high confidence %.3f: %s -> %s\n", c, line, answer);
    }
    fclose(f);
    printf("demo routing: in-domain kept local %d/%d, out-of-domain escalated %d/%d\n", in_local,
           n_in, out_cloud, n_out);
    CHECK(n_in >= 40 && n_out >= 40);
    CHECKF(in_local * 100 >= n_in * 95, "%d/%d", in_local, n_in);
    CHECKF(out_cloud * 100 >= n_out * 95, "%d/%d", out_cloud, n_out);

    /* the same greedy question twice: the second is a cache hit with the
     * stored answer's confidence */
    hearth_source s1, s2;
    double c1 = ask(a, "What is 3 + 4?", &s1, NULL, 0);
    double c2 = ask(a, "What is 3 + 4?", &s2, NULL, 0);
    CHECK_EQ_INT(s2, HEARTH_SOURCE_CACHE);
    CHECKF(fabs(c1 - c2) < 1e-5, "%f vs %f", c1, c2);
    hearth_agent_free(a);
    fx_cleanup(dir);
    free(dir);
    return test_done();
}
