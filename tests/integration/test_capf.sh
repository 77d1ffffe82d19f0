#!/usr/bin/env bash
# CAPF enrollment end to end, with ucm-phone as the phone: install by authentication string,
# null string, existing LSC and MIC; a wrong string refused, repeated wrong strings locking
# the operation, an expired operation refused, a wrong key size refused, a second install
# refused until an administrator asks again; delete and troubleshoot; a Jabber client and a
# CTI application instance; each outcome on the record (GET /api/v1/...) and in the audit
# log; the enrolled device registers over SIP TLS with its new LSC.
source "$(dirname "$0")/lib.sh"

start_with_admin CAPF_PORT SIP_TLS_PORT

# enroll NAME EXPECTED_EXIT EXPECTED_END_REASON [ucm-phone enroll options...]: enrolls
# device NAME into $T/NAME.crt/.key (or --cert/--key given) and checks the exit status and
# the END_SESSION reason the server gave.
enroll() {
	local name=$1 want=$2 reason=$3 rc=0
	shift 3
	timeout 30 "$UCM_PHONE" enroll --protocol capf --server "127.0.0.1:$CAPF_PORT" \
		--ca "$DATA/pki/ca.crt" --device "$name" --cert "$T/$name.crt" --key "$T/$name.key" \
		"$@" >"$T/enroll.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "enroll $name $*: exit $rc, not $want: $(cat "$T/enroll.out")"
	grep -q "^end-session $reason " "$T/enroll.out" ||
		fail "enroll $name $*: no END_SESSION $reason: $(cat "$T/enroll.out")"
}
status() { api GET "$1/$2" | json "['capf_operation_status']"; }
expect_capf_status() { # KIND NAME PATTERN what
	local s
	s=$(status "$1" "$2")
	[[ "$s" == $3 ]] || fail "$4: status of $2 is '$s', not '$3'"
	pass "$4"
}

C device create SEP00000000CA01 --type cisco_sip_phone \
	--capf-certificate-operation install_upgrade --capf-authentication-mode by_null_string
expect_capf_status devices SEP00000000CA01 "Install/Upgrade pending" "null-string install scheduled"
enroll SEP00000000CA01 0 1 --auth null
grep -q "generating RSA 2048 key" "$T/enroll.out" || fail "phone not asked for RSA 2048"
expect_capf_status devices SEP00000000CA01 "Install/Upgrade successful" "enrolled by null string"
[ "$(api GET devices/SEP00000000CA01 | json "['lsc_status']")" = installed ] ||
	fail "lsc_status not installed"
[ "$(api GET devices/SEP00000000CA01 | json "['capf_certificate_operation']")" = no_pending ] ||
	fail "operation not back to no_pending"
openssl verify -CAfile "$DATA/pki/ca.crt" "$T/SEP00000000CA01.crt" >/dev/null ||
	fail "LSC does not verify against the CA"
openssl x509 -in "$T/SEP00000000CA01.crt" -noout -subject | grep -q "CN *= *SEP00000000CA01" ||
	fail "LSC subject is not the device"
[ "$(stat -c %a "$T/SEP00000000CA01.key")" = 600 ] || fail "phone key not 0600"
pass "the LSC is for the device, issued by the system CA, lsc_status installed"

cp "$T/SEP00000000CA01.crt" "$T/first.crt"
enroll SEP00000000CA01 1 0 --auth null --cert "$T/again.crt" --key "$T/again.key"
[ ! -e "$T/again.crt" ] || fail "a second certificate was issued"
expect_capf_status devices SEP00000000CA01 "Install/Upgrade successful" \
	"a second install after success is refused (END_SESSION 0), status kept"
C device update SEP00000000CA01 --capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_existing_certificate_lsc
expect_capf_status devices SEP00000000CA01 "Install/Upgrade pending" "administrator asks again"

# --- by existing certificate (LSC) ---
enroll SEP00000000CA01 1 7 --auth lsc --auth-cert "$DATA/pki/capf.crt" --auth-key "$DATA/pki/capf.key"
expect_capf_status devices SEP00000000CA01 "Install/Upgrade failed: *" \
	"a certificate that is not the device's LSC is refused"
