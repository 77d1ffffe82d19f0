#!/usr/bin/env bash
# Device files over TFTP (tftp-hpa and a raw client for options), HTTP and HTTPS: every kind of
# file (desk phone and Jabber configurations, the encrypted-config stub, XMLDefault, the service
# profile, the CA certificate), the same bytes on each transport, secrets only where allowed,
# unknown files and path escapes refused, writes refused, out-of-range options refused and
# large ones negotiated down, the per-source transfer limit, and a configuration change served
# at the next fetch.
source "$(dirname "$0")/lib.sh"

start_with_admin TFTP_PORT HTTP_PORT HTTPS_PORT SIP_PORT
printf 'Secret1001\n' >"$T/dc"
C end-user create tadams --first-name Tanya --last-name Adams --digest-credentials-file "$T/dc"
C directory-number create 1001
C directory-number create 1002
C device create SEP001122334455 --type cisco_sip_phone --lines 1001 --owner-user-id tadams \
	--digest-user tadams --web-access disabled
C device create CSFTADAMS --type csf --lines 1002 --owner-user-id tadams
C phone-security-profile create "Enc Config" --device-type cisco_sip_phone \
	--tftp-encrypted-config true
C device create SEP0000000000E1 --type cisco_sip_phone --lines 1002 --digest-user tadams \
	--phone-security-profile "Enc Config"
pass "devices provisioned"

tftp_get() { # NAME OUT [mode]: prints what tftp-hpa said
	(cd "$T" && tftp -m "${3:-binary}" 127.0.0.1 "$TFTP_PORT" -c get "$1" "$2" 2>&1) || true
}
raw() { python3 "$here/prov/tftp_client.py" "$TFTP_PORT" "$@"; }
http() { curl -s -o "$2" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/$1"; }
https() { curl -s --cacert "$DATA/pki/ca.crt" -o "$2" -w '%{http_code}' "https://127.0.0.1:$HTTPS_PORT/$1"; }

# ---- every file kind, the same bytes over TFTP, HTTP and HTTPS ----
for f in SEP001122334455.cnf.xml CSFTADAMS.cnf.xml SEP0000000000E1.cnf.xml XMLDefault.cnf.xml \
	SPDefault.cnf.xml ca.crt; do
	out=$(tftp_get "$f" "$T/tftp.$f")
	[ -z "$out" ] && [ -s "$T/tftp.$f" ] || fail "tftp get $f: $out"
	[ "$(http "$f" "$T/http.$f")" = 200 ] || fail "http GET $f"
	[ "$(https "$f" "$T/https.$f")" = 200 ] || fail "https GET $f"
	cmp -s "$T/tftp.$f" "$T/http.$f" && cmp -s "$T/tftp.$f" "$T/https.$f" ||
		fail "$f differs between TFTP, HTTP and HTTPS"
	pass "$f over TFTP, HTTP and HTTPS"
done
# netascii mode: tftp-hpa converts back to the same bytes.
tftp_get SEP001122334455.cnf.xml ascii.xml ascii >/dev/null
cmp -s "$T/ascii.xml" "$T/tftp.SEP001122334455.cnf.xml" || fail "netascii transfer differs"
pass "netascii transfer"
cmp -s "$T/tftp.ca.crt" "$DATA/pki/ca.crt" || fail "ca.crt is not the CA certificate"
pass "ca.crt is the system CA"

xml=$T/tftp.SEP001122334455.cnf.xml
for want in "<name>1001</name>" "<authName>tadams</authName>" "<authPassword>Secret1001</authPassword>" \
	"<sipPort>$SIP_PORT</sipPort>" "<processNodeName>127.0.0.1</processNodeName>" \
	"<webAccess>1</webAccess>" "<deviceSecurityMode>1</deviceSecurityMode>" \
	'<userId serviceProfileFile="SPDefault.cnf.xml">tadams</userId>'; do
	grep -qF "$want" "$xml" || fail "SEP001122334455.cnf.xml lacks $want"
done
pass "desk phone configuration: line, digest credentials, servers, hardening, owner"
grep -qF "<contact>1002</contact>" "$T/tftp.CSFTADAMS.cnf.xml" || fail "CSF configuration"
pass "Jabber configuration"
stub=$T/tftp.SEP0000000000E1.cnf.xml
grep -qF "<encrConfig>true</encrConfig>" "$stub" && grep -qF "<fullConfig>false</fullConfig>" "$stub" ||
	fail "encrypted-config device did not get the stub: $(cat "$stub")"
! grep -q "Secret1001\|authName\|sipLines" "$stub" || fail "the stub carries secrets"
pass "encrypted-config device: minimal stub, no secrets in clear"

# ---- HTTPS answers the signed name with the plain XML (usecallmanager) ----
[ "$(https SEP001122334455.cnf.xml.sgn "$T/sgn")" = 200 ] && cmp -s "$T/sgn" "$xml" ||
	fail "HTTPS SEP....cnf.xml.sgn is not the plain XML"
pass "HTTPS .cnf.xml.sgn is the plain configuration"

# ---- unknown files, escapes, writes ----
out=$(tftp_get SEP0000DEADBEEF.cnf.xml nope)
[[ $out == *"Error code 1"* ]] || fail "unknown file over TFTP: $out"
[ "$(http SEP0000DEADBEEF.cnf.xml "$T/nope")" = 404 ] || fail "unknown file over HTTP"
[ "$(http nothing/at/all "$T/nope")" = 404 ] || fail "unknown path over HTTP"
pass "unknown files: TFTP file not found, HTTP 404"
for name in ../../../../etc/passwd /etc/passwd 'a/../../etc/passwd' '..\\etc\\passwd'; do
	out=$(raw "$name")
	[[ $out == "error 1 "* || $out == "error 2 "* ]] || fail "tftp $name: $out"
done
[[ $(raw ../ca.crt) == "error 2 "* ]] || fail "../ca.crt was not refused as an escape"
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/../../etc/passwd")
[ "$code" = 404 ] || fail "HTTP ../ escape: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/..%2f..%2fetc%2fpasswd")
[ "$code" = 404 ] || fail "HTTP %2f escape: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/ca.crt%00.xml")
[ "$code" = 404 ] || fail "HTTP NUL in name: $code"
pass "path escapes refused over TFTP and HTTP"
printf 'x' >"$T/up"
out=$(cd "$T" && tftp 127.0.0.1 "$TFTP_PORT" -c put up SEP001122334455.cnf.xml 2>&1 || true)
[[ $out == *"Error code 2"* ]] || fail "TFTP write not refused: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "http://127.0.0.1:$HTTP_PORT/up")
[ "$code" = 405 ] || fail "HTTP PUT: $code"
pass "writes refused (TFTP access violation, HTTP 405)"

