/*
 * TFTP packets: the read/write request with its options, the option acknowledgement and the
 * error packet. Everything a client sends is checked here before the server acts on it.
 *
 * Request: opcode(2) filename NUL mode NUL [option NUL value NUL]... (RFC 1350 §5, RFC 2347).
 * Option ranges: blksize 8..65464 (RFC 2348), timeout 1..255 s and tsize (RFC 2349),
 * windowsize 1..65535 (RFC 7440). A value outside its range cannot be negotiated and gets
 * error 8; a value inside it but above what this server accepts is answered with the
 * server's maximum, which each RFC allows (the OACK value may be smaller than asked).
 */
#include "prov/prov_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_OPTION_DIGITS 10 /* "4294967295"; anything longer is refused, not truncated */

static int fail(enum prov_tftp_error *code, enum prov_tftp_error c, struct base_err *err,
                const char *field, const char *message)
{
	*code = c;
	return base_err_set(err, BASE_E_BAD_REQUEST, field, "%s", message);
}

/* The next NUL-terminated string at *pos; NULL when the packet ends without its NUL. */
static const char *next_string(const uint8_t *pkt, size_t len, size_t *pos, size_t *slen)
{
	if (*pos >= len)
		return NULL;
	const uint8_t *nul = memchr(pkt + *pos, 0, len - *pos);
	if (!nul)
		return NULL;
	const char *s = (const char *)pkt + *pos;
	*slen = (size_t)(nul - (pkt + *pos));
	*pos += *slen + 1;
	return s;
}

static bool parse_number(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > MAX_OPTION_DIGITS)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

struct option_rule {
	const char *name;
	uint64_t min, max;
};

static const struct option_rule option_rules[] = {
    {"blksize", 8, 65464},
    {"tsize", 0, UINT32_MAX},
    {"timeout", 1, 255},
    {"windowsize", 1, 65535},
};

static int take_option(struct prov_tftp_request *req, const char *name, size_t nlen,
                       const char *value, size_t vlen, enum prov_tftp_error *code,
                       struct base_err *err)
{
	bool *has[] = {&req->has_blksize, &req->has_tsize, &req->has_timeout, &req->has_windowsize};
	uint32_t *val[] = {&req->blksize, &req->tsize, &req->timeout, &req->windowsize};
	for (size_t i = 0; i < sizeof(option_rules) / sizeof(option_rules[0]); i++) {
		const struct option_rule *r = &option_rules[i];
		if (strlen(r->name) != nlen || strncasecmp(r->name, name, nlen) != 0)
			continue;
		if (*has[i])
			return fail(code, PROV_TFTP_E_OPTION, err, r->name, "option given twice");
		uint64_t v;
		if (!parse_number(value, vlen, &v) || v < r->min || v > r->max) {
			*code = PROV_TFTP_E_OPTION;
			return base_err_set(err, BASE_E_BAD_REQUEST, r->name,
			                    "%s must be a number from %llu to %llu", r->name,
			                    (unsigned long long)r->min, (unsigned long long)r->max);
		}
		*has[i] = true;
		*val[i] = (uint32_t)v;
		return 0;
	}
	return 0; /* unknown options are ignored (RFC 2347) */
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

int prov_tftp_parse_request(const uint8_t *pkt, size_t len, struct prov_tftp_request *req,
                            enum prov_tftp_error *code, struct base_err *err)
{
	memset(req, 0, sizeof(*req));
	if (len < 4)
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "opcode", "packet too short");
	if (len > PROV_TFTP_MAX_REQUEST)
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "request",
		            "request larger than 512 bytes");
	unsigned op = (unsigned)pkt[0] << 8 | pkt[1];
	if (op != PROV_TFTP_RRQ && op != PROV_TFTP_WRQ)
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "opcode",
		            "not a read or write request");
	req->opcode = (enum prov_tftp_opcode)op;
	size_t pos = 2, flen, mlen;
	const char *file = next_string(pkt, len, &pos, &flen);
	const char *mode = file ? next_string(pkt, len, &pos, &mlen) : NULL;
	if (!file || !mode)
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "filename",
		            "file name and mode must each end with a NUL byte");
	if (flen == 0 || flen > PROV_TFTP_MAX_NAME || !printable(file, flen))
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "filename",
		            "file name must be 1 to 255 printable characters");
	memcpy(req->filename, file, flen);
	req->filename[flen] = '\0';
	if (mlen == 8 && strncasecmp(mode, "netascii", 8) == 0)
		req->netascii = true;
	else if (!(mlen == 5 && strncasecmp(mode, "octet", 5) == 0))
		return fail(code, PROV_TFTP_E_ILLEGAL, err, "mode",
		            "mode must be octet or netascii");
	while (pos < len) {
		size_t nlen, vlen;
		const char *name = next_string(pkt, len, &pos, &nlen);
		const char *value = name ? next_string(pkt, len, &pos, &vlen) : NULL;
		if (!value)
			return fail(code, PROV_TFTP_E_ILLEGAL, err, "options",
			            "each option needs a name and a value, each ending with NUL");
		if (nlen == 0)
			return fail(code, PROV_TFTP_E_ILLEGAL, err, "options", "empty option name");
		if (take_option(req, name, nlen, value, vlen, code, err) != 0)
			return -1;
	}
	return 0;
}

