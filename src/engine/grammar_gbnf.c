/*
 * grammar_gbnf.c: the parser of llama.cpp's GBNF notation, written from its
 * documentation (grammars/README.md), into the byte-level form of
 * grammar_int.h.
 *
 *   rule      name ::= alternatives            (names: letters, digits, - _)
 *   literal   "text"  with \n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH
 *   class     [a-z0-9_] [^"\\]   (same escapes), . = any character
 *   grouping  ( ... )   alternatives  a | b   repetition  x* x+ x? x{m} x{m,} x{m,n}
 *   comments  # to the end of the line
 *
 * A newline ends a rule, except inside parentheses and after "|" (and, as a
 * leniency, before a line that starts with "|"). Terminals are code points;
 * each becomes the UTF-8 bytes that spell it (surrogates are never
 * matched). Repetitions expand into synthesized rules: x* is r ::= x r | "",
 * x{m,n} is m copies of x then n-m nested optional copies.
 *
 * Errors carry the line and column (1-based) of the offending character.
 * Every loop advances the cursor; nesting of groups is limited so the
 * recursive descent cannot exhaust the stack.
 */
#include "engine/grammar_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 256
#define MAX_SETS 65536

typedef struct {
    const char *s;
    size_t len, pos;
    grule *rules;
    size_t n_rules, cap_rules;
    /* name -> rule id, open addressing over rules (-1 empty) */
    int32_t *names;
    size_t names_cap;
    uint8_t (*sets)[32];
    uint32_t n_sets, cap_sets;
    int32_t *set_hash; /* bitmap -> set id (-1 empty) */
    size_t set_hash_cap;
    size_t n_elems;    /* all elements so far (limit) */
    int depth;
    hearth_error *err;
    hearth_status st;
} gp;

/* ---- errors --------------------------------------------------------------- */

