/*
 * grammar_int.h: the compiled form of a grammar and its incremental matcher,
 * shared by grammar_gbnf.c (the GBNF parser that builds it), grammar.c (the
 * matcher), json_schema.c and constrain.c (the token-level driver used by
 * hearth_generate and the scheduler).
 *
 * A compiled grammar works on BYTES: every code-point terminal of the source
 * (a literal character, a character class) is turned into the UTF-8 byte
 * sequences that spell it, so a token's bytes (which may end inside a
 * character) are matched one byte at a time with no partial-character state.
 *
 * Layout: el[] holds every alternative of every rule, each a run of elements
 * ended by GE_END. Rule r's alternatives are alt_start[rule_alt[r] ..
 * rule_alt[r + 1]). A GE_SET element matches one byte in the 256-bit set
 * sets[arg]; a GE_REF element expands rule arg. Invariants after a
 * successful compile: every REF names a defined rule, every SET index is in
 * range, no rule can reach itself without consuming a byte (no left
 * recursion), so expanding a stack always ends.
 */
#ifndef HEARTH_ENGINE_GRAMMAR_INT_H
#define HEARTH_ENGINE_GRAMMAR_INT_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GE_END = 0, GE_SET = 1, GE_REF = 2 };

typedef struct {
    uint32_t kind; /* GE_* */
    uint32_t arg;  /* GE_SET: index in sets; GE_REF: rule id */
} gelem;

/* Hard limits (a grammar is untrusted input: it comes from HTTP requests). */
#define GRAMMAR_MAX_ELEMS ((size_t)1 << 22)
#define GRAMMAR_MAX_RULES ((size_t)1 << 20)
#define GRAMMAR_MAX_REPEAT 10000 /* the largest m or n in {m,n} */

struct hearth_grammar {
    gelem *el;
    size_t n_el;
    uint32_t *alt_start; /* (n_alts) */
    uint32_t *rule_alt;  /* (n_rules + 1) */
    uint32_t n_rules, n_alts;
    uint8_t (*sets)[32]; /* (n_sets) byte bitmaps */
    uint32_t n_sets;
    uint32_t root;
};

/* Builds the flattened grammar from per-rule alternative lists (used by the
 * GBNF parser): rules[r] is n_alts[r] alternatives, alts[r][a] its elements
 * (n_elems[r][a], no GE_END: it is added). Checks references and left
 * recursion (HEARTH_E_ARG naming the rule). OUT: *out owned. */
typedef struct {
    gelem *v;
    size_t n, cap;
} gseq;
typedef struct {
    gseq *alts;
    size_t n, cap;
    char *name;  /* owned; NULL for synthesized rules */
    bool defined;
} grule;
hearth_status grammar_build(grule *rules, size_t n_rules, uint8_t (*sets)[32], uint32_t n_sets,
                            uint32_t root, hearth_grammar **out, hearth_error *err);

/* ---- matcher ----------------------------------------------------------- */

/* A parse stack, as an immutable linked list: pos is the index in el of the
 * next element to match (always a GE_SET once in a state set), parent the
 * continuation after the current rule. h hashes the whole stack. */
typedef struct gnode {
    uint32_t pos;
    const struct gnode *parent;
    uint64_t h;
} gnode;

/* A bump allocator with mark / rewind. */
typedef struct achunk achunk;
typedef struct {
    achunk *head; /* current chunk (newest); older ones behind it */
    achunk *spare; /* chunks kept for reuse */
    bool failed;  /* an allocation failed since the last reset */
} arena;
typedef struct {
    achunk *chunk;
    size_t used;
} arena_mark;

/* A set of stacks: the parses alive after some input. accept: the input so
 * far is a complete sentence of the grammar. */
typedef struct {
    const gnode **v;
    uint32_t n;
    bool accept;
} gset;

#define GSET_MAX 1024 /* more stacks than this: the byte is refused */

/* A state interned by the full-mask walk (a lazily built DFA over the
 * states it meets: inside a JSON string almost every byte leads back to the
 * same few states, so a walk over the vocabulary is table lookups). */
typedef struct {
    gset set;
    uint64_t h;
} dstate;

typedef struct {
    const hearth_grammar *g;
    arena a[2];  /* the committed state lives in a[cur] */
    int cur;
    arena scratch;
    gset state;
    /* scratch of one step: the set being built, the expansion work list */
    const gnode **tmpv;  /* (GSET_MAX) */
    void *work;
    size_t work_cap;
    /* the DFA cache (dfa.c part of grammar.c); flushed when too large */
    arena dfa;
    size_t dfa_bytes;
    dstate *ds;
    uint32_t n_ds, cap_ds;
    int32_t *shash;      /* state hash -> id, open addressing (-1 empty) */
    uint32_t shash_cap;
    uint64_t *tkey;      /* transitions: key (id << 8 | byte) + 1; 0 empty */
    int32_t *tval;       /* next id, or -1 dead */
    uint32_t t_cap, n_t;
    /* the last few full masks, by DFA state: inside an unbounded JSON string
     * the state is the same at every character (or one of a few, after part
     * of a multi-byte character), so the mask is too */
#define GMASK_CACHE 4
    struct {
        int32_t id;      /* DFA state; -1: empty slot */
        int32_t *ids;
        size_t n, cap;
        uint64_t used;   /* for least-recently-used replacement */
    } mask[GMASK_CACHE];
    uint64_t mask_clock;
} gmatch;

/* Starts a match at the grammar's root. Errors: HEARTH_E_NOMEM. */
hearth_status gmatch_init(gmatch *m, const hearth_grammar *g, hearth_error *err);
void gmatch_free(gmatch *m);
/* Back to the start state (after a successful gmatch_init). */
hearth_status gmatch_reset(gmatch *m, hearth_error *err);
/* Whether bytes s[0..n) can follow the text so far (the state is kept). */
bool gmatch_try(gmatch *m, const void *s, size_t n);
/* As gmatch_try, and on success the bytes are taken (false: unchanged, or
 * out of memory). */
bool gmatch_accept(gmatch *m, const void *s, size_t n);
static inline bool gmatch_complete(const gmatch *m) { return m->state.accept; }
static inline bool gmatch_can_continue(const gmatch *m) { return m->state.n > 0; }

/* Byte trie over a vocabulary (built by the tokenizer, cached there). */
struct hearth_vtrie;
/* Appends to out (room for n_vocab ids) every token in trie t whose bytes
 * can follow the text so far; returns how many it wrote. */
size_t gmatch_allowed(gmatch *m, const struct hearth_vtrie *t, int32_t *out);

#endif
