#!/usr/bin/env bash
# Benchmarks ucmd's device-file service against the usual peers, in one run, on loopback only:
#   1. TFTP: the same SEP<MAC>.cnf.xml fetched over and over by CONCURRENCY phones
#      (bench/prov_tftp_load.c, RRQ octet, 512-byte blocks) from ucmd and from tftpd-hpa
#      (in.tftpd, a process per transfer as Debian runs it) serving the same bytes;
#   2. HTTP: the same file from ucmd on its HTTP port (6970 in production) and from nginx
#      (one worker, like ucmd's one event loop; access log off) with wrk, keep-alive.
# Prints fetches per second of each and the ratio ucmd/peer (> 1: ucmd ahead). Not part of CI.
#
# Settings (environment): SECONDS_EACH [10] CONCURRENCY [32] HTTP_CONNECTIONS [64]
# NGINX_WORKERS [1] KEEP=1 (keep the work directory).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
SECONDS_EACH=${SECONDS_EACH:-10}
CONCURRENCY=${CONCURRENCY:-32}
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-64}
NGINX_WORKERS=${NGINX_WORKERS:-1}
DEVICE=SEP00112233BE01

log() { printf '[prov bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

need=()
command -v in.tftpd >/dev/null || need+=(tftpd-hpa)
command -v nginx >/dev/null || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v cc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
		>/dev/null
fi
[ -x "$root/build/ucmd" ] || cmake --build "$root/build" -j2 >/dev/null ||
	(cmake -S "$root" -B "$root/build" >/dev/null && cmake --build "$root/build" -j2 >/dev/null)

W=$(mktemp -d /tmp/ucm-prov-bench.XXXXXX)
chmod 755 "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

cc -O2 -o "$W/tftp_load" "$here/prov_tftp_load.c"

# ---- ucmd with one phone ----
ADMIN=$(port) TFTP=$(port) HTTP=$(port)
"$root/build/ucmd" --data-dir "$W/data" --admin-listen "127.0.0.1:$ADMIN" \
	--sip-udp-listen "127.0.0.1:$(port)" --sip-tcp-listen "127.0.0.1:$(port)" \
	--sip-tls-listen "127.0.0.1:$(port)" --tftp-listen "127.0.0.1:$TFTP" \
	--http-listen "127.0.0.1:$HTTP" --https-listen "127.0.0.1:$(port)" \
	--capf-listen "127.0.0.1:$(port)" --tvs-listen "127.0.0.1:$(port)" \
	--log-level warn >"$W/ucmd.log" 2>&1 &
ucmd=$!
pids+=("$ucmd")
for _ in $(seq 1 100); do
	curl -s --cacert "$W/data/pki/ca.crt" "https://127.0.0.1:$ADMIN/api/v1/health" >/dev/null &&
		break
	sleep 0.1
done
printf 'bench-admin-pass\n' >"$W/pw"
export UCM_SERVER="https://127.0.0.1:$ADMIN" UCM_CA="$W/data/pki/ca.crt" UCM_USER=admin
export UCM_PASSWORD=bench-admin-pass
"$root/build/ucmctl" init --data-dir "$W/data" --user admin --password-file "$W/pw" >/dev/null
printf 'BenchSecret1\n' >"$W/dc"
"$root/build/ucmctl" end-user create bench --last-name Bench --digest-credentials-file "$W/dc" \
	>/dev/null
"$root/build/ucmctl" directory-number create 5001 >/dev/null
"$root/build/ucmctl" device create "$DEVICE" --type cisco_sip_phone --lines 5001 \
	--owner-user-id bench --digest-user bench >/dev/null
mkdir -p "$W/root"
curl -sf -o "$W/root/$DEVICE.cnf.xml" "http://127.0.0.1:$HTTP/$DEVICE.cnf.xml" ||
	die "ucmd did not serve $DEVICE.cnf.xml"
chmod -R a+rX "$W/root"
SIZE=$(stat -c %s "$W/root/$DEVICE.cnf.xml")
log "file: $DEVICE.cnf.xml, $SIZE bytes"

# ---- the peers, serving the same bytes ----
PEER_TFTP=$(port) PEER_HTTP=$(port)
in.tftpd -L -s "$W/root" -a "127.0.0.1:$PEER_TFTP" -u nobody >"$W/tftpd.log" 2>&1 &
pids+=($!)
cat >"$W/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $W/nginx.pid;
error_log $W/nginx.err warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	keepalive_requests 1000000;
	types { text/xml xml; }
	client_body_temp_path $W/nginx-body;
	proxy_temp_path $W/nginx-proxy;
	fastcgi_temp_path $W/nginx-fcgi;
	uwsgi_temp_path $W/nginx-uwsgi;
	scgi_temp_path $W/nginx-scgi;
	server { listen 127.0.0.1:$PEER_HTTP; root $W/root; }
}
EOF
nginx -c "$W/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5
(cd "$W" && tftp -m binary 127.0.0.1 "$PEER_TFTP" -c get "$DEVICE.cnf.xml" peer.xml)
cmp -s "$W/peer.xml" "$W/root/$DEVICE.cnf.xml" || die "tftpd-hpa does not serve the same bytes"
curl -sf "http://127.0.0.1:$PEER_HTTP/$DEVICE.cnf.xml" | cmp -s - "$W/root/$DEVICE.cnf.xml" ||
	die "nginx does not serve the same bytes"

# ---- TFTP ----
tftp_rate() {
	local out
	out=$("$W/tftp_load" 127.0.0.1 "$1" "$DEVICE.cnf.xml" "$SECONDS_EACH" "$CONCURRENCY" "$SIZE")
	log "tftp $2: $out"
	[[ $out == *" bad=0 "* ]] || die "$2 served wrong bytes: $out"
	sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out"
}
t_ucmd=$(tftp_rate "$TFTP" ucmd)
t_peer=$(tftp_rate "$PEER_TFTP" tftpd-hpa)

# ---- HTTP ----
http_rate() {
	local out
	out=$(wrk -t2 -c"$HTTP_CONNECTIONS" -d"${SECONDS_EACH}s" "http://127.0.0.1:$1/$DEVICE.cnf.xml")
	log "http $2: $(grep -E 'Requests/sec|Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd';')"
	! grep -q "Non-2xx" <<<"$out" || die "$2 answered errors"
	awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out"
}
h_ucmd=$(http_rate "$HTTP" ucmd)
h_peer=$(http_rate "$PEER_HTTP" nginx)

ratio() { python3 -c "print(f'{$1 / max($2, 1):.2f}')"; }
printf '\n%-28s %12s %12s %8s\n' "fetches per second" ucmd peer ratio
printf '%-28s %12s %12s %8s\n' "TFTP vs tftpd-hpa" "$t_ucmd" "$t_peer" "$(ratio "$t_ucmd" "$t_peer")"
printf '%-28s %12s %12s %8s\n' "HTTP vs nginx ($NGINX_WORKERS worker)" "$h_ucmd" "$h_peer" \
	"$(ratio "$h_ucmd" "$h_peer")"
