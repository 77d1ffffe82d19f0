/*
 * Pointer-length strings and the small scanning helpers every other file of the message
 * parser builds on. Nothing here relies on NUL termination: the parsed buffer has none.
 */
#include "sip/sip_int.h"

#include <string.h>

/* Generated from the RFC 3261 ABNF character sets; see the SIP_C_* bits in sip_int.h. */
const uint16_t sip_ctype[256] = {
    0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x042, 0x040, 0x040, 0x040,
    0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x040,
    0x040, 0x040, 0x040, 0x040, 0x040, 0x040, 0x002, 0x001, 0x100, 0x000, 0x000, 0x001, 0x000,
    0x001, 0x000, 0x000, 0x001, 0x021, 0x100, 0x031, 0x031, 0x000, 0x0b5, 0x0b5, 0x0b5, 0x0b5,
    0x0b5, 0x0b5, 0x0b5, 0x0b5, 0x0b5, 0x0b5, 0x000, 0x100, 0x100, 0x000, 0x100, 0x000, 0x000,
    0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039,
    0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039,
    0x000, 0x100, 0x000, 0x000, 0x011, 0x001, 0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x0b9, 0x039,
    0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x039,
    0x039, 0x039, 0x039, 0x039, 0x039, 0x039, 0x000, 0x000, 0x000, 0x001, 0x040, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
};

bool sip_pl_eq_pl_nocase(struct sip_pl a, struct sip_pl b)
{
	return a.l == b.l && sip_mem_eq_nocase(a.p, b.p, a.l);
}

int sip_pl_u32(struct sip_pl pl, uint32_t max, uint32_t *out)
{
	if (pl.l == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < pl.l; i++) {
		if (!sip_is(pl.p[i], SIP_C_DIGIT))
			return -1;
		v = v * 10 + (uint64_t)(pl.p[i] - '0');
		/* Leading zeros are legal ("0068"), so the check is on the value, not the length.
		 */
		if (v > max)
			return -1;
	}
	if (out)
		*out = (uint32_t)v;
	return 0;
}

char *sip_pl_strcpy(struct sip_pl pl, char *out, size_t size)
{
	if (size == 0)
		return out;
	size_t n = pl.l < size - 1 ? pl.l : size - 1;
	if (n)
		memcpy(out, pl.p, n);
	out[n] = '\0';
	return out;
}

struct sip_pl sip_pl_trim_ends(struct sip_pl pl)
{
	while (pl.l && (sip_is(pl.p[0], SIP_C_WS) || pl.p[0] == '\r' || pl.p[0] == '\n')) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && (sip_is(pl.p[pl.l - 1], SIP_C_WS) || pl.p[pl.l - 1] == '\r' ||
	                pl.p[pl.l - 1] == '\n'))
		pl.l--;
	return pl;
}

bool sip_list_next(struct sip_pl *rest, char sep, struct sip_pl *elem)
{
	if (!rest->p)
		return false;
	const char *p = rest->p;
	size_t n = rest->l, i = 0;
	bool quoted = false, angle = false;
	for (; i < n; i++) {
		/* Most bytes are none of , ; " < > \: skip them with one table test each. */
		while (i < n && !sip_is(p[i], SIP_C_LIST))
			i++;
		if (i >= n)
			break;
		char c = p[i];
		if (quoted) {
			if (c == '\\')
				i++; /* quoted-pair: the next byte never ends the string */
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (angle) {
			if (c == '>')
				angle = false;
		} else if (c == '<') {
			angle = true;
		} else if (c == sep) {
			break;
		}
	}
	if (i >= n) {
		*elem = sip_pl_trim((struct sip_pl){p, n});
		rest->p = NULL;
		rest->l = 0;
		return true;
	}
	*elem = sip_pl_trim((struct sip_pl){p, i});
	rest->p = p + i + 1;
	rest->l = n - i - 1;
	return true;
}

void sip_param_split(struct sip_pl elem, struct sip_pl *name, struct sip_pl *value)
{
	const char *eq = elem.l ? memchr(elem.p, '=', elem.l) : NULL;
	if (!eq) {
		*name = elem;
		*value = (struct sip_pl){elem.p + elem.l, 0};
		return;
	}
	size_t nl = (size_t)(eq - elem.p);
	*name = sip_pl_trim((struct sip_pl){elem.p, nl});
	*value = sip_pl_trim((struct sip_pl){eq + 1, elem.l - nl - 1});
}

static bool sip_quoted_valid(struct sip_pl v)
{
	/* The whole value is one quoted string: opening quote, escapes, closing quote last. */
	if (v.l < 2 || v.p[0] != '"')
		return false;
	for (size_t i = 1; i < v.l; i++) {
		if (v.p[i] == '\\')
			i++;
		else if (v.p[i] == '"')
			return i == v.l - 1;
	}
	return false;
}

bool sip_params_each(struct sip_pl params,
                     void (*on_param)(void *arg, struct sip_pl name, struct sip_pl value),
                     void *arg)
{
	if (params.l == 0)
		return true;
	struct sip_pl rest = params, elem, name, value;
	while (sip_list_next(&rest, ';', &elem)) {
		sip_param_split(elem, &name, &value);
		if (name.l == 0)
			return false;
		for (size_t i = 0; i < name.l; i++)
			if (!sip_is(name.p[i], SIP_C_TOKEN))
				return false;
		if (value.l && value.p[0] == '"') {
			if (!sip_quoted_valid(value))
				return false;
		} else {
			/* Unquoted values are tokens, hosts or IPv6 references in the grammar;
			 * devices in the field send more (slashes, '@'), so anything visible is
			 * accepted. */
			for (size_t i = 0; i < value.l; i++)
				if (sip_is(value.p[i], SIP_C_WS | SIP_C_CTL) || value.p[i] == '"' ||
				    value.p[i] == ',' || value.p[i] == '<' || value.p[i] == '>')
					return false;
		}
		if (on_param)
			on_param(arg, name, value);
	}
	return true;
}

bool sip_param_get(struct sip_pl params, const char *name, struct sip_pl *value)
{
	size_t nl = strlen(name);
	struct sip_pl rest = params, elem, n, v;
	if (params.l == 0)
		return false;
	while (sip_list_next(&rest, ';', &elem)) {
		if (elem.l < nl)
			continue;
		sip_param_split(elem, &n, &v);
		if (n.l == nl && sip_mem_eq_nocase(n.p, name, nl)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}
