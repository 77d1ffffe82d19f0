/* The manual symmetric key path of `ucm-phone boot` (phone_manual.h). */
#include "phone_manual.h"

#include "pki/pki.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int phone_manual_key_parse(const char *hex, struct phone_manual_key *out, struct base_err *err)
{
	size_t n = strlen(hex), got = 0;
	memset(out, 0, sizeof(*out));
	if ((n != 32 && n != 64) || strspn(hex, "0123456789ABCDEFabcdef") != n ||
	    OPENSSL_hexstr2buf_ex(out->key, sizeof(out->key), &got, hex, '\0') != 1 ||
	    got != n / 2) {
		OPENSSL_cleanse(out, sizeof(*out));
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "--symmetric-key must be 32 (7940G/7960G) or 64 (7905G/7912G) "
		                    "hex digits");
	}
	out->len = got;
	return 0;
}

int phone_manual_config(const struct phone_fetch_src *src, const char *device,
                        const struct pki_trust_list *const *lists, size_t nlists,
                        const struct phone_manual_key *key, struct phone_cnf *cnf)
{
	struct base_err err = {0};
	char name[64];
	unsigned char *data = NULL, *xml = NULL;
	size_t len = 0, xml_len = 0;
	if (strncmp(device, "SEP", 3) != 0 || strlen(device) != 15) {
		printf("%s: a manual-key phone is named SEP<MAC>\n", device);
		return -1;
	}
	snprintf(name, sizeof(name), key->len == 16 ? "SIP%s.cnf.enc.sgn" : "LD%s.x", device + 3);
	if (phone_fetch(src, name, &data, &len, &err) != 0) {
		printf("%s: %s: without its encrypted configuration the phone cannot register\n",
		       name, err.message);
		return -1;
	}
	int rc = pki_manual_sgn_open(data, len, name, lists, nlists, key->key, key->len, &xml,
	                             &xml_len, &err);
	free(data);
	if (rc != 0) {
		printf("%s rejected: %s\n", name, err.message);
		return -1;
	}
	printf("%s: %zu bytes, %sdecrypted with the symmetric key (%s)\n", name, xml_len,
	       nlists ? "signature verified, " : "", key->len == 16 ? "AES-128" : "RC4");
	rc = phone_cnf_parse(xml, xml_len, cnf, &err);
	OPENSSL_cleanse(xml, xml_len);
	free(xml);
	if (rc != 0)
		printf("%s: %s\n", name, err.message);
	return rc;
}
