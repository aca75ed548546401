/*
 * quant_text.h: text files for `hearth imatrix`, `hearth quantize`, `hearth perplexity` and `hearth ab eval`.
 */
#ifndef HEARTH_CLI_QUANT_TEXT_H
#define HEARTH_CLI_QUANT_TEXT_H

#include "hearth.h"

#include <stddef.h>

/* The whole file, malloc'd (free) and NUL-terminated, *len its size; NULL if
 * unreadable. */
char *quant_read_file(const char *path, size_t *len);
/* Tokens of the text file for m (add_special, parse_special); *toks owned
 * (hearth_free). */
hearth_status quant_tokenize_file(const hearth_model *m, const char *path, int32_t **toks, size_t *n,
                                  hearth_error *err);

#endif
