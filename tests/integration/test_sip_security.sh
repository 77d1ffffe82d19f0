#!/usr/bin/env bash
# Security modes at registration, with openssl s_client as the TLS client: in mixed mode an
# authenticated device registers only over TLS with the certificate the system CA issued to
# it; no certificate, another device's certificate or a foreign CA's is refused; in a
# non-secure cluster the same device registers non-secure.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
C directory-number create 3001
C directory-number create 3002
C phone-security-profile create "Desk Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C device create SEP00000000B001 --type cisco_sip_phone --lines 3001 \
	--phone-security-profile "Desk Authenticated"
C device create SEP00000000B002 --type cisco_sip_phone --lines 3002 \
	--phone-security-profile "Desk Authenticated"
pass "mixed cluster; two authenticated devices"

device_cert SEP00000000B001
device_cert SEP00000000B002
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rogue-ca.key" -subj "/CN=Rogue CA" \
	-days 30 -out "$T/rogue-ca.crt" 2>/dev/null
mkdir -p "$T/rogue"
(T="$T/rogue" && device_cert SEP00000000B001 "$T/../rogue-ca.crt" "$T/../rogue-ca.key")

# tls_register LINE [CERT_NAME [DIR [HOLD]]]: prints the status code of a REGISTER sent over
# TLS, keeping the connection HOLD seconds (1 by default): the binding lives as long as it.
tls_register() {
	local line=$1 dir=${3:-$T} creds=()
	[ -n "${2:-}" ] && creds=(-cert "$dir/$2.crt" -key "$dir/$2.key")
	local tag=$RANDOM$RANDOM
	{
		printf 'REGISTER sip:127.0.0.1:%s SIP/2.0\r\n' "$SIP_TLS_PORT"
		printf 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK%s;rport\r\n' "$tag"
		printf 'From: <sip:%s@127.0.0.1>;tag=%s\r\nTo: <sip:%s@127.0.0.1>\r\n' "$line" "$tag" "$line"
		printf 'Call-ID: %s@test\r\nCSeq: 1 REGISTER\r\n' "$tag"
		printf 'Contact: <sip:%s@127.0.0.1:5999;transport=tls>\r\n' "$line"
				printf 'Max-Forwards: 70\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n'
		sleep "${4:-1}"
	} | timeout 10 openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" -CAfile "$DATA/pki/ca.crt" \
		"${creds[@]}" -quiet 2>/dev/null | head -n 1 | awk '{print $2}'
}

sc=$(dirname "$0")/sipp
udp_register() {
	: >"$T/r"
	timeout 20 sipp -sf "$sc/register_plain.xml" -m 1 -t u1 -i 127.0.0.1 -p "$(free_port)" \
		-nostdin -key line "$1" -key expires 600 -key result_file "$T/r" \
		"127.0.0.1:$SIP_PORT" >/dev/null 2>&1 || true
	read_result "$T/r"
}

r=$(udp_register 3001); [ "$r" = 403 ] || fail "authenticated device registered over UDP (got $r)"
pass "an authenticated device is refused over UDP"
[ "$(tls_register 3001)" = 403 ] || fail "authenticated device registered without a certificate"
pass "... and over TLS without a client certificate"
[ "$(tls_register 3001 SEP00000000B002)" = 403 ] || fail "another device's certificate accepted"
pass "... and with the certificate of another device"
[ -z "$(tls_register 3001 SEP00000000B001 "$T/rogue")" ] || fail "a foreign CA's certificate got an answer"
pass "a certificate from a foreign CA fails the TLS handshake"
tls_register 3001 SEP00000000B001 "$T" 4 >"$T/code" &
tls_pid=$!
for _ in $(seq 1 30); do
	api GET "registrations?aor=3001" >"$T/reg.json"
	[ "$(json "['total']" <"$T/reg.json")" = 1 ] && break
	sleep 0.1
done
[ "$(json "['items'][0]['transport']" <"$T/reg.json")" = TLS ] || fail "not registered over TLS"
[ "$(json "['items'][0]['device']" <"$T/reg.json")" = SEP00000000B001 ] || fail "wrong device"
wait "$tls_pid" || true
[ "$(cat "$T/code")" = 200 ] || fail "device refused with its own certificate"
pass "with its own certificate over TLS it registers"
for _ in $(seq 1 20); do
	[ "$(api GET "registrations?aor=3001" | json "['total']")" = 0 ] && break
	sleep 0.1
done
[ "$(api GET "registrations?aor=3001" | json "['total']")" = 0 ] || fail "binding outlived its TLS connection"
pass "... and its binding goes with its TLS connection"

C enterprise-parameter update cluster_security_mode --value non_secure
[ "$(udp_register 3002)" = 200 ] || fail "non-secure cluster still enforced the device mode"
pass "in a non-secure cluster the same kind of device registers non-secure"
finish
