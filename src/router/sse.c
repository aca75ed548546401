/*
 * sse.c: incremental Server-Sent Events parser (see sse.h). Bytes are
 * scanned for line terminators; the run of bytes before one is appended to
 * the partial line, and each complete line is interpreted as a field, a
 * comment or the empty line that dispatches the event.
 */
#include "router/sse.h"

#include "util/error.h"

#include <string.h>

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

void sse_init(sse_parser *p, size_t max_line, sse_event_fn on_event, void *user_data) {
    memset(p, 0, sizeof *p);
    p->max_line = max_line ? max_line : (size_t)1 << 20;
    p->on_event = on_event;
    p->user_data = user_data;
    strbuf_init(&p->line);
    strbuf_init(&p->data);
    p->at_start = true;
}

void sse_free(sse_parser *p) {
    strbuf_discard(&p->line);
    strbuf_discard(&p->data);
}

bool sse_pending(const sse_parser *p) { return p->line.len > 0 || p->data.len > 0; }

static void buf_clear(strbuf *b) {
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

static hearth_status fail_dead(sse_parser *p, hearth_error *err, hearth_status code,
                               const char *what) {
    p->dead = true;
    return HEARTH_FAIL(err, code, "event stream: %s", what);
}

static hearth_status dispatch(sse_parser *p, hearth_error *err) {
    if (p->data.len == 0) { /* no data field: nothing to dispatch */
        p->event[0] = '\0';
        return HEARTH_OK;
    }
    /* Every data line added a "\n"; the last one is not part of the data. */
    p->data.len--;
    p->data.p[p->data.len] = '\0';
    hearth_error cb_err;
    hearth_error_clear(&cb_err);
    bool go_on = p->on_event(p->user_data, p->event, p->data.p, p->data.len, &cb_err);
    p->n_events++;
    buf_clear(&p->data);
    p->event[0] = '\0';
    if (!go_on) {
        p->dead = true;
        if (cb_err.code == HEARTH_OK)
            return HEARTH_FAIL(err, HEARTH_E_CANCELLED, "event stream: stopped by the reader");
        if (err) *err = cb_err;
        return HEARTH_E_CANCELLED;
    }
    return HEARTH_OK;
}

/* Interprets the complete line held in p->line. */
static hearth_status process_line(sse_parser *p, hearth_error *err) {
    const char *s = p->line.p ? p->line.p : "";
    size_t n = p->line.len;
    hearth_status st = HEARTH_OK;
    if (n == 0) {
        st = dispatch(p, err);
    } else if (s[0] == ':') {
        /* a comment (servers send them as keep-alives) */
    } else {
        const char *colon = memchr(s, ':', n);
        size_t flen = colon ? (size_t)(colon - s) : n;
        const char *v = colon ? colon + 1 : s + n;
        size_t vlen = (size_t)(s + n - v);
        if (vlen && v[0] == ' ') {
            v++;
            vlen--;
        }
        if (flen == 4 && !memcmp(s, "data", 4)) {
            /* data holds at most max_line bytes plus its "\n" separators */
            if (vlen > p->max_line || p->data.len > p->max_line - vlen)
                return fail_dead(p, err, HEARTH_E_LIMIT, "an event's data is too long");
            strbuf_append(&p->data, v, vlen);
            strbuf_append(&p->data, "\n", 1);
            if (p->data.failed) return fail_dead(p, err, HEARTH_E_NOMEM, "out of memory");
        } else if (flen == 5 && !memcmp(s, "event", 5)) {
            size_t m = vlen < sizeof p->event - 1 ? vlen : sizeof p->event - 1;
            memcpy(p->event, v, m);
            p->event[m] = '\0';
        }
        /* "id", "retry" and unknown fields are ignored, as the spec says */
    }
    buf_clear(&p->line);
    return st;
}

static hearth_status add_to_line(sse_parser *p, const unsigned char *b, size_t n,
                                 hearth_error *err) {
    if (n > p->max_line || p->line.len > p->max_line - n)
        return fail_dead(p, err, HEARTH_E_LIMIT, "a line is too long");
    strbuf_append(&p->line, b, n);
    if (p->line.failed) return fail_dead(p, err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

hearth_status sse_feed(sse_parser *p, const void *buf, size_t len, hearth_error *err) {
    if (p->dead) return HEARTH_FAIL(err, HEARTH_E_STATE, "event stream: parser stopped earlier");
    const unsigned char *b = buf;
    size_t i = 0;
    hearth_status st;
    /* A UTF-8 BOM may open the stream, possibly split across feeds. */
    while (p->at_start && i < len) {
        if (b[i] == bom[p->bom_seen]) {
            i++;
            if (++p->bom_seen == sizeof bom) p->at_start = false;
            continue;
        }
        p->at_start = false;
        if (p->bom_seen) { /* a prefix of the BOM that was text after all */
            size_t k = p->bom_seen;
            p->bom_seen = 0;
            if ((st = add_to_line(p, bom, k, err))) return st;
        }
    }
    while (i < len) {
        if (p->skip_lf) {
            p->skip_lf = false;
            if (b[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && b[j] != '\n' && b[j] != '\r') j++;
        if (j > i && (st = add_to_line(p, b + i, j - i, err))) return st;
        if (j == len) break;
        p->skip_lf = b[j] == '\r';
        i = j + 1;
        if ((st = process_line(p, err))) return st;
    }
    return HEARTH_OK;
}
