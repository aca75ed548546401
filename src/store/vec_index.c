/*
 * vec_index.c: the in-memory embedding sets and the brute-force cosine top-k
 * over them (see vec_index.h).
 */
#include "store/vec_index.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vec_index_init(vec_index *x) { memset(x, 0, sizeof *x); }

static void set_free(vec_set *v) {
    hearth_free(v->model);
    free(v->vecs); /* aligned_alloc'd: plain free */
    hearth_free(v->ids);
    hearth_free(v->owner_ids);
    hearth_free(v->group_ids);
    hearth_free(v->kinds);
}

void vec_index_clear(vec_index *x) {
    for (size_t i = 0; i < x->n_sets; i++) set_free(&x->sets[i]);
    hearth_free(x->sets);
    hearth_free(x->kinds);
    for (size_t i = 0; i < x->n_loaded; i++) hearth_free(x->loaded[i]);
    hearth_free(x->loaded);
    vec_index_init(x);
}

bool vec_index_is_loaded(const vec_index *x, const char *model) {
    for (size_t i = 0; i < x->n_loaded; i++)
        if (!strcmp(x->loaded[i], model)) return true;
    return false;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap * 2 : 8;
    if (c < need) c = need;
    if (c > SIZE_MAX / elem) return false;
    void *q = hearth_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

hearth_status vec_index_mark_loaded(vec_index *x, const char *model, hearth_error *err) {
    if (vec_index_is_loaded(x, model)) return HEARTH_OK;
    char *m = hearth_strdup(model);
    if (!m || !grow((void **)&x->loaded, &x->cap_loaded, x->n_loaded + 1, sizeof *x->loaded)) {
        hearth_free(m);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding index: out of memory");
    }
    x->loaded[x->n_loaded++] = m;
    return HEARTH_OK;
}

static vec_set *find_set(const vec_index *x, const char *model, int32_t dim) {
    for (size_t i = 0; i < x->n_sets; i++)
        if (x->sets[i].dim == dim && !strcmp(x->sets[i].model, model)) return &x->sets[i];
    return NULL;
}

static int kind_index(vec_index *x, const char *kind) {
    for (size_t i = 0; i < x->n_kinds; i++)
        if (!strcmp(x->kinds[i], kind)) return (int)i;
    if (x->n_kinds >= UINT16_MAX ||
        !grow((void **)&x->kinds, &x->cap_kinds, x->n_kinds + 1, sizeof *x->kinds))
        return -1;
    memset(x->kinds[x->n_kinds], 0, sizeof x->kinds[0]);
    snprintf(x->kinds[x->n_kinds], sizeof x->kinds[0], "%s", kind);
    return (int)x->n_kinds++;
}

/* Grows a set's arrays to hold need rows; the vector matrix is re-made
 * 64-byte aligned (realloc keeps no alignment promise). */
static bool set_reserve(vec_set *v, size_t need) {
    if (need <= v->cap) return true;
    size_t c = v->cap ? v->cap * 2 : 64;
    if (c < need) c = need;
    size_t row = (size_t)v->dim * sizeof(float);
    if (c > SIZE_MAX / row - 1) return false;
    size_t bytes = (c * row + 63) & ~(size_t)63;
    float *nv = aligned_alloc(64, bytes);
    if (!nv) return false;
    if (v->n) memcpy(nv, v->vecs, v->n * row);
    size_t cap_ids = v->cap, cap_o = v->cap, cap_g = v->cap, cap_k = v->cap;
    if (!grow((void **)&v->ids, &cap_ids, c, sizeof *v->ids) ||
        !grow((void **)&v->owner_ids, &cap_o, c, sizeof *v->owner_ids) ||
        !grow((void **)&v->group_ids, &cap_g, c, sizeof *v->group_ids) ||
        !grow((void **)&v->kinds, &cap_k, c, sizeof *v->kinds)) {
        /* the arrays that did grow are merely larger than cap: harmless */
        free(nv);
        return false;
    }
    free(v->vecs);
    v->vecs = nv;
    v->cap = c;
    return true;
}

static bool set_find_row(const vec_set *v, int64_t id, size_t *row) {
    for (size_t r = 0; r < v->n; r++)
        if (v->ids[r] == id) {
            *row = r;
            return true;
        }
    return false;
}

static void set_remove_row(vec_set *v, size_t r) {
    size_t last = v->n - 1;
    if (r != last) {
        memcpy(v->vecs + r * (size_t)v->dim, v->vecs + last * (size_t)v->dim,
               (size_t)v->dim * sizeof(float));
        v->ids[r] = v->ids[last];
        v->owner_ids[r] = v->owner_ids[last];
        v->group_ids[r] = v->group_ids[last];
        v->kinds[r] = v->kinds[last];
    }
    v->n = last;
}

void vec_index_remove(vec_index *x, int64_t id) {
    for (size_t i = 0; i < x->n_sets; i++) {
        size_t r;
        if (set_find_row(&x->sets[i], id, &r)) {
            set_remove_row(&x->sets[i], r);
            return;
        }
    }
}

/* dst = src / |src| (zero stays zero). The norm is summed in double so that
 * long vectors of large values neither overflow nor lose precision. */
static void normalize(float *dst, const float *src, int32_t dim) {
    double ss = 0.0;
    for (int32_t i = 0; i < dim; i++) ss += (double)src[i] * src[i];
    double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
    for (int32_t i = 0; i < dim; i++) dst[i] = (float)(src[i] * inv);
}

hearth_status vec_index_upsert(vec_index *x, int64_t id, const char *kind, int64_t owner_id,
                               int64_t group_id, const char *model, const float *vec,
                               int32_t dim, hearth_error *err) {
    vec_index_remove(x, id);
    vec_set *v = find_set(x, model, dim);
    if (!v) {
        if (!grow((void **)&x->sets, &x->cap_sets, x->n_sets + 1, sizeof *x->sets))
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding index: out of memory");
        v = &x->sets[x->n_sets];
        memset(v, 0, sizeof *v);
        v->model = hearth_strdup(model);
        if (!v->model) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding index: out of memory");
        v->dim = dim;
        x->n_sets++;
    }
    int k = kind_index(x, kind);
    if (k < 0 || !set_reserve(v, v->n + 1))
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding index: out of memory (%zu rows of %d)",
                           v->n + 1, (int)dim);
    size_t r = v->n++;
    normalize(v->vecs + r * (size_t)dim, vec, dim);
    v->ids[r] = id;
    v->owner_ids[r] = owner_id;
    v->group_ids[r] = group_id;
    v->kinds[r] = (uint16_t)k;
    return HEARTH_OK;
}

