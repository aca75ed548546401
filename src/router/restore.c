/*
 * restore.c: putting the originals back into the cloud's answer, in one
 * piece (redact_restore) or streamed in chunks of any size
 * (redact_restorer). Both follow one rule, so their outputs are equal: at
 * each '[' a complete placeholder of the map becomes its original; anything
 * else is copied as it is.
 *
 * The streaming restorer holds back only a suffix that may still become one
 * of the map's placeholders: it starts with '[', names a kind the map has
 * entries of, and its number so far does not exceed the highest one given
 * out for that kind. Such a suffix has no '[' after its first byte, so when
 * it stops being possible, all of it but a trailing '[' can go out at once.
 */
#include "router/redact_int.h"

#include "util/error.h"
#include "util/strbuf.h"

#include <string.h>

hearth_status redact_restore(const redact_map *m, const char *text, size_t len, char **out,
                             size_t *out_len, hearth_error *err) {
    if (!m || !out || (!text && len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_restore: NULL argument");
    *out = NULL;
    if (out_len) *out_len = 0;
    strbuf b;
    strbuf_init(&b);
    const char *p = text, *end = text + len, *copied = text;
    while (p < end && (p = memchr(p, '[', (size_t)(end - p)))) {
        redact_kind k;
        uint32_t num;
        size_t l = redact_parse_placeholder(p, (size_t)(end - p), &k, &num, NULL);
        const redact_entry *e = l ? redact_map_lookup(m, p, l) : NULL;
        if (e) {
            strbuf_append(&b, copied, (size_t)(p - copied));
            strbuf_append(&b, e->orig, e->orig_len);
            p += l;
            copied = p;
        } else {
            p++;
        }
    }
    strbuf_append(&b, copied, (size_t)(end - copied));
    size_t ol;
    char *res = strbuf_finish(&b, &ol);
    if (!res) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    *out = res;
    if (out_len) *out_len = ol;
    return HEARTH_OK;
}

void redact_restorer_init(redact_restorer *r, const redact_map *m) {
    memset(r, 0, sizeof *r);
    r->map = m;
}

/* Whether pend[0..n) may still become one of the map's placeholders. */
static bool may_become(const redact_map *m, const char *p, size_t n) {
    redact_kind k = REDACT_KIND_COUNT;
    uint32_t num = 0;
    bool partial;
    redact_parse_placeholder(p, n, &k, &num, &partial);
    if (!partial) return false;
    if (k == REDACT_KIND_COUNT) {
        /* name not complete yet: some kind with entries must start so */
        for (int j = 0; j < REDACT_KIND_COUNT; j++) {
            const char *name = redact_kind_name((redact_kind)j);
            if (m->maxnum[j] && strlen(name) >= n - 1 && !memcmp(name, p + 1, n - 1)) return true;
        }
        return false;
    }
    if (!m->maxnum[k]) return false;
    /* digits so far (if any) must not already exceed the highest number */
    const char *us = memchr(p, '_', n);
    if (us && (size_t)(us - p) + 1 < n && num > m->maxnum[k]) return false;
    return true;
}

static hearth_status emit_or_stop(redact_emit_fn emit, void *ud, const char *p, size_t n,
                                  hearth_error *err) {
    if (n && !emit(ud, p, n)) return HEARTH_FAIL(err, HEARTH_E_CANCELLED, "restore: stopped by the receiver");
    return HEARTH_OK;
}

hearth_status redact_restorer_feed(redact_restorer *r, const char *p, size_t n,
                                   redact_emit_fn emit, void *ud, hearth_error *err) {
    if (!r || !r->map || !emit || (!p && n))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_restorer_feed: NULL argument");
    const char *end = p + n;
    hearth_status st;
    while (p < end) {
        if (!r->npend) {
            const char *b = memchr(p, '[', (size_t)(end - p));
            const char *stop = b ? b : end;
            if ((st = emit_or_stop(emit, ud, p, (size_t)(stop - p), err))) return st;
            if (!b) return HEARTH_OK;
            r->pend[r->npend++] = '[';
            p = b + 1;
            /* a lone '[' may never become anything for this map */
            if (!may_become(r->map, r->pend, r->npend)) {
                r->npend = 0;
                if ((st = emit_or_stop(emit, ud, "[", 1, err))) return st;
            }
            continue;
        }
        r->pend[r->npend++] = *p++;
        redact_kind k;
        uint32_t num;
        size_t l = redact_parse_placeholder(r->pend, r->npend, &k, &num, NULL);
        if (l) {
            const redact_entry *e = redact_map_lookup(r->map, r->pend, l);
            st = e ? emit_or_stop(emit, ud, e->orig, e->orig_len, err)
                   : emit_or_stop(emit, ud, r->pend, r->npend, err);
            r->npend = 0;
            if (st) return st;
            continue;
        }
        if (may_become(r->map, r->pend, r->npend)) continue;
        /* Not a placeholder: out it goes, but a trailing '[' starts anew. */
        size_t keep = r->pend[r->npend - 1] == '[' ? 1 : 0;
        st = emit_or_stop(emit, ud, r->pend, r->npend - keep, err);
        r->npend = 0;
        if (st) return st;
        if (keep) {
            r->pend[r->npend++] = '[';
            if (!may_become(r->map, r->pend, r->npend)) {
                r->npend = 0;
                if ((st = emit_or_stop(emit, ud, "[", 1, err))) return st;
            }
        }
    }
    return HEARTH_OK;
}

hearth_status redact_restorer_finish(redact_restorer *r, redact_emit_fn emit, void *ud,
                                     hearth_error *err) {
    if (!r || !emit) return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_restorer_finish: NULL argument");
    hearth_status st = emit_or_stop(emit, ud, r->pend, r->npend, err);
    r->npend = 0;
    return st;
}
