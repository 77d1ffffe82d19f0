/*
 * The client side of digest. The sip layer computes the response (sip_digest_response) from
 * HA1; what a client needs besides is here: the challenge parser (the layer parses only
 * credentials), HA1 from the password, and the cnonce and nonce count.
 *
 * ucmd offers SHA-256 and MD5 in one 401, one WWW-Authenticate each (RFC 8760 §2.4): a client
 * must take the first it supports in its order of preference, which for us is SHA-256.
 */
#include "phone_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

struct challenge {
	struct sip_pl realm, nonce, opaque, algorithm, qop;
};

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits off the next `name=value` of an auth-param list; quoted values lose their quotes
 * (escapes stay, as none of the values we use may contain them). */
static bool next_param(struct sip_pl *rest, struct sip_pl *name, struct sip_pl *value)
{
	const char *p = rest->p, *end = rest->p + rest->l;
	while (p < end && (is_lws(*p) || *p == ','))
		p++;
	const char *n = p;
	while (p < end && *p != '=' && !is_lws(*p) && *p != ',')
		p++;
	*name = (struct sip_pl){n, (size_t)(p - n)};
	while (p < end && is_lws(*p))
		p++;
	if (name->l == 0 || p == end || *p != '=')
		return false;
	p++;
	while (p < end && is_lws(*p))
		p++;
	const char *v = p;
	if (p < end && *p == '"') {
		v = ++p;
		while (p < end && *p != '"')
			p += *p == '\\' && p + 1 < end ? 2 : 1;
		if (p == end)
			return false;
		*value = (struct sip_pl){v, (size_t)(p - v)};
		p++;
	} else {
		while (p < end && *p != ',' && !is_lws(*p))
			p++;
		*value = (struct sip_pl){v, (size_t)(p - v)};
	}
	rest->p = p;
	rest->l = (size_t)(end - p);
	return true;
}

static int parse_challenge(struct sip_pl value, struct challenge *c)
{
	memset(c, 0, sizeof(*c));
	if (value.l < 7 || !sip_pl_eq_nocase((struct sip_pl){value.p, 6}, "Digest") ||
	    !is_lws(value.p[6]))
		return -1;
	struct sip_pl rest = {value.p + 7, value.l - 7}, name, v;
	while (next_param(&rest, &name, &v)) {
		if (sip_pl_eq_nocase(name, "realm"))
			c->realm = v;
		else if (sip_pl_eq_nocase(name, "nonce"))
			c->nonce = v;
		else if (sip_pl_eq_nocase(name, "opaque"))
			c->opaque = v;
		else if (sip_pl_eq_nocase(name, "algorithm"))
			c->algorithm = v;
		else if (sip_pl_eq_nocase(name, "qop"))
			c->qop = v;
	}
	return c->realm.p && c->nonce.l ? 0 : -1;
}

/* qop is a list ("auth,auth-int"); we do auth, or the RFC 2069 form when none is given. */
static bool qop_usable(struct sip_pl qop, bool *auth)
{
	*auth = false;
	if (!qop.p)
		return true;
	struct sip_pl rest = qop;
	while (rest.l) {
		size_t n = 0;
		while (n < rest.l && rest.p[n] != ',')
			n++;
		struct sip_pl item = {rest.p, n};
		while (item.l && is_lws(item.p[0]))
			item.p++, item.l--;
		while (item.l && is_lws(item.p[item.l - 1]))
			item.l--;
		if (sip_pl_eq_nocase(item, "auth"))
			*auth = true;
		rest.p += n + (n < rest.l);
		rest.l -= n + (n < rest.l);
	}
	return *auth;
}

static bool fits(struct sip_pl pl, size_t size)
{
	return pl.l < size;
}

