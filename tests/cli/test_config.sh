#!/usr/bin/env bash
# test_config.sh: settings as a user sees them. An unknown key in the config
# file ("modle = x") is warned about with its line number and the nearest
# known key (and a far-off one without a guess); `hearth config` shows each
# value with where it came from (flag, HEARTH_* variable, config file line,
# default) and hides API keys; `hearth config --example` is a config file
# hearth reads back without a warning.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-config-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/config"
unset HEARTH_MODEL HEARTH_TEMP HEARTH_THREADS HEARTH_MAX_CONTEXT HEARTH_API_KEY || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$work/tiny.gguf"

printf '# my settings\nmodel = %s\n\nmodle = x\ntemp = 0\nmax_tokns = 3\nzzzqqq = 1\napi_key = s3cret\n' \
    "$work/tiny.gguf" >"$HEARTH_CONFIG"
"$HEARTH_BIN" run "hi" >/dev/null 2>"$work/err"
grep -q "config file '$HEARTH_CONFIG' line 4: unknown key 'modle' (did you mean 'model'?)" "$work/err" \
    || fail "modle: $(cat "$work/err")"
grep -q "line 6: unknown key 'max_tokns' (did you mean 'max_tokens'?)" "$work/err" || fail "max_tokns"
grep -q "line 7: unknown key 'zzzqqq'$" "$work/err" || fail "zzzqqq: $(cat "$work/err")"
[ "$(grep -c 'unknown key' "$work/err")" = 3 ] || fail "known keys warned about: $(cat "$work/err")"
# -q: no warnings
"$HEARTH_BIN" run -q "hi" >/dev/null 2>"$work/err"
[ ! -s "$work/err" ] || fail "-q still warns: $(cat "$work/err")"

# Where each value comes from.
HEARTH_THREADS=2 "$HEARTH_BIN" config --ctx-size 1024 >"$work/cfg" 2>"$work/cfg.err"
cat "$work/cfg"
grep -Eq '^temp +=  *0 +# config file line 5$' "$work/cfg" || fail "temp from the file"
grep -Eq '^threads +=  *2 +# HEARTH_THREADS$' "$work/cfg" || fail "threads from the environment"
grep -Eq '^max_context +=  *1024 +# flag$' "$work/cfg" || fail "max_context from a flag"
grep -Eq '^top_k +=  *40 +# default$' "$work/cfg" || fail "top_k default"
grep -Eq '^embed_model +=  +# not set$' "$work/cfg" || fail "embed_model not set"
grep -q 's3cret' "$work/cfg" && fail "the API key is shown"
grep -Eq '^api_key +=  *\(set, not shown\)' "$work/cfg" || fail "api_key hidden"
grep -q "unknown key 'modle'" "$work/cfg.err" || fail "hearth config does not warn"

# --example: every known key, commented; read back, no warning and no error.
"$HEARTH_BIN" config --example >"$work/example"
grep -q '^#model = $' "$work/example" || fail "example lacks model"
grep -q '^#max_context = 4096$' "$work/example" || fail "example lacks max_context"
sed -n 's/^#\([a-z_]*\) = \(..*\)$/\1 = \2/p' "$work/example" >"$HEARTH_CONFIG"
[ "$(wc -l <"$HEARTH_CONFIG")" -gt 20 ] || fail "few example values"
"$HEARTH_BIN" config >/dev/null 2>"$work/err" || fail "the example's values do not load: $(cat "$work/err")"
[ ! -s "$work/err" ] || fail "the example's keys warn: $(cat "$work/err")"
echo ok
