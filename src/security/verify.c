/*
 * verify.c: hearth_verify_file, the one place that decides whether a model
 * file may be used: it finds the signature (PATH.minisig, else PATH.sig, or
 * the one given), loads the trusted keys (one file, or every *.pub / *.pem
 * in a directory), checks the signature and the file's bytes against it,
 * and remembers a success in the verified-state file so that the next open
 * of the same unchanged file reads nothing but small files.
 *
 * Every refusal is HEARTH_E_SIGNATURE with a message that starts with its
 * kind, so users and scripts can tell them apart:
 *   "unsigned: ...", "bad signature: ...", "untrusted key: ...",
 *   "modified after signing: ...", "malformed signature file '...': ...",
 *   "malformed key file '...': ...".
 * "bad signature" means the signature itself was not made by the key (the
 * signature file was altered or forged); "modified after signing" means an
 * authentic signature (minisign: the global signature over the signature
 * and its trusted comment verifies; bundle: the DSSE signature verifies)
 * does not cover these bytes: the file changed, or the signature is
 * another file's.
 */
#include "hearth.h"

#include "security/verify_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_FILE_MAX (16u << 20) /* a bundle listing many files can be large */
#define KEY_FILE_MAX (64u << 10)
#define MAX_KEYS 256

typedef struct {
    char name[96];  /* file name, for messages and results */
    char fp[65];    /* SHA-256 of the file's bytes */
    bool malformed;
    char why[160];  /* what is wrong, when malformed */
    bool minisign;  /* else a P-256 PEM key */
    sec_minisign_key mk;
    EVP_PKEY *pk;
    char hint[65];
} trust_key;

typedef struct {
    trust_key *v;
    size_t n;
    char where[160]; /* for messages: the key file or directory */
    bool dir_missing;
} trust_set;

hearth_verify_params hearth_verify_default_params(void) {
    return (hearth_verify_params){0};
}

/* Copies src into dst[cap], cut short if it must be (NUL-terminated). */
static void set_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Reads a whole file of at most max bytes. HEARTH_E_NOTFOUND when it does
 * not exist, HEARTH_E_LIMIT when larger, HEARTH_E_IO otherwise. */
static hearth_status read_small(const char *path, size_t max, uint8_t **out, size_t *len,
                                hearth_error *err) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return HEARTH_FAIL(err, errno == ENOENT ? HEARTH_E_NOTFOUND : HEARTH_E_IO, "%s",
                           strerror(errno));
    struct stat sb;
    hearth_status st = HEARTH_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = HEARTH_FAIL(err, HEARTH_E_IO, "not a regular file");
    else if ((uint64_t)sb.st_size > max)
        st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "larger than %zu bytes", max);
    uint8_t *buf = st ? NULL : hearth_malloc((size_t)sb.st_size + 1);
    if (!st && !buf) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    size_t got = 0;
    while (!st) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size + 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) st = HEARTH_FAIL(err, HEARTH_E_IO, "%s", strerror(errno));
        if (n <= 0) break;
        got += (size_t)n;
        if (got > max) st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "larger than %zu bytes", max);
        if (got == (size_t)sb.st_size + 1) break;
    }
    close(fd);
    if (st) {
        hearth_free(buf);
        return st;
    }
    *out = buf;
    *len = got;
    return HEARTH_OK;
}

static void sha_hex_of(const void *buf, size_t len, char out[65]) {
    uint8_t d[32];
    unsigned int dl = 0;
    if (EVP_Digest(buf, len, d, &dl, EVP_sha256(), NULL) && dl == 32) sec_hex(d, 32, out);
    else snprintf(out, 65, "-");
}

/* A PEM file has a "-----BEGIN" line; anything else is taken as minisign. */
static bool looks_pem(const uint8_t *buf, size_t len) {
    static const char tag[] = "-----BEGIN";
    for (size_t i = 0; i + sizeof tag - 1 <= len; i++)
        if (!memcmp(buf + i, tag, sizeof tag - 1)) return true;
    return false;
}

