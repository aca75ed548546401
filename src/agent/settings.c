/*
 * settings.c: hearth's settings, resolved in DESIGN.md's order: flags
 * (hearth_settings_set), then HEARTH_<KEY> environment variables, then the
 * config file (key = value), then built-in defaults.
 *
 * Invariants: keys are stored lower case without the "hearth_" prefix, so
 * "HEARTH_MAX_CONTEXT", "hearth_max_context" and "max_context" are one key.
 * The environment and the file are read once, at load; after that the handle
 * depends on nothing outside itself.
 */
#include "hearth.h"
#include "util/alloc.h"
#include "util/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define MAX_KEY 64
#define MAX_LINE 4096

typedef struct {
    char key[MAX_KEY];
    char *value; /* owned */
    long line;   /* config file line (file table only), else 0 */
} entry;

typedef struct {
    entry *v;
    size_t n, cap;
} table;

struct hearth_settings {
    table flags, env, file, defaults;
    char *config_path; /* owned */
    char **warnings;   /* owned, n_warnings of them */
    size_t n_warnings;
};

static void table_clear(table *t) {
    for (size_t i = 0; i < t->n; i++) hearth_free(t->v[i].value);
    hearth_free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static entry *table_find(const table *t, const char *key) {
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].key, key)) return &t->v[i];
    return NULL;
}

/* Normalizes a key: lower case, "hearth_" prefix dropped, '-' as '_'.
 * False if it is empty, too long or has characters other than [a-z0-9_]. */
static bool norm_key(const char *in, size_t len, char out[MAX_KEY]) {
    if (len >= 7 && !strncasecmp(in, "hearth_", 7)) {
        in += 7;
        len -= 7;
    }
    if (len == 0 || len >= MAX_KEY) return false;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)in[i]);
        if (c == '-') c = '_';
        if (!(isalnum((unsigned char)c) || c == '_')) return false;
        out[i] = c;
    }
    out[len] = '\0';
    return true;
}

/* Sets key (already normalized) to value[0..len) in t; NULL value removes. */
static hearth_status table_put(table *t, const char *key, const char *value, size_t len,
                               hearth_error *err) {
    entry *e = table_find(t, key);
    if (!value) {
        if (e) {
            hearth_free(e->value);
            *e = t->v[--t->n];
        }
        return HEARTH_OK;
    }
    char *copy = hearth_strndup(value, len);
    if (!copy) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "settings: out of memory");
    if (e) {
        hearth_free(e->value);
        e->value = copy;
        return HEARTH_OK;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        entry *v = hearth_realloc(t->v, cap * sizeof *v);
        if (!v) {
            hearth_free(copy);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "settings: out of memory");
        }
        t->v = v;
        t->cap = cap;
    }
    e = &t->v[t->n++];
    memcpy(e->key, key, strlen(key) + 1);
    e->value = copy;
    e->line = 0;
    return HEARTH_OK;
}

static hearth_status put_str(table *t, const char *key, const char *value, hearth_error *err) {
    return table_put(t, key, value, strlen(value), err);
}

/* A path built from an environment variable (if set and non-empty) plus a
 * suffix, or from $HOME plus a fallback suffix. NULL when neither exists
 * or memory runs out. Owned. */
static char *env_path(const char *var, const char *suffix, const char *home_suffix) {
    const char *base = getenv(var);
    const char *tail = suffix;
    if (!base || !*base) {
        base = getenv("HOME");
        tail = home_suffix;
    }
    if (!base || !*base) return NULL;
    size_t n = strlen(base) + strlen(tail) + 1;
    char *p = hearth_malloc(n);
    if (p) snprintf(p, n, "%s%s", base, tail);
    return p;
}

