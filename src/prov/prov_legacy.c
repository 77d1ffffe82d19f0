/*
 * Configuration files of the legacy manual-key phones (requirements security-2 §2.7, §3.13,
 * E27, AC-E06..E10): a 7940G/7960G or 7905G/7912G SIP phone holds a symmetric key typed in
 * by hand and, once it has one, asks only for its encrypted file:
 *
 *   SIP<MAC>.cnf.enc.sgn   7940G, 7960G: AES-128 under the 128-bit key
 *   LD<MAC>.x              7905G, 7912G: RC4 under the 256-bit key, only when the service
 *                          parameter legacy_rc4_config_encryption allows it (RC4 is broken)
 *
 * Both carry the full SEP<MAC>.cnf.xml in OpenUCM's manual-key envelope
 * (docs/legacy-config-encryption.md). They exist only while the device's profile sets TFTP
 * encrypted config and the device has a key; otherwise "not found", and the plain name
 * gets the minimal stub without secrets (prov_files.c), so a phone without the right key
 * never sees its secrets (E27: it cannot register).
 */
#include "pki/pki.h"
#include "prov/prov_int.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define MAC_DIGITS 12

static bool upper_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789ABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

/* "<prefix><MAC><suffix>" → device SEP<MAC>. */
static bool match(const char *name, const char *prefix, const char *suffix, char device[16])
{
	size_t p = strlen(prefix), s = strlen(suffix);
	if (strlen(name) != p + MAC_DIGITS + s || strncmp(name, prefix, p) != 0 ||
	    strcmp(name + p + MAC_DIGITS, suffix) != 0 || !upper_hex(name + p, MAC_DIGITS))
		return false;
	snprintf(device, 16, "SEP%.12s", name + p);
	return true;
}

int prov_legacy_name(const char *name, char device[16])
{
	if (match(name, "SIP", ".cnf.enc.sgn", device))
		return 128;
	if (match(name, "LD", ".x", device))
		return 256;
	return 0;
}

int prov_legacy_device_bits(struct store *store, const char *device)
{
	json_t *rec = NULL;
	int bits = 0;
	if (store_get(store, store_kind_find("devices"), device, &rec, NULL) == 0 &&
	    strcmp(json_string_value(json_object_get(rec, "type")), "cisco_sip_phone") == 0)
		bits =
		    store_device_manual_key_bits(json_string_value(json_object_get(rec, "model")));
	json_decref(rec);
	return bits;
}

static int refuse(struct base_err *err, const char *name)
{
	return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no file %s", name);
}

int prov_legacy_plan(struct store *store, const struct prov_servers *srv, const char *name,
                     struct prov_legacy_job *job, struct base_err *err)
{
	char device[16], hex[65];
	int bits = prov_legacy_name(name, device);
	if (!bits)
		return 1;
	/* The name must be the one of the device's model, and its profile must encrypt. */
	if (prov_legacy_device_bits(store, device) != bits || !prov_cnf_encrypted(store, device))
		return refuse(err, name);
	if (store_device_symmetric_key(store, device, hex, err) != 0) {
		if (err->code == BASE_E_NOT_FOUND)
			base_log(BASE_LOG_WARN, "prov",
			         "%s: not served: device %s has TFTP encrypted config but no "
			         "symmetric key; it cannot get its configuration (set or generate "
			         "one)",
			         name, device);
		return refuse(err, name);
	}
	if (bits == 256 && !store_param_bool(store, "legacy_rc4_config_encryption", false)) {
		base_log(
		    BASE_LOG_WARN, "prov",
		    "%s: not served: 7905G/7912G configuration encryption is RC4, which is "
		    "broken (RFC 7465); set the service parameter legacy_rc4_config_encryption "
		    "to true to serve it anyway",
		    name);
		OPENSSL_cleanse(hex, sizeof(hex));
		return refuse(err, name);
	}
	size_t n = 0;
	int ok = OPENSSL_hexstr2buf_ex(job->key, sizeof(job->key), &n, hex, '\0');
	OPENSSL_cleanse(hex, sizeof(hex));
	if (ok != 1 || n != (size_t)bits / 8)
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "the symmetric key of %s is damaged", device);
	job->key_len = n;
	return prov_cnf_device(store, srv, device, true, &job->data, &job->len, err);
}