static void where(const gp *p, size_t pos, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

#define FAIL_AT(p, pos, ...)                                                                \
    do {                                                                                    \
        if (!(p)->st) {                                                                     \
            char m_[160];                                                                   \
            int l_, c_;                                                                     \
            snprintf(m_, sizeof m_, __VA_ARGS__);                                           \
            where((p), (pos), &l_, &c_);                                                    \
            (p)->st = HEARTH_FAIL((p)->err, HEARTH_E_FORMAT, "grammar: line %d column %d: %s", \
                                  l_, c_, m_);                                              \
        }                                                                                   \
    } while (0)

static bool nomem(gp *p) {
    if (!p->st) p->st = HEARTH_FAIL(p->err, HEARTH_E_NOMEM, "grammar: out of memory");
    return false;
}

/* ---- sequences, rules, sets ------------------------------------------------ */

static bool seq_push(gp *p, gseq *q, uint32_t kind, uint32_t arg) {
    if (p->n_elems >= GRAMMAR_MAX_ELEMS) {
        FAIL_AT(p, p->pos, "the grammar is too large (more than %zu elements)", GRAMMAR_MAX_ELEMS);
        return false;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        gelem *v = hearth_realloc(q->v, cap * sizeof *v);
        if (!v) return nomem(p);
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = (gelem){kind, arg};
    p->n_elems++;
    return true;
}

/* A new alternative for rule r (returned pointer valid until the next
 * add_alt / new_rule). */
static gseq *add_alt(gp *p, uint32_t r) {
    grule *g = &p->rules[r];
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        gseq *a = hearth_realloc(g->alts, cap * sizeof *a);
        if (!a) {
            nomem(p);
            return NULL;
        }
        g->alts = a;
        g->cap = cap;
    }
    g->alts[g->n] = (gseq){0};
    return &g->alts[g->n++];
}

static int32_t new_rule(gp *p, const char *name, size_t nlen) {
    if (p->n_rules >= GRAMMAR_MAX_RULES) {
        FAIL_AT(p, p->pos, "the grammar has too many rules (more than %zu)", GRAMMAR_MAX_RULES);
        return -1;
    }
    if (p->n_rules == p->cap_rules) {
        size_t cap = p->cap_rules ? p->cap_rules * 2 : 32;
        grule *r = hearth_realloc(p->rules, cap * sizeof *r);
        if (!r) return nomem(p), -1;
        p->rules = r;
        p->cap_rules = cap;
    }
    grule *g = &p->rules[p->n_rules];
    *g = (grule){0};
    if (name && !(g->name = hearth_strndup(name, nlen))) return nomem(p), -1;
    if (!name) g->defined = true; /* synthesized rules are defined as they are made */
    return (int32_t)p->n_rules++;
}

static uint64_t hash_bytes(const void *d, size_t n) {
    const uint8_t *b = d;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The id of the named rule, made (undefined) if new. */
static int32_t rule_id(gp *p, const char *name, size_t nlen) {
    if (p->names_cap < 2 * (p->n_rules + 1)) {
        size_t cap = p->names_cap ? p->names_cap * 2 : 64;
        while (cap < 2 * (p->n_rules + 1)) cap *= 2;
        int32_t *t = hearth_malloc(cap * sizeof *t);
        if (!t) return nomem(p), -1;
        memset(t, 0xff, cap * sizeof *t);
        for (size_t i = 0; i < p->n_rules; i++) {
            if (!p->rules[i].name) continue;
            size_t h = hash_bytes(p->rules[i].name, strlen(p->rules[i].name)) & (cap - 1);
            while (t[h] >= 0) h = (h + 1) & (cap - 1);
            t[h] = (int32_t)i;
        }
        hearth_free(p->names);
        p->names = t;
        p->names_cap = cap;
    }
    size_t h = hash_bytes(name, nlen) & (p->names_cap - 1);
    while (p->names[h] >= 0) {
        const char *n = p->rules[p->names[h]].name;
        if (strlen(n) == nlen && !memcmp(n, name, nlen)) return p->names[h];
        h = (h + 1) & (p->names_cap - 1);
    }
    int32_t id = new_rule(p, name, nlen);
    if (id >= 0) p->names[h] = id;
    return id;
}

static int32_t set_id(gp *p, const uint8_t bits[32]) {
    if (p->set_hash_cap < 2 * (p->n_sets + 1)) {
        size_t cap = p->set_hash_cap ? p->set_hash_cap * 2 : 64;
        int32_t *t = hearth_malloc(cap * sizeof *t);
        if (!t) return nomem(p), -1;
        memset(t, 0xff, cap * sizeof *t);
        for (uint32_t i = 0; i < p->n_sets; i++) {
            size_t h = hash_bytes(p->sets[i], 32) & (cap - 1);
            while (t[h] >= 0) h = (h + 1) & (cap - 1);
            t[h] = (int32_t)i;
        }
        hearth_free(p->set_hash);
        p->set_hash = t;
        p->set_hash_cap = cap;
    }
    size_t h = hash_bytes(bits, 32) & (p->set_hash_cap - 1);
    while (p->set_hash[h] >= 0) {
        if (!memcmp(p->sets[p->set_hash[h]], bits, 32)) return p->set_hash[h];
        h = (h + 1) & (p->set_hash_cap - 1);
    }
    if (p->n_sets >= MAX_SETS) {
        FAIL_AT(p, p->pos, "the grammar has too many distinct character sets");
        return -1;
    }
    if (p->n_sets == p->cap_sets) {
        uint32_t cap = p->cap_sets ? p->cap_sets * 2 : 32;
        uint8_t(*s)[32] = hearth_realloc(p->sets, (size_t)cap * 32);
        if (!s) return nomem(p), -1;
        p->sets = s;
        p->cap_sets = cap;
    }
    memcpy(p->sets[p->n_sets], bits, 32);
    p->set_hash[h] = (int32_t)p->n_sets;
    return (int32_t)p->n_sets++;
}

static bool push_byte_range(gp *p, gseq *q, unsigned lo, unsigned hi) {
    uint8_t bits[32] = {0};
    for (unsigned b = lo; b <= hi; b++) bits[b >> 3] |= (uint8_t)(1u << (b & 7));
    int32_t id = set_id(p, bits);
    return id >= 0 && seq_push(p, q, GE_SET, (uint32_t)id);
}

static int utf8_enc(uint32_t c, uint8_t *o) {
    if (c < 0x80) return o[0] = (uint8_t)c, 1;
    if (c < 0x800) return o[0] = (uint8_t)(0xC0 | c >> 6), o[1] = (uint8_t)(0x80 | (c & 0x3F)), 2;
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | c >> 12);
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | c >> 18);
    o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

/* One code point as its UTF-8 bytes. */
static bool push_char(gp *p, gseq *q, uint32_t c) {
    uint8_t b[4];
    int n = utf8_enc(c, b);
    for (int i = 0; i < n; i++)
        if (!push_byte_range(p, q, b[i], b[i])) return false;
    return true;
}

/* ---- character classes as UTF-8 byte sequences ---------------------------- */

typedef struct {
    uint32_t lo, hi;
} cprange;

typedef struct {
    cprange *v;
    size_t n, cap;
} cpset;

static bool cp_add(gp *p, cpset *s, uint32_t lo, uint32_t hi) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        cprange *v = hearth_realloc(s->v, cap * sizeof *v);
        if (!v) return nomem(p);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (cprange){lo, hi};
    return true;
}

