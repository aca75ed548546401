/*
 * job_example.c: the asynchronous C job API in a short program. Opens an
 * agent on a model, submits two questions as jobs that run on a worker
 * thread while main goes on, prints each job's messages (INIT, PROGRESS,
 * the answer's text as it comes, RESULT or ERROR), cancels the second one
 * once it starts generating, and waits for both.
 *
 *   job_example MODEL.gguf [DATA_DIR]
 *
 * Built with the project (cmake target "examples"); see README "C API:
 * asynchronous jobs".
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>

static void on_init(void *ud, hearth_job *job) {
    (void)job;
    printf("[%s] INIT\n", (const char *)ud);
}

static void on_progress(void *ud, hearth_job *job, hearth_job_phase phase, int64_t done,
                        int64_t total) {
    const char *name = ud;
    if (phase == HEARTH_JOB_PREFILL)
        printf("[%s] PROGRESS %s %lld/%lld\n", name, hearth_job_phase_name(phase),
               (long long)done, (long long)total);
    else
        printf("[%s] PROGRESS %s\n", name, hearth_job_phase_name(phase));
    /* callbacks may cancel their own job */
    if (phase == HEARTH_JOB_GENERATING && name[0] == 'B') hearth_job_cancel(job);
}

static void on_token(void *ud, hearth_job *job, const char *text, size_t len) {
    (void)job;
    printf("[%s] token \"%.*s\"\n", (const char *)ud, (int)len, text);
}

static void on_result(void *ud, hearth_job *job, const hearth_agent_response *r) {
    (void)job;
    printf("[%s] RESULT \"%s\" (%d prompt + %d answer tokens, %s)\n", (const char *)ud,
           r->content, r->prompt_tokens, r->completion_tokens,
           hearth_finish_reason_openai(r->finish));
}

static void on_error(void *ud, hearth_job *job, const hearth_error *e) {
    (void)job;
    printf("[%s] ERROR %s: %s\n", (const char *)ud, hearth_status_str(e->code), e->msg);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [DATA_DIR]\n", argv[0]);
        return 2;
    }
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = argv[1];
    p.data_dir = argc > 2 ? argv[2] : NULL;
    hearth_agent *agent = NULL;
    hearth_jobs *jobs = NULL;
    hearth_error err;
    if (hearth_agent_open(&p, &agent, &err) ||
        hearth_jobs_new(&agent, 1, &jobs, &err)) { /* one agent: one job at a time */
        fprintf(stderr, "%s\n", err.msg);
        hearth_agent_free(agent);
        return 1;
    }
    hearth_job_callbacks cb = {on_init, on_progress, on_token, on_result, on_error, NULL};
    const char *questions[2] = {"What is a good name for a cat?", "Tell me a long story."};
    const char *names[2] = {"A", "B"};
    hearth_job *job[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        hearth_chat_message m = {"user", questions[i]};
        hearth_agent_request req = hearth_agent_default_request(agent);
        req.messages = &m; /* copied: the job owns its request */
        req.n_messages = 1;
        req.max_tokens = 16;
        req.temperature = 0;
        cb.user_data = (void *)names[i];
        if (hearth_job_submit(jobs, &req, &cb, &job[i], &err))
            fprintf(stderr, "submit: %s\n", err.msg);
    }
    printf("main: both jobs submitted; main is free meanwhile\n");
    for (int i = 0; i < 2; i++) {
        hearth_status st = hearth_job_wait(job[i]);
        printf("main: job %s ended: %s\n", names[i], hearth_status_str(st));
        hearth_job_free(job[i]);
    }
    hearth_jobs_free(jobs);
    hearth_agent_free(agent);
    return 0;
}
