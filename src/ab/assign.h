/*
 * assign.h: which A/B variant answers a request. A request's key (its
 * session name, or its response id when it has no session) is hashed with
 * SipHash-2-4 under a fixed key, the hash mapped to [0, 1) and that point
 * to a variant by the cumulative split weights: the same key always gets
 * the same variant (in any process, on any machine, for as long as the
 * split stays the same), and over many keys the shares follow the split.
 * Pure functions; any thread.
 */
#ifndef HEARTH_AB_ASSIGN_H
#define HEARTH_AB_ASSIGN_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

#define AB_MAX_VARIANTS 16

/* SipHash-2-4 of data[0..len) under the 16-byte key k. */
uint64_t ab_siphash(const uint8_t k[16], const void *data, size_t len);

/* The variant index in [0, n) for key (NUL-terminated) under weights w[0..n)
 * (not all 0). */
size_t ab_assign(const char *key, const unsigned *w, size_t n);

/* Parses a split such as "50,50" or "90,10" (non-negative integers, at
 * least one non-zero, each <= 1000000) into w[0..n): exactly n numbers.
 * Errors: HEARTH_E_ARG saying what is wrong. */
hearth_status ab_parse_split(const char *s, unsigned *w, size_t n, hearth_error *err);

#endif
