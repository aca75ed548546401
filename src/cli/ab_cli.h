/*
 * ab_cli.h: the two halves of `hearth ab` (cmd_ab.c dispatches): the
 * offline comparison of model files (ab_eval.c) and the report of the
 * online A/B test that `hearth serve --variant` records (ab_report.c).
 */
#ifndef HEARTH_CLI_AB_CLI_H
#define HEARTH_CLI_AB_CLI_H

/* `hearth ab eval ...` (argv[0] == "eval"). Returns the exit status. */
int ab_eval_main(int argc, char **argv);
/* `hearth ab report ...` (argv[0] == "report"). Returns the exit status. */
int ab_report_main(int argc, char **argv);

#endif
