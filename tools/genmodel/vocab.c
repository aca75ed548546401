/*
 * vocab.c: the tokenizer written into a generated model.
 *
 * Either copied: every tokenizer.* key of a vocab GGUF (such as llama.cpp's
 * ggml-vocab-*.gguf), unchanged, and n_vocab is its token count; or
 * generated: a GPT-2 style byte-level BPE vocabulary of exactly n_vocab
 * tokens, laid out as
 *   ids 0..255          the 256 bytes, spelled through GPT-2's
 *                       bytes-to-unicode map, in GPT-2's order (printable
 *                       bytes first);
 *   ids 256..n_vocab-4  merge results, each with its merge in
 *                       tokenizer.ggml.merges (rank = position): first merges
 *                       learned by plain BPE from the built-in English text
 *                       below (most frequent pair first, ties to the smallest
 *                       id pair), then, when the text has no pair left that
 *                       occurs twice, synthetic merges "token + letter" over
 *                       the existing tokens in id order;
 *   the last three      <|endoftext|>, <|im_start|>, <|im_end|> (type 3,
 *                       control; every other token is type 1, normal).
 * Invariant: both parts of every merge and its result are tokens with lower
 * ids than any later merge's result; no two tokens have the same spelling.
 * bos = padding = <|endoftext|>, eos = <|im_end|>; add_bos_token is true for
 * llama and false for qwen2 (as Qwen2.5 ships); tokenizer.ggml.pre is "qwen2"
 * for qwen2 and "default" (the GPT-2 split) for llama; the chat template is
 * ChatML.
 */
#include "genmodel.h"
#include "quant/quantize.h"
#include "rng.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

static const char train_text[] =
    "The old house stood at the end of the lane, where the road turned into a path "
    "and the path turned into the woods. In winter the family gathered around the "
    "hearth in the evening, and the fire was the center of the home. They told "
    "stories, they read letters from friends who lived far away, and they wrote "
    "down what they wanted to remember in a small book that was kept on the shelf "
    "beside the clock. Nothing in that book ever left the house unless they chose "
    "to share it. The children learned that a secret is a thing you keep, and a "
    "promise is a thing you keep as well.\n"
    "When the weather was good, the father worked in the garden and the mother "
    "walked to the market in the town. She bought bread, cheese, apples and "
    "candles, and she always stopped to talk with the people she knew. The town "
    "had a library, a school, a bakery and a small station where the train came "
    "twice a day. People said that the train was never late, and that the baker "
    "was never early, and both of these things were true.\n"
    "One morning a letter arrived with a question that nobody could answer at "
    "once. The question was simple: what would you do if you could ask any "
    "question and get a true answer? The children thought about it for days. "
    "The oldest said she would ask how the stars were made. The youngest said he "
    "would ask where the cat went every night. Their father said he would ask "
    "nothing, because the fun of a question is in the looking, not in the answer. "
    "Their mother laughed and said that she would ask the answer to the question "
    "in the letter, so that she could finally reply to it.\n"
    "Years later, the house still stands. The garden is smaller, the lane is "
    "paved, and the train comes every hour. The book is still on the shelf, and "
    "it is full now. Each page holds a day: the weather, the work, a few words "
    "about what was said at dinner. It is not a great book, but it is their own, "
    "and when they read it they remember who they were. That is what a home is "
    "for: a place where the things that matter are kept safe, close to the fire, "
    "and shared only with those who are invited in.\n"
    "Questions for the reader: How many times a day does the train come now? "
    "What did the youngest child want to know? Why did the father want to ask "
    "nothing? Write your answers in 3 or 4 sentences, and don't forget to say "
    "what you would ask. We'll read them together, and we're sure you've got "
    "good ideas. It's your turn: I'd like to hear what you think.\n";

static const char chatml_template[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt "
    "%}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/* Hand-written templates in each family's layout (hearth never runs them:
 * it recognizes the family by marker strings, agent/template.c). */