static int cp_cmp(const void *a, const void *b) {
    const cprange *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts and merges; with negate, the complement in [0, 0x10FFFF]. Removes
 * the surrogates either way. Result in out. */
static bool cp_normalize(gp *p, cpset *s, bool negate, cpset *out) {
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cp_cmp);
    cpset m = {0};
    for (size_t i = 0; i < s->n; i++) {
        if (m.n && s->v[i].lo <= m.v[m.n - 1].hi + 1) {
            if (s->v[i].hi > m.v[m.n - 1].hi) m.v[m.n - 1].hi = s->v[i].hi;
        } else if (!cp_add(p, &m, s->v[i].lo, s->v[i].hi)) {
            hearth_free(m.v);
            return false;
        }
    }
    cpset c = {0};
    bool ok = true;
    if (negate) {
        uint32_t next = 0;
        for (size_t i = 0; i < m.n && ok; i++) {
            if (m.v[i].lo > next) ok = cp_add(p, &c, next, m.v[i].lo - 1);
            next = m.v[i].hi + 1;
        }
        if (ok && next <= 0x10FFFF) ok = cp_add(p, &c, next, 0x10FFFF);
        hearth_free(m.v);
    } else {
        c = m;
    }
    /* cut out the surrogates */
    for (size_t i = 0; i < c.n && ok; i++) {
        cprange r = c.v[i];
        if (r.hi < 0xD800 || r.lo > 0xDFFF) ok = cp_add(p, out, r.lo, r.hi);
        else {
            if (r.lo < 0xD800) ok = cp_add(p, out, r.lo, 0xD7FF);
            if (ok && r.hi > 0xDFFF) ok = cp_add(p, out, 0xE000, r.hi);
        }
    }
    hearth_free(c.v);
    return ok;
}

/* Appends to rule r one alternative per run of byte ranges that spells the
 * code points [lo, hi] (all of one UTF-8 length); ascii collects the
 * single-byte ones. The classic split: a range is cut until, at each byte
 * position, every byte between the ends' bytes occurs. */
static bool utf8_ranges(gp *p, uint32_t r, uint32_t lo, uint32_t hi, uint8_t ascii[32], int depth) {
    static const uint32_t lim[] = {0x7F, 0x7FF, 0xFFFF};
    if (depth > 64) return true; /* cannot happen: each split narrows the range */
    for (int i = 0; i < 3; i++)
        if (lo <= lim[i] && hi > lim[i])
            return utf8_ranges(p, r, lo, lim[i], ascii, depth + 1) &&
                   utf8_ranges(p, r, lim[i] + 1, hi, ascii, depth + 1);
    if (hi < 0x80) {
        for (uint32_t b = lo; b <= hi; b++) ascii[b >> 3] |= (uint8_t)(1u << (b & 7));
        return true;
    }
    uint8_t a[4], b[4];
    int n = utf8_enc(lo, a);
    utf8_enc(hi, b);
    for (int i = 1; i < n; i++) {
        uint32_t m = (1u << (6 * i)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if ((lo & m) != 0)
                return utf8_ranges(p, r, lo, lo | m, ascii, depth + 1) &&
                       utf8_ranges(p, r, (lo | m) + 1, hi, ascii, depth + 1);
            if ((hi & m) != m)
                return utf8_ranges(p, r, lo, (hi & ~m) - 1, ascii, depth + 1) &&
                       utf8_ranges(p, r, hi & ~m, hi, ascii, depth + 1);
        }
    }
    gseq *q = add_alt(p, r);
    if (!q) return false;
    for (int i = 0; i < n; i++)
        if (!push_byte_range(p, q, a[i], b[i])) return false;
    return true;
}

