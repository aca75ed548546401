/*
 * json_schema.c: a JSON Schema (the subset in docs/grammar.md) to GBNF text,
 * for hearth_grammar_from_json_schema and for callers composing grammars
 * (tool calls). Every string the grammar produces is a JSON text that
 * validates against the schema; the grammar picks one canonical shape:
 * properties in the schema's order, whitespace only between tokens (a space,
 * or a newline and up to 20 spaces or tabs), numbers without leading zeros and with at most 15 digits in
 * their integer and fraction parts.
 *
 * Every schema node becomes a rule "<root>-<n>"; the shared pieces (a JSON
 * string's character, blanks, any JSON value) are emitted once as
 * "<root>-char", "<root>-ws", "<root>-value". A $ref target gets one rule,
 * made before its body, so recursive schemas are recursive rules. Keywords
 * outside the subset are refused (HEARTH_E_UNSUPPORTED naming the keyword)
 * rather than ignored: a grammar that ignored "pattern" would produce
 * output that does not validate.
 */
#include "hearth.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_LEN 10000            /* the largest minLength/maxLength/minItems/maxItems */
#define BOUND_CAP 1000000000000000LL /* 1e15: unbounded integers have at most 15 digits */

typedef struct {
    const json_t *target;
    char name[96];
} refent;

typedef struct {
    strbuf out;
    const char *prefix;
    json_t *root;
    int n_rules;
    bool need_ws, need_char, need_value;
    refent *refs;
    size_t n_refs, cap_refs;
    int depth;
    hearth_error *err;
    hearth_status st;
} jc;

#define JFAIL(c, code, ...)                                              \
    do {                                                                 \
        if (!(c)->st) (c)->st = HEARTH_FAIL((c)->err, (code), __VA_ARGS__); \
    } while (0)

static void new_name(jc *c, char *out, size_t n) {
    snprintf(out, n, "%s-%d", c->prefix, ++c->n_rules);
}

/* A GBNF literal for bytes s[0..n). */
static void lit(strbuf *b, const char *s, size_t n) {
    strbuf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"') strbuf_puts(b, "\\\"");
        else if (ch == '\\') strbuf_puts(b, "\\\\");
        else if (ch == '\n') strbuf_puts(b, "\\n");
        else if (ch == '\r') strbuf_puts(b, "\\r");
        else if (ch == '\t') strbuf_puts(b, "\\t");
        else if (ch < 0x20 || ch == 0x7F) strbuf_printf(b, "\\x%02X", ch);
        else strbuf_append(b, &ch, 1);
    }
    strbuf_puts(b, "\"");
}

/* The GBNF literal of a JSON value's compact text. */
static void lit_json(jc *c, strbuf *b, const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
        return;
    }
    lit(b, s, strlen(s));
    free(s);
}

static void ws(jc *c, strbuf *b) {
    c->need_ws = true;
    strbuf_printf(b, " %s-ws ", c->prefix);
}

/* ---- integers ------------------------------------------------------------ */

/* Decimal strings of exactly n digits in [a, b] (a <= b, both n digits). */
static void same_len(strbuf *o, const char *a, const char *b, int n) {
    if (n == 0) {
        strbuf_puts(o, "\"\"");
        return;
    }
    if (a[0] == b[0]) {
        strbuf_printf(o, "\"%c\" ", a[0]);
        same_len(o, a + 1, b + 1, n - 1);
        return;
    }
    bool a_min = true, b_max = true;
    for (int i = 1; i < n; i++) {
        a_min &= a[i] == '0';
        b_max &= b[i] == '9';
    }
    char da = a[0], db = b[0];
    bool first = true;
    strbuf_puts(o, "(");
    char nines[20], zeros[20];
    memset(nines, '9', sizeof nines);
    memset(zeros, '0', sizeof zeros);
    if (!a_min) {
        strbuf_printf(o, "\"%c\" ", da);
        same_len(o, a + 1, nines, n - 1);
        da++;
        first = false;
    }
    char hi = b_max ? db : (char)(db - 1);
    if (da <= hi) {
        if (!first) strbuf_puts(o, " | ");
        if (da == hi) strbuf_printf(o, "\"%c\"", da);
        else strbuf_printf(o, "[%c-%c]", da, hi);
        if (n > 1) strbuf_printf(o, " [0-9]{%d}", n - 1);
        first = false;
    }
    if (!b_max) {
        if (!first) strbuf_puts(o, " | ");
        strbuf_printf(o, "\"%c\" ", db);
        same_len(o, zeros, b + 1, n - 1);
    }
    strbuf_puts(o, ")");
}

