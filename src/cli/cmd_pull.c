/*
 * cmd_pull.c: `hearth pull URL [--name N] [--sha256 H] [--sig URL] ...`:
 * downloads a model into the registry: through the privacy gate (policy_pull,
 * an audit record), resumable, size/SHA-256/signature checked before the
 * file becomes visible in blobs/, then named.
 */
#include "cli.h"
#include "models/gate.h"
#include "models/pull.h"
#include "models/registry.h"
#include "models_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hearth pull URL [--name NAME[:TAG]] [--sha256 HEX] [--size BYTES] [--sig URL]\n"
    "                   [--pubkey KEY] [--trusted-keys DIR] [--channel URL] [--default]\n"
    "                   [--retries N] [--stall-timeout SECS] [-q]\n"
    "\n"
    "Downloads a GGUF model over HTTP(S) into $HEARTH_HOME/models (hearth models list).\n"
    "An interrupted pull keeps what it received; running the same pull again asks the\n"
    "server only for the rest (Range). The file becomes visible only once its size,\n"
    "SHA-256 (--sha256) and signature (--sig) check out.\n"
    "\n"
    "  --name N          name it N (default: the URL's file name without .gguf)\n"
    "  --sha256 HEX      the file's expected SHA-256; anything else is refused\n"
    "  --size BYTES      the expected size (checked against free disk space first)\n"
    "  --sig URL         a minisign signature (.minisig) or sigstore bundle to check\n"
    "                    against the trusted keys (setting require_signature = 1 refuses\n"
    "                    a pull without one)\n"
    "  --pubkey KEY      trust only this public key\n"
    "  --trusted-keys DIR  trusted keys (setting trusted_keys; default HOME/trusted-keys)\n"
    "  --channel URL     the model's update channel (hearth models update)\n"
    "  --default         make it the default model for run, chat and serve\n"
    "  --retries N       resume automatically up to N times after a cut (download_retries; 3)\n"
    "  --stall-timeout S give up when no byte arrives for S seconds (download_stall_timeout; 30)\n"
    "  -q, --quiet       no progress\n"
    "\n"
    "A pull is an outbound request: allowed unless the setting policy_pull = never\n"
    "(then nothing is sent), and recorded in the audit log (hearth audit, kind pull).\n";

/* The default name: the URL's last path segment without ".gguf". */
static void name_from_url(const char *url, char *buf, size_t cap) {
    const char *end = url + strcspn(url, "?#");
    const char *b = end;
    while (b > url && b[-1] != '/') b--;
    int n = (int)(end - b);
    snprintf(buf, cap, "%.*s", n, b);
    size_t l = strlen(buf);
    if (l > 5 && !strcasecmp(buf + l - 5, ".gguf")) buf[l - 5] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == ':') *p = '-';
    char norm[REGISTRY_NAME_MAX + 1];
    if (registry_name_norm(buf, norm, sizeof norm, NULL)) snprintf(buf, cap, "model");
}

