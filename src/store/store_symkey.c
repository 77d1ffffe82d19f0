/*
 * The manual symmetric key of legacy phones (requirements security-2 §2.3, §3.13, E25-E27):
 * the models that cannot take a key wrapped to their certificate have one typed into them
 * by hand, and the same key stored here encrypts their configuration file.
 *
 *   7940G, 7960G (SIP)  128 bits = 32 hex digits, AES-128
 *   7905G, 7912G (SIP)  256 bits = 64 hex digits, RC4 (legacy, see prov)
 *
 * The key is a secret the server must use, so it is sealed with the store key (as digest
 * credentials are), never shown by the API (has_symmetric_key) and "***" in the audit log.
 * Once set it cannot change: the phone holds it in flash and would no longer decrypt its
 * configuration. Only the "generate-symmetric-key" action shows a key, once, since the
 * administrator must type it into the phone.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SEALED_MAX 400

int store_device_manual_key_bits(const char *model)
{
	/* The model number is the last word: "7940G", "Cisco 7940G", "CP-7940G", "7940". */
	const char *word = model ? model : "";
	for (const char *p = word; *p; p++)
		if (*p == ' ' || *p == '-')
			word = p + 1;
	size_t n = strlen(word);
	if (n == 5 && (word[4] == 'G' || word[4] == 'g'))
		n = 4;
	if (n != 4)
		return 0;
	if (strncmp(word, "7940", 4) == 0 || strncmp(word, "7960", 4) == 0)
		return 128;
	if (strncmp(word, "7905", 4) == 0 || strncmp(word, "7912", 4) == 0)
		return 256;
	return 0;
}

/* The key bits of the device record: its model's, and only for Cisco SIP phones. */
static int record_key_bits(const json_t *rec)
{
	if (strcmp(store_json_str(rec, "type"), "cisco_sip_phone") != 0)
		return 0;
	return store_device_manual_key_bits(store_json_str(rec, "model"));
}

static int stored_key(struct store *s, const char *device, char out[65], struct base_err *err)
{
	char sealed[SEALED_MAX];
	int found = store_db_lookup(s,
	                            "SELECT symmetric_key_secret FROM device WHERE name = ?1 AND "
	                            "symmetric_key_secret IS NOT NULL",
	                            device, sealed, sizeof(sealed), err);
	if (found <= 0)
		return found < 0 ? -1
		                 : base_err_set(err, BASE_E_NOT_FOUND, "symmetric_key",
		                                "device %s has no symmetric key", device);
	return store_secret_open(s, sealed, out, 65, err);
}

int store_device_symmetric_key(struct store *s, const char *device, char out[65],
                               struct base_err *err)
{
	out[0] = '\0';
	return stored_key(s, device, out, err);
}

static int check_model(const json_t *rec, const json_t *before, struct base_err *err)
{
	int bits = record_key_bits(rec);
	if (!before || !store_json_bool(before, "has_symmetric_key") ||
	    bits == record_key_bits(before))
		return 0;
	return base_err_set(err, BASE_E_INVALID, "model",
	                    "model cannot change to \"%s\" while the device holds a %d-bit "
	                    "symmetric key, which cannot change",
	                    store_json_str(rec, "model"), record_key_bits(before));
}

int store_symkey_validate(struct store *s, const json_t *rec, const json_t *before,
                          const json_t *input, struct base_err *err)
{
	const json_t *v = json_object_get(input, "symmetric_key");
	if (!v)
		return check_model(rec, before, err);
	if (!json_is_string(v))
		return base_err_set(err, BASE_E_INVALID, "symmetric_key",
		                    "symmetric_key cannot be cleared: once set it stays (clear it "
		                    "on the phone to stop encryption)");
	const char *key = json_string_value(v);
	int bits = record_key_bits(rec);
	if (!bits)
		return base_err_set(err, BASE_E_INVALID, "symmetric_key",
		                    "symmetric_key applies only to cisco_sip_phone devices of the "
		                    "manual-key models 7940G, 7960G (128-bit) and 7905G, 7912G "
		                    "(256-bit); model \"%s\" takes none",
		                    store_json_str(rec, "model"));
	if (strlen(key) != (size_t)bits / 4)
		return base_err_set(err, BASE_E_INVALID, "symmetric_key",
		                    "symmetric_key of a %s must be exactly %d hex digits (%d bits)",
		                    store_json_str(rec, "model"), bits / 4, bits);
	if (!before || !store_json_bool(before, "has_symmetric_key"))
		return check_model(rec, before, err);
	char old[65];
	int rc = stored_key(s, store_json_str(before, "name"), old, err);
	bool same = rc == 0 && strcasecmp(old, key) == 0;
	OPENSSL_cleanse(old, sizeof(old));
	if (rc != 0)
		return -1;
	if (!same)
		return base_err_set(err, BASE_E_INVALID, "symmetric_key",
		                    "symmetric_key cannot be changed once set; the stored key "
		                    "stays");
	return check_model(rec, before, err);
}

