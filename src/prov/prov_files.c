/*
 * The namespace of device files: a requested name maps to the generator that makes it, and
 * what a generator made is cached until the store's generation moves on (any committed
 * configuration change). A boot storm therefore costs one generation per file and server
 * address; every other request is a hash lookup and a reference count. Names that do not
 * exist are cached too, since phones ask for many of them (CTLSEP<MAC>.tlv, ...).
 */
#include "pki/pki.h"
#include "prov/prov_int.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Past this many cached names the cache starts over, so that a client inventing names
 * cannot grow it without bound. */
#define MAX_CACHED 65536

struct prov_files {
	struct store *store;
	struct pki *pki;
	struct prov_servers ports;
	struct base_hash *cache; /* "host|name" -> struct prov_file, or &not_found */
	uint64_t generation;
	uint64_t generated;
};

static struct prov_file not_found;

struct prov_file *prov_file_new(unsigned char *data, size_t len, const char *content_type)
{
	struct prov_file *f = calloc(1, sizeof(*f));
	if (!f) {
		free(data);
		return NULL;
	}
	f->refs = 1, f->data = data, f->len = len, f->content_type = content_type;
	return f;
}

struct prov_file *prov_file_ref(struct prov_file *f)
{
	f->refs++;
	return f;
}

void prov_file_unref(struct prov_file *f)
{
	if (!f || f == &not_found || --f->refs > 0)
		return;
	free(f->data);
	free(f);
}

static void unref_value(void *v)
{
	prov_file_unref(v);
}

struct prov_files *prov_files_new(struct store *store, struct pki *pki,
                                  const struct prov_servers *ports)
{
	struct prov_files *files = calloc(1, sizeof(*files));
	if (!files || !(files->cache = base_hash_new())) {
		free(files);
		return NULL;
	}
	files->store = store, files->pki = pki, files->ports = *ports;
	files->generation = store_generation(store);
	return files;
}

void prov_files_free(struct prov_files *files)
{
	if (!files)
		return;
	base_hash_free(files->cache, unref_value);
	free(files);
}

uint64_t prov_files_generated(const struct prov_files *files)
{
	return files->generated;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *content_type(const char *name)
{
	if (ends_with(name, ".xml"))
		return "text/xml";
	if (ends_with(name, ".crt"))
		return "application/x-x509-ca-cert";
	return "application/octet-stream";
}

static int read_file(const char *path, unsigned char **out, size_t *len, struct base_err *err)
{
	FILE *f = fopen(path, "rb");
	long size = -1;
	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET) != 0 || !(*out = malloc((size_t)size + 1)) ||
	    fread(*out, 1, (size_t)size, f) != (size_t)size) {
		if (f)
			fclose(f);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot read %s", path);
	}
	fclose(f);
	*len = (size_t)size;
	return 0;
}

static bool cluster_non_secure(struct store *store)
{
	json_t *p = NULL;
	bool non_secure = store_get(store, store_kind_find("enterprise-parameters"),
	                            "cluster_security_mode", &p, NULL) == 0 &&
	                  strcmp(json_string_value(json_object_get(p, "value")), "non_secure") == 0;
	json_decref(p);
	return non_secure;
}

/* Makes the file `name`; BASE_E_NOT_FOUND when no generator knows it. */
static int generate(struct prov_files *files, const char *name, const struct prov_servers *srv,
                    unsigned char **out, size_t *len, struct base_err *err)
{
	struct store *store = files->store;
	/* The configuration of phones the system does not know, which is what auto-registration
	 * hands out; that is off in a mixed-mode cluster (security-1 §4, E3). */
	if (strcmp(name, "XMLDefault.cnf.xml") == 0)
		return cluster_non_secure(store)
		           ? prov_cnf_default(store, srv, out, len, err)
		           : base_err_set(err, BASE_E_NOT_FOUND, NULL,
		                          "no default configuration in a mixed-mode cluster");
	if (strcmp(name, PROV_SERVICE_PROFILE_FILE) == 0)
		return prov_cnf_service_profile(store, srv, out, len, err);
	if (strcmp(name, "ca.crt") == 0)
		return read_file(pki_ca_cert_path(files->pki), out, len, err);
	if (ends_with(name, ".cnf.xml")) {
		char device[PROV_TFTP_MAX_NAME + 1];
		base_strlcpy(device, name, strlen(name) - strlen(".cnf.xml") + 1);
		/* Encrypted configuration: the plain name gets the stub, never the secrets. */
		if (prov_cnf_encrypted(store, device))
			return prov_cnf_stub(store, srv, device, out, len, err);
		return prov_cnf_device(store, srv, device, true, out, len, err);
	}
	return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no file %s", name);
}

int prov_files_fetch(struct prov_files *files, const char *name, enum prov_via via,
                     const char *host, struct prov_file **out, struct base_err *err)
{
	*out = NULL;
	if (name[0] == '/')
		name++;
	if (!prov_name_is_safe(name))
		return base_err_set(err, BASE_E_FORBIDDEN, NULL,
		                    "file names are relative paths of "
		                    "A-Z a-z 0-9 . _ -");
	char effective[PROV_TFTP_MAX_NAME + 1];
	base_strlcpy(effective, name, sizeof(effective));
	/* Over HTTPS a phone asks for SEP<MAC>.cnf.xml.sgn and must get the plain XML: the TLS
	 * connection already vouches for it (sgn-and-encrypted-config.md §1.4). */
	if (via == PROV_VIA_HTTPS && ends_with(effective, ".cnf.xml.sgn"))
		effective[strlen(effective) - strlen(".sgn")] = '\0';
	if (store_generation(files->store) != files->generation) {
		base_hash_free(files->cache, unref_value);
		files->cache = base_hash_new();
		files->generation = store_generation(files->store);
	}
	char key[PROV_TFTP_MAX_NAME + 80];
	snprintf(key, sizeof(key), "%s|%s", host, effective);
	struct prov_file *f = files->cache ? base_hash_get(files->cache, key) : NULL;
	if (!f) {
		struct prov_servers srv = files->ports;
		base_strlcpy(srv.host, host, sizeof(srv.host));
		unsigned char *data;
		size_t len;
		struct base_err gen_err = {0};
		files->generated++;
		if (generate(files, effective, &srv, &data, &len, &gen_err) == 0) {
			f = prov_file_new(data, len, content_type(effective));
		} else if (gen_err.code == BASE_E_NOT_FOUND) {
			f = &not_found;
		} else {
			*err = gen_err;
			return -1;
		}
		if (!f)
			return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		if (files->cache && base_hash_count(files->cache) >= MAX_CACHED) {
			base_hash_free(files->cache, unref_value);
			files->cache = base_hash_new();
		}
		if (!files->cache || base_hash_put(files->cache, key, f, NULL) != 0) {
			/* Not cached: the caller gets the only reference. */
			if (f == &not_found)
				return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no file %s",
				                    name);
			*out = f;
			return 0;
		}
	}
	if (f == &not_found)
		return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no file %s", name);
	*out = prov_file_ref(f);
	return 0;
}
