/*
 * job.c: asynchronous jobs (hearth_job_*): requests answered on worker
 * threads while the caller goes on, reporting through callbacks in the
 * message vocabulary the browser worker uses (INIT, PROGRESS, RESULT,
 * ERROR).
 *
 * A runner (hearth_jobs) owns one worker thread per agent it was given;
 * submitted jobs wait in one FIFO and each worker answers them one at a
 * time on its agent (agents sharing a hearth_sched have their decode steps
 * batched together, as the HTTP server's are). Every job ends with exactly
 * one RESULT or ERROR callback: a job cancelled while it waits gets ERROR
 * (HEARTH_E_CANCELLED) from the worker that takes it; one cancelled while
 * it runs stops at the next prefill piece or token (its request's
 * should_stop) and gets ERROR (HEARTH_E_CANCELLED) too, never a partial
 * RESULT. A job is freed only by hearth_job_free, after it ended (free
 * waits), so a handle is always valid for cancel/wait while the caller
 * holds it.
 */
#include "hearth.h"

#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef enum { J_WAITING, J_RUNNING, J_DONE } job_state;

struct hearth_job {
    hearth_jobs *runner;
    hearth_agent_request req;   /* strings point into the owned copies below */
    hearth_chat_message *msgs;  /* owned deep copy */
    hearth_chat_tool_info *info; /* owned deep copy, or NULL */
    char **strs;                /* owned strings of the copy */
    size_t n_strs;
    hearth_job_callbacks cb;
    atomic_bool cancel;
    job_state state;            /* under mu */
    hearth_status status;       /* once done */
    struct hearth_job *next;    /* FIFO link (under runner->mu) */
    pthread_mutex_t mu;         /* the job's own: a job may outlive its runner */
    pthread_cond_t done_cv;
};

struct hearth_jobs {
    hearth_agent **agents;      /* borrowed */
    size_t n;
    pthread_t *threads;
    size_t n_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hearth_job *head, *tail;
    bool stopping;
};

const char *hearth_job_msg_name(hearth_job_msg m) {
    switch (m) {
    case HEARTH_JOB_INIT: return "INIT";
    case HEARTH_JOB_PROGRESS: return "PROGRESS";
    case HEARTH_JOB_RESULT: return "RESULT";
    case HEARTH_JOB_ERROR: return "ERROR";
    default: return NULL;
    }
}

const char *hearth_job_phase_name(hearth_job_phase p) {
    switch (p) {
    case HEARTH_JOB_LOADING: return "loading";
    case HEARTH_JOB_PREFILL: return "prefill";
    case HEARTH_JOB_GENERATING: return "generating";
    default: return NULL;
    }
}

/* ---- the request's copy ------------------------------------------------ */

static bool keep(hearth_job *j, const char *s, const char **out) {
    if (!s) {
        *out = NULL;
        return true;
    }
    char *c = hearth_strdup(s);
    if (!c) return false;
    j->strs[j->n_strs++] = c;
    *out = c;
    return true;
}

static bool copy_request(hearth_job *j, const hearth_agent_request *r) {
    j->req = *r;
    size_t n_str = 5 + r->n_stop + 4 * r->n_messages;
    if (!(j->strs = hearth_calloc(n_str, sizeof *j->strs))) return false;
    bool ok = keep(j, r->session, &j->req.session) && keep(j, r->user, &j->req.user) &&
              keep(j, r->tools_json, &j->req.tools_json) &&
              keep(j, r->tool_name, &j->req.tool_name);
    if (ok && r->n_messages) {
        if (!(j->msgs = hearth_calloc(r->n_messages, sizeof *j->msgs))) return false;
        for (size_t i = 0; ok && i < r->n_messages; i++)
            ok = keep(j, r->messages[i].role, &j->msgs[i].role) &&
                 keep(j, r->messages[i].content, &j->msgs[i].content);
        j->req.messages = j->msgs;
        if (ok && r->tool_info) {
            if (!(j->info = hearth_calloc(r->n_messages, sizeof *j->info))) return false;
            for (size_t i = 0; ok && i < r->n_messages; i++)
                ok = keep(j, r->tool_info[i].tool_calls, &j->info[i].tool_calls) &&
                     keep(j, r->tool_info[i].tool_call_id, &j->info[i].tool_call_id);
            j->req.tool_info = j->info;
        }
    }
    if (ok && r->n_stop) {
        const char **stop = hearth_calloc(r->n_stop, sizeof *stop);
        if (!stop) return false;
        j->strs[j->n_strs++] = (char *)stop;
        for (size_t i = 0; ok && i < r->n_stop; i++) ok = keep(j, r->stop[i], &stop[i]);
        j->req.stop = stop;
    }
    return ok;
}

