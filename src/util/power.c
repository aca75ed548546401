/*
 * power.c: power_supply reading and the battery policy (power.h).
 * Every file read is bounded (64 bytes) and parsed as a whole value; a
 * supply whose type can not be read is skipped.
 */
#include "util/power.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads <dir>/<name> into buf (trimmed), false if missing or empty. */
static bool read_small(const char *dir, const char *name, char *buf, size_t cap) {
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return false;
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r' || buf[n - 1] == '\t')) buf[--n] = '\0';
    return n > 0;
}

/* A whole decimal integer in [lo, hi], else false. */
static bool parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

void hearth_power_read(const char *root, hearth_power_state *out) {
    memset(out, 0, sizeof *out);
    out->percent = -1;
    if (!root) root = getenv("HEARTH_SYSFS_ROOT");
    if (!root || !*root) root = "/sys";
    char base[1024];
    if ((size_t)snprintf(base, sizeof base, "%s/class/power_supply", root) >= sizeof base) return;
    DIR *d = opendir(base);
    if (!d) return;
    bool mains_seen = false, mains_online = false, bat_seen = false, discharging = false, charging = false;
    long pct_sum = 0, pct_n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char dir[1400], type[64], v[64];
        if ((size_t)snprintf(dir, sizeof dir, "%s/%s", base, de->d_name) >= sizeof dir) continue;
        if (!read_small(dir, "type", type, sizeof type)) continue;
        long x;
        if (!strcmp(type, "Mains") || !strncmp(type, "USB", 3)) {
            mains_seen = true;
            if (read_small(dir, "online", v, sizeof v) && parse_int(v, 0, 1, &x) && x == 1) mains_online = true;
        } else if (!strcmp(type, "Battery")) {
            /* a battery that says it is not present (an empty bay) is no battery */
            if (read_small(dir, "present", v, sizeof v) && parse_int(v, 0, 1, &x) && x == 0) continue;
            bat_seen = true;
            if (!out->battery[0]) snprintf(out->battery, sizeof out->battery, "%.63s", de->d_name);
            if (read_small(dir, "status", v, sizeof v)) {
                if (!out->status[0]) snprintf(out->status, sizeof out->status, "%.31s", v);
                if (!strcmp(v, "Discharging")) discharging = true;
                else if (!strcmp(v, "Charging") || !strcmp(v, "Full") || !strcmp(v, "Not charging")) charging = true;
            }
            if (read_small(dir, "capacity", v, sizeof v) && parse_int(v, 0, 100, &x)) {
                pct_sum += x;
                pct_n++;
            }
        }
    }
    closedir(d);
    if (pct_n) out->percent = (int)(pct_sum / pct_n);
    if (mains_online) out->source = HEARTH_POWER_AC;
    else if (bat_seen && discharging) out->source = HEARTH_POWER_BATTERY;
    else if (bat_seen && charging) out->source = HEARTH_POWER_AC;
    else if (bat_seen && mains_seen) out->source = HEARTH_POWER_BATTERY; /* mains says offline */
    else out->source = HEARTH_POWER_UNKNOWN;
}

const char *hearth_power_source_name(hearth_power_source s) {
    switch (s) {
    case HEARTH_POWER_AC: return "ac";
    case HEARTH_POWER_BATTERY: return "battery";
    default: return "unknown";
    }
}

hearth_power_decision hearth_power_decide(const hearth_power_state *st, const hearth_power_policy *p,
                                          int normal_threads) {
    hearth_power_decision d = {.threads = normal_threads > 0 ? normal_threads : 1};
    if (!p->enabled || st->source != HEARTH_POWER_BATTERY) return d;
    d.on_battery = true;
    d.postpone_background = true;
    int t = p->battery_threads > 0 ? p->battery_threads : d.threads / 2;
    if (t < 1) t = 1;
    if (t < d.threads) d.threads = t;
    /* unknown charge on battery: err on the side of saving it */
    d.low = st->percent < 0 || st->percent < p->low_percent;
    d.prefer_smaller = d.low && !p->keep_model;
    return d;
}

bool hearth_power_should_defer(const hearth_power_policy *p) {
    if (!p || !p->enabled) return false;
    hearth_power_state st;
    hearth_power_read(NULL, &st);
    return st.source == HEARTH_POWER_BATTERY;
}

bool hearth_energy_read(const char *root, double *uj, double *range_uj) {
    *uj = 0;
    *range_uj = 0;
    if (!root) root = getenv("HEARTH_SYSFS_ROOT");
    if (!root || !*root) root = "/sys";
    char base[1024];
    if ((size_t)snprintf(base, sizeof base, "%s/class/powercap", root) >= sizeof base) return false;
    DIR *d = opendir(base);
    if (!d) return false;
    bool any = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        /* package zones "intel-rapl:0"; their subzones "intel-rapl:0:0" are
         * parts of the package and would count twice */
        const char *n = de->d_name;
        if (strncmp(n, "intel-rapl:", 11) || strchr(n + 11, ':')) continue;
        char dir[1400], v[64];
        if ((size_t)snprintf(dir, sizeof dir, "%s/%s", base, n) >= sizeof dir) continue;
        char *end;
        if (!read_small(dir, "energy_uj", v, sizeof v)) continue;
        errno = 0;
        double e = strtod(v, &end);
        if (errno || end == v || *end || !(e >= 0)) continue;
        double r = 0;
        if (read_small(dir, "max_energy_range_uj", v, sizeof v)) {
            r = strtod(v, &end);
            if (end == v || *end || !(r >= 0)) r = 0;
        }
        *uj += e;
        *range_uj += r;
        any = true;
    }
    closedir(d);
    return any;
}

double hearth_energy_joules(double before_uj, double after_uj, double range_uj) {
    double d = after_uj - before_uj;
    if (d < 0 && range_uj > 0) d += range_uj;
    return d < 0 ? 0 : d / 1e6;
}
