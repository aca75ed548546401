/*
 * cmd_tokenize.c: `hearth tokenize -m MODEL (TEXT | -f FILE) [--ids]
 * [--no-bos] [--special]`: the model's tokens for a text. With --ids one
 * line of space-separated ids; otherwise one token per line, id and piece.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HEARTH_DEFAULT_MODEL
#define HEARTH_DEFAULT_MODEL "models/hearth-demo.gguf"
#endif

static const char usage[] =
    "usage: hearth tokenize -m MODEL (TEXT | -f FILE) [--ids] [--no-bos] [--special]\n"
    "\n"
    "Prints the tokens the model's tokenizer makes of TEXT (or of FILE's\n"
    "contents; -f - reads standard input).\n"
    "\n"
    "  -m, --model MODEL  GGUF file (default: $HEARTH_MODEL, then the demo model)\n"
    "  -f, --file FILE    tokenize the contents of FILE\n"
    "  --ids              print only the ids, on one line, separated by spaces\n"
    "  --no-bos           do not add BOS/EOS (by default added as the model says)\n"
    "  --special          parse special-token text such as <|endoftext|> into\n"
    "                     control tokens (by default it stays ordinary text)\n"
    "\n"
    "Without --ids each token is printed on its own line: the id, then the\n"
    "piece it stands for in quotes (bytes that are not valid UTF-8 as \\xNN).\n";

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    if (ferror(f)) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

/* Prints a piece quoted: valid UTF-8 as is, the rest escaped. */
static void print_piece(const char *p, size_t n) {
    putchar('\'');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t l = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        bool ok = l > 0 && i + l <= n;
        for (size_t j = 1; ok && j < l; j++)
            if (((unsigned char)p[i + j] & 0xC0) != 0x80) ok = false;
        if (!ok) {
            printf("\\x%02x", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", stdout);
            i++;
        } else if (c == '\t') {
            fputs("\\t", stdout);
            i++;
        } else if (c == '\r') {
            fputs("\\r", stdout);
            i++;
        } else if (c == '\'' || c == '\\') {
            printf("\\%c", c);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            printf("\\x%02x", c);
            i++;
        } else {
            fwrite(p + i, 1, l, stdout);
            i += l;
        }
    }
    putchar('\'');
}

static int run(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *text = NULL;
    bool ids_only = false, no_bos = false, special = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (++i >= argc) return cli_fail("tokenize", NULL, "%s needs a file name", a);
            model = argv[i];
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (++i >= argc) return cli_fail("tokenize", NULL, "%s needs a file name", a);
            file = argv[i];
        } else if (!strcmp(a, "--ids")) {
            ids_only = true;
        } else if (!strcmp(a, "--no-bos")) {
            no_bos = true;
        } else if (!strcmp(a, "--special")) {
            special = true;
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc) {
                if (text || i + 2 < argc) return cli_fail("tokenize", NULL, "give one TEXT");
                text = argv[i + 1];
            }
            break;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown_option("tokenize", a);
        } else {
            if (text) return cli_fail("tokenize", NULL, "give one TEXT (quote it)");
            text = a;
        }
    }
    if (!text == !file) return cli_fail("tokenize", NULL, "give either TEXT or -f FILE");
    if (!model) model = getenv("HEARTH_MODEL");
    if (!model || !*model) model = HEARTH_DEFAULT_MODEL;

    char *buf = NULL;
    size_t len = 0;
    if (file) {
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) return cli_fail("tokenize", NULL, "can not open '%s'", file);
        buf = read_all(f, &len);
        if (f != stdin) fclose(f);
        if (!buf) return cli_fail("tokenize", NULL, "can not read '%s'", file);
    } else {
        len = strlen(text);
    }
    hearth_error err = {0};
    hearth_gguf *g = NULL;
    hearth_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (hearth_gguf_open(model, &g, &err)) {
        rc = cli_fail("tokenize", &err, "cannot open model"); /* err names the file */
        goto done;
    }
    if (hearth_tokenizer_load(g, &tok, &err)) {
        rc = cli_fail("tokenize", &err, "model '%s'", model);
        goto done;
    }
    if (hearth_tokenize(tok, file ? buf : text, len, !no_bos, special, &ids, &n, &err)) {
        rc = cli_fail("tokenize", &err, "tokenizing failed");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids_only) {
            printf(i ? " %d" : "%d", ids[i]);
            continue;
        }
        size_t pl;
        const char *p = hearth_token_to_piece(tok, ids[i], &pl);
        printf("%6d ", ids[i]);
        print_piece(p, pl);
        putchar('\n');
    }
    if (ids_only) putchar('\n');
    if (fflush(stdout)) rc = cli_fail("tokenize", NULL, "can not write the output");
done:
    hearth_free(ids);
    hearth_tokenizer_free(tok);
    hearth_gguf_free(g);
    free(buf);
    return rc;
}

const cli_command cli_cmd_tokenize = {
    .name = "tokenize",
    .summary = "show the tokens of a text",
    .usage = usage,
    .run = run,
};
