/*
 * libFuzzer target: the EST request handling that reads bytes from the network: the base64
 * PKCS#10 body (pki_est_csr_decode), its checks (signature, CN, key out of it:
 * pki_est_csr_check) and the key rules (pki_key_check) an enrollment applies before
 * signing. The first byte picks the name the request is checked against and the key policy,
 * so the fuzzer explores both outcomes of each check. Any input must give a clean error or a
 * key, never a crash, a leak or undefined behaviour.
 */
#include "pki/pki.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"SEP001122334455", "sep001122334455", NULL, ""};
	struct base_err err = {0};
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;

	if (size < 1) {
		return 0;
	}
	const struct pki_key_policy policy = {.rsa_bits = (data[0] & 4) ? 2048 : 0,
	                                      .allow_weak_rsa = (data[0] & 8) != 0};
	if (pki_est_csr_decode((const char *)data + 1, size - 1, &req, &err) == 0) {
		if (pki_est_csr_check(req, names[data[0] & 3], &key, &err) == 0) {
			pki_key_check(key, &policy, &err);
		}
	}
	EVP_PKEY_free(key);
	X509_REQ_free(req);
	return 0;
}
