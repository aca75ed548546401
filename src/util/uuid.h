/*
 * uuid.h: UUIDv7 (RFC 9562) text ids: 48 bits of Unix milliseconds, the
 * version and variant bits, and 74 random bits from the kernel (getrandom).
 * Used for the global ids (gid) of synced rows and for device ids; ids made
 * later in time sort after earlier ones (as strings), which keeps a sync
 * server's row index append-mostly.
 */
#ifndef HEARTH_UTIL_UUID_H
#define HEARTH_UTIL_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define HEARTH_UUID_LEN 36 /* text length without the NUL */

/* Writes the lower-case text form of a new UUIDv7 for time ms (Unix epoch
 * milliseconds; 0: now) into out (37 bytes with the NUL). Returns false only
 * when the kernel gave no random bytes (out is then left empty). Any thread. */
bool hearth_uuid7(int64_t ms, char out[HEARTH_UUID_LEN + 1]);

/* True when s is the canonical lower-case text of a UUIDv7 (36 characters,
 * hyphens at 8/13/18/23, version 7, variant 10xx). */
bool hearth_uuid7_valid(const char *s);

/* The millisecond timestamp of a valid UUIDv7 text (-1 when invalid). */
int64_t hearth_uuid7_ms(const char *s);

#endif
