/*
 * kv_cache.c: saved chat-sequence states of sessions, so that a new process
 * (a new `hearth run --session S`, a restarted server) continues a
 * conversation without evaluating its history again.
 *
 * Files live in <home>/kv/ (mode 0700; files 0600: they hold what the
 * conversation said, in another form), one per (model file, session):
 *   <model>-<session>-<prefix>.kv
 * with the first 16 hex digits of the model file's SHA-256, of the SHA-256
 * of the session's name and of the SHA-256 over the model hash and the token
 * ids the state holds. A file is:
 *   "HKVC" u32 version (1), the model file's SHA-256 as 64 hex digits,
 *   u32 n, n int32 token ids, then the engine's saved state of n positions
 *   (hearth_ctx_seq_state_save_file: its own header and checksum).
 * Restoring reads the heads of the session's files, picks the one sharing
 * the longest prefix with the new prompt, loads it and cuts it to that
 * prefix; the engine re-checks that the state fits the model. A saved
 * state supersedes the session's older ones (they are removed). Writing
 * goes to a temporary name, then rename(), so a reader never sees half a
 * file. Use bumps a file's modification time; when the directory's files
 * pass the size bound the least recently used go first. Nothing here is
 * needed for correctness: every failure only means the history is
 * evaluated again (and a warning).
 */
#include "agent/agent_int.h"
#include "agent/kv_files.h"

#include "util/alloc.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

hearth_status agent_kv_open(hearth_agent *a, int64_t max_bytes, hearth_error *err) {
    a->kv_dir = NULL;
    a->kv_max_bytes = max_bytes;
    if (max_bytes <= 0 || a->p.sched) return HEARTH_OK; /* off; the scheduler keeps no chat sequence */
    const char *db = hearth_store_path(a->store);
    const char *slash = db ? strrchr(db, '/') : NULL;
    if (!slash) return HEARTH_OK; /* an in-memory store: nowhere to keep states */
    size_t dl = (size_t)(slash - db);
    a->kv_dir = hearth_malloc(dl + 4);
    if (!a->kv_dir) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "kv cache: out of memory");
    memcpy(a->kv_dir, db, dl);
    memcpy(a->kv_dir + dl, "/kv", 4);
    if (mkdir(a->kv_dir, 0700) != 0 && errno != EEXIST) {
        agent_warn(a, "kv cache: cannot create '%s': %s; history is evaluated each time", a->kv_dir,
                   strerror(errno));
        hearth_free(a->kv_dir);
        a->kv_dir = NULL;
    }
    return HEARTH_OK;
}

void agent_kv_close(hearth_agent *a) {
    hearth_free(a->kv_dir);
    a->kv_dir = NULL;
}

/* "<model16>-<session16>-" into out (40 bytes). */
static bool name_stem(const hearth_agent *a, const char *session, char out[40]) {
    char sh[65];
    if (agent_sha256_hex(session, strlen(session), sh, NULL)) return false;
    snprintf(out, 40, "%.16s-%.16s-", a->model_hash, sh);
    return true;
}

