/*
 * pull.c: resumable, verified downloads of model files (pull.h).
 *
 * One attempt is one GET (with "Range: bytes=N-" when N bytes are kept).
 * The response is judged on its first body byte (or its end when it has
 * none): 206 must start at N; 200 means the server ignored the range, so
 * the file is truncated and the body written from zero; anything else is an
 * HTTP error and no body byte is written. Before the first byte is written
 * the announced size is checked against the expected size, max_size and the
 * free space (statvfs) of tmp/. A cut or stall ends the attempt with the
 * bytes so far kept (fsync'd) for the next one.
 */
#include "models/pull.h"

#include "util/alloc.h"
#include "util/error.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define DISK_MARGIN (16u << 20) /* keep this much free beyond the file */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void hex32(const unsigned char d[32], char hex[65]) {
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

hearth_status models_sha256_file(const char *path, char hex[65], uint64_t *size,
                                 hearth_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    enum { BUF = 1 << 20 };
    unsigned char *buf = hearth_malloc(BUF);
    hearth_status st = HEARTH_OK;
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    uint64_t total = 0;
    while (!st) {
        ssize_t k = read(fd, buf, BUF);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) st = HEARTH_FAIL(err, HEARTH_E_IO, "reading %s: %s", path, strerror(errno));
        if (k <= 0) break;
        EVP_DigestUpdate(md, buf, (size_t)k);
        total += (uint64_t)k;
    }
    unsigned char d[32];
    unsigned dl;
    if (!st && !EVP_DigestFinal_ex(md, d, &dl)) st = HEARTH_FAIL(err, HEARTH_E_IO, "SHA-256");
    if (!st) hex32(d, hex);
    if (size) *size = total;
    close(fd);
    hearth_free(buf);
    EVP_MD_CTX_free(md);
    return st;
}

/* ---- one transfer ------------------------------------------------------------ */

typedef enum { AB_NONE, AB_HTTP, AB_RANGE, AB_DISK, AB_TOO_BIG, AB_WRITE, AB_MEM } abort_why;

typedef struct {
    const models_net *net;
    const models_want *w;      /* NULL for a small file */
    int fd;                    /* file mode: the partial file */
    char *mem;                 /* memory mode */
    size_t mem_len, mem_max;
    uint64_t have, start;      /* bytes in the file; where this attempt started */
    uint64_t resumed_from;
    uint64_t total;            /* 0 unknown */
    uint64_t received;         /* body bytes of this attempt */
    long status;
    bool judged, restarted;
    bool free_retry, free_retry_used; /* a 416 restart: one more attempt for free */
    int64_t cr_start, cr_total;/* Content-Range: bytes S-E/T (-1 absent) */
    int64_t clen;              /* Content-Length (-1 absent) */
    abort_why why;
    char why_msg[256];
    const char *tmp_dir;
    double t0, last_progress;
} xfer;

static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = sz * n;
    char line[512];
    size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, k);
    line[k] = '\0';
    if (!strncmp(line, "HTTP/", 5)) { /* a new response (after a redirect or 100) */
        x->cr_start = x->cr_total = x->clen = -1;
        char *sp = strchr(line, ' ');
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    } else if (!strncasecmp(line, "content-length:", 15)) {
        char *e;
        long long v = strtoll(line + 15, &e, 10);
        x->clen = v >= 0 ? v : -1;
    } else if (!strncasecmp(line, "content-range:", 14)) {
        long long s, e, t;
        const char *q = line + 14;
        while (*q == ' ') q++;
        if (sscanf(q, "bytes %lld-%lld/%lld", &s, &e, &t) == 3 && s >= 0 && e >= s && t > e) {
            x->cr_start = s;
            x->cr_total = t;
        } else {
            x->cr_start = -2; /* present but not understood */
        }
    }
    return len;
}

