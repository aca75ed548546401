/*
 * ref_forward.c: the reference forward pass (see ref_forward.h).
 *
 *   x = embd[token]                      (gemma3: * sqrt(n_embd))
 *   per layer:  h = rmsnorm(x) * attn_norm
 *               q = Wq h + bq, k = Wk h + bk, v = Wv h + bv
 *                   (phi3: one Wqkv, rows q, k, v)
 *               qwen3, gemma3: q, k = rmsnorm(head) * attn_{q,k}_norm per head
 *               rope(q), rope(k) at the token's position over n_rot dims
 *                   (llama: pairs (2i, 2i+1), others (i, i + n_rot/2);
 *                   theta_i = pos * base^(-2i/n_rot) / divisor_i, divisors
 *                   from rope_freqs (Llama 3) or rope_factors_long/short
 *                   (phi3, long when the context exceeds the original);
 *                   cos and sin times phi3's attn_factor; gemma3's local
 *                   layers use base 10000)
 *               per head: softmax(q.k_j / sqrt(hd), j <= pos) . v_j
 *                   (gemma3 local layers, il % 6 != 5: only j > pos - window)
 *               o = Wo attn (gemma3: o = rmsnorm(o) * post_attention_norm)
 *               x += o
 *               h = rmsnorm(x) * ffn_norm
 *               f = Wdown (act(Wgate h) * (Wup h))   act: silu, gemma3 gelu-tanh
 *                   (phi3: Wgate, Wup are the two halves of ffn_up)
 *                   (gemma3: f = rmsnorm(f) * post_ffw_norm)
 *               x += f
 *   logits = Wout (rmsnorm(x) * output_norm)   (cap * tanh(l / cap) if set)
 * Accumulations in double. The architecture's choices are read from its
 * name and keys here, independently of the engine's table.
 */
#include "ref_forward.h"

#include "hearth.h"
#include "kernels/types.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *w; /* (rows, cols) */
    int64_t rows, cols;
} rmat;

typedef struct {
    float *attn_norm, *ffn_norm, *bq, *bk, *bv, *q_norm, *k_norm, *post_attn, *post_ffn;
    rmat wq, wk, wv, wo, gate, up, down;
    rmat qkv, upgate; /* phi3's fused tensors (wq.. / gate, up unset then) */
} rlayer;

struct ref_model {
    int n_vocab, n_embd, n_layer, n_head, n_head_kv, hd, n_ff, n_rot;
    bool neox, gelu, gemma3;
    double base, eps, embd_scale, softcap, mscale;
    int n_swa, n_ctx, orig_ctx;
    rmat embd, out;
    float *out_norm;
    float *rope_freqs, *rope_long, *rope_short;
    rlayer *L;
};

static float *deq(const hearth_gguf *g, const char *name, int64_t *rows, int64_t *cols) {
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    if (!t) return NULL;
    int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    float *f = malloc((size_t)n * sizeof(float));
    const hearth_type_traits *tr = hearth_type_traits_get(t->type);
    tr->to_float(t->data, f, n);
    if (rows) *rows = n / t->ne[0];
    if (cols) *cols = t->ne[0];
    return f;
}

static rmat getm(const hearth_gguf *g, const char *fmt, int il) {
    char nm[96];
    snprintf(nm, sizeof nm, fmt, il);
    rmat m = {0};
    m.w = deq(g, nm, &m.rows, &m.cols);
    return m;
}

static float *getv(const hearth_gguf *g, const char *fmt, int il) {
    char nm[96];
    snprintf(nm, sizeof nm, fmt, il);
    return deq(g, nm, NULL, NULL);
}

static int64_t geti(const hearth_gguf *g, const char *arch, const char *suf, int64_t def) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suf);
    int64_t v;
    return hearth_gguf_get_int(g, key, &v, NULL) ? def : v;
}

static double getf(const hearth_gguf *g, const char *arch, const char *suf, double def) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suf);
    double v;
    return hearth_gguf_get_float(g, key, &v, NULL) ? def : v;
}