static size_t put_option(uint8_t *out, size_t size, size_t pos, const char *name, uint64_t value)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	size_t need = strlen(name) + 1 + (size_t)n + 1;
	if (pos + need > size)
		return pos;
	memcpy(out + pos, name, strlen(name) + 1);
	memcpy(out + pos + strlen(name) + 1, text, (size_t)n + 1);
	return pos + need;
}

size_t prov_tftp_negotiate(const struct prov_tftp_request *req, uint64_t file_size,
                           const struct prov_tftp_limits *lim, uint32_t default_timeout_ms,
                           struct prov_tftp_params *params, uint8_t *out, size_t out_size)
{
	params->blksize = 512;
	params->windowsize = 1;
	params->timeout_ms = default_timeout_ms;
	params->oack = false;
	if (out_size < 2)
		return 0;
	out[0] = 0, out[1] = PROV_TFTP_OACK;
	size_t pos = 2;
	if (req->has_blksize) {
		params->blksize = req->blksize < lim->max_blksize ? req->blksize : lim->max_blksize;
		pos = put_option(out, out_size, pos, "blksize", params->blksize);
	}
	if (req->has_tsize)
		pos = put_option(out, out_size, pos, "tsize", file_size);
	if (req->has_timeout) {
		params->timeout_ms = req->timeout * 1000;
		pos = put_option(out, out_size, pos, "timeout", req->timeout);
	}
	if (req->has_windowsize) {
		params->windowsize =
		    req->windowsize < lim->max_windowsize ? req->windowsize : lim->max_windowsize;
		pos = put_option(out, out_size, pos, "windowsize", params->windowsize);
	}
	params->oack = pos > 2;
	return params->oack ? pos : 0;
}

size_t prov_tftp_error_packet(enum prov_tftp_error code, const char *message, uint8_t *out,
                              size_t out_size)
{
	if (out_size < 5)
		return 0;
	out[0] = 0, out[1] = PROV_TFTP_ERROR;
	out[2] = 0, out[3] = (uint8_t)code;
	size_t n = strlen(message);
	if (n > out_size - 5)
		n = out_size - 5;
	memcpy(out + 4, message, n);
	out[4 + n] = 0;
	return 5 + n;
}

bool prov_name_is_safe(const char *name)
{
	const char *start = name;
	if (!*name)
		return false;
	for (const char *p = name;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - start);
			if (n == 0 || (n == 1 && start[0] == '.') ||
			    (n == 2 && start[0] == '.' && start[1] == '.'))
				return false;
			if (!*p)
				return true;
			start = p + 1;
			continue;
		}
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
		            *p))
			return false;
	}
}
