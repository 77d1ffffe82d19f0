/*
 * libFuzzer target: Replaces (RFC 3891), as an INVITE header and escaped among the headers of
 * a Refer-To URI, which a phone sends in a REFER. The input is tried as a Replaces value, as
 * URI headers whose Replaces is decoded and parsed, and as a whole Refer-To value. Every
 * result must lie inside its buffer; nothing may crash or read past the end.
 */
#include "sip/sip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const struct sip_replaces *r, const char *buf, size_t size)
{
	const struct sip_pl *pls[] = {&r->call_id, &r->to_tag, &r->from_tag};
	for (size_t i = 0; i < 3; i++)
		if (!pls[i]->p || pls[i]->l == 0 || pls[i]->p < buf ||
		    pls[i]->p + pls[i]->l > buf + size)
			abort();
}

static void try_headers(struct sip_pl headers)
{
	char out[512];
	size_t len = 0;
	struct sip_replaces r;
	int found = sip_uri_header_get(headers, "Replaces", out, sizeof(out), &len);
	if (found == 1) {
		if (len >= sizeof(out) || out[len] != '\0' || strlen(out) != len)
			abort();
		if (sip_replaces_parse((struct sip_pl){out, len}, &r) == 0)
			check_inside(&r, out, len);
	} else if (found != 0 && found != -1) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: no NUL terminator to lean on. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct sip_pl in = {buf, size};
	struct sip_replaces r;
	if (sip_replaces_parse(in, &r) == 0)
		check_inside(&r, buf, size);
	try_headers(in);
	struct sip_addr to;
	if (sip_addr_parse(in, &to) == 0 && to.uri.headers.l)
		try_headers(to.uri.headers);
	free(buf);
	return 0;
}
