/*
 * SDP (RFC 4566) as call control reads it: the origin, session name and timing, connection
 * addresses, media lines, direction attributes (RFC 3264), SDES keys (RFC 4568) and the
 * payload types' a=rtpmap and a=fmtp (what an answer is made of). Everything else is checked
 * for the `<type>=<value>` shape and skipped; each media description keeps its raw lines for
 * whoever needs another attribute.
 *
 * The body is parsed in place: every field is a sip_pl into the caller's buffer, nothing is
 * allocated or copied. Error messages name the line number and what is wrong with it but never
 * quote the line: a=crypto lines carry SRTP master keys, and echoing peer bytes into a log or a
 * reason phrase invites log injection anyway.
 *
 * Decisions where RFC 4566 leaves room or where real devices are sloppy:
 *  - Lines end in CRLF; a bare LF is accepted. Blank lines are accepted only at the very end.
 *  - v=0 must come first; o= and s= are required once each, before the first m=. t= is not
 *    required (call control does not read it, and some gateways omit it). s= may be empty.
 *  - A type letter RFC 4566 does not define is an error: §5 says a description containing one
 *    must be ignored entirely. Session-only letters (o, s, t, ...) inside a media description
 *    are an error too.
 *  - More than SIP_SDP_MAX_MEDIA m= lines is an error, not a truncation: an answer must have
 *    as many m= lines as the offer (RFC 3264 §6), so a silently shortened view would produce a
 *    broken answer.
 *  - More than SIP_SDP_MAX_CRYPTO a=crypto lines in one media description: the extra lines are
 *    still checked for syntax but then ignored. An offerer may list many suites and the answerer
 *    only has to pick one (RFC 4568 §7.1), so keeping the first, most preferred, ones loses
 *    nothing; refusing the call would. Tag uniqueness is checked among the kept lines.
 *  - a=crypto at session level is an error (RFC 4568 defines it as media-level only), and so
 *    are two direction attributes at the same level.
 *  - A session-level c= may appear once. A media description may have several (layered
 *    multicast, RFC 4566 §5.7); the first one is used.
 *  - Every active (port != 0) stream needs a connection address, its own or the session's.
 *  - conn_addr is the address without a multicast "/ttl/count" suffix.
 *  - A malformed a=rtpmap or a=fmtp (payload type not 0-127, no clock rate, ...), or one for a
 *    payload type already mapped, is ignored, as are those past SIP_SDP_MAX_RTPMAP: a codec
 *    that cannot be read is one nobody can agree on, which costs that codec, while refusing
 *    the whole body would cost the call. Only the first t= is kept (repeat times are not read).
 */
#include "sip/sip.h"

#include <stddef.h>

#include <string.h>

#define SDP_FIELD "sdp"

/* ---- scanning helpers ------------------------------------------------------------------------ */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits off the next whitespace-separated field; *rest starts after the following run of
 * whitespace. Returns an empty pl when nothing is left. */
static struct sip_pl next_field(struct sip_pl *rest)
{
	size_t i = 0;
	while (i < rest->l && is_wsp(rest->p[i]))
		i++;
	size_t start = i;
	while (i < rest->l && !is_wsp(rest->p[i]))
		i++;
	struct sip_pl f = {rest->p + start, i - start};
	while (i < rest->l && is_wsp(rest->p[i]))
		i++;
	rest->p += i;
	rest->l -= i;
	return f;
}

static struct sip_pl trim(struct sip_pl pl)
{
	while (pl.l && is_wsp(pl.p[0])) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && is_wsp(pl.p[pl.l - 1]))
		pl.l--;
	return pl;
}

/* RFC 4566 token-char. */
static bool is_token_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
	       c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
	       (c >= 0x5e && c <= 0x7e);
}

static bool all_token(struct sip_pl pl)
{
	if (pl.l == 0)
		return false;
	for (size_t i = 0; i < pl.l; i++)
		if (!is_token_char((unsigned char)pl.p[i]))
			return false;
	return true;
}

