#!/usr/bin/env bash
# ucm-phone boot against ucmd, as a Cisco phone boots: trust lists first (trusted on first
# use, later updates checked against the installed list), then the signed configuration, or
# the encrypted one for a device whose profile asks for it, then registration as the
# configuration says. A non-secure device over TFTP and HTTP, an authenticated one over
# SIP-TLS with its certificate, an encrypted one that decrypts its configuration with its LSC;
# tampered trust lists and configurations, and a foreign trust list, are refused; with --stay
# an apply-config makes the phone fetch everything again.
source "$(dirname "$0")/lib.sh"

start_with_admin SIP_PORT SIP_TLS_PORT TFTP_PORT HTTP_PORT
C enterprise-parameter update cluster_security_mode --value mixed
for n in 5001 5002 5003; do C directory-number create $n; done
C device create SEP000000005001 --type cisco_sip_phone --lines 5001
C phone-security-profile create "Phone Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C device create SEP000000005002 --type cisco_sip_phone --lines 5002 \
	--phone-security-profile "Phone Authenticated"
C phone-security-profile create "Phone Encrypted Config" --device-type cisco_sip_phone \
	--device-security-mode encrypted --tftp-encrypted-config true
C device create SEP000000005003 --type cisco_sip_phone --lines 5003 \
	--phone-security-profile "Phone Encrypted Config"
pass "mixed cluster; non-secure, authenticated and encrypted-config devices"

tftp=(--tftp "127.0.0.1:$TFTP_PORT")
http=(--http "127.0.0.1:$HTTP_PORT")
boot() { "$UCM_PHONE" boot --device "$1" --state "$T/state-$1" --timeout 15 "${@:2}"; }
expect() { grep -qF -- "$1" <<<"$out" || fail "$2: no \"$1\" in: $out"; }

# ---- non-secure, over TFTP, then again over HTTP ----
out=$(boot SEP000000005001 "${tftp[@]}") || fail "boot over TFTP: $out"
expect "CTLFile.tlv: " "CTL"
expect "ITLFile.tlv: " "ITL"
expect "signature verified (first list: trusted on first use)" "first list"
expect "SEP000000005001.cnf.xml.sgn: " "signed config"
expect "signature verified" "signed config"
expect "registered 5001 at 127.0.0.1:$SIP_PORT" "registration"
pass "non-secure device boots over TFTP: trust lists, signed config, registered"

out=$(boot SEP000000005001 "${http[@]}") || fail "boot over HTTP: $out"
expect "ITLFile.tlv: " "ITL"
expect "signature verified against the installed list" "update check"
expect "registered 5001" "registration"
pass "second boot over HTTP: the new lists verify against the installed ones"

# ---- authenticated: SIP over TLS with the device certificate ----
device_cert SEP000000005002
out=$(boot SEP000000005002 "${http[@]}" --cert "$T/SEP000000005002.crt" \
	--key "$T/SEP000000005002.key") || fail "authenticated boot: $out"
expect "security mode 2" "mode"
expect "registered 5002 at 127.0.0.1:$SIP_TLS_PORT over TLS" "TLS registration"
pass "authenticated device registers over TLS, trusting the CCM certificate of the lists"

# ---- encrypted configuration: its LSC enrolled over EST, so the server knows it ----
DEV=SEP000000005003
api PATCH "devices/$DEV" -d '{"capf_certificate_operation": "install_upgrade",
	"capf_authentication_mode": "by_authentication_string",
	"capf_authentication_string": "246813"}' >/dev/null
expect_status 200 "CAPF operation for $DEV"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/$DEV.key" 2>/dev/null
openssl req -new -key "$T/$DEV.key" -subj "/CN=$DEV" -outform DER | base64 >"$T/$DEV.b64"
STATUS=$(curl -s --cacert "$DATA/pki/ca.crt" -o "$T/est.out" -w '%{http_code}' \
	-H 'Content-Type: application/pkcs10' --data-binary "@$T/$DEV.b64" -u "$DEV:246813" \
	"https://127.0.0.1:$ADMIN_PORT/.well-known/est/simpleenroll")
[ "$STATUS" = 200 ] || fail "EST enrollment: HTTP $STATUS $(cat "$T/est.out")"
base64 -d "$T/est.out" | openssl pkcs7 -inform DER -print_certs >"$T/$DEV.crt"
pass "$DEV enrolled an LSC"

out=$(boot $DEV "${tftp[@]}") && fail "boot without its certificate: $out"
expect "the configuration is encrypted for certificate" "no certificate"
pass "without its certificate the phone cannot read its encrypted configuration"

