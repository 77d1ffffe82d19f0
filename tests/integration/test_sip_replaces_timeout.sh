#!/usr/bin/env bash
# A phone taking a call over with a delayed-offer INVITE with Replaces that never ACKs our 200
# (which carries the remaining party's offer): after 64*T1 (32 s, RFC 3261 §13.3.1.4) ucmd
# gives up on it and, the remaining party's offer being unanswered, ends all three dialogs
# (the newcomer's, the caller's and the replaced phone's); no call is left.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT SIP_TLS_PORT
for n in 5001 5006; do C directory-number create $n; done
for d in SEP00000000D001:5001 SEP00000000D006:5006 SEP00000000D016:5006; do
	C device create "${d%:*}" --type cisco_sip_phone --lines "${d#*:}"
done
pass "two phones on line 5006"

source "$(dirname "$0")/lib_phone.sh"
replaced_phone 5006 -timeout 45
# (not bg: its 25 s limit is shorter than the wait for the ACK)
timeout 50 "$UCM_PHONE" call --server "127.0.0.1:$SIP_PORT" --transport udp --timeout 50 \
	--line 5001 --to 5006 --talk 45 >"$T/caller.out" 2>&1 &
caller_pid=$!
track_pid $caller_pid
dialog_made
timeout 50 sipp -sf "$sc/uac_replaces_late.xml" -m 1 -t u1 -i 127.0.0.1 -nostdin -timeout 45 \
	-timeout_error -p "$(free_port)" -key line 5006 -key device SEP00000000D016 \
	-key callee 5001 -key answer never -key replaces "$(cat "$T/dialog")" \
	-key result_file "$T/code" "127.0.0.1:$SIP_PORT" >"$T/newcomer.out" 2>&1 &
newcomer_pid=$!
track_pid $newcomer_pid
[ "$(read_result "$T/code")" = "200 RTP/AVP" ] || fail "the newcomer got no offer: $(cat "$T/code")"
api GET calls >"$T/calls.json"
[ "$(json "['total']" <"$T/calls.json")" = 1 ] || fail "no call: $(cat "$T/calls.json")"
pass "the newcomer got the caller's offer in the 200 and does not ACK"
wait $newcomer_pid || fail "the newcomer got no BYE: $(tail -5 "$T/newcomer.out")"
wait $replaced_pid || fail "the replaced phone got no BYE: $(tail -5 "$T/replaced.out")"
wait $caller_pid && fail "the caller's call did not end early: $(cat "$T/caller.out")"
has caller "re-INVITE offering none, answered" "the other side hung up first"
grep -q "SEP00000000D016 never ACKed the takeover; hanging up" "$T/ucmd.log" ||
	fail "the missing ACK was not logged"
no_calls
pass "no ACK within 32 s: the newcomer, the caller and the replaced phone get BYE; no call is left"
finish