# ---- options ----
sha=$(sha256sum "$xml" | cut -d' ' -f1)
size=$(stat -c %s "$xml")
out=$(raw SEP001122334455.cnf.xml blksize=1024 tsize=0 timeout=2 windowsize=4)
[ "$out" = "ok $size $sha blksize=1024,tsize=$size,timeout=2,windowsize=4" ] ||
	fail "options: $out"
out=$(raw SEP001122334455.cnf.xml blksize=65464 windowsize=65535)
[ "$out" = "ok $size $sha blksize=1428,windowsize=64" ] || fail "large options: $out"
out=$(raw SEP001122334455.cnf.xml blksize=8)
[ "$out" = "ok $size $sha blksize=8" ] || fail "blksize 8: $out"
pass "options negotiated (RFC 2347/2348/2349/7440), large values down to the server's"
for opt in blksize=99999999 blksize=7 blksize=65465 timeout=0 timeout=256 windowsize=0 \
	windowsize=65536 tsize=abc blksize=123456789012345678901234567890; do
	out=$(raw SEP001122334455.cnf.xml "$opt")
	[[ $out == "error 8 "* ]] || fail "option $opt: $out"
done
[[ $(raw SEP001122334455.cnf.xml --pad 600) == "error 4 "* ]] || fail "oversize request accepted"
[[ $(raw SEP001122334455.cnf.xml --mode mail) == "error 4 "* ]] || fail "mail mode accepted"
pass "out-of-range and oversize options refused (error 8), oversize request (error 4)"

# ---- limits: at most 16 transfers from one address at once ----
out=$(raw SEP001122334455.cnf.xml --parallel 40)
[ "$out" = "refused=24 started=16" ] || fail "per-source limit: $out"
pass "per-source transfer limit"
# Other sources are served meanwhile.
out=$(python3 - "$TFTP_PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.2", 0)); s.settimeout(5)
s.sendto(b"\0\1ca.crt\0octet\0", ("127.0.0.1", int(sys.argv[1])))
p, _ = s.recvfrom(2000); print("data" if p[1] == 3 else "refused")
PY
)
[ "$out" = data ] || fail "another source was refused while 127.0.0.1 is at its limit"
pass "a second source address served"

# A lost ACK: the block comes again after the timeout (1 s), and a duplicate ACK does not
# make the server send the next block twice (the Sorcerer's Apprentice bug of RFC 1350).
out=$(python3 - "$TFTP_PORT" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"\0\1SEP001122334455.cnf.xml\0octet\0", ("127.0.0.1", int(sys.argv[1])))
p, srv = s.recvfrom(600); t0 = time.time()
again, _ = s.recvfrom(600)
gap = time.time() - t0
s.sendto(b"\0\4\0\1", srv); s.sendto(b"\0\4\0\1", srv)
b2, _ = s.recvfrom(600); s.settimeout(0.5)
try:
    s.recvfrom(600); dup = "twice"
except socket.timeout:
    dup = "once"
s.sendto(b"\0\5\0\0bye\0", srv)
print("retransmitted" if again == p and 0.8 < gap < 2.5 and b2[2:4] == b"\0\2" else "bad %r" % gap, dup)
PY
)
[ "$out" = "retransmitted once" ] || fail "retransmission: $out"
pass "retransmission on timeout, no resend on duplicate ACK"

# ---- a change is served at the next fetch ----
C sip-profile update "Standard SIP Profile" --timer-register-expires 720
tftp_get SEP001122334455.cnf.xml changed.xml >/dev/null
grep -qF "<timerRegisterExpires>720</timerRegisterExpires>" "$T/changed.xml" ||
	fail "SIP profile change not in the configuration"
! cmp -s "$T/changed.xml" "$xml" || fail "configuration unchanged"
pass "configuration regenerated after a change"
C enterprise-parameter update cluster_security_mode --value mixed
out=$(tftp_get XMLDefault.cnf.xml default2)
[[ $out == *"Error code 1"* ]] || fail "XMLDefault served in mixed mode: $out"
pass "no default configuration in mixed mode (no auto-registration)"

finish
