#!/usr/bin/env bash
# Changes survive a restart and a kill -9 during a stream of writes: every create the server
# acknowledged (201) is there after the restart, no record exists without its audit entry or
# the other way round, and the database passes SQLite's integrity check. Also: a clean restart
# changes nothing a client can see, and the files holding keys and data are private.
source "$(dirname "$0")/lib.sh"

# mode_is OCTAL PATH
mode_is() {
	local m
	m=$(stat -c %a "$2") || fail "$2 is missing"
	[ "$m" = "$1" ] || fail "$2 has mode $m, want $1"
}

check_modes() {
	mode_is 700 "$DATA"
	mode_is 600 "$DATA/ucm.db"
	mode_is 600 "$DATA/store.key"
	mode_is 600 "$DATA/pki/ca.key"
	mode_is 600 "$DATA/pki/https.key"
	local open
	open=$(find "$DATA" -perm /077 ! -name '*.crt' ! -name '*.crl' -printf '%m %p\n')
	[ -z "$open" ] || fail "files others can access: $open"
	pass "file modes $1: data dir 0700; ucm.db, store.key, ca.key, https.key 0600; nothing but certificates and the CRL readable by others"
}

# list_all PATH QUERY OUT: every item of a list, paging with limit=1000, as one JSON array.
list_all() {
	local path=$1 query=$2 out=$3 offset=0 total
	echo '[]' >"$out"
	while :; do
		api GET "$path?limit=1000&offset=$offset${query:+&$query}" >"$T/page.json"
		[ "$STATUS" = 200 ] || fail "GET $path offset $offset: $STATUS $BODY"
		python3 -c '
import json, sys
acc = json.load(open(sys.argv[1])); page = json.load(open(sys.argv[2]))
json.dump(acc + page["items"], open(sys.argv[1], "w"))
' "$out" "$T/page.json"
		total=$(json "['total']" <"$T/page.json")
		offset=$((offset + 1000))
		[ $offset -lt "$total" ] || break
	done
}

DATA=$T/data
start_ucmd
init_admin
check_modes "after the first start"

# ---- a device with lines and CAPF settings survives a clean restart unchanged ----
api POST end-users -d '{"user_id": "jdoe", "first_name": "Jane", "last_name": "Doe"}' >/dev/null
expect_status 201 "end user jdoe created"
api POST directory-numbers -d '{"number": "1001", "alerting_name": "Jane Doe"}' >/dev/null
expect_status 201 "directory number 1001 created"
api POST directory-numbers -d '{"number": "1002"}' >/dev/null
expect_status 201 "directory number 1002 created"
api POST devices -d '{"name": "SEP00AA11BB22CC", "type": "cisco_sip_phone", "model": "Cisco 8865",
	"description": "Jane desk", "owner_user_id": "jdoe",
	"lines": [{"directory_number": "1001", "associated_users": ["jdoe"]},
	          {"directory_number": "1002", "associated_users": []}],
	"capf_certificate_operation": "install_upgrade",
	"capf_authentication_mode": "by_authentication_string",
	"capf_generate_authentication_string": true,
	"pc_port": "disabled", "web_access": "disabled"}' >/dev/null
expect_status 201 "device with two lines and a pending CAPF install created"
api GET devices/SEP00AA11BB22CC >"$T/device-before.json"
[ "$(json "['capf_authentication_string']" <"$T/device-before.json")" != None ] ||
	fail "no CAPF authentication string generated: $(cat "$T/device-before.json")"
[ "$(json "['lines'][1]['directory_number']" <"$T/device-before.json")" = 1002 ] ||
	fail "lines not stored: $(cat "$T/device-before.json")"
api GET audit-log?limit=1000 >"$T/audit-before.json"
stop_ucmd
pass "clean SIGTERM stop (exit 0)"
start_ucmd
api GET devices/SEP00AA11BB22CC >"$T/device-after.json"
expect_status 200 "device found after the restart"
cmp -s "$T/device-before.json" "$T/device-after.json" ||
	fail "device changed across the restart: $(diff "$T/device-before.json" "$T/device-after.json")"
pass "device JSON (lines, CAPF string and deadline, settings) identical after the restart"
api GET audit-log?limit=1000 >"$T/audit-after.json"
cmp -s "$T/audit-before.json" "$T/audit-after.json" || fail "audit log changed across the restart"
pass "audit log identical after the restart"
api POST directory-numbers -d '{"number": "1003"}' >/dev/null
expect_status 201 "writes work after the restart"

