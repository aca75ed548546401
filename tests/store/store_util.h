/*
 * store_util.h: helpers shared by the store tests: a private temporary
 * directory removed at exit, and opening a store in it.
 */
#ifndef HEARTH_TESTS_STORE_UTIL_H
#define HEARTH_TESTS_STORE_UTIL_H

#include "hearth.h"

/* A fresh directory under $TMPDIR (or /tmp), removed with its contents when
 * the process exits normally. Static storage; aborts the test on failure. */
const char *tu_tmpdir(void);

/* "<tmpdir>/<name>" in a static rotating buffer. */
const char *tu_path(const char *name);

/* Opens (REQUIREs success) the store at path with default params. */
hearth_store *tu_open(const char *path);

/* Runs one SQL statement with the sqlite3 library directly (not through the
 * store); returns the first column of the first row as an integer, or -1. */
long long tu_sql_int(const char *path, const char *sql);

#endif
