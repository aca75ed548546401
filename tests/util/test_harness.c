/*
 * test_harness.c: test.h's verdicts, each from a child process that ends
 * with a given pair of counters: no check at all is a skip (77, never a
 * pass), any failure is 1, checks without failures are 0.
 */
#include "test.h"

#include <sys/wait.h>
#include <unistd.h>

/* Exit status of a child that ends with these counters. */
static int verdict(int checks, int failures) {
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        test_checks = checks;
        test_failures = failures;
        _exit(test_done());
    }
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFEXITED(st));
    return WEXITSTATUS(st);
}

int main(void) {
    int c0 = test_checks, f0 = test_failures;
    CHECK_EQ_INT(verdict(0, 0), 77);
    CHECK_EQ_INT(verdict(3, 0), 0);
    CHECK_EQ_INT(verdict(3, 1), 1);
    CHECK_EQ_INT(verdict(0, 1), 1); /* a failure counted by hand, without CHECK */
    /* the child's counters are its own */
    CHECK(test_checks > c0 && test_failures == f0);
    return test_done();
}
