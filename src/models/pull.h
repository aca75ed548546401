/*
 * pull.h: downloading a model file into the registry's tmp/ (HTTP(S)
 * through libcurl), resumable, checked before it becomes visible.
 *
 * A download of URL writes DIR/tmp/pull-<sha256(URL)[0..24]>.partial and,
 * beside it, .partial.json (the URL, the expected hash and size). A pull
 * that is cut keeps both; the next pull of the same URL (with the same
 * expected hash, if any) sends "Range: bytes=N-" and appends only what is
 * missing. A server that answers 200 instead of 206 refuses ranges: the
 * file restarts from zero and the caller is told (note callback). Once the
 * last byte is in, the size and SHA-256 are checked, then the signature (if
 * any); only a file that passes is handed back, ready for
 * registry_commit_blob (an atomic rename into blobs/). A file that fails is
 * deleted: nothing wrong is ever visible in blobs/.
 *
 * Nothing here decides whether a download may happen: the caller passes the
 * privacy gate (gate.h) first.
 */
#ifndef HEARTH_MODELS_PULL_H
#define HEARTH_MODELS_PULL_H

#include "hearth.h"
#include "models/registry.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t have;        /* bytes in the file so far (resumed ones included) */
    uint64_t total;       /* expected total; 0 unknown */
    uint64_t resumed_from;/* bytes kept from an earlier, interrupted pull */
    double rate;          /* bytes/s of this transfer (0 at first) */
    double eta_s;         /* seconds left; < 0 unknown */
    bool done;            /* last call for this file */
} models_progress;

/* How downloads behave (all optional). */
typedef struct {
    long connect_timeout_s;  /* 0: 15 */
    long stall_timeout_s;    /* no byte for this long: give up (kept for resume); 0: 30 */
    int retries;             /* resume attempts after a cut or stall within one call */
    const char *ca_file;     /* PEM CAs trusted instead of the system's */
    /* Progress, about every 100 ms and at the end; may be NULL. */
    void (*progress)(void *ud, const models_progress *p);
    /* Notices meant for the user ("server refused Range: restarting from
     * zero"); may be NULL. */
    void (*note)(void *ud, const char *msg);
    void *ud;
} models_net;

/* What one file must be. */
typedef struct {
    const char *url;         /* http:// or https:// */
    const char *sha256;      /* expected hash (64 hex), or NULL */
    uint64_t size;           /* expected size, or 0 */
    uint64_t max_size;       /* refuse a larger file; 0: 1 TiB */
    /* Signature: sig_url (a minisign .minisig or sigstore bundle to download)
     * or sig_text (the signature file's contents, e.g. from a manifest).
     * With either, the signature must verify against pubkey_path or a key in
     * trust_dir; with neither, require_signature refuses the file. */
    const char *sig_url;
    const char *sig_text;
    const char *pubkey_path;
    const char *trust_dir;
    bool require_signature;
} models_want;

typedef struct {
    char path[4200];         /* the verified file in tmp/ (give to registry_commit_blob) */
    char sha256[65];
    uint64_t size;
    uint64_t downloaded;     /* body bytes received by this call (all attempts) */
    uint64_t resumed_from;   /* bytes kept from an earlier pull */
    bool restarted;          /* the server refused Range; downloaded from zero */
    char signed_by[128];     /* the key that verified the signature, "" none */
    char sig_path[4300];     /* the signature file that verified it, in tmp/ ("" none):
                                registry_attach_signature keeps it with the blob */
    char trusted_comment[512];
} models_fetched;

/* Downloads w->url into r's tmp/ as described above. Errors, each with a
 * message that says what happened and what was kept:
 *  HEARTH_E_IO       connection refused or cut, stall, HTTP error status
 *                    ("HTTP 404"), a bad Content-Range, disk write failure;
 *                    a cut or stall keeps the partial file for a resume
 *  HEARTH_E_LIMIT    not enough disk space (checked with statvfs against the
 *                    announced size before the body is written), or larger
 *                    than max_size / the expected size
 *  HEARTH_E_SIGNATURE wrong size or SHA-256 ("wrong bytes"), or the
 *                    signature is refused; the file is deleted
 * OUT: *out. *bytes_in (optional) is incremented by the bytes received
 * (for the audit record), even on failure. One thread per call. */
hearth_status models_fetch(registry *r, const models_net *net, const models_want *w,
                           models_fetched *out, uint64_t *bytes_in, hearth_error *err);

/* Downloads a small file (a manifest, a signature) of at most max bytes into
 * *buf (owned: hearth_free; NUL-terminated), *len. Errors as above. */
hearth_status models_fetch_small(const models_net *net, const char *url, size_t max, char **buf,
                                 size_t *len, uint64_t *bytes_in, hearth_error *err);

/* SHA-256 of a file into hex (OpenSSL, streaming). Any thread. */
hearth_status models_sha256_file(const char *path, char hex[65], uint64_t *size,
                                 hearth_error *err);

#endif
