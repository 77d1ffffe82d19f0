#!/usr/bin/env bash
# INVITE with Replaces (RFC 3891) without SDP, as Cisco phones and Jabber send it (delayed
# offer): another phone of the line takes a call over, ucmd gets a fresh offer from the
# remaining party with a re-INVITE without SDP, gives it to the newcomer in its 200 and takes
# the newcomer's answer from the ACK to the remaining party (RFC 3725 flow 1). Shown with a
# Cisco caller (told the call's security after the takeover), between encrypted phones over
# TLS with ucm-phone --late (SRTP with SDES keys on each leg, the call stays encrypted), a
# remaining party refusing the
# re-INVITE (the original call stays, the newcomer gets 488) and a newcomer whose ACK brings
# no answer (all three dialogs ended).
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
for n in 5001 5006 5011 5012; do C directory-number create $n; done
for n in 5001 5006; do C device create "SEP00000000D${n#5}" --type cisco_sip_phone --lines $n; done
C device create SEP00000000D016 --type cisco_sip_phone --lines 5006
C phone-security-profile create "Phone Encrypted" --device-type cisco_sip_phone \
	--device-security-mode encrypted
for d in SEP00000000D011:5011 SEP00000000D012:5012 SEP00000000D022:5012; do
	C device create "${d%:*}" --type cisco_sip_phone --lines "${d#*:}" \
		--phone-security-profile "Phone Encrypted"
	device_cert "${d%:*}"
done
pass "plain and encrypted phones configured, two plain phones on line 5006, two encrypted on 5012"

source "$(dirname "$0")/lib_phone.sh"

