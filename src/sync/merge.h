/*
 * merge.h: field-level three-way merge of one row's content (JSON objects):
 * the base (the server version both sides started from), the device's side
 * and the server's side. Fields only one side changed merge silently; a
 * field both changed to different values (and a delete against an update)
 * is settled by the collection's rule. Pure: no store, no clock.
 */
#ifndef HEARTH_SYNC_MERGE_H
#define HEARTH_SYNC_MERGE_H

#include "hearth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync/proto.h"

typedef enum {
    SYNC_RULE_LWW,    /* the later change by HLC wins, device id breaks ties (default) */
    SYNC_RULE_SERVER, /* the server's side wins */
    SYNC_RULE_DEVICE, /* this device's side wins */
    SYNC_RULE_MANUAL, /* keep both: the row takes the server's side, the user chooses */
} sync_rule;

/* "lww", "server", "device", "manual"; false for anything else. */
bool sync_rule_parse(const char *s, sync_rule *out);
const char *sync_rule_name(sync_rule r);

typedef struct {
    json_t *merged;          /* owned; NULL: the row ends deleted */
    sync_conflict_kind kind; /* NONE: the sides agreed or only one changed */
    json_t *fields;          /* owned array of the field names both sides changed */
    bool collided;           /* a field, or a delete against an update, collided */
    bool pending;            /* manual rule: the user must choose */
    const char *resolution;  /* static: "none", "merged", "lww-device", "lww-server",
                                "server", "device", "pending" */
} sync_merge_out;

/* Merges. base, local, remote: JSON objects or NULL (base: unknown, e.g. a
 * row both sides made; local / remote: deleted). local_hlc/local_dev and
 * remote_hlc/remote_dev order the sides for SYNC_RULE_LWW. OUT: *out (free
 * with sync_merge_out_free). Errors: HEARTH_E_NOMEM. Any thread. */
hearth_status sync_merge(const json_t *base, const json_t *local, const json_t *remote,
                         sync_rule rule, int64_t local_hlc, const char *local_dev,
                         int64_t remote_hlc, const char *remote_dev, sync_merge_out *out,
                         hearth_error *err);
void sync_merge_out_free(sync_merge_out *m);

#endif
