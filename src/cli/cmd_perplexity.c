/*
 * cmd_perplexity.c: `hearth perplexity`, computed as llama-perplexity
 * computes it so the numbers are comparable: the whole text is tokenized
 * (BOS as the model's metadata says), cut into non-overlapping chunks of
 * n_ctx tokens (the first token of each chunk replaced by BOS when the model
 * adds one), each chunk evaluated from an empty context, and only the second
 * half of each chunk scored: the negative log-likelihood of token j+1 given
 * the logits at j, for j in [n_ctx/2, n_ctx-1). PPL = exp(mean NLL), with
 * the uncertainty from the standard error of the mean NLL.
 * With --kl-base BASE, MODEL is compared against BASE over the same chunks
 * (llama-perplexity's --kl-divergence): both perplexities and their ratio,
 * KL(BASE || MODEL) of the next-token distributions and top-1 agreement.
 * The base runs beside the model on the fly (no saved logits file).
 * The arithmetic is the library's evaluation module (hearth_eval_*).
 * Uses only the public API (hearth.h).
 */
#include "quant_text.h"
#include "cli.h"
#include "model_trust.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hearth perplexity -m MODEL -f TEXT [--kl-base BASE] [-c 512] [-t THREADS]\n"
    "                         [--chunks N] [-ctk T] [-ctv T] [--special] [--json]\n\n"
    "Perplexity of MODEL on the text file, over non-overlapping chunks of -c tokens,\n"
    "scored on the second half of each chunk (as llama-perplexity).\n"
    "--kl-base BASE also runs BASE (e.g. the F16 source of a quantized MODEL) over\n"
    "the same chunks and prints both perplexities, their ratio, the KL divergence\n"
    "KL(BASE || MODEL) of the next-token distributions (mean, median, 90/95/99th\n"
    "percentile, maximum) and how often both pick the same top token, as\n"
    "llama-perplexity --kl-divergence does. The base logits are computed on the fly\n"
    "(both models are loaded at once; no logits file is written).\n"
    "-ctk/--cache-type-k T, -ctv/--cache-type-v T: MODEL's KV cache types (f16, the\n"
    "default, q8_0, f32; values also q4_0); BASE keeps f16, so --kl-base MODEL measures\n"
    "what the quantized cache costs.\n"
    "--special: text such as <|im_start|> becomes the control token (for chat\n"
    "transcripts; hearth quantize and hearth ab eval tokenize their texts so).\n";

static void print_kl_summary(const hearth_eval_result *r) {
    printf("\n====== Perplexity statistics ======\n");
    printf("Mean PPL(Q)                   : %10.6f +/- %10.6f\n", r->test.ppl, r->test.ppl_err);
    printf("Mean PPL(base)                : %10.6f +/- %10.6f\n", r->base.ppl, r->base.ppl_err);
    printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", log(r->ppl_ratio),
           r->ppl_ratio > 0 ? r->ppl_ratio_err / r->ppl_ratio : 0);
    printf("Mean PPL(Q)/PPL(base)         : %10.6f +/- %10.6f\n", r->ppl_ratio, r->ppl_ratio_err);
    printf("\n====== KL divergence statistics ======\n");
    printf("Mean    KLD: %10.6f +/- %10.6f\n", r->kld_mean, r->kld_err);
    printf("Maximum KLD: %10.6f\n", r->kld_max);
    printf("99.0%%   KLD: %10.6f\n", r->kld_p99);
    printf("95.0%%   KLD: %10.6f\n", r->kld_p95);
    printf("90.0%%   KLD: %10.6f\n", r->kld_p90);
    printf("Median  KLD: %10.6f\n", r->kld_median);
    printf("\n====== Token probability statistics ======\n");
    printf("Same top p: %7.3f +/- %6.3f %%\n", 100 * r->top1, 100 * r->top1_err);
}

static void print_kl_json(const char *model, const char *base, long n_ctx,
                          const hearth_eval_result *r) {
    json_t *o = json_object();
    json_object_set_new(o, "model", cli_json_str(model));
    json_object_set_new(o, "base", cli_json_str(base));
    json_object_set_new(o, "n_ctx", json_integer(n_ctx));
    json_object_set_new(o, "chunks", json_integer(r->n_chunks));
    json_object_set_new(o, "tokens_scored", json_integer(r->n_scored));
    json_object_set_new(o, "ppl", json_real(r->test.ppl));
    json_object_set_new(o, "ppl_err", json_real(r->test.ppl_err));
    json_object_set_new(o, "base_ppl", json_real(r->base.ppl));
    json_object_set_new(o, "base_ppl_err", json_real(r->base.ppl_err));
    json_object_set_new(o, "ppl_ratio", json_real(r->ppl_ratio));
    json_object_set_new(o, "ppl_ratio_err", json_real(r->ppl_ratio_err));
    json_object_set_new(o, "kld_mean", json_real(r->kld_mean));
    json_object_set_new(o, "kld_err", json_real(r->kld_err));
    json_object_set_new(o, "kld_median", json_real(r->kld_median));
    json_object_set_new(o, "kld_p90", json_real(r->kld_p90));
    json_object_set_new(o, "kld_p95", json_real(r->kld_p95));
    json_object_set_new(o, "kld_p99", json_real(r->kld_p99));
    json_object_set_new(o, "kld_max", json_real(r->kld_max));
    json_object_set_new(o, "top1", json_real(r->top1));
    json_object_set_new(o, "top1_err", json_real(r->top1_err));
    cli_print_json(o);
}

