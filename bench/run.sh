#!/usr/bin/env bash
# Benchmarks ucmd against Kamailio under the same sipp load, on loopback only:
#   1. digest REGISTER (challenge + authenticated REGISTER + 200) for REG_USERS lines,
#   2. calls INVITE/100/180/200/ACK/BYE/200 from a sipp UAC to a sipp UAS through the server,
#   3. memory per registered device with MEM_N registrations.
# The REGISTER load also runs on bench/sip_floor.c, which makes only the system calls: the
# floor under both servers. Server CPU is the scheduler's run time of all threads (all
# processes of Kamailio) from /proc/<pid>/task/<tid>/schedstat, read before and after each
# load. Not part of CI. See bench/README.md.
#
# Settings (environment): REG_USERS REG_COUNT REG_RATE CALL_COUNT CALL_RATE CALL_HOLD_MS
# MEM_N MEM_RATE KAMAILIO_CHILDREN PROFILE=1 (perf record ucmd during the REGISTER load)
# TESTS (comma-separated subset of register,calls,memory).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

REG_USERS=${REG_USERS:-2000}       # lines/devices provisioned through the REST API
REG_COUNT=${REG_COUNT:-15000}      # digest registrations sent (cycling over the lines)
REG_RATE=${REG_RATE:-1000}         # registrations per second
REG_ROUNDS=${REG_ROUNDS:-5}        # REGISTER loads per server, alternating
CALL_COUNT=${CALL_COUNT:-3000}     # calls
CALL_RATE=${CALL_RATE:-200}        # calls per second
CALL_HOLD_MS=${CALL_HOLD_MS:-200}  # time between ACK and BYE
MEM_N=${MEM_N:-100000}             # registrations for the memory measurement
MEM_RATE=${MEM_RATE:-2000}         # their rate
KAMAILIO_CHILDREN=${KAMAILIO_CHILDREN:-2}
KAMAILIO_SHM_MB=${KAMAILIO_SHM_MB:-1024}
PROFILE=${PROFILE:-0}
TESTS=${TESTS:-register,calls,memory} # which loads to run

PASSWORD=Secret2026 # every device's digest user is the end user "bench" (see README)
REALM=ccmsipline    # ucmd's default sip_station_realm; Kamailio challenges with the same
REG_FIRST=300000    # lines of the REGISTER test
MEM_FIRST=200000    # lines of the memory test
CALLER=399998
CALLEE=399999

want() { case ",$TESTS," in *",$1,"*) return 0 ;; esac; return 1; }
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

# ---- dependencies -------------------------------------------------------------------------
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v kamailio >/dev/null || need+=(kamailio)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi
if [ ! -x "$root/build/ucmd" ] || [ ! -x "$root/build/ucmctl" ]; then
	log "building ucmd"
	(cd "$root" && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
		cmake --build build -j2 >/dev/null)
fi
UCMD=$root/build/ucmd
UCMCTL=$root/build/ucmctl
KMOD=$(dirname "$(find /usr/lib -path '*kamailio/modules/tm.so' 2>/dev/null | head -1)")
[ -d "$KMOD" ] || die "Kamailio modules not found"

W=$(mktemp -d /tmp/ucm-bench.XXXXXX)
cc -O2 -o "$W/sip_floor" "$here/sip_floor.c" || die "cannot build bench/sip_floor.c"
PIDS=() # everything started in the background, killed by pid at exit
UCMD_PID=""
KAM_PID=""

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$UCMD_PID" ]; then
		kill -TERM "$UCMD_PID" 2>/dev/null || true
		wait "$UCMD_PID" 2>/dev/null || true
	fi
	if [ -n "$KAM_PID" ]; then
		kill -TERM "$KAM_PID" 2>/dev/null || true
		wait "$KAM_PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ]; then
		log "work directory kept: $W"
	elif [ "${KEEP:-0}" = 1 ]; then
		log "work directory: $W"
	else
		rm -rf "$W"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; t=socket.socket(); t.bind(("127.0.0.1",p)); print(p)'
}

