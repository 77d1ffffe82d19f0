/*
 * Parsing a whole message in place, and framing messages on a stream.
 *
 * One pass over the bytes: each header line is found with memchr, its name classified by
 * length and first letter, folded continuation lines are blanked in place, list values are
 * split into sip_hdr entries, and the headers every layer needs are checked as they go by.
 * Nothing is allocated.
 *
 * Status codes for refused requests: 400 for anything malformed or missing, 505 for a SIP
 * version other than 2.0, 513 (Message Too Large) when the header section exceeds
 * SIP_MAX_HEADER_BYTES or holds more than SIP_MAX_HEADERS values.
 */
#include "sip/sip_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sip_parse_state {
	bool via, from, to, contact, call_id, cseq, max_forwards, content_length, content_type,
	    expires;
	uint32_t clen;
};

__attribute__((format(printf, 3, 4), cold)) static int
sip_fail(struct sip_parse_error *err, uint16_t status, const char *fmt, ...)
{
	if (err) {
		err->status = status;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool sip_has_ws(struct sip_pl pl)
{
	for (size_t i = 0; i < pl.l; i++)
		if (sip_is(pl.p[i], SIP_C_WS | SIP_C_CTL))
			return true;
	return false;
}

/* "SIP/" 1*DIGIT "." 1*DIGIT: a version we could name in a 505. */
static bool sip_is_version(struct sip_pl v)
{
	if (v.l < 7 || !sip_mem_eq_nocase(v.p, "SIP/", 4))
		return false;
	size_t i = 4, digits = 0;
	while (i < v.l && sip_is(v.p[i], SIP_C_DIGIT))
		i++, digits++;
	if (!digits || i >= v.l || v.p[i] != '.')
		return false;
	for (i++, digits = 0; i < v.l && sip_is(v.p[i], SIP_C_DIGIT); i++)
		digits++;
	return digits && i == v.l;
}

static int sip_status_line(struct sip_msg *msg, const char *line, size_t n,
                           struct sip_parse_error *err)
{
	const char *sp = memchr(line, ' ', n);
	if (!sp)
		return sip_fail(err, 400, "Malformed status line");
	msg->version = (struct sip_pl){line, (size_t)(sp - line)};
	if (!sip_pl_eq_nocase(msg->version, "SIP/2.0"))
		return sip_fail(err, 505, "Version Not Supported");
	size_t i = (size_t)(sp - line) + 1;
	uint32_t code;
	/* Exactly three digits: "4294967301" (RFC 4475 bigcode) must not wrap into range. */
	if (i + 3 > n || (i + 3 < n && line[i + 3] != ' ') ||
	    sip_pl_u32((struct sip_pl){line + i, 3}, 699, &code) != 0 || code < 100)
		return sip_fail(err, 400, "Malformed status code");
	msg->status = (uint16_t)code;
	i += 3;
	msg->reason =
	    i < n ? (struct sip_pl){line + i + 1, n - i - 1} : (struct sip_pl){line + n, 0};
	msg->is_request = false;
	return 0;
}

static int sip_request_line(struct sip_msg *msg, const char *line, size_t n,
                            struct sip_parse_error *err)
{
	size_t i = 0;
	while (i < n && sip_is(line[i], SIP_C_TOKEN))
		i++;
	if (i == 0 || i >= n || line[i] != ' ')
		return sip_fail(err, 400, "Malformed request line");
	msg->method = (struct sip_pl){line, i};
	size_t last = n;
	while (last > i && line[last - 1] != ' ')
		last--;
	/* last is one past the final SP; the version runs from there to the end. */
	if (last <= i + 1)
		return sip_fail(err, 400, "Malformed request line");
	msg->version = (struct sip_pl){line + last, n - last};
	if (!sip_pl_eq_nocase(msg->version, "SIP/2.0")) {
		if (sip_is_version(msg->version))
			return sip_fail(err, 505, "Version Not Supported");
		return sip_fail(err, 400, "Malformed request line");
	}
	/* Exactly one SP on each side of the Request-URI (RFC 4475 lwsstart, lwsruri, trws). */
	msg->ruri_text = (struct sip_pl){line + i + 1, last - i - 2};
	if (msg->ruri_text.l == 0 || sip_has_ws(msg->ruri_text) ||
	    sip_uri_parse(msg->ruri_text, &msg->ruri) != 0)
		return sip_fail(err, 400, "Malformed Request-URI");
	/* Headers are not allowed in a Request-URI (RFC 3261 §19.1.5, RFC 4475 escruri). */
	if (msg->ruri.headers.p) {
		if (sip_pl_eq_nocase(msg->ruri.scheme, "sip") ||
		    sip_pl_eq_nocase(msg->ruri.scheme, "sips"))
			return sip_fail(err, 400, "Request-URI with headers");
	}
	msg->is_request = true;
	return 0;
}

static int sip_cseq_parse(struct sip_pl v, struct sip_cseq *cseq)
{
	size_t i = 0;
	while (i < v.l && sip_is(v.p[i], SIP_C_DIGIT))
		i++;
	/* RFC 3261 §8.1.1.5: the sequence number is less than 2**31. */
	if (sip_pl_u32((struct sip_pl){v.p, i}, 0x7fffffffu, &cseq->number) != 0)
		return -1;
	size_t ws = i;
	while (i < v.l && sip_is(v.p[i], SIP_C_WS))
		i++;
	if (i == ws || i == v.l)
		return -1;
	cseq->method = (struct sip_pl){v.p + i, v.l - i};
	for (size_t k = 0; k < cseq->method.l; k++)
		if (!sip_is(cseq->method.p[k], SIP_C_TOKEN))
			return -1;
	return 0;
}

static int sip_single(bool *seen, const char *name, struct sip_parse_error *err)
{
	if (*seen)
		return sip_fail(err, 400, "Duplicate %s header", name);
	*seen = true;
	return 0;
}

static int sip_addr_hdr(struct sip_msg *msg, struct sip_hdr *h, struct sip_parse_state *st,
                        struct sip_parse_error *err)
{
	struct sip_addr tmp, *a = &tmp;
	struct sip_pl *tag = NULL;
	const char *name = "Contact";
	if (h->id == SIP_HDR_FROM || h->id == SIP_HDR_TO) {
		bool from = h->id == SIP_HDR_FROM;
		name = from ? "From" : "To";
		if (sip_single(from ? &st->from : &st->to, name, err) != 0)
			return -1;
		a = from ? &msg->from : &msg->to;
		tag = from ? &msg->from_tag : &msg->to_tag;
	} else if (h->id == SIP_HDR_CONTACT) {
		if (!st->contact)
			a = &msg->contact; /* the registrar reads it: parsed once */
		st->contact = true;
	} else {
		name = h->id == SIP_HDR_ROUTE ? "Route" : "Record-Route";
	}
	if (sip_addr_parse(h->value, a) != 0 || (a->wildcard && h->id != SIP_HDR_CONTACT))
		return sip_fail(err, 400, "Malformed %s header", name);
	if (tag && a->tag.p)
		*tag = a->tag;
	return 0;
}

/* Records one header value and checks the ones the core reads. */
static int sip_add_hdr(struct sip_msg *msg, enum sip_hdr_id id, struct sip_pl name,
                       struct sip_pl value, struct sip_parse_state *st, struct sip_parse_error *err)
{
	if (msg->nhdrs >= SIP_MAX_HEADERS)
		return sip_fail(err, 513, "Too many headers");
	struct sip_hdr *h = &msg->hdrs[msg->nhdrs++];
	*h = (struct sip_hdr){id, name, value};
	uint32_t n;
	switch (id) {
	case SIP_HDR_VIA: {
		/* msg->via is filled only by a top Via that parsed: responses reuse it then. */
		struct sip_via tmp;
		if (sip_via_parse(value, &tmp) != 0)
			return sip_fail(err, 400, "Malformed Via header");
		if (!st->via)
			msg->via = tmp;
		st->via = true;
		return 0;
	}
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CONTACT:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
		return sip_addr_hdr(msg, h, st, err);
	case SIP_HDR_CALL_ID:
		if (sip_single(&st->call_id, "Call-ID", err) != 0)
			return -1;
		if (value.l == 0 || sip_has_ws(value))
			return sip_fail(err, 400, "Malformed Call-ID header");
		msg->call_id = value;
		return 0;
	case SIP_HDR_CSEQ:
		if (sip_single(&st->cseq, "CSeq", err) != 0)
			return -1;
		if (sip_cseq_parse(value, &msg->cseq) != 0)
			return sip_fail(err, 400, "Malformed CSeq header");
		return 0;
	case SIP_HDR_MAX_FORWARDS:
		if (sip_single(&st->max_forwards, "Max-Forwards", err) != 0)
			return -1;
		if (sip_pl_u32(value, 255, &n) != 0)
			return sip_fail(err, 400, "Malformed Max-Forwards header");
		msg->max_forwards = (int)n;
		return 0;
	case SIP_HDR_CONTENT_LENGTH:
		/* Two lengths leave the framing undecidable (RFC 4475 mcl01); a negative or
		 * absurd one is an error (ncl), never a number to compute with. */
		if (sip_single(&st->content_length, "Content-Length", err) != 0)
			return -1;
		if (sip_pl_u32(value, 0x7fffffffu, &st->clen) != 0)
			return sip_fail(err, 400, "Malformed Content-Length header");
		return 0;
	case SIP_HDR_CONTENT_TYPE:
		if (sip_single(&st->content_type, "Content-Type", err) != 0)
			return -1;
		msg->content_type = value;
		return 0;
	case SIP_HDR_EXPIRES:
		/* Tolerant, as RFC 4475 scalar02 allows: an overlarge value is clamped, and a
		 * non-numeric one (an RFC 2543 date) is ignored rather than refused. */
		if (st->expires)
			return 0;
		st->expires = true;
		if (sip_pl_u32(value, UINT32_MAX, &n) == 0)
			msg->expires = (long)n;
		else if (value.l && sip_is(value.p[0], SIP_C_DIGIT) && !sip_has_ws(value))
			msg->expires = (long)UINT32_MAX;
		return 0;
	default:
		return 0;
	}
}

static bool sip_must_keep_empty(enum sip_hdr_id id)
{
	/* An empty element of these lists is an error the value parser reports (badinv01);
	 * for token lists such as Allow or Supported it is just skipped. */
	return id == SIP_HDR_VIA || id == SIP_HDR_CONTACT || id == SIP_HDR_ROUTE ||
	       id == SIP_HDR_RECORD_ROUTE;
}

static int sip_header_line(struct sip_msg *msg, struct sip_pl name, struct sip_pl value,
                           struct sip_parse_state *st, struct sip_parse_error *err)
{
	bool list;
	enum sip_hdr_id id = sip_hdr_lookup(name.p, name.l, &list);
	value = sip_pl_trim(value);
	if (!list || value.l == 0)
		return sip_add_hdr(msg, id, name, value, st, err);
	struct sip_pl rest = value, elem;
	while (sip_list_next(&rest, ',', &elem)) {
		if (elem.l == 0 && !sip_must_keep_empty(id))
			continue;
		if (sip_add_hdr(msg, id, name, elem, st, err) != 0)
			return -1;
	}
	return 0;
}

/* The header section from pos; on success *body_start is the first byte after the blank
 * line. Continuation lines are joined by overwriting their CR LF with spaces. */
static int sip_headers(struct sip_msg *msg, size_t pos, size_t *body_start,
                       struct sip_parse_state *st, struct sip_parse_error *err)
{
	char *buf = msg->buf;
	size_t len = msg->len, start = pos;
	for (;;) {
		if (pos - start > SIP_MAX_HEADER_BYTES)
			return sip_fail(err, 513, "Header section too large");
		if (pos < len && buf[pos] == '\n') {
			*body_start = pos + 1;
			return 0;
		}
		if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n') {
			*body_start = pos + 2;
			return 0;
		}
		size_t nstart = pos;
		while (pos < len && sip_is(buf[pos], SIP_C_TOKEN))
			pos++;
		struct sip_pl name = {buf + nstart, pos - nstart};
		while (pos < len && sip_is(buf[pos], SIP_C_WS))
			pos++;
		if (pos >= len)
			return sip_fail(err, 400, "Missing end of headers");
		if (name.l == 0 || buf[pos] != ':')
			return sip_fail(err, 400, "Malformed header line");
		/* The usual space after the colon is skipped here, where it is known, so that
		 * trimming the value finds nothing to do. */
		while (++pos < len && sip_is(buf[pos], SIP_C_WS))
			;
		size_t vstart = pos, vend;
		for (;;) {
			const char *nl = memchr(buf + pos, '\n', len - pos);
			if (!nl)
				return sip_fail(err, 400, "Missing end of headers");
			size_t e = (size_t)(nl - buf);
			if (e + 1 < len && sip_is(buf[e + 1], SIP_C_WS)) {
				buf[e] = ' ';
				if (e > vstart && buf[e - 1] == '\r')
					buf[e - 1] = ' ';
				pos = e + 1;
				continue;
			}
			vend = (e > vstart && buf[e - 1] == '\r') ? e - 1 : e;
			pos = e + 1;
			break;
		}
		if (sip_header_line(msg, name, (struct sip_pl){buf + vstart, vend - vstart}, st,
		                    err) != 0)
			return -1;
	}
}

static int sip_required(const struct sip_msg *msg, const struct sip_parse_state *st,
                        struct sip_parse_error *err)
{
	if (!st->via)
		return sip_fail(err, 400, "Missing Via header");
	if (!st->from)
		return sip_fail(err, 400, "Missing From header");
	if (!st->to)
		return sip_fail(err, 400, "Missing To header");
	if (!st->call_id)
		return sip_fail(err, 400, "Missing Call-ID header");
	if (!st->cseq)
		return sip_fail(err, 400, "Missing CSeq header");
	/* RFC 4475 mismatch01/02: the CSeq method must be the request's (case-sensitive). */
	if (msg->is_request && !(msg->cseq.method.l == msg->method.l &&
	                         memcmp(msg->cseq.method.p, msg->method.p, msg->method.l) == 0))
		return sip_fail(err, 400, "CSeq method does not match the request method");
	return 0;
}

int sip_msg_parse(struct sip_msg *msg, char *buf, size_t len, bool datagram,
                  struct sip_parse_error *err)
{
	/* Everything but the header array, which is 5 KiB and filled as far as nhdrs says. */
	memset(msg, 0, offsetof(struct sip_msg, hdrs));
	memset(&msg->nhdrs, 0, sizeof(*msg) - offsetof(struct sip_msg, nhdrs));
	msg->buf = buf;
	msg->len = len;
	msg->max_forwards = -1;
	msg->expires = -1;
	if (err) {
		err->status = 0;
		err->reason[0] = '\0';
	}
	if (!buf)
		return sip_fail(err, 400, "Empty message");
	/* CRLFs before the start line are ignored (RFC 3261 §7.5). */
	size_t pos = 0;
	while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
	if (!nl)
		return sip_fail(err, 400, "Missing start line");
	size_t e = (size_t)(nl - buf), lend = (e > pos && buf[e - 1] == '\r') ? e - 1 : e;
	int rc = (lend - pos >= 4 && sip_mem_eq_nocase(buf + pos, "SIP/", 4))
	             ? sip_status_line(msg, buf + pos, lend - pos, err)
	             : sip_request_line(msg, buf + pos, lend - pos, err);
	if (rc != 0)
		return -1;
	struct sip_parse_state st = {0};
	size_t body_start = len;
	if (sip_headers(msg, e + 1, &body_start, &st, err) != 0 || sip_required(msg, &st, err) != 0)
		return -1;
	size_t avail = len - body_start;
	if (st.content_length) {
		/* Longer than Content-Length: the excess is ignored (RFC 3261 §18.3, RFC 4475
		 * dblreq). Shorter: the message is truncated (clerr). */
		if (st.clen > avail)
			return sip_fail(err, 400, "Content-Length larger than the body");
		msg->body = (struct sip_pl){buf + body_start, st.clen};
	} else if (datagram) {
		msg->body = (struct sip_pl){buf + body_start, avail};
	} else {
		return sip_fail(err, 400, "Missing Content-Length header");
	}
	return 0;
}

void sip_msg_free(struct sip_msg *msg)
{
	if (!msg)
		return;
	free(msg->buf);
	msg->buf = NULL;
	msg->len = 0;
	msg->nhdrs = 0;
}

static bool sip_name_is(struct sip_pl name, const char *full, size_t full_len)
{
	if (name.l == 1 && full_len != 1) {
		const char *exp = sip_hdr_compact_expand(name.p[0]);
		return exp && strlen(exp) == full_len && sip_mem_eq_nocase(exp, full, full_len);
	}
	return name.l == full_len && sip_mem_eq_nocase(name.p, full, full_len);
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (msg->hdrs[i].id == id)
			return &msg->hdrs[i];
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg, const struct sip_hdr *prev)
{
	if (!prev || prev < msg->hdrs || prev >= msg->hdrs + msg->nhdrs)
		return NULL;
	const char *full = prev->name.p;
	size_t full_len = prev->name.l;
	if (prev->id == SIP_HDR_OTHER && full_len == 1) {
		const char *exp = sip_hdr_compact_expand(full[0]);
		if (exp) {
			full = exp;
			full_len = strlen(exp);
		}
	}
	for (const struct sip_hdr *h = prev + 1; h < msg->hdrs + msg->nhdrs; h++) {
		if (h->id != prev->id)
			continue;
		if (h->id != SIP_HDR_OTHER || sip_name_is(h->name, full, full_len))
			return h;
	}
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_named(const struct sip_msg *msg, const char *name)
{
	size_t nl = strlen(name);
	bool list;
	if (nl == 0)
		return NULL;
	enum sip_hdr_id id = sip_hdr_lookup(name, nl, &list);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	const char *full = name;
	if (nl == 1 && sip_hdr_compact_expand(name[0])) {
		full = sip_hdr_compact_expand(name[0]);
		nl = strlen(full);
	}
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (msg->hdrs[i].id == SIP_HDR_OTHER && sip_name_is(msg->hdrs[i].name, full, nl))
			return &msg->hdrs[i];
	return NULL;
}

bool sip_msg_supports(const struct sip_msg *msg, const char *tag)
{
	size_t n = strlen(tag);
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SUPPORTED); h;
	     h = sip_msg_hdr_next(msg, h))
		if (h->value.l >= n && strncasecmp(h->value.p, tag, n) == 0 &&
		    (h->value.l == n || h->value.p[n] == '-'))
			return true;
	return false;
}

