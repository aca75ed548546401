/*
 * test_gguf_corpus.c: the fuzz seed corpus (tests/fuzz/corpus/gguf/seed_*.gguf)
 * is made by the writer. This test rebuilds each seed and checks it matches
 * the committed file byte for byte, so the writer's output is stable across
 * builds and compilers (determinism), and that each seed opens.
 * HEARTH_REGEN_CORPUS=1 rewrites the committed files instead.
 */
#include "hearth.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Deterministic pseudo-random bytes (xorshift). */
static void fill(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static hearth_gguf_writer *seed_tiny(uint8_t *data) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    hearth_error err;
    REQUIRE(!hearth_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "llama.embedding_length", 8, &err));
    REQUIRE(!hearth_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err));
    int64_t ne[] = {8, 4};
    fill(data, 128, 1);
    REQUIRE(!hearth_gguf_writer_add_tensor(w, "token_embd.weight", HEARTH_TYPE_F32, 2, ne, data,
                                           128, &err));
    return w;
}

static hearth_gguf_writer *seed_types(uint8_t *data) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    hearth_error err;
    uint8_t u8 = 7;
    int8_t i8 = -7;
    uint16_t u16 = 700;
    int16_t i16 = -700;
    int64_t i64 = -70000000000LL;
    double f64 = 0.1;
    REQUIRE(!hearth_gguf_writer_set_str(w, "general.architecture", "qwen2", &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "general.alignment", 64, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.u8", HEARTH_GGUF_UINT8, &u8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.i8", HEARTH_GGUF_INT8, &i8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.u16", HEARTH_GGUF_UINT16, &u16, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.i16", HEARTH_GGUF_INT16, &i16, &err));
    REQUIRE(!hearth_gguf_writer_set_i32(w, "x.i32", -70000, &err));
    REQUIRE(!hearth_gguf_writer_set_u64(w, "x.u64", 1ull << 40, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.i64", HEARTH_GGUF_INT64, &i64, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "x.f64", HEARTH_GGUF_FLOAT64, &f64, &err));
    REQUIRE(!hearth_gguf_writer_set_bool(w, "x.bool", true, &err));
    float fa[] = {1, 2, 3};
    int64_t la[] = {-1, 1};
    REQUIRE(!hearth_gguf_writer_set_arr(w, "x.af32", HEARTH_GGUF_FLOAT32, fa, 3, &err));
    REQUIRE(!hearth_gguf_writer_set_arr(w, "x.ai64", HEARTH_GGUF_INT64, la, 2, &err));
    const char *s[] = {"a", "bc", ""};
    REQUIRE(!hearth_gguf_writer_set_arr_str(w, "x.astr", s, NULL, 3, &err));
    /* One tensor of each type hearth runs, one block row each. */
    static const hearth_type types[] = {HEARTH_TYPE_F32,  HEARTH_TYPE_F16,  HEARTH_TYPE_BF16,
                                        HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q5_0,
                                        HEARTH_TYPE_Q5_1, HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q2_K,
                                        HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q5_K,
                                        HEARTH_TYPE_Q6_K, HEARTH_TYPE_Q8_K};
    size_t off = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int64_t ne[] = {hearth_type_block_size(types[i]) == 1 ? 4 : hearth_type_block_size(types[i]), 1};
        size_t nb = hearth_type_row_size(types[i], ne[0]);
        char name[32];
        snprintf(name, sizeof name, "blk.%zu.w", i);
        fill(data + off, nb, (uint32_t)i + 10);
        REQUIRE(!hearth_gguf_writer_add_tensor(w, name, types[i], 2, ne, data + off, nb, &err));
        off += nb;
    }
    return w;
}