# ---- measuring ----------------------------------------------------------------------------
# cpu_ns PID...: nanoseconds the scheduler ran the processes, all their threads
# (/proc/<pid>/task/<tid>/schedstat, first field): exact, where utime+stime come in 10 ms ticks
# that the kernel samples.
cpu_ns() {
	local p f sum=0 v
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$f" 2>/dev/null || continue
			sum=$((sum + v))
		done
	done
	echo $sum
}
# pss_kb PID...: proportional set size, summed (shared memory counted once).
pss_kb() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo $sum
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
kam_pids() { echo "$KAM_PID" $(ps -o pid= --ppid "$KAM_PID"); }

# sipp_stat FILE WHAT: the cumulative "Successful call" or "Failed call" count of a sipp run.
sipp_stat() { awk -F'|' -v w="$2" '$1 ~ w {gsub(/ /, "", $3); v=$3} END {print v+0}' "$1"; }
# sipp_retrans FILE: retransmissions sipp made (the server answered later than 500 ms), and the
# peak of calls in progress.
sipp_retrans() {
	echo "$(awk '/---------->|<----------/ {r += $4} END {print r+0}' "$1")/$(grep -o 'Peak was [0-9]*' "$1" | grep -o '[0-9]*$' | tail -1)"
}

SIPP_COMMON=(-i 127.0.0.1 -t u1 -nostdin -recv_timeout 10000 -timeout_error)

# sipp_register TARGET PORT CSV COUNT RATE OUT [SCENARIO]: digest registrations, bounded in time.
sipp_register() {
	local target=$1 port=$2 csv=$3 count=$4 rate=$5 out=$6 sf=${7:-register_digest.xml}
	local limit=$((count / rate + 60))
	timeout $((limit + 10)) sipp -sf "$here/sipp/$sf" "${SIPP_COMMON[@]}" \
		-p "$port" -inf "$csv" -au bench -ap "$PASSWORD" -m "$count" -r "$rate" -l 5000 \
		-timeout "$limit" -trace_err -error_file "$out.err" "$target" >"$out" 2>&1 || true
}

# cpu_mark PIDS_FN before a load, cpu_delta PIDS_FN after it: the servers' CPU nanoseconds.
cpu_before=0
cpu_mark() { cpu_before=$(cpu_ns $("$1")); }
cpu_delta() { echo $(($(cpu_ns $("$1")) - cpu_before)); }
us_per() { python3 -c "import sys; t,n=map(float,sys.argv[1:]); print('%.1f' % (t/1e3/n) if n else 'n/a')" "$1" "$2"; }

declare -A R # results

# ---- ucmd ---------------------------------------------------------------------------------
U_DATA=$W/ucmd-data
U_SIP=$(free_port)
U_ADMIN=$(free_port)
U_TLS=$(free_port)
ADMIN_PW="bench-$RANDOM$RANDOM"
ucmd_pids() { echo "$UCMD_PID"; }

