#!/usr/bin/env bash
# test_cloud_tls.sh: TLS verification in the cloud client can not be
# skipped. A fault_server.py over https with a self-signed certificate made
# here by `openssl req`: without a CA file the call fails in the "tls"
# category (and is not retried); with cloud_ca_file pointing at the
# certificate it succeeds; a URL whose host is not in the certificate fails
# even with the CA file. The C side is router_cloud's "tls" mode.
# Skips (77) without the openssl CLI.
set -euo pipefail
: "${HEARTH_SOURCE_DIR:?}" "${HEARTH_BUILD_DIR:?}"
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI"; exit 77; }
work=$(mktemp -d /tmp/hearth-cloud-tls-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>"$work/openssl.err" ||
    fail "openssl req: $(cat "$work/openssl.err")"

: >"$work/port" # the background redirect below may open it only later
python3 "$HEARTH_SOURCE_DIR/tests/router/fault_server.py" --tls "$work/cert.pem" "$work/key.pem" \
    >"$work/port" 2>"$work/server.err" &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(head -n1 "$work/port" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "fault server exited: $(cat "$work/server.err")"
    sleep 0.1
done
[ -n "$port" ] || fail "fault server did not start"

# localhost resolves to loopback but is not in the certificate (IP SAN only).
CLOUD_URL="https://127.0.0.1:$port/ok/v1" CLOUD_CA="$work/cert.pem" \
CLOUD_URL_WRONG_HOST="https://localhost:$port/ok/v1" \
    timeout 120 "$HEARTH_BUILD_DIR/router_cloud" tls || fail "TLS checks"
echo ok