static int run(int argc, char **argv) {
    const char *url = NULL, *name = NULL, *sha = NULL, *sig = NULL, *pubkey = NULL,
               *trust = NULL, *channel = NULL, *retries = NULL, *stall = NULL;
    uint64_t size = 0;
    bool make_default = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--name")            ? &name
                            : !strcmp(a, "--sha256")        ? &sha
                            : !strcmp(a, "--sig")           ? &sig
                            : !strcmp(a, "--pubkey")        ? &pubkey
                            : !strcmp(a, "--trusted-keys")  ? &trust
                            : !strcmp(a, "--channel")       ? &channel
                            : !strcmp(a, "--retries")       ? &retries
                            : !strcmp(a, "--stall-timeout") ? &stall
                                                            : NULL;
        if (slot || !strcmp(a, "--size")) {
            if (i + 1 >= argc) return cli_fail("pull", NULL, "%s needs a value", a);
            if (slot) {
                *slot = argv[++i];
                continue;
            }
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || !v || argv[i][0] == '-')
                return cli_fail("pull", NULL, "--size '%s': a positive number of bytes", argv[i]);
            size = v;
        } else if (!strcmp(a, "--default")) {
            make_default = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' || url) {
            return cli_fail("pull", NULL, "unexpected argument '%s' (see hearth pull --help)", a);
        } else {
            url = a;
        }
    }
    if (!url) return cli_fail("pull", NULL, "which URL? (see hearth pull --help)");
    hearth_error err = {0};
    hearth_settings *s = NULL;
    if (hearth_settings_load(&s, &err)) return cli_fail("pull", &err, "settings");
    int rc = 1;
    registry *r = NULL;
    if ((retries && hearth_settings_set(s, "download_retries", retries, &err)) ||
        (stall && hearth_settings_set(s, "download_stall_timeout", stall, &err)) ||
        (trust && hearth_settings_set(s, "trusted_keys", trust, &err))) {
        cli_fail("pull", &err, "options");
        goto out;
    }
    cli_progress pr = {.quiet = quiet};
    models_net net;
    if (!cli_models_net("pull", s, &pr, &net)) goto out;
    char nbuf[REGISTRY_NAME_MAX + 1], norm[REGISTRY_NAME_MAX + 1], tdir[4096];
    if (!name) {
        name_from_url(url, nbuf, sizeof nbuf);
        name = nbuf;
    }
    if (registry_name_norm(name, norm, sizeof norm, &err)) {
        cli_fail("pull", &err, "--name");
        goto out;
    }
    if (registry_open_settings(s, &r, &err)) {
        cli_fail("pull", &err, "cannot open the model registry");
        goto out;
    }
    cli_models_trust_dir(s, tdir, sizeof tdir);
    int64_t req = 0;
    hearth_settings_get_int(s, "require_signature", &req, NULL);
    models_want w = {.url = url, .sha256 = sha, .size = size, .sig_url = sig,
                     .pubkey_path = pubkey, .trust_dir = tdir, .require_signature = req != 0};
    models_gate g;
    if (models_gate_open(s, "pull", url, false, &g, &err)) {
        cli_fail("pull", &err, "not downloaded");
        goto out;
    }
    models_fetched f;
    uint64_t bytes_in = 0;
    hearth_status st = models_fetch(r, &net, &w, &f, &bytes_in, &err);
    char outcome[300];
    snprintf(outcome, sizeof outcome, "%s", st ? err.msg : "ok");
    models_gate_done(&g, outcome, (int64_t)bytes_in, -1);
    if (st) {
        cli_fail("pull", &err, "%s", url);
        goto out;
    }
    registry_add_params ap = {.source = url, .signed_by = f.signed_by, .channel = channel,
                              .activate = true, .make_default = make_default};
    if (registry_commit_blob(r, f.path, f.sha256, &err) ||
        (f.sig_path[0] && registry_attach_signature(r, f.sha256, f.sig_path, &err)) ||
        registry_add_version(r, norm, f.sha256, &ap, &err)) {
        cli_fail("pull", &err, "cannot store the model");
        goto out;
    }
    char sz[32], dl[32];
    cli_models_bytes(f.size, sz, sizeof sz);
    cli_models_bytes(f.downloaded, dl, sizeof dl);
    printf("pulled %s (sha256 %.12s, %s; %s downloaded%s%s)%s%s\n", norm, f.sha256, sz, dl,
           f.resumed_from && !f.restarted ? ", resumed" : "", f.restarted ? ", restarted from zero" : "",
           f.signed_by[0] ? "; signed by " : "", f.signed_by);
    rc = 0;
out:
    registry_free(r);
    hearth_settings_free(s);
    return rc;
}

const cli_command cli_cmd_pull = {
    .name = "pull",
    .summary = "download a model into the registry (resumable, verified)",
    .usage = usage,
    .run = run,
};