static void job_destroy(hearth_job *j) {
    for (size_t i = 0; i < j->n_strs; i++) hearth_free(j->strs[i]);
    hearth_free(j->strs);
    hearth_free(j->msgs);
    hearth_free(j->info);
    pthread_cond_destroy(&j->done_cv);
    pthread_mutex_destroy(&j->mu);
    hearth_free(j);
}

/* ---- workers -------------------------------------------------------------- */

typedef struct {
    hearth_job *j;
    bool generating;
} run_ctx;

static bool job_text(void *ud, const char *text, size_t len) {
    run_ctx *c = ud;
    hearth_job *j = c->j;
    if (!c->generating) {
        c->generating = true;
        if (j->cb.on_progress) j->cb.on_progress(j->cb.user_data, j, HEARTH_JOB_GENERATING, 0, 0);
    }
    if (j->cb.on_token) j->cb.on_token(j->cb.user_data, j, text, len);
    return !atomic_load(&j->cancel);
}

static bool job_stop(void *ud) {
    run_ctx *c = ud;
    return atomic_load(&c->j->cancel);
}

static void job_prefill(void *ud, int32_t done, int32_t total) {
    run_ctx *c = ud;
    hearth_job *j = c->j;
    if (j->cb.on_progress) j->cb.on_progress(j->cb.user_data, j, HEARTH_JOB_PREFILL, done, total);
    if (done == total && !c->generating) {
        c->generating = true;
        if (j->cb.on_progress) j->cb.on_progress(j->cb.user_data, j, HEARTH_JOB_GENERATING, 0, 0);
    }
}

static void finish(hearth_job *j, hearth_status st) {
    pthread_mutex_lock(&j->mu);
    j->status = st;
    j->state = J_DONE;
    pthread_cond_broadcast(&j->done_cv);
    pthread_mutex_unlock(&j->mu);
}

static void run_one(hearth_agent *a, hearth_job *j) {
    hearth_error err;
    hearth_error_clear(&err);
    if (atomic_load(&j->cancel)) {
        HEARTH_FAIL(&err, HEARTH_E_CANCELLED, "job cancelled before it started");
        if (j->cb.on_error) j->cb.on_error(j->cb.user_data, j, &err);
        finish(j, HEARTH_E_CANCELLED);
        return;
    }
    if (j->cb.on_progress) j->cb.on_progress(j->cb.user_data, j, HEARTH_JOB_LOADING, 0, 0);
    run_ctx c = {j, false};
    hearth_agent_request r = j->req;
    r.on_text = job_text;
    r.user_data = &c;
    r.should_stop = job_stop;
    r.on_prefill = job_prefill;
    r.on_tool = NULL;       /* the callbacks' user data is the job's, not the request's */
    r.consent_fn = NULL;    /* nobody to ask on a worker: consent_needed instead */
    hearth_agent_response resp;
    hearth_status st = hearth_agent_process(a, &r, &resp, &err);
    if (!st && (atomic_load(&j->cancel) || resp.finish == HEARTH_FINISH_CANCELLED)) {
        hearth_agent_response_clear(&resp);
        st = HEARTH_FAIL(&err, HEARTH_E_CANCELLED, "job cancelled");
    }
    if (st) {
        if (j->cb.on_error) j->cb.on_error(j->cb.user_data, j, &err);
    } else {
        if (j->cb.on_result) j->cb.on_result(j->cb.user_data, j, &resp);
        hearth_agent_response_clear(&resp);
    }
    finish(j, st);
}

typedef struct {
    hearth_jobs *q;
    size_t i;
} worker_arg;

static void *worker(void *arg) {
    hearth_jobs *q = ((worker_arg *)arg)->q;
    size_t i = ((worker_arg *)arg)->i;
    hearth_free(arg);
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stopping) pthread_cond_wait(&q->cv, &q->mu);
        hearth_job *j = q->head;
        if (j) {
            q->head = j->next;
            if (!q->head) q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (j) {
            pthread_mutex_lock(&j->mu);
            j->state = J_RUNNING;
            pthread_mutex_unlock(&j->mu);
        }
        if (!j) return NULL; /* stopping, queue empty */
        /* a runner being freed ends what still waits, as cancelled */
        if (q->stopping) atomic_store(&j->cancel, true);
        run_one(q->agents[i], j);
    }
}

