/*
 * policy.c: the user's privacy policy (parsed from the settings), a
 * request's tightening of it, and the decision for one request.
 *
 * Invariant: nothing here can loosen the user's settings. Rules are ordered
 * allow < ask < never and a merge takes the maximum; the mode is hybrid
 * only if the user's mode is hybrid and the request did not opt out.
 */
#include "router/router.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const cat_names[ROUTER_CAT_COUNT] = {"general", "health", "finance",
                                                        "personal", "work", "credentials"};

const char *router_category_name(router_category c) {
    return (unsigned)c < ROUTER_CAT_COUNT ? cat_names[c] : NULL;
}

hearth_status router_category_parse(const char *s, router_category *out, hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "router_category_parse: NULL argument");
    for (int c = 0; c < ROUTER_CAT_COUNT; c++) {
        if (!strcasecmp(s, cat_names[c])) {
            *out = (router_category)c;
            return HEARTH_OK;
        }
    }
    if (!strcasecmp(s, "family")) {
        *out = ROUTER_CAT_PERSONAL;
        return HEARTH_OK;
    }
    if (!strcasecmp(s, "secrets")) {
        *out = ROUTER_CAT_CREDENTIALS;
        return HEARTH_OK;
    }
    return HEARTH_FAIL(err, HEARTH_E_ARG,
                       "unknown category '%.40s' (general, health, finance, personal, work, "
                       "credentials)", s);
}

const char *router_rule_name(router_rule r) {
    switch (r) {
    case ROUTER_ALLOW: return "allow";
    case ROUTER_ASK: return "ask";
    case ROUTER_NEVER: return "never";
    }
    return "never";
}

const char *router_mode_name(router_mode m) { return m == ROUTER_HYBRID ? "hybrid" : "local-only"; }

const char *router_action_name(router_action a) {
    switch (a) {
    case ROUTER_LOCAL: return "local";
    case ROUTER_ASK_USER: return "ask";
    case ROUTER_CLOUD: return "cloud";
    }
    return "local";
}

void router_policy_default(router_policy *p) {
    p->mode = ROUTER_LOCAL_ONLY;
    for (int c = 0; c < ROUTER_CAT_COUNT; c++) p->rule[c] = ROUTER_NEVER;
    p->rule[ROUTER_CAT_GENERAL] = ROUTER_ALLOW;
}

/* Normalizes a key into buf: lower case, "hearth_" dropped, '.' '-' -> '_'. */
static bool norm(const char *key, char buf[48]) {
    if (!strncasecmp(key, "hearth_", 7)) key += 7;
    size_t n = strlen(key);
    if (!n || n >= 48) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = key[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c == '.' || c == '-') c = '_';
        buf[i] = c;
    }
    return true;
}

hearth_status router_policy_set(router_policy *p, const char *key, const char *value,
                                hearth_error *err) {
    if (!p || !key || !value) return HEARTH_FAIL(err, HEARTH_E_ARG, "router_policy_set: NULL argument");
    char k[48];
    if (!norm(key, k) || strncmp(k, "policy", 6))
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "'%.60s' is not a policy key", key);
    /* values may carry spaces from a hand-edited config file */
    char v[32];
    while (*value == ' ' || *value == '\t') value++;
    size_t vl = strlen(value);
    while (vl && (value[vl - 1] == ' ' || value[vl - 1] == '\t')) vl--;
    if (vl >= sizeof v) vl = sizeof v - 1;
    memcpy(v, value, vl);
    v[vl] = '\0';
    if (!k[6]) {
        if (!strcasecmp(v, "local-only") || !strcasecmp(v, "local_only") || !strcasecmp(v, "local")) {
            p->mode = ROUTER_LOCAL_ONLY;
            return HEARTH_OK;
        }
        if (!strcasecmp(v, "hybrid")) {
            p->mode = ROUTER_HYBRID;
            return HEARTH_OK;
        }
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting 'policy' = '%s': expected local-only or hybrid", v);
    }
    if (k[6] != '_') return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "'%.60s' is not a policy key", key);
    router_category c;
    if (router_category_parse(k + 7, &c, NULL))
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "'%.60s' is not a policy key", key);
    router_rule r;
    if (!strcasecmp(v, "never")) r = ROUTER_NEVER;
    else if (!strcasecmp(v, "ask")) r = ROUTER_ASK;
    else if (!strcasecmp(v, "allow")) r = ROUTER_ALLOW;
    else
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s' = '%s': expected never, ask or allow", k, v);
    p->rule[c] = r;
    return HEARTH_OK;
}

