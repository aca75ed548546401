/*
 * registry.c: the registry's operations (registry.h): open, look up and
 * resolve names, and the changes (add a version, activate, roll back,
 * default, channel, remove). Every change takes the writer lock, re-reads
 * registry.json, changes the snapshot, writes it atomically and releases
 * the lock; a change that fails to write re-reads the file so the snapshot
 * matches what is on disk.
 */
#include "models/registry_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static hearth_status mkdir_p(const char *path, hearth_error *err) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "path too long: %.60s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) && errno != EEXIST)
            return HEARTH_FAIL(err, HEARTH_E_IO, "mkdir %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) && errno != EEXIST)
        return HEARTH_FAIL(err, HEARTH_E_IO, "mkdir %s: %s", buf, strerror(errno));
    struct stat sb;
    if (stat(buf, &sb) || !S_ISDIR(sb.st_mode))
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s is not a directory", buf);
    return HEARTH_OK;
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = hearth_malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

void registry_free(registry *r) {
    if (!r) return;
    reg_unlock(r);
    reg_clear(r);
    hearth_free(r->dir);
    hearth_free(r->blobs);
    hearth_free(r->tmp);
    hearth_free(r->file);
    hearth_free(r->lockfile);
    hearth_free(r);
}

hearth_status registry_open(const char *dir, registry **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_open: NULL out");
    *out = NULL;
    char home[4096];
    if (!dir || !*dir) {
        hearth_status st = hearth_store_default_dir(home, sizeof home - 8, err);
        if (st) return st;
        strcat(home, "/models");
        dir = home;
    }
    registry *r = hearth_calloc(1, sizeof *r);
    if (!r) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    r->lock_fd = -1;
    r->dir = hearth_strdup(dir);
    r->blobs = r->dir ? join(dir, "blobs") : NULL;
    r->tmp = r->dir ? join(dir, "tmp") : NULL;
    r->file = r->dir ? join(dir, "registry.json") : NULL;
    r->lockfile = r->dir ? join(dir, "registry.lock") : NULL;
    hearth_status st = HEARTH_OK;
    if (!r->dir || !r->blobs || !r->tmp || !r->file || !r->lockfile)
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    if (!st) st = mkdir_p(r->dir, err);
    if (!st) st = mkdir_p(r->blobs, err);
    if (!st) st = mkdir_p(r->tmp, err);
    if (!st) st = reg_load(r, err);
    if (st) {
        registry_free(r);
        return st;
    }
    *out = r;
    return HEARTH_OK;
}

hearth_status registry_open_settings(const hearth_settings *s, registry **out,
                                     hearth_error *err) {
    hearth_settings *own = NULL;
    if (!s) {
        hearth_status st = hearth_settings_load(&own, err);
        if (st) return st;
        s = own;
    }
    const char *home = hearth_settings_get(s, "home", NULL);
    hearth_status st;
    if (!home || !*home) {
        st = registry_open(NULL, out, err);
    } else {
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/models", home) >= (int)sizeof dir)
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "home path too long");
        else
            st = registry_open(dir, out, err);
    }
    hearth_settings_free(own);
    return st;
}

hearth_status registry_reload(registry *r, hearth_error *err) {
    if (!r) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_reload: NULL");
    return reg_load(r, err);
}

const char *registry_dir(const registry *r) { return r->dir; }
const char *registry_tmp_dir(const registry *r) { return r->tmp; }
size_t registry_count(const registry *r) { return r ? r->n : 0; }

const registry_model *registry_model_at(const registry *r, size_t i) {
    return r && i < r->n ? &r->e[i].m : NULL;
}

/* ---- names ------------------------------------------------------------------ */

static bool part_ok(const char *s, size_t n, bool slash) {
    if (n == 0 || n > 100 || s[0] == '.' || s[0] == '-' || s[0] == '/') return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || (slash && c == '/');
        if (!ok) return false;
        if (c == '/' && (i + 1 == n || s[i + 1] == '/' || s[i + 1] == '.')) return false;
    }
    return true;
}

hearth_status registry_name_norm(const char *name, char *buf, size_t cap, hearth_error *err) {
    if (!name || !buf) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_name_norm: NULL");
    const char *colon = strchr(name, ':');
    size_t nl = colon ? (size_t)(colon - name) : strlen(name);
    const char *tag = colon ? colon + 1 : "latest";
    size_t tl = strlen(tag);
    if (!part_ok(name, nl, true) || !part_ok(tag, tl, false))
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "bad model name '%.60s' (NAME[:TAG]: letters, digits, '.', '_', '-'; "
                           "NAME may hold '/'; each 1..100 bytes)", name);
    if (nl + 1 + tl >= cap || nl + 1 + tl > REGISTRY_NAME_MAX)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "model name too long");
    memcpy(buf, name, nl);
    buf[nl] = ':';
    memcpy(buf + nl + 1, tag, tl + 1);
    return HEARTH_OK;
}

