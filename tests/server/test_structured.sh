#!/usr/bin/env bash
# test_structured.sh: structured output and log-probabilities through a real
# `hearth serve` on 127.0.0.1 with curl: response_format json_schema (strict
# and not, streamed and not) and json_object on a random-weight model at
# temperature 1, where only the grammar can make the answer valid
# (validated by python3-jsonschema); invalid schemas and unsupported fields
# are 400s naming the problem; logprobs / top_logprobs in chat (streamed and
# not) and logprobs in completions, in OpenAI's shapes (check_structured.py).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
py=/usr/bin/python3
$py -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema missing"; exit 77; }
work=$(mktemp -d /tmp/hearth-structured-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null
id=tiny-chat
: >"$work/out" # exists before sed reads it (set -e)
"$HEARTH_BIN" serve --port 0 -m "$model" -c 2048 --slots 2 >"$work/out" 2>"$work/err" &
pid=$!
serve_port "$pid" "$work/out" "$work/err"
base="http://127.0.0.1:$PORT"
serve_healthy "$work/err"

schema='{"type":"object","properties":{"city":{"type":"string","maxLength":10},"temp":{"type":"integer","minimum":-40,"maximum":50},"unit":{"enum":["c","f"]},"tags":{"type":"array","items":{"type":"string","maxLength":4},"maxItems":2}},"required":["city","temp","unit"],"additionalProperties":false}'
echo "$schema" >"$work/schema.json"
msgs='"messages":[{"role":"user","content":"The weather in Paris as JSON."}]'

# json_schema, not streamed and streamed, strict and not, several seeds
for seed in 1 2 3; do
    strict=$([ $seed = 2 ] && echo false || echo true)
    body='{"model":"'$id'",'"$msgs"',"temperature":1,"top_p":1,"seed":'$seed',"max_tokens":300,"response_format":{"type":"json_schema","json_schema":{"name":"weather","strict":'$strict',"schema":'"$schema"'}}}'
    code=$(curl -s -o "$work/a.json" -w '%{http_code}' "$base/v1/chat/completions" -d "$body")
    [ "$code" = 200 ] || fail "json_schema seed $seed: HTTP $code $(cat "$work/a.json")"
    $py "$here/check_structured.py" chat-schema "$work/a.json" "$work/schema.json" || fail "json_schema seed $seed"
    curl -sN "$base/v1/chat/completions" -d "${body%\}},\"stream\":true}" >"$work/s.txt"
    $py "$here/check_structured.py" stream-schema "$work/s.txt" "$work/schema.json" || fail "streamed json_schema seed $seed"
done
# without the grammar the same model's answer is not even JSON (so the
# checks above are not vacuous)
curl -s "$base/v1/chat/completions" -o "$work/a.json" -d '{"model":"'$id'",'"$msgs"',"temperature":1,"top_p":1,"seed":1,"max_tokens":60}'
if $py "$here/check_structured.py" chat-schema "$work/a.json" "$work/schema.json" 2>/dev/null; then
    fail "an unconstrained answer validated: $(cat "$work/a.json")"
fi
# json_object: any object
echo '{"type":"object"}' >"$work/obj.json"
curl -s "$base/v1/chat/completions" -o "$work/a.json" -d '{"model":"'$id'",'"$msgs"',"temperature":0.7,"seed":5,"max_tokens":400,"response_format":{"type":"json_object"}}'
# (an unbounded object may run out of tokens on a random model: check only a complete one)
if grep -q '"finish_reason": *"stop"' "$work/a.json"; then
    $py "$here/check_structured.py" chat-schema "$work/a.json" "$work/obj.json" || fail "json_object"
fi
# text is the plain default
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" -d '{"model":"'$id'",'"$msgs"',"max_tokens":4,"response_format":{"type":"text"}}')
[ "$code" = 200 ] || fail "response_format text: $code"

# 400s naming the problem
expect400() { # FIELD BODY [PATH]
    local code
    code=$(curl -s -o "$work/e.json" -w '%{http_code}' "$base${3:-/v1/chat/completions}" -d "$2")
    [ "$code" = 400 ] || fail "$1: HTTP $code $(cat "$work/e.json")"
    $py "$here/check_structured.py" error400 "$work/e.json" "$1" || fail "$1: message"
}
rf() { echo '{"model":"'$id'",'"$msgs"',"response_format":'"$1"'}'; }
expect400 "'pattern'" "$(rf '{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"^a"}}}')"
expect400 "points at nothing" "$(rf '{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"#/$defs/nope"}}}')"
expect400 "unknown type" "$(rf '{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"wat"}}}')"
expect400 "no integer" "$(rf '{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"integer","minimum":3,"maximum":1}}}')"
expect400 "response_format.type" "$(rf '{"type":"xml"}')"
expect400 "response_format.json_schema" "$(rf '{"type":"json_schema"}')"
expect400 "'n'" '{"model":"'$id'",'"$msgs"',"n":2}'
expect400 "'audio'" '{"model":"'$id'",'"$msgs"',"audio":{"voice":"alloy","format":"wav"}}'
expect400 "'modalities'" '{"model":"'$id'",'"$msgs"',"modalities":["text","audio"]}'
expect400 "'prediction'" '{"model":"'$id'",'"$msgs"',"prediction":{"type":"content","content":"x"}}'
expect400 "'logit_bias'" '{"model":"'$id'",'"$msgs"',"logit_bias":{"50256":-100}}'
expect400 "'web_search_options'" '{"model":"'$id'",'"$msgs"',"web_search_options":{}}'
expect400 "'top_logprobs'" '{"model":"'$id'",'"$msgs"',"logprobs":true,"top_logprobs":21}'
expect400 "'top_logprobs' needs" '{"model":"'$id'",'"$msgs"',"top_logprobs":2}'
expect400 "'logprobs'" '{"model":"'$id'",'"$msgs"',"logprobs":3}'
expect400 "'echo'" '{"model":"'$id'","prompt":"Hi","echo":true}' /v1/completions
expect400 "'best_of'" '{"model":"'$id'","prompt":"Hi","best_of":3}' /v1/completions
expect400 "'suffix'" '{"model":"'$id'","prompt":"Hi","suffix":"end"}' /v1/completions
expect400 "'response_format'" '{"model":"'$id'","prompt":"Hi","response_format":{"type":"json_object"}}' /v1/completions
# accepted as OpenAI does: modalities ["text"], empty logit_bias, n 1
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" -d '{"model":"'$id'",'"$msgs"',"max_tokens":2,"modalities":["text"],"logit_bias":{},"n":1}')
[ "$code" = 200 ] || fail "plain fields refused: $code"

# logprobs
curl -s "$base/v1/chat/completions" -o "$work/a.json" -d '{"model":"'$id'",'"$msgs"',"max_tokens":12,"seed":4,"logprobs":true,"top_logprobs":3}'
$py "$here/check_structured.py" chat-logprobs "$work/a.json" 3 || fail "chat logprobs"
curl -s "$base/v1/chat/completions" -o "$work/a.json" -d '{"model":"'$id'",'"$msgs"',"max_tokens":6,"seed":4,"logprobs":true}'
$py "$here/check_structured.py" chat-logprobs "$work/a.json" 0 || fail "chat logprobs without top"
curl -sN "$base/v1/chat/completions" -d '{"model":"'$id'",'"$msgs"',"max_tokens":12,"seed":6,"logprobs":true,"top_logprobs":2,"stream":true}' >"$work/s.txt"
$py "$here/check_structured.py" stream-logprobs "$work/s.txt" 2 || fail "streamed chat logprobs"
curl -s "$base/v1/completions" -o "$work/a.json" -d '{"model":"'$id'","prompt":"Once upon","max_tokens":8,"seed":2,"logprobs":2}'
$py "$here/check_structured.py" cmpl-logprobs "$work/a.json" 2 || fail "completion logprobs"
# without logprobs the key is null, as OpenAI sends it
curl -s "$base/v1/chat/completions" -d '{"model":"'$id'",'"$msgs"',"max_tokens":2}' | grep -q '"logprobs": *null' || fail "logprobs not null when not asked"
echo "structured output and logprobs: ok"
