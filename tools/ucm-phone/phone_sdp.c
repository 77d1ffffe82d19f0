/*
 * SDP bodies of the phone. Parsing is the sip layer's (sip_sdp_parse); building the one
 * audio stream a phone offers or answers is here.
 */
#include "phone_sdp.h"
#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* AES_CM_128_HMAC_SHA1_80 keys with a 128-bit master key and a 112-bit salt (RFC 4568 §6.2). */
#define SRTP_KEY_SALT_BYTES 30

/* The codecs we answer with, by their static payload types (RFC 3551). */
static const struct {
	const char *pt, *rtpmap;
} codecs[] = {
    {"0", "PCMU/8000"},
    {"8", "PCMA/8000"},
};

int phone_media_open(struct phone_media *m, const char *host, struct base_err *err)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	char addr[96];
	snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:0" : "%s:0", host);
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_addr_parse(addr, &ss, &len, err) != 0)
		return -1;
	m->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(m->fd, (struct sockaddr *)&ss, &len) != 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "cannot bind a media port on %s: %s", host, strerror(errno));
	m->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	base_strlcpy(m->host, host, sizeof(m->host));
	RAND_bytes((unsigned char *)&m->session_id, sizeof(m->session_id));
	m->session_id &= 0x7fffffffffffULL; /* a decimal that every parser reads */
	return 0;
}

void phone_media_close(struct phone_media *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	OPENSSL_cleanse(m->key, sizeof(m->key));
}

/* A fresh SDES key, base64 of master key || salt, made once per session. */
static int ensure_key(struct phone_media *m)
{
	if (m->key[0])
		return 0;
	unsigned char raw[SRTP_KEY_SALT_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)m->key, raw, sizeof(raw)); /* 40 characters + NUL */
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

const char *phone_sdp_dir_name(enum sip_sdp_dir dir)
{
	switch (dir) {
	case SIP_SDP_SENDONLY:
		return "sendonly";
	case SIP_SDP_RECVONLY:
		return "recvonly";
	case SIP_SDP_INACTIVE:
		return "inactive";
	default:
		return "sendrecv";
	}
}

enum sip_sdp_dir phone_sdp_answer_dir(enum sip_sdp_dir offered)
{
	switch (offered) {
	case SIP_SDP_SENDONLY:
		return SIP_SDP_RECVONLY;
	case SIP_SDP_RECVONLY:
		return SIP_SDP_SENDONLY;
	case SIP_SDP_INACTIVE:
		return SIP_SDP_INACTIVE;
	default:
		return SIP_SDP_SENDRECV;
	}
}

/* Session lines and the m= line; the caller adds the stream's attributes. */
static int write_head(struct phone_media *m, const char *proto, const char *formats, char *out,
                      size_t size)
{
	const char *ip = strchr(m->host, ':') ? "IP6" : "IP4";
	m->version++;
	return snprintf(out, size,
	                "v=0\r\no=ucm-phone %llu %u IN %s %s\r\ns=ucm-phone\r\nc=IN %s %s\r\n"
	                "t=0 0\r\nm=audio %u %s %s\r\n",
	                (unsigned long long)m->session_id, m->version, ip, m->host, ip, m->host,
	                m->port, proto, formats);
}

/* Appends at out + n; returns the new length, or -1 once anything did not fit. */
__attribute__((format(printf, 4, 5))) static int append(char *out, size_t size, int n,
                                                        const char *fmt, ...)
{
	if (n < 0 || (size_t)n >= size)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return k < 0 || (size_t)(n + k) >= size ? -1 : n + k;
}

static int write_crypto(const struct phone_media *m, char *out, size_t size, int n)
{
	return append(out, size, n, "a=crypto:%u " PHONE_SRTP_SUITE " inline:%s\r\n", m->crypto_tag,
	              m->key);
}

