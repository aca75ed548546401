/*
 * redact.h: finding personal data and secrets in text, replacing them with
 * typed placeholders ("[EMAIL_1]", "[PHONE_2]", ...) before text leaves the
 * device, and putting the originals back into the answer that comes back
 * (in one piece or streamed in arbitrary chunks).
 *
 * Pieces:
 *  - redact_config: what to look for (all built-in kinds by default, plus the
 *    user's own terms). Built once, then read-only: any thread may use one
 *    config at the same time.
 *  - redact_find: the detectors alone, returning spans (for tests, the
 *    benchmark and the classifier).
 *  - redact_map: the placeholder <-> original mapping of one request. A
 *    struct the caller owns (redact_map_init / redact_map_clear); it never
 *    leaves the device. One thread per map.
 *  - redact_text: find + replace into a map; the same bytes get the same
 *    placeholder within one map.
 *  - redact_restore / redact_restorer: placeholders back to originals.
 *
 * Invariants (the fuzz target checks them): restoring the redacted text with
 * the same map gives back the input byte for byte; a placeholder-shaped text
 * the user typed ("[EMAIL_1]") is never replaced by someone else's value
 * (numbers the input already uses are skipped, and a clash with an earlier
 * text of the same map is itself redacted). Every scanner is linear in the
 * input (each attempt looks at a bounded window) and spans always begin and
 * end on ASCII characters or on the user's own (UTF-8) terms, so multi-byte
 * characters are never split.
 */
#ifndef HEARTH_ROUTER_REDACT_H
#define HEARTH_ROUTER_REDACT_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a span is. The placeholder name is redact_kind_name(). */
typedef enum {
    REDACT_EMAIL = 0, /* local@domain.tld */
    REDACT_PHONE,     /* +CC ..., 00CC ..., national with trunk 0, NANP 3-3-4 */
    REDACT_CARD,      /* 13-19 digits, IIN 2-6, Luhn-valid */
    REDACT_IBAN,      /* CCdd + BBAN, mod-97 == 1 */
    REDACT_SSN,       /* US AAA-GG-SSSS (valid ranges), or 9 digits after "SSN" */
    REDACT_IP,        /* IPv4 dotted quad, IPv6 (full, compressed, v4-mapped) */
    REDACT_DOB,       /* a date in a birth context ("born", "DOB", "date of birth") */
    REDACT_ADDRESS,   /* a street address (number + street, or street + number) */
    REDACT_POSTCODE,  /* UK, Canadian, Dutch postcodes; ZIP after a state or "zip" */
    REDACT_SECRET,    /* API keys, tokens, private keys, passwords */
    REDACT_TERM,      /* one of the user's own terms */
    REDACT_KIND_COUNT
} redact_kind;

/* "EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "DOB", "ADDRESS", "POSTCODE",
 * "SECRET", "TERM"; NULL outside the enum. Static. Any thread. */
const char *redact_kind_name(redact_kind k);
/* Lower-case form for logs and metrics labels ("email", ...). Static. */
const char *redact_kind_label(redact_kind k);

/* One finding: bytes [start, end) of the text. */
typedef struct {
    size_t start, end;
    redact_kind kind;
} redact_span;

/* ---- configuration ------------------------------------------------------- */

typedef struct redact_config redact_config;

/* A config with every built-in kind on and no terms.
 * OUT: *out owns it (redact_config_free). Errors: HEARTH_E_NOMEM, HEARTH_E_ARG. */
hearth_status redact_config_new(redact_config **out, hearth_error *err);
/* NULL is a no-op. */
void redact_config_free(redact_config *c);
/* Turns kinds on or off: bit k of mask is kind k (default: all). REDACT_TERM
 * applies only if terms were added. One thread, before the config is shared. */
void redact_config_set_kinds(redact_config *c, uint32_t mask);
/* Adds one of the user's terms (a name, place, project...), matched with ASCII
 * letters case-insensitive, other bytes exactly, on word boundaries. term
 * must be valid UTF-8 of 1..200 bytes after trimming spaces; empty is ignored.
 * At most 4096 terms. Errors: HEARTH_E_ARG (bad UTF-8, too long, too many),
 * HEARTH_E_NOMEM. One thread, before the config is shared. */
hearth_status redact_config_add_term(redact_config *c, const char *term, size_t len,
                                     hearth_error *err);
/* Adds every term of a list separated by ',' or newlines (the form of the
 * "redact_terms" setting), e.g. "Alice Martin, Lyon, Project Falcon".
 * Errors as redact_config_add_term; on error the terms before stay added. */
hearth_status redact_config_add_terms(redact_config *c, const char *list, hearth_error *err);
/* Number of terms added. */
size_t redact_config_n_terms(const redact_config *c);

/* ---- detection ----------------------------------------------------------- */

/* Finds the spans to redact in text[0..len) (any bytes; need not be
 * NUL-terminated or valid UTF-8). Spans come sorted by start and never
 * overlap. OUT: *out owns an array of *n spans (hearth_free; NULL when
 * *n == 0). Errors: HEARTH_E_NOMEM, HEARTH_E_ARG. Any thread (c is read only). */
