/*
 * vocab.c: builds a hearth_tokenizer from its metadata (hearth_tok_src),
 * checking everything a damaged file could get wrong, and the accessors of
 * the public API (special ids, types, texts, pieces).
 *
 * A hostile file must not make loading slow either: the text and merge
 * tables are seeded (seed.c) and their probe chains bounded (a table that
 * gets a long chain anyway is rebuilt under another seed), and the special
 * tokens are put in order by a merge sort.
 */
#include "tokenizer/tokenizer_int.h"

#include "tokenizer/unicode.h"
#include "tokenizer/vtrie.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* The GPT-2 byte-level alphabet: byte b is written as code point
 * byte_char(b) so that every byte is a printable character. */
static uint32_t byte_char(unsigned b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return b;
    unsigned k = 0; /* rank of b among the bytes that are moved */
    for (unsigned x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) k++;
    return 256 + k;
}

static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", "<|EOT|>",
    "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>",
};
static const char *const eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>",
};

void hearth_tokenizer_free(hearth_tokenizer *t) {
    if (!t) return;
    hearth_free(t->text_blob);
    hearth_free(t->text_off);
    hearth_free(t->text_len);
    hearth_free(t->piece_blob);
    hearth_free(t->piece_off);
    hearth_free(t->piece_len);
    hearth_free(t->scores);
    hearth_free(t->types);
    hearth_free(t->eog);
    hearth_free(t->thash);
    hearth_free(t->merges);
    hearth_free(t->spec_ids);
    hearth_free(t->protect);
    hearth_vtrie_free(atomic_load(&t->vtrie));
    hearth_free(t);
}

/* Texts of the control tokens the chat templates emit (src/agent/
 * template.c; tests/agent/test_template_inject.c checks that every one is
 * here). A token with one of these texts is protected whatever its type: a
 * file may type <|im_start|> user-defined or even normal, and user text that
 * spells it must still not become the token the template uses to open a
 * turn. */
static const char *const chat_marker_texts[] = {
    "<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<start_of_turn>", "<end_of_turn>",
    "[INST]", "[/INST]",
};

static uint32_t pow2_at_least(size_t n) {
    uint32_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

static bool is_normal(const hearth_tokenizer *t, int32_t id) {
    return t->types[id] == HEARTH_TOKEN_NORMAL || t->types[id] == HEARTH_TOKEN_UNDEFINED;
}

int32_t hearth_tok_lookup(const hearth_tokenizer *t, const char *s, size_t n) {
    uint32_t h = (uint32_t)hearth_tok_hash(t->seed, s, n) & t->thash_mask;
    /* No entry sits further than HEARTH_TOK_MAX_PROBE from its slot. */
    for (uint32_t k = 0; k < HEARTH_TOK_MAX_PROBE; k++, h = (h + 1) & t->thash_mask) {
        int32_t id = t->thash[h];
        if (id < 0) return -1;
        if (t->text_len[id] == n && !memcmp(t->text_blob + t->text_off[id], s, n)) return id;
    }
    return -1;
}

/* false: the probe chain would pass HEARTH_TOK_MAX_PROBE. */
static bool thash_insert(hearth_tokenizer *t, int32_t id) {
    const char *s = t->text_blob + t->text_off[id];
    size_t n = t->text_len[id];
    uint32_t h = (uint32_t)hearth_tok_hash(t->seed, s, n) & t->thash_mask;
    for (uint32_t k = 0; k < HEARTH_TOK_MAX_PROBE; k++, h = (h + 1) & t->thash_mask) {
        t->build_stats.probes++;
        int32_t o = t->thash[h];
        if (o < 0) {
            t->thash[h] = id;
            return true;
        }
        if (t->text_len[o] == n && !memcmp(t->text_blob + t->text_off[o], s, n)) {
            /* A duplicate text: the first normal token wins. */
            if (!is_normal(t, o) && is_normal(t, id)) t->thash[h] = id;
            return true;
        }
    }
    return false;
}

/* Another seed for a table that got a long chain under the last one. */
static uint64_t next_seed(uint64_t seed) { return hearth_tok_fmix(seed + 0x9E3779B97F4A7C15ull); }

#define MAX_REBUILDS 4

static hearth_status build_thash(hearth_tokenizer *t, hearth_error *err) {
    uint64_t seed = hearth_tok_seed();
    for (int attempt = 0; attempt < MAX_REBUILDS; attempt++, seed = next_seed(seed)) {
        t->seed = seed;
        memset(t->thash, 0xff, sizeof(int32_t) * ((size_t)t->thash_mask + 1));
        int32_t i = 0;
        while (i < t->n_vocab && thash_insert(t, i)) i++;
        if (i == t->n_vocab) return HEARTH_OK;
        t->build_stats.rebuilds++;
    }
    return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.tokens: the texts keep a probe chain "
                       "longer than %d in the token table under %d seeds", HEARTH_TOK_MAX_PROBE,
                       MAX_REBUILDS);
}