static int ndigits(long long v) {
    int n = 1;
    while (v >= 10) v /= 10, n++;
    return n;
}

/* Non-negative integers in [lo, hi] (0 <= lo <= hi < 1e15... 1e18). */
static void nonneg_range(strbuf *o, long long lo, long long hi) {
    int la = ndigits(lo), lb = ndigits(hi);
    strbuf_puts(o, "(");
    for (int L = la; L <= lb; L++) {
        long long p = 1;
        for (int i = 1; i < L; i++) p *= 10;
        long long a = L == la ? lo : p, b = L == lb ? hi : p * 10 - 1;
        char sa[24], sb[24];
        snprintf(sa, sizeof sa, "%lld", a);
        snprintf(sb, sizeof sb, "%lld", b);
        if (L > la) strbuf_puts(o, " | ");
        same_len(o, sa, sb, L);
    }
    strbuf_puts(o, ")");
}

/* Integers in [lo, hi], each side capped at +-(1e15 - 1). */
static void int_range(strbuf *o, long long lo, long long hi) {
    bool alt = false;
    strbuf_puts(o, "(");
    if (hi >= 0) {
        nonneg_range(o, lo > 0 ? lo : 0, hi);
        alt = true;
    }
    if (lo < 0) {
        if (alt) strbuf_puts(o, " | ");
        strbuf_puts(o, "\"-\" ");
        nonneg_range(o, hi < 0 ? -hi : 1, -lo);
    }
    strbuf_puts(o, ")");
}

static bool get_num(jc *c, json_t *s, const char *k, double *out) {
    json_t *v = json_object_get(s, k);
    if (!v) return false;
    if (!json_is_number(v)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: '%s' must be a number", k);
        return false;
    }
    *out = json_number_value(v);
    return true;
}

/* The bounds of a number or integer schema, as lo <= v (lo_x: lo < v) and
 * v <= hi (hi_x: v < hi); unbounded sides are +-1e15. */
static void bounds(jc *c, json_t *s, double *lo, bool *lo_x, double *hi, bool *hi_x) {
    *lo = -(double)(BOUND_CAP - 1);
    *hi = (double)(BOUND_CAP - 1);
    *lo_x = *hi_x = false;
    double v;
    json_t *emin = json_object_get(s, "exclusiveMinimum"), *emax = json_object_get(s, "exclusiveMaximum");
    if (get_num(c, s, "minimum", &v) && v > *lo) *lo = v, *lo_x = json_is_true(emin);
    if (get_num(c, s, "maximum", &v) && v < *hi) *hi = v, *hi_x = json_is_true(emax);
    if (emin && !json_is_boolean(emin) && get_num(c, s, "exclusiveMinimum", &v) && v >= *lo)
        *lo = v, *lo_x = true;
    if (emax && !json_is_boolean(emax) && get_num(c, s, "exclusiveMaximum", &v) && v <= *hi)
        *hi = v, *hi_x = true;
    if (*lo < -(double)(BOUND_CAP - 1)) *lo = -(double)(BOUND_CAP - 1), *lo_x = false;
    if (*hi > (double)(BOUND_CAP - 1)) *hi = (double)(BOUND_CAP - 1), *hi_x = false;
}

static void gen_integer(jc *c, json_t *s, strbuf *b) {
    double lo, hi;
    bool lx, hx;
    bounds(c, s, &lo, &lx, &hi, &hx);
    double l = lx ? floor(lo) + 1 : ceil(lo), h = hx ? ceil(hi) - 1 : floor(hi);
    if (c->st) return;
    if (l > h) {
        JFAIL(c, HEARTH_E_ARG, "json schema: no integer satisfies the bounds (%g to %g)", lo, hi);
        return;
    }
    int_range(b, (long long)l, (long long)h);
}

