#!/usr/bin/env bash
# A real SIP user agent against the registrar and the B2BUA: baresip (Debian package
# baresip-core), headless, driven over its ctrl_tcp socket. In a mixed cluster:
#  - two encrypted generic SIP devices register over TLS with the client certificates the
#    system CA issued to them (no digest) and call each other with SDES-SRTP: the call is
#    encrypted, SRTP on both legs, and gone after hang-up;
#  - an encrypted device offering RTP/AVP (baresip's best-effort SRTP) gets 488;
#  - a non-secure device (UDP, no digest, plain RTP) calling an encrypted one: refused by a
#    callee that requires SRTP (its 488 reaches the caller, no call stays), else a non-secure
#    call;
#  - an encrypted device calling the non-secure one;
#  - a device presenting another device's certificate gets 403 and no binding;
#  - no SRTP key (a=crypto ... inline:) is in ucmd's log or reaches a device over non-TLS
#    signalling (RFC 4568 §8.3: SDES keys only over secure signalling).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_ua.sh"
command -v baresip >/dev/null || fail "baresip is not installed (Debian package baresip-core)"
BARESIP_MODULES=${BARESIP_MODULES:-/usr/lib/baresip/modules}
for m in srtp ctrl_tcp ausine aubridge g711 account menu; do
	[ -f "$BARESIP_MODULES/$m.so" ] || fail "baresip module $m.so missing in $BARESIP_MODULES"
done

# The baresip processes running now (a stopped one leaves the list, so no reused pid is ever
# signalled). lib.sh's cleanup would only send SIGTERM, which baresip may outlive while it
# unregisters: the EXIT trap stops them before ucmd, with SIGKILL after 2 s.
BARESIP_PIDS=()
stop_all_baresip() { stop_agents TERM "${BARESIP_PIDS[@]}"; }
# On failure, the end of each baresip's log as well (lib.sh's cleanup shows ucmd's), keys
# masked; KEEP_LOGS=DIR keeps the whole work directory for a look afterwards.
show_baresip_logs() {
	local d
	[ "$1" = 0 ] && return 0
	for d in "$T"/bs-*/; do
		[ -f "$d/log" ] || continue
		echo "---- $(basename "$d") log ----" >&2
		grep -av '^\s*$' "$d/log" | sed 's/inline:[^ ]*/inline:.../' |
			tail -n "${BARESIP_LOG_LINES:-30}" >&2
	done
}
# Then lib.sh's cleanup, with our exit status. Neither set -e (the "(exit $rc)" that hands
# cleanup the status) nor SIGPIPE (a reader gone, as with | head) may stop it half-way.
on_exit() {
	local rc=$?
	set +e
	trap '' PIPE
	stop_all_baresip
	show_baresip_logs $rc
	[ -z "${KEEP_LOGS:-}" ] || cp -r "$T" "$KEEP_LOGS"
	(exit $rc)
	cleanup
}
trap on_exit EXIT

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
for n in 4001 4002 4003; do C directory-number create $n; done
C phone-security-profile create "Generic SIP Encrypted" --device-type generic_sip \
	--device-security-mode encrypted
C device create baresip-a --type generic_sip --lines 4001 \
	--phone-security-profile "Generic SIP Encrypted"
C device create baresip-b --type generic_sip --lines 4002 \
	--phone-security-profile "Generic SIP Encrypted"
# baresip-c keeps the built-in non-secure profile of generic_sip: TCP or UDP, no digest.
C device create baresip-c --type generic_sip --lines 4003
[ "$(api GET devices/baresip-c | json "['phone_security_profile']")" != "Generic SIP Encrypted" ] ||
	fail "baresip-c has the encrypted profile"
pass "mixed cluster; encrypted baresip-a (4001), baresip-b (4002); non-secure baresip-c (4003)"

# device_pem NAME: a client certificate for NAME (CN, clientAuth) from the system CA, with its
# key, in one PEM file as baresip's sip_certificate wants it.
device_pem() {
	device_cert "$1"
	cat "$T/$1.crt" "$T/$1.key" >"$T/$1.pem"
	chmod 600 "$T/$1.pem"
}
device_pem baresip-a
device_pem baresip-b
openssl verify -CAfile "$DATA/pki/ca.crt" "$T/baresip-a.crt" "$T/baresip-b.crt" >/dev/null ||
	fail "the issued certificates do not verify"

