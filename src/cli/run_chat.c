/*
 * run_chat.c: `hearth run` through the agent (chat template applied, the
 * exchange kept in a session), and the option handling `hearth chat` shares.
 * Settings come from flags, then HEARTH_* variables, then the config file,
 * then defaults; the model falls back to the bundled demo model.
 */
#include "run_chat.h"

#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HEARTH_DEFAULT_MODEL
#define HEARTH_DEFAULT_MODEL "models/hearth-demo.gguf"
#endif


/* Flags that take a value, and the setting each sets. */
static const struct {
    const char *s, *l, *key;
} value_flags[] = {
    {"-m", "--model", "model"},       {"-c", "--ctx-size", "max_context"},
    {"-t", "--threads", "threads"},   {"-n", "--max-tokens", "max_tokens"},
    {NULL, "--n-predict", "max_tokens"},
    {NULL, "--temp", "temp"},         {NULL, "--top-k", "top_k"},
    {NULL, "--top-p", "top_p"},       {NULL, "--seed", "seed"},
    {NULL, "--min-p", "min_p"},       {NULL, "--repeat-penalty", "repeat_penalty"},
    {NULL, "--system", "system_prompt"}, {NULL, "--home", "home"},
};

int cli_agent_parse(const char *cmd, int argc, char **argv, cli_agent_opts *o) {
    *o = (cli_agent_opts){.session = "default"};
    hearth_error err = {0};
    if (hearth_settings_load(&o->settings, &err)) return cli_fail(cmd, &err, "settings");
    o->rest = calloc((size_t)argc + 1, sizeof *o->rest);
    if (!o->rest) return cli_fail(cmd, NULL, "out of memory");
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts || a[0] != '-' || !a[1]) {
            o->rest[o->n_rest++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            opts = false;
            continue;
        }
        if (!strcmp(a, "-s") || !strcmp(a, "--session")) {
            if (i + 1 >= argc) return cli_fail(cmd, NULL, "%s needs a value", a);
            o->session = argv[++i];
            if (!*o->session) return cli_fail(cmd, NULL, "empty session name");
            continue;
        }
        if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (i + 1 >= argc) return cli_fail(cmd, NULL, "%s needs a value", a);
            o->prompt = argv[++i];
            continue;
        }
        if (!strcmp(a, "--json")) { o->json = true; continue; }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) { o->verbose = true; continue; }
        if (!strcmp(a, "--no-cache")) { o->no_cache = true; continue; }
        if (!strcmp(a, "--sandbox") || !strcmp(a, "--no-sandbox")) {
            if (hearth_settings_set(o->settings, "sandbox", a[2] == 'n' ? "0" : "1", &err))
                return cli_fail(cmd, &err, "%s", a);
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { o->quiet = true; continue; }
        bool found = false;
        for (size_t f = 0; f < sizeof value_flags / sizeof value_flags[0]; f++) {
            const char *val = NULL;
            size_t ll = strlen(value_flags[f].l);
            if ((value_flags[f].s && !strcmp(a, value_flags[f].s)) || !strcmp(a, value_flags[f].l)) {
                if (i + 1 >= argc) return cli_fail(cmd, NULL, "%s needs a value", a);
                val = argv[++i];
            } else if (!strncmp(a, value_flags[f].l, ll) && a[ll] == '=') {
                val = a + ll + 1;
            } else {
                continue;
            }
            if (hearth_settings_set(o->settings, value_flags[f].key, val, &err))
                return cli_fail(cmd, &err, "%s", a);
            found = true;
            break;
        }
        if (!found) return cli_fail(cmd, NULL, "unknown option '%s' (see hearth %s --help)", a, cmd);
    }
    return 0;
}

void cli_agent_opts_free(cli_agent_opts *o) {
    hearth_settings_free(o->settings);
    free(o->rest);
    *o = (cli_agent_opts){0};
}

static void warn_stderr(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "hearth: warning: %s\n", msg);
}

int cli_agent_open(const char *cmd, cli_agent_opts *o, hearth_agent **out) {
    hearth_error err = {0};
    hearth_agent_params p = hearth_agent_default_params();
    if (hearth_agent_params_from_settings(o->settings, &p, &err))
        return cli_fail(cmd, &err, "settings");
    if (!p.model_path) p.model_path = HEARTH_DEFAULT_MODEL;
    if (!o->quiet) p.warn = warn_stderr;
    if (hearth_agent_open(&p, out, &err)) return cli_fail(cmd, &err, "cannot start the agent");
    /* Local-only: once the model is mapped and the store open, nothing this
     * process does needs the network or another program, so a bug can not
     * send data out either. */
    int64_t sandbox = 1;
    if (hearth_settings_get_int(o->settings, "sandbox", &sandbox, &err) == HEARTH_E_ARG) {
        hearth_agent_free(*out);
        *out = NULL;
        return cli_fail(cmd, &err, "settings");
    }
    if (sandbox && hearth_sandbox_apply(HEARTH_SANDBOX_NO_NET | HEARTH_SANDBOX_NO_EXEC, &err)) {
        hearth_agent_free(*out);
        *out = NULL;
        return cli_fail(cmd, &err, "cannot apply the sandbox (--no-sandbox runs without it)");
    }
    return 0;
}

