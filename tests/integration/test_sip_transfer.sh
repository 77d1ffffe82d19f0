#!/usr/bin/env bash
# Transfers and dialogs through the B2BUA, with ucm-phone as the phones: an attended transfer
# (A calls B, B holds A, consults C, REFERs with Replaces: A and C are joined, B released),
# the same between encrypted phones over TLS (the joined call stays encrypted, SDES keys only
# on TLS legs), a blind transfer with ucm-phone; then with sipp: requests whose Call-ID is
# right but whose tags are not get 481, a REFER whose Replaces names no dialog is reported
# 481 in its NOTIFY, an INVITE with Replaces lets another phone of the line take a call over
# (and is refused to a phone of another line); a digest phone's BYE is challenged; last, the
# connection events that call observers (CTI) are told of the transfers, in the call trace.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

SIP_PORT=$(free_port) SIP_TLS_PORT=$(free_port)
export SIP_PORT SIP_TLS_PORT
start_ucmd --log-level debug # the call trace: every connection event, as CTI observes it
init_admin
C enterprise-parameter update cluster_security_mode --value mixed
for n in 5001 5002 5003 5004 5006 5011 5012 5013; do C directory-number create $n; done
for n in 5001 5002 5003 5004 5006; do
	C device create "SEP00000000D${n#5}" --type cisco_sip_phone --lines $n
done
C device create SEP00000000D016 --type cisco_sip_phone --lines 5006
C phone-security-profile create "Phone Encrypted" --device-type cisco_sip_phone \
	--device-security-mode encrypted
for n in 5011 5012 5013; do
	C device create "SEP00000000D${n#5}" --type cisco_sip_phone --lines $n \
		--phone-security-profile "Phone Encrypted"
	device_cert "SEP00000000D${n#5}"
done
printf 'Secret5005\n' >"$T/dc"
C end-user create u5005 --last-name Five --digest-credentials-file "$T/dc"
C directory-number create 5005
C phone-security-profile create "Phone Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true
C device create SEP00000000D005 --type cisco_sip_phone --lines 5005 --digest-user u5005 \
	--phone-security-profile "Phone Digest"
pass "plain, encrypted and digest phones configured"

source "$(dirname "$0")/lib_phone.sh"

# ---- attended transfer, plain phones over UDP ----
bg target answer "${udp[@]}" --line 5003
bg transferor transfer "${udp[@]}" --line 5002 --target 5003 --attended --talk 0.5
bg caller call "${udp[@]}" --line 5001 --to 5002 --talk 6
joined SEP00000000D001 SEP00000000D003
[ "$(json "['items'][0]['security']" <"$T/calls.json")" = non_secure ] || fail "security"
[ "$(json "['items'][0]['callee']['directory_number']" <"$T/calls.json")" = 5003 ] ||
	fail "callee number: $(cat "$T/calls.json")"
pass "GET /api/v1/calls shows A (5001) talking to C (5003) and no consultation call"
finished transferor
finished caller
finished target
has transferor "call 1: answered with 200 OK" "hold: re-INVITE sendonly" "call 1 on hold" \
	"consultation: connected to 5003" "REFER: transferring call 1 to 5003 (Replaces" \
	"REFER: 202 Accepted" "NOTIFY: SIP/2.0 200 OK (final)" "call 1: BYE, released" \
	"call 2: BYE, released" "transfer succeeded, our calls released" "unregistered 5002"
has caller "answered recvonly (held by the other side)" "re-INVITE offering none" \
	"ACK with the SDP answer RTP/AVP sendrecv" "BYE: 200 OK, call ended"
has target "call 1: answered with 200 OK" "re-INVITE offering RTP/AVP sendrecv" \
	"BYE, the other side hung up"
grep -q "SEP00000000D002 joins SEP00000000D001 with SEP00000000D003" "$T/ucmd.log" ||
	fail "join not logged"
pass "attended transfer: B holds A, consults C, REFERs with Replaces; A and C are joined and talk, B is told (NOTIFY 200) and released"

# ---- attended transfer between encrypted phones over TLS ----
bg target answer $(tls_of SEP00000000D013) --line 5013
bg transferor transfer $(tls_of SEP00000000D012) --line 5012 --target 5013 --attended --talk 0.5
bg caller call $(tls_of SEP00000000D011) --line 5011 --to 5012 --srtp --talk 8
joined SEP00000000D011 SEP00000000D013
[ "$(json "['items'][0]['security']" <"$T/calls.json")" = encrypted ] ||
	fail "the joined call is not encrypted: $(cat "$T/calls.json")"
