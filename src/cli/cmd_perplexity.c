/*
 * cmd_perplexity.c: `hearth perplexity`, computed as llama-perplexity
 * computes it so the numbers are comparable: the whole text is tokenized
 * (BOS as the model's metadata says), cut into non-overlapping chunks of
 * n_ctx tokens (the first token of each chunk replaced by BOS when the model
 * adds one), each chunk evaluated from an empty context, and only the second
 * half of each chunk scored: the negative log-likelihood of token j+1 given
 * the logits at j, for j in [n_ctx/2, n_ctx-1). PPL = exp(mean NLL), with
 * the uncertainty from the standard error of the mean NLL.
 * Uses only the public API (hearth.h).
 */
#include "cli.h"
#include "model_trust.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hearth perplexity -m MODEL -f TEXT [-c 512] [-t THREADS] [--chunks N] [--json]\n\n"
    "Perplexity of MODEL on the text file, over non-overlapping chunks of -c tokens,\n"
    "scored on the second half of each chunk (as llama-perplexity).\n";

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    fclose(f);
    if (buf) *len = n;
    return buf;
}

static int run(int argc, char **argv) {
    const char *model = NULL, *file = NULL;
    long n_ctx = 512, nth = 0, max_chunks = -1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!v) return cli_fail("perplexity", NULL, "%s needs a value", a);
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) file = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!cli_parse_long(v, 8, 1 << 20, &n_ctx)) return cli_fail("perplexity", NULL, "bad -c '%s'", v);
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_long(v, 1, 1024, &nth)) return cli_fail("perplexity", NULL, "bad -t '%s'", v);
        } else if (!strcmp(a, "--chunks")) {
            if (!cli_parse_long(v, 1, 1 << 24, &max_chunks))
                return cli_fail("perplexity", NULL, "bad --chunks '%s'", v);
        } else {
            return cli_fail("perplexity", NULL, "unknown argument '%s'", a);
        }
    }
    if (!model || !file) return cli_fail("perplexity", NULL, "need -m MODEL and -f TEXT");
    size_t tlen;
    char *text = read_file(file, &tlen);
    if (!text) return cli_fail("perplexity", NULL, "cannot read %s", file);

    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = (int)nth;
    hearth_model *m = NULL;
    hearth_ctx *c = NULL;
    int32_t *toks = NULL, *chunk = NULL;
    int8_t *want = NULL;
    int rc = 1;
    if (cli_model_gate("perplexity", NULL, model)) goto out;
    if (hearth_model_open(model, &mp, &m, &e)) {
        cli_fail("perplexity", &e, "cannot load model");
        goto out;
    }
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    if (!tok) {
        cli_fail("perplexity", NULL, "%s has no tokenizer", model);
        goto out;
    }
    size_t nt;
    if (hearth_tokenize(tok, text, tlen, true, false, &toks, &nt, &e)) {
        cli_fail("perplexity", &e, "cannot tokenize %s", file);
        goto out;
    }
    long n_chunks = (long)(nt / (size_t)n_ctx);
    if (max_chunks > 0 && n_chunks > max_chunks) n_chunks = max_chunks;
    if (n_chunks < 1) {
        cli_fail("perplexity", NULL, "%s gives %zu tokens, fewer than one chunk of %ld", file, nt, n_ctx);
        goto out;
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = (int32_t)n_ctx;
    cp.n_threads = (int)nth;
    if (hearth_ctx_new(m, &cp, &c, &e)) {
        cli_fail("perplexity", &e, "cannot make a context");
        goto out;
    }
    chunk = malloc((size_t)n_ctx * sizeof *chunk);
    want = calloc((size_t)n_ctx, 1);
    if (!chunk || !want) {
        cli_fail("perplexity", NULL, "out of memory");
        goto out;
    }
    int32_t nv = hearth_model_n_vocab(m), bos = hearth_token_bos(tok);
    bool add_bos = hearth_tokenizer_add_bos(tok) && bos >= 0;
    long first = n_ctx / 2;
    for (long j = first; j < n_ctx - 1; j++) want[j] = 1;
    double sum = 0, sum2 = 0;
    long count = 0;
    if (!json) fprintf(stderr, "perplexity: %zu tokens, %ld chunks of %ld\n", nt, n_chunks, n_ctx);
    for (long ci = 0; ci < n_chunks; ci++) {
        memcpy(chunk, toks + (size_t)ci * (size_t)n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (add_bos) chunk[0] = bos;
        hearth_ctx_seq_clear(c, -1, NULL);
        hearth_batch b = {.n_tokens = (int32_t)n_ctx, .tokens = chunk, .logits = want};
        if (hearth_ctx_decode(c, &b, &e)) {
            cli_fail("perplexity", &e, "decode of chunk %ld failed", ci);
            goto out;
        }
        for (long j = first; j < n_ctx - 1; j++) {
            const float *l = hearth_ctx_logits(c, (int32_t)j);
            double mx = l[0], z = 0;
            for (int32_t k = 1; k < nv; k++) mx = l[k] > mx ? l[k] : mx;
            for (int32_t k = 0; k < nv; k++) z += exp((double)l[k] - mx);
            /* the true next token is the file's, not the BOS substitute */
            int32_t next = toks[(size_t)ci * (size_t)n_ctx + (size_t)j + 1];
            double nll = -((double)l[next] - mx - log(z));
            sum += nll;
            sum2 += nll * nll;
            count++;
        }
        if (!json) {
            fprintf(stdout, "[%ld]%.4f,", ci + 1, exp(sum / count));
            fflush(stdout);
        }
    }
    double mean = sum / count, var = sum2 / count - mean * mean;
    double se = count > 1 && var > 0 ? sqrt(var / (count - 1)) : 0;
    double ppl = exp(mean);
    if (json)
        printf("{\"model\":\"%s\",\"n_ctx\":%ld,\"chunks\":%ld,\"tokens_scored\":%ld,\"ppl\":%.4f,"
               "\"ppl_err\":%.4f,\"nll\":%.6f}\n",
               hearth_model_arch(m), n_ctx, n_chunks, count, ppl, ppl * se, mean);
    else
        printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, ppl * se);
    rc = 0;
out:
    free(text);
    free(chunk);
    free(want);
    hearth_free(toks);
    hearth_ctx_free(c);
    hearth_model_free(m);
    return rc;
}

const cli_command cli_cmd_perplexity = {
    .name = "perplexity",
    .summary = "perplexity of a model on a text file (comparable with llama-perplexity)",
    .usage = USAGE,
    .run = run,
};
