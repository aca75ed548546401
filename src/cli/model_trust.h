/*
 * model_trust.h: the signature policy for models the CLI opens
 * (require_signature, trusted_keys, the verified-state file), shared by
 * `hearth verify` and every command that loads a model (run, chat, serve,
 * bench, perplexity).
 */
#ifndef HEARTH_CLI_MODEL_TRUST_H
#define HEARTH_CLI_MODEL_TRUST_H

#include "hearth.h"

#include <stdbool.h>

typedef struct {
    hearth_verify_params p; /* its paths point into the buffers below */
    char trust_dir[4096];
    char state_path[4096];
} cli_trust;

/* Fills t from resolved settings: require_signature (true/false, 1/0,
 * yes/no, on/off; default false), trusted_keys (default HOME/trusted-keys)
 * and the state file HOME/verified-state (HOME: the "home" setting).
 * Returns 0, or prints why and returns 1 for a bad value. */
int cli_trust_from_settings(const char *cmd, const hearth_settings *s, cli_trust *t);

/* Makes the "home" directory (0700) if missing, so that the verified
 * state can be written; only done when a check runs. */
void cli_trust_make_home(const hearth_settings *s);

/* The gate before a model is opened: when require_signature is on,
 * verifies model_path (reusing the verified state) and refuses a model that
 * is unsigned, badly signed, signed by an untrusted key or modified after
 * signing, saying which, before anything reads its tensors. s NULL: the
 * settings are loaded here. Returns 0 when the model may be opened, else
 * the exit status (1) after printing "hearth CMD: refusing model ...". */
int cli_model_gate(const char *cmd, const hearth_settings *s, const char *model_path);

#endif
