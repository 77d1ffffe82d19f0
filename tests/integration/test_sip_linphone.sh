#!/usr/bin/env bash
# A second real SIP user agent against the registrar and the B2BUA: Linphone 5.1 (Debian
# package linphone-cli), headless, as linphone-daemon driven over its unix socket; no sound
# card (its ALSA errors are expected). In a mixed cluster:
#  - two non-secure generic SIP devices whose profile asks for digest register, one over UDP
#    and one over TCP; offered SHA-256 and MD5 (in that order), Linphone answers SHA-256;
#  - one calls the other's directory number, it answers: the call is listed connected with
#    both devices; each side holds and resumes (re-INVITEs with a=sendonly, then a=sendrecv),
#    the API shows the held leg; after hang-up the call is gone from ucmd and both Linphones;
#    a call cancelled while ringing and a declined one (603 relayed) leave no call; an
#    attended transfer (REFER with Replaces) joins the two other Linphones;
#  - two encrypted devices register over TLS with the client certificates the system CA
#    issued to them (no digest) and call each other with SDES-SRTP: the call is encrypted,
#    also after hold and resume; without SRTP an encrypted device gets 488;
#  - a Linphone calls a baresip, and a Linphone transfers (REFER) a call to the baresip;
#  - ucmd stops cleanly, its log free of errors and passwords.
# What Linphone needs here: a home in which it can open its database, a proxy named
# "localhost" for TLS (see below), and calls to URIs in its proxy's domain.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_ua.sh"
command -v linphone-daemon >/dev/null || fail "linphone-daemon is not installed (linphone-cli)"

# The daemons running now (a stopped one leaves the list, so no reused pid is ever signalled).
# SIGINT makes a daemon quit cleanly (it unregisters and removes its socket); SIGKILL after 2 s.
LP_PIDS=()
LP_SOCKETS=()
stop_all_linphone() {
	stop_agents INT "${LP_PIDS[@]}"
	rm -f "${LP_SOCKETS[@]}"
}
# On failure, the SIP messages and events of each Linphone (keys masked).
show_linphone_logs() {
	local d
	[ "$1" = 0 ] && return 0
	for d in "$T"/lp-*/; do
		[ -f "$d/log" ] || continue
		echo "---- $(basename "$d") ----" >&2
		grep -aE '^(Event|[A-Z]+ sip:|SIP/2.0|Authorization|WWW-Auth|a=(send|recv|inact|crypto))' \
			"$d/log" "$d/out" | grep -v "soundcard\|alsa\|database\|bctbx_file" |
			sed 's/inline:[^ ]*/inline:.../' | tail -n "${LP_LOG_LINES:-40}" >&2
	done
}
on_exit() {
	local rc=$?
	set +e
	trap '' PIPE
	stop_all_linphone
	[ -z "${BARESIP_PID:-}" ] || stop_agents TERM "$BARESIP_PID"
	show_linphone_logs $rc
	[ -z "${KEEP_LOGS:-}" ] || cp -r "$T" "$KEEP_LOGS"
	(exit $rc)
	cleanup
}
trap on_exit EXIT

# lp NAME COMMAND...: one command to Linphone NAME over its socket; prints the answer, fails
# unless it is "Status: Ok". The daemon serves one client at a time and has no end-of-answer
# mark: the answer is what came until a short silence.
lp() {
	local name=$1
	shift
	python3 - "$(cat "$T/lp-$name/socket")" "$*" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(0.2)
s.sendall(sys.argv[2].encode() + b"\n")
buf, end = b"", time.time() + 5
while time.time() < end:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        if b"Status:" in buf:
            break
        continue
    if not chunk:
        break
    buf += chunk
text = buf.decode(errors="replace")
print(text.strip())
sys.exit(0 if "Status: Ok" in text else 1)
PY
}

