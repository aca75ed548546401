/*
 * manifest.c: parsing an update manifest (manifest.h). The input is a file
 * from the network: it is size-limited, parsed by jansson (which rejects
 * invalid UTF-8 and, with JSON_REJECT_DUPLICATES, repeated keys), and each
 * field is then bounds- and form-checked here before anything is copied.
 */
#include "models/manifest.h"

#include "models/registry.h"
#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SIG_MAX (64u << 10)
#define NOTES_MAX (16u << 10)

void manifest_free(manifest *m) {
    if (!m) return;
    hearth_free(m->signature);
    hearth_free(m->notes);
    m->signature = m->notes = NULL;
}

bool manifest_parse_semver(const char *s, int out[3]) {
    if (!s) return false;
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9') return false;
        long v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 6) return false;
            v = v * 10 + (*s++ - '0');
        }
        out[i] = (int)v;
        if (i < 2 && *s++ != '.') return false;
    }
    return *s == '\0' || *s == '-' || *s == '+';
}

bool manifest_version_ok(const manifest *m, const char *v) {
    int have[3];
    if (!manifest_parse_semver(v, have)) return false;
    for (int i = 0; i < 3; i++) {
        if (have[i] != m->min_version[i]) return have[i] > m->min_version[i];
    }
    return true;
}

/* A string field into a fixed buffer: 1..cap-1 bytes, no NUL, no control
 * bytes. */
static hearth_status str_field(json_t *root, const char *key, bool required, char *buf,
                               size_t cap, hearth_error *err) {
    json_t *v = json_object_get(root, key);
    buf[0] = '\0';
    if (!v || json_is_null(v)) {
        if (required) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' missing", key);
        return HEARTH_OK;
    }
    if (!json_is_string(v))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' is not a string", key);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0 || len >= cap)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' is empty or longer than %zu bytes",
                           key, cap - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' holds a control byte", key);
    memcpy(buf, s, len + 1);
    return HEARTH_OK;
}

/* An owned, possibly multi-line string of at most max bytes (no NUL). */
static hearth_status text_field(json_t *root, const char *key, size_t max, char **out,
                                hearth_error *err) {
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (!json_is_string(v))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' is not a string", key);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0 || len > max || memchr(s, '\0', len))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: '%s' is empty, holds NUL or is longer "
                                                 "than %zu bytes", key, max);
    *out = hearth_strndup(s, len);
    return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
}

static hearth_status parse_root(json_t *root, manifest *m, hearth_error *err) {
    if (!json_is_object(root))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: not a JSON object");
    hearth_status st;
    if ((st = str_field(root, "name", true, m->name, sizeof m->name, err))) return st;
    char norm[REGISTRY_NAME_MAX + 1];
    hearth_error ne;
    if (registry_name_norm(m->name, norm, sizeof norm, &ne))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'name' is not a valid model name");
    if ((st = str_field(root, "version", true, m->version, sizeof m->version, err))) return st;
    for (const char *p = m->version; *p; p++)
        if ((unsigned char)*p > 0x7e || *p == ' ')
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'version' must be printable ASCII "
                                                     "without spaces");
    if ((st = str_field(root, "url", true, m->url, sizeof m->url, err))) return st;
    if (strchr(m->url, ' ') || strchr(m->url, '\\'))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'url' holds a space or backslash");
    const char *colon = strstr(m->url, "://");
    if (colon && strncasecmp(m->url, "http://", 7) && strncasecmp(m->url, "https://", 8))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'url' is not http(s)");
    json_t *sz = json_object_get(root, "size");
    if (!json_is_integer(sz) || json_integer_value(sz) <= 0 ||
        (uint64_t)json_integer_value(sz) > (1ull << 40))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'size' is not an integer in [1, 2^40]");
    m->size = (uint64_t)json_integer_value(sz);
    char hex[80];
    if ((st = str_field(root, "sha256", true, hex, sizeof hex, err))) return st;
    if (strlen(hex) != 64)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'sha256' is not 64 hex digits");
    for (int i = 0; i < 64; i++) {
        char c = hex[i];
        if (c >= 'A' && c <= 'F') c = (char)(c + 32);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'sha256' is not 64 hex digits");
        m->sha256[i] = c;
    }
    m->sha256[64] = '\0';
    if ((st = text_field(root, "signature", SIG_MAX, &m->signature, err))) return st;
    if (m->signature) {
        m->signature_is_url = !strncasecmp(m->signature, "http://", 7) ||
                              !strncasecmp(m->signature, "https://", 8);
        if (m->signature_is_url && (strlen(m->signature) > 4096 || strpbrk(m->signature, " \n\r\t")))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'signature' URL is malformed");
    }
    char mv[32];
    if ((st = str_field(root, "min_hearth_version", false, mv, sizeof mv, err))) return st;
    if (mv[0] && !manifest_parse_semver(mv, m->min_version))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "manifest: 'min_hearth_version' is not MAJOR.MINOR.PATCH");
    return text_field(root, "notes", NOTES_MAX, &m->notes, err);
}

hearth_status manifest_parse(const void *buf, size_t len, manifest *m, hearth_error *err) {
    if (!m || (!buf && len)) return HEARTH_FAIL(err, HEARTH_E_ARG, "manifest_parse: NULL argument");
    memset(m, 0, sizeof *m);
    if (len > MANIFEST_MAX_BYTES)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: %zu bytes, more than %u", len,
                           MANIFEST_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: line %d: %s", je.line, je.text);
    hearth_status st = parse_root(root, m, err);
    json_decref(root);
    if (st) {
        manifest_free(m);
        memset(m, 0, sizeof *m);
    }
    return st;
}
