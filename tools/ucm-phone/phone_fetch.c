/* Provisioning downloads: HTTP with libcurl first, then TFTP (phone_tftp.c). */
#include "phone_fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
	unsigned char *data;
	size_t len;
	bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	if (b->len + add > PHONE_FETCH_MAX) {
		b->too_large = true;
		return 0;
	}
	unsigned char *d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	return add;
}

/* -1 with BASE_E_NOT_FOUND for a 404; BASE_E_INTERNAL when the server cannot be reached. */
static int http_get(const char *server, const char *name, double timeout, unsigned char **out,
                    size_t *len, struct base_err *err)
{
	char url[512];
	struct body b = {0};
	long status = 0;
	snprintf(url, sizeof(url), "http://%s/%s", server, name);
	CURL *c = curl_easy_init();
	if (!c)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "HTTP: cannot start libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	int ret = 0;
	if (rc != CURLE_OK)
		ret = base_err_set(err, b.too_large ? BASE_E_TOO_LARGE : BASE_E_INTERNAL, NULL,
		                   "HTTP: %s: %s", url, curl_easy_strerror(rc));
	else if (status == 404)
		ret = base_err_set(err, BASE_E_NOT_FOUND, NULL, "HTTP: %s: 404 Not Found", url);
	else if (status != 200)
		ret =
		    base_err_set(err, BASE_E_FORBIDDEN, NULL, "HTTP: %s: status %ld", url, status);
	if (ret != 0) {
		free(b.data);
		return ret;
	}
	if (!b.data && !(b.data = malloc(1)))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	b.data[b.len] = '\0';
	*out = b.data;
	*len = b.len;
	return 0;
}

static int nul_terminate(unsigned char **out, size_t len, struct base_err *err)
{
	unsigned char *d = realloc(*out, len + 1);
	if (!d) {
		free(*out);
		*out = NULL;
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	d[len] = '\0';
	*out = d;
	return 0;
}

int phone_fetch(const struct phone_fetch_src *src, const char *name, unsigned char **out,
                size_t *len, struct base_err *err)
{
	*out = NULL;
	*len = 0;
	if (src->http) {
		struct base_err http_err = {0};
		if (http_get(src->http, name, src->timeout, out, len, &http_err) == 0)
			return 0;
		/* A server that answered settles it; one that cannot be reached leaves TFTP. */
		if (!src->tftp || http_err.code != BASE_E_INTERNAL) {
			*err = http_err;
			return -1;
		}
		printf("%s; trying TFTP\n", http_err.message);
	}
	if (!src->tftp)
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "no HTTP or TFTP server to fetch from");
	if (phone_tftp_get(src->tftp, name, src->timeout, out, len, err) != 0)
		return -1;
	return nul_terminate(out, *len, err);
}
