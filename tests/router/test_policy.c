/*
 * test_policy.c: the privacy policy (src/router/policy.c): defaults, the
 * settings keys and their errors, reading them through hearth_settings
 * (flag, env, config file), the merge with a request's wishes checked
 * exhaustively (every user policy x every request) to never loosen the
 * user's settings, and router_decide over every policy and category mask.
 */
#include "router/router.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_defaults_and_set(void) {
    router_policy p;
    router_policy_default(&p);
    CHECK(p.mode == ROUTER_LOCAL_ONLY);
    for (int c = 0; c < ROUTER_CAT_COUNT; c++)
        CHECK(p.rule[c] == (c == ROUTER_CAT_GENERAL ? ROUTER_ALLOW : ROUTER_NEVER));
    hearth_error err;
    CHECK(!router_policy_set(&p, "policy", "hybrid", &err));
    CHECK(p.mode == ROUTER_HYBRID);
    CHECK(!router_policy_set(&p, "HEARTH_POLICY", " local-only ", &err));
    CHECK(p.mode == ROUTER_LOCAL_ONLY);
    CHECK(!router_policy_set(&p, "policy.health", "ask", &err));
    CHECK(p.rule[ROUTER_CAT_HEALTH] == ROUTER_ASK);
    CHECK(!router_policy_set(&p, "policy_family", "allow", &err));
    CHECK(p.rule[ROUTER_CAT_PERSONAL] == ROUTER_ALLOW);
    CHECK(!router_policy_set(&p, "Policy-Credentials", "NEVER", &err));
    CHECK(p.rule[ROUTER_CAT_CREDENTIALS] == ROUTER_NEVER);
    router_policy before = p;
    CHECK(router_policy_set(&p, "policy", "cloud-please", &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "cloud-please") != NULL);
    CHECK(router_policy_set(&p, "policy_work", "sometimes", &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "policy_work") != NULL);
    CHECK(router_policy_set(&p, "policy_sports", "allow", &err) == HEARTH_E_NOTFOUND);
    CHECK(router_policy_set(&p, "model", "x", &err) == HEARTH_E_NOTFOUND);
    CHECK(!memcmp(&p, &before, sizeof p));
    router_category c;
    CHECK(!router_category_parse("Finance", &c, &err) && c == ROUTER_CAT_FINANCE);
    CHECK(!router_category_parse("secrets", &c, &err) && c == ROUTER_CAT_CREDENTIALS);
    CHECK(router_category_parse("sports", &c, &err) == HEARTH_E_ARG);
    for (int k = 0; k < ROUTER_CAT_COUNT; k++) {
        CHECK(!router_category_parse(router_category_name((router_category)k), &c, &err));
        CHECK_EQ_INT(c, k);
    }
}

static void test_from_settings(void) {
    char dir[] = "/tmp/hearth-policy-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("policy = hybrid\npolicy_health = ask\npolicy_general = allow\n", f);
    fclose(f);
    setenv("HEARTH_CONFIG", path, 1);
    setenv("HEARTH_POLICY_WORK", "allow", 1);
    hearth_settings *s;
    hearth_error err;
    REQUIRE(!hearth_settings_load(&s, &err));
    router_policy p;
    CHECK(!router_policy_from_settings(s, &p, &err));
    CHECK(p.mode == ROUTER_HYBRID);
    CHECK(p.rule[ROUTER_CAT_HEALTH] == ROUTER_ASK);
    CHECK(p.rule[ROUTER_CAT_WORK] == ROUTER_ALLOW);
    CHECK(p.rule[ROUTER_CAT_FINANCE] == ROUTER_NEVER);
    /* a flag wins over env and file */
    CHECK(!hearth_settings_set(s, "policy", "local-only", &err));
    CHECK(!router_policy_from_settings(s, &p, &err));
    CHECK(p.mode == ROUTER_LOCAL_ONLY);
    /* a bad value names key, value and source, and leaves the defaults */
    CHECK(!hearth_settings_set(s, "policy_finance", "maybe", &err));
    CHECK(router_policy_from_settings(s, &p, &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "flag") && strstr(err.msg, "policy_finance") && strstr(err.msg, "maybe"));
    router_policy d;
    router_policy_default(&d);
    CHECK(!memcmp(&p, &d, sizeof p));
    hearth_settings_free(s);
    CHECK(!router_policy_from_settings(NULL, &p, &err));
    CHECK(!memcmp(&p, &d, sizeof p));
    unsetenv("HEARTH_CONFIG");
    unsetenv("HEARTH_POLICY_WORK");
    unlink(path);
    rmdir(dir);
}

