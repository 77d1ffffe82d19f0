#!/usr/bin/env bash
# Bad input at the API edge: every refusal has the right status and the documented error JSON
# ({"error": {"code", "field", "message"}}), hostile or broken clients do not stop the server
# from serving others, and the log stays clean (no errors, no passwords).
#
# Two ucmds, one after the other: a fresh one (bootstrap with a wrong token) and the main one.
# Throttling is per client address: the login throttle is tripped from 127.0.0.2 (curl
# --interface; still to the server on 127.0.0.1) so that 127.0.0.1 stays usable.
source "$(dirname "$0")/lib.sh"

# ---- 1. before any administrator exists: POST /init with a wrong token ----
DATA=$T/fresh
start_ucmd
token=$(cat "$DATA/bootstrap.token")
[[ "$token" =~ ^[0-9a-f]{64}$ ]] || fail "bootstrap token looks wrong: $token"
api_as "" "" POST init -d "{\"token\": \"${token//[0-9a-f]/0}\", \"user_id\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" >/dev/null
expect_error 401 unauthorized "init with a wrong bootstrap token → 401 unauthorized (field token)" token
grep -qi '^WWW-Authenticate: Basic' "$T/headers" || fail "401 on init lacks WWW-Authenticate"
api_as "" "" POST init -d '{"user_id": "admin", "password": "x"}' >/dev/null
expect_error 401 unauthorized "init without a token → 401" token
api_as "" "" GET "end-users/admin" -u "admin:$ADMIN_PASSWORD" >/dev/null
expect_error 401 unauthorized "wrong-token init created no administrator"
[ -e "$DATA/bootstrap.token" ] || fail "a wrong token consumed the bootstrap token"
pass "the bootstrap token survives wrong attempts"
init_admin
api_as "" "" POST init -d "{\"token\": \"$token\", \"user_id\": \"admin2\", \"password\": \"$ADMIN_PASSWORD\"}" >/dev/null
expect_error 409 conflict "init with the (used) token after an administrator exists → 409"
stop_ucmd
pass "fresh ucmd stopped cleanly (exit 0)"

# ---- 2. the main ucmd ----
DATA=$T/data
unset ADMIN_PORT
start_ucmd
init_admin
URL="https://127.0.0.1:$ADMIN_PORT/api/v1"
CA="$DATA/pki/ca.crt"

api_as "" "" GET devices >/dev/null
expect_error 401 unauthorized "no credentials → 401"
grep -qi '^WWW-Authenticate: Basic realm="OpenUCM"' "$T/headers" ||
	fail "401 without WWW-Authenticate: $(cat "$T/headers")"
pass "401 carries WWW-Authenticate: Basic realm=\"OpenUCM\""

api_as admin "not-$ADMIN_PASSWORD" GET devices >"$T/wrong-password.json"
expect_error 401 unauthorized "wrong password → 401"
grep -qi '^WWW-Authenticate: Basic' "$T/headers" || fail "wrong password: no WWW-Authenticate"
api_as "nosuchuser$RANDOM" "$ADMIN_PASSWORD" GET devices >"$T/unknown-user.json"
expect_error 401 unauthorized "unknown user → 401"
cmp -s "$T/wrong-password.json" "$T/unknown-user.json" ||
	fail "unknown user and wrong password answer differently: $(cat "$T/wrong-password.json") vs $(cat "$T/unknown-user.json")"
pass "unknown user and wrong password get byte-identical bodies"

# Malformed bodies.
api POST directory-numbers -d '{"number": "1000",' >/dev/null
expect_error 400 bad_request "malformed JSON → 400 bad_request" null
api POST directory-numbers -d '[{"number": "1000"}]' >/dev/null
expect_error 400 bad_request "JSON array body → 400 bad_request" null
api POST directory-numbers -d '"1000"' >/dev/null
expect_error 400 bad_request "JSON string body → 400 bad_request" null
api POST directory-numbers >/dev/null
expect_error 400 bad_request "empty body → 400 bad_request" null
api POST directory-numbers -d '{"number": "1000", "number": "1001"}' >/dev/null
expect_error 400 bad_request "duplicate keys → 400 bad_request" null
printf '{"number": "1000", "description": "caf\xc3\x28 \xff"}' >"$T/bad-utf8.json"
api POST directory-numbers --data-binary @"$T/bad-utf8.json" >/dev/null
expect_error 400 bad_request "invalid UTF-8 → 400 bad_request" null
api POST directory-numbers -d '{"number": "1000"} {"number": "1001"}' >/dev/null
expect_error 400 bad_request "trailing garbage after the object → 400 bad_request" null
api PATCH directory-numbers/1000 -d '{"description": "x"}garbage' >/dev/null
expect_error 400 bad_request "trailing garbage on PATCH → 400 bad_request" null
api GET 'directory-numbers?limit=5000' >/dev/null
expect_error 400 bad_request "limit out of range → 400" limit
api GET directory-numbers/1000 >/dev/null
expect_error 404 not_found "none of the bad bodies created a record"

