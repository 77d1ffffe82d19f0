#!/usr/bin/env bash
# ucm-phone as a phone against ucmd: registration over UDP and TCP, a digest device answering
# the SHA-256 challenge (and refused with a wrong password), a call with hold and resume
# between a UDP caller and a TCP callee, a digest caller whose INVITE is challenged, a busy
# callee, and an encrypted pair over TLS with device certificates calling with SRTP, which
# GET /api/v1/calls reports as encrypted (and whose plain RTP offer is refused).
source "$(dirname "$0")/lib.sh"

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
C service-parameter update sip_digest_algorithms --value SHA-256,MD5
for n in 4001 4002 4003 4009 4010 4011 4012; do C directory-number create $n; done
for n in 4001 4002 4009 4010; do
	C device create "SEP00000000C${n#4}" --type cisco_sip_phone --lines $n
done
printf 'Secret4003\n' >"$T/dc"
printf 'Secret4003\n' >"$T/pw"
printf 'wrong-password\n' >"$T/bad.pw"
C end-user create u4003 --last-name Three --digest-credentials-file "$T/dc"
C phone-security-profile create "Phone Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true
C device create SEP00000000C003 --type cisco_sip_phone --lines 4003 --digest-user u4003 \
	--phone-security-profile "Phone Digest"
C phone-security-profile create "Phone Encrypted" --device-type cisco_sip_phone \
	--device-security-mode encrypted
C device create SEP00000000C011 --type cisco_sip_phone --lines 4011 \
	--phone-security-profile "Phone Encrypted"
C device create SEP00000000C012 --type cisco_sip_phone --lines 4012 \
	--phone-security-profile "Phone Encrypted"
pass "mixed cluster; plain, digest and encrypted devices"

device_cert SEP00000000C011
device_cert SEP00000000C012

source "$(dirname "$0")/lib_phone.sh"
udp=(--server "127.0.0.1:$SIP_PORT" --transport udp --timeout 15)
tcp=(--server "127.0.0.1:$SIP_PORT" --transport tcp --timeout 15)
tls=(--server "127.0.0.1:$SIP_TLS_PORT" --transport tls --timeout 15 --ca "$DATA/pki/ca.crt")
tls11=("${tls[@]}" --cert "$T/SEP00000000C011.crt" --key "$T/SEP00000000C011.key")
tls12=("${tls[@]}" --cert "$T/SEP00000000C012.crt" --key "$T/SEP00000000C012.key")
digest=(--user u4003 --password-file "$T/pw")
# Not a function in the background: $! must be timeout's pid, which passes signals on.
phone() { timeout 20 "$UCM_PHONE" "$@"; }

# expect_exit STATUS PATTERN ARGS...: ucm-phone ARGS must exit with STATUS and print PATTERN.
expect_exit() {
	local want=$1 pattern=$2 rc=0
	shift 2
	phone "$@" >"$T/x.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "ucm-phone $1 exited with $rc, not $want: $(cat "$T/x.out")"
	grep -q "$pattern" "$T/x.out" || fail "ucm-phone $1 did not print '$pattern': $(cat "$T/x.out")"
}

# answer NAME ARGS...: an answering phone in the background, registered before we go on;
# finished NAME: it exited 0 (lib_phone.sh).
answer() { bg "$1" answer "${@:2}"; }

# ---- registration ----
# register keeps its binding (call and answer remove theirs): lines of their own, not called.
phone register "${udp[@]}" --line 4009 --expires 120 >"$T/r.out" ||
	fail "UDP registration failed: $(cat "$T/r.out")"
grep -q "registered 4009 .* over UDP: 200 OK, expires 120" "$T/r.out" || fail "$(cat "$T/r.out")"
[ "$(api GET "registrations?aor=4009" | json "['items'][0]['transport']")" = UDP ] ||
	fail "no UDP binding for 4009"
pass "register over UDP: 200 OK with the granted expiry, binding listed"