hearth_status agent_kv_restore(hearth_agent *a, const char *session, const int32_t *prompt,
                               size_t n, int32_t *restored, double *ms) {
    *restored = 0;
    *ms = 0;
    if (!a->kv_dir || !session || n < 2) return HEARTH_OK;
    double t0 = now_ms();
    /* What the context already holds of this prompt (the same process's
     * previous turn): a file must do better to be worth reading. */
    int32_t held = hearth_ctx_seq_len(a->ctx, AGENT_SEQ_CHAT);
    size_t have = 0, lim = a->n_seq_tokens < (size_t)(held > 0 ? held : 0) ? a->n_seq_tokens
                                                                          : (size_t)(held > 0 ? held : 0);
    while (have < lim && have < n && a->seq_tokens[have] == prompt[have]) have++;
    char stem[40];
    kvf_file *files;
    size_t nf;
    if (!name_stem(a, session, stem) || !kvf_list(a->kv_dir, stem, &files, &nf)) return HEARTH_OK;
    size_t best_common = have;
    int32_t *best_tokens = NULL;
    char best_path[4096] = "", best_name[256] = "";
    for (size_t i = 0; i < nf; i++) {
        int32_t *t;
        uint32_t tn;
        if (!kvf_head_at(a->kv_dir, files[i].name, a->model_hash, &t, &tn)) continue;
        size_t c = 0;
        while (c < tn && c < n && t[c] == prompt[c]) c++;
        if (c > best_common) {
            best_common = c;
            hearth_free(best_tokens);
            best_tokens = t;
            t = NULL;
            snprintf(best_path, sizeof best_path, "%s/%s", a->kv_dir, files[i].name);
            snprintf(best_name, sizeof best_name, "%s", files[i].name);
        }
        hearth_free(t);
    }
    hearth_free(files);
    if (!best_tokens) return HEARTH_OK;

    hearth_status st = HEARTH_OK;
    FILE *f = fopen(best_path, "rb");
    int32_t *t = NULL;
    uint32_t tn = 0;
    hearth_error e = {0};
    if (!f || !kvf_read_head(a->model_hash, f, best_name, &t, &tn)) {
        st = HEARTH_E_IO;
        snprintf(e.msg, sizeof e.msg, "'%s' changed while read", best_path);
    }
    int32_t got = 0;
    if (!st) {
        hearth_ctx_seq_clear(a->ctx, AGENT_SEQ_CHAT, NULL);
        a->n_seq_tokens = 0;
        st = hearth_ctx_seq_state_load_file(a->ctx, AGENT_SEQ_CHAT, f, &got, &e);
        if (!st && (uint32_t)got != tn) {
            st = HEARTH_E_FORMAT;
            snprintf(e.msg, sizeof e.msg, "'%s' holds %d positions for %u tokens", best_path, got, tn);
        }
    }
    if (f) fclose(f);
    if (!st && best_common > a->cap_seq_tokens) {
        int32_t *v = hearth_realloc(a->seq_tokens, best_common * sizeof *v);
        if (!v) st = HEARTH_E_NOMEM, snprintf(e.msg, sizeof e.msg, "out of memory");
        else a->seq_tokens = v, a->cap_seq_tokens = best_common;
    }
    if (!st) {
        memcpy(a->seq_tokens, t, best_common * sizeof *t);
        a->n_seq_tokens = best_common;
        hearth_ctx_seq_truncate(a->ctx, AGENT_SEQ_CHAT, (int32_t)best_common, NULL);
        /* the chat sequence was rewritten outside a generation */
        hearth_spec_set_history(a->spec, a->ctx, AGENT_SEQ_CHAT, a->seq_tokens, (int32_t)best_common);
        utimensat(AT_FDCWD, best_path, NULL, 0); /* recently used */
        *restored = (int32_t)best_common;
    } else {
        /* a damaged file is of no further use */
        if (st == HEARTH_E_FORMAT) unlink(best_path);
        hearth_ctx_seq_clear(a->ctx, AGENT_SEQ_CHAT, NULL);
        a->n_seq_tokens = 0;
        agent_warn(a, "kv cache: not restored (%s); evaluating the history", e.msg);
    }
    hearth_free(t);
    hearth_free(best_tokens);
    *ms = now_ms() - t0;
    return HEARTH_OK;
}

void agent_kv_save(hearth_agent *a, const char *session) {
    if (!a->kv_dir || !session) return;
    int32_t held = hearth_ctx_seq_len(a->ctx, AGENT_SEQ_CHAT);
    size_t n = a->n_seq_tokens;
    if (held < 0 || (size_t)held < n) n = held > 0 ? (size_t)held : 0;
    if (n < 2) return;
    size_t state = hearth_ctx_seq_state_size(a->ctx, (int32_t)n);
    int64_t bytes = (int64_t)(76 + n * sizeof(int32_t) + state);
    if (state == 0 || bytes > a->kv_max_bytes) return; /* would not fit the bound at all */
    char stem[40], ph[17], name[128], path[4096];
    bool ok = name_stem(a, session, stem) && kvf_prefix_hash(a->model_hash, a->seq_tokens, n, ph);
    if (!ok) return;
    snprintf(name, sizeof name, "%s%s.kv", stem, ph);
    hearth_error e = {0};
    if (kvf_write(a->kv_dir, name, a->model_hash, a->ctx, AGENT_SEQ_CHAT, a->seq_tokens, n, &e)) {
        agent_warn(a, "kv cache: %s", e.msg);
        return;
    }
    /* the new state supersedes the session's older ones with this model */
    kvf_file *v;
    size_t nv;
    if (kvf_list(a->kv_dir, stem, &v, &nv)) {
        for (size_t i = 0; i < nv; i++) {
            if (!strcmp(v[i].name, name)) continue;
            snprintf(path, sizeof path, "%s/%s", a->kv_dir, v[i].name);
            unlink(path);
        }
        hearth_free(v);
    }
    kvf_evict(a->kv_dir, a->kv_max_bytes, name, NULL, NULL);
}

void agent_kv_forget(hearth_agent *a, const char *session) {
    if (!a->kv_dir || !session) return;
    char sh[65], mid[20], path[4096];
    if (agent_sha256_hex(session, strlen(session), sh, NULL)) return;
    snprintf(mid, sizeof mid, "-%.16s-", sh);
    kvf_file *v;
    size_t n;
    if (!kvf_list(a->kv_dir, NULL, &v, &n)) return;
    /* every model's states of this session */
    for (size_t i = 0; i < n; i++) {
        if (strlen(v[i].name) < 34 || strncmp(v[i].name + 16, mid, 18)) continue;
        snprintf(path, sizeof path, "%s/%s", a->kv_dir, v[i].name);
        unlink(path);
    }
    hearth_free(v);
}