hearth_status router_policy_from_settings(const hearth_settings *s, router_policy *p,
                                          hearth_error *err) {
    if (!p) return HEARTH_FAIL(err, HEARTH_E_ARG, "router_policy_from_settings: NULL argument");
    router_policy_default(p);
    if (!s) return HEARTH_OK;
    router_policy q = *p;
    char key[48];
    for (int c = -1; c < ROUTER_CAT_COUNT; c++) {
        if (c < 0) snprintf(key, sizeof key, "policy");
        else snprintf(key, sizeof key, "policy_%s", cat_names[c]);
        hearth_setting_source src;
        const char *v = hearth_settings_get(s, key, &src);
        if (!v) continue;
        hearth_status st = router_policy_set(&q, key, v, err);
        if (st) {
            hearth_error_prefix(err, "%s", hearth_setting_source_name(src));
            return st;
        }
    }
    *p = q;
    return HEARTH_OK;
}

void router_overrides_init(router_overrides *o) {
    o->cloud = -1;
    o->incognito = false;
    o->ask = false;
    for (int c = 0; c < ROUTER_CAT_COUNT; c++) o->rule[c] = -1;
}

void router_policy_merge(const router_policy *user, const router_overrides *req,
                         router_policy *out) {
    router_policy m = *user;
    if (m.mode != ROUTER_HYBRID) m.mode = ROUTER_LOCAL_ONLY; /* unknown values count as local */
    for (int c = 0; c < ROUTER_CAT_COUNT; c++)
        if ((unsigned)m.rule[c] > ROUTER_NEVER) m.rule[c] = ROUTER_NEVER;
    if (req) {
        if (req->cloud == 0 || req->incognito) m.mode = ROUTER_LOCAL_ONLY;
        for (int c = 0; c < ROUTER_CAT_COUNT; c++) {
            int r = req->rule[c];
            if (r >= ROUTER_ALLOW && r <= ROUTER_NEVER && r > (int)m.rule[c]) m.rule[c] = (router_rule)r;
            else if (r > ROUTER_NEVER) m.rule[c] = ROUTER_NEVER; /* nonsense tightens */
            if (req->ask && m.rule[c] == ROUTER_ALLOW) m.rule[c] = ROUTER_ASK;
        }
    }
    *out = m;
}

/* Order in which categories decide among equally strict rules. */
static const router_category priority[ROUTER_CAT_COUNT] = {
    ROUTER_CAT_CREDENTIALS, ROUTER_CAT_HEALTH, ROUTER_CAT_FINANCE,
    ROUTER_CAT_PERSONAL,    ROUTER_CAT_WORK,   ROUTER_CAT_GENERAL,
};

void router_decide(const router_policy *user, const router_overrides *req, uint32_t categories,
                   router_decision *out) {
    router_policy m;
    router_policy_merge(user, req, &m);
    categories &= (1u << ROUTER_CAT_COUNT) - 1;
    if (!categories) categories = ROUTER_CAT_BIT(ROUTER_CAT_GENERAL);
    router_category dc = ROUTER_CAT_GENERAL;
    int strictest = -1;
    for (int i = 0; i < ROUTER_CAT_COUNT; i++) {
        router_category c = priority[i];
        if ((categories & ROUTER_CAT_BIT(c)) && (int)m.rule[c] > strictest) {
            strictest = (int)m.rule[c];
            dc = c;
        }
    }
    out->category = dc;
    const char *cn = cat_names[dc];
    if (req && req->incognito) {
        out->action = ROUTER_LOCAL;
        snprintf(out->reason, sizeof out->reason, "incognito request: nothing leaves the device");
    } else if (m.mode == ROUTER_LOCAL_ONLY) {
        out->action = ROUTER_LOCAL;
        if (user->mode != ROUTER_HYBRID)
            snprintf(out->reason, sizeof out->reason, "policy is local-only (setting 'policy')");
        else
            snprintf(out->reason, sizeof out->reason, "the request asked for local only");
    } else if (strictest == ROUTER_NEVER) {
        out->action = ROUTER_LOCAL;
        bool by_user = (unsigned)user->rule[dc] > ROUTER_ASK;
        snprintf(out->reason, sizeof out->reason, "category '%s' is 'never' %s", cn,
                 by_user ? "in the policy (setting 'policy_" : "for this request");
        if (by_user) {
            size_t l = strlen(out->reason);
            snprintf(out->reason + l, sizeof out->reason - l, "%s')", cn);
        }
    } else if (strictest == ROUTER_ASK) {
        out->action = ROUTER_ASK_USER;
        snprintf(out->reason, sizeof out->reason,
                 "category '%s' is 'ask': the user must confirm the redacted text first", cn);
    } else {
        out->action = ROUTER_CLOUD;
        snprintf(out->reason, sizeof out->reason,
                 "policy is hybrid and category '%s' is 'allow'", cn);
    }
}
