/*
 * ab_report.c: `hearth ab report`: the online A/B test's figures from the
 * store (hearth_ab_report_json), as JSON or as a table with a verdict per
 * comparison.
 */
#include "ab_cli.h"
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

/* "mean [lo, hi]" of an interval object (prec decimals), or "-" without values. */
static void put_mean(json_t *o, int prec) {
    char buf[96];
    if (!json_is_number(json_object_get(o, "mean"))) {
        printf(" %-24s", "-");
        return;
    }
    if (json_is_number(json_object_get(o, "lo")))
        snprintf(buf, sizeof buf, "%.*f [%.*f, %.*f]", prec, num(o, "mean"), prec, num(o, "lo"),
                 prec, num(o, "hi"));
    else
        snprintf(buf, sizeof buf, "%.*f", prec, num(o, "mean"));
    printf(" %-24s", buf);
}

static void put_share(json_t *o) {
    char buf[96];
    if (!json_is_number(json_object_get(o, "p"))) {
        printf(" %-22s", "-");
        return;
    }
    snprintf(buf, sizeof buf, "%.1f%% [%.1f, %.1f]", 100 * num(o, "p"), 100 * num(o, "lo"),
             100 * num(o, "hi"));
    printf(" %-22s", buf);
}

static void print_text(json_t *root) {
    json_t *vars = json_object_get(root, "variants");
    size_t nv = json_array_size(vars);
    if (nv == 0) {
        printf("no answers recorded yet (hearth serve --variant NAME=FILE records them)\n");
        return;
    }
    const char *base = json_string_value(json_object_get(root, "baseline"));
    printf("A/B report: %lld answers, %zu variant%s, baseline %s\n",
           (long long)json_integer_value(json_object_get(root, "records")), nv, nv == 1 ? "" : "s",
           base && *base ? base : "(none)");
    printf("%-12s %7s %-24s %-24s %-24s %-22s %-24s %-22s\n", "variant", "answers",
           " latency ms [95% CI]", " tokens/s", " confidence", " cloud share", " rating (-1..1)",
           " positive feedback");
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v) {
        const char *name = json_string_value(json_object_get(v, "variant"));
        printf("%-12s %7lld", name && *name ? name : "(none)",
               (long long)json_integer_value(json_object_get(v, "n")));
        put_mean(json_object_get(v, "latency_ms"), 1);
        put_mean(json_object_get(v, "tokens_per_s"), 1);
        put_mean(json_object_get(v, "confidence"), 3);
        put_share(json_object_get(v, "cloud_share"));
        put_mean(json_object_get(v, "rating"), 2);
        put_share(json_object_get(v, "positive_share"));
        printf("\n");
    }
    json_t *cmps = json_object_get(root, "comparisons");
    if (json_array_size(cmps)) printf("\nagainst the baseline (95%% interval of the difference):\n");
    json_array_foreach(cmps, i, v) {
        const char *metric = json_string_value(json_object_get(v, "metric"));
        const char *verdict = json_string_value(json_object_get(v, "verdict"));
        bool share = strstr(metric, "share") != NULL;
        printf("  %-10s %-15s ", json_string_value(json_object_get(v, "variant")), metric);
        if (json_is_number(json_object_get(v, "diff"))) {
            double k = share ? 100 : 1;
            printf("%+.3f%s [%+.3f, %+.3f]: ", k * num(v, "diff"), share ? " pts" : "",
                   k * num(v, "lo"), k * num(v, "hi"));
        } else {
            printf("too few answers: ");
        }
        printf("%s\n", verdict);
    }
}

int ab_report_main(int argc, char **argv) {
    bool json = false;
    long since_min = 0;
    const char *baseline = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--since") && i + 1 < argc) {
            if (!cli_parse_long(argv[++i], 1, 525600 * 10, &since_min))
                return cli_fail("ab report", NULL, "bad --since '%s' (minutes)", argv[i]);
        } else if (!strcmp(a, "--baseline") && i + 1 < argc) {
            baseline = argv[++i];
        } else {
            return cli_fail("ab report", NULL, "unknown argument '%s'", a);
        }
    }
    hearth_error e = {0};
    hearth_settings *set = NULL;
    if (hearth_settings_load(&set, &e)) return cli_fail("ab report", &e, "settings");
    hearth_store_params sp = hearth_store_default_params();
    const char *home = hearth_settings_get(set, "home", NULL);
    if (home && *home) sp.data_dir = home;
    hearth_store *s = NULL;
    char *txt = NULL;
    int rc = 1;
    if (hearth_store_open(&sp, &s, &e)) {
        cli_fail("ab report", &e, "cannot open the store");
        goto out;
    }
    int64_t since = since_min > 0 ? ((int64_t)time(NULL) - since_min * 60) * 1000 : 0;
    if (hearth_ab_report_json(s, since, baseline, &txt, &e)) {
        cli_fail("ab report", &e, "cannot make the report");
        goto out;
    }
    if (json) {
        printf("%s\n", txt);
    } else {
        json_t *root = json_loads(txt, 0, NULL);
        if (!root) {
            cli_fail("ab report", NULL, "out of memory");
            goto out;
        }
        print_text(root);
        json_decref(root);
    }
    rc = 0;
out:
    hearth_free(txt);
    hearth_store_free(s);
    hearth_settings_free(set);
    return rc;
}
