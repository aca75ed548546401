#!/bin/bash
# test_offline.sh: "What is 2+2?" is answered by `hearth chat` with no network
# at all (a fresh network namespace: `unshare -rn`; where that is not
# permitted, a preloaded shim makes every socket() fail), and the exchange is
# stored: a second, ordinary run lists it with /history.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
tmp=$(mktemp -d /tmp/hearth-offline-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HEARTH_HOME="$tmp/home" HEARTH_CONFIG="$tmp/no-config"
unset HEARTH_MODEL HEARTH_MAX_CONTEXT HEARTH_THREADS HEARTH_SYSTEM_PROMPT || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$tmp/tiny.gguf"
args=(-m "$tmp/tiny.gguf" --session offline -n 8 --temp 0 -t 1)

if unshare -rn true 2>/dev/null; then
    offline=(unshare -rn)
    # Inside, there is no interface but loopback.
    [ "$(unshare -rn grep -c : /proc/net/dev)" = 1 ]
else
    cat > "$tmp/nosock.c" <<'C'
#include <errno.h>
int socket(int d, int t, int p) { (void)d; (void)t; (void)p; errno = EACCES; return -1; }
C
    cc -shared -fPIC -o "$tmp/nosock.so" "$tmp/nosock.c"
    offline=(env LD_PRELOAD="$tmp/nosock.so")
fi

out=$(echo "What is 2+2?" | "${offline[@]}" "$HEARTH_BIN" chat "${args[@]}")
echo "answer: $out"

hist=$(printf '/history\n/quit\n' | "$HEARTH_BIN" chat "${args[@]}")
echo "$hist"
grep -qx "user: What is 2+2?" <<<"$hist"
[ "$(grep -c '^assistant: ' <<<"$hist")" = 1 ]
[ "$(grep -c '^user: ' <<<"$hist")" = 1 ]

# /reset empties it.
hist=$(printf '/reset\n/history\n' | "$HEARTH_BIN" chat "${args[@]}")
grep -q "no messages in session 'offline'" <<<"$hist"
echo ok