static reg_entry *find_entry(const registry *r, const char *norm) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->e[i].name, norm)) return &r->e[i];
    return NULL;
}

const registry_model *registry_find(const registry *r, const char *name) {
    char norm[REGISTRY_NAME_MAX + 1];
    hearth_error e;
    if (!r || registry_name_norm(name, norm, sizeof norm, &e)) return NULL;
    reg_entry *en = find_entry(r, norm);
    return en ? &en->m : NULL;
}

const registry_model *registry_default(const registry *r) {
    return r && r->def ? registry_find(r, r->def) : NULL;
}

static bool is_hex_prefix(const char *s) {
    size_t n = strlen(s);
    if (n < 12 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* The version of e selected by sel: a hash prefix (>= 12 digits) or a
 * version string. -1 none, -2 ambiguous. */
static ptrdiff_t select_version(const reg_entry *e, const char *sel) {
    ptrdiff_t hit = -1;
    if (is_hex_prefix(sel)) {
        for (size_t i = 0; i < e->n; i++) {
            if (strncmp(e->v[i].sha256, sel, strlen(sel))) continue;
            if (hit >= 0) return -2;
            hit = (ptrdiff_t)i;
        }
        if (hit >= 0) return hit;
    }
    /* The newest version of that version string wins. */
    for (size_t i = e->n; i-- > 0;)
        if (e->v[i].version[0] && !strcmp(e->v[i].version, sel)) return (ptrdiff_t)i;
    return -1;
}

static hearth_status fill_resolved(const registry *r, const reg_entry *e,
                                   const registry_version *v, const char *sha,
                                   registry_resolved *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    memcpy(out->sha256, sha, 65);
    if (e) snprintf(out->name, sizeof out->name, "%s", e->name);
    out->version = v;
    if (!registry_blob_path(r, sha, out->path, sizeof out->path))
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "blob path too long");
    struct stat sb;
    if (stat(out->path, &sb))
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s%s%.12s: blob %s is missing (%s)",
                           e ? e->name : "", e ? "@" : "sha256-", sha, out->path,
                           strerror(errno));
    return HEARTH_OK;
}

hearth_status registry_resolve(const registry *r, const char *ref, registry_resolved *out,
                               hearth_error *err) {
    if (!r || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_resolve: NULL argument");
    if (!ref || !*ref) {
        if (!r->def) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no default model is set");
        ref = r->def;
    }
    if (!strncmp(ref, "sha256-", 7) || !strncmp(ref, "sha256:", 7)) {
        const char *h = ref + 7;
        if (!is_hex_prefix(h))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "'%.80s': a blob is named by >= 12 lowercase hex digits", ref);
        const reg_entry *he = NULL;
        const registry_version *hv = NULL;
        for (size_t i = 0; i < r->n; i++) {
            for (size_t j = 0; j < r->e[i].n; j++) {
                const registry_version *v = &r->e[i].v[j];
                if (strncmp(v->sha256, h, strlen(h))) continue;
                if (hv && strcmp(hv->sha256, v->sha256))
                    return HEARTH_FAIL(err, HEARTH_E_ARG, "'%.80s' matches several blobs", ref);
                he = &r->e[i];
                hv = v;
            }
        }
        if (hv) {
            hearth_status st = fill_resolved(r, NULL, hv, hv->sha256, out, err);
            if (!st) snprintf(out->name, sizeof out->name, "%s", he->name);
            out->version = hv;
            return st;
        }
        if (strlen(h) == 64) return fill_resolved(r, NULL, NULL, h, out, err);
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no blob '%.80s'", ref);
    }
    char name[REGISTRY_NAME_MAX + 1], norm[REGISTRY_NAME_MAX + 1];
    const char *at = strchr(ref, '@');
    size_t nl = at ? (size_t)(at - ref) : strlen(ref);
    if (nl >= sizeof name) return HEARTH_FAIL(err, HEARTH_E_ARG, "model name too long");
    memcpy(name, ref, nl);
    name[nl] = '\0';
    hearth_status st = registry_name_norm(name, norm, sizeof norm, err);
    if (st) return st;
    const reg_entry *e = find_entry(r, norm);
    if (!e) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no model named '%s'", norm);
    const registry_version *v = &e->v[e->active];
    if (at) {
        ptrdiff_t k = select_version(e, at + 1);
        if (k == -2) return HEARTH_FAIL(err, HEARTH_E_ARG, "'%.80s' matches several versions", ref);
        if (k < 0) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "%s has no version '%.70s'", norm, at + 1);
        v = &e->v[k];
    }
    return fill_resolved(r, e, v, v->sha256, out, err);
}