# take_over CALLEE ANSWER: SEP00000000D016 sends a delayed-offer INVITE with Replaces for the
# dialog, ACKing with an answer unless ANSWER is "no"; its result goes to $T/takeover.
take_over() {
	: >"$T/code"
	rm -f "$T/newcomer.log"
	timeout 30 sipp -sf "$sc/uac_replaces_late.xml" "${common[@]}" -p "$(free_port)" \
		-key line 5006 -key device SEP00000000D016 -key callee "$1" -key answer "$2" \
		-key replaces "$(cat "$T/dialog")" -key result_file "$T/code" -trace_msg \
		-message_file "$T/newcomer.log" "127.0.0.1:$SIP_PORT" >"$T/newcomer.out" 2>&1
	read_result "$T/code" >"$T/takeover"
}
# callee_is DEVICE [SECURITY]: waits until the only call's callee is DEVICE and, if given, its
# security is SECURITY (its JSON in $T/calls.json). The callee changes when the INVITE with
# Replaces arrives; the security only once the newcomer's answer came in its ACK.
callee_is() {
	for _ in $(seq 1 50); do
		api GET calls >"$T/calls.json"
		[ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
			[ "$(json "['items'][0]['callee']['device']" <"$T/calls.json" 2>/dev/null)" = "$1" ] &&
			{ [ -z "${2:-}" ] || [ "$(json "['items'][0]['security']" <"$T/calls.json")" = "$2" ]; } &&
			return 0
		sleep 0.1
	done
	fail "the call's callee is not $1: $(cat "$T/calls.json")"
}

# ---- delayed-offer takeover of a Cisco caller's call ----
replaced_phone 5006
bg caller call "${udp[@]}" --line 5001 --to 5006 --talk 4 --cisco-sis
dialog_made
take_over 5001 yes &
takeover_pid=$!
track_pid $takeover_pid
callee_is SEP00000000D016
[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = SEP00000000D001 ] &&
	[ "$(json "['items'][0]['security']" <"$T/calls.json")" = non_secure ] &&
	[ "$(json "['items'][0]['callee']['transport']" <"$T/calls.json")" = UDP ] &&
	[ "$(json "['items'][0]['callee']['srtp']" <"$T/calls.json")" = false ] ||
	fail "the taken-over call is not shown right: $(cat "$T/calls.json")"
wait $takeover_pid || true
[ "$(cat "$T/takeover")" = "200 RTP/AVP" ] ||
	fail "the newcomer got no plain offer in the 200: $(cat "$T/takeover") $(tail -5 "$T/newcomer.out")"
! grep -q "a=crypto" "$T/newcomer.log" || fail "SDES keys went to the UDP newcomer"
finished caller
wait $replaced_pid || fail "the replaced phone was not released: $(tail -5 "$T/replaced.out")"
has caller "call security NotAuthenticated (Call-Info in 200 to INVITE)" \
	"re-INVITE offering none, answered" "ACK with the SDP answer RTP/AVP sendrecv" \
	"call security NotAuthenticated (Call-Info in UPDATE)" "BYE: 200 OK, call ended"
grep -q "SEP00000000D016 replaces SEP00000000D006, talking to SEP00000000D001, non_secure (delayed offer)" \
	"$T/ucmd.log" || fail "no delayed-offer takeover logged"
! grep -q "inline:" "$T/ucmd.log" "$T"/*.out || fail "an SRTP key was printed"
no_calls
pass "a delayed-offer INVITE with Replaces takes the call over: the caller gets a re-INVITE without SDP, its offer (keys removed) reaches the newcomer in the 200, the newcomer's answer reaches the caller in the ACK, the call shows the new phone as non_secure and the Cisco caller is told, the replaced phone gets BYE"

# ---- delayed-offer takeover between encrypted phones over TLS ----
: >"$T/dialog"
bg replaced answer $(tls_of SEP00000000D012) --line 5012 --dialog-file "$T/dialog" --cisco-sis
bg caller call $(tls_of SEP00000000D011) --line 5011 --to 5012 --srtp --talk 4 --cisco-sis
dialog_made
bg newcomer call $(tls_of SEP00000000D022) --line 5012 --to 5011 --srtp --late --talk 10 \
	--cisco-sis --replaces "$(cat "$T/dialog")"
callee_is SEP00000000D022 encrypted

[ "$(json "['items'][0]['security']" <"$T/calls.json")" = encrypted ] &&
	[ "$(json "['items'][0]['callee']['transport']" <"$T/calls.json")" = TLS ] &&
	[ "$(json "['items'][0]['callee']['srtp']" <"$T/calls.json")" = true ] ||
	fail "the taken-over call is not encrypted: $(cat "$T/calls.json")"
finished caller
finished replaced
wait "${pids[newcomer]}" || true
has newcomer "calling 5011 with no offer (delayed offer), replacing a dialog" \
	"INVITE: 200 OK, offer RTP/SAVP sendrecv, SDES" "ACK sent with the answer RTP/SAVP sendrecv, SDES" \
	"call security Encrypted (Call-Info in 200 to INVITE)" \
	"call security Encrypted (Call-Info in UPDATE)" "the other side hung up first"
has caller "re-INVITE offering none, answered" "ACK with the SDP answer RTP/SAVP sendrecv, SDES" \
	"call security Encrypted (Call-Info in UPDATE)" "BYE: 200 OK, call ended"
has replaced "BYE, the other side hung up"
grep -q "SEP00000000D022 replaces SEP00000000D012, talking to SEP00000000D011, encrypted (delayed offer)" \
	"$T/ucmd.log" || fail "no encrypted takeover logged"
! grep -q "inline:" "$T/ucmd.log" "$T"/*.out || fail "an SRTP key was printed"
no_calls
pass "between encrypted TLS phones, a delayed-offer takeover (ucm-phone --late --replaces) gets the caller's SRTP offer with its SDES key, answers it in the ACK, and the call stays encrypted; both Cisco phones are told"

# ---- the remaining party refuses the re-INVITE: the original call stays ----
replaced_phone 5006
timeout 30 sipp -sf "$sc/uac_call_refuse_reinvite.xml" "${common[@]}" -p "$(free_port)" \
	-key line 5001 -key callee 5006 "127.0.0.1:$SIP_PORT" >"$T/refuser.out" 2>&1 &
refuser_pid=$!
track_pid $refuser_pid
dialog_made
take_over 5001 yes
[ "$(cat "$T/takeover")" = 488 ] || fail "the newcomer was not refused: $(cat "$T/takeover")"
callee_is SEP00000000D006
[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = SEP00000000D001 ] &&
	[ "$(json "['items'][0]['state']" <"$T/calls.json")" = connected ] ||
	fail "the original call is gone: $(cat "$T/calls.json")"
grep -q "SEP00000000D001 refused the takeover by SEP00000000D016 (488)" "$T/ucmd.log" ||
	fail "no refused takeover logged"
wait $refuser_pid || fail "the caller's BYE did not end the call: $(tail -5 "$T/refuser.out")"
wait $replaced_pid || fail "the original callee did not get the BYE: $(tail -5 "$T/replaced.out")"
no_calls
pass "a remaining party refusing the re-INVITE (488) leaves the original call as it was: the newcomer gets 488, the caller's BYE still reaches the original callee"

# ---- the newcomer's ACK brings no answer: all three dialogs end ----
replaced_phone 5006
bg caller call "${udp[@]}" --line 5001 --to 5006 --talk 6
dialog_made
take_over 5001 no
[ "$(cat "$T/takeover")" = "200 RTP/AVP" ] || fail "the newcomer was not answered: $(cat "$T/takeover")"
grep -q "BYE sip:" "$T/newcomer.log" || fail "the newcomer got no BYE"
wait $replaced_pid || fail "the replaced phone was not released: $(tail -5 "$T/replaced.out")"
wait "${pids[caller]}" && fail "the caller's call did not end early: $(cat "$T/caller.out")"
has caller "re-INVITE offering none, answered" "the other side hung up first"
grep -q "SEP00000000D016 sent no SDP answer in its ACK; hanging up" "$T/ucmd.log" ||
	fail "the missing answer was not logged"
no_calls
pass "a newcomer ACK without the SDP answer ends the newcomer's, the caller's and the replaced phone's dialogs; no call is left"
finish