static const char qwen3_template[] =
    "{%- for message in messages %}{%- set content = message['content'] %}"
    "{%- if message['role'] == 'assistant' and '</think>' in content %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";
static const char gemma_template[] =
    "{{ bos_token }}{% for message in messages %}{% set role = message['role'] %}"
    "{% if role == 'assistant' %}{% set role = 'model' %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";
static const char phi3_template[] =
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + "
    "'<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}"
    "{% endif %}";
static const char llama3_template[] =
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}";

/* A flavour's special tokens (appended after the normal ones, type 3
 * control unless user[i]), which of them are bos/eos/eot (index), and its
 * tokenizer keys. */
typedef struct {
    const char *tok[6];
    bool user[6]; /* type 4, user-defined: shown in output (Qwen3's think tags) */
    int n, bos, eos, eot; /* eot -1: none */
    const char *pre;      /* NULL: "qwen2" for qwen2, else "default" */
    int add_bos;          /* -1: true for llama */
    const char *tmpl;
} flavour;

static const flavour flavours[GM_CHAT_COUNT] = {
    [GM_CHAT_CHATML] = {{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, {0}, 3, 0, 2, -1, NULL, -1,
                        chatml_template},
    [GM_CHAT_QWEN3] = {{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"},
                       {0, 0, 0, 1, 1}, 5, 0, 2, -1, "qwen2", 0, qwen3_template},
    [GM_CHAT_GEMMA] = {{"<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"}, {0}, 4, 0, 1, 3,
                       "default", 1, gemma_template},
    [GM_CHAT_PHI3] = {{"<|endoftext|>", "<|assistant|>", "<|end|>", "<|system|>", "<|user|>"}, {0}, 5,
                      0, 0, 2, "default", 0, phi3_template},
    [GM_CHAT_LLAMA3] = {{"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                         "<|end_header_id|>", "<|eot_id|>"},
                        {0}, 5, 0, 4, 4, "llama-bpe", 1, llama3_template},
};

/* Letters in English frequency order, for the synthetic merges. */
static const char synth_letters[] = "etaoinsrhldcumfpgwybvkxjqz";

struct gm_vocab {
    int64_t n;
    /* copied */
    hearth_gguf *src;
    /* generated */
    gm_arch arch;
    const flavour *fl;
    char **tok;       /* (n_tok) spellings, NUL-terminated */
    int64_t n_tok;    /* slots in tok (n once complete) */
    int32_t *type;    /* (n) */
    char **merges;    /* (n_merges) "left right" */
    int64_t n_merges, cap_merges;
};

/* ---- bytes-to-unicode ------------------------------------------------------ */

/* GPT-2's map: printable bytes stand for themselves, the other 68 bytes map
 * to U+0100.. in byte order. cp[b] is byte b's code point; order[i] is the
 * byte of token id i. */
static void byte_map(uint32_t cp[256], uint8_t order[256]) {
    int n = 0, extra = 0;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        if (printable) {
            cp[b] = (uint32_t)b;
            order[n++] = (uint8_t)b;
        }
    }
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        if (!printable) {
            cp[b] = 256u + (uint32_t)extra++;
            order[n++] = (uint8_t)b;
        }
    }
}

/* ---- a set of byte strings -> token id ------------------------------------ */

typedef struct {
    uint8_t **raw;   /* (n) token bytes, by id */
    uint32_t *len;   /* (n) */
    int64_t n, cap;
    int64_t *slot;   /* (nslot) id + 1, 0 = empty */
    uint64_t nslot;  /* power of two, > 2 * cap */
} strset;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static int64_t set_find(const strset *s, const uint8_t *p, size_t n, uint64_t *pos) {
    uint64_t i = hash_bytes(p, n) & (s->nslot - 1);
    for (;; i = (i + 1) & (s->nslot - 1)) {
        int64_t v = s->slot[i];
        if (!v) break;
        if (s->len[v - 1] == n && !memcmp(s->raw[v - 1], p, n)) {
            *pos = i;
            return v - 1;
        }
    }
    *pos = i;
    return -1;
}

/* Adds the bytes as token s->n (the caller checked they are absent and that
 * there is room); returns the id or -1 on allocation failure. */
static int64_t set_add(strset *s, const uint8_t *p, size_t n, uint64_t pos) {
    uint8_t *copy = hearth_malloc(n);
    if (!copy) return -1;
    memcpy(copy, p, n);
    s->raw[s->n] = copy;
    s->len[s->n] = (uint32_t)n;
    s->slot[pos] = s->n + 1;
    return s->n++;
}

static void set_free(strset *s) {
    if (s->raw)
        for (int64_t i = 0; i < s->n; i++) hearth_free(s->raw[i]);
    hearth_free(s->raw);
    hearth_free(s->len);
    hearth_free(s->slot);
}

/* ---- pre-tokenized training words ----------------------------------------- */

typedef struct {
    int32_t *sym;   /* token ids */
    int32_t n;
    int32_t freq;
} word;

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_space(int c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Length of the pre-token at t[i..n), an ASCII version of the GPT-2/Qwen2
 * split: contractions, " ?letters", single digits, " ?punctuation", and
 * whitespace (leaving the last space of a run to the next word). */
static size_t pretoken_len(const char *t, size_t i, size_t n) {
    size_t j = i;
    char c = t[i];
    if (c == '\'' && i + 1 < n) {
        const char *two[] = {"re", "ve", "ll"};
        for (int k = 0; k < 3; k++)
            if (i + 2 < n && t[i + 1] == two[k][0] && t[i + 2] == two[k][1]) return 3;
        if (strchr("stmd", t[i + 1])) return 2;
    }
    if (c == ' ' && i + 1 < n && !is_space(t[i + 1])) j++;
    if (j < n && is_alpha(t[j])) {
        while (j < n && is_alpha(t[j])) j++;
        return j - i;
    }
    if (j < n && is_digit(t[j])) return j + 1 - i;
    if (j < n && !is_space(t[j])) {
        while (j < n && !is_space(t[j]) && !is_alpha(t[j]) && !is_digit(t[j])) j++;
        return j - i;
    }
    j = i;
    while (j < n && is_space(t[j])) j++;
    if (j - i > 1 && j < n) j--;
    return j - i;
}

/* ---- the generated vocabulary --------------------------------------------- */

typedef struct {
    strset set;
    word *words;
    int64_t n_words;
    uint32_t cp[256];
    uint8_t order[256];
    int32_t id_of_byte[256];
    gm_vocab *v;
} builder;

/* UTF-8 spelling of raw bytes through the byte map; owned. */
static char *spell(const builder *b, const uint8_t *p, size_t n) {
    char *s = hearth_malloc(2 * n + 1), *o = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = b->cp[p[i]];
        if (c < 0x80) {
            *o++ = (char)c;
        } else {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    *o = '\0';
    return s;
}

/* Records merge (a, b) -> the token with bytes raw[a]+raw[b], adding that
 * token if new. Returns its id, or -1 on allocation failure. */
static int64_t add_merge(builder *b, int64_t a, int64_t c) {
    strset *s = &b->set;
    gm_vocab *v = b->v;
    size_t la = s->len[a], lc = s->len[c];
    uint8_t *cat = hearth_malloc(la + lc);
    if (!cat) return -1;
    memcpy(cat, s->raw[a], la);
    memcpy(cat + la, s->raw[c], lc);
    uint64_t pos;
    int64_t id = set_find(s, cat, la + lc, &pos);
    if (id < 0) id = set_add(s, cat, la + lc, pos);
    hearth_free(cat);
    if (id < 0) return -1;

    if (v->n_merges == v->cap_merges) {
        int64_t cap = v->cap_merges ? 2 * v->cap_merges : 1024;
        char **m = hearth_realloc(v->merges, (size_t)cap * sizeof *m);
        if (!m) return -1;
        v->merges = m;
        v->cap_merges = cap;
    }
    char *sa = spell(b, s->raw[a], la), *sc = spell(b, s->raw[c], lc);
    char *line = sa && sc ? hearth_malloc(strlen(sa) + strlen(sc) + 2) : NULL;
    if (line) sprintf(line, "%s %s", sa, sc);
    hearth_free(sa);
    hearth_free(sc);
    if (!line) return -1;
    v->merges[v->n_merges++] = line;
    return id;
}

static hearth_status split_words(builder *b, hearth_error *err) {
    size_t n = sizeof train_text - 1, cap = 0;
    strset seen = {0};
    seen.cap = 4096;
    seen.nslot = 16384;
    seen.raw = hearth_calloc((size_t)seen.cap, sizeof *seen.raw);
    seen.len = hearth_calloc((size_t)seen.cap, sizeof *seen.len);
    seen.slot = hearth_calloc(seen.nslot, sizeof *seen.slot);
    hearth_status st = HEARTH_OK;
    if (!seen.raw || !seen.len || !seen.slot) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: word table");
        goto done;
    }
    for (size_t i = 0; i < n;) {
        size_t l = pretoken_len(train_text, i, n);
        const uint8_t *p = (const uint8_t *)train_text + i;
        i += l;
        uint64_t pos;
        int64_t w = set_find(&seen, p, l, &pos);
        if (w >= 0) {
            b->words[w].freq++;
            continue;
        }
        if (b->n_words == (int64_t)cap) {
            size_t ncap = cap ? 2 * cap : 512;
            word *nw = hearth_realloc(b->words, ncap * sizeof *nw);
            if (!nw) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: word table");
                goto done;
            }
            b->words = nw;
            cap = ncap;
        }
        if (seen.n == seen.cap || set_add(&seen, p, l, pos) < 0) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: word table");
            goto done;
        }
        word *wd = &b->words[b->n_words];
        wd->sym = hearth_malloc(l * sizeof(int32_t));
        if (!wd->sym) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: word table");
            goto done;
        }
        b->n_words++;
        wd->n = (int32_t)l;
        wd->freq = 1;
        for (size_t k = 0; k < l; k++) wd->sym[k] = b->id_of_byte[p[k]];
    }
