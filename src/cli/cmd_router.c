/*
 * cmd_router.c: `hearth router calibrate -f LABELED.jsonl`: runs the local
 * model (greedy, through the agent, no session, no cache) on each labelled
 * prompt, and from the answers' confidence scores prints the trade-off
 * between the share of requests that would go to the cloud and the accuracy
 * of what stays local, for each candidate threshold; then picks the
 * confidence_threshold that meets the target (an accuracy, or a largest
 * cloud share).
 *
 * A line of the file is {"prompt": "...", "acceptable": true|false}, or
 * {"prompt": "...", "expected": "..."}: the local answer is then acceptable
 * when it contains the expected text.
 */
#include "cli.h"
#include "run_chat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hearth router calibrate -f LABELED.jsonl [--target-accuracy A | --max-cloud-share S]\n"
    "                               [--json] [-m MODEL] [options]\n"
    "\n"
    "Picks the router's confidence_threshold from labelled prompts. Each line of the\n"
    "file is {\"prompt\": ..., \"acceptable\": true|false} or {\"prompt\": ...,\n"
    "\"expected\": TEXT} (acceptable when the local answer contains TEXT). The local\n"
    "model answers each prompt (greedy, no session, no cache); below the threshold an\n"
    "answer would go to the cloud. For each threshold the table shows the share sent\n"
    "to the cloud, the accuracy of the answers kept local, and the overall accuracy if\n"
    "every cloud answer is acceptable.\n"
    "\n"
    "  -f FILE               the labelled prompts (JSON lines)\n"
    "  --target-accuracy A   smallest cloud share whose local accuracy is >= A\n"
    "                        (default 0.95)\n"
    "  --max-cloud-share S   best local accuracy with at most this share of cloud calls\n"
    "  --json                the table and the choice as JSON\n"
    "\n"
    "Model and sampling options as for hearth run:\n" CLI_AGENT_OPTIONS_USAGE;

typedef struct {
    double conf;
    bool ok;
} sample;

static int cmp_sample(const void *a, const void *b) {
    double x = ((const sample *)a)->conf, y = ((const sample *)b)->conf;
    return x < y ? -1 : x > y;
}

typedef struct {
    double threshold, cloud_share, local_accuracy, overall_accuracy;
    int n_local, n_cloud;
} row;

/* The row for threshold t over samples v[0..n) sorted by confidence. */
static row row_at(const sample *v, int n, double t) {
    row r = {.threshold = t};
    int local_ok = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].conf < t) r.n_cloud++;
        else {
            r.n_local++;
            local_ok += v[i].ok;
        }
    }
    r.cloud_share = n ? (double)r.n_cloud / n : 0;
    r.local_accuracy = r.n_local ? (double)local_ok / r.n_local : 1.0;
    r.overall_accuracy = n ? (double)(local_ok + r.n_cloud) / n : 1.0;
    return r;
}