static hearth_gguf_writer *seed_vocab(uint8_t *data) {
    (void)data;
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    hearth_error err;
    enum { N = 64 };
    char tok[N][8];
    const char *toks[N];
    float scores[N];
    int32_t types[N];
    for (int i = 0; i < N; i++) {
        if (i < 3)
            snprintf(tok[i], sizeof tok[i], "<%d>", i);
        else
            snprintf(tok[i], sizeof tok[i], "t%c%d", 'a' + i % 26, i);
        toks[i] = tok[i];
        scores[i] = -(float)i;
        types[i] = i < 3 ? 3 : 1;
    }
    const char *merges[] = {"t a", "ta 1", "t b"};
    REQUIRE(!hearth_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    REQUIRE(!hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err));
    REQUIRE(!hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, N, &err));
    REQUIRE(!hearth_gguf_writer_set_arr(w, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32, scores, N,
                                        &err));
    REQUIRE(!hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, types,
                                        N, &err));
    REQUIRE(!hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, NULL, 3, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, &err));
    REQUIRE(!hearth_gguf_writer_set_str(w, "tokenizer.chat_template",
                                        "{% for m in messages %}{{ m['content'] }}{% endfor %}",
                                        &err));
    return w;
}

static hearth_gguf_writer *seed_model(uint8_t *data) {
    /* A two-layer llama-shaped model with quantized weights and alignment 32. */
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    hearth_error err;
    REQUIRE(!hearth_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "llama.block_count", 2, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "llama.embedding_length", 32, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "llama.attention.head_count", 4, &err));
    size_t off = 0;
    struct { const char *n; hearth_type t; int64_t ne0, ne1; } ts[] = {
        {"token_embd.weight", HEARTH_TYPE_Q8_0, 32, 16}, {"output_norm.weight", HEARTH_TYPE_F32, 32, 1},
        {"blk.0.attn_q.weight", HEARTH_TYPE_Q4_0, 32, 32}, {"blk.0.attn_norm.weight", HEARTH_TYPE_F32, 32, 1},
        {"blk.1.attn_q.weight", HEARTH_TYPE_Q4_0, 32, 32}, {"blk.1.ffn_down.weight", HEARTH_TYPE_F16, 32, 3},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        int64_t ne[] = {ts[i].ne0, ts[i].ne1};
        size_t nb = hearth_type_row_size(ts[i].t, ne[0]) * (size_t)ne[1];
        fill(data + off, nb, (uint32_t)i + 100);
        REQUIRE(!hearth_gguf_writer_add_tensor(w, ts[i].n, ts[i].t, ne[1] == 1 ? 1 : 2, ne,
                                               data + off, nb, &err));
        off += nb;
    }
    return w;
}

int main(void) {
    static uint8_t data[1 << 16];
    struct { const char *name; hearth_gguf_writer *(*make)(uint8_t *); } seeds[] = {
        {"seed_tiny.gguf", seed_tiny},
        {"seed_types.gguf", seed_types},
        {"seed_vocab.gguf", seed_vocab},
        {"seed_model.gguf", seed_model},
    };
    const char *regen = getenv("HEARTH_REGEN_CORPUS");
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        hearth_gguf_writer *w = seeds[i].make(data);
        REQUIRE(w);
        void *buf;
        size_t len;
        hearth_error err;
        REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf, &len, &err));
        hearth_gguf_writer_free(w);
        hearth_gguf *g;
        CHECKF(!hearth_gguf_open_buffer(buf, len, &g, &err), "%s: %s", seeds[i].name, err.msg);
        hearth_gguf_free(g);

        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/gguf/%s", HEARTH_SOURCE_DIR,
                 seeds[i].name);
        if (regen && *regen == '1') {
            FILE *f = fopen(path, "wb");
            REQUIRE(f && fwrite(buf, 1, len, f) == len && !fclose(f));
            fprintf(stderr, "wrote %s (%zu bytes)\n", path, len);
        } else {
            FILE *f = fopen(path, "rb");
            CHECKF(f, "%s missing (HEARTH_REGEN_CORPUS=1 makes it)", path);
            if (f) {
                static uint8_t old[1 << 17];
                size_t n = fread(old, 1, sizeof old, f);
                fclose(f);
                CHECKF(n == len && !memcmp(old, buf, len),
                       "%s: the writer's output changed (%zu bytes, file has %zu)", seeds[i].name,
                       len, n);
            }
        }
        hearth_free(buf);
    }
    return test_done();
}
