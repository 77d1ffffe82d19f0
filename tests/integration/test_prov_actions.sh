#!/usr/bin/env bash
# Apply config, reset and restart reach registered phones as SIP NOTIFY over the address they
# registered from: Event service-control with the Cisco action for Cisco phones, check-sync for
# other SIP phones; an action on a phone security profile reaches every device using it. The
# device actions end done (the phone answered 200) or failed (not registered).
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian package sip-tester)"

start_with_admin SIP_PORT HTTP_PORT
C directory-number create 2001
C directory-number create 2002
C directory-number create 2003
C phone-security-profile create "Desk Profile" --device-type cisco_sip_phone
C device create SEP000000002001 --type cisco_sip_phone --lines 2001 \
	--phone-security-profile "Desk Profile"
C device create SEP000000002002 --type cisco_sip_phone --lines 2002 \
	--phone-security-profile "Desk Profile"
C device create GENERIC2003 --type generic_sip --lines 2003
pass "two Cisco phones on one profile and a generic SIP phone"

sc=$here/sipp
# register LINE PORT: a REGISTER over UDP from 127.0.0.1:PORT that leaves its binding.
register() {
	timeout 20 sipp -sf "$sc/register_plain.xml" -m 1 -t u1 -i 127.0.0.1 -p "$2" -timeout 10 \
		-timeout_error -nostdin -key line "$1" -key expires 300 \
		-key result_file "$T/reg.$1" "127.0.0.1:$SIP_PORT" >"$T/sipp.reg" 2>&1 ||
		fail "line $1 did not register: $(tail -3 "$T/sipp.reg")"
	[ "$(read_result "$T/reg.$1")" = 200 ] || fail "line $1: $(cat "$T/reg.$1")"
}
# phone NAME PORT: a phone on 127.0.0.1:PORT waiting for one NOTIFY, in the background.
phone() {
	timeout 20 sipp -sf "$here/prov/uas_notify.xml" -m 1 -t u1 -i 127.0.0.1 -p "$2" -nostdin \
		-trace_msg -message_file "$T/$1.msg" -timeout 15 -timeout_error \
		127.0.0.1:"$SIP_PORT" >"$T/$1.out" 2>&1 &
	pids[$1]=$!
	track_pid $!
	sleep 0.3
}
declare -A pids
# received NAME: waits for the phone NAME to get its NOTIFY; $msg is then its header.
received() {
	wait "${pids[$1]}" || fail "phone $1 got no NOTIFY: $(tail -5 "$T/$1.out")"
	msg=$(sed -n '/NOTIFY sip:/,/^$/p' "$T/$1.msg")
}
# action_state DEVICE: the state of the newest action of DEVICE, once it is no longer pending.
action_state() {
	local state
	for _ in $(seq 1 50); do
		state=$(api GET "device-actions?device=$1" | json "['items'][0]['state']")
		[ "$state" != pending ] && break
		sleep 0.1
	done
	echo "$state"
}

P1=$(free_port)
P3=$(free_port)
register 2001 "$P1"
register 2003 "$P3"
pass "SEP000000002001 and GENERIC2003 registered over UDP"

# ---- apply config of one device ----
phone p1 "$P1"
api POST devices/SEP000000002001/apply-config >/dev/null
expect_status 202 "apply-config of SEP000000002001 accepted"
received p1
grep -q "^Event: service-control" <<<"$msg" || fail "no service-control event: $msg"
grep -q "^action=apply-config" "$T/p1.msg" || fail "no action=apply-config: $(cat "$T/p1.msg")"
grep -q "^RegisterCallId={.*}" "$T/p1.msg" || fail "no RegisterCallId"
stamp=$(curl -s "http://127.0.0.1:$HTTP_PORT/SEP000000002001.cnf.xml" |
	sed -n 's|.*<versionStamp>\(.*\)</versionStamp>.*|\1|p')
[ -n "$stamp" ] && grep -q "^ConfigVersionStamp={$stamp}" "$T/p1.msg" ||
	fail "ConfigVersionStamp is not the configuration's ($stamp)"
grep -q "^NOTIFY sip:2001@127.0.0.1:$P1" <<<"$msg" || fail "NOTIFY not to the contact: $msg"
[ "$(action_state SEP000000002001)" = done ] || fail "apply-config not done"
pass "apply-config: NOTIFY service-control action=apply-config to the registered contact; done"

# ---- restart of every device of a profile ----
phone p1 "$P1"
out=$(api POST "phone-security-profiles/Desk%20Profile/restart")
expect_status 202 "restart of the profile accepted"
[ "$(json "['count']" <<<"$out")" = 2 ] || fail "profile action did not name 2 devices: $out"
received p1
grep -q "^action=restart" "$T/p1.msg" || fail "no action=restart: $(cat "$T/p1.msg")"
[ "$(action_state SEP000000002001)" = done ] || fail "restart of SEP000000002001 not done"
[ "$(action_state SEP000000002002)" = failed ] || fail "unregistered SEP000000002002 not failed"
pass "profile restart: the registered phone restarts; the unregistered one's action failed"

# ---- a generic SIP phone gets check-sync ----
phone p3 "$P3"
api POST devices/GENERIC2003/reset >/dev/null
expect_status 202 "reset of GENERIC2003 accepted"
received p3
grep -q "^Event: check-sync;reboot=true" <<<"$msg" || fail "no check-sync reboot: $msg"
[ "$(action_state GENERIC2003)" = done ] || fail "reset of GENERIC2003 not done"
pass "generic SIP phone: NOTIFY check-sync;reboot=true"

api POST devices/SEP000000002001/explode >/dev/null
expect_status 404 "unknown action refused"
api POST "sip-profiles/Standard%20SIP%20Profile/apply-config" >/dev/null
expect_status 202 "apply-config of a SIP profile accepted"
finish
