/*
 * model_tok.c: the model's tokenizer and its end-of-generation tokens.
 * (Until the tokenizer subsystem lands the model has no tokenizer and EOG
 * comes from the file's eos/eot ids alone.)
 */
#include "model/model_int.h"

hearth_status hearth_model_load_tokenizer(hearth_model *m, hearth_error *err);
void hearth_model_free_tokenizer(hearth_model *m);

hearth_status hearth_model_load_tokenizer(hearth_model *m, hearth_error *err) {
    (void)err;
    m->tok = NULL;
    return HEARTH_OK;
}

void hearth_model_free_tokenizer(hearth_model *m) { (void)m; }

const hearth_tokenizer *hearth_model_tokenizer(const hearth_model *m) { return m->tok; }

bool hearth_model_token_is_eog(const hearth_model *m, int32_t token) {
    for (int i = 0; i < m->n_eog; i++)
        if (m->eog_ids[i] == token) return true;
    return false;
}