out=$(boot $DEV "${tftp[@]}" --cert "$T/$DEV.crt" --key "$T/$DEV.key") ||
	fail "encrypted boot: $out"
expect "$DEV.cnf.xml.sgn: " "stub"
expect "$DEV.cnf.xml.enc.sgn: " "encrypted config"
expect "decrypted with the phone key" "decryption"
expect "registered 5003 at 127.0.0.1:$SIP_TLS_PORT over TLS" "TLS registration"
pass "encrypted configuration: stub, .enc.sgn verified and decrypted, registered over TLS"

curl -s -o "$T/plain.xml" "http://127.0.0.1:$HTTP_PORT/$DEV.cnf.xml"
grep -q "<encrConfig>true</encrConfig>" "$T/plain.xml" || fail "plain name: $(cat "$T/plain.xml")"
! grep -q "sipLines" "$T/plain.xml" || fail "the plain name carries the full configuration"
pass "the plain name of an encrypted configuration is the stub"

# ---- tampering: a server that hands out changed files ----
# serve DIR: a plain HTTP server of DIR's files on $FAKE_PORT.
serve() {
	FAKE_PORT=$(free_port)
	(cd "$1" && exec python3 -m http.server "$FAKE_PORT" --bind 127.0.0.1) >/dev/null 2>&1 &
	track_pid $!
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$FAKE_PORT/" && return 0
		sleep 0.1
	done
	fail "python http.server did not start"
}
flip() { # flip FILE OFFSET: changes one byte
	python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[int(sys.argv[2])]^=1; open(p,'wb').write(d)" "$@"
}
mkdir -p "$T/www"
for f in ITLFile.tlv CTLFile.tlv SEP000000005001.cnf.xml.sgn; do
	curl -s -o "$T/www/$f" "http://127.0.0.1:$HTTP_PORT/$f"
done
serve "$T/www"
fake=(--http "127.0.0.1:$FAKE_PORT")

cp -r "$T/state-SEP000000005001" "$T/state-copy"
flip "$T/www/ITLFile.tlv" 500
out=$(boot SEP000000005001 "${fake[@]}") && fail "tampered ITL accepted: $out"
expect "ITLFile.tlv rejected:" "tampered ITL"
cmp -s "$T/state-SEP000000005001/ITLFile.tlv" "$T/state-copy/ITLFile.tlv" ||
	fail "a rejected list replaced the installed one"
pass "a tampered trust list is rejected and the installed one kept"

curl -s -o "$T/www/ITLFile.tlv" "http://127.0.0.1:$HTTP_PORT/ITLFile.tlv"
size=$(stat -c %s "$T/www/SEP000000005001.cnf.xml.sgn")
flip "$T/www/SEP000000005001.cnf.xml.sgn" $((size - 20))
out=$(boot SEP000000005001 "${fake[@]}") && fail "tampered config accepted: $out"
expect "SEP000000005001.cnf.xml.sgn rejected:" "tampered config"
expect "does not verify" "tampered config"
pass "a tampered signed configuration is rejected"

# A trust list of another installation (the fuzz corpus holds one) is not an update of ours.
cp "$root/tests/fuzz/corpus/tlv/ITLFile_sha1.tlv" "$T/www/ITLFile.tlv"
rm -f "$T/www/CTLFile.tlv"
out=$(boot SEP000000005001 "${fake[@]}") && fail "foreign ITL accepted: $out"
expect "update refused" "foreign ITL"
out=$("$UCM_PHONE" boot --device SEP000000005001 --state "$T/state-new" "${fake[@]}" \
	--timeout 5) || true
expect "trusted on first use" "a new phone takes any first list"
pass "a trust list signed by a key the installed list does not trust is refused"

# ---- resync: an apply-config makes a --stay phone fetch again ----
boot SEP000000005001 "${http[@]}" --stay --timeout 40 >"$T/stay.out" 2>&1 &
stay_pid=$!
track_pid $stay_pid
wait_for_lines "$T/stay.out" "staying registered" || fail "stay: $(cat "$T/stay.out")"
api POST devices/SEP000000005001/apply-config >/dev/null
expect_status 202 "apply-config accepted"
wait_for_lines "$T/stay.out" "staying registered" 2 || true
out=$(cat "$T/stay.out")
expect "NOTIFY service-control" "NOTIFY"
expect "resync requested" "resync"
[ "$(grep -c "signature verified against the installed list" <<<"$out")" -ge 4 ] ||
	fail "the lists were not fetched again: $out"
[ "$(grep -c "registered 5001" <<<"$out")" -ge 2 ] || fail "not registered again: $out"
kill -TERM $stay_pid
wait $stay_pid || true
pass "apply-config: the phone re-fetched its trust lists and configuration and registered again"

finish
