/*
 * cmd_ab.c: `hearth ab`: A/B tests of model variants (e.g. quantization
 * levels). `ab eval` compares files offline on one evaluation text;
 * `ab report` reads what `hearth serve --variant` recorded.
 */
#include "ab_cli.h"
#include "cli.h"

#include <string.h>

static const char USAGE[] =
    "usage: hearth ab eval -m A.gguf -m B.gguf [-m ...] -f EVAL [-c 256] [-t THREADS]\n"
    "                      [--chunks N] [-p 128] [-n 32] [--questions N] [--plot FILE.svg] [--json]\n"
    "       hearth ab report [--since MINUTES] [--baseline NAME] [--json]\n"
    "\n"
    "ab eval: the same evaluation over each model file, one table: file size, peak RSS\n"
    "(each variant measured alone, in a child process), prompt and generation tokens/s,\n"
    "perplexity on EVAL, KL divergence and top-1 agreement against the most precise\n"
    "variant (the most bits per weight), and, when EVAL is a file of question<TAB>answer\n"
    "lines, task accuracy (greedy answer through the chat template contains the answer;\n"
    "the perplexity is then over the question/answer turns rendered by the template).\n"
    "--plot FILE.svg draws quality (KLD, or PPL) against speed and against size.\n"
    "A file made by hearth quantize also shows the figures quantize stated in its\n"
    "metadata (hearth.quantize.*: measured at write time, over quantize's eval text).\n"
    "\n"
    "ab report: per-variant latency, tokens/s, router confidence, cloud share and user\n"
    "feedback of the answers `hearth serve --variant` recorded, with 95% intervals, and\n"
    "each variant against the baseline (default: the one with most answers): Welch's\n"
    "interval for means, Newcombe's for shares; 'no difference yet' when it holds 0.\n";

static int run(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "eval")) return ab_eval_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "report")) return ab_report_main(argc - 1, argv + 1);
    return cli_fail("ab", NULL, "expected 'eval' or 'report' (see hearth ab --help)");
}

const cli_command cli_cmd_ab = {
    .name = "ab",
    .summary = "A/B tests of model variants: offline evaluation, online report",
    .usage = USAGE,
    .run = run,
};
