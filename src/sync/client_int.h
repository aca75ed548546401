/*
 * client_int.h: private parts of the sync client (client*.c), the device
 * side of docs/sync-protocol.md; the design is in docs/sync.md.
 *
 * Local tables (store migration 4): sync_state (key/value: device id and
 * secret, hlc, server, token, cursor, next_change_id, enabled_<c>),
 * sync_dirty (rows changed locally, written by triggers), sync_outbox
 * (numbered, frozen changes not yet acknowledged), sync_rows (per row the
 * last server version seen and its content: the merge base; deleted =
 * tombstone), sync_conflicts, sync_alias (another device's session gid
 * naming a local session of the same name).
 *
 * Tables here are the store's ("tasks", "sessions", "messages",
 * "settings"); on the wire sessions and messages share the collection
 * "conversations".
 */
#ifndef HEARTH_SYNC_CLIENT_INT_H
#define HEARTH_SYNC_CLIENT_INT_H

#include "hearth.h"

#include <curl/curl.h>
#include <pthread.h>
#include <jansson.h>
#include <sqlite3.h>

#include "sync/crypto.h"
#include "sync/merge.h"
#include "sync/proto.h"

#define SYNC_DEVICE_LEN 36

struct hearth_sync {
    hearth_store *store;      /* borrowed */
    sqlite3 *db;              /* the store's handle */
    char device[SYNC_DEVICE_LEN + 1];
    char server[512];         /* without a trailing '/'; "" when unknown */
    char token[128];          /* device token; "" when not paired */
    char key_file[4096];
    char *passphrase;         /* owned copy, or NULL */
    sync_key key;
    bool have_key;
    hearth_sync_gate_fn gate;
    void *gate_user;
    int timeout_ms;
    CURL *curl;               /* made on first request */
    int lock_fd;              /* -1 when the sync lock is not held */
    /* prepared statements by SQL text (the callers' string literals,
     * compared by address): a sync runs the same few statements per row */
    struct { const char *sql; sqlite3_stmt *st; } cache[64];
    int n_cache;
};

/* ---- state (client_state.c) ---- */

/* sync_state[key] into buf (cap); HEARTH_E_NOTFOUND (err untouched) when unset. */
hearth_status sync_state_get(hearth_sync *s, const char *key, char *buf, size_t cap,
                             hearth_error *err);
int64_t sync_state_int(hearth_sync *s, const char *key, int64_t dflt);
hearth_status sync_state_set(hearth_sync *s, const char *key, const char *value,
                             hearth_error *err);
hearth_status sync_state_set_int(hearth_sync *s, const char *key, int64_t v, hearth_error *err);

/* A prepared statement for sql (a string literal: cached by its address),
 * reset and unbound; NULL when it does not prepare. Give it back with
 * sync_release (never finalize it). */
sqlite3_stmt *sync_prepare(hearth_sync *s, const char *sql);
void sync_release(hearth_sync *s, sqlite3_stmt *q);
/* Finalizes the cached statements (hearth_sync_free). */
void sync_cache_free(hearth_sync *s);

/* Runs SQL with no result rows; binds text args ?1.. (NULL binds NULL).
 * sql must be a string literal (or otherwise never change while the handle
 * lives): statements are cached by its address. Same for the two below. */
hearth_status sync_exec(hearth_sync *s, hearth_error *err, const char *sql, int n, ...);
/* First column of the first row as an integer (dflt when no row). */
int64_t sync_query_int(hearth_sync *s, int64_t dflt, const char *sql, int n, ...);
/* First column of the first row as owned text (hearth_free), NULL when
 * there is no row or it is NULL. */
char *sync_query_text(hearth_sync *s, const char *sql, int n, ...);

/* The wire collection of a store table, and whether it is enabled. */
const char *sync_collection_of(const char *tbl);
bool sync_collection_valid(const char *c);
bool sync_enabled(hearth_sync *s, const char *collection);
/* The collection's rule (setting sync_resolve_<collection>; default lww). */
sync_rule sync_rule_of(hearth_sync *s, const char *collection);
/* True when a settings key may sync (not device-local: sync_*, model_*,
 * cloud_api_key, cloud_ca_file; and a valid wire id). */
bool sync_setting_shared(const char *key);

/* Sets / clears the marker that keeps the triggers from recording changes
 * as local (inside the caller's transaction). */
hearth_status sync_applying(hearth_sync *s, bool on, hearth_error *err);

/* ---- rows (client_rows.c) ---- */

/* The content of local row (tbl, gid) as a JSON object (owned), or NULL
 * with HEARTH_OK when the row does not exist (deleted). */
hearth_status sync_row_content(hearth_sync *s, const char *tbl, const char *gid, json_t **out,
                               hearth_error *err);
