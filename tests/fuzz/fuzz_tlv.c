/*
 * libFuzzer target: the trust-list reader ucm-phone runs on a downloaded ITLFile.tlv or
 * CTLFile.tlv. The input is loaded as a first list (trust on first use: every record is
 * parsed and the signature checked against the file's own SAST) and, when that works, as an
 * update of itself; whatever loads is then queried. Any input must give a clean -1 or a list,
 * never a crash, a read outside the input, a leak or undefined behaviour.
 */
#include "pki/pki.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees a read one byte past the end. */
	unsigned char *buf = malloc(size ? size : 1);
	struct base_err err = {0};
	struct pki_trust_list *list = NULL, *again = NULL;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (pki_trust_list_load(buf, size, NULL, &list, &err) == 0) {
		for (size_t i = 0; i < pki_trust_list_count(list); i++) {
			enum pki_tl_role role;
			const X509 *cert;

			pki_trust_list_entry(list, i, &role, &cert);
			if (!cert || !pki_trust_list_has(list, role, cert))
				abort();
		}
		if (pki_trust_list_load(buf, size, list, &again, &err) != 0)
			abort(); /* a list that loads on its own is a valid update of itself */
		(void)pki_trust_list_file_name(again);
		pki_trust_list_free(again);
		pki_trust_list_free(list);
	} else if (list || err.code == BASE_OK) {
		abort();
	}
	free(buf);
	return 0;
}
