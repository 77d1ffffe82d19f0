#!/usr/bin/env bash
# Transfer on ring and the security of joined calls, with ucm-phone as the phones. B answers
# A, holds A, calls C and, while C still rings, REFERs with Replaces naming that early
# dialog: B is released at once (BYE, 487 to its INVITE), A waits in C's ringing call and is
# joined to C when C answers; B's final NOTIFY says 200, or C's refusal (then A is released
# and no call is left), or 487 when A hangs up first (C's ringing is cancelled). Between encrypted TLS phones the joined call stays encrypted. After
# any join the Cisco phones (X-cisco-sis) are told the joined call's security in an UPDATE:
# the lowest of the legs, so an encrypted caller joined with a plain phone is told it is no
# longer secure. Last, the connection events that call observers (CTI) are told of these
# transfers, in the call trace.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

SIP_PORT=$(free_port) SIP_TLS_PORT=$(free_port)
export SIP_PORT SIP_TLS_PORT
start_ucmd --log-level debug # the call trace: every connection event, as CTI observes it
init_admin
source "$(dirname "$0")/lib_phone.sh"
C enterprise-parameter update cluster_security_mode --value mixed
C phone-security-profile create "Phone Encrypted" --device-type cisco_sip_phone \
	--device-security-mode encrypted
for n in 5001 5002 5003 5004 5011 5012 5013; do
	C directory-number create $n
	if [ $n -gt 5010 ]; then
		C device create "SEP00000000D${n#5}" --type cisco_sip_phone --lines $n \
			--phone-security-profile "Phone Encrypted"
		device_cert "SEP00000000D${n#5}"
	else
		C device create "SEP00000000D${n#5}" --type cisco_sip_phone --lines $n
	fi
done
pass "plain and encrypted phones configured"

