/* Errors as values: a code for the caller's logic, a field and a sentence for the person. */
#include "base/base.h"

#include <stdio.h>
#include <string.h>

int base_err_set(struct base_err *err, enum base_err_code code, const char *field, const char *fmt,
                 ...)
{
	if (!err)
		return -1;
	err->code = code;
	base_strlcpy(err->field, field ? field : "", sizeof(err->field));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

void base_err_clear(struct base_err *err)
{
	if (!err)
		return;
	err->code = BASE_OK;
	err->field[0] = '\0';
	err->message[0] = '\0';
}

const char *base_err_code_name(enum base_err_code code)
{
	switch (code) {
	case BASE_OK:
		return "ok";
	case BASE_E_BAD_REQUEST:
		return "bad_request";
	case BASE_E_INVALID:
		return "invalid";
	case BASE_E_UNAUTHORIZED:
		return "unauthorized";
	case BASE_E_FORBIDDEN:
		return "forbidden";
	case BASE_E_NOT_FOUND:
		return "not_found";
	case BASE_E_NOT_ALLOWED:
		return "method_not_allowed";
	case BASE_E_CONFLICT:
		return "conflict";
	case BASE_E_TOO_LARGE:
		return "too_large";
	case BASE_E_THROTTLED:
		return "throttled";
	case BASE_E_INTERNAL:
		return "internal";
	}
	return "internal";
}
