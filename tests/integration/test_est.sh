#!/usr/bin/env bash
# EST (RFC 7030) enrollment with curl and openssl as the client: cacerts; simpleenroll by the
# device's one-time authentication string (HTTP Basic), with a wrong string refused, repeated
# wrong strings locking the operation, an expired operation refused, a key of another size
# refused, a second enrollment refused until an administrator asks again, each outcome on the
# device record and in the audit log; simplereenroll with the current LSC, which supersedes it.
source "$(dirname "$0")/lib.sh"

start_ucmd
init_admin
EST="https://127.0.0.1:$ADMIN_PORT/.well-known/est"
DEV=SEP0000000E5701

# csr NAME KEYSPEC: a new key ($T/NAME.key) and its request, base64 DER, in $T/NAME.b64.
csr() {
	case $2 in
	rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" \
		-out "$T/$1.key" 2>/dev/null ;;
	ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" \
		-out "$T/$1.key" 2>/dev/null ;;
	esac
	openssl req -new -key "$T/$1.key" -subj "/CN=${3:-$DEV}" -outform DER -out "$T/$1.der"
	base64 "$T/$1.der" >"$T/$1.b64"
}

# est OP FILE [curl args]: POSTs FILE as application/pkcs10; body in $T/est.out, $STATUS set
# (000 when the TLS handshake refused the client certificate).
est() {
	local op=$1 file=$2
	shift 2
	STATUS=$(curl -s --cacert "$DATA/pki/ca.crt" -o "$T/est.out" -w '%{http_code}' \
		-H 'Content-Type: application/pkcs10' --data-binary "@$file" "$@" "$EST/$op") || true
}

# certs_of FILE: the PEM certificates of an EST certs-only reply.
certs_of() {
	base64 -d "$1" | openssl pkcs7 -inform DER -print_certs
}

device() { api GET "devices/$DEV" | json "['$1']"; }

schedule() {
	api PATCH "devices/$DEV" -d "{\"capf_certificate_operation\": \"install_upgrade\",
		\"capf_authentication_mode\": \"by_authentication_string\",
		\"capf_authentication_string\": \"$1\" ${2:+, \"capf_operation_completes_by\": \"$2\"}
		${3:+, $3}}" \
		>/dev/null
	expect_status 200 "operation scheduled with string $1"
}

# ---- cacerts ----
STATUS=$(curl -s --cacert "$DATA/pki/ca.crt" -o "$T/cacerts" -D "$T/h" -w '%{http_code}' \
	"$EST/cacerts")
[ "$STATUS" = 200 ] || fail "cacerts: HTTP $STATUS"
grep -qi '^content-type: application/pkcs7-mime' "$T/h" || fail "cacerts content type"
certs_of "$T/cacerts" >"$T/cacerts.pem"
cmp <(openssl x509 -in "$T/cacerts.pem" -outform DER) \
	<(openssl x509 -in "$DATA/pki/ca.crt" -outform DER) || fail "cacerts is not the CA"
pass "cacerts gives the CA as PKCS#7 certs-only"

api POST devices -d "{\"name\": \"$DEV\", \"type\": \"cisco_sip_phone\"}" >/dev/null
expect_status 201 "device created"
schedule 135790

# ---- simpleenroll by authentication string ----
csr first rsa:2048
est simpleenroll "$T/first.b64"
[ "$STATUS" = 401 ] || fail "no credentials: HTTP $STATUS"
pass "without credentials: 401"
est simpleenroll "$T/first.b64" -u "$DEV:000000"
[ "$STATUS" = 401 ] || fail "wrong string: HTTP $STATUS $(cat "$T/est.out")"
[ "$(device capf_operation_status)" = "Install/Upgrade failed" ] || fail "status after wrong string"
[ "$(device capf_certificate_operation)" = install_upgrade ] || fail "wrong string ended the operation"
pass "a wrong string is refused and shows as failed on the device, the operation stays"
est simpleenroll "$T/first.b64" -u "SEP0000000E5799:135790"
[ "$STATUS" = 401 ] || fail "unknown device: HTTP $STATUS"
pass "an unknown device gets the same 401"
echo 'not base64 @@' >"$T/junk.b64"
est simpleenroll "$T/junk.b64" -u "$DEV:135790"
[ "$STATUS" = 400 ] || fail "junk request: HTTP $STATUS"
pass "a body that is no PKCS#10 gets 400"
csr big rsa:3072
est simpleenroll "$T/big.b64" -u "$DEV:135790"
[ "$STATUS" = 400 ] && grep -q "mismatch" "$T/est.out" || fail "3072-bit key: HTTP $STATUS $(cat "$T/est.out")"
pass "a key of another size than the operation's is refused"
csr other rsa:2048 SEP0000000E5702
est simpleenroll "$T/other.b64" -u "$DEV:135790"
[ "$STATUS" = 400 ] || fail "request for another CN: HTTP $STATUS"
pass "a request naming another device is refused"