# ringing CALLER NUMBER: waits until the only call is CALLER's, ringing NUMBER.
ringing() {
	for _ in $(seq 1 50); do
		api GET calls >"$T/calls.json"
		if [ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
			[ "$(json "['items'][0]['state']" <"$T/calls.json")" = ringing ] &&
			[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = "$1" ] &&
			[ "$(json "['items'][0]['called_number']" <"$T/calls.json")" = "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "no call of $1 ringing $2: $(cat "$T/calls.json")"
}

# ---- transfer on ring, plain phones over UDP ----
bg target answer "${udp[@]}" --line 5003 --after 2.5
bg transferor transfer "${udp[@]}" --line 5002 --target 5003 --on-ring --talk 0.5
bg caller call "${udp[@]}" --line 5001 --to 5002 --talk 6 --cisco-sis
ringing SEP00000000D001 5003
grep -q "SEP00000000D002 transfers SEP00000000D001 to 5003 of call [0-9]*, ringing" \
	"$T/ucmd.log" || fail "transfer on ring not logged"
pass "while C rings, the only call is A's, ringing 5003: B's calls are gone"
transferred SEP00000000D001 SEP00000000D003 non_secure
pass "C answers: A (5001) and C (5003) are joined and connected, non-secure"
has transferor "consultation INVITE: 180 Ringing" "consultation: 5003 is ringing, transferring now" \
	"REFER: transferring call 1 to 5003 (Replaces" "REFER: 202 Accepted" \
	"NOTIFY: SIP/2.0 180 Ringing" "call 1: BYE, released" "call 2: 487 Request Terminated, released" \
	"NOTIFY: SIP/2.0 200 OK (final)" "transfer succeeded, our calls released"
# B was released before C answered: its final NOTIFY came after both of its calls ended.
[ "$(grep -n "NOTIFY: SIP/2.0 200 OK" "$T/transferor.out" | cut -d: -f1)" -gt \
	"$(grep -n "call 2: 487" "$T/transferor.out" | cut -d: -f1)" ] ||
	fail "B was not released before C answered: $(cat "$T/transferor.out")"
has caller "answered recvonly (held by the other side)" "re-INVITE offering none" \
	"ACK with the SDP answer RTP/AVP sendrecv" "call security NotAuthenticated (Call-Info in UPDATE)" \
	"BYE: 200 OK, call ended"
has target "call 1: ringing (180)" "call 1: answered with 200 OK" \
	"re-INVITE offering RTP/AVP sendrecv" "BYE, the other side hung up"
! grep -q "UPDATE" "$T/target.out" || fail "a phone without X-cisco-sis got an UPDATE"
pass "transfer on ring: B is released at once and told 200 when C answers; A's media is offered to C; only the Cisco (X-cisco-sis) party is told the security"
no_calls

# ---- transfer on ring, the target refuses ----
P4=$(free_port)
sipp_line 5004 "$P4"
timeout 30 sipp -sf "$sc/uas_ring_busy.xml" "${common[@]}" -p "$P4" >"$T/busy.out" 2>&1 &
busy_pid=$!
track_pid $busy_pid
sleep 0.3
bg transferor transfer "${udp[@]}" --line 5002 --target 5004 --on-ring --talk 0.3
bg caller call "${udp[@]}" --line 5001 --to 5002 --talk 8
ringing SEP00000000D001 5004
wait "${pids[transferor]}" && fail "the transferor did not fail: $(cat "$T/transferor.out")"
has transferor "REFER: 202 Accepted" "call 1: BYE, released" "call 2: 487 Request Terminated, released" \
	"NOTIFY: SIP/2.0 486 Busy Here (final)"
wait "${pids[caller]}" && fail "the caller was not released: $(cat "$T/caller.out")"
has caller "the other side hung up first"
wait $busy_pid || fail "the refusing target's sipp failed: $(tail -5 "$T/busy.out")"
grep -q "transfer on ring of SEP00000000D001 failed (486)" "$T/ucmd.log" || fail "failure not logged"
no_calls
pass "transfer on ring refused by C (486): B's NOTIFY says 486, A is released, no call is left"

# ---- transfer on ring, the transferee hangs up while the target rings ----
bg target answer "${udp[@]}" --line 5003 --after 6
bg transferor transfer "${udp[@]}" --line 5002 --target 5003 --on-ring --talk 0.3
bg caller call "${udp[@]}" --line 5001 --to 5002 --talk 2
ringing SEP00000000D001 5003
finished caller
has caller "BYE: 200 OK, call ended"
wait "${pids[transferor]}" && fail "the transferor did not fail: $(cat "$T/transferor.out")"
has transferor "call 2: 487 Request Terminated, released" \
	"NOTIFY: SIP/2.0 487 Request Terminated (final)"
finished target
has target "call 1: ringing (180)" "CANCEL, stopped ringing (487)"
no_calls
pass "A hangs up while C rings: C's ringing is cancelled, B's NOTIFY says 487, no call is left"

# ---- transfer on ring between encrypted phones over TLS ----
bg target answer $(tls_of SEP00000000D013) --line 5013 --after 2 --cisco-sis
bg transferor transfer $(tls_of SEP00000000D012) --line 5012 --target 5013 --on-ring --talk 0.3
bg caller call $(tls_of SEP00000000D011) --line 5011 --to 5012 --srtp --talk 6 --cisco-sis
transferred SEP00000000D011 SEP00000000D013 encrypted
has transferor "NOTIFY: SIP/2.0 200 OK (final)" "transfer succeeded, our calls released"
has target "offer RTP/SAVP sendrecv, SDES" "re-INVITE offering RTP/SAVP sendrecv, SDES" \
	"call security Encrypted (Call-Info in UPDATE)"
has caller "call security Encrypted (Call-Info in 200 to INVITE)" \
	"ACK with the SDP answer RTP/SAVP sendrecv, SDES" "call security Encrypted (Call-Info in UPDATE)"
! grep -q "inline:" "$T/ucmd.log" "$T"/*.out || fail "an SRTP key was printed"
pass "transfer on ring between encrypted TLS phones: SRTP with SDES on each leg, the joined call is encrypted and both Cisco phones are told so"
no_calls

# ---- attended transfer joining an encrypted caller with a plain phone ----
bg target answer "${udp[@]}" --line 5003 --cisco-sis
bg transferor transfer $(tls_of SEP00000000D012) --line 5012 --target 5003 --attended --talk 0.5
bg caller call $(tls_of SEP00000000D011) --line 5011 --to 5012 --srtp --talk 6 --cisco-sis
transferred SEP00000000D011 SEP00000000D003 non_secure
has caller "call security Encrypted (Call-Info in 200 to INVITE)" \
	"call security NotAuthenticated (Call-Info in UPDATE)" "ACK with the SDP answer RTP/AVP sendrecv"
# C was told once after answering B's consultation and once after the join.
[ "$(grep -c "call security NotAuthenticated (Call-Info in UPDATE)" "$T/target.out")" = 2 ] ||
	fail "the plain phone was not told the joined call's security: $(cat "$T/target.out")"
has target "re-INVITE offering RTP/AVP sendrecv"
! grep -q "Encrypted" "$T/target.out" || fail "the plain phone was told Encrypted"
pass "attended transfer joining an encrypted caller with a plain phone: both are told NotAuthenticated (lowest of the legs); the plain phone gets no SRTP keys"
no_calls

# ---- a Jabber transferor's consultation finds the line busy ----
# B is a Jabber client (a CSF device): the busy line is told to it as a 183 and a busy-tone
# REFER. Its consultation is not ringing, so a transfer on ring naming it is refused (481 in
# the NOTIFY) and nobody is joined to a call nobody can answer.
for n in 5005 5006; do C directory-number create $n; done
C device create CSFTRANSFEROR --type csf --lines 5005
C device create SEP00000000D006 --type cisco_sip_phone --lines 5006
bg target answer "${udp[@]}" --line 5006 --busy
bg transferor transfer "${udp[@]}" --line 5005 --target 5006 --on-ring --talk 0.3
bg caller call "${udp[@]}" --line 5001 --to 5005 --talk 4
wait "${pids[transferor]}" && fail "the transfer was not refused: $(cat "$T/transferor.out")"
has transferor "REFER: 202 Accepted" "NOTIFY: SIP/2.0 481"
grep -q "5006 is busy; busy tone to CSFTRANSFEROR" "$T/ucmd.log" || fail "no busy tone for B"
grep -q "CSFTRANSFEROR's attended transfer refused (481)" "$T/ucmd.log" || fail "refusal not logged"
pass "a Jabber transferor whose consultation hears the busy tone cannot transfer on ring (481)"

# The call trace: A's connection moves into B's ringing consultation call (2, 4) and B's is
# cleared; C answers (2), or is busy (4): a Failed event for its line, then A is released.
R1="SEP00000000D001 on 5001" R2="SEP00000000D002 on 5002"
moved="OriginatedEvent $R2: connected (newCall)
DeliveredEvent RINGING: alerting (newCall)
ConnectionClearedEvent $R2: null (transfer)
TransferedEvent $R1: connected (transfer)"
expect_events 2 "transfer on ring, answered" "${moved/RINGING/SEP00000000D003 on 5003}
EstablishedEvent SEP00000000D003 on 5003: connected (newCall)$(cleared "$R1" "SEP00000000D003 on 5003")"
expect_events 4 "transfer on ring to a busy phone" "${moved/RINGING/SEP00000000D004 on 5004}$(cleared "SEP00000000D004 on 5004")
FailedEvent 5004: fail (busy)$(cleared "$R1")"
pass "call observers follow a transfer on ring: the transferee's connection moves into the ringing call; a busy target is reported Failed (busy)"
finish
