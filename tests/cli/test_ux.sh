#!/usr/bin/env bash
# test_ux.sh: the CLI's manners. A mistyped command or flag gets "did you
# mean" (a non-zero exit status; 2 for a command); a one-shot `hearth run` question stands alone, so
# asking it again greedily is answered from the cache, shown on a terminal as
# a dim "(cached)" (plain with NO_COLOR, absent on a pipe); --session NAME
# continues that session; the bash completion script (generated from the
# command table) completes commands and a command's flags; a missing or bad
# model file is reported once, without doubled paths or function names; a
# large model file shows a progress line while loading, on a terminal only.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-ux-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_TEMP NO_COLOR || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$work/tiny.gguf"

rc=0; "$HEARTH_BIN" rnu x 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "unknown command 'rnu' (did you mean 'hearth run'?)" "$work/err" || fail "command: $(cat "$work/err")"
rc=0; "$HEARTH_BIN" run --sesion a x 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "unknown option '--sesion' (did you mean '--session'?" "$work/err" || fail "flag: $(cat "$work/err")"
rc=0; "$HEARTH_BIN" serve --prot 1 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "did you mean '--port'?" "$work/err" || fail "serve flag: $(cat "$work/err")"
rc=0; "$HEARTH_BIN" run --zzzzzzzz x 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] && ! grep -q "did you mean" "$work/err" || fail "a far-off flag got a guess: $(cat "$work/err")"

# One-shot questions stand alone: the second identical greedy one is a cache
# hit, though both are recorded in session "default".
m=(-m "$work/tiny.gguf" -n 4 --temp 0)
"$HEARTH_BIN" run "${m[@]}" --json "What is 2+2?" | grep -q '"source":"local"' || fail "first answer"
"$HEARTH_BIN" run "${m[@]}" --json "Something else?" >/dev/null
"$HEARTH_BIN" run "${m[@]}" --json "What is 2+2?" | grep -q '"source":"cache"' || fail "repeat is not cached"
[ "$("$HEARTH_BIN" history --json | grep -o '"role": *"user"' | wc -l)" = 3 ] || fail "one-shots not recorded"
# --session: the history is the context (so the same question is not a hit)
"$HEARTH_BIN" run "${m[@]}" --session t "What is 2+2?" >/dev/null
"$HEARTH_BIN" run "${m[@]}" --session t --json "What is 2+2?" | grep -q '"source":"local"' || fail "--session ignored its history"

# "(cached)": dim on a terminal, plain with NO_COLOR, absent on a pipe.
"$HEARTH_BIN" run "${m[@]}" "What is 2+2?" >"$work/pipe.out"
grep -q 'cached' "$work/pipe.out" && fail "(cached) on a pipe"
if script --version >/dev/null 2>&1; then
    { echo '#!/bin/bash'; printf '%q ' "$HEARTH_BIN" run "${m[@]}" "What is 2+2?"; echo; } >"$work/cmd.sh"
    chmod +x "$work/cmd.sh"
    script -qec "$work/cmd.sh" /dev/null >"$work/tty.out" </dev/null
    grep -q $'\033\[2m(cached)\033\[0m' "$work/tty.out" || fail "no dim (cached) on a terminal: $(od -c "$work/tty.out" | tail -4)"
    NO_COLOR=1 script -qec "$work/cmd.sh" /dev/null >"$work/tty.out" </dev/null
    grep -q '(cached)' "$work/tty.out" || fail "no (cached) with NO_COLOR"
    grep -q $'\033' "$work/tty.out" && fail "color with NO_COLOR"
fi

