/*
 * power.h: is the device on mains power or on battery, and how charged is
 * it; and the battery policy's decision (fewer threads, a smaller variant
 * of the model, background work postponed until on AC).
 *
 * Linux: <root>/class/power_supply/<name>/{type,online,status,capacity},
 * root being $HEARTH_SYSFS_ROOT when set (tests build fake trees), else
 * /sys. Anything missing or malformed gives "unknown" rather than an error:
 * a desktop with no battery, a container without /sys, a driver that writes
 * garbage. In the bottom layer so that sync, update and indexing loops can
 * ask it without depending on anything above.
 */
#ifndef HEARTH_UTIL_POWER_H
#define HEARTH_UTIL_POWER_H

#include <stdbool.h>

typedef enum {
    HEARTH_POWER_UNKNOWN = 0, /* no power_supply information */
    HEARTH_POWER_AC,          /* mains (or USB-C) online, or battery charging / full */
    HEARTH_POWER_BATTERY,     /* running on battery */
} hearth_power_source;

typedef struct {
    hearth_power_source source;
    int percent;       /* battery charge 0..100, or -1 when unknown */
    char battery[64];  /* power_supply name of the battery read ("BAT0"), or "" */
    char status[32];   /* its status file ("Discharging"), or "" */
} hearth_power_state;

/* Reads the power state from sysfs_root (NULL: $HEARTH_SYSFS_ROOT, else
 * "/sys"). Never fails: what can not be read is unknown. With several
 * batteries, percent is their mean. OUT: *out. Any thread. */
void hearth_power_read(const char *sysfs_root, hearth_power_state *out);

/* "ac", "battery", "unknown". Static. */
const char *hearth_power_source_name(hearth_power_source s);

/* The battery policy (settings battery_policy, battery_low_percent,
 * battery_threads, battery_pick; filled by the caller from hearth_settings). */
typedef struct {
    bool enabled;        /* battery_policy = on */
    int low_percent;     /* below this charge the model is swapped for a smaller one */
    int battery_threads; /* threads on battery; 0: half of the normal count */
    bool keep_model;     /* battery_pick = off: never swap the model (zero: swap) */
} hearth_power_policy;

typedef struct {
    bool on_battery;          /* the policy applies (enabled and on battery) */
    bool low;                 /* ... and the charge is below low_percent (or unknown) */
    int threads;              /* threads to use (normal_threads when the policy does not apply) */
    bool prefer_smaller;      /* pick a smaller installed variant of the model (low, unless keep_model) */
    bool postpone_background; /* sync, updates, indexing: wait for AC */
} hearth_power_decision;

/* What the policy p decides in state st for a process that would use
 * normal_threads threads (>= 1). Pure. Any thread. */
hearth_power_decision hearth_power_decide(const hearth_power_state *st, const hearth_power_policy *p,
                                          int normal_threads);

/* For background loops (sync, update checks, indexing): true when the work
 * should wait for AC now (policy enabled and on battery). Reads sysfs each
 * call (a few small files). Any thread. */
bool hearth_power_should_defer(const hearth_power_policy *p);

/* RAPL energy counters (<root>/class/powercap/intel-rapl:N/energy_uj, the
 * top-level package zones, summed; root as hearth_power_read). OUT: *uj the
 * counter now, *range_uj the sum of max_energy_range_uj (for wrap-around).
 * False when no zone is readable (no RAPL, or not permitted: since Linux
 * 5.10 energy_uj is readable by root only). Any thread. */
bool hearth_energy_read(const char *sysfs_root, double *uj, double *range_uj);

/* Joules between two readings of hearth_energy_read, allowing for one
 * wrap of the counter. */
double hearth_energy_joules(double before_uj, double after_uj, double range_uj);

#endif
