/*
 * Header names, name-addr / addr-spec values (From, To, Contact, Route, Record-Route,
 * Refer-To) and Via values (RFC 3261 §20, §25.1).
 */
#include "sip/sip_int.h"

#include <string.h>

struct sip_hdr_name {
	const char *name; /* lower case */
	enum sip_hdr_id id;
	bool list;
};

/* Grouped by length, so a lookup compares the first character of at most a handful of names
 * before any full comparison: no strcmp chain over every known header. */
static const struct sip_hdr_name sip_n2[] = {{"to", SIP_HDR_TO, false}};
static const struct sip_hdr_name sip_n3[] = {{"via", SIP_HDR_VIA, true}};
static const struct sip_hdr_name sip_n4[] = {
    {"from", SIP_HDR_FROM, false}, {"cseq", SIP_HDR_CSEQ, false}, {"path", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n5[] = {{"route", SIP_HDR_ROUTE, true},
                                             {"allow", SIP_HDR_ALLOW, true},
                                             {"event", SIP_HDR_EVENT, false}};
static const struct sip_hdr_name sip_n6[] = {{"accept", SIP_HDR_OTHER, true},
                                             {"reason", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n7[] = {{"call-id", SIP_HDR_CALL_ID, false},
                                             {"contact", SIP_HDR_CONTACT, true},
                                             {"expires", SIP_HDR_EXPIRES, false},
                                             {"require", SIP_HDR_REQUIRE, true}};
static const struct sip_hdr_name sip_n8[] = {{"refer-to", SIP_HDR_REFER_TO, false},
                                             {"replaces", SIP_HDR_REPLACES, false}};
static const struct sip_hdr_name sip_n9[] = {{"supported", SIP_HDR_SUPPORTED, true},
                                             {"call-info", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n10[] = {{"user-agent", SIP_HDR_USER_AGENT, false},
                                              {"alert-info", SIP_HDR_OTHER, true},
                                              {"error-info", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n11[] = {{"min-expires", SIP_HDR_MIN_EXPIRES, false},
                                              {"referred-by", SIP_HDR_REFERRED_BY, false},
                                              {"unsupported", SIP_HDR_UNSUPPORTED, true},
                                              {"in-reply-to", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n12[] = {{"max-forwards", SIP_HDR_MAX_FORWARDS, false},
                                              {"content-type", SIP_HDR_CONTENT_TYPE, false},
                                              {"record-route", SIP_HDR_RECORD_ROUTE, true},
                                              {"allow-events", SIP_HDR_OTHER, true},
                                              {"history-info", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n13[] = {{"authorization", SIP_HDR_AUTHORIZATION, false},
                                              {"proxy-require", SIP_HDR_PROXY_REQUIRE, true},
                                              {"service-route", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n14[] = {{"content-length", SIP_HDR_CONTENT_LENGTH, false},
                                              {"accept-contact", SIP_HDR_OTHER, true},
                                              {"reject-contact", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n15[] = {{"accept-encoding", SIP_HDR_OTHER, true},
                                              {"accept-language", SIP_HDR_OTHER, true},
                                              {"security-client", SIP_HDR_OTHER, true},
                                              {"security-server", SIP_HDR_OTHER, true},
                                              {"security-verify", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n16[] = {{"www-authenticate", SIP_HDR_WWW_AUTHENTICATE, false},
                                              {"content-encoding", SIP_HDR_CONTENT_ENCODING, true},
                                              {"content-language", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n18[] = {
    {"proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE, false},
    {"subscription-state", SIP_HDR_SUBSCRIPTION_STATE, false}};
static const struct sip_hdr_name sip_n19[] = {
    {"proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION, false},
    {"p-asserted-identity", SIP_HDR_OTHER, true},
    {"request-disposition", SIP_HDR_OTHER, true}};
static const struct sip_hdr_name sip_n20[] = {{"p-preferred-identity", SIP_HDR_OTHER, true}};

#define SIP_NAMES(a)                                                                               \
	{                                                                                          \
		a, sizeof(a) / sizeof(a[0])                                                        \
	}
static const struct {
	const struct sip_hdr_name *v;
	size_t n;
} sip_by_len[21] = {
    [2] = SIP_NAMES(sip_n2),   [3] = SIP_NAMES(sip_n3),   [4] = SIP_NAMES(sip_n4),
    [5] = SIP_NAMES(sip_n5),   [6] = SIP_NAMES(sip_n6),   [7] = SIP_NAMES(sip_n7),
    [8] = SIP_NAMES(sip_n8),   [9] = SIP_NAMES(sip_n9),   [10] = SIP_NAMES(sip_n10),
    [11] = SIP_NAMES(sip_n11), [12] = SIP_NAMES(sip_n12), [13] = SIP_NAMES(sip_n13),
    [14] = SIP_NAMES(sip_n14), [15] = SIP_NAMES(sip_n15), [16] = SIP_NAMES(sip_n16),
    [18] = SIP_NAMES(sip_n18), [19] = SIP_NAMES(sip_n19), [20] = SIP_NAMES(sip_n20),
};

/* RFC 3261 §7.3.3 and the registry of compact forms (RFC 3265, 3515, 3892, 3841, 4028, 4474). */
const char *sip_hdr_compact_expand(char c)
{
	switch (c | 0x20) {
	case 'a':
		return "Accept-Contact";
	case 'b':
		return "Referred-By";
	case 'c':
		return "Content-Type";
	case 'd':
		return "Request-Disposition";
	case 'e':
		return "Content-Encoding";
	case 'f':
		return "From";
	case 'i':
		return "Call-ID";
	case 'j':
		return "Reject-Contact";
	case 'k':
		return "Supported";
	case 'l':
		return "Content-Length";
	case 'm':
		return "Contact";
	case 'n':
		return "Identity-Info";
	case 'o':
		return "Event";
	case 'r':
		return "Refer-To";
	case 's':
		return "Subject";
	case 't':
		return "To";
	case 'u':
		return "Allow-Events";
	case 'v':
		return "Via";
	case 'x':
		return "Session-Expires";
	case 'y':
		return "Identity";
	default:
		return NULL;
	}
}

enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len, bool *list)
{
	*list = false;
	if (len == 1) {
		const char *full = sip_hdr_compact_expand(name[0]);
		if (!full)
			return SIP_HDR_OTHER;
		return sip_hdr_lookup(full, strlen(full), list);
	}
	if (len >= sizeof(sip_by_len) / sizeof(sip_by_len[0]))
		return SIP_HDR_OTHER;
	char first = (char)(name[0] | 0x20);
	for (size_t i = 0; i < sip_by_len[len].n; i++) {
		const struct sip_hdr_name *h = &sip_by_len[len].v[i];
		if (h->name[0] == first && sip_mem_eq_nocase(name + 1, h->name + 1, len - 1)) {
			*list = h->list;
			return h->id;
		}
	}
	return SIP_HDR_OTHER;
}

static void sip_addr_param(void *arg, struct sip_pl name, struct sip_pl value)
{
	struct sip_addr *addr = arg;
	if (!addr->tag.p && sip_pl_eq_nocase(name, "tag"))
		addr->tag = value;
}

/* After an address: nothing, or ';' and header parameters. */
static int sip_addr_tail(struct sip_pl v, size_t i, struct sip_addr *addr)
{
	while (i < v.l && sip_is(v.p[i], SIP_C_WS))
		i++;
	if (i == v.l)
		return 0;
	if (v.p[i] != ';')
		return -1;
	addr->params = sip_pl_trim((struct sip_pl){v.p + i + 1, v.l - i - 1});
	/* "<sip:x>;;;" (RFC 4475 badinv01) has empty parameters: invalid. */
	if (addr->params.l == 0 || !sip_params_each(addr->params, sip_addr_param, addr))
		return -1;
	return 0;
}

int sip_addr_parse(struct sip_pl value, struct sip_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	struct sip_pl v = sip_pl_trim(value);
	size_t i = 0;
	if (v.l == 0)
		return -1;
	if (v.l == 1 && v.p[0] == '*') {
		addr->wildcard = true;
		return 0;
	}
	if (v.p[0] == '"') {
		for (i = 1; i < v.l && v.p[i] != '"'; i++)
			if (v.p[i] == '\\')
				i++;
		if (i >= v.l)
			return -1; /* unterminated quoted string (RFC 4475 quotbal) */
		addr->display = (struct sip_pl){v.p + 1, i - 1};
		for (i++; i < v.l && sip_is(v.p[i], SIP_C_WS); i++)
			;
		if (i >= v.l || v.p[i] != '<')
			return -1;
	} else {
		/* A display name of tokens, with or without LWS before '<' (RFC 4475 lwsdisp). Any
		 * other character means there is no '<' form here (or a broken one: baddn). */
		while (i < v.l && sip_is(v.p[i], SIP_C_TOKEN | SIP_C_WS))
			i++;
		if (i < v.l && v.p[i] == '<') {
			addr->display = sip_pl_trim((struct sip_pl){v.p, i});
		} else {
			/* addr-spec: the URI ends at ';' (header parameters follow) or whitespace.
			 * A '?' or ',' would need the <> form (RFC 3261 §20.10, RFC 4475 regbadct).
			 */
			for (i = 0; i < v.l; i++) {
				char c = v.p[i];
				if (c == ';' || sip_is(c, SIP_C_WS))
					break;
				if (c == '?' || c == ',' || c == '<' || c == '>' || c == '"')
					return -1;
			}
			addr->uri_text = (struct sip_pl){v.p, i};
			if (sip_uri_parse(addr->uri_text, &addr->uri) != 0)
				return -1;
			return sip_addr_tail(v, i, addr);
		}
	}
	const char *gt = memchr(v.p + i, '>', v.l - i);
	if (!gt)
		return -1;
	addr->uri_text = (struct sip_pl){v.p + i + 1, (size_t)(gt - v.p) - i - 1};
	/* No LWS inside the brackets (RFC 4475 badaspec); sip_uri_parse refuses it too. */
	if (sip_uri_parse(addr->uri_text, &addr->uri) != 0)
		return -1;
	return sip_addr_tail(v, (size_t)(gt - v.p) + 1, addr);
}

static size_t sip_skip_ws(struct sip_pl v, size_t i)
{
	while (i < v.l && sip_is(v.p[i], SIP_C_WS))
		i++;
	return i;
}

static size_t sip_token_end(struct sip_pl v, size_t i)
{
	while (i < v.l && sip_is(v.p[i], SIP_C_TOKEN))
		i++;
	return i;
}

static void sip_via_param(void *arg, struct sip_pl name, struct sip_pl value)
{
	struct sip_via *via = arg;
	if (sip_pl_eq_nocase(name, "branch"))
		via->branch = value;
	else if (sip_pl_eq_nocase(name, "received"))
		via->received = value;
	else if (sip_pl_eq_nocase(name, "rport")) {
		via->has_rport = true;
		via->rport = value;
	}
}

int sip_via_parse(struct sip_pl value, struct sip_via *via)
{
	memset(via, 0, sizeof(*via));
	struct sip_pl v = sip_pl_trim(value);
	size_t i = 0, start;
	/* sent-protocol: name SLASH version SLASH transport, LWS allowed around each slash
	 * (RFC 4475 wsinv: "SIP  /   2.0 /UDP"). */
	for (int part = 0; part < 3; part++) {
		start = i;
		i = sip_token_end(v, i);
		if (i == start)
			return -1;
		if (part == 2) {
			via->transport = (struct sip_pl){v.p + start, i - start};
			break;
		}
		i = sip_skip_ws(v, i);
		if (i >= v.l || v.p[i] != '/')
			return -1;
		i = sip_skip_ws(v, i + 1);
	}
	start = i;
	i = sip_skip_ws(v, i);
	if (i == start)
		return -1;
	long hp = sip_hostport_parse(v.p + i, v.l - i, true, &via->host, &via->port);
	if (hp < 0)
		return -1;
	i = sip_skip_ws(v, i + (size_t)hp);
	if (i == v.l)
		return 0;
	if (v.p[i] != ';')
		return -1;
	via->params = sip_pl_trim((struct sip_pl){v.p + i + 1, v.l - i - 1});
	if (via->params.l == 0 || !sip_params_each(via->params, sip_via_param, via))
		return -1;
	return 0;
}
