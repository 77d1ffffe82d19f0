/*
 * ITLFile.tlv and CTLFile.tlv (trust-lists.md): building them from the role certificates,
 * with the SAST hand-over that lets phones follow a renewal of the signing certificate, and
 * loading them the way a phone does (strict parse, signature by a SAST the installed list
 * already trusts).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"
#include "store/store.h"

#define WHAT "trust list"

/* Record tags (a separate numbering from the header's). */
enum {
	REC_RECORD_LENGTH = 1,
	REC_DNS_NAME = 2,
	REC_SUBJECT_NAME = 3,
	REC_ROLE = 4,
	REC_ISSUER_NAME = 5,
	REC_SERIAL_NUMBER = 6,
	REC_PUBLIC_KEY = 7,
	REC_SIGNATURE = 8,
	REC_CERTIFICATE = 9,
	REC_IP_ADDRESS = 10,
	REC_CERTIFICATE_HASH = 11,
	REC_HASH_ALGORITHM = 12,
};

/* The certificate that signed the last list: kept so that a renewed tftp-signer does not
 * sign the next list with a key the phones do not know yet. */
#define LAST_SAST_CERT "trust-list-sast.crt"
#define LAST_SAST_KEY  "trust-list-sast.key"

static pthread_mutex_t sast_lock = PTHREAD_MUTEX_INITIALIZER;

struct pki_trust_entry {
	enum pki_tl_role role;
	X509 *cert;
};

struct pki_trust_list {
	char file_name[64];
	struct pki_trust_entry *entries;
	size_t count;
};

/* Which role certificate goes into which list, with which role. */
struct list_item {
	enum pki_role role;
	enum pki_tl_role tl_role;
};

static const struct list_item itl_items[] = {
    {PKI_ROLE_TFTP_SIGNER, PKI_TL_TFTP}, {PKI_ROLE_SIP_TLS, PKI_TL_CCM},
    {PKI_ROLE_CAPF, PKI_TL_CAPF},        {PKI_ROLE_TVS, PKI_TL_TVS},
    {PKI_ROLE_HTTPS, PKI_TL_APP_SERVER},
};

/* CUCM's CTL: the tokens, the call agent, the file signer and CAPF. */
static const struct list_item ctl_items[] = {
    {PKI_ROLE_TFTP_SIGNER, PKI_TL_TFTP},
    {PKI_ROLE_SIP_TLS, PKI_TL_CCM},
    {PKI_ROLE_CAPF, PKI_TL_CAPF},
};

int pki_cluster_mixed_mode(struct store *store, bool *mixed, struct base_err *err)
{
	const struct store_kind *kind = store_kind_find("enterprise-parameters");
	json_t *param = NULL;

	*mixed = false;
	if (!kind || store_get(store, kind, "cluster_security_mode", &param, err) < 0) {
		return kind ? -1
		            : base_err_set(err, BASE_E_INTERNAL, NULL, "no enterprise parameters");
	}
	const char *value = json_string_value(json_object_get(param, "value"));

	*mixed = value && strcmp(value, "mixed") == 0;
	json_decref(param);
	return 0;
}

/* ---- building ---------------------------------------------------------------------------- */

static void record_put(struct pki_buf *b, X509 *cert, enum pki_tl_role role)
{
	unsigned char serial[64];
	int serial_len = pki_tlv_serial(cert, serial);
	char *subject = pki_tlv_name(X509_get_subject_name(cert));
	char *issuer = pki_tlv_name(X509_get_issuer_name(cert));
	unsigned char *pub = NULL;
	unsigned char *der = NULL;
	int pub_len = i2d_PublicKey(X509_get0_pubkey(cert), &pub);
	int der_len = i2d_X509(cert, &der);
	const ASN1_BIT_STRING *sig = NULL;

	X509_get0_signature(&sig, NULL, cert);
	if (serial_len < 0 || !subject || !issuer || pub_len <= 0 || der_len <= 0 || !sig) {
		b->failed = true;
	} else {
		/* RECORD_LENGTH counts the whole record, itself included. */
		size_t start = b->len;

		pki_tlv_u16(b, REC_RECORD_LENGTH, 0);
		pki_tlv_str(b, REC_SUBJECT_NAME, subject);
		pki_tlv_str(b, REC_ISSUER_NAME, issuer);
		pki_tlv_put(b, REC_SERIAL_NUMBER, serial, (size_t)serial_len);
		pki_tlv_u16(b, REC_ROLE, (uint16_t)role);
		pki_tlv_put(b, REC_PUBLIC_KEY, pub, (size_t)pub_len);
		pki_tlv_put(b, REC_SIGNATURE, ASN1_STRING_get0_data(sig),
		            (size_t)ASN1_STRING_length(sig));
		pki_tlv_put(b, REC_CERTIFICATE, der, (size_t)der_len);
		if (!b->failed && b->len - start > PKI_TLV_MAX) {
			b->failed = true;
		} else if (!b->failed) {
			b->data[start + 3] = (unsigned char)((b->len - start) >> 8);
			b->data[start + 4] = (unsigned char)(b->len - start);
		}
	}
	OPENSSL_free(pub);
	OPENSSL_free(der);
	free(subject);
	free(issuer);
	ERR_clear_error();
}

