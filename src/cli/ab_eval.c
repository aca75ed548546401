/*
 * ab_eval.c: `hearth ab eval -m A.gguf -m B.gguf ... -f EVAL`: the offline
 * A/B comparison of model files (quantization levels of one model, most
 * often). Each variant runs in a child process of its own, so its peak RSS
 * (VmHWM, reset at the start with /proc/self/clear_refs) is its own: there
 * it loads, measures prompt and generation speed on random tokens (as
 * hearth bench), the perplexity over EVAL (hearth_eval_*), and, when EVAL
 * holds question<TAB>answer lines, task accuracy (greedy answer through the
 * chat template). Only after the RSS is read does it also load the base
 * (the variant with the most bits per weight) for the KL divergence and
 * top-1 agreement against it. The child sends its figures back through a
 * pipe; the parent prints one table (or JSON) and, with --plot, an SVG.
 * Uses only the public API (hearth.h).
 */
#include "quant_text.h"
#include "ab_cli.h"
#include "cli.h"
#include "model_trust.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_VARIANTS 8
#define MAX_QA 1000

typedef struct {
    const char *path[MAX_VARIANTS];
    int n;
    const char *eval, *plot;
    long n_ctx, nth, chunks, n_prompt, n_gen, max_q;
    bool json;
} opts;

/* What a child reports (plain data through the pipe). */
typedef struct {
    int ok;
    char err[512];
    double size_mb, bpw, rss_mb, pp_tps, tg_tps;
    double ppl, ppl_err, kld, kld_p99, top1, ratio;
    int32_t n_ctx;
    int64_t n_scored;
    int acc_k, acc_n;
    bool is_base;
} result;

typedef struct {
    char *q[MAX_QA], *a[MAX_QA];
    int n;
} qa_set;

/* A question/answer file: every non-empty line is QUESTION<TAB>ANSWER.
 * Splits text in place; false (text untouched) if any line is not. */
static bool parse_qa(char *text, qa_set *qa) {
    int lines = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && !(n == 1 && p[0] == '\r')) {
            const char *t = memchr(p, '\t', n);
            if (!t || t == p || t + 1 == p + n || memchr(t + 1, '\t', (size_t)(p + n - t - 1)))
                return false;
            lines++;
        }
        p += n + (e != NULL);
    }
    if (lines == 0 || lines > MAX_QA) return false;
    qa->n = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r') p[--n] = '\0';
        if (n) {
            char *t = strchr(p, '\t');
            *t = '\0';
            qa->q[qa->n] = p;
            qa->a[qa->n++] = t + 1;
        }
        if (!e) break;
        p = e + 1;
    }
    return true;
}

/* Bits per weight of the 2-D tensors (the matrices quantization changes). */
static double bits_per_weight(const char *path) {
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, NULL)) return 0;
    double bytes = 0, n = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (t->n_dims < 2) continue;
        bytes += (double)t->nbytes;
        n += (double)t->ne[0] * (double)t->ne[1] * (double)t->ne[2] * (double)t->ne[3];
    }
    hearth_gguf_free(g);
    return n > 0 ? bytes * 8 / n : 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak resident set (MiB) since the last reset, from /proc/self/status. */
static double vm_hwm_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    if (kb == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (double)ru.ru_maxrss;
    }
    return kb / 1024;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0; else the peak keeps what
 * the fork inherited, a few MiB of the parent's). */
static void reset_hwm(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return;
    ssize_t w = write(fd, "5", 1);
    (void)w;
    close(fd);
}

/* The eval tokens (OUT: *out, malloc'd): in Q/A mode each pair as a
 * rendered chat turn followed by the file's answer and the end-of-turn
 * token; else the text. */
