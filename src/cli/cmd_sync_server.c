/*
 * cmd_sync_server.c: `hearth sync-server`: runs the sync server
 * (docs/sync-server.md) until SIGINT or SIGTERM, or administers its
 * database: enrollment tokens, the device list, revocation. The test hook
 * HEARTH_SYNC_SERVER_CRASH=after_commit:N makes the process _exit(137)
 * after the N-th push commit, before that push is answered.
 */
#include "cli.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: hearth sync-server --db DB [--host HOST] [--port PORT] [LIMITS]\n"
    "       hearth sync-server --db DB token USER\n"
    "       hearth sync-server --db DB devices [--json]\n"
    "       hearth sync-server --db DB revoke DEVICE_ID\n"
    "       hearth sync-server --db DB revoke-tokens USER\n"
    "\n"
    "Serves the sync protocol (docs/sync-protocol.md) on HOST:PORT (default\n"
    "127.0.0.1:8780). The server stores only ciphertext and the metadata that orders it.\n"
    "\n"
    "  --db DB           sqlite:PATH (or a bare PATH) or postgresql://USER@HOST:PORT/NAME\n"
    "                    (HEARTH_SYNC_DB)\n"
    "  --host HOST       address to bind (default 127.0.0.1)\n"
    "  --port PORT       port, 0 for any free one (default 8780)\n"
    "  token USER        creates USER if new and prints a new enrollment token for it\n"
    "  devices           lists the devices (--json: a JSON array)\n"
    "  revoke DEVICE_ID  the device's token stops working (401)\n"
    "  revoke-tokens USER  USER's enrollment tokens stop working (devices keep theirs)\n"
    "\n"
    "limits (defaults in brackets; body, changes and payload can only be lowered):\n"
    "  --max-body BYTES      request body [8388608]                      -> 413\n"
    "  --max-changes N       changes per push, and per pull page [5000]  -> 413\n"
    "  --max-payload BYTES   one change's payload [1048576]              -> 413\n"
    "  --quota BYTES         payload bytes stored per device [1073741824] -> 429\n"
    "  --rate N              requests per second per device, 0: off [50]  -> 429\n"
    "  --burst N             requests in a burst [100]\n"
    "  --request-timeout S   seconds a connection may stay silent [30]\n"
    "\n"
    "Prints 'listening on http://HOST:PORT' once bound. Test hook:\n"
    "HEARTH_SYNC_SERVER_CRASH=after_commit:N exits (137) after the N-th push commit,\n"
    "before its answer.\n";

typedef struct {
    atomic_long count;
    long crash_at;
} crash_hook;

static void after_commit(void *user) {
    crash_hook *h = user;
    if (atomic_fetch_add(&h->count, 1) + 1 == h->crash_at) _exit(137);
}

static int print_devices(const char *db, bool json) {
    hearth_error err;
    char *txt;
    if (hearth_sync_admin_devices(db, &txt, &err))
        return cli_fail("sync-server", &err, "cannot list devices");
    if (json) {
        printf("%s\n", txt);
        hearth_free(txt);
        return 0;
    }
    json_t *arr = json_loads(txt, 0, NULL);
    hearth_free(txt);
    if (!arr) return cli_fail("sync-server", NULL, "out of memory");
    printf("%-38s %-16s %-8s %-20s %12s  %s\n", "DEVICE", "USER", "STATE", "LAST SEEN",
           "STORED", "NAME");
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d) {
        char when[32];
        cli_iso_utc(json_integer_value(json_object_get(d, "last_seen")) * 1000, when,
                    sizeof when);
        printf("%-38s %-16s %-8s %-20s %12lld  ", json_string_value(json_object_get(d, "id")),
               json_string_value(json_object_get(d, "user")),
               json_is_true(json_object_get(d, "revoked")) ? "revoked" : "active", when,
               (long long)json_integer_value(json_object_get(d, "stored_bytes")));
        const char *name = json_string_value(json_object_get(d, "name"));
        cli_put_safe(stdout, name, name ? strlen(name) : 0, CLI_SAFE_LINE);
        putchar('\n');
    }
    json_decref(arr);
    return 0;
}

static bool parse_size(const char *s, long max, size_t *out) {
    long v;
    if (!cli_parse_long(s, 1, max, &v)) return false;
    *out = (size_t)v;
    return true;
}

