/*
 * vtrie.h: a byte trie over a vocabulary's token pieces, for constrained
 * decoding: walking it together with a grammar's state visits each shared
 * prefix once, so the tokens a grammar allows are found without testing
 * every token. Built once per tokenizer (lazily, on the first grammar-
 * constrained generation) and immutable after.
 *
 * Tokens in the trie: every id whose piece is non-empty and which is neither
 * a control token nor an end-of-generation token. Pieces longer than
 * VTRIE_MAX_DEPTH bytes are listed apart (long_ids) for a direct test.
 */
#ifndef HEARTH_TOKENIZER_VTRIE_H
#define HEARTH_TOKENIZER_VTRIE_H

#include "hearth.h"

#include <stdint.h>

#define VTRIE_MAX_DEPTH 1024

typedef struct {
    uint32_t first_child; /* children: nodes[first_child .. +n_child), by byte */
    uint32_t n_child;
    uint32_t tok_first;   /* tokens ending here: ids[tok_first .. +n_tok) */
    uint32_t n_tok : 24;
    uint32_t byte : 8;    /* the byte on the edge into this node */
} vtrie_node;

typedef struct hearth_vtrie {
    vtrie_node *nodes; /* nodes[0] is the root (the empty prefix) */
    uint32_t n_nodes;
    int32_t *ids;      /* token ids in piece order */
    uint32_t n_ids;
    int32_t *long_ids; /* pieces longer than VTRIE_MAX_DEPTH */
    uint32_t n_long;
    int32_t *eog_ids;  /* end-of-generation tokens */
    uint32_t n_eog;
} hearth_vtrie;

/* The trie of tok, built on first use and cached in tok (freed with it).
 * NULL only when out of memory (err says so). Any thread. */
const hearth_vtrie *hearth_vtrie_get(const hearth_tokenizer *tok, hearth_error *err);
/* NULL is a no-op. */
void hearth_vtrie_free(hearth_vtrie *t);

#endif
