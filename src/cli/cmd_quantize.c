/*
 * cmd_quantize.c: `hearth quantize IN OUT TYPE [options]`: rewrites a float
 * (or Q8_0) model in another tensor type or llama.cpp mix, optionally with
 * an importance matrix (given, or measured here from --calib text), then
 * checks the result against IN on held-out text: KL divergence of the
 * next-token distributions (mean, 99th percentile), both perplexities and
 * their ratio, top-1 agreement (the shared evaluation module, hearth_eval_*).
 * The figures go into OUT's metadata (hearth.quantize.*). Over a stated
 * budget (--max-loss, --max-kld) the command exits 3 and leaves no OUT: the
 * file is evaluated under a temporary name and renamed only when it passes.
 */
#include "cli.h"
#include "model_trust.h"
#include "quant/quantize.h"
#include "quant_text.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HEARTH_DEFAULT_MODEL
#define HEARTH_DEFAULT_MODEL "models/hearth-demo.gguf"
#endif

static const char USAGE[] =
    "usage: hearth quantize IN OUT TYPE [--imatrix FILE | --calib TEXT] [--eval TEXT]\n"
    "                       [--max-loss X] [--max-kld X] [--eval-chunks N] [-c N]\n"
    "                       [--pure] [--no-eval] [-t THREADS]\n\n"
    "Writes IN (F32, F16, BF16 or Q8_0 weights) as TYPE: a tensor type (Q8_0 Q4_0 Q4_1\n"
    "Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K F16 BF16 F32) or a llama.cpp mix (Q4_K_M Q4_K_S\n"
    "Q5_K_M Q5_K_S Q3_K_M Q3_K_S Q2_K), which tensors get which type following\n"
    "llama.cpp's rules (--pure: every matrix TYPE's base type).\n"
    "  --imatrix FILE   importance matrix (llama.cpp's .dat or GGUF format, e.g. from\n"
    "                   `hearth imatrix`): each block's scale search weighs its elements\n"
    "  --calib TEXT     measure the importance matrix from IN over TEXT first\n"
    "  --eval TEXT      held-out text for the accuracy check (default: quant-eval.txt\n"
    "                   beside the bundled model); -c window length (default 512 or the\n"
    "                   model's training context), --eval-chunks N at most N windows\n"
    "  --max-loss X     budget: the perplexity may rise by at most X (0.1 = 10%)\n"
    "  --max-kld X      budget: the mean KL divergence may be at most X nats\n"
    "  --no-eval        skip the check (no budget then)\n"
    "Over budget: the figures are printed, no OUT is written, exit status 3.\n"
    "Figures go into OUT's metadata as hearth.quantize.* (see hearth inspect).\n";

typedef struct {
    bool tty;
} prog;

static void on_tensor(void *ud, int64_t i, int64_t n, const char *name, hearth_type from,
                      hearth_type to, bool weighted) {
    prog *p = ud;
    if (!p->tty) return;
    fprintf(stderr, "[%4lld/%4lld] %-32s %6s -> %-6s%s\n", (long long)i + 1, (long long)n, name,
            hearth_type_name(from), hearth_type_name(to), weighted ? " (imatrix)" : "");
}

static void on_chunk(void *ud, int32_t chunk, int32_t n_chunks) {
    prog *p = ud;
    if (p->tty) fprintf(stderr, "\rimatrix: chunk %d/%d%s", chunk, n_chunks, chunk == n_chunks ? "\n" : "");
}

static const char *default_eval(char *buf, size_t cap) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", HEARTH_DEFAULT_MODEL);
    snprintf(buf, cap, "%s/quant-eval.txt", dirname(tmp));
    return buf;
}

static int32_t window_for(const hearth_model *m, long n_ctx) {
    if (n_ctx > 0) return (int32_t)n_ctx;
    int32_t train = hearth_model_n_ctx_train(m), w = 512;
    return train > 0 && train < w ? train : w;
}

