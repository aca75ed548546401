/*
 * bert.c: hearth-genmodel --arch bert: random-weight BERT encoders (embedding
 * models) with llama.cpp's tensor names and metadata keys, for tests:
 *
 *   hearth-genmodel --arch bert [--preset bert-tiny|minilm|bge-small]
 *       [--type F32|F16|BF16|Q8_0|Q4_0|...] [--pooling mean|cls]
 *       [--vocab FILE.gguf] [--seed N] [-q] -o FILE.gguf
 *
 * Presets: bert-tiny (32 wide, 2 layers, 4 heads, ff 64, 128 positions,
 * mean pooling); minilm, shaped like all-MiniLM-L6-v2 (384, 6 layers, 12
 * heads, ff 1536, 512 positions, mean); bge-small, like bge-small-en-v1.5
 * (384, 12 layers, 12 heads, ff 1536, 512 positions, CLS pooling).
 *
 * Tensors, GGUF order [row length, rows]:
 *   token_embd.weight [E, V]  token_types.weight [E, 2]  position_embd.weight [E, ctx]
 *   token_embd_norm.weight/.bias [E]
 *   blk.N.attn_q/attn_k/attn_v/attn_output.weight [E, E] .bias [E]
 *   blk.N.attn_output_norm.weight/.bias [E]
 *   blk.N.ffn_up.weight [E, F] .bias [F]   blk.N.ffn_down.weight [F, E] .bias [E]
 *   blk.N.layer_output_norm.weight/.bias [E]
 * Matrices (and the three embeddings) take --type (with llama.cpp's fallback
 * when rows do not fit its blocks); norms and biases are F32. Values follow
 * model.c's scheme (matrices 0 +- 1/sqrt(fan-in), q/k with GM_QK_GAIN, norms
 * 1 +- GM_NORM_STD, biases 0 +- GM_BIAS_STD).
 *
 * The vocabulary is a WordPiece one ("bert" tokenizer model, as llama.cpp's
 * converter writes it: word starts with "▁", continuations bare): copied
 * from --vocab, or generated: [PAD] [UNK] [CLS] [SEP] [MASK], "▁c" and "c"
 * for every printable ASCII character but capitals, a few common words and
 * pieces, then "▁wN" fillers up to the preset's vocabulary size.
 */
#include "genmodel.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int64_t n_embd, n_layer, n_head, n_ff, n_ctx, n_vocab;
    int pooling; /* 1 mean, 2 cls */
} bert_preset;

static const bert_preset presets[] = {
    {"bert-tiny", 32, 2, 4, 64, 128, 512, 1},
    {"minilm", 384, 6, 12, 1536, 512, 30522, 1},
    {"bge-small", 384, 12, 12, 1536, 512, 30522, 2},
};

typedef struct {
    char **tok;
    int32_t *type;
    int64_t n, cap;
} wp_vocab;

static bool wp_add(wp_vocab *v, const char *s, int32_t type) {
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 1024;
        char **t = hearth_realloc(v->tok, (size_t)cap * sizeof *t);
        if (!t) return false;
        v->tok = t;
        int32_t *ty = hearth_realloc(v->type, (size_t)cap * sizeof *ty);
        if (!ty) return false;
        v->type = ty;
        v->cap = cap;
    }
    if (!(v->tok[v->n] = hearth_strdup(s))) return false;
    v->type[v->n++] = type;
    return true;
}

static void wp_free(wp_vocab *v) {
    for (int64_t i = 0; i < v->n; i++) hearth_free(v->tok[i]);
    hearth_free(v->tok);
    hearth_free(v->type);
}

/* ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4 */
static hearth_status wp_generate(wp_vocab *v, int64_t n_vocab, hearth_error *err) {
    static const char *const special[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    static const char *const words[] = {"▁the", "▁hello", "▁world", "▁notes", "▁search", "▁cat",
                                        "▁dog", "▁meeting", "▁tomorrow", "ing", "ed", "er", "s",
                                        "▁is", "▁a", "▁of", "▁and", "▁to"};
    bool ok = true;
    for (int i = 0; i < 5; i++) ok = ok && wp_add(v, special[i], i == 1 ? 2 : 3);
    char s[32];
    for (int c = 0x21; c < 0x7F; c++) {
        if (c >= 'A' && c <= 'Z') continue;
        snprintf(s, sizeof s, "\xe2\x96\x81%c", c);
        ok = ok && wp_add(v, s, 1);
        snprintf(s, sizeof s, "%c", c);
        ok = ok && wp_add(v, s, 1);
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) ok = ok && wp_add(v, words[i], 1);
    if (ok && v->n > n_vocab)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "a generated WordPiece vocabulary needs %lld tokens",
                           (long long)v->n);
    for (int64_t k = 0; ok && v->n < n_vocab; k++) {
        snprintf(s, sizeof s, "\xe2\x96\x81w%lld", (long long)k);
        ok = wp_add(v, s, 1);
    }
    return ok ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "vocabulary");
}