/* The element for a class of code points (a set, or a reference to a
 * synthesized rule: making it may move every rule's storage, so the caller
 * appends the element afterwards). */
static bool class_elem(gp *p, cpset *raw, bool negate, gelem *out) {
    cpset s = {0};
    bool ok = cp_normalize(p, raw, negate, &s);
    if (!ok) {
        hearth_free(s.v);
        return false;
    }
    if (s.n == 0) {
        hearth_free(s.v);
        FAIL_AT(p, p->pos, "the character class matches nothing");
        return false;
    }
    uint8_t ascii[32] = {0};
    if (s.v[s.n - 1].hi < 0x80) {
        for (size_t i = 0; i < s.n; i++) utf8_ranges(p, 0, s.v[i].lo, s.v[i].hi, ascii, 0);
        hearth_free(s.v);
        int32_t id = set_id(p, ascii);
        *out = (gelem){GE_SET, (uint32_t)id};
        return id >= 0;
    }
    /* Multi-byte: a synthesized rule with one alternative per byte-range
     * run. */
    int32_t r = new_rule(p, NULL, 0);
    for (size_t i = 0; r >= 0 && ok && i < s.n; i++)
        ok = utf8_ranges(p, (uint32_t)r, s.v[i].lo, s.v[i].hi, ascii, 0);
    hearth_free(s.v);
    if (r < 0 || !ok || p->st) return false;
    bool any_ascii = false;
    for (int i = 0; i < 32; i++) any_ascii |= ascii[i] != 0;
    if (any_ascii) {
        gseq *a = add_alt(p, (uint32_t)r);
        int32_t id = a ? set_id(p, ascii) : -1;
        if (id < 0 || !seq_push(p, a, GE_SET, (uint32_t)id)) return false;
    }
    *out = (gelem){GE_REF, (uint32_t)r};
    return true;
}

/* ---- lexing ----------------------------------------------------------------- */

static bool at_end(const gp *p) { return p->pos >= p->len; }
static char peek(const gp *p) { return at_end(p) ? '\0' : p->s[p->pos]; }

static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Skips blanks and comments, and newlines when nl. */
static void space(gp *p, bool nl) {
    while (!at_end(p)) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\r' || (nl && c == '\n')) p->pos++;
        else if (c == '#') {
            while (!at_end(p) && p->s[p->pos] != '\n') p->pos++;
        } else break;
    }
}

/* Decodes one UTF-8 character of the source (invalid bytes: an error). */
static bool src_char(gp *p, uint32_t *out) {
    const uint8_t *s = (const uint8_t *)p->s + p->pos;
    size_t left = p->len - p->pos;
    uint32_t c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)n > left) goto bad;
    if (n > 1) c &= 0x3F >> (n - 1);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) goto bad;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const uint32_t minv[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < minv[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) goto bad;
    p->pos += (size_t)n;
    *out = c;
    return true;
bad:
    FAIL_AT(p, p->pos, "invalid UTF-8");
    return false;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One character of a literal or class: an escape or a UTF-8 character. */
static bool lit_char(gp *p, uint32_t *out) {
    if (at_end(p)) {
        FAIL_AT(p, p->pos, "unexpected end of the grammar");
        return false;
    }
    if (p->s[p->pos] != '\\') {
        if (p->s[p->pos] == '\n') {
            FAIL_AT(p, p->pos, "newline inside a literal or class");
            return false;
        }
        return src_char(p, out);
    }
    size_t at = p->pos++;
    char e = peek(p);
    int digits = 0;
    switch (e) {
    case 'n': *out = '\n'; break;
    case 'r': *out = '\r'; break;
    case 't': *out = '\t'; break;
    case '\\': case '"': case '[': case ']': case '-': *out = (uint32_t)e; break;
    case 'x': digits = 2; break;
    case 'u': digits = 4; break;
    case 'U': digits = 8; break;
    default: FAIL_AT(p, at, "unknown escape '\\%c'", e ? e : '0'); return false;
    }
    p->pos++;
    if (digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = hexval(peek(p));
            if (h < 0) {
                FAIL_AT(p, p->pos, "escape '\\%c' needs %d hex digits", e, digits);
                return false;
            }
            v = v << 4 | (uint32_t)h;
            p->pos++;
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
            FAIL_AT(p, at, "escape names no character (U+%X)", v);
            return false;
        }
        *out = v;
    }
    return true;
}

