/* Small string helpers the C library lacks or gets subtly wrong. */
#include "base/base.h"

#include <ctype.h>
#include <string.h>

size_t base_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

bool base_str_all(const char *s, const char *charset)
{
	return s[strspn(s, charset)] == '\0';
}

bool base_str_is_digits(const char *s)
{
	return *s && base_str_all(s, "0123456789");
}

bool base_mem_equal_ct(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

void base_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

size_t base_format_uint(char out[20], unsigned long long v)
{
	/* Counting the digits first lets them be written in place, last one first. */
	size_t n = 1;
	for (unsigned long long power = 10; n < 20 && v >= power; power *= 10)
		n++;
	for (size_t i = n; i-- > 0; v /= 10)
		out[i] = (char)('0' + v % 10);
	return n;
}

void base_text_init(struct base_text *t, char *out, size_t size)
{
	*t = (struct base_text){out, size, 0, false};
	out[0] = '\0';
}

void base_text_add_uint(struct base_text *t, unsigned long long v)
{
	char digits[20];
	base_text_add(t, digits, base_format_uint(digits, v));
}
