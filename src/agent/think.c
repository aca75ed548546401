/*
 * think.c: reasoning blocks in model output (see think.h).
 *
 * The filter holds back bytes only while they may still become a tag: both
 * tags start with '<' and contain no other '<', so when the held bytes stop
 * being a prefix of the tag looked for, all of them are text except a final
 * '<', which may start the next tag.
 */
#include "agent/think.h"

#include <string.h>

static const char OPEN[] = "<think>", CLOSE[] = "</think>";

void think_filter_init(think_filter *f, bool show) {
    memset(f, 0, sizeof *f);
    f->show = show;
}

size_t think_filter_feed(think_filter *f, const char *text, size_t n, char *out) {
    if (f->show) {
        memcpy(out, text, n);
        return n;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (f->skip_nl && !f->held) {
            if (c == '\n') continue;
            f->skip_nl = false;
        }
        const char *tag = f->inside ? CLOSE : OPEN;
        size_t tl = f->inside ? sizeof CLOSE - 1 : sizeof OPEN - 1;
        if (!f->held && c != '<') {
            if (!f->inside) out[o++] = c;
            continue;
        }
        f->hold[f->held++] = c;
        if (!memcmp(f->hold, tag, f->held)) {
            if (f->held == tl) { /* a whole tag */
                f->held = 0;
                f->inside = !f->inside;
                f->skip_nl = !f->inside;
            }
            continue;
        }
        /* not this tag: text, but for a final '<' that may start one */
        size_t keep = c == '<' ? 1 : 0;
        if (!f->inside) {
            memcpy(out + o, f->hold, f->held - keep);
            o += f->held - keep;
        }
        f->held = keep;
        if (keep) f->hold[0] = '<';
    }
    return o;
}

size_t think_filter_flush(think_filter *f, char *out) {
    size_t o = 0;
    if (!f->show && !f->inside) {
        memcpy(out, f->hold, f->held);
        o = f->held;
    }
    f->held = 0;
    return o;
}

size_t think_answer_start(const char *s, size_t n) {
    size_t tl = sizeof CLOSE - 1, at = 0;
    bool found = false;
    for (size_t i = 0; i + tl <= n; i++)
        if (s[i] == '<' && !memcmp(s + i, CLOSE, tl)) {
            at = i + tl;
            found = true;
        }
    if (!found) return 0;
    while (at < n && (s[at] == '\n' || s[at] == '\r')) at++;
    return at;
}