static void key_load(trust_key *k, const char *path) {
    snprintf(k->name, sizeof k->name, "%s", base_name(path));
    uint8_t *buf;
    size_t len;
    hearth_error e = {0};
    if (read_small(path, KEY_FILE_MAX, &buf, &len, &e)) {
        k->malformed = true;
        set_str(k->why, sizeof k->why, e.msg);
        return;
    }
    sha_hex_of(buf, len, k->fp);
    hearth_status st;
    if (looks_pem(buf, len)) {
        st = sec_pem_key_parse(buf, len, &k->pk, k->hint, &e);
    } else {
        k->minisign = true;
        st = sec_minisign_key_parse(buf, len, &k->mk, &e);
    }
    hearth_free(buf);
    if (st) {
        k->malformed = true;
        set_str(k->why, sizeof k->why, e.msg);
    }
}

static void trust_free(trust_set *t) {
    for (size_t i = 0; i < t->n; i++) EVP_PKEY_free(t->v[i].pk);
    hearth_free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool key_file_name(const char *n) {
    size_t l = strlen(n);
    return n[0] != '.' && l > 4 && (!strcmp(n + l - 4, ".pub") || !strcmp(n + l - 4, ".pem"));
}

static hearth_status trust_load(const hearth_verify_params *p, trust_set *t, hearth_error *err) {
    memset(t, 0, sizeof *t);
    if (p->pubkey_path) {
        snprintf(t->where, sizeof t->where, "%s", p->pubkey_path);
        t->v = hearth_calloc(1, sizeof *t->v);
        if (!t->v) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
        t->n = 1;
        key_load(&t->v[0], p->pubkey_path);
        if (t->v[0].malformed)
            return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed key file '%s': %s",
                               t->v[0].name, t->v[0].why);
        return HEARTH_OK;
    }
    if (!p->trust_dir) {
        snprintf(t->where, sizeof t->where, "no trusted keys configured");
        return HEARTH_OK;
    }
    snprintf(t->where, sizeof t->where, "%s", p->trust_dir);
    DIR *d = opendir(p->trust_dir);
    if (!d) {
        t->dir_missing = true;
        return HEARTH_OK;
    }
    char *names[MAX_KEYS];
    size_t nn = 0;
    struct dirent *de;
    hearth_status st = HEARTH_OK;
    while ((de = readdir(d)) && nn < MAX_KEYS) {
        if (!key_file_name(de->d_name)) continue;
        if (!(names[nn] = hearth_strdup(de->d_name))) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
            break;
        }
        nn++;
    }
    closedir(d);
    if (!st && nn) {
        qsort(names, nn, sizeof names[0], cmp_str); /* the same order every time */
        t->v = hearth_calloc(nn, sizeof *t->v);
        if (!t->v) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
    }
    for (size_t i = 0; i < nn; i++) {
        if (!st) {
            size_t l = strlen(p->trust_dir) + strlen(names[i]) + 2;
            char *full = hearth_malloc(l);
            if (!full) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
            } else {
                snprintf(full, l, "%s/%s", p->trust_dir, names[i]);
                key_load(&t->v[t->n++], full);
                hearth_free(full);
            }
        }
        hearth_free(names[i]);
    }
    return st;
}

/* The first malformed key of t, or NULL. */
static const trust_key *first_malformed(const trust_set *t) {
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].malformed) return &t->v[i];
    return NULL;
}

/* Refusal when no trusted key could be the signer: a malformed key file
 * (which may have been the one meant) is named before anything else. */
static hearth_status refuse_untrusted(const trust_set *t, const char *signer, hearth_error *err) {
    const trust_key *bad = first_malformed(t);
    if (bad)
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed key file '%s': %s", bad->name,
                           bad->why);
    if (t->dir_missing)
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                           "untrusted key: signed by %s; no trusted keys (%s does not exist)",
                           signer, t->where);
    return HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                       "untrusted key: signed by %s, which is not among the trusted keys (%s)",
                       signer, t->where);
}