static int run(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *base = NULL;
    long n_ctx = 512, nth = 0, max_chunks = -1;
    bool json = false, special = false;
    hearth_type tk = HEARTH_TYPE_F16, tv = HEARTH_TYPE_F16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--special")) {
            special = true;
            continue;
        }
        if (!v) return cli_fail("perplexity", NULL, "%s needs a value", a);
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) file = v;
        else if (!strcmp(a, "--kl-base")) base = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!cli_parse_long(v, 8, 1 << 20, &n_ctx)) return cli_fail("perplexity", NULL, "bad -c '%s'", v);
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_long(v, 1, 1024, &nth)) return cli_fail("perplexity", NULL, "bad -t '%s'", v);
        } else if (!strcmp(a, "--chunks")) {
            if (!cli_parse_long(v, 1, 1 << 24, &max_chunks))
                return cli_fail("perplexity", NULL, "bad --chunks '%s'", v);
        } else if (!strcmp(a, "-ctk") || !strcmp(a, "--cache-type-k") || !strcmp(a, "-ctv") ||
                   !strcmp(a, "--cache-type-v")) {
            bool values = !strcmp(a, "-ctv") || !strcmp(a, "--cache-type-v");
            hearth_error te = {0};
            if (hearth_cache_type_parse(v, values, values ? &tv : &tk, &te))
                return cli_fail("perplexity", &te, "bad %s", a);
        } else {
            return cli_fail("perplexity", NULL, "unknown argument '%s'", a);
        }
    }
    if (!model || !file) return cli_fail("perplexity", NULL, "need -m MODEL and -f TEXT");
    size_t tlen;
    char *text = quant_read_file(file, &tlen);
    if (!text) return cli_fail("perplexity", NULL, "cannot read %s", file);

    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = (int)nth;
    hearth_model *m = NULL, *bm = NULL;
    hearth_eval *ev = NULL;
    int32_t *toks = NULL;
    int rc = 1;
    if (cli_model_gate("perplexity", NULL, model)) goto out;
    if (base && cli_model_gate("perplexity", NULL, base)) goto out;
    if (hearth_model_open(model, &mp, &m, &e)) {
        cli_fail("perplexity", &e, "cannot load model");
        goto out;
    }
    if (base && hearth_model_open(base, &mp, &bm, &e)) {
        cli_fail("perplexity", &e, "cannot load base model");
        goto out;
    }
    const hearth_tokenizer *tok = hearth_model_tokenizer(bm ? bm : m);
    if (!tok) {
        cli_fail("perplexity", NULL, "%s has no tokenizer", bm ? base : model);
        goto out;
    }
    size_t nt;
    if (hearth_tokenize(tok, text, tlen, true, special, &toks, &nt, &e)) {
        cli_fail("perplexity", &e, "cannot tokenize %s", file);
        goto out;
    }
    long n_chunks = (long)(nt / (size_t)n_ctx);
    if (max_chunks > 0 && n_chunks > max_chunks) n_chunks = max_chunks;
    if (n_chunks < 1) {
        cli_fail("perplexity", NULL, "%s gives %zu tokens, fewer than one chunk of %ld", file, nt, n_ctx);
        goto out;
    }
    hearth_eval_params ep = hearth_eval_default_params();
    ep.n_ctx = (int32_t)n_ctx;
    ep.n_threads = (int)nth;
    ep.type_k = tk;
    ep.type_v = tv;
    /* the base is the reference the test model is measured against */
    if (hearth_eval_new(bm ? bm : m, bm ? m : NULL, &ep, &ev, &e)) {
        cli_fail("perplexity", &e, "cannot set up the evaluation");
        goto out;
    }
    if (!json) {
        fprintf(stderr, "perplexity: %zu tokens, %ld chunks of %ld\n", nt, n_chunks, n_ctx);
        if (bm) printf("chunk        PPL  ln(PPL(Q)/PPL(base))  KL divergence  same top\n");
    }
    hearth_eval_result r;
    for (long ci = 0; ci < n_chunks; ci++) {
        if (hearth_eval_window(ev, toks + (size_t)ci * (size_t)n_ctx, &e) ||
            hearth_eval_get(ev, &r, &e)) {
            cli_fail("perplexity", &e, "chunk %ld failed", ci);
            goto out;
        }
        if (json) continue;
        if (bm)
            printf("%5ld %10.4f  %20.5f  %13.6f  %7.3f%%\n", ci + 1, r.test.ppl, log(r.ppl_ratio),
                   r.kld_mean, 100 * r.top1);
        else
            fprintf(stdout, "[%ld]%.4f,", ci + 1, r.base.ppl);
        fflush(stdout);
    }
    if (bm) {
        if (json) print_kl_json(model, base, n_ctx, &r);
        else print_kl_summary(&r);
    } else if (json) {
        printf("{\"model\":\"%s\",\"n_ctx\":%ld,\"chunks\":%ld,\"tokens_scored\":%ld,\"ppl\":%.4f,"
               "\"ppl_err\":%.4f,\"nll\":%.6f}\n",
               hearth_model_arch(m), n_ctx, n_chunks, (long)r.n_scored, r.base.ppl, r.base.ppl_err,
               r.base.nll);
    } else {
        printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r.base.ppl, r.base.ppl_err);
    }
    rc = 0;
out:
    free(text);
    hearth_free(toks);
    hearth_eval_free(ev);
    hearth_model_free(m);
    hearth_model_free(bm);
    return rc;
}

const cli_command cli_cmd_perplexity = {
    .name = "perplexity",
    .summary = "perplexity of a model on a text file (comparable with llama-perplexity)",
    .usage = USAGE,
    .run = run,
};
