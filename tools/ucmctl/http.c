/* http.c: one HTTPS request to ucmd through libcurl, answer parsed as JSON. */
#include "ucmctl.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Far above any real answer (a list is at most 1000 records), far below trouble. */
#define UCMCTL_HTTP_MAX_BODY (64u * 1024 * 1024)

int ucmctl_http_check_url(const char *url, char *err, size_t errlen)
{
	const char *host, *end;

	/* Plain http would send the password in the clear: there is no option for it. */
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "the server URL must start with https:// (got \"%s\")", url);
		return -1;
	}
	host = url + 8;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host))) {
		/* Credentials in a URL end up in shell history and error messages. */
		snprintf(err, errlen,
		         "the server URL must not contain credentials; use --user and "
		         "--password-file");
		return -1;
	}
	if (end == host) {
		snprintf(err, errlen, "the server URL has no host");
		return -1;
	}
	return 0;
}

int ucmctl_http_init(struct ucmctl_http *h)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	h->curl = curl_easy_init();
	return h->curl ? 0 : -1;
}

void ucmctl_http_cleanup(struct ucmctl_http *h)
{
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	h->curl = NULL;
}

static size_t ucmctl_http_write(char *data, size_t size, size_t n, void *arg)
{
	struct ucmctl_buf *b = arg;

	if (b->len + n > UCMCTL_HTTP_MAX_BODY)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	(void)size;       /* always 1 */
	ucmctl_buf_addn(b, data, n);
	return n;
}

static void ucmctl_http_set_options(struct ucmctl_http *h, const char *method, const char *url,
                                    const char *payload, struct curl_slist *headers,
                                    struct ucmctl_buf *body, char *errbuf)
{
	CURL *c = h->curl;

	/* reset keeps the open connection, so the schema and the request share one handshake */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	/* Trust exactly the OpenUCM CA: its certificate file and not the system store, so a
	 * certificate some public CA issued for the same name is not accepted either. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	if (h->user && h->password) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ucmctl_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (payload || strcmp(method, "DELETE") != 0) {
			/* POSTFIELDS also makes curl send Content-Length: 0 for an empty body,
			 * which a server may require of a POST. */
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
			                 (long)(payload ? strlen(payload) : 0));
		}
	}
}

int ucmctl_http_request(struct ucmctl_http *h, const char *method, const char *path, json_t *body,
                        struct ucmctl_response *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct ucmctl_buf url, answer;
	char *payload = NULL;
	json_error_t jerr;
	CURLcode rc;
	int ret = 0;

	memset(resp, 0, sizeof(*resp));
	ucmctl_buf_init(&url);
	ucmctl_buf_init(&answer);
	ucmctl_buf_add(&url, h->server);
	while (url.len > 0 && url.s[url.len - 1] == '/')
		url.s[--url.len] = '\0';
	ucmctl_buf_addf(&url, "/api/v1/%s", path);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (body)
		payload = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	/* Even an empty POST says JSON, or curl would label it a form. */
	if (body || (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0))
		headers = curl_slist_append(headers, "Content-Type: application/json");
	/* curl's own "Expect: 100-continue" costs a round trip for nothing on a small body */
	headers = curl_slist_append(headers, "Expect:");
	ucmctl_http_set_options(h, method, url.s, payload, headers, &answer, errbuf);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "cannot talk to %s: %s", h->server,
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
		ret = -1;
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->length = answer.len;
	if (answer.len > 0)
		resp->json = json_loadb(answer.s, answer.len, 0, &jerr);
out:
	/* The payload may hold a password being set; wipe it rather than leave it in the heap. */
	if (payload)
		ucmctl_text_free_secret(payload);
	curl_slist_free_all(headers);
	ucmctl_buf_free(&url);
	ucmctl_buf_free(&answer);
	return ret;
}

void ucmctl_http_response_free(struct ucmctl_response *resp)
{
	json_decref(resp->json);
	resp->json = NULL;
}