static bool fail_abort(xfer *x, abort_why why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_abort(xfer *x, abort_why why, const char *fmt, ...) {
    x->why = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why_msg, sizeof x->why_msg, fmt, ap);
    va_end(ap);
    return false;
}

static void fmt_bytes(uint64_t b, char *buf, size_t cap) {
    if (b >= (1ull << 30)) snprintf(buf, cap, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, cap, "%.1f MiB", (double)b / (1ull << 20));
    else snprintf(buf, cap, "%llu bytes", (unsigned long long)b);
}

/* Decides what to do with the response, before its first body byte is kept. */
static bool judge(xfer *x) {
    x->judged = true;
    if (x->status == 206 && x->fd >= 0) {
        if (x->cr_start != (int64_t)x->have)
            return fail_abort(x, AB_RANGE,
                              "server sent a range starting at %lld, asked for %llu",
                              (long long)x->cr_start, (unsigned long long)x->have);
        x->total = (uint64_t)x->cr_total;
    } else if (x->status == 200) {
        if (x->have > 0 && x->fd >= 0) {
            /* The server ignored "Range": what we hold can not be
             * continued; start over from zero. */
            if (ftruncate(x->fd, 0) || lseek(x->fd, 0, SEEK_SET) < 0)
                return fail_abort(x, AB_WRITE, "truncate: %s", strerror(errno));
            char msg[160];
            snprintf(msg, sizeof msg,
                     "server refused Range (answered 200, not 206): restarting from zero, "
                     "%llu bytes kept before are discarded", (unsigned long long)x->have);
            if (x->net && x->net->note) x->net->note(x->net->ud, msg);
            x->restarted = true;
            x->have = 0;
            x->resumed_from = 0;
        }
        x->total = x->clen >= 0 ? (uint64_t)x->clen : 0;
    } else {
        return fail_abort(x, AB_HTTP, "HTTP %ld", x->status);
    }
    x->start = x->have;
    if (x->fd < 0) {
        if (x->total > x->mem_max)
            return fail_abort(x, AB_TOO_BIG, "%llu bytes, more than the %zu allowed",
                              (unsigned long long)x->total, x->mem_max);
        return true;
    }
    const models_want *w = x->w;
    uint64_t limit = w->max_size ? w->max_size : (1ull << 40);
    if (w->size && x->total && x->total != w->size)
        return fail_abort(x, AB_TOO_BIG, "server announces %llu bytes, expected %llu",
                          (unsigned long long)x->total, (unsigned long long)w->size);
    if (x->total > limit)
        return fail_abort(x, AB_TOO_BIG, "server announces %llu bytes, more than the %llu allowed",
                          (unsigned long long)x->total, (unsigned long long)limit);
    uint64_t need = x->total > x->have ? x->total - x->have : 0;
    struct statvfs vfs;
    if (need && !statvfs(x->tmp_dir, &vfs)) {
        uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
        if (avail < need || avail - need < DISK_MARGIN) {
            char a[32], b[32];
            fmt_bytes(need, a, sizeof a);
            fmt_bytes(avail, b, sizeof b);
            return fail_abort(x, AB_DISK, "not enough disk space in %s: the download needs %s, "
                              "%s free (16 MiB kept spare)", x->tmp_dir, a, b);
        }
    }
    return true;
}

