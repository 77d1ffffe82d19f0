/*
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed hash of
 * short strings, in two of its forms.
 *
 * SipHash-1-3, 64 bits, for the hash tables. Their keys come off the network (a Via branch, a
 * source address): with an unkeyed hash anyone can compute keys that all fall in one bucket
 * and turn every lookup into a walk of the whole table. Under a secret key they cannot. The
 * reduced rounds are what Rust and Python hash their tables with: a table needs keys that
 * cannot be aimed, not a MAC, and a lookup then costs about what FNV-1a did.
 *
 * SipHash-2-4, 128 bits, the full-strength form, as the MAC of the digest nonces.
 *
 * OpenSSL has SipHash too, but behind EVP_MAC, whose set-up and dispatch cost several times
 * the hash itself for a 40-byte input: a table lookup cannot pay that, and a registration
 * paid it twice for its nonce. tests/unit/base/test_siphash.c checks both forms against it.
 */
#include "base/base.h"

#include <endian.h>

struct siphash {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void store_le64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline void sipround(struct siphash *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* n is a constant at every call, so the loop unrolls. */
static inline void siprounds(struct siphash *s, int n)
{
	for (int i = 0; i < n; i++)
		sipround(s);
}

/* Initialization and every message block with c rounds each, up to the finalization. The
 * 128-bit form marks itself in v1 from the start. */
static inline void absorb(struct siphash *s, const unsigned char key[16], bool wide, int c,
                          const unsigned char *p, size_t len)
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	s->v0 = k0 ^ 0x736f6d6570736575ull;
	s->v1 = k1 ^ 0x646f72616e646f6dull ^ (wide ? 0xee : 0);
	s->v2 = k0 ^ 0x6c7967656e657261ull;
	s->v3 = k1 ^ 0x7465646279746573ull;
	const unsigned char *end = p + (len & ~(size_t)7);
	/* The last block holds the 0-7 bytes left, under the length's low byte. */
	uint64_t last = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)end[i] << (8 * i);
	for (;; p += 8) {
		uint64_t m = p < end ? load_le64(p) : last;
		s->v3 ^= m;
		siprounds(s, c);
		s->v0 ^= m;
		if (p >= end)
			break;
	}
}

uint64_t base_siphash13(const unsigned char key[16], const void *data, size_t len)
{
	struct siphash s;
	absorb(&s, key, false, 1, data, len);
	s.v2 ^= 0xff;
	siprounds(&s, 3);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void base_siphash24_128(const unsigned char key[16], const void *data, size_t len,
                        unsigned char out[16])
{
	struct siphash s;
	absorb(&s, key, true, 2, data, len);
	s.v2 ^= 0xee;
	siprounds(&s, 4);
	store_le64(out, s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
	s.v1 ^= 0xdd;
	siprounds(&s, 4);
	store_le64(out + 8, s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
}
