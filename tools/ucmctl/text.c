/* text.c: string helpers shared by the ucmctl modules. */
#include "ucmctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *ucmctl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("ucmctl: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *ucmctl_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ucmctl_xmalloc(n);

	memcpy(p, s, n);
	return p;
}

void ucmctl_buf_init(struct ucmctl_buf *b)
{
	b->cap = 64;
	b->len = 0;
	b->s = ucmctl_xmalloc(b->cap);
	b->s[0] = '\0';
}

static void ucmctl_buf_reserve(struct ucmctl_buf *b, size_t more)
{
	char *p;

	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap *= 2;
	p = realloc(b->s, b->cap);
	if (!p) {
		fputs("ucmctl: out of memory\n", stderr);
		abort();
	}
	b->s = p;
}

void ucmctl_buf_addn(struct ucmctl_buf *b, const char *s, size_t n)
{
	ucmctl_buf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void ucmctl_buf_add(struct ucmctl_buf *b, const char *s)
{
	ucmctl_buf_addn(b, s, strlen(s));
}

void ucmctl_buf_addf(struct ucmctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	ucmctl_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *ucmctl_buf_take(struct ucmctl_buf *b)
{
	char *s = b->s;

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void ucmctl_buf_free(struct ucmctl_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* Folds a name character so that case and the '-'/'_' spelling do not matter; a space counts
 * as well, since singular names are written for people ("end user"). */
static int ucmctl_text_fold(int c)
{
	if (c == '-' || c == ' ')
		return '_';
	return tolower((unsigned char)c);
}

bool ucmctl_text_name_eq(const char *a, const char *b)
{
	while (*a && *b) {
		if (ucmctl_text_fold(*a) != ucmctl_text_fold(*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

size_t ucmctl_text_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, i, j, d;

	/* Names are short; cap them so a pasted paragraph costs nothing. */
	if (la > 128 || lb > 128)
		return SIZE_MAX;
	row = ucmctl_xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = ucmctl_text_fold(a[i - 1]) != ucmctl_text_fold(b[j - 1]);

			d = diag + cost;
			if (up + 1 < d)
				d = up + 1;
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			row[j] = d;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/* Whether needle occurs in haystack under name folding. */
static bool ucmctl_text_contains(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return false;
	for (; *haystack; haystack++) {
		size_t i;

		for (i = 0; i < n && haystack[i]; i++)
			if (ucmctl_text_fold(haystack[i]) != ucmctl_text_fold(needle[i]))
				break;
		if (i == n)
			return true;
	}
	return false;
}

bool ucmctl_text_is_close(const char *typed, const char *candidate)
{
	size_t len = strlen(typed);
	size_t allowed = len < 6 ? 1 : len / 3;

	/* Typos are a letter or two; a fragment ("--pool" for device_pool) is the other common
	 * slip, but very short fragments would match half the schema. */
	if (ucmctl_text_distance(typed, candidate) <= allowed)
		return true;
	return len >= 3 && ucmctl_text_contains(candidate, typed);
}

size_t ucmctl_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void ucmctl_text_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
		else if (*p < 0x20 || *p == 0x7F)
			*p = '?';
		else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
			/* U+0080..U+009F: some terminals treat these as escape sequences too. Keep
			 * the byte count so the string need not move. */
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
}

void ucmctl_text_truncate(char *s, size_t max)
{
	size_t w = 0;
	char *p, *cut = NULL;

	if (max < 4 || ucmctl_text_width(s) <= max)
		return;
	for (p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		if (w == max - 3) {
			cut = p;
			break;
		}
		w++;
	}
	if (cut)
		memcpy(cut, "...", 4);
}

char *ucmctl_text_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ucmctl_buf b;

	ucmctl_buf_init(&b);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			ucmctl_buf_addn(&b, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			ucmctl_buf_addn(&b, e, 3);
		}
	}
	return ucmctl_buf_take(&b);
}

char *ucmctl_text_read_first_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int saved;

	if (!f)
		return NULL;
	errno = 0;
	n = getline(&line, &cap, f);
	saved = errno;
	fclose(f);
	if (n < 0) {
		free(line);
		if (saved == 0)
			saved = ENODATA; /* an empty file is not a success */
		errno = saved;
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

void ucmctl_text_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
