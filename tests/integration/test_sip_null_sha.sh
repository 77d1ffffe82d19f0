#!/usr/bin/env bash
# NULL-SHA for devices in Authenticated mode (requirement 42 of softphones-and-cti-security),
# with openssl s_client as a phone that offers only TLS_RSA_WITH_NULL_SHA: refused (and the
# log says which parameter would let it in) while sip_tls_null_sha is false; with it true the
# Authenticated device registers over NULL-SHA and gets calls without SDES keys, an Encrypted
# device is refused over NULL-SHA with a Warning, and ordinary TLS clients still negotiate
# TLS 1.3 (or an AEAD suite in TLS 1.2) as before.
source "$(dirname "$0")/lib.sh"

start_with_admin SIP_PORT SIP_TLS_PORT
C enterprise-parameter update cluster_security_mode --value mixed
for dn in 4101 4102 4103; do C directory-number create $dn; done
C phone-security-profile create "Null Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C phone-security-profile create "Null Encrypted" --device-type cisco_sip_phone \
	--device-security-mode encrypted
C device create SEP0000000A4101 --type cisco_sip_phone --lines 4101 \
	--phone-security-profile "Null Authenticated"
C device create SEP0000000E4102 --type cisco_sip_phone --lines 4102 \
	--phone-security-profile "Null Encrypted"
C device create SEP0000000E4103 --type cisco_sip_phone --lines 4103 \
	--phone-security-profile "Null Encrypted"
for d in SEP0000000A4101 SEP0000000E4102 SEP0000000E4103; do device_cert $d; done
[ "$("$UCMCTL" service-parameter get sip_tls_null_sha | grep -c false)" -ge 1 ] ||
	fail "sip_tls_null_sha is not there, false by default"
pass "mixed cluster; Authenticated and Encrypted devices; sip_tls_null_sha false by default"

# null_register LINE DEVICE OUT [HOLD [CIPHERS]]: a REGISTER over TLS 1.2 offering only CIPHERS
# (NULL-SHA), with DEVICE's certificate; the connection stays up HOLD seconds (1). s_client's
# report of the session and everything ucmd sent go to OUT.
null_register() {
	local line=$1 device=$2 out=$3 hold=${4:-1} ciphers=${5:-NULL-SHA}
	local tag=$RANDOM$RANDOM
	{
		printf 'REGISTER sip:127.0.0.1:%s SIP/2.0\r\n' "$SIP_TLS_PORT"
		printf 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK%s;rport\r\n' "$tag"
		printf 'From: <sip:%s@127.0.0.1>;tag=%s\r\nTo: <sip:%s@127.0.0.1>\r\n' "$line" "$tag" "$line"
		printf 'Call-ID: %s@null\r\nCSeq: 1 REGISTER\r\n' "$tag"
		printf 'Contact: <sip:%s@127.0.0.1:5999;transport=tls>\r\n' "$line"
		printf 'Max-Forwards: 70\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n'
		sleep "$hold"
	} | timeout $((hold + 8)) openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" \
		-CAfile "$DATA/pki/ca.crt" -cert "$T/$device.crt" -key "$T/$device.key" \
		-tls1_2 -cipher "$ciphers:@SECLEVEL=0" -ign_eof >"$out" 2>&1 || true
}

# ---- (1) parameter off: the handshake fails, and the log says why ----
null_register 4101 SEP0000000A4101 "$T/off.out"
grep -q "SIP/2.0" "$T/off.out" && fail "a NULL-SHA client got SIP through: $(cat "$T/off.out")"
grep -Eq "Cipher is \(NONE\)|handshake failure|no shared cipher|alert" "$T/off.out" ||
	fail "the NULL-SHA handshake did not fail: $(cat "$T/off.out")"
wait_for_lines "$T/ucmd.log" "client offers only NULL ciphers; set sip_tls_null_sha" ||
	fail "no log line names sip_tls_null_sha"
pass "sip_tls_null_sha false: a client offering only NULL-SHA fails the handshake; the log names the parameter"

C service-parameter update sip_tls_null_sha --value true

# ---- (3) an Encrypted device is refused over NULL-SHA ----
null_register 4102 SEP0000000E4102 "$T/enc.out"
grep -q "Cipher is NULL-SHA" "$T/enc.out" || fail "no NULL-SHA session: $(cat "$T/enc.out")"
grep -q "^SIP/2.0 403" "$T/enc.out" || fail "Encrypted device not refused: $(cat "$T/enc.out")"
grep -q '^Warning: 399 .*"Device security mismatch' "$T/enc.out" ||
	fail "no Device security mismatch Warning: $(cat "$T/enc.out")"
