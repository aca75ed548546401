/*
 * test_stats.c: the A/B report's statistics (src/ab/stats.c) against
 * published values: Student's t quantiles from the standard tables, a
 * Welch interval whose degrees of freedom come out whole (equal n and
 * variances), Wilson intervals, and Newcombe's (1998) worked example
 * 56/70 - 48/80 (method 10: 0.0524 to 0.3339).
 */
#include "test.h"

#include "ab/stats.h"

static void near(double got, double want, double tol, const char *what) {
    CHECKF(fabs(got - want) <= tol, "%s: %.7f, want %.7f", what, got, want);
}

int main(void) {
    near(ab_t_quantile(0.975, 1), 12.706205, 1e-5, "t(0.975, 1)");
    near(ab_t_quantile(0.975, 2), 4.302653, 1e-6, "t(0.975, 2)");
    near(ab_t_quantile(0.975, 4), 2.776445, 1e-6, "t(0.975, 4)");
    near(ab_t_quantile(0.975, 10), 2.228139, 1e-6, "t(0.975, 10)");
    near(ab_t_quantile(0.975, 30), 2.042272, 1e-6, "t(0.975, 30)");
    near(ab_t_quantile(0.995, 5), 4.032143, 1e-6, "t(0.995, 5)");
    near(ab_t_quantile(0.975, 1e9), 1.959964, 1e-6, "t(0.975, inf)");
    near(ab_t_quantile(0.025, 10), -2.228139, 1e-6, "t(0.025, 10)");

    ab_sample a = {0}, b = {0};
    for (int i = 1; i <= 3; i++) {
        ab_sample_add(&a, i);
        ab_sample_add(&b, i + 3);
    }
    near(ab_sample_mean(&a), 2, 1e-12, "mean");
    near(ab_sample_var(&a), 1, 1e-12, "var");
    double d, lo, hi;
    CHECK(ab_welch_ci(&a, &b, &d, &lo, &hi));
    /* df = 4: 3 +/- 2.776445 * sqrt(2/3) */
    near(d, 3, 1e-12, "welch diff");
    near(lo, 3 - 2.776445 * sqrt(2.0 / 3), 1e-5, "welch lo");
    near(hi, 3 + 2.776445 * sqrt(2.0 / 3), 1e-5, "welch hi");
    CHECK(ab_mean_ci(&a, &lo, &hi));
    near(lo, 2 - 4.302653 / sqrt(3.0), 1e-5, "mean lo");
    ab_sample one = {0};
    ab_sample_add(&one, 5);
    CHECK(!ab_welch_ci(&a, &one, &d, &lo, &hi));
    CHECK(!ab_mean_ci(&one, &lo, &hi) && lo == 5 && hi == 5);

    ab_wilson(5, 10, &lo, &hi);
    near(lo, 0.2365931, 1e-6, "wilson 5/10 lo");
    near(hi, 0.7634069, 1e-6, "wilson 5/10 hi");
    ab_wilson(0, 10, &lo, &hi);
    near(lo, 0, 1e-12, "wilson 0/10 lo");
    near(hi, 0.2775328, 1e-6, "wilson 0/10 hi");
    ab_wilson(0, 0, &lo, &hi);
    CHECK(lo == 0 && hi == 1);

    CHECK(ab_newcombe(48, 80, 56, 70, &d, &lo, &hi));
    near(d, 0.2, 1e-12, "newcombe diff");
    near(lo, 0.0524, 5e-5, "newcombe lo");
    near(hi, 0.3339, 5e-5, "newcombe hi");
    CHECK(!ab_newcombe(1, 0, 1, 2, &d, &lo, &hi));
    return test_done();
}