/* proto = token *("/" token) */
static bool is_proto(struct sip_pl pl)
{
	if (pl.l == 0 || pl.p[0] == '/' || pl.p[pl.l - 1] == '/')
		return false;
	for (size_t i = 0; i < pl.l; i++) {
		unsigned char c = (unsigned char)pl.p[i];
		if (c == '/' ? pl.p[i - 1] == '/' : !is_token_char(c))
			return false;
	}
	return true;
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- the parser ------------------------------------------------------------------------------ */

static const struct {
	const char *name;
	enum sip_sdp_dir dir;
} dirs[] = {
    {"sendrecv", SIP_SDP_SENDRECV},
    {"sendonly", SIP_SDP_SENDONLY},
    {"recvonly", SIP_SDP_RECVONLY},
    {"inactive", SIP_SDP_INACTIVE},
};

struct sdp_parser {
	struct sip_sdp *sdp;
	struct base_err *err;
	unsigned line;
	bool have_v, have_o, have_s, have_conn;
	bool have_dir;
	enum sip_sdp_dir dir;
	/* Per media description: whether it set its own c= and direction. */
	bool media_conn[SIP_SDP_MAX_MEDIA];
	bool media_has_dir[SIP_SDP_MAX_MEDIA];
	struct sip_sdp_media *cur; /* NULL at session level */
	const char *line_end;      /* just past the current line (its end of line included) */
};

static int bad(struct sdp_parser *ps, const char *what)
{
	return base_err_set(ps->err, BASE_E_INVALID, SDP_FIELD, "SDP line %u: %s", ps->line, what);
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(struct sdp_parser *ps, struct sip_pl value)
{
	struct sip_pl rest = value;
	struct sip_pl f[6];
	for (size_t i = 0; i < 6; i++) {
		f[i] = next_field(&rest);
		if (f[i].l == 0)
			return bad(ps, "o= needs six fields");
	}
	if (rest.l != 0)
		return bad(ps, "o= has more than six fields");
	for (size_t i = 1; i <= 2; i++)
		for (size_t j = 0; j < f[i].l; j++)
			if (f[i].p[j] < '0' || f[i].p[j] > '9')
				return bad(ps, "o= session id and version must be numbers");
	ps->sdp->origin = value;
	return 0;
}

/* c=<nettype> <addrtype> <connection-address> */
static int parse_conn(struct sdp_parser *ps, struct sip_pl value, struct sip_pl *addr)
{
	struct sip_pl rest = value;
	struct sip_pl nettype = next_field(&rest);
	struct sip_pl addrtype = next_field(&rest);
	struct sip_pl a = next_field(&rest);
	if (a.l == 0 || rest.l != 0)
		return bad(ps, "c= needs three fields");
	if (!sip_pl_eq_nocase(nettype, "IN"))
		return bad(ps, "c= network type is not IN");
	if (!sip_pl_eq_nocase(addrtype, "IP4") && !sip_pl_eq_nocase(addrtype, "IP6"))
		return bad(ps, "c= address type is not IP4 or IP6");
	/* A multicast address carries "/ttl[/count]"; media goes to the address itself. */
	const char *slash = memchr(a.p, '/', a.l);
	if (slash)
		a.l = (size_t)(slash - a.p);
	if (a.l == 0)
		return bad(ps, "c= address is empty");
	for (size_t i = 0; i < a.l; i++) {
		unsigned char c = (unsigned char)a.p[i];
		if (!is_alnum(c) && c != '.' && c != '-' && c != ':')
			return bad(ps, "c= address has invalid characters");
	}
	*addr = a;
	return 0;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_media(struct sdp_parser *ps, struct sip_pl value)
{
	struct sip_sdp *sdp = ps->sdp;
	if (sdp->nmedia == SIP_SDP_MAX_MEDIA)
		return base_err_set(ps->err, BASE_E_TOO_LARGE, SDP_FIELD,
		                    "SDP line %u: more than %d m= lines", ps->line,
		                    SIP_SDP_MAX_MEDIA);
	struct sip_sdp_media *m = &sdp->media[sdp->nmedia];
	struct sip_pl rest = value;
	struct sip_pl type = next_field(&rest);
	struct sip_pl port = next_field(&rest);
	struct sip_pl proto = next_field(&rest);
	if (!all_token(type))
		return bad(ps, "m= media type is missing or malformed");
	const char *slash = memchr(port.p, '/', port.l);
	uint32_t v, count;
	if (slash) {
		struct sip_pl n = {slash + 1, port.l - (size_t)(slash + 1 - port.p)};
		port.l = (size_t)(slash - port.p);
		if (sip_pl_u32(n, 65535, &count) != 0 || count == 0)
			return bad(ps, "m= port count is malformed");
	}
	if (port.l > 5 || sip_pl_u32(port, 65535, &v) != 0)
		return bad(ps, "m= port is missing or malformed");
	if (!is_proto(proto))
		return bad(ps, "m= transport protocol is missing or malformed");
	struct sip_pl formats = trim(rest);
	/* RFC 3264 wants a format even on a rejected stream, but some answerers leave it out. */
	if (formats.l == 0 && v != 0)
		return bad(ps, "m= has no formats");
	for (size_t i = 0; i < formats.l; i++)
		if (!is_wsp(formats.p[i]) && !is_token_char((unsigned char)formats.p[i]))
			return bad(ps, "m= format list has invalid characters");
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->port = (uint16_t)v;
	m->proto = proto;
	m->formats = formats;
	m->lines = (struct sip_pl){ps->line_end, 0};
	ps->cur = m;
	sdp->nmedia++;
	return 0;
}

/* a=crypto:<tag> 1*WSP <crypto-suite> 1*WSP <key-params> *(1*WSP <session-param>)
 * The key params are a secret: nothing below may put them in an error message. */
static int parse_crypto(struct sdp_parser *ps, struct sip_pl value)
{
	struct sip_sdp_media *m = ps->cur;
	if (!m)
		return bad(ps, "a=crypto is only allowed in a media description");
	struct sip_pl rest = value;
	struct sip_pl tag_text = next_field(&rest);
	struct sip_pl suite = next_field(&rest);
	struct sip_pl key_params = next_field(&rest);
	struct sip_pl session_params = trim(rest);
	uint32_t tag;
	if (tag_text.l > 9 || sip_pl_u32(tag_text, 999999999, &tag) != 0 || tag == 0)
		return bad(ps, "a=crypto tag must be a number from 1 to 999999999");
	if (suite.l == 0)
		return bad(ps, "a=crypto has no crypto suite");
	for (size_t i = 0; i < suite.l; i++)
		if (!is_alnum((unsigned char)suite.p[i]) && suite.p[i] != '_')
			return bad(ps, "a=crypto suite name has invalid characters");
	/* "inline" is the only key method SRTP defines (RFC 4568 §6.1). */
	if (key_params.l <= 7 || !sip_pl_eq_nocase((struct sip_pl){key_params.p, 7}, "inline:"))
		return bad(ps, "a=crypto key parameters do not use the inline key method");
	for (size_t i = 0; i < key_params.l; i++) {
		unsigned char c = (unsigned char)key_params.p[i];
		if (c < 0x21 || c > 0x7e)
			return bad(ps, "a=crypto key parameters have invalid characters");
	}
	for (size_t i = 0; i < session_params.l; i++) {
		unsigned char c = (unsigned char)session_params.p[i];
		if ((c < 0x21 || c > 0x7e) && !is_wsp((char)c))
			return bad(ps, "a=crypto session parameters have invalid characters");
	}
	for (size_t i = 0; i < m->ncrypto; i++)
		if (m->crypto[i].tag == tag)
			return bad(ps, "a=crypto tag repeated in the same media description");
	if (m->ncrypto == SIP_SDP_MAX_CRYPTO)
		return 0; /* see the top of the file: extra offers are ignored */
	struct sip_sdp_crypto *c = &m->crypto[m->ncrypto++];
	c->tag = tag;
	c->suite = suite;
	c->key_params = key_params;
	c->session_params = session_params;
	return 0;
}

/* The payload type that starts an a=rtpmap or a=fmtp value; false when it is not 0-127. */
static bool payload_type(struct sip_pl *rest, uint8_t *pt)
{
	struct sip_pl f = next_field(rest);
	uint32_t v;
	if (f.l == 0 || f.l > 3 || sip_pl_u32(f, 127, &v) != 0)
		return false;
	*pt = (uint8_t)v;
	return true;
}

/* <encoding name>/<clock rate>[/<encoding parameters>] */
static bool parse_encoding(struct sip_pl spec, struct sip_sdp_rtpmap *r)
{
	const char *end = spec.p + spec.l;
	const char *s1 = memchr(spec.p, '/', spec.l);
	if (!s1)
		return false;
	r->encoding = (struct sip_pl){spec.p, (size_t)(s1 - spec.p)};
	struct sip_pl clock = {s1 + 1, (size_t)(end - s1 - 1)};
	const char *s2 = memchr(clock.p, '/', clock.l);
	struct sip_pl channels = SIP_PL_NULL;
	if (s2) {
		clock.l = (size_t)(s2 - clock.p);
		channels = (struct sip_pl){s2 + 1, (size_t)(end - s2 - 1)};
	}
	r->channels = 0;
	return all_token(r->encoding) && clock.l <= 10 &&
	       sip_pl_u32(clock, UINT32_MAX, &r->clock) == 0 && r->clock > 0 &&
	       (!s2 || (channels.l <= 3 && sip_pl_u32(channels, 255, &r->channels) == 0 &&
	                r->channels > 0));
}

/* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]; see the top of
 * the file for what is ignored. */
static void parse_rtpmap(struct sip_sdp_media *m, struct sip_pl value)
{
	struct sip_sdp_rtpmap r;
	struct sip_pl rest = value;
	if (!m || m->nrtpmap == SIP_SDP_MAX_RTPMAP || !payload_type(&rest, &r.pt))
		return;
	r.value = next_field(&rest);
	if (rest.l != 0 || !parse_encoding(r.value, &r) || sip_sdp_rtpmap_of(m, r.pt))
		return;
	m->rtpmap[m->nrtpmap++] = r;
}

/* a=fmtp:<payload type> <format specific parameters> */
static void parse_fmtp(struct sip_sdp_media *m, struct sip_pl value)
{
	struct sip_sdp_fmtp f;
	struct sip_pl rest = value;
	if (!m || m->nfmtp == SIP_SDP_MAX_RTPMAP || !payload_type(&rest, &f.pt))
		return;
	f.params = trim(rest);
	if (f.params.l == 0 || sip_sdp_fmtp_of(m, f.pt))
		return;
	m->fmtp[m->nfmtp++] = f;
}

static int parse_attr(struct sdp_parser *ps, struct sip_pl value)
{
	const char *colon = memchr(value.p, ':', value.l);
	struct sip_pl name = {value.p, colon ? (size_t)(colon - value.p) : value.l};
	if (!all_token(name))
		return bad(ps, "a= attribute name is missing or malformed");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!sip_pl_eq_nocase(name, dirs[i].name))
			continue;
		if (colon)
			return bad(ps, "a direction attribute takes no value");
		bool *has = ps->cur ? &ps->media_has_dir[ps->cur - ps->sdp->media] : &ps->have_dir;
		if (*has)
			return bad(ps, "more than one direction attribute at the same level");
		*has = true;
		if (ps->cur)
			ps->cur->dir = dirs[i].dir;
		else
			ps->dir = dirs[i].dir;
		return 0;
	}
	if (sip_pl_eq_nocase(name, "crypto")) {
		if (!colon)
			return bad(ps, "a=crypto has no value");
		struct sip_pl v = {colon + 1, value.l - name.l - 1};
		return parse_crypto(ps, v);
	}
	struct sip_pl v = colon ? (struct sip_pl){colon + 1, value.l - name.l - 1} : SIP_PL_NULL;
	if (colon && sip_pl_eq_nocase(name, "rtpmap"))
		parse_rtpmap(ps->cur, v);
	else if (colon && sip_pl_eq_nocase(name, "fmtp"))
		parse_fmtp(ps->cur, v);
	return 0;
}

static int parse_line(struct sdp_parser *ps, char type, struct sip_pl value)
{
	/* Letters allowed in a media description (RFC 4566 §5: i, c, b, k, a) and the
	 * session-only ones; anything else is not SDP we understand. */
	bool media_ok = strchr("icbkam", type) != NULL;
	bool session_ok = strchr("vosiuepcbtrzkam", type) != NULL;
	if (!session_ok)
		return bad(ps, "unknown line type");
	if (ps->cur && !media_ok)
		return bad(ps, "this line type is not allowed in a media description");
	switch (type) {
	case 'v':
		return bad(ps, "v= may only appear once, first");
	case 'o':
		if (ps->have_o)
			return bad(ps, "more than one o= line");
		ps->have_o = true;
		return parse_origin(ps, value);
	case 's':
		if (ps->have_s)
			return bad(ps, "more than one s= line");
		ps->have_s = true;
		ps->sdp->session_name = value;
		return 0;
	case 't':
		if (!ps->sdp->timing.p)
			ps->sdp->timing = trim(value);
		return 0;
	case 'c':
		if (!ps->have_o || !ps->have_s)
			break;
		if (ps->cur) {
			size_t idx = (size_t)(ps->cur - ps->sdp->media);
			struct sip_pl addr;
			if (parse_conn(ps, value, &addr) != 0)
				return -1;
			if (!ps->media_conn[idx]) {
				ps->media_conn[idx] = true;
				ps->cur->conn_addr = addr;
				ps->cur->conn = trim(value);
			}
			return 0;
		}
		if (ps->have_conn)
			return bad(ps, "more than one session-level c= line");
		ps->have_conn = true;
		ps->sdp->conn = trim(value);
		return parse_conn(ps, value, &ps->sdp->conn_addr);
	case 'm':
		if (!ps->have_o || !ps->have_s)
			break;
		return parse_media(ps, value);
	case 'a':
		return parse_attr(ps, value);
	default:
		return 0; /* i u e p b r z k: not read by call control */
	}
	return bad(ps, "o= and s= must come before c= and m=");
}

int sip_sdp_parse(struct sip_pl body, struct sip_sdp *sdp, struct base_err *err)
{
	/* Only the session part: a media description is cleared when its m= line starts
	 * (parse_media), and all SIP_SDP_MAX_MEDIA of them would be 20 kB per body on the call
	 * path. Readers look at media[0 .. nmedia) only. */
	memset(sdp, 0, offsetof(struct sip_sdp, media));
	sdp->nmedia = 0;
	struct sdp_parser ps = {.sdp = sdp, .err = err};
	const char *p = body.p, *end = body.p ? body.p + body.l : NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *eol = nl ? nl : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		ps.line++;
		if (eol == p) {
			/* Blank lines are tolerated only as trailing padding. */
			for (const char *q = p; q < end; q++)
				if (*q != '\r' && *q != '\n')
					return bad(&ps, "blank line inside the SDP");
			break;
		}
		size_t len = (size_t)(eol - p);
		if (len < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z')
			return bad(&ps, "not a <type>=<value> line");
		for (const char *q = p + 2; q < eol; q++)
			if (*q == '\0' || *q == '\r')
				return bad(&ps, "control character in line");
		struct sip_pl value = {p + 2, len - 2};
		if (ps.line == 1) {
			if (p[0] != 'v')
				return bad(&ps, "SDP must start with v=");
			if (!(value.l == 1 && value.p[0] == '0'))
				return bad(&ps, "unsupported SDP version (v=0 expected)");
			ps.have_v = true;
		} else {
			ps.line_end = next;
			if (parse_line(&ps, p[0], value) != 0)
				return -1;
			/* a media description's lines run from its m= line to the next one */
			if (ps.cur && p[0] != 'm')
				ps.cur->lines.l = (size_t)(next - ps.cur->lines.p);
		}
		p = next;
	}
	if (!ps.have_v)
		return base_err_set(err, BASE_E_INVALID, SDP_FIELD, "empty SDP");
	if (!ps.have_o)
		return base_err_set(err, BASE_E_INVALID, SDP_FIELD, "SDP has no o= line");
	if (!ps.have_s)
		return base_err_set(err, BASE_E_INVALID, SDP_FIELD, "SDP has no s= line");

	/* Media-level values fall back to the session's, and direction to sendrecv. */
	for (size_t i = 0; i < sdp->nmedia; i++) {
		struct sip_sdp_media *m = &sdp->media[i];
		if (!ps.media_conn[i]) {
			m->conn_addr = sdp->conn_addr;
			m->conn = sdp->conn;
		}
		if (!ps.media_has_dir[i])
			m->dir = ps.have_dir ? ps.dir : SIP_SDP_SENDRECV;
		if (m->port != 0 && m->conn_addr.l == 0)
			return base_err_set(err, BASE_E_INVALID, SDP_FIELD,
			                    "SDP media %zu has no connection address (c=)", i + 1);
	}
	return 0;
}

/* True when there is an active (port != 0) stream and every one of them passes. No active
 * stream means nothing to encrypt or hold: a teardown, not an offer. */
static bool every_active_stream(const struct sip_sdp *sdp,
                                bool (*pass)(const struct sip_sdp_media *m))
{
	size_t active = 0;
	for (size_t i = 0; i < sdp->nmedia; i++) {
		if (sdp->media[i].port == 0)
			continue;
		active++;
		if (!pass(&sdp->media[i]))
			return false;
	}
	return active > 0;
}

/* SAVPF is SAVP with RTCP feedback: still SDES-keyed SRTP. DTLS-SRTP ("UDP/TLS/RTP/SAVP") has
 * no a=crypto and fails. */
bool sip_sdp_media_is_sdes(const struct sip_sdp_media *m)
{
	return (sip_pl_eq_nocase(m->proto, "RTP/SAVP") ||
	        sip_pl_eq_nocase(m->proto, "RTP/SAVPF")) &&
	       m->ncrypto > 0;
}

static bool is_held(const struct sip_sdp_media *m)
{
	return m->dir == SIP_SDP_SENDONLY || m->dir == SIP_SDP_INACTIVE ||
	       (m->conn_addr.l == 7 && memcmp(m->conn_addr.p, "0.0.0.0", 7) == 0);
}

bool sip_sdp_is_srtp(const struct sip_sdp *sdp)
{
	return every_active_stream(sdp, sip_sdp_media_is_sdes);
}

bool sip_sdp_is_hold(const struct sip_sdp *sdp)
{
	return every_active_stream(sdp, is_held);
}

const char *sip_sdp_dir_name(enum sip_sdp_dir dir)
{
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (dirs[i].dir == dir)
			return dirs[i].name;
	return "sendrecv";
}

bool sip_sdp_format_next(struct sip_pl *rest, struct sip_pl *fmt)
{
	*fmt = next_field(rest);
	return fmt->l > 0;
}

bool sip_sdp_attr_next(struct sip_pl *rest, struct sip_pl *name, struct sip_pl *value)
{
	while (rest->l) {
		const char *nl = memchr(rest->p, '\n', rest->l);
		size_t len = nl ? (size_t)(nl - rest->p) : rest->l;
		struct sip_pl line = {rest->p, len};
		rest->p += nl ? len + 1 : len;
		rest->l -= nl ? len + 1 : len;
		if (line.l && line.p[line.l - 1] == '\r')
			line.l--;
		if (line.l < 2 || line.p[0] != 'a' || line.p[1] != '=')
			continue;
		const char *colon = memchr(line.p, ':', line.l);
		*name =
		    (struct sip_pl){line.p + 2, (colon ? (size_t)(colon - line.p) : line.l) - 2};
		*value = colon ? (struct sip_pl){colon + 1, line.l - (size_t)(colon + 1 - line.p)}
		               : (struct sip_pl){line.p + line.l, 0};
		return true;
	}
	return false;
}