static int run(int argc, char **argv) {
    const char *pos[3] = {0}, *imat_path = NULL, *calib = NULL, *eval_path = NULL;
    long nth = 0, n_ctx = 0, eval_chunks = 0;
    float max_loss = -1.f, max_kld = -1.f;
    bool pure = false, no_eval = false;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' || !a[1]) {
            if (npos == 3) return cli_fail("quantize", NULL, "unexpected argument '%s'", a);
            pos[npos++] = a;
            continue;
        }
        if (!strcmp(a, "--pure")) { pure = true; continue; }
        if (!strcmp(a, "--no-eval")) { no_eval = true; continue; }
        if (!v) return cli_fail("quantize", NULL, "%s needs a value", a);
        i++;
        if (!strcmp(a, "--imatrix")) imat_path = v;
        else if (!strcmp(a, "--calib")) calib = v;
        else if (!strcmp(a, "--eval")) eval_path = v;
        else if (!strcmp(a, "--max-loss")) {
            if (!cli_parse_float(v, &max_loss) || max_loss < 0) return cli_fail("quantize", NULL, "bad --max-loss '%s'", v);
        } else if (!strcmp(a, "--max-kld")) {
            if (!cli_parse_float(v, &max_kld) || max_kld < 0) return cli_fail("quantize", NULL, "bad --max-kld '%s'", v);
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_long(v, 1, 1024, &nth)) return cli_fail("quantize", NULL, "bad -t '%s'", v);
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!cli_parse_long(v, 8, 1 << 20, &n_ctx)) return cli_fail("quantize", NULL, "bad -c '%s'", v);
        } else if (!strcmp(a, "--eval-chunks")) {
            if (!cli_parse_long(v, 1, 1 << 24, &eval_chunks)) return cli_fail("quantize", NULL, "bad --eval-chunks '%s'", v);
        } else {
            return cli_fail("quantize", NULL, "unknown option '%s'", a);
        }
    }
    if (npos != 3) return cli_fail("quantize", NULL, "need IN OUT TYPE (see --help)");
    const char *in = pos[0], *outp = pos[1];
    const hearth_qmix *mix = hearth_qmix_find(pos[2]);
    if (!mix) {
        char list[512];
        hearth_qmix_list(list, sizeof list);
        return cli_fail("quantize", NULL, "unknown type '%s' (one of %s)", pos[2], list);
    }
    if (imat_path && calib) return cli_fail("quantize", NULL, "give --imatrix or --calib, not both");
    if (no_eval && (max_loss >= 0 || max_kld >= 0))
        return cli_fail("quantize", NULL, "--max-loss/--max-kld need the evaluation (drop --no-eval)");
    if (!strcmp(in, outp)) return cli_fail("quantize", NULL, "IN and OUT are the same file");
    if (cli_model_gate("quantize", NULL, in)) return 1;

    hearth_error e = {0};
    prog pg = {.tty = isatty(2)};
    hearth_imatrix *im = NULL;
    hearth_quant_job *job = NULL;
    hearth_model *base = NULL, *test = NULL;
    int32_t *toks = NULL;
    char tmp[4096] = "", evbuf[4096];
    int rc = 1;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = (int)nth;

    if (imat_path && hearth_imatrix_load(imat_path, 512, &im, &e)) {
        cli_fail("quantize", &e, "cannot read the imatrix %s", imat_path);
        goto out;
    }
    if (calib) {
        size_t nt;
        if (hearth_model_open(in, &mp, &base, &e)) {
            cli_fail("quantize", &e, "cannot load %s", in);
            goto out;
        }
        int32_t w = window_for(base, n_ctx);
        if (quant_tokenize_file(base, calib, &toks, &nt, &e)) {
            cli_fail("quantize", &e, "cannot tokenize %s", calib);
            goto out;
        }
        if (hearth_imatrix_new(w, &im, &e) || hearth_imatrix_set_dataset(im, calib, &e) ||
            hearth_imatrix_collect(base, toks, nt, w, 0, (int)nth, im, on_chunk, &pg, &e)) {
            cli_fail("quantize", &e, "imatrix from %s failed", calib);
            goto out;
        }
        hearth_free(toks);
        toks = NULL;
    }

    hearth_quant_params qp = hearth_quant_default_params();
    qp.mix = mix;
    qp.imatrix = im;
    qp.n_threads = nth > 0 ? (int)nth : 1;
    qp.pure = pure;
    qp.progress = on_tensor;
    qp.progress_ud = &pg;
    if (hearth_quant_job_run(in, &qp, &job, &e)) {
        cli_fail("quantize", &e, "cannot quantize %s", in);
        goto out;
    }
    int64_t nq, nw;
    uint64_t bin, bout;
    hearth_quant_job_stats(job, &nq, &nw, &bin, &bout);
    printf("quantize: %s -> %s as %s: %lld tensors converted (%lld with the imatrix), "
           "%.2f MB -> %.2f MB of tensor data\n",
           in, outp, mix->name, (long long)nq, (long long)nw, bin / 1e6, bout / 1e6);

    if (no_eval) {
        if (hearth_quant_job_write(job, outp, &e)) {
            cli_fail("quantize", &e, "cannot write %s", outp);
            goto out;
        }
        rc = 0;
        goto out;
    }

    /* the check, on the file as it will be written */
    snprintf(tmp, sizeof tmp, "%s.quantize-tmp", outp);
    if (hearth_quant_job_write(job, tmp, &e)) {
        cli_fail("quantize", &e, "cannot write %s", tmp);
        tmp[0] = '\0';
        goto out;
    }
    if (!base && hearth_model_open(in, &mp, &base, &e)) {
        cli_fail("quantize", &e, "cannot load %s", in);
        goto out;
    }
    if (hearth_model_open(tmp, &mp, &test, &e)) {
        cli_fail("quantize", &e, "cannot load the quantized file");
        goto out;
    }
    if (!eval_path) eval_path = default_eval(evbuf, sizeof evbuf);
    size_t nt;
    if (quant_tokenize_file(base, eval_path, &toks, &nt, &e)) {
        cli_fail("quantize", &e, "cannot tokenize the eval text %s", eval_path);
        goto out;
    }
    hearth_eval_params ep = hearth_eval_default_params();
    ep.n_ctx = window_for(base, n_ctx);
    ep.max_chunks = (int32_t)eval_chunks;
    ep.n_threads = (int)nth;
    hearth_eval_result r;
    if (hearth_eval_tokens(base, test, toks, nt, &ep, &r, &e)) {
        cli_fail("quantize", &e, "evaluation on %s failed", eval_path);
        goto out;
    }
    bool over_loss = max_loss >= 0 && r.ppl_ratio - 1.0 > max_loss;
    bool over_kld = max_kld >= 0 && r.kld_mean > max_kld;
    printf("eval: %s, %d windows of %d, %lld positions scored\n", eval_path, r.n_chunks, ep.n_ctx,
           (long long)r.n_scored);
    printf("  PPL(IN)  = %.4f +/- %.4f\n  PPL(OUT) = %.4f +/- %.4f\n", r.base.ppl, r.base.ppl_err,
           r.test.ppl, r.test.ppl_err);
    printf("  PPL ratio OUT/IN = %.5f +/- %.5f (%+.2f%%)%s\n", r.ppl_ratio, r.ppl_ratio_err,
           100.0 * (r.ppl_ratio - 1.0), over_loss ? "  OVER --max-loss" : "");
    printf("  KLD mean = %.6f +/- %.6f, median %.6f, p99 %.6f, max %.6f%s\n", r.kld_mean, r.kld_err,
           r.kld_median, r.kld_p99, r.kld_max, over_kld ? "  OVER --max-kld" : "");
    printf("  top-1 agreement = %.2f%% +/- %.2f%%\n", 100.0 * r.top1, 100.0 * r.top1_err);
    if (over_loss || over_kld) {
        fprintf(stderr, "hearth quantize: over the accuracy budget%s%s: %s not written\n",
                over_loss ? " (perplexity)" : "", over_kld ? " (KL divergence)" : "", outp);
        rc = 3;
        goto out;
    }
    hearth_gguf_writer *w = hearth_quant_job_writer(job);
    if (hearth_gguf_writer_set_f32(w, "hearth.quantize.kld_mean", (float)r.kld_mean, &e) ||
        hearth_gguf_writer_set_f32(w, "hearth.quantize.kld_p99", (float)r.kld_p99, &e) ||
        hearth_gguf_writer_set_f32(w, "hearth.quantize.ppl_base", (float)r.base.ppl, &e) ||
        hearth_gguf_writer_set_f32(w, "hearth.quantize.ppl", (float)r.test.ppl, &e) ||
        hearth_gguf_writer_set_f32(w, "hearth.quantize.ppl_ratio", (float)r.ppl_ratio, &e) ||
        hearth_gguf_writer_set_f32(w, "hearth.quantize.top1", (float)r.top1, &e) ||
        hearth_gguf_writer_set_u64(w, "hearth.quantize.eval_tokens", (uint64_t)r.n_scored, &e) ||
        hearth_gguf_writer_set_str(w, "hearth.quantize.eval_file", eval_path, &e) ||
        hearth_gguf_writer_set_str(w, "hearth.quantize.type", mix->name, &e) ||
        (max_loss >= 0 && hearth_gguf_writer_set_f32(w, "hearth.quantize.max_loss", max_loss, &e)) ||
        (max_kld >= 0 && hearth_gguf_writer_set_f32(w, "hearth.quantize.max_kld", max_kld, &e)) ||
        hearth_quant_job_write(job, outp, &e)) {
        cli_fail("quantize", &e, "cannot write %s", outp);
        goto out;
    }
    printf("wrote %s\n", outp);
    rc = 0;
out:
    hearth_model_free(test);
    if (tmp[0]) unlink(tmp);
    hearth_free(toks);
    hearth_model_free(base);
    hearth_quant_job_free(job);
    hearth_imatrix_free(im);
    return rc;
}

const cli_command cli_cmd_quantize = {
    .name = "quantize",
    .summary = "quantize a model (llama.cpp types and mixes, imatrix) within an accuracy budget",
    .usage = USAGE,
    .run = run,
};