done:
    set_free(&seen);
    return st;
}

/* Learns merges from the words until n_normal tokens exist or no pair occurs
 * twice. Pair counts are recounted from scratch each round: the text is
 * small (a few thousand symbols), so this stays in the milliseconds. */
static hearth_status learn_merges(builder *b, int64_t n_normal, hearth_error *err) {
    int64_t total = 0;
    for (int64_t i = 0; i < b->n_words; i++) total += b->words[i].n;
    uint64_t nslot = 1;
    while (nslot < 2 * (uint64_t)total + 2) nslot <<= 1;
    uint64_t *key = hearth_malloc(nslot * sizeof *key); /* (a << 32 | b) + 1, 0 = empty */
    int64_t *cnt = hearth_malloc(nslot * sizeof *cnt);
    hearth_status st = HEARTH_OK;
    if (!key || !cnt) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: pair table");
        goto done;
    }
    while (b->set.n < n_normal) {
        memset(key, 0, nslot * sizeof *key);
        uint64_t best = 0;
        int64_t best_cnt = 0;
        for (int64_t w = 0; w < b->n_words; w++) {
            const word *wd = &b->words[w];
            for (int32_t k = 0; k + 1 < wd->n; k++) {
                uint64_t kv = ((uint64_t)(uint32_t)wd->sym[k] << 32 | (uint32_t)wd->sym[k + 1]) + 1;
                uint64_t i = gm_mix64(kv) & (nslot - 1);
                while (key[i] && key[i] != kv) i = (i + 1) & (nslot - 1);
                if (!key[i]) {
                    key[i] = kv;
                    cnt[i] = 0;
                }
                cnt[i] += wd->freq;
                if (cnt[i] > best_cnt || (cnt[i] == best_cnt && kv < best)) {
                    best = kv;
                    best_cnt = cnt[i];
                }
            }
        }
        if (best_cnt < 2) break;
        int64_t a = (int64_t)((best - 1) >> 32), c = (int64_t)((best - 1) & 0xffffffffu);
        int64_t id = add_merge(b, a, c);
        if (id < 0) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: merge");
            goto done;
        }
        for (int64_t w = 0; w < b->n_words; w++) {
            word *wd = &b->words[w];
            int32_t o = 0;
            for (int32_t k = 0; k < wd->n; k++) {
                if (k + 1 < wd->n && wd->sym[k] == a && wd->sym[k + 1] == c) {
                    wd->sym[o++] = (int32_t)id;
                    k++;
                } else {
                    wd->sym[o++] = wd->sym[k];
                }
            }
            wd->n = o;
        }
    }
