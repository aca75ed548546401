/*
 * test.h: the tiny harness every C test uses. CHECK records a failure and
 * goes on (so one run shows every broken assertion); REQUIRE stops the test.
 * A test's main returns test_done(): 1 if anything failed, 77 (ctest's
 * SKIP_RETURN_CODE: shown as skipped) if no check was made at all, since a
 * test that checked nothing has not passed, else 0.
 * The counters are one pair per test program (tests/test.c, linked into
 * every test), so checks made in a directory's helper files count too.
 */
#ifndef HEARTH_TEST_H
#define HEARTH_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            test_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            test_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define REQUIRE(cond)                                                                 \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);\
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        CHECKF(a_ == b_, "%s = %lld, %s = %lld", #a, a_, #b, b_);                     \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *a_ = (a), *b_ = (b);                                              \
        CHECKF(a_ && b_ && !strcmp(a_, b_), "%s = \"%s\", expected \"%s\"", #a,       \
               a_ ? a_ : "(null)", b_ ? b_ : "(null)");                               \
    } while (0)

static inline int test_done(void) {
    fprintf(stderr, "%d checks, %d failures\n", test_checks, test_failures);
    if (test_failures) return 1;
    if (!test_checks) {
        fprintf(stderr, "no check was made: this test checked nothing, reported as skipped "
                        "(exit 77), never as passed\n");
        return 77;
    }
    return 0;
}

#endif