# ctl INSTANCE COMMAND [PARAMS]: a command to a baresip over its ctrl_tcp socket (netstring
# JSON); prints the response's data; fails unless the command was accepted.
ctl() {
	python3 - "$(cat "$T/bs-$1/ctrl_port")" "$2" "${3-}" <<'PY'
import json, socket, sys
port, command, params = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
msg = json.dumps({"command": command, "params": params, "token": "t"}).encode()
s.sendall(b"%d:%s," % (len(msg), msg))
buf = b""
while True:
    while b":" in buf:
        n, rest = buf.split(b":", 1)
        if len(rest) < int(n) + 1:
            break
        obj, buf = json.loads(rest[:int(n)]), rest[int(n) + 1:]
        if obj.get("response"):  # events ({"event": true, ...}) may come first
            print(obj.get("data", ""))
            sys.exit(0 if obj.get("ok") else 1)
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("ctrl_tcp closed the connection")
    buf += chunk
PY
}

# baresip_start INSTANCE ACCOUNT [PEM]: a headless baresip in the background with its own
# configuration directory $T/bs-INSTANCE: loopback only, a sine wave for a microphone, no sound
# card, SIP trace (-s) in its log, the account line ACCOUNT and PEM as its TLS client
# certificate. $bs_INSTANCE_pid is its pid (- in INSTANCE as _).
baresip_start() {
	local name=$1 account=$2 pem=${3-} dir=$T/bs-$1 ctrl_port pid
	mkdir -p "$dir"
	ctrl_port=$(free_port)
	echo "$ctrl_port" >"$dir/ctrl_port"
	{
		printf 'poll_method\t\tepoll\n'
		printf 'sip_listen\t\t127.0.0.1:0\n'
		printf 'net_interface\t\t127.0.0.1\n'
		printf 'dns_server\t\t127.0.0.1:53\n'
		[ -z "$pem" ] || printf 'sip_certificate\t\t%s\n' "$pem"
		printf 'sip_cafile\t\t%s\n' "$DATA/pki/ca.crt"
		printf 'call_local_timeout\t20\ncall_max_calls\t\t4\n'
		printf 'audio_player\t\taubridge,%s\n' "$name"
		printf 'audio_alert\t\taubridge,%s\n' "$name"
		# ausine makes 48 kHz stereo only; baresip resamples to the codec's 8 kHz mono.
		printf 'audio_source\t\tausine,440\nausrc_srate\t\t48000\nausrc_channels\t\t2\n'
		printf 'module_path\t\t%s\n' "$BARESIP_MODULES"
		printf 'module\t\t\t%s\n' g711.so ausine.so aubridge.so srtp.so
		printf 'module_tmp\t\taccount.so\n'
		printf 'module_app\t\t%s\n' menu.so ctrl_tcp.so
		printf 'ctrl_tcp_listen\t\t127.0.0.1:%s\n' "$ctrl_port"
	} >"$dir/config"
	printf '%s\n' "$account" >"$dir/accounts"
	baresip -s -f "$dir" </dev/null >"$dir/log" 2>&1 &
	pid=$!
	BARESIP_PIDS+=("$pid")
	eval "bs_${name//-/_}_pid=$pid"
	for _ in $(seq 1 50); do
		ctl "$name" reginfo >/dev/null 2>&1 && return 0
		kill -0 $pid 2>/dev/null || fail "baresip $name exited: $(tail -5 "$dir/log")"
		sleep 0.1
	done
	fail "baresip $name does not answer on ctrl_tcp"
}

