/*
 * default_model.c: where the bundled demo model is: beside the running
 * binary, never at a path compiled in. An installed hearth (PREFIX/bin/hearth)
 * finds PREFIX/share/hearth/hearth-demo.gguf; one in the build tree
 * (BUILD/hearth) finds BUILD/share/hearth/hearth-demo.gguf, which the build
 * copies there. The answer is worked out once (call_once) and then fixed.
 */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#define DEMO_FILE "hearth-demo.gguf"

static char found[PATH_MAX + 64];
static char exe_dir[PATH_MAX];
static once_flag once = ONCE_FLAG_INIT;

static void locate(void) {
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n <= 0) {
        snprintf(found, sizeof found, "share/hearth/" DEMO_FILE);
        return;
    }
    exe_dir[n] = '\0';
    char *slash = strrchr(exe_dir, '/');
    if (slash) *slash = '\0';
    static const char *const rel[] = {"/../share/hearth/", "/share/hearth/"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(found, sizeof found, "%s%s" DEMO_FILE, exe_dir, rel[i]);
        if (access(found, R_OK) == 0) return;
    }
    /* neither: name the installed place in the error that follows */
    snprintf(found, sizeof found, "%s%s" DEMO_FILE, exe_dir, rel[0]);
}

const char *cli_default_model(void) {
    call_once(&once, locate);
    return found;
}

const char *cli_exe_dir(void) {
    call_once(&once, locate);
    return exe_dir;
}
