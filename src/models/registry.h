/*
 * registry.h: the model registry: model files stored by content hash, with
 * names, tags and versions on top (`hearth models ...`, `hearth pull`).
 *
 * On disk, under DIR = $HEARTH_HOME/models (settings key "home" + "/models"):
 *
 *   DIR/blobs/sha256-<64 hex>   one model file each, named by its SHA-256
 *                               (like ollama's blobs); written to DIR/tmp/
 *                               first, fsync'd, then renamed here, so a blob
 *                               that exists is complete and verified
 *   DIR/blobs/sha256-<hex>.minisig (or .sig) the signature that verified
 *                               it, when it came with one
 *   DIR/registry.json           names, versions, the active version of each
 *                               name, the default model, update channels
 *   DIR/registry.lock           flock(2)ed by every writer (released by the
 *                               kernel if the writer dies)
 *   DIR/tmp/                    files being written (temp copies, partial
 *                               downloads; see pull.h)
 *
 * registry.json is only ever replaced whole: written to a temp file in DIR,
 * fsync'd, renamed over the old one, then DIR fsync'd. A blob is renamed into
 * blobs/ (and blobs/ fsync'd) before any registry.json names it. So a process
 * killed at any moment (SIGKILL included) leaves either the old or the new
 * registry.json, and every blob it names exists; the worst left behind is an
 * unreferenced blob or temp file (registry_gc removes those).
 *
 * registry.json (format version 1):
 *   { "format": 1, "default": "NAME:TAG" | null,
 *     "models": { "NAME:TAG": {
 *        "active": "<sha256>", "previous": "<sha256>" | null,
 *        "channel": "https://.../manifest.json" | null,
 *        "versions": [ { "sha256": "...", "size": N, "version": "1.2" | "",
 *                        "source": "URL or file path", "signed_by": "" | key,
 *                        "added_ms": T }, ... ] } } }      (oldest first)
 *
 * Names: "NAME:TAG"; a reference without a tag means NAME:latest. NAME and
 * TAG are 1..100 bytes of [A-Za-z0-9._-] (NAME may also hold '/'), not
 * starting with '.' or '-'. A reference may also be "sha256-<hex>" or
 * "sha256:<hex>" (a blob, by its full hash or a unique prefix of >= 12 hex
 * digits) or NAME[:TAG]@<hex prefix or version> (one version of a name).
 *
 * Handles: one thread per handle; several processes may use the same
 * registry at once (writers serialize on registry.lock; each mutation
 * re-reads registry.json under the lock before it changes it). Pointers into
 * the handle's snapshot (registry_model, registry_version) are borrowed:
 * valid until the next call that changes or reloads this handle, or
 * registry_free.
 */
#ifndef HEARTH_MODELS_REGISTRY_H
#define HEARTH_MODELS_REGISTRY_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct registry registry;

/* Longest accepted "NAME:TAG" (bytes, without the NUL). */
#define REGISTRY_NAME_MAX 200

/* One stored version of a name. */
typedef struct {
    char sha256[65];        /* lowercase hex; the blob blobs/sha256-<this> */
    uint64_t size;          /* bytes */
    const char *version;    /* the publisher's version string ("" when unknown) */
    const char *source;     /* where it came from: URL or the added file's path */
    const char *signed_by;  /* key that verified its signature; "" unsigned */
    int64_t added_ms;       /* Unix epoch ms when it was added */
} registry_version;

/* One name with its versions. */
typedef struct {
    const char *name;               /* "NAME:TAG" */
    const char *channel;            /* update channel URL; "" none */
    const registry_version *active; /* never NULL */
    const registry_version *previous; /* what `rollback` switches to; NULL none */
    const registry_version *versions; /* n_versions, oldest first */
    size_t n_versions;
    bool is_default;                /* the default model for run/chat/serve */
} registry_model;

/* Opens the registry in dir (NULL: <home>/models, where home is
 * hearth_store_default_dir's answer). Creates dir, blobs/ and tmp/ (mode
 * 0700) if missing; a missing registry.json is an empty registry.
 * Errors: HEARTH_E_IO (directory not usable), HEARTH_E_FORMAT (registry.json
 * is not a registry: it is left untouched), HEARTH_E_UNSUPPORTED (a newer
 * format). OUT: *out owns the handle (registry_free); NULL on failure.
 * Any thread. */
hearth_status registry_open(const char *dir, registry **out, hearth_error *err);
/* As registry_open with dir = <settings "home">/models. s NULL: load the
 * settings. */
hearth_status registry_open_settings(const hearth_settings *s, registry **out,
                                     hearth_error *err);
/* NULL is a no-op. */
void registry_free(registry *r);

/* Re-reads registry.json (another process may have changed it).
 * Invalidates borrowed pointers. */
hearth_status registry_reload(registry *r, hearth_error *err);

/* The directory (borrowed). */
const char *registry_dir(const registry *r);
/* DIR/blobs/sha256-<sha256> into buf. false if it does not fit. */
bool registry_blob_path(const registry *r, const char *sha256, char *buf, size_t cap);
/* DIR/tmp (borrowed): where temp and partial files go (same file system as
 * blobs/, so a rename is atomic). */
const char *registry_tmp_dir(const registry *r);