done:
    hearth_free(key);
    hearth_free(cnt);
    return st;
}

/* Fills up to n_normal tokens with merges "token + letter" over the tokens in
 * id order, skipping spellings that exist. */
static hearth_status synth_merges(builder *b, int64_t n_normal, hearth_error *err) {
    for (int64_t a = 0; b->set.n < n_normal; a++) {
        if (a >= b->set.n)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "vocabulary: ran out of merge candidates");
        for (const char *l = synth_letters; *l && b->set.n < n_normal; l++) {
            int64_t c = b->id_of_byte[(uint8_t)*l];
            size_t la = b->set.len[a];
            uint8_t buf[256];
            if (la + 1 > sizeof buf) continue;
            memcpy(buf, b->set.raw[a], la);
            buf[la] = (uint8_t)*l;
            uint64_t pos;
            if (set_find(&b->set, buf, la + 1, &pos) >= 0) continue;
            if (add_merge(b, a, c) < 0)
                return HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: merge");
        }
    }
    return HEARTH_OK;
}

static hearth_status generate(gm_vocab *v, int64_t n_vocab, hearth_error *err) {
    int nc = v->fl->n;
    int64_t n_normal = n_vocab - nc;
    if (n_normal < 256)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "n_vocab %lld: a generated vocabulary needs at least %d tokens "
                           "(256 bytes and %d control tokens)",
                           (long long)n_vocab, 256 + nc, nc);
    builder b = {.v = v};
    hearth_status st = HEARTH_OK;
    b.set.cap = n_normal;
    b.set.nslot = 1;
    while (b.set.nslot < 2 * (uint64_t)n_normal + 2) b.set.nslot <<= 1;
    b.set.raw = hearth_calloc((size_t)n_normal, sizeof *b.set.raw);
    b.set.len = hearth_calloc((size_t)n_normal, sizeof *b.set.len);
    b.set.slot = hearth_calloc(b.set.nslot, sizeof *b.set.slot);
    v->tok = hearth_calloc((size_t)n_vocab, sizeof *v->tok);
    v->type = hearth_calloc((size_t)n_vocab, sizeof *v->type);
    if (v->tok) v->n_tok = n_vocab;
    if (!b.set.raw || !b.set.len || !b.set.slot || !v->tok || !v->type) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary of %lld tokens", (long long)n_vocab);
        goto done;
    }
    byte_map(b.cp, b.order);
    for (int i = 0; i < 256; i++) {
        uint64_t pos;
        set_find(&b.set, &b.order[i], 1, &pos);
        if (set_add(&b.set, &b.order[i], 1, pos) < 0) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: byte tokens");
            goto done;
        }
        b.id_of_byte[b.order[i]] = i;
    }
    if ((st = split_words(&b, err)) || (st = learn_merges(&b, n_normal, err)) ||
        (st = synth_merges(&b, n_normal, err)))
        goto done;
    for (int64_t i = 0; i < n_normal; i++) {
        v->tok[i] = spell(&b, b.set.raw[i], b.set.len[i]);
        v->type[i] = 1;
        if (!v->tok[i]) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: token spelling");
            goto done;
        }
    }
    for (int k = 0; k < nc; k++) {
        v->tok[n_normal + k] = hearth_strdup(v->fl->tok[k]);
        v->type[n_normal + k] = v->fl->user[k] ? 4 : 3;
        if (!v->tok[n_normal + k]) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary: token spelling");
            goto done;
        }
    }
    v->n = n_vocab;
