/*
 * cmd_sync.c: `hearth sync`: the device side of sync (docs/sync.md):
 * pairing with a sync server, choosing collections, one sync, conflicts
 * and their resolution, status and the canonical dump. Every request goes
 * through the egress gate of sync_bg.c (setting policy_sync) and the audit log.
 *
 * Exit status: 0 synced or no_changes (and every other subcommand's
 * success), 1 an error (not paired, wrong passphrase, the server refused),
 * 2 a usage error, 3 offline (the server was not reached, or the policy
 * kept the request on the device).
 */
#include "cli.h"
#include "sync_bg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_OFFLINE 3

static const char usage[] =
    "usage: hearth sync [--server URL] [--json] [--passphrase-file FILE]\n"
    "       hearth sync pair --server URL --token ENROLL_TOKEN [--name NAME] [--passphrase-file FILE]\n"
    "       hearth sync enable tasks|conversations|settings\n"
    "       hearth sync disable tasks|conversations|settings\n"
    "       hearth sync rule tasks|conversations|settings lww|server|device|manual\n"
    "       hearth sync status [--json]\n"
    "       hearth sync conflicts [--all] [--json]\n"
    "       hearth sync resolve ID --keep local|server|FIELD=VALUE\n"
    "       hearth sync dump [--json]\n"
    "\n"
    "Syncs the chosen collections of the local store with a sync server, end-to-end\n"
    "encrypted with a key derived from the sync passphrase (the server sees no content).\n"
    "\n"
    "  (no subcommand)  one sync: pull, push, merge; prints status, pushed, pulled,\n"
    "                   conflicts and resolved. Exit 0 synced/no_changes, 3 offline, 1 error\n"
    "  pair       register this device with an enrollment token from the server's operator\n"
    "             (hearth sync-server token USER) and set up or check the key; a wrong\n"
    "             passphrase is an error and nothing is kept\n"
    "  enable     start syncing a collection (nothing syncs until enabled; embeddings, the\n"
    "             response cache, the audit log and device-local settings never sync)\n"
    "  disable    stop syncing a collection (its rows stay)\n"
    "  rule       how a field both sides changed is settled (setting sync_resolve_<c>):\n"
    "             lww (later change wins, default), server, device, manual (you choose)\n"
    "  status     device id, server, cursor, pending changes, enabled collections\n"
    "  conflicts  conflicts waiting for you (--all: every recorded one, merged too)\n"
    "  resolve    settle conflict ID: keep this device's side, the server's, or set a field\n"
    "  dump       the synced collections' content as canonical JSON (same bytes on\n"
    "             devices that converged)\n"
    "\n"
    "The passphrase comes from HEARTH_SYNC_PASSPHRASE, --passphrase-file FILE (first line)\n"
    "or a prompt on the terminal. It is never stored; the derived key is cached in\n"
    "$HEARTH_HOME/sync.key (0600), so later syncs do not ask. Setting policy_sync = never\n"
    "(HEARTH_POLICY_SYNC) keeps every sync request on the device (status offline).\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "hearth sync: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see hearth sync --help)\n");
    return 2;
}

typedef struct {
    hearth_settings *set;
    hearth_store *store;
    hearth_sync *sync;
    char pass[1024];
} ctx;

static void ctx_free(ctx *c) {
    hearth_sync_free(c->sync);
    hearth_store_free(c->store);
    hearth_settings_free(c->set);
    memset(c->pass, 0, sizeof c->pass);
}

/* The passphrase from --passphrase-file, HEARTH_SYNC_PASSPHRASE or (when
 * ask and stdin is a terminal) a prompt without echo. False on a file that
 * can not be read. */
