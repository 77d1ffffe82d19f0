/*
 * Private helpers shared by the message files of the sip layer (sip_pl.c, sip_uri.c,
 * sip_hdr.c, sip_msg.c, sip_build.c). Not part of the layer's API.
 */
#ifndef UCM_SIP_INT_H
#define UCM_SIP_INT_H

#include "sip/sip.h"

/* Character classes of the RFC 3261 grammar, one table lookup per byte on the hot path. */
enum {
	SIP_C_TOKEN = 1u << 0,  /* token: alphanum and -.!%*_+`'~ */
	SIP_C_WS = 1u << 1,     /* SP, HT */
	SIP_C_DIGIT = 1u << 2,  /* 0-9 */
	SIP_C_ALPHA = 1u << 3,  /* a-z A-Z */
	SIP_C_HOST = 1u << 4,   /* hostname and IPv4: alphanum - . _ */
	SIP_C_SCHEME = 1u << 5, /* after the first letter: alphanum + - . */
	SIP_C_CTL = 1u << 6,    /* 0x00-0x1f and 0x7f, including CR and LF */
	SIP_C_HEX = 1u << 7,    /* 0-9 a-f A-F */
	SIP_C_LIST = 1u << 8,   /* where sip_list_next may stop: , ; " < > backslash */
};

extern const uint16_t sip_ctype[256];

static inline bool sip_is(char c, unsigned cls)
{
	return (sip_ctype[(unsigned char)c] & cls) != 0;
}

/* sip_pl_trim's loop, for the rare value that has something to drop. */
struct sip_pl sip_pl_trim_ends(struct sip_pl pl);
/* Drops SP, HT, CR and LF at both ends. Inline for the usual value with nothing to drop,
 * which costs two table tests. */
static inline struct sip_pl sip_pl_trim(struct sip_pl pl)
{
	if (pl.l && !sip_is(pl.p[0], SIP_C_WS | SIP_C_CTL) &&
	    !sip_is(pl.p[pl.l - 1], SIP_C_WS | SIP_C_CTL))
		return pl;
	return sip_pl_trim_ends(pl);
}

/* Splits the next element of a `sep`-separated list off *rest. Separators inside quoted
 * strings (with backslash escapes) and inside <...> do not count. Returns false once the list
 * is exhausted; an empty list has no elements, "a;" has two ("a" and ""). elem is trimmed. */
bool sip_list_next(struct sip_pl *rest, char sep, struct sip_pl *elem);
/* Splits one "name = value" parameter element; value is empty when there is no '='. */
void sip_param_split(struct sip_pl elem, struct sip_pl *name, struct sip_pl *value);
/* Checks a generic-param list (";a=b;c" without the first ';'): every name a non-empty token,
 * every value a quoted string or a run of visible characters. Each parameter is handed to
 * on_param (when not NULL) as it is checked, so that a parser picks the ones it wants out of
 * the same pass; a list that turns out invalid may have handed some already. */
bool sip_params_each(struct sip_pl params,
                     void (*on_param)(void *arg, struct sip_pl name, struct sip_pl value),
                     void *arg);

/* host [":" port] at the start of s (an IPv6 reference keeps its brackets); with lws, SWS may
 * surround the colon as in a Via sent-by. Returns the bytes consumed or -1. */
long sip_hostport_parse(const char *s, size_t n, bool lws, struct sip_pl *host, uint16_t *port);

/* Header names: the id (SIP_HDR_OTHER for the rest) and whether the header is a
 * comma-separated list whose values are split into one sip_hdr each. */
enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len, bool *list);
/* Full name of a compact form ('v' -> "Via"), or NULL. */
const char *sip_hdr_compact_expand(char c);

#endif
