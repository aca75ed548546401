/*
 * test_power.c: util/power.c on fake /sys trees: AC online, discharging at
 * 50%, below the policy's threshold, charging without a mains supply, two
 * batteries, an empty bay, no power_supply at all, and malformed files
 * (capacity "abc", "150", "-3", an empty file, online "2", an unknown type);
 * the policy's decisions (threads halved or battery_threads, background
 * postponed, smaller model below the level, policy off); the RAPL reader
 * (package zones summed, subzones not counted, wrap-around, unreadable).
 */
#include "test.h"
#include "util/power.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void put(const char *rel, const char *text) {
    char p[512], d[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    snprintf(d, sizeof d, "%s", p);
    for (char *s = d + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(d, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static void fresh(void) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    REQUIRE(system(cmd) == 0);
}

static void supply(const char *name, const char *file, const char *v) {
    char rel[200];
    snprintf(rel, sizeof rel, "class/power_supply/%s/%s", name, file);
    put(rel, v);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/hearth-power-%ld", (long)getpid());
    hearth_power_state st;
    hearth_power_policy pol = {.enabled = true, .low_percent = 20, .battery_threads = 0};
    hearth_power_decision d;

    /* nothing at all: unknown, and the policy does nothing */
    fresh();
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_UNKNOWN);
    CHECK_EQ_INT(st.percent, -1);
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(!d.on_battery && !d.postpone_background && d.threads == 8);

    /* AC online, battery charging at 80% */
    fresh();
    supply("AC", "type", "Mains\n");
    supply("AC", "online", "1\n");
    supply("BAT0", "type", "Battery\n");
    supply("BAT0", "status", "Charging\n");
    supply("BAT0", "capacity", "80\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_AC);
    CHECK_EQ_INT(st.percent, 80);
    CHECK_STR(st.battery, "BAT0");
    CHECK_STR(st.status, "Charging");
    CHECK_STR(hearth_power_source_name(st.source), "ac");
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(!d.on_battery && d.threads == 8 && !d.postpone_background);

    /* discharging at 50%: fewer threads, background waits, same model */
    supply("AC", "online", "0\n");
    supply("BAT0", "status", "Discharging\n");
    supply("BAT0", "capacity", "50\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_BATTERY);
    CHECK_EQ_INT(st.percent, 50);
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(d.on_battery && d.postpone_background && !d.low && !d.prefer_smaller);
    CHECK_EQ_INT(d.threads, 4);
    pol.battery_threads = 2;
    CHECK_EQ_INT(hearth_power_decide(&st, &pol, 8).threads, 2);
    pol.battery_threads = 16; /* never more than off battery */
    CHECK_EQ_INT(hearth_power_decide(&st, &pol, 8).threads, 8);
    pol.battery_threads = 0;
    CHECK_EQ_INT(hearth_power_decide(&st, &pol, 1).threads, 1);

    /* below the threshold: a smaller model too; at it: not */
    supply("BAT0", "capacity", "19\n");
    hearth_power_read(root, &st);
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(d.on_battery && d.low && d.prefer_smaller);
    pol.keep_model = true; /* battery_pick = off: low, but the model stays */
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(d.on_battery && d.low && !d.prefer_smaller && d.postpone_background);
    pol.keep_model = false;
    supply("BAT0", "capacity", "20\n");
    hearth_power_read(root, &st);
    CHECK(!hearth_power_decide(&st, &pol, 8).low);

    /* policy off: nothing changes on battery */
    pol.enabled = false;
    d = hearth_power_decide(&st, &pol, 8);
    CHECK(!d.on_battery && d.threads == 8 && !d.postpone_background);
    CHECK(!hearth_power_should_defer(&pol));
    pol.enabled = true;

    /* should_defer reads $HEARTH_SYSFS_ROOT */
    setenv("HEARTH_SYSFS_ROOT", root, 1);
    CHECK(hearth_power_should_defer(&pol));
    unsetenv("HEARTH_SYSFS_ROOT");

    /* malformed capacity: percent unknown, still on battery (status says
     * so), and an unknown charge counts as low */
    const char *bad[] = {"abc\n", "150\n", "-3\n", "", "50%\n", "5 0\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        supply("BAT0", "capacity", bad[i]);
        hearth_power_read(root, &st);
        CHECKF(st.percent == -1, "capacity '%s' gave %d", bad[i], st.percent);
        CHECK_EQ_INT(st.source, HEARTH_POWER_BATTERY);
        CHECK(hearth_power_decide(&st, &pol, 4).low);
    }

    /* online "2" is not online; mains present and offline, battery status
     * unreadable: battery */
    fresh();
    supply("AC", "type", "Mains\n");
    supply("AC", "online", "2\n");
    supply("BAT0", "type", "Battery\n");
    supply("BAT0", "capacity", "70\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_BATTERY);
    CHECK_EQ_INT(st.percent, 70);

    /* battery charging with no mains entry (some laptops): AC */
    fresh();
    supply("BAT1", "type", "Battery\n");
    supply("BAT1", "status", "Full\n");
    supply("BAT1", "capacity", "100\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_AC);

    /* battery alone, status unknown: unknown */
    supply("BAT1", "status", "Unknown\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_UNKNOWN);
    CHECK_EQ_INT(st.percent, 100);

    /* two batteries, one an empty bay; an unknown supply type is ignored */
    fresh();
    supply("BAT0", "type", "Battery\n");
    supply("BAT0", "status", "Discharging\n");
    supply("BAT0", "capacity", "30\n");
    supply("BAT1", "type", "Battery\n");
    supply("BAT1", "status", "Discharging\n");
    supply("BAT1", "capacity", "50\n");
    supply("BAT2", "type", "Battery\n");
    supply("BAT2", "present", "0\n");
    supply("BAT2", "capacity", "0\n");
    supply("hid-mouse", "type", "Wireless?\n");
    supply("hid-mouse", "online", "1\n");
    supply("junk", "capacity", "1\n"); /* no type file */
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_BATTERY);
    CHECK_EQ_INT(st.percent, 40);

    /* USB-C power delivery counts as mains */
    supply("ucsi-source-psy-USBC000:001", "type", "USB\n");
    supply("ucsi-source-psy-USBC000:001", "online", "1\n");
    hearth_power_read(root, &st);
    CHECK_EQ_INT(st.source, HEARTH_POWER_AC);

    /* RAPL: package zones summed, subzones skipped, wrap handled */
    double uj, range;
    fresh();
    CHECK(!hearth_energy_read(root, &uj, &range));
    put("class/powercap/intel-rapl:0/energy_uj", "1000000\n");
    put("class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
    put("class/powercap/intel-rapl:0:0/energy_uj", "999999999\n");
    put("class/powercap/intel-rapl:1/energy_uj", "500000\n");
    put("class/powercap/intel-rapl:1/max_energy_range_uj", "262143328850\n");
    CHECK(hearth_energy_read(root, &uj, &range));
    CHECKF(uj == 1500000, "uj %.0f", uj);
    CHECK(range == 2 * 262143328850.0);
    CHECK(hearth_energy_joules(1e6, 3e6, range) == 2.0);
    CHECK(hearth_energy_joules(100e6, 1e6, 100e6) == 1.0); /* wrapped once */
    put("class/powercap/intel-rapl:0/energy_uj", "garbage\n");
    put("class/powercap/intel-rapl:1/energy_uj", "");
    CHECK(!hearth_energy_read(root, &uj, &range));

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    return test_done();
}
