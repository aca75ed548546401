/*
 * proto.h: the sync protocol's messages (docs/sync-protocol.md) as C
 * structs, and their one encoder and one parser, shared by the client
 * (hearth sync) and the server (hearth sync-server). Parsing is of
 * untrusted bytes: every field is checked for type, range and length, and a
 * bad body is HEARTH_E_FORMAT naming the field; nothing else in hearth reads
 * the wire format.
 */
#ifndef HEARTH_SYNC_PROTO_H
#define HEARTH_SYNC_PROTO_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

#define SYNC_MAX_BODY (8u << 20)        /* bytes of one request or response body */
#define SYNC_MAX_CHANGES 5000           /* changes in one push or pull page */
#define SYNC_MAX_PAYLOAD (1u << 20)     /* bytes of one decoded payload */
#define SYNC_MAX_ID 64                  /* bytes of a device id, row id or collection */

typedef enum { SYNC_OP_UPSERT, SYNC_OP_DELETE, SYNC_OP_APPEND } sync_op;

typedef enum {
    SYNC_APPLIED,
    SYNC_DUPLICATE,
    SYNC_CONFLICT,
} sync_result_status;

typedef enum {
    SYNC_CONFLICT_NONE,
    SYNC_CONFLICT_VERSION,           /* upsert on a row whose version is newer */
    SYNC_CONFLICT_UPDATE_OF_DELETED, /* upsert on a tombstone */
    SYNC_CONFLICT_DELETE_OF_UPDATED, /* delete of a row updated since its base */
} sync_conflict_kind;

/* One change as a device pushes it. Strings are NUL-terminated and owned by
 * the containing message (sync_push_free / sync_pull_free). payload is the
 * decoded (binary) ciphertext; NULL with payload_len 0 for a delete. */
typedef struct {
    int64_t change_id;
    char collection[SYNC_MAX_ID + 1];
    char row[SYNC_MAX_ID + 1];
    sync_op op;
    int64_t base_version;
    int64_t hlc;
    uint8_t *payload;
    size_t payload_len;
} sync_change;

typedef struct {
    sync_change *changes;
    size_t n;
} sync_push;

/* The server's current state of a row, returned with a conflict. */
typedef struct {
    int64_t version;
    int64_t hlc;
    sync_op op;
    char device[SYNC_MAX_ID + 1];
    uint8_t *payload;
    size_t payload_len;
} sync_row_state;

typedef struct {
    int64_t change_id;
    sync_result_status status;
    int64_t seq;     /* applied / duplicate */
    int64_t version; /* applied / duplicate */
    sync_conflict_kind kind;  /* conflict */
    sync_row_state current;   /* conflict */
} sync_result;

typedef struct {
    sync_result *results;
    size_t n;
    int64_t server_seq;
    /* has_own: every entry of the user's log with seq in (own_after,
     * own_last] came from this push (optional on the wire: "own_after",
     * "own_last"), so a device whose cursor is own_after may move it to
     * own_last without pulling its own changes back */
    bool has_own;
    int64_t own_after, own_last;
} sync_push_reply;

/* One change as the server hands it out on pull. */
typedef struct {
    int64_t seq;
    char device[SYNC_MAX_ID + 1];
    int64_t change_id;
    char collection[SYNC_MAX_ID + 1];
    char row[SYNC_MAX_ID + 1];
    sync_op op;
    int64_t version;
    int64_t hlc;
    uint8_t *payload;
    size_t payload_len;
    /* the requesting device's own change sent without its payload (pull
     * with own=meta; "bare": true on the wire): the device holds the
     * content in its outbox, or has seen the change acknowledged */
    bool bare;
} sync_pulled;

typedef struct {
    sync_pulled *changes;
    size_t n;
    int64_t next;
    bool more;
    int64_t server_seq;
} sync_pull_reply;

typedef struct {
    char token[256];
    char device[SYNC_MAX_ID + 1];
    char name[SYNC_MAX_ID + 1];
} sync_register;

typedef struct {
    char device_token[128];
    char user[SYNC_MAX_ID + 1];
    int64_t server_seq;
} sync_register_reply;

