/*
 * server_store.h: the sync server's storage, one small interface with two
 * backends: SQLite (server_store_sqlite.c, one file, the default) and
 * PostgreSQL (server_store_pg.c, libpq). The backends offer primitives (look
 * up, insert, update, inside a transaction); the protocol's rules (push,
 * pull, registration; server_apply.c) are written once on top of them, so
 * both backends have the same semantics by construction.
 *
 * What is stored: users; enrollment tokens and device tokens as SHA-256 hex
 * only; devices (name, pull position, stored bytes); the key info; the change
 * log (seq, device, change_id, collection, row, op, version, hlc, payload:
 * opaque ciphertext, never decoded); and the current state of each row
 * (version, op, hlc, device, seq of the change that made it).
 *
 * Transactions: tx_begin(user) starts a write transaction that holds the
 * user's lock until tx_commit / tx_rollback, so pushes of one user are
 * serialized (seq order equals commit order within a user, which pull by
 * cursor relies on). tx_commit returns only once the commit is durable
 * (SQLite WAL with synchronous=FULL; PostgreSQL COMMIT with
 * synchronous_commit on).
 *
 * Thread-safety: one handle may be used from several threads; the backend
 * serializes calls internally (a mutex around one connection, or a pool).
 * A transaction is bound to the thread that began it (sstore_tx).
 */
#ifndef HEARTH_SYNC_SERVER_STORE_H
#define HEARTH_SYNC_SERVER_STORE_H

#include "hearth.h"
#include "sync/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSTORE_HASH_HEX 65 /* SHA-256 as lowercase hex + NUL */

typedef struct sstore sstore;
typedef struct sstore_tx sstore_tx;

/* A device as authentication finds it. */
typedef struct {
    char id[SYNC_MAX_ID + 1];
    char user[SYNC_MAX_ID + 1];
    char name[SYNC_MAX_ID + 1];
    int64_t created, last_seen; /* Unix seconds */
    int64_t pull_pos;           /* the last `after` it pulled with */
    int64_t stored_bytes;       /* payload bytes it pushed that are stored */
    bool revoked;
} sstore_device;

/* The current state of a row (row_state). */
typedef struct {
    int64_t version, hlc, seq;
    sync_op op;
    char device[SYNC_MAX_ID + 1];
} sstore_row;

/* One entry of the log to insert. */
typedef struct {
    const char *user, *device, *collection, *row;
    int64_t change_id, version, hlc;
    sync_op op;
    const uint8_t *payload; /* NULL for a delete */
    size_t payload_len;
} sstore_entry;

