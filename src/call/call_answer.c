/*
 * RFC 3264 answers the B2BUA makes itself. Without media of its own, ucmd sometimes holds two
 * offers and owes each party an answer: a Jabber client called with a delayed offer offers in
 * its 200 although the caller offered in its INVITE (call_late.c). Passing one offer on as
 * the answer to the other is wrong as soon as they differ (other codecs, payload-type
 * numbers, m= lines, several keys, a direction). So the answer to "the offer being answered"
 * is made from "the other party's SDP", the party the offerer will exchange media with:
 *
 *  - one m= line per offered one, in the same order (RFC 3264 §6); each takes the first
 *    unused active m= line of the same media type of the other party, its port and c=; none
 *    left (or an offered stream already disabled) rejects the stream: port 0, the offer's
 *    formats;
 *  - the other party's codecs that the offer has too (by encoding name, clock rate and
 *    channels; an unnamed static payload type by its RFC 3551 number), in the other party's
 *    order, with its payload-type numbers, a=rtpmap and a=fmtp (see common_formats() for
 *    why its numbers); telephone events and comfort noise are kept when both have them but
 *    are no codec: no codec in common rejects the stream;
 *  - the direction that answers the offer's (RFC 3264 §6.1) and that the other party wants;
 *  - SDES (RFC 4568 §7.1.2): to an offered RTP/SAVP stream with keys, exactly one a=crypto,
 *    the other party's key, under the offer's tag, of the suite both have that ranks first in
 *    ucmd's own order (see suite_ranking); no common suite rejects the stream. If the other party
 * has no keys the stream is answered as RTP/AVP, non-secure, as ucmd did before (whether a leg may
 * get keys at all is decided later, by call_sdp_for_leg);
 *  - the other party's o=, s= and t=. Its o= version grows whenever it changes its SDP, and
 *    ucmd passes any later SDP of that party on as it is, so what the offerer sees of the
 *    version keeps growing as RFC 3264 §8 wants; ucmd keeps no origin of its own.
 *
 * Besides a=rtpmap and a=fmtp, an RTP stream keeps the other party's a=ptime, a=maxptime and
 * a=rtcp (where it receives RTCP), and a=rtcp-mux when both have it; a stream that is not RTP
 * (BFCP, T.38) keeps all of the other party's attributes but its direction.
 */
#include "call/call_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More formats than RTP has payload types are not kept. */
#define ANSWER_MAX_FORMATS 128

struct answer {
	const struct sip_sdp *offer, *other;
	bool used[SIP_SDP_MAX_MEDIA]; /* the other party's m= lines already answering one */
	struct sip_pl conn;           /* the answer's session-level c= value, if any */
	struct sip_buf *out;
};

/* What an answered stream carries of the other party's m= line. */
struct stream_choice {
	struct sip_pl fmt[ANSWER_MAX_FORMATS];
	uint8_t pt[ANSWER_MAX_FORMATS];
	size_t n;
	bool codec;                       /* one of them is a codec, not only events or noise */
	const struct sip_sdp_crypto *key; /* the other party's key, under... */
	uint32_t tag;                     /* ...the offer's tag for that suite */
};

static void add_line(struct sip_buf *out, const char *prefix, struct sip_pl value)
{
	sip_buf_adds(out, prefix);
	sip_buf_addpl(out, value);
	sip_buf_add(out, "\r\n", 2);
}

static void add_attr(struct sip_buf *out, struct sip_pl name, struct sip_pl value)
{
	sip_buf_adds(out, "a=");
	sip_buf_addpl(out, name);
	if (value.l) {
		sip_buf_add(out, ":", 1);
		sip_buf_addpl(out, value);
	}
	sip_buf_add(out, "\r\n", 2);
}

static void add_session(struct answer *a)
{
	const struct sip_sdp *o = a->other;
	a->conn = o->conn;
	for (size_t i = 0; !a->conn.l && i < o->nmedia; i++)
		if (o->media[i].port)
			a->conn = o->media[i].conn;
	sip_buf_adds(a->out, "v=0\r\n");
	add_line(a->out, "o=", o->origin);
	add_line(a->out, "s=", o->session_name.l ? o->session_name : SIP_PL("-"));
	if (a->conn.l)
		add_line(a->out, "c=", a->conn);
	add_line(a->out, "t=", o->timing.l ? o->timing : SIP_PL("0 0"));
}

