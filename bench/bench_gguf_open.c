/*
 * bench_gguf_open.c: how long opening and validating a ~500 MB GGUF model
 * takes (mmap, warm page cache). The file is shaped like Qwen2.5-0.5B in
 * Q8_0 (24 layers, 290 tensors, a 151936-token vocabulary with merges), so
 * the metadata the reader walks is as large as a real model's. Written with
 * hearth's writer to /tmp, opened REPS times, removed afterwards (unless
 * --keep). Prints min / median / max milliseconds per open.
 *
 * usage: bench_gguf_open [--reps N] [--keep] [--file PATH]
 */
#include "hearth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define CHECK_OK(call)                                                                 \
    do {                                                                               \
        hearth_status st_ = (call);                                                    \
        if (st_) {                                                                     \
            fprintf(stderr, "bench_gguf_open: %s: %s\n", #call, err.msg);             \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void write_model(const char *path) {
    enum { N_EMBD = 896, N_FF = 4864, N_LAYER = 24, N_KV = 128, N_VOCAB = 151936, N_MERGES = 151387 };
    hearth_error err;
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    if (!w) exit(1);
    CHECK_OK(hearth_gguf_writer_set_str(w, "general.architecture", "qwen2", &err));
    CHECK_OK(hearth_gguf_writer_set_str(w, "general.name", "bench-qwen2.5-0.5b-shape", &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.block_count", N_LAYER, &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.context_length", 32768, &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.embedding_length", N_EMBD, &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.feed_forward_length", N_FF, &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.attention.head_count", 14, &err));
    CHECK_OK(hearth_gguf_writer_set_u32(w, "qwen2.attention.head_count_kv", 2, &err));
    CHECK_OK(hearth_gguf_writer_set_f32(w, "qwen2.rope.freq_base", 1e6f, &err));
    CHECK_OK(hearth_gguf_writer_set_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, &err));
    CHECK_OK(hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err));

    /* Vocabulary: token strings of realistic lengths, merges "a b". */
    char *pool = malloc((size_t)N_VOCAB * 12);
    const char **toks = malloc(N_VOCAB * sizeof *toks);
    int32_t *types = malloc(N_VOCAB * sizeof *types);
    for (int i = 0; i < N_VOCAB; i++) {
        char *s = pool + (size_t)i * 12;
        snprintf(s, 12, "t%x", (unsigned)i * 2654435761u);
        toks[i] = s;
        types[i] = 1;
    }
    CHECK_OK(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, N_VOCAB, &err));
    CHECK_OK(hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, types,
                                        N_VOCAB, &err));
    char *mpool = malloc((size_t)N_MERGES * 16);
    const char **merges = malloc(N_MERGES * sizeof *merges);
    for (int i = 0; i < N_MERGES; i++) {
        char *s = mpool + (size_t)i * 16;
        snprintf(s, 16, "%x %x", (unsigned)i, (unsigned)(i * 7));
        merges[i] = s;
    }
    CHECK_OK(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, NULL, N_MERGES, &err));

    /* Tensors: all data points at one zero buffer (the writer borrows it). */
    size_t max_bytes = hearth_type_row_size(HEARTH_TYPE_Q8_0, N_EMBD) * N_VOCAB;
    void *zeros = calloc(1, max_bytes);
    if (!pool || !toks || !types || !mpool || !merges || !zeros) exit(1);
    struct { const char *name; hearth_type t; int64_t ne0, ne1; } layer[] = {
        {"attn_norm.weight", HEARTH_TYPE_F32, N_EMBD, 1},
        {"attn_q.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_EMBD},
        {"attn_q.bias", HEARTH_TYPE_F32, N_EMBD, 1},
        {"attn_k.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_KV},
        {"attn_k.bias", HEARTH_TYPE_F32, N_KV, 1},
        {"attn_v.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_KV},
        {"attn_v.bias", HEARTH_TYPE_F32, N_KV, 1},
        {"attn_output.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_EMBD},
        {"ffn_norm.weight", HEARTH_TYPE_F32, N_EMBD, 1},
        {"ffn_gate.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_FF},
        {"ffn_up.weight", HEARTH_TYPE_Q8_0, N_EMBD, N_FF},
        {"ffn_down.weight", HEARTH_TYPE_Q8_0, N_FF, N_EMBD},
    };
    int64_t ne[2] = {N_EMBD, N_VOCAB};
    CHECK_OK(hearth_gguf_writer_add_tensor(w, "token_embd.weight", HEARTH_TYPE_Q8_0, 2, ne, zeros,
                                           max_bytes, &err));
    for (int l = 0; l < N_LAYER; l++) {
        for (size_t k = 0; k < sizeof layer / sizeof layer[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s", l, layer[k].name);
            ne[0] = layer[k].ne0;
            ne[1] = layer[k].ne1;
            size_t nb = hearth_type_row_size(layer[k].t, ne[0]) * (size_t)ne[1];
            CHECK_OK(hearth_gguf_writer_add_tensor(w, name, layer[k].t, ne[1] == 1 ? 1 : 2, ne,
                                                   zeros, nb, &err));
        }
    }
    ne[0] = N_EMBD;
    CHECK_OK(hearth_gguf_writer_add_tensor(w, "output_norm.weight", HEARTH_TYPE_F32, 1, ne, zeros,
                                           N_EMBD * 4, &err));
    double t0 = now_ms();
    CHECK_OK(hearth_gguf_writer_write_file(w, path, &err));
    fprintf(stderr, "wrote %s in %.0f ms\n", path, now_ms() - t0);
    hearth_gguf_writer_free(w);
    free(pool); free(toks); free(types); free(mpool); free(merges); free(zeros);
}

int main(int argc, char **argv) {
    int reps = 50;
    int keep = 0;
    const char *path = "/tmp/hearth_bench_gguf_open.gguf";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep")) keep = 1;
        else if (!strcmp(argv[i], "--file") && i + 1 < argc) path = argv[++i];
        else {
            fprintf(stderr, "usage: bench_gguf_open [--reps N] [--keep] [--file PATH]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    struct stat st;
    if (stat(path, &st) || st.st_size < 400000000) write_model(path);

    hearth_error err;
    hearth_gguf *g;
    /* Warm-up: the page cache holds the header after the first open. */
    CHECK_OK(hearth_gguf_open(path, &g, &err));
    uint64_t size = hearth_gguf_file_size(g);
    int64_t n_tensors = hearth_gguf_n_tensors(g), n_kv = hearth_gguf_n_kv(g);
    hearth_gguf_free(g);

    double *ms = malloc(reps * sizeof *ms);
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        CHECK_OK(hearth_gguf_open(path, &g, &err));
        hearth_gguf_free(g);
        ms[r] = now_ms() - t0;
    }
    qsort(ms, reps, sizeof *ms, cmp_d);
    printf("gguf_open: %.1f MB, %lld tensors, %lld keys (151936-token vocab + merges), %d reps\n",
           size / 1e6, (long long)n_tensors, (long long)n_kv, reps);
    printf("gguf_open: open+validate ms: min %.3f  median %.3f  max %.3f  (goal < 50)\n", ms[0],
           ms[reps / 2], ms[reps - 1]);
    free(ms);
    if (!keep) unlink(path);
    return 0;
}
