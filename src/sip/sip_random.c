/*
 * Random bytes for tags, branches, Call-IDs and nonces. RFC 3261 wants tags and branches
 * unguessable, so they come from OpenSSL's generator; but asking it for 8 bytes at a time
 * costs more than the rest of building a response (a lock and a DRBG call each), so the
 * bytes are drawn a pool at a time and handed out in order. Each thread has its own pool.
 */
#include "sip/sip.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE 1024

static _Thread_local unsigned char pool[POOL_SIZE];
static _Thread_local size_t pool_left;

void sip_random(void *out, size_t len)
{
	unsigned char *o = out;
	while (len > 0) {
		if (pool_left == 0) {
			/* Tags and nonces that repeat would break dialogs and replay checks:
			 * better to stop than to run on without randomness. */
			if (RAND_bytes(pool, sizeof(pool)) != 1) {
				base_log(BASE_LOG_ERROR, "sip", "no randomness from OpenSSL");
				abort();
			}
			pool_left = sizeof(pool);
		}
		size_t n = len < pool_left ? len : pool_left;
		unsigned char *from = pool + sizeof(pool) - pool_left;
		memcpy(o, from, n);
		/* Bytes once handed out are not left behind for anyone to read. */
		OPENSSL_cleanse(from, n);
		pool_left -= n;
		o += n;
		len -= n;
	}
}

void sip_random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	while (bytes > 0) {
		size_t n = bytes < sizeof(r) ? bytes : sizeof(r);
		sip_random(r, n);
		base_hex(r, n, out);
		out += 2 * n;
		bytes -= n;
	}
}
