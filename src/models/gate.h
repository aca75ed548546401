/*
 * gate.h: the privacy gate every model download passes (pull, update
 * checks, update downloads): the policy decides, the audit log records.
 *
 * Policy: the setting policy_pull = allow | never (default allow). A pull or
 * an update is a request the user makes for a public file: it carries none
 * of the user's data (no prompt, no history), so it is not governed by the
 * cloud router's `policy` (local-only by default), only by policy_pull.
 * With policy_pull = never nothing opens a socket: the attempt is recorded
 * as "blocked" and refused. Background checks (`hearth serve
 * --update-every`) also need policy_update = allow | never (default allow).
 *
 * Audit: every download is recorded (kind "pull" or "update", category
 * "general", the host) as "sending" before the first byte leaves; if that
 * record can not be written, nothing is sent. The record is completed with
 * the bytes received and the outcome when the download ends.
 */
#ifndef HEARTH_MODELS_GATE_H
#define HEARTH_MODELS_GATE_H

#include "hearth.h"

#include <stdbool.h>

typedef struct {
    hearth_store *store;  /* owned; the audit log */
    const char *kind;     /* "pull" / "update" (static) */
    int64_t audit_id;     /* the open record, 0 none */
    char host[256];
    char reason[256];
} models_gate;

/* Asks whether a download of url (kind "pull" or "update"; background: an
 * automatic check) may go out under the settings s, and records it.
 * HEARTH_OK: it may; g holds an open audit record (complete it with
 * models_gate_done). HEARTH_E_STATE: the policy refuses it (recorded as
 * "blocked"; the message says which setting). HEARTH_E_IO: the audit log can
 * not be written (nothing may be sent). g is always safe to models_gate_done.
 * One thread per gate. */
hearth_status models_gate_open(const hearth_settings *s, const char *kind, const char *url,
                               bool background, models_gate *g, hearth_error *err);

/* Completes the audit record: outcome ("ok", "http 404", "cut", ...),
 * bytes received, latency; then closes the store. No-op on a zeroed gate. */
void models_gate_done(models_gate *g, const char *outcome, int64_t bytes_in, double latency_ms);

/* The host part of an http(s) URL into buf ("" when there is none). */
void models_url_host(const char *url, char *buf, size_t cap);

#endif
