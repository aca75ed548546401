/*
 * context.c: fitting a session's conversation into the context window.
 *
 * When system text + history + the new message + room for the answer do not
 * fit, the conversation becomes:
 *   system text
 *     + "Summary of the earlier conversation: ..." (the older turns, written
 *       by the local model, stored with the id of the last message it covers
 *       and reused by later requests instead of being written again)
 *     + "Earlier messages related to this one: ..." (older messages whose
 *       embeddings are most similar to the new message, best first, as many
 *       as fit)
 *   + the newest turns (whole turns: the kept part starts at a user message)
 *   + the new user message.
 * Budget shares: the newest turns take up to 2/3 of the prompt budget when a
 * stored summary is reused, 1/2 when a new one is written (so it covers more
 * than strictly needed and the next several requests reuse it); the summary
 * is at most 1/12; recalled messages fill what is left.
 * Without a session (nothing stored) the older turns are simply left out.
 */
#include "agent/agent_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECALL_K 8
#define SUMMARY_MIN_ROOM 24 /* tokens: the summary's heading and a few words */
#define SUMMARY_PREFIX "Summary of the earlier conversation: "
#define RECALL_PREFIX "Earlier messages related to this one:\n"

/* Tokens of [sys] + hist[k..n) + user. */
static hearth_status count_tail(hearth_agent *a, const char *sys, const hearth_message *hist,
                                size_t k, size_t n, const char *user, size_t *count,
                                hearth_error *err) {
    agent_conv c = {0};
    bool ok = !sys || agent_conv_add(&c, "system", (char *)sys, false);
    for (size_t i = k; ok && i < n; i++)
        ok = agent_conv_add(&c, hist[i].role, (char *)hist[i].content, false);
    ok = ok && agent_conv_add(&c, "user", (char *)user, false);
    hearth_status st = ok ? agent_count(a, c.v, c.n, count, err)
                          : HEARTH_FAIL(err, HEARTH_E_NOMEM, "context: out of memory");
    agent_conv_free(&c);
    return st;
}

/* Smallest k >= from, starting a turn (a user message) or n, such that the
 * tail from k fits in limit tokens; n if none. The tail shrinks as k grows,
 * so a binary search over the turn starts needs O(log n) renderings. */
static hearth_status first_fitting(hearth_agent *a, const char *sys, const hearth_message *hist,
                                   size_t from, size_t n, const char *user, size_t limit,
                                   size_t *k_out, hearth_error *err) {
    size_t *starts = hearth_malloc((n + 1) * sizeof *starts);
    if (!starts) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "context: out of memory");
    size_t ns = 0;
    for (size_t k = from; k < n; k++)
        if (!strcmp(hist[k].role, "user")) starts[ns++] = k;
    starts[ns] = n; /* always "fits" as far as this search is concerned */
    size_t lo = 0, hi = ns; /* answer in starts[lo..hi] */
    hearth_status st = HEARTH_OK;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, c;
        if ((st = count_tail(a, sys, hist, starts[mid], n, user, &c, err))) break;
        if (c <= limit) hi = mid;
        else lo = mid + 1;
    }
    if (!st) *k_out = starts[lo];
    hearth_free(starts);
    return st;
}

/* Cuts *text (owned, replaced) to its first max tokens when it is longer:
 * text that does not tokenize back as it was made (odd bytes) must still
 * take no more room than was planned for it. Never leaves a partial UTF-8
 * character at the end. */
static hearth_status cap_tokens(hearth_agent *a, char **text, size_t max, hearth_error *err) {
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_status st = hearth_tokenize(a->tok, *text, strlen(*text), false, false, &ids, &n, err);
    if (st || n <= max) {
        hearth_free(ids);
        return st;
    }
    char *cut = NULL;
    size_t len = 0;
    st = hearth_detokenize(a->tok, ids, max, false, &cut, &len, err);
    hearth_free(ids);
    if (st) return st;
    /* Drop an incomplete trailing UTF-8 sequence. */
    size_t k = len, back = 0;
    while (k > 0 && back < 4 && ((unsigned char)cut[k - 1] & 0xC0) == 0x80) k--, back++;
    if (k > 0 && (unsigned char)cut[k - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)cut[k - 1];
        size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
        if (back < need) len = k - 1;
    }
    cut[len] = '\0';
    hearth_free(*text);
    *text = cut;
    return HEARTH_OK;
}

/* Asks the model for a summary of an earlier summary plus hist[from..to).
 * OUT: *text (owned). The request is cut from its oldest lines until it fits
 * with room for the summary. */
