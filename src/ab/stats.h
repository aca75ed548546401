/*
 * stats.h: the statistics of the A/B report: Student's t quantiles, 95%
 * intervals for a mean (t), a difference of means (Welch), a share
 * (Wilson's score interval) and a difference of shares (Newcombe's hybrid
 * score interval). Pure functions of their arguments; any thread.
 */
#ifndef HEARTH_AB_STATS_H
#define HEARTH_AB_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* Running sums of one sample. */
typedef struct {
    int64_t n;
    double sum, sum2;
} ab_sample;

void ab_sample_add(ab_sample *s, double x);
double ab_sample_mean(const ab_sample *s);
/* Unbiased variance (n - 1 in the denominator); 0 for n < 2. */
double ab_sample_var(const ab_sample *s);

/* The p-quantile (0 < p < 1) of Student's t with df > 0 degrees of freedom
 * (df may be fractional, as Welch's is). */
double ab_t_quantile(double p, double df);

/* 95% interval of the mean: mean +/- t(0.975, n-1) * sd / sqrt(n). false
 * (and lo = hi = mean) for n < 2. */
bool ab_mean_ci(const ab_sample *s, double *lo, double *hi);

/* 95% Welch interval of mean(b) - mean(a). false when either has fewer than
 * 2 values (lo = hi = diff then). With no variance on either side the
 * interval is the point diff. */
bool ab_welch_ci(const ab_sample *a, const ab_sample *b, double *diff, double *lo, double *hi);

/* Wilson's 95% score interval of k successes in n (n > 0; else 0, 1). */
void ab_wilson(int64_t k, int64_t n, double *lo, double *hi);

/* Newcombe's 95% interval of k2/n2 - k1/n1 (method 10: from the two Wilson
 * intervals). false when n1 or n2 is 0. */
bool ab_newcombe(int64_t k1, int64_t n1, int64_t k2, int64_t n2, double *diff, double *lo,
                 double *hi);

#endif