typedef struct {
    int fd;
    struct stat sb;
    const char *path;
} model_file;

static bool same_identity(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void entry_identity(sec_state_entry *e, const struct stat *sb) {
    e->dev = (uint64_t)sb->st_dev;
    e->ino = (uint64_t)sb->st_ino;
    e->size = (uint64_t)sb->st_size;
    e->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
    e->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
}

static bool entry_matches(const sec_state_entry *e, const struct stat *sb) {
    sec_state_entry now;
    entry_identity(&now, sb);
    return e->dev == now.dev && e->ino == now.ino && e->size == now.size &&
           e->mtime_ns == now.mtime_ns && e->ctime_ns == now.ctime_ns;
}

/* Hashes the model and checks it did not change meanwhile. */
static hearth_status hash_model(const model_file *m, bool blake, sec_digests *d,
                                hearth_verify_result *r, hearth_error *err) {
    if (lseek(m->fd, 0, SEEK_SET) != 0)
        return HEARTH_FAIL(err, HEARTH_E_IO, "'%s': %s", m->path, strerror(errno));
    hearth_status st = sec_hash_fd(m->fd, m->path, blake, d, err);
    if (st) return st;
    sec_hex(d->sha256, 32, r->sha256);
    r->size = d->size;
    struct stat after;
    if (fstat(m->fd, &after) != 0 || !same_identity(&after, &m->sb) ||
        d->size != (uint64_t)m->sb.st_size)
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                           "modified after signing: '%s' changed while it was being verified",
                           m->path);
    return HEARTH_OK;
}

/* Appends what the state file knew about an earlier version, if anything. */
static void note_previous(hearth_error *err, const sec_state_entry *prev, bool have_prev,
                          const char *sha_now) {
    if (!err || !have_prev || !strcmp(prev->sha256, sha_now)) return;
    size_t l = strlen(err->msg);
    snprintf(err->msg + l, sizeof err->msg - l, " (verified earlier as sha256 %.16s..., now %.16s...)",
             prev->sha256, sha_now);
}

static hearth_status check_minisign(const model_file *m, const uint8_t *sig_buf, size_t sig_len,
                                    const char *sig_name, const trust_set *t,
                                    const sec_state_entry *prev, bool have_prev,
                                    hearth_verify_result *r, const trust_key **used,
                                    hearth_error *err) {
    sec_minisign_sig *s = hearth_malloc(sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
    hearth_error e = {0};
    hearth_status st = sec_minisign_sig_parse(sig_buf, sig_len, s, &e);
    if (st) {
        hearth_free(s);
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed signature file '%s': %s",
                           sig_name, e.msg);
    }
    char id[17];
    sec_minisign_key_id_str(s->key_id, id);
    const trust_key *k = NULL;
    for (size_t i = 0; i < t->n && !k; i++)
        if (!t->v[i].malformed && t->v[i].minisign && !memcmp(t->v[i].mk.key_id, s->key_id, 8))
            k = &t->v[i];
    char signer[64];
    snprintf(signer, sizeof signer, "minisign key id %s", id);
    if (!k) st = refuse_untrusted(t, signer, err);
    else if (!sec_minisign_global_ok(s, &k->mk))
        st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                         "bad signature: '%s' was not made by key %s (%s): its trusted comment "
                         "or signature was altered", sig_name, id, k->name);
    sec_digests d;
    if (!st) st = hash_model(m, s->prehashed, &d, r, err);
    if (!st) {
        bool ok;
        if (s->prehashed) {
            ok = sec_minisign_file_ok(s, &k->mk, d.blake2b, NULL, 0);
        } else {
            /* legacy "Ed": Ed25519 over the whole file, mapped */
            size_t n = (size_t)m->sb.st_size;
            void *map = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, m->fd, 0) : NULL;
            if (n && map == MAP_FAILED) {
                st = HEARTH_FAIL(err, HEARTH_E_IO, "'%s': mmap: %s", m->path, strerror(errno));
                ok = false;
            } else {
                ok = sec_minisign_file_ok(s, &k->mk, NULL, map, n);
                if (n) munmap(map, n);
            }
        }
        if (!st && !ok) {
            st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                             "modified after signing: '%s' is not the file key %s signed (it "
                             "changed, or '%s' is another file's signature)",
                             base_name(m->path), id, sig_name);
            note_previous(err, prev, have_prev, r->sha256);
        }
    }
    if (!st) {
        r->sig_kind = HEARTH_SIG_MINISIGN;
        r->signature_ok = true;
        snprintf(r->key_name, sizeof r->key_name, "%s (key id %s)", k->name, id);
        set_str(r->trusted_comment, sizeof r->trusted_comment, s->trusted_comment);
        *used = k;
    }
    hearth_free(s);
    return st;
}