static int last_sast_paths(const struct pki *pki, char cert[PATH_MAX], char key[PATH_MAX],
                           struct base_err *err)
{
	int a = snprintf(cert, PATH_MAX, "%s/%s", pki->dir, LAST_SAST_CERT);
	int b = snprintf(key, PATH_MAX, "%s/%s", pki->dir, LAST_SAST_KEY);

	if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: path too long under %s",
		                    pki->dir);
	}
	return 0;
}

/* How long phones get to fetch a list naming a renewed signer before it signs alone. */
#define HANDOVER_DAYS 30

static time_t handover_end(const ASN1_TIME *issued)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(issued, &tm) != 1) {
		return 0;
	}
	return timegm(&tm) + (time_t)HANDOVER_DAYS * 86400;
}

/*
 * Picks the SAST that signs this list (under sast_lock). Normally the current tftp-signer.
 * After a renewal, the one that signed the last list keeps signing, and is listed as a
 * second SAST next to the new certificate, for HANDOVER_DAYS (or until it expires): phones
 * that hold a list from before the renewal accept the update and learn the new certificate
 * from it.
 */
static int sast_choose(const struct pki *pki, struct pki_signer *current,
                       struct pki_signer *previous, struct base_err *err)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	int have;

	memset(previous, 0, sizeof(*previous));
	if (last_sast_paths(pki, cert_path, key_path, err) < 0 ||
	    (have = pki_file_exists(cert_path, err)) < 0) {
		return -1;
	}
	if (have && pki_cert_load(cert_path, &previous->cert, err) == 0 &&
	    pki_key_load(key_path, &previous->key, err) == 0) {
		previous->hash = current->hash;
		if (X509_cmp(previous->cert, current->cert) == 0) {
			pki_signer_free(previous);
			return 0;
		}
		/* The hand-over ends when the old certificate expires, and at the latest
		 * HANDOVER_DAYS after the new one was issued (a renewal after a key compromise
		 * must not leave the old key signing for years). */
		time_t end = handover_end(X509_get0_notBefore(current->cert));
		if (X509_cmp_time(X509_get0_notAfter(previous->cert), NULL) > 0 &&
		    time(NULL) < end && EVP_PKEY_get_base_id(previous->key) == EVP_PKEY_RSA) {
			return 0;
		}
		base_log(BASE_LOG_INFO, "pki",
		         "trust lists are now signed by the renewed tftp-signer certificate");
	} else if (have) {
		/* Unreadable: fall back to the current signer rather than serve nothing. */
		base_log(BASE_LOG_WARN, "pki", "%s: %s; trust lists signed by tftp-signer",
		         cert_path, err ? err->message : "cannot load");
	}
	pki_signer_free(previous);
	ERR_clear_error();
	if (pki_key_save(key_path, current->key, err) < 0 ||
	    pki_cert_save(cert_path, current->cert, err) < 0) {
		return -1;
	}
	return 0;
}

static int role_cert(const struct pki *pki, enum pki_role role, X509 **out, struct base_err *err)
{
	int have = pki_file_exists(pki->role_cert_path[role], err);

	*out = NULL;
	if (have <= 0) {
		return have;
	}
	return pki_cert_load(pki->role_cert_path[role], out, err) < 0 ? -1 : 1;
}

static int records_put(const struct pki *pki, struct pki_buf *b, const struct list_item *items,
                       size_t n, const struct pki_signer *current,
                       const struct pki_signer *previous, struct base_err *err)
{
	if (previous->cert) {
		record_put(b, previous->cert, PKI_TL_SAST);
	}
	record_put(b, current->cert, PKI_TL_SAST);
	for (size_t i = 0; i < n; i++) {
		X509 *cert;
		int rc = role_cert(pki, items[i].role, &cert, err);

		if (rc < 0) {
			return -1;
		}
		if (rc > 0) {
			record_put(b, cert, items[i].tl_role);
			X509_free(cert);
		}
	}
	return 0;
}

