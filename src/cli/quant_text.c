/*
 * quant_text.c: helpers shared by `hearth imatrix` and `hearth quantize`:
 * reading a text file whole and tokenizing it for a model (special tokens
 * such as <|im_start|> parsed, so ChatML text means what the model saw in
 * training; BOS as the model's metadata says).
 */
#include "quant_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *quant_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, (cap *= 2) + 1);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

hearth_status quant_tokenize_file(const hearth_model *m, const char *path, int32_t **toks, size_t *n,
                                  hearth_error *err) {
    *toks = NULL;
    *n = 0;
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    if (!tok) {
        if (err) snprintf(err->msg, sizeof err->msg, "the model has no tokenizer");
        return HEARTH_E_ARG;
    }
    size_t len;
    char *text = quant_read_file(path, &len);
    if (!text) {
        if (err) snprintf(err->msg, sizeof err->msg, "cannot read %s", path);
        return HEARTH_E_IO;
    }
    hearth_status st = hearth_tokenize(tok, text, len, true, true, toks, n, err);
    free(text);
    return st;
}

void quant_stated_read(const char *path, quant_stated *out) {
    memset(out, 0, sizeof *out);
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, NULL)) return;
    /* Both headline figures or nothing: a half-written set would print
     * zeros that look like measurements. */
    if (!hearth_gguf_get_float(g, "hearth.quantize.ppl_ratio", &out->ppl_ratio, NULL) &&
        !hearth_gguf_get_float(g, "hearth.quantize.kld_mean", &out->kld_mean, NULL)) {
        out->present = true;
        hearth_gguf_get_float(g, "hearth.quantize.kld_p99", &out->kld_p99, NULL);
        hearth_gguf_get_float(g, "hearth.quantize.ppl_base", &out->ppl_base, NULL);
        hearth_gguf_get_float(g, "hearth.quantize.ppl", &out->ppl, NULL);
        hearth_gguf_get_float(g, "hearth.quantize.top1", &out->top1, NULL);
        hearth_gguf_get_int(g, "hearth.quantize.eval_tokens", &out->eval_tokens, NULL);
        const char *f;
        if (!hearth_gguf_get_str(g, "hearth.quantize.eval_file", &f, NULL, NULL))
            snprintf(out->eval_file, sizeof out->eval_file, "%s", f);
    } else {
        out->ppl_ratio = out->kld_mean = 0;
    }
    hearth_gguf_free(g);
}
