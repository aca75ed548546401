/*
 * gm_helpers.c: see gm_helpers.h.
 */
#include "gm_helpers.h"

#include "kernels/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int *gm_failures, *gm_checks;

static char dir[256];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gm_helpers: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (gm_failures) (*gm_failures)++;
}

const char *gm_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/hearth-genmodel-test-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return dir;
}

void gm_cleanup(void) {
    if (!dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    dir[0] = '\0';
}

const char *gm_path(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", gm_dir(), name);
    return p;
}

int gm_run(const char *fmt, ...) {
    const char *bin = getenv("HEARTH_GENMODEL");
    if (!bin) {
        fprintf(stderr, "HEARTH_GENMODEL is not set\n");
        exit(1);
    }
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' -q %s >'%s/log' 2>&1", bin, args, gm_dir());
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) return -1;
    return WEXITSTATUS(rc);
}

hearth_gguf *gm_open(const char *path) {
    hearth_gguf *g = NULL;
    hearth_error err = {0};
    if (hearth_gguf_open(path, &g, &err)) {
        fprintf(stderr, "cannot open %s: %s\n", path, err.msg);
        exit(1);
    }
    return g;
}

#define GETTER(fn, T, getter, zero)                                             \
    T fn(const hearth_gguf *g, const char *key) {                                \
        T v = zero;                                                              \
        hearth_error err = {0};                                                  \
        if (gm_checks) (*gm_checks)++;                                           \
        if (getter(g, key, &v, &err)) fail("%s: %s", key, err.msg);              \
        return v;                                                                \
    }
GETTER(gm_u32, uint32_t, hearth_gguf_get_u32, 0)
GETTER(gm_f32, float, hearth_gguf_get_f32, 0.0f)
GETTER(gm_bool, bool, hearth_gguf_get_bool, false)
#undef GETTER

const char *gm_str(const hearth_gguf *g, const char *key) {
    const char *s = "";
    hearth_error err = {0};
    if (gm_checks) (*gm_checks)++;
    if (hearth_gguf_get_str(g, key, &s, NULL, &err)) {
        fail("%s: %s", key, err.msg);
        return "";
    }
    return s;
}

float *gm_tensor_f32(const hearth_gguf *g, const char *name, int64_t *n) {
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    if (!t) {
        fprintf(stderr, "no tensor '%s'\n", name);
        exit(1);
    }
    int64_t ne = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    const hearth_type_traits *tr = hearth_type_traits_get(t->type);
    float *out = malloc((size_t)ne * sizeof(float));
    if (!tr || !tr->to_float || !out) {
        fprintf(stderr, "tensor '%s': cannot dequantize\n", name);
        exit(1);
    }
    tr->to_float(t->data, out, ne);
    *n = ne;
    return out;
}

bool gm_same_bytes(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        char x[65536], y[65536];
        size_t na = fread(x, 1, sizeof x, fa), nb = fread(y, 1, sizeof y, fb);
        if (na != nb || memcmp(x, y, na)) same = false;
        if (na == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}
