/*
 * cmd_serve.c: `hearth serve`: runs the OpenAI-compatible HTTP API until
 * SIGINT or SIGTERM, then stops gracefully (in-flight answers finish, the
 * store is closed). Settings resolve as everywhere (hearth_settings): flags,
 * then HEARTH_* environment variables, then the config file, then defaults.
 */
#include "cli.h"
#include "model_pick.h"
#include "model_trust.h"
#include "models/resolve.h"
#include "serve_ab.h"
#include "serve_update.h"
#include "sync_bg.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: hearth serve [--host HOST] [--port PORT] [-m MODEL] [--api-key KEY]\n"
    "                    [--max-body BYTES] [--max-queue N] [--slots N] [-c CTX] [-t THREADS]\n"
    "                    [--allow-host NAME]... [--cors-origin ORIGIN]...\n"
    "                    [--max-client-conns N] [--request-timeout SECS] [--sync-every SECS]\n"
    "                    [--update-every HOURS] [--variant NAME=FILE]... [--split W,W,...]\n"
    "                    [--draft MODEL] [--draft-max N] [--lookup] [--web DIR]\n"
    "                    [--kv-cache-mb MB]\n"
    "\n"
    "Serves the OpenAI API on HOST:PORT (default 127.0.0.1:8080, loopback only):\n"
    "  POST /v1/chat/completions, /v1/completions, /v1/embeddings\n"
    "  GET  /v1/models, /health, /metrics (Prometheus)\n"
    "\n"
    "  --host HOST       address to bind (setting host, HEARTH_HOST; default 127.0.0.1)\n"
    "  --port PORT       port, 0 for any free one (port, HEARTH_PORT; default 8080)\n"
    "  -m, --model MODEL GGUF file or registry name (model, HEARTH_MODEL; default: the\n"
    "                    registry's default (hearth models use), else the demo model)\n"
    "  --embed-model M   embedding model (GGUF file or registry name, e.g. a BERT\n"
    "                    encoder) for /v1/embeddings, /api/embed and recall (embed_model,\n"
    "                    HEARTH_EMBED_MODEL; default: the chat model embeds)\n"
    "  --draft MODEL     speculative decoding in every slot: MODEL (same vocabulary,\n"
    "                    smaller) drafts, the model verifies several tokens per step;\n"
    "                    same answers, sooner (draft_model; --draft-max N, default 16)\n"
    "  --lookup          speculative decoding with drafts from each conversation's\n"
    "                    own text (lookup)\n"
    "  --api-key KEY     require 'Authorization: Bearer KEY' (api_key, HEARTH_API_KEY)\n"
    "  --max-body BYTES  largest request body (default 8388608)\n"
    "  --max-queue N     requests in flight before answering 429 (default 64)\n"
    "  --slots N         generations batched together (default 4)\n"
    "  --kv-cache-mb MB  save each answered conversation's keys and values in\n"
    "                    $HEARTH_HOME/kv, so that a restarted server continues it\n"
    "                    without evaluating its history (kv_cache_mb, HEARTH_KV_CACHE_MB;\n"
    "                    default 1024, shared with saved sessions; 0: off)\n"
    "  -c, --ctx N       context per generation (max_context, HEARTH_MAX_CONTEXT; 4096)\n"
    "  -t, --threads N   threads (threads, HEARTH_THREADS; default: physical cores)\n"
    "  -ctk, --cache-type-k T  KV cache type of keys: f16 (default), q8_0, f32\n"
    "                    (cache_type_k); q8_0 halves the cache's memory\n"
    "  -ctv, --cache-type-v T  of values: f16, q8_0, q4_0, f32 (cache_type_v)\n"    "  --allow-host NAME also answer requests for this Host name when bound to loopback\n"
    "                    (repeatable; allow_host, HEARTH_ALLOW_HOST: comma-separated).\n"
    "                    Otherwise only localhost, 127.0.0.1 and [::1] (DNS rebinding)\n"
    "  --cors-origin ORIGIN  let web pages from ORIGIN (https://app.example) call the API:\n"
    "                    CORS headers and preflights (repeatable; cors_origin,\n"
    "                    HEARTH_CORS_ORIGIN: comma-separated). '*' needs --api-key.\n"
    "                    Requests from any other web origin are refused (403)\n"
    "  --max-client-conns N  connections per client address (max_client_conns; 128)\n"
    "  --request-timeout SECS  time a client has to send a request, headers and body\n"
    "                    (request_timeout; default 30)\n"
    "  --update-every HOURS  check the model's update channel every HOURS (update_every;\n"
    "                    a registry model only; policy_pull and policy_update allowing)\n"
    "                    and switch to a new version between requests\n"
    "  --sync-every SECS sync the enabled collections in the background every SECS\n"
    "                    seconds (sync_every; 0: off, the default), doubling the wait\n"
    "                    up to an hour while the sync server is not reachable; needs a\n"
    "                    device paired with hearth sync pair; on battery (battery_policy)\n"
    "                    it waits for AC\n"
    "  --variant NAME=FILE  A/B test: serve FILE as variant NAME beside the others\n"
    "                    (repeat; two or more; -m is then not used). Each session (each\n"
    "                    request without one) is assigned one by a stable hash of its\n"
    "                    name; answers carry hearth_variant and are recorded for\n"
    "                    hearth ab report; POST /v1/feedback rates one\n"
    "  --split W,W,...   the variants' shares, in --variant order (default: equal)\n"
    "  --web DIR         serve the browser build DIR (make web: build-web) under /web/\n"
    "                    with the COOP/COEP headers (web_dir, HEARTH_WEB_DIR): the chat\n"
    "                    page is then http://HOST:PORT/web/\n"
    "\n"
    "The store is $HEARTH_HOME/hearth.db (setting home). With HEARTH_SECURITY_LOG=1\n"
    "(setting security_log), rejected requests and failed authentications, never their\n"
    "content, are written to HOME/security.log. Settings are read from flags, then\n"
    "HEARTH_* environment variables, then ~/.config/hearth/config (HEARTH_CONFIG).\n"
    "Prints 'listening on http://HOST:PORT' once bound.\n";

