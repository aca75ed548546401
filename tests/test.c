/*
 * test.c: test.h's counters, one pair per test program (this file is linked
 * into every test, like genutil.c), shared by the test and its helper files.
 */
#include "test.h"

int test_failures;
int test_checks;
