/*
 * genutil.c: see genutil.h.
 */
#include "genutil.h"

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