/* ---- public API ------------------------------------------------------------ */

hearth_status hearth_jobs_new(hearth_agent *const *agents, size_t n, hearth_jobs **out,
                              hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_jobs_new: out is NULL");
    *out = NULL;
    if (!agents || n == 0 || n > 256)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_jobs_new: 1 to 256 agents");
    for (size_t i = 0; i < n; i++)
        if (!agents[i]) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_jobs_new: agent %zu is NULL", i);
    hearth_jobs *q = hearth_calloc(1, sizeof *q);
    if (!q) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "jobs: out of memory");
    q->agents = hearth_calloc(n, sizeof *q->agents);
    q->threads = hearth_calloc(n, sizeof *q->threads);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->n = n;
    hearth_status st = HEARTH_OK;
    if (!q->agents || !q->threads) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "jobs: out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        q->agents[i] = agents[i];
        worker_arg *wa = hearth_malloc(sizeof *wa);
        if (!wa) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "jobs: out of memory");
            break;
        }
        *wa = (worker_arg){q, i};
        if (pthread_create(&q->threads[i], NULL, worker, wa)) {
            hearth_free(wa);
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "jobs: cannot start a thread");
            break;
        }
        q->n_started++;
    }
    if (st) {
        hearth_jobs_free(q);
        return st;
    }
    *out = q;
    return HEARTH_OK;
}

void hearth_jobs_free(hearth_jobs *q) {
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    for (hearth_job *j = q->head; j; j = j->next) atomic_store(&j->cancel, true);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < q->n_started; i++) pthread_join(q->threads[i], NULL);
    /* no worker left: jobs still queued (none when n_started > 0) */
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    hearth_free(q->threads);
    hearth_free(q->agents);
    hearth_free(q);
}

hearth_status hearth_job_submit(hearth_jobs *q, const hearth_agent_request *req,
                                const hearth_job_callbacks *cb, hearth_job **out,
                                hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_job_submit: out is NULL");
    *out = NULL;
    if (!q || !req) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_job_submit: NULL argument");
    if (req->n_messages && !req->messages)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_job_submit: messages is NULL");
    if (req->n_stop > 64 || (req->n_stop && !req->stop))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_job_submit: bad stop list");
    hearth_job *j = hearth_calloc(1, sizeof *j);
    if (!j) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "job: out of memory");
    pthread_cond_init(&j->done_cv, NULL);
    pthread_mutex_init(&j->mu, NULL);
    atomic_init(&j->cancel, false);
    j->runner = q;
    if (cb) j->cb = *cb;
    if (!copy_request(j, req)) {
        job_destroy(j);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "job: out of memory");
    }
    pthread_mutex_lock(&q->mu);
    bool stopping = q->stopping;
    pthread_mutex_unlock(&q->mu);
    if (stopping) {
        job_destroy(j);
        return HEARTH_FAIL(err, HEARTH_E_STATE, "hearth_job_submit: the runner is stopping");
    }
    j->state = J_WAITING;
    /* INIT first, on the caller's thread: no other message can come before */
    if (j->cb.on_init) j->cb.on_init(j->cb.user_data, j);
    pthread_mutex_lock(&q->mu);
    if (q->tail) q->tail->next = j;
    else q->head = j;
    q->tail = j;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    *out = j;
    return HEARTH_OK;
}

void hearth_job_cancel(hearth_job *j) {
    if (j) atomic_store(&j->cancel, true);
}

hearth_status hearth_job_wait(hearth_job *j) {
    if (!j) return HEARTH_E_ARG;
    pthread_mutex_lock(&j->mu);
    while (j->state != J_DONE) pthread_cond_wait(&j->done_cv, &j->mu);
    hearth_status st = j->status;
    pthread_mutex_unlock(&j->mu);
    return st;
}

bool hearth_job_done(hearth_job *j) {
    if (!j) return true;
    pthread_mutex_lock(&j->mu);
    bool d = j->state == J_DONE;
    pthread_mutex_unlock(&j->mu);
    return d;
}

void hearth_job_free(hearth_job *j) {
    if (!j) return;
    hearth_job_cancel(j);
    hearth_job_wait(j);
    job_destroy(j);
}
