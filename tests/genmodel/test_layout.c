/*
 * test_layout.c: hearth-genmodel writes the metadata keys, tensor names,
 * shapes and types that llama.cpp expects, for both architectures, tied and
 * untied, with and without qkv bias, for plain types and mixes, with the
 * K-quant fallback; bad arguments are refused.
 */
#include "gm_helpers.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *arch;
    int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    float theta, eps;
    bool tied, bias;
} shape;

static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Checks one tensor's presence, shape and (when type >= 0) type. */
static void check_tensor(const hearth_gguf *g, const char *name, int64_t ne0, int64_t ne1,
                         int type) {
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    CHECKF(t != NULL, "missing tensor %s", name);
    if (!t) return;
    uint32_t nd = ne1 > 1 ? 2 : 1;
    CHECKF(t->n_dims == nd && t->ne[0] == ne0 && t->ne[1] == ne1,
           "%s: shape [%lld, %lld] (%u dims), expected [%lld, %lld]", name,
           (long long)t->ne[0], (long long)t->ne[1], t->n_dims, (long long)ne0, (long long)ne1);
    if (type >= 0)
        CHECKF((int)t->type == type, "%s: type %s, expected %s", name, hearth_type_name(t->type),
               hearth_type_name(type));
}

/* Every key and every tensor of a model of shape s; matrices' types are
 * checked by the caller. */
static void check_model(const hearth_gguf *g, const shape *s) {
    char k[128];
    const char *a = s->arch;
    CHECK_STR(gm_str(g, "general.architecture"), a);
    CHECK(strlen(gm_str(g, "general.name")) > 0);
    CHECK_EQ_INT(gm_u32(g, "general.alignment"), 32);
    CHECK_EQ_INT(hearth_gguf_alignment(g), 32);
    CHECK(hearth_gguf_find_key(g, "general.file_type") >= 0);
#define KEY(name) (snprintf(k, sizeof k, "%s." name, a), k)
    CHECK_EQ_INT(gm_u32(g, KEY("context_length")), s->n_ctx);
    CHECK_EQ_INT(gm_u32(g, KEY("embedding_length")), s->n_embd);
    CHECK_EQ_INT(gm_u32(g, KEY("block_count")), s->n_layer);
    CHECK_EQ_INT(gm_u32(g, KEY("feed_forward_length")), s->n_ff);
    CHECK_EQ_INT(gm_u32(g, KEY("attention.head_count")), s->n_head);
    CHECK_EQ_INT(gm_u32(g, KEY("attention.head_count_kv")), s->n_head_kv);
    CHECK_EQ_INT(gm_u32(g, KEY("rope.dimension_count")), s->n_embd / s->n_head);
    CHECK_EQ_INT(gm_u32(g, KEY("vocab_size")), s->n_vocab);
    CHECK(gm_f32(g, KEY("rope.freq_base")) == s->theta);
    CHECK(gm_f32(g, KEY("attention.layer_norm_rms_epsilon")) == s->eps);
#undef KEY
    hearth_gguf_value v;
    CHECK(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &v, NULL, NULL) == HEARTH_OK &&
          v.n == (uint64_t)s->n_vocab);
    CHECK_STR(gm_str(g, "tokenizer.ggml.model"), "gpt2");

    int64_t E = s->n_embd, kv = s->n_head_kv * (s->n_embd / s->n_head), F = s->n_ff;
    int64_t expect = 2 + s->n_layer * (9 + (s->bias ? 3 : 0)) + (s->tied ? 0 : 1);
    CHECK_EQ_INT(hearth_gguf_n_tensors(g), expect);
    check_tensor(g, "token_embd.weight", E, s->n_vocab, -1);
    check_tensor(g, "output_norm.weight", E, 1, HEARTH_TYPE_F32);
    if (s->tied)
        CHECK(hearth_gguf_find_tensor(g, "output.weight") == NULL);
    else
        check_tensor(g, "output.weight", E, s->n_vocab, -1);
    char n[96];
    for (int64_t il = 0; il < s->n_layer; il++) {
#define T(suffix, ne0, ne1, ty) \
    (snprintf(n, sizeof n, "blk.%lld." suffix, (long long)il), check_tensor(g, n, ne0, ne1, ty))
        T("attn_norm.weight", E, 1, HEARTH_TYPE_F32);
        T("ffn_norm.weight", E, 1, HEARTH_TYPE_F32);
        T("attn_q.weight", E, E, -1);
        T("attn_k.weight", E, kv, -1);
        T("attn_v.weight", E, kv, -1);
        T("attn_output.weight", E, E, -1);
        T("ffn_gate.weight", E, F, -1);
        T("ffn_up.weight", E, F, -1);
        T("ffn_down.weight", F, E, -1);
        if (s->bias) {
            T("attn_q.bias", E, 1, HEARTH_TYPE_F32);
            T("attn_k.bias", kv, 1, HEARTH_TYPE_F32);
            T("attn_v.bias", kv, 1, HEARTH_TYPE_F32);
        } else {
            const char *b[] = {"attn_q.bias", "attn_k.bias", "attn_v.bias"};
            for (int i = 0; i < 3; i++) {
                snprintf(n, sizeof n, "blk.%lld.%s", (long long)il, b[i]);
                CHECKF(hearth_gguf_find_tensor(g, n) == NULL, "unexpected %s", n);
            }
        }
#undef T
    }
}

