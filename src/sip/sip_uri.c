/*
 * URIs (RFC 3261 §19.1, RFC 3966 for tel). SIP and SIPS URIs are split into their parts;
 * tel URIs into the number and parameters; any other scheme is accepted with only the scheme
 * filled in, since RFC 4475 (unkscm, novelsc, unksm2) requires such messages to parse.
 */
#include "sip/sip_int.h"

#include <stdio.h>
#include <string.h>

/* "[...]" with hex digits, ':' and '.' (an IPv4 tail) inside. */
static bool sip_ipv6_ref_valid(const char *p, size_t n)
{
	if (n < 3 || p[0] != '[' || p[n - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!sip_is(p[i], SIP_C_HEX) && p[i] != ':' && p[i] != '.')
			return false;
	return true;
}

void sip_hostport_format(const char *host, uint16_t port, char *out, size_t size)
{
	snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

long sip_hostport_parse(const char *s, size_t n, bool lws, struct sip_pl *host, uint16_t *port)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end)
			return -1;
		i = (size_t)(end - s) + 1;
		if (!sip_ipv6_ref_valid(s, i))
			return -1;
	} else {
		while (i < n && sip_is(s[i], SIP_C_HOST))
			i++;
		if (i == 0)
			return -1;
	}
	*host = (struct sip_pl){s, i};
	*port = 0;
	size_t colon = i;
	while (lws && colon < n && sip_is(s[colon], SIP_C_WS))
		colon++;
	if (colon < n && s[colon] == ':') {
		i = colon + 1;
		while (lws && i < n && sip_is(s[i], SIP_C_WS))
			i++;
		size_t start = i;
		while (i < n && sip_is(s[i], SIP_C_DIGIT))
			i++;
		uint32_t v;
		if (sip_pl_u32((struct sip_pl){s + start, i - start}, 65535, &v) != 0)
			return -1;
		*port = (uint16_t)v;
	}
	return (long)i;
}

static int sip_uri_parse_sip(const char *s, size_t n, struct sip_uri *uri)
{
	/* No whitespace or control bytes anywhere: they would be escaped in a real URI, and
	 * RFC 4475 lwsruri and badaspec rely on rejecting them. */
	for (size_t i = 0; i < n; i++)
		if (sip_is(s[i], SIP_C_WS | SIP_C_CTL))
			return -1;
	/* '@' cannot appear unescaped in parameters, headers or the host, so the first one ends
	 * the userinfo, whatever ';', '?' or ':' the user part holds (RFC 4475 intmeth, semiuri).
	 */
	const char *at = memchr(s, '@', n);
	size_t i = 0;
	if (at) {
		size_t ul = (size_t)(at - s);
		if (ul == 0)
			return -1;
		const char *colon = memchr(s, ':', ul);
		if (colon) {
			uri->user = (struct sip_pl){s, (size_t)(colon - s)};
			uri->password = (struct sip_pl){colon + 1, ul - uri->user.l - 1};
		} else {
			uri->user = (struct sip_pl){s, ul};
		}
		i = ul + 1;
	}
	long hp = sip_hostport_parse(s + i, n - i, false, &uri->host, &uri->port);
	if (hp < 0)
		return -1;
	i += (size_t)hp;
	if (i < n && s[i] == ';') {
		size_t start = ++i;
		const char *q = memchr(s + i, '?', n - i);
		i = q ? (size_t)(q - s) : n;
		uri->params = (struct sip_pl){s + start, i - start};
	}
	if (i < n && s[i] == '?') {
		uri->headers = (struct sip_pl){s + i + 1, n - i - 1};
		i = n;
	}
	return i == n ? 0 : -1;
}

int sip_uri_parse(struct sip_pl text, struct sip_uri *uri)
{
	memset(uri, 0, sizeof(*uri));
	const char *s = text.p;
	size_t n = text.l, i = 0;
	if (n == 0 || !sip_is(s[0], SIP_C_ALPHA))
		return -1;
	while (i < n && sip_is(s[i], SIP_C_SCHEME))
		i++;
	if (i >= n || s[i] != ':' || i + 1 >= n)
		return -1;
	uri->scheme = (struct sip_pl){s, i};
	s += i + 1;
	n -= i + 1;
	if (sip_pl_eq_nocase(uri->scheme, "sip") || sip_pl_eq_nocase(uri->scheme, "sips"))
		return sip_uri_parse_sip(s, n, uri);
	for (size_t k = 0; k < n; k++)
		if (sip_is(s[k], SIP_C_WS | SIP_C_CTL))
			return -1;
	if (sip_pl_eq_nocase(uri->scheme, "tel")) {
		const char *semi = memchr(s, ';', n);
		size_t ul = semi ? (size_t)(semi - s) : n;
		if (ul == 0)
			return -1;
		uri->user = (struct sip_pl){s, ul};
		if (semi)
			uri->params = (struct sip_pl){semi + 1, n - ul - 1};
	}
	return 0;
}
