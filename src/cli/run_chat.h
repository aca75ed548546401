/*
 * run_chat.h: the agent side of the CLI: `hearth run` without --raw (one
 * answer through the agent, kept in a session) and what `hearth chat` shares
 * with it (the common options, opening the agent from flags + settings).
 */
#ifndef HEARTH_CLI_RUN_CHAT_H
#define HEARTH_CLI_RUN_CHAT_H

#include "hearth.h"
#include "agent/think.h"

#include <stdbool.h>
#include <stdio.h>

/* `hearth run [-m MODEL] [--session NAME] [options] PROMPT...` in chat mode.
 * argv[0] is "run"; cmd_run.c hands over the arguments unchanged (it may
 * have removed nothing but its own --raw handling). Returns the exit status. */
int cli_run_chat(int argc, char **argv);

/* Usage text of the options cli_agent_parse understands. */
#define CLI_AGENT_OPTIONS_USAGE \
    "  -m, --model MODEL    GGUF file or registry name (HEARTH_MODEL; default: the\n" \
    "                       registry's default model, else the bundled demo model)\n" \
    "  -s, --session NAME   conversation kept in the store (default \"default\")\n" \
    "  -c, --ctx-size N     context window in tokens (HEARTH_MAX_CONTEXT, 4096)\n" \
    "  -t, --threads N      threads (HEARTH_THREADS; default: physical cores)\n" \
    "  -ctk, --cache-type-k T  KV cache type of keys: f16 (default), q8_0 (half the\n" \
    "                       memory), f32 (setting cache_type_k)\n" \
    "  -ctv, --cache-type-v T  of values: f16, q8_0, q4_0, f32 (cache_type_v)\n" \
    "  -n, --max-tokens N   answer length limit (512; also --n-predict)\n" \
    "      --temp F         temperature (0.8; 0 = greedy, answers cached)\n" \
    "      --top-k N        top-k (40)      --top-p F   top-p (0.95)\n" \
    "      --min-p F        min-p (0.05)    --repeat-penalty F (1: off)\n" \
    "      --seed N         sampling seed (-1: random)\n" \
    "      --system TEXT    system prompt (HEARTH_SYSTEM_PROMPT)\n" \
    "      --home DIR       data directory (HEARTH_HOME, ~/.local/share/hearth)\n" \
    "      --draft MODEL    speculative decoding: MODEL (same vocabulary, smaller)\n" \
    "                       drafts, the model verifies several tokens at once; the\n" \
    "                       same answer, sooner (setting draft_model)\n" \
    "      --lookup         speculative decoding with drafts copied from the\n" \
    "                       conversation's own text (setting lookup)\n" \
    "      --draft-max N    most tokens drafted per step (draft_max, 16)\n" \
    "      --no-cache       neither use nor fill the response cache\n" \
    "      --cloud          ask the cloud even when the local answer is confident\n" \
    "                       (only where the privacy policy allows it)\n" \
    "      --local-only     this request never leaves the device\n" \
    "      --incognito      nothing is stored (messages, cache, audit) or sent\n" \
    "      --ask            show what would be sent, and send only if you agree\n" \
    "      --no-sandbox     do not apply the seccomp sandbox (HEARTH_SANDBOX=0): by\n" \
    "                       default, once the model is loaded, internet sockets, exec\n" \
    "                       and ptrace fail for this process\n" \
    "      --think show|hide  reasoning blocks (<think>...</think>, Qwen3) shown or\n" \
    "                       hidden in the answer (setting think; default hide); never\n" \
    "                       fed back into the history\n" \
    "      --json           (run) print one JSON object: answer, usage, timings, source\n" \
    "  -q, --quiet          no warnings on stderr\n" \
    "  -v, --verbose        token counts, timings and the answer's source on stderr\n" \
    "                       (with --tools: every tool call and its result too)\n" \
    "      --tools          let the model use the built-in local tools: tasks (add,\n" \
    "                       list, complete), search of your history and tasks, date\n" \
    "                       and time, calculator (they touch only the store)\n" \
    "      --tool-choice C  auto (default), required, none, or a tool's name\n" \
    "      --tool-steps N   model runs per answer at most (HEARTH_TOOL_STEPS, 4)\n"


/* Usage of `hearth run` in chat mode, for cmd_run.c's --help. */
#define CLI_RUN_CHAT_USAGE \
    "usage: hearth run [-m MODEL] [--session NAME] [options] (PROMPT... | -p PROMPT)\n\n" \
    "One answer through the agent: the model's chat template is applied and the\n" \
    "exchange is kept in the session (default \"default\"). Without --session the\n" \
    "question stands alone (earlier ones are not its context, so asking it again\n" \
    "with --temp 0 is answered from the cache); with --session NAME the session's\n" \
    "history is the context. Without a prompt, it is read from standard input.\n\n" \
    "options:\n" CLI_AGENT_OPTIONS_USAGE

typedef struct {
    hearth_settings *settings; /* owned */
    const char *session;       /* --session (borrowed from argv), default "default" */
    bool session_given;        /* --session was given */
    bool json;                 /* --json */
    bool no_cache;             /* --no-cache */
    bool quiet;                /* -q: no warnings */
    bool verbose;              /* -v: usage and timings on stderr */
    int cloud;                 /* --cloud 1, --local-only 0, else -1 */
    bool incognito;            /* --incognito */
    bool ask;                  /* --ask */
    bool show_think;           /* setting "think" (--think) is "show" */
    bool tools;                /* --tools: the built-in local tools */
    const char *tool_choice;   /* --tool-choice (borrowed from argv), or NULL */
    const char *prompt;        /* -p TEXT (borrowed from argv), or NULL */
    char **rest;               /* positional arguments (borrowed from argv) */
    int n_rest;
    /* set by cli_agent_open when the battery policy swapped the model
     * (model_pick.h): the variant used, the model asked for, and why */
    char picked[201];
    char picked_instead_of[201];
    char pick_why[128];
} cli_agent_opts;

/* Speculative decoding is set (draft_model or lookup), and an answer's
 * figures of it as a hearth_gen_result for cli_print_spec_*. */
bool spec_on(const cli_agent_opts *o);
hearth_gen_result spec_figures(const hearth_agent_response *r);

/* Prints one built-in tool call and its result on stderr (-v). */
void cli_print_tool(void *ud, const char *name, const char *arguments, const char *result);

/* Parses the common options of argv[1..] into o (flags go into o->settings,
 * which is loaded here). Returns 0, or the exit status after printing why. */
int cli_agent_parse(const char *cmd, int argc, char **argv, cli_agent_opts *o);

/* A hearth_stream_fn writing to stdout what a think_filter (user_data)
 * shows; cli_think_end writes what it held back at the end. */
bool cli_think_stream(void *ud, const char *text, size_t len);
void cli_think_end(think_filter *f);
/* Frees what cli_agent_parse made. */
void cli_agent_opts_free(cli_agent_opts *o);
/* Opens the agent o describes (model: -m, HEARTH_MODEL, config file, else
 * the bundled demo model). Returns 0 and *out, or the exit status. */
int cli_agent_open(const char *cmd, cli_agent_opts *o, hearth_agent **out);
/* A request with the agent's defaults and the session of o. */
hearth_agent_request cli_agent_request(const hearth_agent *a, const cli_agent_opts *o);
/* With -v: where the answer came from, its confidence and the router's
 * reason, on stderr. */
void cli_print_route(const char *cmd, const hearth_agent_response *resp);
/* Writes s as a JSON string literal (quotes included) to f. */
void cli_json_string(FILE *f, const char *s);

#endif
