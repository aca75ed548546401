/*
 * metrics.c: counters and histograms for GET /metrics (see metrics.h).
 * Label sets are small and fixed in size (a table of at most MAX_SERIES
 * rows per family), so a misbehaving client cannot make memory grow.
 */
#include "server/metrics.h"

#include "hearth.h"

#include "util/alloc.h"
#include "util/power.h"
#include "util/strbuf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_SERIES 64
#define NAME_MAX_LEN 48

typedef struct {
    char a[NAME_MAX_LEN]; /* first label value */
    unsigned code;        /* status code (requests only) */
    uint64_t n;
} series;

typedef struct {
    series rows[MAX_SERIES];
    int n;
} family;

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double ttft_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double tok_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1};
static const double cloud_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
static const double conf_bounds[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
#define N_CONF (sizeof conf_bounds / sizeof conf_bounds[0])
#define N_CLOUD (sizeof cloud_bounds / sizeof cloud_bounds[0])
#define N_TTFT (sizeof ttft_bounds / sizeof ttft_bounds[0])
#define N_TOK (sizeof tok_bounds / sizeof tok_bounds[0])

/* One A/B variant's series (srv_metrics_variant, srv_metrics_feedback). */
#define SRV_METRICS_MAX_VARIANTS 16
typedef struct {
    char name[NAME_MAX_LEN];
    uint64_t answers, completion_tokens, cloud, feedback[3]; /* negative, neutral, positive */
    double latency_sum, gen_tps_sum;
    uint64_t gen_tps_count;
} srv_variant_series;

typedef struct {
    uint64_t bucket[16]; /* cumulative counts are computed when rendering */
    uint64_t count;
    double sum;
} histogram;

struct srv_metrics {
    pthread_mutex_t mu;
    family requests; /* endpoint, status */
    family answers;  /* source */
    family errors;   /* kind */
    family decisions; /* router decision */
    family redactions; /* kind */
    uint64_t prompt_tokens, completion_tokens, cache_hits, embedded;
    uint64_t cached_prompt_tokens;
    uint64_t restored_prompt_tokens; /* of those, from saved states (HOME/kv) */
    uint64_t spec_drafted, spec_accepted, spec_steps;
    uint64_t egress_out, egress_in;
    histogram ttft, per_token, cloud, confidence;
    srv_variant_series variants[SRV_METRICS_MAX_VARIANTS]; /* A/B: per --variant */
    int n_variants;
    hearth_power_policy power; /* srv_metrics_set_device; disabled until set */
    int normal_threads;
    char model[256];
};

srv_metrics *srv_metrics_new(void) {
    srv_metrics *m = hearth_calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->normal_threads = 1;
    return m;
}

void srv_metrics_free(srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    hearth_free(m);
}

/* Adds one to the row (a, code), creating it if there is room. Callers pass
 * fixed names, so the table never fills in practice; if it does, counts go to
 * the last row, renamed "other", rather than being lost. */
static void family_addn(family *f, const char *a, unsigned code, uint64_t n) {
    if (strlen(a) >= NAME_MAX_LEN) a = "other";
    for (int i = 0; i < f->n; i++)
        if (f->rows[i].code == code && !strcmp(f->rows[i].a, a)) {
            f->rows[i].n += n;
            return;
        }
    series *s;
    if (f->n < MAX_SERIES) {
        s = &f->rows[f->n++];
        s->n = 0;
    } else {
        s = &f->rows[MAX_SERIES - 1];
        a = "other";
    }
    snprintf(s->a, sizeof s->a, "%s", a);
    s->code = code;
    s->n += n;
}

static void family_add(family *f, const char *a, unsigned code) { family_addn(f, a, code, 1); }

static void observe(histogram *h, const double *bounds, size_t nb, double v) {
    size_t i = 0;
    while (i < nb && v > bounds[i]) i++;
    h->bucket[i]++;
    h->count++;
    h->sum += v;
}

void srv_metrics_request(srv_metrics *m, const char *endpoint, unsigned status) {
    pthread_mutex_lock(&m->mu);
    family_add(&m->requests, endpoint, status);
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_answer(srv_metrics *m, const char *source, int64_t prompt_tokens,
                        int64_t completion_tokens, double ttft_s, double per_token_s) {
    pthread_mutex_lock(&m->mu);
    family_add(&m->answers, source, 0);
    if (!strcmp(source, "cache")) m->cache_hits++;
    if (prompt_tokens > 0) m->prompt_tokens += (uint64_t)prompt_tokens;
    if (completion_tokens > 0) m->completion_tokens += (uint64_t)completion_tokens;
    if (ttft_s >= 0) observe(&m->ttft, ttft_bounds, N_TTFT, ttft_s);
    if (per_token_s >= 0) observe(&m->per_token, tok_bounds, N_TOK, per_token_s);
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_spec(srv_metrics *m, int64_t drafted, int64_t accepted, int64_t steps) {
    if (drafted <= 0 && steps <= 0) return;
    pthread_mutex_lock(&m->mu);
    m->spec_drafted += (uint64_t)(drafted > 0 ? drafted : 0);
    m->spec_accepted += (uint64_t)(accepted > 0 ? accepted : 0);
    m->spec_steps += (uint64_t)(steps > 0 ? steps : 0);
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_cached(srv_metrics *m, int64_t cached_tokens) {
    if (cached_tokens <= 0) return;
    pthread_mutex_lock(&m->mu);
    m->cached_prompt_tokens += (uint64_t)cached_tokens;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_restored(srv_metrics *m, int64_t restored_tokens) {
    if (restored_tokens <= 0) return;
    pthread_mutex_lock(&m->mu);
    m->restored_prompt_tokens += (uint64_t)restored_tokens;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_confidence(srv_metrics *m, double confidence) {
    if (!(confidence >= 0 && confidence <= 1)) return;
    pthread_mutex_lock(&m->mu);
    observe(&m->confidence, conf_bounds, N_CONF, confidence);
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_route(srv_metrics *m, const char *decision, int64_t bytes_out, int64_t bytes_in,
                       double cloud_s, const char *const *kinds, const uint64_t *counts,
                       size_t n_kinds) {
    if (!decision || !*decision) return;
    pthread_mutex_lock(&m->mu);
    family_add(&m->decisions, decision, 0);
    if (bytes_out > 0) m->egress_out += (uint64_t)bytes_out;
    if (bytes_in > 0) m->egress_in += (uint64_t)bytes_in;
    if (cloud_s >= 0) observe(&m->cloud, cloud_bounds, N_CLOUD, cloud_s);
    for (size_t i = 0; i < n_kinds; i++)
        if (counts[i]) family_addn(&m->redactions, kinds[i], 0, counts[i]);
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_embedded(srv_metrics *m) {
    pthread_mutex_lock(&m->mu);
    m->embedded++;
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_error(srv_metrics *m, const char *kind) {
    pthread_mutex_lock(&m->mu);
    family_add(&m->errors, kind, 0);
    pthread_mutex_unlock(&m->mu);
}

/* The variant's row, made if there is room; NULL when the table is full
 * (names come from the server's own --variant list, never from clients). */
static srv_variant_series *variant_row(srv_metrics *m, const char *name) {
    for (int i = 0; i < m->n_variants; i++)
        if (!strcmp(m->variants[i].name, name)) return &m->variants[i];
    if (m->n_variants == SRV_METRICS_MAX_VARIANTS || strlen(name) >= NAME_MAX_LEN) return NULL;
    srv_variant_series *v = &m->variants[m->n_variants++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    return v;
}

void srv_metrics_variant(srv_metrics *m, const char *variant, const char *source,
                         int64_t completion_tokens, double latency_s, double gen_tps) {
    if (!variant || !*variant) return;
    pthread_mutex_lock(&m->mu);
    srv_variant_series *v = variant_row(m, variant);
    if (v) {
        v->answers++;
        if (completion_tokens > 0) v->completion_tokens += (uint64_t)completion_tokens;
        if (source && !strcmp(source, "cloud")) v->cloud++;
        if (latency_s >= 0) v->latency_sum += latency_s;
        if (gen_tps >= 0) {
            v->gen_tps_sum += gen_tps;
            v->gen_tps_count++;
        }
    }
    pthread_mutex_unlock(&m->mu);
}

void srv_metrics_feedback(srv_metrics *m, const char *variant, double rating) {
    if (!variant || !*variant) return;
    pthread_mutex_lock(&m->mu);
    srv_variant_series *v = variant_row(m, variant);
    if (v) v->feedback[rating < 0 ? 0 : rating > 0 ? 2 : 1]++;
    pthread_mutex_unlock(&m->mu);
}

static void render_variants(strbuf *b, const srv_metrics *m) {
    if (!m->n_variants) return;
    static const struct {
        const char *name, *help;
    } fams[] = {
        {"hearth_variant_answers_total", "Answers by A/B variant."},
        {"hearth_variant_completion_tokens_total", "Tokens generated by A/B variant."},
        {"hearth_variant_cloud_answers_total", "Answers that came from the cloud, by A/B variant."},
        {"hearth_variant_latency_seconds_sum", "Total request time by A/B variant (divide by answers)."},
        {"hearth_variant_generation_tps_sum", "Sum of per-answer generation speeds by A/B variant."},
        {"hearth_variant_generation_tps_count", "Answers with a generation speed, by A/B variant."},
    };
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fams[f].name, fams[f].help, fams[f].name,
                      f < 3 ? "counter" : "gauge");
        for (int i = 0; i < m->n_variants; i++) {
            const srv_variant_series *v = &m->variants[i];
            strbuf_printf(b, "%s{variant=\"%s\"} ", fams[f].name, v->name);
            if (f == 0) strbuf_printf(b, "%llu\n", (unsigned long long)v->answers);
            else if (f == 1) strbuf_printf(b, "%llu\n", (unsigned long long)v->completion_tokens);
            else if (f == 2) strbuf_printf(b, "%llu\n", (unsigned long long)v->cloud);
            else if (f == 3) strbuf_printf(b, "%.6f\n", v->latency_sum);
            else if (f == 4) strbuf_printf(b, "%.6f\n", v->gen_tps_sum);
            else strbuf_printf(b, "%llu\n", (unsigned long long)v->gen_tps_count);
        }
    }
    strbuf_printf(b, "# HELP hearth_variant_feedback_total User ratings by A/B variant.\n"
                     "# TYPE hearth_variant_feedback_total counter\n");
    static const char *const r[3] = {"negative", "neutral", "positive"};
    for (int i = 0; i < m->n_variants; i++)
        for (int k = 0; k < 3; k++)
            strbuf_printf(b, "hearth_variant_feedback_total{variant=\"%s\",rating=\"%s\"} %llu\n",
                          m->variants[i].name, r[k], (unsigned long long)m->variants[i].feedback[k]);
}

static void render_hist(strbuf *b, const char *name, const char *help, const histogram *h,
                        const double *bounds, size_t nb) {
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < nb; i++) {
        cum += h->bucket[i];
        strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    cum += h->bucket[nb];
    strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                  (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->count);
}

void srv_metrics_set_device(srv_metrics *m, bool policy_enabled, int low_percent, int battery_threads,
                            int normal_threads, const char *model) {
    pthread_mutex_lock(&m->mu);
    m->power.enabled = policy_enabled;
    m->power.low_percent = low_percent;
    m->power.battery_threads = battery_threads;
    m->normal_threads = normal_threads;
    snprintf(m->model, sizeof m->model, "%s", model ? model : "");
    pthread_mutex_unlock(&m->mu);
}

/* The power gauges (read from sysfs now) and the active model. */
static void render_power(strbuf *b, const srv_metrics *m) {
    hearth_power_state st;
    hearth_power_read(NULL, &st);
    hearth_power_decision d = hearth_power_decide(&st, &m->power, m->normal_threads);
    strbuf_printf(b, "# HELP hearth_power_source Power source now (1 for the current one).\n"
                     "# TYPE hearth_power_source gauge\n");
    static const hearth_power_source srcs[] = {HEARTH_POWER_AC, HEARTH_POWER_BATTERY, HEARTH_POWER_UNKNOWN};
    for (int i = 0; i < 3; i++)
        strbuf_printf(b, "hearth_power_source{source=\"%s\"} %d\n", hearth_power_source_name(srcs[i]),
                      st.source == srcs[i]);
    strbuf_printf(b, "# HELP hearth_battery_percent Battery charge (-1: unknown or no battery).\n"
                     "# TYPE hearth_battery_percent gauge\nhearth_battery_percent %d\n"
                     "# HELP hearth_battery_policy_enabled The battery policy setting (battery_policy).\n"
                     "# TYPE hearth_battery_policy_enabled gauge\nhearth_battery_policy_enabled %d\n"
                     "# HELP hearth_battery_policy_active The battery policy applies now (on battery).\n"
                     "# TYPE hearth_battery_policy_active gauge\nhearth_battery_policy_active %d\n"
                     "# HELP hearth_battery_low On battery below battery_low_percent (smaller model preferred).\n"
                     "# TYPE hearth_battery_low gauge\nhearth_battery_low %d\n"
                     "# HELP hearth_background_postponed Background work (sync, updates, indexing) waits for AC.\n"
                     "# TYPE hearth_background_postponed gauge\nhearth_background_postponed %d\n"
                     "# HELP hearth_threads_in_force Threads a generation uses under the policy now.\n"
                     "# TYPE hearth_threads_in_force gauge\nhearth_threads_in_force %d\n",
                  st.percent, m->power.enabled, d.on_battery, d.low, d.postpone_background, d.threads);
    if (m->model[0]) {
        strbuf_printf(b, "# HELP hearth_model_info The active model (value 1).\n# TYPE hearth_model_info gauge\n"
                         "hearth_model_info{model=\"");
        for (const char *c = m->model; *c; c++) {
            if (*c == '"' || *c == '\\') strbuf_printf(b, "\\%c", *c);
            else if (*c == '\n') strbuf_puts(b, "\\n");
            else if ((unsigned char)*c >= 0x20) strbuf_append(b, c, 1);
        }
        strbuf_puts(b, "\"} 1\n");
    }
}

char *srv_metrics_render(srv_metrics *m, size_t *len) {
    strbuf b;
    strbuf_init(&b);
    pthread_mutex_lock(&m->mu);
    strbuf_printf(&b, "# HELP hearth_requests_total HTTP requests by endpoint and status.\n"
                      "# TYPE hearth_requests_total counter\n");
    for (int i = 0; i < m->requests.n; i++)
        strbuf_printf(&b, "hearth_requests_total{endpoint=\"%s\",status=\"%u\"} %llu\n",
                      m->requests.rows[i].a, m->requests.rows[i].code,
                      (unsigned long long)m->requests.rows[i].n);
    strbuf_printf(&b,
                  "# HELP hearth_prompt_tokens_total Prompt tokens processed.\n"
                  "# TYPE hearth_prompt_tokens_total counter\n"
                  "hearth_prompt_tokens_total %llu\n"
                  "# HELP hearth_prompt_cached_tokens_total Prompt tokens not evaluated: a "
                  "scheduler slot held them from an earlier request.\n"
                  "# TYPE hearth_prompt_cached_tokens_total counter\n"
                  "hearth_prompt_cached_tokens_total %llu\n"
                  "# HELP hearth_prompt_restored_tokens_total Of those, tokens read from a saved "
                  "state (a conversation from before a restart).\n"
                  "# TYPE hearth_prompt_restored_tokens_total counter\n"
                  "hearth_prompt_restored_tokens_total %llu\n"
                  "# HELP hearth_completion_tokens_total Tokens generated.\n"
                  "# TYPE hearth_completion_tokens_total counter\n"
                  "hearth_completion_tokens_total %llu\n"
                  "# HELP hearth_cache_hits_total Answers served from the response cache.\n"
                  "# TYPE hearth_cache_hits_total counter\n"
                  "hearth_cache_hits_total %llu\n"
                  "# HELP hearth_embedding_inputs_total Inputs embedded (one request may hold many).\n"
                  "# TYPE hearth_embedding_inputs_total counter\n"
                  "hearth_embedding_inputs_total %llu\n",
                  (unsigned long long)m->prompt_tokens,
                  (unsigned long long)m->cached_prompt_tokens,
                  (unsigned long long)m->restored_prompt_tokens,
                  (unsigned long long)m->completion_tokens, (unsigned long long)m->cache_hits,
                  (unsigned long long)m->embedded);
    strbuf_printf(&b,
                  "# HELP hearth_spec_drafted_tokens_total Tokens drafted by speculative decoding.\n"
                  "# TYPE hearth_spec_drafted_tokens_total counter\n"
                  "hearth_spec_drafted_tokens_total %llu\n"
                  "# HELP hearth_spec_accepted_tokens_total Drafted tokens the model accepted.\n"
                  "# TYPE hearth_spec_accepted_tokens_total counter\n"
                  "hearth_spec_accepted_tokens_total %llu\n"
                  "# HELP hearth_spec_steps_total Verification steps that had drafts.\n"
                  "# TYPE hearth_spec_steps_total counter\n"
                  "hearth_spec_steps_total %llu\n",
                  (unsigned long long)m->spec_drafted, (unsigned long long)m->spec_accepted,
                  (unsigned long long)m->spec_steps);
    strbuf_printf(&b, "# HELP hearth_answers_total Answers by source.\n"
                      "# TYPE hearth_answers_total counter\n");
    static const char *sources[] = {"cache", "local", "cloud", "local-degraded"};
    for (int s = 0; s < 4; s++) {
        uint64_t n = 0;
        for (int i = 0; i < m->answers.n; i++)
            if (!strcmp(m->answers.rows[i].a, sources[s])) n = m->answers.rows[i].n;
        strbuf_printf(&b, "hearth_answers_total{source=\"%s\"} %llu\n", sources[s],
                      (unsigned long long)n);
    }
    strbuf_printf(&b, "# HELP hearth_errors_total Rejected or failed requests by kind.\n"
                      "# TYPE hearth_errors_total counter\n");
    for (int i = 0; i < m->errors.n; i++)
        strbuf_printf(&b, "hearth_errors_total{kind=\"%s\"} %llu\n", m->errors.rows[i].a,
                      (unsigned long long)m->errors.rows[i].n);
    strbuf_printf(&b, "# HELP hearth_router_decisions_total Requests the router considered for "
                      "the cloud, by decision.\n# TYPE hearth_router_decisions_total counter\n");
    static const char *decisions[] = {"sent", "blocked", "consent-needed", "declined"};
    for (int d = 0; d < 4; d++) {
        uint64_t n = 0;
        for (int i = 0; i < m->decisions.n; i++)
            if (!strcmp(m->decisions.rows[i].a, decisions[d])) n = m->decisions.rows[i].n;
        strbuf_printf(&b, "hearth_router_decisions_total{decision=\"%s\"} %llu\n", decisions[d],
                      (unsigned long long)n);
    }
    strbuf_printf(&b, "# HELP hearth_egress_bytes_total HTTP bytes to and from the cloud.\n"
                      "# TYPE hearth_egress_bytes_total counter\n"
                      "hearth_egress_bytes_total{direction=\"out\"} %llu\n"
                      "hearth_egress_bytes_total{direction=\"in\"} %llu\n",
                  (unsigned long long)m->egress_out, (unsigned long long)m->egress_in);
    strbuf_printf(&b, "# HELP hearth_redactions_total Values replaced by placeholders before a "
                      "request left, by kind.\n# TYPE hearth_redactions_total counter\n");
    for (int i = 0; i < m->redactions.n; i++)
        strbuf_printf(&b, "hearth_redactions_total{kind=\"%s\"} %llu\n", m->redactions.rows[i].a,
                      (unsigned long long)m->redactions.rows[i].n);
    render_hist(&b, "hearth_cloud_latency_seconds", "Duration of cloud calls.", &m->cloud,
                cloud_bounds, N_CLOUD);
    render_hist(&b, "hearth_answer_confidence", "Confidence of the local model's answers.",
                &m->confidence, conf_bounds, N_CONF);
    render_hist(&b, "hearth_time_to_first_token_seconds", "Time from request to first token.",
                &m->ttft, ttft_bounds, N_TTFT);
    render_hist(&b, "hearth_token_latency_seconds", "Mean time per generated token.",
                &m->per_token, tok_bounds, N_TOK);
    render_variants(&b, m);
    render_power(&b, m);
    pthread_mutex_unlock(&m->mu);
    return strbuf_finish(&b, len);
}