static bool parse_uint(gp *p, long *out) {
    if (!(peek(p) >= '0' && peek(p) <= '9')) {
        FAIL_AT(p, p->pos, "expected a number");
        return false;
    }
    long v = 0;
    while (peek(p) >= '0' && peek(p) <= '9') {
        if (v > GRAMMAR_MAX_REPEAT) {
            FAIL_AT(p, p->pos, "repetition count above %d", GRAMMAR_MAX_REPEAT);
            return false;
        }
        v = v * 10 + (peek(p) - '0');
        p->pos++;
    }
    if (v > GRAMMAR_MAX_REPEAT) {
        FAIL_AT(p, p->pos, "repetition count above %d", GRAMMAR_MAX_REPEAT);
        return false;
    }
    *out = v;
    return true;
}

/* ---- the recursive descent ------------------------------------------------------ */

static bool parse_alternates(gp *p, uint32_t rule, bool nested);

/* Replaces q[start..) (one item) by its repetition {lo, hi} (hi < 0: no
 * limit). */
static bool repeat(gp *p, uint32_t rule, size_t alt, size_t start, long lo, long hi) {
    gseq *q = &p->rules[rule].alts[alt];
    size_t n = q->n - start;
    gelem *item = hearth_malloc((n ? n : 1) * sizeof *item);
    if (!item) return nomem(p);
    memcpy(item, q->v + start, n * sizeof *item);
    q->n = start;
    p->n_elems -= n;
    bool ok = true;
    for (long i = 0; ok && i < lo; i++)
        for (size_t k = 0; ok && k < n; k++) ok = seq_push(p, &p->rules[rule].alts[alt], item[k].kind, item[k].arg);
    if (ok && hi < 0) {
        /* r ::= item r | "" */
        int32_t r = new_rule(p, NULL, 0);
        gseq *a = r >= 0 ? add_alt(p, (uint32_t)r) : NULL;
        ok = a != NULL;
        for (size_t k = 0; ok && k < n; k++) ok = seq_push(p, &p->rules[r].alts[0], item[k].kind, item[k].arg);
        ok = ok && seq_push(p, &p->rules[r].alts[0], GE_REF, (uint32_t)r) && add_alt(p, (uint32_t)r);
        ok = ok && seq_push(p, &p->rules[rule].alts[alt], GE_REF, (uint32_t)r);
    } else if (ok && hi > lo) {
        /* r1 ::= item | "" ; rk ::= item r(k-1) | "" */
        int32_t prev = -1;
        for (long k = 0; ok && k < hi - lo; k++) {
            int32_t r = new_rule(p, NULL, 0);
            ok = r >= 0 && add_alt(p, (uint32_t)r);
            for (size_t j = 0; ok && j < n; j++) ok = seq_push(p, &p->rules[r].alts[0], item[j].kind, item[j].arg);
            if (ok && prev >= 0) ok = seq_push(p, &p->rules[r].alts[0], GE_REF, (uint32_t)prev);
            ok = ok && add_alt(p, (uint32_t)r);
            prev = r;
        }
        ok = ok && seq_push(p, &p->rules[rule].alts[alt], GE_REF, (uint32_t)prev);
    }
    hearth_free(item);
    return ok;
}

