#!/usr/bin/env bash
# Calls to a Jabber client (spec cisco-device-config §5.5), played by sipp as Jabber4Linux
# does it: a CSF device registered over TCP gets the INVITE as a delayed offer (no SDP) with
# a Session-ID and answers with its own offer. The caller's offer and the client's differ
# (codecs, payload-type numbers): the client gets in the ACK, which carries the Session-ID
# too, the RFC 3264 answer to its offer made from the caller's, and the caller gets in our
# 200 the answer to its offer made from the client's. On a
# line shared with a desk phone only the Jabber client gets the delayed offer (the desk phone
# keeps the early offer) and the CANCEL it gets carries the INVITE's Session-ID. A hold
# re-INVITE towards the client is refused (488) and the call goes on. A caller's own delayed
# offer (ucm-phone --late) gets the client's offer and its ACK's answer goes on to the client.
# A Jabber client calling a busy line is told so as Unified CM tells it: a 183, then a REFER
# in that early dialog asking for the busy tone (DtLineBusyTone), and not a 486.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT
for n in 2101 2102 2103 2104; do C directory-number create $n; done
while read -r name type line; do
	C device create "$name" --type "$type" --lines "$line"
done <<'DEVICES'
SEP00000000B101 cisco_sip_phone 2101
CSFJABBER csf 2102
SEP00000000B103 cisco_sip_phone 2103
CSFSHARED csf 2103
SEP00000000B104 cisco_sip_phone 2104
DEVICES
pass "configured a desk phone caller, a CSF device, a line shared by a desk phone and a CSF, and a desk phone to be busy"

sc=$(dirname "$0")/sipp
common=(-m 1 -i 127.0.0.1 -nostdin -timeout 30 -timeout_error)
# jabber DEVICE LINE SCENARIO: the client registers LINE over TCP and takes calls with
# SCENARIO for 15 s, tracing its messages to $T/DEVICE.log; "ok" lands in $T/DEVICE.ok.
jabber() {
	: >"$T/$1.reg"
	rm -f "$T/$1.ok"
	timeout 30 sipp -sf "$sc/jabber_register.xml" -oocsf "$sc/$3" "${common[@]}" -t t1 \
		-p "$(free_port)" -d 15000 -key device "$1" -key line "$2" \
		-key result_file "$T/$1.reg" -key ok_file "$T/$1.ok" -trace_msg \
		-message_file "$T/$1.log" -trace_err -error_file "$T/$1.err" \
		"127.0.0.1:$SIP_PORT" >"$T/$1.out" 2>&1 &
	eval "${1}_pid=$!"
	track_pid $!
	for _ in $(seq 1 50); do
		[ -s "$T/$1.reg" ] && [ "$(cat "$T/$1.reg")" = 200 ] && return 0
		sleep 0.1
	done
	fail "$1 did not register over TCP: $(tail -5 "$T/$1.out")"
}
# done_ok DEVICE: the client's scenario went to its end (and wrote ok) without a failed check
# (sipp reports those in the error file and goes on); the client leaves.
done_ok() {
	for _ in $(seq 1 50); do
		if grep -qi "regexp" "$T/$1.err" 2>/dev/null; then
			fail "$1 failed a check: $(grep -i "regexp" "$T/$1.err" | head -n 3)"
		elif [ -s "$T/$1.ok" ]; then
			local pid=${1}_pid
			kill "${!pid}" 2>/dev/null || true
			wait "${!pid}" 2>/dev/null || true
			return 0
		fi
		sleep 0.1
	done
	fail "$1 failed its checks: $(tail -n 5 "$T/$1.err" 2>/dev/null)"
}
# session_ids LOG METHOD...: the first part of the Session-ID of each sent METHOD request
# received by the client, one per line.
session_ids() {
	python3 - "$@" <<'PY'
import re, sys
trace = open(sys.argv[1], errors="replace").read()
for method in sys.argv[2:]:
    m = re.search(r"message received.*?\n" + method + r" sip:[^\n]*\n((?:[^\n]+\n)*?)\r?\n", trace, re.S)
    sid = re.search(r"^Session-ID: ([0-9a-f]{32});remote=", m.group(1), re.M) if m else None
    print(sid.group(1) if sid else "none")
PY
}

