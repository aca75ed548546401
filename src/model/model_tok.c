/*
 * model_tok.c: the model's tokenizer (built from the file's tokenizer.ggml.*
 * metadata when present) and its end-of-generation test. A file without
 * tokenizer metadata still loads (the engine runs on token ids); then EOG
 * falls back on the file's eos/eot ids.
 */
#include "model/model_int.h"

#include "util/error.h"

hearth_status hearth_model_load_tokenizer(hearth_model *m, hearth_error *err);
void hearth_model_free_tokenizer(hearth_model *m);

hearth_status hearth_model_load_tokenizer(hearth_model *m, hearth_error *err) {
    m->tok = NULL;
    if (hearth_gguf_find_key(m->gguf, "tokenizer.ggml.model") < 0) return HEARTH_OK;
    hearth_status st = hearth_tokenizer_load(m->gguf, &m->tok, err);
    if (st) return st;
    if (hearth_tokenizer_n_vocab(m->tok) > m->hp.n_vocab) {
        int32_t nt = hearth_tokenizer_n_vocab(m->tok);
        hearth_tokenizer_free(m->tok);
        m->tok = NULL;
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "tokenizer has %d tokens but token_embd.weight only %d rows", nt,
                           m->hp.n_vocab);
    }
    return HEARTH_OK;
}

void hearth_model_free_tokenizer(hearth_model *m) {
    hearth_tokenizer_free(m->tok);
    m->tok = NULL;
}

const hearth_tokenizer *hearth_model_tokenizer(const hearth_model *m) { return m->tok; }

bool hearth_model_token_is_eog(const hearth_model *m, int32_t token) {
    if (m->tok) return hearth_token_is_eog(m->tok, token);
    for (int i = 0; i < m->n_eog; i++)
        if (m->eog_ids[i] == token) return true;
    return false;
}
