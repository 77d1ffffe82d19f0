#!/usr/bin/env bash
# The daemon's edges: --help, refusals at start (bad options, bad config files, a taken port, a
# database it cannot use), the config file and its override by options, clean stops on SIGTERM
# and SIGINT, the log format, and what a second start on the same data directory reuses.
source "$(dirname "$0")/lib.sh"

# run_fail NAME ARGS...: runs ucmd expecting it to exit by itself within 10 s; sets $RC, $OUT
# (stdout and stderr) and $SECS.
run_fail() {
	local name=$1
	shift
	local start=$SECONDS
	RC=0
	timeout 10 "$UCMD" "$@" >"$T/$name.out" 2>&1 || RC=$?
	SECS=$((SECONDS - start))
	OUT=$(cat "$T/$name.out")
	[ $RC -ne 124 ] || fail "$name: ucmd still running after 10 s"
}

# expect_exit CODE NAME TEXT...: the last run_fail exited CODE and printed every TEXT.
expect_exit() {
	local code=$1 name=$2
	shift 2
	[ $RC -eq "$code" ] || fail "$name: exit $RC, want $code: $OUT"
	local text
	for text in "$@"; do
		[[ "$OUT" == *"$text"* ]] || fail "$name: output lacks \"$text\": $OUT"
	done
}

# stop_within SECONDS SIGNAL: stops $UCMD_PID, which must exit 0 within SECONDS.
stop_within() {
	local limit=$1 sig=$2 pid=$UCMD_PID
	kill "-$sig" "$pid"
	local waited=0
	while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((limit * 10)) ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill -0 "$pid" 2>/dev/null && fail "ucmd did not stop within $limit s of SIG$sig"
	local rc=0
	wait "$pid" || rc=$?
	UCMD_PID=""
	[ $rc -eq 0 ] || fail "ucmd exited $rc on SIG$sig"
}

