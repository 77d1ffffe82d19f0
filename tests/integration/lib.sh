# Shared by the integration tests: start a private ucmd on free loopback ports with its own
# data directory, talk to it with ucmctl and curl, and stop exactly the processes we started.
# Usage: source "$(dirname "$0")/lib.sh"

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
UCMD=${UCMD:-$root/build/ucmd}
UCMCTL=${UCMCTL:-$root/build/ucmctl}
UCM_PHONE=${UCM_PHONE:-$root/build/ucm-phone}

T=$(mktemp -d /tmp/ucm-it.XXXXXX)

# Every ucmd a test starts listens on loopback ports of its own, so tests can run in parallel:
# $UCMD is a wrapper that adds them. A test that talks to a listener pins its port by exporting
# SIP_PORT, SIP_TLS_PORT, TFTP_PORT, HTTP_PORT, HTTPS_PORT, CAPF_PORT or TVS_PORT first (from
# free_port); the wrapper reserves a fresh port for each listener left unpinned.
REAL_UCMD=$UCMD
cat >"$T/ucmd" <<WRAPPER
#!/usr/bin/env bash
read -r -a fresh < <(python3 "$here/free_ports.py" $$ 7)
port() { echo "\${!1:-\${fresh[\$2]}}"; }
exec "$REAL_UCMD" --sip-udp-listen "127.0.0.1:\$(port SIP_PORT 0)" \\
	--sip-tcp-listen "127.0.0.1:\$(port SIP_PORT 0)" \\
	--sip-tls-listen "127.0.0.1:\$(port SIP_TLS_PORT 1)" --tftp-listen "127.0.0.1:\$(port TFTP_PORT 2)" \\
	--http-listen "127.0.0.1:\$(port HTTP_PORT 3)" --https-listen "127.0.0.1:\$(port HTTPS_PORT 4)" \\
	--capf-listen "127.0.0.1:\$(port CAPF_PORT 5)" --tvs-listen "127.0.0.1:\$(port TVS_PORT 6)" "\$@"
WRAPPER
chmod +x "$T/ucmd"
UCMD=$T/ucmd
UCMD_PID=""
ADMIN_PASSWORD="admin-pass-$RANDOM$RANDOM"
checks=0

BG_PIDS=()

