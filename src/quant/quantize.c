/*
 * quantize.c: a GGUF model rewritten in another type or llama.cpp mix.
 *
 * Every metadata entry is copied except general.file_type and
 * general.quantization_version (set anew) and earlier hearth.quantize.*
 * figures (they described another file). Each 2D weight the mix rules know
 * (mix.c), and any other 2D "*.weight", gets the rules' type; 1D tensors
 * and tensors already in their target type are copied unchanged. A tensor
 * is converted row by row: dequantize (the type's to_float), then quantize
 * with the target's importance-weighted quantizer (kernels/quants.h: imp
 * NULL is the reference quantizer), rows shared among n_threads threads
 * through an atomic counter; each row's bytes depend only on the row, so
 * the output never depends on the thread count.
 */
#include "quant/quantize.h"

#include "kernels/quants.h"
#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef void (*quant_imp_fn)(const float *src, void *dst, int64_t n, const float *imp);

static quant_imp_fn imp_fn(hearth_type t) {
    switch (t) {
    case HEARTH_TYPE_Q4_0: return hearth_q4_0_quantize_imp;
    case HEARTH_TYPE_Q4_1: return hearth_q4_1_quantize_imp;
    case HEARTH_TYPE_Q5_0: return hearth_q5_0_quantize_imp;
    case HEARTH_TYPE_Q5_1: return hearth_q5_1_quantize_imp;
    case HEARTH_TYPE_Q2_K: return hearth_q2_K_quantize_imp;
    case HEARTH_TYPE_Q3_K: return hearth_q3_K_quantize_imp;
    case HEARTH_TYPE_Q4_K: return hearth_q4_K_quantize_imp;
    case HEARTH_TYPE_Q5_K: return hearth_q5_K_quantize_imp;
    case HEARTH_TYPE_Q6_K: return hearth_q6_K_quantize_imp;
    default: return NULL;
    }
}

/* A writable tensor type: one the engine runs that has a reference
 * quantizer (not Q8_1/Q8_K, the activation formats). */
static bool writable(hearth_type t) {
    const hearth_type_traits *tr = hearth_type_traits_get(t);
    return tr && tr->supported && tr->from_float_ref && t != HEARTH_TYPE_Q8_1 && t != HEARTH_TYPE_Q8_K;
}

hearth_status hearth_quant_rows(hearth_type type, const float *src, void *dst, int64_t nrows,
                                int64_t ne0, const float *imp, hearth_error *err) {
    const hearth_type_traits *tr = hearth_type_traits_get(type);
    size_t rs = hearth_type_row_size(type, ne0);
    if (!writable(type) || !rs)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "cannot write rows of %lld as %s", (long long)ne0,
                           tr && tr->name ? tr->name : "?");
    quant_imp_fn f = imp ? imp_fn(type) : NULL;
    for (int64_t r = 0; r < nrows; r++) {
        if (f) f(src + r * ne0, (uint8_t *)dst + (size_t)r * rs, ne0, imp);
        else tr->from_float_ref(src + r * ne0, (uint8_t *)dst + (size_t)r * rs, ne0);
    }
    return HEARTH_OK;
}

hearth_quant_params hearth_quant_default_params(void) {
    hearth_quant_params p = {.n_threads = 1};
    return p;
}

