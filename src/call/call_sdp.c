/*
 * What SDP a leg may receive. SDES keys (RFC 4568 a=crypto) travel only inside TLS-protected
 * signalling to an encrypted device (RFC 4568 §8.3; security-1 §4.8), and never over TLS that
 * does not encrypt (NULL-SHA, which an Authenticated device may use): towards any other leg
 * they are removed and the secure profile becomes the plain one, so the peer answers with RTP
 * and the call is, truthfully, non-secure.
 */
#include "call/call_int.h"

#include <string.h>

bool call_leg_may_receive_keys(const struct call_leg *leg)
{
	return leg->flow.kind == SIP_TP_TLS && !leg->flow.tls_null_cipher &&
	       leg->security == CALL_ENCRYPTED;
}

static bool starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(line, prefix, n) == 0;
}

/* An m= line with RTP/SAVP(F) turned into RTP/AVP(F). */
static void add_media_line(struct sip_buf *out, const char *line, size_t len)
{
	const char *p = len > 2 ? memmem(line, len, " RTP/SAVP", 9) : NULL;
	if (!p) {
		sip_buf_add(out, line, len);
		return;
	}
	sip_buf_add(out, line, (size_t)(p - line));
	sip_buf_add(out, " RTP/AVP", 8);
	sip_buf_add(out, p + 9, len - (size_t)(p + 9 - line));
}

/* Adds one SDP line (without its end) as a leg may receive it; false when it is dropped. */
typedef bool (*sdp_line_fn)(struct sip_buf *out, const char *line, size_t len);

/* Copies an SDP body line by line through fn, each kept line ending as it did. */
static void rewrite_lines(const char *body, size_t len, sdp_line_fn fn, struct sip_buf *out)
{
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t line_len = (size_t)((nl ? nl : end) - p);
		if (line_len && p[line_len - 1] == '\r')
			line_len--;
		if (fn(out, p, line_len) && nl)
			sip_buf_add(out, "\r\n", 2);
		p = next;
	}
}

static bool without_keys(struct sip_buf *out, const char *line, size_t len)
{
	if (starts_with(line, len, "a=crypto:"))
		return false;
	if (starts_with(line, len, "m="))
		add_media_line(out, line, len);
	else
		sip_buf_add(out, line, len);
	return true;
}

void call_sdp_for_leg(const struct call_leg *to, const char *body, size_t len, struct sip_buf *out)
{
	sip_buf_init(out);
	if (call_leg_may_receive_keys(to))
		sip_buf_add(out, body, len);
	else
		rewrite_lines(body, len, without_keys, out);
}

int call_sdp_answer_between(const struct call_leg *to, const struct call_leg *from,
                            struct sip_pl offer, struct sip_pl other, struct sip_buf *out,
                            struct base_err *err)
{
	/* SRTP needs a key each way: a party that may not receive keys never learns the
	 * offerer's, so its own key cannot make the stream secure either. Without keys in
	 * `other`, the answer has none and its secure profile becomes the plain one. */
	struct sip_buf from_sdp;
	call_sdp_for_leg(call_leg_may_receive_keys(to) ? from : to, other.p, other.l, &from_sdp);
	int rc =
	    from_sdp.failed
	        ? base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory")
	        : call_sdp_answer(offer, (struct sip_pl){from_sdp.data, from_sdp.len}, out, err);
	sip_buf_free(&from_sdp);
	return rc;
}

static bool sending_and_receiving(struct sip_buf *out, const char *line, size_t len)
{
	bool answered = len == 10 && (starts_with(line, len, "a=recvonly") ||
	                              starts_with(line, len, "a=inactive"));
	if (answered)
		sip_buf_add(out, "a=sendrecv", 10);
	else
		sip_buf_add(out, line, len);
	return true;
}

void call_sdp_for_new_peer(const struct call_sdp *sdp, struct sip_buf *out)
{
	sip_buf_init(out);
	if (sdp->answer && sdp->len)
		rewrite_lines(sdp->data, sdp->len, sending_and_receiving, out);
	else if (sdp->len)
		sip_buf_add(out, sdp->data, sdp->len);
}
