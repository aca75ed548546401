/*
 * cmd_models.c: `hearth models list | show | add | rm | use | channel |
 * update | rollback | gc` over the model registry (src/models/registry.h),
 * and `recommend` handed to the device-fit code when it is linked in.
 */
#include "cli.h"
#include "models/registry.h"
#include "models/update.h"
#include "models_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hearth models list [--json]\n"
    "       hearth models show NAME [--json]\n"
    "       hearth models add FILE [--name NAME[:TAG]] [--channel URL] [--default]\n"
    "       hearth models rm NAME\n"
    "       hearth models use NAME            the default model for run, chat and serve\n"
    "       hearth models channel NAME [URL]  set (or, without URL, clear) NAME's update channel\n"
    "       hearth models update [NAME]       check the channel(s), install a newer version\n"
    "       hearth models rollback NAME       switch back to the previous version\n"
    "       hearth models gc                  delete blobs no name uses\n"
    "       hearth models recommend [...]     which model fits this device (hearth recommend --help)\n"
    "\n"
    "Models live in $HEARTH_HOME/models: blobs/sha256-<hex> (one file per content hash)\n"
    "and registry.json (names, versions, the default). NAME is NAME[:TAG] (no tag:\n"
    "latest); NAME@VERSION or NAME@<hash prefix> names one version; sha256-<hex> a blob.\n"
    "-m NAME works wherever -m FILE does (a file that exists wins).\n"
    "\n"
    "update: the channel is the URL of a signed manifest (docs/models.md); its\n"
    "signature (URL.minisig) must verify against the trusted keys (--pubkey KEY or\n"
    "--trusted-keys DIR; setting trusted_keys, default HOME/trusted-keys). The new\n"
    "version is downloaded and checked (size, SHA-256, signature), smoke-tested (it\n"
    "loads; a probe text gets a sane perplexity), then made active; the old version\n"
    "stays as 'previous' for rollback. Any failure leaves the old version active.\n"
    "Updates are outbound requests: policy_pull = never forbids them (audit kind update).\n";

static void print_version_line(const registry_version *v, const char *mark) {
    char sz[32], when[32];
    cli_models_bytes(v->size, sz, sizeof sz);
    cli_iso_utc(v->added_ms, when, sizeof when);
    printf("  %-8s %.12s  %9s  %s  %-10s ", mark, v->sha256, sz, when,
           v->version[0] ? v->version : "-");
    cli_put_safe(stdout, v->source, strlen(v->source), CLI_SAFE_LINE);
    if (v->signed_by[0]) {
        printf("  (signed by ");
        cli_put_safe(stdout, v->signed_by, strlen(v->signed_by), CLI_SAFE_LINE);
        printf(")");
    }
    putchar('\n');
}

static json_t *version_json(const registry *r, const registry_version *v) {
    char path[4096];
    registry_blob_path(r, v->sha256, path, sizeof path);
    return json_pack("{s:s, s:I, s:o, s:o, s:o, s:I, s:o}", "sha256", v->sha256, "size",
                     (json_int_t)v->size, "version", cli_json_str(v->version), "source",
                     cli_json_str(v->source), "signed_by", cli_json_str(v->signed_by),
                     "added_ms", (json_int_t)v->added_ms, "path", cli_json_str(path));
}

static json_t *model_json(const registry *r, const registry_model *m) {
    json_t *vs = json_array();
    for (size_t i = 0; vs && i < m->n_versions; i++)
        json_array_append_new(vs, version_json(r, &m->versions[i]));
    char path[4096];
    registry_blob_path(r, m->active->sha256, path, sizeof path);
    return json_pack("{s:o, s:s, s:o, s:s, s:I, s:o, s:b, s:o, s:o}", "name",
                     cli_json_str(m->name), "active", m->active->sha256, "previous",
                     m->previous ? json_string(m->previous->sha256) : json_null(), "path", path,
                     "size", (json_int_t)m->active->size, "version",
                     cli_json_str(m->active->version), "default", m->is_default, "channel",
                     m->channel[0] ? cli_json_str(m->channel) : json_null(), "versions", vs);
}

static int cmd_list(registry *r, bool json) {
    if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < registry_count(r); i++)
            json_array_append_new(a, model_json(r, registry_model_at(r, i)));
        cli_print_json(a);
        return 0;
    }
    if (!registry_count(r)) {
        printf("no models yet (hearth pull URL, hearth models add FILE)\n");
        return 0;
    }
    printf("%-32s %-12s %9s  %-10s %s\n", "NAME", "ID", "SIZE", "VERSION", "VERSIONS");
    for (size_t i = 0; i < registry_count(r); i++) {
        const registry_model *m = registry_model_at(r, i);
        char sz[32];
        cli_models_bytes(m->active->size, sz, sizeof sz);
        char *nm = cli_safe_dup(m->name, CLI_SAFE_LINE);
        printf("%-32s %.12s %9s  %-10s %zu%s\n", nm ? nm : "?", m->active->sha256, sz,
               m->active->version[0] ? m->active->version : "-", m->n_versions,
               m->is_default ? "  (default)" : "");
        free(nm);
    }
    return 0;
}