static void gen_number(jc *c, json_t *s, strbuf *b) {
    double lo, hi;
    bool lx, hx;
    bounds(c, s, &lo, &lx, &hi, &hx);
    if (c->st) return;
    bool bounded = json_object_get(s, "minimum") || json_object_get(s, "maximum") ||
                   json_object_get(s, "exclusiveMinimum") || json_object_get(s, "exclusiveMaximum");
    if (!bounded) {
        strbuf_puts(b, "(\"-\"? ([0-9] | [1-9] [0-9]{1,14}) (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,2})?)");
        return;
    }
    /* The integers in range, then numbers with a fraction ("." and 1-15
     * digits) whose integer part keeps any fraction in range. */
    double il = lx ? floor(lo) + 1 : ceil(lo), ih = hx ? ceil(hi) - 1 : floor(hi);
    /* fractional, non-negative: v = I + f, 0 <= f < 1 */
    double pl = lx ? floor(lo) + 1 : ceil(lo), ph = floor(hi) - 1;
    if (pl < 0) pl = 0;
    /* fractional, negative: v = -(I + f) */
    double nl = hx ? floor(-hi) + 1 : ceil(-hi), nh = floor(-lo) - 1;
    if (nl < 0) nl = 0;
    bool any = false;
    strbuf_puts(b, "(");
    if (il <= ih) {
        int_range(b, (long long)il, (long long)ih);
        any = true;
    }
    if (pl <= ph) {
        if (any) strbuf_puts(b, " | ");
        nonneg_range(b, (long long)pl, (long long)ph);
        strbuf_puts(b, " \".\" [0-9]{1,15}");
        any = true;
    }
    if (nl <= nh) {
        if (any) strbuf_puts(b, " | ");
        strbuf_puts(b, "\"-\" ");
        nonneg_range(b, (long long)nl, (long long)nh);
        strbuf_puts(b, " \".\" [0-9]{1,15}");
        any = true;
    }
    /* an exclusive whole bound: the numbers just past it, with a fraction
     * that is not zero (exclusiveMinimum 0 allows 0.5) */
    if (lx && lo == floor(lo) && lo >= 0 && lo + 1 <= hi) {
        if (any) strbuf_puts(b, " | ");
        strbuf_printf(b, "\"%lld.\" [0-9]{0,14} [1-9]", (long long)lo);
        any = true;
    }
    if (hx && hi == floor(hi) && hi <= 0 && hi - 1 >= lo) {
        if (any) strbuf_puts(b, " | ");
        strbuf_printf(b, "\"-%lld.\" [0-9]{0,14} [1-9]", (long long)-hi);
        any = true;
    }
    strbuf_puts(b, ")");
    if (!any) JFAIL(c, HEARTH_E_ARG, "json schema: no number satisfies the bounds (%g to %g)", lo, hi);
}

/* ---- strings --------------------------------------------------------------- */

static bool get_count(jc *c, json_t *s, const char *k, long *out) {
    json_t *v = json_object_get(s, k);
    if (!v) return false;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        JFAIL(c, HEARTH_E_ARG, "json schema: '%s' must be a non-negative integer", k);
        return false;
    }
    if (json_integer_value(v) > MAX_LEN) {
        JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: '%s' above %d is not supported", k, MAX_LEN);
        return false;
    }
    *out = (long)json_integer_value(v);
    return true;
}

static const char *const date_g =
    "[1-9] [0-9]{3} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])"
    " | (\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\")"
    " | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))";
static const char *const time_g =
    "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})?"
    " (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";