static inline uint32_t mhash(uint64_t seed, uint64_t key) {
    return (uint32_t)hearth_tok_fmix(key ^ seed);
}

int32_t hearth_tok_merge(const hearth_tokenizer *t, int32_t left, int32_t right, int32_t *res) {
    if (!t->merges) return -1;
    uint64_t key = (((uint64_t)(uint32_t)left << 32) | (uint32_t)right) + 1;
    uint32_t h = mhash(t->mseed, key) & t->mmask;
    for (uint32_t k = 0; k < HEARTH_TOK_MAX_PROBE; k++, h = (h + 1) & t->mmask) {
        const struct hearth_tok_merge_ent *e = &t->merges[h];
        if (e->key == key) {
            *res = e->res;
            return e->rank;
        }
        if (e->key == 0) return -1;
    }
    return -1;
}

/* 1: inserted; 0: the pair is already there (the earlier, lower rank
 * stays); -1: the probe chain would pass HEARTH_TOK_MAX_PROBE. */
static int merge_insert(hearth_tokenizer *t, int32_t left, int32_t right, int32_t rank, int32_t res) {
    uint64_t key = (((uint64_t)(uint32_t)left << 32) | (uint32_t)right) + 1;
    uint32_t h = mhash(t->mseed, key) & t->mmask;
    for (uint32_t k = 0; k < HEARTH_TOK_MAX_PROBE; k++, h = (h + 1) & t->mmask) {
        t->build_stats.probes++;
        struct hearth_tok_merge_ent *e = &t->merges[h];
        if (e->key == key) return 0;
        if (e->key == 0) {
            e->key = key;
            e->rank = rank;
            e->res = res;
            return 1;
        }
    }
    return -1;
}

/* Prints at most 40 bytes of s for an error message. */
static void shorten(char *out, size_t cap, const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 32 || c == 127) k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
        else out[k++] = (char)c;
    }
    out[k] = '\0';
}

static hearth_status check_id(int64_t v, const char *what, int32_t n_vocab, int32_t *out,
                              hearth_error *err) {
    if (v == -1) {
        *out = -1;
        return HEARTH_OK;
    }
    if (v < 0 || v >= n_vocab)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "tokenizer.ggml.%s_token_id %lld is outside the vocabulary (%d tokens)",
                           what, (long long)v, n_vocab);
    *out = (int32_t)v;
    return HEARTH_OK;
}