static int eval_tokens(const hearth_model *m, const char *text, size_t len, const qa_set *qa,
                       int32_t **out, size_t *n, char *err, size_t cap) {
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    hearth_error e = {0};
    if (!tok) return snprintf(err, cap, "the model has no tokenizer"), 1;
    if (!qa) {
        int32_t *ids;
        /* control-token text counts as the token (chat transcripts), as in
         * hearth quantize's evaluation and perplexity --special */
        if (hearth_tokenize(tok, text, len, true, true, &ids, n, &e))
            return snprintf(err, cap, "cannot tokenize: %s", e.msg), 1;
        *out = malloc((*n ? *n : 1) * sizeof **out);
        if (*out) memcpy(*out, ids, *n * sizeof *ids);
        hearth_free(ids);
        return *out ? 0 : (snprintf(err, cap, "out of memory"), 1);
    }
    hearth_template t = hearth_template_detect(hearth_model_chat_template(m), NULL);
    size_t total = 0, cap_t = 4096;
    int32_t *all = malloc(cap_t * sizeof *all);
    int32_t eot = hearth_token_eot(tok) >= 0 ? hearth_token_eot(tok) : hearth_token_eos(tok);
    for (int i = 0; all && i < qa->n; i++) {
        hearth_chat_message msg = {"user", qa->q[i]};
        int32_t *p = NULL, *a = NULL;
        size_t np = 0, na = 0;
        if (hearth_template_render(t, tok, &msg, 1, &p, &np, &e) ||
            hearth_tokenize(tok, qa->a[i], strlen(qa->a[i]), false, false, &a, &na, &e)) {
            hearth_free(p);
            free(all);
            return snprintf(err, cap, "cannot render question %d: %s", i + 1, e.msg), 1;
        }
        while (total + np + na + 1 > cap_t) {
            int32_t *nb = realloc(all, (cap_t *= 2) * sizeof *nb);
            if (!nb) free(all);
            all = nb;
            if (!all) break;
        }
        if (all) {
            memcpy(all + total, p, np * sizeof *p);
            memcpy(all + total + np, a, na * sizeof *a);
            total += np + na;
            if (eot >= 0) all[total++] = eot;
        }
        hearth_free(p);
        hearth_free(a);
    }
    if (!all) return snprintf(err, cap, "out of memory"), 1;
    *out = all;
    *n = total;
    return 0;
}

/* The answer in a model's reply: the number after '=' ("6 + 18 = 24."),
 * else the last number; compared with the expected answer when that is a
 * number, else the expected text must appear (case-insensitive). */
static bool answer_right(const char *reply, const char *want) {
    bool numeric = *want != '\0';
    for (const char *p = want + (*want == '-'); *p; p++)
        if (!isdigit((unsigned char)*p)) numeric = false;
    if (!numeric) {
        size_t n = strlen(want);
        for (const char *p = reply; *p; p++)
            if (!strncasecmp(p, want, n)) return true;
        return false;
    }
    const char *eq = strchr(reply, '='), *num = NULL;
    if (eq) {
        const char *p = eq + 1;
        while (*p == ' ') p++;
        if (*p == '-' || isdigit((unsigned char)*p)) num = p;
    }
    if (!num) /* the last number */
        for (const char *p = reply; *p; p++)
            if (isdigit((unsigned char)*p) && (p == reply || !isdigit((unsigned char)p[-1])))
                num = p > reply && p[-1] == '-' ? p - 1 : p;
    if (!num) return false;
    size_t n = strlen(want);
    return !strncmp(num, want, n) && !isdigit((unsigned char)num[n]);
}

typedef struct {
    char text[512];
    size_t len;
} reply_buf;

static int on_text(void *user, int32_t token, const char *text, size_t len) {
    (void)token;
    reply_buf *r = user;
    if (len > sizeof r->text - 1 - r->len) len = sizeof r->text - 1 - r->len;
    memcpy(r->text + r->len, text, len);
    r->len += len;
    r->text[r->len] = '\0';
    return 0;
}

/* Greedy answers through the chat template; counts the right ones. */
static int accuracy(hearth_model *m, const opts *o, const qa_set *qa, result *r) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = hearth_model_n_ctx_train(m) > 0 ? hearth_model_n_ctx_train(m) : 512;
    if (cp.n_ctx > 2048) cp.n_ctx = 2048;
    cp.n_threads = (int)o->nth;
    hearth_ctx *c;
    hearth_error e = {0};
    if (hearth_ctx_new(m, &cp, &c, &e)) return snprintf(r->err, sizeof r->err, "context: %s", e.msg), 1;
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    hearth_template t = hearth_template_detect(hearth_model_chat_template(m), NULL);
    int n = o->max_q > 0 && o->max_q < qa->n ? (int)o->max_q : qa->n;
    for (int i = 0; i < n; i++) {
        hearth_chat_message msg = {"user", qa->q[i]};
        int32_t *p = NULL;
        size_t np = 0;
        if (hearth_template_render(t, tok, &msg, 1, &p, &np, &e)) {
            hearth_ctx_free(c);
            return snprintf(r->err, sizeof r->err, "render: %s", e.msg), 1;
        }
        hearth_ctx_seq_clear(c, -1, NULL);
        hearth_gen_params gp = hearth_gen_default_params();
        gp.max_tokens = 24;
        gp.sampling.temp = 0;
        reply_buf rb = {.len = 0};
        rb.text[0] = '\0';
        hearth_gen_result res;
        hearth_status st = hearth_generate(c, p, (int32_t)np, &gp, on_text, &rb, &res, &e);
        hearth_free(p);
        if (st) {
            hearth_ctx_free(c);
            return snprintf(r->err, sizeof r->err, "question %d: %s", i + 1, e.msg), 1;
        }
        r->acc_n++;
        r->acc_k += answer_right(rb.text, qa->a[i]);
    }
    hearth_ctx_free(c);
    return 0;
}