static hearth_status load_defaults(hearth_settings *s, hearth_error *err) {
    static const char *const fixed[][2] = {
        {"max_context", "4096"}, {"threads", "0"},      {"host", "127.0.0.1"},
        {"port", "8080"},        {"temp", "0.8"},       {"top_p", "0.95"},
        {"top_k", "40"},         {"max_tokens", "512"}, {"seed", "-1"},
        {"min_p", "0.05"},       {"repeat_penalty", "1"},
        {"cache", "1"},          {"cache_max_entries", "10000"},
        {"cache_max_bytes", "67108864"},
        {"sandbox", "1"},        {"confidence_threshold", "0.5"},
        {"audit_content", "0"},  {"cloud_timeout_ms", "60000"},
        {"policy", "local-only"},
        /* battery policy and model choice (util/power.h, hearth models recommend) */
        {"battery_policy", "on"},   {"battery_low_percent", "20"},
        {"battery_threads", "0"},   {"recommend_max_latency_ms", "250"},
        {"device_probe_mb", "256"}, {"battery_pick", "on"},
        /* storage quotas in MB (hearth storage --prune); 0: none */
        {"models_quota_mb", "0"},   {"cache_quota_mb", "0"},
        /* model signatures (cli/model_trust.c); trusted_keys defaults to
         * HOME/trusted-keys there, as it follows "home" */
        {"require_signature", "0"},
        /* reasoning blocks (<think>...</think>) in answers: hide or show
         * (agent/think.h); never fed back as history either way */
        {"think", "hide"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        hearth_status st = put_str(&s->defaults, fixed[i][0], fixed[i][1], err);
        if (st) return st;
    }
    char *home = env_path("XDG_DATA_HOME", "/hearth", "/.local/share/hearth");
    if (home) {
        hearth_status st = put_str(&s->defaults, "home", home, err);
        hearth_free(home);
        if (st) return st;
    }
    return HEARTH_OK;
}

static hearth_status load_env(hearth_settings *s, hearth_error *err) {
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "HEARTH_", 7)) continue;
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        char key[MAX_KEY];
        if (!norm_key(*e, (size_t)(eq - *e), key)) continue;
        /* Variables that name the config file or test plumbing are not
         * settings of their own, but keeping them is harmless. */
        hearth_status st = put_str(&s->env, key, eq + 1, err);
        if (st) return st;
    }
    return HEARTH_OK;
}

static const char *trim(char *b, char **end) {
    while (*b == ' ' || *b == '\t') b++;
    char *e = b + strlen(b);
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
    *e = '\0';
    if (end) *end = e;
    return b;
}

static hearth_status load_file(hearth_settings *s, hearth_error *err) {
    FILE *f = fopen(s->config_path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR) return HEARTH_OK;
        return HEARTH_FAIL(err, HEARTH_E_IO, "config file '%s': %s", s->config_path,
                           strerror(errno));
    }
    char line[MAX_LINE];
    long lineno = 0;
    hearth_status st = HEARTH_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "config file '%s' line %ld: longer than %d bytes",
                             s->config_path, lineno, MAX_LINE - 2);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        const char *t = trim(line, NULL);
        if (!*t) continue;
        char *eq = strchr(t, '=');
        char key[MAX_KEY];
        if (eq) *eq = '\0';
        const char *k = eq ? trim((char *)t, NULL) : t;
        if (!eq || !norm_key(k, strlen(k), key)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "config file '%s' line %ld: expected 'key = value'",
                             s->config_path, lineno);
            break;
        }
        const char *v = trim(eq + 1, NULL);
        /* Quotes around a value are optional and removed. */
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v++;
            vl -= 2;
        }
        st = table_put(&s->file, key, v, vl, err);
        if (st) break;
        table_find(&s->file, key)->line = lineno;
        if (!hearth_setting_is_known(key)) {
            const char *near = hearth_setting_nearest(key);
            char msg[MAX_KEY * 2 + 320];
            snprintf(msg, sizeof msg, "config file '%.200s' line %ld: unknown key '%s'%s%s%s",
                     s->config_path, lineno, key, near ? " (did you mean '" : "",
                     near ? near : "", near ? "'?)" : "");
            char **w = hearth_realloc(s->warnings, (s->n_warnings + 1) * sizeof *w);
            if (!w || !(w[s->n_warnings] = hearth_strdup(msg))) {
                if (w) s->warnings = w;
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "settings: out of memory");
                break;
            }
            s->warnings = w;
            s->n_warnings++;
        }
    }
    if (!st && ferror(f))
        st = HEARTH_FAIL(err, HEARTH_E_IO, "config file '%s': read error", s->config_path);
    fclose(f);
    return st;
}

