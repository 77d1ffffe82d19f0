/*
 * What the formats of an RTP m= line stand for (RFC 4566 §6 a=rtpmap, RFC 3551 §6), so that
 * two SDP bodies can be compared codec by codec whatever payload-type numbers each chose.
 */
#include "sip/sip.h"

#include <string.h>
#include <strings.h>

/* The static payload types RFC 3551 §6 (tables 4 and 5) names. The others below 96 are
 * reserved or unassigned: they can only match by number. */
static const struct {
	uint8_t pt;
	const char *encoding;
	uint32_t clock, channels;
} rfc3551[] = {
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
};

bool sip_sdp_is_rtp(const struct sip_sdp_media *m)
{
	return m->proto.l >= 4 && strncasecmp(m->proto.p, "RTP/", 4) == 0;
}

const struct sip_sdp_rtpmap *sip_sdp_rtpmap_of(const struct sip_sdp_media *m, uint8_t pt)
{
	for (size_t i = 0; i < m->nrtpmap; i++)
		if (m->rtpmap[i].pt == pt)
			return &m->rtpmap[i];
	return NULL;
}

const struct sip_sdp_fmtp *sip_sdp_fmtp_of(const struct sip_sdp_media *m, uint8_t pt)
{
	for (size_t i = 0; i < m->nfmtp; i++)
		if (m->fmtp[i].pt == pt)
			return &m->fmtp[i];
	return NULL;
}

bool sip_sdp_codec_of(const struct sip_sdp_media *m, struct sip_pl fmt, struct sip_sdp_codec *out)
{
	uint32_t pt;
	if (fmt.l == 0 || fmt.l > 3 || sip_pl_u32(fmt, 127, &pt) != 0)
		return false;
	*out = (struct sip_sdp_codec){.pt = (uint8_t)pt, .channels = 1};
	const struct sip_sdp_rtpmap *r = sip_sdp_rtpmap_of(m, (uint8_t)pt);
	if (r) {
		out->encoding = r->encoding;
		out->clock = r->clock;
		out->channels = r->channels ? r->channels : 1;
		return true;
	}
	if (pt >= 96) /* dynamic: meaningless without its a=rtpmap */
		return false;
	for (size_t i = 0; i < sizeof(rfc3551) / sizeof(rfc3551[0]); i++) {
		if (rfc3551[i].pt != pt)
			continue;
		out->encoding = (struct sip_pl){rfc3551[i].encoding, strlen(rfc3551[i].encoding)};
		out->clock = rfc3551[i].clock;
		out->channels = rfc3551[i].channels;
	}
	return true;
}

bool sip_sdp_codec_eq(const struct sip_sdp_codec *a, const struct sip_sdp_codec *b)
{
	if (a->encoding.l == 0 || b->encoding.l == 0)
		return a->encoding.l == b->encoding.l && a->pt == b->pt;
	return sip_pl_eq_pl_nocase(a->encoding, b->encoding) && a->clock == b->clock &&
	       a->channels == b->channels;
}

bool sip_sdp_codec_is_aside(const struct sip_sdp_codec *c)
{
	return sip_pl_eq_nocase(c->encoding, "telephone-event") ||
	       sip_pl_eq_nocase(c->encoding, "CN");
}