static void report(xfer *x, bool done) {
    if (!x->net || !x->net->progress || x->fd < 0) return;
    double t = now_s();
    if (!done && t - x->last_progress < 0.1) return;
    x->last_progress = t;
    double dt = t - x->t0;
    models_progress p = {.have = x->have, .total = x->total, .resumed_from = x->resumed_from,
                         .rate = dt > 0 ? (double)x->received / dt : 0, .eta_s = -1,
                         .done = done};
    if (p.total && p.rate > 0 && p.total >= p.have) p.eta_s = (double)(p.total - p.have) / p.rate;
    x->net->progress(x->net->ud, &p);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = sz * n;
    if (!x->judged && !judge(x)) return 0;
    if (x->fd < 0) {
        if (len > x->mem_max - x->mem_len) {
            fail_abort(x, AB_TOO_BIG, "more than the %zu bytes allowed", x->mem_max);
            return 0;
        }
        memcpy(x->mem + x->mem_len, p, len);
        x->mem_len += len;
        x->have += len;
        x->received += len;
        return len;
    }
    uint64_t limit = x->w->size ? x->w->size : (x->w->max_size ? x->w->max_size : 1ull << 40);
    if (len > limit - (x->have < limit ? x->have : limit)) {
        fail_abort(x, AB_TOO_BIG, "server sent more than the %llu bytes expected",
                   (unsigned long long)limit);
        return 0;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(x->fd, p + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            if (errno == ENOSPC || errno == EDQUOT)
                fail_abort(x, AB_DISK, "disk full writing %s after %llu bytes", x->tmp_dir,
                           (unsigned long long)(x->have + off));
            else
                fail_abort(x, AB_WRITE, "write: %s", strerror(errno));
            x->have += off;
            x->received += off;
            return 0;
        }
        off += (size_t)k;
    }
    x->have += len;
    x->received += len;
    report(x, false);
    return len;
}

static CURL *easy_new(const models_net *net, const char *url, xfer *x, char *errbuf) {
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    long ct = net && net->connect_timeout_s > 0 ? net->connect_timeout_s : 15;
    long stall = net && net->stall_timeout_s > 0 ? net->stall_timeout_s : 30;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (net && net->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, net->ca_file);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, ct);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* Bytes exactly as sent: the hash is of the file, not of a decoding. */
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    return h;
}

typedef enum { AT_OK, AT_RETRY, AT_FAIL } attempt_result;

/* Runs one GET; classifies the outcome. *st/err set on AT_FAIL and AT_RETRY. */
static attempt_result run_attempt(xfer *x, const char *url, hearth_status *st,
                                  hearth_error *err) {
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = easy_new(x->net, url, x, errbuf);
    if (!h) {
        *st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "curl_easy_init failed");
        return AT_FAIL;
    }
    char range[48];
    if (x->fd >= 0 && x->have > 0) {
        snprintf(range, sizeof range, "%llu-", (unsigned long long)x->have);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }
    x->judged = false;
    x->why = AB_NONE;
    x->status = 0;
    x->cr_start = x->cr_total = x->clen = -1;
    x->received = 0;
    x->t0 = now_s();
    x->last_progress = 0;
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (code) x->status = code;
    if (x->fd >= 0) fsync(x->fd); /* what was kept survives a crash too */
    char where[96], got[32], tot[32];
    fmt_bytes(x->have, got, sizeof got);
    if (x->total) fmt_bytes(x->total, tot, sizeof tot);
    snprintf(where, sizeof where, "after %s%s%s", got, x->total ? " of " : "",
             x->total ? tot : "");
    if (rc == CURLE_OK && !x->judged) {
        /* A response without a body: judge it now (an empty 200, or a 416). */
        if (x->status == 416 && x->fd >= 0 && x->have > 0) {
            if (ftruncate(x->fd, 0) == 0 && lseek(x->fd, 0, SEEK_SET) == 0) {
                if (x->net && x->net->note)
                    x->net->note(x->net->ud, "server refused the range of the kept partial file "
                                             "(HTTP 416): restarting from zero");
                x->have = 0;
                x->resumed_from = 0;
                x->restarted = true;
                x->free_retry = true;
                *st = HEARTH_FAIL(err, HEARTH_E_IO, "HTTP 416");
                return AT_RETRY;
            }
        }
        if (!judge(x)) rc = CURLE_WRITE_ERROR;
    }
    if (x->why != AB_NONE) {
        hearth_status code2 = x->why == AB_DISK || x->why == AB_TOO_BIG ? HEARTH_E_LIMIT
                              : x->why == AB_MEM                       ? HEARTH_E_NOMEM
                                                                       : HEARTH_E_IO;
        *st = HEARTH_FAIL(err, code2, "%s", x->why_msg);
        return AT_FAIL;
    }
    switch (rc) {
    case CURLE_OK:
        if (x->total && x->have != x->total) {
            *st = HEARTH_FAIL(err, HEARTH_E_IO, "connection closed %s", where);
            return AT_RETRY;
        }
        report(x, true);
        return AT_OK;
    case CURLE_OPERATION_TIMEDOUT:
        *st = HEARTH_FAIL(err, HEARTH_E_IO, "download stalled: no data for %ld s %s",
                          x->net && x->net->stall_timeout_s > 0 ? x->net->stall_timeout_s : 30L,
                          where);
        return x->judged ? AT_RETRY : AT_FAIL;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        *st = HEARTH_FAIL(err, HEARTH_E_IO, "connection cut %s%s%s", where,
                          errbuf[0] ? ": " : "", errbuf);
        return AT_RETRY;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        *st = HEARTH_FAIL(err, HEARTH_E_IO, "cannot connect: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return AT_FAIL;
    default:
        *st = HEARTH_FAIL(err, HEARTH_E_IO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return AT_FAIL;
    }
}

hearth_status models_fetch_small(const models_net *net, const char *url, size_t max, char **buf,
                                 size_t *len, uint64_t *bytes_in, hearth_error *err) {
    if (!url || !buf || !len || !max || max > (64u << 20))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "models_fetch_small: bad argument");
    *buf = NULL;
    *len = 0;
    xfer x = {.net = net, .fd = -1, .mem_max = max};
    x.mem = hearth_malloc(max + 1);
    if (!x.mem) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = HEARTH_OK;
    attempt_result ar = run_attempt(&x, url, &st, err);
    if (bytes_in) *bytes_in += x.received;
    if (ar != AT_OK) {
        hearth_free(x.mem);
        hearth_error_prefix(err, "%s", url);
        return st;
    }
    x.mem[x.mem_len] = '\0';
    *buf = x.mem;
    *len = x.mem_len;
    return HEARTH_OK;
}