/* One sequence (an alternative) of rule. Stops before | ) or, outside
 * groups, a newline. */
static bool parse_sequence(gp *p, uint32_t rule, bool nested) {
    gseq *q0 = add_alt(p, rule);
    if (!q0) return false;
    size_t alt = p->rules[rule].n - 1;
    size_t last = (size_t)-1; /* where the last item starts */
#define Q (&p->rules[rule].alts[alt])
    for (;;) {
        space(p, nested);
        char c = peek(p);
        size_t at = p->pos;
        if (at_end(p) || c == '|' || c == ')' || c == '\n') break;
        if (c == '"') {
            p->pos++;
            last = Q->n;
            while (peek(p) != '"') {
                uint32_t ch;
                if (at_end(p)) {
                    FAIL_AT(p, at, "unterminated literal");
                    return false;
                }
                if (!lit_char(p, &ch) || !push_char(p, Q, ch)) return false;
            }
            p->pos++;
            if (Q->n == last) last = (size_t)-1; /* "" : nothing to repeat */
        } else if (c == '[' || c == '.') {
            cpset raw = {0};
            bool neg = false, ok = true;
            if (c == '.') {
                p->pos++;
                neg = true; /* the complement of nothing: any character */
            } else {
                p->pos++;
                if (peek(p) == '^') {
                    neg = true;
                    p->pos++;
                }
                while (ok && peek(p) != ']') {
                    uint32_t lo, hi;
                    if (at_end(p)) {
                        FAIL_AT(p, at, "unterminated character class");
                        ok = false;
                        break;
                    }
                    ok = lit_char(p, &lo);
                    hi = lo;
                    if (ok && peek(p) == '-' && p->pos + 1 < p->len && p->s[p->pos + 1] != ']') {
                        p->pos++;
                        size_t at2 = p->pos;
                        ok = lit_char(p, &hi);
                        if (ok && hi < lo) {
                            FAIL_AT(p, at2, "range end below its start");
                            ok = false;
                        }
                    }
                    ok = ok && cp_add(p, &raw, lo, hi);
                }
                if (ok) p->pos++;
            }
            gelem ce;
            ok = ok && class_elem(p, &raw, neg, &ce);
            hearth_free(raw.v);
            last = Q->n;
            ok = ok && seq_push(p, Q, ce.kind, ce.arg);
            if (!ok) return false;
        } else if (c == '(') {
            if (++p->depth > MAX_NESTING) {
                FAIL_AT(p, at, "groups nested more than %d deep", MAX_NESTING);
                return false;
            }
            p->pos++;
            int32_t r = new_rule(p, NULL, 0);
            if (r < 0 || !parse_alternates(p, (uint32_t)r, true)) return false;
            space(p, true);
            if (peek(p) != ')') {
                FAIL_AT(p, p->pos, "expected ')' to close the group opened at column %d",
                        (int)(at + 1)); /* column refined by where() in the message prefix */
                return false;
            }
            p->pos++;
            p->depth--;
            last = Q->n;
            if (!seq_push(p, Q, GE_REF, (uint32_t)r)) return false;
        } else if (is_word(c)) {
            size_t s = p->pos;
            while (is_word(peek(p))) p->pos++;
            /* the name of the next rule: this sequence is over */
            size_t save = p->pos;
            space(p, false);
            if (p->pos + 3 <= p->len && !memcmp(p->s + p->pos, "::=", 3)) {
                FAIL_AT(p, s, "missing newline before the rule '%.*s'", (int)(save - s), p->s + s);
                return false;
            }
            p->pos = save;
            int32_t r = rule_id(p, p->s + s, save - s);
            last = Q->n;
            if (r < 0 || !seq_push(p, Q, GE_REF, (uint32_t)r)) return false;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (last == (size_t)-1) {
                FAIL_AT(p, at, "'%c' follows nothing it could repeat", c);
                return false;
            }
            p->pos++;
            long lo = 0, hi = -1;
            if (c == '+') lo = 1;
            else if (c == '?') hi = 1;
            else if (c == '{') {
                space(p, false);
                if (!parse_uint(p, &lo)) return false;
                space(p, false);
                if (peek(p) == ',') {
                    p->pos++;
                    space(p, false);
                    if (peek(p) != '}' && !parse_uint(p, &hi)) return false;
                } else {
                    hi = lo;
                }
                space(p, false);
                if (peek(p) != '}') {
                    FAIL_AT(p, p->pos, "expected '}'");
                    return false;
                }
                p->pos++;
                if (hi >= 0 && hi < lo) {
                    FAIL_AT(p, at, "repetition {%ld,%ld}: the maximum is below the minimum", lo, hi);
                    return false;
                }
            }
            if (!repeat(p, rule, alt, last, lo, hi)) return false;
            last = (size_t)-1; /* x** is not allowed */
        } else {
            FAIL_AT(p, at, "unexpected character '%c'", c);
            return false;
        }
    }
#undef Q
    return !p->st;
}