int pki_trust_list_build(struct pki *pki, struct store *store, enum pki_trust_list_kind kind,
                         unsigned char **out, size_t *out_len, struct base_err *err)
{
	static const uint8_t signer_version[2] = {1, 0};
	const bool ctl = kind == PKI_CTL;
	struct pki_signer current, previous = {0};
	struct pki_buf records = {0};
	bool mixed = false;
	int rc = -1;

	*out = NULL;
	*out_len = 0;
	/* Without a store the caller has checked the mode: a worker thread must not read it. */
	if (ctl && !store) {
		mixed = true;
	} else if (ctl && pki_cluster_mixed_mode(store, &mixed, err) < 0) {
		return -1;
	}
	if (ctl && !mixed) {
		return base_err_set(err, BASE_E_NOT_FOUND, NULL,
		                    "CTLFile.tlv exists only in mixed mode");
	}
	if (pki_signer_load(pki, &current, err) < 0) {
		return -1;
	}
	pthread_mutex_lock(&sast_lock);
	if (sast_choose(pki, &current, &previous, err) == 0 &&
	    records_put(pki, &records, ctl ? ctl_items : itl_items,
	                ctl ? sizeof(ctl_items) / sizeof(ctl_items[0])
	                    : sizeof(itl_items) / sizeof(itl_items[0]),
	                &current, &previous, err) == 0) {
		const struct pki_header_spec spec = {
		    .version = {1, 2},
		    .signer_version = signer_version,
		    .file_name = ctl ? "CTLFile.tlv" : "ITLFile.tlv",
		    .timestamp = (uint32_t)time(NULL),
		};

		if (records.failed) {
			base_err_set(err, BASE_E_INTERNAL, NULL,
			             "pki: cannot encode the certificates of the trust list");
		} else {
			rc = pki_signed_file_build(previous.cert ? &previous : &current, &spec,
			                           records.data, records.len, out, out_len, err);
		}
	}
	pthread_mutex_unlock(&sast_lock);
	pki_buf_free(&records);
	pki_signer_free(&previous);
	pki_signer_free(&current);
	return rc;
}

/* ---- loading ----------------------------------------------------------------------------- */

void pki_trust_list_free(struct pki_trust_list *list)
{
	if (!list) {
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		X509_free(list->entries[i].cert);
	}
	free(list->entries);
	free(list);
}

size_t pki_trust_list_count(const struct pki_trust_list *list)
{
	return list ? list->count : 0;
}

void pki_trust_list_entry(const struct pki_trust_list *list, size_t i, enum pki_tl_role *role,
                          const X509 **cert)
{
	*role = list->entries[i].role;
	*cert = list->entries[i].cert;
}

const char *pki_trust_list_file_name(const struct pki_trust_list *list)
{
	return list->file_name;
}

static bool role_covers(enum pki_tl_role have, enum pki_tl_role want)
{
	return have == want ||
	       (have == PKI_TL_CCM_TFTP && (want == PKI_TL_CCM || want == PKI_TL_TFTP));
}

bool pki_trust_list_has(const struct pki_trust_list *list, enum pki_tl_role role, const X509 *cert)
{
	for (size_t i = 0; list && i < list->count; i++) {
		if (role_covers(list->entries[i].role, role) &&
		    X509_cmp(list->entries[i].cert, cert) == 0) {
			return true;
		}
	}
	return false;
}

const X509 *pki_trust_list_find_signer(const struct pki_trust_list *list, enum pki_tl_role role,
                                       const char *issuer, const unsigned char *serial,
                                       size_t serial_len)
{
	for (size_t i = 0; list && i < list->count; i++) {
		const struct pki_trust_entry *e = &list->entries[i];

		if (role_covers(e->role, role) &&
		    pki_tlv_names_cert(e->cert, issuer, serial, serial_len)) {
			return e->cert;
		}
	}
	return NULL;
}

/* The PUBLIC_KEY record must be the certificate's own key, so nothing can claim one key in
 * the record and carry another certificate. */
static int check_public_key(const struct pki_tlv *t, X509 *cert, struct base_err *err)
{
	unsigned char *pub = NULL;
	int n = i2d_PublicKey(X509_get0_pubkey(cert), &pub);
	bool same = n > 0 && (size_t)n == t->len && memcmp(pub, t->value, t->len) == 0;

	OPENSSL_free(pub);
	ERR_clear_error();
	if (!same) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": public key at offset %zu is not the certificate's",
		                    t->offset);
	}
	return 0;
}

