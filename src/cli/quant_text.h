/*
 * quant_text.h: text files for `hearth imatrix`, `hearth quantize`, `hearth perplexity` and `hearth ab eval`.
 */
#ifndef HEARTH_CLI_QUANT_TEXT_H
#define HEARTH_CLI_QUANT_TEXT_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole file, malloc'd (free) and NUL-terminated, *len its size; NULL if
 * unreadable. */
char *quant_read_file(const char *path, size_t *len);
/* Tokens of the text file for m (add_special, parse_special); *toks owned
 * (hearth_free). */
hearth_status quant_tokenize_file(const hearth_model *m, const char *path, int32_t **toks, size_t *n,
                                  hearth_error *err);

/* The accuracy `hearth quantize` measured when it wrote a file, as stated in
 * its metadata (hearth.quantize.*). present is false when the file has no
 * hearth.quantize.ppl_ratio and hearth.quantize.kld_mean (not made by hearth
 * quantize, or made before it measured): the other fields are then 0 and
 * mean nothing. eval_file is "" when absent. */
typedef struct {
    bool present;
    double kld_mean, kld_p99, ppl_base, ppl, ppl_ratio, top1;
    int64_t eval_tokens;
    char eval_file[256];
} quant_stated;

/* Reads path's stated figures into *out (see quant_stated); a file that
 * cannot be opened is "not present". Any thread. */
void quant_stated_read(const char *path, quant_stated *out);

#endif