done:
    set_free(&b.set);
    for (int64_t i = 0; i < b.n_words; i++) hearth_free(b.words[i].sym);
    hearth_free(b.words);
    return st;
}

/* ---- public -------------------------------------------------------------- */

hearth_status gm_vocab_new(const gm_config *cfg, gm_vocab **out, hearth_error *err) {
    *out = NULL;
    gm_vocab *v = hearth_calloc(1, sizeof *v);
    if (!v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary");
    v->arch = cfg->arch;
    v->fl = &flavours[cfg->chat];
    hearth_status st;
    if (cfg->vocab_path) {
        st = hearth_gguf_open(cfg->vocab_path, &v->src, err);
        if (st) {
            hearth_error_prefix(err, "--vocab %s", cfg->vocab_path);
            goto fail;
        }
        hearth_gguf_value val;
        st = hearth_gguf_get_arr(v->src, "tokenizer.ggml.tokens", &val, NULL, err);
        if (st) {
            hearth_error_prefix(err, "--vocab %s", cfg->vocab_path);
            goto fail;
        }
        if (val.elem_type != HEARTH_GGUF_STRING || val.n == 0 || val.n > INT32_MAX) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "--vocab %s: tokenizer.ggml.tokens is not a non-empty string array",
                             cfg->vocab_path);
            goto fail;
        }
        v->n = (int64_t)val.n;
    } else {
        st = generate(v, cfg->n_vocab, err);
        if (st) goto fail;
    }
    *out = v;
    return HEARTH_OK;
