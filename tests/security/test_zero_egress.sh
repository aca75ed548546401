#!/usr/bin/env bash
# test_zero_egress.sh: in local-only mode hearth opens no network connection.
# `hearth run` (with and without the sandbox), `hearth chat` (scripted on
# stdin) and `hearth serve` (answering chat, completion and embedding
# requests) run under strace -f, tracing socket, socketpair, connect,
# sendto, sendmsg and bind. The test fails if any of them creates a socket
# other than AF_UNIX, except the server's own listener, which must be bound
# to loopback, or connects or sends anywhere but a unix socket.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}"
command -v strace >/dev/null || { echo "SKIP: no strace (make deps installs it)"; exit 77; }
strace -f -o /dev/null true 2>/dev/null || { echo "SKIP: strace cannot trace here"; exit 77; }
work=$(mktemp -d /tmp/hearth-egress-XXXXXX)
pids=()
cleanup() {
    # strace's tracee first: killing strace alone leaves it running
    for p in "${pids[@]}"; do pkill -9 -P "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_SANDBOX
trace="socket,socketpair,connect,sendto,sendmsg,sendmmsg,bind"
# LeakSanitizer can not run under ptrace (strace): off for the traced runs
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# check NAME LOG [LISTENERS]: no non-unix socket beyond LISTENERS (default
# 0), each listener bound to 127.0.0.1 or ::1, no connect/send off the box.
check() {
    local name=$1 log=$2 listeners=${3:-0}
    local inet
    inet=$(grep -E 'socket(pair)?\((AF_INET|AF_INET6|AF_PACKET|AF_NETLINK)' "$log" | grep -v ' = -1 ' || true)
    local n
    n=$(printf '%s' "$inet" | grep -c . || true)
    [ "$n" -le "$listeners" ] || fail "$name created $n network sockets (allowed $listeners):
$inet"
    if grep -E 'socket(pair)?\((AF_INET|AF_INET6|AF_PACKET)' "$log" | grep -q ' = -1 '; then
        fail "$name tried to create a network socket: $(grep -E 'socket\(AF_INET' "$log" | head -3)"
    fi
    local bad
    bad=$(grep -E '(connect|sendto|sendmsg|sendmmsg)\(' "$log" | grep -E 'AF_INET|AF_INET6|sin_addr|sin6_addr' || true)
    [ -z "$bad" ] || fail "$name connected or sent off the device:
$bad"
    if [ "$listeners" -gt 0 ]; then
        grep -E 'bind\(' "$log" | grep -E 'AF_INET' | grep -vE 'inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"' \
            && fail "$name bound a listener outside loopback"
        grep -qE 'bind\(.*inet_addr\("127\.0\.0\.1"\)' "$log" || fail "$name: no loopback listener seen"
    fi
    echo "$name: no egress ($n listener socket(s))"
}

# run, sandboxed (the default) and not
for sb in --sandbox --no-sandbox; do
    out=$(strace -f -qq -e trace=$trace -o "$work/run$sb.log" "$HEARTH_BIN" run $sb "What is 2+2?")
    [ "$out" = "2 + 2 = 4." ] || fail "run $sb answered '$out'"
    check "run $sb" "$work/run$sb.log"
done

# chat, scripted
out=$(printf 'What is 3+4?\n/history\n/quit\n' | strace -f -qq -e trace=$trace -o "$work/chat.log" "$HEARTH_BIN" chat --session egress)
echo "$out" | grep -q "3 + 4 = 7" || fail "chat answered '$out'"
check chat "$work/chat.log"

# serve, with requests
: >"$work/serve.out" # before the loop reads it: the job's redirection may come late
strace -f -qq -e trace=$trace -o "$work/serve.log" "$HEARTH_BIN" serve --port 0 >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
serve_port "${pids[-1]}" "$work/serve.out" "$work/serve.err"
serve_healthy "$work/serve.err"
base="http://127.0.0.1:$PORT"
m=$(curl -sf "$base/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
curl -sf "$base/v1/chat/completions" -d '{"model":"'"$m"'","messages":[{"role":"user","content":"What is 5+1?"}],"temperature":0,"session":"egress"}' | grep -q '5 + 1 = 6' || fail "serve chat"
curl -sf "$base/v1/chat/completions" -d '{"model":"'"$m"'","messages":[{"role":"user","content":"Who wrote Hamlet?"}],"stream":true}' | grep -q 'data: \[DONE\]' || fail "serve stream"
curl -sf "$base/v1/completions" -d '{"model":"'"$m"'","prompt":"Hello","max_tokens":4}' | grep -q '"text"' || fail "serve completions"
curl -sf "$base/v1/embeddings" -d '{"model":"'"$m"'","input":"hello","encoding_format":"float"}' | grep -q '"embedding"' || fail "serve embeddings"
# graceful stop of the server (strace's child), then strace ends with it
pkill -TERM -P "${pids[0]}" || true
for _ in $(seq 1 200); do kill -0 "${pids[0]}" 2>/dev/null || break; sleep 0.1; done
kill -0 "${pids[0]}" 2>/dev/null && fail "serve did not stop on SIGTERM"
wait "${pids[0]}" 2>/dev/null || true
check serve "$work/serve.log" 1
echo ok