/* Flags that map onto settings keys. */
static const struct {
    const char *flag, *alias, *key;
} flag_keys[] = {
    {"--host", NULL, "host"},         {"--port", NULL, "port"},
    {"--model", "-m", "model"},       {"--api-key", NULL, "api_key"},
    {"--ctx", "-c", "max_context"},   {"--threads", "-t", "threads"},
    {"--cache-type-k", "-ctk", "cache_type_k"}, {"--cache-type-v", "-ctv", "cache_type_v"},
    {"--max-body", NULL, "max_body"}, {"--max-queue", NULL, "max_queue"},
    {"--slots", NULL, "slots"},
    {"--allow-host", NULL, "allow_host"},
    {"--cors-origin", NULL, "cors_origin"},
    {"--max-client-conns", NULL, "max_client_conns"},
    {"--request-timeout", NULL, "request_timeout"},
    {"--update-every", NULL, "update_every"},
    {"--sync-every", NULL, "sync_every"},
    {"--embed-model", NULL, "embed_model"},
    {"--draft", NULL, "draft_model"},
    {"--draft-max", NULL, "draft_max"},
    {"--web", NULL, "web_dir"},
    {"--kv-cache-mb", NULL, "kv_cache_mb"},
};

/* Settings that hold a comma-separated list; their flags may repeat. */
static bool is_list_key(const char *key) {
    return !strcmp(key, "allow_host") || !strcmp(key, "cors_origin");
}

#define MAX_LIST 32

/* Splits a comma-separated list (blanks around items dropped) into
 * items[] pointing into buf (a copy of the value). False if too many. */
static bool split_list(const char *value, char *buf, size_t cap, const char *items[MAX_LIST],
                       size_t *n) {
    *n = 0;
    if (!value) return true;
    snprintf(buf, cap, "%s", value);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        size_t len = strlen(t);
        while (len && (t[len - 1] == ' ' || t[len - 1] == '\t')) t[--len] = '\0';
        if (!len) continue;
        if (*n == MAX_LIST) return false;
        items[(*n)++] = t;
    }
    return true;
}

