#!/usr/bin/env bash
# The registrar against sipp: digest registration over UDP and TCP, a wrong password, a
# malformed request, an unprovisioned line, Interval Too Brief, a device that needs no digest,
# bindings dropped with their TCP connection, the CRLF keep-alive, an oversize message,
# unregistering, and bindings that survive kill -9.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT

printf 'Secret2026\n' >"$T/dc"
C end-user create u1001 --last-name One --digest-credentials-file "$T/dc"
C directory-number create 1001
C directory-number create 1002
C directory-number create 1003
C phone-security-profile create "Desk Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true
C device create SEP001122334455 --type cisco_sip_phone --digest-user u1001 \
	--phone-security-profile "Desk Digest" --lines 1001
C device create SEP0011223344AA --type cisco_sip_phone --lines 1002
pass "configured a digest device (line 1001) and a plain device (line 1002)"
# sipp 3.6 answers the first challenge whatever its algorithm, and knows only MD5.
C service-parameter update sip_digest_algorithms --value MD5,SHA-256

sc=$(dirname "$0")/sipp
# sipp_run SCENARIO TRANSPORT [sipp options...]: one call, a fresh local port each time.
sipp_run() {
	local scenario=$1 transport=$2
	shift 2
	timeout 30 sipp -sf "$sc/$scenario" -m 1 -t "$transport" -i 127.0.0.1 -p "$(free_port)" \
		-timeout 20 -timeout_error -nostdin -trace_err -error_file "$T/sipp_err.log" \
		"$@" "127.0.0.1:$SIP_PORT" >"$T/sipp.out" 2>&1
}
printf 'SEQUENTIAL\nx;1001\n' >"$T/line1001.csv"
good=(-inf "$T/line1001.csv" -au u1001 -ap Secret2026)

sipp_run register_auth.xml u1 "${good[@]}" -key expires 3600 ||
	fail "digest REGISTER over UDP failed: $(tail -5 "$T/sipp.out")"
api GET "registrations?aor=1001" >"$T/reg.json"
[ "$(json "['total']" <"$T/reg.json")" = 1 ] || fail "no binding listed: $(cat "$T/reg.json")"
[ "$(json "['items'][0]['device']" <"$T/reg.json")" = SEP001122334455 ] || fail "wrong device"
[ "$(json "['items'][0]['transport']" <"$T/reg.json")" = UDP ] || fail "wrong transport"
[[ "$(json "['items'][0]['source']" <"$T/reg.json")" =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]] ||
	fail "wrong source: $(cat "$T/reg.json")"
pass "sipp registers line 1001 with MD5 digest over UDP; the binding is listed"

sipp_run register_auth.xml t1 "${good[@]}" -key expires 1800 ||
	fail "digest REGISTER over TCP failed: $(tail -5 "$T/sipp.out")"
pass "the same over TCP"
# sipp closed its connection on exit: a phone reachable only through it is gone.
wait_for_lines "$T/ucmd.log" "1 binding\\(s\\) dropped: TCP connection" ||
	fail "TCP binding kept after close"
api GET "registrations?aor=1001&transport=TCP" >"$T/reg.json"
[ "$(json "['total']" <"$T/reg.json")" = 0 ] || fail "closed TCP binding listed: $(cat "$T/reg.json")"
pass "when its TCP connection closes, the binding is dropped"

sipp_run register_wrong_password.xml u1 -inf "$T/line1001.csv" -au u1001 -ap Wrong2026x \
	-key expires 3600 ||
	fail "a wrong password was not answered with a new challenge"
sipp_run register_wrong_password.xml u1 -inf "$T/line1001.csv" -au ghost -ap Secret2026 \
	-key expires 3600 ||
	fail "an unknown user was not answered with a new challenge"
pass "wrong password and unknown user both get 401"
grep -q 'digest authentication failed for "u1001"' "$T/ucmd.log" || fail "failure not logged"
if grep -q 'Wrong2026x\|Secret2026' "$T/ucmd.log"; then fail "a password reached the log"; fi
pass "failures are logged, passwords are not"