pass "the joined call of encrypted phones over TLS is encrypted"
finished transferor
finished caller
finished target
has caller "ACK with the SDP answer RTP/SAVP sendrecv, SDES"
has target "re-INVITE offering RTP/SAVP sendrecv, SDES"
! grep -q "inline:" "$T/ucmd.log" "$T"/*.out || fail "an SRTP key was printed"
pass "... SRTP offer and answer pass between the joined TLS legs; no key is printed"

# ---- blind transfer with ucm-phone ----
bg target answer "${udp[@]}" --line 5003
bg transferor transfer "${udp[@]}" --line 5002 --target 5003 --talk 0.3
bg caller call "${udp[@]}" --line 5001 --to 5002 --talk 3
finished transferor
finished caller
finished target
has transferor "call 1 on hold" "REFER: transferring call 1 to 5003 (blind)" \
	"REFER: 202 Accepted" "NOTIFY: SIP/2.0 200 OK (final)" "transfer succeeded, our calls released"
# The target is offered the caller's media as the caller, not on hold: B's hold ended with B.
has target "offer RTP/AVP sendrecv" "BYE, the other side hung up"
has caller "answered recvonly (held by the other side)" "re-INVITE offering RTP/AVP sendrecv" \
	"BYE: 200 OK, call ended"
grep -q "SEP00000000D001 now talks to SEP00000000D003" "$T/ucmd.log" || fail "not transferred"
pass "blind transfer with ucm-phone: B holds A and REFERs; C answers A's media resumed, B is released"

# ---- dialogs matched by Call-ID and tags (sipp) ----
P4=$(free_port)
sipp_line 5004 "$P4"
timeout 30 sipp -sn uas "${common[@]}" -p "$P4" >"$T/uas.out" 2>&1 &
uas_pid=$!
track_pid $uas_pid
sleep 0.3
timeout 30 sipp -sf "$sc/uac_wrong_tags.xml" "${common[@]}" -p "$(free_port)" -key line 5001 \
	-key callee 5004 -trace_msg -message_file "$T/wrong_tags.log" "127.0.0.1:$SIP_PORT" \
	>"$T/wrong_tags.out" 2>&1 || fail "wrong tags scenario failed: $(tail -5 "$T/wrong_tags.out")"
wait $uas_pid || fail "the callee's sipp failed: $(tail -5 "$T/uas.out")"
grep -q "SEP00000000D001's attended transfer refused (481)" "$T/ucmd.log" ||
	fail "the REFER naming no dialog was not refused"
pass "BYE, re-INVITE and REFER with the right Call-ID but wrong tags get 481; a REFER whose Replaces names no dialog gets 202 and NOTIFY 481; the right BYE ends the call"

# ---- an INVITE with Replaces: another phone of the line takes the call over (RFC 3891) ----
replaced_phone 5006
bg caller call "${udp[@]}" --line 5001 --to 5006 --talk 3
dialog_made
# replaces LINE DEVICE: DEVICE registers LINE and sends INVITE with Replaces for that dialog;
# prints the final status.
replaces() {
	: >"$T/code"
	timeout 30 sipp -sf "$sc/uac_replaces.xml" "${common[@]}" -p "$(free_port)" -key line "$1" \
		-key device "$2" \
		-key callee 5001 -key replaces "$(cat "$T/dialog")" -key result_file "$T/code" \
		"127.0.0.1:$SIP_PORT" >"$T/replacing.out" 2>&1 || true
	read_result "$T/code"
}
[ "$(replaces 5004 SEP00000000D004)" = 403 ] || fail "a phone of another line took the call over"
pass "an INVITE with Replaces from a phone of another line gets 403"
# The replacing phone stays until the caller hangs up; meanwhile the call shows it.
replaces 5006 SEP00000000D016 >"$T/takeover" &
takeover_pid=$!
track_pid $takeover_pid
for _ in $(seq 1 40); do
	api GET calls >"$T/calls.json"
	[ "$(json "['items'][0]['callee']['device']" <"$T/calls.json" 2>/dev/null)" = SEP00000000D016 ] &&
		break
	sleep 0.1
done
[ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
	[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = SEP00000000D001 ] &&
	[ "$(json "['items'][0]['callee']['device']" <"$T/calls.json")" = SEP00000000D016 ] ||
	fail "the call does not show the new phone: $(cat "$T/calls.json")"
wait $takeover_pid
[ "$(cat "$T/takeover")" = 200 ] || fail "the takeover failed: $(tail -5 "$T/replacing.out")"
finished caller
wait $replaced_pid || fail "the replaced phone was not released: $(tail -5 "$T/replaced.out")"
grep -q "SEP00000000D016 replaces SEP00000000D006, talking to SEP00000000D001" "$T/ucmd.log" ||
	fail "no takeover logged"
has caller "re-INVITE offering RTP/AVP sendrecv" "BYE: 200 OK, call ended"
pass "an INVITE with Replaces from another phone of the line takes the call over; the replaced phone gets BYE"

# ---- digest devices: requests within a call are challenged too ----
printf 'Secret5005\n' >"$T/pw"
bg target answer "${udp[@]}" --line 5003
bg caller call "${udp[@]}" --line 5005 --user u5005 --password-file "$T/pw" --to 5003 --talk 0.3
finished caller
finished target
has caller "INVITE: 401 Unauthorized, answering with" "BYE: 401 Unauthorized, answering with" \
	"BYE: 200 OK, call ended"
pass "a digest phone's BYE is challenged and ends the call once answered"

# The call trace: the attended transfer (B, on hold with A in call 1, consulted C in call 2)
# moves C's connection into call 1, where A now talks to C, and clears B's in both calls; in call 7 another phone of
# line 5006 takes the call over.
B1="SEP00000000D001 on 5001" B2="SEP00000000D002 on 5002" B3="SEP00000000D003 on 5003"
expect_events 1 "attended transfer" "$(answered "$B1" "$B2")
HeldEvent $B2: hold (normal)
ConnectionClearedEvent $B2: null (transfer)
TransferedEvent $B3: connected (transfer)
TransferedEvent $B1: connected (transfer)$(cleared "$B1" "$B3")"
expect_events 2 "consultation" "$(answered "$B2" "$B3")$(cleared "$B2" "$B3")"
expect_events 7 "takeover" "OriginatedEvent $B1: connected (newCall)
EstablishedEvent SEP00000000D006 on 5006: connected (newCall)
ConnectionClearedEvent SEP00000000D006 on 5006: null (transfer)
EstablishedEvent SEP00000000D016 on 5006: connected (transfer)$(cleared "$B1" "SEP00000000D016 on 5006")"
pass "call observers follow the attended transfer (C's connection moves into the first call, B's are cleared) and the takeover by another phone of the line"
finish
