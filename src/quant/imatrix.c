/*
 * imatrix.c: importance matrices in memory and in llama.cpp's two file
 * formats (see imatrix.h for both layouts). The legacy reader goes through
 * the bounds-checked cursor (util/cursor.h); the GGUF one through the GGUF
 * reader, which validates the container, and then checks each tensor's
 * type, shape and values itself.
 */
#include "quant/imatrix.h"

#include "util/alloc.h"
#include "util/cursor.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hearth_status hearth_imatrix_new(int32_t chunk_size, hearth_imatrix **out, hearth_error *err) {
    *out = NULL;
    if (chunk_size < 1) return HEARTH_FAIL(err, HEARTH_E_ARG, "imatrix: chunk size %d", chunk_size);
    hearth_imatrix *im = hearth_calloc(1, sizeof *im);
    if (!im) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    im->chunk_size = chunk_size;
    *out = im;
    return HEARTH_OK;
}

void hearth_imatrix_free(hearth_imatrix *im) {
    if (!im) return;
    for (int64_t i = 0; i < im->n_entries; i++) {
        hearth_free(im->e[i].name);
        hearth_free(im->e[i].sum2);
    }
    hearth_free(im->e);
    hearth_free(im->dataset);
    hearth_free(im);
}

hearth_status hearth_imatrix_set_dataset(hearth_imatrix *im, const char *name, hearth_error *err) {
    char *d = hearth_strdup(name);
    if (!d) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    hearth_free(im->dataset);
    im->dataset = d;
    return HEARTH_OK;
}

const hearth_imatrix_entry *hearth_imatrix_find(const hearth_imatrix *im, const char *name) {
    for (int64_t i = 0; i < im->n_entries; i++)
        if (!strcmp(im->e[i].name, name)) return &im->e[i];
    return NULL;
}

/* Entry `name` of n values, created (zeroed) if absent. */
static hearth_status entry(hearth_imatrix *im, const char *name, size_t name_len, int64_t n,
                           hearth_imatrix_entry **out, hearth_error *err) {
    for (int64_t i = 0; i < im->n_entries; i++) {
        hearth_imatrix_entry *e = &im->e[i];
        if (strlen(e->name) == name_len && !memcmp(e->name, name, name_len)) {
            if (e->n != n)
                return HEARTH_FAIL(err, HEARTH_E_ARG, "imatrix entry '%s': %lld values, not %lld",
                                   e->name, (long long)e->n, (long long)n);
            *out = e;
            return HEARTH_OK;
        }
    }
    if (im->n_entries == im->cap) {
        int64_t cap = im->cap ? 2 * im->cap : 64;
        hearth_imatrix_entry *ne = hearth_realloc(im->e, (size_t)cap * sizeof *ne);
        if (!ne) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
        im->e = ne;
        im->cap = cap;
    }
    hearth_imatrix_entry *e = &im->e[im->n_entries];
    memset(e, 0, sizeof *e);
    e->name = hearth_strndup(name, name_len);
    e->sum2 = hearth_calloc((size_t)(n > 0 ? n : 1), sizeof *e->sum2);
    if (!e->name || !e->sum2) {
        hearth_free(e->name);
        hearth_free(e->sum2);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    }
    e->n = n;
    im->n_entries++;
    *out = e;
    return HEARTH_OK;
}

hearth_status hearth_imatrix_add(hearth_imatrix *im, const char *name, const float *x,
                                 int64_t nrows, int64_t n, hearth_error *err) {
    hearth_imatrix_entry *e;
    hearth_status st = entry(im, name, strlen(name), n, &e, err);
    if (st) return st;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t i = 0; i < n; i++) e->sum2[i] += (double)x[r * n + i] * x[r * n + i];
    e->count += nrows;
    return HEARTH_OK;
}

void hearth_imatrix_mean(const hearth_imatrix_entry *e, float *out) {
    for (int64_t i = 0; i < e->n; i++)
        out[i] = e->count > 0 ? (float)(e->sum2[i] / (double)e->count) : 1.f;
}

/* ---- legacy .dat ---------------------------------------------------------------- */

