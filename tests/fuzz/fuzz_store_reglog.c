/*
 * libFuzzer target: the records of the registration log (store_reglog.c), which ucmd reads
 * back from its data directory at every start. A damaged file must end the log where it
 * stops checking, never make the reader step outside the image. The input is an epoch (8
 * bytes) followed by a log image; records start after the 64-byte header, as in the file.
 */
#include "store/store_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t epoch;
	if (size < sizeof(epoch))
		return 0;
	memcpy(&epoch, data, sizeof(epoch));
	size -= sizeof(epoch);
	/* An exact-size copy, so that a read past the image is caught. */
	unsigned char *image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data + sizeof(epoch), size);
	size_t off = 64;
	struct store_registration r;
	int op;
	while (store_reglog_decode(image, size, epoch, &off, &r, &op)) {
		if (off > size || (op != 1 && op != 2) || !memchr(r.aor, 0, sizeof(r.aor)) ||
		    !memchr(r.contact, 0, sizeof(r.contact)) ||
		    !memchr(r.call_id, 0, sizeof(r.call_id)))
			abort();
	}
	free(image);
	return 0;
}