/* RFC 3264 §6: a stream the answer does not take keeps its place with port 0. */
static void add_rejected(struct sip_buf *out, const struct sip_sdp_media *om)
{
	sip_buf_adds(out, "m=");
	sip_buf_addpl(out, om->type);
	sip_buf_adds(out, " 0 ");
	sip_buf_addpl(out, om->proto);
	if (om->formats.l) {
		sip_buf_add(out, " ", 1);
		sip_buf_addpl(out, om->formats);
	}
	sip_buf_add(out, "\r\n", 2);
}

/* The first active m= line of the other party of that media type not yet answering one. */
static const struct sip_sdp_media *take_stream(struct answer *a, struct sip_pl type)
{
	for (size_t i = 0; i < a->other->nmedia; i++) {
		const struct sip_sdp_media *m = &a->other->media[i];
		if (!a->used[i] && m->port && sip_pl_eq_pl_nocase(m->type, type)) {
			a->used[i] = true;
			return m;
		}
	}
	return NULL;
}

/* Does the offered m= line have this format: the same codec for RTP, the same token else? */
static bool offered(const struct sip_sdp_media *om, struct sip_pl fmt,
                    const struct sip_sdp_codec *c)
{
	struct sip_pl rest = om->formats, f;
	struct sip_sdp_codec oc;
	while (sip_sdp_format_next(&rest, &f))
		if (c ? sip_sdp_codec_of(om, f, &oc) && sip_sdp_codec_eq(&oc, c)
		      : sip_pl_eq_pl_nocase(f, fmt))
			return true;
	return false;
}

static bool chosen(const struct stream_choice *ch, struct sip_pl fmt)
{
	for (size_t i = 0; i < ch->n; i++)
		if (ch->fmt[i].l == fmt.l && memcmp(ch->fmt[i].p, fmt.p, fmt.l) == 0)
			return true;
	return false;
}

/*
 * The formats both have, in the other party's order and with its payload-type numbers. Why
 * its numbers and not the offer's (RFC 3264 §6.1 only says SHOULD): each side receives RTP on
 * the numbers of its own SDP, and this answer tells the offerer what the other party will
 * receive, since the media flows between the two of them without ucmd. The other party
 * expects, say, telephone events on its 101; were the offerer told its own 96, it would send
 * 96 and the events would be lost.
 */
static void common_formats(const struct sip_sdp_media *om, const struct sip_sdp_media *tm,
                           struct stream_choice *ch)
{
	bool rtp = sip_sdp_is_rtp(om);
	struct sip_pl rest = tm->formats, fmt;
	while (ch->n < ANSWER_MAX_FORMATS && sip_sdp_format_next(&rest, &fmt)) {
		struct sip_sdp_codec c = {0};
		if (rtp ? !sip_sdp_codec_of(tm, fmt, &c) || !offered(om, fmt, &c)
		        : !offered(om, fmt, NULL))
			continue;
		if (chosen(ch, fmt))
			continue;
		ch->pt[ch->n] = c.pt;
		ch->fmt[ch->n++] = fmt;
		ch->codec |= !rtp || !sip_sdp_codec_is_aside(&c);
	}
}

/* SRTP suites, strongest first (RFC 7714, RFC 6188, RFC 4568). A delayed offer has ucmd answer
 * both parties (call_late.c), and both answers must name the same suite: each party sends with
 * the suite its answer names, and expects the other to. Either offer's own order could differ
 * from the other's; one ranking of ours, applied to the suites both have, cannot. */
static const char *const suite_ranking[] = {
    "AEAD_AES_256_GCM",        "AEAD_AES_128_GCM",        "AES_256_CM_HMAC_SHA1_80",
    "AES_192_CM_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32",
    "AES_192_CM_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_32",
};
#define SUITES_RANKED (sizeof(suite_ranking) / sizeof(suite_ranking[0]))

static size_t suite_rank(struct sip_pl suite)
{
	size_t i = 0;
	while (i < SUITES_RANKED && !sip_pl_eq_nocase(suite, suite_ranking[i]))
		i++;
	return i;
}

