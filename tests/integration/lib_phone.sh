# Phones for the call tests, sourced after lib.sh and start_with_admin (SIP_PORT,
# SIP_TLS_PORT): ucm-phone runs in the background and what they printed is checked.
# udp / tls / tls_of DEVICE: the options of a phone over UDP, or over TLS with the device's
# certificate (device_cert DEVICE made it).
udp=(--server "127.0.0.1:$SIP_PORT" --transport udp --timeout 20)
tls=(--server "127.0.0.1:$SIP_TLS_PORT" --transport tls --timeout 20 --ca "$DATA/pki/ca.crt")
tls_of() { echo "${tls[@]}" --cert "$T/$1.crt" --key "$T/$1.key"; }

declare -A pids
# bg NAME ARGS...: ucm-phone ARGS in the background; answering phones are registered first.
bg() {
	local name=$1
	shift
	timeout 25 "$UCM_PHONE" "$@" >"$T/$name.out" 2>&1 &
	pids[$name]=$!
	track_pid $!
	[ "$1" = call ] && return 0
	for _ in $(seq 1 50); do
		grep -q "waiting for calls" "$T/$name.out" && return 0
		sleep 0.1
	done
	fail "$name did not register: $(cat "$T/$name.out")"
}
finished() {
	wait "${pids[$1]}" || fail "$1 exited with $?: $(cat "$T/$1.out")"
}
has() { # has NAME TEXT...: the output of phone NAME shows each TEXT
	local name=$1
	shift
	for step in "$@"; do
		grep -qF -- "$step" "$T/$name.out" || fail "$name lacks \"$step\": $(cat "$T/$name.out")"
	done
}
# joined CALLER CALLEE: waits until the only call listed is CALLER's with CALLEE, connected.
joined() {
	for _ in $(seq 1 100); do
		api GET calls >"$T/calls.json"
		if [ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
			[ "$(json "['items'][0]['caller']['device']" <"$T/calls.json")" = "$1" ] &&
			[ "$(json "['items'][0]['callee']['device']" <"$T/calls.json" 2>/dev/null)" = "$2" ] &&
			[ "$(json "['items'][0]['state']" <"$T/calls.json")" = connected ] &&
			grep -q "$1 and $2 joined" "$T/ucmd.log"; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 12 "$T"/transferor.out "$T"/caller.out "$T"/target.out >&2
	fail "no joined call of $1 with $2: $(cat "$T/calls.json")"
}

# transferred CALLER CALLEE SECURITY: CALLER and CALLEE are joined in a call of that security,
# and the caller, transferor and target phones all exited 0.
transferred() {
	joined "$1" "$2"
	[ "$(json "['items'][0]['security']" <"$T/calls.json")" = "$3" ] ||
		fail "the joined call is not $3: $(cat "$T/calls.json")"
	finished transferor
	finished caller
	finished target
}

# sipp_line LINE PORT: registers LINE for a sipp phone that will listen on UDP PORT.
sc=$(dirname "${BASH_SOURCE[0]}")/sipp
common=(-m 1 -t u1 -i 127.0.0.1 -nostdin -timeout 20 -timeout_error)
sipp_line() {
	timeout 20 sipp -sf "$sc/register_plain.xml" "${common[@]}" -p "$2" -key line "$1" \
		-key expires 3600 -key result_file "$T/r$1" "127.0.0.1:$SIP_PORT" >/dev/null 2>&1 || true
	[ "$(read_result "$T/r$1")" = 200 ] || fail "$1 did not register"
}

# replaced_phone LINE [SIPP_OPTION...]: a sipp phone registered on LINE that answers, writes
# its dialog (as the Replaces value a phone taking it over sends) to $T/dialog and waits for
# its BYE (20 s unless an option says otherwise); its pid is in replaced_pid. dialog_made
# waits for the answer.
replaced_phone() {
	local port
	port=$(free_port)
	: >"$T/dialog"
	rm -f "$T/r$1"
	sipp_line "$1" "$port"
	timeout 60 sipp -sf "$sc/uas_answer_record.xml" "${common[@]}" "${@:2}" -p "$port" \
		-key result_file "$T/dialog" >"$T/replaced.out" 2>&1 &
	replaced_pid=$!
	track_pid $replaced_pid
	sleep 0.3
}
dialog_made() {
	for _ in $(seq 1 50); do
		[ -s "$T/dialog" ] && return 0
		sleep 0.1
	done
	fail "the call to the replaced phone was not answered"
}
