#!/usr/bin/env bash
# CAPF enrollments per second with many phones at once, RSA 2048 and ECDSA P-256, and how
# fast the event loop keeps answering SIP meanwhile. One ucmd on loopback ports with its own
# data directory; CAPF_N devices per key type, each scheduled "install by null string",
# enrolled by CAPF_CLIENTS ucm-phone processes in parallel; a UDP OPTIONS pinger measures SIP
# response times before and during the burst. Prints enrollments/s, ucmd CPU per enrollment
# (utime+stime from /proc) and the OPTIONS latencies. Not part of CI; about 30 s.
#
# Settings (environment): CAPF_N [150] CAPF_CLIENTS [16] KEEP=1 (keep the work directory).
# The phones send keys made beforehand (ucm-phone --key-file): key generation is the phone's
# work, and on a small box it would take the cores ucmd is measured on.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CAPF_N=${CAPF_N:-200}
CAPF_CLIENTS=${CAPF_CLIENTS:-16}
[ -n "${KEEP:-}" ] && export KEEP_T=1
[ -x "$root/build/ucmd" ] || cmake --build "$root/build" -j2 >/dev/null
# lib.sh: start_ucmd, init_admin, free_port, cleanup of what we start (by pid).
source "$root/tests/integration/lib.sh"

CAPF_PORT=$(free_port)
SIP_PORT=$(free_port)
export CAPF_PORT SIP_PORT
start_ucmd
init_admin

# provision KEY_TYPE FIRST: CAPF_N devices SEP<12 hex digits from FIRST> over the REST API.
provision() {
	python3 - "$1" "$2" "$CAPF_N" "$ADMIN_PORT" "$DATA/pki/ca.crt" "$ADMIN_PASSWORD" <<'PY'
import base64, http.client, json, ssl, sys, threading
key_type, first, n, port, ca, pw = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
auth = "Basic " + base64.b64encode(("admin:" + pw).encode()).decode()
def work(ids):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    for i in ids:
        body = json.dumps({"name": "SEP%012X" % (first + i), "type": "cisco_sip_phone",
                           "capf_certificate_operation": "install_upgrade",
                           "capf_authentication_mode": "by_null_string", "capf_key_type": key_type})
        c.request("POST", "/api/v1/devices", body, {"Authorization": auth, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 201:
            sys.exit("device %d: HTTP %d" % (i, r.status))
ts = [threading.Thread(target=work, args=(range(k, n, 4),)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
}

cpu() { awk '{print $14 + $15}' "/proc/$UCMD_PID/stat"; }

# pinger SECONDS OUT [STOP]: OPTIONS every 10 ms over UDP for SECONDS or until the file STOP
# exists; writes one latency (ms) per line.
pinger() {
	python3 - "$SIP_PORT" "$1" "$2" "${3:-/nonexistent}" <<'PY'
import os, socket, sys, time
port, secs, out, stop = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
lp = s.getsockname()[1]; lat = []; end = time.time() + secs; i = 0
while time.time() < end and not os.path.exists(stop):
    i += 1
    msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKb%d;rport\r\n"
           "From: <sip:bench@127.0.0.1>;tag=b%d\r\nTo: <sip:127.0.0.1>\r\nCall-ID: b%d@bench\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (port, lp, i, i, i))
    t = time.time(); s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        while True:
            d = s.recv(65535)
            if ("b%d@bench" % i).encode() in d: break
        lat.append((time.time() - t) * 1000)
    except socket.timeout:
        lat.append(2000.0)
    time.sleep(0.01)
open(out, "w").write("\n".join("%.3f" % x for x in lat) + "\n")
PY
}

stats() { # FILE: p50 p99 max of the latencies
	sort -n "$1" | awk '{a[NR]=$1} END {printf "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d pings)", a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR], NR}'
}

enroll_one() { # HEX KEY
	"$UCM_PHONE" enroll --key-file "$2" --protocol capf --server "127.0.0.1:$CAPF_PORT" --ca "$DATA/pki/ca.crt" \
		--device "SEP$1" --auth null --cert "$T/lsc/$1.crt" --key "$T/lsc/$1.key" --timeout 60 \
		>/dev/null 2>&1 && echo ok
}
export -f enroll_one
export UCM_PHONE DATA T CAPF_PORT
mkdir -p "$T/lsc"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec_p256.key" 2>/dev/null

pinger 2 "$T/idle.lat"
echo "SIP OPTIONS idle:            $(stats "$T/idle.lat")"

# burst NAME KEY_TYPE FIRST: provisions, then enrolls every device while the pinger runs.
burst() {
	provision "$2" "$3"
	local ids c0 t0 t1 c1 ok
	ids=$(python3 -c "print('\n'.join('%012X' % ($3 + i) for i in range($CAPF_N)))")
	c0=$(cpu)
	t0=$(date +%s.%N)
	pinger 60 "$T/$1.lat" "$T/$1.stop" &
	local ping=$!
	track_pid "$ping"
	ok=$(printf '%s\n' $ids | xargs -P "$CAPF_CLIENTS" -I{} bash -c "enroll_one {} $T/$2.key" | wc -l)
	t1=$(date +%s.%N)
	c1=$(cpu)
	touch "$T/$1.stop"
	wait "$ping" || true
	python3 - "$1" "$ok" "$CAPF_N" "$t0" "$t1" "$c0" "$c1" "$CAPF_CLIENTS" <<'PY'
import os, sys
name, ok, n, t0, t1, c0, c1, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
hz = os.sysconf("SC_CLK_TCK")
print("CAPF %-9s %d/%d enrolled in %.1f s with %s clients: %.1f enrollments/s, ucmd CPU %.1f ms each"
      % (name, ok, n, t1 - t0, p, ok / (t1 - t0), (c1 - c0) * 1000.0 / hz / max(ok, 1)))
PY
	echo "SIP OPTIONS during $1 burst: $(stats "$T/$1.lat")"
}
burst "RSA-2048" rsa $((0x100000000))
burst "EC-P256" ec_p256 $((0x200000000))
