/*
 * test_demo256.c: models/hearth-demo-256.gguf, the 256-wide partner of the
 * bundled demo model, has exactly hearth-demo.gguf's tokenizer (same
 * tokens, token types, merges, special ids and flags: speculative decoding
 * pairs the two), the documented shape, rows that fit every K-quant, and it
 * loads. Skips (77) when the file is absent.
 */
#include "hearth.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void same_str_arr(const hearth_gguf *a, const hearth_gguf *b, const char *key) {
    hearth_gguf_value va, vb;
    int64_t ia, ib;
    hearth_error e = {0};
    REQUIRE(!hearth_gguf_get_arr(a, key, &va, &ia, &e) && !hearth_gguf_get_arr(b, key, &vb, &ib, &e));
    CHECKF(va.n == vb.n, "%s: %llu vs %llu entries", key, (unsigned long long)va.n, (unsigned long long)vb.n);
    for (uint64_t j = 0; j < va.n && j < vb.n; j++) {
        size_t la, lb;
        const char *sa = hearth_gguf_arr_str(a, ia, j, &la), *sb = hearth_gguf_arr_str(b, ib, j, &lb);
        if (la != lb || memcmp(sa, sb, la)) {
            CHECKF(0, "%s[%llu] differs", key, (unsigned long long)j);
            return;
        }
    }
}

int main(void) {
    const char *src = getenv("HEARTH_SOURCE_DIR");
    char p128[4096], p256[4096];
    snprintf(p128, sizeof p128, "%s/models/hearth-demo.gguf", src ? src : ".");
    snprintf(p256, sizeof p256, "%s/models/hearth-demo-256.gguf", src ? src : ".");
    FILE *f = fopen(p256, "rb");
    if (!f) {
        fprintf(stderr, "SKIP: %s is absent\n", p256);
        return 77;
    }
    fclose(f);
    hearth_error e = {0};
    hearth_gguf *a, *b;
    REQUIRE(!hearth_gguf_open(p128, &a, &e));
    REQUIRE(!hearth_gguf_open(p256, &b, &e));
    same_str_arr(a, b, "tokenizer.ggml.tokens");
    same_str_arr(a, b, "tokenizer.ggml.merges");
    hearth_gguf_value ta, tb;
    REQUIRE(!hearth_gguf_get_arr(a, "tokenizer.ggml.token_type", &ta, NULL, &e));
    REQUIRE(!hearth_gguf_get_arr(b, "tokenizer.ggml.token_type", &tb, NULL, &e));
    CHECK(ta.n == tb.n && ta.elem_type == tb.elem_type && !memcmp(ta.data, tb.data, (size_t)ta.n * 4));
    const char *ids[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                         "tokenizer.ggml.eot_token_id", "tokenizer.ggml.padding_token_id"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int64_t x = -1, y = -2;
        CHECKF(!hearth_gguf_get_int(a, ids[i], &x, &e) && !hearth_gguf_get_int(b, ids[i], &y, &e) && x == y,
               "%s: %lld vs %lld", ids[i], (long long)x, (long long)y);
    }
    const char *strs[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.chat_template"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *x = NULL, *y = NULL;
        CHECKF(!hearth_gguf_get_str(a, strs[i], &x, NULL, &e) && !hearth_gguf_get_str(b, strs[i], &y, NULL, &e) &&
                   !strcmp(x, y),
               "%s differs", strs[i]);
    }
    bool ba = true, bb = false;
    CHECK(!hearth_gguf_get_bool(a, "tokenizer.ggml.add_bos_token", &ba, &e) &&
          !hearth_gguf_get_bool(b, "tokenizer.ggml.add_bos_token", &bb, &e) && ba == bb);
    /* shape: n_embd 256, 6 layers, n_ff 768, 4 heads, context 256 */
    int64_t v;
    CHECK(!hearth_gguf_get_int(b, "llama.embedding_length", &v, &e) && v == 256);
    CHECK(!hearth_gguf_get_int(b, "llama.block_count", &v, &e) && v == 6);
    CHECK(!hearth_gguf_get_int(b, "llama.feed_forward_length", &v, &e) && v == 768);
    CHECK(!hearth_gguf_get_int(b, "llama.attention.head_count", &v, &e) && v == 4);
    CHECK(!hearth_gguf_get_int(b, "llama.context_length", &v, &e) && v == 256);
    for (int64_t i = 0; i < hearth_gguf_n_tensors(b); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(b, i);
        if (t->n_dims == 2) CHECKF(t->ne[0] % 256 == 0, "%s: rows of %lld", t->name, (long long)t->ne[0]);
    }
    hearth_gguf_free(a);
    hearth_gguf_free(b);
    hearth_model_params mp = hearth_model_default_params();
    hearth_model *m;
    REQUIRE(!hearth_model_open(p256, &mp, &m, &e));
    CHECK_EQ_INT(hearth_model_n_vocab(m), 1024);
    hearth_model_free(m);
    return test_done();
}