/* Byte of an SPM byte token "<0xNN>", or -1. */
static int parse_byte_token(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static hearth_status build_pieces(hearth_tokenizer *t, hearth_error *err) {
    /* A piece is never longer than its text (byte-level characters are 1-2
     * bytes for one byte, "▁" is 3 bytes for one space, <0xNN> 6 for 1). */
    size_t total = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) total += t->text_len[i] + 1;
    t->piece_blob = hearth_malloc(total ? total : 1);
    t->piece_off = hearth_malloc(sizeof(uint32_t) * (size_t)t->n_vocab);
    t->piece_len = hearth_malloc(sizeof(uint32_t) * (size_t)t->n_vocab);
    if (!t->piece_blob || !t->piece_off || !t->piece_len)
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for pieces");
    /* Reverse of byte_char for code points < 324. */
    int16_t rev[324];
    for (int i = 0; i < 324; i++) rev[i] = -1;
    for (unsigned b = 0; b < 256; b++) rev[byte_char(b)] = (int16_t)b;

    size_t pos = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *s = t->text_blob + t->text_off[id];
        size_t n = t->text_len[id];
        char *o = t->piece_blob + pos;
        size_t k = 0;
        hearth_token_type ty = (hearth_token_type)t->types[id];
        if (ty == HEARTH_TOKEN_UNUSED) {
            /* nothing */
        } else if (ty == HEARTH_TOKEN_NORMAL || ty == HEARTH_TOKEN_UNDEFINED) {
            if (t->model == HEARTH_TOK_SPM) {
                for (size_t i = 0; i < n;) {
                    if (n - i >= 3 && !memcmp(s + i, "\xe2\x96\x81", 3)) {
                        o[k++] = ' ';
                        i += 3;
                    } else {
                        o[k++] = s[i++];
                    }
                }
            } else {
                for (size_t i = 0; i < n;) {
                    uint32_t cp;
                    size_t l = hearth_utf8_decode((const uint8_t *)s + i, n - i, &cp);
                    if (cp < 324 && rev[cp] >= 0) {
                        o[k++] = (char)rev[cp];
                    } else {
                        /* Not a byte-level character: keep it as written. */
                        memcpy(o + k, s + i, l);
                        k += l;
                    }
                    i += l;
                }
            }
        } else if (ty == HEARTH_TOKEN_BYTE && t->model == HEARTH_TOK_SPM) {
            o[k++] = (char)parse_byte_token(s, n);
        } else {
            memcpy(o, s, n);
            k = n;
        }
        o[k] = '\0';
        t->piece_off[id] = (uint32_t)pos;
        t->piece_len[id] = (uint32_t)k;
        pos += k + 1;
    }
    return HEARTH_OK;
}

static hearth_status build_merges(hearth_tokenizer *t, const hearth_tok_src *s, hearth_error *err) {
    if (s->n_merges == 0) return HEARTH_OK;
    if (s->n_merges > HEARTH_TOK_MAX_VOCAB * 4ull)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.merges: %zu merges is too many",
                           s->n_merges);
    uint32_t cap = pow2_at_least(s->n_merges * 2);
    t->mmask = cap - 1;
    t->merges = hearth_calloc(cap, sizeof *t->merges);
    if (!t->merges)
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for merges");
    char *buf = hearth_malloc(HEARTH_TOK_MAX_TOKEN_LEN);
    if (!buf) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for merges");
    hearth_status st = HEARTH_OK;
    char a[64], b[64];
    uint64_t seed = next_seed(t->seed);
    int attempt = 0;
restart:
    t->mseed = seed;
    memset(t->merges, 0, (size_t)cap * sizeof *t->merges);
    for (size_t i = 0; i < s->n_merges; i++) {
        const char *m = s->merges[i];
        size_t n = s->merge_lens[i];
        const char *sp = n > 1 ? memchr(m + 1, ' ', n - 1) : NULL;
        shorten(a, sizeof a, m, n);
        if (!sp) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "tokenizer.ggml.merges[%zu] '%s' is not two tokens separated by a space",
                             i, a);
            break;
        }
        size_t ln = (size_t)(sp - m), rn = n - ln - 1;
        int32_t l = hearth_tok_lookup(t, m, ln), r = hearth_tok_lookup(t, sp + 1, rn);
        if (l < 0 || r < 0) {
            shorten(b, sizeof b, l < 0 ? m : sp + 1, l < 0 ? ln : rn);
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "tokenizer.ggml.merges[%zu] '%s' names '%s', which is not a token",
                             i, a, b);
            break;
        }
        int32_t res = -1;
        if (ln + rn <= HEARTH_TOK_MAX_TOKEN_LEN) {
            memcpy(buf, m, ln);
            memcpy(buf + ln, sp + 1, rn);
            res = hearth_tok_lookup(t, buf, ln + rn);
        }
        if (res < 0) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "tokenizer.ggml.merges[%zu] '%s' makes a token that is not in the "
                             "vocabulary", i, a);
            break;
        }
        /* A merge may only make ordinary text: never a control token, nor
         * a protected one of any type (a chat marker typed normal). */
        hearth_token_type ty = (hearth_token_type)t->types[res];
        if ((ty != HEARTH_TOKEN_NORMAL && ty != HEARTH_TOKEN_UNDEFINED &&
             ty != HEARTH_TOKEN_USER_DEFINED) || t->protect[res])
            continue;
        if (merge_insert(t, l, r, (int32_t)i, res) < 0) {
            t->build_stats.rebuilds++;
            if (++attempt < MAX_REBUILDS) {
                seed = next_seed(seed);
                goto restart;
            }
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.merges: the merges keep a probe "
                             "chain longer than %d under %d seeds", HEARTH_TOK_MAX_PROBE,
                             MAX_REBUILDS);
            break;
        }
    }
    hearth_free(buf);
    return st;
}

