/*
 * spec_text.c: how the CLI shows speculative decoding's figures (drafted,
 * accepted, acceptance rate, mean accepted length per verification step).
 */
#include "cli.h"

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

void cli_print_spec_json(FILE *f, const hearth_gen_result *r) {
    fprintf(f,
            ",\"speculative\":{\"drafted\":%d,\"accepted\":%d,\"acceptance\":%.4f,\"steps\":%d,"
            "\"mean_accepted\":%.3f}",
            r->n_drafted, r->n_accepted, ratio(r->n_accepted, r->n_drafted), r->n_spec_steps,
            ratio(r->n_accepted, r->n_spec_steps));
}

void cli_print_spec_line(FILE *f, const char *cmd, const hearth_gen_result *r) {
    fprintf(f,
            "%s: speculative: drafted %d, accepted %d (%.1f%%), %d verification steps, %.2f "
            "accepted per step\n",
            cmd, r->n_drafted, r->n_accepted, 100 * ratio(r->n_accepted, r->n_drafted),
            r->n_spec_steps, ratio(r->n_accepted, r->n_spec_steps));
}
