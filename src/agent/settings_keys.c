/*
 * settings_keys.c: the table of settings hearth knows (key, example value,
 * one line of help), for the config file's unknown-key warning (with the
 * nearest known key by edit distance), `hearth config` and
 * `hearth config --example`. The table is immutable.
 */
#include "hearth.h"

#include <stddef.h>
#include <string.h>

#define POLICY_HELP "one category's rule in hybrid mode: allow, ask or never"

static const hearth_setting_info keys[] = {
    /* the model and where data lives */
    {"model", NULL, "GGUF file or registry name of the chat model (default: the bundled demo model)"},
    {"embed_model", NULL, "GGUF file or registry name for embeddings (default: the chat model)"},
    {"home", NULL, "data directory: store, cache, models (default ~/.local/share/hearth)"},
    {"system_prompt", NULL, "system prompt for hearth run and hearth chat"},
    {"draft_model", NULL, "GGUF file or registry name of a draft model (same vocabulary): speculative decoding"},
    {"lookup", "0", "1: speculative decoding with drafts from the conversation's own n-grams"},
    {"draft_max", "16", "most tokens drafted per speculative step"},
    /* generation */
    {"max_context", "4096", "context window in tokens"},
    {"threads", "0", "threads (0: physical cores)"},
    {"cache_type_k", "f16", "KV cache type of keys: f16, q8_0 (half the memory) or f32"},
    {"cache_type_v", "f16", "KV cache type of values: f16, q8_0, q4_0 (a quarter) or f32"},
    {"max_tokens", "512", "answer length limit in tokens"},
    {"temp", "0.8", "temperature (0: greedy, answers cached)"},
    {"top_k", "40", "top-k sampling"},
    {"top_p", "0.95", "top-p sampling"},
    {"min_p", "0.05", "min-p sampling"},
    {"repeat_penalty", "1", "repeat penalty (1: off)"},
    {"seed", "-1", "sampling seed (-1: random)"},
    {"think", "hide", "show or hide a model's <think> blocks (Qwen3) in answers"},
    {"tool_steps", "4", "most model -> tool -> model rounds of one answer with --tools"},
    /* the response cache */
    {"cache", "1", "use the response cache for greedy answers (0: off)"},
    {"cache_max_entries", "10000", "most cached answers"},
    {"cache_max_bytes", "67108864", "most bytes of cached answers"},
    {"kv_cache_mb", "1024", "most MB of saved session states in HOME/kv (0: off)"},
    /* hearth serve */
    {"host", "127.0.0.1", "address hearth serve listens on"},
    {"port", "8080", "port hearth serve listens on"},
    {"api_key", NULL, "key clients must send (Authorization: Bearer KEY)"},
    {"allow_host", NULL, "extra Host names hearth serve answers (comma-separated)"},
    {"cors_origin", NULL, "origins allowed to call hearth serve from a browser"},
    {"web_dir", NULL, "the browser build hearth serve serves under /web/"},
    {"max_body", NULL, "largest request body in bytes"},
    {"max_queue", NULL, "most requests in flight"},
    {"slots", NULL, "generations batched together"},
    {"max_client_conns", NULL, "most connections from one client address"},
    {"request_timeout", NULL, "seconds a client may take to send its request"},
    {"security_log", "0", "1: log rejected requests to HOME/security.log"},
    {"update_every", NULL, "how often hearth serve checks for model updates"},
    {"sync_every", NULL, "seconds between background syncs in hearth serve (0: off)"},
    /* privacy, the cloud and the router */
    {"sandbox", "1", "seccomp sandbox for run and chat once the model is loaded"},
    {"policy", "local-only", "local-only, or hybrid (the cloud may answer what the local model is unsure of)"},
    {"policy_general", NULL, POLICY_HELP},
    {"policy_health", NULL, POLICY_HELP},
    {"policy_finance", NULL, POLICY_HELP},
    {"policy_personal", NULL, POLICY_HELP},
    {"policy_work", NULL, POLICY_HELP},
    {"policy_credentials", NULL, POLICY_HELP},
    {"policy_pull", NULL, "allow or never: downloads of models"},
    {"policy_update", NULL, "allow or never: background model updates"},
    {"policy_sync", NULL, "allow or never: sync with a sync server"},
    {"confidence_threshold", "0.5", "below this confidence the router may ask the cloud"},
    {"cloud_url", NULL, "OpenAI-compatible cloud endpoint (none: local only)"},
    {"cloud_model", NULL, "model name at the cloud endpoint"},
    {"cloud_api_key", NULL, "key for the cloud endpoint"},
    {"cloud_ca_file", NULL, "CA bundle for the cloud endpoint"},
    {"cloud_timeout_ms", "60000", "cloud request timeout"},
    {"redact_terms", NULL, "extra terms replaced by placeholders before anything is sent"},
    {"audit_content", "0", "1: keep what was sent in the audit log"},
    /* models: registry, signatures, quotas, battery */
    {"require_signature", "0", "1: refuse models without a trusted signature"},
    {"trusted_keys", NULL, "directory of trusted signing keys (default HOME/trusted-keys)"},
    {"download_ca_file", NULL, "CA bundle for model downloads"},
    {"download_retries", NULL, "retries of a failed download"},
    {"download_stall_timeout", NULL, "seconds without progress before a download is retried"},
    {"models_quota_mb", "0", "most MB of installed models (0: no quota)"},
    {"cache_quota_mb", "0", "most MB of the response cache (0: no quota)"},
    {"battery_policy", "on", "on battery: fewer threads and maybe a smaller model"},
    {"battery_low_percent", "20", "charge below which the battery policy applies"},
    {"battery_threads", "0", "threads on battery (0: half)"},
    {"battery_pick", "on", "on battery: use a smaller installed variant of the model"},
    {"recommend_max_latency_ms", "250", "hearth models recommend: slowest acceptable token"},
    {"device_probe_mb", "256", "memory the device probe touches"},
    /* sync */
    {"sync_timeout_ms", NULL, "sync request timeout"},
};

const hearth_setting_info *hearth_setting_known(size_t i) {
    return i < sizeof keys / sizeof keys[0] ? &keys[i] : NULL;
}

/* Edit distance (insert, delete, substitute, swap of neighbours), capped
 * at 63-byte keys. */
static int distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *hearth_nearest_word(const char *word, const char *const *words, size_t n) {
    const char *best = NULL;
    int bd = 99;
    for (size_t i = 0; i < n; i++) {
        int d = distance(word, words[i]);
        if (d < bd) bd = d, best = words[i];
    }
    /* a guess only when it is close: 1 edit under 4 bytes, 2 up to 8, a
     * third of the word beyond */
    size_t len = strlen(word);
    int limit = len < 4 ? 1 : len <= 8 ? 2 : (int)(len / 3);
    return best && bd <= limit ? best : NULL;
}

const char *hearth_setting_nearest(const char *key) {
    const char *names[sizeof keys / sizeof keys[0]];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) names[i] = keys[i].key;
    return hearth_nearest_word(key, names, sizeof keys / sizeof keys[0]);
}

bool hearth_setting_is_known(const char *key) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].key, key)) return true;
    return false;
}