enroll SEP00000000CA01 0 1 --auth lsc --auth-cert "$T/first.crt" \
	--auth-key "$T/SEP00000000CA01.key" --cert "$T/second.crt" --key "$T/second.key"
expect_capf_status devices SEP00000000CA01 "Install/Upgrade successful" \
	"upgrade authenticated by the existing LSC"
s1=$(openssl x509 -in "$T/first.crt" -noout -serial)
s2=$(openssl x509 -in "$T/second.crt" -noout -serial)
[ "$s1" != "$s2" ] || fail "the upgrade kept the serial"
api GET "issued-certificates?limit=100" >"$T/issued.json"
python3 - "$T/issued.json" "${s1#serial=}" <<'PY' || fail "the replaced LSC is not revoked as superseded"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
old = [c for c in items if c["serial"].upper() == sys.argv[2].upper()]
assert old and old[0]["status"] == "revoked" and old[0]["revocation_reason"] == "superseded", old
PY
pass "the upgraded LSC has a new serial; the old one is revoked as superseded"
C device update SEP00000000CA01 --capf-certificate-operation install_upgrade
enroll SEP00000000CA01 1 7 --auth lsc --auth-cert "$T/first.crt" --auth-key "$T/SEP00000000CA01.key"
expect_capf_status devices SEP00000000CA01 "Install/Upgrade failed: the presented LSC * was revoked or replaced" \
	"the superseded LSC no longer authenticates"

# --- by authentication string: wrong, right, single use ---
C device create SEP00000000CA02 --type cisco_sip_phone \
	--capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_authentication_string --capf-authentication-string 482913
enroll SEP00000000CA02 1 7 --auth string --auth-string 482914
expect_capf_status devices SEP00000000CA02 "Install/Upgrade failed: wrong authentication string (1 of 3)" \
	"a wrong string is refused and counted"
enroll SEP00000000CA02 0 1 --auth string --auth-string 482913
expect_capf_status devices SEP00000000CA02 "Install/Upgrade successful" "the right string enrolls"
[ "$(api GET devices/SEP00000000CA02 | json "['capf_authentication_string']")" = None ] ||
	fail "the used string was kept"
enroll SEP00000000CA02 1 0 --auth string --auth-string 482913 --cert "$T/x.crt" --key "$T/x.key"
pass "the string is used up: presented again, nothing is issued"

# --- repeated wrong strings lock the string ---
C device create SEP00000000CA03 --type cisco_sip_phone \
	--capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_authentication_string --capf-authentication-string 1234
C service-parameter update capf_wrong_authentication_string_limit --value 2
enroll SEP00000000CA03 1 7 --auth string --auth-string 9999
enroll SEP00000000CA03 1 7 --auth string --auth-string 9998
expect_capf_status devices SEP00000000CA03 "Install/Upgrade failed: wrong authentication string (2 of 2); the string is locked*" \
	"two wrong strings (the configured limit) lock the operation"
enroll SEP00000000CA03 1 7 --auth string --auth-string 1234
expect_capf_status devices SEP00000000CA03 "Install/Upgrade failed: no authentication string is set*" \
	"... and then even the right string is refused"
C device update SEP00000000CA03 --capf-generate-authentication-string true
new=$(api GET devices/SEP00000000CA03 | json "['capf_authentication_string']")
expect_capf_status devices SEP00000000CA03 "Install/Upgrade pending" "a new string re-arms the operation"
enroll SEP00000000CA03 0 1 --auth string --auth-string "$new"
pass "the new string enrolls"
C service-parameter update capf_wrong_authentication_string_limit --value 3

# --- an expired operation ---
soon=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
C device create SEP00000000CA04 --type cisco_sip_phone \
	--capf-certificate-operation install_upgrade --capf-authentication-mode by_null_string \
	--capf-operation-completes-by "$soon"
sleep 3
enroll SEP00000000CA04 1 7 --auth null
expect_capf_status devices SEP00000000CA04 "Install/Upgrade failed: the operation expired*" \
	"an operation past its deadline is refused"