/* Prompt and generation tokens/s on random tokens, as hearth bench. */
static int speed(hearth_model *m, const opts *o, result *r) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = (int32_t)(o->n_prompt + o->n_gen + 1);
    cp.n_threads = (int)o->nth;
    hearth_ctx *c;
    hearth_error e = {0};
    if (hearth_ctx_new(m, &cp, &c, &e)) return snprintf(r->err, sizeof r->err, "context: %s", e.msg), 1;
    int32_t nv = hearth_model_n_vocab(m), np = (int32_t)o->n_prompt;
    int32_t *toks = malloc((size_t)np * sizeof *toks);
    uint32_t x = 1;
    for (int32_t i = 0; toks && i < np; i++) toks[i] = (int32_t)(((x = x * 1664525u + 1013904223u) >> 8) % (uint32_t)nv);
    int rc = 1;
    if (!toks || hearth_ctx_eval(c, 0, toks, np < 16 ? np : 16, &e)) goto out; /* warm-up */
    hearth_ctx_seq_clear(c, -1, NULL);
    double t0 = now_s();
    if (hearth_ctx_eval(c, 0, toks, np, &e)) goto out;
    r->pp_tps = np / (now_s() - t0);
    int32_t t = toks[0];
    t0 = now_s();
    for (long i = 0; i < o->n_gen; i++) {
        if (hearth_ctx_eval(c, 0, &t, 1, &e)) goto out;
        t = (t + 1) % nv;
    }
    r->tg_tps = (double)o->n_gen / (now_s() - t0);
    rc = 0;
out:
    if (rc) snprintf(r->err, sizeof r->err, "speed: %s", toks ? e.msg : "out of memory");
    free(toks);
    hearth_ctx_free(c);
    return rc;
}

/* Everything for variant vi, in the child. */
static void child(const opts *o, int vi, int base, const char *text, size_t tlen, const qa_set *qa,
                  result *r) {
    reset_hwm();
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = (int)o->nth;
    hearth_model *m = NULL, *bm = NULL;
    int32_t *toks = NULL;
    size_t nt = 0;
    hearth_error e = {0};
    r->is_base = vi == base;
    r->bpw = bits_per_weight(o->path[vi]);
    if (hearth_model_open(o->path[vi], &mp, &m, &e)) {
        snprintf(r->err, sizeof r->err, "cannot load: %s", e.msg);
        return;
    }
    r->size_mb = (double)hearth_model_file_size(m) / 1e6;
    if (speed(m, o, r)) goto out;
    if (eval_tokens(m, text, tlen, qa, &toks, &nt, r->err, sizeof r->err)) goto out;
    hearth_eval_params ep = hearth_eval_default_params();
    ep.n_ctx = (int32_t)o->n_ctx;
    if (hearth_model_n_ctx_train(m) > 0 && ep.n_ctx > hearth_model_n_ctx_train(m))
        ep.n_ctx = hearth_model_n_ctx_train(m);
    if ((size_t)ep.n_ctx > nt) ep.n_ctx = (int32_t)nt; /* a short file: one window of it all */
    ep.max_chunks = (int32_t)o->chunks;
    ep.n_threads = (int)o->nth;
    r->n_ctx = ep.n_ctx;
    hearth_eval_result er;
    if (hearth_eval_tokens(m, NULL, toks, nt, &ep, &er, &e)) {
        snprintf(r->err, sizeof r->err, "perplexity: %s", e.msg);
        goto out;
    }
    r->ppl = er.base.ppl;
    r->ppl_err = er.base.ppl_err;
    r->n_scored = er.n_scored;
    if (qa && accuracy(m, o, qa, r)) goto out;
    r->rss_mb = vm_hwm_mb(); /* before the base is loaded beside it */
    if (vi != base) {
        if (hearth_model_open(o->path[base], &mp, &bm, &e) ||
            hearth_eval_tokens(bm, m, toks, nt, &ep, &er, &e)) {
            snprintf(r->err, sizeof r->err, "against the base: %s", e.msg);
            goto out;
        }
        r->kld = er.kld_mean;
        r->kld_p99 = er.kld_p99;
        r->top1 = er.top1;
        r->ratio = er.ppl_ratio;
    } else {
        r->top1 = 1;
        r->ratio = 1;
    }
    r->ok = 1;
out:
    free(toks);
    hearth_model_free(bm);
    hearth_model_free(m);
}

