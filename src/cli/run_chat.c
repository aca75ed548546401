/*
 * run_chat.c: `hearth run` through the agent (chat template applied, the
 * exchange kept in a session), and the option handling `hearth chat` shares.
 * Settings come from flags, then HEARTH_* variables, then the config file,
 * then defaults; the model falls back to the bundled demo model.
 */
#include "run_chat.h"

#include "cli.h"
#include "model_pick.h"
#include "model_trust.h"
#include "models/resolve.h"

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
    {NULL, "--think", "think"},
    {NULL, "--tool-steps", "tool_steps"},
    {NULL, "--draft", "draft_model"}, {NULL, "--draft-max", "draft_max"},
    {"-ctk", "--cache-type-k", "cache_type_k"}, {"-ctv", "--cache-type-v", "cache_type_v"},
};

int cli_agent_parse(const char *cmd, int argc, char **argv, cli_agent_opts *o) {
    *o = (cli_agent_opts){.session = "default", .cloud = -1};
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
            o->session_given = true;
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
        if (!strcmp(a, "--cloud")) { o->cloud = 1; continue; }
        if (!strcmp(a, "--local-only")) { o->cloud = 0; continue; }
        if (!strcmp(a, "--incognito")) { o->incognito = true; continue; }
        if (!strcmp(a, "--ask")) { o->ask = true; continue; }
        if (!strcmp(a, "--tools")) { o->tools = true; continue; }
        if (!strcmp(a, "--tool-choice")) {
            if (i + 1 >= argc) return cli_fail(cmd, NULL, "%s needs a value", a);
            o->tool_choice = argv[++i];
            o->tools = true;
            continue;
        }
        if (!strcmp(a, "--sandbox") || !strcmp(a, "--no-sandbox")) {
            if (hearth_settings_set(o->settings, "sandbox", a[2] == 'n' ? "0" : "1", &err))
                return cli_fail(cmd, &err, "%s", a);
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { o->quiet = true; continue; }
        if (!strcmp(a, "--lookup")) {
            if (hearth_settings_set(o->settings, "lookup", "1", &err)) return cli_fail(cmd, &err, "%s", a);
            continue;
        }
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
        if (!found) return cli_unknown_option(cmd, a);
    }
    const char *think = hearth_settings_get(o->settings, "think", NULL);
    if (think && strcmp(think, "show") && strcmp(think, "hide"))
        return cli_fail(cmd, NULL, "think = '%s': expected show or hide", think);
    o->show_think = think && !strcmp(think, "show");
    if (!o->quiet) cli_settings_warn(o->settings);
    return 0;
}

bool cli_think_stream(void *ud, const char *text, size_t len) {
    think_filter *f = ud;
    char buf[512 + 8];
    for (size_t at = 0; at < len; at += 512) {
        size_t n = len - at < 512 ? len - at : 512;
        fwrite(buf, 1, think_filter_feed(f, text + at, n, buf), stdout);
    }
    fflush(stdout);
    return true;
}

void cli_think_end(think_filter *f) {
    char buf[8];
    fwrite(buf, 1, think_filter_flush(f, buf), stdout);
}

void cli_agent_opts_free(cli_agent_opts *o) {
    hearth_settings_free(o->settings);
    free(o->rest);
    *o = (cli_agent_opts){0};
}

bool spec_on(const cli_agent_opts *o) {
    const char *d = hearth_settings_get(o->settings, "draft_model", NULL);
    const char *l = hearth_settings_get(o->settings, "lookup", NULL);
    return (d && *d) || (l && strcmp(l, "0") && *l);
}

hearth_gen_result spec_figures(const hearth_agent_response *r) {
    hearth_gen_result g = {.n_drafted = r->n_drafted, .n_accepted = r->n_accepted,
                           .n_spec_steps = r->n_spec_steps};
    return g;
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
    /* -m NAME, or no -m: through the model registry (a file path wins). */
    /* On battery below the level: maybe a smaller installed variant
     * (model_pick.h); o->picked says so for --json. */
    models_pick pick;
    if (cli_pick_model(cmd, o->settings, p.model_path, HEARTH_DEFAULT_MODEL, &pick, o->pick_why,
                       sizeof o->pick_why))
        return 1;
    if (pick.swapped) {
        snprintf(o->picked, sizeof o->picked, "%s", pick.name);
        snprintf(o->picked_instead_of, sizeof o->picked_instead_of, "%s", pick.asked);
    }
    p.model_path = pick.path;
    if (!o->quiet) p.warn = warn_stderr;
    /* require_signature: a bad or unsigned model is refused before any of
     * it is loaded */
    if (cli_model_gate(cmd, o->settings, p.model_path)) return 1;
    cli_load_progress(cmd, p.model_path, o->quiet);
    if (hearth_agent_open(&p, out, &err)) return cli_fail(cmd, &err, "cannot start the agent");
    /* Once the model is mapped and the store open, nothing this process does
     * needs another program, and in local-only mode (no cloud configured, or
     * --local-only / --incognito) not the network either: the filter makes
     * sure a bug can not send data out. */
    int64_t sandbox = 1;
    if (hearth_settings_get_int(o->settings, "sandbox", &sandbox, &err) == HEARTH_E_ARG) {
        hearth_agent_free(*out);
        *out = NULL;
        return cli_fail(cmd, &err, "settings");
    }
    bool net = hearth_agent_can_use_cloud(*out) && o->cloud != 0 && !o->incognito;
    unsigned flags = HEARTH_SANDBOX_NO_EXEC | (net ? 0u : (unsigned)HEARTH_SANDBOX_NO_NET);
    if (sandbox && hearth_sandbox_apply(flags, &err)) {
        hearth_agent_free(*out);
        *out = NULL;
        return cli_fail(cmd, &err, "cannot apply the sandbox (--no-sandbox runs without it)");
    }
    return 0;
}