static bool get_pass(ctx *c, const char *file, bool ask) {
    c->pass[0] = '\0';
    if (file) {
        FILE *f = fopen(file, "re");
        if (!f || !fgets(c->pass, sizeof c->pass, f)) {
            if (f) fclose(f);
            cli_fail("sync", NULL, "cannot read the passphrase from %s", file);
            return false;
        }
        fclose(f);
    } else if (getenv("HEARTH_SYNC_PASSPHRASE")) {
        snprintf(c->pass, sizeof c->pass, "%s", getenv("HEARTH_SYNC_PASSPHRASE"));
    } else if (ask && isatty(0)) {
        struct termios old, quiet;
        bool tty = tcgetattr(0, &old) == 0;
        if (tty) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(0, TCSAFLUSH, &quiet);
        }
        fprintf(stderr, "sync passphrase: ");
        if (!fgets(c->pass, sizeof c->pass, stdin)) c->pass[0] = '\0';
        if (tty) tcsetattr(0, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    size_t n = strlen(c->pass);
    while (n && (c->pass[n - 1] == '\n' || c->pass[n - 1] == '\r')) c->pass[--n] = '\0';
    return true;
}

static int open_ctx(ctx *c, const char *server, bool with_pass) {
    hearth_error e;
    if (hearth_settings_load(&c->set, &e)) return cli_fail("sync", &e, "settings");
    hearth_store_params sp = hearth_store_default_params();
    sp.data_dir = hearth_settings_get(c->set, "home", NULL);
    if (hearth_store_open(&sp, &c->store, &e)) return cli_fail("sync", &e, "cannot open the store");
    hearth_sync_params p = hearth_sync_default_params();
    p.store = c->store;
    p.server = server;
    p.passphrase = with_pass && c->pass[0] ? c->pass : NULL;
    p.gate = cli_sync_gate;
    p.gate_user = c->set;
    int64_t t;
    if (hearth_settings_get_int(c->set, "sync_timeout_ms", &t, NULL) == HEARTH_OK && t > 0 && t < 600000)
        p.timeout_ms = (int)t;
    if (hearth_sync_open(&p, &c->sync, &e)) return cli_fail("sync", &e, "cannot open sync");
    return 0;
}

/* If argv[*i] is --name VALUE or --name=VALUE: 1 (VALUE in *val), 0 if
 * another argument, -1 if the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

static bool key_cached(const ctx *c) {
    char path[4200];
    const char *db = hearth_store_path(c->store);
    const char *slash = strrchr(db, '/');
    snprintf(path, sizeof path, "%.*s/sync.key", slash ? (int)(slash - db) : 1, slash ? db : ".");
    return access(path, R_OK) == 0;
}

static int cmd_run(int argc, char **argv) {
    const char *server = NULL, *pfile = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--json")) json = true;
        else if ((r = opt_value(argc, argv, &i, "--server", &server))) {
            if (r < 0) return usage_error("%s needs a URL", "--server");
        } else if ((r = opt_value(argc, argv, &i, "--passphrase-file", &pfile))) {
            if (r < 0) return usage_error("%s needs a file", "--passphrase-file");
        } else {
            return usage_error("unknown argument '%s'", argv[i]);
        }
    }
    ctx c = {0};
    int rc = open_ctx(&c, server, false);
    if (!rc && !key_cached(&c)) {
        /* no cached key: the passphrase is needed to derive it again */
        if (!get_pass(&c, pfile, true)) rc = 1;
        else if (c.pass[0]) {
            hearth_sync_free(c.sync);
            c.sync = NULL;
            hearth_store_free(c.store);
            c.store = NULL;
            hearth_settings_free(c.set);
            c.set = NULL;
            rc = open_ctx(&c, server, true);
        }
    } else if (!rc && pfile) {
        if (!get_pass(&c, pfile, false)) rc = 1;
    }
    if (rc) {
        ctx_free(&c);
        return rc;
    }
    hearth_sync_report r;
    hearth_error e;
    if (hearth_sync_run(c.sync, &r, &e)) {
        rc = cli_fail("sync", &e, "sync failed");
        ctx_free(&c);
        return rc;
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "status", json_string(hearth_sync_state_name(r.state)));
        json_object_set_new(o, "pushed", json_integer(r.pushed));
        json_object_set_new(o, "pulled", json_integer(r.pulled));
        json_object_set_new(o, "conflicts", json_integer(r.conflicts));
        json_object_set_new(o, "resolved", json_integer(r.resolved));
        json_object_set_new(o, "merged", json_integer(r.merged));
        if (r.state == HEARTH_SYNC_OFFLINE) json_object_set_new(o, "reason", cli_json_str(r.reason));
        cli_print_json(o);
    } else if (r.state != HEARTH_SYNC_OFFLINE) {
        printf("%s: pushed %lld, pulled %lld, conflicts %lld, resolved %lld, merged %lld\n",
               hearth_sync_state_name(r.state), (long long)r.pushed, (long long)r.pulled,
               (long long)r.conflicts, (long long)r.resolved, (long long)r.merged);
    }
    if (r.state == HEARTH_SYNC_OFFLINE) {
        fprintf(stderr, "hearth sync: offline: ");
        cli_put_safe(stderr, r.reason, strlen(r.reason), CLI_SAFE_LINE);
        fputc('\n', stderr);
        rc = EXIT_OFFLINE;
    } else if (r.conflicts > r.resolved) {
        fprintf(stderr, "hearth sync: %lld conflict(s) wait for you: hearth sync conflicts\n",
                (long long)(r.conflicts - r.resolved));
    }
    ctx_free(&c);
    return rc;
}