typedef struct {
    uint8_t salt[16];
    uint8_t *check; /* payload of the key check */
    size_t check_len;
    uint64_t opslimit;
    uint64_t memlimit;
} sync_keyinfo;

/* GET /v1/status. */
typedef struct {
    char user[SYNC_MAX_ID + 1];
    char device[SYNC_MAX_ID + 1];
    int64_t server_seq;
    int64_t devices; /* active devices of the user */
} sync_status_reply;

/* An error answer {"error": {"code", "message"}}. The message is cut to
 * fit (at a UTF-8 boundary). */
typedef struct {
    char code[32];
    char message[256];
} sync_error_reply;

/* Names on the wire: "upsert"/"delete"/"append", "applied"/..., "version"/
 * "update_of_deleted"/"delete_of_updated". Static strings. */
const char *sync_op_name(sync_op op);
const char *sync_conflict_name(sync_conflict_kind k);

/* Encoders: *out owns a NUL-terminated JSON text (free with free()), *len
 * its length. Errors: HEARTH_E_NOMEM, HEARTH_E_ARG (a string field that is
 * not a valid id, too many changes). */
hearth_status sync_push_encode(const sync_push *m, char **out, size_t *len, hearth_error *err);
hearth_status sync_push_reply_encode(const sync_push_reply *m, char **out, size_t *len,
                                     hearth_error *err);
hearth_status sync_pull_reply_encode(const sync_pull_reply *m, char **out, size_t *len,
                                     hearth_error *err);
hearth_status sync_register_encode(const sync_register *m, char **out, size_t *len,
                                   hearth_error *err);
hearth_status sync_register_reply_encode(const sync_register_reply *m, char **out, size_t *len,
                                         hearth_error *err);
hearth_status sync_keyinfo_encode(const sync_keyinfo *m, char **out, size_t *len,
                                  hearth_error *err);
hearth_status sync_status_reply_encode(const sync_status_reply *m, char **out, size_t *len,
                                       hearth_error *err);
/* message: NUL-terminated, its first 1024 bytes kept, each byte outside
 * printable ASCII written as '?'. code: 1..31 bytes of [a-z_]. */
hearth_status sync_error_encode(const char *code, const char *message, char **out, size_t *len,
                                hearth_error *err);

/* Parsers of untrusted bytes (need not be NUL-terminated; len <=
 * SYNC_MAX_BODY). On success the message owns its arrays (free with the
 * matching _free); on failure the message is zeroed and owns nothing.
 * Errors: HEARTH_E_FORMAT naming the field and the change index,
 * HEARTH_E_LIMIT (body, change count or payload over the limits),
 * HEARTH_E_NOMEM. */
hearth_status sync_push_parse(const char *body, size_t len, sync_push *out, hearth_error *err);
hearth_status sync_push_reply_parse(const char *body, size_t len, sync_push_reply *out,
                                    hearth_error *err);
hearth_status sync_pull_reply_parse(const char *body, size_t len, sync_pull_reply *out,
                                    hearth_error *err);
hearth_status sync_register_parse(const char *body, size_t len, sync_register *out,
                                  hearth_error *err);
hearth_status sync_register_reply_parse(const char *body, size_t len, sync_register_reply *out,
                                        hearth_error *err);
hearth_status sync_keyinfo_parse(const char *body, size_t len, sync_keyinfo *out,
                                 hearth_error *err);
hearth_status sync_status_reply_parse(const char *body, size_t len, sync_status_reply *out,
                                      hearth_error *err);
hearth_status sync_error_parse(const char *body, size_t len, sync_error_reply *out,
                               hearth_error *err);

void sync_push_free(sync_push *m);
void sync_push_reply_free(sync_push_reply *m);
void sync_pull_reply_free(sync_pull_reply *m);
void sync_keyinfo_free(sync_keyinfo *m);

/* True when s (NUL-terminated) is a valid id on the wire: 1..SYNC_MAX_ID
 * bytes of [A-Za-z0-9._:-]. Settings keys that are not are never synced. */
bool sync_id_valid(const char *s);

#endif