# sdp_in LOG MESSAGE: the SDP body of the first MESSAGE ("200": our 200 OK to INVITE 1,
# "ACK") received in a sipp trace, without CRs, the m= ports as PORT.
sdp_in() {
	python3 - "$@" <<'PY'
import re, sys
trace = open(sys.argv[1], errors="replace").read().replace("\r", "")
start = {"200": r"SIP/2\.0 200 OK\n(?:[^\n]+\n)*?CSeq: 1 INVITE\n", "ACK": r"ACK sip:[^\n]*\n"}
m = re.search(r"message received[^\n]*\n+" + start[sys.argv[2]] + r"(?:[^\n]+\n)*?\n(v=0\n.*?)\n*(?:-{10}|\Z)", trace, re.S)
print(re.sub(r"^(m=\w+) [1-9][0-9]* ", r"\1 PORT ", m.group(1).strip(), flags=re.M) if m else "none")
PY
}

# expect_sdp LOG MESSAGE WHAT EXPECTED: fails unless sdp_in LOG MESSAGE is EXPECTED.
expect_sdp() {
	local got
	got="$(sdp_in "$1" "$2")"
	[ "$got" = "$4" ] || fail "$3 does not carry the expected answer:
$got"
}

# 1. The desk phone 2101 calls the Jabber client on 2102, offering PCMU, G722 and telephone
# events at 101; the client offers opus at 114, PCMU and telephone events at 96.
sed -e 's/RTP\/AVP 0$/RTP\/AVP 0 9 101/' -e 's/^\( *\)a=rtpmap:0 PCMU\/8000$/&\n\1a=rtpmap:9 G722\/8000\n\1a=rtpmap:101 telephone-event\/8000\n\1a=fmtp:101 0-15/' \
	"$sc/uac_register_call.xml" >"$T/caller_offer.xml"
jabber CSFJABBER 2102 jabber_uas.xml
timeout 30 sipp -sf "$T/caller_offer.xml" "${common[@]}" -t u1 -p "$(free_port)" \
	-key line 2101 -key callee 2102 -trace_msg -message_file "$T/caller.log" \
	"127.0.0.1:$SIP_PORT" >"$T/caller.out" 2>&1 || fail "call 2101 -> 2102 failed: $(tail -5 "$T/caller.out")"
done_ok CSFJABBER
pass "the Jabber client got an INVITE with a Session-ID and no SDP, and an ACK with its Session-ID and an SDP answer"
read -r inv ack < <(session_ids "$T/CSFJABBER.log" INVITE ACK | paste -sd' ')
[ "$inv" != none ] && [ "$inv" = "$ack" ] || fail "Session-ID of INVITE ($inv) and ACK ($ack) differ"
grep -q "^Session-ID: $inv;remote=0123456789abcdef0123456789abcdef" "$T/CSFJABBER.log" ||
	fail "the ACK does not name the client's Session-ID as remote"
pass "the ACK carries the INVITE's Session-ID, and the client's own as remote"
# The answers: the formats both have in the answering side's order with its numbers (each
# side receives on the numbers of its own SDP), its address and o=, the right direction.
expect_sdp "$T/caller.log" 200 "the caller's 200 OK" "v=0
o=Jabber4Linux 7781 7781 IN IP4 127.0.0.1
s=Jabber4Linux
c=IN IP4 127.0.0.1
t=0 0
m=audio PORT RTP/AVP 0 96
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=sendrecv"
pass "the caller got in our 200 OK the answer to its offer made from the Jabber client's (PCMU, events at 96)"
expect_sdp "$T/CSFJABBER.log" ACK "the client's ACK" "v=0
o=caller 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio PORT RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"
pass "the Jabber client got in the ACK the answer to its offer made from the caller's (PCMU, events at 101)"
grep -q "call 1: 2101 (SEP00000000B101) answered on CSFJABBER" "$T/ucmd.log" || fail "answer not logged"
pass "the call was answered and hung up (BYE answered as 102 BYE)"

# 2. While the call lasts it is listed; a hold re-INVITE or UPDATE is refused (488), not relayed
# to the client (which would take it for a new call, or ignore it), and the call goes on until
# the BYE.
jabber CSFJABBER 2102 jabber_uas.xml
timeout 30 sipp -sf "$sc/uac_call_hold_refused.xml" "${common[@]}" -t u1 -p "$(free_port)" \
	-key line 2101 -key callee 2102 "127.0.0.1:$SIP_PORT" >"$T/hold.out" 2>&1 &
