/*
 * cmd_run.c: `hearth run`: one answer from a model. Without --raw the
 * agent answers (chat template, session history, cache: run_chat.c); with
 * --raw the prompt text is continued as is (run_raw). Options of raw mode are
 * parsed once into run_opts.
 * Uses only the public API (hearth.h).
 */
#include "cli.h"
#include "model_trust.h"
#include "run_chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model;
    const char *prompt;
    int32_t n_predict;
    int n_threads;
    int32_t n_ctx;
    bool raw, json, verbose;
    hearth_sampler_params sp;
    const char *draft; /* --draft MODEL */
    bool lookup;       /* --lookup */
    int32_t draft_max; /* --draft-max N (0: the default) */
    hearth_type type_k, type_v; /* -ctk, -ctv */
} run_opts;

#define RAW_USAGE \
    "usage: hearth run --raw [-m MODEL] (-p PROMPT | PROMPT) [options]\n\n" \
    "Generates a continuation of PROMPT. With --raw the prompt is used as is (no chat\n" \
    "template; BOS added as the model's metadata says).\n\n" \
    "  -m, --model FILE    GGUF model (default: $HEARTH_MODEL, else the bundled model)\n" \
    "  -p, --prompt TEXT   prompt text\n" \
    "  -n, --n-predict N   most tokens to generate (default 128; -1: until the end)\n" \
    "  -c, --ctx-size N    context size (default: min(model's, 4096))\n" \
    "  -t, --threads N     threads (default: number of CPUs)\n" \
    "  -ctk, --cache-type-k T  KV cache type of keys: f16 (default), q8_0, f32\n" \
    "  -ctv, --cache-type-v T  of values: f16, q8_0, q4_0, f32\n" \
    "  --temp T            temperature; 0 = greedy (default 0.8)\n" \
    "  --top-k K           (default 40)    --top-p P   (default 0.95)\n" \
    "  --min-p P           (default 0.05)  --repeat-penalty X (default 1)\n" \
    "  --seed S            random seed (default: random)\n" \
    "  --draft MODEL       speculative decoding: MODEL (same vocabulary) drafts tokens\n" \
    "                      the model verifies several at a time; same output, faster\n" \
    "  --lookup            speculative decoding with drafts from the prompt's own n-grams\n" \
    "  --draft-max N       most tokens drafted per step (default 16)\n" \
    "  --raw               no chat template (required for now)\n" \
    "  --json              print one JSON object: prompt_ids, ids, text, timings\n" \
    "  -v, --verbose       print timings to stderr\n"