static int cmd_pair(int argc, char **argv) {
    const char *server = NULL, *token = NULL, *name = NULL, *pfile = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--server", &server)) ||
            (r = opt_value(argc, argv, &i, "--token", &token)) ||
            (r = opt_value(argc, argv, &i, "--name", &name)) ||
            (r = opt_value(argc, argv, &i, "--passphrase-file", &pfile))) {
            if (r < 0) return usage_error("%s needs a value", argv[i]);
        } else {
            return usage_error("pair: unknown argument '%s'", argv[i]);
        }
    }
    if (!server || !token) return usage_error("%s", "pair needs --server URL and --token ENROLL_TOKEN");
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    if (!rc && !get_pass(&c, pfile, true)) rc = 1;
    if (!rc && !c.pass[0])
        rc = cli_fail("sync", NULL, "pair needs the sync passphrase: HEARTH_SYNC_PASSPHRASE, --passphrase-file FILE, or a terminal to ask on");
    hearth_error e;
    if (!rc && hearth_sync_pair(c.sync, server, token, name, c.pass, &e))
        rc = cli_fail("sync", &e, "pairing failed");
    if (!rc) {
        char *st = NULL;
        if (hearth_sync_status_json(c.sync, &st, NULL) == HEARTH_OK) {
            json_t *j = json_loads(st, 0, NULL);
            printf("paired device %s with %s\n", json_string_value(json_object_get(j, "device")), server);
            json_decref(j);
        }
        hearth_free(st);
    }
    ctx_free(&c);
    return rc;
}

static int cmd_enable(int argc, char **argv, bool on) {
    if (argc != 2) return usage_error("%s takes one collection: tasks, conversations or settings", argv[0]);
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    hearth_error e;
    if (!rc && hearth_sync_enable(c.sync, argv[1], on, &e)) rc = cli_fail("sync", &e, "%s", argv[0]);
    if (!rc) printf("sync of %s %s\n", argv[1], on ? "enabled" : "disabled");
    ctx_free(&c);
    return rc;
}

static int cmd_rule(int argc, char **argv) {
    if (argc != 3) return usage_error("%s", "rule takes a collection and lww|server|device|manual");
    const char *rules[] = {"lww", "server", "device", "manual"};
    bool ok = false;
    for (int i = 0; i < 4; i++) ok |= !strcmp(argv[2], rules[i]);
    if (!ok) return usage_error("rule '%s': expected lww, server, device or manual", argv[2]);
    if (strcmp(argv[1], "tasks") && strcmp(argv[1], "conversations") && strcmp(argv[1], "settings"))
        return usage_error("unknown collection '%s'", argv[1]);
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    char key[64];
    snprintf(key, sizeof key, "sync_resolve_%s", argv[1]);
    hearth_error e;
    if (!rc && hearth_store_setting_set(c.store, key, argv[2], &e)) rc = cli_fail("sync", &e, "rule");
    if (!rc) printf("%s = %s\n", key, argv[2]);
    ctx_free(&c);
    return rc;
}

static bool only_json_flag(int argc, char **argv, bool *json, bool *all) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) *json = true;
        else if (all && !strcmp(argv[i], "--all")) *all = true;
        else return false;
    }
    return true;
}

static int cmd_status(int argc, char **argv) {
    bool json = false;
    if (!only_json_flag(argc, argv, &json, NULL)) return usage_error("%s", "status takes only --json");
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    char *out = NULL;
    hearth_error e;
    if (!rc && hearth_sync_status_json(c.sync, &out, &e)) rc = cli_fail("sync", &e, "status");
    if (!rc && json) {
        puts(out);
    } else if (!rc) {
        json_t *j = json_loads(out, 0, NULL);
        json_t *srv = json_object_get(j, "server");
        printf("device:    %s\n", json_string_value(json_object_get(j, "device")));
        printf("server:    ");
        if (json_is_string(srv)) cli_put_safe(stdout, json_string_value(srv), strlen(json_string_value(srv)), CLI_SAFE_LINE);
        else fputs("(none)", stdout);
        printf("%s\n", json_is_true(json_object_get(j, "paired")) ? "" : " (not paired)");
        printf("cursor:    %lld\n", (long long)json_integer_value(json_object_get(j, "cursor")));
        printf("pending:   %lld\n", (long long)json_integer_value(json_object_get(j, "pending")));
        printf("conflicts: %lld waiting\n", (long long)json_integer_value(json_object_get(j, "conflicts_pending")));
        printf("enabled:  ");
        size_t i;
        json_t *v;
        json_t *en = json_object_get(j, "enabled");
        json_array_foreach(en, i, v) printf(" %s", json_string_value(v));
        printf("%s\n", json_array_size(en) ? "" : " (none)");
        json_decref(j);
    }
    hearth_free(out);
    ctx_free(&c);
    return rc;
}

