/*
 * params.c: the agent's parameter and request defaults, and filling them
 * from resolved settings (flags > HEARTH_* > config file > defaults).
 */
#include "agent/agent_int.h"
#include "agent/power_settings.h"
#include "util/error.h"
#include "util/power.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_CONTEXT 4096
#define MAX_CONTEXT_LIMIT (1 << 20)

hearth_agent_params hearth_agent_default_params(void) {
    return (hearth_agent_params){
        .max_context = DEFAULT_MAX_CONTEXT,
        .temperature = 0.8f,
        .top_p = 0.95f,
        .top_k = 40,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .max_tokens = 512,
        .seed = -1,
        .use_cache = true,
        .confidence_threshold = 0.5,
        .kv_cache_bytes = (int64_t)1 << 30,
        .cache_type_k = HEARTH_TYPE_F16,
        .cache_type_v = HEARTH_TYPE_F16,
    };
}

const char *hearth_source_name(hearth_source s) {
    switch (s) {
    case HEARTH_SOURCE_LOCAL: return "local";
    case HEARTH_SOURCE_CACHE: return "cache";
    case HEARTH_SOURCE_CLOUD: return "cloud";
    case HEARTH_SOURCE_LOCAL_DEGRADED: return "local-degraded";
    default: return "unknown";
    }
}

const char *hearth_finish_reason_openai(hearth_finish_reason r) {
    switch (r) {
    case HEARTH_FINISH_LENGTH:
    case HEARTH_FINISH_CTX: return "length";
    case HEARTH_FINISH_CANCELLED: return "cancelled";
    case HEARTH_FINISH_TOOL_CALLS: return "tool_calls";
    default: return "stop";
    }
}

/* Reads an integer setting in [lo, hi] into *out if the key has a value. */
static hearth_status get_int(const hearth_settings *s, const char *key, int64_t lo, int64_t hi,
                             int64_t *out, hearth_error *err) {
    int64_t v;
    hearth_status st = hearth_settings_get_int(s, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) return HEARTH_OK;
    if (st) return st;
    if (v < lo || v > hi)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s' = %lld is outside [%lld, %lld]", key,
                           (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return HEARTH_OK;
}

static hearth_status get_float(const hearth_settings *s, const char *key, double lo, double hi,
                               float *out, hearth_error *err) {
    double v;
    hearth_status st = hearth_settings_get_float(s, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) return HEARTH_OK;
    if (st) return st;
    if (!(v >= lo && v <= hi))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s' = %g is outside [%g, %g]", key, v, lo,
                           hi);
    *out = (float)v;
    return HEARTH_OK;
}

