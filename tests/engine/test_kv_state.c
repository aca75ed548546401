/*
 * test_kv_state.c: saved sequence state (src/engine/kv_state.c):
 *  - save after a prefill, load into a fresh context (another sequence slot,
 *    another capacity): the next token's logits are bit-identical to those
 *    of the context that evaluated the tokens itself, through a buffer and
 *    through a FILE; a saved prefix (n < len) equals evaluating the prefix;
 *  - every truncation, a flipped byte anywhere, another model, another KV
 *    type (keys or values), a sequence that is not empty and a state longer
 *    than the sequence are rejected with the documented code, and leave the
 *    sequence empty.
 * All of it for an F16 cache, a Q8_0 one and Q8_0 keys with Q4_0 values.
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <stdlib.h>
#include <string.h>

enum { N = 20, NP = 7 };

/* the cache types run_model's contexts get (it changes them for the
 * mismatch checks) */
static hearth_type g_tk, g_tv;

static hearth_ctx *new_ctx_t(hearth_model *m, int32_t n_ctx, int32_t n_seq, hearth_type tk, hearth_type tv) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_seq = n_seq;
    cp.n_threads = 2;
    cp.type_k = tk;
    cp.type_v = tv;
    hearth_ctx *c = NULL;
    hearth_error e = {0};
    CHECKF(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK, "%s", e.msg);
    return c;
}

static hearth_ctx *new_ctx(hearth_model *m, int32_t n_ctx, int32_t n_seq) {
    return new_ctx_t(m, n_ctx, n_seq, g_tk, g_tv);
}

/* Logits after evaluating next in seq (copied into out). */
static void next_logits(hearth_ctx *c, int32_t seq, int32_t next, float *out, int32_t nv) {
    hearth_error e = {0};
    REQUIRE(hearth_ctx_eval(c, seq, &next, 1, &e) == HEARTH_OK);
    memcpy(out, hearth_ctx_logits(c, -1), (size_t)nv * sizeof(float));
}

