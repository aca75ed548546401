/*
 * index.c: embeddings of tasks, and similarity search over what the agent
 * has indexed (messages of exchanges, tasks). Vectors are stored under the
 * model file's hash, so vectors of different models are never compared.
 */
#include "agent/agent_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

hearth_status hearth_agent_index_task(hearth_agent *a, int64_t task_id, hearth_error *err) {
    if (!a) return HEARTH_FAIL(err, HEARTH_E_ARG, "index task: agent is NULL");
    hearth_task *t = NULL;
    hearth_status st = hearth_store_task_get(a->store, task_id, &t, err);
    if (st) return st;
    agent_buf b = {0};
    bool ok = agent_buf_puts(&b, t->title);
    if (ok && t->notes && *t->notes)
        ok = agent_buf_puts(&b, "\n\n") && agent_buf_puts(&b, t->notes);
    hearth_free(t);
    if (!ok) {
        agent_buf_free(&b);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "index task: out of memory");
    }
    float *v = NULL;
    int dim = 0;
    st = hearth_embed(a, b.v, b.n, &v, &dim, err);
    agent_buf_free(&b);
    if (st) return st;
    st = hearth_store_embedding_put(a->store, "task", task_id, 0, a->embed_hash, v, dim, NULL,
                                    err);
    hearth_free(v);
    return st;
}

hearth_status hearth_agent_search(hearth_agent *a, const char *text, const char *owner_kind,
                                  int64_t group_id, size_t k, hearth_embedding_hit *out,
                                  size_t *n_out, hearth_error *err) {
    if (!a || !text || !n_out || (k && !out))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "search: NULL argument");
    *n_out = 0;
    if (k == 0) return HEARTH_OK;
    float *q = NULL;
    int dim = 0;
    hearth_status st = hearth_embed(a, text, strlen(text), &q, &dim, err);
    if (st) return st;
    st = hearth_store_embedding_search(a->store, a->embed_hash, owner_kind, group_id, q, dim, k,
                                       out, n_out, err);
    hearth_free(q);
    return st;
}
