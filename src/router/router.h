/*
 * router.h: what the hybrid router (issue 11) needs from src/router/ to
 * decide whether a request may leave the device, and what to send: the
 * request's categories (classify.c), the user's privacy policy and a
 * request's tightening of it (policy.c), and the redactor (redact.h).
 *
 * Internal header: the router, the agent and (later) the CLI/server glue
 * use it; include/hearth.h will expose what users need. Nothing here opens
 * a socket, allocates in the decision path, or keeps global mutable state.
 *
 * Settings keys (hearth_settings; flags > HEARTH_* env > config file):
 *   policy              local-only (default) | hybrid
 *   policy_health       never | ask | allow   (default never)
 *   policy_finance      never | ask | allow   (default never)
 *   policy_personal     never | ask | allow   (default never; family/personal)
 *   policy_work         never | ask | allow   (default never)
 *   policy_credentials  never | ask | allow   (default never)
 *   policy_general      never | ask | allow   (default allow)
 *   redact_terms        comma-separated names, places, words to redact: pass
 *                       hearth_settings_get(s, "redact_terms") to
 *                       redact_config_add_terms
 * router_policy_set also accepts "policy.<category>" and "policy_family".
 */
#ifndef HEARTH_ROUTER_ROUTER_H
#define HEARTH_ROUTER_ROUTER_H

#include "hearth.h"
#include "router/redact.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- categories (classify.c) ------------------------------------------ */

typedef enum {
    ROUTER_CAT_GENERAL = 0,
    ROUTER_CAT_HEALTH,
    ROUTER_CAT_FINANCE,
    ROUTER_CAT_PERSONAL, /* family and personal life, personal data */
    ROUTER_CAT_WORK,
    ROUTER_CAT_CREDENTIALS, /* passwords, keys, tokens */
    ROUTER_CAT_COUNT
} router_category;

#define ROUTER_CAT_BIT(c) (1u << (c))

/* "general", "health", "finance", "personal", "work", "credentials"; NULL
 * outside the enum. Static. Any thread. */
const char *router_category_name(router_category c);
/* Parses a name above (also "family" for personal, "secrets" for
 * credentials), ASCII case-insensitive. Errors: HEARTH_E_ARG. Any thread. */
hearth_status router_category_parse(const char *s, router_category *out, hearth_error *err);

/* The result of classifying one request. */
typedef struct {
    router_category primary;            /* highest score; GENERAL if none reaches 1 */
    uint32_t mask;                      /* ROUTER_CAT_BIT of every category scoring >= 1
                                           (GENERAL's bit when no other does) */
    float score[ROUTER_CAT_COUNT];      /* evidence per category (0 = none) */
} router_class;

/* Classifies text[0..len) on the device: a lexicon of words and stems per
 * category (e.g. "diagnos*", "mortgage", "daughter", "deadline"), money
 * patterns ("$120", "€5"), and the redactor's findings when counts is
 * given (counts[k] = spans of redact_kind k, e.g. redact_map.counts):
 * secrets make it credentials, cards and IBANs finance, other personal data
 * personal. Never fails; text need not be valid UTF-8. Any thread. */
void router_classify(const char *text, size_t len, const uint32_t *counts, router_class *out);

/* ---- policy (policy.c) ------------------------------------------------- */

/* Per-category rule, ordered from loosest to strictest. */
typedef enum { ROUTER_ALLOW = 0, ROUTER_ASK = 1, ROUTER_NEVER = 2 } router_rule;
typedef enum { ROUTER_LOCAL_ONLY = 0, ROUTER_HYBRID = 1 } router_mode;

/* "allow", "ask", "never" / "local-only", "hybrid". Static. */
const char *router_rule_name(router_rule r);
const char *router_mode_name(router_mode m);

/* The user's policy (from the settings). */
typedef struct {
    router_mode mode;
    router_rule rule[ROUTER_CAT_COUNT];
} router_policy;

/* The defaults: local-only; every category never except general: allow. */
void router_policy_default(router_policy *p);
/* Applies one setting ("policy" or "policy_<category>", see the top of this
 * file; keys are ASCII case-insensitive, an optional "hearth_" prefix is
 * dropped, '.' and '-' count as '_'). Errors: HEARTH_E_ARG naming key and
 * value; p is then unchanged. HEARTH_E_NOTFOUND for a key that is not a
 * policy key. */
hearth_status router_policy_set(router_policy *p, const char *key, const char *value,
                                hearth_error *err);
/* Reads every policy key from s onto the defaults. A bad value is an
 * HEARTH_E_ARG error that names the key, the value and where it came from
 * (flag, env, file); *p is then the defaults (nothing looser than them). */
hearth_status router_policy_from_settings(const hearth_settings *s, router_policy *p,
                                          hearth_error *err);

/* What one request asks for (API body "hearth": {...}, CLI flags). Each
 * field can only tighten the user's policy; a looser wish is ignored. */
typedef struct {
    int8_t cloud;     /* -1: no wish; 0: local only (--local-only); 1: cloud wanted (--cloud:
                         allowed only where the policy already allows it) */
    bool incognito;   /* nothing leaves, nothing is stored */
    bool ask;         /* --ask: confirm before anything leaves (allow becomes ask) */
    int8_t rule[ROUTER_CAT_COUNT]; /* -1: no wish, else a router_rule for that category */
} router_overrides;

/* No wishes. */
void router_overrides_init(router_overrides *o);

/* The effective policy: for each category the stricter of the user's rule
 * and the request's; local-only if the user's mode is, or the request says
 * cloud = 0 or incognito; ask turns allow into ask. req may be NULL.
 * Invariant (tested exhaustively): out is never looser than user in any
 * field. Any thread. */
void router_policy_merge(const router_policy *user, const router_overrides *req,
                         router_policy *out);

typedef enum {
    ROUTER_LOCAL = 0, /* answer on the device; nothing leaves */
    ROUTER_ASK_USER,  /* show the redacted text and the host; send only after consent */
    ROUTER_CLOUD,     /* may go to the cloud (redacted) */
} router_action;

/* "local", "ask", "cloud". Static. */
const char *router_action_name(router_action a);

typedef struct {
    router_action action;
    router_category category; /* the category that decided (strictest of the mask) */
    char reason[160];         /* for the user and the audit log; never holds request text */
} router_decision;

/* Decides what may happen to a request of the given categories (a mask of
 * ROUTER_CAT_BIT; 0 means general) under the user's policy tightened by
 * req (may be NULL). The strictest rule among the categories wins. Only
 * the decision: whether the local answer was confident and whether a cloud
 * is configured are the caller's to check first. Any thread. */
void router_decide(const router_policy *user, const router_overrides *req, uint32_t categories,
                   router_decision *out);

#endif