static hearth_status check_sigstore(const model_file *m, const uint8_t *sig_buf, size_t sig_len,
                                    const char *sig_name, const trust_set *t,
                                    const sec_state_entry *prev, bool have_prev,
                                    hearth_verify_result *r, const trust_key **used,
                                    hearth_error *err) {
    sec_bundle *b;
    hearth_error e = {0};
    if (sec_bundle_parse(sig_buf, sig_len, &b, &e))
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed signature file '%s': %s",
                           sig_name, e.msg);
    const char *hint = sec_bundle_hint(b);
    const trust_key *k = NULL;
    size_t n_cand = 0;
    hearth_status st = HEARTH_OK;
    for (size_t i = 0; i < t->n && !k; i++) {
        const trust_key *c = &t->v[i];
        if (c->malformed || c->minisign || (hint && strcmp(c->hint, hint))) continue;
        n_cand++;
        if (sec_bundle_sig_ok(b, c->pk)) k = c;
    }
    char signer[96];
    snprintf(signer, sizeof signer, "the P-256 key with hint %.16s...", hint ? hint : "");
    if (!k && n_cand == 0) {
        st = hint ? refuse_untrusted(t, signer, err)
                  : refuse_untrusted(t, "a P-256 key (the bundle names none)", err);
    } else if (!k) {
        st = hint ? HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                                "bad signature: the DSSE signature in '%s' does not verify with "
                                "the trusted key it names", sig_name)
                  : HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                                "bad signature: no trusted P-256 key verifies the DSSE signature "
                                "in '%s' (altered, or signed by an untrusted key)", sig_name);
    }
    sec_digests d;
    if (!st) st = hash_model(m, false, &d, r, err);
    char res_name[128] = "";
    if (!st) {
        hearth_status f = sec_bundle_find_digest(b, r->sha256, res_name, sizeof res_name, &e);
        if (f == HEARTH_E_NOTFOUND) {
            st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                             "modified after signing: the SHA-256 of '%s' is not among the files "
                             "'%s' lists (it changed, or the bundle is another model's)",
                             base_name(m->path), sig_name);
            note_previous(err, prev, have_prev, r->sha256);
        } else if (f) {
            st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed signature file '%s': %s",
                             sig_name, e.msg);
        }
    }
    if (!st) {
        r->sig_kind = HEARTH_SIG_SIGSTORE;
        r->signature_ok = true;
        snprintf(r->key_name, sizeof r->key_name, "%s", k->name);
        *used = k;
    }
    sec_bundle_free(b);
    return st;
}

/* Finds the signature: p->sig_path, else PATH.minisig, else PATH.sig.
 * HEARTH_E_NOTFOUND (err untouched) when none exists and none was named. */