est simpleenroll "$T/first.b64" -u "$DEV:135790"
[ "$STATUS" = 200 ] || fail "enroll: HTTP $STATUS $(cat "$T/est.out")"
certs_of "$T/est.out" >"$T/first.crt"
openssl verify -CAfile "$DATA/pki/ca.crt" -purpose sslclient "$T/first.crt" >/dev/null ||
	fail "issued certificate does not verify"
openssl x509 -in "$T/first.crt" -noout -subject | grep -q "CN = $DEV" || fail "subject"
[ "$(openssl x509 -in "$T/first.crt" -noout -pubkey | openssl sha256)" = \
	"$(openssl pkey -in "$T/first.key" -pubout | openssl sha256)" ] || fail "not our key"
openssl x509 -in "$T/first.crt" -noout -text >"$T/first.txt"
grep -q "URI:$DEV" "$T/first.txt" || fail "no URI SAN"
grep -q "crl/ca.crl" "$T/first.txt" || fail "no CRL distribution point"
pass "the right string gets an LSC for the CSR's key, CN and URI = device, CRL DP"
[ "$(device capf_operation_status)" = "Install/Upgrade successful" ] || fail "status after success"
[ "$(device capf_certificate_operation)" = no_pending ] || fail "operation still pending"
[ "$(device lsc_status)" = installed ] || fail "lsc_status"
serial=$(openssl x509 -in "$T/first.crt" -noout -serial | cut -d= -f2)
api GET "issued-certificates/$serial" >"$T/issued.json"
expect_status 200 "the certificate is in the registry"
[ "$(json "['owner']" <"$T/issued.json")" = "$DEV" ] || fail "registry owner"
[ "$(json "['issued_by']" <"$T/issued.json")" = est ] || fail "registry issued_by"
pass "success shows on the device (successful, no pending operation, LSC installed)"

est simpleenroll "$T/first.b64" -u "$DEV:135790"
[ "$STATUS" = 403 ] || fail "second enroll: HTTP $STATUS"
pass "a second enrollment with the used string is refused"

# ---- locking after repeated wrong strings (limit 3) ----
schedule 24680
for i in 1 2; do
	est simpleenroll "$T/first.b64" -u "$DEV:1111$i"
	[ "$STATUS" = 401 ] || fail "wrong string $i: HTTP $STATUS"
done
est simpleenroll "$T/first.b64" -u "$DEV:11113"
[ "$STATUS" = 403 ] || fail "third wrong string: HTTP $STATUS"
est simpleenroll "$T/first.b64" -u "$DEV:24680"
[ "$STATUS" = 403 ] && grep -q "locked" "$T/est.out" || fail "locked string accepted: $STATUS"
pass "three wrong strings lock the operation: even the right string is refused"
schedule 97531
csr second rsa:2048
est simpleenroll "$T/second.b64" -u "$DEV:97531"
[ "$STATUS" = 200 ] || fail "enroll after a new string: HTTP $STATUS $(cat "$T/est.out")"
certs_of "$T/est.out" >"$T/second.crt"
pass "a new string from the administrator re-arms it"
serial1=$serial
serial=$(openssl x509 -in "$T/second.crt" -noout -serial | cut -d= -f2)
[ "$(api GET "issued-certificates/$serial1" | json "['revocation_reason']")" = superseded ] ||
	fail "first certificate not superseded"
pass "the new LSC supersedes (revokes) the previous one"

# ---- expiry ----
schedule 86420 "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)"
sleep 3
est simpleenroll "$T/second.b64" -u "$DEV:86420"
[ "$STATUS" = 403 ] && grep -q "expired" "$T/est.out" || fail "expired operation: $STATUS"
[ "$(device capf_operation_status)" = "Install/Upgrade failed" ] || fail "status after expiry"
pass "an expired operation is refused and shows as failed"

# ---- EC keys where the operation asks for them ----
schedule 55555 "" '"capf_key_type": "ec_p256"'
csr ec ec:P-256
est simpleenroll "$T/ec.b64" -u "$DEV:55555"
[ "$STATUS" = 200 ] || fail "P-256 enroll: HTTP $STATUS $(cat "$T/est.out")"
certs_of "$T/est.out" >"$T/ec.crt"
openssl x509 -in "$T/ec.crt" -noout -text | grep -q "prime256v1\|P-256" || fail "not an EC cert"
pass "a P-256 key enrolls when the operation asks for one"

