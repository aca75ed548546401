/*
 * ref_bert.c: the reference BERT encoder (see ref_bert.h).
 *
 *   x_i = LN(tok[t_i] + type[0] + pos[i])
 *   per layer: q, k, v = W x + b (all tokens); per head
 *              a_i = sum_j softmax_j(q_i . k_j / sqrt(hd)) v_j  (no mask)
 *              x = LN1(x + Wo a + bo)
 *              x = LN2(x + Wd gelu(Wu x + bu) + bd),  gelu(z) = z/2 (1 + erf(z/sqrt 2))
 *   pooled = mean_i x_i (pooling 1 or absent), x_0 (2), x_{n-1} (3); / |pooled|
 */
#include "ref_bert.h"

#include "hearth.h"
#include "kernels/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *wq, *wk, *wv, *wo, *wu, *wd;
    float *bq, *bk, *bv, *bo, *bu, *bd, *l1w, *l1b, *l2w, *l2b;
} rl;

struct ref_bert {
    int d, nl, nh, ff, pooling;
    double eps;
    float *tok, *type, *pos, *enw, *enb;
    rl *L;
};

static float *deq(const hearth_gguf *g, const char *fmt, int il) {
    char nm[96];
    snprintf(nm, sizeof nm, fmt, il);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, nm);
    if (!t) {
        fprintf(stderr, "ref_bert: no tensor %s\n", nm);
        return NULL;
    }
    int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    float *f = malloc((size_t)n * sizeof(float));
    hearth_type_traits_get(t->type)->to_float(t->data, f, n);
    return f;
}

static int64_t geti(const hearth_gguf *g, const char *k, int64_t def) {
    int64_t v;
    return hearth_gguf_get_int(g, k, &v, NULL) ? def : v;
}

ref_bert *ref_bert_open(const char *path) {
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, NULL)) return NULL;
    ref_bert *r = calloc(1, sizeof *r);
    r->d = (int)geti(g, "bert.embedding_length", 0);
    r->nl = (int)geti(g, "bert.block_count", 0);
    r->nh = (int)geti(g, "bert.attention.head_count", 1);
    r->ff = (int)geti(g, "bert.feed_forward_length", 0);
    r->pooling = (int)geti(g, "bert.pooling_type", 1);
    double eps = 1e-12;
    hearth_gguf_get_float(g, "bert.attention.layer_norm_epsilon", &eps, NULL);
    r->eps = eps;
    r->tok = deq(g, "token_embd.weight", -1);
    r->type = deq(g, "token_types.weight", -1);
    r->pos = deq(g, "position_embd.weight", -1);
    r->enw = deq(g, "token_embd_norm.weight", -1);
    r->enb = deq(g, "token_embd_norm.bias", -1);
    r->L = calloc((size_t)r->nl, sizeof *r->L);
    for (int il = 0; il < r->nl; il++) {
        rl *L = &r->L[il];
        L->wq = deq(g, "blk.%d.attn_q.weight", il);
        L->wk = deq(g, "blk.%d.attn_k.weight", il);
        L->wv = deq(g, "blk.%d.attn_v.weight", il);
        L->wo = deq(g, "blk.%d.attn_output.weight", il);
        L->wu = deq(g, "blk.%d.ffn_up.weight", il);
        L->wd = deq(g, "blk.%d.ffn_down.weight", il);
        L->bq = deq(g, "blk.%d.attn_q.bias", il);
        L->bk = deq(g, "blk.%d.attn_k.bias", il);
        L->bv = deq(g, "blk.%d.attn_v.bias", il);
        L->bo = deq(g, "blk.%d.attn_output.bias", il);
        L->bu = deq(g, "blk.%d.ffn_up.bias", il);
        L->bd = deq(g, "blk.%d.ffn_down.bias", il);
        L->l1w = deq(g, "blk.%d.attn_output_norm.weight", il);
        L->l1b = deq(g, "blk.%d.attn_output_norm.bias", il);
        L->l2w = deq(g, "blk.%d.layer_output_norm.weight", il);
        L->l2b = deq(g, "blk.%d.layer_output_norm.bias", il);
    }
    hearth_gguf_free(g);
    return r;
}