hearth_status hearth_agent_params_from_settings(const hearth_settings *s, hearth_agent_params *p,
                                                hearth_error *err) {
    if (!s || !p) return HEARTH_FAIL(err, HEARTH_E_ARG, "agent params: NULL argument");
    hearth_agent_params q = *p;
    const char *v;
    if ((v = hearth_settings_get(s, "model", NULL)) && *v) q.model_path = v;
    if ((v = hearth_settings_get(s, "home", NULL)) && *v) q.data_dir = v;
    if ((v = hearth_settings_get(s, "embed_model", NULL))) q.embed_model_path = *v ? v : NULL;
    if ((v = hearth_settings_get(s, "system_prompt", NULL))) q.system_prompt = *v ? v : NULL;
    if ((v = hearth_settings_get(s, "draft_model", NULL))) q.draft_model_path = *v ? v : NULL;
    int64_t i64;
    hearth_status st;
    i64 = q.lookup;
    if ((st = get_int(s, "lookup", 0, 1, &i64, err))) return st;
    q.lookup = i64 != 0;
    i64 = q.draft_max;
    if ((st = get_int(s, "draft_max", 0, 64, &i64, err))) return st;
    q.draft_max = (int)i64;
    for (int w = 0; w < 2; w++) {
        const char *key = w ? "cache_type_v" : "cache_type_k";
        if (!(v = hearth_settings_get(s, key, NULL)) || !*v) continue;
        hearth_error e2 = {0};
        if (hearth_cache_type_parse(v, w, w ? &q.cache_type_v : &q.cache_type_k, &e2))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "setting '%s': %s", key, e2.msg);
    }
    i64 = q.max_context;
    if ((st = get_int(s, "max_context", 64, MAX_CONTEXT_LIMIT, &i64, err))) return st;
    q.max_context = (int)i64;
    i64 = q.n_threads;
    if ((st = get_int(s, "threads", 0, 1024, &i64, err))) return st;
    q.n_threads = (int)i64;
    {
        /* battery policy: on battery, fewer threads (util/power.h) */
        hearth_power_policy pol;
        if ((st = hearth_power_policy_from_settings(s, &pol, err))) return st;
        if (pol.enabled) {
            hearth_power_state ps;
            hearth_power_read(NULL, &ps);
            long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
            int normal = q.n_threads > 0 ? q.n_threads : (ncpu > 0 ? (int)ncpu : 1);
            hearth_power_decision d = hearth_power_decide(&ps, &pol, normal);
            if (d.on_battery) q.n_threads = d.threads;
        }
    }
    i64 = q.top_k;
    if ((st = get_int(s, "top_k", 0, 1 << 20, &i64, err))) return st;
    q.top_k = (int)i64;
    i64 = q.max_tokens;
    if ((st = get_int(s, "max_tokens", 1, MAX_CONTEXT_LIMIT, &i64, err))) return st;
    q.max_tokens = (int)i64;
    i64 = q.seed;
    if ((st = get_int(s, "seed", -1, INT64_MAX, &i64, err))) return st;
    q.seed = i64;
    i64 = q.use_cache;
    if ((st = get_int(s, "cache", 0, 1, &i64, err))) return st;
    q.use_cache = i64 != 0;
    if ((st = get_float(s, "temp", 0.0, 100.0, &q.temperature, err))) return st;
    if ((st = get_float(s, "top_p", 0.0, 1.0, &q.top_p, err))) return st;
    if ((st = get_float(s, "min_p", 0.0, 1.0, &q.min_p, err))) return st;
    if ((st = get_float(s, "repeat_penalty", 0.01, 100.0, &q.repeat_penalty, err))) return st;
    if ((v = hearth_settings_get(s, "cloud_url", NULL)) && *v) q.cloud_url = v;
    if ((v = hearth_settings_get(s, "cloud_model", NULL)) && *v) q.cloud_model = v;
    if ((v = hearth_settings_get(s, "cloud_api_key", NULL)) && *v) q.cloud_api_key = v;
    if ((v = hearth_settings_get(s, "cloud_ca_file", NULL)) && *v) q.cloud_ca_file = v;
    i64 = q.cloud_timeout_ms;
    if ((st = get_int(s, "cloud_timeout_ms", 0, 3600000, &i64, err))) return st;
    q.cloud_timeout_ms = (int)i64;
    float thr = (float)q.confidence_threshold;
    if ((st = get_float(s, "confidence_threshold", 0.0, 1.0, &thr, err))) return st;
    q.confidence_threshold = thr;
    i64 = q.audit_content;
    if ((st = get_int(s, "audit_content", 0, 1, &i64, err))) return st;
    q.audit_content = i64 != 0;
    i64 = q.kv_cache_bytes >> 20;
    if ((st = get_int(s, "kv_cache_mb", 0, (int64_t)1 << 30, &i64, err))) return st;
    q.kv_cache_bytes = i64 << 20;
    q.policy_settings = s;
    *p = q;
    return HEARTH_OK;
}

hearth_agent_request hearth_agent_default_request_from(const hearth_agent_params *p) {
    hearth_agent_params d = hearth_agent_default_params();
    if (!p) p = &d;
    return (hearth_agent_request){
        .temperature = p->temperature,
        .top_p = p->top_p,
        .top_k = p->top_k,
        .min_p = p->min_p,
        .max_tokens = p->max_tokens,
        .seed = p->seed,
        .repeat_penalty = p->repeat_penalty > 0 ? p->repeat_penalty : 1.0f,
        .parallel_tool_calls = true,
    };
}
