/*
 * test_hostile.c: inputs built to make the tokenizer's data structures
 * quadratic stay linear (or n log n). Nothing is timed: the tokenizer counts
 * its work (probe steps of its hash tables, comparisons of its sort) and the
 * test bounds the counts.
 *  - BPE word cache flooding: 64k distinct words that all fall into one
 *    stretch of the cache under the hash the tokenizer had before it was
 *    seeded (old_hash below); each lookup used to walk that whole cluster.
 *  - Vocabulary hash: 100k token texts colliding the same way in the token
 *    table.
 *  - Merges: 4096 pairs of byte tokens colliding in the merge table under
 *    its old unseeded hash.
 *  - Special tokens in the worst order for the insertion sort the build
 *    used (shortest first, all with one first byte).
 */
#include "test.h"
#include "tok_util.h"

#include "tokenizer/tokenizer_int.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The tokenizer's hash before it was seeded: the attacker knew it. */
static uint64_t old_hash(const void *p, size_t n) {
    const uint8_t *s = (const uint8_t *)p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Fills out (n words of len bytes each, back to back) with distinct random
 * words, prefix then lowercase letters, whose old hash falls in slots
 * [0, window) of a table of mask + 1 slots. */
static void colliding_words(char *out, size_t n, size_t len, const char *prefix, uint32_t mask,
                            uint32_t window) {
    size_t pl = strlen(prefix), got = 0;
    /* Distinctness: a simple open-addressing set of the accepted words'
     * full 64-bit old hashes (distinct words, distinct hashes here). */
    size_t cap = 1;
    while (cap < 4 * n) cap <<= 1;
    uint64_t *seen = calloc(cap, sizeof *seen);
    REQUIRE(seen != NULL);
    char w[64];
    REQUIRE(len < sizeof w && pl < len);
    memcpy(w, prefix, pl);
    while (got < n) {
        for (size_t i = pl; i < len; i++) w[i] = (char)('a' + rnd(26));
        uint64_t h = old_hash(w, len);
        if ((h & mask) >= window || h == 0) continue;
        size_t j = (size_t)(h >> 7) & (cap - 1);
        bool dup = false;
        for (; seen[j]; j = (j + 1) & (cap - 1))
            if (seen[j] == h) {
                dup = true;
                break;
            }
        if (dup) continue;
        seen[j] = h;
        memcpy(out + got * len, w, len);
        got++;
    }
    free(seen);
}

static void word_cache(void) {
    hearth_tokenizer *t = tok_load_vocab("gpt-2");
    if (!t) {
        fprintf(stderr, "SKIP: no gpt-2 vocabulary\n");
        exit(77);
    }
    /* 64k words of 8 bytes: the cache gets 2^17 slots (one per 4 bytes of
     * text) and takes up to half of them; all words land in 8192 slots. */
    const size_t n = 65536, len = 8;
    char *text = malloc(n * len);
    REQUIRE(text != NULL);
    colliding_words(text, n, len, " ", (1u << 17) - 1, 8192);
    int32_t *ids = NULL;
    size_t nid = 0;
    hearth_tok_cache_stats st;
    hearth_error err = {0};
    REQUIRE(hearth_tok_tokenize(t, text, n * len, false, false, &ids, &nid, &st, &err) ==
            HEARTH_OK);
    fprintf(stderr, "word cache: %llu lookups, %llu probes, longest %u, %u not cached\n",
            (unsigned long long)st.lookups, (unsigned long long)st.probes, st.max_probe,
            st.skipped);
    /* Every word but the first (the cache is made at the first insert). */
    CHECK_EQ_INT(st.lookups, n - 1);
    CHECK(st.max_probe <= 16);
    CHECK(st.probes <= 8 * st.lookups);
    /* The result is what the words give one by one. */
    size_t total = 0;
    for (size_t i = 0; i < n; i += 997) {
        int32_t *one = NULL;
        size_t k = 0;
        REQUIRE(hearth_tokenize(t, text + i * len, len, false, false, &one, &k, NULL) == 0);
        total += k;
        hearth_free(one);
    }
    CHECK(nid >= n && total >= (n + 996) / 997);
    /* Repeated words hit the cache. */
    memcpy(text + len, text, len);
    memcpy(text + 2 * len, text, len);
    hearth_free(ids);
    REQUIRE(hearth_tok_tokenize(t, text, 3 * len, false, false, &ids, &nid, &st, &err) == 0);
    CHECK(st.lookups == 2 && nid % 3 == 0 && !memcmp(ids, ids + nid / 3, nid / 3 * 4));
    hearth_free(ids);
    free(text);
    hearth_tokenizer_free(t);
}

/* An SPM vocabulary of n texts (each len bytes at texts + i * len) with
 * the given type, plus <unk>, <s>, </s> first. */
static hearth_tokenizer *build(const char *texts, size_t n, size_t len, int32_t type) {
    size_t nv = n + 3;
    const char **tok = malloc(nv * sizeof *tok);
    size_t *lens = malloc(nv * sizeof *lens);
    int32_t *types = malloc(nv * sizeof *types);
    REQUIRE(tok && lens && types);
    static const char *const first[] = {"<unk>", "<s>", "</s>"};
    for (size_t i = 0; i < 3; i++) {
        tok[i] = first[i];
        lens[i] = strlen(first[i]);
        types[i] = i == 0 ? HEARTH_TOKEN_UNKNOWN : HEARTH_TOKEN_CONTROL;
    }
    for (size_t i = 0; i < n; i++) {
        tok[3 + i] = texts + i * len;
        lens[3 + i] = len;
        types[3 + i] = type;
    }
    hearth_tok_src s = {.model = "llama", .n_vocab = nv, .tokens = tok, .token_lens = lens,
                        .types = types, .bos = -1, .eos = -1, .unk = -1, .pad = -1, .eot = -1,
                        .eom = -1, .add_bos = -1, .add_eos = -1, .add_space_prefix = -1};
    hearth_tokenizer *t = NULL;
    hearth_error err = {0};
    hearth_status st = hearth_tokenizer_build(&s, &t, &err);
    CHECKF(st == HEARTH_OK, "build: %s", err.msg);
    free(tok);
    free(lens);
    free(types);
    return t;
}

static void vocab_hash(void) {
    /* 100k tokens: the table has 2^18 slots; all land in 4096 of them. */
    const size_t n = 100000, len = 8;
    char *texts = malloc(n * len);
    REQUIRE(texts != NULL);
    colliding_words(texts, n, len, "", (1u << 18) - 1, 4096);
    hearth_tokenizer *t = build(texts, n, len, HEARTH_TOKEN_NORMAL);
    REQUIRE(t != NULL);
    fprintf(stderr, "vocabulary: %zu tokens, %llu probe steps, %u rebuilds\n", n + 3,
            (unsigned long long)t->build_stats.probes, t->build_stats.rebuilds);
    CHECK(t->build_stats.probes <= 4 * (n + 3));
    CHECK_EQ_INT(t->build_stats.rebuilds, 0);
    for (size_t i = 0; i < n; i += 101)
        CHECK_EQ_INT(hearth_token_find(t, texts + i * len, len), (int32_t)(3 + i));
    CHECK_EQ_INT(hearth_token_find(t, "zzzzzzzzz", 9), -1);
    hearth_tokenizer_free(t);
    free(texts);
}

static void special_sort(void) {
    /* 150k control tokens "<" + letters, 48 lengths, shortest first: each
     * one passed every shorter one in the insertion sort (~10^10 steps). */
    const size_t n = 150000, len = 50;
    char *texts = malloc(n * len);
    REQUIRE(texts != NULL);
    /* Fixed-size slots: the token of slot i is its first len_i bytes. */
    size_t *lens = malloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        char *w = texts + i * len;
        lens[i] = 2 + i * 48 / n;
        w[0] = '<';
        size_t x = i;
        for (size_t k = 1; k < lens[i]; k++, x /= 26) w[k] = (char)('a' + x % 26);
    }
    size_t nv = n + 3;
    const char **tok = malloc(nv * sizeof *tok);
    size_t *tl = malloc(nv * sizeof *tl);
    int32_t *types = malloc(nv * sizeof *types);
    REQUIRE(tok && tl && types && lens);
    static const char *const first[] = {"<unk>", "<s>", "</s>"};
    for (size_t i = 0; i < 3; i++) {
        tok[i] = first[i];
        tl[i] = strlen(first[i]);
        types[i] = i == 0 ? HEARTH_TOKEN_UNKNOWN : HEARTH_TOKEN_CONTROL;
    }
    for (size_t i = 0; i < n; i++) {
        tok[3 + i] = texts + i * len;
        tl[3 + i] = lens[i];
        types[3 + i] = HEARTH_TOKEN_CONTROL;
    }
    hearth_tok_src s = {.model = "llama", .n_vocab = nv, .tokens = tok, .token_lens = tl,
                        .types = types, .bos = -1, .eos = -1, .unk = -1, .pad = -1, .eot = -1,
                        .eom = -1, .add_bos = -1, .add_eos = -1, .add_space_prefix = -1};
    hearth_tokenizer *t = NULL;
    hearth_error err = {0};
    REQUIRE(hearth_tokenizer_build(&s, &t, &err) == HEARTH_OK);
    fprintf(stderr, "special tokens: %zu, %llu comparisons\n", nv,
            (unsigned long long)t->build_stats.sort_cmps);
    /* n log2 n is 2.6M; the insertion sort did ~10^10 steps. */
    CHECK(t->build_stats.sort_cmps <= (uint64_t)nv * 19);
    /* The '<' group is longest first, then lower id. */
    uint32_t a = t->spec_start['<'], b = t->spec_start['<' + 1];
    CHECK_EQ_INT(b - a, nv);
    bool ordered = true;
    for (uint32_t k = a + 1; k < b; k++) {
        int32_t p = t->spec_ids[k - 1], q = t->spec_ids[k];
        if (!(t->text_len[p] > t->text_len[q] || (t->text_len[p] == t->text_len[q] && p < q)))
            ordered = false;
    }
    CHECK(ordered);
    /* The longest match wins with special parsing on. */
    int32_t *ids = NULL;
    size_t k = 0;
    const char *longest = texts + (n - 1) * len;
    REQUIRE(hearth_tokenize(t, longest, lens[n - 1], false, true, &ids, &k, NULL) == 0);
    CHECK(k == 1 && ids[0] == (int32_t)(3 + n - 1));
    hearth_free(ids);
    hearth_tokenizer_free(t);
    free(tok);
    free(tl);
    free(types);
    free(lens);
    free(texts);
}

