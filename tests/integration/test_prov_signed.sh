#!/usr/bin/env bash
# Trust lists, signed and encrypted device files served by prov, and phones booting from them:
# ITLFile.tlv always and CTLFile.tlv only in mixed mode; <file>.sgn is the file after a signed
# header; <device>.cnf.xml.enc.sgn exists only for a device whose profile sets TFTP encrypted
# config and that has a certificate (here enrolled over EST), while its plain and .sgn names
# carry the stub (certHash of that certificate) and never its secrets; `ucm-phone boot` boots a
# non-secure and an encrypted phone over TFTP and HTTP and registers with what it read.
source "$(dirname "$0")/lib.sh"

start_with_admin TFTP_PORT HTTP_PORT SIP_PORT SIP_TLS_PORT
printf 'Secret3001\n' >"$T/dc"
C end-user create u3001 --last-name One --digest-credentials-file "$T/dc"
C directory-number create 3001
C directory-number create 3002
C phone-security-profile create "Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true
C device create SEP0000000030A1 --type cisco_sip_phone --lines 3001 --digest-user u3001 \
	--phone-security-profile Digest
C phone-security-profile create "Encrypted Config" --device-type cisco_sip_phone \
	--device-security-mode encrypted --tftp-encrypted-config true
C device create SEP0000000030A2 --type cisco_sip_phone --lines 3002 --digest-user u3001 \
	--phone-security-profile "Encrypted Config"
pass "a non-secure digest phone and an encrypted phone with encrypted configuration"

tftp_get() { (cd "$T" && tftp -m binary 127.0.0.1 "$TFTP_PORT" -c get "$1" "$2" 2>&1) || true; }
http() { curl -s -o "$T/$2" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/$1"; }
# signed_payload FILE: the bytes after the signed header (HEADER_LENGTH value at offset 8, 2 bytes).
signed_payload() {
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[int.from_bytes(d[8:10],"big"):])' "$1"
}

# ---- trust lists ----
out=$(tftp_get CTLFile.tlv ctl)
[[ $out == *"Error code 1"* ]] || fail "CTLFile.tlv served in non-secure mode: $out"
[ "$(http CTLFile.tlv ctl)" = 404 ] || fail "CTLFile.tlv over HTTP in non-secure mode"
out=$(tftp_get ITLFile.tlv itl)
[ -z "$out" ] && [ -s "$T/itl" ] || fail "ITLFile.tlv: $out"
[ "$(http ITLFile.tlv itl.http)" = 200 ] || fail "ITLFile.tlv over HTTP"
cmp -s "$T/itl" "$T/itl.http" || fail "ITLFile.tlv differs between TFTP and HTTP (cache)"
[ "$(head -c 5 "$T/itl" | od -An -tx1 | tr -d ' ')" = 0100020102 ] || fail "ITL version"
pass "non-secure cluster: ITLFile.tlv (version 1.2, cached), no CTLFile.tlv"
C enterprise-parameter update cluster_security_mode --value mixed
out=$(tftp_get CTLFile.tlv ctl)
[ -z "$out" ] && [ -s "$T/ctl" ] || fail "CTLFile.tlv in mixed mode: $out"
pass "mixed mode: CTLFile.tlv served"

# ---- signed files ----
tftp_get SEP0000000030A1.cnf.xml plain >/dev/null
out=$(tftp_get SEP0000000030A1.cnf.xml.sgn sgn)
[ -z "$out" ] || fail "SEP0000000030A1.cnf.xml.sgn: $out"
[ "$(head -c 5 "$T/sgn" | od -An -tx1 | tr -d ' ')" = 0100020100 ] || fail ".sgn version 1.0"
cmp -s <(signed_payload "$T/sgn") "$T/plain" || fail ".sgn payload is not the configuration"
grep -qa "SEP0000000030A1.cnf.xml.sgn" "$T/sgn" || fail ".sgn header does not name the file"
[ "$(http SPDefault.cnf.xml.sgn sp.sgn)" = 200 ] || fail "service profile .sgn"
[ "$(http ITLFile.tlv.sgn x)" = 404 ] || fail "a trust list has no .sgn"
pass ".sgn: signed header naming the file, then the file unchanged"
out=$(tftp_get SEP0000000030A1.cnf.xml.enc.sgn enc)
[[ $out == *"Error code 1"* ]] || fail ".enc.sgn of a device without encrypted config: $out"
pass ".enc.sgn of a device without TFTP encrypted config: file not found"

# ---- the encrypted-config device, before and after it has a certificate ----
tftp_get SEP0000000030A2.cnf.xml a2.plain >/dev/null
grep -q "<encrConfig>true</encrConfig>" "$T/a2.plain" || fail "no stub before the certificate"
out=$(tftp_get SEP0000000030A2.cnf.xml.enc.sgn enc)
[[ $out == *"Error code 1"* ]] || fail ".enc.sgn without a certificate: $out"
pass "without a certificate: the stub (empty certHash) and no .enc.sgn"
api PATCH devices/SEP0000000030A2 -d '{"capf_certificate_operation": "install_upgrade",
	"capf_authentication_mode": "by_authentication_string",
	"capf_authentication_string": "246810"}' >/dev/null