static hearth_status wp_write(const wp_vocab *v, hearth_gguf_writer *w, hearth_error *err) {
    hearth_status st;
    if ((st = hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert", err)) ||
        (st = hearth_gguf_writer_set_str(w, "tokenizer.ggml.pre", "bert-bge", err)) ||
        (st = hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens",
                                             (const char *const *)v->tok, NULL, (uint64_t)v->n,
                                             err)) ||
        (st = hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32,
                                         v->type, (uint64_t)v->n, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.token_type_count", 2, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 0, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 1, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.cls_token_id", 2, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", 3, err)) ||
        (st = hearth_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", 4, err)))
        return st;
    return HEARTH_OK;
}

typedef struct {
    char name[64];
    int64_t ne[2];
    uint32_t n_dims;
    hearth_type type;
    float mean, std;
    void *data;
    size_t nbytes;
} bt_tensor;

typedef struct {
    bt_tensor t[16 + 16 * 64];
    int n;
} bt_list;

static void add(bt_list *l, const char *name, int64_t ne0, int64_t ne1, hearth_type type,
                float gain) {
    bt_tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    if (ne1 == 0) {
        bool norm = strstr(name, "norm") != NULL;
        t->n_dims = 1;
        t->ne[1] = 1;
        t->type = HEARTH_TYPE_F32;
        t->mean = norm ? 1.0f : 0.0f;
        t->std = norm ? GM_NORM_STD : GM_BIAS_STD;
    } else {
        t->n_dims = 2;
        t->type = gm_fallback_type(type, ne0);
        t->std = gain * (float)(1.0 / sqrt((double)ne0));
    }
}

static int usage(void) {
    fprintf(stderr, "usage: hearth-genmodel --arch bert [--preset bert-tiny|minilm|bge-small] "
                    "[--type TYPE] [--pooling mean|cls] [--vocab FILE.gguf] [--seed N] [-q] "
                    "-o FILE.gguf\n");
    return 2;
}

int gm_bert_main(int argc, char **argv) {
    const char *pname = "bert-tiny", *type_name = "F32", *out = NULL, *vocab = NULL, *pool = NULL;
    uint64_t seed = 1;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { quiet = true; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (i + 1 >= argc) return usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--arch")) continue;
        else if (!strcmp(a, "--preset")) pname = v;
        else if (!strcmp(a, "--type")) type_name = v;
        else if (!strcmp(a, "--pooling")) pool = v;
        else if (!strcmp(a, "--vocab")) vocab = v;
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = v;
        else {
            fprintf(stderr, "hearth-genmodel: --arch bert: unknown flag %s\n", a);
            return usage();
        }
    }
    const bert_preset *p = NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(pname, presets[i].name)) p = &presets[i];
    hearth_type type;
    if (!p || !out || !gm_type_parse(type_name, &type)) {
        fprintf(stderr, "hearth-genmodel: --arch bert: %s\n", !p ? "unknown --preset" : !out
                ? "-o FILE is required" : "unknown --type");
        return usage();
    }
    int pooling = p->pooling;
    if (pool) {
        if (!strcmp(pool, "mean")) pooling = 1;
        else if (!strcmp(pool, "cls")) pooling = 2;
        else return usage();
    }
    hearth_error err;
    hearth_error_clear(&err);
    hearth_status st = HEARTH_OK;
    wp_vocab wv = {0};
    gm_vocab *copied = NULL;
    int64_t n_vocab = p->n_vocab;
    if (vocab) {
        gm_config vc;
        memset(&vc, 0, sizeof vc);
        vc.vocab_path = vocab;
        st = gm_vocab_new(&vc, &copied, &err);
        if (!st) n_vocab = gm_vocab_n(copied);
    } else {
        st = wp_generate(&wv, p->n_vocab, &err);
    }
    bt_list *l = hearth_calloc(1, sizeof *l);
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    if (!st && (!l || !w)) st = HEARTH_FAIL(&err, HEARTH_E_NOMEM, "out of memory");
    int64_t E = p->n_embd, F = p->n_ff;
    if (!st) {
        char nm[64];
        add(l, "token_embd.weight", E, n_vocab, type, 1.0f);
        add(l, "token_types.weight", E, 2, type, 1.0f);
        add(l, "position_embd.weight", E, p->n_ctx, type, 1.0f);
        add(l, "token_embd_norm.weight", E, 0, type, 0);
        add(l, "token_embd_norm.bias", E, 0, type, 0);
        for (int64_t il = 0; il < p->n_layer; il++) {
            static const struct { const char *s; int kind; } parts[] = {
                {"attn_q", 1}, {"attn_k", 1}, {"attn_v", 0}, {"attn_output", 0}};
            for (int k = 0; k < 4; k++) {
                snprintf(nm, sizeof nm, "blk.%lld.%s.weight", (long long)il, parts[k].s);
                add(l, nm, E, E, type, parts[k].kind ? GM_QK_GAIN : 1.0f);
                snprintf(nm, sizeof nm, "blk.%lld.%s.bias", (long long)il, parts[k].s);
                add(l, nm, E, 0, type, 0);
            }
            snprintf(nm, sizeof nm, "blk.%lld.attn_output_norm.weight", (long long)il);
            add(l, nm, E, 0, type, 0);
            snprintf(nm, sizeof nm, "blk.%lld.attn_output_norm.bias", (long long)il);
            add(l, nm, E, 0, type, 0);
            snprintf(nm, sizeof nm, "blk.%lld.ffn_up.weight", (long long)il);
            add(l, nm, E, F, type, 1.0f);
            snprintf(nm, sizeof nm, "blk.%lld.ffn_up.bias", (long long)il);
            add(l, nm, F, 0, type, 0);
            snprintf(nm, sizeof nm, "blk.%lld.ffn_down.weight", (long long)il);
            add(l, nm, F, E, type, 1.0f);
            snprintf(nm, sizeof nm, "blk.%lld.ffn_down.bias", (long long)il);
            add(l, nm, E, 0, type, 0);
            snprintf(nm, sizeof nm, "blk.%lld.layer_output_norm.weight", (long long)il);
            add(l, nm, E, 0, type, 0);
            snprintf(nm, sizeof nm, "blk.%lld.layer_output_norm.bias", (long long)il);
            add(l, nm, E, 0, type, 0);
        }
    }
    char gname[96];
    snprintf(gname, sizeof gname, "genmodel-%s", p->name);
    if (!st &&
        ((st = hearth_gguf_writer_set_str(w, "general.architecture", "bert", &err)) ||
         (st = hearth_gguf_writer_set_str(w, "general.name", gname, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "general.alignment", 32, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.context_length", (uint32_t)p->n_ctx, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.embedding_length", (uint32_t)E, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.feed_forward_length", (uint32_t)F, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.block_count", (uint32_t)p->n_layer, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.attention.head_count", (uint32_t)p->n_head, &err)) ||
         (st = hearth_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", 1e-12f, &err)) ||
         (st = hearth_gguf_writer_set_bool(w, "bert.attention.causal", false, &err)) ||
         (st = hearth_gguf_writer_set_u32(w, "bert.pooling_type", (uint32_t)pooling, &err)))) {
        /* st says what failed */
    }
    if (!st) st = copied ? gm_vocab_write(copied, w, &err) : wp_write(&wv, w, &err);
    for (int i = 0; !st && i < l->n; i++) {
        bt_tensor *t = &l->t[i];
        size_t row = hearth_type_row_size(t->type, t->ne[0]);
        t->nbytes = row * (size_t)t->ne[1];
        if (!row || !(t->data = hearth_malloc(t->nbytes))) {
            st = HEARTH_FAIL(&err, HEARTH_E_NOMEM, "tensor '%s'", t->name);
            break;
        }
        gm_fill f = {.name = t->name, .type = t->type, .ne0 = t->ne[0], .nrows = t->ne[1],
                     .mean = t->mean, .std = t->std, .seed = seed, .n_threads = 2};
        if ((st = gm_fill_tensor(&f, t->data, &err)) ||
            (st = hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                                t->nbytes, &err)))
            break;
    }
    if (!st) st = hearth_gguf_writer_write_file(w, out, &err);
    if (!st && !quiet)
        fprintf(stderr, "hearth-genmodel: %s: bert (%s), n_embd %lld, %lld layers, vocab %lld, %s, "
                "%s pooling\n", out, p->name, (long long)E, (long long)p->n_layer,
                (long long)n_vocab, hearth_type_name(type), pooling == 2 ? "cls" : "mean");
    hearth_gguf_writer_free(w);
    if (l)
        for (int i = 0; i < l->n; i++) hearth_free(l->t[i].data);
    hearth_free(l);
    wp_free(&wv);
    gm_vocab_free(copied);
    if (st) {
        fprintf(stderr, "hearth-genmodel: %s\n", err.msg);
        return 1;
    }
    return 0;
}
