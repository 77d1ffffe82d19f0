# For the tests that drive real SIP user agents (baresip, Linphone) against ucmd: what the
# REST API says of their bindings and calls, and their logs. Sourced after lib.sh and
# start_with_admin.

# registered AOR: prints "device transport" of the AOR's registration once there is one
# (5 s at most), else "none".
registered() {
	for _ in $(seq 1 50); do
		api GET "registrations?aor=$1" >"$T/reg.json"
		if [ "$(json "['total']" <"$T/reg.json")" != 0 ]; then
			json "['items'][0]['device']" <"$T/reg.json" | tr '\n' ' '
			json "['items'][0]['transport']" <"$T/reg.json"
			return 0
		fi
		sleep 0.1
	done
	echo none
}
# expect_registered AOR DEVICE TRANSPORT: the AOR's binding (within 5 s) is DEVICE's, over
# TRANSPORT.
expect_registered() {
	local r
	r=$(registered "$1")
	[ "$r" = "$2 $3" ] || fail "$1 not registered by $2 over $3: $r"
}
# bindings AOR: how many bindings the AOR has now.
bindings() { api GET "registrations?aor=$1" | json "['total']"; }
# unregistered AOR: waits up to 5 s until the AOR has no binding left.
unregistered() {
	for _ in $(seq 1 50); do
		[ "$(bindings "$1")" = 0 ] && return 0
		sleep 0.1
	done
	fail "$1 still has a binding: $(api GET "registrations?aor=$1")"
}

# call_field_becomes FIELD VALUE: waits up to 5 s until /api/v1/calls lists one call, whose
# FIELD (a path like ['caller']['held']) is VALUE; the list is left in $T/calls.json.
call_field_becomes() {
	for _ in $(seq 1 50); do
		api GET calls >"$T/calls.json"
		[ "$(json "['total']" <"$T/calls.json")" = 1 ] &&
			[ "$(json "['items'][0]$1" <"$T/calls.json")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "no call whose $1 is $2: $(cat "$T/calls.json")"
}
# connected_call: waits up to 5 s for one connected call in /api/v1/calls ($T/calls.json).
connected_call() { call_field_becomes "['state']" connected; }

# expect_call FIELD VALUE: the call in $T/calls.json has VALUE at FIELD.
expect_call() {
	local got
	got=$(json "['items'][0]$1" <"$T/calls.json")
	[ "$got" = "$2" ] || fail "call$1 is $got, not $2: $(cat "$T/calls.json")"
}



# stop_agents SIGNAL PID...: asks these processes to quit with SIGNAL (they may unregister
# first), waits up to 2 s for them all, then SIGKILLs those left.
stop_agents() {
	local sig=$1 p alive
	shift
	for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
	for _ in $(seq 1 20); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}
