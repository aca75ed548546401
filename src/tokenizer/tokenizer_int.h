/*
 * tokenizer_int.h: the inside of hearth_tokenizer, shared by the files of
 * src/tokenizer. A tokenizer is immutable after hearth_tokenizer_build, so any
 * number of threads may tokenize with it at once; per-call scratch memory
 * lives in each call.
 *
 * Invariants after a successful build: every id stored anywhere in the
 * struct (special ids, byte_id, merge results, special-token lists) is -1 or
 * in [0, n_vocab); every merge's two sides and result are tokens.
 */
#ifndef HEARTH_TOKENIZER_INT_H
#define HEARTH_TOKENIZER_INT_H

#include "hearth.h"
#include "tokenizer/pretok.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits on what a model file may ask for. */
#define HEARTH_TOK_MAX_VOCAB (1 << 24)
#define HEARTH_TOK_MAX_TOKEN_LEN 65536
/* The longest text one hearth_tokenize call accepts (piece ends are 32-bit). */
#define HEARTH_TOK_MAX_TEXT ((size_t)1 << 30)
/* The longest probe chain of the vocabulary and merge tables. Both are at
 * most half full and hashed with a random seed, so a longer chain means bad
 * luck (or a broken hash): the build draws another seed and rebuilds, a few
 * times, and so lookups never probe further than this. */
#define HEARTH_TOK_MAX_PROBE 256

typedef enum { HEARTH_TOK_SPM, HEARTH_TOK_BPE } hearth_tok_model;

/* What a tokenizer is built from: the tokenizer.ggml.* metadata, borrowed.
 * Absent optional values: NULL arrays, -1 ids / flags. */
typedef struct {
    const char *model;              /* "llama", "gpt2", ... */
    const char *pre;                /* NULL: "default" */
    size_t n_vocab;
    const char *const *tokens;      /* n_vocab texts */
    const size_t *token_lens;       /* their byte lengths */
    const float *scores;            /* n_vocab or NULL */
    const int32_t *types;           /* n_vocab or NULL (all normal) */
    size_t n_merges;
    const char *const *merges;      /* "left right" */
    const size_t *merge_lens;
    int64_t bos, eos, unk, pad, eot, eom; /* -1: absent */
    int add_bos, add_eos, add_space_prefix; /* -1: absent, else 0/1 */
} hearth_tok_src;

struct hearth_tokenizer {
    hearth_tok_model model;
    hearth_pre_kind pre;
    char pre_name[64];
    int32_t n_vocab;

    char *text_blob; /* token texts, each NUL-terminated */
    uint32_t *text_off, *text_len;
    char *piece_blob; /* decoded pieces (hearth_token_to_piece) */
    uint32_t *piece_off, *piece_len;
    float *scores;   /* n_vocab */
    uint8_t *types;  /* n_vocab, hearth_token_type */
    uint8_t *eog;    /* n_vocab, 0/1 */

    uint64_t seed;   /* of thash and of the BPE word cache */
    int32_t *thash;  /* text -> id, open addressing, -1 empty */
    uint32_t thash_mask;

    struct hearth_tok_merge_ent {
        uint64_t key; /* (left << 32 | right) + 1; 0: empty slot */
        int32_t rank, res;
    } *merges;       /* open addressing; one cache line per probe */
    uint32_t mmask;
    uint64_t mseed;  /* of merges */

    int32_t byte_id[256]; /* BPE: token of each byte's character (unk_fallback
                             for the few a vocabulary may lack); SPM: <0xNN> or -1 */
    uint8_t bc_utf8[256][2], bc_len[256]; /* BPE: each byte's character in UTF-8 */

    int32_t bos, eos, unk, pad, eot;
    /* What stands for a byte with no token of its own: unk when it is an
     * unknown or plain token, else -1 (the byte is dropped); never a control
     * token or a chat marker, whatever id the file names as unknown. */
    int32_t unk_fallback;
    bool add_bos, add_eos, add_space_prefix, ignore_merges;

    /* Tokens matched in text before BPE (control, user-defined, unknown,
     * and protected ones of any type), grouped by first byte, longest
     * first: spec_ids[spec_start[b] .. spec_start[b + 1]). protect[id]:
     * never matched with parse_special off and never made by the encoders
     * (control and unknown tokens; user-defined ones that end a turn, are a
     * special id or look like <|...|>; any token spelled like a chat
     * template's control token). */
    int32_t *spec_ids;
    uint32_t spec_start[257];
    uint8_t *protect;