# baresip_stop INSTANCE: /quit (it unregisters first), SIGKILL if still there after 3 s.
baresip_stop() {
	local var="bs_${1//-/_}_pid"
	local pid=${!var} p rest=()
	ctl "$1" quit >/dev/null 2>&1 || true
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${BARESIP_PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
	BARESIP_PIDS=("${rest[@]}")
}

# tls_account LINE MEDIAENC: an account registering LINE over TLS to ucmd, auto-answering.
tls_account() {
	printf '<sip:%s@127.0.0.1;transport=tls>;regint=600;mediaenc=%s;answermode=auto;' "$1" "$2"
	printf 'audio_codecs=pcmu;outbound="sip:127.0.0.1:%s;transport=tls"' "$SIP_TLS_PORT"
}
udp_account() {
	printf '<sip:%s@127.0.0.1;transport=udp>;regint=600;answermode=auto;audio_codecs=pcmu;' "$1"
	printf 'outbound="sip:127.0.0.1:%s;transport=udp"' "$SIP_PORT"
}

# ---- two encrypted devices over TLS with their certificates, SRTP required ----
baresip_start a "$(tls_account 4001 srtp-mand)" "$T/baresip-a.pem"
baresip_start b "$(tls_account 4002 srtp-mand)" "$T/baresip-b.pem"
r=$(registered 4001)
[ "$r" = "baresip-a TLS" ] || fail "4001 not registered by baresip-a over TLS: $r"
r=$(registered 4002)
[ "$r" = "baresip-b TLS" ] || fail "4002 not registered by baresip-b over TLS: $r"
! grep -aq "^Authorization:" "$T/bs-a/log" "$T/bs-b/log" ||
	fail "digest was asked of a certificate device"
pass "both baresip register over TLS, identified by their client certificates alone"

ctl a dial 4002 >/dev/null || fail "baresip-a refused to dial"
connected_call
expect_call "['caller']['device']" baresip-a
expect_call "['callee']['device']" baresip-b
expect_call "['callee']['directory_number']" 4002
expect_call "['caller']['transport']" TLS
expect_call "['callee']['transport']" TLS
expect_call "['caller']['srtp']" true
expect_call "['callee']['srtp']" true
expect_call "['security']" encrypted
pass "baresip-a calls 4002, baresip-b answers: listed encrypted, both legs TLS and SRTP"
for i in a b; do
	wait_for_lines "$T/bs-$i/log" "SRTP is Enabled" || fail "baresip-$i did not start SRTP"
	wait_for_lines "$T/bs-$i/log" "Call established" || fail "baresip-$i: call not established"
done
pass "... and both baresip run SRTP media"

ctl a hangup >/dev/null || fail "baresip-a could not hang up"
no_calls
# "Call with ... terminated", or "session closed: Connection reset by peer" when baresip-a's
# media port closed before the BYE came (baresip names the first reason it saw).
wait_for_lines "$T/bs-b/log" "^BYE sip:" || fail "baresip-b was not sent the BYE"
wait_for_lines "$T/bs-b/log" "Call with .* terminated|: session closed" ||
	fail "baresip-b did not end the call"
pass "baresip-a hangs up: baresip-b gets the BYE, the call is gone"

# ---- encrypted device offering RTP/AVP (baresip's best-effort SRTP): 488 ----
baresip_stop b
[ "$(bindings 4002)" = 0 ] || fail "baresip-b's binding is left after it unregistered"
baresip_start b2 "$(tls_account 4002 srtp)" "$T/baresip-b.pem"
[ "$(registered 4002)" = "baresip-b TLS" ] || fail "4002 not registered again over TLS"
ctl b2 dial 4001 >/dev/null || fail "baresip-b refused to dial"
wait_for_lines "$T/bs-b2/log" "session closed: 488" ||
	fail "an encrypted device offering RTP/AVP was not refused with 488"
grep -aq "^SIP/2.0 488 Encrypted Device Must Offer SRTP" "$T/bs-b2/log" || fail "488 not from ucmd"
no_calls
pass "an encrypted device offering plain RTP/AVP (with a=crypto) gets 488; no call"

# ---- a non-secure device calls an encrypted one ----
baresip_start c "$(udp_account 4003)"
[ "$(registered 4003)" = "baresip-c UDP" ] || fail "4003 not registered by baresip-c over UDP"
pass "non-secure baresip-c registers over UDP without digest"

# baresip-b requiring SRTP refuses the plain offer: the caller gets its 488, no call stays.
baresip_stop b2
baresip_start b3 "$(tls_account 4002 srtp-mand)" "$T/baresip-b.pem"
[ "$(registered 4002)" = "baresip-b TLS" ] || fail "4002 not registered again over TLS"
ctl c dial 4002 >/dev/null || fail "baresip-c refused to dial"
wait_for_lines "$T/bs-b3/log" "^SIP/2.0 488" || fail "baresip-b (srtp-mand) did not refuse plain RTP"
wait_for_lines "$T/bs-c/log" "session closed: 488" || fail "the callee's 488 did not reach baresip-c"
no_calls
pass "a callee requiring SRTP refuses a non-secure caller's plain RTP: 488 relayed, no call"

# baresip-b taking SRTP when offered, plain RTP otherwise: a non-secure call.
baresip_stop b3
baresip_start b4 "$(tls_account 4002 srtp)" "$T/baresip-b.pem"
[ "$(registered 4002)" = "baresip-b TLS" ] || fail "4002 not registered again over TLS"
ctl c dial 4002 >/dev/null || fail "baresip-c refused to dial"
connected_call
expect_call "['caller']['device']" baresip-c
expect_call "['callee']['device']" baresip-b
expect_call "['caller']['transport']" UDP
expect_call "['caller']['srtp']" false
expect_call "['callee']['srtp']" false
expect_call "['security']" non_secure
pass "non-secure baresip-c calls encrypted 4002: the call is non-secure"
ctl c hangup >/dev/null || fail "baresip-c could not hang up"
no_calls
pass "... and is gone after hang-up"

# ---- an encrypted device calls the non-secure one ----
# baresip-c, without SRTP, cannot take baresip-a's RTP/SAVP offer (488); either way the
# encrypted caller's SRTP key must not travel to it over UDP (checked at the end).
ctl a dial 4003 >/dev/null || fail "baresip-a refused to dial 4003"
wait_for_lines "$T/bs-a/log" "4003@[^ ]*: session closed|Call established: sip:4003" ||
	fail "baresip-a's call to 4003 got no answer"
ctl a hangup >/dev/null 2>&1 || true
no_calls
pass "encrypted baresip-a calls non-secure 4003: answered or refused, no call left"

# ---- another device's certificate ----
# With baresip-a's certificate, for baresip-b's line (baresip-b gone and unregistered).
baresip_stop b4
[ "$(bindings 4002)" = 0 ] || fail "baresip-b's binding is left after it unregistered"
baresip_start x "$(tls_account 4002 srtp-mand)" "$T/baresip-a.pem"
wait_for_lines "$T/bs-x/log" "reg: .*4002.*: 40[0-9]" ||
	fail "a REGISTER with another device's certificate was not refused"
wait_for_lines "$T/bs-x/log" "^SIP/2.0 403" || fail "refused, but not with 403"
[ "$(bindings 4002)" = 0 ] ||
	fail "a binding appeared with another device's certificate: $(api GET registrations)"
[ "$(bindings 4001)" = 1 ] || fail "4001's binding changed: $(api GET registrations)"
grep -q "certificate of baresip-a used for line 4002" "$T/ucmd.log" || fail "refusal not logged"
pass "a device presenting another device's certificate gets 403 and no binding"

baresip_stop x
baresip_stop c
baresip_stop a

# ---- SRTP keys ----
# The keys did go through ucmd (so the checks below can fail)...
grep -aq "inline:" "$T/bs-a/log" || fail "no SDES key exchanged at all"
# ...but never into its log...
! grep -qi "inline:" "$T/ucmd.log" || fail "SRTP key material in ucmd's log"
pass "no SRTP key material in ucmd's log"
# ...and never in clear to a device on UDP (RFC 4568 §8.3; SDES only over TLS).
if awk '/^(UDP|TCP) /{clear=1} /^TLS /{clear=0} clear && /inline:/{found=1} END{exit !found}' \
	"$T/bs-c/log"; then
	fail "ucmd sent SRTP keys to baresip-c over UDP:" \
		"$(grep -a 'a=crypto' "$T/bs-c/log" | head -3 | sed 's/inline:.*/inline:.../')"
fi
pass "no SRTP key reaches a device over non-TLS signalling"
finish