# check_log_format FILE: every line is `TIMESTAMP LEVEL module: text`.
check_log_format() {
	[ -s "$1" ] || fail "log $1 is empty"
	local bad
	bad=$(grep -vnE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (debug|info |warn |error) [a-z]+: ' "$1" || true)
	[ -z "$bad" ] || fail "log lines not in the format: $bad"
}

# ---- --help ----
RC=0
"$UCMD" --help >"$T/help.out" 2>&1 || RC=$?
[ $RC -eq 0 ] || fail "ucmd --help exited $RC"
for opt in --admin-listen --sip-udp-listen --sip-tcp-listen --sip-tls-listen --tftp-listen \
	--http-listen --https-listen --capf-listen --tvs-listen --cti-listen --cti-tls-listen \
	--rcc-listen --data-dir --database --log-level --config; do
	grep -qe "$opt\b" "$T/help.out" || fail "--help does not list $opt"
done
pass "ucmd --help exits 0 and lists every listener, --data-dir, --database, --log-level, --config"
RC=0
"$UCMD" -h >/dev/null 2>&1 || RC=$?
[ $RC -eq 0 ] || fail "ucmd -h exited $RC"
pass "ucmd -h exits 0"

# ---- option and config errors: exit 2, a clear message, nothing created ----
run_fail unknown-option --data-dir "$T/never" --bogus-option 1
expect_exit 2 "unknown option" --bogus-option
pass "unknown option → exit 2 naming it"
run_fail missing-arg --data-dir
expect_exit 2 "option without its value" --data-dir
pass "option without its value → exit 2"
run_fail extra-arg --data-dir "$T/never" stray
expect_exit 2 "stray argument" stray
pass "stray argument → exit 2"
run_fail postgres --data-dir "$T/never" --database postgresql://x
expect_exit 2 "--database postgresql://x" database SQLite
pass "--database postgresql://x → exit 2: this build has only the SQLite store"
run_fail mysql --data-dir "$T/never" --database mysql://x
expect_exit 2 "--database mysql://x" "database must be sqlite:PATH"
pass "--database of another scheme → exit 2"
run_fail bad-level-opt --data-dir "$T/never" --log-level loud
expect_exit 2 "--log-level loud" log_level loud
pass "--log-level loud → exit 2"
run_fail bad-listen-opt --data-dir "$T/never" --cti-listen 127.0.0.1:70000
expect_exit 2 "--cti-listen with port 70000" cti_listen 70000
pass "--cti-listen 127.0.0.1:70000 → exit 2 naming cti_listen"

printf '# comment\ndata_dir = %s\ncolour = blue\n' "$T/never" >"$T/unknown-key.conf"
run_fail unknown-key -c "$T/unknown-key.conf"
expect_exit 2 "config with an unknown key" "$T/unknown-key.conf:3" colour
pass "config file with an unknown key → exit 2 naming file:line and the key"
printf 'data_dir = %s\n\nadmin_listen 127.0.0.1:8443\n' "$T/never" >"$T/no-equals.conf"
run_fail no-equals -c "$T/no-equals.conf"
expect_exit 2 "config line without =" "$T/no-equals.conf:3"
pass "config line without '=' → exit 2 naming file:line"
printf 'data_dir = %s\nadmin_listen = localhost:8443\n' "$T/never" >"$T/bad-listen.conf"
run_fail bad-listen -c "$T/bad-listen.conf"
expect_exit 2 "config with a bad listen address" admin_listen localhost:8443
pass "config with a bad listen address → exit 2 naming admin_listen"
printf 'data_dir = %s\nlog_level = loud\n' "$T/never" >"$T/loud.conf"
run_fail loud -c "$T/loud.conf"
expect_exit 2 "config with log_level = loud" log_level loud
pass "config with log_level = loud → exit 2 naming log_level"
printf 'data_dir = %s\nlog_level = info\nlog_level = warn\n' "$T/never" >"$T/twice.conf"
run_fail twice -c "$T/twice.conf"
expect_exit 2 "config setting a key twice" "$T/twice.conf:3" log_level
pass "config setting a key twice → exit 2 naming file:line"
run_fail missing-conf -c "$T/does-not-exist.conf"
expect_exit 2 "missing config file" "$T/does-not-exist.conf"
pass "missing config file → exit 2 naming it"
[ ! -e "$T/never" ] || fail "a refused start created the data directory"
pass "refused starts created no data directory"

# ---- a good config file is honoured; options override it ----
port1=$(free_port)
cat >"$T/good.conf" <<EOF
# ucmd settings for the test
data_dir = $T/conf-data
admin_listen = 127.0.0.1:$port1   # the API
log_level = debug
EOF
"$UCMD" -c "$T/good.conf" >"$T/good.log" 2>&1 &
UCMD_PID=$!
wait_https "$port1" "$T/conf-data/pki/ca.crt" "$UCMD_PID"
[ -f "$T/conf-data/ucm.db" ] || fail "the data_dir of the config file was not used"
grep -q "REST API on https://127.0.0.1:$port1/" "$T/good.log" || fail "log does not name the API address"
pass "config file honoured: data_dir and admin_listen from the file, log_level = debug accepted"
stop_within 5 TERM
pass "SIGTERM → exit 0 within 5 s"
tail -n 1 "$T/good.log" | grep -q ' info  app: stopped$' || fail "last log line is not 'stopped': $(tail -n 1 "$T/good.log")"
grep -q 'received SIGTERM' "$T/good.log" || fail "SIGTERM not logged"
pass "the log says SIGTERM was received and ends with 'stopped'"
check_log_format "$T/good.log"
pass "every log line is 'YYYY-MM-DDTHH:MM:SS.mmmZ level module: text'"

port2=$(free_port)
"$UCMD" -c "$T/good.conf" --admin-listen "127.0.0.1:$port2" --log-level warn \
	>"$T/override.log" 2>&1 &
UCMD_PID=$!
wait_https "$port2" "$T/conf-data/pki/ca.crt" "$UCMD_PID"
if curl -s -m 2 -o /dev/null --cacert "$T/conf-data/pki/ca.crt" "https://127.0.0.1:$port1/api/v1/health"; then
	fail "ucmd still listens on the config file's address"
fi
pass "--admin-listen overrides admin_listen of the config file"
stop_within 5 INT
pass "SIGINT → exit 0 within 5 s"
if grep -E ' (info |debug) ' "$T/override.log"; then fail "--log-level warn did not override the file"; fi
grep -q ' warn  admin: no administrator yet' "$T/override.log" || fail "warnings are missing: $(cat "$T/override.log")"
check_log_format "$T/override.log"
pass "--log-level warn overrides log_level = debug (only warnings logged)"

# ---- a port already taken ----
port3=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
open(sys.argv[2], "w").close(); time.sleep(60)
' "$port3" "$T/listener.ready" &
listener=$!
track_pid $listener
for _ in $(seq 1 50); do [ -e "$T/listener.ready" ] && break; sleep 0.1; done
[ -e "$T/listener.ready" ] || fail "python listener did not start"
# The data directory of an earlier run: its CA and role keys exist, so the time measured is
# that of noticing the taken port, not of generating keys.
run_fail taken --data-dir "$T/conf-data" --admin-listen "127.0.0.1:$port3"
[ $RC -ne 0 ] || fail "ucmd started on a taken port"
[ $SECS -le 5 ] || fail "ucmd took $SECS s to give up on a taken port"
[[ "$OUT" == *"address already in use"* && "$OUT" == *"127.0.0.1:$port3"* ]] ||
	fail "message does not say address already in use on 127.0.0.1:$port3: $OUT"
pass "port taken by another program → exit $RC within $SECS s: address already in use, naming the address"
kill $listener
wait $listener 2>/dev/null || true

DATA=$T/data
start_ucmd
[ "$(stat -c %a "$DATA/bootstrap.token")" = 600 ] || fail "bootstrap.token mode is $(stat -c %a "$DATA/bootstrap.token")"
grep -qE '^[0-9a-f]{64}$' "$DATA/bootstrap.token" || fail "bootstrap.token content: $(cat "$DATA/bootstrap.token")"
pass "before an administrator exists the bootstrap token is written with mode 0600"
# Its own data directory, with the keys of the first (ucmd makes its CA and role keys before it
# listens, which under ASan on a busy machine could outlast run_fail's 10 s).
mkdir -m 700 "$T/second-data"
cp -a "$DATA/pki" "$T/second-data/pki"
run_fail second --data-dir "$T/second-data" --admin-listen "127.0.0.1:$ADMIN_PORT"
[ $RC -ne 0 ] || fail "a second ucmd started on the first one's port"
[[ "$OUT" == *"address already in use"* && "$OUT" == *"127.0.0.1:$ADMIN_PORT"* ]] ||
	fail "second ucmd on a taken port: $OUT"
api_as "" "" GET health >/dev/null
expect_status 200 "a second ucmd on the same port exits non-zero (address already in use); the first keeps serving"

# ---- a second start on the same data directory ----
cp "$DATA/pki/ca.crt" "$T/ca.crt.1"
cp "$DATA/pki/ca.key" "$T/ca.key.1"
stop_ucmd
start_ucmd
[ "$(stat -c %a "$DATA/bootstrap.token")" = 600 ] || fail "bootstrap.token mode after restart"
pass "restart before any administrator exists: the token is there again, mode 0600"
init_admin
[ ! -e "$DATA/bootstrap.token" ] || fail "bootstrap token left after init"
stop_ucmd
lines=$(wc -l <"$T/ucmd.log")
start_ucmd
cmp -s "$T/ca.crt.1" "$DATA/pki/ca.crt" || fail "ca.crt changed on restart"
cmp -s "$T/ca.key.1" "$DATA/pki/ca.key" || fail "ca.key changed on restart"
pass "restarts reuse the certificate authority (same ca.crt and ca.key bytes)"
[ ! -e "$DATA/bootstrap.token" ] && [ ! -e "$DATA/bootstrap.token.tmp" ] ||
	fail "a bootstrap token was written although an administrator exists"
if tail -n +$((lines + 1)) "$T/ucmd.log" | grep -q 'no administrator yet'; then
	fail "the restart with an administrator still asks for ucmctl init"
fi
if tail -n +$((lines + 1)) "$T/ucmd.log" | grep -q 'created certificate authority'; then
	fail "the restart created a new certificate authority"
fi
api GET app-users/admin >/dev/null
expect_status 200 "with an administrator, a restart writes no bootstrap token and the login works"
stop_ucmd
check_log_format "$T/ucmd.log"
pass "log format holds over all starts and stops"

# ---- a data directory that others could read is restricted at start ----
mkdir -m 755 "$T/open-data"
DATA=$T/open-data
unset ADMIN_PORT
start_ucmd
[ "$(stat -c %a "$DATA")" = 700 ] || fail "data dir left at mode $(stat -c %a "$DATA")"
pass "an existing data dir with mode 0755 is restricted to 0700"
stop_ucmd

# `database = sqlite:` with no path must be refused: SQLite would open a temporary database and
# every change would be lost at the next start.
run_fail empty-sqlite --data-dir "$T/empty-sqlite" --admin-listen "127.0.0.1:$(free_port)" \
	--database sqlite:
expect_exit 2 "--database sqlite: (no path)" database
pass "--database sqlite: without a path → exit 2"

finish
