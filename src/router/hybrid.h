/*
 * hybrid.h: the hybrid router: what happens to a request whose local answer
 * was not confident enough. In order: the policy decides (categories from
 * the on-device classifier, the user's rules tightened by the request);
 * then the conversation is redacted; then, if the decision is "ask", the
 * user sees exactly the redacted text and the host before anything is sent;
 * then the cloud answers, streamed, with the placeholders restored; and an
 * audit record says what happened and why (never the content unless
 * audit_content is on).
 *
 * The router knows the cloud only through cloud.h and the engine not at
 * all: the agent gives it the conversation, the local answer's confidence
 * and callbacks, and writes the audit record it returns to the store.
 * One thread per router.
 */
#ifndef HEARTH_ROUTER_HYBRID_H
#define HEARTH_ROUTER_HYBRID_H

#include "hearth.h"
#include "router/router.h"

typedef struct router router;

typedef struct {
    router_policy policy;       /* the user's */
    const char *redact_terms;   /* the user's own terms (comma separated), or NULL */
    const char *cloud_url;      /* NULL/"": no cloud (local only whatever the policy) */
    const char *cloud_model;    /* required with cloud_url */
    const char *cloud_api_key;  /* NULL: none */
    const char *cloud_ca_file;  /* NULL: the system's CAs */
    long cloud_timeout_ms;      /* whole call; 0: 60000 */
    double threshold;           /* answers below this confidence may escalate */
    bool audit_content;         /* keep what was sent in the audit record */
} router_params;

/* Checks p and copies what it needs (the cloud client opens no connection
 * here). OUT: *out owns the router (router_free). Errors: HEARTH_E_ARG (a
 * cloud setting that does not check, naming it; never the key's value),
 * HEARTH_E_IO, HEARTH_E_NOMEM. */
hearth_status router_new(const router_params *p, router **out, hearth_error *err);
void router_free(router *r);

/* True if a request with these overrides could end up in the cloud at all
 * (hybrid policy, a cloud configured, not tightened to local only), so
 * the agent must hold the local answer back until its confidence is known. */
bool router_may_escalate(const router *r, const router_overrides *o);
/* Why a request with these overrides can not reach the cloud at all, in
 * words, into buf (cap bytes); for answers that stay local unasked. */
void router_why_local(const router *r, const router_overrides *o, char *buf, size_t cap);
/* The threshold (for messages). */
double router_threshold(const router *r);
/* The cloud's host, or NULL without a cloud. Borrowed. */
const char *router_cloud_host(const router *r);

typedef struct {
    const hearth_chat_message *messages; /* the conversation that would be sent */
    size_t n_messages;
    const char *session;                  /* for the audit record; may be NULL */
    double confidence;                    /* of the local answer */
    const router_overrides *overrides;    /* may be NULL */
    bool consent_given;                   /* the user already approved this preview */
    /* Asks the user (CLI): shows host and the redacted text, returns true
     * to send. NULL: the router answers ROUTER_OUT_CONSENT_NEEDED instead. */
    bool (*consent)(void *ud, const char *host, const char *preview);
    void *consent_ud;
    /* The cloud's restored answer, streamed (optional). Return false to stop. */
    hearth_stream_fn on_text;
    void *user_data;
    /* Polled during the cloud call; true aborts it (optional). */
    bool (*cancelled)(void *ud);
    void *cancel_ud;
    /* Where the audit record goes (borrowed; NULL: nowhere, tests only).
     * A request is recorded before it leaves; if that write fails, it does
     * not leave. */
    hearth_store *store;
    int max_tokens;                       /* 0: the server's default */
    float temperature;                    /* < 0: not sent */
} router_request;

typedef enum {
    ROUTER_OUT_LOCAL = 0,       /* the local answer stands (policy, or nothing to ask) */
    ROUTER_OUT_CLOUD,           /* text holds the cloud's answer */
    ROUTER_OUT_DEGRADED,        /* the cloud was asked and failed: the local answer stands */
    ROUTER_OUT_CONSENT_NEEDED,  /* "ask": preview holds what would be sent */
    ROUTER_OUT_DECLINED,        /* "ask": the user said no */
} router_outcome;

typedef struct {
    router_outcome outcome;
    char *text;              /* owned: the cloud's restored answer (CLOUD), else NULL */
    bool streamed;           /* some of text already went to on_text */
    char *preview;           /* owned: the redacted conversation (CONSENT_NEEDED,
                                DECLINED, and whenever something was redacted) */
    char reason[256];        /* why, in words (never request text) */
    router_category category;
    /* The audit record (has_audit): its strings point into this result. */
    bool has_audit;
    hearth_audit_record audit;
    int64_t audit_id;        /* its id in the store (0: not written) */
    char audit_error[160];   /* why completing the record failed, or "" */
    char audit_decision[32], audit_outcome[160], audit_redactions[512], audit_reason[256];
    uint32_t redactions[REDACT_KIND_COUNT];
} router_result;

/* Runs the steps above for one request. Always fills *res (clear it with
 * router_result_clear). A cloud failure is not an error (outcome DEGRADED,
 * with the reason); errors are HEARTH_E_NOMEM and HEARTH_E_ARG. */
hearth_status router_escalate(router *r, const router_request *req, router_result *res,
                              hearth_error *err);
void router_result_clear(router_result *res);

#endif
