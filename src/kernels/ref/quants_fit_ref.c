/*
 * quants_fit_ref.c: the per-block scale searches shared by the reference
 * quantizers (quants_ref.c, quants_k_ref.c) and their importance-weighted
 * variants (`hearth quantize --imatrix`). Each tries a few candidate scales
 * around the obvious one, refits the scale (and min) by weighted least
 * squares for the codes each candidate gives, and keeps the one with the
 * smallest weighted squared error. Deterministic.
 */
#include "kernels/quants.h"

#include <math.h>
#include <string.h>

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

float hearth_fit_symmetric(int n, int nmax, const float *x, const float *w, uint8_t *L) {
    float amax = 0.f, max = 0.f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) amax = fabsf(x[i]), max = x[i];
    if (amax < 1e-30f) {
        memset(L, nmax, (size_t)n);
        return 0.f;
    }
    float best_scale = 0.f, best = -1.f;
    for (int is = -9; is <= 9; is++) {
        float iscale = -((float)nmax + 0.1f * (float)is) / max;
        float sumlx = 0.f, suml2 = 0.f;
        for (int i = 0; i < n; i++) {
            int l = clampi(hearth_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float wi = w ? w[i] : x[i] * x[i];
            sumlx += wi * x[i] * (float)l;
            suml2 += wi * (float)l * (float)l;
        }
        /* the weighted error is sum(w x^2) - sumlx^2 / suml2: maximise the
         * second term */
        if (suml2 > 0.f && sumlx * sumlx > best * suml2) {
            best = sumlx * sumlx / suml2;
            best_scale = sumlx / suml2;
        }
    }
    float iscale = best_scale != 0.f ? 1.f / best_scale : 0.f;
    for (int i = 0; i < n; i++)
        L[i] = (uint8_t)(clampi(hearth_nearest_int(iscale * x[i]), -nmax, nmax - 1) + nmax);
    return best_scale;
}

float hearth_fit_asymmetric(int n, int nmax, const float *x, const float *w, uint8_t *L,
                            float *min_out, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0], sum_w = 0.f, sum_x = 0.f;
    for (int i = 0; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0.f) min = 0.f;
    if (max <= min) {
        memset(L, 0, (size_t)n);
        *min_out = -min;
        return 0.f;
    }
    float iscale = (float)nmax / (max - min), scale = 1.f / iscale;
    float best_err = 0.f;
    for (int i = 0; i < n; i++) {
        int l = clampi(hearth_nearest_int(iscale * (x[i] - min)), 0, nmax);
        L[i] = (uint8_t)l;
        float diff = scale * (float)l + min - x[i];
        best_err += w[i] * diff * diff;
    }
    uint8_t Laux[32];
    for (int is = 0; is <= nstep; is++) {
        float cand = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.f, sum_l2 = 0.f, sum_xl = 0.f;
        for (int i = 0; i < n; i++) {
            int l = clampi(hearth_nearest_int(cand * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D <= 0.f) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (this_min > 0.f) { /* the range must include 0: pin min there */
            this_min = 0.f;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0.f;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * (float)Laux[i] + this_min - x[i];
            err += w[i] * diff * diff;
        }
        if (err < best_err) {
            memcpy(L, Laux, (size_t)n);
            best_err = err;
            scale = this_scale;
            min = this_min;
        }
    }
    *min_out = -min;
    return scale;
}

void hearth_quant_weights(const float *x, const float *imp, int64_t n, float sigma2, float *w) {
    for (int64_t i = 0; i < n; i++) w[i] = imp[i] * sqrtf(sigma2 + x[i] * x[i]);
}

float hearth_quant_sigma2(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n > 0 ? (float)(s / (double)n) : 0.f;
}