/* Makes local row (tbl, gid) hold content (NULL: deletes it). Validates the
 * content's fields (untrusted: it came from another device); inside the
 * caller's transaction. */
hearth_status sync_row_write(hearth_sync *s, const char *tbl, const char *gid,
                             const json_t *content, hearth_error *err);
/* The table of a conversations row named gid, from what this device knows
 * (sync_rows, the local tables, aliases); NULL when unknown. */
const char *sync_conversation_table(hearth_sync *s, const char *gid, const json_t *content);

/* ---- conflicts (client_info.c) ---- */

/* The server moved row (tbl, gid) to a version another device wrote, with
 * content (compact JSON text; NULL: deleted): every pending conflict on the
 * row takes it as its server side, so a later --keep server adopts the
 * server's current version, never a stale snapshot. Inside the caller's
 * transaction. */
hearth_status sync_conflicts_follow(hearth_sync *s, const char *tbl, const char *gid,
                                    const char *content, hearth_error *err);

/* ---- requests (client_http.c) ---- */

typedef struct {
    long status;              /* HTTP status; 0 when no answer came */
    char *body;               /* owned (free), NUL-terminated */
    size_t len;
    bool offline;             /* gate refused or no connection: reason says why */
    char reason[256];
} sync_reply;

typedef struct {
    char *buf;
    size_t len, cap;
    bool over;
} sync_sink;

/* One request in flight (sync_call_start .. sync_call_finish): libcurl runs
 * it on a thread of its own, which touches neither the store nor the
 * handle's other fields, so the caller may use the store meanwhile. At most
 * one call per handle at a time (they share the curl handle). */
typedef struct {
    bool started, threaded, refused;
    pthread_t thread;
    CURL *h;
    struct curl_slist *hdr;
    char host[256], method[8], what[64];
    char refusal[256];
    char errbuf[CURL_ERROR_SIZE];
    int64_t audit_id, bytes_out;
    CURLcode cc;
    double dt;
    sync_sink sink;
    /* Optional: parses a 200 reply on the request's thread (pure: touches
     * only body and out), so the caller gets it ready-made (parsed; parse_st
     * and parse_err its outcome). Set after sync_call_start's memset, i.e.
     * through sync_call_start_parsed. */
    hearth_status (*parse)(const char *body, size_t len, void *out, hearth_error *err);
    void *parse_out;
    bool parsed;
    hearth_status parse_st;
    hearth_error parse_err;
} sync_call;

/* sync_request in two halves: the gate and the audit record, then the
 * request starts on its thread (body must stay valid until finish);
 * finish waits for it, completes the audit record and gives the reply. */
hearth_status sync_call_start(hearth_sync *s, const char *method, const char *path,
                              const char *body, size_t len, const char *what, sync_call *c,
                              hearth_error *err);
hearth_status sync_call_finish(hearth_sync *s, sync_call *c, sync_reply *r, hearth_error *err);
/* sync_call_start with parse(body, len, out) run on the request's thread
 * when the answer is a 200. */
hearth_status sync_call_start_parsed(hearth_sync *s, const char *method, const char *path,
                                     const char *body, size_t len, const char *what,
                                     hearth_status (*parse)(const char *, size_t, void *,
                                                            hearth_error *),
                                     void *out, sync_call *c, hearth_error *err);
/* Waits for a started call and drops its reply (an error path). */
void sync_call_abandon(hearth_sync *s, sync_call *c);

/* One request: the gate, an audit record before it leaves (completed after),
 * then libcurl. body NULL for GET. what names the request in the audit
 * record ("push 12 changes"; never content). Offline outcomes are
 * HEARTH_OK with r->offline; a refused audit record is HEARTH_E_IO and
 * nothing is sent. */
hearth_status sync_request(hearth_sync *s, const char *method, const char *path,
                           const char *body, size_t len, const char *what, sync_reply *r,
                           hearth_error *err);
void sync_reply_free(sync_reply *r);
/* The server's error message of a non-2xx reply into err, as code. */
hearth_status sync_reply_fail(const sync_reply *r, hearth_status code, const char *what,
                              hearth_error *err);

/* ---- key (client_key.c) ---- */

/* Loads the key: from the key file when it matches the server's salt, else
 * derives it from the passphrase and the server's key info (GET keyinfo),
 * checking the key check. Offline: HEARTH_OK with r->offline. */
hearth_status sync_key_load(hearth_sync *s, sync_reply *r, hearth_error *err);
/* Writes the key file (0600): salt and key in hex. */
hearth_status sync_key_save(hearth_sync *s, const uint8_t salt[SYNC_SALT_BYTES],
                            hearth_error *err);

#endif
