/*
 * test_load_errors.c: loading rejects what it must, naming the key or
 * tensor: each case rewrites stories260K through the GGUF writer with one
 * thing changed (a key dropped or altered, a tensor dropped or reshaped) and
 * checks the status and that the message names the culprit. Also: optional
 * keys take the format's defaults, and a file with no tokenizer metadata
 * still loads.
 */
#include "test.h"

#include "hearth.h"

#include <stdlib.h>
#include <unistd.h>

static const char *SRC = HEARTH_SHARED_DIR "/testdata/models/stories260K.gguf";

typedef struct {
    const char *drop_key;     /* key to leave out */
    const char *set_key;      /* key to set to an integer / string */
    int64_t set_int;
    const char *set_str;
    const char *drop_tensor;  /* tensor to leave out */
    const char *shrink_tensor; /* tensor written with half its rows */
    bool drop_tokenizer;      /* leave out every tokenizer.* key */
} edit;

static bool starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

/* Copies SRC with the edit applied into path. */
static void rewrite(const hearth_gguf *g, const edit *ed, const char *path) {
    hearth_error e = {0};
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        if (ed->drop_key && !strcmp(key, ed->drop_key)) continue;
        if (ed->drop_tokenizer && starts(key, "tokenizer.")) continue;
        hearth_gguf_value v;
        REQUIRE(hearth_gguf_kv_value(g, i, &v) == HEARTH_OK);
        hearth_status st;
        if (v.type == HEARTH_GGUF_STRING) {
            char *s = strndup(v.data, v.n);
            st = hearth_gguf_writer_set_str(w, key, s, &e);
            free(s);
        } else if (v.type == HEARTH_GGUF_ARRAY && v.elem_type == HEARTH_GGUF_STRING) {
            const char **strs = malloc(v.n * sizeof *strs);
            size_t *lens = malloc(v.n * sizeof *lens);
            for (uint64_t j = 0; j < v.n; j++) strs[j] = hearth_gguf_arr_str(g, i, j, &lens[j]);
            st = hearth_gguf_writer_set_arr_str(w, key, strs, lens, v.n, &e);
            free(strs);
            free(lens);
        } else if (v.type == HEARTH_GGUF_ARRAY) {
            st = hearth_gguf_writer_set_arr(w, key, v.elem_type, v.data, v.n, &e);
        } else {
            st = hearth_gguf_writer_set_scalar(w, key, v.type, v.data, &e);
        }
        CHECKF(st == HEARTH_OK, "copy key %s: %s", key, e.msg);
    }
    if (ed->set_key && ed->set_str) REQUIRE(!hearth_gguf_writer_set_str(w, ed->set_key, ed->set_str, &e));
    else if (ed->set_key) {
        uint32_t v = (uint32_t)ed->set_int;
        REQUIRE(!hearth_gguf_writer_set_u32(w, ed->set_key, v, &e));
    }
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (ed->drop_tensor && !strcmp(t->name, ed->drop_tensor)) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        size_t nb = t->nbytes;
        if (ed->shrink_tensor && !strcmp(t->name, ed->shrink_tensor)) {
            ne[1] /= 2;
            nb /= 2;
        }
        REQUIRE(hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, ne, t->data, nb, &e) ==
                HEARTH_OK);
    }
    REQUIRE(hearth_gguf_writer_write_file(w, path, &e) == HEARTH_OK);
    hearth_gguf_writer_free(w);
}

static void expect(const hearth_gguf *g, const char *path, edit ed, hearth_status want, const char *needle) {
    rewrite(g, &ed, path);
    hearth_model *m = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_model_open(path, NULL, &m, &e);
    CHECKF(st == want, "status %d, want %d (%s)", st, want, e.msg);
    if (needle) CHECKF(strstr(e.msg, needle) != NULL, "message '%s' lacks '%s'", e.msg, needle);
    if (want != HEARTH_OK) CHECK(m == NULL);
    hearth_model_free(m);
}

int main(void) {
    hearth_gguf *g;
    hearth_error e = {0};
    REQUIRE(hearth_gguf_open(SRC, &g, &e) == HEARTH_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/hearth-load-%d.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());

    expect(g, path, (edit){0}, HEARTH_OK, NULL);
    expect(g, path, (edit){.drop_key = "llama.attention.head_count"}, HEARTH_E_FORMAT,
           "llama.attention.head_count");
    expect(g, path, (edit){.drop_key = "llama.embedding_length"}, HEARTH_E_FORMAT, "llama.embedding_length");
    expect(g, path, (edit){.drop_key = "llama.attention.layer_norm_rms_epsilon"}, HEARTH_E_FORMAT,
           "layer_norm_rms_epsilon");
    expect(g, path, (edit){.drop_key = "general.architecture"}, HEARTH_E_FORMAT, "general.architecture");
    expect(g, path, (edit){.set_key = "general.architecture", .set_str = "mamba"}, HEARTH_E_UNSUPPORTED,
           "mamba");
    expect(g, path, (edit){.set_key = "llama.attention.head_count_kv", .set_int = 3}, HEARTH_E_FORMAT,
           "head_count_kv");
    expect(g, path, (edit){.set_key = "llama.block_count", .set_int = 0}, HEARTH_E_FORMAT, "block_count");
    expect(g, path, (edit){.set_key = "llama.block_count", .set_int = 6}, HEARTH_E_FORMAT, "blk.5.");
    expect(g, path, (edit){.set_key = "llama.rope.dimension_count", .set_int = 7}, HEARTH_E_FORMAT,
           "rope.dimension_count");
    expect(g, path, (edit){.set_key = "llama.rope.scaling.type", .set_str = "yarn"}, HEARTH_E_UNSUPPORTED,
           "rope.scaling.type");
    expect(g, path, (edit){.drop_tensor = "blk.2.ffn_up.weight"}, HEARTH_E_FORMAT, "blk.2.ffn_up.weight");
    expect(g, path, (edit){.drop_tensor = "output_norm.weight"}, HEARTH_E_FORMAT, "output_norm.weight");
    expect(g, path, (edit){.shrink_tensor = "blk.1.attn_q.weight"}, HEARTH_E_FORMAT, "blk.1.attn_q.weight");
    /* qwen2 needs the attention biases that llama files lack */
    expect(g, path, (edit){.set_key = "general.architecture", .set_str = "qwen2"}, HEARTH_E_FORMAT, NULL);

    /* no tokenizer metadata: loads, runs on ids, EOG from nothing */
    rewrite(g, &(edit){.drop_tokenizer = true}, path);
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    CHECK(hearth_model_tokenizer(m) == NULL);
    CHECK(hearth_model_chat_template(m) == NULL);
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, NULL, &c, &e) == HEARTH_OK);
    int32_t t = 1;
    CHECK(hearth_ctx_eval(c, 0, &t, 1, &e) == HEARTH_OK);
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 3;
    hearth_gen_result r;
    CHECK(hearth_generate(c, &t, 1, &gp, NULL, NULL, &r, &e) == HEARTH_OK); /* ids only: fine */
    CHECK_EQ_INT(r.n_gen, 3);
    hearth_ctx_free(c);
    hearth_model_free(m);

    unlink(path);
    hearth_gguf_free(g);
    return test_done();
}
