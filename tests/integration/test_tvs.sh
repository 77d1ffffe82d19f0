#!/usr/bin/env bash
# TVS on its TLS port: the system's own certificates are trusted with their roles (SIP-TLS as
# CCM, the signer as SAST and TFTP, the TVS certificate as TVS), any other certificate is not;
# a request with an unusable certificate gets STATUS=1, bytes that are not TVS get no answer,
# and the server keeps answering afterwards.
source "$(dirname "$0")/lib.sh"

start_with_admin TVS_PORT HTTP_PORT
PKI=$DATA/pki
q() { "$UCM_PHONE" tvs-query --server "127.0.0.1:$TVS_PORT" --ca "$PKI/ca.crt" --timeout 5 "$@"; }

out=$(q --cert-file "$PKI/sip-tls.crt" --device CP-8865-SEP001122334455)
[[ $out == "session 1: status 0 (trusted), roles CCM, ttl 86400" ]] || fail "sip-tls: $out"
pass "the SIP-TLS certificate is trusted as CCM"

out=$(q --cert-file "$PKI/tvs.crt")
[[ $out == *"status 0 (trusted), roles TVS, ttl 86400" ]] || fail "tvs: $out"
pass "the TVS certificate is trusted as TVS"

# The signer signs the trust list: fetching one makes sure it exists.
curl -sf -o "$T/ITLFile.tlv" "http://127.0.0.1:$HTTP_PORT/ITLFile.tlv" || fail "no ITLFile.tlv"
out=$(q --cert-file "$PKI/tftp-signer.crt")
[[ $out == *"roles SAST,TFTP, ttl 86400" ]] || fail "tftp-signer: $out"
pass "the signer is trusted as SAST and TFTP"

device_cert SEP001122334455
out=$(q --cert-file "$T/SEP001122334455.crt")
[[ $out == "session 1: status 1 (not trusted)" ]] || fail "device certificate: $out"
pass "a certificate the system does not present is not trusted (even if our CA issued it)"

out=$(q --cert-file "$PKI/ca.crt")
[[ $out == *"status 1 (not trusted)" ]] || fail "CA: $out"
pass "the CA certificate itself is not a TVS-trusted server"

# A VERIFY_REQUEST whose certificate is not DER: answered STATUS=1, session echoed.
printf '\x57\x01\x01\x00\x00\x00\x00\x07\x00\x0b\x01\x00\x02\x01\x58\x02\x00\x03abc' >"$T/bad-cert"
out=$(q --raw "$T/bad-cert")
[[ $out == "session 7: status 1 (not trusted)" ]] || fail "bad certificate: $out"
pass "an unusable certificate gets STATUS=1"

# Not TVS at all, a wrong version, an element running past the message: no answer.
printf 'GET / HTTP/1.0\r\n\r\n' >"$T/http"
printf '\x57\x02\x01\x00\x00\x00\x00\x01\x00\x00' >"$T/version"
printf '\x57\x01\x01\x00\x00\x00\x00\x01\x00\x04\x02\xff\xff\x00' >"$T/overrun"
for f in http version overrun; do
	out=$(q --raw "$T/$f") && fail "$f: answered: $out"
	[[ $out == "no answer: the server closed the connection" ]] || fail "$f: $out"
done
pass "malformed requests are dropped without an answer"

# A truncated request: the server waits for the rest, then the idle timeout closes it.
printf '\x57\x01\x01\x00\x00\x00\x00\x01\x03\x00\x01' >"$T/short"
start=$(date +%s)
out=$(q --raw "$T/short" --timeout 20) && fail "short: answered: $out"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 15 ] || fail "a truncated request held the connection ${elapsed}s"
pass "a truncated request is closed by the idle timeout (${elapsed}s)"

out=$(q --cert-file "$PKI/sip-tls.crt")
[[ $out == *"status 0 (trusted), roles CCM"* ]] || fail "after malformed input: $out"
kill -0 "$UCMD_PID" || fail "ucmd died"
pass "the server still answers"

finish