/* GPT-2's byte-level character of byte b, as UTF-8 (2 bytes at most). */
static size_t byte_char(unsigned b, char *out) {
    bool kept = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    unsigned cp = b, k = 0;
    if (!kept) {
        for (unsigned x = 0; x < b; x++)
            k += !((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255));
        cp = 256 + k;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static void merge_hash(void) {
    /* Tokens 0..255 are the bytes (token b is byte b); the merges are the
     * pairs (l, r) whose old slot, (key * golden) >> 32 in a table of 8192,
     * falls in the first 512; each result is a token of its own. */
    enum { MAXM = 4096 };
    static char bc[256][2], res[MAXM][4], mg[MAXM][6];
    static size_t bl[256];
    static const char *tok[256 + MAXM], *merges[MAXM];
    static size_t tl[256 + MAXM], ml[MAXM];
    static int32_t ty[256 + MAXM];
    for (unsigned b = 0; b < 256; b++) {
        bl[b] = byte_char(b, bc[b]);
        tok[b] = bc[b];
        tl[b] = bl[b];
        ty[b] = HEARTH_TOKEN_NORMAL;
    }
    size_t nm = 0;
    for (uint32_t l = 0; l < 256 && nm < MAXM; l++)
        for (uint32_t r = 0; r < 256 && nm < MAXM; r++) {
            uint64_t key = (((uint64_t)l << 32) | r) + 1;
            if ((((uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32)) & 8191) >= 512) continue;
            memcpy(res[nm], bc[l], bl[l]);
            memcpy(res[nm] + bl[l], bc[r], bl[r]);
            tok[256 + nm] = res[nm];
            tl[256 + nm] = bl[l] + bl[r];
            ty[256 + nm] = HEARTH_TOKEN_NORMAL;
            memcpy(mg[nm], bc[l], bl[l]);
            mg[nm][bl[l]] = ' ';
            memcpy(mg[nm] + bl[l] + 1, bc[r], bl[r]);
            merges[nm] = mg[nm];
            ml[nm] = bl[l] + 1 + bl[r];
            nm++;
        }
    REQUIRE(nm > 2048); /* so the table has 8192 slots */
    size_t nv = 256 + nm;
    hearth_tok_src s = {.model = "gpt2", .pre = "gpt-2", .n_vocab = nv, .tokens = tok,
                        .token_lens = tl, .types = ty, .n_merges = nm, .merges = merges,
                        .merge_lens = ml, .bos = -1, .eos = -1, .unk = -1, .pad = -1,
                        .eot = -1, .eom = -1, .add_bos = -1, .add_eos = -1,
                        .add_space_prefix = -1};
    hearth_tokenizer *t = NULL;
    hearth_error err = {0};
    REQUIRE(hearth_tokenizer_build(&s, &t, &err) == HEARTH_OK);
    fprintf(stderr, "merges: %zu tokens, %zu merges, %llu probe steps\n", nv, nm,
            (unsigned long long)t->build_stats.probes);
    CHECK(t->build_stats.probes <= 4 * (nv + nm));
    /* Each merge is found, with its rank and result. */
    size_t found = 0;
    for (uint32_t l = 0; l < 256; l++)
        for (uint32_t r = 0; r < 256; r++) {
            int32_t out = -1, rank = hearth_tok_merge(t, (int32_t)l, (int32_t)r, &out);
            if (rank < 0) continue;
            found++;
            CHECK(rank < (int32_t)nm && out == 256 + rank);
        }
    CHECK_EQ_INT(found, nm);
    hearth_tokenizer_free(t);
}

int main(void) {
    merge_hash();
    vocab_hash();
    special_sort();
    word_cache();
    return test_done();
}