static hearth_status write_summary(hearth_agent *a, const char *prev, const hearth_message *hist,
                                   size_t from, size_t to, size_t max_tokens, char **text,
                                   hearth_error *err) {
    hearth_status st = HEARTH_OK;
    agent_buf req = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    size_t limit = (size_t)a->n_ctx > max_tokens + 8 ? (size_t)a->n_ctx - max_tokens - 8 : 0;
    for (size_t start = from;; start++) {
        req.n = 0;
        bool ok = agent_buf_puts(&req, "Summarize this conversation in a few sentences.\n\n");
        if (prev && *prev)
            ok = ok && agent_buf_puts(&req, "Earlier summary: ") && agent_buf_puts(&req, prev) &&
                 agent_buf_puts(&req, "\n\n");
        for (size_t i = start; ok && i < to; i++)
            ok = agent_buf_puts(&req, hist[i].role) && agent_buf_puts(&req, ": ") &&
                 agent_buf_puts(&req, hist[i].content) && agent_buf_puts(&req, "\n");
        if (!ok) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "summary: out of memory");
            break;
        }
        hearth_chat_message m[2] = {{"system", "You write short, factual summaries."},
                                    {"user", req.v}};
        hearth_free(ids);
        ids = NULL;
        if ((st = hearth_template_render(hearth_agent_template(a), a->tok, m, 2, &ids, &n, err)))
            break;
        if (n <= limit) break;
        if (start >= to) {
            /* Even the earlier summary alone is too long: drop it. */
            if (prev) {
                prev = NULL;
                start = from - 1;
                continue;
            }
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "summary request does not fit the context");
            break;
        }
    }
    agent_buf_free(&req);
    if (st) {
        hearth_free(ids);
        return st;
    }
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = (int32_t)max_tokens;
    gp.sampling.temp = 0.0f;
    agent_gen g;
    st = agent_generate(a, ids, n, &gp, NULL, NULL, &g, err);
    hearth_free(ids);
    if (st) return st;
    if (g.res.finish == HEARTH_FINISH_CANCELLED) {
        /* A cut-off summary must not be stored and reused. */
        agent_buf_free(&g.text);
        return HEARTH_FAIL(err, HEARTH_E_CANCELLED, "summary: cancelled");
    }
    /* Trim surrounding white space. */
    char *s = g.text.v;
    size_t len = g.text.n;
    while (len && (*s == ' ' || *s == '\n')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n')) len--;
    *text = hearth_strndup(s, len);
    agent_buf_free(&g.text);
    if (!*text) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "summary: out of memory");
    return cap_tokens(a, text, max_tokens, err);
}

