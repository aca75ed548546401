/*
 * hlc.h: the hybrid logical clock of docs/sync-protocol.md: a value is
 * (wall_ms << 16) | counter, wall_ms the Unix time in milliseconds (48 bits)
 * and counter a 16-bit logical part (Kulkarni et al. 2014). Pure functions
 * of their arguments (the caller passes the time and keeps the last value in
 * the store's sync_state), so they are deterministic under test.
 */
#ifndef HEARTH_SYNC_HLC_H
#define HEARTH_SYNC_HLC_H

#include <stdint.h>

#define SYNC_HLC_WALL(h) ((int64_t)((uint64_t)(h) >> 16))
#define SYNC_HLC_COUNT(h) ((int64_t)((uint64_t)(h) & 0xFFFF))
#define SYNC_HLC_MAKE(wall, count) ((int64_t)(((uint64_t)(wall) << 16) | ((uint64_t)(count) & 0xFFFF)))

/* The clock after a local event at wall time now_ms, given its last value:
 * (now, 0) when now is past the last wall time, else the last value with the
 * counter + 1 (a full counter carries into the wall part, so the result is
 * always > last). Any thread. */
int64_t sync_hlc_tick(int64_t last, int64_t now_ms);

/* The clock after receiving remote (a pulled change's hlc) at now_ms: the
 * larger wall time of the three, with the counter past both clocks' counters
 * at that wall time. The result is > last and > remote. Any thread. */
int64_t sync_hlc_recv(int64_t last, int64_t remote, int64_t now_ms);

/* Orders two events: by hlc, then by device id (byte order, strcmp), the
 * protocol's tiebreak. <0, 0, >0. Any thread. */
int sync_hlc_cmp(int64_t a, const char *dev_a, int64_t b, const char *dev_b);

#endif
