/*
 * models_cli.c: download progress and options shared by `hearth pull` and
 * `hearth models update` (models_cli.h).
 */
#include "models_cli.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cli_models_bytes(uint64_t b, char *buf, size_t cap) {
    if (b >= (1ull << 30)) snprintf(buf, cap, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, cap, "%.1f MiB", (double)b / (1ull << 20));
    else if (b >= 1024) snprintf(buf, cap, "%.1f KiB", (double)b / 1024);
    else snprintf(buf, cap, "%llu B", (unsigned long long)b);
}

static void fmt_eta(double s, char *buf, size_t cap) {
    if (s < 0) snprintf(buf, cap, "?");
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void on_progress(void *ud, const models_progress *p) {
    cli_progress *pr = ud;
    if (pr->quiet) return;
    char have[32], total[32], rate[32], eta[32];
    cli_models_bytes(p->have, have, sizeof have);
    cli_models_bytes(p->total, total, sizeof total);
    cli_models_bytes((uint64_t)p->rate, rate, sizeof rate);
    fmt_eta(p->eta_s, eta, sizeof eta);
    if (pr->tty) {
        int pct = p->total ? (int)(100.0 * (double)p->have / (double)p->total) : -1;
        char bar[31];
        int fill = pct >= 0 ? pct * 30 / 100 : 0;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : (pct < 0 ? '?' : '.');
        bar[30] = '\0';
        if (pct >= 0)
            fprintf(stderr, "\r[%s] %3d%% %s / %s  %s/s  %s left   ", bar, pct, have, total,
                    rate, eta);
        else
            fprintf(stderr, "\r%s  %s/s   ", have, rate);
        pr->drew = true;
        if (p->done) {
            fputc('\n', stderr);
            pr->drew = false;
        }
        return;
    }
    int dec = p->total ? (int)(10.0 * (double)p->have / (double)p->total) : -1;
    if (!p->done && (dec < 0 || dec == pr->last_decile)) return;
    pr->last_decile = dec;
    if (p->total)
        fprintf(stderr, "hearth %s: %s of %s (%d%%), %s/s, %s left\n", pr->cmd, have, total,
                (int)(100.0 * (double)p->have / (double)p->total), rate, eta);
    else
        fprintf(stderr, "hearth %s: %s, %s/s\n", pr->cmd, have, rate);
}

static void on_note(void *ud, const char *msg) {
    cli_progress *pr = ud;
    if (pr->drew) {
        fputc('\n', stderr);
        pr->drew = false;
    }
    fprintf(stderr, "hearth %s: %s\n", pr->cmd, msg);
}

bool cli_models_net(const char *cmd, const hearth_settings *s, cli_progress *pr, models_net *net) {
    *net = (models_net){.progress = on_progress, .note = on_note, .ud = pr, .retries = 3,
                        .stall_timeout_s = 30};
    pr->cmd = cmd;
    pr->tty = isatty(2);
    pr->last_decile = -1;
    int64_t v;
    hearth_error e;
    hearth_status st = hearth_settings_get_int(s, "download_stall_timeout", &v, &e);
    if (st == HEARTH_OK) {
        if (v < 1 || v > 3600) {
            cli_fail(cmd, NULL, "download_stall_timeout = %lld: expected 1..3600 seconds",
                     (long long)v);
            return false;
        }
        net->stall_timeout_s = (long)v;
    } else if (st != HEARTH_E_NOTFOUND) {
        cli_fail(cmd, &e, "settings");
        return false;
    }
    st = hearth_settings_get_int(s, "download_retries", &v, &e);
    if (st == HEARTH_OK) {
        if (v < 0 || v > 100) {
            cli_fail(cmd, NULL, "download_retries = %lld: expected 0..100", (long long)v);
            return false;
        }
        net->retries = (int)v;
    } else if (st != HEARTH_E_NOTFOUND) {
        cli_fail(cmd, &e, "settings");
        return false;
    }
    net->ca_file = hearth_settings_get(s, "download_ca_file", NULL);
    return true;
}

void cli_models_trust_dir(const hearth_settings *s, char *buf, size_t cap) {
    const char *t = hearth_settings_get(s, "trusted_keys", NULL);
    if (t && *t) {
        snprintf(buf, cap, "%s", t);
        return;
    }
    const char *home = hearth_settings_get(s, "home", NULL);
    snprintf(buf, cap, "%s/trusted-keys", home ? home : ".");
}