# A large model file gets a progress line while it loads, on a terminal only
# (a sparse 300 MiB file: read quickly, then refused as not GGUF).
truncate -s 300M "$work/big.gguf"
"$HEARTH_BIN" run -m "$work/big.gguf" "hi" >/dev/null 2>"$work/err" || true
grep -q 'loading' "$work/err" && fail "progress on a pipe"
if script --version >/dev/null 2>&1; then
    { echo '#!/bin/bash'; printf '%q ' "$HEARTH_BIN" run -m "$work/big.gguf" "hi"; echo; } >"$work/big.sh"
    chmod +x "$work/big.sh"
    script -qec "$work/big.sh" /dev/null >"$work/tty.out" </dev/null || true
    grep -q 'loading big.gguf \[#*\] 100% of 0.3 GiB' "$work/tty.out" || fail "no progress on a terminal: $(od -c "$work/tty.out" | tail -5)"
fi
rm -f "$work/big.gguf"

# bash completion from the command table.
"$HEARTH_BIN" completion bash >"$work/hearth.bash"
bash -c '
source "$1"
COMP_WORDS=(hearth ru); COMP_CWORD=1; _hearth
[[ " ${COMPREPLY[*]} " == *" run "* ]] || { echo "commands: ${COMPREPLY[*]}"; exit 1; }
COMP_WORDS=(hearth run --ses); COMP_CWORD=2; _hearth
[ "${COMPREPLY[*]}" = "--session" ] || { echo "run flags: ${COMPREPLY[*]}"; exit 1; }
COMP_WORDS=(hearth serve --po); COMP_CWORD=2; _hearth
[ "${COMPREPLY[*]}" = "--port" ] || { echo "serve flags: ${COMPREPLY[*]}"; exit 1; }
COMP_WORDS=(hearth completion ""); COMP_CWORD=2; _hearth
[ "${COMPREPLY[*]}" = "bash zsh" ] || { echo "completion: ${COMPREPLY[*]}"; exit 1; }
' bash "$work/hearth.bash" || fail "bash completion"
"$HEARTH_BIN" completion zsh >"$work/_hearth"
grep -q '^#compdef hearth' "$work/_hearth" || fail "zsh script"
grep -q "'run:" "$work/_hearth" || fail "zsh script lacks run"
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$work/_hearth" || fail "zsh syntax"
    mkdir "$work/zfunc" && cp "$work/_hearth" "$work/zfunc/"
    [ "$(zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2"; print -r -- ${_comps[hearth]}' \
         zsh "$work/zfunc" "$work/zcompdump")" = _hearth ] || fail "zsh compinit does not register _hearth"
fi

# Errors name a file once and no internal function.
rc=0; "$HEARTH_BIN" run -m "$work/missing.gguf" "hi" 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] || fail "missing model accepted"
cat "$work/err"
[ "$(grep -o "$work/missing.gguf" "$work/err" | wc -l)" = 1 ] || fail "missing model: path not named exactly once"
! grep -Eq 'hearth_[a-z_]+|[a-z_]+\(\)' "$work/err" || fail "internal names in: $(cat "$work/err")"
printf 'not a gguf file at all' >"$work/bad.gguf"
once() { # FILE CMD...: CMD fails, naming FILE exactly once and no internal function
    local f=$1; shift
    rc=0; "$HEARTH_BIN" "$@" </dev/null >/dev/null 2>"$work/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$*: accepted"
    cat "$work/err"
    [ "$(grep -o "$f" "$work/err" | wc -l)" = 1 ] || fail "$*: $f not named exactly once"
    ! grep -Eq 'hearth_[a-z_]+|[a-z_]+\(\)' "$work/err" || fail "internal names in: $(cat "$work/err")"
}
once "$work/bad.gguf" run -m "$work/bad.gguf" "hi"
once "$work/bad.gguf" run --raw -m "$work/bad.gguf" -p "hi"
once "$work/bad.gguf" tokenize -m "$work/bad.gguf" "hi"
once "$work/bad.gguf" bench -m "$work/bad.gguf"
once "$work/bad.gguf" inspect "$work/bad.gguf"
once "$work/missing.gguf" models add "$work/missing.gguf"
once "$work/missing.gguf" run --raw -m "$work/missing.gguf" -p "hi"
echo ok
