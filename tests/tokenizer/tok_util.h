/*
 * tok_util.h: helpers shared by the tokenizer tests (tok_util.c): loading a
 * vocabulary from the shared test data, reading whole files.
 */
#ifndef HEARTH_TEST_TOK_UTIL_H
#define HEARTH_TEST_TOK_UTIL_H

#include "hearth.h"

#include <stddef.h>

/* Directory of the real vocabularies ($HEARTH_SHARED_DIR/testdata/vocab). */
const char *tok_vocab_dir(void);

/* Loads ggml-vocab-NAME.gguf; NULL (with a message on stderr) if it can not. */
hearth_tokenizer *tok_load_vocab(const char *name);

/* Reads a whole file (NUL-terminated, malloc'd); NULL if absent. */
char *tok_read_file(const char *path, size_t *len);

#endif