static void gen_string(jc *c, json_t *s, strbuf *b) {
    long mn = 0, mx = -1;
    bool has_min = get_count(c, s, "minLength", &mn), has_max = get_count(c, s, "maxLength", &mx);
    if (c->st) return;
    json_t *f = json_object_get(s, "format");
    if (f) {
        if (!json_is_string(f)) {
            JFAIL(c, HEARTH_E_ARG, "json schema: 'format' must be a string");
            return;
        }
        if (has_min || has_max) {
            JFAIL(c, HEARTH_E_UNSUPPORTED,
                  "json schema: 'minLength'/'maxLength' together with 'format' is not supported");
            return;
        }
        const char *fs = json_string_value(f);
        strbuf_puts(b, "\"\\\"\" (");
        if (!strcmp(fs, "date")) strbuf_puts(b, date_g);
        else if (!strcmp(fs, "time")) strbuf_puts(b, time_g);
        else if (!strcmp(fs, "date-time")) strbuf_printf(b, "%s \"T\" %s", date_g, time_g);
        else if (!strcmp(fs, "uuid"))
            strbuf_puts(b, "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" "
                           "[0-9a-f]{12}");
        else if (!strcmp(fs, "email"))
            strbuf_puts(b, "[a-zA-Z0-9_%+-] [a-zA-Z0-9._%+-]{0,30} \"@\" [a-zA-Z0-9] [a-zA-Z0-9-]{0,30}"
                           " (\".\" [a-zA-Z0-9] [a-zA-Z0-9-]{0,30}){1,3}");
        else {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: 'format' \"%.40s\" is not supported "
                  "(supported: date, time, date-time, uuid, email)", fs);
            return;
        }
        strbuf_puts(b, ") \"\\\"\"");
        return;
    }
    if (has_max && mx < mn) {
        JFAIL(c, HEARTH_E_ARG, "json schema: maxLength %ld is below minLength %ld", mx, mn);
        return;
    }
    c->need_char = true;
    if (has_max) strbuf_printf(b, "\"\\\"\" %s-char{%ld,%ld} \"\\\"\"", c->prefix, mn, mx);
    else strbuf_printf(b, "\"\\\"\" %s-char{%ld,} \"\\\"\"", c->prefix, mn);
}

/* ---- schema nodes ------------------------------------------------------------ */

static void gen_rule(jc *c, json_t *s, char *name, size_t n);

/* A reference to the rule of sub-schema s, appended to b. */
static void sub(jc *c, json_t *s, strbuf *b) {
    char name[96];
    gen_rule(c, s, name, sizeof name);
    if (!c->st) strbuf_printf(b, " %s ", name);
}

static void any_value(jc *c, strbuf *b) {
    c->need_value = true;
    strbuf_printf(b, " %s-value ", c->prefix);
}

static json_t *resolve_ref(jc *c, const char *ref) {
    if (strcmp(ref, "#") == 0) return c->root;
    if (strncmp(ref, "#/", 2)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: $ref \"%.60s\": only references inside the schema "
              "(\"#/...\") are supported", ref);
        return NULL;
    }
    json_t *cur = c->root;
    const char *p = ref + 2;
    while (cur && *p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char tok[256];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 1 < sizeof tok; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                tok[k++] = p[i];
            }
        }
        tok[k] = '\0';
        if (json_is_object(cur)) cur = json_object_get(cur, tok);
        else if (json_is_array(cur)) {
            char *end;
            long idx = strtol(tok, &end, 10);
            cur = *end || idx < 0 ? NULL : json_array_get(cur, (size_t)idx);
        } else cur = NULL;
        p += n;
        if (*p == '/') p++;
    }
    if (!cur) JFAIL(c, HEARTH_E_ARG, "json schema: $ref \"%.60s\" points at nothing", ref);
    return cur;
}