static int cmd_show(registry *r, const char *name, bool json) {
    const registry_model *m = registry_find(r, name);
    if (!m) return cli_fail("models", NULL, "no model named '%s'", name);
    if (json) {
        cli_print_json(model_json(r, m));
        return 0;
    }
    char path[4096];
    registry_blob_path(r, m->active->sha256, path, sizeof path);
    printf("name:     %s%s\n", m->name, m->is_default ? " (default)" : "");
    printf("active:   %s\n", m->active->sha256);
    printf("path:     %s\n", path);
    printf("channel:  ");
    if (m->channel[0]) cli_put_safe(stdout, m->channel, strlen(m->channel), CLI_SAFE_LINE);
    else printf("(none)");
    putchar('\n');
    printf("versions: (oldest first)\n");
    for (size_t i = 0; i < m->n_versions; i++) {
        const registry_version *v = &m->versions[i];
        print_version_line(v, v == m->active ? "active" : v == m->previous ? "previous" : "");
    }
    return 0;
}

static int cmd_update(registry *r, hearth_settings *s, const char *name, const char *pubkey,
                      bool quiet) {
    cli_progress pr = {.quiet = quiet};
    models_net net;
    if (!cli_models_net("models update", s, &pr, &net)) return 1;
    char tdir[4096];
    cli_models_trust_dir(s, tdir, sizeof tdir);
    models_update_params up = {.settings = s, .net = &net, .pubkey_path = pubkey,
                               .trust_dir = tdir};
    int rc = 0, n = 0;
    size_t count = registry_count(r);
    /* Names first: models_update reloads the registry, so entries move. */
    char(*names)[REGISTRY_NAME_MAX + 1] = calloc(count ? count : 1, sizeof *names);
    if (!names) return cli_fail("models", NULL, "out of memory");
    size_t nn = 0;
    if (name) {
        snprintf(names[nn++], sizeof names[0], "%s", name);
    } else {
        for (size_t i = 0; i < count; i++) {
            const registry_model *m = registry_model_at(r, i);
            if (m->channel[0]) snprintf(names[nn++], sizeof names[0], "%s", m->name);
        }
        if (!nn) printf("no model has an update channel (hearth models channel NAME URL)\n");
    }
    for (size_t i = 0; i < nn; i++) {
        hearth_error err = {0};
        models_update_result res;
        hearth_status st = models_update(r, names[i], &up, &res, &err);
        n++;
        if (st) {
            rc = cli_fail("models update", &err, "%s: kept %.12s", names[i],
                          res.old_sha256[0] ? res.old_sha256 : "the current version");
            continue;
        }
        switch (res.outcome) {
        case MODELS_UPDATE_CURRENT:
            printf("%s: up to date (version %s)\n", res.name, res.version);
            break;
        case MODELS_UPDATE_HELD:
            printf("%s: version %s is the one rolled back from; keeping %.12s "
                   "(hearth models use %s@%s to take it)\n",
                   res.name, res.version, res.old_sha256, res.name, res.version);
            break;
        case MODELS_UPDATE_SWITCHED:
            printf("%s: updated to version %s (%.12s, was %.12s; smoke-test perplexity %.1f)\n",
                   res.name, res.version, res.new_sha256, res.old_sha256, res.smoke_ppl);
            if (res.notes[0]) {
                printf("  notes: ");
                cli_put_safe(stdout, res.notes, strlen(res.notes), CLI_SAFE_TEXT);
                putchar('\n');
            }
            break;
        }
    }
    free(names);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "recommend")) {
        if (cli_models_recommend) return cli_models_recommend(argc - 1, argv + 1);
        return cli_fail("models", NULL, "recommend is not built into this hearth");
    }
    bool json = false, make_default = false, quiet = false;
    const char *name = NULL, *channel = NULL, *pubkey = NULL, *trust = NULL;
    const char *pos[3] = {0};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--name")           ? &name
                            : !strcmp(a, "--channel")      ? &channel
                            : !strcmp(a, "--pubkey")       ? &pubkey
                            : !strcmp(a, "--trusted-keys") ? &trust
                                                           : NULL;
        if (slot) {
            if (i + 1 >= argc) return cli_fail("models", NULL, "%s needs a value", a);
            *slot = argv[++i];
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--default")) {
            make_default = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown_option("models", a);
        } else {
            if (npos == 3) return cli_fail("models", NULL, "too many arguments");
            pos[npos++] = a;
        }
    }
    static const struct {
        const char *name;
        int min, max;
    } subs[] = {{"list", 0, 0},    {"ls", 0, 0},      {"show", 1, 1}, {"add", 1, 1},
                {"rm", 1, 1},      {"remove", 1, 1},  {"use", 1, 1},  {"channel", 1, 2},
                {"update", 0, 1},  {"rollback", 1, 1}, {"gc", 0, 0}};
    size_t k = 0, ns = sizeof subs / sizeof subs[0];
    while (k < ns && strcmp(subs[k].name, sub)) k++;
    if (k == ns) return cli_fail("models", NULL, "unknown subcommand '%s' (see hearth models --help)", sub);
    if (npos < subs[k].min || npos > subs[k].max)
        return cli_fail("models", NULL, "%s: wrong number of arguments (see hearth models --help)", sub);

    hearth_error err = {0};
    hearth_settings *s = NULL;
    if (hearth_settings_load(&s, &err)) return cli_fail("models", &err, "settings");
    if (trust && hearth_settings_set(s, "trusted_keys", trust, &err)) {
        hearth_settings_free(s);
        return cli_fail("models", &err, "--trusted-keys");
    }
    registry *r = NULL;
    if (registry_open_settings(s, &r, &err)) {
        hearth_settings_free(s);
        return cli_fail("models", &err, "cannot open the model registry");
    }
    int rc = 0;
    uint64_t freed = 0;
    char fb[32];
    if (!strcmp(sub, "list") || !strcmp(sub, "ls")) {
        rc = cmd_list(r, json);
    } else if (!strcmp(sub, "show")) {
        rc = cmd_show(r, pos[0], json);
    } else if (!strcmp(sub, "add")) {
        registry_add_params ap = {.channel = channel, .activate = true, .make_default = make_default};
        registry_resolved res;
        if (registry_add_file(r, pos[0], name, &ap, &res, &err))
            rc = cli_fail("models", &err, "cannot add %s", pos[0]);
        else
            printf("added %s (sha256 %.12s)%s\n", res.name, res.sha256,
                   make_default ? ", the default model" : "");
    } else if (!strcmp(sub, "rm") || !strcmp(sub, "remove")) {
        if (registry_remove(r, pos[0], &freed, &err)) {
            rc = cli_fail("models", &err, "rm");
        } else {
            cli_models_bytes(freed, fb, sizeof fb);
            printf("removed %s (%s freed)\n", pos[0], fb);
        }
    } else if (!strcmp(sub, "use")) {
        const char *at = strchr(pos[0], '@');
        char nm[REGISTRY_NAME_MAX + 1];
        snprintf(nm, sizeof nm, "%.*s", at ? (int)(at - pos[0]) : (int)strlen(pos[0]), pos[0]);
        if ((at && registry_activate(r, nm, at + 1, &err)) || registry_set_default(r, nm, &err))
            rc = cli_fail("models", &err, "use");
        else {
            const registry_model *m = registry_find(r, nm);
            printf("default model: %s (%.12s)\n", m->name, m->active->sha256);
        }
    } else if (!strcmp(sub, "channel")) {
        if (registry_set_channel(r, pos[0], npos > 1 ? pos[1] : NULL, &err))
            rc = cli_fail("models", &err, "channel");
        else if (npos > 1) {
            printf("%s: update channel ", pos[0]);
            cli_put_safe(stdout, pos[1], strlen(pos[1]), CLI_SAFE_LINE);
            putchar('\n');
        }
        else
            printf("%s: no update channel\n", pos[0]);
    } else if (!strcmp(sub, "update")) {
        rc = cmd_update(r, s, npos ? pos[0] : NULL, pubkey, quiet);
    } else if (!strcmp(sub, "rollback")) {
        if (registry_rollback(r, pos[0], &err)) {
            rc = cli_fail("models", &err, "rollback");
        } else {
            const registry_model *m = registry_find(r, pos[0]);
            printf("%s: rolled back to %.12s%s%s (was %.12s)\n", m->name, m->active->sha256,
                   m->active->version[0] ? ", version " : "", m->active->version,
                   m->previous ? m->previous->sha256 : "?");
        }
    } else if (!strcmp(sub, "gc")) {
        if (registry_gc(r, 24 * 3600, &freed, &err)) {
            rc = cli_fail("models", &err, "gc");
        } else {
            cli_models_bytes(freed, fb, sizeof fb);
            printf("%s freed\n", fb);
        }
    }
    registry_free(r);
    hearth_settings_free(s);
    return rc;
}

const cli_command cli_cmd_models = {
    .name = "models",
    .summary = "the model registry: list, show, add, rm, use, update, rollback",
    .usage = usage,
    .run = run,
};
