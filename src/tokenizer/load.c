/*
 * load.c: hearth_tokenizer_load, which reads the tokenizer.ggml.* keys of a
 * GGUF file (through the public hearth_gguf_* getters, so every value is
 * already bounds-checked) into a hearth_tok_src and builds from it.
 */
#include "tokenizer/tokenizer_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

/* An optional integer id key: -1 when absent (or stored as -1 / UINT32_MAX,
 * the writers' "none"). */
static hearth_status get_id(const hearth_gguf *g, const char *key, int64_t *out, hearth_error *err) {
    int64_t v;
    hearth_status st = hearth_gguf_get_int(g, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
        *out = -1;
        return HEARTH_OK;
    }
    if (st) return st;
    /* Any other value outside the vocabulary is reported by the build. */
    *out = v == (int64_t)UINT32_MAX ? -1 : v;
    return HEARTH_OK;
}

static hearth_status get_flag(const hearth_gguf *g, const char *key, int *out, hearth_error *err) {
    bool v;
    hearth_status st = hearth_gguf_get_bool(g, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
        *out = -1;
        return HEARTH_OK;
    }
    if (st) return st;
    *out = v;
    return HEARTH_OK;
}

/* A string array key: pointers into g (valid while g is open). */
static hearth_status get_strs(const hearth_gguf *g, const char *key, bool required,
                              const char ***strs, size_t **lens, size_t *n, hearth_error *err) {
    hearth_gguf_value v;
    int64_t idx;
    *n = 0;
    hearth_status st = hearth_gguf_get_arr(g, key, &v, &idx, err);
    if (st == HEARTH_E_NOTFOUND && !required) {
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    if (st == HEARTH_E_NOTFOUND)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s is missing", key);
    if (st) return st;
    if (v.elem_type != HEARTH_GGUF_STRING)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s is not an array of strings", key);
    if (v.n > (uint64_t)HEARTH_TOK_MAX_VOCAB * 4)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: %llu entries is too many", key,
                           (unsigned long long)v.n);
    size_t cnt = (size_t)v.n;
    *strs = hearth_malloc(sizeof(char *) * (cnt ? cnt : 1));
    *lens = hearth_malloc(sizeof(size_t) * (cnt ? cnt : 1));
    if (!*strs || !*lens) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "%s: out of memory", key);
    for (size_t j = 0; j < cnt; j++) {
        (*strs)[j] = hearth_gguf_arr_str(g, idx, j, &(*lens)[j]);
        if (!(*strs)[j]) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s[%zu] is unreadable", key, j);
    }
    *n = cnt;
    return HEARTH_OK;
}

/* A numeric array of n 4-byte elements of one of the given types, copied. */
static hearth_status get_arr4(const hearth_gguf *g, const char *key, size_t n, bool is_float,
                              void **out, hearth_error *err) {
    hearth_gguf_value v;
    hearth_status st = hearth_gguf_get_arr(g, key, &v, NULL, err);
    if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    if (st) return st;
    bool ok = is_float ? v.elem_type == HEARTH_GGUF_FLOAT32
                       : (v.elem_type == HEARTH_GGUF_INT32 || v.elem_type == HEARTH_GGUF_UINT32);
    if (!ok)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: elements are not %s", key,
                           is_float ? "float32" : "int32");
    if (v.n != n)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s has %llu entries but there are %zu tokens",
                           key, (unsigned long long)v.n, n);
    *out = hearth_malloc(4 * (n ? n : 1));
    if (!*out) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "%s: out of memory", key);
    if (n) memcpy(*out, v.data, 4 * n);
    return HEARTH_OK;
}

hearth_status hearth_tokenizer_load(const hearth_gguf *g, hearth_tokenizer **out,
                                    hearth_error *err) {
    if (out) *out = NULL;
    if (!g || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_tokenizer_load: NULL argument");
    hearth_tok_src s;
    memset(&s, 0, sizeof s);
    const char **tokens = NULL, **merges = NULL;
    size_t *tlens = NULL, *mlens = NULL;
    void *scores = NULL, *types = NULL;
    char *model = NULL, *pre = NULL;
    hearth_status st;
    const char *str;
    size_t slen;

    st = hearth_gguf_get_str(g, "tokenizer.ggml.model", &str, &slen, err);
    if (st == HEARTH_E_NOTFOUND) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "tokenizer.ggml.model is missing (no tokenizer in "
                         "this file)");
        goto done;
    }
    if (st) goto done;
    if (!(model = hearth_strndup(str, slen))) goto nomem;
    st = hearth_gguf_get_str(g, "tokenizer.ggml.pre", &str, &slen, err);
    if (st == HEARTH_OK) {
        if (!(pre = hearth_strndup(str, slen))) goto nomem;
    } else if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
    } else {
        goto done;
    }
    s.model = model;
    s.pre = pre;
    if ((st = get_strs(g, "tokenizer.ggml.tokens", true, &tokens, &tlens, &s.n_vocab, err)))
        goto done;
    s.tokens = tokens;
    s.token_lens = tlens;
    if ((st = get_arr4(g, "tokenizer.ggml.scores", s.n_vocab, true, &scores, err)) ||
        (st = get_arr4(g, "tokenizer.ggml.token_type", s.n_vocab, false, &types, err)))
        goto done;
    s.scores = scores;
    s.types = types;
    if ((st = get_strs(g, "tokenizer.ggml.merges", false, &merges, &mlens, &s.n_merges, err)))
        goto done;
    s.merges = merges;
    s.merge_lens = mlens;
    if ((st = get_id(g, "tokenizer.ggml.bos_token_id", &s.bos, err)) ||
        (st = get_id(g, "tokenizer.ggml.eos_token_id", &s.eos, err)) ||
        (st = get_id(g, "tokenizer.ggml.unknown_token_id", &s.unk, err)) ||
        (st = get_id(g, "tokenizer.ggml.padding_token_id", &s.pad, err)) ||
        (st = get_id(g, "tokenizer.ggml.eot_token_id", &s.eot, err)) ||
        (st = get_id(g, "tokenizer.ggml.eom_token_id", &s.eom, err)) ||
        (st = get_id(g, "tokenizer.ggml.cls_token_id", &s.cls, err)) ||
        /* sic: the key as llama.cpp's converter spells it */
        (st = get_id(g, "tokenizer.ggml.seperator_token_id", &s.sep, err)) ||
        (st = get_flag(g, "tokenizer.ggml.add_bos_token", &s.add_bos, err)) ||
        (st = get_flag(g, "tokenizer.ggml.add_eos_token", &s.add_eos, err)) ||
        (st = get_flag(g, "tokenizer.ggml.add_space_prefix", &s.add_space_prefix, err)))
        goto done;
    st = hearth_tokenizer_build(&s, out, err);
    goto done;
nomem:
    st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "hearth_tokenizer_load: out of memory");
done:
    hearth_free(model);
    hearth_free(pre);
    hearth_free(tokens);
    hearth_free(tlens);
    hearth_free(merges);
    hearth_free(mlens);
    hearth_free(scores);
    hearth_free(types);
    return st;
}