static void gen_object(jc *c, json_t *s, strbuf *b) {
    json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required"),
           *addl = json_object_get(s, "additionalProperties");
    if (props && !json_is_object(props)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: 'properties' must be an object");
        return;
    }
    if (req && !json_is_array(req)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: 'required' must be an array of strings");
        return;
    }
    if (addl && !json_is_boolean(addl) && !json_is_object(addl)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: 'additionalProperties' must be a boolean or a schema");
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(req, i, r) {
        if (!json_is_string(r)) {
            JFAIL(c, HEARTH_E_ARG, "json schema: 'required' must be an array of strings");
            return;
        }
        if (!props || !json_object_get(props, json_string_value(r))) {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: required property \"%.60s\" is not in "
                  "'properties'", json_string_value(r));
            return;
        }
    }
    size_t np = props ? json_object_size(props) : 0;
    strbuf_puts(b, "\"{\"");
    ws(c, b);
    if (np == 0) {
        if (!json_is_false(addl)) {
            /* a map: any keys, values of the additionalProperties schema */
            char kv[96];
            new_name(c, kv, sizeof kv);
            strbuf body;
            strbuf_init(&body);
            c->need_char = true;
            strbuf_printf(&body, "\"\\\"\" %s-char* \"\\\"\"", c->prefix);
            ws(c, &body);
            strbuf_puts(&body, "\":\"");
            ws(c, &body);
            if (json_is_object(addl)) sub(c, addl, &body);
            else any_value(c, &body);
            ws(c, &body);
            char *t = strbuf_finish(&body, NULL);
            if (!t) {
                JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
                return;
            }
            strbuf_printf(&c->out, "%s ::= %s\n", kv, t);
            hearth_free(t);
            strbuf_printf(b, "(%s (\",\" ", kv);
            ws(c, b);
            strbuf_printf(b, "%s)*)?", kv);
        }
        strbuf_puts(b, " \"}\"");
        return;
    }
    /* S_i: the properties from i on, none written yet; R_i: the same after
     * one was written (so each starts with a comma). */
    char base[96];
    new_name(c, base, sizeof base);
    const char *key;
    json_t *ps;
    size_t k = 0;
    json_object_foreach(props, key, ps) {
        bool required = false;
        json_array_foreach(req, i, r) required |= !strcmp(json_string_value(r), key);
        strbuf kv;
        strbuf_init(&kv);
        json_t *ks = json_string(key);
        if (!ks) {
            JFAIL(c, HEARTH_E_ARG, "json schema: property name is not UTF-8");
            strbuf_discard(&kv);
            return;
        }
        lit_json(c, &kv, ks);
        json_decref(ks);
        ws(c, &kv);
        strbuf_puts(&kv, "\":\"");
        ws(c, &kv);
        sub(c, ps, &kv);
        ws(c, &kv);
        char *t = strbuf_finish(&kv, NULL);
        if (!t || c->st) {
            hearth_free(t);
            JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
            return;
        }
        bool last = k + 1 == np;
        char next_s[128], next_r[128];
        snprintf(next_s, sizeof next_s, "%s-s%zu", base, k + 1);
        snprintf(next_r, sizeof next_r, "%s-r%zu", base, k + 1);
        /* S_k */
        strbuf_printf(&c->out, "%s-s%zu ::= %s %s", base, k, t, last ? "" : next_r);
        if (!required) strbuf_printf(&c->out, " | %s", last ? "\"\"" : next_s);
        strbuf_puts(&c->out, "\n");
        /* R_k */
        strbuf_printf(&c->out, "%s-r%zu ::= \",\" %s-ws %s %s", base, k, c->prefix, t,
                      last ? "" : next_r);
        if (!required) strbuf_printf(&c->out, " | %s", last ? "\"\"" : next_r);
        strbuf_puts(&c->out, "\n");
        hearth_free(t);
        k++;
    }
    strbuf_printf(b, " %s-s0 \"}\"", base);
}

static void gen_array(jc *c, json_t *s, strbuf *b) {
    json_t *items = json_object_get(s, "items");
    long mn = 0, mx = -1;
    get_count(c, s, "minItems", &mn);
    bool has_max = get_count(c, s, "maxItems", &mx);
    if (c->st) return;
    if (items && json_is_array(items)) {
        JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: 'items' as an array (tuples) is not supported");
        return;
    }
    if (items && !json_is_object(items) && !json_is_boolean(items)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: 'items' must be a schema");
        return;
    }
    if (json_is_false(items)) mx = 0, has_max = true;
    if (has_max && mx < mn) {
        JFAIL(c, HEARTH_E_ARG, "json schema: maxItems %ld is below minItems %ld", mx, mn);
        return;
    }
    strbuf it;
    strbuf_init(&it);
    if (json_is_object(items)) sub(c, items, &it);
    else any_value(c, &it);
    ws(c, &it);
    char *t = strbuf_finish(&it, NULL);
    if (!t || c->st) {
        hearth_free(t);
        JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
        return;
    }
    strbuf_puts(b, "\"[\"");
    ws(c, b);
    if (!has_max || mx > 0) {
        long rest_min = mn > 0 ? mn - 1 : 0;
        strbuf_printf(b, "%s%s (\",\" %s-ws %s)", mn == 0 ? "(" : "", t, c->prefix, t);
        if (has_max) strbuf_printf(b, "{%ld,%ld}", rest_min, mx - 1);
        else strbuf_printf(b, "{%ld,}", rest_min);
        if (mn == 0) strbuf_puts(b, ")?");
    }
    strbuf_puts(b, " \"]\"");
    hearth_free(t);
}

