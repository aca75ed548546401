# test_registry.sh: `hearth models list | show | add | rm | use` and how -m
# resolves: a file path always wins, a name goes through the registry, no
# -m means the registry's default model, else the bundled demo model; tags,
# NAME@VERSION and sha256-<prefix> references; a shared blob survives the rm
# of one of its names; a damaged registry.json is refused and left as it was.
source "$(dirname "$0")/lib.sh"

gen a 1; gen b 2
A=$(sha "$WWW/a.gguf") B=$(sha "$WWW/b.gguf")
[[ $(H models list) == *"no models yet"* ]] || fail "empty list"
# no registry at all: run falls back to the demo model
H run -n 1 --temp 0 -q hi >/dev/null || fail "demo model fallback"
[ ! -e "$HEARTH_HOME/models/registry.json" ] || fail "run created a registry"

out=$(H models add "$WWW/a.gguf"); [[ $out == "added a:latest"* ]] || fail "add: $out"
H models add "$WWW/b.gguf" --name b:q8 >/dev/null
H models add "$WWW/a.gguf" --name alias >/dev/null   # same bytes, second name
[ "$(blobs)" = 2 ] || fail "blobs: $(blobs), expected 2 (content-addressed)"
H models list
H models list --json | python3 -c "
import json,sys; l=json.load(sys.stdin)
assert [m['name'] for m in l]==['a:latest','alias:latest','b:q8'], l
assert l[2]['active']=='$B' and l[2]['size']>0 and l[2]['default'] is False"
H models show b:q8 | grep -q "active:   $B" || fail "show"
H models show nothing 2>/dev/null && fail "show of a missing name"
H models add "$WWW/a.gguf" --name 'bad name' 2>/dev/null && fail "bad name accepted"
H models add "$WWW/a.gguf" --name '../x' 2>/dev/null && fail "'../x' accepted"
ok "add (names, tags, one blob per content), list, show"

# -m: name, tag, hash prefix, version; a path still works
H run -m a -n 1 --temp 0 -q hi >/dev/null || fail "-m a"
H run -m b:q8 -n 1 --temp 0 -q hi >/dev/null || fail "-m b:q8"
H run -m "sha256-${B:0:12}" -n 1 --temp 0 -q hi >/dev/null || fail "-m sha256-prefix"
H run -m "$WWW/b.gguf" -n 1 --temp 0 -q hi >/dev/null || fail "-m PATH"
H run -m b -n 1 --temp 0 -q hi 2>"$TMP/err" && fail "b (= b:latest) resolved"
grep -q "no model named 'b:latest'" "$TMP/err" || fail "message: $(cat "$TMP/err")"
ok "-m NAME[:TAG], sha256-prefix and PATH"

# use: the default for run and serve
H models use b:q8 >/dev/null
H models list | grep "b:q8" | grep -q default || fail "default not shown"
port_file=$TMP/serve.out
"$HEARTH_BIN" serve --port 0 > "$port_file" 2>"$TMP/serve.err" &
spid=$!
for _ in $(seq 100); do grep -q listening "$port_file" && break; sleep 0.1; done
sport=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$port_file")
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$sport/health" >/dev/null 2>&1 && break; sleep 0.1; done
models=$(curl -fsS "http://127.0.0.1:$sport/v1/models")
kill $spid; wait $spid || true
echo "serve: $models"
[[ $models == *"\"id\":\"b:q8\""* ]] || fail "serve did not start on the default model (id b:q8)"
ok "use: the default model for run and serve"

# rm: a blob another name uses stays
H models rm a >/dev/null
[ -f "$HEARTH_HOME/models/blobs/sha256-$A" ] || fail "rm deleted a blob alias uses"
H models rm alias >/dev/null
[ -f "$HEARTH_HOME/models/blobs/sha256-$A" ] && fail "blob of removed names kept"
H models rm b:q8 >/dev/null
H run -n 1 --temp 0 -q hi >/dev/null || fail "after rm of the default: the demo model"
H models rm b:q8 2>/dev/null && fail "rm of a missing name"
ok "rm (shared blobs kept until the last name goes), default cleared"

# a damaged registry.json is refused, not overwritten
H models add "$WWW/a.gguf" >/dev/null
cp "$HEARTH_HOME/models/registry.json" "$TMP/reg.bak"
printf '{"format": 1, "models": {"a:latest": {"active": "zz"' > "$HEARTH_HOME/models/registry.json"
cp "$HEARTH_HOME/models/registry.json" "$TMP/reg.bad"
H models list 2>"$TMP/err" && fail "damaged registry opened"
grep -q "registry.json" "$TMP/err" || fail "message: $(cat "$TMP/err")"
H models add "$WWW/b.gguf" 2>/dev/null && fail "add over a damaged registry"
cmp "$HEARTH_HOME/models/registry.json" "$TMP/reg.bad" || fail "damaged registry rewritten"
echo '{"format": 2, "models": {}}' > "$HEARTH_HOME/models/registry.json"
H models list 2>"$TMP/err" && fail "format 2 opened"
grep -q "format 2 is not 1" "$TMP/err" || fail "message: $(cat "$TMP/err")"
cp "$TMP/reg.bak" "$HEARTH_HOME/models/registry.json"
H models list | grep -q a:latest || fail "restored registry"
ok "damaged or newer registry.json refused and left untouched"
echo "all registry tests passed"