# --- key size per the profile ---
C phone-security-profile create "Desk 3072" --device-type cisco_sip_phone --key-size 3072
C device create SEP00000000CA05 --type cisco_sip_phone --phone-security-profile "Desk 3072" \
	--capf-certificate-operation install_upgrade --capf-authentication-mode by_null_string
enroll SEP00000000CA05 1 7 --auth null --key-type rsa --key-size 2048
expect_capf_status devices SEP00000000CA05 "Install/Upgrade failed: key size mismatch*RSA 2048*RSA 3072" \
	"a key of another size than the profile's is refused"
enroll SEP00000000CA05 0 1 --auth null
grep -q "generating RSA 3072 key" "$T/enroll.out" || fail "phone not asked for RSA 3072"
pass "the phone is asked for the profile's key size, and that enrolls"

C device create SEP00000000CA06 --type cisco_sip_phone --capf-key-type ec_p256 \
	--capf-certificate-operation install_upgrade --capf-authentication-mode by_null_string
enroll SEP00000000CA06 0 1 --auth null
grep -q "generating EC P-256 key" "$T/enroll.out" || fail "phone not asked for EC P-256"
openssl x509 -in "$T/SEP00000000CA06.crt" -noout -text | grep -q "ASN1 OID: prime256v1" ||
	fail "the LSC does not carry a P-256 key"
pass "an ECDSA P-256 LSC where the device is set to EC"

# --- unknown device, no operation ---
enroll SEP0000000DEAD0 1 9 --auth null
pass "an unknown device gets END_SESSION 9"

# --- the wire, byte for byte (specs/capf.md §8): raw TLS, no ucm-phone ---
# raw HEX...: sends each message (session ID "SS" replaced by the server's) after reading the
# AUTH_REQUEST, then prints every message the server sent, one hex line each.
raw() {
	python3 - "$CAPF_PORT" "$DATA/pki/ca.crt" "$@" <<'PY'
import socket, ssl, sys
port, ca, sends = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="127.0.0.1")
def recv_msg():
    head = b""
    while len(head) < 8:
        d = s.recv(8 - len(head))
        if not d: return None
        head += d
    body = b""
    n = int.from_bytes(head[6:8], "big")
    while len(body) < n:
        body += s.recv(n - len(body))
    return head + body
first = recv_msg(); print(first.hex())
sid = first[2:6].hex()
for m in sends:
    s.sendall(bytes.fromhex(m.replace("SS", sid)))
while True:
    m = recv_msg()
    if m is None: break
    print(m.replace(bytes.fromhex(sid), b"\xee\xee\xee\xee").hex())
PY
}
name_hex=$(printf 'SEP0000000DEAD0' | xxd -p)
out=$(raw "5502SS001f01000101070001030b0001000d0010${name_hex}00")
[[ "$(head -1 <<<"$out")" =~ ^5501[0-9a-f]{8}00080700010308000100$ ]] ||
	fail "AUTH_REQUEST is not 55 01 <sid> 00 08 07 00 01 03 08 00 01 00: $out"
[ "$(tail -1 <<<"$out")" = 550feeeeeeee000401000109 ] ||
	fail "unknown device: not END_SESSION 9 byte for byte: $out"
pass "AUTH_REQUEST and the unknown-device END_SESSION are the spec's bytes"
out=$(raw "5602SS0000")
[ "$(tail -1 <<<"$out")" = 550feeeeeeee000401000107 ] || fail "bad protocol ID: $out"
out=$(raw "550200000bad001f01000101070001030b0001000d0010${name_hex}00")
[ "$(tail -1 <<<"$out")" = 550feeeeeeee000401000107 ] || fail "session ID mismatch: $out"
out=$(raw "5504SS0000")
[ "$(tail -1 <<<"$out")" = 550feeeeeeee000401000107 ] || fail "out-of-turn command: $out"
out=$(raw "5502SS00080d0010${name_hex}00")
[ "$(tail -1 <<<"$out")" = 550feeeeeeee000401000107 ] || fail "element past the end: $out"
pass "protocol errors (protocol ID, session ID, command out of turn, truncated element) get END_SESSION 7"

# --- by existing certificate (MIC), manufacturer trust store ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/mfr.key" -subj "/O=Phone Maker/CN=Manufacturing CA" \
	-days 30 -addext basicConstraints=critical,CA:TRUE -out "$T/mfr.crt" 2>/dev/null
