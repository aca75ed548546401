#!/usr/bin/env bash
# test_cli.sh: `hearth tasks`, `hearth storage` and `hearth history` against
# a store in a temporary HEARTH_HOME: output, filters, exit codes, --json,
# --help, file permissions (tightened when left wide), and refusal of a
# database from a newer hearth or with a negative schema version.
set -u
: "${HEARTH_BIN:?HEARTH_BIN must name the hearth binary}"
HOME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hearth-cli-XXXXXX")
trap 'rm -rf "$HOME_DIR"' EXIT
export HEARTH_HOME="$HOME_DIR/data"
DB="$HEARTH_HOME/hearth.db"
H() { "$HEARTH_BIN" "$@"; }

fails=0
checks=0
ok() { # ok DESCRIPTION CONDITION...
    local what=$1; shift
    checks=$((checks + 1))
    if ! "$@"; then echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" <<<"$1"; }
hasnt() { ! grep -qF -- "$2" <<<"$1"; }
eq() { [ "$1" = "$2" ] || { echo "  got '$1', expected '$2'" >&2; return 1; }; }

# --- help for each command ---
for c in tasks storage history; do
    out=$(H "$c" --help); rc=$?
    ok "$c --help exits 0" eq "$rc" 0
    ok "$c --help shows usage" has "$out" "usage: hearth $c"
done
ok "no store created by --help" test ! -e "$HEARTH_HOME"

# --- tasks add ---
id1=$(H tasks add buy oat milk --tag home --tag weekend --due 2026-12-01 --priority high)
ok "add prints id 1" eq "$id1" 1
ok "data dir is private" eq "$(stat -c %a "$HEARTH_HOME")" 700
ok "database file is private" eq "$(stat -c %a "$DB")" 600
id2=$(H tasks add "write report" --notes "Q3 numbers" --tag work --priority 2 --due 2026-11-20T09:30 --payload '{"pages":12}')
ok "add prints id 2" eq "$id2" 2
id3=$(H tasks add call mum)
ok "add prints id 3" eq "$id3" 3
out=$(H tasks add --json "json task" --tag x)
ok "add --json prints the task" has "$out" '"title":"json task"'
ok "add --json has tags" has "$out" '"tags":["x"]'
H tasks rm 4 >/dev/null
out=$(H tasks add --json --tag t -- -5 degrees --tag)
ok "-- ends the options" has "$out" '"title":"-5 degrees --tag","notes":""'
H tasks rm 5 >/dev/null

# --- tasks list and filters ---
out=$(H tasks list)
ok "list shows all three" eq "$(wc -l <<<"$out")" 3
ok "list: most urgent first" eq "$(head -1 <<<"$out" | awk '{print $1}')" 1
ok "list shows tags" has "$out" "#weekend"
ok "list shows due date" has "$out" "2026-12-01"
out=$(H tasks list --tag work)
ok "--tag work" eq "$(awk '{print $1}' <<<"$out")" 2
out=$(H tasks list --priority 2)
ok "--priority 2" eq "$(awk '{print $1}' <<<"$out")" 2
out=$(H tasks list --priority high)
ok "--priority high" eq "$(awk '{print $1}' <<<"$out")" 1
out=$(H tasks list --due-before 2026-11-30)
ok "--due-before" eq "$(awk '{print $1}' <<<"$out")" 2
out=$(H tasks list --due-after 2026-11-21)
ok "--due-after" eq "$(awk '{print $1}' <<<"$out")" 1
out=$(H tasks list --due-after=2026-11-01 --due-before=2027-01-01)
ok "due range" eq "$(wc -l <<<"$out")" 2
out=$(H tasks list --search NUMBERS)
ok "--search in notes, any case" eq "$(awk '{print $1}' <<<"$out")" 2
out=$(H tasks list --search mum --json)
ok "--json array" has "$out" '[{"id":3,"title":"call mum"'
ok "--json fields" has "$out" '"status":"open"'
out=$(H tasks list --tag work --json)
ok "--json payload" has "$out" '"payload":{"pages":12}'
ok "--json due with time" has "$out" '"due":"2026-11-20T09:30:00Z"'
out=$(H tasks list --tag nothing --json)
ok "empty --json list" eq "$out" "[]"

# --- done / rm ---
out=$(H tasks done 3); rc=$?
ok "done exits 0" eq "$rc" 0
out=$(H tasks list --status done)
ok "--status done" eq "$(awk '{print $1}' <<<"$out")" 3
out=$(H tasks list --status open)
ok "--status open" eq "$(wc -l <<<"$out")" 2
H tasks rm 1 >/dev/null; rc=$?
ok "rm exits 0" eq "$rc" 0
out=$(H tasks list)
ok "rm removed it" eq "$(wc -l <<<"$out")" 2
err=$(H tasks rm 1 2>&1 >/dev/null); rc=$?
ok "rm unknown id exits 1" eq "$rc" 1
ok "rm unknown id says why" has "$err" "no task with id 1"
H tasks done 99 2>/dev/null; ok "done unknown id exits 1" eq "$?" 1

# --- usage errors exit 2 ---
H tasks 2>/dev/null; ok "no subcommand" eq "$?" 2
H tasks frobnicate 2>/dev/null; ok "unknown subcommand" eq "$?" 2
H tasks add 2>/dev/null; ok "add without title" eq "$?" 2
H tasks add -5 degrees 2>/dev/null; ok "dash title without --" eq "$?" 2
H tasks add x --due tomorrow 2>/dev/null; ok "bad date" eq "$?" 2
H tasks add x --due 2026-02-30 2>/dev/null; ok "impossible date" eq "$?" 2
H tasks add x --priority very 2>/dev/null; ok "bad priority" eq "$?" 2
H tasks list --bogus 2>/dev/null; ok "unknown list option" eq "$?" 2
H tasks done abc 2>/dev/null; ok "bad id" eq "$?" 2
H tasks add x --payload '{bad' 2>/dev/null; ok "bad payload exits 1" eq "$?" 1
H storage --bogus 2>/dev/null; ok "storage unknown option" eq "$?" 2
H history --bogus 2>/dev/null; ok "history unknown option" eq "$?" 2

# --- history ---
out=$(H history --json)
ok "history of an unknown session is []" eq "$out" "[]"
out=$(H history)
ok "history text of an unknown session is empty" eq "$out" ""
if command -v sqlite3 >/dev/null; then
    sqlite3 "$DB" "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('default', 1, 1), ('other', 1, 1);
        INSERT INTO messages(session_id, role, content, created_ms) VALUES
          (1, 'user', 'What is 2+2?', 1700000000000),
          (1, 'assistant', 'It is \"4\" — caf' || char(233) || '.', 1700000001000),
          (2, 'user', 'elsewhere', 1700000002000);
        INSERT INTO response_cache(key, response, created_ms, last_used_ms, tick, size)
          VALUES ('k1', 'cached answer', 1, 1, 1, 15);"
    out=$(H history --json)
    ok "history --json has the user message" has "$out" '{"id":1,"role":"user","content":"What is 2+2?"'
    ok "history --json escapes content" has "$out" '"content":"It is \"4\" — café."'
    ok "history --json has times" has "$out" '"created":"2023-11-14T22:13:20Z"'
    ok "history --json: 2 messages" eq "$(grep -o '"role"' <<<"$out" | wc -l)" 2
    ok "history --json excludes other sessions" hasnt "$out" "elsewhere"
    out=$(H history)
    ok "history text" eq "$(head -1 <<<"$out")" "user: What is 2+2?"
    out=$(H history --session other --json)
    ok "--session other" has "$out" '"content":"elsewhere"'
    out=$(H history --last 1)
    ok "--last 1" eq "$(wc -l <<<"$out")" 1
    ok "--last 1 is the newest" has "$out" "assistant:"
    out=$(H history --sessions)
    ok "--sessions lists both" eq "$(wc -l <<<"$out")" 2

    # --- storage ---
    out=$(H storage --json)
    ok "storage --json has tables" has "$out" '"tasks":{"rows":2,'
    ok "storage --json has messages" has "$out" '"messages":{"rows":3,'
    ok "storage --json has cache" has "$out" '"cache":{"entries":1,"bytes":15}'
    out=$(H storage)
    ok "storage text names the file" has "$out" "$DB"
    ok "storage text has a tasks row" has "$out" "tasks"
    out=$(H storage --clear-cache --json)
    ok "--clear-cache empties it" has "$out" '"cache":{"entries":0,"bytes":0}'
    ok "--clear-cache reports" has "$out" '"cache_entries_cleared":1'
    sqlite3 "$DB" "INSERT INTO settings(key, value) SELECT 'k' || value, zeroblob(4000) FROM generate_series(1, 300);" 2>/dev/null ||
        sqlite3 "$DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                       INSERT INTO settings(key, value) SELECT 'k' || i, hex(zeroblob(2000)) FROM n;"
    sqlite3 "$DB" "DELETE FROM settings;"
    out=$(H storage --vacuum --json)
    ok "--vacuum leaves no free pages" has "$out" '"free_pages":0'
    ok "--vacuum reclaims space" grep -qE '"bytes_reclaimed":[1-9]' <<<"$out"
    out=$(H storage --vacuum)
    ok "--vacuum text" has "$out" "vacuum"

    # --- a database from a newer hearth is refused and left as it is ---
    schema_version=$(sqlite3 "$DB" "PRAGMA user_version;")
    sqlite3 "$DB" "PRAGMA user_version = 999;"
    cp "$DB" "$HOME_DIR/before.db"
    err=$(H tasks list 2>&1); rc=$?
    ok "newer schema: exit 1" eq "$rc" 1
    ok "newer schema: clear message" has "$err" "newer than this hearth supports"
    ok "newer schema: file untouched" cmp -s "$DB" "$HOME_DIR/before.db"
    H storage 2>/dev/null; ok "storage refuses too" eq "$?" 1
    H history 2>/dev/null; ok "history refuses too" eq "$?" 1

    # --- a negative schema version is a corrupt/foreign file, not a newer one ---
    sqlite3 "$DB" "PRAGMA user_version = -1;"
    cp "$DB" "$HOME_DIR/before.db"
    err=$(H tasks list 2>&1); rc=$?
    ok "negative schema: exit 1" eq "$rc" 1
    ok "negative schema: not called newer" hasnt "$err" "newer"
    ok "negative schema: says invalid" has "$err" "invalid schema version -1"
    ok "negative schema: file untouched" cmp -s "$DB" "$HOME_DIR/before.db"

    # --- permissions left wide by an older hearth are tightened on open ---
    sqlite3 "$DB" "PRAGMA user_version = $schema_version;"
    H tasks list >/dev/null
    chmod 0755 "$HEARTH_HOME"
    chmod 0644 "$DB"
    for f in "$DB-wal" "$DB-shm"; do [ -e "$f" ] && chmod 0644 "$f"; done
    H tasks list >/dev/null; ok "tasks list after chmod" eq "$?" 0
    ok "data dir tightened to 700" eq "$(stat -c %a "$HEARTH_HOME")" 700
    ok "database tightened to 600" eq "$(stat -c %a "$DB")" 600
    for f in "$DB-wal" "$DB-shm"; do
        [ -e "$f" ] && ok "$(basename "$f") tightened to 600" eq "$(stat -c %a "$f")" 600
    done
else
    echo "sqlite3 CLI missing (make deps): history/storage checks skipped" >&2
    fails=$((fails + 1))
fi

echo "$checks checks, $fails failures" >&2
[ "$fails" -eq 0 ]