/* ---- the partial file and its description ------------------------------------ */

static void url_key(const char *url, char key[25]) {
    unsigned char d[32];
    EVP_Digest(url, strlen(url), d, NULL, EVP_sha256(), NULL);
    char hex[65];
    hex32(d, hex);
    memcpy(key, hex, 24);
    key[24] = '\0';
}

/* True when the description at meta matches what w wants (so the partial
 * file beside it may be continued). */
static bool meta_matches(const char *meta, const models_want *w) {
    json_error_t je;
    json_t *o = json_load_file(meta, 0, &je);
    if (!o) return false;
    const char *u = json_string_value(json_object_get(o, "url"));
    const char *h = json_string_value(json_object_get(o, "sha256"));
    json_t *sz = json_object_get(o, "size");
    bool ok = u && !strcmp(u, w->url);
    if (ok && w->sha256 && h && *h) ok = !strcasecmp(h, w->sha256);
    if (ok && w->size && json_is_integer(sz) && json_integer_value(sz) > 0)
        ok = (uint64_t)json_integer_value(sz) == w->size;
    json_decref(o);
    return ok;
}

static hearth_status meta_write(const char *meta, const models_want *w, hearth_error *err) {
    char tmp[4400];
    if (snprintf(tmp, sizeof tmp, "%s.new", meta) >= (int)sizeof tmp)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "path too long");
    json_t *o = json_pack("{s:s, s:s, s:I}", "url", w->url, "sha256", w->sha256 ? w->sha256 : "",
                          "size", (json_int_t)w->size);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(s, f) >= 0;
    if (f && fflush(f)) ok = false;
    if (f && fsync(fileno(f))) ok = false;
    if (f && fclose(f)) ok = false;
    free(s);
    if (!ok || rename(tmp, meta)) {
        unlink(tmp);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", meta, strerror(errno));
    }
    return HEARTH_OK;
}

