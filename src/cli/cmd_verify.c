/*
 * cmd_verify.c: `hearth verify MODEL [--sig FILE] [--pubkey KEY]
 * [--trusted-keys DIR] [--json]`: the file's SHA-256 and, when it is
 * signed, a check of its minisign signature or OpenSSF model-signing
 * bundle against the trusted keys (docs/model-trust.md). Always a fresh
 * check; the result is remembered in the verified state, so the next run
 * or chat with this model does not hash it again.
 * Exit status: 0 signed and verified, 3 unsigned (not required; the hash
 * is printed), 1 refused or an error, 2 bad usage.
 */
#include "cli.h"
#include "model_trust.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: hearth verify MODEL [--sig FILE] [--pubkey KEY] [--trusted-keys DIR] [--json]\n"
    "\n"
    "Prints the model file's SHA-256 and checks its signature: a minisign signature\n"
    "(MODEL.minisig) or an OpenSSF model-signing bundle (MODEL.sig), unless --sig names\n"
    "another file. The signer's key must be --pubkey KEY (a minisign .pub file or a PEM\n"
    "P-256 public key), else one of the keys in the trusted_keys directory (default\n"
    "$HEARTH_HOME/trusted-keys, files *.pub and *.pem).\n"
    "\n"
    "options:\n"
    "  --sig FILE           the signature file\n"
    "  --pubkey KEY         trust only this key\n"
    "  --trusted-keys DIR   directory of trusted keys (setting trusted_keys)\n"
    "  --require-signature  an unsigned file is refused (setting require_signature)\n"
    "  --json               one JSON object\n"
    "\n"
    "Exit status: 0 signed by a trusted key and unmodified; 3 unsigned (and not\n"
    "required); 1 refused (unsigned and required, bad signature, untrusted key,\n"
    "modified after signing, malformed signature or key file) or an error.\n";

static const char *kind_name(hearth_sig_kind k) {
    switch (k) {
    case HEARTH_SIG_MINISIGN: return "minisign";
    case HEARTH_SIG_SIGSTORE: return "sigstore";
    default: return "none";
    }
}

static int run(int argc, char **argv) {
    const char *model = NULL, *sig = NULL, *pubkey = NULL, *dir = NULL;
    bool json = false, require = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--sig") || !strcmp(a, "--pubkey") || !strcmp(a, "--trusted-keys")) {
            if (!v) {
                cli_fail("verify", NULL, "%s needs a value", a);
                return 2;
            }
            i++;
            if (!strcmp(a, "--sig")) sig = v;
            else if (!strcmp(a, "--pubkey")) pubkey = v;
            else dir = v;
        } else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--require-signature")) require = true;
        else if (a[0] == '-' && a[1]) {
            cli_unknown_option("verify", a);
            return 2;
        } else if (!model) model = a;
        else {
            cli_fail("verify", NULL, "unexpected argument '%s'", a);
            return 2;
        }
    }
    if (!model) {
        fputs(usage, stderr);
        return 2;
    }
    hearth_error err = {0};
    hearth_settings *s = NULL;
    if (hearth_settings_load(&s, &err)) return cli_fail("verify", &err, "settings");
    if (dir && hearth_settings_set(s, "trusted_keys", dir, &err)) {
        hearth_settings_free(s);
        return cli_fail("verify", &err, "--trusted-keys");
    }
    cli_trust t;
    if (cli_trust_from_settings("verify", s, &t)) {
        hearth_settings_free(s);
        return 1;
    }
    cli_trust_make_home(s);
    t.p.sig_path = sig;
    t.p.pubkey_path = pubkey;
    t.p.fresh = true;
    if (require) t.p.require_signature = true;
    hearth_verify_result r;
    hearth_status st = hearth_verify_file(model, &t.p, &r, &err);
    int rc = st ? 1 : r.signature_ok ? 0 : 3;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "path", cli_json_str(model));
        json_object_set_new(o, "sha256", r.sha256[0] ? json_string(r.sha256) : json_null());
        json_object_set_new(o, "size", json_integer((json_int_t)r.size));
        json_object_set_new(o, "signature", json_string(kind_name(r.sig_kind)));
        json_object_set_new(o, "verified", json_boolean(!st && r.signature_ok));
        json_object_set_new(o, "key", r.key_name[0] ? cli_json_str(r.key_name) : json_null());
        json_object_set_new(o, "trusted_comment",
                            r.trusted_comment[0] ? cli_json_str(r.trusted_comment) : json_null());
        json_object_set_new(o, "from_state", json_boolean(r.from_state));
        json_object_set_new(o, "require_signature", json_boolean(t.p.require_signature));
        if (st) {
            json_object_set_new(o, "refused", st == HEARTH_E_SIGNATURE
                                                  ? json_string(hearth_verify_failure_str(r.failure))
                                                  : json_null());
            json_object_set_new(o, "error", cli_json_str(err.msg));
        }
        cli_print_json(o);
    } else if (st) {
        cli_fail("verify", &err, "%s: REFUSED", model);
    } else {
        printf("%s: %s\n", model, r.signature_ok ? "OK, signed by a trusted key" : "unsigned");
        printf("  sha256     %s\n", r.sha256);
        printf("  size       %" PRIu64 " bytes\n", r.size);
        if (r.signature_ok) {
            printf("  signature  %s\n", kind_name(r.sig_kind));
            printf("  key        ");
            cli_put_safe(stdout, r.key_name, strlen(r.key_name), CLI_SAFE_LINE);
            putchar('\n');
            if (r.trusted_comment[0]) {
                printf("  trusted comment: ");
                cli_put_safe(stdout, r.trusted_comment, strlen(r.trusted_comment), CLI_SAFE_LINE);
                putchar('\n');
            }
        }
    }
    hearth_settings_free(s);
    return rc;
}

const cli_command cli_cmd_verify = {
    .name = "verify",
    .summary = "check a model file's SHA-256 and signature (minisign or sigstore bundle)",
    .usage = usage,
    .run = run,
};
