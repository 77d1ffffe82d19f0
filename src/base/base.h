/*
 * base: the ground floor. Errors as values, logging, small string helpers, time and the
 * ucmd.conf reader. Nothing here knows about sockets, SQL or SIP.
 */
#ifndef UCM_BASE_H
#define UCM_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------------------ */

/* The kind of failure; the admin layer maps each to an HTTP status. */
enum base_err_code {
	BASE_OK = 0,
	BASE_E_BAD_REQUEST,  /* malformed input: not JSON, wrong shape */
	BASE_E_INVALID,      /* a field breaks a rule */
	BASE_E_UNAUTHORIZED, /* missing or wrong credentials */
	BASE_E_FORBIDDEN,    /* built-in record, or not allowed for this caller */
	BASE_E_NOT_FOUND,    /* no such record */
	BASE_E_NOT_ALLOWED,  /* the operation does not exist for this resource */
	BASE_E_CONFLICT,     /* duplicate key or record in use */
	BASE_E_TOO_LARGE,    /* over a size limit */
	BASE_E_THROTTLED,    /* too many failures from one source */
	BASE_E_INTERNAL,     /* our fault or the system's: I/O, database, out of memory */
};

/* An error value: what went wrong, which field (may be empty) and a sentence for a person. */
struct base_err {
	enum base_err_code code;
	char field[64];
	char message[256];
};

/* Fills err (if not NULL) and returns -1, so callers can write `return base_err_set(...)`. */
int base_err_set(struct base_err *err, enum base_err_code code, const char *field, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5), cold));
void base_err_clear(struct base_err *err);
/* Stable lower-case name of a code, as used in API error bodies ("invalid", "not_found"...). */
const char *base_err_code_name(enum base_err_code code);

/* ---- logging ----------------------------------------------------------------------------- */

enum base_log_level { BASE_LOG_DEBUG, BASE_LOG_INFO, BASE_LOG_WARN, BASE_LOG_ERROR };

/* One line per event: `2026-11-22T01:02:03.456Z info  store: opened data/ucm.db`. */
void base_log(enum base_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void base_log_set_level(enum base_log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int base_log_level_parse(const char *name, enum base_log_level *out);

/* ---- strings ----------------------------------------------------------------------------- */

/* strlcpy semantics: always terminates, returns the length of src. */
size_t base_strlcpy(char *dst, const char *src, size_t size);
bool base_str_all(const char *s, const char *charset);
bool base_str_is_digits(const char *s);
/* Constant-time comparison of two byte strings of the same length. */
bool base_mem_equal_ct(const void *a, const void *b, size_t len);
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void base_hex(const unsigned char *in, size_t len, char *out);
/* The decimal digits of v into out (no NUL); returns how many. */
size_t base_format_uint(char out[20], unsigned long long v);

/* Text put together piece by piece in a fixed buffer, for the hot paths where snprintf costs
 * more than the work around it. What does not fit is cut off, as snprintf would, and `cut`
 * says so; the text is always NUL-terminated. */
struct base_text {
	char *out;
	size_t size, len;
	bool cut;
};
void base_text_init(struct base_text *t, char *out, size_t size); /* size > 0 */
/* Inline: keys and addresses are built from a handful of short pieces each, per message. */
static inline void base_text_add(struct base_text *t, const char *p, size_t n)
{
	size_t room = t->size - 1 - t->len;
	if (n > room) {
		n = room;
		t->cut = true;
	}
	if (n)
		memcpy(t->out + t->len, p, n);
	t->len += n;
	t->out[t->len] = '\0';
}
static inline void base_text_adds(struct base_text *t, const char *s)
{
	base_text_add(t, s, strlen(s));
}
void base_text_add_uint(struct base_text *t, unsigned long long v);

/* ---- hash tables ------------------------------------------------------------------------- */

/* SipHash under a 16-byte secret key (base_siphash.c): SipHash-1-3 with its 64-bit result
 * for hash tables; SipHash-2-4 with the 128-bit result, written as the reference does (two
 * little-endian halves), for MACs. */
uint64_t base_siphash13(const unsigned char key[16], const void *data, size_t len);
void base_siphash24_128(const unsigned char key[16], const void *data, size_t len,
                        unsigned char out[16]);

/* A table from string keys to pointers. Keys are copied; values are the caller's. It grows
 * as it fills, so lookups stay O(1) with a million registrations, and each table hashes under
 * its own random key, so keys chosen by a peer cannot pile up in one bucket. */
struct base_hash;

struct base_hash *base_hash_new(void);
/* Frees the table; calls free_value on every value when it is not NULL. */
void base_hash_free(struct base_hash *h, void (*free_value)(void *value));
/* Sets key to value, replacing (and returning through *old, if given) any previous one. */
int base_hash_put(struct base_hash *h, const char *key, void *value, void **old);
void *base_hash_get(const struct base_hash *h, const char *key);
/* Removes key and returns its value, or NULL. */
void *base_hash_remove(struct base_hash *h, const char *key);
size_t base_hash_count(const struct base_hash *h);
/* Calls fn for each entry; fn may remove the entry it is given, and no other. */
void base_hash_foreach(struct base_hash *h, void (*fn)(void *arg, const char *key, void *value),
                       void *arg);

/* ---- time -------------------------------------------------------------------------------- */

int64_t base_time_now(void); /* seconds since the epoch */
/* RFC 3339 UTC, "2026-11-22T01:02:03Z"; out needs 21 bytes. */
void base_time_format(int64_t t, char out[21]);
/* Accepts "YYYY-MM-DDTHH:MM:SSZ" (and "+00:00"); returns -1 on anything else. */
int base_time_parse(const char *s, int64_t *out);

/* ---- ucmd.conf --------------------------------------------------------------------------- */

/* A `key = value` file with `#` comments. Keys are looked up by name; unknown keys are an
 * error so that a typo does not silently leave a default in place. */
struct base_conf_entry {
	char *key;
	char *value;
	int line;
};

struct base_conf {
	struct base_conf_entry *entries;
	size_t count;
};

int base_conf_load(struct base_conf *conf, const char *path, struct base_err *err);
void base_conf_free(struct base_conf *conf);
const char *base_conf_get(const struct base_conf *conf, const char *key);

#endif
