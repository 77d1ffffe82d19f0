#!/usr/bin/env bash
# Certificate administration: /api/v1/certificates lists the CA, the role certificates and the
# issued LSCs; renewing the SIP TLS certificate does not drop a connected phone (it registers
# again over its old connection) while new connections get the new certificate and the old
# one stays listed for the overlap; a CSR for an external CA and its signed certificate are
# installed and kept across a restart; trust stores take, list and drop manufacturer CAs.
# Every change is in the audit log.
source "$(dirname "$0")/lib.sh"

start_with_admin SIP_PORT SIP_TLS_PORT
DEV=SEP0000000E5901
C enterprise-parameter update cluster_security_mode --value mixed
C directory-number create 5901
C phone-security-profile create "Desk Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C device create $DEV --type cisco_sip_phone --lines 5901 \
	--phone-security-profile "Desk Authenticated" --capf-certificate-operation install_upgrade \
	--capf-authentication-string 909090
pass "an authenticated device with an install pending"

# The operation asks for RSA 2048 (the profile's key size): an EC key is refused.
! timeout 30 "$UCM_PHONE" enroll --protocol est --server "127.0.0.1:$ADMIN_PORT" \
	--ca "$DATA/pki/ca.crt" --device $DEV --auth string --auth-string 909090 \
	--key-type ec --key-size 256 --cert "$T/lsc.crt" --key "$T/lsc.key" >"$T/enroll.out" 2>&1 ||
	fail "an EC key enrolled for an RSA operation"
grep -q "key type mismatch" "$T/enroll.out" || fail "refusal: $(cat "$T/enroll.out")"
pass "ucm-phone over EST: a key of the wrong type is refused with the reason"
timeout 30 "$UCM_PHONE" enroll --protocol est --server "127.0.0.1:$ADMIN_PORT" \
	--ca "$DATA/pki/ca.crt" --device $DEV --auth string --auth-string 909090 \
	--cert "$T/lsc.crt" --key "$T/lsc.key" >"$T/enroll.out" 2>&1 ||
	fail "enroll: $(cat "$T/enroll.out")"

api_as "" "" GET certificates >/dev/null
[ "$STATUS" = 401 ] || fail "certificates without credentials: $STATUS"
api GET certificates >"$T/certs.json"
expect_status 200 "GET certificates"
python3 - "$T/certs.json" "$DEV" <<'EOF' || fail "certificate list: $(cat "$T/certs.json")"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
kinds = {(i["kind"], i["name"]) for i in items}
assert ("ca", "ca") in kinds and ("role", "https") in kinds and ("role", "sip-tls") in kinds
assert ("lsc", sys.argv[2]) in kinds, kinds
EOF
pass "the list has the CA, the role certificates and the device's LSC"

server_serial() {
	openssl s_client -connect "127.0.0.1:$1" -CAfile "$DATA/pki/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -serial | cut -d= -f2
}
old_sip=$(server_serial "$SIP_TLS_PORT")
[ -n "$old_sip" ] || fail "no SIP TLS certificate"

# A phone connected before the renewal registers over the same connection after it.
register_msg() {
	local tag=$RANDOM$RANDOM
	printf 'REGISTER sip:127.0.0.1:%s SIP/2.0\r\n' "$SIP_TLS_PORT"
	printf 'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK%s;rport\r\n' "$tag"
	printf 'From: <sip:5901@127.0.0.1>;tag=%s\r\nTo: <sip:5901@127.0.0.1>\r\n' "$tag"
	printf 'Call-ID: %s@test\r\nCSeq: 1 REGISTER\r\n' "$tag"
	printf 'Contact: <sip:5901@127.0.0.1:5999;transport=tls>\r\n'
	printf 'Max-Forwards: 70\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n'
}
{
	sleep 2
	register_msg
	sleep 2
} | timeout 15 openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" -CAfile "$DATA/pki/ca.crt" \
	-cert "$T/lsc.crt" -key "$T/lsc.key" -quiet >"$T/held.out" 2>/dev/null &
held=$!
track_pid "$held"
sleep 1
api POST certificates/sip-tls/renew -d '{"overlap_days": 3}' >"$T/renew.json"
expect_status 200 "renew the SIP TLS certificate"
new_sip=$(server_serial "$SIP_TLS_PORT")
[ -n "$new_sip" ] && [ "$new_sip" != "$old_sip" ] || fail "new connections still get $old_sip"
pass "new connections get the renewed certificate, without a restart"
wait "$held" || true
head -n 1 "$T/held.out" | grep -q "SIP/2.0 200" || fail "held connection: $(head -n 3 "$T/held.out")"
pass "the phone connected before the renewal stays connected and registers"
api GET certificates/sip-tls.previous >"$T/prev.json"
expect_status 200 "the previous certificate is listed for the overlap"
[ "$(json "['serial']" <"$T/prev.json")" = "$old_sip" ] || fail "previous serial"
[ "$(json "['kind']" <"$T/prev.json")" = previous ] || fail "previous kind"

