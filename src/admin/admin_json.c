/* The JSON side of the API: decoding request bodies, and the shape of error responses. */
#include "admin/admin.h"

#include <string.h>

int admin_request_decode(const char *body, size_t len, json_t **out, struct base_err *err)
{
	if (len > ADMIN_MAX_BODY)
		return base_err_set(err, BASE_E_TOO_LARGE, NULL,
		                    "request body is larger than %d bytes", ADMIN_MAX_BODY);
	if (len == 0)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "request body is empty; send a JSON object");
	json_error_t jerr;
	/* REJECT_DUPLICATES: {"a":1,"a":2} is ambiguous, and ambiguity in an admin API hides
	 * mistakes. DISABLE_EOF_CHECK is off: trailing bytes after the object are an error. */
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "body is not valid JSON: %s at line %d column %d",
		                    strstr(jerr.text, "JSON_ALLOW_NUL") ? "\\u0000 is not allowed"
		                                                        : jerr.text,
		                    jerr.line, jerr.column);
	if (!json_is_object(v)) {
		json_decref(v);
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "body must be a JSON object");
	}
	*out = v;
	return 0;
}

int admin_http_status(enum base_err_code code)
{
	switch (code) {
	case BASE_OK:
		return 200;
	case BASE_E_BAD_REQUEST:
		return 400;
	case BASE_E_INVALID:
		return 422;
	case BASE_E_UNAUTHORIZED:
		return 401;
	case BASE_E_FORBIDDEN:
		return 403;
	case BASE_E_NOT_FOUND:
		return 404;
	case BASE_E_NOT_ALLOWED:
		return 405;
	case BASE_E_CONFLICT:
		return 409;
	case BASE_E_TOO_LARGE:
		return 413;
	case BASE_E_THROTTLED:
		return 429;
	case BASE_E_INTERNAL:
		return 500;
	}
	return 500;
}