static bool is_chat_marker(const char *s, size_t n) {
    for (size_t k = 0; k < sizeof chat_marker_texts / sizeof chat_marker_texts[0]; k++)
        if (strlen(chat_marker_texts[k]) == n && !memcmp(chat_marker_texts[k], s, n)) return true;
    return false;
}

/* protect[id]: never matched in text with parse_special off, and never made
 * by a merge or an SPM symbol. Control and unknown tokens; user-defined ones
 * that end a turn, are a special id or look like a control marker <|...|>;
 * and every token, whatever its type, spelled like a chat template's control
 * token. Needs eog and the special ids. */
static hearth_status build_protect(hearth_tokenizer *t, hearth_error *err) {
    t->protect = hearth_calloc((size_t)t->n_vocab, 1);
    if (!t->protect)
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for special tokens");
    for (int32_t id = 0; id < t->n_vocab; id++) {
        hearth_token_type ty = (hearth_token_type)t->types[id];
        const char *s = t->text_blob + t->text_off[id];
        size_t n = t->text_len[id];
        bool special_id = id == t->bos || id == t->eos || id == t->eot || id == t->pad ||
                          id == t->unk;
        bool marker = n >= 4 && s[0] == '<' && s[1] == '|' && s[n - 2] == '|' && s[n - 1] == '>';
        if (ty == HEARTH_TOKEN_CONTROL || ty == HEARTH_TOKEN_UNKNOWN ||
            (ty == HEARTH_TOKEN_USER_DEFINED && (t->eog[id] || special_id || marker)) ||
            (ty != HEARTH_TOKEN_UNUSED && ty != HEARTH_TOKEN_BYTE && is_chat_marker(s, n)))
            t->protect[id] = 1;
    }
    return HEARTH_OK;
}

/* Tokens matched in text before the encoder runs. */
static bool is_spec(const hearth_tokenizer *t, int32_t id) {
    hearth_token_type ty = (hearth_token_type)t->types[id];
    return t->text_len[id] > 0 && (ty == HEARTH_TOKEN_CONTROL || ty == HEARTH_TOKEN_USER_DEFINED ||
                                   ty == HEARTH_TOKEN_UNKNOWN || t->protect[id]);
}

/* Longest first, then lower id. */
static bool spec_before(hearth_tokenizer *t, int32_t a, int32_t b) {
    t->build_stats.sort_cmps++;
    return t->text_len[a] > t->text_len[b] || (t->text_len[a] == t->text_len[b] && a < b);
}

/* Bottom-up merge sort of v[0..n) with spec_before (tmp: n entries): n log n
 * whatever order a file lists its tokens in. */