phone register "${tcp[@]}" --line 4010 --expires 120 >"$T/r.out" ||
	fail "TCP registration failed: $(cat "$T/r.out")"
grep -q "registered 4010 .* over TCP: 200 OK" "$T/r.out" || fail "$(cat "$T/r.out")"
wait_for_lines "$T/ucmd.log" "1 binding\\(s\\) dropped: TCP connection" ||
	fail "the TCP binding of 4010 did not go with its connection"
pass "register over TCP (an outbound connection); the binding goes when the phone disconnects"

expect_exit 1 "registration of 4999 failed: 404" register "${udp[@]}" --line 4999
pass "an unprovisioned line is refused (404, exit 1)"

phone register "${udp[@]}" --line 4003 "${digest[@]}" >"$T/r.out" ||
	fail "digest registration failed: $(cat "$T/r.out")"
grep -q "REGISTER: 401 Unauthorized, answering with SHA-256 digest as u4003" "$T/r.out" ||
	fail "no SHA-256 challenge answered: $(cat "$T/r.out")"
grep -q "registered 4003 .* 200 OK" "$T/r.out" || fail "$(cat "$T/r.out")"
! grep -q Secret4003 "$T/r.out" || fail "the password was printed"
pass "a digest device answers the challenge with SHA-256"

C service-parameter update sip_digest_algorithms --value MD5,SHA-256
phone register "${udp[@]}" --line 4003 "${digest[@]}" >"$T/r.out" ||
	fail "digest registration failed: $(cat "$T/r.out")"
grep -q "answering with SHA-256 digest" "$T/r.out" || fail "MD5 offered first won: $(cat "$T/r.out")"
C service-parameter update sip_digest_algorithms --value SHA-256,MD5
pass "... the strongest offered even when MD5 comes first"

expect_exit 1 "registration of 4003 failed: 401" \
	register "${udp[@]}" --line 4003 --user u4003 --password-file "$T/bad.pw"
pass "... and with a wrong password it is refused (exit 1)"

# ---- calls ----
answer callee "${tcp[@]}" --line 4002
# Two seconds on hold: each poll below is an API call and a python parse, and on a busy machine
# a shorter hold fell between two of them.
timeout 20 "$UCM_PHONE" call "${udp[@]}" --line 4001 --to 4002 --hold --talk 2 \
	>"$T/caller.out" 2>&1 &