ref_model *ref_open(const char *path) {
    hearth_gguf *g;
    hearth_error e = {0};
    if (hearth_gguf_open(path, &g, &e)) {
        fprintf(stderr, "ref_open %s: %s\n", path, e.msg);
        return NULL;
    }
    const char *arch;
    hearth_gguf_get_str(g, "general.architecture", &arch, NULL, NULL);
    ref_model *r = calloc(1, sizeof *r);
    r->neox = strcmp(arch, "llama") != 0;
    r->gemma3 = !strcmp(arch, "gemma3");
    r->gelu = r->gemma3;
    r->n_embd = (int)geti(g, arch, "embedding_length", 0);
    r->n_layer = (int)geti(g, arch, "block_count", 0);
    r->n_head = (int)geti(g, arch, "attention.head_count", 0);
    r->n_head_kv = (int)geti(g, arch, "attention.head_count_kv", r->n_head);
    r->hd = (int)geti(g, arch, "attention.key_length", r->n_embd / r->n_head);
    r->embd_scale = r->gemma3 ? sqrt((double)r->n_embd) : 1.0;
    r->softcap = getf(g, arch, "final_logit_softcapping", 0.0);
    r->n_swa = r->gemma3 ? (int)geti(g, arch, "attention.sliding_window", 0) : 0;
    r->mscale = getf(g, arch, "rope.scaling.attn_factor", 1.0);
    r->orig_ctx = (int)geti(g, arch, "rope.scaling.original_context_length", 1 << 30);
    r->n_ctx = 64;
    r->rope_freqs = getv(g, "rope_freqs.weight", 0);
    r->rope_long = getv(g, "rope_factors_long.weight", 0);
    r->rope_short = getv(g, "rope_factors_short.weight", 0);
    r->n_ff = (int)geti(g, arch, "feed_forward_length", 0);
    r->n_rot = (int)geti(g, arch, "rope.dimension_count", r->hd);
    r->base = getf(g, arch, "rope.freq_base", 10000.0);
    r->eps = getf(g, arch, "attention.layer_norm_rms_epsilon", 1e-5);
    r->embd = getm(g, "token_embd.weight", 0);
    r->n_vocab = (int)r->embd.rows;
    r->out = getm(g, "output.weight", 0);
    if (!r->out.w) {
        r->out = r->embd;
        r->out.w = malloc((size_t)(r->embd.rows * r->embd.cols) * sizeof(float));
        memcpy(r->out.w, r->embd.w, (size_t)(r->embd.rows * r->embd.cols) * sizeof(float));
    }
    r->out_norm = getv(g, "output_norm.weight", 0);
    r->L = calloc((size_t)r->n_layer, sizeof *r->L);
    for (int il = 0; il < r->n_layer; il++) {
        rlayer *L = &r->L[il];
        L->attn_norm = getv(g, "blk.%d.attn_norm.weight", il);
        L->ffn_norm = getv(g, "blk.%d.ffn_norm.weight", il);
        L->bq = getv(g, "blk.%d.attn_q.bias", il);
        L->bk = getv(g, "blk.%d.attn_k.bias", il);
        L->bv = getv(g, "blk.%d.attn_v.bias", il);
        L->q_norm = getv(g, "blk.%d.attn_q_norm.weight", il);
        L->k_norm = getv(g, "blk.%d.attn_k_norm.weight", il);
        L->post_attn = getv(g, "blk.%d.post_attention_norm.weight", il);
        L->post_ffn = getv(g, "blk.%d.post_ffw_norm.weight", il);
        L->qkv = getm(g, "blk.%d.attn_qkv.weight", il);
        if (!L->qkv.w) {
            L->wq = getm(g, "blk.%d.attn_q.weight", il);
            L->wk = getm(g, "blk.%d.attn_k.weight", il);
            L->wv = getm(g, "blk.%d.attn_v.weight", il);
        }
        L->wo = getm(g, "blk.%d.attn_output.weight", il);
        L->gate = getm(g, "blk.%d.ffn_gate.weight", il);
        if (L->gate.w) L->up = getm(g, "blk.%d.ffn_up.weight", il);
        else L->upgate = getm(g, "blk.%d.ffn_up.weight", il);
        L->down = getm(g, "blk.%d.ffn_down.weight", il);
    }
    hearth_gguf_free(g);
    return r;
}

