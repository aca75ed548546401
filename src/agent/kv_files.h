/*
 * kv_files.h: the saved-state files of $HEARTH_HOME/kv shared by the
 * agent's sessions (kv_cache.c) and the server's conversations
 * (kv_store.c): names, the file's head, listing, writing and LRU eviction.
 * The format and naming are described in kv_cache.c. Not thread-safe per
 * call's data; the directory may be shared by several processes (writes go
 * to a temporary name, then rename()).
 */
#ifndef HEARTH_AGENT_KV_FILES_H
#define HEARTH_AGENT_KV_FILES_H

#include "hearth.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define KVC_MAGIC "HKVC"
#define KVC_VERSION 1u
#define KVC_MAX_TOKENS (1u << 24)
#define KVC_TMP_STALE_S 600 /* a temporary file this old is a crashed writer's */
#define KVC_NAME_LEN 53     /* <16>-<16>-<16>.kv */

typedef struct {
    char name[256];
    int64_t size;
    struct timespec mtime;
} kvf_file;

/* The prefix hash of a state: the first 16 hex digits of SHA-256 over the
 * model file's hash (64 hex digits) and the token ids (out: 17 bytes). */
bool kvf_prefix_hash(const char *model_hash, const int32_t *t, size_t n, char out[17]);

/* Reads the head of the file called name from f. OUT: *tokens (owned:
 * hearth_free), *n. f is left at the engine state. False when the file is
 * not one of ours for this model, or its token ids do not hash to the name
 * (damage: the engine's checksum covers only the state). */
bool kvf_read_head(const char *model_hash, FILE *f, const char *name, int32_t **tokens, uint32_t *n);

/* kvf_read_head of the file dir/name, opened and closed here (the indexes'
 * scans, which need only the heads). False also when it cannot be opened. */
bool kvf_head_at(const char *dir, const char *name, const char *model_hash, int32_t **tokens, uint32_t *n);

/* The regular files of dir whose names start with stem (NULL: every *.kv
 * and temporary file). OUT: *out (owned: hearth_free), *n. */
bool kvf_list(const char *dir, const char *stem, kvf_file **out, size_t *n);

/* Removes the least recently used files of dir until it holds at most max
 * bytes, keeping keep (a name, or NULL), and stale temporary files; gone
 * (may be NULL) hears each name removed. */
void kvf_evict(const char *dir, int64_t max, const char *keep, void (*gone)(void *, const char *),
               void *user);

/* Writes seq's first n positions of ctx with their tokens t as dir/name
 * (0600; a temporary file, then rename). OUT: err says why it failed. */
hearth_status kvf_write(const char *dir, const char *name, const char *model_hash, const hearth_ctx *ctx,
                        int32_t seq, const int32_t *t, size_t n, hearth_error *err);

#endif
