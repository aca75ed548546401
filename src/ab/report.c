/*
 * report.c: the A/B report over the store's answer records (hearth.h,
 * hearth_ab_report_json): per variant, the mean latency, generation speed,
 * router confidence and user rating with 95% t intervals, the cloud and
 * positive-feedback shares with Wilson intervals; then each variant against
 * the baseline, with Welch's interval of the difference of means or
 * Newcombe's of the difference of shares, and a verdict that says "no
 * difference yet" whenever the interval cannot exclude 0.
 */
#include "hearth.h"

#include "ab/stats.h"
#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum { M_LATENCY, M_TPS, M_CONF, M_RATING, N_MEANS };
static const char *const mean_names[N_MEANS] = {"latency_ms", "tokens_per_s", "confidence",
                                                "rating"};
enum { S_CLOUD, S_POSITIVE, N_SHARES };
static const char *const share_names[N_SHARES] = {"cloud_share", "positive_share"};

typedef struct {
    const char *name; /* borrowed from the records */
    int64_t n;
    ab_sample m[N_MEANS];
    int64_t k[N_SHARES], kn[N_SHARES];
} variant_acc;

static int cmp_acc(const void *a, const void *b) {
    return strcmp(((const variant_acc *)a)->name, ((const variant_acc *)b)->name);
}

static json_t *mean_json(const ab_sample *s) {
    double lo, hi;
    bool ok = ab_mean_ci(s, &lo, &hi);
    json_t *o = json_pack("{s:I}", "n", (json_int_t)s->n);
    if (!o) return NULL;
    json_object_set_new(o, "mean", s->n ? json_real(ab_sample_mean(s)) : json_null());
    json_object_set_new(o, "lo", ok ? json_real(lo) : json_null());
    json_object_set_new(o, "hi", ok ? json_real(hi) : json_null());
    return o;
}

static json_t *share_json(int64_t k, int64_t n) {
    double lo, hi;
    ab_wilson(k, n, &lo, &hi);
    json_t *o = json_pack("{s:I, s:I}", "k", (json_int_t)k, "n", (json_int_t)n);
    if (!o) return NULL;
    json_object_set_new(o, "p", n ? json_real((double)k / (double)n) : json_null());
    json_object_set_new(o, "lo", n ? json_real(lo) : json_null());
    json_object_set_new(o, "hi", n ? json_real(hi) : json_null());
    return o;
}

static json_t *compare_json(const char *v, const char *base, const char *metric, bool ok,
                            double diff, double lo, double hi) {
    const char *verdict = !ok || (lo <= 0 && hi >= 0) ? "no difference yet"
                          : diff > 0                  ? "higher"
                                                      : "lower";
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "variant", v, "baseline", base, "metric",
                          metric, "verdict", verdict);
    if (!o) return NULL;
    json_object_set_new(o, "diff", ok ? json_real(diff) : json_null());
    json_object_set_new(o, "lo", ok ? json_real(lo) : json_null());
    json_object_set_new(o, "hi", ok ? json_real(hi) : json_null());
    return o;
}

static hearth_status build(const hearth_ab_record *r, size_t n, int64_t since_ms,
                           const char *baseline, json_t **out, hearth_error *err) {
    variant_acc *acc = hearth_calloc(n ? n : 1, sizeof *acc);
    if (!acc) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nv && strcmp(acc[j].name, r[i].variant)) j++;
        if (j == nv) acc[nv++].name = r[i].variant;
        variant_acc *a = &acc[j];
        a->n++;
        if (r[i].latency_ms >= 0) ab_sample_add(&a->m[M_LATENCY], r[i].latency_ms);
        if (r[i].tokens_per_s >= 0) ab_sample_add(&a->m[M_TPS], r[i].tokens_per_s);
        if (r[i].confidence >= 0) ab_sample_add(&a->m[M_CONF], r[i].confidence);
        if (r[i].has_rating) {
            ab_sample_add(&a->m[M_RATING], r[i].rating);
            a->kn[S_POSITIVE]++;
            a->k[S_POSITIVE] += r[i].rating > 0;
        }
        a->kn[S_CLOUD]++;
        a->k[S_CLOUD] += !strcmp(r[i].source, "cloud");
    }
    qsort(acc, nv, sizeof *acc, cmp_acc);
    const variant_acc *base = NULL;
    for (size_t j = 0; j < nv; j++) {
        if (baseline ? !strcmp(acc[j].name, baseline) : (!base || acc[j].n > base->n))
            base = &acc[j];
    }
    if (baseline && !base && nv) {
        hearth_free(acc);
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no records of baseline variant '%.64s'",
                           baseline);
    }
    json_t *root = json_object(), *vars = json_array(), *cmps = json_array();
    bool oom = !root || !vars || !cmps;
    for (size_t j = 0; j < nv && !oom; j++) {
        const variant_acc *a = &acc[j];
        json_t *o = json_pack("{s:s, s:I}", "variant", a->name, "n", (json_int_t)a->n);
        if (!o) {
            oom = true;
            break;
        }
        for (int m = 0; m < N_MEANS; m++) json_object_set_new(o, mean_names[m], mean_json(&a->m[m]));
        for (int k = 0; k < N_SHARES; k++)
            json_object_set_new(o, share_names[k], share_json(a->k[k], a->kn[k]));
        json_array_append_new(vars, o);
        if (a == base) continue;
        for (int m = 0; m < N_MEANS; m++) {
            double d, lo, hi;
            bool ok = ab_welch_ci(&base->m[m], &a->m[m], &d, &lo, &hi);
            json_array_append_new(cmps, compare_json(a->name, base->name, mean_names[m], ok, d, lo, hi));
        }
        for (int k = 0; k < N_SHARES; k++) {
            double d, lo, hi;
            bool ok = ab_newcombe(base->k[k], base->kn[k], a->k[k], a->kn[k], &d, &lo, &hi);
            json_array_append_new(cmps, compare_json(a->name, base->name, share_names[k], ok, d, lo, hi));
        }
    }
    if (!oom) {
        json_object_set_new(root, "since_ms", json_integer(since_ms));
        json_object_set_new(root, "records", json_integer((json_int_t)n));
        json_object_set_new(root, "baseline", base ? json_string(base->name) : json_null());
        json_object_set(root, "variants", vars);
        json_object_set(root, "comparisons", cmps);
    }
    json_decref(vars);
    json_decref(cmps);
    hearth_free(acc);
    if (oom) {
        json_decref(root);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    *out = root;
    return HEARTH_OK;
}

hearth_status hearth_ab_report_json(hearth_store *s, int64_t since_ms, const char *baseline,
                                    char **json, hearth_error *err) {
    if (!s || !json) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *json = NULL;
    hearth_ab_record *r;
    size_t n;
    hearth_status st = hearth_store_ab_list(s, since_ms, &r, &n, err);
    if (st) return st;
    json_t *root = NULL;
    st = build(r, n, since_ms, baseline, &root, err);
    hearth_free(r);
    if (st) return st;
    char *txt = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (txt) *json = hearth_strdup(txt);
    free(txt);
    if (!*json) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}
