/*
 * libFuzzer target: the RFC 3264 answers ucmd makes from two parties' SDP (call_answer.c).
 * The input is the offer, a NUL byte, and the other party's SDP (all of it the offer when there
 * is no NUL). Both come from devices, so any bytes must give -1 (no answer), or an answer
 * that parses and has as many m= lines as the offer, never a crash or a read outside the
 * input. The answer is made both ways, as ucmd does for a delayed offer.
 */
#include "call/call_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct sip_pl offer, struct sip_pl other)
{
	struct sip_buf out;
	struct base_err err;
	int rc = call_sdp_answer(offer, other, &out, &err);
	if (rc < 0) {
		if (out.len != 0 || err.message[0] == '\0')
			abort();
	} else if (!out.failed) {
		struct sip_sdp *sdp = malloc(2 * sizeof(*sdp));
		if (sdp) {
			if (sip_sdp_parse(offer, &sdp[0], NULL) != 0 ||
			    sip_sdp_parse((struct sip_pl){out.data, out.len}, &sdp[1], NULL) != 0 ||
			    sdp[0].nmedia != sdp[1].nmedia)
				abort();
			for (size_t i = 0; i < sdp[1].nmedia; i++)
				if (sdp[1].media[i].ncrypto > 1)
					abort(); /* an answer carries one key at most */
			free(sdp);
		}
	}
	sip_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copies: nothing to lean on past the end. */
	const uint8_t *nul = memchr(data, 0, size);
	size_t first = nul ? (size_t)(nul - data) : size;
	size_t second = nul ? size - first - 1 : 0;
	char *a = malloc(first ? first : 1), *b = malloc(second ? second : 1);
	if (a && b) {
		memcpy(a, data, first);
		if (second)
			memcpy(b, nul + 1, second);
		struct sip_pl offer = {a, first}, other = {b, second};
		check(offer, other);
		check(other, offer);
	}
	free(a);
	free(b);
	return 0;
}
