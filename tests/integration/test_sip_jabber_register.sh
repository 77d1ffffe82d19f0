#!/usr/bin/env bash
# Jabber softphones register as Jabber4Linux shows (shared/specs/cisco-device-config.md §5.2–5.4):
# over one TCP connection, without credentials, with the same branch, Call-ID and CSeq 101 for
# every refresh, the device named in the Contact. The 200 must carry an Expires header (Jabber
# schedules its refresh from it), a refresh with the same CSeq must extend the binding, and a
# device that must use TLS is told so in the Warning Jabber acts on.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT
C enterprise-parameter update cluster_security_mode --value mixed
C end-user create jsmith --last-name Smith
C directory-number create 2001
C directory-number create 2002
C device create CSFJSMITH --type csf --owner-user-id jsmith --lines 2001
C phone-security-profile create "CSF Authenticated" --device-type csf \
	--device-security-mode authenticated
C end-user create tadams --last-name Adams
C device create CSFTADAMS --type csf --owner-user-id tadams --lines 2002 \
	--phone-security-profile "CSF Authenticated"
pass "mixed cluster; a non-secure CSF device on 2001, an authenticated one on 2002"

sc=$(dirname "$0")/sipp
# jabber SCENARIO LINE DEVICE [sipp options...]: one Jabber-like client over TCP; its results go
# to $T/$JABBER.result, sipp's output to $T/$JABBER.out and .err (JABBER defaults to "jabber").
jabber() {
	local scenario=$1 line=$2 device=$3 name=${JABBER:-jabber}
	shift 3
	: >"$T/$name.result"
	timeout 30 sipp -sf "$sc/$scenario" -m 1 -t t1 -i 127.0.0.1 -p "$(free_port)" \
		-timeout 20 -timeout_error -nostdin -trace_err -error_file "$T/$name.err" \
		-key line "$line" -key device "$device" -key result_file "$T/$name.result" "$@" \
		"127.0.0.1:$SIP_PORT" >"$T/$name.out" 2>&1
}
# expires_at LINE: the binding's expiry as the API shows it, in seconds since the epoch.
expires_at() {
	api GET "registrations?aor=$1" | python3 -c '
import datetime, json, sys
items = json.load(sys.stdin)["items"]
print(int(datetime.datetime.fromisoformat(items[0]["expires_at"].replace("Z", "+00:00")).timestamp()) if items else "none")'
}

jabber register_jabber.xml 2001 CSFJSMITH -d 3000 &
client=$!
track_pid $client
first=none
for _ in $(seq 1 50); do
	first=$(expires_at 2001)
	[ "$first" != none ] && break
	sleep 0.1
done
[ "$first" != none ] || fail "the first REGISTER made no binding: $(cat "$T/jabber.out")"
api GET "registrations?aor=2001" >"$T/reg.json"
[ "$(json "['items'][0]['device']" <"$T/reg.json")" = CSFJSMITH ] || fail "wrong device: $(cat "$T/reg.json")"
[ "$(json "['items'][0]['transport']" <"$T/reg.json")" = TCP ] || fail "wrong transport"
[ "$(json "['items'][0]['instance']" <"$T/reg.json")" = urn:uuid:00000000-0000-0000-0000-000000000000 ] ||
	fail "instance ID not the URN of +sip.instance: $(cat "$T/reg.json")"
pass "a Jabber REGISTER without credentials, named by its Contact devicename, is bound to CSFJSMITH over TCP; its instance ID is the URN"
# The refresh comes 3 s after the first REGISTER and the client hangs up 3 s later: watch
# for it rather than sleep a fixed time that a loaded machine may overrun.
for _ in $(seq 1 80); do
	second=$(expires_at 2001)
	[ "$second" != "$first" ] && break
	sleep 0.1
done
[ "$second" != none ] && [ $((second - first)) -ge 2 ] ||
	fail "the refresh with the same Call-ID and CSeq 101 did not extend the binding: $first -> $second"
pass "the refresh with the same branch, Call-ID and CSeq 101 extends the binding ($first -> $second)"
wait $client || fail "the Jabber client failed: $(tail -5 "$T/jabber.out") $(cat "$T/jabber.err" 2>/dev/null)"
[ "$(tr '\n' ' ' <"$T/jabber.result")" = "3600 3600 " ] ||
	fail "Expires headers of the two 200s: $(cat "$T/jabber.result")"