static bool parse_alternates(gp *p, uint32_t rule, bool nested) {
    for (;;) {
        if (!parse_sequence(p, rule, nested)) return false;
        if (peek(p) == '\n' && !nested) {
            /* leniency: a following line that starts with | continues */
            size_t save = p->pos;
            space(p, true);
            if (peek(p) != '|') {
                p->pos = save;
                return true;
            }
        }
        if (peek(p) != '|') return true;
        p->pos++;
        space(p, true);
    }
}

static void gp_free(gp *p) {
    for (size_t i = 0; i < p->n_rules; i++) {
        for (size_t a = 0; a < p->rules[i].n; a++) hearth_free(p->rules[i].alts[a].v);
        hearth_free(p->rules[i].alts);
        hearth_free(p->rules[i].name);
    }
    hearth_free(p->rules);
    hearth_free(p->names);
    hearth_free(p->sets);
    hearth_free(p->set_hash);
}

hearth_status hearth_grammar_from_gbnf(const char *text, size_t len, const char *root,
                                       hearth_grammar **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: no output");
    *out = NULL;
    if (!text && len) return HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: no text");
    if (!root) root = "root";
    gp p = {.s = text ? text : "", .len = len, .err = err};
    for (;;) {
        space(&p, true);
        if (at_end(&p) || p.st) break;
        size_t s = p.pos;
        while (is_word(peek(&p))) p.pos++;
        if (p.pos == s) {
            FAIL_AT(&p, s, "expected a rule name");
            break;
        }
        size_t e = p.pos;
        space(&p, false);
        if (p.pos + 3 > p.len || memcmp(p.s + p.pos, "::=", 3)) {
            FAIL_AT(&p, p.pos, "expected '::=' after the rule name '%.*s'", (int)(e - s), p.s + s);
            break;
        }
        p.pos += 3;
        int32_t r = rule_id(&p, p.s + s, e - s);
        if (r < 0) break;
        if (p.rules[r].defined) {
            FAIL_AT(&p, s, "rule '%.*s' is defined twice", (int)(e - s), p.s + s);
            break;
        }
        p.rules[r].defined = true;
        space(&p, false);
        if (!parse_alternates(&p, (uint32_t)r, false)) break;
        if (peek(&p) == ')') {
            FAIL_AT(&p, p.pos, "')' without a matching '('");
            break;
        }
        if (!at_end(&p) && peek(&p) != '\n') {
            FAIL_AT(&p, p.pos, "expected the end of the line");
            break;
        }
    }
    if (!p.st && !p.n_rules)
        p.st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "grammar: line 1 column 1: no rules");
    int32_t root_id = -1;
    if (!p.st) {
        size_t n_named = p.n_rules;
        root_id = rule_id(&p, root, strlen(root));
        if (root_id >= 0 && (size_t)root_id >= n_named)
            p.st = HEARTH_FAIL(err, HEARTH_E_ARG, "grammar: no rule '%s' (the start rule)", root);
    }
    if (!p.st)
        p.st = grammar_build(p.rules, p.n_rules, p.sets, p.n_sets, (uint32_t)root_id, out, err);
    gp_free(&p);
    return p.st;
}
