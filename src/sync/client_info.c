/*
 * client_info.c: what the sync client shows and what the user decides:
 * status, the conflict list, a manual resolution, and the canonical dump
 * of the synced collections (the Jepsen test compares dumps byte for byte
 * across devices).
 *
 * The dump holds content only (no local integer ids, no local times),
 * sorted (tasks and messages by gid, sessions by name, settings by key),
 * with object keys sorted: two devices that hold the same rows print the
 * same bytes. Sessions appear by name because two devices that each made a
 * conversation of one name before syncing keep one local session for both
 * ids (sync_alias).
 */
#include "sync/client_int.h"

#include "store/store_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const collections[] = {"tasks", "conversations", "settings"};

static hearth_status finish(json_t *v, char **out, hearth_error *err) {
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(v);
    if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    *out = hearth_strdup(t);
    free(t);
    return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
}

hearth_status hearth_sync_status_json(hearth_sync *s, char **out, hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    json_t *o = json_object(), *en = json_array(), *rules = json_object();
    char user[128] = "";
    sync_state_get(s, "user", user, sizeof user, NULL);
    json_object_set_new(o, "device", json_string(s->device));
    json_object_set_new(o, "server", s->server[0] ? json_string(s->server) : json_null());
    json_object_set_new(o, "paired", json_boolean(s->token[0] != '\0'));
    json_object_set_new(o, "user", user[0] ? json_string(user) : json_null());
    json_object_set_new(o, "cursor", json_integer(sync_state_int(s, "cursor", 0)));
    int64_t pending = 0;
    for (int i = 0; i < 3; i++) {
        if (sync_enabled(s, collections[i])) {
            json_array_append_new(en, json_string(collections[i]));
            pending += !strcmp(collections[i], "conversations")
                           ? sync_query_int(s, 0, "SELECT count(*) FROM sync_dirty WHERE tbl IN ('sessions', 'messages')", 0)
                           : sync_query_int(s, 0, "SELECT count(*) FROM sync_dirty WHERE tbl = ?1", 1, collections[i]);
        }
        json_object_set_new(rules, collections[i], json_string(sync_rule_name(sync_rule_of(s, collections[i]))));
    }
    pending += sync_query_int(s, 0, "SELECT count(*) FROM sync_outbox", 0);
    json_object_set_new(o, "pending", json_integer(pending));
    json_object_set_new(o, "enabled", en);
    json_object_set_new(o, "rules", rules);
    json_object_set_new(o, "conflicts_pending",
                        json_integer(sync_query_int(s, 0, "SELECT count(*) FROM sync_conflicts WHERE resolution = 'pending'", 0)));
    json_object_set_new(o, "key_cached", json_boolean(access(s->key_file, R_OK) == 0));
    int64_t last = sync_state_int(s, "last_sync_ms", 0);
    json_object_set_new(o, "last_sync_ms", last ? json_integer(last) : json_null());
    return finish(o, out, err);
}

static json_t *parse_or_null(const unsigned char *t) {
    json_t *v = t ? json_loads((const char *)t, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

hearth_status hearth_sync_conflicts_json(hearth_sync *s, bool all, char **out, hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    sqlite3_stmt *q;
    const char *sql = all ? "SELECT id, time_ms, tbl, gid, kind, fields, local, server, severity,"
                            " resolution, resolved_ms FROM sync_conflicts ORDER BY id"
                          : "SELECT id, time_ms, tbl, gid, kind, fields, local, server, severity,"
                            " resolution, resolved_ms FROM sync_conflicts WHERE resolution = 'pending'"
                            " ORDER BY id";
    if (!(q = sync_prepare(s, sql)))
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    json_t *arr = json_array();
    while (sqlite3_step(q) == SQLITE_ROW) {
        json_t *o = json_object();
        const char *tbl = (const char *)sqlite3_column_text(q, 2);
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
        json_object_set_new(o, "time_ms", json_integer(sqlite3_column_int64(q, 1)));
        json_object_set_new(o, "collection", json_string(sync_collection_of(tbl ? tbl : "")));
        json_object_set_new(o, "table", json_string(tbl ? tbl : ""));
        json_object_set_new(o, "row", json_string((const char *)sqlite3_column_text(q, 3)));
        json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(q, 4)));
        json_object_set_new(o, "fields", parse_or_null(sqlite3_column_text(q, 5)));
        json_object_set_new(o, "local", parse_or_null(sqlite3_column_text(q, 6)));
        json_object_set_new(o, "server", parse_or_null(sqlite3_column_text(q, 7)));
        json_object_set_new(o, "severity", json_string((const char *)sqlite3_column_text(q, 8)));
        json_object_set_new(o, "resolution", json_string((const char *)sqlite3_column_text(q, 9)));
        json_object_set_new(o, "resolved_ms", sqlite3_column_type(q, 10) == SQLITE_NULL
                                                  ? json_null()
                                                  : json_integer(sqlite3_column_int64(q, 10)));
        json_array_append_new(arr, o);
    }
    sync_release(s, q);
    return finish(arr, out, err);
}

