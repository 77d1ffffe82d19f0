/*
 * libFuzzer target: the records of the registration log (store_reglog.c), which ucmd reads
 * back from its data directory at every start. A damaged file must end the log where it
 * stops checking, never make the reader step outside the image.
 *
 * The input is a mode byte, an epoch (8 bytes) and a log image; records start after the
 * 64-byte header, as in the file. In the second mode the CRC of every record is made right
 * before reading, so that the fuzzer reaches what lies behind the CRC: sizes, lengths and
 * strings.
 */
#include "store/store_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The CRC store_reglog.c writes: over the epoch, then the record after its size and CRC. */
static void fix_crcs(unsigned char *image, size_t len, uint64_t epoch)
{
	for (size_t off = 64; off + 8 <= len;) {
		uint32_t rec;
		memcpy(&rec, image + off, 4);
		if (rec < 8 || rec > len - off)
			return;
		uLong crc = crc32(crc32(0L, (const Bytef *)&epoch, sizeof(epoch)), image + off + 8,
		                  (uInt)(rec - 8));
		uint32_t c = (uint32_t)crc;
		memcpy(image + off + 4, &c, 4);
		off += rec;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t epoch;
	if (size < 1 + sizeof(epoch))
		return 0;
	int fix = data[0] & 1;
	memcpy(&epoch, data + 1, sizeof(epoch));
	size -= 1 + sizeof(epoch);
	/* An exact-size copy, so that a read past the image is caught. */
	unsigned char *image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data + 1 + sizeof(epoch), size);
	if (fix)
		fix_crcs(image, size, epoch);
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