/* Reads integer setting key into *out if it has a value in [min, max]. */
static bool get_int(const hearth_settings *s, const char *key, long min, long max, long *out) {
    int64_t v;
    hearth_error err;
    hearth_status st = hearth_settings_get_int(s, key, &v, &err);
    if (st == HEARTH_E_NOTFOUND) return true;
    if (st) {
        cli_fail("serve", &err, "setting '%s'", key);
        return false;
    }
    if (v < min || v > max) {
        cli_fail("serve", NULL, "setting '%s' = %lld is outside [%ld, %ld]", key, (long long)v,
                 min, max);
        return false;
    }
    *out = (long)v;
    return true;
}

static int run(int argc, char **argv) {
    hearth_error err;
    hearth_settings *set;
    if (hearth_settings_load(&set, &err)) return cli_fail("serve", &err, "settings");
    cli_settings_warn(set);
    int rc = 1;
    serve_ab ab = {0};
    for (int i = 1; i < argc; i++) {
        int abr = serve_ab_arg(&ab, argc, argv, &i);
        if (abr < 0) goto out;
        if (abr > 0) continue;
        if (!strcmp(argv[i], "--lookup")) {
            if (hearth_settings_set(set, "lookup", "1", &err)) {
                cli_fail("serve", &err, "--lookup");
                goto out;
            }
            continue;
        }
        size_t k = 0, n = sizeof flag_keys / sizeof flag_keys[0];
        while (k < n && strcmp(argv[i], flag_keys[k].flag) &&
               !(flag_keys[k].alias && !strcmp(argv[i], flag_keys[k].alias)))
            k++;
        if (k == n) {
            cli_unknown_option("serve", argv[i]);
            goto out;
        }
        if (i + 1 >= argc) {
            cli_fail("serve", NULL, "%s needs a value", argv[i]);
            goto out;
        }
        const char *value = argv[++i];
        char joined[4096];
        hearth_setting_source src;
        const char *prev = hearth_settings_get(set, flag_keys[k].key, &src);
        if (is_list_key(flag_keys[k].key) && prev && src == HEARTH_SETTING_FLAG) {
            /* A repeated list flag adds to the list. */
            if ((size_t)snprintf(joined, sizeof joined, "%s,%s", prev, value) >= sizeof joined) {
                cli_fail("serve", NULL, "too many %s values", argv[i - 1]);
                goto out;
            }
            value = joined;
        }
        if (hearth_settings_set(set, flag_keys[k].key, value, &err)) {
            cli_fail("serve", &err, "%s", argv[i - 1]);
            goto out;
        }
    }

    hearth_server_params p = hearth_server_default_params();
    long v = p.port;
    if (!get_int(set, "port", 0, 65535, &v)) goto out;
    p.port = (uint16_t)v;
    v = 0;
    if (!get_int(set, "max_context", 16, 1 << 20, &v)) goto out;
    p.n_ctx = (int32_t)v;
    /* the engine reads these when it loads the model, after the server
     * listens: refuse a bad one now, not as a failing load */
    for (int w = 0; w < 2; w++) {
        const char *key = w ? "cache_type_v" : "cache_type_k", *cv = hearth_settings_get(set, key, NULL);
        hearth_type t;
        if (cv && *cv && hearth_cache_type_parse(cv, w, &t, &err)) {
            cli_fail("serve", &err, "setting '%s'", key);
            goto out;
        }
    }
    v = 0;
    if (!get_int(set, "threads", 0, 1024, &v)) goto out;
    p.n_threads = (int)v;
    v = (long)p.max_body;
    if (!get_int(set, "max_body", 1, 1L << 34, &v)) goto out;
    p.max_body = (size_t)v;
    v = p.max_queue;
    if (!get_int(set, "max_queue", 1, 100000, &v)) goto out;
    p.max_queue = (int)v;
    v = p.n_slots;
    if (!get_int(set, "slots", 1, 256, &v)) goto out;
    p.n_slots = (int32_t)v;
    v = p.max_client_conns;
    if (!get_int(set, "max_client_conns", 1, 255, &v)) goto out;
    p.max_client_conns = (int)v;
    v = p.request_timeout;
    if (!get_int(set, "request_timeout", 1, 3600, &v)) goto out;
    p.request_timeout = (int)v;
    char hosts_buf[4096], origins_buf[4096];
    const char *hosts[MAX_LIST], *origins[MAX_LIST];
    if (!split_list(hearth_settings_get(set, "allow_host", NULL), hosts_buf, sizeof hosts_buf,
                    hosts, &p.n_allow_hosts) ||
        !split_list(hearth_settings_get(set, "cors_origin", NULL), origins_buf,
                    sizeof origins_buf, origins, &p.n_cors_origins)) {
        cli_fail("serve", NULL, "at most %d allowed hosts and %d CORS origins", MAX_LIST, MAX_LIST);
        goto out;
    }
    p.allow_hosts = hosts;
    p.cors_origins = origins;
    long sync_every = 0;
    if (!get_int(set, "sync_every", 0, 86400 * 7, &sync_every)) goto out;
    const char *host = hearth_settings_get(set, "host", NULL);
    if (host && *host) p.host = host;
    /* models registry: -m NAME (or none: the default model) resolves through it. */
    /* on battery below the level, maybe a smaller installed variant (model_pick.h) */
    models_pick pick;
    char pick_why[128];
#ifdef HEARTH_DEFAULT_MODEL
    const char *fallback = HEARTH_DEFAULT_MODEL;
#else
    const char *fallback = NULL;
#endif
    if (cli_pick_model("serve", set, hearth_settings_get(set, "model", NULL), fallback, &pick, pick_why,
                       sizeof pick_why))
        goto out;
    /* clients keep the id of the model asked for (and update checks follow
     * it); the stderr line above says which file answers */
    const char *model_name = pick.swapped ? pick.asked : pick.name;
    p.model_path = pick.path;
    if (model_name[0]) p.model_id = model_name;
    p.api_key = hearth_settings_get(set, "api_key", NULL);
    p.data_dir = hearth_settings_get(set, "home", NULL);
    const char *web_dir = hearth_settings_get(set, "web_dir", NULL);
    if (web_dir && *web_dir) p.web_dir = web_dir;
    p.settings = set;
    char logpath[4096];
    const char *seclog = hearth_settings_get(set, "security_log", NULL);
    if (seclog && !strcmp(seclog, "1")) {
        snprintf(logpath, sizeof logpath, "%s/security.log", p.data_dir ? p.data_dir : ".");
        p.security_log = logpath;
        /* The store makes its directory later, on the loader thread; the log
         * is opened now, so make the directory first (as the store would). */
        if (p.data_dir) mkdir(p.data_dir, 0700);
    }

    /* Block the stop signals in every thread, so sigwait below gets them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (serve_ab_finish(&ab, set, &p)) goto out;
    /* require_signature: refused before the loader thread reads it */
    if (cli_model_gate("serve", set, p.model_path)) goto out;
    hearth_server *s;
    if (hearth_server_start(&p, &s, &err)) {
        cli_fail("serve", &err, "cannot start");
        goto out;
    }
    serve_updater *upd = NULL;
    if (serve_updater_start(set, s, model_name, &upd)) {
        hearth_server_stop(s);
        goto out;
    }
    const char *h = p.host ? p.host : "127.0.0.1";
    bool v6 = strchr(h, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", h, v6 ? "]" : "",
           hearth_server_port(s));
    fflush(stdout);
    /* background sync: its own thread and store handle (sync_bg.c) */
    cli_sync_bg *bg = NULL;
    if (sync_every > 0 && cli_sync_bg_start(set, sync_every, &bg, &err))
        cli_fail("serve", &err, "background sync not started");
    int sig = 0;
    sigwait(&sigs, &sig);
    cli_sync_bg_stop(bg);
    fprintf(stderr, "hearth serve: %s received, finishing in-flight requests\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    serve_updater_stop(upd);
    hearth_server_stop(s);
    rc = 0;
out:
    hearth_settings_free(set);
    return rc;
}

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "serve the OpenAI-compatible HTTP API",
    .usage = usage,
    .run = run,
};
