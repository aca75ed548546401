/*
 * test_dot.c: every SIMD kernel set of dot.h (AVX2, AVX-512; NEON, dotprod,
 * i8mm on AArch64, where the CPU has them) against the scalar reference, on random inputs: lengths of one block
 * up to many, with tails that are not a multiple of the vector width (float
 * types) and row counts that are not a multiple of the tiles; weights both
 * quantized from random floats and raw random bytes (all codes, e.g. -128
 * in Q8_0). Tolerance per kernel: |got - ref| <= atol + rtol*|ref|; the
 * integer part of each block is exact in every implementation, so only the
 * order of float additions differs. Also: gemm against gemv (same columns),
 * output strides (nothing outside the written columns is touched), and the
 * reference against a float dot product of the dequantized weights (also
 * when no SIMD level is there to compare, e.g. HEARTH_KERNEL_LEVEL=scalar).
 * The Q4_0/Q5_0/Q8_0 gemm (the amx level's tiles) also at many column
 * counts (check_gemm_cols).
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"
#include "test.h"

#include <stdint.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float rnd_unit(void) { return (float)(rnd_u32() & 0xFFFFFF) / 16777216.f; }
static float rnd_gauss(void) {
    float s = 0.f;
    for (int i = 0; i < 12; i++) s += rnd_unit();
    return s - 6.f;
}

typedef struct {
    hearth_type t;
    int fp16_off[3]; /* offsets of fp16 fields in a block (-1: none), fixed up in raw mode */
    double atol, rtol;
} dot_case;

/* atol is relative to the largest |ref| in the batch (raw random blocks
 * reach very different magnitudes); rtol to each output. */
