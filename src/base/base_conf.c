/*
 * ucmd.conf: `key = value` lines, `#` starts a comment. The reader only splits lines; what
 * keys exist and what their values mean is the application's business.
 */
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int conf_add(struct base_conf *conf, const char *key, const char *value, int line,
                    struct base_err *err)
{
	struct base_conf_entry *grown =
	    realloc(conf->entries, (conf->count + 1) * sizeof(*conf->entries));
	if (!grown)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	conf->entries = grown;
	struct base_conf_entry *e = &conf->entries[conf->count];
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = line;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	conf->count++;
	return 0;
}

int base_conf_load(struct base_conf *conf, const char *path, struct base_err *err)
{
	memset(conf, 0, sizeof(*conf));
	FILE *f = fopen(path, "r");
	if (!f)
		return base_err_set(err, BASE_E_INVALID, "config", "cannot read %s: %s", path,
		                    strerror(errno));
	char buf[4096];
	int line = 0, rc = 0;
	while (rc == 0 && fgets(buf, sizeof(buf), f)) {
		line++;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		char *text = trim(buf);
		if (!*text)
			continue;
		char *eq = strchr(text, '=');
		if (!eq) {
			rc = base_err_set(err, BASE_E_INVALID, "config",
			                  "%s:%d: expected `key = value`", path, line);
			break;
		}
		*eq = '\0';
		char *key = trim(text), *value = trim(eq + 1);
		if (!*key) {
			rc = base_err_set(err, BASE_E_INVALID, "config", "%s:%d: missing key", path,
			                  line);
			break;
		}
		if (base_conf_get(conf, key)) {
			rc = base_err_set(err, BASE_E_INVALID, key, "%s:%d: %s is set twice", path,
			                  line, key);
			break;
		}
		rc = conf_add(conf, key, value, line, err);
	}
	fclose(f);
	if (rc != 0)
		base_conf_free(conf);
	return rc;
}

void base_conf_free(struct base_conf *conf)
{
	for (size_t i = 0; i < conf->count; i++) {
		free(conf->entries[i].key);
		free(conf->entries[i].value);
	}
	free(conf->entries);
	memset(conf, 0, sizeof(*conf));
}

const char *base_conf_get(const struct base_conf *conf, const char *key)
{
	for (size_t i = 0; i < conf->count; i++)
		if (strcmp(conf->entries[i].key, key) == 0)
			return conf->entries[i].value;
	return NULL;
}
