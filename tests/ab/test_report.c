/*
 * test_report.c: the A/B records of the store (src/store/ab.c) and the
 * report over them (src/ab/report.c), on rows injected into a temporary
 * store with answers known in advance:
 *  - variant b is exactly 100 ms slower with the same spread: diff 100,
 *    Welch interval 100 +/- t(0.975, 38) * se, verdict "higher";
 *  - the same speeds on both sides: diff 0, "no difference yet";
 *  - 2/20 against 3/20 cloud answers: Newcombe's interval holds 0;
 *  - a rates every answer 1 and b -1: a point interval, "lower";
 *  - confidence never recorded on one side: "no difference yet", nulls;
 *  - feedback: unknown id NOTFOUND, a rating out of range ARG, a second
 *    rating replaces the first; a response id stored twice is ARG.
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <jansson.h>
#include <stdio.h>

static void add(hearth_store *s, const char *id, const char *variant, double lat, double tps,
                const char *source, double conf) {
    hearth_ab_record r = {0};
    snprintf(r.response_id, sizeof r.response_id, "%s", id);
    snprintf(r.variant, sizeof r.variant, "%s", variant);
    snprintf(r.kind, sizeof r.kind, "chat");
    snprintf(r.source, sizeof r.source, "%s", source);
    r.latency_ms = lat;
    r.ttft_ms = -1;
    r.tokens_per_s = tps;
    r.completion_tokens = 10;
    r.confidence = conf;
    hearth_error e = {0};
    CHECKF(hearth_store_ab_add(s, &r, &e) == HEARTH_OK, "%s", e.msg);
}

static json_t *find_cmp(json_t *root, const char *metric) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "comparisons"), i, c) {
        if (!strcmp(json_string_value(json_object_get(c, "metric")), metric)) return c;
    }
    return NULL;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static const char *verdict(json_t *root, const char *metric) {
    json_t *c = find_cmp(root, metric);
    return c ? json_string_value(json_object_get(c, "verdict")) : "(missing)";
}

int main(void) {
    hearth_store_params p = hearth_store_default_params();
    char db[1024];
    snprintf(db, sizeof db, "%s/ab.db", tmpdir_path());
    p.path = db;
    hearth_store *s = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_store_open(&p, &s, &e) == HEARTH_OK);

    char id[64];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "a-%d", i);
        add(s, id, "a", 100 + i % 5, 50 + i % 4, i < 2 ? "cloud" : "local", -1);
        snprintf(id, sizeof id, "b-%d", i);
        add(s, id, "b", 200 + i % 5, 50 + i % 4, i < 3 ? "cloud" : "local", 0.5 + 0.01 * (i % 3));
    }
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "a-%d", i);
        CHECK(hearth_store_ab_feedback(s, id, -1, NULL, 0, &e) == HEARTH_OK);
        char v[64] = "";
        CHECK(hearth_store_ab_feedback(s, id, 1, v, sizeof v, &e) == HEARTH_OK); /* replaces */
        CHECK_STR(v, "a");
        snprintf(id, sizeof id, "b-%d", i);
        CHECK(hearth_store_ab_feedback(s, id, -1, NULL, 0, &e) == HEARTH_OK);
    }
    CHECK(hearth_store_ab_feedback(s, "nope", 1, NULL, 0, &e) == HEARTH_E_NOTFOUND);
    CHECK(hearth_store_ab_feedback(s, "a-1", 2, NULL, 0, &e) == HEARTH_E_ARG);
    CHECK(hearth_store_ab_feedback(s, "a-1", NAN, NULL, 0, &e) == HEARTH_E_ARG);
    hearth_ab_record dup = {0};
    snprintf(dup.response_id, sizeof dup.response_id, "a-1");
    snprintf(dup.kind, sizeof dup.kind, "chat");
    snprintf(dup.source, sizeof dup.source, "local");
    CHECK(hearth_store_ab_add(s, &dup, &e) == HEARTH_E_ARG);
    CHECKF(strstr(e.msg, "already stored") != NULL, "%s", e.msg);

    hearth_ab_record *rs;
    size_t n;
    REQUIRE(hearth_store_ab_list(s, 0, &rs, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(n, 40);
    CHECK_STR(rs[0].response_id, "a-0");
    CHECK(rs[0].has_rating && rs[0].rating == 1 && rs[0].confidence == -1);
    CHECK(!rs[39].has_rating && rs[39].confidence > 0);
    hearth_free(rs);

    char *js = NULL;
    REQUIRE(hearth_ab_report_json(s, 0, "a", &js, &e) == HEARTH_OK);
    json_t *root = json_loads(js, 0, NULL);
    REQUIRE(root);
    fprintf(stderr, "%s\n", js);
    CHECK_STR(json_string_value(json_object_get(root, "baseline")), "a");
    CHECK_EQ_INT(json_array_size(json_object_get(root, "variants")), 2);

    /* latency: se^2 = 2 * (40/19) / 20, df = 38 */
    json_t *lat = find_cmp(root, "latency_ms");
    REQUIRE(lat);
    double h = 2.024394 * sqrt(2 * (40.0 / 19) / 20);
    CHECKF(fabs(num(lat, "diff") - 100) < 1e-9, "%g", num(lat, "diff"));
    CHECKF(fabs(num(lat, "lo") - (100 - h)) < 1e-5, "%g", num(lat, "lo"));
    CHECKF(fabs(num(lat, "hi") - (100 + h)) < 1e-5, "%g", num(lat, "hi"));
    CHECK_STR(verdict(root, "latency_ms"), "higher");
    CHECK_STR(verdict(root, "tokens_per_s"), "no difference yet");
    CHECK(fabs(num(find_cmp(root, "tokens_per_s"), "diff")) < 1e-12);
    CHECK_STR(verdict(root, "cloud_share"), "no difference yet");
    json_t *cs = find_cmp(root, "cloud_share");
    CHECK(num(cs, "lo") < 0 && num(cs, "hi") > 0 && fabs(num(cs, "diff") - 0.05) < 1e-12);
    CHECK_STR(verdict(root, "rating"), "lower");
    CHECK(num(find_cmp(root, "rating"), "diff") == -2);
    CHECK_STR(verdict(root, "positive_share"), "lower");
    CHECK_STR(verdict(root, "confidence"), "no difference yet");
    CHECK(json_is_null(json_object_get(find_cmp(root, "confidence"), "diff")));
    json_t *va = json_array_get(json_object_get(root, "variants"), 0);
    CHECK_STR(json_string_value(json_object_get(va, "variant")), "a");
    json_t *share = json_object_get(va, "cloud_share");
    CHECK(json_integer_value(json_object_get(share, "k")) == 2 &&
          json_integer_value(json_object_get(share, "n")) == 20);
    json_decref(root);
    hearth_free(js);

    /* no records of the named baseline */
    CHECK(hearth_ab_report_json(s, 0, "zzz", &js, &e) == HEARTH_E_NOTFOUND);
    /* the default baseline: most records (a tie: the first by name) */
    REQUIRE(hearth_ab_report_json(s, 0, NULL, &js, &e) == HEARTH_OK);
    root = json_loads(js, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(root, "baseline")), "a");
    json_decref(root);
    hearth_free(js);
    /* since: nothing newer */
    REQUIRE(hearth_ab_report_json(s, INT64_MAX, NULL, &js, &e) == HEARTH_OK);
    root = json_loads(js, 0, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(root, "variants")), 0);
    CHECK(json_is_null(json_object_get(root, "baseline")));
    json_decref(root);
    hearth_free(js);

    hearth_store_free(s);
    tmpdir_cleanup();
    return test_done();
}