static int run(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    hearth_sync_server_params p = hearth_sync_server_default_params();
    p.db = getenv("HEARTH_SYNC_DB");
    const char *pos[3] = {0};
    int npos = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        float f;
        bool takes = true;
        if (!strcmp(a, "--json")) {
            json = true;
            takes = false;
        } else if (!strcmp(a, "--db") && v) {
            p.db = v;
        } else if (!strcmp(a, "--host") && v) {
            p.host = v;
        } else if (!strcmp(a, "--port") && v) {
            if (!cli_parse_long(v, 0, 65535, &n)) return cli_fail("sync-server", NULL, "bad --port '%s'", v);
            p.port = (uint16_t)n;
        } else if (!strcmp(a, "--max-body") && v) {
            if (!parse_size(v, 8L << 20, &p.max_body))
                return cli_fail("sync-server", NULL, "--max-body: 1..8388608");
        } else if (!strcmp(a, "--max-changes") && v) {
            if (!parse_size(v, 5000, &p.max_changes))
                return cli_fail("sync-server", NULL, "--max-changes: 1..5000");
        } else if (!strcmp(a, "--max-payload") && v) {
            if (!parse_size(v, 1L << 20, &p.max_payload))
                return cli_fail("sync-server", NULL, "--max-payload: 1..1048576");
        } else if (!strcmp(a, "--quota") && v) {
            if (!cli_parse_long(v, 0, (long)(((unsigned long)-1) >> 1), &n))
                return cli_fail("sync-server", NULL, "bad --quota '%s'", v);
            p.quota_bytes = n;
        } else if (!strcmp(a, "--rate") && v) {
            if (!cli_parse_float(v, &f) || f < 0) return cli_fail("sync-server", NULL, "bad --rate '%s'", v);
            p.rate = f;
        } else if (!strcmp(a, "--burst") && v) {
            if (!cli_parse_float(v, &f) || f < 1) return cli_fail("sync-server", NULL, "bad --burst '%s'", v);
            p.burst = f;
        } else if (!strcmp(a, "--request-timeout") && v) {
            if (!cli_parse_long(v, 1, 3600, &n))
                return cli_fail("sync-server", NULL, "bad --request-timeout '%s'", v);
            p.request_timeout = (int)n;
        } else if (a[0] == '-') {
            fputs(usage, stderr);
            return cli_fail("sync-server", NULL, "unknown option or missing value: %s", a);
        } else {
            if (npos == 3) return cli_fail("sync-server", NULL, "too many arguments");
            pos[npos++] = a;
            takes = false;
        }
        if (takes) i++;
    }
    if (!p.db || !*p.db) {
        fputs(usage, stderr);
        return cli_fail("sync-server", NULL, "--db is required");
    }
    hearth_error err;
    if (npos > 0) {
        const char *cmd = pos[0];
        if (!strcmp(cmd, "token") && npos == 2) {
            char tok[128];
            if (hearth_sync_admin_token(p.db, pos[1], tok, sizeof tok, &err))
                return cli_fail("sync-server", &err, "cannot make a token");
            printf("%s\n", tok);
            return 0;
        }
        if (!strcmp(cmd, "devices") && npos == 1) return print_devices(p.db, json);
        if (!strcmp(cmd, "revoke") && npos == 2) {
            if (hearth_sync_admin_revoke(p.db, pos[1], &err))
                return cli_fail("sync-server", &err, "cannot revoke");
            printf("revoked %s\n", pos[1]);
            return 0;
        }
        if (!strcmp(cmd, "revoke-tokens") && npos == 2) {
            int64_t n;
            if (hearth_sync_admin_revoke_tokens(p.db, pos[1], &n, &err))
                return cli_fail("sync-server", &err, "cannot revoke tokens");
            printf("revoked %lld enrollment token%s of %s\n", (long long)n, n == 1 ? "" : "s",
                   pos[1]);
            return 0;
        }
        fputs(usage, stderr);
        return cli_fail("sync-server", NULL, "unknown command or wrong arguments: %s", cmd);
    }

    crash_hook hook = {0};
    const char *crash = getenv("HEARTH_SYNC_SERVER_CRASH");
    if (crash && *crash) {
        long n;
        if (strncmp(crash, "after_commit:", 13) || !cli_parse_long(crash + 13, 1, 1L << 40, &n))
            return cli_fail("sync-server", NULL,
                            "HEARTH_SYNC_SERVER_CRASH: expected after_commit:N, got '%s'", crash);
        hook.crash_at = n;
        p.after_commit = after_commit;
        p.after_commit_user = &hook;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    hearth_sync_server *s;
    if (hearth_sync_server_start(&p, &s, &err)) return cli_fail("sync-server", &err, "cannot start");
    const char *h = p.host ? p.host : "127.0.0.1";
    bool v6 = strchr(h, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", h, v6 ? "]" : "",
           hearth_sync_server_port(s));
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "hearth sync-server: %s received, finishing in-flight requests\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    hearth_sync_server_stop(s);
    return 0;
}

const cli_command cli_cmd_sync_server = {
    .name = "sync-server",
    .summary = "run the sync server, or manage its enrollment tokens and devices",
    .usage = usage,
    .run = run,
};