static int by_name(const void *a, const void *b) {
    const hearth_imatrix_entry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

typedef struct {
    uint8_t *p;
    size_t n, cap;
    bool failed;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *np = hearth_realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_i32(buf *b, int32_t v) { put(b, &v, 4); }

hearth_status hearth_imatrix_write_dat(const hearth_imatrix *im, void **out, size_t *len,
                                       hearth_error *err) {
    *out = NULL;
    *len = 0;
    const hearth_imatrix_entry **sorted = hearth_calloc((size_t)im->n_entries + 1, sizeof *sorted);
    if (!sorted) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    int32_t n = 0;
    for (int64_t i = 0; i < im->n_entries; i++)
        if (im->e[i].count > 0 && im->e[i].n > 0) sorted[n++] = &im->e[i];
    qsort(sorted, (size_t)n, sizeof *sorted, by_name);
    buf b = {0};
    put_i32(&b, n);
    for (int32_t k = 0; k < n; k++) {
        const hearth_imatrix_entry *e = sorted[k];
        put_i32(&b, (int32_t)strlen(e->name));
        put(&b, e->name, strlen(e->name));
        /* ceiling division, as llama.cpp: no entry gets ncall 0 */
        int32_t ncall = (int32_t)((e->count + im->chunk_size - 1) / im->chunk_size);
        put_i32(&b, ncall);
        put_i32(&b, (int32_t)e->n);
        for (int64_t i = 0; i < e->n; i++) {
            float v = (float)(e->sum2[i] / (double)e->count * (double)ncall);
            put(&b, &v, 4);
        }
    }
    put_i32(&b, im->n_chunks);
    const char *ds = im->dataset ? im->dataset : "";
    put_i32(&b, (int32_t)strlen(ds));
    put(&b, ds, strlen(ds));
    hearth_free(sorted);
    if (b.failed) {
        hearth_free(b.p);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    }
    *out = b.p;
    *len = b.n;
    return HEARTH_OK;
}

hearth_status hearth_imatrix_parse_dat(const void *data, size_t len, int32_t chunk_size,
                                       hearth_imatrix **out, hearth_error *err) {
    *out = NULL;
    hearth_imatrix *im;
    hearth_status st = hearth_imatrix_new(chunk_size, &im, err);
    if (st) return st;
    rd r = rd_init(data, len);
    int32_t n_entries;
    if (!rd_i32(&r, &n_entries)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: file too short for the entry count");
        goto fail;
    }
    if (n_entries < 1 || n_entries > HEARTH_IMATRIX_MAX_ENTRIES) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: %d entries (1..%d)", n_entries,
                         HEARTH_IMATRIX_MAX_ENTRIES);
        goto fail;
    }
    for (int32_t k = 0; k < n_entries; k++) {
        int32_t name_len, ncall, nval;
        const uint8_t *name;
        size_t at = rd_offset(&r);
        if (!rd_i32(&r, &name_len) || name_len < 1 || name_len > HEARTH_IMATRIX_MAX_NAME ||
            !rd_take(&r, (size_t)name_len, &name)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix entry %d: bad name (at offset %zu)", k, at);
            goto fail;
        }
        if (memchr(name, 0, (size_t)name_len)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix entry %d: name holds a NUL byte", k);
            goto fail;
        }
        at = rd_offset(&r);
        if (!rd_i32(&r, &ncall) || !rd_i32(&r, &nval) || ncall < 0 || nval < 1 ||
            nval > HEARTH_IMATRIX_MAX_VALUES || (size_t)nval * 4 > r.left) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "imatrix entry %d '%.*s': bad ncall/nval or truncated values (at offset %zu)",
                             k, name_len > 64 ? 64 : name_len, (const char *)name, at);
            goto fail;
        }
        hearth_imatrix_entry *e;
        if ((st = entry(im, (const char *)name, (size_t)name_len, nval, &e, err))) goto fail;
        /* stored: mean * ncall; back to sums over ncall * chunk_size rows */
        int64_t rows = (int64_t)(ncall > 0 ? ncall : 1) * chunk_size;
        for (int32_t i = 0; i < nval; i++) {
            float v = 0.f;
            if (!rd_f32(&r, &v) || !isfinite(v) || v < 0.f) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix entry '%s': value %d is %g",
                                 e->name, i, (double)v);
                goto fail;
            }
            double mean = ncall > 0 ? (double)v / ncall : (double)v;
            e->sum2[i] += mean * (double)rows;
        }
        e->count += rows;
    }
    /* trailer (optional in old files): chunk count, dataset name */
    int32_t chunks, ds_len;
    if (rd_i32(&r, &chunks)) {
        im->n_chunks = chunks > 0 ? chunks : 0;
        const uint8_t *ds;
        if (rd_i32(&r, &ds_len) && ds_len > 0 && ds_len <= 4096 && rd_take(&r, (size_t)ds_len, &ds) &&
            !memchr(ds, 0, (size_t)ds_len)) {
            im->dataset = hearth_strndup((const char *)ds, (size_t)ds_len);
            if (!im->dataset) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
                goto fail;
            }
        }
    }
    *out = im;
    return HEARTH_OK;
fail:
    hearth_imatrix_free(im);
    return st;
}