mic() { # NAME
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/$1.mic.key" -subj "/CN=CP-8845-$1" \
		-out "$T/mic.csr" 2>/dev/null
	openssl x509 -req -in "$T/mic.csr" -CA "$T/mfr.crt" -CAkey "$T/mfr.key" -CAcreateserial \
		-days 30 -out "$T/$1.mic.crt" 2>/dev/null
}
mic SEP00000000CA07
C device create SEP00000000CA07 --type cisco_sip_phone \
	--capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_existing_certificate_mic
enroll SEP00000000CA07 1 7 --auth mic --auth-cert "$T/SEP00000000CA07.mic.crt" \
	--auth-key "$T/SEP00000000CA07.mic.key"
expect_capf_status devices SEP00000000CA07 "Install/Upgrade failed: the presented certificate is neither*" \
	"a MIC from a manufacturer not in the trust store is refused"
mkdir -p "$DATA/pki/trust/manufacturer"
fp=$(openssl x509 -in "$T/mfr.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
cp "$T/mfr.crt" "$DATA/pki/trust/manufacturer/$fp.pem"
enroll SEP00000000CA07 0 1 --auth mic --auth-cert "$T/SEP00000000CA07.mic.crt" \
	--auth-key "$T/SEP00000000CA07.mic.key"
expect_capf_status devices SEP00000000CA07 "Install/Upgrade successful" \
	"enrolled by its MIC once the manufacturer CA is trusted"
C device update SEP00000000CA07 --capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_existing_certificate_lsc
enroll SEP00000000CA07 1 7 --auth mic --auth-cert "$T/SEP00000000CA07.mic.crt" \
	--auth-key "$T/SEP00000000CA07.mic.key"
expect_capf_status devices SEP00000000CA07 "Install/Upgrade failed: the device has an LSC and authentication gives precedence to the LSC*" \
	"with precedence to LSC, a device that has an LSC may not use its MIC"
mic SEP00000000CA08
enroll SEP00000000CA07 1 7 --auth mic --auth-cert "$T/SEP00000000CA08.mic.crt" \
	--auth-key "$T/SEP00000000CA08.mic.key"
pass "another device's MIC is refused"

# --- troubleshoot and delete ---
C device update SEP00000000CA02 --capf-certificate-operation troubleshoot \
	--capf-authentication-mode by_null_string
enroll SEP00000000CA02 0 0 --auth null
expect_capf_status devices SEP00000000CA02 "Troubleshoot successful" "troubleshoot fetches the LSC"
api GET "audit-log?resource=devices&record_key=SEP00000000CA02&limit=100" >"$T/audit.json"
grep -q 'capf-troubleshoot' "$T/audit.json" && grep -q 'CN=SEP00000000CA02' "$T/audit.json" ||
	fail "the fetched certificate is not in the audit log"
grep -q '482913' "$T/audit.json" && fail "the authentication string leaked into the audit log"
grep -q '"capf-install"' "$T/audit.json" || fail "no audit entry for the install attempts"
pass "the audit log has every attempt and the fetched certificate, never the string"

# --- a Jabber client (CSF), as CUCM speaks to it ---
C end-user create jsmith --first-name Jo --last-name Smith
C device create CSFJSMITH --type csf --owner-user-id jsmith \
	--capf-certificate-operation install_upgrade \
	--capf-authentication-mode by_authentication_string --capf-authentication-string 55667788
enroll CSFJSMITH 0 1 --auth string --auth-string 55667788 --jabber
expect_capf_status devices CSFJSMITH "Install/Upgrade successful" "Jabber (VERSION 2) enrolls"
enroll CSFJSMITH 1 7 --auth null --jabber --cert "$T/x.crt" --key "$T/x.key"
pass "... and afterwards hears 7 (already issued), as CUCM answers it"

# --- a CTI application instance (application user CAPF profile) ---
printf 'AppPass-2026-x\n' >"$T/app.pw"
api POST app-users -d '{"user_id": "ctiapp", "password": "AppPass-2026-x"}' >/dev/null
[ "$STATUS" = 201 ] || fail "cannot create the application user: $BODY"
api POST capf-profiles -d '{"name": "ctiapp-node1", "user_type": "application_user",
	"user_id": "ctiapp", "instance_id": "node1", "capf_certificate_operation": "install_upgrade",
	"capf_authentication_string": "31415926"}' >/dev/null