fail:
    gm_vocab_free(v);
    return st;
}

void gm_vocab_free(gm_vocab *v) {
    if (!v) return;
    hearth_gguf_free(v->src);
    for (int64_t i = 0; i < v->n_tok; i++) hearth_free(v->tok[i]);
    hearth_free(v->tok);
    hearth_free(v->type);
    for (int64_t i = 0; i < v->n_merges; i++) hearth_free(v->merges[i]);
    hearth_free(v->merges);
    hearth_free(v);
}

int64_t gm_vocab_n(const gm_vocab *v) { return v->n; }

hearth_status gm_vocab_write(const gm_vocab *v, hearth_gguf_writer *w, hearth_error *err) {
    hearth_status st;
    if (v->src) {
        for (int64_t i = 0; i < hearth_gguf_n_kv(v->src); i++) {
            const char *key = hearth_gguf_kv_key(v->src, i);
            if (strncmp(key, "tokenizer.", 10)) continue;
            if ((st = hearth_quant_copy_kv(v->src, i, w, err))) return st;
        }
        return HEARTH_OK;
    }
    const flavour *fl = v->fl;
    int64_t n_normal = v->n - fl->n;
    uint32_t bos = (uint32_t)(n_normal + fl->bos), eos = (uint32_t)(n_normal + fl->eos);
    const char *pre = fl->pre ? fl->pre : v->arch == GM_ARCH_QWEN2 ? "qwen2" : "default";
    bool add_bos = fl->add_bos >= 0 ? fl->add_bos : v->arch == GM_ARCH_LLAMA;
    if (fl->eot >= 0 &&
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)(n_normal + fl->eot),
                                         err)))
        return st;
    if ((st = hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err)) ||
        (st = hearth_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, err)) ||
        (st = hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens",
                                             (const char *const *)v->tok, NULL, (uint64_t)v->n,
                                             err)) ||
        (st = hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32,
                                         v->type, (uint64_t)v->n, err)) ||
        (st = hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges",
                                             (const char *const *)v->merges, NULL,
                                             (uint64_t)v->n_merges, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", bos, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", eos, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", bos, err)) ||
        (st = hearth_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos, err)) ||
        (st = hearth_gguf_writer_set_str(w, "tokenizer.chat_template", fl->tmpl, err)))
        return st;
    return HEARTH_OK;
}
