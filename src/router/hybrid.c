/*
 * hybrid.c: the hybrid router's steps for one request that is not
 * confident enough locally (see hybrid.h): decide, redact, ask, send,
 * restore, record.
 *
 * What is classified is the conversation as it would be sent, message by
 * message, with the redactor's findings as evidence (a secret makes the
 * request "credentials" even if no word says so); the strictest rule among
 * the categories found decides. Every message of a request shares one
 * placeholder map, reserved over all of them first, so the same address is
 * the same placeholder everywhere and a placeholder the user typed is never
 * given to someone's data.
 */
#include "router/hybrid.h"

#include "router/cloud.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <string.h>

struct router {
    router_policy policy;
    redact_config *redact;
    hearth_cloud *cloud;     /* NULL: no cloud configured */
    double threshold;
    bool audit_content;
};

hearth_status router_new(const router_params *p, router **out, hearth_error *err) {
    *out = NULL;
    router *r = hearth_calloc(1, sizeof *r);
    if (!r) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "router: out of memory");
    r->policy = p->policy;
    r->threshold = p->threshold;
    r->audit_content = p->audit_content;
    hearth_status st = redact_config_new(&r->redact, err);
    if (!st && p->redact_terms && *p->redact_terms)
        st = redact_config_add_terms(r->redact, p->redact_terms, err);
    if (!st && p->cloud_url && *p->cloud_url) {
        if (!p->cloud_model || !*p->cloud_model) {
            st = HEARTH_FAIL(err, HEARTH_E_ARG, "cloud_url is set but cloud_model is not");
        } else {
            hearth_cloud_params cp = hearth_cloud_default_params();
            cp.url = p->cloud_url;
            cp.model = p->cloud_model;
            cp.api_key = p->cloud_api_key;
            cp.ca_file = p->cloud_ca_file && *p->cloud_ca_file ? p->cloud_ca_file : NULL;
            if (p->cloud_timeout_ms > 0) cp.timeout_ms = p->cloud_timeout_ms;
            st = hearth_cloud_new(&cp, &r->cloud, err);
        }
    }
    if (st) {
        router_free(r);
        return st;
    }
    *out = r;
    return HEARTH_OK;
}

void router_free(router *r) {
    if (!r) return;
    hearth_cloud_free(r->cloud);
    redact_config_free(r->redact);
    hearth_free(r);
}

bool router_may_escalate(const router *r, const router_overrides *o) {
    if (!r || !r->cloud || r->policy.mode != ROUTER_HYBRID) return false;
    if (o && (o->incognito || o->cloud == 0)) return false;
    return true;
}

double router_threshold(const router *r) { return r ? r->threshold : 0.0; }

void router_why_local(const router *r, const router_overrides *o, char *buf, size_t cap) {
    if (o && o->incognito) snprintf(buf, cap, "incognito: nothing leaves the device");
    else if (!r || !r->cloud) snprintf(buf, cap, "no cloud is configured (setting cloud_url)");
    else if (r->policy.mode != ROUTER_HYBRID) snprintf(buf, cap, "policy is local-only (setting 'policy')");
    else if (o && o->cloud == 0) snprintf(buf, cap, "the request asked for local only");
    else snprintf(buf, cap, "the cloud may be asked");
}

const char *router_cloud_host(const router *r) {
    return r && r->cloud ? hearth_cloud_host(r->cloud) : NULL;
}

void router_result_clear(router_result *res) {
    if (!res) return;
    hearth_free(res->text);
    hearth_free(res->preview);
    memset(res, 0, sizeof *res);
}