void ref_bert_free(ref_bert *r) {
    if (!r) return;
    free(r->tok);
    free(r->type);
    free(r->pos);
    free(r->enw);
    free(r->enb);
    for (int il = 0; il < r->nl; il++) {
        float **p = &r->L[il].wq;
        for (int k = 0; k < 16; k++) free(p[k]);
    }
    free(r->L);
    free(r);
}

int ref_bert_n_embd(const ref_bert *r) { return r->d; }

static void ln(double *x, const float *w, const float *b, int n, double eps) {
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    v /= n;
    for (int i = 0; i < n; i++) x[i] = (x[i] - m) / sqrt(v + eps) * w[i] + b[i];
}

/* y (rows) = W (rows x cols, row-major) x + b */
static void mv(double *y, const float *W, const float *b, const double *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = b[r];
        for (int c = 0; c < cols; c++) s += (double)W[(size_t)r * cols + c] * x[c];
        y[r] = s;
    }
}

void ref_bert_embed(const ref_bert *r, const int32_t *t, int n, float *out) {
    int d = r->d, ff = r->ff, hd = d / r->nh;
    double *x = calloc((size_t)n * d, sizeof *x), *q = calloc((size_t)n * d, sizeof *q),
           *k = calloc((size_t)n * d, sizeof *k), *v = calloc((size_t)n * d, sizeof *v),
           *a = calloc((size_t)n * d, sizeof *a), *h = calloc((size_t)ff, sizeof *h),
           *o = calloc((size_t)d, sizeof *o), *p = calloc((size_t)n, sizeof *p);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            x[i * d + j] = (double)r->tok[(size_t)t[i] * d + j] + r->type[j] + r->pos[(size_t)i * d + j];
        ln(x + i * d, r->enw, r->enb, d, r->eps);
    }
    for (int il = 0; il < r->nl; il++) {
        const rl *L = &r->L[il];
        for (int i = 0; i < n; i++) {
            mv(q + i * d, L->wq, L->bq, x + i * d, d, d);
            mv(k + i * d, L->wk, L->bk, x + i * d, d, d);
            mv(v + i * d, L->wv, L->bv, x + i * d, d, d);
        }
        for (int i = 0; i < n; i++)
            for (int hh = 0; hh < r->nh; hh++) {
                double mx = -1e300, sum = 0;
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int c = 0; c < hd; c++) s += q[i * d + hh * hd + c] * k[j * d + hh * hd + c];
                    p[j] = s / sqrt((double)hd);
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j < n; j++) sum += (p[j] = exp(p[j] - mx));
                for (int c = 0; c < hd; c++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += p[j] / sum * v[j * d + hh * hd + c];
                    a[i * d + hh * hd + c] = s;
                }
            }
        for (int i = 0; i < n; i++) {
            mv(o, L->wo, L->bo, a + i * d, d, d);
            for (int j = 0; j < d; j++) x[i * d + j] += o[j];
            ln(x + i * d, L->l1w, L->l1b, d, r->eps);
            mv(h, L->wu, L->bu, x + i * d, ff, d);
            for (int j = 0; j < ff; j++) h[j] = 0.5 * h[j] * (1 + erf(h[j] / sqrt(2.0)));
            mv(o, L->wd, L->bd, h, d, ff);
            for (int j = 0; j < d; j++) x[i * d + j] += o[j];
            ln(x + i * d, L->l2w, L->l2b, d, r->eps);
        }
    }
    double ss = 0;
    for (int j = 0; j < d; j++) {
        double s = 0;
        if (r->pooling == 2) s = x[j];
        else if (r->pooling == 3) s = x[(n - 1) * d + j];
        else {
            for (int i = 0; i < n; i++) s += x[i * d + j];
            s /= n;
        }
        o[j] = s;
        ss += s * s;
    }
    for (int j = 0; j < d; j++) out[j] = (float)(o[j] / sqrt(ss));
    free(x); free(q); free(k); free(v); free(a); free(h); free(o); free(p);
}