/* Writes s as a JSON string literal. */
static void json_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch == '\r') fputs("\\r", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static bool parse_opts(int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 128;
    o->sp = hearth_sampler_default_params();
    o->type_k = o->type_v = HEARTH_TYPE_F16;
    const char *env = getenv("HEARTH_MODEL");
    o->model = env && *env ? env : HEARTH_DEFAULT_MODEL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        float f;
#define NEED()                                                                   \
    do {                                                                         \
        if (!v) {                                                                \
            cli_fail("run", NULL, "%s needs a value", a);                        \
            return false;                                                        \
        }                                                                        \
        i++;                                                                     \
    } while (0)
#define BAD()                                                                    \
    do {                                                                         \
        cli_fail("run", NULL, "bad value for %s: '%s'", a, v);                   \
        return false;                                                            \
    } while (0)
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) { NEED(); o->model = v; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { NEED(); o->prompt = v; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEED(); if (!cli_parse_long(v, -1, 1 << 24, &l)) BAD(); o->n_predict = (int32_t)l;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            NEED(); if (!cli_parse_long(v, 0, 1 << 24, &l)) BAD(); o->n_ctx = (int32_t)l;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED(); if (!cli_parse_long(v, 1, 1024, &l)) BAD(); o->n_threads = (int)l;
        } else if (!strcmp(a, "--temp")) { NEED(); if (!cli_parse_float(v, &f)) BAD(); o->sp.temp = f; }
        else if (!strcmp(a, "--top-k")) {
            NEED(); if (!cli_parse_long(v, 0, 1 << 24, &l)) BAD(); o->sp.top_k = (int32_t)l;
        } else if (!strcmp(a, "--top-p")) { NEED(); if (!cli_parse_float(v, &f)) BAD(); o->sp.top_p = f; }
        else if (!strcmp(a, "--min-p")) { NEED(); if (!cli_parse_float(v, &f)) BAD(); o->sp.min_p = f; }
        else if (!strcmp(a, "--repeat-penalty")) {
            NEED(); if (!cli_parse_float(v, &f) || f <= 0) BAD(); o->sp.repeat_penalty = f;
        } else if (!strcmp(a, "--seed")) {
            NEED();
            char *end;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || *v == '-') BAD();
            o->sp.seed = s;
        } else if (!strcmp(a, "-ctk") || !strcmp(a, "--cache-type-k") || !strcmp(a, "-ctv") ||
                   !strcmp(a, "--cache-type-v")) {
            NEED();
            bool values = !strcmp(a, "-ctv") || !strcmp(a, "--cache-type-v");
            hearth_error te = {0};
            if (hearth_cache_type_parse(v, values, values ? &o->type_v : &o->type_k, &te)) {
                cli_fail("run", &te, "bad %s", a);
                return false;
            }
        } else if (!strcmp(a, "--draft")) { NEED(); o->draft = v; }
        else if (!strcmp(a, "--lookup")) o->lookup = true;
        else if (!strcmp(a, "--draft-max")) {
            NEED(); if (!cli_parse_long(v, 1, 64, &l)) BAD(); o->draft_max = (int32_t)l;
        } else if (!strcmp(a, "--raw")) o->raw = true;
        else if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) o->verbose = true;
        else if (a[0] == '-' && a[1]) {
            cli_unknown_option("run", a);
            return false;
        } else if (!o->prompt) o->prompt = a;
        else {
            cli_fail("run", NULL, "unexpected argument '%s'", a);
            return false;
        }
#undef NEED
#undef BAD
    }
    return true;
}

typedef struct {
    const run_opts *o;
    int32_t *ids;
    size_t n_ids, cap;
    char *text;
    size_t text_len, text_cap;
    bool oom;
} run_state;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    run_state *s = user;
    if (token >= 0) {
        if (s->n_ids == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 256;
            int32_t *p = realloc(s->ids, cap * sizeof *p);
            if (!p) return s->oom = true, 1;
            s->ids = p;
            s->cap = cap;
        }
        s->ids[s->n_ids++] = token;
    }
    if (s->o->json) {
        if (s->text_len + len + 1 > s->text_cap) {
            size_t cap = s->text_cap ? s->text_cap : 1024;
            while (cap < s->text_len + len + 1) cap *= 2;
            char *p = realloc(s->text, cap);
            if (!p) return s->oom = true, 1;
            s->text = p;
            s->text_cap = cap;
        }
        memcpy(s->text + s->text_len, text, len);
        s->text_len += len;
    } else {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return 0;
}