hearth_status hearth_settings_load(hearth_settings **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_settings_load: out is NULL");
    *out = NULL;
    hearth_settings *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "settings: out of memory");
    hearth_status st = HEARTH_OK;
    const char *cfg = getenv("HEARTH_CONFIG");
    s->config_path = cfg && *cfg ? hearth_strdup(cfg)
                                 : env_path("XDG_CONFIG_HOME", "/hearth/config",
                                            "/.config/hearth/config");
    if (!s->config_path) s->config_path = hearth_strdup("/nonexistent/hearth/config");
    if (!s->config_path) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "settings: out of memory");
    if (!st) st = load_defaults(s, err);
    if (!st) st = load_env(s, err);
    if (!st) st = load_file(s, err);
    if (st) {
        hearth_settings_free(s);
        return st;
    }
    *out = s;
    return HEARTH_OK;
}

void hearth_settings_free(hearth_settings *s) {
    if (!s) return;
    table_clear(&s->flags);
    table_clear(&s->env);
    table_clear(&s->file);
    table_clear(&s->defaults);
    hearth_free(s->config_path);
    for (size_t i = 0; i < s->n_warnings; i++) hearth_free(s->warnings[i]);
    hearth_free(s->warnings);
    hearth_free(s);
}

const char *hearth_settings_warning(const hearth_settings *s, size_t i) {
    return s && i < s->n_warnings ? s->warnings[i] : NULL;
}

long hearth_settings_file_line(const hearth_settings *s, const char *key) {
    char k[MAX_KEY];
    if (!s || !key || !norm_key(key, strlen(key), k)) return 0;
    const entry *e = table_find(&s->file, k);
    return e ? e->line : 0;
}

hearth_status hearth_settings_set(hearth_settings *s, const char *key, const char *value,
                                  hearth_error *err) {
    char k[MAX_KEY];
    if (!s || !key || !norm_key(key, strlen(key), k))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "settings: bad key '%s'", key ? key : "(null)");
    return table_put(&s->flags, k, value, value ? strlen(value) : 0, err);
}

const char *hearth_settings_get(const hearth_settings *s, const char *key,
                                hearth_setting_source *source) {
    char k[MAX_KEY];
    if (source) *source = HEARTH_SETTING_UNSET;
    if (!s || !key || !norm_key(key, strlen(key), k)) return NULL;
    const table *order[] = {&s->flags, &s->env, &s->file, &s->defaults};
    const hearth_setting_source src[] = {HEARTH_SETTING_FLAG, HEARTH_SETTING_ENV,
                                         HEARTH_SETTING_FILE, HEARTH_SETTING_DEFAULT};
    for (int i = 0; i < 4; i++) {
        const entry *e = table_find(order[i], k);
        if (e) {
            if (source) *source = src[i];
            return e->value;
        }
    }
    return NULL;
}

hearth_status hearth_settings_get_int(const hearth_settings *s, const char *key, int64_t *out,
                                      hearth_error *err) {
    hearth_setting_source src;
    const char *v = hearth_settings_get(s, key, &src);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "setting '%s' has no value", key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    while (*end == ' ') end++;
    if (!*v || errno || *end)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s' = '%s' (from %s) is not an integer",
                           key, v, hearth_setting_source_name(src));
    *out = x;
    return HEARTH_OK;
}

hearth_status hearth_settings_get_float(const hearth_settings *s, const char *key, double *out,
                                        hearth_error *err) {
    hearth_setting_source src;
    const char *v = hearth_settings_get(s, key, &src);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "setting '%s' has no value", key);
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    while (*end == ' ') end++;
    if (!*v || errno || *end || !isfinite(x))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s' = '%s' (from %s) is not a number",
                           key, v, hearth_setting_source_name(src));
    *out = x;
    return HEARTH_OK;
}

const char *hearth_settings_config_path(const hearth_settings *s) {
    return s ? s->config_path : NULL;
}

const char *hearth_setting_source_name(hearth_setting_source src) {
    switch (src) {
    case HEARTH_SETTING_FLAG: return "flag";
    case HEARTH_SETTING_ENV: return "env";
    case HEARTH_SETTING_FILE: return "file";
    case HEARTH_SETTING_DEFAULT: return "default";
    default: return "unset";
    }
}