hearth_agent_request cli_agent_request(const hearth_agent *a, const cli_agent_opts *o) {
    hearth_agent_request r = hearth_agent_default_request(a);
    r.session = o->session;
    r.no_cache = o->no_cache;
    return r;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static bool stream_stdout(void *ud, const char *text, size_t len) {
    (void)ud;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

/* The prompt: -p, else the positional arguments joined by spaces, else stdin. */
static char *read_prompt(const cli_agent_opts *o) {
    if (o->prompt) return strdup(o->prompt);
    size_t n = 0, cap = 256;
    char *s = malloc(cap);
    if (!s) return NULL;
    if (o->n_rest > 0) {
        for (int i = 0; i < o->n_rest; i++) {
            size_t l = strlen(o->rest[i]);
            if (n + l + 2 > cap) {
                while (n + l + 2 > cap) cap *= 2;
                char *t = realloc(s, cap);
                if (!t) { free(s); return NULL; }
                s = t;
            }
            if (i) s[n++] = ' ';
            memcpy(s + n, o->rest[i], l);
            n += l;
        }
    } else {
        size_t r;
        while ((r = fread(s + n, 1, cap - n - 1, stdin)) > 0) {
            n += r;
            if (cap - n < 2) {
                char *t = realloc(s, cap * 2);
                if (!t) { free(s); return NULL; }
                s = t;
                cap *= 2;
            }
        }
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    }
    s[n] = '\0';
    return s;
}

static hearth_agent *sigint_agent; /* the CLI's one agent, for the signal handler */

static void on_sigint(int sig) {
    (void)sig;
    if (sigint_agent) hearth_agent_cancel(sigint_agent); /* an atomic store */
}

int cli_run_chat(int argc, char **argv) {
    cli_agent_opts o;
    int rc = cli_agent_parse("run", argc, argv, &o);
    if (rc) {
        cli_agent_opts_free(&o);
        return rc;
    }
    char *prompt = NULL;
    if (o.prompt && o.n_rest) {
        rc = cli_fail("run", NULL, "give the prompt either with -p or as arguments");
        goto out;
    }
    if (!o.prompt && o.n_rest == 0 && isatty(STDIN_FILENO)) {
        rc = cli_fail("run", NULL, "no prompt (give it as arguments or on stdin)");
        goto out;
    }
    prompt = read_prompt(&o);
    if (!prompt) {
        rc = cli_fail("run", NULL, "out of memory");
        goto out;
    }
    hearth_agent *a = NULL;
    if ((rc = cli_agent_open("run", &o, &a))) goto out;
    hearth_agent_request r = cli_agent_request(a, &o);
    r.user = prompt;
    if (!o.json) r.on_text = stream_stdout;
    sigint_agent = a;
    signal(SIGINT, on_sigint);
    hearth_agent_response resp;
    hearth_error err = {0};
    hearth_status st = hearth_agent_process(a, &r, &resp, &err);
    signal(SIGINT, SIG_DFL);
    sigint_agent = NULL;
    if (st) {
        rc = cli_fail("run", &err, "no answer");
    } else if (o.json) {
        printf("{\"content\":");
        cli_json_string(stdout, resp.content);
        printf(",\"session\":");
        cli_json_string(stdout, o.session);
        printf(",\"source\":\"%s\",", hearth_source_name(resp.source));
        if (resp.confidence >= 0) printf("\"confidence\":%.4f,", resp.confidence);
        else printf("\"confidence\":null,");
        printf("\"finish_reason\":\"%s\","
               "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d},"
               "\"decoded_tokens\":%d,"
               "\"timings\":{\"prompt_ms\":%.3f,\"generate_ms\":%.3f,\"total_ms\":%.3f}}\n",
               hearth_finish_reason_openai(resp.finish),
               resp.prompt_tokens, resp.completion_tokens,
               resp.prompt_tokens + resp.completion_tokens, resp.decoded_tokens,
               resp.prompt_ms, resp.generate_ms, resp.total_ms);
    } else {
        /* A cached answer was streamed in one piece like any other. */
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (!st && o.verbose)
        fprintf(stderr, "hearth run: %s answer, confidence %.2f, finish %s; prompt %d tokens "
                "(%.1f ms), answer %d tokens (%.1f ms), total %.1f ms\n",
                hearth_source_name(resp.source), resp.confidence,
                hearth_finish_reason_openai(resp.finish),
                resp.prompt_tokens, resp.prompt_ms, resp.completion_tokens, resp.generate_ms,
                resp.total_ms);
    hearth_agent_response_clear(&resp);
    hearth_agent_free(a);
out:
    free(prompt);
    cli_agent_opts_free(&o);
    return rc;
}