hearth_status hearth_quant_copy_kv(const hearth_gguf *src, int64_t i, hearth_gguf_writer *w,
                                   hearth_error *err) {
    const char *key = hearth_gguf_kv_key(src, i);
    hearth_gguf_value val;
    hearth_status st = hearth_gguf_kv_value(src, i, &val);
    if (st) return HEARTH_FAIL(err, st, "key '%s': no value", key);
    if (val.type == HEARTH_GGUF_STRING) {
        if (memchr(val.data, 0, (size_t)val.n))
            return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "key '%s': string holds a NUL byte", key);
        char *s = hearth_strndup(val.data, (size_t)val.n);
        if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "key '%s': out of memory", key);
        st = hearth_gguf_writer_set_str(w, key, s, err);
        hearth_free(s);
        return st;
    }
    if (val.type != HEARTH_GGUF_ARRAY) return hearth_gguf_writer_set_scalar(w, key, val.type, val.data, err);
    if (val.elem_type == HEARTH_GGUF_ARRAY)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "key '%s': array of arrays", key);
    if (val.elem_type != HEARTH_GGUF_STRING)
        return hearth_gguf_writer_set_arr(w, key, val.elem_type, val.data, val.n, err);
    const char **strs = hearth_calloc(val.n ? val.n : 1, sizeof *strs);
    size_t *lens = hearth_calloc(val.n ? val.n : 1, sizeof *lens);
    if (!strs || !lens) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "key '%s': %llu strings", key, (unsigned long long)val.n);
    } else {
        for (uint64_t j = 0; j < val.n; j++) strs[j] = hearth_gguf_arr_str(src, i, j, &lens[j]);
        st = hearth_gguf_writer_set_arr_str(w, key, strs, lens, val.n, err);
    }
    hearth_free(strs);
    hearth_free(lens);
    return st;
}

/* ---- the job ------------------------------------------------------------------- */

typedef struct {
    const hearth_gguf_tensor *src;
    hearth_type type;
    void *data; /* owned when converted; else NULL (written from src) */
    size_t nbytes;
    bool weighted;
} qtensor;

struct hearth_quant_job {
    hearth_gguf *g;
    hearth_gguf_writer *w;
    qtensor *t;
    int64_t n_t;
    int64_t n_quantized, n_weighted;
    uint64_t bytes_in, bytes_out;
};

typedef struct {
    const hearth_gguf_tensor *src;
    const hearth_type_traits *from;
    hearth_type to;
    void *dst;
    size_t src_row, dst_row;
    int64_t ne0, nrows, chunk;
    const float *imp;
    atomic_llong next;
    atomic_int failed;
} rows_job;

static void *rows_worker(void *arg) {
    rows_job *j = arg;
    float *row = hearth_malloc((size_t)j->ne0 * sizeof *row); /* (ne0) */
    if (!row) {
        atomic_store(&j->failed, 1);
        return NULL;
    }
    quant_imp_fn f = j->imp ? imp_fn(j->to) : NULL;
    const hearth_type_traits *to = hearth_type_traits_get(j->to);
    for (;;) {
        int64_t r0 = atomic_fetch_add(&j->next, j->chunk);
        if (r0 >= j->nrows) break;
        int64_t r1 = r0 + j->chunk < j->nrows ? r0 + j->chunk : j->nrows;
        for (int64_t r = r0; r < r1; r++) {
            j->from->to_float((const uint8_t *)j->src->data + (size_t)r * j->src_row, row, j->ne0);
            uint8_t *d = (uint8_t *)j->dst + (size_t)r * j->dst_row;
            if (f) f(row, d, j->ne0, j->imp);
            else to->from_float_ref(row, d, j->ne0);
        }
    }
    hearth_free(row);
    return NULL;
}

static hearth_status convert(const hearth_gguf_tensor *t, hearth_type to, const float *imp,
                             int n_threads, void *dst, hearth_error *err) {
    rows_job j = {.src = t, .from = hearth_type_traits_get(t->type), .to = to, .dst = dst,
                  .ne0 = t->ne[0], .imp = imp};
    j.nrows = t->ne[1] * t->ne[2] * t->ne[3];
    j.src_row = hearth_type_row_size(t->type, j.ne0);
    j.dst_row = hearth_type_row_size(to, j.ne0);
    j.chunk = 16384 / j.ne0 > 0 ? 16384 / j.ne0 : 1;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    int64_t n_chunks = (j.nrows + j.chunk - 1) / j.chunk;
    int nt = n_threads > 1 ? n_threads : 1;
    if (nt > n_chunks) nt = (int)(n_chunks > 0 ? n_chunks : 1);
    if (nt > 256) nt = 256;
    pthread_t tids[256];
    int started = 0;
    for (int i = 1; i < nt; i++) {
        if (pthread_create(&tids[started], NULL, rows_worker, &j)) break; /* fewer is fine */
        started++;
    }
    rows_worker(&j);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    if (atomic_load(&j.failed) && atomic_load(&j.next) < j.nrows)
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor '%s': row buffer", t->name);
    return HEARTH_OK;
}

