/*
 * sse.h: an incremental parser for Server-Sent Events (the text/event-stream
 * framing of streamed chat completions). Bytes arrive in arbitrary pieces
 * (a piece may end inside a line, between "\r" and "\n", or inside a UTF-8
 * sequence); the parser keeps the partial line and the event being built and
 * calls back once per complete event, as the WHATWG EventSource rules say:
 * lines end in "\r\n", "\n" or "\r"; a line starting with ':' is a comment;
 * "data:" lines of one event are joined with "\n"; an empty line dispatches
 * the event; an event without data is not dispatched; a leading UTF-8 BOM is
 * dropped; "id" and "retry" are ignored (a client of a chat completion never
 * reconnects, since a reconnect would repeat the request).
 *
 * Invariants: no line and no event's data grows past max_line bytes (the
 * feed fails with HEARTH_E_LIMIT instead), so a hostile stream can not make
 * the parser hold more than about 2 * max_line bytes.
 */
#ifndef HEARTH_ROUTER_SSE_H
#define HEARTH_ROUTER_SSE_H

#include "hearth.h"
#include "util/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* One complete event: its type (the last "event:" field, "" if none, at most
 * 63 bytes; longer names are cut), and its data (NUL-terminated, len bytes;
 * it may hold NUL bytes of its own). Both borrowed for the call. Return
 * false to stop the parser: sse_feed then fails with HEARTH_E_CANCELLED and
 * err (filled by the callback, or by the parser if the callback left it
 * HEARTH_OK) says why. */
typedef bool (*sse_event_fn)(void *user_data, const char *event, const char *data, size_t len,
                             hearth_error *err);

typedef struct {
    size_t max_line;     /* bound on one line and on one event's data */
    sse_event_fn on_event;
    void *user_data;
    strbuf line;         /* the partial line (without its terminator) */
    strbuf data;         /* the data of the event being built, "\n" after each line */
    char event[64];
    bool skip_lf;        /* the last byte seen was "\r": a "\n" next belongs to it */
    bool at_start;       /* no byte seen yet (for the BOM) */
    size_t bom_seen;     /* bytes of a leading BOM matched so far */
    bool dead;           /* a feed failed; every later feed fails */
    size_t n_events;     /* events dispatched so far */
} sse_parser;

/* Sets up p (max_line 0: 1 MiB). on_event is required. Any thread. */
void sse_init(sse_parser *p, size_t max_line, sse_event_fn on_event, void *user_data);

/* Parses len more bytes of the stream, calling on_event for every event
 * they complete. Errors: HEARTH_E_LIMIT (a line or an event's data passed
 * max_line), HEARTH_E_CANCELLED (on_event returned false), HEARTH_E_NOMEM.
 * After an error the parser is dead: later feeds fail with HEARTH_E_STATE.
 * One thread per parser. */
hearth_status sse_feed(sse_parser *p, const void *buf, size_t len, hearth_error *err);

/* True when the stream so far ends inside an event (a partial line, or data
 * lines not yet closed by an empty line): if the connection ends here, the
 * last event was cut off. */
bool sse_pending(const sse_parser *p);

/* Frees p's buffers. Safe to call twice. */
void sse_free(sse_parser *p);

#endif
