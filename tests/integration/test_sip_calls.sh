#!/usr/bin/env bash
# Calls through the B2BUA with sipp on both ends: a call answered and hung up (and seen at
# /api/v1/calls while it lasts), an unknown number (404), a number with nobody registered
# (480), a busy callee (486), hold and resume, a caller whose INVITE is challenged for
# digest, a shared line ringing two devices where the second gets CANCEL when the first
# answers, a blind transfer, a caller giving up while the callee rings (and one whose callee's
# 200 crosses the CANCEL), an INVITE that expires unanswered, hold and resume by UPDATE, a
# callee's UPDATE while it rings; and the connection events that call observers (CTI) are
# told of all these, as the debug-level call trace shows.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

SIP_PORT=$(free_port)
export SIP_PORT
start_ucmd --log-level debug # the call trace: every connection event, as CTI observes it
init_admin
for n in 2001 2002 2003 2004 2005; do C directory-number create $n; done
C device create SEP00000000A001 --type cisco_sip_phone --lines 2001
C device create SEP00000000A002 --type cisco_sip_phone --lines 2002
C device create SEP00000000A003 --type cisco_sip_phone --lines 2003
C device create SEP00000000A004 --type cisco_sip_phone --lines 2004
C device create SEP00000000A014 --type cisco_sip_phone --lines 2004
C device create SEP00000000A005 --type cisco_sip_phone --lines 2005
pass "configured five lines, 2004 shared by two devices"

sc=$(dirname "$0")/sipp
common=(-m 1 -t u1 -i 127.0.0.1 -nostdin -timeout 20 -timeout_error)
# register LINE PORT: the device of LINE registers from PORT (and sipp leaves).
register() {
	: >"$T/r"
	timeout 20 sipp -sf "$sc/register_plain.xml" "${common[@]}" -p "$2" -key line "$1" \
		-key expires 3600 -key result_file "$T/r" "127.0.0.1:$SIP_PORT" >/dev/null 2>&1 || true
	[ "$(read_result "$T/r")" = 200 ] || fail "line $1 did not register from port $2"
}
# callee NAME SCENARIO PORT [sipp options...]: a sipp answering on PORT in the background.
callee() {
	local scenario=(-sn uas)
	[ "$2" != uas ] && scenario=(-sf "$sc/$2")
	timeout 30 sipp "${scenario[@]}" "${common[@]}" -p "$3" "${@:4}" \
		-trace_err -error_file "$T/$1.err" >"$T/$1.out" 2>&1 &
	eval "$1_pid=$!"
	track_pid $!
	sleep 0.3
}
# caller LINE CALLEE [sipp options...]: registers LINE and calls CALLEE.
caller() {
	local line=$1 target=$2
	shift 2
	timeout 30 sipp -sf "$sc/uac_register_call.xml" "${common[@]}" -p "$(free_port)" \
		-key line "$line" -key callee "$target" "$@" "127.0.0.1:$SIP_PORT" >"$T/caller.out" 2>&1
}
refused() {
	: >"$T/code"
	timeout 30 sipp -sf "$sc/uac_register_call_refused.xml" "${common[@]}" -p "$(free_port)" \
		-key line 2001 -key callee "$1" -key result_file "$T/code" "127.0.0.1:$SIP_PORT" \
		>/dev/null 2>&1 || true
	read_result "$T/code"
}

P2=$(free_port)
register 2002 "$P2"
callee answer uas "$P2"
caller 2001 2002 -trace_msg -message_file "$T/first_call.log" ||
	fail "call 2001 -> 2002 failed: $(tail -5 "$T/caller.out")"
wait "$answer_pid" || fail "the callee's sipp failed: $(tail -5 "$T/answer.out")"
grep -q "call 1: 2001 (SEP00000000A001) answered on SEP00000000A002, non_secure" "$T/ucmd.log" ||
	fail "answer not logged"
pass "2001 calls 2002: INVITE, 180, 200, ACK and BYE pass through both legs"
grep -q "^Call-Info: <urn:x-cisco-remotecc:callinfo>;security=NotAuthenticated" "$T/first_call.log" ||
	fail "the 200 OK did not tell the caller the call's security"
pass "a caller advertising X-cisco-sis is told the call's security (Call-Info) in the 200 OK"

# While a call lasts it is listed with both legs and its security.
sed 's/<pause milliseconds="500"\/>/<pause milliseconds="3000"\/>/' "$sc/uac_register_call.xml" \
	>"$T/long_call.xml"
callee answer uas "$P2"
timeout 30 sipp -sf "$T/long_call.xml" "${common[@]}" -p "$(free_port)" -key line 2001 \
	-key callee 2002 "127.0.0.1:$SIP_PORT" >"$T/long.out" 2>&1 &