/* Is suite a preferred to b? Suites we do not rank go last, in name order: the same choice
 * from either side still. */
static bool suite_before(struct sip_pl a, struct sip_pl b)
{
	size_t ra = suite_rank(a), rb = suite_rank(b);
	if (ra != rb)
		return ra < rb;
	size_t n = a.l < b.l ? a.l : b.l;
	int c = strncasecmp(a.p, b.p, n);
	return c < 0 || (c == 0 && a.l < b.l);
}

/* RFC 4568 §7.1.2: one key, the other party's, for the best suite both have, under the offer's
 * tag. 0 when the answer carries no key, -1 when both have keys but no suite in common. */
static int common_key(const struct sip_sdp_media *om, const struct sip_sdp_media *tm,
                      struct stream_choice *ch)
{
	if (!sip_sdp_media_is_sdes(om) || tm->ncrypto == 0)
		return 0;
	ch->key = NULL;
	for (size_t i = 0; i < om->ncrypto; i++)
		for (size_t j = 0; j < tm->ncrypto; j++)
			if (sip_pl_eq_pl_nocase(om->crypto[i].suite, tm->crypto[j].suite) &&
			    (!ch->key || suite_before(om->crypto[i].suite, ch->key->suite))) {
				ch->key = &tm->crypto[j];
				ch->tag = om->crypto[i].tag;
			}
	return ch->key ? 1 : -1;
}

static bool sends(enum sip_sdp_dir d)
{
	return d == SIP_SDP_SENDRECV || d == SIP_SDP_SENDONLY;
}

static bool receives(enum sip_sdp_dir d)
{
	return d == SIP_SDP_SENDRECV || d == SIP_SDP_RECVONLY;
}

/* The answerer receives what the offerer sends, if the other party wants to receive it, and
 * sends what the offerer receives, if the other party sends: sendonly is answered recvonly,
 * recvonly sendonly, inactive inactive and sendrecv with the other party's own direction
 * (RFC 3264 §6.1); inactive where the other party does not want that way either. */
static enum sip_sdp_dir answer_dir(enum sip_sdp_dir offered_dir, enum sip_sdp_dir other)
{
	bool recv = sends(offered_dir) && receives(other);
	bool send = receives(offered_dir) && sends(other);
	return recv && send ? SIP_SDP_SENDRECV
	       : recv       ? SIP_SDP_RECVONLY
	       : send       ? SIP_SDP_SENDONLY
	                    : SIP_SDP_INACTIVE;
}

static bool is_dir_attr(struct sip_pl name)
{
	for (enum sip_sdp_dir d = SIP_SDP_SENDRECV; d <= SIP_SDP_INACTIVE; d++)
		if (sip_pl_eq_nocase(name, sip_sdp_dir_name(d)))
			return true;
	return false;
}

static bool has_attr(const struct sip_sdp_media *m, const char *wanted)
{
	struct sip_pl rest = m->lines, name, value;
	while (sip_sdp_attr_next(&rest, &name, &value))
		if (sip_pl_eq_nocase(name, wanted))
			return true;
	return false;
}

/* The other party's attributes that still hold in the answer (see the top of the file). */
static void add_other_attrs(struct sip_buf *out, const struct sip_sdp_media *om,
                            const struct sip_sdp_media *tm)
{
	bool rtp = sip_sdp_is_rtp(om);
	struct sip_pl rest = tm->lines, name, value;
	while (sip_sdp_attr_next(&rest, &name, &value)) {
		bool keep =
		    rtp ? sip_pl_eq_nocase(name, "ptime") || sip_pl_eq_nocase(name, "maxptime") ||
		              sip_pl_eq_nocase(name, "rtcp") ||
		              (sip_pl_eq_nocase(name, "rtcp-mux") && has_attr(om, "rtcp-mux"))
		        : !is_dir_attr(name) && !sip_pl_eq_nocase(name, "crypto");
		if (keep)
			add_attr(out, name, value);
	}
}

