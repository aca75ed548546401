/*
 * test_nan_weights.c: a damaged model file (NaN where weights should be)
 * never makes generation fail or pick a token whose logit is NaN.
 *  - one NaN scale in output row 0 (Q8_0): logit 0 is NaN; greedy and
 *    sampled answers never contain token 0 (a NaN used to win greedy at id 0
 *    every step), and greedy answers equal the undamaged model's when those
 *    have no token 0;
 *  - every attn_norm weight of layer 0 NaN: every logit is NaN; generation
 *    still runs to max_tokens with ids in range, through hearth_generate and
 *    the scheduler (and, in the sanitizer build, without undefined
 *    behaviour in the forward pass).
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <string.h>

#define N_GEN 24

static void nan_row0(void *user, const char *name, int type, uint8_t *data, size_t nbytes) {
    (void)user;
    if (strcmp(name, "output.weight") || nbytes < 2) return;
    CHECK(type == HEARTH_TYPE_Q8_0);
    data[0] = 0x00; /* F16 0x7e00: a quiet NaN as block 0's scale */
    data[1] = 0x7e;
}

static void nan_norm(void *user, const char *name, int type, uint8_t *data, size_t nbytes) {
    (void)user;
    if (strcmp(name, "blk.0.attn_norm.weight")) return;
    CHECK(type == HEARTH_TYPE_F32);
    for (size_t i = 0; i + 4 <= nbytes; i += 4) memcpy(data + i, &(uint32_t){0x7fc00000u}, 4);
}

typedef struct {
    int32_t ids[N_GEN + 1];
    int n, zeros, bad;
} sink;

static int on_tok(void *u, int32_t t, const char *txt, size_t len) {
    (void)txt;
    (void)len;
    sink *s = u;
    if (t < 0) return 0;
    s->zeros += t == 0;
    s->bad += t >= 320;
    if (s->n < N_GEN + 1) s->ids[s->n++] = t;
    return 0;
}

/* Generates from m with temperature temp; returns the result. */
static hearth_gen_result gen(const hearth_model *m, bool sched, float temp, sink *out) {
    hearth_error e = {0};
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 2;
    int32_t prompt[] = {11, 57, 200, 3, 99};
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = N_GEN;
    gp.sampling.temp = temp;
    gp.sampling.top_k = 0;
    gp.sampling.top_p = 1;
    gp.sampling.min_p = 0;
    gp.sampling.seed = 3;
    hearth_gen_result r = {0};
    hearth_status st;
    memset(out, 0, sizeof *out);
    if (sched) {
        hearth_sched *s;
        REQUIRE(hearth_sched_new(m, &cp, &s, &e) == HEARTH_OK);
        st = hearth_sched_generate(s, prompt, 5, &gp, on_tok, out, &r, &e);
        hearth_sched_free(s);
    } else {
        hearth_ctx *c;
        REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
        st = hearth_generate(c, prompt, 5, &gp, on_tok, out, &r, &e);
        hearth_ctx_free(c);
    }
    CHECKF(st == HEARTH_OK, "%s, temp %g: %s", sched ? "scheduler" : "generate", temp, e.msg);
    CHECKF(r.finish == HEARTH_FINISH_LENGTH || r.finish == HEARTH_FINISH_EOG, "finish %s",
           hearth_finish_reason_str(r.finish));
    CHECK(out->bad == 0);
    return r;
}

int main(void) {
    const char *clean = genmodel("clean.gguf", "--arch llama --untied --type Q8_0");
    REQUIRE(clean);
    char row0[512], norm[512];
    snprintf(row0, sizeof row0, "%s/nan_row0.gguf", tmpdir_path());
    snprintf(norm, sizeof norm, "%s/nan_norm.gguf", tmpdir_path());
    REQUIRE(gguf_rewrite(clean, row0, &(gguf_edit){.patch = nan_row0}) == 0);
    REQUIRE(gguf_rewrite(clean, norm, &(gguf_edit){.patch = nan_norm}) == 0);
    hearth_error e = {0};
    hearth_model *m0, *m1, *m2;
    REQUIRE(hearth_model_open(clean, NULL, &m0, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(row0, NULL, &m1, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(norm, NULL, &m2, &e) == HEARTH_OK);

    for (int k = 0; k < 4; k++) {
        bool sched = k & 1;
        float temp = k & 2 ? 1.0f : 0.0f;
        sink a, b;
        hearth_gen_result ra = gen(m1, sched, temp, &a);
        gen(m0, sched, temp, &b);
        printf("NaN logit 0, %s, temp %g: %d tokens (%s), %d zeros; clean model: %d zeros\n",
               sched ? "scheduler" : "generate", temp, ra.n_gen, hearth_finish_reason_str(ra.finish),
               a.zeros, b.zeros);
        CHECKF(a.zeros == 0, "token 0 (NaN logit) picked %d times", a.zeros);
        if (temp == 0 && b.zeros == 0) /* sampled: token 0's lost mass shifts the draws */
            CHECKF(a.n == b.n && !memcmp(a.ids, b.ids, sizeof(int32_t) * (size_t)a.n),
                   "%s, temp %g: differs from the clean model", sched ? "scheduler" : "generate",
                   temp);
        sink c;
        hearth_gen_result rc = gen(m2, sched, temp, &c);
        printf("all logits NaN, %s, temp %g: %d tokens (%s)\n", sched ? "scheduler" : "generate",
               temp, rc.n_gen, hearth_finish_reason_str(rc.finish));
    }
    hearth_model_free(m0);
    hearth_model_free(m1);
    hearth_model_free(m2);
    tmpdir_cleanup();
    return test_done();
}