/* Every user policy (2 modes x 3^6 rules) against every request (3 cloud x
 * 2 incognito x 2 ask x 4^6 per-category wishes): 71.6 million merges. */
static void test_merge_exhaustive(void) {
    long bad = 0, n = 0;
    router_policy user, out;
    for (int up = 0; up < 2 * 729; up++) {
        user.mode = (router_mode)(up % 2);
        for (int c = 0, x = up / 2; c < ROUTER_CAT_COUNT; c++, x /= 3) user.rule[c] = (router_rule)(x % 3);
        for (int g = 0; g < 12; g++) {
            router_overrides o;
            router_overrides_init(&o);
            o.cloud = (int8_t)(g % 3 - 1);
            o.incognito = (g / 3) % 2;
            o.ask = g / 6;
            for (int rp = 0; rp < 4096; rp++) {
                for (int c = 0, x = rp; c < ROUTER_CAT_COUNT; c++, x /= 4) o.rule[c] = (int8_t)(x % 4 - 1);
                router_policy_merge(&user, &o, &out);
                n++;
                /* never looser than the user ... */
                bool ok = !(out.mode == ROUTER_HYBRID && user.mode != ROUTER_HYBRID);
                for (int c = 0; c < ROUTER_CAT_COUNT; c++) {
                    ok = ok && out.rule[c] >= user.rule[c];
                    /* ... nor than the request's own wish ... */
                    if (o.rule[c] >= 0) ok = ok && (int)out.rule[c] >= o.rule[c];
                    /* ... and no stricter than both together ask for */
                    int want = user.rule[c];
                    if (o.rule[c] > want) want = o.rule[c];
                    if (o.ask && want == ROUTER_ALLOW) want = ROUTER_ASK;
                    ok = ok && (int)out.rule[c] == want;
                }
                bool hybrid = user.mode == ROUTER_HYBRID && o.cloud != 0 && !o.incognito;
                ok = ok && out.mode == (hybrid ? ROUTER_HYBRID : ROUTER_LOCAL_ONLY);
                if (!ok && bad++ < 5)
                    fprintf(stderr, "merge wrong: user %d, request %d/%d\n", up, g, rp);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(n, 1458L * 12 * 4096);
    /* NULL request: the user's policy; out-of-range values tighten */
    user.mode = ROUTER_HYBRID;
    for (int c = 0; c < ROUTER_CAT_COUNT; c++) user.rule[c] = ROUTER_ALLOW;
    router_policy_merge(&user, NULL, &out);
    CHECK(!memcmp(&user, &out, sizeof out));
    user.mode = (router_mode)7;
    user.rule[2] = (router_rule)9;
    router_overrides o;
    router_overrides_init(&o);
    o.rule[3] = 42;
    router_policy_merge(&user, &o, &out);
    CHECK(out.mode == ROUTER_LOCAL_ONLY && out.rule[2] == ROUTER_NEVER && out.rule[3] == ROUTER_NEVER);
}

/* router_decide over every user policy x global wishes x category mask. */
static void test_decide(void) {
    long bad = 0;
    router_policy user;
    router_decision d;
    for (int up = 0; up < 2 * 729; up++) {
        user.mode = (router_mode)(up % 2);
        for (int c = 0, x = up / 2; c < ROUTER_CAT_COUNT; c++, x /= 3) user.rule[c] = (router_rule)(x % 3);
        for (int g = 0; g < 12; g++) {
            router_overrides o;
            router_overrides_init(&o);
            o.cloud = (int8_t)(g % 3 - 1);
            o.incognito = (g / 3) % 2;
            o.ask = g / 6;
            for (uint32_t mask = 0; mask < 64; mask++) {
                router_decide(&user, &o, mask, &d);
                uint32_t m = mask ? mask : ROUTER_CAT_BIT(ROUTER_CAT_GENERAL);
                int strictest = 0;
                for (int c = 0; c < ROUTER_CAT_COUNT; c++)
                    if (m & ROUTER_CAT_BIT(c) && (int)user.rule[c] > strictest) strictest = user.rule[c];
                if (o.ask && strictest == ROUTER_ALLOW) strictest = ROUTER_ASK;
                bool out_ok = user.mode == ROUTER_HYBRID && o.cloud != 0 && !o.incognito;
                router_action want = !out_ok || strictest == ROUTER_NEVER ? ROUTER_LOCAL
                                     : strictest == ROUTER_ASK             ? ROUTER_ASK_USER
                                                                           : ROUTER_CLOUD;
                bool ok = d.action == want && d.reason[0] && (m & ROUTER_CAT_BIT(d.category));
                if (!ok && bad++ < 5)
                    fprintf(stderr, "decide wrong: user %d request %d mask %u: %s (%s)\n", up, g,
                            mask, router_action_name(d.action), d.reason);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* the reasons people read */
    router_policy_default(&user);
    router_decide(&user, NULL, 0, &d);
    CHECK(d.action == ROUTER_LOCAL);
    CHECK_STR(d.reason, "policy is local-only (setting 'policy')");
    user.mode = ROUTER_HYBRID;
    router_decide(&user, NULL, ROUTER_CAT_BIT(ROUTER_CAT_HEALTH) | ROUTER_CAT_BIT(ROUTER_CAT_GENERAL), &d);
    CHECK(d.action == ROUTER_LOCAL && d.category == ROUTER_CAT_HEALTH);
    CHECK_STR(d.reason, "category 'health' is 'never' in the policy (setting 'policy_health')");
    router_decide(&user, NULL, 0, &d);
    CHECK(d.action == ROUTER_CLOUD && d.category == ROUTER_CAT_GENERAL);
    CHECK_STR(d.reason, "policy is hybrid and category 'general' is 'allow'");
    router_overrides o;
    router_overrides_init(&o);
    o.rule[ROUTER_CAT_GENERAL] = ROUTER_NEVER;
    router_decide(&user, &o, 0, &d);
    CHECK_STR(d.reason, "category 'general' is 'never' for this request");
    router_overrides_init(&o);
    o.cloud = 0;
    router_decide(&user, &o, 0, &d);
    CHECK_STR(d.reason, "the request asked for local only");
    user.rule[ROUTER_CAT_WORK] = ROUTER_ASK;
    router_decide(&user, NULL, ROUTER_CAT_BIT(ROUTER_CAT_WORK), &d);
    CHECK(d.action == ROUTER_ASK_USER);
    o.cloud = 1; /* wanting the cloud does not skip consent */
    router_decide(&user, &o, ROUTER_CAT_BIT(ROUTER_CAT_WORK), &d);
    CHECK(d.action == ROUTER_ASK_USER);
    CHECK_STR(router_action_name(ROUTER_CLOUD), "cloud");
    CHECK_STR(router_rule_name(ROUTER_ASK), "ask");
    CHECK_STR(router_mode_name(ROUTER_LOCAL_ONLY), "local-only");
}

int main(void) {
    test_defaults_and_set();
    test_from_settings();
    test_merge_exhaustive();
    test_decide();
    return test_done();
}
