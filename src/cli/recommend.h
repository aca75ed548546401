/*
 * recommend.h: the hook by which `hearth models recommend` runs the model
 * recommendation of cmd_recommend.c (also reachable as `hearth recommend`).
 * cmd_models.c dispatches "recommend" here with its own argv shifted so that
 * argv[0] is "recommend".
 */
#ifndef HEARTH_CLI_RECOMMEND_H
#define HEARTH_CLI_RECOMMEND_H

/* Runs `hearth models recommend` with argv[1..argc) its arguments (argv[0]
 * is ignored). Returns the exit status: 0 with a best model, 1 when no model
 * fits the limits or on an error, 2 for a bad argument. */
int cli_models_recommend(int argc, char **argv);

#endif
