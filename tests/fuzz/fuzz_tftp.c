/*
 * libFuzzer target: the TFTP request parser and what the server does next with a request it
 * accepted (option negotiation into an OACK, the name check, an error packet with its
 * message). Any input must give a clean refusal with a reason or a request whose fields
 * keep their promises: a NUL-terminated printable name, options inside their RFC ranges.
 */
#include "prov/prov.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct prov_tftp_request req;
	enum prov_tftp_error code = PROV_TFTP_E_UNDEFINED;
	struct base_err err = {0};
	uint8_t out[PROV_TFTP_MAX_REQUEST];
	if (prov_tftp_parse_request(buf, size, &req, &code, &err) == 0) {
		size_t n = strlen(req.filename);
		if (n == 0 || n > PROV_TFTP_MAX_NAME)
			abort();
		if ((req.has_blksize && (req.blksize < 8 || req.blksize > 65464)) ||
		    (req.has_timeout && (req.timeout < 1 || req.timeout > 255)) ||
		    (req.has_windowsize && (req.windowsize < 1 || req.windowsize > 65535)))
			abort();
		struct prov_tftp_limits lim = {.max_blksize = 1428, .max_windowsize = 64};
		struct prov_tftp_params p;
		size_t len = prov_tftp_negotiate(&req, size, &lim, 1000, &p, out, sizeof(out));
		if (len > sizeof(out) || p.blksize < 8 || p.blksize > 1428 || p.windowsize < 1 ||
		    p.windowsize > 64 || (len == 0) == p.oack)
			abort();
		(void)prov_name_is_safe(req.filename);
		(void)prov_tftp_error_packet(PROV_TFTP_E_NOT_FOUND, req.filename, out, sizeof(out));
	} else if (!err.message[0] || code == PROV_TFTP_E_UNDEFINED) {
		abort(); /* every refusal says why, with a TFTP error code */
	} else {
		(void)prov_tftp_error_packet(code, err.message, out, sizeof(out));
	}
	free(buf);
	return 0;
}