static int cmd_conflicts(int argc, char **argv) {
    bool json = false, all = false;
    if (!only_json_flag(argc, argv, &json, &all)) return usage_error("%s", "conflicts takes --all and --json");
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    char *out = NULL;
    hearth_error e;
    if (!rc && hearth_sync_conflicts_json(c.sync, all, &out, &e)) rc = cli_fail("sync", &e, "conflicts");
    if (!rc && json) {
        puts(out);
    } else if (!rc) {
        json_t *j = json_loads(out, 0, NULL);
        size_t i;
        json_t *v;
        if (!json_array_size(j)) printf("no %sconflicts\n", all ? "" : "pending ");
        json_array_foreach(j, i, v) {
            char *f = json_dumps(json_object_get(v, "fields"), JSON_COMPACT);
            printf("%4lld  %-13s %-17s %-4s  %-10s  %s  ", (long long)json_integer_value(json_object_get(v, "id")),
                   json_string_value(json_object_get(v, "collection")),
                   json_string_value(json_object_get(v, "kind")),
                   json_string_value(json_object_get(v, "severity")),
                   json_string_value(json_object_get(v, "resolution")),
                   json_string_value(json_object_get(v, "row")));
            cli_put_safe(stdout, f ? f : "[]", f ? strlen(f) : 2, CLI_SAFE_LINE);
            putchar('\n');
            free(f);
            const char *side[2] = {"local", "server"};
            for (int k = 0; k < 2; k++) {
                char *t = json_dumps(json_object_get(v, side[k]), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                printf("      %-6s ", side[k]);
                cli_put_safe(stdout, t ? t : "null", t ? strlen(t) : 4, CLI_SAFE_LINE);
                putchar('\n');
                free(t);
            }
        }
        json_decref(j);
    }
    hearth_free(out);
    ctx_free(&c);
    return rc;
}

static int cmd_resolve(int argc, char **argv) {
    long id = 0;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--keep", &keep))) {
            if (r < 0) return usage_error("%s needs local, server or FIELD=VALUE", "--keep");
        } else if (!id && cli_parse_long(argv[i], 1, 0x7fffffffffffffffL, &id)) {
        } else {
            return usage_error("resolve: unexpected argument '%s'", argv[i]);
        }
    }
    if (!id || !keep) return usage_error("%s", "resolve needs ID and --keep local|server|FIELD=VALUE");
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    hearth_error e;
    if (!rc && hearth_sync_resolve(c.sync, id, keep, &e)) rc = cli_fail("sync", &e, "resolve");
    if (!rc) printf("conflict %ld resolved (%s); the next sync sends it\n", id, keep);
    ctx_free(&c);
    return rc;
}

static int cmd_dump(int argc, char **argv) {
    bool json = false;
    if (!only_json_flag(argc, argv, &json, NULL)) return usage_error("%s", "dump takes only --json");
    ctx c = {0};
    int rc = open_ctx(&c, NULL, false);
    char *out = NULL;
    hearth_error e;
    if (!rc && hearth_sync_dump_json(c.sync, &out, &e)) rc = cli_fail("sync", &e, "dump");
    if (!rc) puts(out); /* the dump is JSON either way: it is for comparing */
    hearth_free(out);
    ctx_free(&c);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc >= 2 && argv[1][0] != '-') {
        const char *sub = argv[1];
        if (!strcmp(sub, "pair")) return cmd_pair(argc - 1, argv + 1);
        if (!strcmp(sub, "enable")) return cmd_enable(argc - 1, argv + 1, true);
        if (!strcmp(sub, "disable")) return cmd_enable(argc - 1, argv + 1, false);
        if (!strcmp(sub, "rule")) return cmd_rule(argc - 1, argv + 1);
        if (!strcmp(sub, "status")) return cmd_status(argc - 1, argv + 1);
        if (!strcmp(sub, "conflicts")) return cmd_conflicts(argc - 1, argv + 1);
        if (!strcmp(sub, "resolve")) return cmd_resolve(argc - 1, argv + 1);
        if (!strcmp(sub, "dump")) return cmd_dump(argc - 1, argv + 1);
        return usage_error("unknown subcommand '%s'", sub);
    }
    return cmd_run(argc, argv);
}

const cli_command cli_cmd_sync = {
    .name = "sync",
    .summary = "sync tasks, conversations and settings with a sync server (pair, enable, status, conflicts)",
    .usage = usage,
    .run = run,
};
