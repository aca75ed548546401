/*
 * cmd_imatrix.c: `hearth imatrix -m MODEL -f TEXT -o FILE [-c N] [--chunk N]
 * [-t N]`: runs the model over calibration text and writes, per weight
 * matrix, the mean squared activation of each input column in llama.cpp's
 * imatrix format (GGUF when FILE ends in .gguf, else the legacy .dat one),
 * for `hearth quantize --imatrix` (or llama-quantize).
 */
#include "cli.h"
#include "model_trust.h"
#include "quant/imatrix.h"
#include "quant_text.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: hearth imatrix -m MODEL -f TEXT -o FILE [-c N] [--chunk N] [-t THREADS]\n\n"
    "Runs MODEL over TEXT in windows of -c tokens (default: 512, or the model's training\n"
    "context if shorter) and writes the importance matrix (per weight matrix, the mean\n"
    "squared activation of each input column) to FILE: llama.cpp's GGUF imatrix format\n"
    "when FILE ends in .gguf, else its legacy .dat format. --chunk N: at most N windows.\n";

static void progress(void *ud, int32_t chunk, int32_t n_chunks) {
    (void)ud;
    if (isatty(2)) fprintf(stderr, "\rimatrix: chunk %d/%d", chunk, n_chunks);
}

static int run(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *outp = NULL;
    long n_ctx = 0, nth = 0, max_chunks = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return cli_fail("imatrix", NULL, "%s needs a value", a);
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) file = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) outp = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!cli_parse_long(v, 8, 1 << 20, &n_ctx)) return cli_fail("imatrix", NULL, "bad -c '%s'", v);
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_long(v, 1, 1024, &nth)) return cli_fail("imatrix", NULL, "bad -t '%s'", v);
        } else if (!strcmp(a, "--chunk") || !strcmp(a, "--chunks")) {
            if (!cli_parse_long(v, 1, 1 << 24, &max_chunks))
                return cli_fail("imatrix", NULL, "bad --chunk '%s'", v);
        } else {
            return cli_fail("imatrix", NULL, "unknown argument '%s'", a);
        }
    }
    if (!model || !file || !outp) return cli_fail("imatrix", NULL, "need -m MODEL, -f TEXT and -o FILE");
    if (cli_model_gate("imatrix", NULL, model)) return 1;
    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = (int)nth;
    hearth_model *m = NULL;
    hearth_imatrix *im = NULL;
    int32_t *toks = NULL;
    size_t nt = 0;
    int rc = 1;
    if (hearth_model_open(model, &mp, &m, &e)) {
        cli_fail("imatrix", &e, "cannot load model");
        goto out;
    }
    if (!n_ctx) {
        n_ctx = 512;
        int32_t train = hearth_model_n_ctx_train(m);
        if (train > 0 && train < n_ctx) n_ctx = train;
    }
    if (quant_tokenize_file(m, file, &toks, &nt, &e)) {
        cli_fail("imatrix", &e, "cannot tokenize %s", file);
        goto out;
    }
    if (hearth_imatrix_new((int32_t)n_ctx, &im, &e) || hearth_imatrix_set_dataset(im, file, &e)) {
        cli_fail("imatrix", &e, "out of memory");
        goto out;
    }
    fprintf(stderr, "imatrix: %zu tokens, %zu chunks of %ld\n", nt, nt / (size_t)n_ctx, n_ctx);
    if (hearth_imatrix_collect(m, toks, nt, (int32_t)n_ctx, (int32_t)max_chunks, (int)nth, im,
                               progress, NULL, &e)) {
        cli_fail("imatrix", &e, "collecting failed");
        goto out;
    }
    if (isatty(2)) fputc('\n', stderr);
    if (hearth_imatrix_save(im, outp, &e)) {
        cli_fail("imatrix", &e, "cannot write %s", outp);
        goto out;
    }
    printf("imatrix: %lld matrices over %d chunks of %ld tokens -> %s (%s format)\n",
           (long long)im->n_entries, im->n_chunks, n_ctx, outp,
           strlen(outp) > 5 && !strcmp(outp + strlen(outp) - 5, ".gguf") ? "GGUF" : "legacy .dat");
    rc = 0;
out:
    hearth_free(toks);
    hearth_imatrix_free(im);
    hearth_model_free(m);
    return rc;
}

const cli_command cli_cmd_imatrix = {
    .name = "imatrix",
    .summary = "importance matrix of a model over calibration text (llama.cpp's imatrix formats)",
    .usage = USAGE,
    .run = run,
};