static bool field_ok(const char *tbl, const char *f) {
    static const char *const task_fields[] = {"title", "notes", "status", "priority",
                                              "due_ms", "tags", "payload"};
    if (!strcmp(tbl, "settings")) return !strcmp(f, "value");
    if (!strcmp(tbl, "tasks"))
        for (size_t i = 0; i < sizeof task_fields / sizeof task_fields[0]; i++)
            if (!strcmp(f, task_fields[i])) return true;
    return false;
}

hearth_status sync_conflicts_follow(hearth_sync *s, const char *tbl, const char *gid,
                                    const char *content, hearth_error *err) {
    return sync_exec(s, err,
                     "UPDATE sync_conflicts SET server = ?3 WHERE resolution = 'pending'"
                     " AND tbl = ?1 AND gid = ?2",
                     3, tbl, gid, content);
}

/* True when the JSON texts a and b (either NULL) hold the same value. */
static bool same_json(const char *a, const char *b) {
    if (!a || !b) return a == b;
    json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
    bool eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

/* The server's current side of conflict ids on row (tbl, gid), owned text
 * (NULL: deleted), so that resolving never brings back a server version
 * that a later one replaced:
 *  - the newest version seen (sync_rows) when another device wrote it;
 *  - when this device wrote it and it is the conflict's own local side (a
 *    manual update of a deleted row keeps the row and pushes it), the
 *    conflict's record of the other side (which follows other devices'
 *    versions: sync_conflicts_follow);
 *  - when this device wrote it and it is something else, it is a newer
 *    local write made while the conflict waited (manual gives the row the
 *    server's value; anything pushed since is the user's own edit): that
 *    is what the server holds now. */
static char *server_now(hearth_sync *s, const char *ids, const char *tbl, const char *gid) {
    char *seen = sync_query_text(s, "SELECT CASE WHEN deleted THEN NULL ELSE base END FROM sync_rows"
                                    " WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
    if (sync_query_int(s, 0, "SELECT 1 FROM sync_rows WHERE tbl = ?1 AND gid = ?2 AND device IS NOT ?3",
                       3, tbl, gid, s->device))
        return seen;
    bool ours = sync_query_int(s, 0, "SELECT 1 FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
    char *local = sync_query_text(s, "SELECT local FROM sync_conflicts WHERE id = CAST(?1 AS INTEGER)", 1, ids);
    bool newer_write = ours && !same_json(seen, local);
    hearth_free(local);
    if (newer_write) return seen;
    hearth_free(seen);
    return sync_query_text(s, "SELECT server FROM sync_conflicts WHERE id = CAST(?1 AS INTEGER)", 1, ids);
}

hearth_status hearth_sync_resolve(hearth_sync *s, int64_t id, const char *keep, hearth_error *err) {
    if (!s || !keep) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    char *tbl = sync_query_text(s, "SELECT tbl FROM sync_conflicts WHERE id = CAST(?1 AS INTEGER)", 1, ids);
    if (!tbl) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no sync conflict %lld (see hearth sync conflicts --all)", (long long)id);
    char *gid = sync_query_text(s, "SELECT gid FROM sync_conflicts WHERE id = CAST(?1 AS INTEGER)", 1, ids);
    json_t *content = NULL;
    char resolution[96];
    hearth_status st = HEARTH_OK;
    const char *eq = strchr(keep, '=');
    /* the server's side as it is now; the record keeps it beside the choice */
    char *server = gid ? server_now(s, ids, tbl, gid) : NULL;
    if (!strcmp(keep, "local") || !strcmp(keep, "server")) {
        char *t = !strcmp(keep, "local")
                      ? sync_query_text(s, "SELECT local FROM sync_conflicts WHERE id = CAST(?1 AS INTEGER)", 1, ids)
                      : NULL;
        const char *pick = t ? t : !strcmp(keep, "server") ? server : NULL;
        content = pick ? json_loads(pick, 0, NULL) : NULL;
        hearth_free(t);
        snprintf(resolution, sizeof resolution, "kept-%s", keep);
    } else if (eq && eq > keep) {
        char field[64];
        size_t fl = (size_t)(eq - keep);
        if (fl >= sizeof field) fl = sizeof field - 1;
        memcpy(field, keep, fl);
        field[fl] = '\0';
        if (!field_ok(tbl, field)) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "'%s' is not a field of a synced %s row", field, tbl);
        } else {
            st = sync_row_content(s, tbl, gid, &content, err);
            if (!st && !content && server) content = json_loads(server, 0, NULL);
            if (!st && !content) content = json_object();
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            if (!v) v = json_string(eq + 1);
            if (!st && (!v || json_object_set_new(content, field, v)))
                st = HEARTH_FAIL(err, HEARTH_E_ARG, "the value of %s is not valid UTF-8", field);
            snprintf(resolution, sizeof resolution, "set-%s", field);
        }
    } else {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "--keep takes local, server or FIELD=VALUE, not '%.60s'", keep);
    }
    if (!st) st = hearth_store_begin(s->store, err);
    if (!st) {
        /* a local change: the triggers queue it for the next sync */
        st = sync_row_write(s, tbl, gid, content, err);
        char now[24];
        snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
        if (!st)
            st = sync_exec(s, err, "UPDATE sync_conflicts SET resolution = ?2, resolved_ms = CAST(?3 AS INTEGER),"
                                   " server = CASE WHEN resolution = 'pending' THEN ?4 ELSE server END"
                                   " WHERE id = CAST(?1 AS INTEGER)", 4, ids, resolution, now, server);
        if (st) hearth_store_rollback(s->store, NULL);
        else st = hearth_store_commit(s->store, err);
    }
    json_decref(content);
    hearth_free(server);
    hearth_free(tbl);
    hearth_free(gid);
    return st;
}

