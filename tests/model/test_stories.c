/*
 * test_stories.c: golden test on a real trained model, stories260K (llama,
 * F32): BOS + "Once upon a time", greedy, continues with the text the model's
 * README documents. The prompt is tokenized and the output detokenized by
 * the tokenizer when the model has one, else through the vocabulary array
 * (SentencePiece pieces, "▁" = space) so the check stays independent of it.
 * Also checks that the model's metadata came through.
 */
#include "test.h"

#include "hearth.h"

#include <stdlib.h>
#include <string.h>

static const char *EXPECT =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball.";

/* Appends piece j of the vocabulary to out, "▁" turned into ' '. */
static void append_piece(const hearth_gguf *g, int64_t ki, int32_t id, char *out, size_t cap) {
    size_t len, o = strlen(out);
    const char *s = hearth_gguf_arr_str(g, ki, (uint64_t)id, &len);
    for (size_t i = 0; s && i < len && o + 1 < cap;) {
        if (len - i >= 3 && !memcmp(s + i, "\xe2\x96\x81", 3)) {
            out[o++] = ' ';
            i += 3;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = 0;
}

static int32_t find_piece(const hearth_gguf *g, int64_t ki, const char *piece) {
    for (uint64_t j = 0;; j++) {
        size_t len;
        const char *s = hearth_gguf_arr_str(g, ki, j, &len);
        if (!s) return -1;
        if (len == strlen(piece) && !memcmp(s, piece, len)) return (int32_t)j;
    }
}

int main(void) {
    const char *path = HEARTH_SHARED_DIR "/testdata/models/stories260K.gguf";
    hearth_error e = {0};
    hearth_model *m;
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 2;
    REQUIRE(hearth_model_open(path, &mp, &m, &e) == HEARTH_OK);
    CHECK_STR(hearth_model_arch(m), "llama");
    CHECK_EQ_INT(hearth_model_n_vocab(m), 512);
    CHECK_EQ_INT(hearth_model_n_embd(m), 64);
    CHECK_EQ_INT(hearth_model_n_layer(m), 5);
    CHECK(hearth_model_token_is_eog(m, 2));
    CHECK(!hearth_model_token_is_eog(m, 1));
    hearth_gguf *g;
    REQUIRE(hearth_gguf_open(path, &g, &e) == HEARTH_OK);
    int64_t ki = hearth_gguf_find_key(g, "tokenizer.ggml.tokens");
    REQUIRE(ki >= 0);

    int32_t prompt[5] = {1};
    const char *words[] = {"\xe2\x96\x81Once", "\xe2\x96\x81upon", "\xe2\x96\x81" "a",
                           "\xe2\x96\x81time"};
    for (int i = 0; i < 4; i++) {
        prompt[i + 1] = find_piece(g, ki, words[i]);
        REQUIRE(prompt[i + 1] > 0);
    }
    for (int mmap = 0; mmap < 2; mmap++) {
        hearth_model *mm = m;
        if (!mmap) {
            /* the same through a copy read into memory */
            mp.use_mmap = false;
            REQUIRE(hearth_model_open(path, &mp, &mm, &e) == HEARTH_OK);
        }
        hearth_ctx *c;
        REQUIRE(hearth_ctx_new(mm, NULL, &c, &e) == HEARTH_OK);
        CHECK_EQ_INT(hearth_ctx_n_ctx(c), hearth_model_n_ctx_train(mm) < 4096 ? hearth_model_n_ctx_train(mm) : 4096);
        REQUIRE(hearth_ctx_eval(c, 0, prompt, 5, &e) == HEARTH_OK);
        char text[512] = "";
        for (int step = 0; step < 40 && strlen(text) < strlen(EXPECT); step++) {
            const float *l = hearth_ctx_logits(c, -1);
            REQUIRE(l);
            int32_t best = 0;
            for (int32_t i = 1; i < 512; i++)
                if (l[i] > l[best]) best = i;
            append_piece(g, ki, best, text, sizeof text);
            REQUIRE(hearth_ctx_eval(c, 0, &best, 1, &e) == HEARTH_OK);
        }
        CHECK_STR(text, EXPECT);
        hearth_ctx_free(c);
        if (mm != m) hearth_model_free(mm);
    }
    hearth_gguf_free(g);
    hearth_model_free(m);
    return test_done();
}
