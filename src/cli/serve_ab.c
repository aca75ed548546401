/*
 * serve_ab.c: `hearth serve --variant NAME=FILE --split 50,50` (see
 * serve_ab.h): the A/B test of model variants, e.g. the same model in
 * Q8_0 and Q4_K_M, side by side in one server.
 */
#include "serve_ab.h"

#include "ab/assign.h"
#include "cli.h"
#include "model_trust.h"

#include <stdio.h>
#include <string.h>

static bool name_ok(const char *s, size_t n) {
    if (n == 0 || n >= HEARTH_AB_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int serve_ab_arg(serve_ab *ab, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--variant") && strcmp(a, "--split")) return 0;
    if (*i + 1 >= argc) {
        cli_fail("serve", NULL, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (!strcmp(a, "--split")) {
        ab->split = v;
        return 1;
    }
    const char *eq = strchr(v, '=');
    if (!eq || !eq[1] || !name_ok(v, (size_t)(eq - v))) {
        cli_fail("serve", NULL,
                 "--variant '%s': expected NAME=FILE, NAME of 1 to 63 letters, digits, '.', '_' "
                 "or '-'", v);
        return -1;
    }
    if (ab->n == SERVE_AB_MAX) {
        cli_fail("serve", NULL, "at most %d --variant", SERVE_AB_MAX);
        return -1;
    }
    size_t nl = (size_t)(eq - v);
    for (size_t k = 0; k < ab->n; k++)
        if (strlen(ab->buf[k]) == nl && !memcmp(ab->buf[k], v, nl)) {
            cli_fail("serve", NULL, "--variant %.*s given twice", (int)nl, v);
            return -1;
        }
    memcpy(ab->buf[ab->n], v, nl);
    ab->buf[ab->n][nl] = '\0';
    ab->names[ab->n] = ab->buf[ab->n];
    ab->paths[ab->n] = eq + 1;
    ab->n++;
    return 1;
}

int serve_ab_finish(serve_ab *ab, const hearth_settings *set, hearth_server_params *p) {
    if (ab->n == 0) {
        if (ab->split) return cli_fail("serve", NULL, "--split needs two or more --variant");
        return 0;
    }
    if (ab->n == 1) return cli_fail("serve", NULL, "one --variant: an A/B test needs two or more");
    const char *upd = hearth_settings_get(set, "update_every", NULL);
    if (upd && *upd && strcmp(upd, "0"))
        return cli_fail("serve", NULL, "--variant and update_every (--update-every) do not mix");
    hearth_error e = {0};
    if (ab->split) {
        if (ab_parse_split(ab->split, ab->weights, ab->n, &e)) return cli_fail("serve", &e, "--split");
    } else {
        for (size_t k = 0; k < ab->n; k++) ab->weights[k] = 1;
    }
    for (size_t k = 0; k < ab->n; k++)
        if (cli_model_gate("serve", set, ab->paths[k])) return 1;
    p->model_path = ab->paths[0];
    p->model_id = NULL; /* clients name the model by the first variant's file name */
    p->variant_names = ab->names;
    p->variant_paths = ab->paths;
    p->variant_weights = ab->weights;
    p->n_variants = ab->n;
    for (size_t k = 0; k < ab->n; k++)
        fprintf(stderr, "hearth serve: variant %s (weight %u): %s\n", ab->names[k], ab->weights[k],
                ab->paths[k]);
    return 0;
}
