/*
 * libFuzzer target: the SIP parsers that read what a device sends in a request body or an
 * Authorization header and are not the message parser: SDP bodies and digest credentials.
 * The same bytes go to both, and whatever parses is fed to the functions that consume it
 * (SRTP and hold checks, codecs and attributes of each stream, the response computation, the
 * nonce check), so a parsed value that
 * breaks a later step is found too. Any input must give a clean -1 or a result, never a
 * crash, a read outside the input or undefined behaviour.
 */
#include "sip/sip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: the parsers get no NUL terminator to lean on, and ASan reports
	 * a read even one byte past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct sip_pl in = {buf, size};
#define INSIDE(pl) ((pl).l == 0 || ((pl).p >= buf && (pl).p + (pl).l <= buf + size))

	struct sip_sdp sdp;
	struct base_err err;
	if (sip_sdp_parse(in, &sdp, &err) == 0) {
		(void)sip_sdp_is_srtp(&sdp);
		(void)sip_sdp_is_hold(&sdp);
		/* Every pl must lie inside the input. */
		for (size_t i = 0; i < sdp.nmedia; i++) {
			const struct sip_sdp_media *m = &sdp.media[i];
			if (m->ncrypto > SIP_SDP_MAX_CRYPTO)
				abort();
			for (size_t j = 0; j < m->ncrypto; j++) {
				const struct sip_pl *kp = &m->crypto[j].key_params;
				if (kp->p < buf || kp->p + kp->l > buf + size)
					abort();
			}
			if (m->nrtpmap > SIP_SDP_MAX_RTPMAP || m->nfmtp > SIP_SDP_MAX_RTPMAP ||
			    !INSIDE(m->lines) || !INSIDE(m->conn))
				abort();
			for (size_t j = 0; j < m->nrtpmap; j++)
				if (m->rtpmap[j].pt > 127 || m->rtpmap[j].clock == 0 ||
				    !INSIDE(m->rtpmap[j].value) || !INSIDE(m->rtpmap[j].encoding))
					abort();
			for (size_t j = 0; j < m->nfmtp; j++)
				if (!INSIDE(m->fmtp[j].params))
					abort();
			/* every format's codec, compared with the first's */
			struct sip_pl rest = m->formats, fmt;
			struct sip_sdp_codec first, c;
			bool have_first = false;
			while (sip_sdp_format_next(&rest, &fmt))
				if (sip_sdp_codec_of(m, fmt, &c)) {
					if (have_first)
						(void)sip_sdp_codec_eq(&first, &c);
					(void)sip_sdp_codec_is_aside(&c);
					first = c, have_first = true;
				}
			struct sip_pl lines = m->lines, name, value;
			while (sip_sdp_attr_next(&lines, &name, &value))
				if (!INSIDE(name) || !INSIDE(value))
					abort();
		}
		if (!INSIDE(sdp.session_name) || !INSIDE(sdp.timing) || !INSIDE(sdp.conn))
			abort();
	} else if (err.field[0] == '\0' || err.message[0] == '\0') {
		abort(); /* every refusal must say why */
	}

	static struct sip_nonce_key key;
	static int have_key;
	if (!have_key) {
		sip_nonce_key_init(&key);
		have_key = 1;
	}
	uint64_t serial;
	(void)sip_nonce_check(&key, in, 1795000000, 300, &serial);

	struct sip_digest_creds creds;
	if (sip_digest_creds_parse(in, &creds) == 0) {
		enum sip_digest_alg alg;
		if (sip_digest_alg_parse(creds.algorithm, &alg) == 0) {
			char out[65];
			const char *ha1 =
			    alg == SIP_DIGEST_MD5
			        ? "939e7578ed9e3c518a452acee763bce9"
			        : "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b"
			          "4794232";
			if (sip_digest_response(alg, ha1, SIP_PL("REGISTER"), &creds, out) == 0 &&
			    strlen(out) != (alg == SIP_DIGEST_MD5 ? 32u : 64u))
				abort();
		}
		(void)sip_nonce_check(&key, creds.nonce, 1795000000, 300, &serial);
	}
	free(buf);
	return 0;
}