/* The audit record's text fields, from what the result holds. */
static void fill_audit(const router *r, const router_request *q, router_result *res,
                       const char *decision, const char *host, const char *sent) {
    res->has_audit = true;
    snprintf(res->audit_decision, sizeof res->audit_decision, "%s", decision);
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{");
    bool first = true;
    for (int k = 0; k < REDACT_KIND_COUNT; k++) {
        if (!res->redactions[k]) continue;
        strbuf_printf(&b, "%s\"%s\":%u", first ? "" : ",", redact_kind_name((redact_kind)k),
                      res->redactions[k]);
        first = false;
    }
    strbuf_puts(&b, "}");
    size_t len;
    char *js = strbuf_finish(&b, &len);
    snprintf(res->audit_redactions, sizeof res->audit_redactions, "%s", js ? js : "{}");
    hearth_free(js);
    hearth_audit_record *a = &res->audit;
    *a = (hearth_audit_record){0};
    a->kind = "cloud";
    a->session = q->session;
    a->category = router_category_name(res->category);
    a->decision = res->audit_decision;
    snprintf(res->audit_reason, sizeof res->audit_reason, "%s", res->reason);
    a->reason = res->audit_reason;
    a->host = host;
    a->redactions_json = res->audit_redactions;
    a->confidence = q->confidence;
    a->latency_ms = -1;
    a->outcome = res->audit_outcome[0] ? res->audit_outcome : NULL;
    a->content = r->audit_content ? sent : NULL;
}

/* Writes the record of a request that did not leave (best effort: nothing
 * left, so a failed write hides nothing). */
static void record_unsent(const router_request *q, router_result *res) {
    if (!q->store) return;
    hearth_error e;
    if (hearth_store_audit_add(q->store, &res->audit, &res->audit_id, &e))
        snprintf(res->audit_error, sizeof res->audit_error, "%.150s", e.msg);
}

typedef struct {
    const router_request *q;
    redact_restorer rs;
    strbuf answer;       /* the restored answer */
    bool stopped;        /* the caller's on_text said stop */
    bool streamed;
} stream_ctx;

static bool emit_restored(void *ud, const char *p, size_t n) {
    stream_ctx *s = ud;
    strbuf_append(&s->answer, p, n);
    if (n && s->q->on_text) {
        s->streamed = true;
        if (!s->q->on_text(s->q->user_data, p, n)) {
            s->stopped = true;
            return false;
        }
    }
    return true;
}

static bool on_delta(void *ud, const char *text, size_t len) {
    stream_ctx *s = ud;
    if (s->stopped) return false;
    return redact_restorer_feed(&s->rs, text, len, emit_restored, s, NULL) == HEARTH_OK;
}

static bool poll_cancel(void *ud) {
    stream_ctx *s = ud;
    return s->stopped || (s->q->cancelled && s->q->cancelled(s->q->cancel_ud));
}

hearth_status router_escalate(router *r, const router_request *q, router_result *res,
                              hearth_error *err) {
    memset(res, 0, sizeof *res);
    if (!r || !q || (q->n_messages && !q->messages))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "router_escalate: NULL argument");
    hearth_status st = HEARTH_OK;
    redact_map map;
    redact_map_init(&map);
    hearth_chat_message *sent = NULL;
    char **texts = NULL;
    char *sent_text = NULL;
    stream_ctx sc = {.q = q};
    strbuf_init(&sc.answer);

    /* Nothing can leave: no classification, no audit. */
    if (!router_may_escalate(r, q->overrides)) {
        res->outcome = ROUTER_OUT_LOCAL;
        router_why_local(r, q->overrides, res->reason, sizeof res->reason);
        return HEARTH_OK;
    }

    /* Redact every message into one map (reserved over all first). */
    sent = hearth_calloc(q->n_messages ? q->n_messages : 1, sizeof *sent);
    texts = hearth_calloc(q->n_messages ? q->n_messages : 1, sizeof *texts);
    if (!sent || !texts) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "router: out of memory");
        goto out;
    }
    for (size_t i = 0; i < q->n_messages && !st; i++)
        st = redact_map_reserve(&map, q->messages[i].content, strlen(q->messages[i].content), err);
    uint32_t mask = 0;
    strbuf pv;
    strbuf_init(&pv);
    for (size_t i = 0; i < q->n_messages && !st; i++) {
        const char *c = q->messages[i].content;
        uint32_t before[REDACT_KIND_COUNT], counts[REDACT_KIND_COUNT];
        memcpy(before, map.counts, sizeof before);
        size_t tl;
        st = redact_text(r->redact, &map, c, strlen(c), &texts[i], &tl, err);
        if (st) break;
        for (int k = 0; k < REDACT_KIND_COUNT; k++) counts[k] = map.counts[k] - before[k];
        /* The system prompt is ours, not the user's request: it does not
         * change the category. */
        if (strcmp(q->messages[i].role, "system")) {
            router_class cl;
            router_classify(c, strlen(c), counts, &cl);
            mask |= cl.mask;
        }
        sent[i].role = q->messages[i].role;
        sent[i].content = texts[i];
        strbuf_printf(&pv, "%s: %s\n", sent[i].role, texts[i]);
    }
    if (st) {
        strbuf_discard(&pv);
        goto out;
    }
    size_t pvl;
    sent_text = strbuf_finish(&pv, &pvl);
    if (!st && !sent_text) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "router: out of memory");
    if (st) goto out;
    memcpy(res->redactions, map.counts, sizeof res->redactions);

    router_decision d;
    router_decide(&r->policy, q->overrides, mask, &d);
    res->category = d.category;
    const char *host = hearth_cloud_host(r->cloud);
    if (d.action == ROUTER_LOCAL) {
        res->outcome = ROUTER_OUT_LOCAL;
        snprintf(res->reason, sizeof res->reason, "confidence %.2f < %.2f, but %s", q->confidence,
                 r->threshold, d.reason);
        fill_audit(r, q, res, "blocked", NULL, NULL);
        record_unsent(q, res);
        goto out;
    }
    if (d.action == ROUTER_ASK_USER && !q->consent_given) {
        bool yes = false;
        if (q->consent) {
            yes = q->consent(q->consent_ud, host, sent_text);
        } else {
            res->outcome = ROUTER_OUT_CONSENT_NEEDED;
            res->preview = sent_text;
            sent_text = NULL;
            snprintf(res->reason, sizeof res->reason,
                     "confidence %.2f < %.2f; %s", q->confidence, r->threshold, d.reason);
            fill_audit(r, q, res, "consent-needed", NULL, NULL);
            record_unsent(q, res);
            goto out;
        }
        if (!yes) {
            res->outcome = ROUTER_OUT_DECLINED;
            res->preview = sent_text;
            sent_text = NULL;
            snprintf(res->reason, sizeof res->reason, "the user declined to send it to %s", host);
            fill_audit(r, q, res, "declined", NULL, NULL);
            record_unsent(q, res);
            goto out;
        }
    }

    /* Recorded before anything leaves: no record, no request. */
    snprintf(res->reason, sizeof res->reason, "confidence %.2f < %.2f; %s", q->confidence,
             r->threshold, d.reason);
    fill_audit(r, q, res, "sending", host, sent_text);
    if (q->store) {
        hearth_error ae;
        if (hearth_store_audit_add(q->store, &res->audit, &res->audit_id, &ae)) {
            res->outcome = ROUTER_OUT_LOCAL;
            res->has_audit = false;
            snprintf(res->reason, sizeof res->reason,
                     "not sent: the audit log could not be written (%.150s)", ae.msg);
            goto out;
        }
    }

    /* Send. */
    redact_restorer_init(&sc.rs, &map);
    hearth_cloud_request cr = {.messages = sent, .n_messages = q->n_messages,
                               .max_tokens = q->max_tokens, .temperature = q->temperature,
                               .stream = true, .on_delta = on_delta, .cancel = poll_cancel,
                               .user_data = &sc};
    hearth_cloud_result cres;
    hearth_error ce = {0};
    hearth_status cs = hearth_cloud_chat(r->cloud, &cr, &cres, &ce);
    if (!cs && !sc.stopped) {
        if (redact_restorer_finish(&sc.rs, emit_restored, &sc, NULL)) sc.stopped = true;
    }
    size_t alen;
    char *answer = strbuf_finish(&sc.answer, &alen);
    strbuf_init(&sc.answer);
    res->streamed = sc.streamed;
    if (!cs && answer && !sc.stopped) {
        res->outcome = ROUTER_OUT_CLOUD;
        res->text = answer;
        answer = NULL;
        snprintf(res->audit_outcome, sizeof res->audit_outcome, "ok");
    } else if (sc.stopped && !cs) {
        /* the caller stopped the answer it was reading: what came is the answer */
        res->outcome = ROUTER_OUT_CLOUD;
        res->text = answer ? answer : hearth_strndup("", 0);
        answer = NULL;
        snprintf(res->reason, sizeof res->reason, "stopped by the caller");
        snprintf(res->audit_outcome, sizeof res->audit_outcome, "cancelled");
    } else {
        res->outcome = ROUTER_OUT_DEGRADED;
        /* the client's messages are ASCII apart from the server's text,
         * which it already cut on a character boundary */
        snprintf(res->reason, sizeof res->reason, "the cloud failed (%s): %.200s",
                 hearth_cloud_kind_name(cres.kind), ce.msg);
        if (cres.http_status)
            snprintf(res->audit_outcome, sizeof res->audit_outcome, "%s %ld",
                     hearth_cloud_kind_name(cres.kind), cres.http_status);
        else
            snprintf(res->audit_outcome, sizeof res->audit_outcome, "%s",
                     hearth_cloud_kind_name(cres.kind));
    }
    hearth_free(answer);
    /* the record's reason stays the decision's; the outcome says how it went */
    snprintf(res->audit_decision, sizeof res->audit_decision, "sent");
    res->audit.outcome = res->audit_outcome;
    res->audit.bytes_out = (int64_t)cres.bytes_sent;
    res->audit.bytes_in = (int64_t)cres.bytes_received;
    res->audit.latency_ms = cres.latency_ms;
    if (r->audit_content) {
        /* the record keeps a copy: the preview buffer stays alive in res */
        res->preview = sent_text;
        sent_text = NULL;
        res->audit.content = res->preview;
    }
    hearth_cloud_result_clear(&cres);
    if (q->store && res->audit_id) {
        hearth_error ae;
        if (hearth_store_audit_update(q->store, res->audit_id, &res->audit, &ae))
            snprintf(res->audit_error, sizeof res->audit_error, "%.150s", ae.msg);
    }

out:
    strbuf_discard(&sc.answer);
    if (texts)
        for (size_t i = 0; i < q->n_messages; i++) hearth_free(texts[i]);
    hearth_free(texts);
    hearth_free(sent);
    hearth_free(sent_text);
    redact_map_clear(&map);
    if (st) router_result_clear(res);
    return st;
}