# ---- an external CA ----
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ext-ca.key" -subj "/CN=External CA" \
	-days 30 -out "$T/ext-ca.crt" 2>/dev/null
api POST certificates/https/csr >"$T/csr.json"
expect_status 200 "a CSR for the HTTPS certificate"
json "['csr']" <"$T/csr.json" >"$T/https.csr"
openssl req -in "$T/https.csr" -noout -verify 2>&1 | grep -q "verify OK" || fail "CSR"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/ext"
openssl x509 -req -in "$T/https.csr" -CA "$T/ext-ca.crt" -CAkey "$T/ext-ca.key" \
	-CAcreateserial -days 20 -sha256 -extfile "$T/ext" -out "$T/https.crt" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' \
	"$T/ext-ca.crt" >"$T/wrong.json"
api POST certificates/https/install --data-binary "@$T/wrong.json" >/dev/null
expect_error 422 invalid "a certificate for another key is refused" certificate
python3 -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' \
	"$T/https.crt" >"$T/install.json"
api POST certificates/https/install --data-binary "@$T/install.json" >/dev/null
expect_status 200 "the external CA's certificate is installed"
curl -s --cacert "$T/ext-ca.crt" "https://127.0.0.1:$ADMIN_PORT/api/v1/health" >/dev/null ||
	fail "HTTPS does not present the external certificate"
pass "HTTPS now presents the externally signed certificate"
stop_ucmd
start_ucmd_ext() {
	"$UCMD" --data-dir "$DATA" --admin-listen "127.0.0.1:$ADMIN_PORT" >>"$T/ucmd.log" 2>&1 &
	UCMD_PID=$!
	for _ in $(seq 1 100); do
		curl -s --cacert "$T/ext-ca.crt" "https://127.0.0.1:$ADMIN_PORT/api/v1/health" \
			>/dev/null 2>&1 && return 0
		kill -0 "$UCMD_PID" 2>/dev/null || fail "ucmd exited: $(tail -n 5 "$T/ucmd.log")"
		sleep 0.1
	done
	fail "ucmd did not come back with the external certificate"
}
start_ucmd_ext
pass "the external certificate is kept across a restart"

# ---- trust stores ----
ext() { curl -s --cacert "$T/ext-ca.crt" -u "admin:$ADMIN_PASSWORD" -w '\n%{http_code}' \
	-H 'Content-Type: application/json' "https://127.0.0.1:$ADMIN_PORT/api/v1/$@"; }
split() { STATUS=${1##*$'\n'}; BODY=${1%$'\n'*}; }
split "$(ext trust-stores/manufacturer -X POST --data-binary "@$T/install.json")"
[ "$STATUS" = 422 ] || fail "a leaf certificate as trust anchor: $STATUS $BODY"
python3 -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' \
	"$T/ext-ca.crt" >"$T/anchor.json"
split "$(ext trust-stores/manufacturer -X POST --data-binary "@$T/anchor.json")"
[ "$STATUS" = 201 ] || fail "add anchor: $STATUS $BODY"
fp=$(printf '%s' "$BODY" | json "['sha256_fingerprint']")
split "$(ext trust-stores/manufacturer)"
[ "$(printf '%s' "$BODY" | json "['total']")" = 1 ] || fail "list: $BODY"
pass "a manufacturer CA is added to and listed in its trust store"
split "$(ext "trust-stores/manufacturer/$fp" -X DELETE)"
[ "$STATUS" = 204 ] || fail "remove anchor: $STATUS $BODY"
split "$(ext trust-stores/manufacturer)"
[ "$(printf '%s' "$BODY" | json "['total']")" = 0 ] || fail "list after remove: $BODY"
pass "... and removed"
split "$(ext "audit-log?limit=1000")"
printf '%s' "$BODY" | python3 -c '
import json, sys
actions = {e["action"] for e in json.load(sys.stdin)["items"]}
need = {"renew-certificate", "csr-certificate", "install-certificate", "add-trust-anchor",
        "remove-trust-anchor"}
assert need <= actions, need - actions' || fail "audit log"
pass "renewal, CSR, install and trust store changes are audited"
finish
