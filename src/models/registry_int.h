/*
 * registry_int.h: the registry handle's insides, shared by registry.c (the
 * operations), registry_json.c (reading and writing registry.json) and
 * registry_blob.c (blobs, the lock, fsync'd renames).
 *
 * Invariant of a loaded snapshot: entries sorted by name, names unique and
 * normalized, every entry has >= 1 version, active and previous index into
 * its versions (previous != active), hashes are 64 lowercase hex digits and
 * unique within an entry.
 */
#ifndef HEARTH_MODELS_REGISTRY_INT_H
#define HEARTH_MODELS_REGISTRY_INT_H

#include "models/registry.h"

#include <sys/types.h>

typedef struct {
    registry_model m;          /* the public view; its pointers point below */
    char *name, *channel;
    registry_version *v;       /* strings owned (hearth_strdup) */
    size_t n, cap;
    size_t active;
    ptrdiff_t previous;        /* -1: none */
} reg_entry;

struct registry {
    char *dir, *blobs, *tmp, *file, *lockfile;
    reg_entry *e;
    size_t n, cap;
    char *def;                 /* default name, or NULL */
    int lock_fd;               /* -1 unless a change is under way */
};

/* registry_json.c: parses buf[0..len) into r's snapshot (replacing it only
 * on success). HEARTH_E_FORMAT naming what is wrong. */
hearth_status reg_parse(registry *r, const char *buf, size_t len, hearth_error *err);
/* Reads r->file (missing: empty registry). */
hearth_status reg_load(registry *r, hearth_error *err);
/* Writes r's snapshot to r->file atomically and durably. */
hearth_status reg_save(const registry *r, hearth_error *err);
/* Frees the snapshot (entries and default), leaving an empty registry. */
void reg_clear(registry *r);
/* Points each entry's public view at its fields (after any change). */
void reg_refresh_views(registry *r);

/* registry_blob.c */
/* Takes the writer lock (blocking) and re-reads registry.json. */
hearth_status reg_lock(registry *r, hearth_error *err);
/* Releases it. */
void reg_unlock(registry *r);
/* fsyncs directory dir. */
hearth_status reg_fsync_dir(const char *dir, hearth_error *err);
/* Writes len bytes to path atomically: temp file in the same directory,
 * fsync, rename, fsync of the directory. */
hearth_status reg_write_atomic(const char *path, const void *buf, size_t len,
                               hearth_error *err);
/* True if some entry has a version with this hash. */
bool reg_blob_used(const registry *r, const char *sha256);
/* Deletes the blob if no entry uses it; adds its size to *freed. */
void reg_blob_drop_unused(registry *r, const char *sha256, uint64_t *freed);

/* True for 64 lowercase hex digits. */
bool reg_is_sha256(const char *s);

#endif
