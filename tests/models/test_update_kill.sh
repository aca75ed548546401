# test_update_kill.sh: SIGKILL at random moments of `hearth models update`
# (manifest fetch, download, hash, smoke test, the registry write), several
# iterations, each from the same starting state (v1 active, a signed
# manifest naming v2). After every kill: the registry opens, the active
# version is v1 or v2, its blob is complete (its SHA-256 is its name) and
# the model loads; a following update completes to v2.
source "$(dirname "$0")/lib.sh"

gen v1 1; gen v2 2
V1=$(sha "$WWW/v1.gguf") V2=$(sha "$WWW/v2.gguf")
S2=$(size "$WWW/v2.gguf")
start_server
# The download takes a while (~0.5 s), so kills land in every phase.
faults "{\"/v2.gguf\": {\"rate\": $((S2 * 2))}}"
H pull -q "$URL/v1.gguf" --name tiny --channel "$URL/tiny.json" >/dev/null
manifest tiny 2 v2.gguf
cp -a "$HEARTH_HOME" "$TMP/home0"

# One uninterrupted run gives the span to draw kill moments from (not a check).
t0=$(date +%s%N); H models update tiny -q >/dev/null; t1=$(date +%s%N)
span_ms=$(( (t1 - t0) / 1000000 + 50 ))
echo "one update: $(( (t1 - t0) / 1000000 )) ms; killing at random in [0, $span_ms) ms"

N=${KILL_ITERATIONS:-12}
old=0 new=0
RANDOM=4242
for i in $(seq "$N"); do
    rm -rf "$HEARTH_HOME"; cp -a "$TMP/home0" "$HEARTH_HOME"
    curl -fsS "$URL/_reset" >/dev/null
    delay=$(( RANDOM % span_ms ))
    "$HEARTH_BIN" models update tiny -q >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    json=$(H models show tiny --json) || fail "iteration $i (kill at $delay ms): the registry does not open"
    a=$(echo "$json" | python3 -c "import json,sys; print(json.load(sys.stdin)['active'])")
    [ "$a" = "$V1" ] || [ "$a" = "$V2" ] || fail "iteration $i: active is $a"
    blob="$HEARTH_HOME/models/blobs/sha256-$a"
    [ "$(sha "$blob")" = "$a" ] || fail "iteration $i: the active blob is damaged"
    H run -m tiny -n 2 --temp 0 -q hi >/dev/null || fail "iteration $i: the model does not load"
    if [ "$a" = "$V1" ]; then old=$((old + 1)); else new=$((new + 1)); fi
    H models update tiny -q >/dev/null || fail "iteration $i: the update after the kill fails"
    [ "$(active tiny)" = "$V2" ] || fail "iteration $i: not on v2 after the follow-up update"
    # bytes of v2 sent twice: what the killed run received but did not keep
    sent=$(served /v2.gguf body_bytes)
    extra=$(( sent > S2 ? sent - S2 : 0 ))
    [ "$a" = "$V2" ] && extra=0
    redl=$(( ${redl:-0} + extra ))
    echo "iteration $i: killed at $delay ms -> $([ "$a" = "$V1" ] && echo old || echo new) version active; follow-up update ok; v2 bytes sent $sent of $S2 (+$extra)"
done
ok "$N kills: registry opens and the model loads every time ($old left v1 active, $new had switched); $redl bytes re-downloaded in all"