/* ---- GGUF ------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

hearth_status hearth_imatrix_write_gguf(const hearth_imatrix *im, const char *path,
                                        hearth_error *err) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    if (!w) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    hearth_status st;
    const char *ds = im->dataset ? im->dataset : "";
    size_t n_sum = 0;
    for (int64_t i = 0; i < im->n_entries; i++) n_sum += (size_t)im->e[i].n;
    float *vals = hearth_malloc((n_sum + 1) * sizeof *vals);
    float *counts = hearth_malloc(((size_t)im->n_entries + 1) * sizeof *counts);
    char *names = hearth_malloc((size_t)(im->n_entries + 1) * 2 * (HEARTH_IMATRIX_MAX_NAME + 16));
    const hearth_imatrix_entry **sorted = hearth_calloc((size_t)im->n_entries + 1, sizeof *sorted);
    if (!vals || !counts || !names || !sorted) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
        goto out;
    }
    for (int64_t i = 0; i < im->n_entries; i++) sorted[i] = &im->e[i];
    qsort(sorted, (size_t)im->n_entries, sizeof *sorted, by_name);
    if ((st = hearth_gguf_writer_set_str(w, "general.type", "imatrix", err)) ||
        (st = hearth_gguf_writer_set_arr_str(w, "imatrix.datasets", &ds, NULL, 1, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "imatrix.chunk_count", (uint32_t)im->n_chunks, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "imatrix.chunk_size", (uint32_t)im->chunk_size, err)))
        goto out;
    size_t off = 0;
    for (int64_t k = 0; k < im->n_entries; k++) {
        const hearth_imatrix_entry *e = sorted[k];
        if (strlen(e->name) > HEARTH_IMATRIX_MAX_NAME) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "imatrix entry name too long");
            goto out;
        }
        for (int64_t i = 0; i < e->n; i++) vals[off + (size_t)i] = (float)e->sum2[i];
        counts[k] = (float)e->count;
        char *n1 = names + (size_t)k * 2 * (HEARTH_IMATRIX_MAX_NAME + 16);
        char *n2 = n1 + HEARTH_IMATRIX_MAX_NAME + 16;
        snprintf(n1, HEARTH_IMATRIX_MAX_NAME + 16, "%s.in_sum2", e->name);
        snprintf(n2, HEARTH_IMATRIX_MAX_NAME + 16, "%s.counts", e->name);
        int64_t ne_v[2] = {e->n, 1}, ne_c[2] = {1, 1};
        if ((st = hearth_gguf_writer_add_tensor(w, n1, HEARTH_TYPE_F32, 2, ne_v, vals + off,
                                                (size_t)e->n * 4, err)) ||
            (st = hearth_gguf_writer_add_tensor(w, n2, HEARTH_TYPE_F32, 2, ne_c, counts + k, 4, err)))
            goto out;
        off += (size_t)e->n;
    }
    st = hearth_gguf_writer_write_file(w, path, err);
out:
    hearth_free(vals);
    hearth_free(counts);
    hearth_free(names);
    hearth_free(sorted);
    hearth_gguf_writer_free(w);
    return st;
}

static hearth_status parse_gguf(const void *data, size_t len, int32_t chunk_size,
                                hearth_imatrix **out, hearth_error *err) {
    *out = NULL;
    hearth_gguf *g;
    hearth_status st = hearth_gguf_open_buffer(data, len, &g, err);
    if (st) return st;
    hearth_imatrix *im = NULL;
    int64_t cs = 0, chunks = 0;
    if (hearth_gguf_get_int(g, "imatrix.chunk_size", &cs, NULL) || cs < 1 || cs > (1 << 24))
        cs = chunk_size;
    if ((st = hearth_imatrix_new((int32_t)cs, &im, err))) goto fail;
    if (!hearth_gguf_get_int(g, "imatrix.chunk_count", &chunks, NULL) && chunks > 0 && chunks < INT32_MAX)
        im->n_chunks = (int32_t)chunks;
    int64_t dsi;
    hearth_gguf_value dv;
    if (!hearth_gguf_get_arr(g, "imatrix.datasets", &dv, &dsi, NULL) &&
        dv.elem_type == HEARTH_GGUF_STRING && dv.n > 0) {
        size_t dl;
        const char *d = hearth_gguf_arr_str(g, dsi, dv.n - 1, &dl);
        if (d && dl <= 4096 && !memchr(d, 0, dl) && !(im->dataset = hearth_strndup(d, dl))) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
            goto fail;
        }
    }
    int64_t nt = hearth_gguf_n_tensors(g);
    for (int64_t i = 0; i < nt; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (!ends_with(t->name, ".in_sum2")) continue;
        size_t base = strlen(t->name) - strlen(".in_sum2");
        char cname[HEARTH_IMATRIX_MAX_NAME + 16];
        if (base < 1 || base > HEARTH_IMATRIX_MAX_NAME) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: tensor name '%.64s' too long", t->name);
            goto fail;
        }
        snprintf(cname, sizeof cname, "%.*s.counts", (int)base, t->name);
        const hearth_gguf_tensor *c = hearth_gguf_find_tensor(g, cname);
        /* the element count, multiplied with overflow checks (the dims are
         * the file's: a product past int64 must read as too many, not wrap) */
        int64_t nval = 1;
        for (int d = 0; d < 4; d++)
            if (t->ne[d] < 0 || __builtin_mul_overflow(nval, t->ne[d], &nval)) nval = INT64_MAX;
        if (!c || t->type != HEARTH_TYPE_F32 || c->type != HEARTH_TYPE_F32 || nval < 1 ||
            nval > HEARTH_IMATRIX_MAX_VALUES || c->nbytes < 4) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "imatrix: '%s' needs F32 values and an F32 %s (at most %d values)",
                             t->name, cname, HEARTH_IMATRIX_MAX_VALUES);
            goto fail;
        }
        int64_t nmat = (int64_t)(c->nbytes / 4);
        if (nval % nmat) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: '%s': %lld values for %lld counts",
                             t->name, (long long)nval, (long long)nmat);
            goto fail;
        }
        hearth_imatrix_entry *e;
        if ((st = entry(im, t->name, base, nval, &e, err))) goto fail;
        /* (expert matrices: one count per matrix; kept as the largest) */
        int64_t count = 0;
        for (int64_t j = 0; j < nmat; j++) {
            float cv;
            memcpy(&cv, (const uint8_t *)c->data + 4 * j, 4);
            if (!isfinite(cv) || cv < 0.f || cv > 9e15f) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: '%s': count %g", cname, (double)cv);
                goto fail;
            }
            if ((int64_t)cv > count) count = (int64_t)cv;
        }
        for (int64_t j = 0; j < nval; j++) {
            float v;
            memcpy(&v, (const uint8_t *)t->data + 4 * j, 4);
            if (!isfinite(v) || v < 0.f) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: '%s': value %lld is %g", t->name,
                                 (long long)j, (double)v);
                goto fail;
            }
            e->sum2[j] += v;
        }
        e->count += count;
    }
    if (im->n_entries == 0) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "imatrix: no *.in_sum2 tensors");
        goto fail;
    }
    hearth_gguf_free(g);
    *out = im;
    return HEARTH_OK;
