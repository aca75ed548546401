/*
 * stop_text.c: stop-string holding for generated text (see stop_text.h).
 */
#include "engine/stop_text.h"

#include <string.h>

bool stop_text_add(stop_text *s, const char *t, size_t n) {
    strbuf_append(s, t, n);
    return !s->failed;
}

size_t stop_text_ready(const stop_text *s, const hearth_gen_params *p, bool *stopped) {
    *stopped = false;
    size_t first = SIZE_MAX, hold = 0;
    for (int32_t i = 0; i < p->n_stop; i++) {
        size_t sl = strlen(p->stop[i]);
        if (!sl) continue;
        const char *hit = sl <= s->len ? memmem(s->p, s->len, p->stop[i], sl) : NULL;
        if (hit && (size_t)(hit - s->p) < first) first = (size_t)(hit - s->p);
        /* the longest tail that is a proper prefix of this stop string */
        for (size_t k = sl - 1 < s->len ? sl - 1 : s->len; k > hold; k--)
            if (!memcmp(s->p + s->len - k, p->stop[i], k)) {
                hold = k;
                break;
            }
    }
    if (first != SIZE_MAX) {
        *stopped = true;
        return first;
    }
    return s->len - hold;
}

void stop_text_consume(stop_text *s, size_t n) {
    memmove(s->p, s->p + n, s->len - n);
    s->len -= n;
}
