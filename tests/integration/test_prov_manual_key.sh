#!/usr/bin/env bash
# Legacy phones with a manual symmetric key (requirements security-2 §3.13, AC-E01..E10,
# E25..E27): the administrator sets a 7940G's key and has a 7960G's generated; with TFTP
# encrypted config their configuration is served only as SIP<MAC>.cnf.enc.sgn (AES-128 under
# that key, OpenUCM's manual-key envelope) over TFTP and HTTP, the plain names carry the stub
# without secrets, `ucm-phone boot --symmetric-key` decrypts and registers with the digest
# credentials inside, a wrong key fails; the key is immutable, never shown by the API and
# masked in the audit log; a device without a key gets nothing with secrets; the 7905G's RC4
# file LD<MAC>.x exists only behind the legacy_rc4_config_encryption service parameter.
source "$(dirname "$0")/lib.sh"

start_with_admin TFTP_PORT HTTP_PORT SIP_PORT SIP_TLS_PORT
printf 'Legacy7940Secret\n' >"$T/dc"
SECRET=Legacy7940Secret
C end-user create u7940 --last-name Legacy --digest-credentials-file "$T/dc"
for n in 7940 7960 7905 7912; do C directory-number create $n; done
C phone-security-profile create "Legacy Encrypted" --device-type cisco_sip_phone \
	--enable-digest-authentication true --tftp-encrypted-config true
KEY=00112233445566778899aabbccddeeff
A=SEP000000007940 B=SEP000000007960 R=SEP000000007905 N=SEP000000007912
mk() { # mk NAME MODEL LINE [extra JSON]
	api POST devices -d "{\"name\":\"$1\",\"type\":\"cisco_sip_phone\",\"model\":\"$2\",
		\"lines\":[\"$3\"],\"digest_user\":\"u7940\",
		\"phone_security_profile\":\"Legacy Encrypted\"${4-}}" >/dev/null
	expect_status 201 "create $1 ($2)"
}

# ---- the key over the REST API ----
api POST devices -d "{\"name\":\"$A\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\",
	\"symmetric_key\":\"${KEY}0\"}" >/dev/null
expect_error 422 invalid "33 hex digits refused (AC-E01)" symmetric_key
api POST devices -d "{\"name\":\"$A\",\"type\":\"cisco_sip_phone\",\"model\":\"7941G\",
	\"symmetric_key\":\"$KEY\"}" >/dev/null
expect_error 422 invalid "a key for a model that takes none refused" symmetric_key
mk $A 7940G 7940 ",\"symmetric_key\":\"$KEY\""
printf '%s' "$BODY" | grep -qi "$KEY" && fail "the API shows the key: $BODY"
[ "$(printf '%s' "$BODY" | json "['has_symmetric_key']")" = true ] || fail "has_symmetric_key: $BODY"
pass "the key is accepted and shown only as has_symmetric_key"

api PATCH "devices/$A" -d '{"symmetric_key":"ffeeddccbbaa99887766554433221100"}' >/dev/null
expect_error 422 invalid "a changed key is refused (AC-E04)" symmetric_key
printf '%s' "$BODY" | grep -q "cannot be changed once set" || fail "message: $BODY"
api PATCH "devices/$A" -d "{\"symmetric_key\":\"${KEY^^}\"}" >/dev/null
expect_status 200 "the same key again is accepted"

mk $B 7960G 7960
api POST "devices/$B/generate-symmetric-key" >/dev/null
expect_status 202 "generate-symmetric-key for $B"
GEN=$(printf '%s' "$BODY" | json "['symmetric_key']")
[[ $GEN =~ ^[0-9A-F]{32}$ ]] || fail "generated key: $BODY"
api POST "devices/$B/generate-symmetric-key" >/dev/null
expect_error 409 conflict "a second generate is refused" symmetric_key
api GET "devices/$B" >/dev/null
printf '%s' "$BODY" | grep -q "$GEN" && fail "GET shows the generated key"
pass "generated 32 hex digits (AC-E05), shown only in the action's answer"