static hearth_status find_sig(const char *path, const hearth_verify_params *p, uint8_t **buf,
                              size_t *len, char name[96], hearth_error *err) {
    hearth_error e = {0};
    if (p->sig_path) {
        snprintf(name, 96, "%s", base_name(p->sig_path));
        hearth_status st = read_small(p->sig_path, SIG_FILE_MAX, buf, len, &e);
        if (st == HEARTH_E_NOTFOUND)
            return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "unsigned: signature file '%s' does not exist",
                               p->sig_path);
        if (st == HEARTH_E_LIMIT)
            return HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed signature file '%s': %s", name,
                               e.msg);
        if (st) return HEARTH_FAIL(err, st, "signature file '%s': %s", p->sig_path, e.msg);
        return HEARTH_OK;
    }
    static const char *const ext[] = {".minisig", ".sig"};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(path) + strlen(ext[i]) + 1;
        char *sp = hearth_malloc(l);
        if (!sp) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "verify: out of memory");
        snprintf(sp, l, "%s%s", path, ext[i]);
        snprintf(name, 96, "%s", base_name(sp));
        hearth_status st = read_small(sp, SIG_FILE_MAX, buf, len, &e);
        if (st == HEARTH_E_NOTFOUND) {
            hearth_free(sp);
            continue;
        }
        if (st == HEARTH_E_LIMIT)
            st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "malformed signature file '%s': %s", name,
                             e.msg);
        else if (st) st = HEARTH_FAIL(err, st, "signature file '%s': %s", sp, e.msg);
        hearth_free(sp);
        return st;
    }
    return HEARTH_E_NOTFOUND;
}

static bool looks_json(const uint8_t *b, size_t n) {
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
    return i < n && b[i] == '{';
}

static const struct {
    hearth_verify_failure f;
    const char *prefix;
} failures[] = {
    {HEARTH_VERIFY_UNSIGNED, "unsigned"},
    {HEARTH_VERIFY_BAD_SIGNATURE, "bad signature"},
    {HEARTH_VERIFY_UNTRUSTED_KEY, "untrusted key"},
    {HEARTH_VERIFY_MODIFIED, "modified after signing"},
    {HEARTH_VERIFY_MALFORMED_SIGNATURE, "malformed signature file"},
    {HEARTH_VERIFY_MALFORMED_KEY, "malformed key file"},
};

const char *hearth_verify_failure_str(hearth_verify_failure f) {
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
        if (failures[i].f == f) return failures[i].prefix;
    return "ok";
}

static hearth_status verify_file(const char *path, const hearth_verify_params *p,
                                 hearth_verify_result *r, hearth_error *err);

hearth_status hearth_verify_file(const char *path, const hearth_verify_params *p,
                                 hearth_verify_result *r, hearth_error *err) {
    /* The refusal's kind is read back from the message's first words, so
     * the two can never disagree; a local record is used even when the
     * caller passes no err. */
    hearth_error e = {0};
    hearth_status st = verify_file(path, p, r, &e);
    if (r) r->failure = HEARTH_VERIFY_OK;
    if (st == HEARTH_E_SIGNATURE && r)
        for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
            if (!strncmp(e.msg, failures[i].prefix, strlen(failures[i].prefix)))
                r->failure = failures[i].f;
    if (err) *err = e;
    return st;
}

