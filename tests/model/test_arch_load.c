/*
 * test_arch_load.c: opening the new architectures' files: each tiny preset
 * (qwen3, gemma3, phi3, llama3) opens and reports its architecture, and a
 * copy with one part missing or unsupported is refused at open with the
 * part named (a QK-norm or post-norm tensor, gemma3's sliding window, half
 * of Phi-3's LongRoPE pair, a rope scaling type hearth lacks, an unknown
 * architecture with the supported ones listed).
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *drop_key, *drop_tensor;
    const char *set_key, *set_str;
} edit;

/* src copied to dst with the edit applied. */
static void rewrite(const char *src, const edit *ed, const char *dst) {
    hearth_error e = {0};
    hearth_gguf *g;
    REQUIRE(hearth_gguf_open(src, &g, &e) == HEARTH_OK);
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        if ((ed->drop_key && !strcmp(key, ed->drop_key)) || (ed->set_key && !strcmp(key, ed->set_key)))
            continue;
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
        REQUIRE(st == HEARTH_OK);
    }
    if (ed->set_key) REQUIRE(hearth_gguf_writer_set_str(w, ed->set_key, ed->set_str, &e) == HEARTH_OK);
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (ed->drop_tensor && !strcmp(t->name, ed->drop_tensor)) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        REQUIRE(hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, ne, t->data, t->nbytes,
                                              &e) == HEARTH_OK);
    }
    REQUIRE(hearth_gguf_writer_write_file(w, dst, &e) == HEARTH_OK);
    hearth_gguf_writer_free(w);
    hearth_gguf_free(g);
}

static void expect(const char *src, const char *dst, edit ed, hearth_status want, const char *needle) {
    rewrite(src, &ed, dst);
    hearth_model *m = NULL;
    hearth_error e = {0};
    hearth_status st = hearth_model_open(dst, NULL, &m, &e);
    CHECKF(st == want, "status %d, want %d (%s)", st, want, e.msg);
    if (needle) CHECKF(strstr(e.msg, needle) != NULL, "message '%s' lacks '%s'", e.msg, needle);
    hearth_model_free(m);
}

int main(void) {
    static const struct {
        const char *preset, *arch;
    } files[] = {{"qwen3-tiny", "qwen3"}, {"gemma3-tiny", "gemma3"}, {"phi3-tiny", "phi3"},
                 {"llama3-tiny", "llama"}};
    const char *path[4];
    for (int i = 0; i < 4; i++) {
        char name[64], args[96];
        snprintf(name, sizeof name, "%s.gguf", files[i].preset);
        snprintf(args, sizeof args, "--preset %s --type Q8_0", files[i].preset);
        REQUIRE((path[i] = genmodel(name, args)));
        hearth_model *m;
        hearth_error e = {0};
        CHECKF(hearth_model_open(path[i], NULL, &m, &e) == HEARTH_OK, "%s: %s", files[i].preset, e.msg);
        if (!m) continue;
        CHECK_STR(hearth_model_arch(m), files[i].arch);
        hearth_model_free(m);
    }
    char dst[256];
    snprintf(dst, sizeof dst, "%s/hearth-arch-load-%d.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    const char *q3 = path[0], *g3 = path[1], *p3 = path[2], *l3 = path[3];
    expect(q3, dst, (edit){.drop_tensor = "blk.1.attn_k_norm.weight"}, HEARTH_E_FORMAT,
           "blk.1.attn_k_norm.weight");
    expect(g3, dst, (edit){.drop_tensor = "blk.3.post_ffw_norm.weight"}, HEARTH_E_FORMAT,
           "blk.3.post_ffw_norm.weight");
    expect(g3, dst, (edit){.drop_key = "gemma3.attention.sliding_window"}, HEARTH_E_FORMAT,
           "gemma3.attention.sliding_window");
    expect(p3, dst, (edit){.drop_tensor = "rope_factors_short.weight"}, HEARTH_E_FORMAT,
           "rope_factors_short.weight");
    expect(p3, dst, (edit){.drop_tensor = "blk.0.attn_qkv.weight"}, HEARTH_E_FORMAT, "blk.0.attn_q.weight");
    expect(p3, dst, (edit){.set_key = "phi3.rope.scaling.type", .set_str = "yarn"}, HEARTH_E_UNSUPPORTED,
           "rope scaling type 'yarn'");
    expect(l3, dst, (edit){.set_key = "llama.rope.scaling.type", .set_str = "llama3"}, HEARTH_E_UNSUPPORTED,
           "rope scaling type 'llama3'");
    expect(l3, dst, (edit){.set_key = "general.architecture", .set_str = "gemma2"}, HEARTH_E_UNSUPPORTED,
           "supported: llama, qwen2, qwen3, gemma3, phi3");
    unlink(dst);
    tmpdir_cleanup();
    return test_done();
}