expect_status 200 "certificate operation scheduled"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/a2.key" 2>/dev/null
openssl req -new -key "$T/a2.key" -subj /CN=SEP0000000030A2 -outform DER -out "$T/a2.der"
base64 "$T/a2.der" >"$T/a2.b64"
code=$(curl -s --cacert "$DATA/pki/ca.crt" -o "$T/est.out" -w '%{http_code}' \
	-H 'Content-Type: application/pkcs10' --data-binary "@$T/a2.b64" \
	-u SEP0000000030A2:246810 "https://127.0.0.1:$ADMIN_PORT/.well-known/est/simpleenroll")
[ "$code" = 200 ] || fail "EST enrollment: $code $(cat "$T/est.out")"
base64 -d "$T/est.out" | openssl pkcs7 -inform DER -print_certs >"$T/a2.crt"
hash=$(openssl x509 -in "$T/a2.crt" -outform DER | md5sum | cut -d' ' -f1)
pass "SEP0000000030A2 enrolled over EST"
for name in SEP0000000030A2.cnf.xml SEP0000000030A2.cnf.xml.sgn SEP0000000030A2.cnf.xml.enc.sgn; do
	out=$(tftp_get "$name" "f.$name")
	[ -z "$out" ] || fail "$name: $out"
	! grep -qa "Secret3001\|authPassword" "$T/f.$name" || fail "$name carries secrets in clear"
done
grep -q "<certHash>$hash</certHash>" "$T/f.SEP0000000030A2.cnf.xml" || fail "stub certHash"
signed_payload "$T/f.SEP0000000030A2.cnf.xml.sgn" | grep -q "<certHash>$hash</certHash>" ||
	fail "signed stub certHash"
[ "$(head -c 5 "$T/f.SEP0000000030A2.cnf.xml.enc.sgn" | od -An -tx1 | tr -d ' ')" = 0100020200 ] ||
	fail ".enc.sgn version 2.0"
pass "with a certificate: stub with its certHash, .enc.sgn (version 2.0), no secret in clear"

# ---- phones boot from what is served ----
phone() { timeout 40 "$UCM_PHONE" "$@"; }
phone boot --device SEP0000000030A1 --state "$T/a1" --tftp "127.0.0.1:$TFTP_PORT" \
	--timeout 15 >"$T/boot1.out" 2>&1 || fail "boot of SEP0000000030A1: $(cat "$T/boot1.out")"
api GET "registrations?aor=3001" | json "['items'][0]['device']" | grep -q SEP0000000030A1 ||
	fail "SEP0000000030A1 not registered after boot: $(cat "$T/boot1.out")"
pass "non-secure phone boots over TFTP (CTL, ITL, signed config) and registers with digest"
phone boot --device SEP0000000030A2 --state "$T/a2" --http "127.0.0.1:$HTTP_PORT" \
	--cert "$T/a2.crt" --key "$T/a2.key" --timeout 15 >"$T/boot2.out" 2>&1 ||
	fail "boot of SEP0000000030A2: $(cat "$T/boot2.out")"
# Its binding goes with the TLS connection when the phone exits: check what it was told.
grep -q "decrypted with the phone key" "$T/boot2.out" &&
	grep -q "registered 3002 at 127.0.0.1:$SIP_TLS_PORT over TLS: 200 OK" "$T/boot2.out" ||
	fail "SEP0000000030A2 did not decrypt and register over TLS: $(cat "$T/boot2.out")"
pass "encrypted phone boots over HTTP, decrypts .enc.sgn with its key, registers over TLS"

# ---- apply config: the phone that stays registered is told, and fetches again ----
timeout 40 "$UCM_PHONE" boot --device SEP0000000030A2 --state "$T/a2" \
	--tftp "127.0.0.1:$TFTP_PORT" --cert "$T/a2.crt" --key "$T/a2.key" --stay \
	--timeout 30 >"$T/stay.out" 2>&1 &
stay=$!
track_pid $stay
wait_for_lines "$T/stay.out" "registered 3002" || fail "staying phone did not register: $(cat "$T/stay.out")"
api POST devices/SEP0000000030A2/apply-config >/dev/null
expect_status 202 "apply-config of the booted phone"
wait_for_lines "$T/stay.out" "decrypted with the phone key" 2 || true
grep -q "NOTIFY service-control" "$T/stay.out" && grep -q "resync requested" "$T/stay.out" &&
	[ "$(grep -c "decrypted with the phone key" "$T/stay.out")" -ge 2 ] ||
	fail "no resync after apply-config: $(cat "$T/stay.out")"
kill "$stay" 2>/dev/null || true
pass "apply-config: NOTIFY over the phone's TLS connection, the phone fetches and decrypts again"

finish
