/* placeholder */
#include "ab_cli.h"
#include "cli.h"
int ab_eval_main(int argc, char **argv) { (void)argc; (void)argv; return cli_fail("ab eval", NULL, "not yet"); }