/* Number of names, and name i in name order (NULL if i is out of range). */
size_t registry_count(const registry *r);
const registry_model *registry_model_at(const registry *r, size_t i);
/* The entry of NAME[:TAG] (no tag: ":latest"), or NULL. */
const registry_model *registry_find(const registry *r, const char *name);
/* The default model's entry, or NULL when none is set. */
const registry_model *registry_default(const registry *r);

/* Normalizes NAME[:TAG] to "NAME:TAG" into buf (REGISTRY_NAME_MAX + 1 bytes).
 * HEARTH_E_ARG for a name that breaks the rules above. Any thread. */
hearth_status registry_name_norm(const char *name, char *buf, size_t cap, hearth_error *err);

/* What a reference resolved to. */
typedef struct {
    char path[4096];   /* the blob's path */
    char sha256[65];
    char name[REGISTRY_NAME_MAX + 1]; /* "NAME:TAG", or "" for a bare blob reference */
    const registry_version *version;  /* borrowed; NULL for a bare blob */
} registry_resolved;

/* Resolves a reference (see the file comment; NULL or "": the default
 * model) to a blob that exists. HEARTH_E_NOTFOUND when nothing matches (or
 * no default is set), HEARTH_E_ARG for an ambiguous hash prefix or a bad
 * name, HEARTH_E_IO when the registry names a blob that is missing. */
hearth_status registry_resolve(const registry *r, const char *ref, registry_resolved *out,
                               hearth_error *err);

/* ---- changes (each one atomic and durable on return) ---------------------- */

/* What registry_add_version records (strings copied; NULL: ""). */
typedef struct {
    const char *version;
    const char *source;
    const char *signed_by;
    const char *channel;    /* non-NULL: set the name's channel too */
    bool activate;          /* make it the active version (previous = the old
                               active one); a new name's first version is
                               always active */
    bool make_default;      /* also make the name the default model */
} registry_add_params;

/* Moves the complete, already verified file tmp_path (it must be in
 * registry_tmp_dir, or at least on its file system) to blobs/sha256-<sha256>
 * (fsync'd first). If the blob exists already, tmp_path is removed instead.
 * The caller states the hash; nothing here re-hashes. */
hearth_status registry_commit_blob(registry *r, const char *tmp_path, const char *sha256,
                                   hearth_error *err);

/* Keeps the signature file that verified blob sha256 beside it, as
 * blobs/sha256-<hex>.minisig (or .sig for a sigstore bundle: by sig_path's
 * suffix), so that hearth_verify_file (and require_signature) finds it when
 * the blob is opened. Moves sig_path (fsync'd, renamed). Deleted with the
 * blob. */
hearth_status registry_attach_signature(registry *r, const char *sha256, const char *sig_path,
                                        hearth_error *err);

/* Records blob sha256 (which must exist: registry_commit_blob) as a version
 * of name. Adding a hash the name has already only updates its fields (and
 * activates it if asked). HEARTH_E_ARG for a bad name, HEARTH_E_NOTFOUND
 * when the blob is missing. */
hearth_status registry_add_version(registry *r, const char *name, const char *sha256,
                                   const registry_add_params *p, hearth_error *err);

/* Copies the file at path into the registry (hashing it on the way, temp
 * file + fsync + rename) and records it as a new active version of name
 * (NULL: the file name without directory and ".gguf", normalized; "model"
 * if that is not a valid name). OUT: res (optional): the resolved entry. */
hearth_status registry_add_file(registry *r, const char *path, const char *name,
                                const registry_add_params *p, registry_resolved *res,
                                hearth_error *err);

/* Makes version sha256 (a full hash or a unique prefix of >= 12 digits, or a
 * version string) of name active; previous becomes the one that was.
 * Activating the active version changes nothing. */
hearth_status registry_activate(registry *r, const char *name, const char *version,
                                hearth_error *err);
/* Switches name back to its previous version (and the previous becomes the
 * one rolled back from, so a second rollback undoes the first).
 * HEARTH_E_STATE when there is no previous version. */
hearth_status registry_rollback(registry *r, const char *name, hearth_error *err);

/* Makes name the default model (NULL: none). */
hearth_status registry_set_default(registry *r, const char *name, hearth_error *err);
/* Sets (url non-empty) or clears (NULL / "") name's update channel. */
hearth_status registry_set_channel(registry *r, const char *name, const char *url,
                                   hearth_error *err);

/* Removes name (all its versions); if it was the default, there is none.
 * Blobs no other name uses are deleted after the registry is written.
 * OUT: *freed (optional): bytes of the deleted blobs. */
hearth_status registry_remove(registry *r, const char *name, uint64_t *freed,
                              hearth_error *err);
/* Removes one version of name that is not active (HEARTH_E_STATE if it is);
 * deletes its blob if no other name uses it. For `hearth storage --prune`. */
hearth_status registry_remove_version(registry *r, const char *name, const char *sha256,
                                      uint64_t *freed, hearth_error *err);

/* Deletes blobs no name refers to and temp files in tmp/ older than
 * max_age_s that are not partial downloads (max_age_s < 0: keep tmp/).
 * OUT: *freed (optional). */
hearth_status registry_gc(registry *r, int64_t max_age_s, uint64_t *freed, hearth_error *err);

#endif
