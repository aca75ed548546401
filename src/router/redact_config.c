/*
 * redact_config.c: the redactor's configuration (which kinds, the user's
 * own terms, bucketed by first byte for the scanner), the kind names and the
 * UTF-8 helpers the scanners share.
 *
 * Invariant: after every add, order/first describe all terms, so a config
 * is complete and read-only between adds.
 */
#include "router/redact_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[REDACT_KIND_COUNT] = {
    "EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "DOB", "ADDRESS", "POSTCODE", "SECRET", "TERM",
};
static const char *const kind_labels[REDACT_KIND_COUNT] = {
    "email", "phone", "card", "iban", "ssn", "ip", "dob", "address", "postcode", "secret", "term",
};

const char *redact_kind_name(redact_kind k) {
    return (unsigned)k < REDACT_KIND_COUNT ? kind_names[k] : NULL;
}

const char *redact_kind_label(redact_kind k) {
    return (unsigned)k < REDACT_KIND_COUNT ? kind_labels[k] : NULL;
}

size_t rx_utf8(const unsigned char *s, size_t n, size_t i, uint32_t *cp) {
    unsigned char c = s[i];
    *cp = 0xFFFD;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 1;
    }
    if (len > n - i) return 1;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 1;
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 1;
    *cp = v;
    return len;
}

bool rx_word_cp(uint32_t cp) {
    if (cp < 0x80) return rx_alnum((unsigned char)cp);
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;     /* Latin-1 punctuation */
    if (cp >= 0x2000 && cp <= 0x2BFF) return false;               /* punctuation, symbols */
    if (cp >= 0x3000 && cp <= 0x303F) return false;               /* CJK punctuation */
    if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
    if (cp >= 0xFF00 && cp <= 0xFF0F) return false;               /* fullwidth punctuation */
    if (cp >= 0xFF1A && cp <= 0xFF20) return false;
    if (cp == 0xFFFD || cp == 0xFEFF) return false;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;             /* emoji */
    return true;
}

bool rx_word_at(const unsigned char *s, size_t n, size_t i) {
    if (i >= n) return false;
    if (s[i] < 0x80) return rx_alnum(s[i]);
    uint32_t cp;
    rx_utf8(s, n, i, &cp);
    return rx_word_cp(cp);
}

bool rx_word_before(const unsigned char *s, size_t i) {
    if (i == 0) return false;
    if (s[i - 1] < 0x80) return rx_alnum(s[i - 1]);
    /* Back over up to 3 continuation bytes to the lead byte. */
    size_t k = i - 1, back = 0;
    while (k > 0 && back < 3 && (s[k] & 0xC0) == 0x80) k--, back++;
    uint32_t cp;
    size_t len = rx_utf8(s, i, k, &cp);
    if (k + len != i) return false;
    return rx_word_cp(cp);
}

hearth_status redact_config_new(redact_config **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_config_new: out is NULL");
    redact_config *c = hearth_calloc(1, sizeof *c);
    *out = c;
    if (!c) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    c->kinds = (1u << REDACT_KIND_COUNT) - 1;
    return HEARTH_OK;
}

void redact_config_free(redact_config *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_terms; i++) hearth_free(c->terms[i].fold);
    hearth_free(c->terms);
    hearth_free(c->order);
    hearth_free(c);
}

void redact_config_set_kinds(redact_config *c, uint32_t mask) {
    if (c) c->kinds = mask & ((1u << REDACT_KIND_COUNT) - 1);
}

size_t redact_config_n_terms(const redact_config *c) { return c ? c->n_terms : 0; }

/* Rebuilds order/first from the terms: a counting sort by first byte, and
 * within a byte longest first (so "New York City" wins over "New York"). */
static hearth_status rebuild(redact_config *c, hearth_error *err) {
    uint32_t *order = hearth_realloc(c->order, (c->n_terms ? c->n_terms : 1) * sizeof *order);
    if (!order) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    c->order = order;
    uint32_t count[257] = {0};
    for (size_t i = 0; i < c->n_terms; i++) count[(unsigned char)c->terms[i].fold[0] + 1]++;
    for (int b = 0; b < 256; b++) count[b + 1] += count[b];
    memcpy(c->first, count, sizeof c->first);
    for (size_t i = 0; i < c->n_terms; i++) {
        unsigned b = (unsigned char)c->terms[i].fold[0];
        /* insertion into the bucket, keeping length descending */
        uint32_t pos = count[b]++;
        while (pos > c->first[b] && c->terms[order[pos - 1]].len < c->terms[i].len) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = (uint32_t)i;
    }
    return HEARTH_OK;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = rx_utf8(s, n, i, &cp);
        if (cp == 0xFFFD && !(l == 3 && s[i] == 0xEF)) return false;
        i += l;
    }
    return true;
}

hearth_status redact_config_add_term(redact_config *c, const char *term, size_t len,
                                     hearth_error *err) {
    if (!c || (!term && len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_config_add_term: NULL argument");
    while (len && rx_space((unsigned char)term[0])) term++, len--;
    while (len && rx_space((unsigned char)term[len - 1])) len--;
    if (!len) return HEARTH_OK;
    if (len > REDACT_MAX_TERM_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact term of %zu bytes: longer than %d", len,
                           REDACT_MAX_TERM_LEN);
    if (!valid_utf8((const unsigned char *)term, len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact term is not valid UTF-8");
    if (c->n_terms >= REDACT_MAX_TERMS)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "more than %d redact terms", REDACT_MAX_TERMS);
    if (c->n_terms == c->cap_terms) {
        size_t cap = c->cap_terms ? c->cap_terms * 2 : 8;
        redact_term *t = hearth_realloc(c->terms, cap * sizeof *t);
        if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
        c->terms = t;
        c->cap_terms = cap;
    }
    char *f = hearth_strndup(term, len);
    if (!f) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    for (size_t i = 0; i < len; i++) f[i] = (char)rx_fold((unsigned char)f[i]);
    for (size_t i = 0; i < c->n_terms; i++) {
        if (c->terms[i].len == len && !memcmp(c->terms[i].fold, f, len)) {
            hearth_free(f); /* a duplicate */
            return HEARTH_OK;
        }
    }
    c->terms[c->n_terms].fold = f;
    c->terms[c->n_terms].len = len;
    c->n_terms++;
    hearth_status st = rebuild(c, err);
    if (st) {
        c->n_terms--;
        hearth_free(f);
    }
    return st;
}

hearth_status redact_config_add_terms(redact_config *c, const char *list, hearth_error *err) {
    if (!c || !list) return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_config_add_terms: NULL argument");
    const char *p = list;
    while (*p) {
        size_t k = strcspn(p, ",\n");
        hearth_status st = redact_config_add_term(c, p, k, err);
        if (st) return st;
        p += k;
        if (*p) p++;
    }
    return HEARTH_OK;
}