# Gives back the ports free_ports.py reserved for this test.
release_ports() {
	local f
	for f in /tmp/ucm-it-ports/*/owner; do
		[ "$(cat "$f" 2>/dev/null)" = "$$" ] && rm -f "$f" && rmdir "${f%/owner}" 2>/dev/null
	done
	return 0
}

cleanup() {
	local rc=$?
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$UCMD_PID" ] && kill -0 "$UCMD_PID" 2>/dev/null; then
		kill -TERM "$UCMD_PID" 2>/dev/null || true
		wait "$UCMD_PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -f "$T/ucmd.log" ]; then
		echo "---- ucmd log ----" >&2
		tail -n 40 "$T/ucmd.log" >&2
	fi
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
	release_ports
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	checks=$((checks + 1))
	echo "ok $checks - $*"
}

# A loopback port free for TCP and UDP, reserved for this test until it ends (free_ports.py
# says why ports are not simply left to the kernel).
free_port() {
	python3 "$here/free_ports.py" $$ 1
}

# Starts ucmd with a fresh (or the given) data directory; extra arguments go to ucmd.
start_ucmd() {
	DATA=${DATA:-$T/data}
	ADMIN_PORT=${ADMIN_PORT:-$(free_port)}
	"$UCMD" --data-dir "$DATA" --admin-listen "127.0.0.1:$ADMIN_PORT" "$@" >>"$T/ucmd.log" 2>&1 &
	UCMD_PID=$!
	for _ in $(seq 1 100); do
		if curl -s --cacert "$DATA/pki/ca.crt" "https://127.0.0.1:$ADMIN_PORT/api/v1/health" \
			>/dev/null 2>&1; then
			export UCM_SERVER="https://127.0.0.1:$ADMIN_PORT" UCM_DATA_DIR="$DATA"
			export UCM_CA="$DATA/pki/ca.crt"
			return 0
		fi
		kill -0 "$UCMD_PID" 2>/dev/null || fail "ucmd exited at start: $(tail -n 5 "$T/ucmd.log")"
		sleep 0.1
	done
	fail "ucmd did not answer on port $ADMIN_PORT"
}

stop_ucmd() {
	kill -TERM "$UCMD_PID"
	wait "$UCMD_PID" || fail "ucmd exited with $? on SIGTERM"
	UCMD_PID=""
}

# start_with_admin [PORT_VAR...]: gives each named port variable (SIP_PORT, TFTP_PORT, ...) a
# free port unless it has one, exports them so the ucmd wrapper listens there, starts ucmd and
# creates its first administrator.
start_with_admin() {
	local var
	for var in "$@"; do
		[ -n "${!var:-}" ] || printf -v "$var" '%s' "$(free_port)"
		export "${var?}"
	done
	start_ucmd
	init_admin
}

# Quiet ucmctl, for set-up steps whose output does not matter.
C() { "$UCMCTL" "$@" >/dev/null; }

# Creates the first administrator through the bootstrap token and exports the credentials.
init_admin() {
	printf '%s\n' "$ADMIN_PASSWORD" >"$T/admin.pw"
	chmod 600 "$T/admin.pw"
	"$UCMCTL" init --data-dir "$DATA" --user admin --password-file "$T/admin.pw" >/dev/null
	export UCM_USER=admin UCM_PASSWORD="$ADMIN_PASSWORD"
}

# expect_events CALL WHAT EXPECTED: fails unless the connection events of call CALL in the
# call trace (ucmd at log level debug), one "event device on dn: state (cause)" per line, are
# EXPECTED.
expect_events() {
	local got
	got="$(sed -n "s/.* call: call $1: \([A-Za-z]*Event .*\)$/\1/p" "$T/ucmd.log")"
	[ "$got" = "$3" ] || fail "$2: the events of call $1 are
$got"
}

# The usual runs of those events: answered CALLER CALLEE (the caller's connection from its
# INVITE to the callee's answer) and cleared CONNECTION... (each ended normally).
answered() {
	printf 'OriginatedEvent %s: connected (newCall)\nDeliveredEvent %s: alerting (newCall)\nEstablishedEvent %s: connected (newCall)' \
		"$1" "$2" "$2"
}
cleared() {
	local c
	for c in "$@"; do printf '\nConnectionClearedEvent %s: null (normalClearing)' "$c"; done
}

# call_listed PATH1 PATH2 EXPECTED: waits (4 s at most) until the first call that
# GET /api/v1/calls lists has at the JSON paths PATH1 and PATH2 the values EXPECTED (joined by
# a space); false if it never does, the last list left in $T/calls.json.
call_listed() {
	local got
	for _ in $(seq 1 40); do
		api GET calls >"$T/calls.json"
		got="$(json "['items'][0]$1" <"$T/calls.json" 2>/dev/null || true)"
		got+=" $(json "['items'][0]$2" <"$T/calls.json" 2>/dev/null || true)"
		[ "$got" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# api METHOD PATH [curl args...]: prints the body, sets $STATUS.
api() {
	local method=$1 path=$2
	shift 2
	local out
	out=$(curl -s --cacert "$DATA/pki/ca.crt" -u "admin:$ADMIN_PASSWORD" -X "$method" \
		-H 'Content-Type: application/json' -w '\n%{http_code}' \
		"https://127.0.0.1:$ADMIN_PORT/api/v1/$path" "$@")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	printf '%s' "$BODY"
}

# expect_status CODE description
expect_status() {
	[ "$STATUS" = "$1" ] || fail "$2: expected HTTP $1, got $STATUS: $BODY"
	pass "$2"
}

# json FILTER: reads JSON on stdin, prints the value at a python expression path like
# ['items'][0]['name'].
json() {
	python3 -c "import json,sys; v=json.load(sys.stdin)$1; print(v if not isinstance(v,(dict,list,bool)) or v is None else json.dumps(v))"
}

# track_pid PID: a helper process this test started in the background; cleanup stops it.
track_pid() {
	BG_PIDS+=("$1")
}

# api_as USER PASSWORD METHOD PATH [curl args...]: like api, with other credentials (none if USER
# is empty); the response headers go to $T/headers.
api_as() {
	local user=$1 password=$2 method=$3 path=$4
	shift 4
	local auth=() out
	[ -z "$user" ] || auth=(-u "$user:$password")
	out=$(curl -s --cacert "$DATA/pki/ca.crt" "${auth[@]}" -X "$method" -D "$T/headers" \
		-H 'Content-Type: application/json' -w '\n%{http_code}' \
		"https://127.0.0.1:$ADMIN_PORT/api/v1/$path" "$@")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	printf '%s' "$BODY"
}

# expect_error STATUS CODE description [FIELD]: $STATUS is STATUS and $BODY is the API's error
# object {"error": {"code": CODE, "field": ..., "message": "..."}} with a message; FIELD, if
# given, is the expected field ("null" for none).
expect_error() {
	local status=$1 code=$2 what=$3 field=${4-}
	[ "$STATUS" = "$status" ] || fail "$what: expected HTTP $status, got $STATUS: $BODY"
	local why
	why=$(printf '%s' "$BODY" | python3 -c '
import json, sys
code, field = sys.argv[1], sys.argv[2:]
try:
    e = json.load(sys.stdin)["error"]
except Exception as x:
    sys.exit("not a JSON error: %r" % x)
if sorted(e) != ["code", "field", "message"]:
    sys.exit("error has keys %s" % sorted(e))
if e["code"] != code:
    sys.exit("code is %r, not %r" % (e["code"], code))
if not isinstance(e["message"], str) or not e["message"].strip():
    sys.exit("no message")
if field and e["field"] != (None if field[0] == "null" else field[0]):
    sys.exit("field is %r, not %r" % (e["field"], field[0]))
' "$code" ${field:+"$field"} 2>&1) || fail "$what: $why: $BODY"
	pass "$what"
}

# wait_https PORT CA [PID]: waits up to 10 s until GET /api/v1/health answers on PORT with a
# certificate issued by CA; fails early if PID exits.
wait_https() {
	local port=$1 ca=$2 pid=${3-}
	for _ in $(seq 1 100); do
		if [ -f "$ca" ] && curl -s --cacert "$ca" "https://127.0.0.1:$port/api/v1/health" \
			>/dev/null 2>&1; then
			return 0
		fi
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || fail "ucmd (pid $pid) exited at start"
		sleep 0.1
	done
	fail "nothing answered on port $port"
}

# device_cert NAME [CA CAKEY]: a TLS client certificate for device NAME (its CN, clientAuth),
# issued by the system CA unless another is given, as $T/NAME.crt and $T/NAME.key. Until
# devices enroll through CAPF, tests issue their certificates with the CA directly.
device_cert() {
	local ca=${2:-$DATA/pki/ca.crt} cakey=${3:-$DATA/pki/ca.key}
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=$1" \
		-out "$T/$1.csr" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial -days 30 \
		-sha256 -extfile "$T/ext" -out "$T/$1.crt" 2>/dev/null
}

# sipp's <exec> runs its command in a child it does not wait for: after sipp exits, give the
# result file a moment to be written before reading it.
# wait_for_lines FILE PATTERN [COUNT]: waits up to 10 s until FILE has COUNT (1) lines matching
# the extended regex PATTERN (binary logs included); returns non-zero if it never does.
wait_for_lines() {
	local file=$1 pattern=$2 count=${3:-1} _
	for _ in $(seq 1 100); do
		[ "$(grep -acE -- "$pattern" "$file" 2>/dev/null)" -ge "$count" ] && return 0
		sleep 0.1
	done
	return 1
}

# no_calls: waits up to 5 s until /api/v1/calls lists none ($T/calls.json).
no_calls() {
	for _ in $(seq 1 50); do
		api GET calls >"$T/calls.json"
		[ "$(json "['total']" <"$T/calls.json")" = 0 ] && return 0
		sleep 0.1
	done
	fail "calls left: $(cat "$T/calls.json")"
}

read_result() {
	for _ in $(seq 1 50); do
		[ -s "$1" ] && break
		sleep 0.05
	done
	cat "$1"
}

finish() {
	echo "$checks passed, 0 failed"
}