hold_pid=$!
track_pid $hold_pid
call_listed "['callee']['device']" "['callee']['transport']" "CSFJABBER TCP" ||
	fail "no connected call to CSFJABBER over TCP: $(cat "$T/calls.json")"
pass "GET /api/v1/calls shows the call to the Jabber client (over TCP) while it lasts"
wait "$hold_pid" || fail "the hold was not refused or the call broke: $(tail -5 "$T/hold.out")"
done_ok CSFJABBER
pass "a hold re-INVITE or UPDATE towards the Jabber client is refused with 488, a refreshing UPDATE answered 200 by the server, an INFO refused with 501; the call goes on to its BYE"
[ "$(api GET calls | json "['total']")" = 0 ] || fail "call still listed after BYE"
pass "the call is gone after BYE"

# 3. Shared line 2103: the desk phone gets the early offer and answers; the Jabber client got
# a delayed offer and is cancelled with its Session-ID.
jabber CSFSHARED 2103 jabber_uas_cancel.xml
DP=$(free_port)
timeout 20 sipp -sf "$sc/register_named.xml" "${common[@]}" -t u1 -p "$DP" -key line 2103 \
	-key device SEP00000000B103 \
	-key result_file "$T/rdesk" "127.0.0.1:$SIP_PORT" >/dev/null 2>&1 || true
[ "$(read_result "$T/rdesk")" = 200 ] || fail "the desk phone of 2103 did not register"
timeout 30 sipp -sf "$sc/uas_offer_check.xml" "${common[@]}" -t u1 -p "$DP" -d 500 -trace_msg -message_file "$T/desk.log" \
	-trace_err -error_file "$T/desk.err" >"$T/desk.out" 2>&1 &
desk_pid=$!
track_pid $desk_pid
sleep 0.3
timeout 30 sipp -sf "$sc/uac_register_call.xml" "${common[@]}" -t u1 -p "$(free_port)" \
	-key line 2101 -key callee 2103 "127.0.0.1:$SIP_PORT" >"$T/caller3.out" 2>&1 ||
	fail "call 2101 -> 2103 failed: $(tail -5 "$T/caller3.out")"
wait "$desk_pid" || fail "the desk phone did not get an early offer: $(head -c 600 "$T/desk.err"; tail -n 40 "$T/desk.log")"
grep -q "ringing 2 device(s)" "$T/ucmd.log" || fail "the shared line did not ring both devices"
pass "on a shared line the desk phone still gets the early offer (SDP, no Session-ID) and answers"
done_ok CSFSHARED
read -r inv cancel < <(session_ids "$T/CSFSHARED.log" INVITE CANCEL | paste -sd' ')
[ "$inv" != none ] && [ "$inv" = "$cancel" ] || fail "Session-ID of INVITE ($inv) and CANCEL ($cancel) differ"
pass "the Jabber client on the shared line got a delayed offer and a CANCEL with the INVITE's Session-ID"
# 4. A caller making a delayed offer itself (ucm-phone --late): the client's offer goes to
# it in our 200, and the answer of its ACK to the client in the client's ACK.
jabber CSFJABBER 2102 jabber_uas.xml
timeout 20 "$UCM_PHONE" call --server "127.0.0.1:$SIP_PORT" --transport udp --timeout 15 \
	--line 2101 --to 2102 --late --talk 1 >"$T/late.out" 2>&1 ||
	fail "the delayed-offer call failed: $(cat "$T/late.out")"
grep -q "ACK sent with the answer" "$T/late.out" || fail "the caller did not answer: $(cat "$T/late.out")"
done_ok CSFJABBER
python3 - "$T/CSFJABBER.log" <<'PY' || fail "the client's ACK does not carry the caller's answer"
import re, sys
trace = open(sys.argv[1], errors="replace").read()
ack = re.search(r"message received.*?\nACK sip:.*?\n\r?\n(.*?)\n-{10}", trace, re.S)
sys.exit(0 if ack and "o=ucm-phone" in ack.group(1) and "m=audio" in ack.group(1) else 1)
PY
pass "a delayed-offer caller gets the client's offer, and its answer reaches the client in the ACK"