start_ucmd() {
	"$UCMD" --data-dir "$U_DATA" --admin-listen "127.0.0.1:$U_ADMIN" \
		--sip-udp-listen "127.0.0.1:$U_SIP" --sip-tcp-listen "127.0.0.1:$U_SIP" \
		--sip-tls-listen "127.0.0.1:$U_TLS" >>"$W/ucmd.log" 2>&1 &
	UCMD_PID=$!
	local i
	for i in $(seq 1 300); do
		if curl -s --cacert "$U_DATA/pki/ca.crt" "https://127.0.0.1:$U_ADMIN/api/v1/health" \
			>/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$UCMD_PID" 2>/dev/null || die "ucmd exited: $(tail -3 "$W/ucmd.log")"
		sleep 0.1
	done
	die "ucmd did not answer"
}
stop_ucmd() {
	kill -TERM "$UCMD_PID"
	wait "$UCMD_PID" || log "ucmd exited with $? on SIGTERM"
	UCMD_PID=""
}
registrations_total() {
	curl -s --cacert "$U_DATA/pki/ca.crt" -u "admin:$ADMIN_PW" \
		"https://127.0.0.1:$U_ADMIN/api/v1/registrations?limit=1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}

# ---- Kamailio -----------------------------------------------------------------------------
K_SIP=$(free_port)
start_kamailio() {
	local ha1
	ha1=$(printf '%s' "bench:$REALM:$PASSWORD" | md5sum | cut -d' ' -f1)
	sed -e "s|@PORT@|$K_SIP|g; s|@MPATH@|$KMOD/|; s|@CHILDREN@|$KAMAILIO_CHILDREN|" \
		-e "s|@MEM_FROM@|$MEM_FIRST|; s|@MEM_TO@|$((MEM_FIRST + MEM_N - 1))|" \
		-e "s|@REG_FROM@|$REG_FIRST|; s|@REG_TO@|$((REG_FIRST + REG_USERS - 1))|" \
		-e "s|@CALL_FROM@|$CALLER|; s|@CALL_TO@|$CALLEE|" \
		-e "s|@USER@|bench|; s|@HA1@|$ha1|; s|@REALM@|$REALM|g" \
		"$here/kamailio.cfg.in" >"$W/kamailio.cfg"
	kamailio -f "$W/kamailio.cfg" -DD -E -m "$KAMAILIO_SHM_MB" -M 32 -P "$W/kamailio.pid" \
		>>"$W/kamailio.log" 2>&1 &
	KAM_PID=$!
	local i
	for i in $(seq 1 100); do
		# children forked and the htables filled: the UDP workers are up
		if [ "$(ps -o pid= --ppid "$KAM_PID" | wc -l)" -ge $((KAMAILIO_CHILDREN + 1)) ] &&
			grep -q "Listening on" "$W/kamailio.log"; then
			sleep 1
			return 0
		fi
		kill -0 "$KAM_PID" 2>/dev/null || die "kamailio exited: $(tail -5 "$W/kamailio.log")"
		sleep 0.1
	done
	die "kamailio did not start"
}
stop_kamailio() {
	kill -TERM "$KAM_PID"
	wait "$KAM_PID" 2>/dev/null || true
	KAM_PID=""
}

# ---- the loads, the same for both ---------------------------------------------------------
csv_lines() { # csv_lines FILE FIRST COUNT
	{
		echo SEQUENTIAL
		seq "$2" $(($2 + $3 - 1))
	} >"$1"
}
csv_lines "$W/reg.csv" "$REG_FIRST" "$REG_USERS"
csv_lines "$W/mem.csv" "$MEM_FIRST" "$MEM_N"
csv_lines "$W/caller.csv" "$CALLER" 1
csv_lines "$W/callee.csv" "$CALLEE" 1

# bench_register NAME TARGET PIDS_FN
bench_register() {
	local name=$1 target=$2 pids=$3 port out ns ok
	port=$(free_port)
	out=$W/$name.register.out
	log "$name: $REG_COUNT digest registrations at $REG_RATE/s over $REG_USERS lines"
	local perf_pid=""
	if [ "$PROFILE" = 1 ] && [ "$name" = ucmd ] && command -v perf >/dev/null; then
		perf record -F 999 -g -p "$UCMD_PID" -o "$W/ucmd.perf.data" \
			-- sleep $((REG_COUNT / REG_RATE)) >/dev/null 2>&1 &
		perf_pid=$!
		PIDS+=("$perf_pid")
	fi
	cpu_mark "$pids"
	local t0=$SECONDS
	sipp_register "$target" "$port" "$W/reg.csv" "$REG_COUNT" "$REG_RATE" "$out"
	ns=$(cpu_delta "$pids")
	ok=$(sipp_stat "$out" "Successful call")
	R[$name.reg.ok]=$ok
	R[$name.reg.failed]=$(sipp_stat "$out" "Failed call")
	R[$name.reg.retrans]=$(sipp_retrans "$out")
	R[$name.reg.secs]=$((SECONDS - t0))
	R[$name.reg.ns]=$ns
	R[$name.reg.us]=$(us_per "$ns" "$ok")
	R[$name.reg.rounds]="${R[$name.reg.rounds]:-} ${R[$name.reg.us]}"
	log "$name: $ok ok, ${R[$name.reg.failed]} failed in ${R[$name.reg.secs]} s; CPU $((ns / 1000000)) ms = ${R[$name.reg.us]} us per registration"
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" 2>/dev/null || true
		perf report -i "$W/ucmd.perf.data" --no-children --stdio --percent-limit 1.5 \
			2>/dev/null | grep -v '^$' | grep -E '^ +[0-9]' | head -40 >"$W/ucmd.perf.txt" || true
	fi
}

# bench_floor MODE: the REGISTER load on sip_floor, started for it and stopped after.
FLOOR_PID=""
floor_pids() { echo "$FLOOR_PID" $(ps -o pid= --ppid "$FLOOR_PID"); }
bench_floor() {
	local port
	port=$(free_port)
	"$W/sip_floor" 127.0.0.1 "$port" "$1" &
	FLOOR_PID=$!
	PIDS+=("$FLOOR_PID")
	sleep 0.3
	bench_register "floor-$1" "127.0.0.1:$port" floor_pids
	kill "$FLOOR_PID"
	wait "$FLOOR_PID" 2>/dev/null || true
}

# bench_calls NAME TARGET PIDS_FN
bench_calls() {
	local name=$1 target=$2 pids=$3 pc pu out ns ok uas_pid
	pc=$(free_port)
	pu=$(free_port)
	out=$W/$name.calls.out
	sipp_register "$target" "$pu" "$W/callee.csv" 1 1 "$W/$name.reg-callee.out" register_party.xml
	sipp_register "$target" "$pc" "$W/caller.csv" 1 1 "$W/$name.reg-caller.out" register_party.xml
	[ "$(sipp_stat "$W/$name.reg-callee.out" "Successful call")" = 1 ] &&
		[ "$(sipp_stat "$W/$name.reg-caller.out" "Successful call")" = 1 ] ||
		die "$name: caller or callee did not register"
	local limit=$((CALL_COUNT / CALL_RATE + 60))
	timeout $((limit + 20)) sipp -sf "$here/sipp/uas.xml" "${SIPP_COMMON[@]}" -p "$pu" \
		-m "$CALL_COUNT" -timeout $((limit + 10)) >"$W/$name.uas.out" 2>&1 &
	uas_pid=$!
	PIDS+=("$uas_pid")
	sleep 0.5
	log "$name: $CALL_COUNT calls at $CALL_RATE/s, ${CALL_HOLD_MS} ms each"
	cpu_mark "$pids"
	local t0=$SECONDS
	timeout $((limit + 10)) sipp -sf "$here/sipp/uac_call.xml" "${SIPP_COMMON[@]}" -p "$pc" \
		-key line "$CALLER" -key callee "$CALLEE" -d "$CALL_HOLD_MS" -m "$CALL_COUNT" \
		-r "$CALL_RATE" -l 5000 -timeout "$limit" -trace_err -error_file "$out.err" \
		"$target" >"$out" 2>&1 || true
	ns=$(cpu_delta "$pids")
	# the UAS ends by itself once it saw every call; do not wait for it longer than 10 s
	local i
	for i in $(seq 1 100); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
	kill "$uas_pid" 2>/dev/null || true
	wait "$uas_pid" 2>/dev/null || true
	ok=$(sipp_stat "$out" "Successful call")
	R[$name.call.ok]=$ok
	R[$name.call.failed]=$(sipp_stat "$out" "Failed call")
	R[$name.call.retrans]=$(sipp_retrans "$out")
	R[$name.call.secs]=$((SECONDS - t0))
	R[$name.call.us]=$(us_per "$ns" "$ok")
	log "$name: $ok calls ok, ${R[$name.call.failed]} failed in ${R[$name.call.secs]} s; CPU $((ns / 1000000)) ms = ${R[$name.call.us]} us per call"
}

# bench_memory NAME TARGET PIDS_FN MEASURE_FN
bench_memory() {
	local name=$1 target=$2 pids=$3 measure=$4 before after ns ok port out
	port=$(free_port)
	out=$W/$name.mem.out
	sleep 1
	before=$($measure $("$pids"))
	log "$name: $MEM_N registrations at $MEM_RATE/s (memory before: $before kB)"
	cpu_mark "$pids"
	sipp_register "$target" "$port" "$W/mem.csv" "$MEM_N" "$MEM_RATE" "$out"
	ns=$(cpu_delta "$pids")
	sleep 1
	R[$name.mem.peak]=$($measure $("$pids"))
	# ucmd keeps each UDP non-INVITE transaction (request and response) for Timer J, 32 s:
	# measure what stays once they are gone.
	sleep "${MEM_SETTLE:-40}"
	after=$($measure $("$pids"))
	ok=$(sipp_stat "$out" "Successful call")
	R[$name.mem.ok]=$ok
	R[$name.mem.failed]=$(sipp_stat "$out" "Failed call")
	R[$name.mem.retrans]=$(sipp_retrans "$out")
	R[$name.mem.before]=$before
	R[$name.mem.after]=$after
	R[$name.mem.per]=$(python3 -c "import sys; b,a,n=map(int,sys.argv[1:]); print(round((a-b)*1024/n) if n else 'n/a')" "$before" "$after" "$ok")
	R[$name.mem.us]=$(us_per "$ns" "$ok")
	log "$name: $ok registered, ${R[$name.mem.failed]} failed; memory $before -> $after kB = ${R[$name.mem.per]} bytes per registration; ${R[$name.mem.us]} us CPU each"
}

# ---- run ----------------------------------------------------------------------------------
log "work directory $W; ucmd SIP 127.0.0.1:$U_SIP, Kamailio SIP 127.0.0.1:$K_SIP"

log "ucmd: starting and provisioning $REG_USERS lines and devices through the REST API"
start_ucmd
printf '%s\n' "$ADMIN_PW" >"$W/admin.pw"
chmod 600 "$W/admin.pw"
export UCM_SERVER="https://127.0.0.1:$U_ADMIN" UCM_CA="$U_DATA/pki/ca.crt" UCM_DATA_DIR="$U_DATA"
"$UCMCTL" init --data-dir "$U_DATA" --user admin --password-file "$W/admin.pw" >/dev/null
export UCM_USER=admin UCM_PASSWORD="$ADMIN_PW"
printf '%s\n' "$PASSWORD" >"$W/dc"
"$UCMCTL" service-parameter update sip_digest_algorithms --value MD5,SHA-256 >/dev/null
"$UCMCTL" end-user create bench --last-name Bench --digest-credentials-file "$W/dc" >/dev/null
"$UCMCTL" phone-security-profile create "Bench Digest" --device-type cisco_sip_phone \
	--enable-digest-authentication true >/dev/null
python3 "$here/provision.py" "$UCM_SERVER" "$UCM_CA" admin "$ADMIN_PW" "$REG_FIRST" "$REG_USERS" \
	"Bench Digest" bench
# The call parties need no digest (ucmd would challenge their INVITEs too; Kamailio does not).
python3 "$here/provision.py" "$UCM_SERVER" "$UCM_CA" admin "$ADMIN_PW" "$CALLER" 2 \
	"Cisco SIP Phone - Standard SIP Non-Secure Profile" "" >/dev/null

log "kamailio: starting ($KAMAILIO_CHILDREN UDP workers, ${KAMAILIO_SHM_MB} MB shared memory)"
start_kamailio
# The REGISTER load alternates between the servers, REG_ROUNDS times each, so that whatever
# else the machine does at the time falls on both; each server's median round is reported.
# The floor (bench/sip_floor.c, the system calls only, waiting the way each server waits) takes
# its turn in the same rounds.
# Each server first registers every line once, untimed: the measure is of refreshes, and in
# a first timed round 2,000 of the 15,000 registrations would create their binding instead.
if want register; then
	log "ucmd and kamailio: every line registered once before the timed rounds"
	sipp_register "127.0.0.1:$U_SIP" "$(free_port)" "$W/reg.csv" "$REG_USERS" "$REG_RATE" "$W/ucmd.warm.out"
	sipp_register "127.0.0.1:$K_SIP" "$(free_port)" "$W/reg.csv" "$REG_USERS" "$REG_RATE" "$W/kamailio.warm.out"
fi
for round in $(seq 1 "$REG_ROUNDS"); do
	want register || break
	bench_register ucmd "127.0.0.1:$U_SIP" ucmd_pids
	bench_register kamailio "127.0.0.1:$K_SIP" kam_pids
	bench_floor epoll
	bench_floor blocking
done
want calls && bench_calls ucmd "127.0.0.1:$U_SIP" ucmd_pids
want calls && bench_calls kamailio "127.0.0.1:$K_SIP" kam_pids
stop_kamailio
stop_ucmd
if want memory; then

log "ucmd: inserting $MEM_N lines and devices into its SQLite database (ucmd stopped)"
python3 "$here/bulk_sql.py" "$U_DATA/ucm.db" "$MEM_FIRST" "$MEM_N" "Bench Digest" bench
start_ucmd
bench_memory ucmd "127.0.0.1:$U_SIP" ucmd_pids rss_kb
R[ucmd.mem.listed]=$(registrations_total)
log "ucmd: $(printf '%s' "${R[ucmd.mem.listed]:-n/a}") registrations listed by the API"
stop_ucmd
# The bindings alone: ucmd loads them from its store at start, with no transaction around.
start_ucmd
sleep 1
R[ucmd.mem.reload]=$(rss_kb "$UCMD_PID")
R[ucmd.mem.perreload]=$(python3 -c "import sys; b,a,n=map(int,sys.argv[1:]); print(round((a-b)*1024/n) if n else 'n/a')" "${R[ucmd.mem.before]:-n/a}" "${R[ucmd.mem.reload]:-n/a}" "${R[ucmd.mem.listed]:-n/a}")
log "ucmd: restarted with $(grep -o 'registrar started with [0-9]* bindings' "$W/ucmd.log" | tail -1 | grep -o '[0-9]*'): RSS ${R[ucmd.mem.reload]:-n/a} kB = ${R[ucmd.mem.perreload]:-n/a} bytes per binding"
stop_ucmd
fi
R[ucmd.log.errors]=$(grep -c ' error ' "$W/ucmd.log" || true)

if want memory; then
	start_kamailio
	bench_memory kamailio "127.0.0.1:$K_SIP" kam_pids pss_kb
	stop_kamailio
fi

# ---- summary ------------------------------------------------------------------------------
median() { python3 -c "import statistics, sys; print('%.1f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
for name in ucmd kamailio floor-epoll floor-blocking; do
	[ -n "${R[$name.reg.rounds]:-}" ] && R[$name.reg.us]=$(median ${R[$name.reg.rounds]})
done
ratio() { python3 -c "import sys
try: print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))
except Exception: print('n/a')" "$1" "$2"; }
R[ratio.reg]=$(ratio "${R[ucmd.reg.us]:-n/a}" "${R[kamailio.reg.us]:-n/a}")
R[ratio.call]=$(ratio "${R[ucmd.call.us]:-n/a}" "${R[kamailio.call.us]:-n/a}")
R[ratio.mem]=$(ratio "${R[ucmd.mem.per]:-n/a}" "${R[kamailio.mem.per]:-n/a}")
R[ratio.memreg]=$(ratio "${R[ucmd.mem.us]:-n/a}" "${R[kamailio.mem.us]:-n/a}")
above() { python3 -c "import sys
try: print('%.1f' % (float(sys.argv[1]) - float(sys.argv[2])))
except Exception: print('n/a')" "$1" "$2"; }
verdict() { python3 -c "import sys
try: print('ok' if float(sys.argv[1]) <= float(sys.argv[2]) else 'MISSED')
except Exception: print('n/a')" "$1" "$2"; }

echo
echo "OpenUCM ucmd vs Kamailio $(kamailio -v 2>/dev/null | awk 'NR==1 {print $3}'), $(nproc) cores, sipp $(sipp -v 2>&1 | awk '/SIPp v/ {print $2}' | head -1)"
printf '%-44s %14s %14s %8s %8s %s\n' "measure" "ucmd" "kamailio" "ratio" "target" ""
printf '%-44s %14s %14s %8s %8s %s\n' "CPU us per digest REGISTER (refresh, ${REG_USERS} lines)" \
	"${R[ucmd.reg.us]:-n/a}" "${R[kamailio.reg.us]:-n/a}" "${R[ratio.reg]:-n/a}" "<= 0.5" "$(verdict "${R[ratio.reg]:-n/a}" 0.5)"
printf '%-44s %14s %14s %8s %8s %s\n' "CPU us per call (INVITE..BYE/200)" \
	"${R[ucmd.call.us]:-n/a}" "${R[kamailio.call.us]:-n/a}" "${R[ratio.call]:-n/a}" "<= 1.0" "$(verdict "${R[ratio.call]:-n/a}" 1.0)"
printf '%-44s %14s %14s %8s\n' "CPU us per new digest REGISTER (${MEM_N} lines)" \
	"${R[ucmd.mem.us]:-n/a}" "${R[kamailio.mem.us]:-n/a}" "${R[ratio.memreg]:-n/a}"
printf '%-44s %14s %14s %8s\n' "bytes per registered device (${MEM_N})" \
	"${R[ucmd.mem.per]:-n/a}" "${R[kamailio.mem.per]:-n/a}" "${R[ratio.mem]:-n/a}"
printf '%-44s %14s %14s %8s\n' "  same, ucmd restarted (bindings only)" \
	"${R[ucmd.mem.perreload]:-n/a}" "${R[kamailio.mem.per]:-n/a}" "$(ratio "${R[ucmd.mem.perreload]:-n/a}" "${R[kamailio.mem.per]:-n/a}")"
printf '%-44s %14s %14s\n' "  floor: the system calls only (sip_floor.c)" \
	"${R[floor-epoll.reg.us]:-n/a}" "${R[floor-blocking.reg.us]:-n/a}"
printf '%-44s %14s %14s %8s\n' "  CPU us per REGISTER above its floor" \
	"$(above "${R[ucmd.reg.us]:-n/a}" "${R[floor-epoll.reg.us]:-n/a}")" \
	"$(above "${R[kamailio.reg.us]:-n/a}" "${R[floor-blocking.reg.us]:-n/a}")" \
	"$(ratio "$(above "${R[ucmd.reg.us]:-n/a}" "${R[floor-epoll.reg.us]:-n/a}")" "$(above "${R[kamailio.reg.us]:-n/a}" "${R[floor-blocking.reg.us]:-n/a}")")"
echo
printf '%-44s %14s %14s\n' "REGISTER us per round" "${R[ucmd.reg.rounds]:-n/a}" "${R[kamailio.reg.rounds]:-n/a}"
# Each ucmd round and the Kamailio round right after it ran under the same conditions of the
# machine; their ratios show how much of the spread is the machine's.
paired() { python3 -c "import statistics, sys
u, k = sys.argv[1].split(), sys.argv[2].split()
r = [float(a) / float(b) for a, b in zip(u, k)]
print(' '.join('%.2f' % x for x in r) + ('  (median %.2f)' % statistics.median(r) if r else 'n/a'))" "$1" "$2"; }
printf '%-44s %s\n' "  ratio per round (ucmd / the Kamailio after)" \
	"$(paired "${R[ucmd.reg.rounds]:-}" "${R[kamailio.reg.rounds]:-}")"
printf '%-44s %14s %14s\n' "  floor us per round (epoll / blocking)" "${R[floor-epoll.reg.rounds]:-n/a}" "${R[floor-blocking.reg.rounds]:-n/a}"
printf '%-44s %14s %14s\n' "REGISTER ok / failed / seconds (last round)" \
	"${R[ucmd.reg.ok]:-n/a}/${R[ucmd.reg.failed]:-n/a}/${R[ucmd.reg.secs]:-n/a}" \
	"${R[kamailio.reg.ok]:-n/a}/${R[kamailio.reg.failed]:-n/a}/${R[kamailio.reg.secs]:-n/a}"
printf '%-44s %14s %14s\n' "calls ok / failed / seconds" \
	"${R[ucmd.call.ok]:-n/a}/${R[ucmd.call.failed]:-n/a}/${R[ucmd.call.secs]:-n/a}" \
	"${R[kamailio.call.ok]:-n/a}/${R[kamailio.call.failed]:-n/a}/${R[kamailio.call.secs]:-n/a}"
printf '%-44s %14s %14s\n' "sipp retransmissions / peak calls: REGISTER" \
	"${R[ucmd.reg.retrans]:-n/a}" "${R[kamailio.reg.retrans]:-n/a}"
printf '%-44s %14s %14s\n' "  calls" "${R[ucmd.call.retrans]:-n/a}" "${R[kamailio.call.retrans]:-n/a}"
printf '%-44s %14s %14s\n' "  memory test (${MEM_RATE}/s)" "${R[ucmd.mem.retrans]:-n/a}" "${R[kamailio.mem.retrans]:-n/a}"
printf '%-44s %14s %14s\n' "memory test registered ok / failed" \
	"${R[ucmd.mem.ok]:-n/a}/${R[ucmd.mem.failed]:-n/a}" "${R[kamailio.mem.ok]:-n/a}/${R[kamailio.mem.failed]:-n/a}"
printf '%-44s %14s %14s\n' "memory before -> after (kB; ucmd RSS, kam. PSS)" \
	"${R[ucmd.mem.before]:-n/a}->${R[ucmd.mem.after]:-n/a}" "${R[kamailio.mem.before]:-n/a}->${R[kamailio.mem.after]:-n/a}"
printf '%-44s %14s\n' "ucmd: bytes per binding loaded at restart" "${R[ucmd.mem.perreload]:-n/a} (RSS ${R[ucmd.mem.reload]:-n/a} kB)"
printf '%-44s %14s %14s\n' "memory 1 s after the load (kB)" "${R[ucmd.mem.peak]:-n/a}" "${R[kamailio.mem.peak]:-n/a}"
printf '%-44s %14s\n' "ucmd: registrations listed by the API" "${R[ucmd.mem.listed]:-n/a}"
printf '%-44s %14s\n' "ucmd: error lines in its log" "${R[ucmd.log.errors]:-n/a}"
[ -f "$W/ucmd.perf.txt" ] && { echo; echo "ucmd perf profile of the REGISTER load (self time):"; cat "$W/ucmd.perf.txt"; }
exit 0