pass "both 200 OKs carry the Expires header Jabber schedules its refresh from (3600)"

jabber register_jabber_refused.xml 2002 CSFTADAMS ||
	fail "an authenticated CSF device over TCP was not refused with the TLS Warning: $(tail -5 "$T/jabber.out") $(cat "$T/jabber.err" 2>/dev/null)"
grep -q "Device security mismatch: expected TLS" "$T/jabber.result" ||
	fail "Warning text: $(cat "$T/jabber.result")"
[ "$(api GET "registrations?aor=2002" | json "['total']")" = 0 ] || fail "2002 bound anyway"
pass "an authenticated CSF device over TCP gets 403 with Warning: 399 ... \"Device security mismatch: expected TLS\""

# Two Jabber clients of one device, as when its user starts Jabber on a second computer. The
# first refreshes 5 s after registering; the second must have forced its registration by then,
# and stays connected 8 s after it, so that its binding is still there at that refresh.
jabber register_jabber_evicted.xml 2001 CSFJSMITH -d 5000 &
first_client=$!
track_pid $first_client
instance() { api GET "registrations?aor=2001" | json "['items'][0]['instance']" 2>/dev/null; }
for _ in $(seq 1 50); do
	[ "$(instance)" = urn:uuid:00000000-0000-0000-0000-000000000000 ] && break
	sleep 0.1
done
[ "$(instance)" = urn:uuid:00000000-0000-0000-0000-000000000000 ] ||
	fail "the first client did not register: $(cat "$T/jabber.out")"
JABBER=second jabber register_jabber_force.xml 2001 CSFJSMITH -d 8000 &
second_client=$!
track_pid $second_client
for _ in $(seq 1 50); do
	[ "$(instance)" = urn:uuid:7a3f09c1-5be2d846-0c9e71ab-e4d2063f ] && break
	sleep 0.1
done
grep -q "Registration is active for another client" "$T/second.result" ||
	fail "the second client was not told the device is registered by another: $(cat "$T/second.result") $(tail -5 "$T/second.out")"
[ "$(api GET "registrations?aor=2001" | json "['total']")" = 1 ] &&
	[ "$(instance)" = urn:uuid:7a3f09c1-5be2d846-0c9e71ab-e4d2063f ] ||
	fail "the forced registration did not take the line over: $(api GET "registrations?aor=2001")"
pass "a second client of CSFJSMITH gets 403 with Warning \"Registration is active for another client\"; its forced REGISTER (Reason cisco-alarm:111) replaces the first client's binding"
wait $first_client ||
	fail "the first client's refresh was not refused: $(tail -5 "$T/jabber.out") $(cat "$T/jabber.err" 2>/dev/null)"
grep -q "Registration is active for another client" "$T/jabber.result" || fail "Warning: $(cat "$T/jabber.result")"
[ "$(instance)" = urn:uuid:7a3f09c1-5be2d846-0c9e71ab-e4d2063f ] ||
	fail "the first client's refresh took the line back: $(api GET "registrations?aor=2001")"
pass "the first client's next refresh is refused the same way, and the line stays with the second"
wait $second_client || fail "the second client failed: $(tail -5 "$T/second.out") $(cat "$T/second.err" 2>/dev/null)"

# A desk phone is never refused so: one that restarted comes back from a new connection with a
# new Call-ID while its old binding may still be live, and could not answer the question.
C directory-number create 2003
C device create SEP000000002003 --type cisco_sip_phone --lines 2003
jabber register_jabber.xml 2003 SEP000000002003 -d 3000 &
first_client=$!
track_pid $first_client
for _ in $(seq 1 50); do
	[ "$(api GET "registrations?aor=2003" | json "['total']")" = 1 ] && break
	sleep 0.1
done
JABBER=second jabber register_jabber.xml 2003 SEP000000002003 -d 1 ||
	fail "a second registration of a desk phone was refused: $(cat "$T/second.err" 2>/dev/null)"
wait $first_client || fail "the desk phone's first connection was refused: $(cat "$T/jabber.err" 2>/dev/null)"
pass "a desk phone registering from a second connection is not refused, though its client sends X-cisco-duplicate-reg"

finish