# 5. The Jabber client calls a busy line (the desk phone 2104 answers 486): it gets no 486,
# which it would show as a failed call, but a 183 and, in that early dialog, a REFER asking
# for the busy tone; while it hears the tone the call is listed as busy; its CANCEL ends it.
DP=$(free_port)
timeout 20 sipp -sf "$sc/register_named.xml" "${common[@]}" -t u1 -p "$DP" -key line 2104 \
	-key device SEP00000000B104 -key result_file "$T/rbusy" "127.0.0.1:$SIP_PORT" >/dev/null 2>&1 || true
[ "$(read_result "$T/rbusy")" = 200 ] || fail "the desk phone of 2104 did not register"
timeout 30 sipp -sf "$sc/uas_busy.xml" "${common[@]}" -t u1 -p "$DP" >"$T/busy_desk.out" 2>&1 &
busy_desk_pid=$!
track_pid $busy_desk_pid
sleep 0.3
timeout 30 sipp -sf "$sc/jabber_call_busy.xml" "${common[@]}" -t t1 -p "$(free_port)" -d 1500 \
	-key device CSFJABBER -key line 2102 -key callee 2104 -key ok_file "$T/busy.ok" \
	-trace_msg -message_file "$T/busy.log" -trace_err -error_file "$T/busy.err" \
	"127.0.0.1:$SIP_PORT" >"$T/busy.out" 2>&1 &
busy_pid=$!
track_pid $busy_pid
call_listed "['state']" "['caller']['device']" "busy CSFJABBER" ||
	fail "the call to the busy line is not listed as busy: $(cat "$T/calls.json")"
pass "GET /api/v1/calls lists the call as busy while the Jabber client hears the busy tone"
wait "$busy_pid" || fail "the Jabber client was not told the line is busy: $(tail -5 "$T/busy.out"; head -c 600 "$T/busy.err" 2>/dev/null)"
wait "$busy_desk_pid" || fail "the busy desk phone's sipp failed: $(tail -5 "$T/busy_desk.out")"
[ -s "$T/busy.ok" ] && ! grep -qi "regexp" "$T/busy.err" 2>/dev/null ||
	fail "the Jabber client failed a check: $(head -c 600 "$T/busy.err")"
python3 - "$T/busy.log" <<'PY' || fail "the busy-tone REFER is not in the 183's early dialog, or they lack our Session-ID"
import re, sys
trace = open(sys.argv[1], errors="replace").read().replace("\r", "")
def received(start):
    m = re.search(r"message received[^\n]*\n+(" + start + r"[^\n]*\n(?:[^\n]+\n)*)", trace)
    return m.group(1) if m else ""
def sent(start):
    m = re.search(r"message sent[^\n]*\n+(" + start + r"[^\n]*\n(?:[^\n]+\n)*)", trace)
    return m.group(1) if m else ""
def hdr(msg, name):
    m = re.search(r"^" + name + r": *(.*)$", msg, re.M | re.I)
    return m.group(1) if m else None
def tag(value):
    m = re.search(r";tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None
invite, early, refer = sent("INVITE "), received("SIP/2.0 183 "), received("REFER ")
ok = (refer and early and invite and hdr(refer, "Call-ID") == hdr(invite, "Call-ID")
      and tag(hdr(refer, "From")) == tag(hdr(early, "To")) is not None
      and tag(hdr(refer, "To")) == tag(hdr(invite, "From"))
      and refer.split()[1].startswith("sip:2102@"))
# Both carry our Session-ID with the client's as remote (RFC 7989), the same in both.
ours = [re.fullmatch(r"([0-9a-f]{32});remote=0123456789abcdef0123456789abcdef", hdr(m, "Session-ID") or "")
        for m in (early, refer)]
ok = ok and all(ours) and ours[0].group(1) == ours[1].group(1)
sys.exit(0 if ok else 1)
PY
pass "a Jabber client calling a busy line gets a 183 and then, in its early dialog, a REFER asking for DtLineBusyTone, not a 486; both carry our Session-ID with the client's as remote"
grep -q "2104 is busy; busy tone to CSFJABBER" "$T/ucmd.log" || fail "busy tone not logged"
grep -q "cancelled by CSFJABBER" "$T/ucmd.log" || fail "the client's CANCEL did not end the call"
[ "$(api GET calls | json "['total']")" = 0 ] || fail "call still listed after the CANCEL"
pass "the client's CANCEL (To with the 183's tag) gets 200 and 487 and ends the call"
stop_ucmd # under ASan, a leak fails the test here
finish