int store_symkey_seal(struct store *s, const char *key, char *out, size_t size,
                      struct base_err *err)
{
	char upper[65];
	size_t n = strlen(key);
	if (n >= sizeof(upper))
		return base_err_set(err, BASE_E_INVALID, "symmetric_key", "symmetric_key too long");
	for (size_t i = 0; i <= n; i++)
		upper[i] = (char)toupper((unsigned char)key[i]);
	int rc = store_secret_seal(s, upper, out, size, err);
	OPENSSL_cleanse(upper, sizeof(upper));
	return rc;
}

static int generate(struct store *s, const char *device, const struct store_actor *actor,
                    json_t **out, struct base_err *err)
{
	json_t *before = NULL, *after = NULL;
	if (store_record_load(s, &store_kind_devices, device, &before, err) != 0)
		return -1;
	const char *name = store_json_str(before, "name");
	int bits = record_key_bits(before), rc = -1;
	unsigned char raw[32];
	char hex[65], sealed[SEALED_MAX];
	if (!bits) {
		base_err_set(err, BASE_E_INVALID, "symmetric_key",
		             "device %s (model \"%s\") takes no symmetric key: only the manual-key "
		             "models 7940G, 7960G, 7905G and 7912G (SIP) do",
		             name, store_json_str(before, "model"));
		goto out;
	}
	if (store_json_bool(before, "has_symmetric_key")) {
		base_err_set(err, BASE_E_CONFLICT, "symmetric_key",
		             "device %s already has a symmetric key, and it cannot be changed",
		             name);
		goto out;
	}
	if (RAND_bytes(raw, bits / 8) != 1) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "no randomness for a symmetric key");
		goto out;
	}
	base_hex(raw, (size_t)bits / 8, hex);
	for (char *p = hex; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (store_secret_seal(s, hex, sealed, sizeof(sealed), err) != 0)
		goto out;
	const char *params[] = {sealed, name};
	if (store_db_lookup_params(s,
	                           "UPDATE device SET symmetric_key_secret = ?1 WHERE name = ?2 "
	                           "RETURNING name",
	                           params, 2, NULL, 0, err) != 1) {
		store_db_fail(s, err, "storing the symmetric key");
		goto out;
	}
	json_t *masked = json_pack("{s:s}", "symmetric_key", "***");
	if (store_record_load(s, &store_kind_devices, name, &after, err) == 0)
		rc = store_audit_append(s, actor, "generate-symmetric-key", &store_kind_devices,
		                        name, before, after, masked, err);
	json_decref(masked);
	if (rc == 0)
		*out = json_pack("{s:s, s:s, s:i, s:s, s:s}", "action", "generate-symmetric-key",
		                 "device", name, "bits", bits, "symmetric_key", hex, "note",
		                 "shown only this once: enter it on the phone (Settings > Security "
		                 "Configuration > Set Cfg Encrypt Key)");
	/* The 256-bit models encrypt with RC4: say now that it stays unused unless allowed. */
	if (rc == 0 && bits == 256 && !store_param_bool(s, "legacy_rc4_config_encryption", false))
		json_object_set_new(*out, "warning",
		                    json_string("this model's configuration encryption is RC4, "
		                                "which is broken (RFC 7465): its encrypted file "
		                                "is not served unless the service parameter "
		                                "legacy_rc4_config_encryption is true"));
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	json_decref(before);
	json_decref(after);
	return rc;
}

int store_device_generate_symmetric_key(struct store *s, const char *device,
                                        const struct store_actor *actor, json_t **out,
                                        struct base_err *err)
{
	*out = NULL;
	if (store_db_begin(s, err) != 0)
		return -1;
	return store_db_finish(s, generate(s, device, actor, out, err), out, err);
}