/* "ask": shows the user exactly what would leave, and where, on the
 * terminal, and sends only on "y". Without a terminal to ask on, nothing
 * is sent. */
static bool ask_consent(void *ud, const char *host, const char *preview) {
    (void)ud;
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "hearth: not sent to %s: the policy says ask, and there is no terminal "
                "to ask on\n", host);
        return false;
    }
    fprintf(tty, "\nhearth: the local answer is not confident. This would be sent to %s "
            "(personal data replaced by placeholders):\n---\n", host);
    cli_put_safe(tty, preview, strlen(preview), CLI_SAFE_TEXT);
    fprintf(tty, "---\nSend it? [y/N] ");
    fflush(tty);
    char line[16] = "";
    bool yes = fgets(line, sizeof line, tty) && (line[0] == 'y' || line[0] == 'Y');
    fclose(tty);
    return yes;
}

hearth_agent_request cli_agent_request(const hearth_agent *a, const cli_agent_opts *o) {
    hearth_agent_request r = hearth_agent_default_request(a);
    r.session = o->session;
    r.no_cache = o->no_cache;
    r.local_only = o->cloud == 0;
    r.prefer_cloud = o->cloud == 1;
    r.incognito = o->incognito;
    r.ask = o->ask;
    r.consent_fn = ask_consent;
    if (o->tools) {
        r.builtin_tools = true;
        const char *c = o->tool_choice;
        if (!c || !strcmp(c, "auto")) r.tool_choice = HEARTH_TOOL_CHOICE_AUTO;
        else if (!strcmp(c, "none")) r.tool_choice = HEARTH_TOOL_CHOICE_NONE;
        else if (!strcmp(c, "required")) r.tool_choice = HEARTH_TOOL_CHOICE_REQUIRED;
        else {
            r.tool_choice = HEARTH_TOOL_CHOICE_NAMED;
            r.tool_name = c;
        }
        int64_t steps = 0;
        if (hearth_settings_get_int(o->settings, "tool_steps", &steps, NULL) == HEARTH_OK &&
            steps > 0 && steps <= 16)
            r.max_tool_steps = (int)steps;
        if (o->verbose) r.on_tool = cli_print_tool;
    }
    return r;
}

void cli_print_tool(void *ud, const char *name, const char *arguments, const char *result) {
    (void)ud;
    /* model-made text: shown through the terminal-safe printer */
    fprintf(stderr, "hearth: tool ");
    cli_put_safe(stderr, name, strlen(name), CLI_SAFE_LINE);
    fputc('(', stderr);
    cli_put_safe(stderr, arguments, strlen(arguments), CLI_SAFE_LINE);
    fprintf(stderr, ") -> ");
    cli_put_safe(stderr, result, strlen(result), CLI_SAFE_LINE);
    fputc('\n', stderr);
}