static bool is_input_type(hearth_type t) {
    return t == HEARTH_TYPE_F32 || t == HEARTH_TYPE_F16 || t == HEARTH_TYPE_BF16 || t == HEARTH_TYPE_Q8_0;
}

static bool ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* "{arch}.key" as an integer, or def. */
static int64_t arch_int(const hearth_gguf *g, const char *arch, const char *key, int64_t def) {
    char k[160];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    int64_t v;
    return hearth_gguf_get_int(g, k, &v, NULL) ? def : v;
}

hearth_status hearth_quant_job_run(const char *in_path, const hearth_quant_params *p,
                                   hearth_quant_job **out, hearth_error *err) {
    *out = NULL;
    if (!p || !p->mix) return HEARTH_FAIL(err, HEARTH_E_ARG, "quantize: no type given");
    hearth_quant_job *j = hearth_calloc(1, sizeof *j);
    if (!j) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "quantize: out of memory");
    hearth_status st = hearth_gguf_open(in_path, &j->g, err);
    if (st) goto fail;
    if (!(j->w = hearth_gguf_writer_new())) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "quantize: out of memory");
        goto fail;
    }
    hearth_gguf *g = j->g;
    const char *arch = "llama";
    (void)hearth_gguf_get_str(g, "general.architecture", &arch, NULL, NULL);
    bool has_output = hearth_gguf_find_tensor(g, "output.weight") != NULL;
    hearth_qrules rules = hearth_qrules_default(p->mix, arch_int(g, arch, "block_count", 1));
    int64_t nh = arch_int(g, arch, "attention.head_count", 1);
    int64_t nkv = arch_int(g, arch, "attention.head_count_kv", nh);
    rules.n_gqa = nkv > 0 ? nh / nkv : 1;
    rules.tied = !has_output;
    rules.pure = p->pure;

    /* metadata */
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        if (!strcmp(key, "general.file_type") || !strcmp(key, "general.quantization_version") ||
            !strncmp(key, "hearth.quantize.", 16))
            continue;
        if ((st = hearth_quant_copy_kv(g, i, j->w, err))) goto fail;
    }
    if ((st = hearth_gguf_writer_set_u32(j->w, "general.file_type", p->mix->ftype, err)) ||
        (st = hearth_gguf_writer_set_u32(j->w, "general.quantization_version", HEARTH_QUANT_VERSION,
                                         err)) ||
        (st = hearth_gguf_writer_set_str(j->w, "hearth.quantize.imatrix",
                                         p->imatrix ? (p->imatrix->dataset ? p->imatrix->dataset : "(unnamed)")
                                                    : "none",
                                         err)))
        goto fail;

    j->n_t = hearth_gguf_n_tensors(g);
    if (!(j->t = hearth_calloc((size_t)(j->n_t ? j->n_t : 1), sizeof *j->t))) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "quantize: out of memory");
        goto fail;
    }
    float *imp = NULL;
    for (int64_t i = 0; i < j->n_t; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        qtensor *q = &j->t[i];
        q->src = t;
        q->type = t->type;
        q->nbytes = t->nbytes;
        j->bytes_in += t->nbytes;
        int64_t il;
        hearth_qclass c = hearth_qclass_of(t->name, &il);
        bool matrix = t->n_dims >= 2 && (c != HEARTH_QCLASS_COUNT || ends_with(t->name, ".weight"));
        if (matrix) {
            if (c == HEARTH_QCLASS_COUNT) {
                /* a 2D weight the rules do not name: the base type */
                q->type = hearth_qtype_fallback(p->mix->base, t->ne[0]);
            } else {
                q->type = hearth_qrules_pick(&rules, c, il, t->ne[0], NULL);
            }
        }
        if (q->type != t->type) {
            if (!is_input_type(t->type)) {
                st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                                 "tensor '%s' is %s: quantize reads F32, F16, BF16 or Q8_0 weights",
                                 t->name, hearth_type_name(t->type));
                goto fail_imp;
            }
            if (!writable(q->type)) {
                st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "tensor '%s': cannot write %s", t->name,
                                 hearth_type_name(q->type));
                goto fail_imp;
            }
            const float *w = NULL;
            if (p->imatrix && imp_fn(q->type)) {
                const hearth_imatrix_entry *e = hearth_imatrix_find(p->imatrix, t->name);
                if (e) {
                    if (e->n != t->ne[0]) {
                        st = HEARTH_FAIL(err, HEARTH_E_ARG,
                                         "imatrix entry '%s' has %lld values, the tensor's rows %lld",
                                         t->name, (long long)e->n, (long long)t->ne[0]);
                        goto fail_imp;
                    }
                    float *ni = hearth_realloc(imp, (size_t)e->n * sizeof *imp);
                    if (!ni) {
                        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "quantize: out of memory");
                        goto fail_imp;
                    }
                    imp = ni;
                    hearth_imatrix_mean(e, imp);
                    w = imp;
                }
            }
            int64_t nrows = t->ne[1] * t->ne[2] * t->ne[3];
            q->nbytes = hearth_type_row_size(q->type, t->ne[0]) * (size_t)nrows;
            if (!(q->data = hearth_malloc(q->nbytes ? q->nbytes : 1))) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor '%s': %zu bytes", t->name, q->nbytes);
                goto fail_imp;
            }
            if ((st = convert(t, q->type, w, p->n_threads, q->data, err))) goto fail_imp;
            q->weighted = w != NULL;
            j->n_quantized++;
            j->n_weighted += q->weighted;
        }
        j->bytes_out += q->nbytes;
        if ((st = hearth_gguf_writer_add_tensor(j->w, t->name, q->type, t->n_dims, t->ne,
                                                q->data ? q->data : t->data, q->nbytes, err)))
            goto fail_imp;
        if (p->progress) p->progress(p->progress_ud, i, j->n_t, t->name, t->type, q->type, q->weighted);
    }
    hearth_free(imp);
    *out = j;
    return HEARTH_OK;
