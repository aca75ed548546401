/*
 * test_job.c: the asynchronous job API on real agents and a real batch
 * scheduler (the server's shape: four agents sharing one model and one
 * hearth_sched), and on one agent alone. Many jobs at once; some cancelled
 * before they start, some in the middle of their prefill (from their own
 * PROGRESS callback), some in the middle of generation (from their token
 * callback), one that cannot fit the context. Every job must end with
 * exactly one RESULT or ERROR, after INIT; cancelled ones with ERROR
 * HEARTH_E_CANCELLED; the others with a RESULT whose text is the tokens
 * streamed. Run under ASan for leaks and races on the handles.
 */
#include "test.h"

#include "fixture.h"
#include "hearth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { PLAN_RUN, PLAN_CANCEL_EARLY, PLAN_CANCEL_PREFILL, PLAN_CANCEL_GEN, PLAN_TOO_LONG };

typedef struct {
    int plan;
    hearth_job *job;
    atomic_int init, results, errors, tokens, prefill_partial, generating, order_bad;
    hearth_status err_code;
    char text[4096];
    size_t text_len;
    char result[4096];
} rec;

static void on_init(void *ud, hearth_job *j) {
    rec *r = ud;
    (void)j;
    if (atomic_load(&r->results) || atomic_load(&r->errors)) atomic_store(&r->order_bad, 1);
    atomic_fetch_add(&r->init, 1);
}

static void on_progress(void *ud, hearth_job *j, hearth_job_phase ph, int64_t done, int64_t total) {
    rec *r = ud;
    if (!atomic_load(&r->init) || atomic_load(&r->results) || atomic_load(&r->errors))
        atomic_store(&r->order_bad, 1);
    if (ph == HEARTH_JOB_PREFILL && done < total) {
        atomic_fetch_add(&r->prefill_partial, 1);
        if (r->plan == PLAN_CANCEL_PREFILL) hearth_job_cancel(j);
    }
    if (ph == HEARTH_JOB_GENERATING) atomic_fetch_add(&r->generating, 1);
}

static void on_token(void *ud, hearth_job *j, const char *text, size_t len) {
    rec *r = ud;
    if (r->text_len + len < sizeof r->text) {
        memcpy(r->text + r->text_len, text, len);
        r->text_len += len;
    }
    if (atomic_fetch_add(&r->tokens, 1) == 1 && r->plan == PLAN_CANCEL_GEN) hearth_job_cancel(j);
}

static void on_result(void *ud, hearth_job *j, const hearth_agent_response *resp) {
    rec *r = ud;
    (void)j;
    snprintf(r->result, sizeof r->result, "%s", resp->content);
    atomic_fetch_add(&r->results, 1);
}

static void on_error(void *ud, hearth_job *j, const hearth_error *e) {
    rec *r = ud;
    (void)j;
    r->err_code = e->code;
    atomic_fetch_add(&r->errors, 1);
}

static char long_prompt[8000];
static char huge_prompt[40000]; /* more than any context here */

static void run_jobs(hearth_jobs *q, int n_jobs, rec *recs) {
    hearth_job_callbacks cb = {on_init, on_progress, on_token, on_result, on_error, NULL};
    for (int i = 0; i < n_jobs; i++) {
        rec *r = &recs[i];
        char user[64];
        snprintf(user, sizeof user, "Question number %d?", i);
        hearth_chat_message m = {"user", r->plan == PLAN_CANCEL_PREFILL ? long_prompt
                                         : r->plan == PLAN_TOO_LONG    ? huge_prompt
                                                                       : user};
        hearth_agent_request req = hearth_agent_default_request(NULL);
        req.messages = &m; /* copied by submit: m may go now */
        req.n_messages = 1;
        req.temperature = 0;
        req.max_tokens = r->plan == PLAN_CANCEL_GEN ? 64 : 12;
        req.no_cache = true;
        req.local_only = true;
        cb.user_data = r;
        hearth_error e;
        hearth_status st = hearth_job_submit(q, &req, &cb, &r->job, &e);
        REQUIRE(st == HEARTH_OK);
        if (r->plan == PLAN_CANCEL_EARLY) hearth_job_cancel(r->job);
    }
    for (int i = 0; i < n_jobs; i++) {
        hearth_status st = hearth_job_wait(recs[i].job);
        CHECK(hearth_job_done(recs[i].job));
        CHECK_EQ_INT(st, atomic_load(&recs[i].results) ? HEARTH_OK : recs[i].err_code);
    }
}

