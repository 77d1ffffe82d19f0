#!/usr/bin/env bash
# EST enrollments per second (RSA 2048 and P-256 requests) with many clients at once, and the
# SIP OPTIONS round trip during the burst (bench/est_bench.py does the work). Loopback only,
# bounded in count; stops the ucmd it started, by pid. Not part of CI.
#   bash bench/est.sh                  COUNT=300 CLIENTS=32 by default
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
UCMD=${UCMD:-$root/build/ucmd}
UCMCTL=${UCMCTL:-$root/build/ucmctl}
COUNT=${COUNT:-300}
CLIENTS=${CLIENTS:-32}
W=$(mktemp -d /tmp/ucm-est-bench.XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ADMIN=$(port) SIP=$(port)
pid=""
cleanup() {
	[ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
"$UCMD" --data-dir "$W/data" --log-level warn --admin-listen "127.0.0.1:$ADMIN" \
	--sip-udp-listen "127.0.0.1:$SIP" --sip-tcp-listen "127.0.0.1:$SIP" \
	--sip-tls-listen "127.0.0.1:$(port)" --capf-listen "127.0.0.1:$(port)" \
	--tftp-listen "127.0.0.1:$(port)" --http-listen "127.0.0.1:$(port)" \
	--https-listen "127.0.0.1:$(port)" --tvs-listen "127.0.0.1:$(port)" >"$W/ucmd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	curl -s --cacert "$W/data/pki/ca.crt" "https://127.0.0.1:$ADMIN/api/v1/health" >/dev/null 2>&1 && break
	sleep 0.1
done
printf 'bench-pass-%s\n' "$RANDOM$RANDOM" >"$W/pw"
UCM_SERVER="https://127.0.0.1:$ADMIN" UCM_CA="$W/data/pki/ca.crt" "$UCMCTL" init --data-dir "$W/data" --user admin --password-file "$W/pw" >/dev/null
for key in rsa ec; do
	first=$([ $key = rsa ] && echo 100000 || echo 200000)
	python3 "$root/bench/est_bench.py" "https://127.0.0.1:$ADMIN" "$W/data/pki/ca.crt" admin \
		"$(cat "$W/pw")" "127.0.0.1:$SIP" $key "$COUNT" "$CLIENTS" "$first"
done