static void drop_partial(const char *part, const char *meta) {
    unlink(part);
    unlink(meta);
}

static bool is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* Checks the signature of the complete file part. */
static hearth_status check_signature(registry *r, const models_net *net, const models_want *w,
                                     const char *key, const char *part, models_fetched *out,
                                     uint64_t *bytes_in, hearth_error *err) {
    char sig[4300] = "";
    hearth_status st = HEARTH_OK;
    if (w->sig_url || w->sig_text) {
        char *buf = NULL;
        size_t len = 0;
        if (w->sig_url) {
            if ((st = models_fetch_small(net, w->sig_url, 1u << 20, &buf, &len, bytes_in, err))) {
                hearth_error_prefix(err, "signature");
                return st;
            }
        }
        const char *text = buf ? buf : w->sig_text;
        size_t tl = buf ? len : strlen(w->sig_text);
        /* The kind of signature file decides its suffix for hearth_verify_file. */
        bool bundle = tl && (text[0] == '{' || text[0] == ' ' || text[0] == '\n');
        snprintf(sig, sizeof sig, "%s/pull-%s.%s", registry_tmp_dir(r), key,
                 bundle ? "sig" : "minisig");
        FILE *f = fopen(sig, "wb");
        bool ok = f && fwrite(text, 1, tl, f) == tl;
        if (f && fclose(f)) ok = false;
        hearth_free(buf);
        if (!ok) {
            unlink(sig);
            return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", sig, strerror(errno));
        }
    }
    if (!sig[0] && !w->require_signature) return HEARTH_OK;
    hearth_verify_params vp = hearth_verify_default_params();
    vp.sig_path = sig[0] ? sig : NULL;
    vp.pubkey_path = w->pubkey_path;
    vp.trust_dir = w->trust_dir;
    vp.require_signature = true;
    hearth_verify_result vr;
    memset(&vr, 0, sizeof vr);
    st = hearth_verify_file(part, &vp, &vr, err);
    if (sig[0] && (st || !vr.signature_ok)) unlink(sig);
    if (!st && !vr.signature_ok)
        st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "unsigned: no signature was checked");
    if (st) {
        if (st == HEARTH_E_SIGNATURE) hearth_error_prefix(err, "signature refused");
        return st;
    }
    snprintf(out->signed_by, sizeof out->signed_by, "%s", vr.key_name);
    snprintf(out->sig_path, sizeof out->sig_path, "%s", sig);
    snprintf(out->trusted_comment, sizeof out->trusted_comment, "%s", vr.trusted_comment);
    return HEARTH_OK;
}

