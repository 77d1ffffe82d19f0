#!/usr/bin/env bash
# Revocation end to end: a device enrolls over EST with ucm-phone, registers over SIP TLS with
# its new LSC; an administrator revokes it (audited); the CRL served at /crl/ca.crl (signed by
# the CA) lists it at once, and the same certificate can no longer connect, over SIP TLS or to
# EST, without a restart. An expired certificate from our CA is refused too. A new enrollment
# brings the device back.
source "$(dirname "$0")/lib.sh"

start_with_admin SIP_PORT SIP_TLS_PORT
DEV=SEP0000000E5801
C enterprise-parameter update cluster_security_mode --value mixed
C directory-number create 5801
C phone-security-profile create "Desk Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C device create $DEV --type cisco_sip_phone --lines 5801 \
	--phone-security-profile "Desk Authenticated"
pass "mixed cluster; an authenticated device"

schedule() {
	api PATCH "devices/$DEV" -d "{\"capf_certificate_operation\": \"install_upgrade\",
		\"capf_authentication_mode\": \"by_authentication_string\",
		\"capf_authentication_string\": \"$1\"}" >/dev/null
	expect_status 200 "install scheduled with string $1"
}

# enroll NAME STRING: ucm-phone enrolls over EST into $T/NAME.crt and $T/NAME.key.
enroll() {
	timeout 30 "$UCM_PHONE" enroll --protocol est --server "127.0.0.1:$ADMIN_PORT" \
		--ca "$DATA/pki/ca.crt" --device $DEV --auth string --auth-string "$2" \
		--cert "$T/$1.crt" --key "$T/$1.key" >"$T/enroll.out" 2>&1
}

tls=(--server "127.0.0.1:$SIP_TLS_PORT" --transport tls --timeout 10 --ca "$DATA/pki/ca.crt"
	--line 5801)
register() { timeout 20 "$UCM_PHONE" register "${tls[@]}" --cert "$T/$1.crt" --key "$T/$1.key" \
	>"$T/register.out" 2>&1; }

schedule 424242
enroll lsc 424242 || fail "EST enrollment failed: $(cat "$T/enroll.out")"
grep -q "enrolled /CN=$DEV" "$T/enroll.out" || fail "enroll output: $(cat "$T/enroll.out")"
[ "$(stat -c %a "$T/lsc.key")" = 600 ] || fail "key file mode"
pass "ucm-phone enrolls over EST with the authentication string"
register lsc || fail "registration with the LSC failed: $(cat "$T/register.out")"
pass "the enrolled LSC registers over SIP TLS"

serial=$(openssl x509 -in "$T/lsc.crt" -noout -serial | cut -d= -f2)
api POST "devices/$DEV/revoke-certificate" -d '{"reason": "no_such_reason"}' >/dev/null
expect_error 422 invalid "an unknown revocation reason is refused" reason
api POST "devices/$DEV/revoke-certificate" -d '{"reason": "key_compromise"}' >"$T/revoke.json"
expect_status 200 "revoke-certificate action"
[ "$(json "['revoked']" <"$T/revoke.json")" = 1 ] || fail "revoked count: $(cat "$T/revoke.json")"
[ "$(api GET "devices/$DEV" | json "['lsc_status']")" = not_installed ] || fail "lsc_status"
api GET "issued-certificates/$serial" >"$T/cert.json"
[ "$(json "['status']" <"$T/cert.json")" = revoked ] || fail "registry status"
[ "$(json "['revocation_reason']" <"$T/cert.json")" = key_compromise ] || fail "reason"
api GET "audit-log?record_key=$DEV&action=revoke-certificate" >"$T/audit.json"
[ "$(json "['total']" <"$T/audit.json")" = 1 ] || fail "revocation not audited: $(cat "$T/audit.json")"
[ "$(json "['items'][0]['actor']" <"$T/audit.json")" = admin ] || fail "audit actor"
pass "the device's LSC is revoked, shown on the device and registry, and audited"
api POST "devices/$DEV/revoke-certificate" >/dev/null
expect_error 409 conflict "revoking again: nothing valid left"

curl -s --cacert "$DATA/pki/ca.crt" -o "$T/ca.crl" "https://127.0.0.1:$ADMIN_PORT/crl/ca.crl"
openssl crl -inform DER -in "$T/ca.crl" -CAfile "$DATA/pki/ca.crt" -noout 2>&1 |
	grep -q "verify OK" || fail "CRL signature"
openssl crl -inform DER -in "$T/ca.crl" -noout -text >"$T/crl.txt"
grep -q "Serial Number: $serial" "$T/crl.txt" || fail "serial not on the CRL"
grep -q "Key Compromise" "$T/crl.txt" || fail "reason not on the CRL"
pass "the CRL, signed by the CA, lists the certificate with its reason"

! register lsc || fail "a revoked certificate still registers"
pass "the revoked certificate can no longer connect over SIP TLS (no restart)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$DATA/pki/ca.crt" \
	--cert "$T/lsc.crt" --key "$T/lsc.key" -H 'Content-Type: application/pkcs10' \
	--data-binary x "https://127.0.0.1:$ADMIN_PORT/.well-known/est/simplereenroll" || true)
[ "$code" = 000 ] || fail "revoked certificate reached EST: HTTP $code"
pass "... nor to the admin listener (the TLS handshake fails)"

# An expired certificate from our own CA.
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 1000 >"$T/ca/serial"
cat >"$T/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $T/ca/index.txt
new_certs_dir = $T/ca
serial = $T/ca/serial
default_md = sha256
policy = p
[p]
commonName = supplied
EOF
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/old.key" -subj "/CN=$DEV" \
	-out "$T/old.csr" 2>/dev/null
openssl ca -batch -config "$T/ca.cnf" -cert "$DATA/pki/ca.crt" -keyfile "$DATA/pki/ca.key" \
	-startdate 20200101000000Z -enddate 20200201000000Z -notext -in "$T/old.csr" \
	-out "$T/old.crt" 2>/dev/null || fail "cannot make an expired certificate"
! register old || fail "an expired certificate registers"
pass "an expired certificate of our CA is refused"

schedule 535353
enroll again 535353 || fail "second enrollment failed: $(cat "$T/enroll.out")"
register again || fail "registration with the new LSC failed: $(cat "$T/register.out")"
pass "after a new enrollment the device registers again"
finish