/* The m= line's transport: the offer's, but no longer secure when no key is answered. */
static void add_proto(struct sip_buf *out, const struct sip_sdp_media *om, bool keyed)
{
	if (keyed || !sip_sdp_media_is_sdes(om)) {
		sip_buf_addpl(out, om->proto);
		return;
	}
	bool feedback = om->proto.p[om->proto.l - 1] == 'F' || om->proto.p[om->proto.l - 1] == 'f';
	sip_buf_adds(out, feedback ? "RTP/AVPF" : "RTP/AVP");
}

static void add_stream(struct answer *a, const struct sip_sdp_media *om,
                       const struct sip_sdp_media *tm, const struct stream_choice *ch)
{
	struct sip_buf *out = a->out;
	sip_buf_adds(out, "m=");
	sip_buf_addpl(out, om->type);
	sip_buf_add(out, " ", 1);
	sip_buf_add_uint(out, tm->port);
	sip_buf_add(out, " ", 1);
	add_proto(out, om, ch->key != NULL);
	for (size_t i = 0; i < ch->n; i++) {
		sip_buf_add(out, " ", 1);
		sip_buf_addpl(out, ch->fmt[i]);
	}
	sip_buf_add(out, "\r\n", 2);
	if (!sip_pl_eq_pl_nocase(tm->conn, a->conn))
		add_line(out, "c=", tm->conn);
	for (size_t i = 0; sip_sdp_is_rtp(om) && i < ch->n; i++) {
		const struct sip_sdp_rtpmap *r = sip_sdp_rtpmap_of(tm, ch->pt[i]);
		const struct sip_sdp_fmtp *f = sip_sdp_fmtp_of(tm, ch->pt[i]);
		if (r)
			sip_buf_printf(out, "a=rtpmap:%u %.*s\r\n", ch->pt[i], (int)r->value.l,
			               r->value.p);
		if (f)
			sip_buf_printf(out, "a=fmtp:%u %.*s\r\n", ch->pt[i], (int)f->params.l,
			               f->params.p);
	}
	add_other_attrs(out, om, tm);
	if (ch->key) {
		const struct sip_sdp_crypto *k = ch->key;
		sip_buf_printf(out, "a=crypto:%u %.*s %.*s", ch->tag, (int)k->suite.l, k->suite.p,
		               (int)k->key_params.l, k->key_params.p);
		if (k->session_params.l)
			sip_buf_printf(out, " %.*s", (int)k->session_params.l, k->session_params.p);
		sip_buf_add(out, "\r\n", 2);
	}
	sip_buf_printf(out, "a=%s\r\n", sip_sdp_dir_name(answer_dir(om->dir, tm->dir)));
}

static void answer_stream(struct answer *a, const struct sip_sdp_media *om)
{
	const struct sip_sdp_media *tm = om->port ? take_stream(a, om->type) : NULL;
	struct stream_choice ch = {0};
	if (tm)
		common_formats(om, tm, &ch);
	if (!tm || !ch.codec || common_key(om, tm, &ch) < 0)
		add_rejected(a->out, om);
	else
		add_stream(a, om, tm, &ch);
}

/* An answer taking none of the offered streams, for when the other party's SDP is unusable. */
static void answer_nothing(const struct sip_sdp *offer, struct sip_buf *out)
{
	sip_buf_adds(out, "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n");
	for (size_t i = 0; i < offer->nmedia; i++)
		add_rejected(out, &offer->media[i]);
}

int call_sdp_answer(struct sip_pl offer, struct sip_pl other, struct sip_buf *out,
                    struct base_err *err)
{
	sip_buf_init(out);
	struct sip_sdp *sdp = malloc(2 * sizeof(*sdp)); /* some 40 kB: not for the stack */
	if (!sdp)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	int rc = -1;
	if (sip_sdp_parse(offer, &sdp[0], err) != 0)
		goto done;
	if (sip_sdp_parse(other, &sdp[1], err) != 0) {
		answer_nothing(&sdp[0], out);
		rc = 1;
		goto done;
	}
	struct answer a = {.offer = &sdp[0], .other = &sdp[1], .out = out};
	add_session(&a);
	for (size_t i = 0; i < sdp[0].nmedia; i++)
		answer_stream(&a, &sdp[0].media[i]);
	rc = 0;
done:
	free(sdp);
	if (out->failed)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	return rc;
}