hearth_status redact_find(const redact_config *c, const char *text, size_t len,
                          redact_span **out, size_t *n, hearth_error *err);

/* ---- the mapping of one request ----------------------------------------- */

typedef struct {
    redact_kind kind;
    uint32_t num;  /* the N of [KIND_N] */
    char *orig;    /* owned: the original bytes (NUL-terminated) */
    size_t orig_len;
    bool escape;   /* a user-typed placeholder that clashed; not counted */
} redact_entry;

/* Caller-owned; fields are read-only to the caller except through the calls
 * below. counts[k] is how many spans of kind k were replaced (occurrences,
 * not distinct values): the figures for the audit log. */
typedef struct {
    redact_entry *e; /* n entries, in order of first appearance */
    size_t n, cap;
    uint32_t *vslots;  /* (kind, value) -> entry index + 1; open addressing */
    size_t nvslots;
    uint64_t *nkeys;   /* (kind << 32 | num) + 1 -> nvals[i]: entry index or reserved */
    uint32_t *nvals;
    size_t nnslots, nnused;
    uint32_t next[REDACT_KIND_COUNT];   /* next number to try per kind */
    uint32_t maxnum[REDACT_KIND_COUNT]; /* highest number given out per kind */
    uint32_t counts[REDACT_KIND_COUNT];
} redact_map;

void redact_map_init(redact_map *m);
/* Frees everything the map holds (it may be reused after redact_map_init). */
void redact_map_clear(redact_map *m);
/* Marks every placeholder-shaped text in text[0..len) as taken, so no
 * original will be given that placeholder. redact_text does this for its own
 * input; call it first for every text of a request when several texts share
 * one map, so that a user-typed "[EMAIL_2]" in the third message is not the
 * placeholder of an address in the first. Errors: HEARTH_E_NOMEM. */
hearth_status redact_map_reserve(redact_map *m, const char *text, size_t len,
                                 hearth_error *err);
/* The original behind placeholder ph[0..len) (e.g. "[EMAIL_1]"), borrowed
 * until redact_map_clear, or NULL if ph is not one of this map's. */
const redact_entry *redact_map_lookup(const redact_map *m, const char *ph, size_t len);
/* Writes "[KIND_N]" of entry e into buf (NUL-terminated); returns its length. */
size_t redact_placeholder(const redact_entry *e, char buf[32]);

/* Redacts text[0..len) with config c into map m. OUT: *out owns the redacted
 * text (hearth_free; NUL-terminated) of *out_len bytes. On error the map
 * may hold entries of the failed call (harmless: they only restore).
 * Errors: HEARTH_E_NOMEM, HEARTH_E_ARG, HEARTH_E_LIMIT (more than 2^31
 * entries). One thread per map. */
hearth_status redact_text(const redact_config *c, redact_map *m, const char *text, size_t len,
                          char **out, size_t *out_len, hearth_error *err);

/* ---- restoring the answer ---------------------------------------------- */

/* Replaces every placeholder of m in text[0..len) by its original; other
 * bracketed text (also placeholder-shaped text not in m) stays as it is.
 * OUT: *out owns the result (hearth_free), *out_len its length.
 * Errors: HEARTH_E_NOMEM, HEARTH_E_ARG. */
hearth_status redact_restore(const redact_map *m, const char *text, size_t len, char **out,
                             size_t *out_len, hearth_error *err);

/* Receives restored text; return false to stop (the call then returns
 * HEARTH_E_CANCELLED). */
typedef bool (*redact_emit_fn)(void *ud, const char *p, size_t n);

/* Streaming restore: feed the answer in chunks of any size (a placeholder
 * may be split anywhere); text is emitted as soon as it cannot be the start
 * of one of m's placeholders, so at most REDACT_PENDING_MAX bytes are held
 * back. Concatenated, the emitted text equals redact_restore of the whole.
 * No allocation. The map must outlive the restorer and not change while it
 * is in use. One thread per restorer. */
#define REDACT_PENDING_MAX 24
typedef struct {
    const redact_map *map;
    char pend[REDACT_PENDING_MAX];
    size_t npend;
} redact_restorer;

void redact_restorer_init(redact_restorer *r, const redact_map *m);
/* Errors: HEARTH_E_ARG (NULL arguments: emit is then never called),
 * HEARTH_E_CANCELLED (emit returned false). */
hearth_status redact_restorer_feed(redact_restorer *r, const char *p, size_t n,
                                   redact_emit_fn emit, void *ud, hearth_error *err);
/* Emits what is still held back (the end of the answer). */
hearth_status redact_restorer_finish(redact_restorer *r, redact_emit_fn emit, void *ud,
                                     hearth_error *err);

/* Internal to src/router: parses a placeholder at p[0..n): on success returns
 * its length and sets *kind and *num; 0 if p does not start with one
 * ("[" NAME "_" [1-9][0-9]{0,8} "]"). If the bytes are a proper prefix of a
 * placeholder, returns 0 and sets *partial (may be NULL) to true. */
size_t redact_parse_placeholder(const char *p, size_t n, redact_kind *kind, uint32_t *num,
                                bool *partial);

#endif