    /* Byte trie of the token pieces for constrained decoding (vtrie.c):
     * built on first use by any thread, published once, freed with the
     * tokenizer. The only field written after the build. */
    _Atomic(struct hearth_vtrie *) vtrie;

    /* Work the build did, for the tests of hostile files: probe steps of
     * every insertion into thash and merges (rebuilds included), tables
     * rebuilt under a new seed, comparisons of the special-token sort. */
    struct {
        uint64_t probes, sort_cmps;
        uint32_t rebuilds;
    } build_stats;
};

/* Builds a tokenizer from s (copied). On success *out owns it. Errors as
 * hearth_tokenizer_load. Any thread. */
hearth_status hearth_tokenizer_build(const hearth_tok_src *s, hearth_tokenizer **out,
                                     hearth_error *err);

/* Id of the token with text t[0..n), preferring a normal token, or -1. */
int32_t hearth_tok_lookup(const hearth_tokenizer *t, const char *s, size_t n);

/* Merge of (left, right): its rank (>= 0) and result in *res; -1 if none. */
int32_t hearth_tok_merge(const hearth_tokenizer *t, int32_t left, int32_t right, int32_t *res);

/* A growable id list. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} hearth_idvec;
bool hearth_idvec_push(hearth_idvec *v, int32_t id);

/* Scratch memory of one hearth_tokenize call. */
typedef struct hearth_tok_scratch hearth_tok_scratch;

/* Work of the BPE word cache in one call (for tests): lookups, slots probed
 * by lookups and insertions, the longest probe, words not cached because
 * their probe would have been too long. */
typedef struct {
    uint64_t lookups, probes;
    uint32_t max_probe, skipped;
} hearth_tok_cache_stats;

/* hearth_tokenize, also reporting the word cache's work in *stats (may be
 * NULL). Same contract otherwise. */
hearth_status hearth_tok_tokenize(const hearth_tokenizer *t, const char *text, size_t len,
                                  bool add_special, bool parse_special, int32_t **out_ids,
                                  size_t *n_out, hearth_tok_cache_stats *stats,
                                  hearth_error *err);

/* Encoders for one fragment of raw text (no special tokens in it), appending
 * to out. false only on allocation failure. */
bool hearth_bpe_encode(const hearth_tokenizer *t, const uint8_t *s, size_t n,
                       hearth_tok_scratch *sc, hearth_idvec *out);
bool hearth_spm_encode(const hearth_tokenizer *t, const uint8_t *s, size_t n, bool prefix_space,
                       hearth_tok_scratch *sc, hearth_idvec *out);

struct hearth_tok_scratch {
    uint32_t *cps, *offs, *ends, *tmp; /* code points, their byte offsets, piece ends */
    size_t cap_cps;
    int32_t *sid, *prev, *next;        /* BPE / SPM symbols */
    uint32_t *start, *len;
    size_t cap_sym;
    void *heap;
    size_t cap_heap;
    uint8_t *esc; /* SPM: escaped text */
    size_t cap_esc;
    /* BPE word cache: piece bytes -> ids */
    struct hearth_tok_cache_ent {
        uint64_t hash;     /* 0: empty slot */
        uint32_t pos, n;   /* ids: cids.v[pos .. pos + n) */
        uint32_t off, len; /* piece bytes: cbytes[off .. off + len) */
    } *cache;
    uint32_t cmask, cused;
    size_t text_len; /* of the current call: sizes the cache */
    hearth_idvec cids;
    uint8_t *cbytes;
    size_t ncbytes, cap_cbytes;
    hearth_tok_cache_stats cstats;
};

void hearth_tok_scratch_free(hearth_tok_scratch *sc);

/* MurmurHash3's 64-bit finalizer: every output bit depends on every input
 * bit, so a table index (the low bits) depends on the whole state. */
static inline uint64_t hearth_tok_fmix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

/* The process's hash seed (seed.c): random, drawn once, then constant. Any
 * thread. */
uint64_t hearth_tok_seed(void);

/* Hash of n bytes under seed (a tokenizer's t->seed). The seed enters the
 * state before the first byte and the result goes through a full finalizer,
 * so which keys share a table slot is not known without the seed. */
static inline uint64_t hearth_tok_hash(uint64_t seed, const void *p, size_t n) {
    const uint8_t *s = (const uint8_t *)p;
    uint64_t h = seed ^ 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xc2b2ae3d27d4eb4full);
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    return hearth_tok_fmix(h ^ (h >> 29));
}

#endif
