/*
 * cmd_audit.c: `hearth audit [--since D] [--last N] [--json]` lists the audit
 * log of outbound requests (what left the device, or was stopped, and why);
 * `hearth audit --explain ID` tells one record's story in words.
 */
#include "cli.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: hearth audit [--since D] [--last N] [--json]\n"
    "       hearth audit --explain ID [--json]\n"
    "\n"
    "The audit log of outbound requests kept in the local store: every request that\n"
    "left the device (cloud calls; later sync and model downloads) and every one the\n"
    "privacy policy stopped, with the decision and its reason, the destination, bytes\n"
    "out and in, what was redacted (counts by kind), the local answer's confidence and\n"
    "the latency. The content itself is recorded only with audit_content = 1.\n"
    "\n"
    "options:\n"
    "  --since D      only records from D on: a date (2026-12-01, 2026-12-01T08:00Z)\n"
    "                 or a time ago (30m, 12h, 7d)\n"
    "  --last N       only the newest N records\n"
    "  --explain ID   why record ID went out (or did not), in words\n"
    "  --json         JSON (an array of records, or the one record)\n";

/* Record fields can hold text a web page or a remote server chose (session
 * names, outcomes): shown escaped, as all user text the CLI prints. */
static void put_safe(const char *s) {
    if (s) cli_put_safe(stdout, s, strlen(s), CLI_SAFE_LINE);
}

/* --since: a UTC date/time (YYYY-MM-DD[THH:MM[:SS]][Z]) or an age (N
 * followed by m, h or d). Anything after what was understood is an error. */