static bool type_is(const char *t, const char *what) { return !strcmp(t, what); }

static void gen_typed(jc *c, json_t *s, const char *t, strbuf *b) {
    if (type_is(t, "null")) strbuf_puts(b, "\"null\"");
    else if (type_is(t, "boolean")) strbuf_puts(b, "(\"true\" | \"false\")");
    else if (type_is(t, "integer")) gen_integer(c, s, b);
    else if (type_is(t, "number")) gen_number(c, s, b);
    else if (type_is(t, "string")) gen_string(c, s, b);
    else if (type_is(t, "array")) gen_array(c, s, b);
    else if (type_is(t, "object")) gen_object(c, s, b);
    else JFAIL(c, HEARTH_E_ARG, "json schema: unknown type \"%.40s\"", t);
}

static const char *const known_keys[] = {
    /* handled */
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "minLength",
    "maxLength", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    /* annotations: no effect on validation */
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
    "readOnly", "writeOnly", NULL};

static bool has_any(json_t *s, const char *const *keys) {
    for (; *keys; keys++)
        if (json_object_get(s, *keys)) return true;
    return false;
}

/* The body of a rule for schema s, into b. */
static void gen_body(jc *c, json_t *s, strbuf *b) {
    if (json_is_true(s)) return any_value(c, b);
    if (json_is_false(s)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: the schema 'false' accepts nothing");
        return;
    }
    if (!json_is_object(s)) {
        JFAIL(c, HEARTH_E_ARG, "json schema: a schema must be an object or a boolean");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(s, key, v) {
        size_t i = 0;
        while (known_keys[i] && strcmp(known_keys[i], key)) i++;
        if (!known_keys[i]) {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: keyword '%.60s' is not supported", key);
            return;
        }
    }
    static const char *const constraint_keys[] = {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "enum", "const", "anyOf", "oneOf", "allOf", "minLength", "maxLength", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", NULL};
    json_t *ref = json_object_get(s, "$ref");
    if (ref) {
        if (!json_is_string(ref)) {
            JFAIL(c, HEARTH_E_ARG, "json schema: $ref must be a string");
            return;
        }
        if (has_any(s, constraint_keys)) {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: keywords beside '$ref' are not supported");
            return;
        }
        json_t *t = resolve_ref(c, json_string_value(ref));
        if (t) sub(c, t, b);
        return;
    }
    json_t *cst = json_object_get(s, "const"), *en = json_object_get(s, "enum");
    if (cst) return lit_json(c, b, cst);
    if (en) {
        if (!json_is_array(en) || !json_array_size(en)) {
            JFAIL(c, HEARTH_E_ARG, "json schema: 'enum' must be a non-empty array");
            return;
        }
        size_t i;
        strbuf_puts(b, "(");
        json_array_foreach(en, i, v) {
            if (i) strbuf_puts(b, " | ");
            lit_json(c, b, v);
        }
        strbuf_puts(b, ")");
        return;
    }
    static const char *const comb[] = {"anyOf", "oneOf", "allOf"};
    for (int k = 0; k < 3; k++) {
        json_t *alts = json_object_get(s, comb[k]);
        if (!alts) continue;
        if (!json_is_array(alts) || !json_array_size(alts)) {
            JFAIL(c, HEARTH_E_ARG, "json schema: '%s' must be a non-empty array", comb[k]);
            return;
        }
        if (k == 2 && json_array_size(alts) > 1) {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: 'allOf' with more than one schema is not "
                  "supported");
            return;
        }
        static const char *const other[] = {"type", "properties", "required", "items", "minItems",
                                            "maxItems", "minLength", "maxLength", "format",
                                            "minimum", "maximum", NULL};
        if (has_any(s, other)) {
            JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: keywords beside '%s' are not supported",
                  comb[k]);
            return;
        }
        size_t i;
        strbuf_puts(b, "(");
        json_array_foreach(alts, i, v) {
            if (i) strbuf_puts(b, " | ");
            sub(c, v, b);
        }
        strbuf_puts(b, ")");
        return;
    }
    json_t *type = json_object_get(s, "type");
    if (json_is_string(type)) return gen_typed(c, s, json_string_value(type), b);
    if (json_is_array(type) && json_array_size(type)) {
        size_t i;
        strbuf_puts(b, "(");
        json_array_foreach(type, i, v) {
            if (!json_is_string(v)) {
                JFAIL(c, HEARTH_E_ARG, "json schema: 'type' must be a string or strings");
                return;
            }
            if (i) strbuf_puts(b, " | ");
            gen_typed(c, s, json_string_value(v), b);
        }
        strbuf_puts(b, ")");
        return;
    }
    if (type) {
        JFAIL(c, HEARTH_E_ARG, "json schema: 'type' must be a string or a non-empty array");
        return;
    }
    /* no type: what the keywords imply */
    static const char *const obj_k[] = {"properties", "required", "additionalProperties", NULL},
                             *const arr_k[] = {"items", "minItems", "maxItems", NULL},
                             *const str_k[] = {"minLength", "maxLength", "format", NULL},
                             *const num_k[] = {"minimum", "maximum", "exclusiveMinimum",
                                               "exclusiveMaximum", NULL};
    if (has_any(s, obj_k)) gen_typed(c, s, "object", b);
    else if (has_any(s, arr_k)) gen_typed(c, s, "array", b);
    else if (has_any(s, str_k)) gen_typed(c, s, "string", b);
    else if (has_any(s, num_k)) gen_typed(c, s, "number", b);
    else any_value(c, b);
}

