/*
 * stats.c: the A/B report's interval estimates (see stats.h). The t
 * quantile inverts the t distribution function, written through the
 * regularized incomplete beta function (evaluated by its continued
 * fraction, modified Lentz), by bisection: slow next to a closed form, but
 * exact to double precision and only called a few times per report.
 */
#include "ab/stats.h"

#include <math.h>

#define Z975 1.959963984540054 /* the standard normal's 0.975 quantile */

void ab_sample_add(ab_sample *s, double x) {
    s->n++;
    s->sum += x;
    s->sum2 += x * x;
}

double ab_sample_mean(const ab_sample *s) { return s->n ? s->sum / (double)s->n : 0; }

double ab_sample_var(const ab_sample *s) {
    if (s->n < 2) return 0;
    double m = ab_sample_mean(s);
    double v = (s->sum2 - (double)s->n * m * m) / (double)(s->n - 1);
    return v > 0 ? v : 0;
}

/* Continued fraction of the incomplete beta function I_x(a, b). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

/* Regularized incomplete beta function I_x(a, b), 0 <= x <= 1. */
static double beta_inc(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    /* the continued fraction converges fast for x < (a+1)/(a+b+2); use the
     * symmetry I_x(a,b) = 1 - I_{1-x}(b,a) on the other side */
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* P(T <= t) for Student's t with df degrees of freedom. */
static double t_cdf(double t, double df) {
    double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1 - tail : tail;
}

double ab_t_quantile(double p, double df) {
    if (p == 0.5) return 0;
    if (p < 0.5) return -ab_t_quantile(1 - p, df);
    if (df > 1e7) df = 1e7; /* the normal, for all purposes */
    double lo = 0, hi = 1;
    while (t_cdf(hi, df) < p && hi < 1e12) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

bool ab_mean_ci(const ab_sample *s, double *lo, double *hi) {
    double m = ab_sample_mean(s);
    *lo = *hi = m;
    if (s->n < 2) return false;
    double h = ab_t_quantile(0.975, (double)(s->n - 1)) * sqrt(ab_sample_var(s) / (double)s->n);
    *lo = m - h;
    *hi = m + h;
    return true;
}

bool ab_welch_ci(const ab_sample *a, const ab_sample *b, double *diff, double *lo, double *hi) {
    *diff = ab_sample_mean(b) - ab_sample_mean(a);
    *lo = *hi = *diff;
    if (a->n < 2 || b->n < 2) return false;
    double va = ab_sample_var(a) / (double)a->n, vb = ab_sample_var(b) / (double)b->n;
    double se2 = va + vb;
    if (se2 <= 0) return true;
    /* Welch-Satterthwaite degrees of freedom */
    double df = se2 * se2 / (va * va / (double)(a->n - 1) + vb * vb / (double)(b->n - 1));
    double h = ab_t_quantile(0.975, df) * sqrt(se2);
    *lo = *diff - h;
    *hi = *diff + h;
    return true;
}

void ab_wilson(int64_t k, int64_t n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double p = (double)k / (double)n, z2 = Z975 * Z975, dn = (double)n;
    double den = 1 + z2 / dn, mid = (p + z2 / (2 * dn)) / den;
    double h = Z975 * sqrt(p * (1 - p) / dn + z2 / (4 * dn * dn)) / den;
    *lo = mid - h < 0 ? 0 : mid - h;
    *hi = mid + h > 1 ? 1 : mid + h;
}

bool ab_newcombe(int64_t k1, int64_t n1, int64_t k2, int64_t n2, double *diff, double *lo,
                 double *hi) {
    double p1 = n1 > 0 ? (double)k1 / (double)n1 : 0, p2 = n2 > 0 ? (double)k2 / (double)n2 : 0;
    *diff = p2 - p1;
    *lo = *hi = *diff;
    if (n1 <= 0 || n2 <= 0) return false;
    double l1, u1, l2, u2;
    ab_wilson(k1, n1, &l1, &u1);
    ab_wilson(k2, n2, &l2, &u2);
    *lo = *diff - sqrt((p2 - l2) * (p2 - l2) + (u1 - p1) * (u1 - p1));
    *hi = *diff + sqrt((u2 - p2) * (u2 - p2) + (p1 - l1) * (p1 - l1));
    return true;
}