static void run_model(const char *path, const char *other_path) {
    hearth_error e = {0};
    hearth_model *m, *other;
    /* prefault (the agent's way of opening) changes nothing but timing */
    hearth_model_params mp = hearth_model_default_params();
    mp.prefault = true;
    REQUIRE(hearth_model_open(path, &mp, &m, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(other_path, NULL, &other, &e) == HEARTH_OK);
    int32_t nv = hearth_model_n_vocab(m);
    int32_t toks[N];
    for (int i = 0; i < N; i++) toks[i] = (i * 41 + 7) % nv;
    int32_t next = 3 % nv;
    float *ref = malloc((size_t)nv * sizeof(float)), *got = malloc((size_t)nv * sizeof(float));
    REQUIRE(ref && got);

    /* the context that evaluates everything itself */
    hearth_ctx *a = new_ctx(m, 64, 1);
    REQUIRE(a);
    REQUIRE(hearth_ctx_eval(a, 0, toks, N, &e) == HEARTH_OK);
    size_t size = hearth_ctx_seq_state_size(a, N);
    CHECK(size > 0);
    uint8_t *buf = malloc(size);
    REQUIRE(buf);
    size_t written = 0;
    CHECK(hearth_ctx_seq_state_save(a, 0, N, buf, size - 1, &written, &e) == HEARTH_E_LIMIT);
    REQUIRE(hearth_ctx_seq_state_save(a, 0, N, buf, size, &written, &e) == HEARTH_OK);
    CHECK_EQ_INT(written, size);
    CHECK(hearth_ctx_seq_state_save(a, 0, N + 1, buf, size, NULL, &e) == HEARTH_E_ARG);
    CHECK(hearth_ctx_seq_state_save(a, 1, N, buf, size, NULL, &e) == HEARTH_E_ARG);
    FILE *f = tmpfile();
    REQUIRE(f);
    REQUIRE(hearth_ctx_seq_state_save_file(a, 0, N, f, &e) == HEARTH_OK);
    CHECK_EQ_INT(ftell(f), (long)size);
    next_logits(a, 0, next, ref, nv);

    /* from the buffer, into sequence 1 of a context with another capacity */
    hearth_ctx *b = new_ctx(m, 96, 2);
    REQUIRE(b);
    int32_t n_loaded = -1;
    CHECKF(hearth_ctx_seq_state_load(b, 1, buf, size, &n_loaded, &e) == HEARTH_OK, "%s", e.msg);
    CHECK_EQ_INT(n_loaded, N);
    CHECK_EQ_INT(hearth_ctx_seq_len(b, 1), N);
    CHECK_EQ_INT(hearth_ctx_seq_len(b, 0), 0);
    CHECK(hearth_ctx_seq_state_load(b, 1, buf, size, NULL, &e) == HEARTH_E_STATE);
    next_logits(b, 1, next, got, nv);
    CHECK(memcmp(ref, got, (size_t)nv * sizeof(float)) == 0);

    /* from the FILE */
    hearth_ctx *c = new_ctx(m, 64, 1);
    REQUIRE(c);
    rewind(f);
    CHECKF(hearth_ctx_seq_state_load_file(c, 0, f, &n_loaded, &e) == HEARTH_OK, "%s", e.msg);
    CHECK_EQ_INT(n_loaded, N);
    next_logits(c, 0, next, got, nv);
    CHECK(memcmp(ref, got, (size_t)nv * sizeof(float)) == 0);

    /* a prefix of the sequence equals evaluating the prefix */
    hearth_ctx *p = new_ctx(m, 64, 1);
    REQUIRE(p);
    REQUIRE(hearth_ctx_eval(p, 0, toks, NP, &e) == HEARTH_OK);
    next_logits(p, 0, next, ref, nv);
    size_t psize = hearth_ctx_seq_state_size(a, NP);
    uint8_t *pbuf = malloc(psize);
    REQUIRE(pbuf);
    REQUIRE(hearth_ctx_seq_state_save(a, 0, NP, pbuf, psize, NULL, &e) == HEARTH_OK);
    REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
    REQUIRE(hearth_ctx_seq_state_load(c, 0, pbuf, psize, NULL, &e) == HEARTH_OK);
    next_logits(c, 0, next, got, nv);
    CHECK(memcmp(ref, got, (size_t)nv * sizeof(float)) == 0);

    /* damage: every cut, and one flipped bit in each of many places */
    hearth_ctx *d = new_ctx(m, 64, 1);
    REQUIRE(d);
    int bad_cut = 0, bad_flip = 0, n_flip = 0;
    for (size_t len = 0; len < psize; len++) {
        if (hearth_ctx_seq_state_load(d, 0, pbuf, len, NULL, &e) != HEARTH_E_FORMAT) bad_cut++;
        if (hearth_ctx_seq_len(d, 0) != 0) bad_cut++;
    }
    uint8_t *dmg = malloc(psize);
    REQUIRE(dmg);
    for (size_t at = 0; at < psize; at += at < 64 ? 1 : 97) {
        memcpy(dmg, pbuf, psize);
        dmg[at] ^= (uint8_t)(1u << (at % 8));
        n_flip++;
        hearth_status st = hearth_ctx_seq_state_load(d, 0, dmg, psize, NULL, &e);
        /* a flipped bit in the length field can make the state "too long" */
        if (st != HEARTH_E_FORMAT && st != HEARTH_E_LIMIT) bad_flip++;
        if (hearth_ctx_seq_len(d, 0) != 0) bad_flip++;
    }
    CHECKF(bad_cut == 0, "%d of %zu truncations accepted", bad_cut, psize);
    CHECKF(bad_flip == 0, "%d of %d flipped bits accepted", bad_flip, n_flip);
    fprintf(stderr, "%zu truncations and %d flipped bits rejected\n", psize, n_flip);
    /* a file that ends early */
    FILE *g = tmpfile();
    REQUIRE(g);
    REQUIRE(fwrite(pbuf, 1, psize - 9, g) == psize - 9);
    rewind(g);
    CHECK(hearth_ctx_seq_state_load_file(d, 0, g, NULL, &e) == HEARTH_E_FORMAT);
    CHECK_EQ_INT(hearth_ctx_seq_len(d, 0), 0);
    fclose(g);

    /* another model (same shape, other weights), another KV type */
    hearth_ctx *o = new_ctx(other, 64, 1);
    REQUIRE(o);
    CHECK(hearth_ctx_seq_state_load(o, 0, pbuf, psize, NULL, &e) == HEARTH_E_FORMAT);
    CHECKF(strstr(e.msg, "another model") != NULL, "%s", e.msg);
    CHECK_EQ_INT(hearth_ctx_seq_len(o, 0), 0);
    hearth_ctx *f32 = new_ctx_t(m, 64, 1, HEARTH_TYPE_F32, g_tv);
    REQUIRE(f32);
    CHECK(hearth_ctx_seq_state_load(f32, 0, pbuf, psize, NULL, &e) == HEARTH_E_FORMAT);
    CHECKF(strstr(e.msg, "KV cache types") != NULL, "%s", e.msg);
    CHECK_EQ_INT(hearth_ctx_seq_len(f32, 0), 0);
    /* only the values' type differs */
    hearth_ctx *ov = new_ctx_t(m, 64, 1, g_tk, g_tv == HEARTH_TYPE_Q4_0 ? HEARTH_TYPE_Q8_0 : HEARTH_TYPE_Q4_0);
    REQUIRE(ov);
    CHECK(hearth_ctx_seq_state_load(ov, 0, pbuf, psize, NULL, &e) == HEARTH_E_FORMAT);
    CHECKF(strstr(e.msg, "KV cache types") != NULL, "%s", e.msg);
    fprintf(stderr, "mismatch: %s\n", e.msg);
    rewind(f);
    CHECK(hearth_ctx_seq_state_load_file(ov, 0, f, NULL, &e) == HEARTH_E_FORMAT);
    CHECK_EQ_INT(hearth_ctx_seq_len(ov, 0), 0);
    /* longer than the sequence can hold */
    hearth_ctx *small = new_ctx(m, 16, 1);
    REQUIRE(small);
    CHECK(hearth_ctx_seq_state_load(small, 0, buf, size, NULL, &e) == HEARTH_E_LIMIT);
    CHECK_EQ_INT(hearth_ctx_seq_len(small, 0), 0);
    CHECK(hearth_ctx_seq_state_load(small, 5, buf, size, NULL, &e) == HEARTH_E_ARG);

    fclose(f);
    hearth_ctx_free(small);
    hearth_ctx_free(f32);
    hearth_ctx_free(ov);
    hearth_ctx_free(o);
    hearth_ctx_free(d);
    hearth_ctx_free(p);
    hearth_ctx_free(c);
    hearth_ctx_free(b);
    hearth_ctx_free(a);
    free(dmg);
    free(pbuf);
    free(buf);
    free(ref);
    free(got);
    hearth_model_free(other);
    hearth_model_free(m);
}

int main(void) {
    const char *q4 = genmodel("q4.gguf", "--arch qwen2 --preset tiny256 --type Q4_0 --seed 3");
    const char *q4b = genmodel("q4b.gguf", "--arch qwen2 --preset tiny256 --type Q4_0 --seed 5");
    REQUIRE(q4 && q4b);
    static const hearth_type types[][2] = {{HEARTH_TYPE_F16, HEARTH_TYPE_F16},
                                           {HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_0},
                                           {HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q4_0}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        g_tk = types[i][0];
        g_tv = types[i][1];
        fprintf(stderr, "cache %s/%s\n", hearth_type_name((int)g_tk), hearth_type_name((int)g_tv));
        run_model(q4, q4b);
    }
    tmpdir_cleanup();
    return test_done();
}