/* Makes (or finds, for a $ref target) the rule of s; its name into name. */
static void gen_rule(jc *c, json_t *s, char *name, size_t n) {
    if (c->st) return;
    for (size_t i = 0; i < c->n_refs; i++)
        if (c->refs[i].target == s) {
            snprintf(name, n, "%s", c->refs[i].name);
            return;
        }
    if (++c->depth > MAX_DEPTH) {
        JFAIL(c, HEARTH_E_UNSUPPORTED, "json schema: nested more than %d deep", MAX_DEPTH);
        return;
    }
    if (c->n_refs == 0 && c->n_rules == 0) snprintf(name, n, "%s", c->prefix);
    else new_name(c, name, n);
    /* remember every object schema, so a $ref to it (or a cycle) reuses it */
    if (c->n_refs == c->cap_refs) {
        size_t cap = c->cap_refs ? c->cap_refs * 2 : 16;
        refent *r = hearth_realloc(c->refs, cap * sizeof *r);
        if (!r) {
            JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
            return;
        }
        c->refs = r;
        c->cap_refs = cap;
    }
    c->refs[c->n_refs].target = s;
    snprintf(c->refs[c->n_refs].name, sizeof c->refs[c->n_refs].name, "%s", name);
    c->n_refs++;
    strbuf body;
    strbuf_init(&body);
    gen_body(c, s, &body);
    char *t = strbuf_finish(&body, NULL);
    if (!t) JFAIL(c, HEARTH_E_NOMEM, "json schema: out of memory");
    if (!c->st) strbuf_printf(&c->out, "%s ::= %s\n", name, t);
    hearth_free(t);
    c->depth--;
}

