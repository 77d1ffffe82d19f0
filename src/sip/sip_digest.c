/*
 * Digest authentication for SIP (RFC 3261 §22, RFC 7616 with RFC 8760's SHA-256): parsing the
 * credentials a device sends, computing the response it should have sent, and the server's
 * nonces.
 *
 * Credentials are parsed in place. A quoted value is given without its quotes and with any
 * backslash escapes left as written; sip_digest_response unescapes while hashing (RFC 7616
 * hashes the unquoted values). Token characters never include a backslash, so unescaping a
 * value that was not quoted changes nothing. Callers comparing a quoted username byte for byte
 * must unescape it the same way.
 */
#include "sip/sip_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- scanning helpers ------------------------------------------------------------------------ */

static bool is_lws(char c)
{
	return sip_is(c, SIP_C_WS);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool all_hex(struct sip_pl pl)
{
	for (size_t i = 0; i < pl.l; i++)
		if (hex_value(pl.p[i]) < 0)
			return false;
	return true;
}

/* ---- credentials ----------------------------------------------------------------------------- */

/* A cursor over the header value: the parser below only ever moves it forward. */
struct cursor {
	const char *p, *end;
};

static void skip_lws(struct cursor *c)
{
	while (c->p < c->end && is_lws(*c->p))
		c->p++;
}

static struct sip_pl take_token(struct cursor *c)
{
	const char *start = c->p;
	while (c->p < c->end && sip_is(*c->p, SIP_C_TOKEN))
		c->p++;
	return (struct sip_pl){start, (size_t)(c->p - start)};
}

/* quoted-string (RFC 3261 §25.1) after the opening quote: returns the content between the
 * quotes, escapes as written. Control characters other than HTAB are refused, escaped or not:
 * the message parser has already undone folding, so a CR or LF here is an attack or garbage. */
static int take_quoted(struct cursor *c, struct sip_pl *out)
{
	const char *start = c->p;
	while (c->p < c->end) {
		/* One table test per byte for the usual run of plain characters. */
		while (c->p < c->end && !sip_is(*c->p, SIP_C_LIST | SIP_C_CTL))
			c->p++;
		if (c->p == c->end)
			break;
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"') {
			*out = (struct sip_pl){start, (size_t)(c->p - start)};
			c->p++;
			return 0;
		}
		if (ch == '\\') {
			c->p++;
			if (c->p == c->end)
				return -1;
			ch = (unsigned char)*c->p;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -1;
		c->p++;
	}
	return -1; /* no closing quote */
}

#define CREDS_FIELD(name)                                                                          \
	{                                                                                          \
#name, sizeof(#name) - 1, offsetof(struct sip_digest_creds, name)                  \
	}

static struct sip_pl *creds_field(struct sip_digest_creds *creds, struct sip_pl name)
{
	static const struct {
		const char *name;
		size_t len, offset;
	} fields[] = {CREDS_FIELD(username), CREDS_FIELD(realm),    CREDS_FIELD(nonce),
	              CREDS_FIELD(uri),      CREDS_FIELD(response), CREDS_FIELD(algorithm),
	              CREDS_FIELD(cnonce),   CREDS_FIELD(opaque),   CREDS_FIELD(qop),
	              CREDS_FIELD(nc)};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (name.l == fields[i].len && sip_mem_eq_nocase(name.p, fields[i].name, name.l))
			return (struct sip_pl *)((char *)creds + fields[i].offset);
	return NULL;
}

/*
 * `Digest` LWS param *(LWS? "," LWS? param), param = token LWS? "=" LWS? (token / quoted-string).
 * A parameter that is present has a non-NULL p even when its quoted value is empty, so
 * "absent" and `x=""` stay distinguishable. Known parameters may appear once; unknown ones
 * (auth-param extensions such as userhash) are checked for syntax and skipped.
 *
 * Beyond syntax this refuses credentials that cannot be verified at all, so the registrar
 * never has to: username, realm, nonce, uri and response are required, and with qop the
 * cnonce and an 8-hex-digit nc are required too (RFC 7616 §3.4).
 */
int sip_digest_creds_parse(struct sip_pl value, struct sip_digest_creds *creds)
{
	memset(creds, 0, sizeof(*creds));
	if (!value.p)
		return -1;
	struct cursor c = {value.p, value.p + value.l};
	skip_lws(&c);
	if (!sip_pl_eq_nocase(take_token(&c), "Digest"))
		return -1;
	if (c.p == c.end || !is_lws(*c.p))
		return -1;
	for (;;) {
		skip_lws(&c);
		struct sip_pl name = take_token(&c);
		if (name.l == 0)
			return -1;
		skip_lws(&c);
		if (c.p == c.end || *c.p != '=')
			return -1;
		c.p++;
		skip_lws(&c);
		struct sip_pl v;
		if (c.p < c.end && *c.p == '"') {
			c.p++;
			if (take_quoted(&c, &v) != 0)
				return -1;
		} else {
			v = take_token(&c);
			if (v.l == 0)
				return -1;
		}
		struct sip_pl *field = creds_field(creds, name);
		if (field) {
			if (field->p)
				return -1; /* duplicate: which one would the response cover? */
			*field = v;
		}
		skip_lws(&c);
		if (c.p == c.end)
			break;
		if (*c.p != ',')
			return -1;
		c.p++;
	}
	if (!creds->username.p || !creds->realm.p || !creds->nonce.p || !creds->uri.p ||
	    !creds->response.p)
		return -1;
	if (creds->qop.p) {
		if (!creds->cnonce.p || creds->cnonce.l == 0 || !creds->nc.p || creds->nc.l != 8 ||
		    !all_hex(creds->nc))
			return -1;
	}
	return 0;
}

int sip_digest_alg_parse(struct sip_pl algorithm, enum sip_digest_alg *alg)
{
	/* Absent means MD5 (RFC 3261 §22.4); present but empty is not an algorithm. The -sess
	 * variants need a per-session HA1 the registrar does not keep, so they are refused. */
	if (!algorithm.p || sip_pl_eq_nocase(algorithm, "MD5")) {
		*alg = SIP_DIGEST_MD5;
		return 0;
	}
	if (sip_pl_eq_nocase(algorithm, "SHA-256")) {
		*alg = SIP_DIGEST_SHA256;
		return 0;
	}
	return -1;
}

/* ---- the response ---------------------------------------------------------------------------- */

/* The input is gathered here and handed to OpenSSL in one update: a response is hashed
 * from a dozen pieces of a few bytes, and each EVP_DigestUpdate costs more than its bytes. */
struct hasher {
	EVP_MD_CTX *ctx;
	bool ok;
	size_t len;
	char buf[512];
};

static void h_flush(struct hasher *h)
{
	if (h->ok && h->len && EVP_DigestUpdate(h->ctx, h->buf, h->len) != 1)
		h->ok = false;
	h->len = 0;
}

static void h_add(struct hasher *h, const char *p, size_t l)
{
	if (h->len + l > sizeof(h->buf))
		h_flush(h);
	if (l > sizeof(h->buf)) {
		if (h->ok && EVP_DigestUpdate(h->ctx, p, l) != 1)
			h->ok = false;
		return;
	}
	if (l)
		memcpy(h->buf + h->len, p, l);
	h->len += l;
}

/* Hashes a credentials value as RFC 7616 wants it: unquoted, each quoted-pair replaced by the
 * character it escapes. Runs between backslashes go in as one update. */
static void h_add_unescaped(struct hasher *h, struct sip_pl pl)
{
	size_t start = 0;
	for (size_t i = 0; i < pl.l; i++) {
		if (pl.p[i] != '\\')
			continue;
		h_add(h, pl.p + start, i - start);
		start = i + 1; /* the escaped character starts the next run */
		i++;           /* and is never itself an escape */
	}
	h_add(h, pl.p + start, pl.l - start);
}

/* Finishes into lower-case hex. */
static int h_final(struct hasher *h, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	h_flush(h);
	if (!h->ok || EVP_DigestFinal_ex(h->ctx, md, &len) != 1)
		return -1;
	base_hex(md, len, out);
	return 0;
}

/* The digests, fetched from the provider once: with OpenSSL 3, initialising a context from
 * EVP_md5() looks the implementation up again every time (a locked table search), which cost
 * more than hashing a REGISTER's few dozen bytes. Kept for the life of the process. */
static EVP_MD *digest_md5, *digest_sha256;
static pthread_once_t digests_fetched = PTHREAD_ONCE_INIT;

/* Likewise each thread keeps one hashing context per digest: a fresh one cost two allocations
 * (the context and the provider's state) and their release on every check. */
struct hash_contexts {
	EVP_MD_CTX *md5, *sha256;
};
static pthread_key_t contexts_key;
static bool contexts_key_made;

static void contexts_free(void *p)
{
	struct hash_contexts *c = p;
	EVP_MD_CTX_free(c->md5);
	EVP_MD_CTX_free(c->sha256);
	free(c);
}

static void fetch_digests(void)
{
	digest_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	digest_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	contexts_key_made = pthread_key_create(&contexts_key, contexts_free) == 0;
}

/* This thread's context for alg, NULL without memory. */
static EVP_MD_CTX *hash_context(enum sip_digest_alg alg)
{
	if (!contexts_key_made)
		return NULL;
	struct hash_contexts *c = pthread_getspecific(contexts_key);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || pthread_setspecific(contexts_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	EVP_MD_CTX **ctx = alg == SIP_DIGEST_MD5 ? &c->md5 : &c->sha256;
	if (!*ctx)
		*ctx = EVP_MD_CTX_new();
	return *ctx;
}

int sip_digest_response(enum sip_digest_alg alg, const char *ha1_hex, struct sip_pl method,
                        const struct sip_digest_creds *creds, char *out)
{
	pthread_once(&digests_fetched, fetch_digests);
	const EVP_MD *md;
	size_t hex_len;
	switch (alg) {
	case SIP_DIGEST_MD5:
		md = digest_md5;
		hex_len = 32;
		break;
	case SIP_DIGEST_SHA256:
		md = digest_sha256;
		hex_len = 64;
		break;
	default:
		return -1;
	}
	if (!md)
		return -1;
	/* HA1 goes into the hash as text: normalise it to the lower case RFC 7616 mandates, so
	 * an upper-case hex in the store still matches what devices compute. */
	char ha1[65];
	if (!ha1_hex || strnlen(ha1_hex, sizeof(ha1)) != hex_len)
		return -1;
	for (size_t i = 0; i < hex_len; i++) {
		int v = hex_value(ha1_hex[i]);
		if (v < 0)
			return -1;
		ha1[i] = "0123456789abcdef"[v];
	}
	if (method.l == 0 || !method.p || !creds->nonce.p || creds->nonce.l == 0 || !creds->uri.p)
		return -1;
	for (size_t i = 0; i < method.l; i++)
		if (!sip_is(method.p[i], SIP_C_TOKEN))
			return -1;
	bool with_qop = creds->qop.p != NULL;
	if (with_qop) {
		/* auth-int hashes the body, which this API does not see; anything else is not
		 * a qop RFC 7616 defines. */
		if (!sip_pl_eq_nocase(creds->qop, "auth"))
			return -1;
		if (!creds->nc.p || creds->nc.l == 0 || !creds->cnonce.p || creds->cnonce.l == 0)
			return -1;
	}

	struct hasher h = {.ctx = hash_context(alg), .ok = true};
	if (!h.ctx)
		return -1;
	char ha2[65];
	/* HA2 = H(method ":" digest-uri) */
	if (EVP_DigestInit_ex(h.ctx, md, NULL) != 1)
		return -1;
	h_add(&h, method.p, method.l);
	h_add(&h, ":", 1);
	h_add_unescaped(&h, creds->uri);
	if (h_final(&h, ha2) != 0)
		return -1;
	/* response = H(HA1 ":" nonce [":" nc ":" cnonce ":" qop] ":" HA2) */
	if (EVP_DigestInit_ex(h.ctx, md, NULL) != 1)
		return -1;
	h_add(&h, ha1, hex_len);
	h_add(&h, ":", 1);
	h_add_unescaped(&h, creds->nonce);
	h_add(&h, ":", 1);
	if (with_qop) {
		h_add_unescaped(&h, creds->nc);
		h_add(&h, ":", 1);
		h_add_unescaped(&h, creds->cnonce);
		h_add(&h, ":", 1);
		h_add_unescaped(&h, creds->qop);
		h_add(&h, ":", 1);
	}
	h_add(&h, ha2, hex_len);
	return h_final(&h, out);
}

/* ---- nonces ---------------------------------------------------------------------------------- */

/*
 * A nonce is base64url (RFC 4648 §5, no padding) of 32 bytes:
 *
 *	time (8, big-endian seconds) || serial (8, big-endian) || MAC (16)
 *	MAC = SipHash-2-4-128(secret, label || time || serial)
 *
 * 43 characters, all of them token characters, so the nonce needs no escaping in a quoted
 * string. The MAC makes it self-verifying: no table of issued nonces is needed, and a forged
 * or altered nonce fails the MAC. The secret is new at every start, so nonces of an earlier
 * run fail it too. The label keeps these MACs from ever colliding with some other use of the
 * same secret.
 *
 * SipHash is a keyed function made for authenticating short server-issued tokens (Linux
 * signs its TCP SYN cookies with it). Its designers claim 64-bit forgery resistance, ample
 * for a token that lives for minutes and whose every failed guess is a throttled digest
 * failure. HMAC-SHA256 did the same job at several times the CPU: two per registration.
 *
 * Replay protection is left to the caller, and the serial is what makes it cheap: the
 * caller numbers the nonces it issues, so the highest nc seen for a nonce (RFC 7616 §3.3,
 * §5.3) can sit in an array indexed by the serial, rather than in a table keyed by nonce
 * strings that grows with every challenge. The decoding below is strict (exact length, no
 * padding, unused bits zero), so each nonce has exactly one spelling.
 */
#define NONCE_TIME_LEN   8
#define NONCE_SERIAL_LEN 8
#define NONCE_MAC_LEN    16
#define NONCE_RAW_LEN    (NONCE_TIME_LEN + NONCE_SERIAL_LEN + NONCE_MAC_LEN)
#define NONCE_TEXT_LEN   ((NONCE_RAW_LEN * 8 + 5) / 6)
/* How far in the future an issue time may be: clocks stepped back a little, or servers of a
 * cluster sharing the secret with slightly different clocks. */
#define NONCE_MAX_SKEW 5

static const char nonce_label[] = "openucm sip digest nonce v3";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

_Static_assert(NONCE_TEXT_LEN <= 64, "a nonce must fit sip_nonce_make's buffer");

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static void b64url_encode(const unsigned char *in, size_t len, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

/* Decodes exactly len bytes from exactly the canonical number of characters; the bits left
 * over in the last character must be zero. */
static int b64url_decode(struct sip_pl text, unsigned char *out, size_t len)
{
	if (text.l != (len * 8 + 5) / 6)
		return -1;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < text.l; i++) {
		int v = b64url_value(text.p[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	return o == len && acc == 0 ? 0 : -1;
}

static void nonce_mac(const struct sip_nonce_key *key, const unsigned char *time_serial,
                      unsigned char mac[NONCE_MAC_LEN])
{
	unsigned char msg[sizeof(nonce_label) - 1 + NONCE_TIME_LEN + NONCE_SERIAL_LEN];
	memcpy(msg, nonce_label, sizeof(nonce_label) - 1);
	memcpy(msg + sizeof(nonce_label) - 1, time_serial, NONCE_TIME_LEN + NONCE_SERIAL_LEN);
	base_siphash24_128(key->secret, msg, sizeof(msg), mac);
}

void sip_nonce_key_init(struct sip_nonce_key *key)
{
	/* The function is void, and a predictable secret would let anyone mint nonces: better
	 * to stop than to run on. */
	if (RAND_bytes(key->secret, sizeof(key->secret)) != 1) {
		base_log(BASE_LOG_ERROR, "sip", "no randomness for the digest nonce secret");
		abort();
	}
}

void sip_nonce_key_clear(struct sip_nonce_key *key)
{
	OPENSSL_cleanse(key->secret, sizeof(key->secret));
}

static void put_u64(unsigned char *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (8 * (7 - i)));
}

static uint64_t get_u64(const unsigned char *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

void sip_nonce_make(const struct sip_nonce_key *key, int64_t now, uint64_t serial, char out[65])
{
	unsigned char raw[NONCE_RAW_LEN];
	put_u64(raw, (uint64_t)now);
	put_u64(raw + NONCE_TIME_LEN, serial);
	nonce_mac(key, raw, raw + NONCE_TIME_LEN + NONCE_SERIAL_LEN);
	b64url_encode(raw, sizeof(raw), out);
}

enum sip_nonce_state sip_nonce_check(const struct sip_nonce_key *key, struct sip_pl nonce,
                                     int64_t now, int64_t validity, uint64_t *serial)
{
	unsigned char raw[NONCE_RAW_LEN];
	if (!nonce.p || b64url_decode(nonce, raw, sizeof(raw)) != 0)
		return SIP_NONCE_INVALID;
	unsigned char mac[NONCE_MAC_LEN];
	nonce_mac(key, raw, mac);
	/* Constant time, so the MAC cannot be found byte by byte from response timing. */
	if (CRYPTO_memcmp(mac, raw + NONCE_TIME_LEN + NONCE_SERIAL_LEN, NONCE_MAC_LEN) != 0)
		return SIP_NONCE_INVALID;
	/* From here on the time and serial are ones this server wrote. */
	int64_t issued = (int64_t)get_u64(raw);
	*serial = get_u64(raw + NONCE_TIME_LEN);
	int64_t age;
	if (__builtin_sub_overflow(now, issued, &age))
		return issued > now ? SIP_NONCE_INVALID : SIP_NONCE_STALE;
	if (age < -NONCE_MAX_SKEW)
		return SIP_NONCE_INVALID;
	if (validity < 0 || age > validity)
		return SIP_NONCE_STALE;
	return SIP_NONCE_VALID;
}