static hearth_status verify_file(const char *path, const hearth_verify_params *p,
                                 hearth_verify_result *r, hearth_error *err) {
    hearth_verify_params defaults = hearth_verify_default_params();
    if (!p) p = &defaults;
    if (!path || !r) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_verify_file: NULL argument");
    memset(r, 0, sizeof *r);
    model_file m = {.fd = open(path, O_RDONLY | O_CLOEXEC), .path = path};
    if (m.fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "'%s': %s", path, strerror(errno));
    hearth_status st = HEARTH_OK;
    uint8_t *sig_buf = NULL;
    size_t sig_len = 0;
    char sig_name[96] = "";
    trust_set t = {0};
    char *real = NULL;
    if (fstat(m.fd, &m.sb) != 0 || !S_ISREG(m.sb.st_mode)) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "'%s': not a regular file", path);
        goto out;
    }
    r->size = (uint64_t)m.sb.st_size;
    real = realpath(path, NULL);
    const char *key = real ? real : path;

    hearth_status fs = find_sig(path, p, &sig_buf, &sig_len, sig_name, err);
    bool have_sig = fs == HEARTH_OK;
    if (fs && fs != HEARTH_E_NOTFOUND) {
        st = fs;
        goto out;
    }
    if (!have_sig && p->require_signature) {
        st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                         "unsigned: '%s' has no signature (no %s.minisig or %s.sig) and a "
                         "signature is required", path, base_name(path), base_name(path));
        goto out;
    }
    int kind = !have_sig ? HEARTH_SIG_NONE
               : looks_json(sig_buf, sig_len) ? HEARTH_SIG_SIGSTORE : HEARTH_SIG_MINISIGN;
    char sig_fp[65] = "-";
    if (have_sig) sha_hex_of(sig_buf, sig_len, sig_fp);
    if (have_sig && (st = trust_load(p, &t, err))) goto out;

    /* The remembered state: the same bytes (identity unchanged), verified
     * with the same signature file by a key that is still trusted, with
     * the same bytes. */
    sec_state_entry prev;
    bool have_prev = p->state_path && sec_state_lookup(p->state_path, key, &prev);
    if (have_prev && !p->fresh && entry_matches(&prev, &m.sb) && prev.kind == kind &&
        !strcmp(prev.sig_fp, sig_fp)) {
        const trust_key *k = NULL;
        for (size_t i = 0; i < t.n && !k; i++)
            if (!t.v[i].malformed && !strcmp(t.v[i].fp, prev.key_fp)) k = &t.v[i];
        bool ok = kind == HEARTH_SIG_NONE || k;
        if (ok && kind == HEARTH_SIG_MINISIGN) {
            /* cheap (small files only): the trusted comment is re-read and
             * its signature checked again */
            sec_minisign_sig *s = hearth_malloc(sizeof *s);
            ok = s && !sec_minisign_sig_parse(sig_buf, sig_len, s, NULL) && k->minisign &&
                 !memcmp(s->key_id, k->mk.key_id, 8) && sec_minisign_global_ok(s, &k->mk);
            if (ok)
                set_str(r->trusted_comment, sizeof r->trusted_comment, s->trusted_comment);
            hearth_free(s);
        }
        if (ok) {
            memcpy(r->sha256, prev.sha256, 65);
            r->sig_kind = (hearth_sig_kind)kind;
            r->signature_ok = kind != HEARTH_SIG_NONE;
            snprintf(r->key_name, sizeof r->key_name, "%s", kind ? prev.key_name : "");
            r->from_state = true;
            goto out;
        }
    }

    const trust_key *used = NULL;
    if (kind == HEARTH_SIG_NONE) {
        sec_digests d;
        st = hash_model(&m, false, &d, r, err);
    } else if (kind == HEARTH_SIG_MINISIGN) {
        st = check_minisign(&m, sig_buf, sig_len, sig_name, &t, &prev, have_prev, r, &used, err);
    } else {
        st = check_sigstore(&m, sig_buf, sig_len, sig_name, &t, &prev, have_prev, r, &used, err);
    }
    if (p->state_path) {
        if (st) {
            if (have_prev && st == HEARTH_E_SIGNATURE) sec_state_store(p->state_path, key, NULL, NULL);
        } else {
            sec_state_entry e = {0};
            entry_identity(&e, &m.sb);
            memcpy(e.sha256, r->sha256, 65);
            e.kind = kind;
            memcpy(e.sig_fp, sig_fp, 65);
            snprintf(e.key_fp, sizeof e.key_fp, "%s", used ? used->fp : "-");
            snprintf(e.key_name, sizeof e.key_name, "%s", r->key_name[0] ? r->key_name : "-");
            /* remembering is an optimization: failing to costs a re-hash next time */
            sec_state_store(p->state_path, key, &e, NULL);
        }
    }
out:
    close(m.fd);
    free(real); /* realpath's buffer is malloc's */
    hearth_free(sig_buf);
    trust_free(&t);
    return st;
}
