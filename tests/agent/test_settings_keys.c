/*
 * test_settings_keys.c: the known-settings table and the typo guesses.
 * Every key with a built-in default is in the table (and the table's
 * example is that default); hearth_nearest_word finds one- and two-edit
 * typos (swaps included) and refuses far-off words; an unknown config key
 * gives one warning naming the file, the line and the nearest key, and its
 * value is still kept; known keys give none.
 */
#include "test.h"

#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/hearth-keys-XXXXXX";

int main(void) {
    REQUIRE(mkdtemp(dir));
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    setenv("HEARTH_CONFIG", cfg, 1);
    setenv("HOME", dir, 1);

    /* Defaults: each key with one is known, with that default as example. */
    hearth_settings *s = NULL;
    hearth_error err = {0};
    REQUIRE(hearth_settings_load(&s, &err) == HEARTH_OK);
    CHECK(hearth_settings_warning(s, 0) == NULL);
    const hearth_setting_info *k;
    size_t n = 0;
    for (size_t i = 0; (k = hearth_setting_known(i)); i++, n++) {
        CHECK(k->key && k->help && *k->help);
        CHECK(hearth_setting_is_known(k->key));
        hearth_setting_source src;
        const char *v = hearth_settings_get(s, k->key, &src);
        if (k->example && src == HEARTH_SETTING_DEFAULT) CHECKF(!strcmp(v, k->example), "%s", k->key);
    }
    CHECK(n > 40);
    static const char *const with_defaults[] = {"max_context", "threads", "temp", "top_k", "top_p",
                                                "min_p", "seed", "max_tokens", "cache", "sandbox",
                                                "policy", "battery_policy", "home", "port"};
    for (size_t i = 0; i < sizeof with_defaults / sizeof *with_defaults; i++)
        CHECKF(hearth_setting_is_known(with_defaults[i]), "%s", with_defaults[i]);
    hearth_settings_free(s);

    /* Typos. */
    CHECK_STR(hearth_setting_nearest("modle"), "model");
    CHECK_STR(hearth_setting_nearest("max_tokns"), "max_tokens");
    CHECK_STR(hearth_setting_nearest("max_contxt"), "max_context");
    CHECK_STR(hearth_setting_nearest("tmep"), "temp");
    CHECK(hearth_setting_nearest("zzzqqq") == NULL);
    CHECK(hearth_setting_nearest("x") == NULL);
    const char *words[] = {"run", "chat", "serve"};
    CHECK_STR(hearth_nearest_word("rnu", words, 3), "run");
    CHECK_STR(hearth_nearest_word("serv", words, 3), "serve");
    CHECK(hearth_nearest_word("inspect", words, 3) == NULL);

    /* An unknown key warns (file, line, nearest key) and is kept. */
    FILE *f = fopen(cfg, "w");
    REQUIRE(f);
    fputs("# c\nmodel = a.gguf\nmodle = b.gguf\nHEARTH_TEMP = 0\n", f);
    fclose(f);
    REQUIRE(hearth_settings_load(&s, &err) == HEARTH_OK);
    const char *w = hearth_settings_warning(s, 0);
    REQUIRE(w);
    char want[400];
    snprintf(want, sizeof want, "config file '%s' line 3: unknown key 'modle' (did you mean 'model'?)", cfg);
    CHECK_STR(w, want);
    CHECK(hearth_settings_warning(s, 1) == NULL);
    CHECK_STR(hearth_settings_get(s, "modle", NULL), "b.gguf");
    CHECK_EQ_INT(hearth_settings_file_line(s, "model"), 2);
    CHECK_EQ_INT(hearth_settings_file_line(s, "temp"), 4);
    CHECK_EQ_INT(hearth_settings_file_line(s, "top_k"), 0);
    hearth_settings_free(s);

    unlink(cfg);
    rmdir(dir);
    return test_done();
}