[ "$STATUS" = 201 ] || fail "cannot create the CAPF profile: $BODY"
enroll ctiapp-node1 1 7 --auth string --auth-string 31415927
expect_capf_status capf-profiles ctiapp-node1 "Install/Upgrade failed: wrong authentication string (1 of 3)" \
	"a CTI instance with a wrong string is refused"
enroll ctiapp-node1 0 1 --auth string --auth-string 31415926
expect_capf_status capf-profiles ctiapp-node1 "Install/Upgrade successful" \
	"a CTI application instance enrolls with its profile's string"
openssl x509 -in "$T/ctiapp-node1.crt" -noout -ext subjectAltName | grep -q "URI:ctiapp/node1" ||
	fail "the instance LSC does not name user and instance"
pass "one certificate per instance: it names ctiapp/node1"
api POST capf-profiles -d '{"name": "jsmith-laptop", "user_type": "end_user",
	"user_id": "jsmith", "instance_id": "laptop", "capf_certificate_operation": "install_upgrade",
	"capf_authentication_string": "27182818"}' >/dev/null
[ "$STATUS" = 201 ] || fail "cannot create the end-user CAPF profile: $BODY"
enroll jsmith-laptop 0 1 --auth string --auth-string 27182818
openssl x509 -in "$T/jsmith-laptop.crt" -noout -ext subjectAltName | grep -q "URI:jsmith/laptop" ||
	fail "the end-user instance LSC does not name user and instance"
expect_capf_status capf-profiles jsmith-laptop "Install/Upgrade successful" \
	"an end user's CTI client instance enrolls the same way"

# --- the enrolled device registers over SIP TLS with its LSC; delete revokes it ---
C enterprise-parameter update cluster_security_mode --value mixed
C directory-number create 5001
C phone-security-profile create "Desk Authenticated" --device-type cisco_sip_phone \
	--device-security-mode authenticated
C device update SEP00000000CA01 --phone-security-profile "Desk Authenticated" --lines 5001
tls=(--server "127.0.0.1:$SIP_TLS_PORT" --transport tls --timeout 15 --ca "$DATA/pki/ca.crt"
	--line 5001)
timeout 20 "$UCM_PHONE" register "${tls[@]}" --cert "$T/second.crt" --key "$T/second.key" \
	>"$T/reg.out" 2>&1 || fail "the enrolled LSC did not register: $(cat "$T/reg.out")"
pass "the device registers over SIP TLS with its CAPF-issued LSC"

cp "$T/second.crt" "$T/SEP00000000CA01.crt"
cp "$T/second.key" "$T/SEP00000000CA01.key"
C device update SEP00000000CA01 --capf-certificate-operation delete \
	--capf-authentication-mode by_null_string
enroll SEP00000000CA01 0 1 --auth null
[ ! -e "$T/SEP00000000CA01.crt" ] || fail "the phone kept its LSC"
expect_capf_status devices SEP00000000CA01 "Delete successful" "delete removes the LSC from the phone"
[ "$(api GET devices/SEP00000000CA01 | json "['lsc_status']")" = not_installed ] ||
	fail "lsc_status still installed"
api GET "issued-certificates?limit=100" >"$T/issued.json"
python3 - "$T/issued.json" "${s2#serial=}" <<'PY' || fail "the deleted LSC is not revoked"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
c = [c for c in items if c["serial"].upper() == sys.argv[2].upper()]
assert c and c[0]["status"] == "revoked", c
PY
pass "... revokes it, and lsc_status is not_installed"
if timeout 20 "$UCM_PHONE" register "${tls[@]}" --cert "$T/second.crt" --key "$T/second.key" \
	>"$T/reg.out" 2>&1; then
	fail "the deleted LSC still registers: $(cat "$T/reg.out")"
fi
pass "after delete the device can no longer connect with that LSC"
finish
