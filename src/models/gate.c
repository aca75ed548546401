/*
 * gate.c: the policy decision and audit record for model downloads
 * (gate.h). The decision is taken before any socket exists; the record is
 * written before the request leaves.
 */
#include "models/gate.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void models_url_host(const char *url, char *buf, size_t cap) {
    if (!cap) return;
    buf[0] = '\0';
    if (!url) return;
    const char *p = strstr(url, "://");
    if (!p) return;
    p += 3;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@') at = p + i; /* drop user:password@ */
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n >= cap) n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

/* "allow" / "never" (default allow). false: a value that is neither. */
static bool rule_allows(const hearth_settings *s, const char *key, bool *allow,
                        char *val, size_t cap) {
    const char *v = s ? hearth_settings_get(s, key, NULL) : NULL;
    snprintf(val, cap, "%s", v ? v : "allow");
    if (!v || !strcasecmp(v, "allow")) {
        *allow = true;
        return true;
    }
    *allow = false;
    return !strcasecmp(v, "never");
}

hearth_status models_gate_open(const hearth_settings *s, const char *kind, const char *url,
                               bool background, models_gate *g, hearth_error *err) {
    *g = (models_gate){.kind = kind};
    models_url_host(url, g->host, sizeof g->host);
    bool allow_pull, allow_update = true;
    char v1[64], v2[64] = "";
    bool ok = rule_allows(s, "policy_pull", &allow_pull, v1, sizeof v1);
    if (ok && background) ok = rule_allows(s, "policy_update", &allow_update, v2, sizeof v2);
    if (!ok)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting policy_pull / policy_update = '%s': "
                                              "expected allow or never", v2[0] ? v2 : v1);
    hearth_store_params sp = hearth_store_default_params();
    sp.data_dir = s ? hearth_settings_get(s, "home", NULL) : NULL;
    hearth_status st = hearth_store_open(&sp, &g->store, err);
    if (st) {
        hearth_error_prefix(err, "nothing downloaded: the audit log can not be opened");
        return st == HEARTH_E_NOMEM ? st : HEARTH_E_IO;
    }
    bool allow = allow_pull && allow_update;
    if (!allow)
        snprintf(g->reason, sizeof g->reason, "setting %s = never",
                 !allow_pull ? "policy_pull" : "policy_update");
    else
        snprintf(g->reason, sizeof g->reason, "%s (policy_pull = allow%s)",
                 background ? "background update check" : "requested by the user",
                 background ? ", policy_update = allow" : "");
    hearth_audit_record a = {
        .kind = kind,
        .category = "general",
        .decision = allow ? "sending" : "blocked",
        .reason = g->reason,
        .host = allow && g->host[0] ? g->host : NULL,
        .confidence = -1,
        .latency_ms = -1,
        .content = NULL,
    };
    hearth_error ae = {0};
    if (hearth_store_audit_add(g->store, &a, allow ? &g->audit_id : NULL, &ae)) {
        hearth_store_free(g->store);
        g->store = NULL;
        g->audit_id = 0;
        return HEARTH_FAIL(err, HEARTH_E_IO,
                           "nothing downloaded: the audit log could not be written (%.150s)",
                           ae.msg);
    }
    if (!allow) {
        hearth_store_free(g->store);
        g->store = NULL;
        return HEARTH_FAIL(err, HEARTH_E_STATE, "%s of %s blocked by the privacy policy (%s)",
                           kind, g->host[0] ? g->host : "?", g->reason);
    }
    return HEARTH_OK;
}

void models_gate_done(models_gate *g, const char *outcome, int64_t bytes_in, double latency_ms) {
    if (!g || !g->store) return;
    if (g->audit_id) {
        hearth_audit_record a = {
            .kind = g->kind,
            .category = "general",
            .decision = "sent",
            .reason = g->reason,
            .host = g->host[0] ? g->host : NULL,
            .bytes_in = bytes_in,
            .confidence = -1,
            .latency_ms = latency_ms,
            .outcome = outcome ? outcome : "ok",
        };
        hearth_error e;
        hearth_store_audit_update(g->store, g->audit_id, &a, &e);
    }
    hearth_store_free(g->store);
    g->store = NULL;
    g->audit_id = 0;
}