static void spec_sort(hearth_tokenizer *t, int32_t *v, int32_t *tmp, size_t n) {
    int32_t *src = v, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = spec_before(t, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        int32_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

static hearth_status build_specials(hearth_tokenizer *t, hearth_error *err) {
    size_t count[256] = {0};
    size_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (is_spec(t, id)) {
            count[(uint8_t)t->text_blob[t->text_off[id]]]++;
            n++;
        }
    }
    t->spec_ids = hearth_malloc(sizeof(int32_t) * (n ? n : 1));
    int32_t *tmp = hearth_malloc(sizeof(int32_t) * (n ? n : 1));
    if (!t->spec_ids || !tmp) {
        hearth_free(tmp);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for special tokens");
    }
    uint32_t acc = 0;
    for (int b = 0; b < 256; b++) {
        t->spec_start[b] = acc;
        acc += (uint32_t)count[b];
    }
    t->spec_start[256] = acc;
    uint32_t fill[256];
    for (int b = 0; b < 256; b++) fill[b] = t->spec_start[b];
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (is_spec(t, id)) t->spec_ids[fill[(uint8_t)t->text_blob[t->text_off[id]]]++] = id;
    for (int b = 0; b < 256; b++)
        spec_sort(t, t->spec_ids + t->spec_start[b], tmp, t->spec_start[b + 1] - t->spec_start[b]);
    hearth_free(tmp);
    return HEARTH_OK;
}

hearth_status hearth_tokenizer_build(const hearth_tok_src *s, hearth_tokenizer **out,
                                     hearth_error *err) {
    *out = NULL;
    hearth_tok_model model;
    if (!s->model)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.model is missing");
    if (!strcmp(s->model, "llama")) model = HEARTH_TOK_SPM;
    else if (!strcmp(s->model, "gpt2")) model = HEARTH_TOK_BPE;
    else
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "unknown tokenizer model '%s' (tokenizer.ggml.model; hearth knows "
                           "'llama' and 'gpt2')", s->model);
    hearth_pre_kind pre = HEARTH_PRE_GPT2;
    const char *pre_name = s->pre ? s->pre : "default";
    if (model == HEARTH_TOK_BPE && !hearth_pre_find(pre_name, &pre))
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "unknown pre-tokenizer '%s' (tokenizer.ggml.pre)", pre_name);
    if (s->n_vocab == 0 || s->n_vocab > HEARTH_TOK_MAX_VOCAB)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.tokens: %zu tokens (must be 1..%d)",
                           s->n_vocab, HEARTH_TOK_MAX_VOCAB);
    if (model == HEARTH_TOK_BPE && s->n_merges == 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.merges is missing or empty "
                           "(a 'gpt2' tokenizer needs it)");

    hearth_tokenizer *t = hearth_calloc(1, sizeof *t);
    if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory");
    hearth_status st = HEARTH_OK;
    t->model = model;
    t->pre = pre;
    snprintf(t->pre_name, sizeof t->pre_name, "%s", model == HEARTH_TOK_SPM ? "" : pre_name);
    t->n_vocab = (int32_t)s->n_vocab;
    size_t nv = s->n_vocab;

    size_t total = 0;
    for (size_t i = 0; i < nv; i++) {
        if (s->token_lens[i] > HEARTH_TOK_MAX_TOKEN_LEN) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.tokens[%zu]: %zu bytes is too long",
                             i, s->token_lens[i]);
            goto fail;
        }
        total += s->token_lens[i] + 1;
    }
    t->text_blob = hearth_malloc(total);
    t->text_off = hearth_malloc(sizeof(uint32_t) * nv);
    t->text_len = hearth_malloc(sizeof(uint32_t) * nv);
    t->scores = hearth_calloc(nv, sizeof(float));
    t->types = hearth_malloc(nv);
    t->eog = hearth_calloc(nv, 1);
    uint32_t hcap = pow2_at_least(nv * 2);
    t->thash = hearth_malloc(sizeof(int32_t) * hcap);
    t->thash_mask = hcap - 1;
    if (!t->text_blob || !t->text_off || !t->text_len || !t->scores || !t->types || !t->eog ||
        !t->thash) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "tokenizer: out of memory for %zu tokens", nv);
        goto fail;
    }
    if (total > UINT32_MAX) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.tokens: texts too large");
        goto fail;
    }
    size_t pos = 0;
    for (size_t i = 0; i < nv; i++) {
        memcpy(t->text_blob + pos, s->tokens[i], s->token_lens[i]);
        t->text_blob[pos + s->token_lens[i]] = '\0';
        t->text_off[i] = (uint32_t)pos;
        t->text_len[i] = (uint32_t)s->token_lens[i];
        pos += s->token_lens[i] + 1;
        int32_t ty = s->types ? s->types[i] : HEARTH_TOKEN_NORMAL;
        if (ty < 0 || ty > HEARTH_TOKEN_BYTE) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.token_type[%zu] = %d is not a "
                             "token type (0..6)", i, (int)ty);
            goto fail;
        }
        t->types[i] = (uint8_t)ty;
        if (s->scores) t->scores[i] = s->scores[i];
    }
    if ((st = build_thash(t, err))) goto fail;

    /* Special ids: the defaults of each model when the keys are absent. */
    int64_t bos = s->bos, eos = s->eos, unk = s->unk;
    if (model == HEARTH_TOK_SPM) {
        if (bos == -1 && nv > 1) bos = 1;
        if (eos == -1 && nv > 2) eos = 2;
        if (unk == -1) unk = 0;
    }
    if ((st = check_id(bos, "bos", t->n_vocab, &t->bos, err)) ||
        (st = check_id(eos, "eos", t->n_vocab, &t->eos, err)) ||
        (st = check_id(unk, "unknown", t->n_vocab, &t->unk, err)) ||
        (st = check_id(s->pad, "padding", t->n_vocab, &t->pad, err)) ||
        (st = check_id(s->eot, "eot", t->n_vocab, &t->eot, err)))
        goto fail;
    int32_t eom = -1;
    if ((st = check_id(s->eom, "eom", t->n_vocab, &eom, err))) goto fail;
    if (t->eot < 0) {
        for (size_t k = 0; k < sizeof eot_texts / sizeof eot_texts[0] && t->eot < 0; k++) {
            int32_t id = hearth_tok_lookup(t, eot_texts[k], strlen(eot_texts[k]));
            if (id >= 0 && (t->types[id] == HEARTH_TOKEN_CONTROL ||
                            t->types[id] == HEARTH_TOKEN_USER_DEFINED))
                t->eot = id;
        }
    }
    if (t->eos >= 0) t->eog[t->eos] = 1;
    if (t->eot >= 0) t->eog[t->eot] = 1;
    if (eom >= 0) t->eog[eom] = 1;
    for (size_t k = 0; k < sizeof eog_texts / sizeof eog_texts[0]; k++) {
        int32_t id = hearth_tok_lookup(t, eog_texts[k], strlen(eog_texts[k]));
        if (id >= 0 && (t->types[id] == HEARTH_TOKEN_CONTROL ||
                        t->types[id] == HEARTH_TOKEN_USER_DEFINED))
            t->eog[id] = 1;
    }

    t->add_bos = s->add_bos >= 0 ? s->add_bos : (model == HEARTH_TOK_SPM ||
                                                 pre == HEARTH_PRE_LLAMA3);
    t->add_eos = s->add_eos >= 0 ? s->add_eos : false;
    t->add_space_prefix = model == HEARTH_TOK_SPM &&
                          (s->add_space_prefix >= 0 ? s->add_space_prefix : true);
    t->ignore_merges = model == HEARTH_TOK_BPE && hearth_pre_ignore_merges(pre);
    if (t->add_bos && t->bos < 0) t->add_bos = false;
    if (t->add_eos && t->eos < 0) t->add_eos = false;

    t->unk_fallback = t->unk >= 0 && (t->types[t->unk] == HEARTH_TOKEN_UNKNOWN ||
                                      (is_normal(t, t->unk) && !is_chat_marker(
                                          t->text_blob + t->text_off[t->unk], t->text_len[t->unk])))
                          ? t->unk : -1;
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    for (size_t i = 0; i < nv; i++) {
        if (t->types[i] != HEARTH_TOKEN_BYTE) continue;
        int v = parse_byte_token(t->text_blob + t->text_off[i], t->text_len[i]);
        if (model == HEARTH_TOK_SPM && v < 0) {
            char a[64];
            shorten(a, sizeof a, t->text_blob + t->text_off[i], t->text_len[i]);
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "token %zu '%s' has type byte but is not <0xNN>",
                             i, a);
            goto fail;
        }
        if (model == HEARTH_TOK_SPM && t->byte_id[v] < 0) t->byte_id[v] = (int32_t)i;
    }
    if (model == HEARTH_TOK_BPE) {
        for (unsigned b = 0; b < 256; b++) {
            char u[4];
            size_t l = hearth_utf8_encode(byte_char(b), u);
            memcpy(t->bc_utf8[b], u, l);
            t->bc_len[b] = (uint8_t)l;
            int32_t id = hearth_tok_lookup(t, u, l);
            /* Only a normal token stands for a byte: a user-defined token
             * with the same text (DeepSeek adds some) means that text. */
            if (id >= 0 && is_normal(t, id)) t->byte_id[b] = id;
        }
        /* Every byte needs a token, or text with it would lose it. Real
         * vocabularies lack some that text rarely or never holds (C0, C1,
         * F5..FF can not occur in UTF-8; Falcon has no 0x03, StarCoder no
         * F1), so those are allowed to be missing and become the unknown
         * token (dropped if there is none); the rest must be there. */
        for (unsigned b = 0; b < 256; b++) {
            if (t->byte_id[b] >= 0) continue;
            bool required = b == '\t' || b == '\n' || b == '\r' || (b >= 0x20 && b <= 0x7E) ||
                            (b >= 0x80 && b <= 0xBF) || (b >= 0xC2 && b <= 0xF0);
            if (required) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                                 "tokenizer: gpt2 vocabulary has no token for byte 0x%02X ('%.*s')",
                                 b, (int)t->bc_len[b], (const char *)t->bc_utf8[b]);
                goto fail;
            }
            t->byte_id[b] = t->unk_fallback;
        }
    }
    if ((st = build_protect(t, err))) goto fail;
    if (model == HEARTH_TOK_BPE && (st = build_merges(t, s, err))) goto fail;
    if ((st = build_pieces(t, err)) || (st = build_specials(t, err))) goto fail;
    *out = t;
    return HEARTH_OK;
