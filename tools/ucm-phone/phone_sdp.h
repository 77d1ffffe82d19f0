/*
 * A minimal SDP offer/answer (RFC 3264) for one audio stream: RTP/AVP, or RTP/SAVP keyed
 * with SDES (RFC 4568, AES_CM_128_HMAC_SHA1_80). The phone sends no media; it binds the UDP
 * port it offers so that what it says is true, and that is all.
 */
#ifndef UCM_PHONE_SDP_H
#define UCM_PHONE_SDP_H

#include "sip/sip.h"

#define PHONE_SRTP_SUITE "AES_CM_128_HMAC_SHA1_80"

struct phone_media {
	char host[64]; /* connection address */
	uint16_t port; /* our RTP port */
	int fd;        /* the socket that holds it */
	bool srtp;     /* our current session is RTP/SAVP */
	char key[41];  /* our SDES master key and salt, base64: a secret, never printed */
	uint32_t crypto_tag;
	uint64_t session_id;
	unsigned version; /* o= version, one more for each SDP we send */
};

/* Binds the media port on host; -1 with err. */
int phone_media_open(struct phone_media *m, const char *host, struct base_err *err);
/* Closes the port and wipes the key. */
void phone_media_close(struct phone_media *m);

/* An offer: RTP/SAVP with a fresh key when srtp (a key is generated once per session and
 * kept for re-offers), else RTP/AVP. Returns the length written, or -1. */
int phone_sdp_offer(struct phone_media *m, bool srtp, enum sip_sdp_dir dir, char *out, size_t size);
/* The answer to an offer: its first audio stream's profile mirrored (with SDES, our own key
 * under the offer's tag), a codec we know, and the direction that answers the offered one.
 * -1 with err when the offer cannot be accepted (488). */
int phone_sdp_answer(struct phone_media *m, const struct sip_sdp *offer, char *out, size_t size,
                     struct base_err *err);

/* The first active audio stream, or NULL. */
const struct sip_sdp_media *phone_sdp_audio(const struct sip_sdp *sdp);
/* The direction that answers an offered one: sendonly -> recvonly and so on. */
enum sip_sdp_dir phone_sdp_answer_dir(enum sip_sdp_dir offered);
const char *phone_sdp_dir_name(enum sip_sdp_dir dir);
/* "RTP/SAVP sendrecv, SDES AES_CM_128_HMAC_SHA1_80" (never the key), for printing. */
void phone_sdp_describe(const struct sip_sdp *sdp, char *out, size_t size);

#endif