# Bodies over the limits.
python3 -c 'import sys; sys.stdout.write("{\"number\": \"1000\", \"description\": \"" + "a" * 1500000 + "\"}")' \
	>"$T/1.5mb.json"
api POST directory-numbers --data-binary @"$T/1.5mb.json" >/dev/null
expect_error 413 too_large "a 1.5 MB body → 413 too_large (JSON)" null
python3 -c 'import sys; sys.stdout.write("{\"number\": \"1000\", \"description\": \"" + "a" * 2500000 + "\"}")' \
	>"$T/2.5mb.json"
api POST directory-numbers --data-binary @"$T/2.5mb.json" >/dev/null
[ "$STATUS" = 413 ] || fail "a 2.5 MB body: expected 413, got $STATUS"
pass "a 2.5 MB body → 413 (from libevent)"
api GET health >/dev/null
expect_status 200 "server answers after the oversized bodies"

# Unknown things and wrong methods.
api GET no-such-resource >/dev/null
expect_error 404 not_found "unknown resource → 404 not_found" null
api GET no-such-resource/x >/dev/null
expect_error 404 not_found "unknown resource with a key → 404 not_found"
curl -s --cacert "$CA" -u "admin:$ADMIN_PASSWORD" -w '\n%{http_code}' "https://127.0.0.1:$ADMIN_PORT/elsewhere" >"$T/out"
STATUS=$(tail -n 1 "$T/out") BODY=$(sed '$d' "$T/out")
expect_error 404 not_found "path outside /api/v1 → 404 not_found"
api GET directory-numbers/98765 >/dev/null
expect_error 404 not_found "unknown record → 404 not_found"
[[ "$BODY" == *98765* ]] || fail "404 for a record does not name it: $BODY"
pass "the 404 message names the record (98765)"
api DELETE devices/SEP000000098765 >/dev/null
expect_error 404 not_found "DELETE of an unknown device → 404 not_found"
api DELETE audit-log/1 >/dev/null
expect_error 405 method_not_allowed "DELETE on audit-log → 405 method_not_allowed" null
api DELETE audit-log >/dev/null
expect_error 405 method_not_allowed "DELETE on the audit-log collection → 405"
api POST enterprise-parameters -d '{"name": "x", "value": "y"}' >/dev/null
expect_error 405 method_not_allowed "POST to enterprise-parameters → 405 method_not_allowed" null
api POST directory-numbers -d '{"number": "1000", "colour": "blue"}' >/dev/null
expect_error 422 invalid "unknown field in a body → 422 invalid naming the field" colour
api POST directory-numbers -d '{"number": "12ab"}' >/dev/null
expect_error 422 invalid "bad value → 422 invalid naming the field" number
api POST directory-numbers -d '{"number": "1000"}' >/dev/null
expect_status 201 "a good create still works"
api POST directory-numbers -d '{"number": "1000"}' >/dev/null
expect_error 409 conflict "duplicate key → 409 conflict"
api POST init -d '{"token": "0", "user_id": "admin2", "password": "x"}' >/dev/null
expect_error 409 conflict "POST /init once an administrator exists → 409 conflict" null

# Oversized headers and header floods are refused; the server keeps serving.
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -u "admin:$ADMIN_PASSWORD" \
	-H "X-Big: $big" "$URL/devices" || true)
[[ "$code" =~ ^4[0-9][0-9]$ ]] || fail "a 20 KB header got $code"
pass "a 20 KB header is refused ($code)"
flood=()
for i in $(seq 1 1500); do flood+=(-H "X-Flood-$i: 0123456789"); done
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -u "admin:$ADMIN_PASSWORD" \
	"${flood[@]}" "$URL/devices" || true)
[[ "$code" =~ ^4[0-9][0-9]$ ]] || fail "1500 headers got $code"
pass "a flood of 1500 headers is refused ($code)"
api GET directory-numbers/1000 >/dev/null
expect_status 200 "server serves normally after the header attacks"

# Clients that connect and then stall must not block others.
cat >"$T/stall.py" <<'EOF'
import socket, ssl, sys, time
mode, port, ca, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
if mode != "tcp":
    s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="127.0.0.1")
    if mode == "partial":
        s.sendall(b"POST /api/v1/directory-numbers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
open(ready, "w").close()
time.sleep(30)
EOF
stallers=()
for mode in tcp tls partial; do
	python3 "$T/stall.py" "$mode" "$ADMIN_PORT" "$CA" "$T/ready.$mode" &
	stallers+=($!)
	track_pid $!
done
for _ in $(seq 1 50); do
	[ -e "$T/ready.tcp" ] && [ -e "$T/ready.tls" ] && [ -e "$T/ready.partial" ] && break
	sleep 0.1
done
[ -e "$T/ready.tcp" ] && [ -e "$T/ready.tls" ] && [ -e "$T/ready.partial" ] ||
	fail "the stalling clients did not connect"
start=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert "$CA" -u "admin:$ADMIN_PASSWORD" \
	"$URL/directory-numbers/1000" || true)
