/*
 * registry_json.c: registry.json to the handle's snapshot and back.
 *
 * The file is untrusted in the sense that a user may have edited it: every
 * field is type-checked, every string's length is bounded, hashes must be
 * 64 lowercase hex digits, names must be valid and unique, and active /
 * previous must name versions of the entry. Anything else is
 * HEARTH_E_FORMAT, and the snapshot in memory stays as it was.
 */
#include "models/registry_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REG_FILE_MAX (16u << 20)   /* a registry.json larger than this is refused */
#define REG_STR_MAX 4096           /* longest source / channel / version string */
#define REG_MAX_VERSIONS 10000

bool reg_is_sha256(const char *s) {
    if (!s) return false;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return s[64] == '\0';
}

static void entry_free(reg_entry *e) {
    hearth_free(e->name);
    hearth_free(e->channel);
    for (size_t i = 0; i < e->n; i++) {
        hearth_free((char *)e->v[i].version);
        hearth_free((char *)e->v[i].source);
        hearth_free((char *)e->v[i].signed_by);
    }
    hearth_free(e->v);
    *e = (reg_entry){0};
}

void reg_clear(registry *r) {
    for (size_t i = 0; i < r->n; i++) entry_free(&r->e[i]);
    hearth_free(r->e);
    r->e = NULL;
    r->n = r->cap = 0;
    hearth_free(r->def);
    r->def = NULL;
}

void reg_refresh_views(registry *r) {
    for (size_t i = 0; i < r->n; i++) {
        reg_entry *e = &r->e[i];
        e->m.name = e->name;
        e->m.channel = e->channel ? e->channel : "";
        e->m.versions = e->v;
        e->m.n_versions = e->n;
        e->m.active = &e->v[e->active];
        e->m.previous = e->previous >= 0 ? &e->v[e->previous] : NULL;
        e->m.is_default = r->def && !strcmp(r->def, e->name);
    }
}

/* A string field: absent or null gives "" when optional. */
static hearth_status get_str(json_t *o, const char *key, bool required, const char *where,
                             char **out, hearth_error *err) {
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: '%s' missing", where, key);
        *out = hearth_strdup("");
    } else {
        if (!json_is_string(v))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: '%s' is not a string", where, key);
        size_t len = json_string_length(v);
        if (len > REG_STR_MAX || strlen(json_string_value(v)) != len)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: '%s' too long or holds NUL", where,
                               key);
        *out = hearth_strdup(json_string_value(v));
    }
    return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
}

static hearth_status parse_version(json_t *o, const char *where, registry_version *v,
                                   hearth_error *err) {
    *v = (registry_version){0};
    if (!json_is_object(o))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: a version is not an object", where);
    json_t *h = json_object_get(o, "sha256");
    if (!json_is_string(h) || !reg_is_sha256(json_string_value(h)))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: a version's sha256 is not 64 hex digits",
                           where);
    memcpy(v->sha256, json_string_value(h), 65);
    json_t *sz = json_object_get(o, "size");
    if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: version %.12s: bad size", where,
                           v->sha256);
    v->size = (uint64_t)json_integer_value(sz);
    json_t *t = json_object_get(o, "added_ms");
    v->added_ms = json_is_integer(t) ? (int64_t)json_integer_value(t) : 0;
    char *ver = NULL, *src = NULL, *sig = NULL;
    hearth_status st = get_str(o, "version", false, where, &ver, err);
    if (!st) st = get_str(o, "source", false, where, &src, err);
    if (!st) st = get_str(o, "signed_by", false, where, &sig, err);
    v->version = ver;
    v->source = src;
    v->signed_by = sig;
    return st;
}

/* Index of the version whose hash is s in e, or -1. */
static ptrdiff_t find_hash(const reg_entry *e, const char *s) {
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].sha256, s)) return (ptrdiff_t)i;
    return -1;
}

static hearth_status parse_entry(const char *key, json_t *o, reg_entry *e, hearth_error *err) {
    *e = (reg_entry){.previous = -1};
    char norm[REGISTRY_NAME_MAX + 1];
    hearth_error ne = {0};
    if (registry_name_norm(key, norm, sizeof norm, &ne) || strcmp(norm, key))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "model name '%.60s' is not valid", key);
    if (!json_is_object(o))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "model '%s' is not an object", key);
    e->name = hearth_strdup(key);
    if (!e->name) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = get_str(o, "channel", false, key, &e->channel, err);
    if (st) return st;
    json_t *vs = json_object_get(o, "versions");
    if (!json_is_array(vs) || json_array_size(vs) == 0 ||
        json_array_size(vs) > REG_MAX_VERSIONS)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "model '%s': versions missing or too many",
                           key);
    size_t nv = json_array_size(vs);
    e->v = hearth_calloc(nv, sizeof *e->v);
    if (!e->v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    e->cap = nv;
    for (size_t i = 0; i < nv; i++) {
        st = parse_version(json_array_get(vs, i), key, &e->v[i], err);
        e->n = i + 1; /* so entry_free frees what parse_version allocated */
        if (st) return st;
        if (find_hash(e, e->v[i].sha256) != (ptrdiff_t)i)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "model '%s': version %.12s listed twice",
                               key, e->v[i].sha256);
    }
    json_t *a = json_object_get(o, "active");
    ptrdiff_t ai = json_is_string(a) ? find_hash(e, json_string_value(a)) : -1;
    if (ai < 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "model '%s': active is not one of its versions",
                           key);
    e->active = (size_t)ai;
    json_t *p = json_object_get(o, "previous");
    if (p && !json_is_null(p)) {
        ptrdiff_t pi = json_is_string(p) ? find_hash(e, json_string_value(p)) : -1;
        if (pi < 0 || pi == ai)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                               "model '%s': previous is not another of its versions", key);
        e->previous = pi;
    }
    return HEARTH_OK;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const reg_entry *)a)->name, ((const reg_entry *)b)->name);
}