/* Index of the message with this id in hist[0..n) (sorted by id), or n. */
static size_t find_id(const hearth_message *hist, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hist[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && hist[lo].id == id ? lo : n;
}

/* sys + summary + recalled messages (hist indices, in chat order). Owned. */
static char *compose_system(const char *sys, const char *summary, const hearth_message *hist,
                            const size_t *recall, size_t n_recall) {
    agent_buf b = {0};
    bool ok = true;
    if (sys && *sys) ok = agent_buf_puts(&b, sys);
    if (ok && summary) {
        if (b.n) ok = agent_buf_puts(&b, "\n\n");
        ok = ok && agent_buf_puts(&b, SUMMARY_PREFIX) && agent_buf_puts(&b, summary);
    }
    if (ok && n_recall) {
        if (b.n) ok = agent_buf_puts(&b, "\n\n");
        ok = ok && agent_buf_puts(&b, RECALL_PREFIX);
        for (size_t i = 0; ok && i < n_recall; i++)
            ok = agent_buf_puts(&b, hist[recall[i]].role) && agent_buf_puts(&b, ": ") &&
                 agent_buf_puts(&b, hist[recall[i]].content) && agent_buf_puts(&b, "\n");
    }
    if (ok && !b.v) ok = agent_buf_puts(&b, "");
    if (!ok) {
        agent_buf_free(&b);
        return NULL;
    }
    return b.v;
}

static hearth_status recall_candidates(hearth_agent *a, int64_t sid, const hearth_message *hist,
                                       size_t k, const char *user, size_t *cand, size_t *n_cand) {
    *n_cand = 0;
    float *q = NULL;
    int dim = 0;
    hearth_error e;
    hearth_status st = hearth_embed(a, user, strlen(user), &q, &dim, &e);
    if (st) {
        agent_warn(a, "recall: embedding failed: %s", e.msg);
        return HEARTH_OK; /* recall is an improvement, not a requirement */
    }
    hearth_embedding_hit hits[RECALL_K * 2];
    size_t nh = 0;
    st = hearth_store_embedding_search(a->store, a->embed_hash, AGENT_EMBED_KIND,
                                       sid, q, dim, RECALL_K * 2, hits, &nh, &e);
    hearth_free(q);
    if (st) {
        agent_warn(a, "recall: search failed: %s", e.msg);
        return HEARTH_OK;
    }
    for (size_t i = 0; i < nh && *n_cand < RECALL_K; i++) {
        size_t j = find_id(hist, k, hits[i].owner_id);
        if (j < k) cand[(*n_cand)++] = j;
    }
    return HEARTH_OK;
}

static int cmp_size(const void *x, const void *y) {
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return a < b ? -1 : a > b;
}

hearth_status agent_fit(hearth_agent *a, int64_t sid, const char *sys, const hearth_message *hist,
                        size_t n_hist, const char *user, size_t budget, agent_conv *out,
                        hearth_error *err) {
    size_t count;
    hearth_status st = count_tail(a, sys, hist, 0, n_hist, user, &count, err);
    if (st) return st;
    size_t k = 0; /* hist[k..) is kept whole */
    char *summary = NULL;
    size_t recall[RECALL_K];
    size_t n_recall = 0;
    bool trimmed = count > budget;
    if (trimmed) {
        st = count_tail(a, sys, hist, n_hist, n_hist, user, &count, err);
        if (st) return st;
        if (count > budget)
            return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                               "the new message takes %zu tokens; the context window of %d "
                               "holds %zu with room for the answer",
                               count, (int)a->n_ctx, budget);
        size_t summary_tokens = budget / 12 > 8 ? budget / 12 : 8;
        /* A stored summary is reused if the messages after it still fit. */
        int64_t through = 0;
        if (sid) {
            hearth_status gs = hearth_store_summary_get(a->store, sid, &summary, &through, NULL);
            if (gs != HEARTH_OK) summary = NULL;
        }
        size_t ks = 0;
        while (ks < n_hist && hist[ks].id <= through) ks++;
        size_t reuse_k = n_hist + 1;
        if (summary)
            if ((st = first_fitting(a, sys, hist, ks, n_hist, user, budget * 2 / 3, &reuse_k,
                                    err)))
                goto fail;
        if (summary && reuse_k == ks) {
            k = ks;
        } else {
            /* A new summary, covering everything the recent half can't hold. */
            if ((st = first_fitting(a, sys, hist, 0, n_hist, user, budget / 2, &k, err)))
                goto fail;
            size_t from = summary && ks <= k ? ks : 0;
            char *fresh = NULL;
            /* Writing a summary that can not fit beside the kept turns would
             * only cost time: the model runs only if there is room for one. */
            size_t kept = 0;
            if ((st = count_tail(a, sys, hist, k, n_hist, user, &kept, err))) goto fail;
            bool room = kept + SUMMARY_MIN_ROOM <= budget;
            if (!room) agent_warn(a, "the context is too small for a conversation summary");
            if (sid && k > 0 && room) {
                st = write_summary(a, from ? summary : NULL, hist, from, k, summary_tokens,
                                   &fresh, err);
                if (st == HEARTH_E_CANCELLED) {
                    /* Go on without one: the answer will stop at once too. */
                    st = HEARTH_OK;
                    fresh = NULL;
                } else if (st) {
                    goto fail;
                } else if ((st = hearth_store_summary_set(a->store, sid, fresh, hist[k - 1].id,
                                                          err))) {
                    hearth_free(fresh);
                    goto fail;
                }
            }
            hearth_free(summary);
            summary = fresh;
        }
        if (sid) recall_candidates(a, sid, hist, k, user, recall, &n_recall);
    }

    /* Compose; drop recalled messages (worst first) until it fits, then the
     * summary if even that is too much. */
    size_t order[RECALL_K];
    for (;;) {
        memcpy(order, recall, n_recall * sizeof *order);
        qsort(order, n_recall, sizeof *order, cmp_size);
        char *s2 = compose_system(sys, summary, hist, order, n_recall);
        if (!s2) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "context: out of memory");
            goto fail;
        }
        bool has_sys = *s2 != '\0';
        if (has_sys) {
            if (!agent_conv_add(out, "system", s2, true)) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "context: out of memory");
                goto fail;
            }
        } else {
            hearth_free(s2);
        }
        bool ok = true;
        for (size_t i = k; ok && i < n_hist; i++)
            ok = agent_conv_add(out, hist[i].role, (char *)hist[i].content, false);
        ok = ok && agent_conv_add(out, "user", (char *)user, false);
        if (!ok) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "context: out of memory");
            goto fail;
        }
        if (!trimmed) break; /* nothing was left out: it fits as counted */
        if ((st = agent_count(a, out->v, out->n, &count, err))) goto fail;
        if (count <= budget) break;
        out->n = 0; /* the owned system text stays owned until the conv is freed */
        if (n_recall) {
            n_recall--;
        } else if (summary) {
            agent_warn(a, "the conversation summary does not fit the context; left out");
            hearth_free(summary);
            summary = NULL;
        } else {
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "conversation does not fit the context");
            goto fail;
        }
    }
    hearth_free(summary);
    return HEARTH_OK;
fail:
    hearth_free(summary);
    return st;
}