hearth_status models_fetch(registry *r, const models_net *net, const models_want *w,
                           models_fetched *out, uint64_t *bytes_in, hearth_error *err) {
    if (!r || !w || !w->url || !out)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "models_fetch: NULL argument");
    memset(out, 0, sizeof *out);
    if (strncasecmp(w->url, "http://", 7) && strncasecmp(w->url, "https://", 8))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "'%.100s': only http:// and https:// URLs", w->url);
    if (w->sha256 && !is_hex64(w->sha256))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "--sha256 wants 64 hex digits");
    char key[25], part[4150], meta[4150];
    url_key(w->url, key);
    snprintf(part, sizeof part, "%s/pull-%s.partial", registry_tmp_dir(r), key);
    snprintf(meta, sizeof meta, "%s/pull-%s.partial.json", registry_tmp_dir(r), key);
    int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", part, strerror(errno));
    /* Two pulls of one URL would append to the same file: the second waits
     * for nothing and says so (the kernel drops the lock if the first dies).
     * Everything below about the partial file happens under this lock. */
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_STATE, "another pull of %.200s is running", w->url);
    }
    /* Kept bytes of another file (another expected hash or size): start over. */
    if (!meta_matches(meta, w) && ftruncate(fd, 0)) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", part, strerror(errno));
    }
    hearth_status st = meta_write(meta, w, err);
    if (st) {
        close(fd);
        return st;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    xfer x = {.net = net, .w = w, .fd = fd, .tmp_dir = registry_tmp_dir(r)};
    x.have = end > 0 ? (uint64_t)end : 0;
    if (w->size && x.have > w->size) { /* longer than it can be: start again */
        if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) < 0) {
            close(fd);
            return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", part, strerror(errno));
        }
        x.have = 0;
    }
    x.resumed_from = x.have;
    out->resumed_from = x.have;
    if (x.have && net && net->note) {
        char msg[128], b[32];
        fmt_bytes(x.have, b, sizeof b);
        snprintf(msg, sizeof msg, "resuming an interrupted download: %s already here", b);
        net->note(net->ud, msg);
    }
    /* The size is known in advance (--size, a manifest): check the space
     * before any connection. */
    if (w->size > x.have) {
        struct statvfs vfs;
        if (!statvfs(x.tmp_dir, &vfs)) {
            uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
            uint64_t need = w->size - x.have;
            if (avail < need || avail - need < DISK_MARGIN) {
                close(fd);
                char a[32], b[32];
                fmt_bytes(need, a, sizeof a);
                fmt_bytes(avail, b, sizeof b);
                return HEARTH_FAIL(err, HEARTH_E_LIMIT,
                                   "not enough disk space in %s: the download needs %s, %s free",
                                   x.tmp_dir, a, b);
            }
        }
    }
    int budget = 1 + (net && net->retries > 0 ? net->retries : 0);
    attempt_result ar = AT_OK;
    /* Killed after the last byte and before the check: nothing to fetch. */
    bool complete = w->size && x.have == w->size;
    while (!complete) {
        x.free_retry = false;
        ar = run_attempt(&x, w->url, &st, err);
        out->downloaded += x.received;
        if (bytes_in) *bytes_in += x.received;
        if (ar != AT_RETRY) break;
        if (x.free_retry && !x.free_retry_used) { /* a 416 restart costs no attempt */
            x.free_retry_used = true;
            continue;
        }
        if (--budget <= 0) break;
        if (net && net->note) {
            char msg[320];
            snprintf(msg, sizeof msg, "%s; resuming", err ? err->msg : "interrupted");
            net->note(net->ud, msg);
        }
    }
    out->restarted = x.restarted;
    close(fd);
    if (ar != AT_OK) {
        if (x.why == AB_DISK || x.why == AB_TOO_BIG || x.why == AB_HTTP) {
            /* Nothing useful was kept for these. */
            if (x.have == 0) drop_partial(part, meta);
        }
        if (ar == AT_RETRY)
            hearth_error_prefix(err, "download interrupted (%llu bytes kept in %s; the same "
                                "pull resumes)", (unsigned long long)x.have, registry_tmp_dir(r));
        return st;
    }
    char hex[65];
    uint64_t size = 0;
    if ((st = models_sha256_file(part, hex, &size, err))) return st;
    if (w->size && size != w->size) {
        drop_partial(part, meta);
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                           "wrong bytes: got %llu bytes, expected %llu (nothing kept)",
                           (unsigned long long)size, (unsigned long long)w->size);
    }
    if (w->sha256 && strcasecmp(hex, w->sha256)) {
        drop_partial(part, meta);
        return HEARTH_FAIL(err, HEARTH_E_SIGNATURE,
                           "wrong bytes: sha256 %s, expected %.64s (nothing kept)", hex,
                           w->sha256);
    }
    if ((st = check_signature(r, net, w, key, part, out, bytes_in, err))) {
        drop_partial(part, meta);
        return st;
    }
    unlink(meta);
    if (snprintf(out->path, sizeof out->path, "%s", part) >= (int)sizeof out->path)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "path too long");
    memcpy(out->sha256, hex, 65);
    out->size = size;
    return HEARTH_OK;
}
