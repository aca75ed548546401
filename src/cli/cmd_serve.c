/*
 * cmd_serve.c: `hearth serve`: runs the OpenAI-compatible HTTP API until
 * SIGINT or SIGTERM, then stops gracefully (in-flight answers finish, the
 * store is closed).
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hearth serve [--host HOST] [--port PORT] [-m MODEL] [--api-key KEY]\n"
    "                    [--max-body BYTES] [--max-queue N] [--slots N] [-c CTX] [-t THREADS]\n"
    "\n"
    "Serves the OpenAI API on HOST:PORT (default 127.0.0.1:8080, loopback only):\n"
    "  POST /v1/chat/completions, /v1/completions, /v1/embeddings\n"
    "  GET  /v1/models, /health, /metrics (Prometheus)\n"
    "\n"
    "  --host HOST       address to bind (HEARTH_HOST; default 127.0.0.1)\n"
    "  --port PORT       port, 0 for any free one (HEARTH_PORT; default 8080)\n"
    "  -m, --model FILE  GGUF model (HEARTH_MODEL; default: the bundled demo model)\n"
    "  --api-key KEY     require 'Authorization: Bearer KEY' (HEARTH_API_KEY)\n"
    "  --max-body BYTES  largest request body (default 8388608)\n"
    "  --max-queue N     requests in flight before answering 429 (default 64)\n"
    "  --slots N         generations batched together (default 4)\n"
    "  -c, --ctx N       context per generation (HEARTH_MAX_CONTEXT)\n"
    "  -t, --threads N   threads (HEARTH_THREADS)\n"
    "\n"
    "HEARTH_SECURITY_LOG=1 writes rejected requests and failed authentications\n"
    "(never their content) to $HEARTH_HOME/security.log, or to the path\n"
    "HEARTH_SECURITY_LOG_FILE names.\n"
    "Prints 'listening on http://HOST:PORT' once bound.\n";

static int run(int argc, char **argv) {
    hearth_server_params p = hearth_server_default_params();
    const char *env;
    long v;
    if ((env = getenv("HEARTH_HOST")) && *env) p.host = env;
    if ((env = getenv("HEARTH_PORT")) && *env) {
        if (!cli_parse_long(env, 0, 65535, &v)) return cli_fail("serve", NULL, "bad HEARTH_PORT '%s'", env);
        p.port = (uint16_t)v;
    }
    if ((env = getenv("HEARTH_MODEL")) && *env) p.model_path = env;
    if ((env = getenv("HEARTH_API_KEY")) && *env) p.api_key = env;
    if ((env = getenv("HEARTH_MAX_CONTEXT")) && *env) {
        if (!cli_parse_long(env, 16, 1 << 20, &v)) return cli_fail("serve", NULL, "bad HEARTH_MAX_CONTEXT '%s'", env);
        p.n_ctx = (int32_t)v;
    }
    if ((env = getenv("HEARTH_THREADS")) && *env) {
        if (!cli_parse_long(env, 1, 1024, &v)) return cli_fail("serve", NULL, "bad HEARTH_THREADS '%s'", env);
        p.n_threads = (int)v;
    }
    p.data_dir = getenv("HEARTH_HOME");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                       \
    do {                                                                                   \
        if (!val) return cli_fail("serve", NULL, "%s needs a value", a);                   \
        i++;                                                                               \
    } while (0)
        if (!strcmp(a, "--host")) {
            NEED_VALUE();
            p.host = val;
        } else if (!strcmp(a, "--port")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 0, 65535, &v)) return cli_fail("serve", NULL, "bad port '%s'", val);
            p.port = (uint16_t)v;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_VALUE();
            p.model_path = val;
        } else if (!strcmp(a, "--api-key")) {
            NEED_VALUE();
            p.api_key = val;
        } else if (!strcmp(a, "--max-body")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 1, 1L << 34, &v)) return cli_fail("serve", NULL, "bad --max-body '%s'", val);
            p.max_body = (size_t)v;
        } else if (!strcmp(a, "--max-queue")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 1, 100000, &v)) return cli_fail("serve", NULL, "bad --max-queue '%s'", val);
            p.max_queue = (int)v;
        } else if (!strcmp(a, "--slots")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 1, 256, &v)) return cli_fail("serve", NULL, "bad --slots '%s'", val);
            p.n_slots = (int32_t)v;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 16, 1 << 20, &v)) return cli_fail("serve", NULL, "bad context '%s'", val);
            p.n_ctx = (int32_t)v;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED_VALUE();
            if (!cli_parse_long(val, 1, 1024, &v)) return cli_fail("serve", NULL, "bad thread count '%s'", val);
            p.n_threads = (int)v;
        } else {
            return cli_fail("serve", NULL, "unknown option '%s' (see hearth serve --help)", a);
        }
#undef NEED_VALUE
    }
#ifdef HEARTH_DEFAULT_MODEL
    if (!p.model_path) p.model_path = HEARTH_DEFAULT_MODEL;
#endif
    char logpath[4096];
    if ((env = getenv("HEARTH_SECURITY_LOG")) && !strcmp(env, "1")) {
        const char *file = getenv("HEARTH_SECURITY_LOG_FILE");
        if (file && *file) {
            snprintf(logpath, sizeof logpath, "%s", file);
        } else {
            const char *home = getenv("HEARTH_HOME");
            if (home && *home)
                snprintf(logpath, sizeof logpath, "%s/security.log", home);
            else
                snprintf(logpath, sizeof logpath, "%s/.local/share/hearth/security.log",
                         getenv("HOME") ? getenv("HOME") : ".");
        }
        p.security_log = logpath;
    }

    /* Block the stop signals in every thread, so sigwait below gets them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    hearth_error err;
    hearth_server *s;
    if (hearth_server_start(&p, &s, &err)) return cli_fail("serve", &err, "cannot start");
    const char *host = p.host ? p.host : "127.0.0.1";
    printf("listening on http://%s%s%s:%u\n", strchr(host, ':') ? "[" : "", host,
           strchr(host, ':') ? "]" : "", hearth_server_port(s));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "hearth serve: %s received, finishing in-flight requests\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    hearth_server_stop(s);
    return 0;
}

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "serve the OpenAI-compatible HTTP API",
    .usage = usage,
    .run = run,
};