/* ---- changes ---------------------------------------------------------------- */

/* Writes the snapshot and unlocks; on a failed write, re-reads the file. */
static hearth_status commit(registry *r, hearth_status st, hearth_error *err) {
    if (!st) {
        reg_refresh_views(r);
        st = reg_save(r, err);
        if (st) {
            hearth_error e2;
            reg_load(r, &e2);
        }
    } else {
        hearth_error e2;
        reg_load(r, &e2);
    }
    reg_unlock(r);
    return st;
}

static hearth_status lock_entry(registry *r, const char *name, reg_entry **out,
                                hearth_error *err) {
    char norm[REGISTRY_NAME_MAX + 1];
    hearth_status st = registry_name_norm(name, norm, sizeof norm, err);
    if (st) return st;
    if ((st = reg_lock(r, err))) return st;
    *out = find_entry(r, norm);
    if (!*out) {
        reg_unlock(r);
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no model named '%s'", norm);
    }
    return HEARTH_OK;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const reg_entry *)a)->name, ((const reg_entry *)b)->name);
}

static char *dup_or_empty(const char *s) { return hearth_strdup(s ? s : ""); }

hearth_status registry_add_version(registry *r, const char *name, const char *sha256,
                                   const registry_add_params *p, hearth_error *err) {
    if (!r || !name || !reg_is_sha256(sha256))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_add_version: bad argument");
    registry_add_params ap = p ? *p : (registry_add_params){.activate = true};
    char norm[REGISTRY_NAME_MAX + 1], blob[4096];
    hearth_status st = registry_name_norm(name, norm, sizeof norm, err);
    if (st) return st;
    struct stat sb;
    if (!registry_blob_path(r, sha256, blob, sizeof blob) || stat(blob, &sb))
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "blob sha256-%.12s is not stored", sha256);
    if ((st = reg_lock(r, err))) return st;
    reg_entry *e = find_entry(r, norm);
    if (!e) {
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 8;
            reg_entry *ne = hearth_realloc(r->e, nc * sizeof *ne);
            if (!ne) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
            r->e = ne;
            r->cap = nc;
        }
        e = &r->e[r->n];
        *e = (reg_entry){.previous = -1, .name = hearth_strdup(norm)};
        if (!e->name) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
        r->n++;
        ap.activate = true;
    }
    ptrdiff_t k = -1;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].sha256, sha256)) k = (ptrdiff_t)i;
    char *ver = dup_or_empty(ap.version), *src = dup_or_empty(ap.source),
         *sig = dup_or_empty(ap.signed_by);
    char *chan = ap.channel ? hearth_strdup(ap.channel) : NULL;
    if (!ver || !src || !sig || (ap.channel && !chan)) {
        hearth_free(ver);
        hearth_free(src);
        hearth_free(sig);
        hearth_free(chan);
        return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
    }
    registry_version *v;
    if (k >= 0) {
        v = &e->v[k];
        hearth_free((char *)v->version);
        hearth_free((char *)v->source);
        hearth_free((char *)v->signed_by);
    } else {
        if (e->n == e->cap) {
            size_t nc = e->cap ? e->cap * 2 : 4;
            registry_version *nv = hearth_realloc(e->v, nc * sizeof *nv);
            if (!nv) {
                hearth_free(ver);
                hearth_free(src);
                hearth_free(sig);
                hearth_free(chan);
                return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
            }
            e->v = nv;
            e->cap = nc;
        }
        k = (ptrdiff_t)e->n++;
        v = &e->v[k];
        memcpy(v->sha256, sha256, 65);
        v->size = (uint64_t)sb.st_size;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v->added_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    v->version = ver;
    v->source = src;
    v->signed_by = sig;
    if (chan) {
        hearth_free(e->channel);
        e->channel = chan;
    }
    if (ap.activate && (size_t)k != e->active) {
        e->previous = e->n > 1 ? (ptrdiff_t)e->active : -1;
        e->active = (size_t)k;
    } else if (e->n == 1) {
        e->active = 0;
    }
    if (ap.make_default) {
        char *d = hearth_strdup(norm);
        if (!d) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
        hearth_free(r->def);
        r->def = d;
    }
    qsort(r->e, r->n, sizeof *r->e, entry_cmp);
    return commit(r, HEARTH_OK, err);
}

hearth_status registry_activate(registry *r, const char *name, const char *version,
                                hearth_error *err) {
    if (!r || !name || !version) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_activate: NULL");
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    ptrdiff_t k = select_version(e, version);
    if (k == -2) return commit(r, HEARTH_FAIL(err, HEARTH_E_ARG, "'%.70s' matches several versions", version), err);
    if (k < 0)
        return commit(r, HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "%s has no version '%.70s'", e->name,
                                     version), err);
    if ((size_t)k != e->active) {
        e->previous = (ptrdiff_t)e->active;
        e->active = (size_t)k;
    }
    return commit(r, HEARTH_OK, err);
}