sipp_run register_malformed.xml u1 || fail "a malformed REGISTER did not get 400"
pass "a malformed REGISTER (Max-Forwards 300) gets 400"

R="$T/results"
plain() {
	: >"$R"
	sipp_run register_plain.xml u1 -key result_file "$R" "$@" || true
	read_result "$R"
}
[ "$(plain -key line 9999 -key expires 3600)" = 404 ] || fail "unprovisioned line not refused"
pass "an unprovisioned line gets 404"
[ "$(plain -key line 1002 -key expires 30 -trace_msg -message_file "$T/423.log")" = 423 ] &&
	grep -q "^Min-Expires: 60" "$T/423.log" || fail "no 423 with Min-Expires 60"
pass "Expires 30 gets 423 Interval Too Brief with Min-Expires: 60"
P1002=$(free_port)
[ "$(plain -key line 1002 -key expires 600 -p "$P1002")" = 200 ] || fail "plain device not registered"
pass "a non-secure device whose profile asks no digest registers without credentials"
[ "$(plain -key line 1001 -key expires 600)" = 401 ] || fail "digest device not challenged"
pass "the digest device is challenged"

# RFC 5626 keep-alive over TCP: a double CRLF gets a single CRLF back.
pong=$(python3 - "$SIP_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"\r\n\r\n")
print(repr(s.recv(16)))
PY
)
[ "$pong" = "b'\\r\\n'" ] || fail "no CRLF pong to a CRLF ping (got $pong)"
pass "a double-CRLF keep-alive over TCP gets its CRLF pong"

# A message larger than the limit closes the TCP connection instead of filling memory.
exec 3<>"/dev/tcp/127.0.0.1/$SIP_PORT"
{ printf 'REGISTER sip:x SIP/2.0\r\nX-Filler: '; head -c 200000 /dev/zero | tr '\0' a; } >&3 2>/dev/null || true
closed=$( (timeout 5 cat <&3 2>/dev/null || true) | wc -c)
exec 3<&-
[ "$closed" = 0 ] || fail "oversize message got an answer"
api GET health >/dev/null && [ "$STATUS" = 200 ] || fail "ucmd unhealthy after an oversize message"
pass "an oversize message over TCP closes the connection; ucmd keeps serving"

# A refresh acknowledged just before the kill (Expires 600 → 3000): nothing reads the
# registrations in between, so it is still only in the registration log when ucmd dies.
[ "$(plain -key line 1002 -key expires 3000 -p "$P1002")" = 200 ] || fail "refresh failed"
kill -9 "$UCMD_PID"
wait "$UCMD_PID" 2>/dev/null || true
UCMD_PID=""
start_ucmd
api GET "registrations?limit=10" >"$T/reg.json"
[ "$(json "['total']" <"$T/reg.json")" = 2 ] || fail "bindings lost by kill -9: $(cat "$T/reg.json")"
grep -q "registrar started with 2 bindings" "$T/ucmd.log" || fail "bindings not loaded"
left=$(python3 -c '
import json, sys, datetime
b = [i for i in json.load(sys.stdin)["items"] if i["aor"] == "1002"][0]
at = datetime.datetime.fromisoformat(b["expires_at"].replace("Z", "+00:00"))
print(int((at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()))' <"$T/reg.json")
[ "$left" -gt 2000 ] || fail "the refresh before kill -9 was lost: $left s left ($(cat "$T/reg.json"))"
pass "both UDP bindings survive kill -9 and are loaded again, with the last refresh"

[ "$(plain -key line 1002 -key expires 0 -p "$P1002")" = 200 ] || fail "unregister failed"
api GET "registrations?aor=1002" >"$T/reg.json"
[ "$(json "['total']" <"$T/reg.json")" = 0 ] || fail "binding not removed by Expires 0"
pass "Expires: 0 removes the binding"
finish