/* The Content-Length of one header line of a stream message: 1 if this line is not one, 0
 * with *cl set, -1 if it is one without a usable value. */
static int sip_frame_cl(const char *p, size_t n, bool *pending, long *cl)
{
	size_t i = 0;
	while (i < n && sip_is(p[i], SIP_C_TOKEN))
		i++;
	bool list;
	if (sip_hdr_lookup(p, i, &list) != SIP_HDR_CONTENT_LENGTH)
		return 1;
	while (i < n && sip_is(p[i], SIP_C_WS))
		i++;
	if (i >= n || p[i] != ':')
		return -1;
	struct sip_pl v = sip_pl_trim((struct sip_pl){p + i + 1, n - i - 1});
	if (v.l == 0) {
		*pending = true; /* the value is on a continuation line */
		return 0;
	}
	uint32_t u;
	if (*cl >= 0 || sip_pl_u32(v, 0x7fffffffu, &u) != 0)
		return -1;
	*cl = (long)u;
	return 0;
}

long sip_msg_frame(const char *data, size_t len, size_t max_header, size_t max_body,
                   size_t *keepalive_bytes)
{
	size_t ka = 0;
	while (ka < len && (data[ka] == '\r' || data[ka] == '\n'))
		ka++;
	if (keepalive_bytes)
		*keepalive_bytes = ka;
	const char *p = data + ka;
	size_t n = len - ka, i = 0, hdr_end = 0;
	long cl = -1;
	bool pending = false, in_cl = false;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		size_t e = (size_t)(nl - p), lend = (e > i && p[e - 1] == '\r') ? e - 1 : e;
		if (lend == i) {
			hdr_end = e + 1;
			break;
		}
		if (i > 0 && sip_is(p[i], SIP_C_WS)) {
			/* A continuation line: only matters when it carries a folded length. */
			if (in_cl) {
				struct sip_pl v = sip_pl_trim((struct sip_pl){p + i, lend - i});
				uint32_t u;
				if (!pending || cl >= 0 || sip_pl_u32(v, 0x7fffffffu, &u) != 0)
					return -1;
				cl = (long)u;
				pending = false;
			}
		} else if (i > 0) {
			if (pending)
				return -1;
			int rc = sip_frame_cl(p + i, lend - i, &pending, &cl);
			if (rc < 0)
				return -1;
			in_cl = rc == 0;
		}
		i = e + 1;
		if (i > max_header)
			return -1;
	}
	if (hdr_end == 0)
		return n > max_header ? -1 : 0;
	/* RFC 3261 §18.3: on a stream, Content-Length is what frames the message. */
	if (cl < 0 || pending || (size_t)cl > max_body)
		return -1;
	if (n - hdr_end < (size_t)cl)
		return 0;
	return (long)(hdr_end + (size_t)cl);
}