grep -q "expected TLS" "$T/enc.out" && fail "the Warning would make Jabber reconnect over TLS again"
pass "sip_tls_null_sha true: an Encrypted device over NULL-SHA gets 403 with Warning 399 Device security mismatch"

# ---- (2) the Authenticated device registers over NULL-SHA, and (5) its calls carry no keys ----
null_register 4101 SEP0000000A4101 "$T/auth.out" 6 &
reg_pid=$!
for _ in $(seq 1 50); do
	[ "$(api GET "registrations?aor=4101" | json "['total']")" = 1 ] && break
	sleep 0.1
done
[ "$(api GET "registrations?aor=4101" | json "['items'][0]['transport']")" = TLS ] ||
	fail "the Authenticated device did not register: $(cat "$T/auth.out")"
timeout 10 "$UCM_PHONE" call --server "127.0.0.1:$SIP_TLS_PORT" --transport tls --line 4103 \
	--cert "$T/SEP0000000E4103.crt" --key "$T/SEP0000000E4103.key" --ca "$DATA/pki/ca.crt" \
	--to 4101 --srtp --timeout 2 >"$T/caller.out" 2>&1 || true
wait "$reg_pid" || true
grep -q "Cipher is NULL-SHA" "$T/auth.out" || fail "not NULL-SHA: $(cat "$T/auth.out")"
grep -q "Protocol *: TLSv1.2" "$T/auth.out" || fail "not TLS 1.2: $(cat "$T/auth.out")"
grep -q "^SIP/2.0 200" "$T/auth.out" || fail "no 200 to the REGISTER: $(cat "$T/auth.out")"
pass "sip_tls_null_sha true: an Authenticated device negotiates NULL-SHA (TLS 1.2) and registers"
grep -q "^INVITE sip:4101@" "$T/auth.out" ||
	fail "the call did not reach the NULL-SHA device: $(cat "$T/caller.out")"
grep -q "^m=audio [0-9]* RTP/AVP " "$T/auth.out" || fail "the INVITE has no plain RTP offer"
grep -q "a=crypto" "$T/auth.out" && fail "SDES keys went over NULL-SHA: $(grep a=crypto "$T/auth.out")"
pass "a call from an SRTP caller reaches it as RTP/AVP without a=crypto"

# ---- only NULL-SHA is lowered to: another NULL suite still fails, with its own log line ----
null_register 4101 SEP0000000A4101 "$T/sha256.out" 1 NULL-SHA256
grep -q "SIP/2.0" "$T/sha256.out" && fail "NULL-SHA256 was accepted"
wait_for_lines "$T/ucmd.log" "offers only NULL ciphers, but not NULL-SHA" ||
	fail "no log line for a client with other NULL ciphers only"
pass "a client offering only NULL-SHA256 still fails, and the log says NULL-SHA is the one accepted"

# ---- (4) ordinary clients negotiate as before ----
"$UCM_PHONE" tls-check "127.0.0.1:$SIP_TLS_PORT" --ca "$DATA/pki/ca.crt" >"$T/check.out" 2>&1 ||
	fail "ucm-phone tls-check failed: $(cat "$T/check.out")"
grep -q "^protocol TLSv1.3" "$T/check.out" || fail "not TLS 1.3: $(cat "$T/check.out")"
grep -q "^cipher TLS_AES_\|^cipher TLS_CHACHA20" "$T/check.out" || fail "$(cat "$T/check.out")"
timeout 5 openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" -CAfile "$DATA/pki/ca.crt" \
	-tls1_2 </dev/null >"$T/tls12.out" 2>&1 || true
grep -q "Cipher is ECDHE-RSA-AES128-GCM-SHA256" "$T/tls12.out" ||
	fail "TLS 1.2 client without NULL got: $(grep -m1 Cipher "$T/tls12.out")"
timeout 5 openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" -CAfile "$DATA/pki/ca.crt" \
	-tls1_2 -cipher 'NULL-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' </dev/null \
	>"$T/mixed.out" 2>&1 || true
grep -q "Cipher is ECDHE-RSA-AES128-GCM-SHA256" "$T/mixed.out" ||
	fail "a client listing NULL-SHA beside AES-GCM: $(grep -m1 Cipher "$T/mixed.out")"
pass "with sip_tls_null_sha true, clients that do not offer NULL-SHA negotiate TLS 1.3 or ECDHE AES-GCM as before; one listing it beside AES-GCM gets AES-GCM"
stop_ucmd
finish