# lp_start NAME TRANSPORT [RC_LINES]: a linphone-daemon in the background in $T/lp-NAME, SIP
# on a free loopback port over TRANSPORT (udp, tcp or tls) only, no video, its own home (the
# daemon starts no SIP stack at all unless it can open its database there), RC_LINES added to
# its [sip] section. Its events go to $T/lp-NAME/out while no client is connected.
lp_start() {
	local name=$1 transport=$2 extra=${3-} dir=$T/lp-$1 sock udp=0 tcp=0 tls=0 pid
	mkdir -p "$dir/home/.local/share/linphone"
	sock=/tmp/ucm-lp-$$-$name
	rm -f "$sock"
	echo "$sock" >"$dir/socket"
	LP_SOCKETS+=("$sock")
	case $transport in
	udp) udp=$(free_port) ;;
	tcp) tcp=$(free_port) ;;
	tls) tls=$(free_port) ;;
	esac
	{
		printf '[sip]\nsip_port=%s\nsip_tcp_port=%s\nsip_tls_port=%s\n' "$udp" "$tcp" "$tls"
		printf 'bind_address=127.0.0.1\nguess_hostname=1\n'
		[ -z "$extra" ] || printf '%s\n' "$extra"
		printf '[rtp]\naudio_rtp_port=%s\n' "$(free_port)"
		printf '[video]\ncapture=0\ndisplay=0\nautomatically_initiate=0\nautomatically_accept=0\n'
		printf '[net]\nfirewall_policy=0\n'
	} >"$dir/rc"
	HOME=$dir/home linphone-daemon --pipe "$(basename "$sock")" --config "$dir/rc" \
		--log "$dir/log" >"$dir/out" 2>&1 &
	pid=$!
	LP_PIDS+=("$pid")
	echo "$pid" >"$dir/pid"
	for _ in $(seq 1 50); do
		lp "$name" version >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || fail "linphone $name exited: $(tail -5 "$dir/out")"
		sleep 0.1
	done
	fail "linphone $name does not answer on $sock"
}

# lp_stop NAME: SIGINT (it unregisters first), SIGKILL if still there after 2 s.
lp_stop() {
	local pid p rest=()
	pid=$(cat "$T/lp-$1/pid")
	stop_agents INT "$pid"
	wait "$pid" 2>/dev/null || true
	for p in "${LP_PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
	LP_PIDS=("${rest[@]}")
	rm -f "$(cat "$T/lp-$1/socket")"
}

