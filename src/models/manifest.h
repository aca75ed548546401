/*
 * manifest.h: an update channel's manifest (docs/models.md): one JSON object
 * naming the newest version of a model:
 *   { "name": "tiny", "version": "2", "url": "https://.../tiny-2.gguf"
 *     (or relative to the manifest's URL), "size": 1234, "sha256": "<64 hex>",
 *     "signature": "https://...minisig" or the .minisig text itself (optional),
 *     "min_hearth_version": "0.1.0" (optional), "notes": "..." (optional) }
 * The manifest itself is signed: MANIFEST_URL.minisig, checked against the
 * trusted keys before it is parsed (update.c).
 */
#ifndef HEARTH_MODELS_MANIFEST_H
#define HEARTH_MODELS_MANIFEST_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_BYTES (1u << 20)

typedef struct {
    char name[201];           /* as written (a valid registry NAME[:TAG]) */
    char version[65];         /* 1..64 printable ASCII bytes */
    char url[4097];           /* as written: absolute http(s) or relative */
    uint64_t size;            /* > 0 */
    char sha256[65];          /* lowercase */
    char *signature;          /* owned (manifest_free); NULL when absent */
    bool signature_is_url;
    int min_version[3];       /* {0,0,0} when absent */
    char *notes;              /* owned; NULL when absent */
} manifest;

/* Parses buf[0..len) (not NUL-terminated; untrusted). Every field is checked
 * for type, length and form; unknown keys are ignored. HEARTH_E_FORMAT names
 * the first bad field. On failure *m is zeroed (nothing to free).
 * Any thread. */
hearth_status manifest_parse(const void *buf, size_t len, manifest *m, hearth_error *err);
/* Frees the owned strings; the struct may be parsed into again. */
void manifest_free(manifest *m);

/* Compares "MAJOR.MINOR.PATCH" v with m->min_version: true when v is at
 * least the minimum (or v does not parse: then false). */
bool manifest_version_ok(const manifest *m, const char *v);

/* Parses "A.B.C" (each 0..999999, nothing after but an optional "-..."
 * suffix) into out. */
bool manifest_parse_semver(const char *s, int out[3]);

#endif