# ---- simplereenroll with the current LSC ----
csr renew ec:P-256
est simplereenroll "$T/renew.b64"
[ "$STATUS" = 401 ] || fail "reenroll without certificate: HTTP $STATUS"
est simplereenroll "$T/renew.b64" --cert "$T/second.crt" --key "$T/second.key"
[ "$STATUS" = 000 ] || fail "a superseded certificate got through the handshake: HTTP $STATUS"
pass "re-enrollment needs the current LSC (a superseded one fails the handshake at once)"
est simplereenroll "$T/renew.b64" --cert "$T/ec.crt" --key "$T/ec.key"
[ "$STATUS" = 200 ] || fail "reenroll: HTTP $STATUS $(cat "$T/est.out")"
certs_of "$T/est.out" >"$T/renew.crt"
openssl verify -CAfile "$DATA/pki/ca.crt" "$T/renew.crt" >/dev/null || fail "renewed cert"
pass "simplereenroll with the current LSC gives a new one"

# ---- simpleenroll by an existing certificate (the LSC, over TLS client authentication) ----
api PATCH "devices/$DEV" -d '{"capf_certificate_operation": "install_upgrade",
	"capf_authentication_mode": "by_existing_certificate_lsc"}' >/dev/null
expect_status 200 "install by existing certificate scheduled"
csr bycert ec:P-256
est simpleenroll "$T/bycert.b64"
[ "$STATUS" = 401 ] || fail "existing-certificate mode without one: HTTP $STATUS"
est simpleenroll "$T/bycert.b64" --cert "$T/renew.crt" --key "$T/renew.key"
[ "$STATUS" = 200 ] || fail "enroll by LSC: HTTP $STATUS $(cat "$T/est.out")"
[ "$(device capf_operation_status)" = "Install/Upgrade successful" ] || fail "status by LSC"
pass "by existing certificate: refused without one, enrolled with the current LSC"

# ---- by null string, with ucm-phone as the client ----
api PATCH "devices/$DEV" -d '{"capf_certificate_operation": "install_upgrade",
	"capf_authentication_mode": "by_null_string", "capf_key_type": "rsa"}' >/dev/null
expect_status 200 "install by null string scheduled"
timeout 30 "$UCM_PHONE" enroll --protocol est --server "127.0.0.1:$ADMIN_PORT" \
	--ca "$DATA/pki/ca.crt" --device $DEV --auth null --cert "$T/null.crt" --key "$T/null.key" \
	>"$T/null.out" 2>&1 || fail "ucm-phone null-string enroll: $(cat "$T/null.out")"
openssl verify -CAfile "$DATA/pki/ca.crt" "$T/null.crt" >/dev/null || fail "null-string cert"
timeout 30 "$UCM_PHONE" enroll --protocol est --server "127.0.0.1:$ADMIN_PORT" \
	--ca "$DATA/pki/ca.crt" --device $DEV --auth null --cert "$T/null2.crt" --key "$T/null2.key" \
	>"$T/null.out" 2>&1 && fail "a second null-string enroll succeeded"
grep -q "HTTP 403" "$T/null.out" || fail "second null-string enroll: $(cat "$T/null.out")"
pass "ucm-phone enrolls by null string once; the next attempt is refused (403)"

# ---- a CTI application instance (application user CAPF profile) ----
api POST app-users -d '{"user_id": "ctiapp"}' >/dev/null
expect_status 201 "application user created"
api POST capf-profiles -d '{"name": "ctiapp-node1", "user_type": "application_user",
	"user_id": "ctiapp", "instance_id": "node1", "capf_certificate_operation": "install_upgrade",
	"capf_authentication_string": "777777"}' >/dev/null
expect_status 201 "CAPF profile for instance node1"
csr app rsa:2048 ctiapp
est simpleenroll "$T/app.b64" -u "ctiapp-node1:777777"
[ "$STATUS" = 200 ] || fail "instance enroll: HTTP $STATUS $(cat "$T/est.out")"
certs_of "$T/est.out" | openssl x509 -noout -text >"$T/app.txt"
grep -q "Subject: CN = ctiapp" "$T/app.txt" && grep -q "URI:ctiapp/node1" "$T/app.txt" ||
	fail "instance certificate: $(grep -E 'Subject:|URI' "$T/app.txt")"
[ "$(api GET capf-profiles/ctiapp-node1 | json "['capf_operation_status']")" = \
	"Install/Upgrade successful" ] || fail "profile status"
api GET "issued-certificates?owner=ctiapp" >"$T/app.json"
[ "$(json "['items'][0]['instance_id']" <"$T/app.json")" = node1 ] || fail "registry instance"
pass "an application instance enrolls by its CAPF profile: CN = user, URI = user/instance"

api GET "audit-log?record_key=$DEV&limit=1000" >"$T/audit.json"
python3 - "$T/audit.json" <<'EOF' || fail "audit log"
import json, sys
actions = [e["action"] for e in json.load(open(sys.argv[1]))["items"]]
for a in ("capf-est-enroll", "issue-certificate", "revoke-certificate"):
    assert a in actions, (a, sorted(set(actions)))
EOF
pass "attempts, issued and superseded certificates are in the audit log"
finish