static bool two_digits(const char *p, int *out) {
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

static bool parse_since(const char *s, int64_t *ms) {
    char *end;
    long n = strtol(s, &end, 10);
    if (end != s && isdigit((unsigned char)s[0]) && end[0] && !end[1] && strchr("mhd", end[0])) {
        int64_t unit = end[0] == 'm' ? 60000 : end[0] == 'h' ? 3600000 : 86400000;
        *ms = (int64_t)time(NULL) * 1000 - (int64_t)n * unit;
        return true;
    }
    int c1, c2, mo, d, h = 0, mi = 0, sec = 0;
    const char *p = s;
    if (!two_digits(p, &c1) || !two_digits(p + 2, &c2) || p[4] != '-' || !two_digits(p + 5, &mo) ||
        p[7] != '-' || !two_digits(p + 8, &d))
        return false;
    p += 10;
    if (*p == 'T') {
        if (!two_digits(p + 1, &h) || p[3] != ':' || !two_digits(p + 4, &mi)) return false;
        p += 6;
        if (*p == ':') {
            if (!two_digits(p + 1, &sec)) return false;
            p += 3;
        }
    }
    if (*p == 'Z') p++;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
    struct tm tm = {.tm_year = c1 * 100 + c2 - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return false;
    *ms = (int64_t)t * 1000;
    return true;
}

static json_t *jstr(const char *s) { return s ? cli_json_str(s) : json_null(); }

static json_t *record_json(const hearth_audit_record *r) {
    char when[32];
    cli_iso_utc(r->time_ms, when, sizeof when);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "time_ms", json_integer(r->time_ms));
    json_object_set_new(o, "kind", jstr(r->kind));
    json_object_set_new(o, "session", jstr(r->session));
    json_object_set_new(o, "category", jstr(r->category));
    json_object_set_new(o, "decision", jstr(r->decision));
    json_object_set_new(o, "reason", jstr(r->reason));
    json_object_set_new(o, "host", jstr(r->host));
    json_object_set_new(o, "bytes_out", json_integer(r->bytes_out));
    json_object_set_new(o, "bytes_in", json_integer(r->bytes_in));
    json_t *red = r->redactions_json ? json_loads(r->redactions_json, 0, NULL) : NULL;
    json_object_set_new(o, "redactions", red ? red : json_object());
    json_object_set_new(o, "confidence", r->confidence >= 0 ? json_real(r->confidence) : json_null());
    json_object_set_new(o, "latency_ms", r->latency_ms >= 0 ? json_real(r->latency_ms) : json_null());
    json_object_set_new(o, "outcome", jstr(r->outcome));
    json_object_set_new(o, "content", jstr(r->content));
    return o;
}

/* "2 EMAIL, 1 PHONE" from the redaction counts, or "nothing". */
static void put_redactions(const char *js) {
    json_t *o = js ? json_loads(js, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    bool any = false;
    json_object_foreach(o, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) continue;
        printf("%s%lld ", any ? ", " : "", (long long)json_integer_value(v));
        put_safe(k);
        any = true;
    }
    if (!any) printf("nothing");
    json_decref(o);
}

static void explain(const hearth_audit_record *r) {
    char when[32];
    cli_iso_utc(r->time_ms, when, sizeof when);
    printf("Audit record %lld, %s (%s request", (long long)r->id, when, r->kind);
    if (r->session) {
        printf(", session \"");
        put_safe(r->session);
        printf("\"");
    }
    printf(")\n");
    if (r->confidence >= 0)
        printf("  local answer's confidence: %.2f\n", r->confidence);
    printf("  category: ");
    put_safe(r->category);
    printf("\n  decision: ");
    put_safe(r->decision);
    printf("\n  because:  ");
    put_safe(r->reason);
    printf("\n");
    if (r->host) {
        printf("  sent to:  ");
        put_safe(r->host);
        printf(" (%lld bytes out, %lld bytes in", (long long)r->bytes_out, (long long)r->bytes_in);
        if (r->latency_ms >= 0) printf(", %.1f ms", r->latency_ms);
        printf(")\n");
    } else {
        printf("  sent to:  nowhere: nothing left the device\n");
    }
    printf("  redacted before leaving: ");
    put_redactions(r->redactions_json);
    printf("\n");
    if (r->outcome) {
        printf("  outcome:  ");
        put_safe(r->outcome);
        printf("\n");
    }
    if (r->content) {
        printf("  content (audit_content is on):\n    ");
        put_safe(r->content);
        printf("\n");
    }
}

static int run(int argc, char **argv) {
    bool json = false;
    int64_t since = 0;
    long last = 0, explain_id = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--since") && i + 1 < argc) {
            if (!parse_since(argv[++i], &since)) {
                fprintf(stderr, "hearth audit: --since: '%s' is neither a date (2026-12-01, "
                        "2026-12-01T08:00:00Z) nor an age (30m, 12h, 7d)\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--last") && i + 1 < argc) {
            if (!cli_parse_long(argv[++i], 1, 1000000000L, &last)) {
                fprintf(stderr, "hearth audit: --last: '%s' is not a positive number\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--explain") && i + 1 < argc) {
            if (!cli_parse_long(argv[++i], 1, 0x7fffffffL, &explain_id)) {
                fprintf(stderr, "hearth audit: --explain: '%s' is not a record id\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "hearth audit: unexpected argument '%s'\n(see hearth audit --help)\n", a);
            return 2;
        }
    }
    hearth_store *s = NULL;
    hearth_error e;
    if (hearth_store_open(NULL, &s, &e) != HEARTH_OK)
        return cli_fail("audit", &e, "cannot open the store");
    int rc = 0;
    if (explain_id) {
        hearth_audit_record *r = NULL;
        if (hearth_store_audit_get(s, explain_id, &r, &e) != HEARTH_OK) {
            rc = cli_fail("audit", &e, "no record %ld", explain_id);
        } else if (json) {
            cli_print_json(record_json(r));
        } else {
            explain(r);
        }
        hearth_free(r);
        hearth_store_free(s);
        return rc;
    }
    hearth_audit_record *v = NULL;
    size_t n = 0;
    if (hearth_store_audit_list(s, since, last, &v, &n, &e) != HEARTH_OK) {
        rc = cli_fail("audit", &e, "cannot read the audit log");
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, record_json(&v[i]));
        cli_print_json(arr);
    } else if (n == 0) {
        printf("no outbound requests%s\n", since ? " in that time" : "");
    } else {
        printf("%-6s %-20s %-6s %-10s %-15s %-24s %9s %9s  %s\n", "id", "time", "kind",
               "category", "decision", "host", "bytes out", "bytes in", "redacted");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            cli_iso_utc(v[i].time_ms, when, sizeof when);
            printf("%-6lld %-20s %-6s ", (long long)v[i].id, when, v[i].kind);
            printf("%-10.10s %-15.15s ", v[i].category, v[i].decision);
            const char *h = v[i].host ? v[i].host : "-";
            printf("%-24.24s ", h);
            printf("%9lld %9lld  ", (long long)v[i].bytes_out, (long long)v[i].bytes_in);
            put_redactions(v[i].redactions_json);
            printf("\n");
        }
    }
    hearth_free(v);
    hearth_store_free(s);
    return rc;
}

const cli_command cli_cmd_audit = {
    .name = "audit",
    .summary = "what left the device (or was stopped) and why: the audit log",
    .usage = usage,
    .run = run,
};