static int calibrate(int argc, char **argv) {
    const char *file = NULL;
    double target_acc = 0.95, max_share = -1;
    bool json = false;
    /* our flags out, the agent's flags on to cli_agent_parse */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return cli_fail("router", NULL, "out of memory");
    int nr = 0;
    rest[nr++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        float f;
        if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(a, "--target-accuracy") && i + 1 < argc) {
            if (!cli_parse_float(argv[++i], &f) || f < 0 || f > 1) {
                free(rest);
                return cli_fail("router", NULL, "--target-accuracy: '%s' is not in [0, 1]", argv[i]);
            }
            target_acc = f;
        } else if (!strcmp(a, "--max-cloud-share") && i + 1 < argc) {
            if (!cli_parse_float(argv[++i], &f) || f < 0 || f > 1) {
                free(rest);
                return cli_fail("router", NULL, "--max-cloud-share: '%s' is not in [0, 1]", argv[i]);
            }
            max_share = f;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else {
            rest[nr++] = argv[i];
        }
    }
    if (!file) {
        free(rest);
        return cli_fail("router", NULL, "calibrate needs -f LABELED.jsonl (see hearth router --help)");
    }
    cli_agent_opts o;
    int rc = cli_agent_parse("router", nr, rest, &o);
    if (!rc && o.n_rest) rc = cli_fail("router", NULL, "unexpected argument '%s'", o.rest[0]);
    FILE *in = NULL;
    hearth_agent *ag = NULL;
    sample *v = NULL;
    int n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    if (!rc && !(in = fopen(file, "r"))) rc = cli_fail("router", NULL, "cannot read '%s'", file);
    /* The local model's own answers are what is calibrated: never the cloud. */
    o.cloud = 0;
    if (!rc) rc = cli_agent_open("router", &o, &ag);
    for (int lineno = 1; !rc && getline(&line, &lcap, in) > 0; lineno++) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j && strspn(line, " \t\r\n") == strlen(line)) continue;
        const char *prompt = json_string_value(json_object_get(j, "prompt"));
        json_t *acc = json_object_get(j, "acceptable");
        const char *expected = json_string_value(json_object_get(j, "expected"));
        if (!prompt || (!json_is_boolean(acc) && !expected)) {
            json_decref(j);
            rc = cli_fail("router", NULL, "%s:%d: want {\"prompt\": ..., \"acceptable\": true|false}"
                          " or {\"prompt\": ..., \"expected\": ...}", file, lineno);
            break;
        }
        hearth_agent_request r = hearth_agent_default_request(ag);
        r.session = NULL;
        r.user = prompt;
        r.temperature = 0;
        r.no_cache = true;
        r.local_only = true;
        hearth_agent_response resp;
        hearth_error e = {0};
        if (hearth_agent_process(ag, &r, &resp, &e)) {
            json_decref(j);
            rc = cli_fail("router", &e, "%s:%d: no answer", file, lineno);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            sample *t = realloc(v, (size_t)cap * sizeof *t);
            if (!t) {
                hearth_agent_response_clear(&resp);
                json_decref(j);
                rc = cli_fail("router", NULL, "out of memory");
                break;
            }
            v = t;
        }
        v[n].conf = resp.confidence;
        v[n].ok = json_is_boolean(acc) ? json_is_true(acc) : strstr(resp.content, expected) != NULL;
        n++;
        hearth_agent_response_clear(&resp);
        json_decref(j);
    }
    if (!rc && n == 0) rc = cli_fail("router", NULL, "%s: no labelled prompts", file);
    if (!rc) {
        qsort(v, (size_t)n, sizeof *v, cmp_sample);
        /* Candidates: the midpoint of each gap between distinct scores (a
         * threshold in the middle of a gap moves least with new data), and
         * a 0.1 grid for the table. */
        int nt = 0;
        row *rows = malloc(((size_t)n + 13) * sizeof *rows);
        bool *grid = calloc((size_t)n + 13, sizeof *grid);
        if (!rows || !grid) {
            free(rows);
            free(grid);
            rc = cli_fail("router", NULL, "out of memory");
            goto out;
        }
        for (int g = 0; g <= 10; g++) {
            grid[nt] = true;
            rows[nt++] = row_at(v, n, g * 0.1);
        }
        for (int i = 0; i + 1 < n; i++)
            if (v[i + 1].conf > v[i].conf) rows[nt++] = row_at(v, n, (v[i].conf + v[i + 1].conf) / 2);
        rows[nt++] = row_at(v, n, v[n - 1].conf + 1e-9); /* everything to the cloud */
        /* by threshold */
        for (int i = 1; i < nt; i++)
            for (int k = i; k > 0 && rows[k].threshold < rows[k - 1].threshold; k--) {
                row t = rows[k];
                rows[k] = rows[k - 1];
                rows[k - 1] = t;
                bool g = grid[k];
                grid[k] = grid[k - 1];
                grid[k - 1] = g;
            }
        int best = -1;
        for (int i = 0; i < nt; i++) {
            bool fits = max_share >= 0 ? rows[i].cloud_share <= max_share + 1e-12
                                       : rows[i].local_accuracy >= target_acc - 1e-12;
            if (!fits) continue;
            if (best < 0) {
                best = i;
                continue;
            }
            double gain = max_share >= 0 ? rows[i].local_accuracy - rows[best].local_accuracy
                                         : rows[best].cloud_share - rows[i].cloud_share;
            /* on a tie, the middle of a gap beats a grid point */
            if (gain > 1e-12 || (gain > -1e-12 && grid[best] && !grid[i])) best = i;
        }
        if (json) {
            json_t *o2 = json_object(), *arr = json_array();
            for (int i = 0; i < nt; i++) {
                json_t *r = json_object();
                json_object_set_new(r, "threshold", json_real(rows[i].threshold));
                json_object_set_new(r, "cloud_share", json_real(rows[i].cloud_share));
                json_object_set_new(r, "local_accuracy", json_real(rows[i].local_accuracy));
                json_object_set_new(r, "overall_accuracy", json_real(rows[i].overall_accuracy));
                json_array_append_new(arr, r);
            }
            json_object_set_new(o2, "n", json_integer(n));
            json_object_set_new(o2, "table", arr);
            json_object_set_new(o2, "confidence_threshold",
                                best >= 0 ? json_real(rows[best].threshold) : json_null());
            char *s = json_dumps(o2, JSON_COMPACT | JSON_REAL_PRECISION(6));
            if (s) puts(s);
            free(s);
            json_decref(o2);
        } else {
            printf("%d labelled prompts\n\n%10s %12s %15s %17s\n", n, "threshold", "cloud share",
                   "local accuracy", "overall accuracy");
            for (int i = 0; i < nt; i++) {
                if (!grid[i] && i != best) continue;
                printf("%10.4f %11.1f%% %14.1f%% %16.1f%%%s\n", rows[i].threshold,
                       100 * rows[i].cloud_share, 100 * rows[i].local_accuracy,
                       100 * rows[i].overall_accuracy, i == best ? "   <- chosen" : "");
            }
            if (best >= 0)
                printf("\nconfidence_threshold = %.4f   (cloud share %.1f%%, local accuracy %.1f%%)\n",
                       rows[best].threshold, 100 * rows[best].cloud_share,
                       100 * rows[best].local_accuracy);
            else
                printf("\nno threshold meets the target\n");
        }
        if (best < 0) rc = 3;
        free(rows);
        free(grid);
    }
out:
    free(line);
    free(v);
    if (in) fclose(in);
    hearth_agent_free(ag);
    cli_agent_opts_free(&o);
    free(rest);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "calibrate")) return calibrate(argc - 1, argv + 1);
    fprintf(stderr, "hearth router: unknown subcommand '%s' (hearth router calibrate -f FILE)\n",
            argc >= 2 ? argv[1] : "");
    return 2;
}

const cli_command cli_cmd_router = {
    .name = "router",
    .summary = "calibrate the hybrid router's confidence threshold on labelled prompts",
    .usage = usage,
    .run = run,
};
