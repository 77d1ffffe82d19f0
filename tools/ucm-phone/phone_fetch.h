/*
 * How ucm-phone downloads provisioning files: HTTP (port 6970 on a real system) first, TFTP
 * as the fallback, as Cisco phones do (cisco-device-config.md §2).
 */
#ifndef UCM_PHONE_FETCH_H
#define UCM_PHONE_FETCH_H

#include "base/base.h"

#include <stddef.h>

#define PHONE_FETCH_MAX (16 * 1024 * 1024)

struct phone_fetch_src {
	const char *http; /* HOST:PORT or NULL */
	const char *tftp; /* HOST:PORT or NULL */
	double timeout;   /* seconds per transfer */
};

/* Reads one file into a malloc'ed, NUL-terminated buffer (*len without the NUL).
 * BASE_E_NOT_FOUND when the server has no such file (HTTP 404, TFTP error 1). */
int phone_fetch(const struct phone_fetch_src *src, const char *name, unsigned char **out,
                size_t *len, struct base_err *err);

/* phone_tftp.c: one RRQ to server (HOST:PORT). */
int phone_tftp_get(const char *server, const char *name, double timeout, unsigned char **out,
                   size_t *out_len, struct base_err *err);

#endif
