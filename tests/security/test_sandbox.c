/*
 * test_sandbox.c: the seccomp sandbox (security/sandbox.c), applied in a
 * child process: afterwards socket(AF_INET/AF_INET6/AF_PACKET) and execve
 * fail with EPERM, also in a thread that was running before the filter went
 * on, while AF_UNIX sockets, files and threads still work; a model still
 * answers under the filter; unknown flags are refused.
 */
#include "test.h"

#include "hearth.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int phase; /* 0: wait, 1: the filter is on, 2: thread done */
static atomic_int thread_errno;

static void *early_thread(void *arg) {
    (void)arg;
    while (atomic_load(&phase) == 0) usleep(1000);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    atomic_store(&thread_errno, fd < 0 ? errno : 0);
    if (fd >= 0) close(fd);
    atomic_store(&phase, 2);
    return NULL;
}

/* Runs in the child; returns the number of failed checks. */
static int child(void) {
    int bad = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, early_thread, NULL)) return 100;
    /* before: an internet socket can be made */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "child: socket(AF_INET) failed before the sandbox\n");
        bad++;
    } else {
        close(fd);
    }
    hearth_error e = {0};
    if (hearth_sandbox_apply(HEARTH_SANDBOX_NO_NET | HEARTH_SANDBOX_NO_EXEC, &e) != HEARTH_OK) {
        fprintf(stderr, "child: sandbox: %s\n", e.msg);
        return 50;
    }
    atomic_store(&phase, 1);
    int fams[] = {AF_INET, AF_INET6, AF_PACKET};
    for (int i = 0; i < 3; i++) {
        errno = 0;
        fd = socket(fams[i], SOCK_DGRAM, 0);
        if (fd >= 0 || errno != EPERM) {
            fprintf(stderr, "child: socket(family %d) = %d errno %d under the sandbox\n", fams[i],
                    fd, errno);
            bad++;
        }
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        fprintf(stderr, "child: AF_UNIX socketpair failed under the sandbox\n");
        bad++;
    } else {
        close(sv[0]);
        close(sv[1]);
    }
    char *args[] = {"/bin/true", NULL};
    errno = 0;
    execv("/bin/true", args);
    if (errno != EPERM) {
        fprintf(stderr, "child: execv errno %d\n", errno);
        bad++;
    }
    while (atomic_load(&phase) != 2) usleep(1000);
    pthread_join(th, NULL);
    if (atomic_load(&thread_errno) != EPERM) {
        fprintf(stderr, "child: the earlier thread got errno %d\n", atomic_load(&thread_errno));
        bad++;
    }
    /* a model still answers: open, tokenize, generate */
    hearth_model *m;
    if (hearth_model_open(HEARTH_SOURCE_DIR "/models/hearth-demo.gguf", NULL, &m, &e)) {
        fprintf(stderr, "child: model: %s\n", e.msg);
        return bad + 1;
    }
    hearth_ctx *c;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    if (hearth_ctx_new(m, &cp, &c, &e)) return bad + 1;
    int32_t prompt[2] = {1022, 882};
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 4;
    gp.sampling.temp = 0;
    hearth_gen_result r;
    if (hearth_generate(c, prompt, 2, &gp, NULL, NULL, &r, &e) || r.n_gen < 1) {
        fprintf(stderr, "child: generate: %s\n", e.msg);
        bad++;
    }
    hearth_ctx_free(c);
    hearth_model_free(m);
    return bad;
}

int main(void) {
    hearth_error e = {0};
    CHECK(hearth_sandbox_apply(0x100, &e) == HEARTH_E_ARG);
    CHECK(hearth_sandbox_apply(0, &e) == HEARTH_OK); /* no-op */
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child());
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    /* the parent is untouched */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    return test_done();
}