void cli_print_route(const char *cmd, const hearth_agent_response *resp) {
    /* the router's reason starts with the confidence it judged */
    fprintf(stderr, "hearth %s: %s answer", cmd, hearth_source_name(resp->source));
    if (resp->route_reason[0]) {
        fprintf(stderr, ": ");
        cli_put_safe(stderr, resp->route_reason, strlen(resp->route_reason), CLI_SAFE_LINE);
    } else {
        fprintf(stderr, ", confidence %.2f", resp->confidence);
    }
    if (resp->route_decision[0] && !strcmp(resp->route_decision, "sent"))
        fprintf(stderr, " (%lld bytes out, %lld in, %.0f ms; audit record %lld)",
                (long long)resp->bytes_out, (long long)resp->bytes_in, resp->cloud_ms,
                (long long)resp->audit_id);
    fputc('\n', stderr);
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
    if (!prompt[strspn(prompt, " \t\r\n\f\v")]) {
        /* nothing to answer: refused before the model is loaded, so nothing
         * is stored */
        rc = cli_fail("run", NULL, "the prompt is empty (give a question as arguments, with -p, "
                      "or on stdin)");
        goto out;
    }
    hearth_agent *a = NULL;
    if ((rc = cli_agent_open("run", &o, &a))) goto out;
    hearth_agent_request r = cli_agent_request(a, &o);
    /* One-shot (no --session): the question alone is the conversation, so
     * unrelated questions do not become each other's context and a repeated
     * greedy one hits the cache; it is still recorded in session "default".
     * --session NAME: the session's history is the context. */
    hearth_chat_message one = {.role = "user", .content = prompt};
    if (o.session_given) {
        r.user = prompt;
    } else {
        r.messages = &one;
        r.n_messages = 1;
    }
    think_filter tf;
    think_filter_init(&tf, o.show_think);
    if (!o.json) {
        r.on_text = cli_think_stream;
        r.user_data = &tf;
    }
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
        size_t skip = o.show_think ? 0 : think_answer_start(resp.content, strlen(resp.content));
        cli_json_string(stdout, resp.content + skip);
        printf(",\"session\":");
        cli_json_string(stdout, o.session);
        printf(",\"source\":\"%s\",", hearth_source_name(resp.source));
        if (resp.confidence >= 0) printf("\"confidence\":%.4f,", resp.confidence);
        else printf("\"confidence\":null,");
        if (resp.route_decision[0]) {
            printf("\"route\":{\"decision\":");
            cli_json_string(stdout, resp.route_decision);
            printf(",\"reason\":");
            cli_json_string(stdout, resp.route_reason);
            printf(",\"category\":");
            cli_json_string(stdout, resp.category);
            printf(",\"host\":");
            cli_json_string(stdout, resp.route_host);
            printf(",\"audit_id\":%lld},", (long long)resp.audit_id);
        }
        if (o.picked[0]) {
            printf("\"battery_pick\":{\"model\":");
            cli_json_string(stdout, o.picked);
            printf(",\"instead_of\":");
            cli_json_string(stdout, o.picked_instead_of);
            printf(",\"reason\":");
            cli_json_string(stdout, o.pick_why);
            printf("},");
        }
        if (resp.tool_calls_json) printf("\"tool_calls\":%s,", resp.tool_calls_json);
        printf("\"tool_steps\":%d,", resp.tool_steps);
        printf("\"finish_reason\":\"%s\","
               "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d,"
               "\"prompt_tokens_details\":{\"cached_tokens\":%d}},"
               "\"decoded_tokens\":%d,\"restored_tokens\":%d,"
               "\"timings\":{\"restore_ms\":%.3f,\"prompt_ms\":%.3f,\"ttft_ms\":%.3f,"
               "\"generate_ms\":%.3f,\"total_ms\":%.3f}",
               hearth_finish_reason_openai(resp.finish),
               resp.prompt_tokens, resp.completion_tokens,
               resp.prompt_tokens + resp.completion_tokens, resp.cached_tokens,
               resp.decoded_tokens, resp.restored_tokens, resp.restore_ms, resp.prompt_ms,
               resp.ttft_ms, resp.generate_ms, resp.total_ms);
        if (spec_on(&o)) {
            hearth_gen_result gr = spec_figures(&resp);
            cli_print_spec_json(stdout, &gr);
        }
        printf("}\n");
    } else {
        /* A cached answer was streamed in one piece like any other; on a
         * terminal a dim note says where it came from. */
        cli_think_end(&tf);
        fputc('\n', stdout);
        if (resp.source == HEARTH_SOURCE_CACHE && isatty(STDOUT_FILENO))
            printf("%s(cached)%s\n", cli_color() ? "\033[2m" : "", cli_color() ? "\033[0m" : "");
    }
    fflush(stdout);
    if (!st && (o.verbose || (!o.quiet && resp.route_reason[0])))
        cli_print_route("run", &resp);
    if (!st && o.verbose)
        fprintf(stderr, "hearth run: finish %s; prompt %d tokens "
                "(%d reused, %d of them restored in %.1f ms; the rest %.1f ms), first token "
                "at %.1f ms, answer %d tokens (%.1f ms), total %.1f ms\n",
                hearth_finish_reason_openai(resp.finish), resp.prompt_tokens, resp.cached_tokens,
                resp.restored_tokens, resp.restore_ms, resp.prompt_ms, resp.ttft_ms,
                resp.completion_tokens, resp.generate_ms, resp.total_ms);
    if (!st && o.verbose && spec_on(&o)) {
        hearth_gen_result gr = spec_figures(&resp);
        cli_print_spec_line(stderr, "hearth run", &gr);
    }
    hearth_agent_response_clear(&resp);
    hearth_agent_free(a);
out:
    free(prompt);
    cli_agent_opts_free(&o);
    return rc;
}