fail:
    hearth_imatrix_free(im);
    hearth_gguf_free(g);
    return st;
}

hearth_status hearth_imatrix_parse(const void *data, size_t len, int32_t chunk_size,
                                   hearth_imatrix **out, hearth_error *err) {
    if (len >= 4 && !memcmp(data, "GGUF", 4)) return parse_gguf(data, len, chunk_size, out, err);
    return hearth_imatrix_parse_dat(data, len, chunk_size, out, err);
}

hearth_status hearth_imatrix_load(const char *path, int32_t chunk_size, hearth_imatrix **out,
                                  hearth_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || sb.st_size < 0 || sb.st_size > (1LL << 30)) {
        fclose(f);
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "%s: not a regular file of at most 1 GiB", path);
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *data = hearth_malloc(len ? len : 1);
    if (!data) {
        fclose(f);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "%s: %zu bytes", path, len);
    }
    size_t got = fread(data, 1, len, f);
    fclose(f);
    hearth_status st;
    if (got != len) st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: short read", path);
    else st = hearth_imatrix_parse(data, len, chunk_size, out, err);
    hearth_free(data);
    return st;
}

hearth_status hearth_imatrix_save(const hearth_imatrix *im, const char *path, hearth_error *err) {
    if (ends_with(path, ".gguf")) return hearth_imatrix_write_gguf(im, path, err);
    void *data;
    size_t len;
    hearth_status st = hearth_imatrix_write_dat(im, &data, &len, err);
    if (st) return st;
    size_t n = strlen(path);
    char *tmp = hearth_malloc(n + 16);
    if (!tmp) {
        hearth_free(data);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: cannot create temporary file: %s", path, strerror(errno));
        if (fd >= 0) close(fd), unlink(tmp);
    } else {
        (void)fchmod(fd, 0644);
        bool ok = fwrite(data, 1, len, f) == len;
        ok = !fflush(f) && ok;
        ok = !fsync(fileno(f)) && ok;
        ok = !fclose(f) && ok;
        if (!ok || rename(tmp, path)) {
            st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: write failed: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    hearth_free(tmp);
    hearth_free(data);
    return st;
}