typedef struct {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(sstore *s);

    /* ---- write transaction, locked per user ---- */
    hearth_status (*tx_begin)(sstore *s, const char *user, sstore_tx **out, hearth_error *err);
    /* Durable when it returns HEARTH_OK; the transaction is gone either way. */
    hearth_status (*tx_commit)(sstore_tx *t, hearth_error *err);
    void (*tx_rollback)(sstore_tx *t);
    /* The result of (device, change_id) if it was applied: *found false if not. */
    hearth_status (*find_applied)(sstore_tx *t, const char *device, int64_t change_id,
                                  bool *found, int64_t *seq, int64_t *version, hearth_error *err);
    hearth_status (*get_row)(sstore_tx *t, const char *user, const char *collection,
                             const char *row, bool *found, sstore_row *out, hearth_error *err);
    /* The payload of log entry seq (*out hearth_malloc'ed, NULL for none). */
    hearth_status (*get_payload)(sstore_tx *t, int64_t seq, uint8_t **out, size_t *len,
                                 hearth_error *err);
    /* Appends e to the log with a new seq (greater than every seq before). */
    hearth_status (*insert)(sstore_tx *t, const sstore_entry *e, int64_t *seq, hearth_error *err);
    /* Sets the row's current state (insert or replace). */
    hearth_status (*put_row)(sstore_tx *t, const char *user, const char *collection,
                             const char *row, const sstore_row *r, hearth_error *err);
    /* The greatest seq of user's log as this transaction sees it, before
     * its own inserts (0 when empty): with the user's lock held, every
     * entry of the user above it is the transaction's own. */
    hearth_status (*tx_head)(sstore_tx *t, const char *user, int64_t *out, hearth_error *err);
    /* Adds bytes to device's stored bytes; *total: the sum after, as this
     * transaction sees it (the quota is checked on it: the figure read at
     * authentication may be stale by a push of the same device that
     * committed since). */
    hearth_status (*add_stored)(sstore_tx *t, const char *device, int64_t bytes,
                                int64_t *total, hearth_error *err);
    /* Optional (NULL: none). Called once after tx_begin with the whole push
     * of device: the backend may load what find_applied / get_row will ask
     * for in a few round trips, and defer insert / put_row to tx_commit,
     * as long as every primitive answers as if each call went to the
     * database in order. m (borrowed) stays valid until the transaction
     * ends. */
    hearth_status (*prefetch)(sstore_tx *t, const char *user, const char *device,
                              const sync_push *m, hearth_error *err);

    /* ---- reads and small updates (each its own transaction) ---- */
    /* Log entries of user with seq > after that are not compacted, in seq
     * order, at most limit; *more when there are others after them. */
    hearth_status (*pull)(sstore *s, const char *user, int64_t after, size_t limit,
                          sync_pull_reply *out, hearth_error *err);
    /* Records the device's pull position and its last contact, then drops
     * the content of tombstoned rows that every active device has passed. */
    hearth_status (*pulled)(sstore *s, const char *user, const char *device, int64_t after,
                            hearth_error *err);
    /* The greatest seq of user's log (0 when empty). */
    hearth_status (*server_seq)(sstore *s, const char *user, int64_t *out, hearth_error *err);
    /* The device whose token hashes to token_hash, revoked or not:
     * HEARTH_E_NOTFOUND if none. */
    hearth_status (*auth)(sstore *s, const char *token_hash, sstore_device *out,
                          hearth_error *err);
    /* Registers (or re-registers, with a new token) device under the user of
     * the enrollment token enroll_hash: *user is that user. HEARTH_E_NOTFOUND
     * for an unknown or revoked enrollment token; HEARTH_E_STATE when the
     * device id belongs to another user or is revoked. */
    hearth_status (*enroll)(sstore *s, const char *enroll_hash, const char *device,
                            const char *name, const char *token_hash, char user[SYNC_MAX_ID + 1],
                            hearth_error *err);
    /* Key info: get is HEARTH_E_NOTFOUND when none; put stores k only when
     * there is none (*stored true), else fills *current (caller frees with
     * sync_keyinfo_free) and sets *stored false. */
    hearth_status (*keyinfo_get)(sstore *s, const char *user, sync_keyinfo *out,
                                 hearth_error *err);
    hearth_status (*keyinfo_put)(sstore *s, const char *user, const sync_keyinfo *k,
                                 bool *stored, sync_keyinfo *current, hearth_error *err);
    /* Active (not revoked) devices of user. */
    hearth_status (*count_devices)(sstore *s, const char *user, int64_t *out, hearth_error *err);

    /* ---- administration ---- */
    /* Creates the user if new and records an enrollment token hash for it. */
    hearth_status (*add_token)(sstore *s, const char *user, const char *enroll_hash,
                               hearth_error *err);
    /* All devices, by user then id: *out hearth_malloc'ed array of *n. */
    hearth_status (*list_devices)(sstore *s, sstore_device **out, size_t *n, hearth_error *err);
    /* Revokes device: HEARTH_E_NOTFOUND if there is no such device. */
    hearth_status (*revoke)(sstore *s, const char *device, hearth_error *err);
    /* Revokes every enrollment token of user; *n how many were active. */
    hearth_status (*revoke_tokens)(sstore *s, const char *user, int64_t *n, hearth_error *err);
} sstore_ops;

struct sstore {
    const sstore_ops *ops;
};

/* Opens (creating the schema if needed) the store named by url:
 * "sqlite:PATH", a bare PATH (SQLite), or "postgresql://..." /
 * "postgres://..." (libpq connection URI). On success *out owns the store
 * (out->ops->close). Errors: HEARTH_E_ARG (unknown scheme), HEARTH_E_IO
 * (cannot open or connect; the message names the database, never a
 * password). Any thread. */
hearth_status sstore_open(const char *url, sstore **out, hearth_error *err);

hearth_status sstore_sqlite_open(const char *path, sstore **out, hearth_error *err);
hearth_status sstore_pg_open(const char *conninfo, sstore **out, hearth_error *err);

/* SHA-256 of s as lowercase hex into out. */
void sstore_hash_hex(const char *s, char out[SSTORE_HASH_HEX]);

#endif