void ref_free(ref_model *r) {
    if (!r) return;
    for (int il = 0; il < r->n_layer; il++) {
        rlayer *L = &r->L[il];
        float *fs[] = {L->attn_norm, L->ffn_norm, L->bq,     L->bk,        L->bv,
                       L->wq.w,      L->wk.w,    L->wv.w,  L->wo.w,      L->gate.w,
                       L->up.w,      L->down.w,  L->q_norm, L->k_norm,   L->post_attn,
                       L->post_ffn,  L->qkv.w,   L->upgate.w};
        for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) free(fs[i]);
    }
    free(r->L);
    free(r->embd.w);
    free(r->out.w);
    free(r->out_norm);
    free(r->rope_freqs);
    free(r->rope_long);
    free(r->rope_short);
    free(r);
}

int ref_n_vocab(const ref_model *r) { return r->n_vocab; }

void ref_set_n_ctx(ref_model *r, int n_ctx) { r->n_ctx = n_ctx; }

/* gemma3: layers il % 6 != 5 are local (sliding window, base 10000). */
static bool is_local(const ref_model *r, int il) { return r->gemma3 && il % 6 != 5; }

static void matvec(const rmat *m, const float *x, const float *bias, float *y) {
    for (int64_t i = 0; i < m->rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < m->cols; j++) s += (double)m->w[i * m->cols + j] * x[j];
        y[i] = (float)s + (bias ? bias[i] : 0.0f);
    }
}

static void rmsnorm(const float *x, const float *w, int n, double eps, float *y) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double s = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = (float)(x[i] * s) * w[i];
}

/* Rows [r0, r0 + n) of m times x. */
static void matvec_rows(const rmat *m, int64_t r0, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < m->cols; j++) s += (double)m->w[(r0 + i) * m->cols + j] * x[j];
        y[i] = (float)s;
    }
}

static void rope(const ref_model *r, float *v, int pos, bool local) {
    int half = r->n_rot / 2;
    double base = local ? 10000.0 : r->base;
    const float *div = r->rope_freqs;
    if (r->rope_long) div = r->n_ctx > r->orig_ctx ? r->rope_long : r->rope_short;
    for (int i = 0; i < half; i++) {
        double th = pos * pow(base, -2.0 * i / r->n_rot);
        if (div) th /= div[i];
        double c = cos(th) * r->mscale, s = sin(th) * r->mscale;
        int a = r->neox ? i : 2 * i, b = r->neox ? i + half : 2 * i + 1;
        double x0 = v[a], x1 = v[b];
        v[a] = (float)(x0 * c - x1 * s);
        v[b] = (float)(x0 * s + x1 * c);
    }
}