long_pid=$!
track_pid $long_pid
for _ in $(seq 1 30); do
	api GET calls >"$T/calls.json"
	[ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
		[ "$(json "['items'][0]['state']" <"$T/calls.json")" = connected ] && break
	sleep 0.1
done
[ "$(json "['items'][0]['state']" <"$T/calls.json")" = connected ] || fail "no connected call: $(cat "$T/calls.json")"
[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = SEP00000000A001 ] || fail "caller"
[ "$(json "['items'][0]['callee']['device']" <"$T/calls.json")" = SEP00000000A002 ] || fail "callee"
[ "$(json "['items'][0]['security']" <"$T/calls.json")" = non_secure ] || fail "security"
pass "GET /api/v1/calls shows the connected call, both devices and its security"
wait "$long_pid" || fail "the long call failed"
wait "$answer_pid" || true
[ "$(api GET calls | json "['total']")" = 0 ] || fail "call still listed after BYE"
pass "the call is gone after BYE"

[ "$(refused 9999)" = 404 ] || fail "unknown number not 404"
pass "an unknown number gets 404"
[ "$(refused 2003)" = 480 ] || fail "unregistered number not 480"
pass "a number with no registered device gets 480"

P5=$(free_port)
register 2005 "$P5"
callee busy uas_busy.xml "$P5"
[ "$(refused 2005)" = 486 ] || fail "busy callee not relayed as 486"
wait "$busy_pid" || fail "the busy callee's sipp failed"
pass "a busy callee's 486 reaches the caller"

# Hold and resume: re-INVITEs pass from one leg to the other, and the held leg shows.
callee holder uas_hold.xml "$P2"
timeout 30 sipp -sf "$sc/uac_call_hold.xml" "${common[@]}" -p "$(free_port)" -key line 2001 \
	-key callee 2002 "127.0.0.1:$SIP_PORT" >"$T/hold.out" 2>&1 &
hold_pid=$!
track_pid $hold_pid
held=""
for _ in $(seq 1 40); do
	held=$(api GET calls | json "['items'][0]['caller']['held']" 2>/dev/null || true)
	[ "$held" = true ] && break
	sleep 0.1
done
[ "$held" = true ] || fail "the held call was not shown as held"
wait "$hold_pid" || fail "hold/resume call failed: $(tail -5 "$T/hold.out")"
wait "$holder_pid" || fail "the held callee's sipp failed: $(tail -5 "$T/holder.out")"
pass "hold and resume re-INVITEs are relayed to the other leg; the held leg is shown"

# INFO within the call (RFC 6086) goes to the other party with its body, Content-Type and
# Info-Package; that party's answer comes back, a refusal included.
callee infoee uas_info.xml "$P2"
timeout 30 sipp -sf "$sc/uac_call_info.xml" "${common[@]}" -p "$(free_port)" -key line 2001 \
	-key callee 2002 -trace_err -error_file "$T/info.err" "127.0.0.1:$SIP_PORT" \
	>"$T/info.out" 2>&1 || fail "INFO call failed: $(tail -5 "$T/info.out"; cat "$T/info.err")"
wait "$infoee_pid" || fail "the callee got no INFO as sent: $(cat "$T/infoee.err")"
pass "INFO is relayed to the other party (DTMF as application/dtmf-relay, an Info-Package), its 200 or 469 comes back, and a second INFO while one is pending gets 500"

# A device whose profile asks for digest has its INVITE challenged too.
printf 'Secret2026\n' >"$T/dc"
C end-user create u2006 --last-name Six --digest-credentials-file "$T/dc"
C directory-number create 2006
C phone-security-profile create "Desk Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true
C device create SEP00000000A006 --type cisco_sip_phone --lines 2006 --digest-user u2006 \
	--phone-security-profile "Desk Digest"
# sipp 3.6 answers the first challenge whatever its algorithm, and knows only MD5.
C service-parameter update sip_digest_algorithms --value MD5,SHA-256
callee answer uas "$P2"
timeout 30 sipp -sf "$sc/uac_register_auth_call.xml" "${common[@]}" -p "$(free_port)" \
	-key line 2006 -key callee 2002 -au u2006 -ap Secret2026 "127.0.0.1:$SIP_PORT" \
	>"$T/caller.out" 2>&1 || fail "digest caller failed: $(tail -5 "$T/caller.out")"
wait "$answer_pid" || fail "the callee's sipp failed"
grep -q "2006 (SEP00000000A006) answered on SEP00000000A002" "$T/ucmd.log" || fail "no answer"
pass "a digest device's INVITE is challenged, and the authenticated INVITE connects"

P4=$(free_port)
P14=$(free_port)
register 2004 "$P4"
register 2004 "$P14"
callee ringer uas_ring_cancel.xml "$P14"
# Whichever answers first wins; a CANCEL waits for the other's 180 if need be (§9.1).
callee answer uas "$P4"
caller 2001 2004 || fail "call to the shared line failed: $(tail -5 "$T/caller.out")"
wait "$ringer_pid" || fail "the second device did not get CANCEL: $(tail -5 "$T/ringer.out")"
wait "$answer_pid" || true
grep -q "ringing 2 device(s)" "$T/ucmd.log" || fail "shared line did not ring both devices"
pass "a shared line rings both devices; the second gets CANCEL when the first answers"

# Blind transfer: 2002 answers 2001 and REFERs it to 2003; 2003 answers, 2001 is re-INVITEd
# with 2003's media, 2002 is told (NOTIFY 200) and released; 2001 then hangs up on 2003.
P3=$(free_port)
register 2003 "$P3"
callee transferor uas_refer.xml "$P2" -key target 2003 -key server "127.0.0.1:$SIP_PORT" \
	-trace_msg -message_file "$T/transferor.log"
sipp -sn uas "${common[@]}" -p "$P3" >"$T/target.out" 2>&1 &
target_pid=$!
track_pid $target_pid
sleep 0.3
timeout 30 sipp -sf "$sc/uac_call_transferred.xml" "${common[@]}" -p "$(free_port)" -trace_msg -message_file "$T/transferee.log" \
	-key line 2001 -key callee 2002 "127.0.0.1:$SIP_PORT" >"$T/transferee.out" 2>&1 ||
	fail "the transferred caller failed: $(tail -5 "$T/transferee.out")"
wait "$transferor_pid" || fail "the transferor failed: $(tail -5 "$T/transferor.out")"
wait "$target_pid" || fail "the transfer target failed: $(tail -5 "$T/target.out")"
grep -q "SEP00000000A002 transfers SEP00000000A001 to 2003" "$T/ucmd.log" || fail "no transfer"
grep -q "SEP00000000A001 now talks to SEP00000000A003" "$T/ucmd.log" || fail "not connected"
python3 - "$T/transferor.log" <<'PY' || fail "the transferor was not told of the success in a NOTIFY"
import re, sys
# A received NOTIFY ending the subscription, whose message/sipfrag body is "SIP/2.0 200 OK".
trace = open(sys.argv[1], errors="replace").read()
sys.exit(0 if re.search(r"message received.*?NOTIFY sip:[^\n]*\n(?:[^\n]+\n)*?"
                        r"Subscription-State: terminated.*?\n\r?\nSIP/2\.0 200 OK", trace,
                        re.S) else 1)
PY
pass "a blind transfer (REFER) connects the caller to the new number and releases the transferor"

# A caller gives up while the callee rings: the call is listed as ringing, with the ringing
# device, until the CANCEL.
callee ringer uas_ring_cancel.xml "$P5"
timeout 30 sipp -sf "$sc/uac_register_call_cancel.xml" "${common[@]}" -p "$(free_port)" -d 2000 \
	-key line 2001 -key callee 2005 "127.0.0.1:$SIP_PORT" >"$T/giveup.out" 2>&1 &
giveup_pid=$!
track_pid $giveup_pid
call_listed "['state']" "['alerting'][0]['device']" "ringing SEP00000000A005" ||
	fail "the ringing call is not listed with its ringing device: $(cat "$T/calls.json")"
wait "$giveup_pid" || fail "the caller's CANCEL failed: $(tail -5 "$T/giveup.out")"
wait "$ringer_pid" || fail "the ringing callee was not cancelled: $(tail -5 "$T/ringer.out")"
[ "$(api GET calls | json "['total']")" = 0 ] || fail "call still listed after the CANCEL"
pass "a ringing call is listed with the device that rings; the caller's CANCEL reaches it and ends the call"
callee crossed uas_answer_cancelled.xml "$P5"
timeout 30 sipp -sf "$sc/uac_register_call_cancel.xml" "${common[@]}" -p "$(free_port)" -d 500 \
	-key line 2001 -key callee 2005 "127.0.0.1:$SIP_PORT" >"$T/giveup.out" 2>&1 ||
	fail "the caller's CANCEL failed: $(tail -5 "$T/giveup.out")"
wait "$crossed_pid" || fail "the callee whose 200 crossed the CANCEL got no ACK and BYE: $(tail -5 "$T/crossed.out")"
pass "a callee whose 200 crosses the caller's CANCEL gets the ACK and a BYE: it is not left in a call nobody is in"

# An INVITE with Expires: 2 to a callee that rings and never answers: when it expires the
# caller gets 487 and the callee a CANCEL (RFC 3261 §13.3.1).
callee ringer uas_ring_cancel.xml "$P5"
started=$(date +%s%N)
timeout 30 sipp -sf "$sc/uac_register_call_expires.xml" "${common[@]}" -p "$(free_port)" \
	-key line 2001 -key callee 2005 -key expires 2 "127.0.0.1:$SIP_PORT" >"$T/expires.out" 2>&1 ||
	fail "the caller did not get 487 when its INVITE expired: $(tail -5 "$T/expires.out")"
waited=$((($(date +%s%N) - started) / 1000000))
[ "$waited" -ge 1900 ] || fail "the INVITE ended after $waited ms, before it expired"
wait "$ringer_pid" || fail "the ringing callee was not cancelled: $(tail -5 "$T/ringer.out")"
grep -q "call 12: not answered before the INVITE expired; 487" "$T/ucmd.log" || fail "expiry not logged"
pass "an INVITE that expires unanswered (Expires: 2) gets 487 after ${waited} ms; the ringing callee gets CANCEL"

# Hold and resume by UPDATE (RFC 3311): each goes on to the other party as an UPDATE with its
# offer and the answer comes back in the 200; an UPDATE without SDP (a session refresh) too.
callee updated uas_update.xml "$P2"
timeout 30 sipp -sf "$sc/uac_call_update.xml" "${common[@]}" -p "$(free_port)" -key line 2001 \
	-key callee 2002 -trace_err -error_file "$T/update.err" "127.0.0.1:$SIP_PORT" \
	>"$T/update.out" 2>&1 || fail "the UPDATE call failed: $(tail -5 "$T/update.out"; cat "$T/update.err" 2>/dev/null)"
wait "$updated_pid" || fail "the callee did not get the UPDATEs: $(tail -5 "$T/updated.out"; cat "$T/updated.err")"
pass "hold, resume and a session refresh by UPDATE are relayed as UPDATEs, each answer coming back in the 200"
callee early uas_early_update.xml "$P2"
caller 2001 2002 || fail "the call with an early UPDATE failed: $(tail -5 "$T/caller.out")"
wait "$early_pid" || fail "the callee's early UPDATE was not answered 200: $(tail -5 "$T/early.out"; cat "$T/early.err")"
pass "a ringing callee's UPDATE without SDP in its early dialog is answered 200, and the call goes on"

# The call trace (log level debug) shows every connection event observers are told, in CSTA's
# words and in order: the calls above are 1 (answered, the caller hangs up), 3 (nobody
# registered), 4 (busy), 5 (hold and resume), 9 (the blind transfer), 10 (cancelled) and 13
# (hold and resume by UPDATE).
A1="SEP00000000A001 on 2001" A2="SEP00000000A002 on 2002" A3="SEP00000000A003 on 2003"
expect_events 1 "answered call" "$(answered "$A1" "$A2")$(cleared "$A1" "$A2")"
expect_events 3 "unregistered number" "OriginatedEvent $A1: connected (newCall)
FailedEvent 2003: fail (destNotObtainable)$(cleared "$A1")"
expect_events 4 "busy number" "OriginatedEvent $A1: connected (newCall)
FailedEvent 2005: fail (busy)$(cleared "$A1")"
held_and_resumed="$(answered "$A1" "$A2")
HeldEvent $A1: hold (normal)
RetrievedEvent $A1: connected (normal)$(cleared "$A1" "$A2")"
expect_events 5 "hold and resume" "$held_and_resumed"
expect_events 13 "hold and resume by UPDATE" "$held_and_resumed"
expect_events 9 "blind transfer" "OriginatedEvent $A1: connected (newCall)
EstablishedEvent $A2: connected (newCall)
DeliveredEvent $A3: alerting (singleStepTransfer)
ConnectionClearedEvent $A2: null (singleStepTransfer)
EstablishedEvent $A3: connected (singleStepTransfer)
TransferedEvent $A1: connected (singleStepTransfer)$(cleared "$A1" "$A3")"
expect_events 10 "cancelled call" "OriginatedEvent $A1: connected (newCall)
DeliveredEvent SEP00000000A005 on 2005: alerting (newCall)$(cleared "$A1" "SEP00000000A005 on 2005")"
pass "call observers are told each connection's events in order: originated, delivered, established, held, retrieved, failed (busy, not obtainable), transferred, cleared"
finish