fail_imp:
    hearth_free(imp);
fail:
    hearth_quant_job_free(j);
    return st;
}

hearth_gguf_writer *hearth_quant_job_writer(hearth_quant_job *j) { return j->w; }

hearth_status hearth_quant_job_write(const hearth_quant_job *j, const char *path, hearth_error *err) {
    return hearth_gguf_writer_write_file(j->w, path, err);
}

void hearth_quant_job_stats(const hearth_quant_job *j, int64_t *n_quantized, int64_t *n_weighted,
                            uint64_t *bytes_in, uint64_t *bytes_out) {
    if (n_quantized) *n_quantized = j->n_quantized;
    if (n_weighted) *n_weighted = j->n_weighted;
    if (bytes_in) *bytes_in = j->bytes_in;
    if (bytes_out) *bytes_out = j->bytes_out;
}

int hearth_quant_job_tensor_type(const hearth_quant_job *j, const char *name) {
    for (int64_t i = 0; i < j->n_t; i++)
        if (!strcmp(j->t[i].src->name, name)) return (int)j->t[i].type;
    return -1;
}

void hearth_quant_job_free(hearth_quant_job *j) {
    if (!j) return;
    for (int64_t i = 0; i < j->n_t; i++) hearth_free(j->t[i].data);
    hearth_free(j->t);
    hearth_gguf_writer_free(j->w);
    hearth_gguf_free(j->g);
    hearth_free(j);
}
