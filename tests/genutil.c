/*
 * genutil.c: see genutil.h.
 */
#include "genutil.h"

#include "hearth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

const char *tmpdir_path(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/hearth-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return tmpdir;
}

void tmpdir_cleanup(void) {
    if (!tmpdir[0]) return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    tmpdir[0] = 0;
}

const char *genmodel(const char *name, const char *args) {
    static char paths[64][320];
    static int n;
    const char *gm = getenv("HEARTH_GENMODEL");
    if (!gm) {
        fprintf(stderr, "HEARTH_GENMODEL not set\n");
        return NULL;
    }
    char *p = paths[n++ % 64];
    snprintf(p, 320, "%s/%s", tmpdir_path(), name);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s -o '%s' >/dev/null 2>&1", gm, args, p);
    if (system(cmd)) {
        fprintf(stderr, "failed: %s\n", cmd);
        return NULL;
    }
    return p;
}

void logit_diff(const float *a, const float *b, size_t n, double *max_abs, double *max_ref) {
    double ma = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > ma || isnan(d)) ma = isnan(d) ? INFINITY : d;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    *max_abs = ma;
    *max_ref = mr;
}

int32_t argmax_f(const float *v, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

static bool starts(const char *s, const char *p) { return p && !strncmp(s, p, strlen(p)); }

int gguf_rewrite(const char *src, const char *dst, const gguf_edit *ed) {
    hearth_gguf *g;
    hearth_error e = {0};
    if (hearth_gguf_open(src, &g, &e)) {
        fprintf(stderr, "gguf_rewrite: %s\n", e.msg);
        return -1;
    }
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    hearth_status st = w ? HEARTH_OK : HEARTH_E_NOMEM;
    uint8_t **copies = calloc((size_t)hearth_gguf_n_tensors(g) + 1, sizeof *copies);
    if (!copies) st = HEARTH_E_NOMEM;
    for (int64_t i = 0; !st && i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        if (starts(key, ed->drop_prefix)) continue;
        hearth_gguf_value v;
        hearth_gguf_kv_value(g, i, &v);
        if (ed->vocab_rows > 0 && strstr(key, ".vocab_size")) {
            st = hearth_gguf_writer_set_u32(w, key, (uint32_t)ed->vocab_rows, &e);
        } else if (v.type == HEARTH_GGUF_STRING) {
            char *s = strndup(v.data, v.n);
            st = s ? hearth_gguf_writer_set_str(w, key, s, &e) : HEARTH_E_NOMEM;
            free(s);
        } else if (v.type == HEARTH_GGUF_ARRAY && v.elem_type == HEARTH_GGUF_STRING) {
            const char **strs = malloc((v.n + 1) * sizeof *strs);
            size_t *lens = malloc((v.n + 1) * sizeof *lens);
            if (strs && lens) {
                for (uint64_t j = 0; j < v.n; j++) strs[j] = hearth_gguf_arr_str(g, i, j, &lens[j]);
                st = hearth_gguf_writer_set_arr_str(w, key, strs, lens, v.n, &e);
            } else {
                st = HEARTH_E_NOMEM;
            }
            free(strs);
            free(lens);
        } else if (v.type == HEARTH_GGUF_ARRAY) {
            st = hearth_gguf_writer_set_arr(w, key, v.elem_type, v.data, v.n, &e);
        } else {
            st = hearth_gguf_writer_set_scalar(w, key, v.type, v.data, &e);
        }
    }
    for (int64_t i = 0; !st && i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        size_t nb = t->nbytes;
        if (ed->vocab_rows > 0 &&
            (!strcmp(t->name, "token_embd.weight") || !strcmp(t->name, "output.weight"))) {
            nb = nb / (size_t)ne[1] * (size_t)ed->vocab_rows;
            ne[1] = ed->vocab_rows;
        }
        const void *data = t->data;
        if (ed->patch && nb) {
            if (!(copies[i] = malloc(nb))) {
                st = HEARTH_E_NOMEM;
                break;
            }
            memcpy(copies[i], t->data, nb);
            ed->patch(ed->user, t->name, (int)t->type, copies[i], nb);
            data = copies[i];
        }
        st = hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, ne, data, nb, &e);
    }
    if (!st) st = hearth_gguf_writer_write_file(w, dst, &e);
    if (st) fprintf(stderr, "gguf_rewrite %s -> %s: %s\n", src, dst, e.msg);
    hearth_gguf_writer_free(w);
    for (int64_t i = 0; copies && i < hearth_gguf_n_tensors(g); i++) free(copies[i]);
    free(copies);
    hearth_gguf_free(g);
    return st ? -1 : 0;
}
