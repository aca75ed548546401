/*
 * merge.c: three-way merge of row content (see merge.h).
 *
 * Per field f with values b (base), l (device), r (server), absent = NULL:
 *   l == r -> l;  l == b -> r;  r == b -> l;  else a collision, settled by
 *   the rule (manual takes r so that every device converges on one row
 *   while the conflict waits for the user).
 * A delete against an update: lww lets the later side win, server/device
 * theirs, manual keeps the updated row (nothing is deleted the user did not
 * confirm).
 */
#include "sync/merge.h"

#include "sync/hlc.h"
#include "util/error.h"

#include <string.h>

static const char *const rule_names[] = {"lww", "server", "device", "manual"};

bool sync_rule_parse(const char *s, sync_rule *out) {
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, rule_names[i])) {
            *out = (sync_rule)i;
            return true;
        }
    return false;
}

const char *sync_rule_name(sync_rule r) { return (unsigned)r < 4 ? rule_names[r] : "lww"; }

static bool same(const json_t *a, const json_t *b) {
    if (!a || !b) return a == b;
    return json_equal(a, b);
}

/* True when the device's side wins a collision under rule (not manual). */
static bool device_wins(sync_rule rule, int64_t lh, const char *ld, int64_t rh, const char *rd) {
    if (rule == SYNC_RULE_DEVICE) return true;
    if (rule == SYNC_RULE_LWW) return sync_hlc_cmp(lh, ld, rh, rd) > 0;
    return false;
}

static const char *rule_resolution(sync_rule rule, bool dev) {
    switch (rule) {
    case SYNC_RULE_LWW: return dev ? "lww-device" : "lww-server";
    case SYNC_RULE_SERVER: return "server";
    case SYNC_RULE_DEVICE: return "device";
    case SYNC_RULE_MANUAL: return "pending";
    }
    return "pending";
}

void sync_merge_out_free(sync_merge_out *m) {
    if (!m) return;
    json_decref(m->merged);
    json_decref(m->fields);
    m->merged = m->fields = NULL;
}

hearth_status sync_merge(const json_t *base, const json_t *local, const json_t *remote,
                         sync_rule rule, int64_t local_hlc, const char *local_dev,
                         int64_t remote_hlc, const char *remote_dev, sync_merge_out *out,
                         hearth_error *err) {
    *out = (sync_merge_out){.kind = SYNC_CONFLICT_NONE, .resolution = "none"};
    out->fields = json_array();
    if (!out->fields) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (base && !json_is_object(base)) base = NULL;
    bool dev = device_wins(rule, local_hlc, local_dev, remote_hlc, remote_dev);

    /* Whole-row cases first: agreement, one side unchanged, delete/update. */
    bool l_unchanged = base && same(local, base), r_unchanged = base && same(remote, base);
    if (same(local, remote) || l_unchanged || r_unchanged) {
        const json_t *pick = l_unchanged && !same(local, remote) ? remote : local;
        out->merged = pick ? json_deep_copy(pick) : NULL;
        if (pick && !out->merged) goto nomem;
        return HEARTH_OK;
    }
    if (!local || !remote) {
        out->kind = local ? SYNC_CONFLICT_UPDATE_OF_DELETED : SYNC_CONFLICT_DELETE_OF_UPDATED;
        out->collided = true;
        const json_t *pick;
        if (rule == SYNC_RULE_MANUAL) {
            out->pending = true;
            pick = local ? local : remote;
        } else {
            pick = dev ? local : remote;
        }
        out->resolution = rule_resolution(rule, dev);
        out->merged = pick ? json_deep_copy(pick) : NULL;
        if (pick && !out->merged) goto nomem;
        return HEARTH_OK;
    }

    /* Both sides changed a live row: field by field. */
    out->kind = SYNC_CONFLICT_VERSION;
    out->merged = json_object();
    if (!out->merged) goto nomem;
    const json_t *sides[3] = {local, remote, base};
    for (int s = 0; s < 3; s++) {
        if (!sides[s]) continue;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)sides[s], k, v) {
            (void)v;
            /* each key is decided once, at the first side that holds it */
            if ((s > 0 && json_object_get(local, k)) || (s > 1 && json_object_get(remote, k)))
                continue;
            json_t *b = base ? json_object_get(base, k) : NULL;
            json_t *l = json_object_get(local, k), *r = json_object_get(remote, k);
            json_t *pick;
            if (same(l, r) || same(r, b)) {
                pick = l;
            } else if (same(l, b)) {
                pick = r;
            } else {
                out->collided = true;
                if (json_array_append_new(out->fields, json_string(k))) goto nomem;
                pick = rule == SYNC_RULE_MANUAL ? r : (dev ? l : r);
            }
            if (pick && json_object_set(out->merged, k, pick)) goto nomem;
        }
    }
    if (out->collided) {
        out->resolution = rule_resolution(rule, dev);
        out->pending = rule == SYNC_RULE_MANUAL;
    } else {
        out->resolution = "merged";
    }
    return HEARTH_OK;
nomem:
    sync_merge_out_free(out);
    return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
}
