#!/usr/bin/env bash
# The softphone workflow of softphones-and-cti-security.md §3.1, through ucmctl against a real
# ucmd: a user, a CSF and a TCT device for that user, a directory number, user-device
# association, owner, a phone security profile, and a CAPF install with a generated string.
source "$(dirname "$0")/lib.sh"

start_ucmd
init_admin
pass "first administrator created with the bootstrap token"
[ ! -e "$DATA/bootstrap.token" ] || fail "bootstrap token still present after init"
pass "bootstrap token removed after use"

C() { "$UCMCTL" "$@"; }
CJ() { "$UCMCTL" --json "$@"; }

printf 'Jabber2026pass\n' >"$T/digest.pw"
C end-user create tadams --first-name Tanya --last-name Adams --email tadams@example.com \
	--digest-credentials-file "$T/digest.pw" \
	--groups "Standard CCM End Users,Standard CTI Enabled" >/dev/null
[ "$(CJ end-user get tadams | json "['has_digest_credentials']")" = "true" ] ||
	fail "digest credentials not stored"
pass "end user created with digest credentials and the Jabber groups"

C enterprise-parameter update organization_top_level_domain --value example.com >/dev/null
pass "organization top-level domain set (needed before TCT/BOT/TAB)"

C directory-number create 1001 --alerting-name "Tanya Adams" >/dev/null
C device create CSFTADAMS --type csf --owner-user-id tadams --lines 1001:tadams >/dev/null
C device create TCTTADAMS --type tct --owner-user-id tadams --lines 1001 >/dev/null
[ "$(CJ device get TCTTADAMS | json "['sip_profile']")" = "Standard SIP Profile for Mobile Device" ] ||
	fail "TCT device did not get the mobile SIP profile"
pass "CSF and TCT devices created, sharing line 1001; TCT uses the mobile SIP profile"

rc=0
C device create CSFTADAMS2 --type csf --owner-user-id tadams >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "already owns a csf device" "$T/err" ||
	fail "second CSF for the same user was not refused (rc $rc): $(cat "$T/err")"
pass "a second CSF device for the same user is refused (exit 1)"

C end-user update tadams --devices CSFTADAMS,TCTTADAMS --primary-extension 1001 >/dev/null
[ "$(CJ end-user get tadams | json "['devices']")" = '["CSFTADAMS", "TCTTADAMS"]' ] ||
	fail "devices not associated"
pass "user associated with both devices, primary extension 1001"

C phone-security-profile create "CSF Secure" --device-type csf --device-security-mode encrypted \
	--key-size 2048 --enable-digest-authentication true >/dev/null
[ "$(CJ phone-security-profile get "CSF Secure" | json "['transport']")" = "tls" ] ||
	fail "encrypted profile not forced to TLS"
pass "encrypted phone security profile created; transport forced to TLS"

C device update CSFTADAMS --phone-security-profile "CSF Secure" \
	--capf-certificate-operation install_upgrade --capf-generate-authentication-string true \
	>/dev/null
CJ device get CSFTADAMS >"$T/csf.json"
string=$(json "['capf_authentication_string']" <"$T/csf.json")
[[ "$string" =~ ^[0-9]{4,10}$ ]] || fail "no generated authentication string: $string"
[ "$(json "['capf_operation_status']" <"$T/csf.json")" = "Install/Upgrade pending" ] ||
	fail "operation status not pending"
deadline=$(json "['capf_operation_completes_by']" <"$T/csf.json")
[ -n "$deadline" ] && [ "$deadline" != "None" ] || fail "no operation deadline"
pass "CAPF install/upgrade requested with generated string ($string), due $deadline"

C device get CSFTADAMS | grep -q "CSF Secure" || fail "table output lacks the profile"
C devices list | grep -q "CSFTADAMS" || fail "device list lacks CSFTADAMS"
pass "people-facing get and list show the device"

C device apply-config CSFTADAMS >/dev/null
[ "$(CJ device-actions list --device CSFTADAMS | json "['items'][0]['action']")" = "apply-config" ] ||
	fail "apply-config not recorded"
pass "apply-config recorded as a device action"

CJ audit-log list --resource devices --record-key CSFTADAMS >"$T/audit.json"
grep -q '"actor": "admin"' "$T/audit.json" || fail "audit entries lack the actor"
if grep -q "$string" "$T/audit.json"; then fail "authentication string leaked into the audit log"; fi
grep -q 'Jabber2026pass' "$T/audit.json" && fail "digest password in audit log"
CJ audit-log list --resource end-users --record-key tadams | grep -q '"has_digest_credentials": true' ||
	fail "end user audit entry missing"
pass "audit log names actor and record, secrets masked"

rc=0
C devices list --bogus 1 >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "unknown option gave exit $rc, want 2"
rc=0
C --server "https://127.0.0.1:1" health >/dev/null 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "unreachable server gave exit $rc, want 3"
pass "ucmctl exit codes tell usage errors and connection failures apart"

finish