float *ref_forward(const ref_model *r, const int32_t *tokens, int n) {
    int d = r->n_embd, hd = r->hd, qd = r->n_head * hd, kvd = r->n_head_kv * hd;
    float *x = malloc((size_t)n * d * sizeof(float));
    float *h = malloc((size_t)d * sizeof(float));
    float *q = malloc((size_t)n * qd * sizeof(float));
    float *k = malloc((size_t)n * kvd * sizeof(float));
    float *v = malloc((size_t)n * kvd * sizeof(float));
    float *att = malloc((size_t)qd * sizeof(float));
    float *o = malloc((size_t)d * sizeof(float));
    float *g = malloc((size_t)r->n_ff * sizeof(float));
    float *u = malloc((size_t)r->n_ff * sizeof(float));
    float *fu = malloc((size_t)2 * r->n_ff * sizeof(float));
    double *sc = malloc((size_t)n * sizeof(double));
    float *logits = malloc((size_t)n * r->n_vocab * sizeof(float));
    for (int t = 0; t < n; t++)
        for (int i = 0; i < d; i++)
            x[t * d + i] = (float)(r->embd.w[(int64_t)tokens[t] * d + i] * r->embd_scale);
    for (int il = 0; il < r->n_layer; il++) {
        const rlayer *L = &r->L[il];
        bool local = is_local(r, il);
        for (int t = 0; t < n; t++) {
            rmsnorm(x + t * d, L->attn_norm, d, r->eps, h);
            if (L->qkv.w) {
                matvec_rows(&L->qkv, 0, qd, h, q + t * qd);
                matvec_rows(&L->qkv, qd, kvd, h, k + t * kvd);
                matvec_rows(&L->qkv, qd + kvd, kvd, h, v + t * kvd);
            } else {
                matvec(&L->wq, h, L->bq, q + t * qd);
                matvec(&L->wk, h, L->bk, k + t * kvd);
                matvec(&L->wv, h, L->bv, v + t * kvd);
            }
            for (int hh = 0; hh < r->n_head; hh++) {
                float *qh = q + t * qd + hh * hd;
                if (L->q_norm) rmsnorm(qh, L->q_norm, hd, r->eps, qh);
                rope(r, qh, t, local);
            }
            for (int hh = 0; hh < r->n_head_kv; hh++) {
                float *kh = k + t * kvd + hh * hd;
                if (L->k_norm) rmsnorm(kh, L->k_norm, hd, r->eps, kh);
                rope(r, kh, t, local);
            }
        }
        for (int t = 0; t < n; t++) {
            for (int hh = 0; hh < r->n_head; hh++) {
                int kh = hh / (r->n_head / r->n_head_kv);
                const float *qh = q + t * qd + hh * hd;
                double mx = -INFINITY, sum = 0;
                int j0 = local && t >= r->n_swa ? t - r->n_swa + 1 : 0;
                for (int j = j0; j <= t; j++) {
                    double s = 0;
                    for (int i = 0; i < hd; i++) s += (double)qh[i] * k[j * kvd + kh * hd + i];
                    sc[j] = s / sqrt((double)hd);
                    if (sc[j] > mx) mx = sc[j];
                }
                for (int j = j0; j <= t; j++) sum += (sc[j] = exp(sc[j] - mx));
                for (int i = 0; i < hd; i++) {
                    double acc = 0;
                    for (int j = j0; j <= t; j++) acc += sc[j] / sum * v[j * kvd + kh * hd + i];
                    att[hh * hd + i] = (float)acc;
                }
            }
            matvec(&L->wo, att, NULL, o);
            if (L->post_attn) rmsnorm(o, L->post_attn, d, r->eps, o);
            for (int i = 0; i < d; i++) x[t * d + i] += o[i];
            rmsnorm(x + t * d, L->ffn_norm, d, r->eps, h);
            if (L->upgate.w) {
                matvec(&L->upgate, h, NULL, fu);
                memcpy(g, fu, (size_t)r->n_ff * sizeof(float));
                memcpy(u, fu + r->n_ff, (size_t)r->n_ff * sizeof(float));
            } else {
                matvec(&L->gate, h, NULL, g);
                matvec(&L->up, h, NULL, u);
            }
            for (int i = 0; i < r->n_ff; i++) {
                double a = g[i];
                double act = r->gelu ? 0.5 * a * (1.0 + tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)))
                                     : a / (1.0 + exp(-a));
                g[i] = (float)act * u[i];
            }
            matvec(&L->down, g, NULL, o);
            if (L->post_ffn) rmsnorm(o, L->post_ffn, d, r->eps, o);
            for (int i = 0; i < d; i++) x[t * d + i] += o[i];
        }
    }
    for (int t = 0; t < n; t++) {
        rmsnorm(x + t * d, r->out_norm, d, r->eps, h);
        float *l = logits + (int64_t)t * r->n_vocab;
        matvec(&r->out, h, NULL, l);
        if (r->softcap > 0)
            for (int i = 0; i < r->n_vocab; i++) l[i] = (float)(r->softcap * tanh(l[i] / r->softcap));
    }
    free(x); free(h); free(q); free(k); free(v); free(att); free(o); free(g); free(u); free(sc);
    free(fu);
    return logits;
}