hearth_status registry_rollback(registry *r, const char *name, hearth_error *err) {
    if (!r || !name) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_rollback: NULL");
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    if (e->previous < 0)
        return commit(r, HEARTH_FAIL(err, HEARTH_E_STATE, "%s has no previous version", e->name),
                      err);
    size_t a = e->active;
    e->active = (size_t)e->previous;
    e->previous = (ptrdiff_t)a;
    return commit(r, HEARTH_OK, err);
}

hearth_status registry_set_default(registry *r, const char *name, hearth_error *err) {
    if (!r) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_set_default: NULL");
    if (!name) {
        hearth_status st = reg_lock(r, err);
        if (st) return st;
        hearth_free(r->def);
        r->def = NULL;
        return commit(r, HEARTH_OK, err);
    }
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    char *d = hearth_strdup(e->name);
    if (!d) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
    hearth_free(r->def);
    r->def = d;
    return commit(r, HEARTH_OK, err);
}

hearth_status registry_set_channel(registry *r, const char *name, const char *url,
                                   hearth_error *err) {
    if (!r || !name) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_set_channel: NULL");
    if (url && strlen(url) > 4000) return HEARTH_FAIL(err, HEARTH_E_ARG, "channel URL too long");
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    char *c = url && *url ? hearth_strdup(url) : NULL;
    if (url && *url && !c) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
    hearth_free(e->channel);
    e->channel = c;
    return commit(r, HEARTH_OK, err);
}

/* Frees entry e's strings and versions (the hashes are copied out first by
 * the callers that delete blobs). */
static void drop_version_strings(registry_version *v) {
    hearth_free((char *)v->version);
    hearth_free((char *)v->source);
    hearth_free((char *)v->signed_by);
}

hearth_status registry_remove(registry *r, const char *name, uint64_t *freed, hearth_error *err) {
    if (freed) *freed = 0;
    if (!r || !name) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_remove: NULL");
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    size_t n = e->n;
    char(*hashes)[65] = hearth_malloc(n * sizeof *hashes);
    if (!hashes) return commit(r, HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory"), err);
    for (size_t i = 0; i < n; i++) {
        memcpy(hashes[i], e->v[i].sha256, 65);
        drop_version_strings(&e->v[i]);
    }
    if (r->def && !strcmp(r->def, e->name)) {
        hearth_free(r->def);
        r->def = NULL;
    }
    hearth_free(e->name);
    hearth_free(e->channel);
    hearth_free(e->v);
    size_t idx = (size_t)(e - r->e);
    memmove(e, e + 1, (r->n - idx - 1) * sizeof *e);
    r->n--;
    reg_refresh_views(r);
    st = reg_save(r, err);
    if (!st) /* durable: now the blobs may go */
        for (size_t i = 0; i < n; i++) reg_blob_drop_unused(r, hashes[i], freed);
    hearth_free(hashes);
    if (st) {
        hearth_error e2;
        reg_load(r, &e2);
    }
    reg_unlock(r);
    return st;
}

hearth_status registry_remove_version(registry *r, const char *name, const char *sha256,
                                      uint64_t *freed, hearth_error *err) {
    if (freed) *freed = 0;
    if (!r || !name || !sha256) return HEARTH_FAIL(err, HEARTH_E_ARG, "registry_remove_version: NULL");
    reg_entry *e;
    hearth_status st = lock_entry(r, name, &e, err);
    if (st) return st;
    ptrdiff_t k = select_version(e, sha256);
    if (k < 0)
        return commit(r, HEARTH_FAIL(err, k == -2 ? HEARTH_E_ARG : HEARTH_E_NOTFOUND,
                                     "%s: no single version '%.70s'", e->name, sha256), err);
    if ((size_t)k == e->active)
        return commit(r, HEARTH_FAIL(err, HEARTH_E_STATE, "%s: %.12s is the active version",
                                     e->name, e->v[k].sha256), err);
    char hash[65];
    memcpy(hash, e->v[k].sha256, 65);
    drop_version_strings(&e->v[k]);
    memmove(&e->v[k], &e->v[k + 1], (e->n - (size_t)k - 1) * sizeof *e->v);
    e->n--;
    if ((size_t)k < e->active) e->active--;
    if (e->previous == k) e->previous = -1;
    else if (e->previous > k) e->previous--;
    reg_refresh_views(r);
    st = reg_save(r, err);
    if (!st) reg_blob_drop_unused(r, hash, freed);
    else {
        hearth_error e2;
        reg_load(r, &e2);
    }
    reg_unlock(r);
    return st;
}
