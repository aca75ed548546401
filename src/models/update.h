/*
 * update.h: signed updates with rollback (`hearth models update`, `hearth
 * serve --update-every`).
 *
 * One update of NAME: fetch its channel's manifest and MANIFEST_URL.minisig
 * (through the privacy gate, kind "update"); verify the manifest's signature
 * against the trusted keys, then parse it (manifest.h); if it names a hash
 * the registry does not have, download it (pull.h: resumable, size + SHA-256
 * + the model's own signature when the manifest gives one), move it into
 * blobs/, smoke-test it (models_smoke_test), and only then make it the
 * active version in one atomic registry write (the old one becomes
 * "previous", so `rollback` switches back). Any failure before that write
 * leaves the old version active; a SIGKILL at any moment leaves a registry
 * that opens and an active blob that is complete (registry.h).
 */
#ifndef HEARTH_MODELS_UPDATE_H
#define HEARTH_MODELS_UPDATE_H

#include "hearth.h"
#include "models/pull.h"
#include "models/registry.h"

#include <stdbool.h>

typedef struct {
    const hearth_settings *settings; /* home, policy_pull / policy_update; required */
    const models_net *net;           /* may be NULL */
    const char *pubkey_path;         /* trust only this key; NULL: trust_dir */
    const char *trust_dir;           /* the trusted keys */
    bool background;                 /* an automatic check (policy_update applies) */
    int n_threads;                   /* smoke test threads; 0: default */
} models_update_params;

typedef enum {
    MODELS_UPDATE_CURRENT,   /* the active version is the manifest's */
    MODELS_UPDATE_SWITCHED,  /* a new version was installed and made active */
    MODELS_UPDATE_HELD,      /* the manifest's version is one rolled back from: not re-applied */
} models_update_outcome;

typedef struct {
    models_update_outcome outcome;
    char name[REGISTRY_NAME_MAX + 1];
    char old_sha256[65], new_sha256[65];
    char version[65];
    char notes[1024];           /* the manifest's notes (cut) */
    double smoke_ppl;           /* the probe's perplexity; < 0 when not run */
    uint64_t downloaded;        /* bytes received for this update */
    char signed_by[128];        /* the key that signed the manifest */
} models_update_result;

/* Updates name (which must have a channel) as described above. Errors:
 * HEARTH_E_STATE no channel, or the policy refuses (nothing sent);
 * HEARTH_E_SIGNATURE the manifest's or the model's signature or hash is
 * refused; HEARTH_E_FORMAT a bad manifest (or one for another model);
 * HEARTH_E_UNSUPPORTED the manifest needs a newer hearth; HEARTH_E_IO a
 * download failed (what was received is kept for the next try); and the
 * smoke test's errors. In every error case the active version is unchanged.
 * OUT: *res. One thread per registry handle. */
hearth_status models_update(registry *r, const char *name, const models_update_params *p,
                            models_update_result *res, hearth_error *err);

/* Smoke test of a model file: it loads through the public API, the fixed
 * probe text tokenizes to >= 4 tokens inside the vocabulary, every logit is
 * finite, and the probe's perplexity is finite and below 2 * n_vocab (a
 * model that can not beat twice uniform guessing is broken). OUT: *ppl
 * (optional). HEARTH_E_FORMAT with what failed. Any thread. */
hearth_status models_smoke_test(const char *path, int n_threads, double *ppl, hearth_error *err);

#endif