/* Runs child() for variant vi in a fork and collects its result. */
static int run_variant(const opts *o, int vi, int base, const char *text, size_t tlen,
                       const qa_set *qa, result *r) {
    memset(r, 0, sizeof *r);
    int fd[2];
    if (pipe(fd)) return snprintf(r->err, sizeof r->err, "pipe: %s", strerror(errno)), 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return snprintf(r->err, sizeof r->err, "fork: %s", strerror(errno)), 1;
    }
    if (pid == 0) {
        close(fd[0]);
        result cr;
        memset(&cr, 0, sizeof cr);
        child(o, vi, base, text, tlen, qa, &cr);
        const char *p = (const char *)&cr;
        for (size_t off = 0; off < sizeof cr;) {
            ssize_t w = write(fd[1], p + off, sizeof cr - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    char *p = (char *)r;
    for (ssize_t k; got < sizeof *r && (k = read(fd[0], p + got, sizeof *r - got)) > 0;) got += (size_t)k;
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        snprintf(r->err, sizeof r->err, "the evaluation process ended (status %d)", status);
        return 1;
    }
    if (r->rss_mb <= 0) r->rss_mb = (double)ru.ru_maxrss / 1024;
    return r->ok ? 0 : 1;
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The SVG: quality against speed (left) and against size (right). Quality
 * is the KLD against the base when any variant has one, else perplexity. */
static int write_plot(const char *file, const opts *o, const result *r) {
    FILE *f = fopen(file, "w");
    if (!f) return cli_fail("ab eval", NULL, "cannot write %s", file);
    bool kld = false;
    for (int i = 0; i < o->n; i++) kld |= !r[i].is_base && r[i].kld > 0;
    const int W = 420, H = 320, L = 70, R = 20, T = 40, B = 50;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            2 * W, H);
    fprintf(f, "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">hearth ab eval: %s "
               "(lower is better) against speed and size</text>\n",
            W, kld ? "KL divergence from the base" : "perplexity");
    for (int panel = 0; panel < 2; panel++) {
        double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
        for (int i = 0; i < o->n; i++) {
            double x = panel ? r[i].size_mb : r[i].tg_tps, y = kld ? r[i].kld : r[i].ppl;
            xmin = fmin(xmin, x), xmax = fmax(xmax, x), ymin = fmin(ymin, y), ymax = fmax(ymax, y);
        }
        if (kld) ymin = 0;
        if (xmax - xmin < 1e-9) xmin -= 1, xmax += 1;
        if (ymax - ymin < 1e-12) ymax = ymin + (ymin > 0 ? ymin : 1);
        double px = (xmax - xmin) * 0.1, py = (ymax - ymin) * 0.1;
        xmin -= px, xmax += px, ymax += py;
        if (!kld) ymin -= py;
        int ox = panel * W;
        fprintf(f, "<g>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ox + L, H - B, ox + W - R, H - B);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ox + L, T, ox + L, H - B);
        for (int k = 0; k <= 4; k++) {
            double xv = xmin + (xmax - xmin) * k / 4, yv = ymin + (ymax - ymin) * k / 4;
            double sx = ox + L + (W - L - R) * k / 4.0, sy = H - B - (H - T - B) * k / 4.0;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n",
                    sx, H - B, sx, H - B + 4, sx, H - B + 16, xv);
            fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                       "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                    ox + L, sy, ox + W - R, sy, ox + L - 4, sy + 4, yv);
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", ox + (L + W - R) / 2,
                H - 12, panel ? "file size (MB)" : "generation speed (tokens/s)");
        fprintf(f, "<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                ox + 16, (T + H - B) / 2, kld ? "mean KLD (nats)" : "perplexity");
        for (int i = 0; i < o->n; i++) {
            double x = panel ? r[i].size_mb : r[i].tg_tps, y = kld ? r[i].kld : r[i].ppl;
            double sx = ox + L + (W - L - R) * (x - xmin) / (xmax - xmin);
            double sy = H - B - (H - T - B) * (y - ymin) / (ymax - ymin);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                    sx, sy, r[i].is_base ? "#c33" : "#36c", sx + 7, sy - 6);
            for (const char *c = base_name(o->path[i]); *c; c++) {
                if (*c == '<') fputs("&lt;", f);
                else if (*c == '&') fputs("&amp;", f);
                else if (*c == '>') fputs("&gt;", f);
                else if ((unsigned char)*c >= 0x20) fputc(*c, f);
            }
            fputs("</text>\n", f);
        }
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
    if (fclose(f)) return cli_fail("ab eval", NULL, "cannot write %s", file);
    return 0;
}

static void print_table(const opts *o, const result *r, bool qa) {
    printf("%-28s %7s %5s %8s %9s %9s %10s %9s %9s %8s %7s%s\n", "model", "size MB", "bpw",
           "RSS MB", "pp tok/s", "tg tok/s", "PPL", "PPL ratio", "KLD", "KLD p99", "top-1",
           qa ? "  accuracy" : "");
    for (int i = 0; i < o->n; i++) {
        printf("%-28s %7.2f %5.2f %8.1f %9.1f %9.1f %10.4f", base_name(o->path[i]), r[i].size_mb,
               r[i].bpw, r[i].rss_mb, r[i].pp_tps, r[i].tg_tps, r[i].ppl);
        if (r[i].is_base)
            printf(" %9s %9s %8s %7s", "(base)", "-", "-", "-");
        else
            printf(" %9.4f %9.6f %8.5f %6.1f%%", r[i].ratio, r[i].kld, r[i].kld_p99, 100 * r[i].top1);
        if (qa) printf("  %d/%d (%.0f%%)", r[i].acc_k, r[i].acc_n, r[i].acc_n ? 100.0 * r[i].acc_k / r[i].acc_n : 0);
        printf("\n");
    }
}

/* Under the table: what hearth quantize measured when it wrote each file
 * (its own eval text), beside what this run measured. Nothing for a file
 * without hearth.quantize.*. */
static void print_stated(const opts *o) {
    for (int i = 0; i < o->n; i++) {
        quant_stated q;
        quant_stated_read(o->path[i], &q);
        if (!q.present) continue;
        printf("stated by hearth quantize at write time: %s: ppl ratio %.4f, KLD %.6f (p99 %.5f), "
               "top-1 %.1f%% over %lld tokens of %s\n",
               base_name(o->path[i]), q.ppl_ratio, q.kld_mean, q.kld_p99, 100 * q.top1,
               (long long)q.eval_tokens, q.eval_file[0] ? q.eval_file : "(unnamed)");
    }
}

static void print_json(const opts *o, const result *r, bool qa) {
    json_t *root = json_object(), *arr = json_array();
    for (int i = 0; i < o->n; i++) {
        json_t *v = json_object();
        json_object_set_new(v, "model", cli_json_str(o->path[i]));
        json_object_set_new(v, "base", json_boolean(r[i].is_base));
        json_object_set_new(v, "size_mb", json_real(r[i].size_mb));
        json_object_set_new(v, "bpw", json_real(r[i].bpw));
        json_object_set_new(v, "rss_mb", json_real(r[i].rss_mb));
        json_object_set_new(v, "prompt_tps", json_real(r[i].pp_tps));
        json_object_set_new(v, "gen_tps", json_real(r[i].tg_tps));
        json_object_set_new(v, "ppl", json_real(r[i].ppl));
        json_object_set_new(v, "ppl_err", json_real(r[i].ppl_err));
        json_object_set_new(v, "ppl_ratio", json_real(r[i].ratio));
        json_object_set_new(v, "kld_mean", json_real(r[i].kld));
        json_object_set_new(v, "kld_p99", json_real(r[i].kld_p99));
        json_object_set_new(v, "top1", json_real(r[i].top1));
        json_object_set_new(v, "n_ctx", json_integer(r[i].n_ctx));
        json_object_set_new(v, "tokens_scored", json_integer(r[i].n_scored));
        if (qa) {
            json_object_set_new(v, "accuracy", json_real(r[i].acc_n ? (double)r[i].acc_k / r[i].acc_n : 0));
            json_object_set_new(v, "answered", json_integer(r[i].acc_n));
            json_object_set_new(v, "right", json_integer(r[i].acc_k));
        }
        quant_stated q;
        quant_stated_read(o->path[i], &q);
        if (q.present) {
            json_t *st = json_object();
            json_object_set_new(st, "ppl_ratio", json_real(q.ppl_ratio));
            json_object_set_new(st, "kld_mean", json_real(q.kld_mean));
            json_object_set_new(st, "kld_p99", json_real(q.kld_p99));
            json_object_set_new(st, "ppl_base", json_real(q.ppl_base));
            json_object_set_new(st, "ppl", json_real(q.ppl));
            json_object_set_new(st, "top1", json_real(q.top1));
            json_object_set_new(st, "eval_tokens", json_integer(q.eval_tokens));
            json_object_set_new(st, "eval_file", cli_json_str(q.eval_file));
            json_object_set_new(v, "stated_by_quantize", st);
        }
        json_array_append_new(arr, v);
    }
    json_object_set_new(root, "eval", cli_json_str(o->eval));
    json_object_set_new(root, "variants", arr);
    cli_print_json(root);
}

int ab_eval_main(int argc, char **argv) {
    opts o = {.n_ctx = 256, .nth = 0, .chunks = 0, .n_prompt = 128, .n_gen = 32, .max_q = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            o.json = true;
            continue;
        }
        if (!v) return cli_fail("ab eval", NULL, "%s needs a value", a);
        i++;
        long *num = NULL, lo = 1, hi = 1 << 24;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (o.n == MAX_VARIANTS) return cli_fail("ab eval", NULL, "at most %d models", MAX_VARIANTS);
            o.path[o.n++] = v;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) o.eval = v;
        else if (!strcmp(a, "--plot")) o.plot = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) num = &o.n_ctx, lo = 8, hi = 1 << 20;
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) num = &o.nth, hi = 1024;
        else if (!strcmp(a, "--chunks")) num = &o.chunks;
        else if (!strcmp(a, "-p")) num = &o.n_prompt, hi = 1 << 16;
        else if (!strcmp(a, "-n")) num = &o.n_gen, hi = 1 << 16;
        else if (!strcmp(a, "--questions")) num = &o.max_q, hi = MAX_QA;
        else return cli_fail("ab eval", NULL, "unknown argument '%s'", a);
        if (num && !cli_parse_long(v, lo, hi, num)) return cli_fail("ab eval", NULL, "bad %s '%s'", a, v);
    }
    if (o.n < 2 || !o.eval) return cli_fail("ab eval", NULL, "need two or more -m MODEL and -f EVAL");
    for (int i = 0; i < o.n; i++)
        if (cli_model_gate("ab eval", NULL, o.path[i])) return 1;
    size_t tlen;
    char *text = quant_read_file(o.eval, &tlen);
    if (!text) return cli_fail("ab eval", NULL, "cannot read %s", o.eval);
    char *qtext = strdup(text);
    qa_set qa;
    bool is_qa = qtext && parse_qa(qtext, &qa);
    /* the base: the most bits per weight (first on ties) */
    int base = 0;
    double best = -1;
    for (int i = 0; i < o.n; i++) {
        double b = bits_per_weight(o.path[i]);
        if (b <= 0) {
            free(text);
            free(qtext);
            return cli_fail("ab eval", NULL, "%s is not a readable GGUF model", o.path[i]);
        }
        if (b > best) best = b, base = i;
    }
    result r[MAX_VARIANTS];
    int rc = 0;
    for (int i = 0; i < o.n; i++) {
        if (!o.json) {
            fprintf(stderr, "ab eval: %s%s\n", o.path[i], i == base ? " (base)" : "");
        }
        if (run_variant(&o, i, base, text, tlen, is_qa ? &qa : NULL, &r[i])) {
            rc = cli_fail("ab eval", NULL, "%s: %s", o.path[i], r[i].err);
            break;
        }
    }
    if (!rc) {
        if (o.json) print_json(&o, r, is_qa);
        else {
            printf("eval: %s (%s; window %d, %lld positions scored); base: %s\n", o.eval,
                   is_qa ? "question/answer pairs through the chat template" : "text", r[0].n_ctx,
                   (long long)r[0].n_scored, base_name(o.path[base]));
            print_table(&o, r, is_qa);
            print_stated(&o);
        }
        if (o.plot) rc = write_plot(o.plot, &o, r);
    }
    free(text);
    free(qtext);
    return rc;
}