static int record_value(const struct pki_tlv *t, struct pki_trust_entry *e, int *role,
                        struct pki_tlv *pub, struct base_err *err)
{
	switch (t->tag) {
	case REC_DNS_NAME:
	case REC_SUBJECT_NAME:
	case REC_ISSUER_NAME:
		return pki_tlv_want_str(t, WHAT, err);
	case REC_ROLE:
		if (pki_tlv_want_len(t, 2, WHAT, err) < 0) {
			return -1;
		}
		*role = (int)pki_tlv_get_u16(t->value);
		return 0;
	case REC_CERTIFICATE: {
		const unsigned char *p = t->value;

		e->cert = d2i_X509(NULL, &p, (long)t->len);
		if (!e->cert || p != t->value + t->len || !X509_get0_pubkey(e->cert)) {
			ERR_clear_error();
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    WHAT ": certificate at offset %zu is not DER X.509",
			                    t->offset);
		}
		return 0;
	}
	case REC_PUBLIC_KEY:
		*pub = *t;
		return 0;
	case REC_SERIAL_NUMBER:
	case REC_SIGNATURE:
	case REC_IP_ADDRESS:
	case REC_CERTIFICATE_HASH:
	case REC_HASH_ALGORITHM:
		return 0;
	default:
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": unknown record tag %u at offset %zu", t->tag,
		                    t->offset);
	}
}

/* One record at r->pos; advances past it. */
static int record_parse(struct pki_tlv_reader *r, struct pki_trust_entry *e, struct base_err *err)
{
	struct pki_tlv t, pub = {0};
	uint32_t seen = 0;
	int role = -1;

	if (pki_tlv_next(r, &t, WHAT, err) != 1) {
		return -1;
	}
	if (t.tag != REC_RECORD_LENGTH || pki_tlv_want_len(&t, 2, WHAT, err) < 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": record at offset %zu does not start with its length",
		                    t.offset);
	}
	size_t rec_len = pki_tlv_get_u16(t.value);

	if (rec_len < 5 || rec_len > r->end - t.offset) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": record at offset %zu claims %zu bytes", t.offset,
		                    rec_len);
	}
	struct pki_tlv_reader in = {r->data, r->pos, t.offset + rec_len};
	int rc;

	r->pos = in.end;
	while ((rc = pki_tlv_next(&in, &t, WHAT, err)) == 1) {
		if (t.tag < 32 && (seen & (1u << t.tag))) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    WHAT ": tag %u repeated in the record at offset %zu",
			                    t.tag, t.offset);
		}
		seen |= t.tag < 32 ? 1u << t.tag : 0;
		if (t.tag == REC_RECORD_LENGTH || record_value(&t, e, &role, &pub, err) < 0) {
			return t.tag == REC_RECORD_LENGTH
			           ? base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                          WHAT ": record length repeated")
			           : -1;
		}
	}
	if (rc < 0) {
		return -1;
	}
	if (!e->cert || role < 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": a record without certificate or role");
	}
	e->role = (enum pki_tl_role)role;
	return pub.value ? check_public_key(&pub, e->cert, err) : 0;
}

static int records_parse(const unsigned char *data, size_t len, size_t start,
                         struct pki_trust_list *list, struct base_err *err)
{
	struct pki_tlv_reader r = {data, start, len};
	size_t cap = 0;

	while (r.pos < r.end) {
		if (list->count == cap) {
			size_t n = cap ? cap * 2 : 8;
			struct pki_trust_entry *e = realloc(list->entries, n * sizeof(*e));

			if (!e) {
				return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
			}
			list->entries = e;
			cap = n;
		}
		struct pki_trust_entry *e = &list->entries[list->count];

		memset(e, 0, sizeof(*e));
		if (record_parse(&r, e, err) < 0) {
			X509_free(e->cert);
			return -1;
		}
		list->count++;
	}
	if (list->count == 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, WHAT ": no certificates");
	}
	return 0;
}

int pki_trust_list_load(const unsigned char *data, size_t len,
                        const struct pki_trust_list *previous, struct pki_trust_list **out,
                        struct base_err *err)
{
	struct pki_header h;
	struct pki_trust_list *list;

	*out = NULL;
	if (pki_header_parse(data, len, &h, err) < 0) {
		return -1;
	}
	if (h.version[0] != 1 || h.encrypted) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": version %u.%u is not a trust list", h.version[0],
		                    h.version[1]);
	}
	if (!(list = calloc(1, sizeof(*list)))) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	snprintf(list->file_name, sizeof(list->file_name), "%s", h.file_name);
	if (records_parse(data, len, h.length, list, err) < 0) {
		goto fail;
	}
	/* First list: its own SAST vouches for it. Later: only a SAST we already trust. */
	const X509 *signer = pki_trust_list_find_signer(previous ? previous : list, PKI_TL_SAST,
	                                                h.issuer_name, h.serial, h.serial_len);

	if (!signer) {
		base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		             previous
		                 ? "%s is signed by %s, which the installed trust list does not "
		                   "name as SAST: update refused"
		                 : "%s is signed by %s, which is not a SAST in the list",
		             h.file_name, h.signer_name);
		goto fail;
	}
	if (pki_header_verify(data, len, &h, X509_get0_pubkey(signer), err) < 0) {
		goto fail;
	}
	*out = list;
	return 0;
fail:
	pki_trust_list_free(list);
	return -1;
}
