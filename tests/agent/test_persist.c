/*
 * test_persist.c: after two requests in a session its history holds both
 * exchanges (4 messages), also when the process is killed with SIGKILL right
 * after the second answer came back; a restarted agent continues the session.
 */
#include "test.h"

#include "fixture.h"
#include "hearth.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const questions[] = {"What is 2+2?", "And what is 3+5?"};

/* The child: two requests, then tell the parent and wait to be killed. */
static void child(const char *model, const char *home, int fd) {
    hearth_agent *a = fx_agent(model, home, 0);
    for (int i = 0; i < 2; i++) {
        hearth_agent_request r = hearth_agent_default_request(a);
        r.session = "killed";
        r.user = questions[i];
        hearth_agent_response resp;
        hearth_error err = {0};
        if (hearth_agent_process(a, &r, &resp, &err)) {
            fprintf(stderr, "child: %s\n", err.msg);
            _exit(2);
        }
        hearth_agent_response_clear(&resp);
    }
    char ok = 'k';
    if (write(fd, &ok, 1) != 1) _exit(3);
    for (;;) pause(); /* killed here, with the agent and store still open */
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "tiny.gguf", "--arch llama --preset tiny --type F32");
    char home[512];
    snprintf(home, sizeof home, "%s/home", dir);

    int fds[2];
    REQUIRE(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(model, home, fds[1]);
    }
    close(fds[1]);
    char c = 0;
    ssize_t got = read(fds[0], &c, 1);
    CHECK(got == 1 && c == 'k');
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);

    /* Restart: both exchanges are there, in order. */
    hearth_agent *a = fx_agent(model, home, 0);
    hearth_store *st = hearth_agent_store(a);
    hearth_error err = {0};
    int64_t sid;
    REQUIRE(hearth_store_session_find(st, "killed", &sid, &err) == HEARTH_OK);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *m = NULL;
    size_t n = 0;
    REQUIRE(hearth_store_messages(st, &q, &m, &n, &err) == HEARTH_OK);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_STR(m[0].role, "user");
        CHECK_STR(m[0].content, questions[0]);
        CHECK_STR(m[1].role, "assistant");
        CHECK_STR(m[2].role, "user");
        CHECK_STR(m[2].content, questions[1]);
        CHECK_STR(m[3].role, "assistant");
    }
    hearth_free(m);

    /* The session goes on where it stopped. */
    hearth_agent_request r = hearth_agent_default_request(a);
    r.session = "killed";
    r.user = "Thanks!";
    hearth_agent_response resp;
    CHECK(hearth_agent_process(a, &r, &resp, &err) == HEARTH_OK);
    hearth_agent_response_clear(&resp);
    CHECK_EQ_INT(fx_count_messages(st, "killed"), 6);

    hearth_agent_free(a);
    fx_cleanup(dir);
    free(model);
    free(dir);
    return test_done();
}