caller_pid=$!
track_pid $caller_pid
held=""
for _ in $(seq 1 40); do
	api GET calls >"$T/calls.json"
	if [ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
		[ "$(json "['items'][0]['caller']['held']" <"$T/calls.json")" = true ]; then
		held=yes
		break
	fi
	sleep 0.1
done
wait $caller_pid || fail "the call failed: $(cat "$T/caller.out")"
finished callee
[ "$held" = yes ] || fail "the call never showed as held: $(cat "$T/calls.json")"
for step in "INVITE: 180 Ringing" "INVITE: 200 OK, answer RTP/AVP sendrecv" \
	"hold: 200 OK, answer RTP/AVP recvonly" "resume: 200 OK, answer RTP/AVP sendrecv" \
	"BYE: 200 OK, call ended" "unregistered 4001"; do
	grep -q "$step" "$T/caller.out" || fail "caller lacks \"$step\": $(cat "$T/caller.out")"
done
for step in "ACK, connected" "answered recvonly (held by the other side)" \
	"answered sendrecv (resumed)" "BYE, the other side hung up"; do
	grep -q "$step" "$T/callee.out" || fail "callee lacks \"$step\": $(cat "$T/callee.out")"
done
grep -q "4001 (SEP00000000C001) answered on SEP00000000C002" "$T/ucmd.log" || fail "not logged"
pass "UDP caller to TCP callee: ringing, answer, hold, resume and BYE on both ends"

answer callee "${udp[@]}" --line 4001
phone call "${udp[@]}" --line 4003 "${digest[@]}" --to 4001 --talk 0.2 >"$T/caller.out" 2>&1 ||
	fail "the digest caller failed: $(cat "$T/caller.out")"
finished callee
grep -q "INVITE: 401 Unauthorized, answering with SHA-256 digest" "$T/caller.out" ||
	fail "the INVITE was not challenged: $(cat "$T/caller.out")"
grep -q "unregistered 4003" "$T/caller.out" || fail "not unregistered: $(cat "$T/caller.out")"
pass "a digest caller's INVITE is challenged and connects"

answer busy "${udp[@]}" --line 4002 --busy
expect_exit 1 "call to 4002 failed: 486" call "${udp[@]}" --line 4001 --to 4002
finished busy
grep -q "refused with 486 Busy Here" "$T/busy.out" || fail "$(cat "$T/busy.out")"
pass "a busy callee's 486 reaches the caller, which exits 1"

answer first "${udp[@]}" --line 4002
answer second "${tcp[@]}" --line 4002 --after 10
phone call "${udp[@]}" --line 4001 --to 4002 --talk 0.2 >"$T/caller.out" 2>&1 ||
	fail "the call to two phones failed: $(cat "$T/caller.out")"
finished first
finished second
grep "calls 4002, ringing" "$T/ucmd.log" | tail -n 1 | grep -q "ringing 2 device(s)" ||
	fail "the line did not ring both phones"
grep -q "CANCEL, stopped ringing (487)" "$T/second.out" || fail "$(cat "$T/second.out")"
pass "a line on two phones: the first answers, the other gets CANCEL"

# ---- an encrypted pair over TLS ----
expect_exit 1 "registration of 4011 failed: 403" register "${tls[@]}" --line 4011
pass "an encrypted device without its certificate is refused over TLS"

answer secure "${tls12[@]}" --line 4012
grep -q "over TLSv1.[23] .*server certificate verified" "$T/secure.out" ||
	fail "no verified TLS: $(cat "$T/secure.out")"
timeout 20 "$UCM_PHONE" call "${tls11[@]}" --line 4011 --to 4012 --srtp --talk 2 \
	>"$T/caller.out" 2>&1 &
caller_pid=$!
track_pid $caller_pid
security=""
for _ in $(seq 1 40); do
	api GET calls >"$T/calls.json"
	if [ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
		[ "$(json "['items'][0]['state']" <"$T/calls.json")" = connected ]; then
		security=$(json "['items'][0]['security']" <"$T/calls.json")
		break
	fi
	sleep 0.1
done
wait $caller_pid || fail "the encrypted call failed: $(cat "$T/caller.out")"
finished secure
[ "$security" = encrypted ] || fail "call security is '$security': $(cat "$T/calls.json")"
grep -q "answer RTP/SAVP sendrecv, SDES AES_CM_128_HMAC_SHA1_80" "$T/caller.out" ||
	fail "no SRTP answer: $(cat "$T/caller.out")"
grep -q "answered with 200 OK, RTP/SAVP sendrecv, SDES" "$T/secure.out" ||
	fail "callee did not answer SRTP: $(cat "$T/secure.out")"
! grep -q "inline:" "$T/caller.out" "$T/secure.out" || fail "an SRTP key was printed"
pass "encrypted devices over TLS with their certificates call with SRTP: security encrypted"

answer secure "${tls12[@]}" --line 4012
expect_exit 1 "call to 4012 failed: 488" call "${tls11[@]}" --line 4011 --to 4012
# Signal the phone itself, not the timeout(1) that runs it.
pkill -TERM -P "${pids[secure]}" -x ucm-phone || kill "${pids[secure]}"
wait "${pids[secure]}" && fail "an interrupted answer exited 0"
for step in "interrupted by SIGTERM" "unregistered 4012"; do
	grep -q "$step" "$T/secure.out" || fail "no clean exit on SIGTERM: $(cat "$T/secure.out")"
done
pass "an encrypted device offering plain RTP is refused with 488; SIGTERM unregisters"
finish