# lp_register NAME LINE PROXY [PASSWORD USERID]: registers LINE at ucmd through PROXY (a SIP
# URI) as sip:LINE@ the proxy's host; waits up to 5 s for LinphoneRegistrationOk.
lp_register() {
	local name=$1 line=$2 proxy=$3 host
	host=${proxy#sip:}
	lp "$name" register "sip:$line@${host%%:*}" "$proxy" "${4:-NULL}" "${5:-NULL}" NULL >/dev/null ||
		fail "linphone $name refused to register"
	for _ in $(seq 1 50); do
		lp "$name" register-status ALL | grep -q "State: LinphoneRegistrationOk" && return 0
		sleep 0.1
	done
	fail "linphone $name did not register $line: $(lp "$name" register-status ALL)"
}

# lp_event NAME EVENT [COUNT]: waits up to 5 s until Linphone NAME signalled EVENT COUNT times.
lp_event() {
	for _ in $(seq 1 50); do
		[ "$(grep -c "^Event: $2\$" "$T/lp-$1/out")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	fail "linphone $1 did not signal $2 (${3:-1}): $(grep '^Event' "$T/lp-$1/out" | tr '\n' ' ')"
}

# lp_ring CALLER URI CALLEE [N]: Linphone CALLER calls URI; waits until Linphone CALLEE
# signals its Nth (1st) incoming call.
lp_ring() {
	lp "$1" call "$2" >/dev/null || fail "linphone $1 refused to call $2"
	lp_event "$3" LinphoneCallIncomingReceived "${4:-1}"
}
# lp_answered CALLER URI CALLEE: CALLER calls URI, CALLEE answers; waits for the connected call
# in /api/v1/calls ($T/calls.json).
lp_answered() {
	lp_ring "$1" "$2" "$3"
	lp "$3" answer "$(lp_call_id "$3")" >/dev/null || fail "linphone $3 could not answer"
	connected_call
}

# lp_call_id NAME: the id of NAME's only call (from its last call-state event).
lp_call_id() { grep -o '^Id: [0-9]*' "$T/lp-$1/out" | tail -1 | cut -d' ' -f2; }

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
for n in 5001 5002 5003 5004 5005 5006; do C directory-number create $n; done
printf 'LinSecretA1\n' >"$T/dc-a"
printf 'LinSecretB2\n' >"$T/dc-b"
printf 'LinSecretF6\n' >"$T/dc-f"
C end-user create lin-a --last-name A --digest-credentials-file "$T/dc-a"
C end-user create lin-b --last-name B --digest-credentials-file "$T/dc-b"
C end-user create lin-f --last-name F --digest-credentials-file "$T/dc-f"
C phone-security-profile create "Generic SIP Digest" --device-type generic_sip \
	--enable-digest-authentication true
C phone-security-profile create "Generic SIP Encrypted" --device-type generic_sip \
	--device-security-mode encrypted
C device create linphone-a --type generic_sip --lines 5001 --digest-user lin-a \
	--phone-security-profile "Generic SIP Digest"
C device create linphone-b --type generic_sip --lines 5002 --digest-user lin-b \
	--phone-security-profile "Generic SIP Digest"
C device create linphone-f --type generic_sip --lines 5006 --digest-user lin-f \
	--phone-security-profile "Generic SIP Digest"
C device create linphone-c --type generic_sip --lines 5003 \
	--phone-security-profile "Generic SIP Encrypted"
C device create linphone-d --type generic_sip --lines 5004 \
	--phone-security-profile "Generic SIP Encrypted"
# baresip-e keeps the built-in non-secure profile of generic_sip: UDP, no digest.
C device create baresip-e --type generic_sip --lines 5005
[ "$(api GET service-parameters/sip_digest_algorithms | json "['value']")" = SHA-256,MD5 ] ||
	fail "ucmd does not offer SHA-256 first: $(api GET service-parameters/sip_digest_algorithms)"
pass "mixed cluster; digest linphone-a (5001), linphone-b (5002); encrypted linphone-c, -d"

# ---- digest registration over UDP and TCP ----
lp_start a udp
lp_start b tcp
lp_register a 5001 "sip:127.0.0.1:$SIP_PORT;transport=udp" LinSecretA1 lin-a
lp_register b 5002 "sip:127.0.0.1:$SIP_PORT;transport=tcp" LinSecretB2 lin-b
expect_registered 5001 linphone-a UDP
expect_registered 5002 linphone-b TCP
pass "linphone-a registers 5001 over UDP, linphone-b 5002 over TCP, both with digest"
for i in a b; do
	grep -q '^WWW-Authenticate: Digest .*algorithm=SHA-256' "$T/lp-$i/log" ||
		fail "linphone-$i was not offered SHA-256"
	grep -q '^Authorization: *Digest .*algorithm=SHA-256' "$T/lp-$i/log" ||
		fail "linphone-$i did not answer with SHA-256: $(grep '^Authorization' "$T/lp-$i/log")"
	! grep -q '^Authorization: *Digest .*algorithm=MD5' "$T/lp-$i/log" ||
		fail "linphone-$i answered with MD5"
done
pass "offered SHA-256 and MD5, Linphone answers SHA-256 (RFC 8760)"

# ---- a call between them ----
lp_answered a sip:5002@127.0.0.1 b
expect_call "['caller']['device']" linphone-a
expect_call "['callee']['device']" linphone-b
expect_call "['callee']['directory_number']" 5002
expect_call "['caller']['transport']" UDP
expect_call "['callee']['transport']" TCP
expect_call "['security']" non_secure
lp_event a LinphoneCallStreamsRunning
lp_event b LinphoneCallStreamsRunning
pass "linphone-a calls 5002, linphone-b answers: listed connected, both run their streams"
expect_call "['caller']['held']" false
expect_call "['callee']['held']" false

# ---- hold and resume ----
lp a call-pause >/dev/null || fail "linphone-a could not hold"
lp_event a LinphoneCallPaused
lp_event b LinphoneCallPausedByRemote
call_field_becomes "['caller']['held']" true
expect_call "['callee']['held']" false
expect_call "['state']" connected
grep -aq '^a=sendonly' "$T/lp-b/log" || fail "linphone-b got no a=sendonly offer"
pass "linphone-a holds (re-INVITE a=sendonly): linphone-b is paused by remote, the API shows it"
lp a call-resume "$(lp_call_id a)" >/dev/null || fail "linphone-a could not resume"
lp_event a LinphoneCallStreamsRunning 2
lp_event b LinphoneCallStreamsRunning 2
call_field_becomes "['caller']['held']" false
expect_call "['state']" connected
pass "linphone-a resumes (re-INVITE a=sendrecv): both run their streams again, not held"
# The other way: linphone-b (TCP) holds, ucmd re-INVITEs linphone-a over UDP.
lp b call-pause >/dev/null || fail "linphone-b could not hold"
lp_event b LinphoneCallPaused
lp_event a LinphoneCallPausedByRemote
call_field_becomes "['callee']['held']" true
expect_call "['caller']['held']" false
lp b call-resume "$(lp_call_id b)" >/dev/null || fail "linphone-b could not resume"
lp_event a LinphoneCallStreamsRunning 3
lp_event b LinphoneCallStreamsRunning 3
call_field_becomes "['callee']['held']" false
pass "linphone-b holds and resumes the same call: linphone-a is paused by remote, then resumed"

# ---- hang-up ----
lp a terminate >/dev/null || fail "linphone-a could not hang up"
no_calls
lp_event a LinphoneCallReleased
lp_event b LinphoneCallEnd
lp_event b LinphoneCallReleased
for i in a b; do
	st=$(lp $i call-status "$(lp_call_id $i)" || true)
	[[ $st == *"No call with such id"* ]] || fail "linphone-$i still has the call: $st"
done
pass "linphone-a hangs up: the call is gone from ucmd and from both Linphones"

# ---- a call cancelled while ringing, a call declined ----
lp_ring a sip:5002@127.0.0.1 b 2
lp a terminate >/dev/null || fail "linphone-a could not cancel"
lp_event b LinphoneCallReleased 2
lp_event a LinphoneCallReleased 2
no_calls
grep -aq "^CANCEL sip:5002" "$T/lp-b/log" || fail "linphone-b got no CANCEL"
pass "linphone-a cancels while 5002 rings: linphone-b gets the CANCEL, no call stays"
lp_ring a sip:5002@127.0.0.1 b 3
lp b terminate "$(lp_call_id b)" >/dev/null || fail "linphone-b could not decline"
lp_event a LinphoneCallReleased 3
lp_event b LinphoneCallReleased 3
no_calls
wait_for_lines "$T/lp-a/log" "^SIP/2.0 603 Decline" || fail "linphone-b's 603 did not reach linphone-a"
pass "linphone-b declines: its 603 reaches linphone-a, no call stays"

# ---- attended transfer from Linphone (REFER with Replaces) ----
# linphone-b talks to linphone-a, calls linphone-f (Linphone holds the first call itself), then
# transfers a to f: ucmd joins them and releases linphone-b.
lp_start f udp
lp_register f 5006 "sip:127.0.0.1:$SIP_PORT;transport=udp" LinSecretF6 lin-f
lp_answered a sip:5002@127.0.0.1 b
first=$(lp_call_id b)
lp_ring b sip:5006@127.0.0.1 f
lp f answer "$(lp_call_id f)" >/dev/null || fail "linphone-f could not answer"
lp_event f LinphoneCallStreamsRunning
second=$(lp_call_id b)
[ "$first" != "$second" ] || fail "linphone-b has one call id for both calls"
lp b call-transfer "$first" "$second" >/dev/null || fail "linphone-b could not transfer"
wait_for_lines "$T/lp-b/log" "^Refer-To: .*Replaces=" || fail "linphone-b sent no REFER with Replaces"
call_field_becomes "['callee']['device']" linphone-f
expect_call "['caller']['device']" linphone-a
expect_call "['state']" connected
wait_for_lines "$T/ucmd.log" "linphone-a and linphone-f joined" || fail "ucmd did not join a and f"
lp_event b LinphoneCallReleased 5
lp_event a LinphoneCallUpdatedByRemote
lp_event f LinphoneCallUpdatedByRemote
lp_event a LinphoneCallStreamsRunning 5
lp_event f LinphoneCallStreamsRunning 2
pass "linphone-b transfers linphone-a to linphone-f (REFER with Replaces): a and f joined, b out"
lp f terminate >/dev/null || fail "linphone-f could not hang up"
no_calls
lp_event a LinphoneCallReleased 4
lp_stop f
unregistered 5006

lp_stop a
lp_stop b
unregistered 5001
unregistered 5002
pass "both Linphones unregister when they quit (REGISTER with Expires: 0, digest again)"

# ---- encrypted devices: TLS with a client certificate, SDES-SRTP ----
# Linphone 5.1 presents the [sip] client_cert_chain/client_cert_key pair when the server asks
# for a certificate, and checks ucmd's against root_ca (its SAN holds 127.0.0.1).
tls_rc() {
	printf 'root_ca=%s\nverify_server_certs=1\nverify_server_cn=1\n' "$DATA/pki/ca.crt"
	printf 'client_cert_chain=%s\nclient_cert_key=%s\n' "$T/$1.crt" "$T/$1.key"
	printf 'media_encryption=srtp\nmedia_encryption_mandatory=1\nuse_ipv6=0'
}
device_cert linphone-c
device_cert linphone-d
lp_start c tls "$(tls_rc linphone-c)"
lp_start d tls "$(tls_rc linphone-d)"
# By name: the mbedTLS 2.28 under Linphone's belle-sip matches DNS names only, never the
# iPAddress entries of a subjectAltName, so the name must be localhost (in ucmd's SAN) and
# not 127.0.0.1; with IPv6 off in Linphone it resolves to 127.0.0.1, where ucmd listens.
lp_register c 5003 "sip:localhost:$SIP_TLS_PORT;transport=tls"
lp_register d 5004 "sip:localhost:$SIP_TLS_PORT;transport=tls"
expect_registered 5003 linphone-c TLS
expect_registered 5004 linphone-d TLS
! grep -aq "^Authorization:" "$T/lp-c/log" "$T/lp-d/log" ||
	fail "digest was asked of a certificate device"
# The suite Linphone's mbedTLS 2.28 and ucmd agree on: TLS 1.2, ECDHE, AEAD.
suite='SSL version is \[TLSv1\.[23]\], selected ciphersuite is \[TLS-ECDHE-[A-Z]+-WITH-'
suite+='(AES-[0-9]+-GCM|CHACHA20-POLY1305)'
for i in c d; do
	grep -aqE "$suite" "$T/lp-$i/log" ||
		fail "linphone-$i: no TLS 1.2+ ECDHE AEAD suite: $(grep -a 'SSL version' "$T/lp-$i/log")"
done
pass "linphone-c and -d register over TLS 1.2+ (ECDHE, AEAD) identified by their certificates alone"

# Linphone sends a call through its proxy only to a URI in the proxy's domain.
lp_answered c sip:5004@localhost d
expect_call "['caller']['device']" linphone-c
expect_call "['callee']['device']" linphone-d
expect_call "['caller']['transport']" TLS
expect_call "['callee']['transport']" TLS
expect_call "['caller']['srtp']" true
expect_call "['callee']['srtp']" true
expect_call "['security']" encrypted
lp_event c LinphoneCallStreamsRunning
lp_event d LinphoneCallStreamsRunning
for i in c d; do
	grep -aq '^m=audio [0-9]* RTP/SAVP' "$T/lp-$i/log" || fail "linphone-$i saw no RTP/SAVP"
done
pass "linphone-c calls 5004, linphone-d answers: listed encrypted, both legs TLS and SRTP"
lp c call-pause >/dev/null || fail "linphone-c could not hold"
lp_event d LinphoneCallPausedByRemote
call_field_becomes "['caller']['held']" true
lp c call-resume "$(lp_call_id c)" >/dev/null || fail "linphone-c could not resume"
lp_event d LinphoneCallStreamsRunning 2
call_field_becomes "['caller']['held']" false
expect_call "['caller']['srtp']" true
expect_call "['callee']['srtp']" true
expect_call "['security']" encrypted
pass "hold and resume in the encrypted call (re-INVITEs with a=crypto): it stays encrypted"
lp d terminate >/dev/null || fail "linphone-d could not hang up"
no_calls
lp_event c LinphoneCallReleased
pass "linphone-d hangs up: linphone-c gets the BYE, the call is gone"
# Without SRTP (plain RTP/AVP offer) an encrypted device is refused.
lp c media-encryption none >/dev/null || fail "linphone-c kept SRTP"
lp c call sip:5004@localhost >/dev/null || fail "linphone-c refused to call 5004"
wait_for_lines "$T/lp-c/log" "^SIP/2.0 488 Encrypted Device Must Offer SRTP" ||
	fail "a plain RTP offer from an encrypted device got no 488 from ucmd"
no_calls
lp_event c LinphoneCallReleased 2
pass "linphone-c offering plain RTP/AVP gets 488; no call"
! grep -qi "inline:" "$T/ucmd.log" || fail "SRTP key material in ucmd's log"
# Over TLS Linphone registers again at once with the port ucmd saw (rport) in its Contact: the
# same +sip.instance, so that binding replaces the first (RFC 5627 §7.1) instead of adding one.
grep -aq "^SIP/2.0 200 OK" "$T/lp-c/log" && [ "$(grep -ac '^REGISTER' "$T/lp-c/log")" -ge 2 ] ||
	fail "linphone-c did not register twice"
[ "$(bindings 5003)" = 1 ] && [ "$(bindings 5004)" = 1 ] ||
	fail "not one binding each: $(api GET registrations)"
lp_stop c
lp_stop d
unregistered 5003
unregistered 5004
pass "one binding per encrypted Linphone although each registered twice; gone when they quit"

# ---- Linphone and baresip in one call ----
# baresip-e: non-secure, UDP, no digest, answers by itself; a sine wave for a microphone.
command -v baresip >/dev/null || fail "baresip is not installed (Debian package baresip-core)"
mkdir -p "$T/bs-e"
{
	printf 'sip_listen\t127.0.0.1:0\nnet_interface\t127.0.0.1\ndns_server\t127.0.0.1:53\n'
	printf 'audio_player\taubridge,e\naudio_alert\taubridge,e\naudio_source\tausine,440\n'
	printf 'ausrc_srate\t48000\nausrc_channels\t2\nmodule_path\t/usr/lib/baresip/modules\n'
	printf 'module\t%s\n' g711.so ausine.so aubridge.so
	printf 'module_tmp\taccount.so\nmodule_app\tmenu.so\n'
} >"$T/bs-e/config"
printf '<sip:5005@127.0.0.1;transport=udp>;regint=600;answermode=auto;audio_codecs=pcmu;%s\n' \
	"outbound=\"sip:127.0.0.1:$SIP_PORT;transport=udp\"" >"$T/bs-e/accounts"
baresip -s -f "$T/bs-e" </dev/null >"$T/bs-e/log" 2>&1 &
BARESIP_PID=$!
expect_registered 5005 baresip-e UDP
lp_start a2 udp
lp_register a2 5001 "sip:127.0.0.1:$SIP_PORT;transport=udp" LinSecretA1 lin-a
lp a2 call sip:5005@127.0.0.1 >/dev/null || fail "linphone-a refused to call 5005"
connected_call
expect_call "['caller']['device']" linphone-a
expect_call "['callee']['device']" baresip-e
expect_call "['callee']['transport']" UDP
expect_call "['security']" non_secure
lp_event a2 LinphoneCallStreamsRunning
wait_for_lines "$T/bs-e/log" "Call established" || fail "baresip-e: call not established"
pass "linphone-a calls baresip-e (5005), which answers: a non-secure call, both run media"
lp a2 terminate >/dev/null || fail "linphone-a could not hang up"
no_calls
# baresip names the end of a call by the first reason it saw: the BYE ("Call with ...
# terminated"), or, when linphone-a's media port closed first and its RTP met an ICMP port
# unreachable, "session closed: Connection reset by peer". Either way it must have the BYE.
wait_for_lines "$T/bs-e/log" "^BYE sip:5005" || fail "baresip-e was not sent the BYE"
wait_for_lines "$T/bs-e/log" "Call with .* terminated|: session closed" ||
	fail "baresip-e did not end the call"
pass "... and after linphone-a hangs up the call is gone from ucmd and from baresip"

# Blind transfer from Linphone (REFER): linphone-b answers linphone-a, then transfers it to
# baresip-e, which answers; linphone-b is released.
lp_start b2 tcp
lp_register b2 5002 "sip:127.0.0.1:$SIP_PORT;transport=tcp" LinSecretB2 lin-b
lp_answered a2 sip:5002@127.0.0.1 b2
expect_call "['callee']['device']" linphone-b
lp_event b2 LinphoneCallStreamsRunning
lp b2 call-transfer "$(lp_call_id b2)" sip:5005@127.0.0.1 >/dev/null ||
	fail "linphone-b could not transfer"
wait_for_lines "$T/lp-b2/log" "^REFER sip:" || fail "linphone-b sent no REFER"
call_field_becomes "['callee']['device']" baresip-e
expect_call "['state']" connected
expect_call "['caller']['device']" linphone-a
expect_call "['callee']['device']" baresip-e
lp_event b2 LinphoneCallReleased
lp_event a2 LinphoneCallStreamsRunning 3
wait_for_lines "$T/bs-e/log" "Call established" 2 || fail "baresip-e: no second call"
pass "linphone-b transfers linphone-a to 5005 (REFER): linphone-a and baresip-e are connected"
lp a2 terminate >/dev/null || fail "linphone-a could not hang up"
no_calls
lp_stop b2
lp_stop a2
stop_agents TERM "$BARESIP_PID"
wait "$BARESIP_PID" 2>/dev/null || true
BARESIP_PID=""

stop_ucmd
! grep -nE 'Sanitizer|runtime error|SUMMARY:|^[^ ]+ error ' "$T/ucmd.log" >&2 ||
	fail "ucmd logged errors or sanitizer output"
! grep -q 'LinSecretA1\|LinSecretB2' "$T/ucmd.log" || fail "a digest password in ucmd's log"
pass "ucmd stops cleanly, with no error, sanitizer report or password in its log"
finish