# ---- kill -9 during a stream of writes ----
# Each writer creates numbers one after the other over one keep-alive connection and appends a
# number to its file only once the server has answered 201 for it, before sending the next.
cat >"$T/writer.py" <<'EOF'
import base64, http.client, json, ssl, sys
ca, port, password, first, last, record = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=10)
auth = base64.b64encode(("admin:" + password).encode()).decode()
headers = {"Authorization": "Basic " + auth, "Content-Type": "application/json"}
with open(record, "a") as out:
    for n in range(int(first), int(last) + 1):
        try:
            conn.request("POST", "/api/v1/directory-numbers", json.dumps({"number": str(n)}), headers)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            sys.exit(0)  # the server is gone: the stream ends here
        if resp.status != 201:
            out.write("unexpected %d for %d: %s\n" % (resp.status, n, body[:200]))
            sys.exit(1)
        out.write("%d\n" % n)
        out.flush()
EOF
: >"$T/acked.a"
: >"$T/acked.b"
python3 "$T/writer.py" "$DATA/pki/ca.crt" "$ADMIN_PORT" "$ADMIN_PASSWORD" 20000 24999 "$T/acked.a" &
writer_a=$!
track_pid $writer_a
python3 "$T/writer.py" "$DATA/pki/ca.crt" "$ADMIN_PORT" "$ADMIN_PASSWORD" 25000 29999 "$T/acked.b" &
writer_b=$!
track_pid $writer_b
sleep "1.$((RANDOM % 8 + 2))"
kill -0 $writer_a && kill -0 $writer_b || fail "a writer ended before the kill: $(cat "$T/acked.a" "$T/acked.b" | tail -n 3)"
kill -KILL "$UCMD_PID"
{ wait "$UCMD_PID"; } 2>/dev/null || true
UCMD_PID=""
rc_a=0 rc_b=0
wait $writer_a || rc_a=$?
wait $writer_b || rc_b=$?
[ $rc_a -eq 0 ] && [ $rc_b -eq 0 ] ||
	fail "writer failed before the kill: $(grep unexpected "$T/acked.a" "$T/acked.b")"
cat "$T/acked.a" "$T/acked.b" | sort -n >"$T/acked"
acked=$(wc -l <"$T/acked")
[ "$acked" -ge 10 ] && [ "$acked" -lt 10000 ] ||
	fail "$acked creates acknowledged: the kill did not land mid-stream"
pass "ucmd killed with SIGKILL during two streams of creates ($acked acknowledged)"

start_ucmd
pass "ucmd restarts on the data dir of the killed process"
list_all directory-numbers "" "$T/numbers.json"
list_all audit-log "resource=directory-numbers&action=create" "$T/audit.json"
python3 - "$T/acked" "$T/numbers.json" "$T/audit.json" <<'EOF' || fail "durability check failed"
import json, sys
acked = {int(l) for l in open(sys.argv[1]) if l.strip()}
numbers = {int(r["number"]) for r in json.load(open(sys.argv[2]))
           if r["number"].isdigit() and 20000 <= int(r["number"]) <= 29999}
audited = [int(a["record_key"]) for a in json.load(open(sys.argv[3]))
           if a["record_key"].isdigit() and 20000 <= int(a["record_key"]) <= 29999]
ok = True
lost = acked - numbers
if lost:
    print("acknowledged but missing after the restart:", sorted(lost)); ok = False
unaudited = numbers - set(audited)
if unaudited:
    print("records without an audit entry:", sorted(unaudited)); ok = False
ghosts = set(audited) - numbers
if ghosts:
    print("audit entries for records that do not exist:", sorted(ghosts)); ok = False
if len(audited) != len(set(audited)):
    print("duplicate audit entries"); ok = False
# At most one create per writer was in flight when the server died.
extra = numbers - acked
if len(extra) > 2:
    print("more unacknowledged records than requests in flight:", sorted(extra)); ok = False
print("acked %d, present %d, audited %d, in flight and committed %d"
      % (len(acked), len(numbers), len(audited), len(extra)))
sys.exit(0 if ok else 1)
EOF
pass "every acknowledged create survived; records and audit entries match one to one"
api GET directory-numbers/1001 >/dev/null
expect_status 200 "records from before the stream are still there"
api POST directory-numbers -d '{"number": "30500"}' >/dev/null
expect_status 201 "writes work after recovering from the kill"
check_modes "after the restart"
stop_ucmd
result=$(sqlite3 "$DATA/ucm.db" 'PRAGMA integrity_check' 2>&1)
[ "$result" = ok ] || fail "integrity_check: $result"
pass "sqlite3 PRAGMA integrity_check → ok"
result=$(sqlite3 "$DATA/ucm.db" 'PRAGMA foreign_key_check' 2>&1)
[ -z "$result" ] || fail "foreign_key_check: $result"
pass "sqlite3 PRAGMA foreign_key_check finds nothing"

finish
