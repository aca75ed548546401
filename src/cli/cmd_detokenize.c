/*
 * cmd_detokenize.c: `hearth detokenize -m MODEL ID...`: the text that token
 * ids stand for, followed by a newline.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HEARTH_DEFAULT_MODEL
#define HEARTH_DEFAULT_MODEL "models/hearth-demo.gguf"
#endif

static const char usage[] =
    "usage: hearth detokenize -m MODEL [--special] ID...\n"
    "\n"
    "Prints the text that the token ids stand for, then a newline. The ids may\n"
    "also come as one argument separated by spaces (the output of\n"
    "`hearth tokenize --ids`).\n"
    "\n"
    "  -m, --model MODEL  GGUF file (default: $HEARTH_MODEL, then the demo model)\n"
    "  --special          include the text of control tokens (<|endoftext|>, ...);\n"
    "                     by default they print nothing\n";

static int run(int argc, char **argv) {
    const char *model = NULL;
    bool special = false;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(argc > 0 ? argc : 1) * 64);
    size_t n = 0, cap = (size_t)(argc > 0 ? argc : 1) * 64;
    if (!ids) return cli_fail("detokenize", NULL, "out of memory");
    int rc = 0;
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && (!strcmp(a, "-m") || !strcmp(a, "--model"))) {
            if (++i >= argc) {
                rc = cli_fail("detokenize", NULL, "%s needs a file name", a);
                goto out;
            }
            model = argv[i];
            continue;
        }
        if (opts && !strcmp(a, "--special")) {
            special = true;
            continue;
        }
        if (opts && !strcmp(a, "--")) {
            opts = false;
            continue;
        }
        /* One or more ids separated by spaces. */
        char *copy = strdup(a), *save = NULL;
        if (!copy) {
            rc = cli_fail("detokenize", NULL, "out of memory");
            goto out;
        }
        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
            long v;
            if (!cli_parse_long(w, 0, INT32_MAX, &v)) {
                rc = cli_fail("detokenize", NULL, "'%s' is not a token id", w);
                free(copy);
                goto out;
            }
            if (n == cap) {
                int32_t *p = realloc(ids, sizeof(int32_t) * (cap *= 2));
                if (!p) {
                    free(copy);
                    rc = cli_fail("detokenize", NULL, "out of memory");
                    goto out;
                }
                ids = p;
            }
            ids[n++] = (int32_t)v;
        }
        free(copy);
    }
    if (!model) model = getenv("HEARTH_MODEL");
    if (!model || !*model) model = HEARTH_DEFAULT_MODEL;

    hearth_error err = {0};
    hearth_gguf *g = NULL;
    hearth_tokenizer *tok = NULL;
    char *text = NULL;
    size_t len = 0;
    if (hearth_gguf_open(model, &g, &err)) {
        rc = cli_fail("detokenize", &err, "cannot open model"); /* err names the file */
    } else if (hearth_tokenizer_load(g, &tok, &err)) {
        rc = cli_fail("detokenize", &err, "model '%s'", model);
    } else if (hearth_detokenize(tok, ids, n, special, &text, &len, &err)) {
        rc = cli_fail("detokenize", &err, "can not detokenize");
    } else {
        fwrite(text, 1, len, stdout);
        putchar('\n');
        if (fflush(stdout)) rc = cli_fail("detokenize", NULL, "can not write the output");
    }
    hearth_free(text);
    hearth_tokenizer_free(tok);
    hearth_gguf_free(g);
out:
    free(ids);
    return rc;
}

const cli_command cli_cmd_detokenize = {
    .name = "detokenize",
    .summary = "print the text of token ids",
    .usage = usage,
    .run = run,
};