api GET "audit-log?limit=1000" >/dev/null
printf '%s' "$BODY" | grep -qi -e "$KEY" -e "$GEN" && fail "the audit log holds a key"
[ "$(printf '%s' "$BODY" | grep -o '"symmetric_key": *"\*\*\*"' | wc -l)" -ge 3 ] ||
	fail "the audit log does not show the key changes masked: $BODY"
grep -qi -e "$KEY" -e "$GEN" "$T/ucmd.log" && fail "the server log holds a key"
grep -aqi -e "$KEY" -e "$GEN" "$DATA"/*.db* && fail "the database holds a key in clear"
pass "audit log masks the key (***); neither log nor database hold it in clear"

# ---- the files ----
tftp_get() { (cd "$T" && tftp -m binary 127.0.0.1 "$TFTP_PORT" -c get "$1" "$2" 2>&1) || true; }
http() { curl -s -o "$T/$2" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/$1"; }
out=$(tftp_get SIP000000007940.cnf.enc.sgn a.enc)
[ -s "$T/a.enc" ] || fail "tftp SIP000000007940.cnf.enc.sgn: $out"
[ "$(http SIP000000007940.cnf.enc.sgn a2.enc)" = 200 ] || fail "http .cnf.enc.sgn"
grep -aq "$SECRET" "$T/a.enc" "$T/a2.enc" && fail "the encrypted file holds the secret in clear"
python3 - "$T/a.enc" "$KEY" "$SECRET" <<'PY' || fail "AES-128-CBC under the key does not give the config"
import subprocess, sys
d = open(sys.argv[1], "rb").read()
hl = int.from_bytes(d[8:10], "big")
i, iv = 10, None
while i < hl and d[i] != 0x0D:                      # walk the header TLVs for the IV (tag 19)
    t, l = d[i], int.from_bytes(d[i+1:i+3], "big")
    if t in (3, 7, 9, 16, 17, 21): i += 3; continue   # containers
    if t == 19: iv = d[i+3:i+3+l]
    i += 3 + l
p = subprocess.run(["openssl", "enc", "-d", "-aes-128-cbc", "-nopad", "-K", sys.argv[2],
                    "-iv", iv.hex()], input=d[hl:], capture_output=True, check=True).stdout
assert p.rstrip(b"\r").endswith(b"</device>\n"), p[-40:]
assert sys.argv[3].encode() in p
PY
pass "SIP<MAC>.cnf.enc.sgn over TFTP and HTTP is AES-128-CBC under the stored key (AC-E06)"

for name in $A.cnf.xml $A.cnf.xml.sgn; do
	[ "$(http $name plain)" = 200 ] || fail "$name"
	grep -q "<encrConfig>true</encrConfig>" "$T/plain" || fail "$name is not the stub"
	grep -q "$SECRET" "$T/plain" && fail "$name holds the secret"
done
out=$(tftp_get $A.cnf.xml plain2)
grep -q "$SECRET" "$T/plain2" && fail "TFTP plain name holds the secret"
[ "$(http $A.cnf.xml.enc.sgn x)" = 404 ] || fail "$A.cnf.xml.enc.sgn exists for a manual-key phone"
[ "$(http LD000000007940.x x)" = 404 ] || fail "LD file for a 7940G"
pass "plain and .sgn names carry the stub without secrets; no PKI or RC4 file (AC-E08, E10)"

# ---- the phone ----
boot() { "$UCM_PHONE" boot --device "$1" --state "$T/state-$1" --timeout 15 "${@:2}"; }
out=$(boot $A --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key $KEY) || fail "boot $A: $out"
grep -q "SIP000000007940.cnf.enc.sgn: .*signature verified, decrypted with the symmetric key (AES-128)" \
	<<<"$out" || fail "boot output: $out"
grep -q "registered 7940 at 127.0.0.1:$SIP_PORT" <<<"$out" || fail "not registered: $out"
grep -q "digest credentials" <<<"$out" || fail "no digest credentials used: $out"
grep -q "$SECRET" <<<"$out" && fail "the phone printed the secret"
pass "ucm-phone boot --symmetric-key decrypts over TFTP and registers with digest"

out=$(boot $B --http "127.0.0.1:$HTTP_PORT" --symmetric-key "$GEN") || fail "boot $B: $out"
grep -q "registered 7960" <<<"$out" || fail "not registered: $out"
pass "the generated key works too (HTTP)"

out=$(boot $A --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key ffeeddccbbaa99887766554433221100) &&
	fail "a wrong key booted: $out"
grep -q "does not decrypt with this symmetric key" <<<"$out" || fail "wrong key: $out"
grep -q "registered" <<<"$out" && fail "registered with a wrong key"
out=$(boot $A --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key 1234 2>&1) && fail "short key accepted"
pass "a wrong key fails clearly and the configuration is not applied (E28)"

# ---- no key with encryption on (E27): nothing with secrets ----
mk $N 7912G 7912
[ "$(http SIP000000007912.cnf.enc.sgn x)" = 404 ] || fail "a 7912G gets the AES name"
[ "$(http LD000000007912.x x)" = 404 ] || fail "LD file of a device without key"
[ "$(http $N.cnf.xml plain)" = 200 ] && ! grep -q "$SECRET" "$T/plain" || fail "$N stub"
grep -q "device $N has TFTP encrypted config but no symmetric key" "$T/ucmd.log" ||
	fail "no log line for the missing key"
out=$(boot $N --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key $KEY$KEY) && fail "$N booted: $out"
grep -q "cannot register" <<<"$out" || fail "$N: $out"
pass "encryption on, no key: not found (logged), the plain name carries no secret (E27)"

# ---- RC4 (7905G): only behind the legacy flag ----
mk $R 7905G 7905
api POST "devices/$R/generate-symmetric-key" >/dev/null
expect_status 202 "a 256-bit key for $R"
RKEY=$(printf '%s' "$BODY" | json "['symmetric_key']")
[ ${#RKEY} = 64 ] || fail "7905G key: $RKEY"
printf '%s' "$BODY" | json "['warning']" | grep -q "RC4, which is broken" ||
	fail "no RC4 warning in the answer: $BODY"
[ "$(http LD000000007905.x x)" = 404 ] || fail "RC4 file served without the legacy flag"
grep -q "LD000000007905.x: not served: 7905G/7912G configuration encryption is RC4, which is broken" \
	"$T/ucmd.log" || fail "no log line saying why"
out=$(boot $R --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key "$RKEY") && fail "RC4 boot without flag"
C service-parameter update legacy_rc4_config_encryption --value true
[ "$(http LD000000007905.x rc4)" = 200 ] || fail "RC4 file with the flag"
grep -aq "$SECRET" "$T/rc4" && fail "RC4 file holds the secret in clear"
out=$(boot $R --tftp "127.0.0.1:$TFTP_PORT" --symmetric-key "$RKEY") || fail "RC4 boot: $out"
grep -q "decrypted with the symmetric key (RC4)" <<<"$out" || fail "RC4: $out"
grep -q "registered 7905" <<<"$out" || fail "RC4 not registered: $out"
C service-parameter update legacy_rc4_config_encryption --value false
pass "LD<MAC>.x (RC4) only with legacy_rc4_config_encryption=true, logged otherwise (AC-E07)"

# ---- encryption off: the key stays (AC-E09), the encrypted file goes ----
api PATCH "phone-security-profiles/Legacy%20Encrypted" -d '{"tftp_encrypted_config": false}' >/dev/null
expect_status 200 "TFTP encrypted config off"
api GET "devices/$A" >/dev/null
[ "$(printf '%s' "$BODY" | json "['has_symmetric_key']")" = true ] || fail "key lost: $BODY"
[ "$(http SIP000000007940.cnf.enc.sgn x)" = 404 ] || fail "encrypted file without encryption"
api PATCH "devices/$A" -d "{\"symmetric_key\":\"$KEY\"}" >/dev/null
expect_status 200 "the kept key is still the same key"
pass "encryption off: the device keeps its key; no encrypted file (E30, E33)"
finish