fail:
    hearth_tokenizer_free(t);
    return st;
}

const char *hearth_tokenizer_model(const hearth_tokenizer *t) {
    return t->model == HEARTH_TOK_SPM ? "llama" : "gpt2";
}
const char *hearth_tokenizer_pre(const hearth_tokenizer *t) { return t->pre_name; }
int32_t hearth_tokenizer_n_vocab(const hearth_tokenizer *t) { return t->n_vocab; }
int32_t hearth_token_bos(const hearth_tokenizer *t) { return t->bos; }
int32_t hearth_token_eos(const hearth_tokenizer *t) { return t->eos; }
int32_t hearth_token_eot(const hearth_tokenizer *t) { return t->eot; }
int32_t hearth_token_pad(const hearth_tokenizer *t) { return t->pad; }
int32_t hearth_token_unk(const hearth_tokenizer *t) { return t->unk; }
bool hearth_tokenizer_add_bos(const hearth_tokenizer *t) { return t->add_bos; }
bool hearth_tokenizer_add_eos(const hearth_tokenizer *t) { return t->add_eos; }

hearth_token_type hearth_token_get_type(const hearth_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return HEARTH_TOKEN_UNDEFINED;
    return (hearth_token_type)t->types[id];
}

bool hearth_token_is_control(const hearth_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && t->types[id] == HEARTH_TOKEN_CONTROL;
}

bool hearth_token_is_eog(const hearth_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && t->eog[id];
}

int32_t hearth_token_find(const hearth_tokenizer *t, const char *text, size_t len) {
    if (!text) return -1;
    return hearth_tok_lookup(t, text, len);
}

const char *hearth_token_to_piece(const hearth_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->piece_len[id];
    return t->piece_blob + t->piece_off[id];
}

const char *hearth_token_text(const hearth_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->text_len[id];
    return t->text_blob + t->text_off[id];
}
