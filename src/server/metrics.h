/*
 * metrics.h: the server's counters and latency histograms, rendered in the
 * Prometheus text exposition format for GET /metrics. All functions are
 * thread-safe (one mutex; updates are rare next to token generation).
 */
#ifndef HEARTH_SERVER_METRICS_H
#define HEARTH_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_metrics srv_metrics;

/* NULL on allocation failure. */
srv_metrics *srv_metrics_new(void);
void srv_metrics_free(srv_metrics *m);

/* One finished HTTP request: its endpoint (a fixed route name, never the raw
 * URL, so clients can't grow the label set) and status code. */
void srv_metrics_request(srv_metrics *m, const char *endpoint, unsigned status);
/* One answered generation: tokens, where it was answered ("cache", "local",
 * "cloud"), time to first token and mean time per generated token (seconds;
 * negative means unknown and is not observed). */
void srv_metrics_answer(srv_metrics *m, const char *source, int64_t prompt_tokens,
                        int64_t completion_tokens, double ttft_s, double per_token_s);
/* Speculative decoding's figures of one answer (all 0 without). */
void srv_metrics_spec(srv_metrics *m, int64_t drafted, int64_t accepted, int64_t steps);
/* Counts prompt tokens an answer did not evaluate (the scheduler's slot held
 * them: prompt_tokens_details.cached_tokens). Any thread. */
void srv_metrics_cached(srv_metrics *m, int64_t cached_tokens);
/* Counts those of them read from a saved state (after a restart). Any thread. */
void srv_metrics_restored(srv_metrics *m, int64_t restored_tokens);
/* The local answer's confidence in [0, 1] (others are not observed). */
void srv_metrics_confidence(srv_metrics *m, double confidence);
/* One request the router considered for the cloud: its decision ("sent",
 * "blocked", "consent-needed", "declined"; "" or NULL: nothing to count),
 * HTTP bytes out and in, the cloud call's duration (seconds; < 0: none), and
 * redactions: counts[i] values of kind kinds[i] were replaced. */
void srv_metrics_route(srv_metrics *m, const char *decision, int64_t bytes_out, int64_t bytes_in,
                       double cloud_s, const char *const *kinds, const uint64_t *counts,
                       size_t n_kinds);
/* One input of an embeddings request embedded (counted as each finishes, so
 * the count shows how far an abandoned request went before it stopped). */
void srv_metrics_embedded(srv_metrics *m);
/* One error by kind ("bad_request", "auth", "too_large", "queue_full", ...). */
void srv_metrics_error(srv_metrics *m, const char *kind);

/* A/B (hearth serve --variant): one answer of variant (NULL or "": not
 * counted), where it came from, tokens generated, the request's duration and
 * the generation speed (tokens/s; < 0: unknown). At most 16 variants get
 * series. */
void srv_metrics_variant(srv_metrics *m, const char *variant, const char *source,
                         int64_t completion_tokens, double latency_s, double gen_tps);
/* A/B: a user rating (POST /v1/feedback) of an answer of variant. */
void srv_metrics_feedback(srv_metrics *m, const char *variant, double rating);

/* What /metrics says about the device: the battery policy in force and
 * the threads a generation would use off battery (normal_threads), and the
 * active model's name (copied; NULL: none). The power state itself is read
 * from sysfs at each render (util/power.h), so the gauges follow a cable
 * being plugged in without a restart. */
void srv_metrics_set_device(srv_metrics *m, bool policy_enabled, int low_percent, int battery_threads,
                            int normal_threads, const char *model);

/* Renders everything. Owned: free with hearth_free. NULL on allocation failure. */
char *srv_metrics_render(srv_metrics *m, size_t *len);

#endif
