/*
 * Replaces (RFC 3891): which dialog a new INVITE, or the INVITE a REFER asks for, is to take
 * the place of. It arrives as a header of an INVITE, or percent-escaped among the headers of
 * a Refer-To URI (RFC 3261 §19.1.1; RFC 5589 §7).
 */
#include "sip/sip.h"

#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static struct sip_pl trim(struct sip_pl v)
{
	while (v.l && is_space(v.p[0]))
		v.p++, v.l--;
	while (v.l && is_space(v.p[v.l - 1]))
		v.l--;
	return v;
}

/* A Call-ID or tag: visible characters, no separators that would end it. */
static bool is_word(struct sip_pl v)
{
	if (v.l == 0)
		return false;
	for (size_t i = 0; i < v.l; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '"')
			return false;
	}
	return true;
}

/* The next ';'-separated piece of *rest, trimmed. */
static struct sip_pl next_piece(struct sip_pl *rest)
{
	const char *semi = memchr(rest->p, ';', rest->l);
	size_t n = semi ? (size_t)(semi - rest->p) : rest->l;
	struct sip_pl piece = {rest->p, n};
	rest->p += semi ? n + 1 : n;
	rest->l -= semi ? n + 1 : n;
	return trim(piece);
}

static int take_param(struct sip_pl param, struct sip_replaces *out)
{
	const char *eq = memchr(param.p, '=', param.l);
	struct sip_pl name = trim((struct sip_pl){param.p, eq ? (size_t)(eq - param.p) : param.l});
	struct sip_pl value =
	    eq ? trim((struct sip_pl){eq + 1, param.l - (size_t)(eq + 1 - param.p)}) : SIP_PL_NULL;
	if (sip_pl_eq_nocase(name, "to-tag") || sip_pl_eq_nocase(name, "from-tag")) {
		struct sip_pl *slot = name.l == 6 ? &out->to_tag : &out->from_tag;
		if (!eq || !is_word(value) || slot->p)
			return -1;
		*slot = value;
	} else if (sip_pl_eq_nocase(name, "early-only")) {
		out->early_only = true;
	} else if (name.l == 0) {
		return -1;
	}
	return 0; /* other generic parameters are allowed and ignored */
}

int sip_replaces_parse(struct sip_pl value, struct sip_replaces *out)
{
	memset(out, 0, sizeof(*out));
	struct sip_pl rest = value;
	out->call_id = next_piece(&rest);
	if (!is_word(out->call_id))
		return -1;
	while (rest.l) {
		if (take_param(next_piece(&rest), out) != 0)
			return -1;
	}
	return out->to_tag.p && out->from_tag.p ? 0 : -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes v into out; -1 on a bad escape, a control character, or no room. */
static int unescape(struct sip_pl v, char *out, size_t size, size_t *len)
{
	size_t n = 0;
	if (size == 0)
		return -1;
	for (size_t i = 0; i < v.l; i++) {
		int c = (unsigned char)v.p[i];
		if (c == '%') {
			int hi = i + 2 < v.l ? hex_digit(v.p[i + 1]) : -1;
			int lo = hi >= 0 ? hex_digit(v.p[i + 2]) : -1;
			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	*len = n;
	return 0;
}

int sip_uri_header_get(struct sip_pl headers, const char *name, char *out, size_t size, size_t *len)
{
	struct sip_pl rest = headers;
	while (rest.l) {
		const char *amp = memchr(rest.p, '&', rest.l);
		size_t n = amp ? (size_t)(amp - rest.p) : rest.l;
		struct sip_pl h = {rest.p, n};
		rest.p += amp ? n + 1 : n;
		rest.l -= amp ? n + 1 : n;
		const char *eq = memchr(h.p, '=', h.l);
		if (!eq)
			continue;
		struct sip_pl hname = {h.p, (size_t)(eq - h.p)};
		if (sip_pl_eq_nocase(hname, name))
			return unescape((struct sip_pl){eq + 1, h.l - hname.l - 1}, out, size,
			                len) == 0
			           ? 1
			           : -1;
	}
	return 0;
}
