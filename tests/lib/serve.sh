# serve.sh: sourced by the test scripts that start a real `hearth serve`
# (--port 0: it prints "listening on http://127.0.0.1:PORT" on stdout).
# The caller defines fail MESSAGE (exits non-zero).

# serve_port PID OUT ERR [NAME]: waits up to 60 s until the serve job PID,
# whose stdout goes to OUT and stderr to ERR, has printed its port; sets
# PORT. Fails when the job exits first (with its stderr) or never prints it.
# OUT may not exist yet: the job's redirection can come after the first read.
serve_port() {
    local pid=$1 out=$2 err=$3 name=${4:-hearth serve}
    PORT=
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$out" 2>/dev/null || true)
        [ -n "$PORT" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "$name exited: $(cat "$err")"
        sleep 0.1
    done
    fail "$name did not start"
}

# serve_healthy ERR [NAME]: waits up to 120 s until GET /health on $PORT
# answers 200 (the model is loaded); fails with ERR's text otherwise.
serve_healthy() {
    local err=$1 name=${2:-hearth serve}
    for _ in $(seq 1 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ] && return 0
        sleep 0.1
    done
    fail "$name never became healthy: $(cat "$err")"
}

# sync_server_url PID OUT: waits up to 20 s until the `hearth sync-server`
# job PID, whose stdout and stderr go to OUT, prints "listening on URL";
# sets URL. Fails when the job exits first (with its output) or never prints it.
sync_server_url() {
    local pid=$1 out=$2
    URL=
    for _ in $(seq 1 400); do
        URL=$(sed -n 's/^listening on //p' "$out" 2>/dev/null || true)
        [ -n "$URL" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "sync-server exited: $(cat "$out" 2>/dev/null)"
        sleep 0.05
    done
    fail "sync-server did not start: $(cat "$out" 2>/dev/null)"
}