/* Rows of sql (first column: gid) as content objects with their gid. */
static hearth_status dump_rows(hearth_sync *s, const char *tbl, const char *sql, json_t *arr,
                               hearth_error *err) {
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, sql)))
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    hearth_status st = HEARTH_OK;
    while (!st && sqlite3_step(q) == SQLITE_ROW) {
        const char *gid = (const char *)sqlite3_column_text(q, 0);
        if (!gid) continue;
        json_t *c = NULL;
        if ((st = sync_row_content(s, tbl, gid, &c, err)) || !c) continue;
        if (!strcmp(tbl, "settings")) {
            json_object_set_new(c, "key", json_string(gid));
        } else {
            json_object_set_new(c, "gid", json_string(gid));
            json_object_del(c, "kind");
        }
        if (!strcmp(tbl, "messages")) {
            const char *name = (const char *)sqlite3_column_text(q, 1);
            json_object_set_new(c, "session", json_string(name ? name : ""));
        }
        json_array_append_new(arr, c);
    }
    sync_release(s, q);
    return st;
}

hearth_status hearth_sync_dump_json(hearth_sync *s, char **out, hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    json_t *o = json_object();
    hearth_status st = HEARTH_OK;
    if (sync_enabled(s, "tasks")) {
        json_t *a = json_array();
        json_object_set_new(o, "tasks", a);
        st = dump_rows(s, "tasks", "SELECT gid FROM tasks ORDER BY gid", a, err);
    }
    if (!st && sync_enabled(s, "conversations")) {
        json_t *conv = json_object(), *names = json_array(), *msgs = json_array();
        json_object_set_new(conv, "sessions", names);
        json_object_set_new(conv, "messages", msgs);
        json_object_set_new(o, "conversations", conv);
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT name FROM sessions ORDER BY name", -1, &q, NULL) == SQLITE_OK) {
            while (sqlite3_step(q) == SQLITE_ROW)
                json_array_append_new(names, json_string((const char *)sqlite3_column_text(q, 0)));
            sync_release(s, q);
        }
        st = dump_rows(s, "messages",
                       "SELECT m.gid, s.name FROM messages m JOIN sessions s ON s.id = m.session_id"
                       " ORDER BY m.gid", msgs, err);
    }
    if (!st && sync_enabled(s, "settings")) {
        json_t *a = json_array(), *kept = json_array();
        st = dump_rows(s, "settings", "SELECT key FROM settings ORDER BY key", a, err);
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
            if (sync_setting_shared(json_string_value(json_object_get(v, "key"))))
                json_array_append(kept, v);
        json_decref(a);
        json_object_set_new(o, "settings", kept);
    }
    if (st) {
        json_decref(o);
        return st;
    }
    return finish(o, out, err);
}
