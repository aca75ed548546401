/*
 * hlc.c: the hybrid logical clock (see hlc.h). Values never go backwards:
 * a wall clock that steps back keeps the last wall time and counts on.
 */
#include "sync/hlc.h"

#include <string.h>

/* (wall, count) as a value, carrying a counter past 16 bits into the wall. */
static int64_t make(int64_t wall, int64_t count) {
    if (count > 0xFFFF) {
        wall += count >> 16;
        count &= 0xFFFF;
    }
    return SYNC_HLC_MAKE(wall, count);
}

int64_t sync_hlc_tick(int64_t last, int64_t now_ms) {
    if (last < 0) last = 0;
    int64_t lw = SYNC_HLC_WALL(last);
    if (now_ms > lw) return make(now_ms, 0);
    return make(lw, SYNC_HLC_COUNT(last) + 1);
}

int64_t sync_hlc_recv(int64_t last, int64_t remote, int64_t now_ms) {
    if (last < 0) last = 0;
    if (remote < 0) remote = 0;
    int64_t lw = SYNC_HLC_WALL(last), rw = SYNC_HLC_WALL(remote);
    int64_t w = lw > rw ? lw : rw;
    if (now_ms > w) return make(now_ms, 0);
    int64_t c;
    if (lw == rw) {
        int64_t lc = SYNC_HLC_COUNT(last), rc = SYNC_HLC_COUNT(remote);
        c = (lc > rc ? lc : rc) + 1;
    } else if (w == lw) {
        c = SYNC_HLC_COUNT(last) + 1;
    } else {
        c = SYNC_HLC_COUNT(remote) + 1;
    }
    return make(w, c);
}

int sync_hlc_cmp(int64_t a, const char *dev_a, int64_t b, const char *dev_b) {
    if (a != b) return a < b ? -1 : 1;
    int c = strcmp(dev_a ? dev_a : "", dev_b ? dev_b : "");
    return c < 0 ? -1 : c > 0;
}