static int run_raw(const run_opts *o) {
    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = o->n_threads;
    hearth_model *m = NULL, *dm = NULL;
    hearth_ctx *c = NULL;
    hearth_spec *spec = NULL;
    int32_t *prompt = NULL;
    int rc = 1;
    run_state s = {.o = o};
    if (cli_model_gate("run", NULL, o->model)) return 1;
    if (hearth_model_open(o->model, &mp, &m, &e)) return cli_fail("run", &e, "cannot load model");
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    if (!tok) {
        cli_fail("run", NULL, "%s has no tokenizer", o->model);
        goto out;
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = o->n_ctx;
    cp.n_threads = o->n_threads;
    cp.type_k = o->type_k;
    cp.type_v = o->type_v;
    if (hearth_ctx_new(m, &cp, &c, &e)) {
        cli_fail("run", &e, "cannot make a context");
        goto out;
    }
    size_t n_prompt = 0;
    if (hearth_tokenize(tok, o->prompt, strlen(o->prompt), true, true, &prompt, &n_prompt, &e)) {
        cli_fail("run", &e, "cannot tokenize the prompt");
        goto out;
    }
    if (n_prompt == 0) {
        cli_fail("run", NULL, "the prompt gives no tokens");
        goto out;
    }
    if (o->draft || o->lookup) {
        hearth_spec_params sp = hearth_spec_default_params();
        if (o->draft) {
            if (cli_model_gate("run", NULL, o->draft)) goto out;
            if (hearth_model_open(o->draft, &mp, &dm, &e)) {
                cli_fail("run", &e, "cannot load the draft model");
                goto out;
            }
            sp.draft = dm;
        }
        sp.lookup = o->lookup;
        sp.n_threads = o->n_threads;
        if (o->draft_max) sp.n_draft_max = o->draft_max;
        if (hearth_spec_new(m, &sp, &spec, &e)) {
            cli_fail("run", &e, "cannot use speculative decoding");
            goto out;
        }
    }
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = o->n_predict < 0 ? 0 : o->n_predict;
    gp.sampling = o->sp;
    gp.spec = spec;
    hearth_gen_result r;
    if (o->n_predict == 0) {
        memset(&r, 0, sizeof r);
    } else if (hearth_generate(c, prompt, (int32_t)n_prompt, &gp, on_token, &s, &r, &e)) {
        cli_fail("run", &e, "generation failed");
        goto out;
    }
    if (s.oom) {
        cli_fail("run", NULL, "out of memory");
        goto out;
    }
    double ptps = r.prompt_ms > 0 ? r.n_prompt / (r.prompt_ms / 1e3) : 0;
    int32_t n_dec = r.n_gen > 1 ? r.n_gen - 1 : 0; /* steps that ran the model */
    double gtps = r.gen_ms > 0 ? n_dec / (r.gen_ms / 1e3) : 0;
    if (o->json) {
        printf("{\"prompt_ids\":[");
        for (size_t i = 0; i < n_prompt; i++) printf("%s%d", i ? "," : "", prompt[i]);
        printf("],\"ids\":[");
        for (size_t i = 0; i < s.n_ids; i++) printf("%s%d", i ? "," : "", s.ids[i]);
        printf("],\"text\":");
        json_str(stdout, s.text ? s.text : "", s.text_len);
        printf(",\"finish\":\"%s\",\"timings\":{\"prompt_tokens\":%d,\"prompt_ms\":%.3f,"
               "\"prompt_tps\":%.2f,\"gen_tokens\":%d,\"gen_ms\":%.3f,\"gen_tps\":%.2f}",
               hearth_finish_reason_str(r.finish), r.n_prompt, r.prompt_ms, ptps, r.n_gen,
               r.gen_ms, gtps);
        if (spec) cli_print_spec_json(stdout, &r);
        printf("}\n");
    } else {
        printf("\n");
    }
    if (o->verbose)
        fprintf(stderr, "hearth run: prompt %d tokens, %.1f t/s; generated %d tokens, %.1f t/s; finish: %s\n",
                r.n_prompt, ptps, r.n_gen, gtps, hearth_finish_reason_str(r.finish));
    if (o->verbose && spec) cli_print_spec_line(stderr, "hearth run", &r);
    rc = 0;
out:
    free(s.ids);
    free(s.text);
    hearth_free(prompt);
    hearth_ctx_free(c);
    hearth_spec_free(spec);
    hearth_model_free(dm);
    hearth_model_free(m);
    return rc;
}

static int run(int argc, char **argv) {
    bool raw = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) raw |= !strcmp(argv[i], "--raw");
    if (!raw) return cli_run_chat(argc, argv);
    run_opts o;
    if (!parse_opts(argc, argv, &o)) return 2;
    if (!o.prompt) return cli_fail("run", NULL, "no prompt (use -p PROMPT)");
    if (!*o.prompt) return cli_fail("run", NULL, "the prompt is empty");
    return run_raw(&o);
}

const cli_command cli_cmd_run = {
    .name = "run",
    .summary = "answer a prompt (chat, kept in a session; --raw: plain continuation)",
    .usage = CLI_RUN_CHAT_USAGE "\n" RAW_USAGE,
    .run = run,
};