/* Type of blk.il.<suffix>.weight, or -1. */
static int blk_type(const hearth_gguf *g, int64_t il, const char *suffix) {
    char n[96];
    snprintf(n, sizeof n, "blk.%lld.%s.weight", (long long)il, suffix);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, n);
    return t ? (int)t->type : -1;
}

static int named_type(const hearth_gguf *g, const char *name) {
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    return t ? (int)t->type : -1;
}

static void test_llama_tiny_q8(void) {
    REQUIRE(gm_run("--arch llama --preset tiny --type Q8_0 -o %s", gm_path("l.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("l.gguf"));
    shape s = {"llama", 64, 2, 4, 2, 128, 320, 256, 10000.0f, 1e-5f, false, false};
    check_model(g, &s);
    CHECK_EQ_INT(gm_u32(g, "general.file_type"), 7);
    CHECK_STR(gm_str(g, "tokenizer.ggml.pre"), "default");
    CHECK(gm_bool(g, "tokenizer.ggml.add_bos_token") == true);
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        CHECKF((int)t->type == (t->n_dims == 1 ? HEARTH_TYPE_F32 : HEARTH_TYPE_Q8_0),
               "%s: %s", t->name, hearth_type_name(t->type));
    }
    hearth_gguf_free(g);
}

static void test_qwen2_tiny_f16(void) {
    REQUIRE(gm_run("--arch qwen2 --preset tiny --type F16 -o %s", gm_path("q.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("q.gguf"));
    shape s = {"qwen2", 64, 2, 4, 2, 128, 320, 256, 1e6f, 1e-6f, true, true};
    check_model(g, &s);
    CHECK_EQ_INT(gm_u32(g, "general.file_type"), 1);
    CHECK_STR(gm_str(g, "tokenizer.ggml.pre"), "qwen2");
    CHECK(gm_bool(g, "tokenizer.ggml.add_bos_token") == false);
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        CHECKF((int)t->type == (t->n_dims == 1 ? HEARTH_TYPE_F32 : HEARTH_TYPE_F16), "%s: %s",
               t->name, hearth_type_name(t->type));
    }
    hearth_gguf_free(g);
}

/* Flags override the preset and the architecture's defaults. */
static void test_flags(void) {
    REQUIRE(gm_run("--arch qwen2 --preset tiny --untied --no-qkv-bias --n-embd 96 --n-head 6 "
                   "--n-head-kv 3 --n-ff=160 --n-layer 3 --n-vocab 300 --n-ctx 77 "
                   "--rope-theta 5000 --rms-eps 1e-4 --type BF16 -o %s",
                   gm_path("f.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("f.gguf"));
    shape s = {"qwen2", 96, 3, 6, 3, 160, 300, 77, 5000.0f, 1e-4f, false, false};
    check_model(g, &s);
    CHECK_EQ_INT(named_type(g, "output.weight"), HEARTH_TYPE_BF16);
    hearth_gguf_free(g);

    REQUIRE(gm_run("--arch llama --tied --qkv-bias --type F32 -o %s", gm_path("f2.gguf")) == 0);
    g = gm_open(gm_path("f2.gguf"));
    shape s2 = {"llama", 64, 2, 4, 2, 128, 320, 256, 10000.0f, 1e-5f, true, true};
    check_model(g, &s2);
    hearth_gguf_free(g);
}

/* Q4_K_M over 8 layers with rows of 256: attn_v and ffn_down follow
 * use_more_bits, the output is Q6_K, the embedding keeps Q4_K. */
static void test_q4_k_m(void) {
    REQUIRE(gm_run("--arch llama --preset tiny256 --n-layer 8 --n-ff 256 --n-vocab 259 --type Q4_K_M -o %s",
                   gm_path("km.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("km.gguf"));
    CHECK_EQ_INT(gm_u32(g, "general.file_type"), 15);
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q4_K);
    CHECK_EQ_INT(named_type(g, "output.weight"), HEARTH_TYPE_Q6_K);
    int bumped = 0;
    for (int64_t il = 0; il < 8; il++) {
        int want = use_more_bits(il, 8) ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K;
        bumped += want == HEARTH_TYPE_Q6_K;
        CHECK_EQ_INT(blk_type(g, il, "attn_v"), want);
        CHECK_EQ_INT(blk_type(g, il, "ffn_down"), want);
        const char *rest[] = {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"};
        for (int i = 0; i < 5; i++) CHECK_EQ_INT(blk_type(g, il, rest[i]), HEARTH_TYPE_Q4_K);
    }
    CHECK(bumped > 0 && bumped < 8);
    hearth_gguf_free(g);

    REQUIRE(gm_run("--arch llama --preset tiny256 --n-layer 8 --n-ff 256 --n-vocab 259 --type Q4_K_S -o %s",
                   gm_path("ks.gguf")) == 0);
    g = gm_open(gm_path("ks.gguf"));
    CHECK_EQ_INT(gm_u32(g, "general.file_type"), 14);
    for (int64_t il = 0; il < 8; il++) {
        CHECK_EQ_INT(blk_type(g, il, "attn_v"), il < 4 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(blk_type(g, il, "ffn_down"), il < 1 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K);
    }
    CHECK_EQ_INT(named_type(g, "output.weight"), HEARTH_TYPE_Q6_K);
    hearth_gguf_free(g);
}

/* Q4_0: embedding Q4_0, output Q6_K, or Q8_0 when rows are not a multiple
 * of 256; tied: the embedding is the output. --pure keeps Q4_0 everywhere. */
static void test_q4_0_output(void) {
    REQUIRE(gm_run("--arch llama --preset tiny256 --type Q4_0 -o %s", gm_path("a.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("a.gguf"));
    CHECK_EQ_INT(gm_u32(g, "general.file_type"), 2);
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q4_0);
    CHECK_EQ_INT(named_type(g, "output.weight"), HEARTH_TYPE_Q6_K);
    CHECK_EQ_INT(blk_type(g, 1, "ffn_down"), HEARTH_TYPE_Q4_0);
    hearth_gguf_free(g);

    REQUIRE(gm_run("--arch qwen2 --preset tiny --type Q4_0 -o %s", gm_path("b.gguf")) == 0);
    g = gm_open(gm_path("b.gguf"));
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q8_0);
    CHECK_EQ_INT(blk_type(g, 0, "attn_q"), HEARTH_TYPE_Q4_0);
    hearth_gguf_free(g);

    REQUIRE(gm_run("--arch qwen2 --preset tiny256 --type Q4_0 --pure -o %s", gm_path("c.gguf")) == 0);
    g = gm_open(gm_path("c.gguf"));
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q4_0);
    hearth_gguf_free(g);
}

/* Rows that are not a multiple of 256 fall back as llama.cpp does. */
static void test_fallback(void) {
    static const struct {
        const char *type;
        int k, fb;
    } cases[] = {
        {"Q4_K", HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q5_0}, {"Q5_K", HEARTH_TYPE_Q5_K, HEARTH_TYPE_Q5_1},
        {"Q6_K", HEARTH_TYPE_Q6_K, HEARTH_TYPE_Q8_0}, {"Q3_K", HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q4_0},
        {"Q2_K", HEARTH_TYPE_Q2_K, HEARTH_TYPE_Q4_0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* n_embd 128: rows of attn/gate/up/embd fall back; ffn_down's rows
         * (n_ff 512) fit. */
        REQUIRE(gm_run("--arch llama --n-embd 128 --n-ff 512 --type %s --pure -o %s",
                       cases[i].type, gm_path("fb.gguf")) == 0);
        hearth_gguf *g = gm_open(gm_path("fb.gguf"));
        CHECKF(blk_type(g, 0, "attn_q") == cases[i].fb, "%s: attn_q %s", cases[i].type,
               hearth_type_name(blk_type(g, 0, "attn_q")));
        CHECK_EQ_INT(blk_type(g, 1, "ffn_gate"), cases[i].fb);
        CHECK_EQ_INT(named_type(g, "token_embd.weight"), cases[i].fb);
        CHECKF(blk_type(g, 0, "ffn_down") == cases[i].k, "%s: ffn_down %s", cases[i].type,
               hearth_type_name(blk_type(g, 0, "ffn_down")));
        hearth_gguf_free(g);
    }
    /* A 32-block type on rows of 48 falls back to F16. */
    REQUIRE(gm_run("--arch llama --n-embd 48 --n-head 3 --n-head-kv 1 --type Q8_0 -o %s",
                   gm_path("fb2.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("fb2.gguf"));
    CHECK_EQ_INT(blk_type(g, 0, "attn_q"), HEARTH_TYPE_F16);
    CHECK_EQ_INT(blk_type(g, 0, "ffn_down"), HEARTH_TYPE_Q8_0); /* rows of n_ff 128 */
    hearth_gguf_free(g);
}

static void test_overrides(void) {
    REQUIRE(gm_run("--arch llama --preset tiny256 --type Q4_0 --type-embd Q8_0 --type-output F16 "
                   "--type-attn Q5_1 --type-attn-v Q6_K --type-ffn Q4_1 --type-ffn-down Q5_K -o %s",
                   gm_path("o.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("o.gguf"));
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q8_0);
    CHECK_EQ_INT(named_type(g, "output.weight"), HEARTH_TYPE_F16);
    CHECK_EQ_INT(blk_type(g, 0, "attn_q"), HEARTH_TYPE_Q5_1);
    CHECK_EQ_INT(blk_type(g, 0, "attn_k"), HEARTH_TYPE_Q5_1);
    CHECK_EQ_INT(blk_type(g, 0, "attn_output"), HEARTH_TYPE_Q5_1);
    CHECK_EQ_INT(blk_type(g, 0, "attn_v"), HEARTH_TYPE_Q6_K);
    CHECK_EQ_INT(blk_type(g, 1, "ffn_gate"), HEARTH_TYPE_Q4_1);
    CHECK_EQ_INT(blk_type(g, 1, "ffn_up"), HEARTH_TYPE_Q4_1);
    CHECK_EQ_INT(blk_type(g, 1, "ffn_down"), HEARTH_TYPE_Q5_K);
    hearth_gguf_free(g);

    /* Tied: --type-output names the embedding's type. */
    REQUIRE(gm_run("--arch qwen2 --preset tiny256 --type Q4_0 --type-output Q5_0 -o %s",
                   gm_path("o2.gguf")) == 0);
    g = gm_open(gm_path("o2.gguf"));
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q5_0);
    hearth_gguf_free(g);
}

/* The benchmark preset's shape, cut to one layer, a smaller n_ff and a small
 * vocabulary so the test stays fast. */
static void test_qwen_preset(void) {
    REQUIRE(gm_run("--preset qwen2.5-0.5b --n-layer 1 --n-ff 512 --n-vocab 1000 --type Q4_K_M -o %s",
                   gm_path("p.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("p.gguf"));
    shape s = {"qwen2", 896, 1, 14, 2, 512, 1000, 32768, 1e6f, 1e-6f, true, true};
    check_model(g, &s);
    CHECK_EQ_INT(gm_u32(g, "qwen2.rope.dimension_count"), 64);
    CHECK_EQ_INT(named_type(g, "token_embd.weight"), HEARTH_TYPE_Q8_0); /* output rule, 896 */
    CHECK_EQ_INT(blk_type(g, 0, "attn_q"), HEARTH_TYPE_Q5_0);
    CHECK_EQ_INT(blk_type(g, 0, "attn_v"), HEARTH_TYPE_Q8_0);   /* Q6_K -> Q8_0 */
    CHECK_EQ_INT(blk_type(g, 0, "ffn_down"), HEARTH_TYPE_Q6_K); /* rows of 512 fit */
    hearth_gguf_free(g);
}

static void test_bad_args(void) {
    const char *o = gm_path("bad.gguf");
    CHECK(gm_run("--arch llama --type Q9_9 -o %s", o) != 0);
    CHECK(gm_run("--arch gpt3 --type F16 -o %s", o) != 0);
    CHECK(gm_run("--type F16 -o %s", o) != 0);                      /* no arch */
    CHECK(gm_run("--arch llama -o %s", o) != 0);                    /* no type */
    CHECK(gm_run("--arch llama --type F16") != 0);                  /* no output */
    CHECK(gm_run("--arch llama --preset qwen2.5-0.5b --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --preset nope --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --n-embd 60 --type F16 -o %s", o) != 0); /* odd head size 15 */
    CHECK(gm_run("--arch llama --n-embd 66 --type F16 -o %s", o) != 0); /* 66 % 4 != 0 */
    CHECK(gm_run("--arch llama --n-head 4 --n-head-kv 3 --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --n-vocab 200 --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --n-layer 0 --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --n-ff x --type F16 -o %s", o) != 0);
    CHECK(gm_run("--arch llama --type F16 --type-attn Q4_K_M -o %s", o) != 0); /* not a type */
    CHECK(gm_run("--arch llama --type F16 --frobnicate -o %s", o) != 0);
    CHECK(gm_run("--arch llama --type F16 -o %s/no/such/dir/x.gguf", gm_dir()) != 0);
    CHECK(gm_run("--help") == 0);
}

int main(void) {
    gm_failures = &test_failures;
    gm_checks = &test_checks;
    test_llama_tiny_q8();
    test_qwen2_tiny_f16();
    test_flags();
    test_q4_k_m();
    test_q4_0_output();
    test_fallback();
    test_overrides();
    test_qwen_preset();
    test_bad_args();
    gm_cleanup();
    return test_done();
}
