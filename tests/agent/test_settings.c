/*
 * test_settings.c: settings resolve as flag > HEARTH_* env > config file >
 * default, config-file syntax errors name file and line.
 */
#include "test.h"

#include "hearth.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/hearth-settings-XXXXXX";
static char cfg[256];

static void write_cfg(const char *text) {
    FILE *f = fopen(cfg, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

int main(void) {
    REQUIRE(mkdtemp(dir));
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    setenv("HEARTH_CONFIG", cfg, 1);
    unsetenv("HEARTH_MAX_CONTEXT");
    unsetenv("HEARTH_THREADS");
    unsetenv("HEARTH_MODEL");
    unsetenv("HEARTH_HOME");
    unsetenv("HEARTH_SYSTEM_PROMPT");
    unsetenv("HEARTH_TEMP");
    setenv("HOME", dir, 1);
    unsetenv("XDG_DATA_HOME");

    /* No file: defaults. */
    hearth_settings *s = NULL;
    hearth_error err = {0};
    REQUIRE(hearth_settings_load(&s, &err) == HEARTH_OK);
    hearth_setting_source src;
    CHECK_STR(hearth_settings_get(s, "max_context", &src), "4096");
    CHECK_EQ_INT(src, HEARTH_SETTING_DEFAULT);
    CHECK(hearth_settings_get(s, "model", &src) == NULL);
    CHECK_EQ_INT(src, HEARTH_SETTING_UNSET);
    char home[300];
    snprintf(home, sizeof home, "%s/.local/share/hearth", dir);
    CHECK_STR(hearth_settings_get(s, "home", NULL), home);
    CHECK_STR(hearth_settings_config_path(s), cfg);
    hearth_settings_free(s);

    /* File beats default; env beats file; flag beats env. */
    write_cfg("# comment\n\nmax_context = 2048\nHEARTH_THREADS=3  # inline\n"
              "model = \"/m/file.gguf\"\nsystem_prompt = Be brief.\n");
    setenv("HEARTH_MAX_CONTEXT", "1024", 1);
    REQUIRE(hearth_settings_load(&s, &err) == HEARTH_OK);
    CHECK_STR(hearth_settings_get(s, "max_context", &src), "1024");
    CHECK_EQ_INT(src, HEARTH_SETTING_ENV);
    CHECK_STR(hearth_settings_get(s, "HEARTH_MAX_CONTEXT", NULL), "1024");
    CHECK_STR(hearth_settings_get(s, "threads", &src), "3");
    CHECK_EQ_INT(src, HEARTH_SETTING_FILE);
    CHECK_STR(hearth_settings_get(s, "model", NULL), "/m/file.gguf");
    CHECK_STR(hearth_settings_get(s, "system_prompt", NULL), "Be brief.");
    CHECK(hearth_settings_set(s, "max-context", "512", &err) == HEARTH_OK);
    CHECK_STR(hearth_settings_get(s, "max_context", &src), "512");
    CHECK_EQ_INT(src, HEARTH_SETTING_FLAG);
    int64_t v = 0;
    CHECK(hearth_settings_get_int(s, "max_context", &v, &err) == HEARTH_OK);
    CHECK_EQ_INT(v, 512);
    CHECK(hearth_settings_set(s, "max_context", NULL, &err) == HEARTH_OK);
    CHECK_STR(hearth_settings_get(s, "max_context", NULL), "1024");
    CHECK(hearth_settings_set(s, "temp", "hot", &err) == HEARTH_OK);
    double d;
    CHECK(hearth_settings_get_float(s, "temp", &d, &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "temp") && strstr(err.msg, "hot") && strstr(err.msg, "flag"));
    CHECK(hearth_settings_get_int(s, "nothing_here", &v, &err) == HEARTH_E_NOTFOUND);
    CHECK(hearth_settings_set(s, "bad key!", "1", &err) == HEARTH_E_ARG);

    /* Agent params from settings. */
    hearth_agent_params p = hearth_agent_default_params();
    CHECK(hearth_agent_params_from_settings(s, &p, &err) == HEARTH_E_ARG); /* temp=hot */
    CHECK(hearth_settings_set(s, "temp", "0", &err) == HEARTH_OK);
    CHECK(hearth_agent_params_from_settings(s, &p, &err) == HEARTH_OK);
    CHECK_EQ_INT(p.max_context, 1024);
    CHECK_EQ_INT(p.n_threads, 3);
    CHECK(p.temperature == 0.0f);
    CHECK_STR(p.model_path, "/m/file.gguf");
    CHECK_STR(p.data_dir, home);
    CHECK_STR(p.system_prompt, "Be brief.");
    hearth_settings_free(s);
    unsetenv("HEARTH_MAX_CONTEXT");

    /* Syntax error: file and line named. */
    write_cfg("model = a\nthis line has no equals sign\n");
    s = (hearth_settings *)1;
    CHECK(hearth_settings_load(&s, &err) == HEARTH_E_FORMAT);
    CHECK(s == NULL);
    CHECKF(strstr(err.msg, "line 2") && strstr(err.msg, cfg), "%s", err.msg);

    /* Allocation failures: every one is reported as HEARTH_E_NOMEM, never a
     * crash or a half-made handle (ASan checks for leaks). */
    write_cfg("model = a\nthreads = 2\n");
    for (long n = 1;; n++) {
        hearth_alloc_fail_after(n);
        s = NULL;
        hearth_status st = hearth_settings_load(&s, &err);
        if (st == HEARTH_OK) {
            st = hearth_settings_set(s, "temp", "0.5", &err);
            if (st == HEARTH_OK) {
                long made = hearth_alloc_fail_after(0);
                hearth_settings_free(s);
                if (made < n) break; /* the nth allocation never came: all covered */
                continue;
            }
            hearth_settings_free(s);
        }
        hearth_alloc_fail_after(0);
        CHECK_EQ_INT(st, HEARTH_E_NOMEM);
        if (n > 100000) break;
    }

    unlink(cfg);
    rmdir(dir);
    return test_done();
}