static const dot_case cases[] = {
    {HEARTH_TYPE_F32, {-1, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_F16, {-1, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_BF16, {-1, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q4_0, {0, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q4_1, {0, 2, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q5_0, {0, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q5_1, {0, 2, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q8_0, {0, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q2_K, {80, 82, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q3_K, {108, -1, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q4_K, {0, 2, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q5_K, {0, 2, -1}, 1e-5, 1e-5},
    {HEARTH_TYPE_Q6_K, {208, -1, -1}, 1e-5, 1e-5},
};

typedef struct {
    int64_t n, nrows;
    size_t ws;
    uint8_t *w;       /* (nrows, ws) */
    float *wf;        /* (nrows, n) dequantized */
    int64_t ncols;
    size_t as;
    uint8_t *act;     /* (ncols, as) */
    float *x;         /* (ncols, n) */
} problem;

static void make_problem(problem *p, const hearth_type_traits *tt, const dot_case *dc,
                         const hearth_dot_kernel *ref, int64_t n, int64_t nrows, int64_t ncols, bool raw) {
    p->n = n, p->nrows = nrows, p->ncols = ncols;
    size_t rs = hearth_type_row_size(dc->t, n);
    p->ws = rs + 8; /* rows not back to back (alignment stays natural, as dot.h asks) */
    /* exact sizes (no slack after the last row) so ASan sees any over-read */
    p->w = calloc(1, (size_t)(nrows - 1) * p->ws + rs);
    p->wf = malloc((size_t)(nrows * n) * sizeof(float));
    p->as = ref->act_row_size(n) + 12;
    p->act = calloc(1, (size_t)(ncols - 1) * p->as + ref->act_row_size(n));
    p->x = malloc((size_t)(ncols * n) * sizeof(float));
    REQUIRE(p->w && p->wf && p->act && p->x);
    float *tmp = malloc((size_t)n * sizeof(float));
    REQUIRE(tmp);
    for (int64_t r = 0; r < nrows; r++) {
        uint8_t *row = p->w + (size_t)r * p->ws;
        if (raw && tt->is_quantized) {
            for (size_t i = 0; i < rs; i++) row[i] = (uint8_t)rnd_u32();
            for (int64_t b = 0; b < n / tt->blck_size; b++)
                for (int k = 0; k < 3; k++)
                    if (dc->fp16_off[k] >= 0) {
                        uint16_t h = hearth_f32_to_f16((rnd_unit() - 0.3f) * 0.01f);
                        memcpy(row + b * tt->type_size + dc->fp16_off[k], &h, 2);
                    }
        } else {
            for (int64_t i = 0; i < n; i++) tmp[i] = rnd_gauss();
            tt->from_float_ref(tmp, row, n);
        }
        tt->to_float(row, p->wf + r * n, n);
    }
    for (int64_t c = 0; c < ncols; c++) {
        for (int64_t i = 0; i < n; i++) p->x[c * n + i] = rnd_gauss() * (c % 3 == 2 ? 10.f : 1.f);
        ref->quantize_act(p->x + c * n, p->act + (size_t)c * p->as, n);
    }
    free(tmp);
}

static void free_problem(problem *p) { free(p->w), free(p->wf), free(p->act), free(p->x); }

typedef struct {
    double max_abs, max_ratio;
} err_stat;

static void compare(const char *what, const float *got, const float *ref, int64_t cnt, double atol_rel,
                    double rtol, err_stat *st) {
    double big = 0;
    for (int64_t i = 0; i < cnt; i++) big = fmax(big, fabs(ref[i]));
    double atol = atol_rel * big + 1e-30;
    int bad = 0;
    for (int64_t i = 0; i < cnt; i++) {
        double e = fabs((double)got[i] - ref[i]);
        double lim = atol + rtol * fabs(ref[i]);
        if (!(e <= lim)) {
            if (bad++ < 3) fprintf(stderr, "%s[%lld]: got %.9g ref %.9g\n", what, (long long)i, got[i], ref[i]);
        }
        st->max_abs = fmax(st->max_abs, e);
        st->max_ratio = fmax(st->max_ratio, e / lim);
    }
    CHECKF(bad == 0, "%s: %d outputs outside tolerance", what, bad);
}

/* The reference itself against float math on the dequantized weights and
 * activations: checks that the integer formulation is the format's. */
static void check_ref_semantics(const hearth_type_traits *tt, const hearth_type_traits *at, const problem *p,
                                const float *ref_out) {
    float *xa = malloc((size_t)p->n * sizeof(float));
    REQUIRE(xa);
    at->to_float(p->act, xa, p->n);
    double worst = 0;
    for (int64_t r = 0; r < p->nrows; r++) {
        double s = 0, mag = 0;
        for (int64_t i = 0; i < p->n; i++) {
            s += (double)p->wf[r * p->n + i] * xa[i];
            mag += fabs((double)p->wf[r * p->n + i] * xa[i]);
        }
        /* Q4_1/Q5_1 take s = d*sum(qs) from the activation in fp16 */
        double tol = 1e-5 * mag + (at->blck_size == 32 && p->n ? 2e-3 * mag : 0);
        if (at == hearth_type_traits_get(HEARTH_TYPE_Q8_1)) tol = 2e-3 * mag;
        double e = fabs(s - ref_out[r]);
        CHECKF(e <= tol + 1e-6, "%s ref row %lld: %g vs float %g", tt->name, (long long)r, ref_out[r], s);
        if (mag > 0) worst = fmax(worst, e / mag);
    }
    (void)worst;
    free(xa);
}

/* The reference's own semantics are checked once, with the first SIMD set. */
static hearth_dot_impl first_impl = HEARTH_DOT_IMPL_COUNT;

static void run_case(const dot_case *dc, hearth_dot_impl impl) {
    const hearth_type_traits *tt = hearth_type_traits_get(dc->t);
    const hearth_dot_kernel *ref = hearth_dot_kernel_get_impl(dc->t, HEARTH_DOT_SCALAR);
    const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(dc->t, impl);
    REQUIRE(tt && ref && k);
    CHECK_EQ_INT(k->act_type, ref->act_type);
    const hearth_type_traits *at = hearth_type_traits_get(ref->act_type);
    if (ref->act_type == HEARTH_TYPE_Q8_1) at = NULL; /* not a table type */
    static const int64_t lens32[] = {32, 64, 96, 224, 896, 32 * 37, 32 * 520}; /* 520 blocks: past ACT_CHUNK */
    static const int64_t lensK[] = {256, 512, 1024, 4864, 256 * 66}; /* 66 blocks: past MAXBK */
    static const int64_t lensF[] = {1, 7, 8, 15, 17, 33, 100, 896};
    const int64_t *lens = tt->blck_size == 1 ? lensF : tt->blck_size == 32 ? lens32 : lensK;
    int nlens = tt->blck_size == 1 ? 8 : tt->blck_size == 32 ? 7 : 5;
    err_stat st = {0, 0};
    char what[96];
    for (int raw = 0; raw < 2; raw++)
        for (int li = 0; li < nlens; li++) {
            int64_t n = lens[li];
            /* 70 crosses the 64-row gemm chunk, 300 the 256-row one (Q4_0/Q5_0/Q8_0) */
            int64_t nrows = li == 1 ? 300 : (li % 2 && n < 4096) ? 70 : 9;
            /* tiles of 4 and some left over; 19 (some lengths): uneven
             * transposed tiles (10 + 9 at 16 columns per tile, 7 + 6 + 6 at
             * 8); 16: full tiles of 16 (AVX-512 Q4_0/Q5_0/Q8_0), of 8 (the
             * AVX2 and AVX-VNNI ones) and of 4 */
            int64_t ncols = n >= 4096 ? 5 : li % 3 == 2 ? 19 : li % 3 == 1 ? 16 : 11;
            problem p;
            make_problem(&p, tt, dc, ref, n, nrows, ncols, raw);
            /* quantize_act: same bytes as the reference */
            uint8_t *a2 = calloc(1, ref->act_row_size(n));
            REQUIRE(a2);
            k->quantize_act(p.x, a2, n);
            CHECKF(!memcmp(a2, p.act, ref->act_row_size(n)), "%s/%s quantize_act differs", tt->name,
                   hearth_dot_impl_str(impl));
            free(a2);
            float *o_ref = malloc((size_t)(nrows * ncols) * sizeof(float));
            float *o_got = malloc((size_t)(nrows * ncols) * sizeof(float));
            int64_t os = nrows + 5;
            float *o_mm = malloc((size_t)(os * ncols) * sizeof(float));
            REQUIRE(o_ref && o_got && o_mm);
            for (int64_t c = 0; c < ncols; c++) {
                ref->gemv(n, nrows, o_ref + c * nrows, p.w, p.ws, p.act + (size_t)c * p.as);
                k->gemv(n, nrows, o_got + c * nrows, p.w, p.ws, p.act + (size_t)c * p.as);
            }
            snprintf(what, sizeof what, "%s/%s gemv n=%lld%s", tt->name, hearth_dot_impl_str(impl),
                     (long long)n, raw ? " raw" : "");
            compare(what, o_got, o_ref, nrows * ncols, dc->atol, dc->rtol, &st);
            if (!raw && impl == first_impl && at) check_ref_semantics(tt, at, &p, o_ref);
            if (!raw && impl == first_impl && !at && ref->act_type == HEARTH_TYPE_Q8_1) {
                /* Q8_1 activations: dequantize by hand */
                float *xa = malloc((size_t)n * sizeof(float));
                hearth_q8_1_to_float(p.act, xa, n);
                for (int64_t r = 0; r < nrows; r++) {
                    double s = 0, mag = 0;
                    for (int64_t i = 0; i < n; i++)
                        s += (double)p.wf[r * n + i] * xa[i], mag += fabs((double)p.wf[r * n + i] * xa[i]);
                    CHECKF(fabs(s - o_ref[r]) <= 2e-3 * mag + 1e-6, "%s ref row %lld", tt->name, (long long)r);
                }
                free(xa);
            }
            /* gemm: all columns at once, with an output stride; the padding stays untouched */
            for (int64_t i = 0; i < os * ncols; i++) o_mm[i] = -12345.f;
            k->gemm(n, nrows, ncols, o_mm, os, p.w, p.ws, p.act, p.as);
            int pad_bad = 0;
            for (int64_t c = 0; c < ncols; c++) {
                for (int64_t r = nrows; r < os; r++) pad_bad += o_mm[c * os + r] != -12345.f;
                memmove(o_mm + c * nrows, o_mm + c * os, (size_t)nrows * sizeof(float));
            }
            CHECKF(pad_bad == 0, "%s: gemm wrote outside its columns", what);
            snprintf(what, sizeof what, "%s/%s gemm n=%lld%s", tt->name, hearth_dot_impl_str(impl),
                     (long long)n, raw ? " raw" : "");
            compare(what, o_mm, o_ref, nrows * ncols, dc->atol, dc->rtol, &st);
            /* gemm vs this impl's own gemv (they may order float sums differently) */
            snprintf(what, sizeof what, "%s/%s gemm-vs-gemv n=%lld%s", tt->name, hearth_dot_impl_str(impl),
                     (long long)n, raw ? " raw" : "");
            compare(what, o_mm, o_got, nrows * ncols, dc->atol, dc->rtol, &st);
            /* the reference's own gemm is its gemv */
            ref->gemm(n, nrows, ncols, o_mm, nrows, p.w, p.ws, p.act, p.as);
            CHECKF(!memcmp(o_mm, o_ref, (size_t)(nrows * ncols) * sizeof(float)), "%s ref gemm != gemv",
                   tt->name);
            free(o_ref), free(o_got), free(o_mm);
            free_problem(&p);
        }
    fprintf(stderr, "%-5s %-6s max |got-ref| %.3g  max err/(atol+rtol|ref|) %.3f  (atol %g*max|ref|, rtol %g)\n",
            tt->name, hearth_dot_impl_str(impl), st.max_abs, st.max_ratio, dc->atol, dc->rtol);
}

/* The gemm of the types the amx level runs on tiles (Q4_0, Q5_0, Q8_0), on
 * every implementation, at many column counts: 1-20 (below and past the
 * AMX threshold, token tiles of every size M), 31, 64, 100, 512 (several
 * tiles, the last overlapping its neighbour; passes of 128), 37 rows (two
 * groups of 16 and a partial one), 7 and 37 blocks (an odd block count; past
 * the 32-block chunk). Also, for amx (where it is designed to hold): each
 * output is bit for bit the same whatever else shares its call: columns
 * 0..c of a call of c+1 columns (from 8 on) equal the first c+1 of the
 * 512-column call, and a call on rows 16..36 the same rows of the full one
 * (what makes results independent of how threads split the work). */
/* Where a kernel set promises it (gemv_exact_cols: the wide int8 level's
 * few-column gemm, speculative verification's batches), a gemm of 2 up to
 * that many columns equals gemv column by column bit for bit: 7, 37 and
 * 520 blocks (past the activation chunk of 256, where rows add up chunk by
 * chunk), an output stride past the rows, rows 3.. alone. */
static void check_gemv_exact(hearth_type t, hearth_dot_impl impl, const dot_case *dc, const hearth_type_traits *tt,
                             const hearth_dot_kernel *ref, const hearth_dot_kernel *k) {
    if (k->gemv_exact_cols < 2) return;
    static const int64_t blocks[] = {7, 37, 520};
    enum { NROWS = 21, OS = 29 };
    int checked = 0;
    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
        int64_t n = 32 * blocks[bi], nc_max = k->gemv_exact_cols;
        problem p;
        make_problem(&p, tt, dc, ref, n, NROWS, nc_max, bi == 0);
        float *want = malloc((size_t)(NROWS * nc_max) * sizeof(float));
        float *got = malloc((size_t)(OS * nc_max) * sizeof(float));
        REQUIRE(want && got);
        for (int64_t c = 0; c < nc_max; c++) k->gemv(n, NROWS, want + c * NROWS, p.w, p.ws, p.act + (size_t)c * p.as);
        for (int64_t nc = 2; nc <= nc_max; nc++)
            for (int64_t r0 = 0; r0 <= 3; r0 += 3) {
                k->gemm(n, NROWS - r0, nc, got, OS, p.w + (size_t)r0 * p.ws, p.ws, p.act, p.as);
                int diff = 0;
                for (int64_t c = 0; c < nc; c++)
                    for (int64_t r = r0; r < NROWS; r++)
                        diff += memcmp(got + c * OS + (r - r0), want + c * NROWS + r, sizeof(float)) != 0;
                CHECKF(diff == 0, "%s/%s gemm of %lld columns, %lld blocks, rows %lld..: %d outputs differ from gemv's",
                       tt->name, hearth_dot_impl_str(impl), (long long)nc, (long long)blocks[bi], (long long)r0, diff);
                checked++;
            }
        free(want), free(got);
        free_problem(&p);
    }
    fprintf(stderr, "%-5s %-6s gemm of 2-%d columns bit for bit gemv: %d calls\n", hearth_type_name(t),
            hearth_dot_impl_str(impl), (int)k->gemv_exact_cols, checked);
}

static void check_gemm_cols(hearth_dot_impl impl) {
    static const hearth_type types[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q8_0};
    static const int64_t cols[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                   14, 15, 16, 17, 18, 19, 20, 31, 64, 100, 512};
    enum { NCOLS = 512, NROWS = 37 };
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const dot_case *dc = NULL;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            if (cases[c].t == types[ti]) dc = &cases[c];
        const hearth_type_traits *tt = hearth_type_traits_get(types[ti]);
        const hearth_dot_kernel *ref = hearth_dot_kernel_get_impl(types[ti], HEARTH_DOT_SCALAR);
        const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(types[ti], impl);
        REQUIRE(dc && tt && ref && k);
        err_stat st = {0, 0};
        for (int raw = 0; raw < 2; raw++) {
            int64_t n = raw ? 32 * 7 : 32 * 37;
            problem p;
            make_problem(&p, tt, dc, ref, n, NROWS, NCOLS, raw);
            float *o_ref = malloc((size_t)(NROWS * NCOLS) * sizeof(float));
            float *o_all = malloc((size_t)(NROWS * NCOLS) * sizeof(float));
            float *o = malloc((size_t)(NROWS * NCOLS) * sizeof(float));
            REQUIRE(o_ref && o_all && o);
            for (int64_t c = 0; c < NCOLS; c++) ref->gemv(n, NROWS, o_ref + c * NROWS, p.w, p.ws, p.act + (size_t)c * p.as);
            k->gemm(n, NROWS, NCOLS, o_all, NROWS, p.w, p.ws, p.act, p.as);
            for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
                int64_t nc = cols[ci];
                char what[96];
                snprintf(what, sizeof what, "%s/%s gemm n=%lld x %lld cols%s", tt->name, hearth_dot_impl_str(impl),
                         (long long)n, (long long)nc, raw ? " raw" : "");
                k->gemm(n, NROWS, nc, o, NROWS, p.w, p.ws, p.act, p.as);
                compare(what, o, o_ref, NROWS * nc, dc->atol, dc->rtol, &st);
                if (impl == HEARTH_DOT_AMX && nc >= 8)
                    CHECKF(!memcmp(o, o_all, (size_t)(NROWS * nc) * sizeof(float)),
                           "%s: not bit for bit the 512-column call's", what);
            }
            if (impl == HEARTH_DOT_AMX) {
                /* rows 16..36 alone, all columns: out stride NROWS, rows 16.. */
                for (int64_t i = 0; i < NROWS * NCOLS; i++) o[i] = -1.f;
                k->gemm(n, NROWS - 16, NCOLS, o + 16, NROWS, p.w + 16 * p.ws, p.ws, p.act, p.as);
                int diff = 0;
                for (int64_t c = 0; c < NCOLS; c++)
                    for (int64_t r = 0; r < NROWS; r++)
                        diff += r >= 16 ? memcmp(o + c * NROWS + r, o_all + c * NROWS + r, sizeof(float)) != 0
                                        : o[c * NROWS + r] != -1.f;
                CHECKF(diff == 0, "%s/amx n=%lld: rows 16..36 alone differ from the full call in %d outputs",
                       tt->name, (long long)n, diff);
            }
            free(o_ref), free(o_all), free(o);
            free_problem(&p);
        }
        fprintf(stderr, "%-5s %-6s gemm at 1-20, 31, 64, 100, 512 columns: max |got-ref| %.3g  max err/tol %.3f\n",
                tt->name, hearth_dot_impl_str(impl), st.max_abs, st.max_ratio);
        check_gemv_exact(types[ti], impl, dc, tt, ref, k);
    }
}

/* quantize_act on inputs that probe the reference's exact semantics:
 * rounding ties (to even), zero blocks, NaN and inf lanes, denormal and
 * huge blocks, values at the clamp. The bytes must match exactly. */
static void check_quantize_edges(hearth_dot_impl impl) {
    static const hearth_type wts[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q4_K};
    enum { N = 256 * 6 };
    float *x = malloc(N * sizeof(float));
    REQUIRE(x);
    for (int i = 0; i < N; i++) x[i] = rnd_gauss();
    for (int i = 0; i < 32; i++) x[i] = 0.f;                            /* zero block */
    for (int i = 0; i < 32; i++) x[32 + i] = (float)(i - 16) * 0.5f;   /* ties: d = 8/127 */
    x[32 + 31] = 127.f;                                                 /* d = 1, id = 1: x.5 are ties */
    for (int i = 0; i < 32; i++) x[64 + i] = (float)(i % 2 ? 1 : -1) * (float)i * 4.f + 0.5f;
    x[96 + 3] = NAN;                                                    /* NaN lane */
    x[128 + 7] = INFINITY;                                              /* inf: d = inf, id = 0 */
    x[160 + 2] = -INFINITY;
    for (int i = 0; i < 32; i++) x[192 + i] = (float)(i - 15) * 1e-41f; /* denormals */
    for (int i = 0; i < 32; i++) x[224 + i] = (float)(i - 15) * 1e-38f; /* d denormal */
    for (int i = 0; i < 32; i++) x[256 + i] = (float)(i - 15) * 2e37f;  /* huge */
    for (int i = 0; i < 32; i++) x[288 + i] = -x[256 + i];
    x[600] = NAN, x[601] = NAN;
    for (size_t t = 0; t < sizeof wts / sizeof wts[0]; t++) {
        const hearth_dot_kernel *ref = hearth_dot_kernel_get_impl(wts[t], HEARTH_DOT_SCALAR);
        const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(wts[t], impl);
        REQUIRE(ref && k);
        size_t sz = ref->act_row_size(N);
        uint8_t *a = malloc(sz), *b = malloc(sz);
        REQUIRE(a && b);
        ref->quantize_act(x, a, N);
        k->quantize_act(x, b, N);
        size_t first = sz;
        for (size_t i = 0; i < sz && first == sz; i++)
            if (a[i] != b[i]) first = i;
        CHECKF(first == sz, "%s/%s quantize_act edge cases: first differing byte %zu", hearth_type_name(ref->act_type),
               hearth_dot_impl_str(impl), first);
        free(a), free(b);
    }
    free(x);
}

/* Weight blocks whose scale is inf or NaN: the rows holding one give a
 * non-finite result where the reference does, and the rows beside them (in
 * the same group of 4, where kernels take 4 rows at a time and may compute
 * such a group again on a slower path) still give the reference's. */
static void check_nonfinite_scales(hearth_dot_impl impl) {
    static const uint16_t special[] = {0x7c00, 0xfc00, 0x7e00}; /* inf, -inf, NaN */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const dot_case *dc = &cases[c];
        if (dc->fp16_off[0] < 0) continue;
        const hearth_type_traits *tt = hearth_type_traits_get(dc->t);
        const hearth_dot_kernel *ref = hearth_dot_kernel_get_impl(dc->t, HEARTH_DOT_SCALAR);
        const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(dc->t, impl);
        REQUIRE(tt && ref && k);
        int64_t n = tt->blck_size * 9, nrows = 9;
        problem p;
        make_problem(&p, tt, dc, ref, n, nrows, 1, false);
        /* rows 1, 4 and 6: one block's scale each */
        static const int64_t rows[] = {1, 4, 6}, blks[] = {3, 0, 8};
        for (int i = 0; i < 3; i++)
            memcpy(p.w + (size_t)rows[i] * p.ws + (size_t)blks[i] * tt->type_size + dc->fp16_off[0],
                   &special[i], 2);
        float o_ref[9], o_got[9];
        ref->gemv(n, nrows, o_ref, p.w, p.ws, p.act);
        k->gemv(n, nrows, o_got, p.w, p.ws, p.act);
        double big = 0; /* the tolerance of compare(), over the finite rows */
        for (int64_t r = 0; r < nrows; r++)
            if (isfinite(o_ref[r])) big = fmax(big, fabs(o_ref[r]));
        for (int64_t r = 0; r < nrows; r++) {
            bool special_row = r == 1 || r == 4 || r == 6;
            CHECKF(!isfinite(o_ref[r]) == special_row, "%s ref row %lld: %g", tt->name, (long long)r, o_ref[r]);
            if (special_row) {
                CHECKF(!isfinite(o_got[r]), "%s/%s row %lld with an inf/NaN scale: %g", tt->name,
                       hearth_dot_impl_str(impl), (long long)r, o_got[r]);
            } else {
                double e = fabs((double)o_got[r] - o_ref[r]);
                CHECKF(e <= dc->atol * big + dc->rtol * fabs(o_ref[r]), "%s/%s row %lld beside inf/NaN scales: %g vs %g",
                       tt->name, hearth_dot_impl_str(impl), (long long)r, o_got[r], o_ref[r]);
            }
        }
        free_problem(&p);
    }
}

int main(void) {
    fprintf(stderr, "chosen implementation: %s\n", hearth_dot_impl_name());
    const char *force = getenv("HEARTH_FORCE_SCALAR");
    if (force && !strcmp(force, "1")) CHECK_STR(hearth_dot_impl_name(), "scalar");
    /* every supported weight type has kernels; the others none */
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        const hearth_type_traits *tt = hearth_type_traits_get(t);
        bool want = tt && tt->supported && t != HEARTH_TYPE_Q8_K;
        CHECKF(!!hearth_dot_kernel_get((hearth_type)t) == want, "type %d kernel presence", t);
    }
    CHECK(hearth_dot_kernel_get((hearth_type)-1) == NULL);
    CHECK(hearth_dot_kernel_get(HEARTH_TYPE_COUNT) == NULL);
    /* HEARTH_KERNEL_LEVEL=<name> (the per-level runs under emulation): that
     * level must be the one chosen (the CPU has it: the cap never raises
     * the level), and only it is compared, the lower ones having their own
     * runs. */
    const char *level = getenv("HEARTH_KERNEL_LEVEL");
    if (level && *level && !(force && !strcmp(force, "1"))) CHECK_STR(hearth_dot_impl_name(), level);
    int impls = 0;
    for (int impl = HEARTH_DOT_AVX2; impl < HEARTH_DOT_IMPL_COUNT; impl++) {
        if (!hearth_dot_impl_available((hearth_dot_impl)impl)) {
            fprintf(stderr, "%s: not available on this CPU, skipped\n", hearth_dot_impl_str((hearth_dot_impl)impl));
            continue;
        }
        if (level && *level && strcmp(level, hearth_dot_impl_str((hearth_dot_impl)impl))) {
            fprintf(stderr, "%s: below HEARTH_KERNEL_LEVEL=%s, skipped\n", hearth_dot_impl_str((hearth_dot_impl)impl), level);
            continue;
        }
        if (first_impl == HEARTH_DOT_IMPL_COUNT) first_impl = (hearth_dot_impl)impl;
        impls++;
        check_quantize_edges((hearth_dot_impl)impl);
        check_gemm_cols((hearth_dot_impl)impl);
        check_nonfinite_scales((hearth_dot_impl)impl);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) run_case(&cases[c], (hearth_dot_impl)impl);
    }
    if (!impls) {
        /* No SIMD level to compare (HEARTH_FORCE_SCALAR, or a CPU without
         * one): still check the reference's own semantics, against float
         * math on the dequantized weights, its gemm against its gemv, and the
         * cases' tolerances (trivially) — so this test never passes having
         * checked nothing. */
        fprintf(stderr, "no SIMD implementation on this CPU: the reference alone\n");
        first_impl = HEARTH_DOT_SCALAR;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) run_case(&cases[c], HEARTH_DOT_SCALAR);
    }
    return test_done();
}
