/*
 * test_kv_cache.c: the saved session states' directory (src/agent/kv_cache.c)
 * through the agent API:
 *  - each session keeps one state per model; a new turn replaces it;
 *  - past kv_cache_bytes the least recently used states go first, and the
 *    directory stays within the bound; a state bigger than the bound alone
 *    is never written;
 *  - hearth_agent_delete_session removes the session and its states, only
 *    its; kv_cache_bytes 0 writes nothing.
 */
#include "fixture.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

/* Number of *.kv files in home/kv; their bytes in *total. */
static int kv_files(const char *home, int64_t *total) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/kv", home);
    DIR *d = opendir(dir);
    int n = 0;
    *total = 0;
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".kv")) continue;
        char path[8192];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &sb) == 0) *total += (int64_t)sb.st_size;
        n++;
    }
    closedir(d);
    return n;
}

static hearth_agent *agent_with(const char *model, const char *home, int64_t kv_bytes) {
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = model;
    p.data_dir = home;
    p.n_threads = 1;
    p.temperature = 0.0f;
    p.max_tokens = 8;
    p.use_cache = false;
    p.kv_cache_bytes = kv_bytes;
    p.warn = fx_warn_cb;
    hearth_agent *a = NULL;
    hearth_error err = {0};
    if (hearth_agent_open(&p, &a, &err)) fx_die("hearth_agent_open", err.msg);
    return a;
}

/* One turn; OUT: the response's restored_tokens. */
static int turn(hearth_agent *a, const char *session, const char *user) {
    hearth_agent_request r = hearth_agent_default_request(a);
    r.session = session;
    r.user = user;
    hearth_agent_response resp;
    hearth_error err = {0};
    hearth_status st = hearth_agent_process(a, &r, &resp, &err);
    CHECKF(st == HEARTH_OK, "%s", err.msg);
    int restored = resp.restored_tokens;
    hearth_agent_response_clear(&resp);
    return restored;
}

/* Sleeps 20 ms, so modification times order the files. */
static void tick(void) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int main(void) {
    char *dir = fx_tmpdir();
    char *model = fx_model(dir, "tiny.gguf", "--arch llama --preset tiny --type F32");
    char home[4096];
    int64_t total, one;

    /* one state per session, replaced turn by turn */
    snprintf(home, sizeof home, "%s/h1", dir);
    hearth_agent *a = agent_with(model, home, (int64_t)1 << 30);
    turn(a, "a", "first question?");
    CHECK_EQ_INT(kv_files(home, &one), 1);
    turn(a, "a", "second question?");
    CHECK_EQ_INT(kv_files(home, &total), 1);
    CHECK(total > one);
    hearth_agent_free(a);

    /* the bound: three sessions of one turn each where two fit */
    snprintf(home, sizeof home, "%s/h2", dir);
    a = agent_with(model, home, (int64_t)1 << 30);
    turn(a, "s1", "same length 1");
    kv_files(home, &one);
    hearth_agent_free(a);
    int64_t bound = one * 2 + one / 2;
    a = agent_with(model, home, bound);
    tick();
    turn(a, "s2", "same length 2");
    tick();
    CHECK_EQ_INT(kv_files(home, &total), 2);
    /* s1's second turn restores its state and replaces it with a bigger
     * one: past the bound, s2 (least recently used) goes */
    CHECK(turn(a, "s1", "same length 3") > 0);
    tick();
    turn(a, "s3", "same length 4");
    int n = kv_files(home, &total);
    CHECKF(total <= bound, "%lld bytes of states, bound %lld", (long long)total, (long long)bound);
    CHECK(n >= 1 && n <= 2);
    /* s2 is gone (and s1's bigger state made room for s3) */
    CHECK_EQ_INT(turn(a, "s2", "same length 5"), 0);
    hearth_agent_free(a);

    /* bigger than the bound: nothing written */
    snprintf(home, sizeof home, "%s/h3", dir);
    a = agent_with(model, home, one / 2);
    turn(a, "big", "same length 1");
    CHECK_EQ_INT(kv_files(home, &total), 0);
    hearth_agent_free(a);
    /* off */
    a = agent_with(model, home, 0);
    turn(a, "off", "same length 1");
    CHECK_EQ_INT(kv_files(home, &total), 0);
    hearth_agent_free(a);

    /* delete a session: its states go, the other session's stay */
    snprintf(home, sizeof home, "%s/h4", dir);
    a = agent_with(model, home, (int64_t)1 << 30);
    turn(a, "keep", "hello");
    turn(a, "drop", "hello");
    CHECK_EQ_INT(kv_files(home, &total), 2);
    hearth_error err = {0};
    CHECK(hearth_agent_delete_session(a, "drop", &err) == HEARTH_OK);
    CHECK(hearth_agent_delete_session(a, "never-was", &err) == HEARTH_OK);
    CHECK_EQ_INT(kv_files(home, &total), 1);
    CHECK_EQ_INT(fx_count_messages(hearth_agent_store(a), "drop"), 0);
    CHECK_EQ_INT(fx_count_messages(hearth_agent_store(a), "keep"), 2);
    int64_t sid;
    CHECK(hearth_store_session_find(hearth_agent_store(a), "drop", &sid, NULL) == HEARTH_E_NOTFOUND);
    hearth_agent_free(a);
    /* a new agent resumes the kept session from its state */
    a = agent_with(model, home, (int64_t)1 << 30);
    CHECK(turn(a, "keep", "again") > 0);
    hearth_agent_free(a);

    free(model);
    fx_cleanup(dir);
    free(dir);
    return test_done();
}