hearth_status reg_parse(registry *r, const char *buf, size_t len, hearth_error *err) {
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: line %d: %s", r->file, je.line, je.text);
    registry tmp = {0};
    hearth_status st = HEARTH_OK;
    json_t *fmt = json_object_get(root, "format");
    json_t *models = json_object_get(root, "models");
    json_t *def = json_object_get(root, "default");
    if (!json_is_object(root) || !json_is_integer(fmt)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: not a hearth model registry", r->file);
        goto out;
    }
    if (json_integer_value(fmt) != 1) {
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "%s: registry format %lld is not 1",
                         r->file, (long long)json_integer_value(fmt));
        goto out;
    }
    if (models && !json_is_object(models)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: 'models' is not an object", r->file);
        goto out;
    }
    size_t n = models ? json_object_size(models) : 0;
    if (n) {
        tmp.e = hearth_calloc(n, sizeof *tmp.e);
        if (!tmp.e) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            goto out;
        }
        tmp.cap = n;
    }
    const char *key;
    json_t *val;
    json_object_foreach(models, key, val) {
        st = parse_entry(key, val, &tmp.e[tmp.n], err);
        tmp.n++;
        if (st) {
            hearth_error_prefix(err, "%s", r->file);
            goto out;
        }
    }
    if (tmp.n > 1) qsort(tmp.e, tmp.n, sizeof *tmp.e, entry_cmp);
    if (def && !json_is_null(def)) {
        const char *d = json_string_value(def);
        bool found = false;
        for (size_t i = 0; d && i < tmp.n; i++) found |= !strcmp(tmp.e[i].name, d);
        /* A default that names nothing is dropped, not fatal: rm of the
         * default always clears it, so only a hand edit gets here. */
        if (found && !(tmp.def = hearth_strdup(d))) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    json_decref(root);
    if (st) {
        reg_clear(&tmp);
        return st;
    }
    reg_clear(r);
    r->e = tmp.e;
    r->n = tmp.n;
    r->cap = tmp.cap;
    r->def = tmp.def;
    reg_refresh_views(r);
    return HEARTH_OK;
}

hearth_status reg_load(registry *r, hearth_error *err) {
    int fd = open(r->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            reg_clear(r);
            return HEARTH_OK;
        }
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", r->file, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) || sb.st_size < 0 || (uint64_t)sb.st_size > REG_FILE_MAX) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: missing or larger than %u bytes", r->file,
                           REG_FILE_MAX);
    }
    size_t len = (size_t)sb.st_size;
    char *buf = hearth_malloc(len + 1);
    if (!buf) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, buf + got, len - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    hearth_status st = got == len ? reg_parse(r, buf, len, err)
                                  : HEARTH_FAIL(err, HEARTH_E_IO, "%s: short read", r->file);
    hearth_free(buf);
    return st;
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

hearth_status reg_save(const registry *r, hearth_error *err) {
    json_t *root = json_object(), *models = json_object();
    bool ok = root && models;
    ok = ok && !json_object_set_new(root, "format", json_integer(1));
    ok = ok && !json_object_set_new(root, "default", str_or_null(r->def));
    for (size_t i = 0; ok && i < r->n; i++) {
        const reg_entry *e = &r->e[i];
        json_t *o = json_object(), *vs = json_array();
        ok = o && vs;
        for (size_t j = 0; ok && j < e->n; j++) {
            const registry_version *v = &e->v[j];
            json_t *vo = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "sha256", v->sha256,
                                   "size", (json_int_t)v->size, "version", v->version,
                                   "source", v->source, "signed_by", v->signed_by,
                                   "added_ms", (json_int_t)v->added_ms);
            ok = vo && !json_array_append_new(vs, vo);
        }
        ok = ok && !json_object_set_new(o, "active", json_string(e->v[e->active].sha256));
        ok = ok && !json_object_set_new(o, "previous",
                                        e->previous >= 0 ? json_string(e->v[e->previous].sha256)
                                                         : json_null());
        ok = ok && !json_object_set_new(o, "channel", str_or_null(e->channel));
        ok = ok && !json_object_set(o, "versions", vs);
        json_decref(vs);
        ok = ok && !json_object_set(models, e->name, o);
        json_decref(o);
    }
    ok = ok && !json_object_set(root, "models", models);
    char *text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(models);
    json_decref(root);
    if (!text) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory writing the registry");
    size_t len = strlen(text);
    text[len] = '\0';
    /* A trailing newline keeps the file pleasant to read with cat. */
    char *withnl = hearth_malloc(len + 2);
    hearth_status st;
    if (!withnl) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else {
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        st = reg_write_atomic(r->file, withnl, len + 1, err);
        hearth_free(withnl);
    }
    free(text);
    return st;
}
