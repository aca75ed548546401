/*
 * bench_tokenizer.c: tokenizing speed on one thread. Makes ~8 MB of
 * English-like text (common words plus made-up ones with a Zipf-like
 * spread, capitals, punctuation, numbers, line breaks), then tokenizes it
 * with the GPT-2 vocabulary: once as a whole, and in 4 KiB pieces (a prompt
 * at a time, so the per-call word cache starts cold each time). Prints MB/s
 * and tokens/s per second of this thread's CPU time (not wall time, so that
 * other processes on the machine do not skew it). Goal: >= 20 MB/s.
 *
 *   bench_tokenizer [VOCAB.gguf] [MB]
 * VOCAB defaults to $HEARTH_SHARED_DIR/testdata/vocab/ggml-vocab-gpt-2.gguf
 * (HEARTH_SHARED_DIR defaults to ../shared).
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* CPU time of this thread: the figure stays fair on a busy machine. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *const common[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or",
    "had", "by", "hot", "word", "but", "what", "some", "we", "can", "out", "other", "were",
    "all", "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which",
    "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "write",
    "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has",
    "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down",
    "side", "been", "now", "find", "government", "development", "information", "university",
    "understanding", "nevertheless", "particularly", "environment", "don't", "it's", "we're",
};
static const char *const syl[] = {"ba", "con", "ter", "ing", "ly", "pre", "sta", "ment", "ri",
                                  "ous", "tion", "al", "ex", "per", "im", "de", "com", "pro",
                                  "vi", "lo", "ne", "ca", "tu", "ble", "ster", "ward", "ful"};

static char *make_text(size_t target, size_t *len) {
    char *t = malloc(target + 256);
    size_t n = 0;
    bool cap = true;
    while (n < target) {
        char w[64];
        uint32_t r = rnd(100);
        if (r < 70) {
            snprintf(w, sizeof w, "%s", common[rnd(sizeof common / sizeof common[0])]);
        } else if (r < 95) {
            /* A made-up word; the seed spreads them Zipf-like over ~50k. */
            uint32_t id = rnd(1 + rnd(50000));
            uint64_t s = id * 2654435761u + 1;
            int k = 0, ns = 1 + (int)(s % 4);
            for (int i = 0; i < ns; i++) {
                k += snprintf(w + k, sizeof w - (size_t)k, "%s", syl[s % 27]);
                s /= 27;
                s += id;
            }
        } else {
            snprintf(w, sizeof w, "%u", rnd(r < 98 ? 100 : 100000));
        }
        if (cap && w[0] >= 'a' && w[0] <= 'z') w[0] = (char)(w[0] - 32);
        cap = false;
        n += (size_t)sprintf(t + n, "%s", w);
        uint32_t p = rnd(100);
        if (p < 6) {
            t[n++] = '.';
            cap = true;
            if (rnd(6) == 0) {
                t[n++] = '\n';
                if (rnd(2)) t[n++] = '\n';
                continue;
            }
        } else if (p < 12) {
            t[n++] = ',';
        } else if (p < 13) {
            n += (size_t)sprintf(t + n, "%s", rnd(2) ? "!" : "?");
            cap = true;
        }
        t[n++] = ' ';
    }
    *len = n;
    return t;
}

int main(int argc, char **argv) {
    char path[4096];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        const char *s = getenv("HEARTH_SHARED_DIR");
        snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-gpt-2.gguf", s ? s : "../shared");
    }
    size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 8;
    hearth_error err = {0};
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    hearth_tokenizer *t;
    double t0 = now();
    if (hearth_tokenizer_load(g, &t, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    double t_load = now() - t0;
    hearth_gguf_free(g);
    size_t len;
    char *text = make_text(mb << 20, &len);

    /* Warm-up. */
    int32_t *ids;
    size_t n;
    hearth_tokenize(t, text, len < (1 << 20) ? len : (1 << 20), false, false, &ids, &n, NULL);
    hearth_free(ids);

    double best_whole = 1e9;
    size_t n_whole = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        if (hearth_tokenize(t, text, len, false, false, &ids, &n, &err)) {
            fprintf(stderr, "tokenize: %s\n", err.msg);
            return 1;
        }
        double dt = now() - t0;
        if (dt < best_whole) best_whole = dt;
        n_whole = n;
        hearth_free(ids);
    }
    double best_chunk = 1e9;
    size_t n_chunk = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        n_chunk = 0;
        for (size_t off = 0; off < len; off += 4096) {
            size_t l = len - off < 4096 ? len - off : 4096;
            if (hearth_tokenize(t, text + off, l, false, false, &ids, &n, &err)) return 1;
            n_chunk += n;
            hearth_free(ids);
        }
        double dt = now() - t0;
        if (dt < best_chunk) best_chunk = dt;
    }
    double mbs = (double)len / (1 << 20);
    printf("bench_tokenizer: gpt-2 vocabulary, %.1f MB of English-like text, 1 thread\n", mbs);
    printf("  load vocabulary     %8.1f ms\n", t_load * 1e3);
    printf("  whole text          %8.1f MB/s  %10.0f tokens/s  (%zu tokens, %.2f bytes/token)\n",
           mbs / best_whole, n_whole / best_whole, n_whole, (double)len / n_whole);
    printf("  4 KiB pieces        %8.1f MB/s  %10.0f tokens/s\n", mbs / best_chunk,
           n_chunk / best_chunk);
    hearth_tokenizer_free(t);
    free(text);
    return 0;
}