/* The selection keeps the k best hits seen so far in a heap whose root is
 * the worst of them. */
static bool worse(const hearth_embedding_hit *a, const hearth_embedding_hit *b) {
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

static void sift_down(hearth_embedding_hit *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m])) m = l;
        if (r < n && worse(&h[r], &h[m])) m = r;
        if (m == i) return;
        hearth_embedding_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sift_up(hearth_embedding_hit *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h[i], &h[p])) return;
        hearth_embedding_hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_best_first(const void *pa, const void *pb) {
    const hearth_embedding_hit *a = pa, *b = pb;
    if (worse(b, a)) return -1;
    if (worse(a, b)) return 1;
    return 0;
}

hearth_status vec_index_search(const vec_index *x, const char *model, const char *kind,
                               int64_t group_id, const float *q, int32_t dim, size_t k,
                               hearth_embedding_hit *out, size_t *n_out, hearth_error *err) {
    *n_out = 0;
    const vec_set *v = find_set(x, model, dim);
    if (!v || !v->n || !k) return HEARTH_OK;
    int want_kind = -1;
    if (kind) {
        for (size_t i = 0; i < x->n_kinds; i++)
            if (!strcmp(x->kinds[i], kind)) want_kind = (int)i;
        if (want_kind < 0) return HEARTH_OK;
    }
    float *qn = hearth_malloc((size_t)dim * sizeof(float));
    if (!qn) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "embedding search: out of memory");
    normalize(qn, q, dim);

    vec_dot_rows_fn dot = vec_dot_rows_get();
    enum { CHUNK = 512 };
    float scores[CHUNK]; /* (CHUNK) dot products of one chunk of rows */
    size_t nh = 0;
    for (size_t r0 = 0; r0 < v->n; r0 += CHUNK) {
        size_t m = v->n - r0 < CHUNK ? v->n - r0 : CHUNK;
        dot(qn, v->vecs + r0 * (size_t)dim, dim, m, scores);
        for (size_t j = 0; j < m; j++) {
            size_t r = r0 + j;
            if (want_kind >= 0 && v->kinds[r] != want_kind) continue;
            if (group_id && v->group_ids[r] != group_id) continue;
            hearth_embedding_hit h = {.id = v->ids[r], .owner_id = v->owner_ids[r],
                                      .group_id = v->group_ids[r], .score = scores[j]};
            if (nh < k) {
                memcpy(h.owner_kind, x->kinds[v->kinds[r]], sizeof h.owner_kind);
                out[nh] = h;
                sift_up(out, nh++);
            } else if (worse(&out[0], &h)) {
                memcpy(h.owner_kind, x->kinds[v->kinds[r]], sizeof h.owner_kind);
                out[0] = h;
                sift_down(out, nh, 0);
            }
        }
    }
    hearth_free(qn);
    qsort(out, nh, sizeof *out, cmp_best_first);
    for (size_t i = 0; i < nh; i++) {
        /* rounding can carry a normalized dot product just past +-1 */
        if (out[i].score > 1.0f) out[i].score = 1.0f;
        if (out[i].score < -1.0f) out[i].score = -1.0f;
    }
    *n_out = nh;
    return HEARTH_OK;
}
