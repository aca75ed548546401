/*
 * test_embed_model.c: the embed_model setting. With an embedding model (a
 * BERT encoder from hearth-genmodel) set, hearth_embed gives that model's
 * vectors (its dimension, the same values as hearth_ctx_embed on it), the
 * exchanges of a session are indexed with it and the search (the recall of
 * older turns) finds them; without it, the chat model embeds as before. The
 * setting is read by hearth_agent_params_from_settings; a missing file is a
 * clear error naming the setting; a BERT model as the chat model refuses to
 * chat with a message that says it is an embedding model.
 */
#include "test.h"

#include "fixture.h"
#include "hearth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hearth_agent *open_agent(const char *model, const char *embed, const char *home,
                                hearth_error *err) {
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = model;
    p.embed_model_path = embed;
    p.data_dir = home;
    p.max_context = 256;
    p.n_threads = 1;
    p.temperature = 0.0f;
    p.max_tokens = 4;
    hearth_agent *a = NULL;
    if (hearth_agent_open(&p, &a, err)) return NULL;
    return a;
}

int main(void) {
    char *dir = fx_tmpdir();
    char *chat = fx_model(dir, "chat.gguf", "--arch llama --preset tiny --type F32");
    char *bert = fx_model(dir, "bert.gguf", "--arch bert --preset bert-tiny --type F32");
    char home[512];
    snprintf(home, sizeof home, "%s/home", dir);
    hearth_error err = {0};

    /* the encoder on its own, for the expected vector */
    hearth_model *bm = NULL;
    REQUIRE(hearth_model_open(bert, NULL, &bm, &err) == HEARTH_OK);
    hearth_ctx *bc = NULL;
    REQUIRE(hearth_ctx_new(bm, NULL, &bc, &err) == HEARTH_OK);
    int bd = hearth_model_n_embd(bm);
    const char *text = "My cat is named Zorblax.";
    int32_t *ids = NULL;
    size_t n = 0;
    REQUIRE(hearth_tokenize(hearth_model_tokenizer(bm), text, strlen(text), true, false, &ids, &n,
                            &err) == HEARTH_OK);
    float *want = malloc((size_t)bd * sizeof *want);
    REQUIRE(hearth_ctx_embed(bc, 0, ids, (int32_t)n, want, &err) == HEARTH_OK);
    hearth_free(ids);

    hearth_agent *a = open_agent(chat, bert, home, &err);
    CHECKF(a != NULL, "%s", err.msg);
    REQUIRE(a);
    CHECK(hearth_model_is_encoder(hearth_agent_embed_model(a)));
    CHECK(!hearth_model_is_encoder(hearth_agent_model(a)));
    float *v = NULL;
    int dim = 0;
    REQUIRE(hearth_embed(a, text, strlen(text), &v, &dim, &err) == HEARTH_OK);
    CHECK_EQ_INT(dim, bd);
    CHECK(dim != hearth_model_n_embd(hearth_agent_model(a)));
    double worst = 0;
    for (int i = 0; i < dim && i < bd; i++)
        if (fabs((double)v[i] - want[i]) > worst) worst = fabs((double)v[i] - want[i]);
    CHECKF(worst < 1e-6, "agent vs encoder: %g", worst);
    hearth_free(v);

    /* exchanges are indexed with the embedding model, and found again */
    const char *const turns[] = {text, "What should I cook tonight?",
                                        "Tell me about mountains in spring."};
    for (int i = 0; i < 3; i++) {
        hearth_agent_request q = hearth_agent_default_request(a);
        q.session = "s";
        q.user = turns[i];
        hearth_agent_response r = {0};
        CHECKF(hearth_agent_process(a, &q, &r, &err) == HEARTH_OK, "%s", err.msg);
        hearth_agent_response_clear(&r);
    }
    hearth_embedding_hit hits[4];
    size_t nh = 0;
    CHECKF(hearth_agent_search(a, text, "message", 0, 4, hits, &nh, &err) == HEARTH_OK, "%s",
           err.msg);
    CHECK(nh >= 1);
    /* the best hit is the message itself (same text, same encoder) */
    if (nh) CHECKF(hits[0].score > 0.999, "score %g", hits[0].score);
    hearth_agent_free(a);

    /* without embed_model the chat model embeds, as before */
    a = open_agent(chat, NULL, home, &err);
    REQUIRE(a);
    REQUIRE(hearth_embed(a, text, strlen(text), &v, &dim, &err) == HEARTH_OK);
    CHECK_EQ_INT(dim, hearth_model_n_embd(hearth_agent_model(a)));
    CHECK(hearth_agent_embed_model(a) == hearth_agent_model(a));
    hearth_free(v);
    hearth_agent_free(a);

    /* from the settings */
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    FILE *f = fopen(cfg, "w");
    REQUIRE(f);
    fprintf(f, "embed_model = %s\n", bert);
    fclose(f);
    setenv("HEARTH_CONFIG", cfg, 1);
    unsetenv("HEARTH_EMBED_MODEL");
    hearth_settings *set = NULL;
    REQUIRE(hearth_settings_load(&set, &err) == HEARTH_OK);
    hearth_agent_params p = hearth_agent_default_params();
    REQUIRE(hearth_agent_params_from_settings(set, &p, &err) == HEARTH_OK);
    CHECK(p.embed_model_path && !strcmp(p.embed_model_path, bert));
    hearth_settings_free(set);

    /* a missing embedding model is an error naming the setting */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.gguf", dir);
    a = open_agent(chat, missing, home, &err);
    CHECK(a == NULL);
    CHECKF(strstr(err.msg, "embed_model") != NULL, "%s", err.msg);

    /* a BERT model cannot chat, and says why */
    a = open_agent(bert, NULL, home, &err);
    CHECKF(a != NULL, "%s", err.msg);
    if (a) {
        hearth_agent_request q = hearth_agent_default_request(a);
        q.user = "hello";
        hearth_agent_response r = {0};
        CHECK(hearth_agent_process(a, &q, &r, &err) != HEARTH_OK);
        CHECKF(strstr(err.msg, "embedding model") != NULL, "%s", err.msg);
        hearth_agent_response_clear(&r);
        hearth_agent_free(a);
    }

    free(want);
    hearth_ctx_free(bc);
    hearth_model_free(bm);
    free(chat);
    free(bert);
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm)) fprintf(stderr, "cleanup failed\n");
    free(dir);
    return test_done();
}