static void check(rec *recs, int n_jobs, const char *what) {
    int cancelled_prefill = 0, cancelled_gen = 0;
    for (int i = 0; i < n_jobs; i++) {
        rec *r = &recs[i];
        CHECKF(atomic_load(&r->init) == 1, "%s job %d: INIT %d times", what, i,
               atomic_load(&r->init));
        CHECKF(atomic_load(&r->results) + atomic_load(&r->errors) == 1,
               "%s job %d (plan %d): %d results, %d errors", what, i, r->plan,
               atomic_load(&r->results), atomic_load(&r->errors));
        CHECKF(!atomic_load(&r->order_bad), "%s job %d: messages out of order", what, i);
        switch (r->plan) {
        case PLAN_RUN:
            CHECKF(atomic_load(&r->results) == 1, "%s job %d: error %d", what, i, (int)r->err_code);
            CHECKF(strlen(r->result) == r->text_len && !memcmp(r->result, r->text, r->text_len),
                   "%s job %d: result '%s' is not the streamed '%.*s'", what, i, r->result,
                   (int)r->text_len, r->text);
            CHECK(atomic_load(&r->generating) == 1);
            break;
        case PLAN_CANCEL_EARLY:
            /* cancelled at once: it may have started already, but it ends cancelled */
            CHECKF(atomic_load(&r->errors) == 1 && r->err_code == HEARTH_E_CANCELLED,
                   "%s job %d: not cancelled", what, i);
            break;
        case PLAN_CANCEL_PREFILL:
            CHECKF(atomic_load(&r->errors) == 1 && r->err_code == HEARTH_E_CANCELLED,
                   "%s job %d: not cancelled (err %d)", what, i, (int)r->err_code);
            CHECKF(atomic_load(&r->prefill_partial) >= 1 && atomic_load(&r->tokens) == 0,
                   "%s job %d: %d partial prefills, %d tokens", what, i,
                   atomic_load(&r->prefill_partial), atomic_load(&r->tokens));
            cancelled_prefill += atomic_load(&r->prefill_partial) >= 1;
            break;
        case PLAN_CANCEL_GEN:
            CHECKF(atomic_load(&r->errors) == 1 && r->err_code == HEARTH_E_CANCELLED,
                   "%s job %d: not cancelled (err %d)", what, i, (int)r->err_code);
            CHECKF(atomic_load(&r->tokens) >= 2 && atomic_load(&r->tokens) < 64,
                   "%s job %d: %d tokens", what, i, atomic_load(&r->tokens));
            cancelled_gen++;
            break;
        case PLAN_TOO_LONG:
            CHECKF(atomic_load(&r->errors) == 1 && r->err_code == HEARTH_E_LIMIT,
                   "%s job %d: err %d", what, i, (int)r->err_code);
            break;
        }
    }
    fprintf(stderr, "%s: %d jobs; %d cancelled mid-prefill, %d mid-generation\n", what, n_jobs,
            cancelled_prefill, cancelled_gen);
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "m.gguf", "--arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 "
                                          "--seed 5");
    /* a prompt of a few thousand tokens: prefill takes several batches */
    size_t at = 0;
    for (int i = 0; at + 16 < sizeof long_prompt - 1 && i < 600; i++)
        at += (size_t)snprintf(long_prompt + at, sizeof long_prompt - at, "w%d ", i);

    for (int k = 0; k < 4; k++) strcat(huge_prompt, long_prompt);
    /* The server's shape: 4 agents on one model and one scheduler. */
    hearth_error e;
    hearth_model *m = NULL;
    REQUIRE(hearth_model_open(model, NULL, &m, &e) == HEARTH_OK);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_seq = 4;
    cp.n_ctx = 4 * 4096;
    cp.n_batch = 256;
    cp.n_threads = 1;
    hearth_sched *sched = NULL;
    REQUIRE(hearth_sched_new(m, &cp, &sched, &e) == HEARTH_OK);
    hearth_agent *agents[4];
    for (int i = 0; i < 4; i++) {
        hearth_agent_params p = hearth_agent_default_params();
        p.model_path = model;
        p.model = m;
        p.sched = sched;
        p.data_dir = dir;
        p.max_context = 4096;
        p.n_threads = 1;
        p.warn = fx_warn_cb;
        REQUIRE(hearth_agent_open(&p, &agents[i], &e) == HEARTH_OK);
    }
    hearth_jobs *q = NULL;
    REQUIRE(hearth_jobs_new(agents, 4, &q, &e) == HEARTH_OK);
    enum { N = 24 };
    static rec recs[N];
    static const int plans[] = {PLAN_RUN, PLAN_CANCEL_PREFILL, PLAN_RUN, PLAN_CANCEL_GEN,
                                PLAN_CANCEL_EARLY, PLAN_RUN};
    for (int i = 0; i < N; i++) recs[i].plan = plans[i % 6];
    run_jobs(q, N, recs);
    check(recs, N, "scheduler");
    for (int i = 0; i < N; i++) hearth_job_free(recs[i].job);
    /* jobs still queued when the runner goes: each ends with ERROR */
    static rec late[8];
    for (int i = 0; i < 8; i++) late[i].plan = PLAN_RUN;
    hearth_job_callbacks cb = {on_init, on_progress, on_token, on_result, on_error, NULL};
    for (int i = 0; i < 8; i++) {
        hearth_chat_message msg = {"user", "hello"};
        hearth_agent_request req = hearth_agent_default_request(NULL);
        req.messages = &msg;
        req.n_messages = 1;
        req.max_tokens = 8;
        req.no_cache = true;
        cb.user_data = &late[i];
        REQUIRE(hearth_job_submit(q, &req, &cb, &late[i].job, &e) == HEARTH_OK);
    }
    hearth_jobs_free(q);
    for (int i = 0; i < 8; i++) {
        CHECKF(atomic_load(&late[i].results) + atomic_load(&late[i].errors) == 1,
               "late job %d: %d results, %d errors", i, atomic_load(&late[i].results),
               atomic_load(&late[i].errors));
        hearth_job_free(late[i].job); /* handles outlive their runner */
    }
    for (int i = 0; i < 4; i++) hearth_agent_free(agents[i]);
    hearth_sched_free(sched);
    hearth_model_free(m);

    /* One agent alone (its own context, no scheduler): jobs one by one. */
    hearth_agent *solo = fx_agent(model, dir, 4096);
    REQUIRE(hearth_jobs_new(&solo, 1, &q, &e) == HEARTH_OK);
    static rec one[6];
    static const int plans1[] = {PLAN_RUN, PLAN_TOO_LONG, PLAN_CANCEL_GEN, PLAN_CANCEL_EARLY,
                                 PLAN_CANCEL_PREFILL, PLAN_RUN};
    for (int i = 0; i < 6; i++) one[i].plan = plans1[i];
    run_jobs(q, 6, one);
    check(one, 6, "one agent");
    for (int i = 0; i < 6; i++) hearth_job_free(one[i].job);
    hearth_jobs_free(q);
    hearth_agent_free(solo);

    /* submit's own errors call nothing */
    CHECK(hearth_jobs_new(NULL, 0, &q, &e) == HEARTH_E_ARG && !q);
    hearth_job_free(NULL);
    hearth_jobs_free(NULL);
    CHECK_STR(hearth_job_msg_name(HEARTH_JOB_PROGRESS), "PROGRESS");
    CHECK_STR(hearth_job_phase_name(HEARTH_JOB_PREFILL), "prefill");
    fx_cleanup(dir);
    free(model);
    free(dir);
    return test_done();
}
