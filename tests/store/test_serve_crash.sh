#!/usr/bin/env bash
# test_serve_crash.sh: the repro of "acknowledged writes are lost when a
# process opens the store more than once" with the real programs: `hearth
# serve --slots 4` (one store handle per slot) answers chat requests in a
# session with 200 while `hearth history` (another process) opens and closes
# the same store in between; then the server is killed with SIGKILL. Every
# answered request's messages must be in the store afterwards, and the -wal
# the server writes must never be an unlinked file.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
command -v curl >/dev/null || { echo "curl missing" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-serve-crash-XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 1024 --seed 3 -o "$model" >/dev/null

"$HEARTH_BIN" serve --port 0 -m "$model" -c 1024 --slots 4 >"$work/out" 2>"$work/err" &
PID=$!
serve_port "$PID" "$work/out" "$work/err"
serve_healthy "$work/err"
base="http://127.0.0.1:$PORT"

deleted_wal() { # how many of the server's fds point at an unlinked -wal
    local n=0 f
    for f in /proc/"$PID"/fd/*; do
        case "$(readlink "$f" 2>/dev/null)" in *hearth.db-wal*"(deleted)"*) n=$((n + 1)) ;; esac
    done
    echo "$n"
}

questions=("First question" "Second question" "Third question" "Fourth question")
for q in "${questions[@]}"; do
    code=$(curl -s -o "$work/resp.json" -w '%{http_code}' "$base/v1/chat/completions" \
        -d '{"model":"tiny-chat","session":"crash","max_tokens":4,"temperature":0,"messages":[{"role":"user","content":"'"$q"'"}]}')
    [ "$code" = 200 ] || fail "chat '$q': $code $(cat "$work/resp.json")"
    # another process opens and closes the store while the server runs
    "$HEARTH_BIN" history --session crash >/dev/null || fail "hearth history"
    [ "$(deleted_wal)" = 0 ] || fail "after '$q' the server writes into an unlinked -wal"
done

kill -9 "$PID"
wait "$PID" 2>/dev/null || true
PID=

out=$("$HEARTH_BIN" history --session crash --json) || fail "history after the kill"
for q in "${questions[@]}"; do
    grep -qF "\"content\":\"$q\"" <<<"$out" || fail "acknowledged message '$q' lost after SIGKILL: $out"
done
n=$(grep -o '"role":"assistant"' <<<"$out" | wc -l)
[ "$n" -eq ${#questions[@]} ] || fail "$n answers stored, want ${#questions[@]}: $out"
echo "all ${#questions[@]} acknowledged exchanges present after SIGKILL" >&2