ms=$((($(date +%s%N) - start) / 1000000))
[ "$code" = 200 ] && [ $ms -lt 2000 ] ||
	fail "with stalled clients connected a request got $code after $ms ms"
pass "stalled clients (bare TCP, idle TLS, half a request) do not block others ($ms ms)"
for p in "${stallers[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${stallers[@]}"; do wait "$p" 2>/dev/null || true; done

# Plain HTTP and other junk on the HTTPS port.
curl -s -m 5 -o /dev/null "http://127.0.0.1:$ADMIN_PORT/api/v1/health" || true
python3 - "$ADMIN_PORT" <<'EOF' || fail "sending junk failed"
import socket, sys
for junk in (b"GET /api/v1/health HTTP/1.0\r\n\r\n",
             b"\x16\x03\x01\x00\x05garbage-not-a-handshake",
             b"\x16\x03\x01\xff\xff" + b"\x00" * 70000):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    try:
        s.sendall(junk)
        while s.recv(4096):
            pass
    except OSError:
        pass  # the server may reset the connection: that is fine
    finally:
        s.close()
EOF
kill -0 "$UCMD_PID" 2>/dev/null || fail "ucmd died on plain HTTP"
api GET health >/dev/null
expect_status 200 "plain HTTP and junk on the HTTPS port do not hurt the server"

# Login throttling: admin_failed_login_limit wrong passwords per minute from one address → 429.
api PATCH service-parameters/admin_failed_login_limit -d '{"value": "3"}' >/dev/null
expect_status 200 "admin_failed_login_limit lowered to 3"
B=(--interface 127.0.0.2)
for i in 1 2 3; do
	api_as admin "wrong-$i" GET devices "${B[@]}" >/dev/null
	expect_error 401 unauthorized "from 127.0.0.2: wrong password $i of 3 → 401"
done
api_as admin "$ADMIN_PASSWORD" GET devices "${B[@]}" >/dev/null
expect_error 429 throttled "from 127.0.0.2 after 3 failures even the correct password → 429 throttled"
api_as "nosuchuser" "wrong" GET devices "${B[@]}" >/dev/null
expect_error 429 throttled "a further wrong password → 429 as well"
api_as "" "" POST init -d '{"token": "0", "user_id": "x", "password": "y"}' "${B[@]}" >/dev/null
expect_error 429 throttled "POST /init from the throttled address → 429"
api_as "" "" GET health "${B[@]}" >/dev/null
expect_status 200 "health still answers (no login) for the throttled address"
api GET directory-numbers/1000 >/dev/null
expect_status 200 "the throttle is per address: 127.0.0.1 still logs in"

# The end: alive, healthy, clean log.
kill -0 "$UCMD_PID" 2>/dev/null || fail "ucmd is gone"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert "$CA" "$URL/health" || true)
[ "$code" = 200 ] || fail "health answered $code"
pass "ucmd still alive and healthy after all of the above"
check_log() {
	if grep -nE 'ERROR|Sanitizer|runtime error|SUMMARY:' "$T/ucmd.log"; then
		fail "ucmd log has errors or sanitizer output"
	fi
	if grep -nE '^[^ ]+ error ' "$T/ucmd.log"; then
		fail "ucmd logged errors"
	fi
	if grep -qF -- "$ADMIN_PASSWORD" "$T/ucmd.log"; then fail "the admin password is in the log"; fi
	if grep -qF -- "$token" "$T/ucmd.log"; then fail "the bootstrap token is in the log"; fi
}
check_log
pass "ucmd log has no errors, no sanitizer output, no admin password, no bootstrap token"

# A key with an encoded NUL is not the key before the NUL: /directory-numbers/1000%00x must not
# read, change or delete 1000.
api GET 'directory-numbers/1000%00x' >/dev/null
[ "$STATUS" = 404 ] || [ "$STATUS" = 400 ] || fail "GET 1000%00x: expected 404 or 400, got $STATUS: $BODY"
pass "GET of a key with %00 is refused ($STATUS)"
api DELETE 'directory-numbers/1000%00x' >/dev/null
[ "$STATUS" = 404 ] || [ "$STATUS" = 400 ] || fail "DELETE 1000%00x: expected 404 or 400, got $STATUS"
api GET directory-numbers/1000 >/dev/null
expect_status 200 "DELETE of 1000%00x is refused and 1000 is still there"

# The throttle state of an address survives traffic from many other addresses (else an
# attacker with a few hundred addresses, e.g. an IPv6 /64, logs in without limit).
for i in $(seq 3 140); do
	curl -s -o /dev/null --interface "127.0.0.$i" --cacert "$CA" "$URL/devices" || true
done
api_as admin "wrong-again" GET devices "${B[@]}" >/dev/null
expect_error 429 throttled "127.0.0.2 still throttled after requests from 138 other addresses"

stop_ucmd
check_log
pass "ucmd stopped cleanly; the log is still clean"

finish
