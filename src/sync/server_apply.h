/*
 * server_apply.h: the sync protocol's rules on the server
 * (docs/sync-protocol.md, "Endpoints"), written once over the storage
 * primitives of server_store.h so that both backends behave the same:
 * idempotent push by (device, change_id) with conflict detection in one
 * transaction, pull by cursor with the device's position recorded, and
 * device registration. Nothing here decodes a payload.
 */
#ifndef HEARTH_SYNC_SERVER_APPLY_H
#define HEARTH_SYNC_SERVER_APPLY_H

#include "sync/proto.h"
#include "sync/server_store.h"

/* Called after a push's transaction committed and before it is answered
 * (the crash test hook); NULL for none. */
typedef void (*ssrv_commit_hook)(void *user);

/* Applies m for device d (authenticated, not revoked) in one transaction
 * and fills *out (one result per change, in order; free with
 * sync_push_reply_free) only once that transaction is durable.
 * quota: the most payload bytes d may have stored. Errors: HEARTH_E_LIMIT
 * (the quota would be passed: nothing applied), HEARTH_E_FORMAT (a change
 * the rules refuse: an append onto another device's row, a base version on
 * a row the server does not have; the message names the change; nothing
 * applied), HEARTH_E_IO / HEARTH_E_NOMEM (nothing applied). Any thread. */
hearth_status ssrv_push(sstore *s, const sstore_device *d, const sync_push *m, int64_t quota,
                        ssrv_commit_hook hook, void *hook_user, sync_push_reply *out,
                        hearth_error *err);

/* The page of d's user after `after` (at most limit), and records `after`
 * as d's position (compacting what every device has passed). own_bare: d's
 * own changes come without their payload (bare). */
hearth_status ssrv_pull(sstore *s, const sstore_device *d, int64_t after, size_t limit, bool own_bare,
                        sync_pull_reply *out, hearth_error *err);

/* Registers device under the enrollment token: a fresh device token into
 * out (base64url of 32 random bytes). Errors: HEARTH_E_NOTFOUND (bad
 * token), HEARTH_E_STATE (the device id is another user's or revoked). */
hearth_status ssrv_register(sstore *s, const sync_register *m, sync_register_reply *out,
                            hearth_error *err);

/* A new random token (base64url of 32 bytes, 43 characters) into out. */
void ssrv_token_new(char out[48]);

#endif
