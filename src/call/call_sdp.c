/*
 * What SDP a leg may receive. SDES keys (RFC 4568 a=crypto) travel only inside TLS-protected
 * signalling to an encrypted device (RFC 4568 §8.3; security-1 §4.8): towards any other leg
 * they are removed and the secure profile becomes the plain one, so the peer answers with RTP
 * and the call is, truthfully, non-secure.
 */
#include "call/call_int.h"

#include <string.h>

bool call_leg_may_receive_keys(const struct call_leg *leg)
{
	return leg->flow.kind == SIP_TP_TLS && leg->security == CALL_ENCRYPTED;
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

void call_sdp_for_leg(const struct call_leg *to, const char *body, size_t len, struct sip_buf *out)
{
	sip_buf_init(out);
	if (call_leg_may_receive_keys(to)) {
		sip_buf_add(out, body, len);
		return;
	}
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t line_len = (size_t)((nl ? nl : end) - p);
		if (line_len && p[line_len - 1] == '\r')
			line_len--;
		if (starts_with(p, line_len, "m="))
			add_media_line(out, p, line_len);
		else if (!starts_with(p, line_len, "a=crypto:"))
			sip_buf_add(out, p, line_len);
		if (!starts_with(p, line_len, "a=crypto:") && nl)
			sip_buf_add(out, "\r\n", 2);
		p = next;
	}
}
