/*
 * libFuzzer target: the SIP message parser and everything that reads a parsed message's
 * bytes next: stream framing, address and Via parsing, URIs, parameters and the start of a
 * response. Any input must give a clean error or a message, never a crash or a read outside
 * the buffer (the input is copied into a buffer of exactly its size, with no NUL after it).
 */
#include "sip/sip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_addr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h)) {
		struct sip_addr addr;
		if (sip_addr_parse(h->value, &addr) == 0) {
			struct sip_pl v;
			struct sip_uri uri;
			sip_param_get(addr.params, "tag", &v);
			sip_param_get(addr.uri.params, "transport", &v);
			sip_uri_parse(addr.uri_text, &uri);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ka;
	long n = sip_msg_frame((const char *)data, size, 4096, 65536, &ka);
	if (n > 0 && (size_t)n + ka > size)
		abort(); /* framing must stay inside the bytes it was given */

	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct sip_msg msg;
	struct sip_parse_error err;
	int rc = sip_msg_parse(&msg, buf, size, true, &err);
	/* Even a refused message answers with what was parsed; the builder must cope. */
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, &msg, rc == 0 ? 200 : err.status, NULL, "abc", "192.0.2.1",
	                       5060);
	sip_buf_end_headers(&b, "x", 1);
	sip_buf_free(&b);
	if (rc == 0) {
		exercise_addr(&msg, SIP_HDR_FROM);
		exercise_addr(&msg, SIP_HDR_TO);
		exercise_addr(&msg, SIP_HDR_CONTACT);
		exercise_addr(&msg, SIP_HDR_ROUTE);
		for (const struct sip_hdr *h = sip_msg_hdr(&msg, SIP_HDR_VIA); h;
		     h = sip_msg_hdr_next(&msg, h)) {
			struct sip_via via;
			sip_via_parse(h->value, &via);
		}
		struct sip_uri uri;
		sip_uri_parse(msg.ruri_text, &uri);
		sip_msg_hdr_named(&msg, "s");
		sip_msg_hdr_named(&msg, "X-Unknown");
		for (size_t i = 0; i < msg.nhdrs; i++) {
			/* Any header value as an address or a Via: they are parsed by name in the
			 * core, but a confused caller must not crash either. */
			struct sip_addr a;
			struct sip_via v;
			sip_addr_parse(msg.hdrs[i].value, &a);
			sip_via_parse(msg.hdrs[i].value, &v);
			sip_param_get(msg.hdrs[i].value, "x", NULL);
		}
		if (msg.is_request) {
			sip_buf_init(&b);
			sip_msg_response_start(&b, &msg, 180, "Ringing", NULL, "::1", 0);
			sip_buf_free(&b);
		}
	}
	sip_msg_free(&msg);
	return 0;
}