static void emit_shared(jc *c) {
    const char *p = c->prefix;
    if (c->need_value) {
        c->need_char = c->need_ws = true;
        strbuf_printf(&c->out,
                      "%s-value ::= %s-object | %s-array | %s-string | %s-number | \"true\" | "
                      "\"false\" | \"null\"\n",
                      p, p, p, p, p);
        strbuf_printf(&c->out,
                      "%s-object ::= \"{\" %s-ws (%s-string %s-ws \":\" %s-ws %s-value %s-ws "
                      "(\",\" %s-ws %s-string %s-ws \":\" %s-ws %s-value %s-ws)*)? \"}\"\n",
                      p, p, p, p, p, p, p, p, p, p, p, p, p);
        strbuf_printf(&c->out,
                      "%s-array ::= \"[\" %s-ws (%s-value %s-ws (\",\" %s-ws %s-value %s-ws)*)? "
                      "\"]\"\n",
                      p, p, p, p, p, p, p);
        strbuf_printf(&c->out, "%s-string ::= \"\\\"\" %s-char* \"\\\"\"\n", p, p);
        strbuf_printf(&c->out,
                      "%s-number ::= \"-\"? ([0-9] | [1-9] [0-9]{1,14}) (\".\" [0-9]{1,15})? "
                      "([eE] [-+]? [0-9]{1,2})?\n",
                      p);
    }
    if (c->need_char)
        strbuf_printf(&c->out,
                      "%s-char ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" "
                      "([0-9a-cA-CeEfF] [0-9a-fA-F] | [dD] [0-7]) [0-9a-fA-F]{2})\n",
                      p);
    /* one space, or one newline and an indent: room for pretty-printing,
     * none for a model to fill with blank lines */
    if (c->need_ws) strbuf_printf(&c->out, "%s-ws ::= \"\" | \" \" | \"\\n\" [ \\t]{0,20}\n", p);
}

hearth_status hearth_json_schema_to_gbnf(const char *schema, size_t len, const char *root_name,
                                         char **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "json schema: no output");
    *out = NULL;
    if (!schema) return HEARTH_FAIL(err, HEARTH_E_ARG, "json schema: no schema");
    if (!root_name) root_name = "root";
    size_t rl = strlen(root_name);
    if (rl == 0 || rl > 48) return HEARTH_FAIL(err, HEARTH_E_ARG, "json schema: root name length %zu", rl);
    for (size_t i = 0; i < rl; i++) {
        char ch = root_name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "json schema: root name '%s' is not a GBNF rule "
                               "name (letters, digits, - and _)", root_name);
    }
    json_error_t je;
    json_t *root = json_loadb(schema, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "json schema: invalid JSON at line %d column %d: %s",
                           je.line, je.column, je.text);
    jc c = {.prefix = root_name, .root = root, .err = err};
    strbuf_init(&c.out);
    char name[96];
    gen_rule(&c, root, name, sizeof name);
    if (!c.st) emit_shared(&c);
    char *text = strbuf_finish(&c.out, NULL);
    if (!c.st && !text) c.st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "json schema: out of memory");
    hearth_free(c.refs);
    json_decref(root);
    if (c.st) {
        hearth_free(text);
        return c.st;
    }
    /* A $ref that comes back to itself before any text ({"$ref": "#"}) is a
     * left-recursive grammar no string satisfies: refuse the schema here,
     * naming the cause, rather than hand out a grammar that does not compile
     * (found by fuzz_json_schema). */
    hearth_grammar *check = NULL;
    hearth_error ce;
    hearth_status cs = hearth_grammar_from_gbnf(text, strlen(text), root_name, &check, &ce);
    hearth_grammar_free(check);
    if (cs == HEARTH_E_ARG && strstr(ce.msg, "left recursion")) {
        hearth_free(text);
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "json schema: a $ref that refers back to itself before any value "
                           "text (%.200s)", ce.msg);
    }
    *out = text;
    return HEARTH_OK;
}

hearth_status hearth_grammar_from_json_schema(const char *schema, size_t len, hearth_grammar **out,
                                              hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "json schema: no output");
    *out = NULL;
    char *g;
    hearth_status st = hearth_json_schema_to_gbnf(schema, len, "root", &g, err);
    if (st) return st;
    st = hearth_grammar_from_gbnf(g, strlen(g), "root", out, err);
    if (st) hearth_error_prefix(err, "json schema: the generated grammar");
    hearth_free(g);
    return st;
}