int phone_sdp_offer(struct phone_media *m, bool srtp, enum sip_sdp_dir dir, char *out, size_t size)
{
	m->srtp = srtp;
	m->crypto_tag = 1;
	if (srtp && ensure_key(m) != 0)
		return -1;
	int n = write_head(m, srtp ? "RTP/SAVP" : "RTP/AVP", "0 8", out, size);
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		n = append(out, size, n, "a=rtpmap:%s %s\r\n", codecs[i].pt, codecs[i].rtpmap);
	if (srtp)
		n = write_crypto(m, out, size, n);
	return append(out, size, n, "a=%s\r\n", phone_sdp_dir_name(dir));
}

const struct sip_sdp_media *phone_sdp_audio(const struct sip_sdp *sdp)
{
	for (size_t i = 0; i < sdp->nmedia; i++)
		if (sdp->media[i].port && sip_pl_eq_nocase(sdp->media[i].type, "audio"))
			return &sdp->media[i];
	return NULL;
}

/* The first offered format we know, by its payload type. */
static int pick_codec(const struct sip_sdp_media *a)
{
	struct sip_pl rest = a->formats;
	while (rest.l) {
		size_t n = 0;
		while (n < rest.l && rest.p[n] != ' ')
			n++;
		struct sip_pl fmt = {rest.p, n};
		for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
			if (fmt.l && sip_pl_eq(fmt, codecs[i].pt))
				return (int)i;
		rest.p += n + (n < rest.l);
		rest.l -= n + (n < rest.l);
	}
	return -1;
}

static const struct sip_sdp_crypto *pick_crypto(const struct sip_sdp_media *a)
{
	for (size_t i = 0; i < a->ncrypto; i++)
		if (sip_pl_eq(a->crypto[i].suite, PHONE_SRTP_SUITE))
			return &a->crypto[i];
	return NULL;
}

int phone_sdp_answer(struct phone_media *m, const struct sip_sdp *offer, char *out, size_t size,
                     struct base_err *err)
{
	const struct sip_sdp_media *a = phone_sdp_audio(offer);
	if (!a)
		return base_err_set(err, BASE_E_INVALID, NULL, "no audio stream offered");
	bool savp = sip_pl_eq_nocase(a->proto, "RTP/SAVP");
	if (!savp && !sip_pl_eq_nocase(a->proto, "RTP/AVP"))
		return base_err_set(err, BASE_E_INVALID, NULL, "offered profile %.*s unsupported",
		                    (int)a->proto.l, a->proto.p);
	const struct sip_sdp_crypto *c = savp ? pick_crypto(a) : NULL;
	if (savp && !c)
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "RTP/SAVP offered without an " PHONE_SRTP_SUITE " key");
	int codec = pick_codec(a);
	if (codec < 0)
		return base_err_set(err, BASE_E_INVALID, NULL, "no codec we know (PCMU, PCMA)");
	m->srtp = savp;
	if (c)
		m->crypto_tag = c->tag;
	if (savp && ensure_key(m) != 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "no random key");
	int n = write_head(m, savp ? "RTP/SAVP" : "RTP/AVP", codecs[codec].pt, out, size);
	n = append(out, size, n, "a=rtpmap:%s %s\r\n", codecs[codec].pt, codecs[codec].rtpmap);
	if (savp)
		n = write_crypto(m, out, size, n);
	n = append(out, size, n, "a=%s\r\n", phone_sdp_dir_name(phone_sdp_answer_dir(a->dir)));
	return n >= 0 ? n : base_err_set(err, BASE_E_TOO_LARGE, NULL, "SDP too long");
}

void phone_sdp_describe(const struct sip_sdp *sdp, char *out, size_t size)
{
	const struct sip_sdp_media *a = phone_sdp_audio(sdp);
	if (!a) {
		snprintf(out, size, "no active audio");
		return;
	}
	const struct sip_sdp_crypto *c = pick_crypto(a);
	snprintf(out, size, "%.*s %s%s%.*s", (int)a->proto.l, a->proto.p,
	         phone_sdp_dir_name(a->dir),
	         c            ? ", SDES "
	         : a->ncrypto ? ", SDES with an unknown suite"
	                      : "",
	         c ? (int)c->suite.l : 0, c ? c->suite.p : "");
}