int phone_auth_take_challenge(struct phone_auth *a, const struct sip_msg *resp,
                              struct base_err *err)
{
	if (!a->user || !a->user[0])
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the server asks for digest credentials; give --user and "
		                    "--password-file");
	a->proxy = resp->status == 407;
	enum sip_hdr_id id = a->proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE;
	struct challenge best = {0};
	enum sip_digest_alg best_alg = SIP_DIGEST_MD5;
	bool found = false, best_qop = false;
	for (const struct sip_hdr *h = sip_msg_hdr(resp, id); h; h = sip_msg_hdr_next(resp, h)) {
		struct challenge c;
		enum sip_digest_alg alg;
		bool qop_auth;
		if (parse_challenge(h->value, &c) != 0 || sip_digest_alg_parse(c.algorithm, &alg) ||
		    !qop_usable(c.qop, &qop_auth) || !fits(c.realm, sizeof(a->realm)) ||
		    !fits(c.nonce, sizeof(a->nonce)) || !fits(c.opaque, sizeof(a->opaque)))
			continue;
		if (!found || (alg == SIP_DIGEST_SHA256 && best_alg != SIP_DIGEST_SHA256)) {
			best = c, best_alg = alg, best_qop = qop_auth;
			found = true;
		}
	}
	if (!found)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "no challenge with an algorithm we support (SHA-256, MD5)");
	sip_pl_strcpy(best.realm, a->realm, sizeof(a->realm));
	sip_pl_strcpy(best.nonce, a->nonce, sizeof(a->nonce));
	if (best.opaque.p)
		sip_pl_strcpy(best.opaque, a->opaque, sizeof(a->opaque));
	else
		a->opaque[0] = '\0';
	a->alg = best_alg;
	a->qop_auth = best_qop;
	a->nc = 0;
	a->have_challenge = true;
	return 0;
}

const char *phone_auth_alg_name(const struct phone_auth *a)
{
	return a->alg == SIP_DIGEST_SHA256 ? "SHA-256" : "MD5";
}

/* HA1 = H(username ":" realm ":" password), in lower-case hex. */
static int ha1(const struct phone_auth *a, char out[65])
{
	const EVP_MD *md = a->alg == SIP_DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
	         EVP_DigestUpdate(ctx, a->user, strlen(a->user)) && EVP_DigestUpdate(ctx, ":", 1) &&
	         EVP_DigestUpdate(ctx, a->realm, strlen(a->realm)) &&
	         EVP_DigestUpdate(ctx, ":", 1) &&
	         EVP_DigestUpdate(ctx, a->password, strlen(a->password)) &&
	         EVP_DigestFinal_ex(ctx, digest, &len);
	EVP_MD_CTX_free(ctx);
	if (ok)
		base_hex(digest, len, out);
	OPENSSL_cleanse(digest, sizeof(digest));
	return ok ? 0 : -1;
}

static struct sip_pl pl_of(const char *s)
{
	return (struct sip_pl){s, strlen(s)};
}

int phone_auth_header(struct phone_auth *a, const char *method, const char *uri, char *out,
                      size_t size)
{
	if (!a->have_challenge)
		return -1;
	char nc[9], cnonce[33], key[65], response[65];
	unsigned char r[16];
	RAND_bytes(r, sizeof(r));
	base_hex(r, sizeof(r), cnonce);
	snprintf(nc, sizeof(nc), "%08x", ++a->nc);
	struct sip_digest_creds creds = {.nonce = pl_of(a->nonce), .uri = pl_of(uri)};
	if (a->qop_auth) {
		creds.qop = SIP_PL("auth");
		creds.nc = pl_of(nc);
		creds.cnonce = pl_of(cnonce);
	}
	int rc = ha1(a, key) == 0
	             ? sip_digest_response(a->alg, key, pl_of(method), &creds, response)
	             : -1;
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		return -1;
	int n = snprintf(out, size,
	                 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	                 "response=\"%s\", algorithm=%s",
	                 a->proxy ? "Proxy-Authorization" : "Authorization", a->user, a->realm,
	                 a->nonce, uri, response, phone_auth_alg_name(a));
	if (n > 0 && (size_t)n < size && a->qop_auth)
		n += snprintf(out + n, size - (size_t)n, ", qop=auth, nc=%s, cnonce=\"%s\"", nc,
		              cnonce);
	if (n > 0 && (size_t)n < size && a->opaque[0])
		n += snprintf(out + n, size - (size_t)n, ", opaque=\"%s\"", a->opaque);
	if (n > 0 && (size_t)n < size)
		n += snprintf(out + n, size - (size_t)n, "\r\n");
	return n > 0 && (size_t)n < size ? 0 : -1;
}
