/*
 * The namespace of device files: a requested name maps to the generator that makes it, and
 * what a generator made is cached until the store's generation moves on (any committed
 * configuration change, a certificate issued to a phone included). A boot storm therefore
 * costs one generation per file and server address; every other request is a hash lookup
 * and a reference count. Names that do not exist are cached too, since phones ask for many
 * of them (CTLSEP<MAC>.tlv, ...).
 *
 *   SEP<MAC>.cnf.xml, <CSF/TCT/BOT/TAB>.cnf.xml    the device's configuration (the minimal
 *                                                 stub when its profile encrypts it)
 *   XMLDefault.cnf.xml                            non-secure clusters only
 *   SPDefault.cnf.xml, ca.crt                     service profile, the system CA
 *   ITLFile.tlv, CTLFile.tlv                      trust lists (CTL in mixed mode only)
 *   <any of the above but .tlv>.sgn               signed with the tftp-signer key
 *   <device>.cnf.xml.enc.sgn                      encrypted for the phone's certificate, only
 *                                                 when its profile sets TFTP encrypted config
 *   SIP<MAC>.cnf.enc.sgn, LD<MAC>.x               the same for legacy phones, with their
 *                                                 manual symmetric key (prov_legacy.c)
 *
 * Reading the store and building XML happen on the loop; RSA signing and encryption run on
 * the worker pool with copies of what they need. Requests for a file being made wait for
 * that one job instead of starting their own.
 */
#include "net/net.h"
#include "pki/pki.h"
#include "prov/prov_int.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Past this many cached names the cache starts over, so that a client inventing names
 * cannot grow it without bound. */
#define MAX_CACHED 65536
/* Requests waiting for files being signed, over all jobs. */
#define MAX_WAITING 8192

struct waiter {
	prov_fetch_fn fn;
	void *arg;
	struct waiter *next;
};

/* A file being signed or encrypted on a worker. */
struct job {
	struct prov_files *files;
	char key[PROV_TFTP_MAX_NAME + 80];
	uint64_t generation;
	const char *content_type;
	struct waiter *waiters;
	/* input, owned by the job */
	enum { JOB_SGN, JOB_ENC_SGN, JOB_TRUST_LIST, JOB_MANUAL } kind;
	enum pki_trust_list_kind list;
	char sign_name[PROV_TFTP_MAX_NAME + 1];
	unsigned char *data;
	size_t len;
	X509 *cert;
	unsigned char manual_key[32]; /* JOB_MANUAL: the device's symmetric key */
	size_t manual_key_len;
	/* output */
	unsigned char *out;
	size_t out_len;
	int rc;
	struct base_err err;
};

struct prov_files {
	struct store *store;
	struct pki *pki;
	struct net_work_pool *work;
	struct prov_servers ports;
	struct base_hash *cache; /* "host|name" -> struct prov_file, or &not_found */
	struct base_hash *jobs;  /* "host|name" -> struct job being made */
	uint64_t generation;
	uint64_t generated;
	int waiting;
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

struct prov_files *prov_files_new(struct store *store, struct pki *pki, struct net_work_pool *work,
                                  const struct prov_servers *ports)
{
	struct prov_files *files = calloc(1, sizeof(*files));
	if (!files || !(files->cache = base_hash_new()) || !(files->jobs = base_hash_new())) {
		if (files)
			base_hash_free(files->cache, NULL);
		free(files);
		return NULL;
	}
	files->store = store, files->pki = pki, files->work = work, files->ports = *ports;
	files->generation = store_generation(store);
	return files;
}

void prov_files_free(struct prov_files *files)
{
	if (!files)
		return;
	base_hash_free(files->cache, unref_value);
	/* Jobs still on a worker come back through the pool, which is freed first. */
	base_hash_free(files->jobs, NULL);
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

static bool cluster_mixed(struct store *store)
{
	bool mixed = false;
	return pki_cluster_mixed_mode(store, &mixed, NULL) == 0 && mixed;
}

static int not_found_err(struct base_err *err, const char *name)
{
	return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no file %s", name);
}

/* The device of "<device>.cnf.xml" (with `suffix` after it), or false. */
static bool device_of(const char *name, const char *suffix, char *device, size_t size)
{
	char tail[32];
	snprintf(tail, sizeof(tail), ".cnf.xml%s", suffix);
	if (!ends_with(name, tail) || strlen(name) - strlen(tail) >= size)
		return false;
	base_strlcpy(device, name, strlen(name) - strlen(tail) + 1);
	return true;
}

/* Makes an unsigned file now: BASE_E_NOT_FOUND when no generator knows it. */
static int make_plain(struct prov_files *files, const char *name, const struct prov_servers *srv,
                      unsigned char **out, size_t *len, struct base_err *err)
{
	struct store *store = files->store;
	char device[PROV_TFTP_MAX_NAME + 1];
	/* The configuration of phones the system does not know, which is what auto-registration
	 * hands out; that is off in a mixed-mode cluster (security-1 §4, E3). */
	if (strcmp(name, "XMLDefault.cnf.xml") == 0)
		return cluster_mixed(store) ? base_err_set(err, BASE_E_NOT_FOUND, NULL,
		                                           "no default configuration in mixed mode")
		                            : prov_cnf_default(store, srv, out, len, err);
	if (strcmp(name, PROV_SERVICE_PROFILE_FILE) == 0)
		return prov_cnf_service_profile(store, srv, out, len, err);
	if (strcmp(name, "ca.crt") == 0)
		return read_file(pki_ca_cert_path(files->pki), out, len, err);
	if (device_of(name, "", device, sizeof(device))) {
		if (!prov_cnf_encrypted(store, device))
			return prov_cnf_device(store, srv, device, true, out, len, err);
		/* Encrypted configuration: the plain name gets the stub, never the secrets.
		 * Manual-key phones have no certificate hash to compare. */
		X509 *cert = prov_legacy_device_bits(store, device)
		                 ? NULL
		                 : prov_cnf_device_cert(store, device);
		if (!cert)
			return prov_cnf_stub(store, srv, device, out, len, err);
		unsigned char *full;
		size_t full_len;
		int rc = prov_cnf_device(store, srv, device, false, &full, &full_len, err);
		if (rc == 0)
			rc = pki_enc_stub_build((const char *)full, full_len, cert, (char **)out,
			                        len, err);
		free(full);
		X509_free(cert);
		return rc;
	}
	return not_found_err(err, name);
}

/* Decides what signing job makes `name`; 0 with the job's input filled, -1 with err. */
static int plan_job(struct prov_files *files, const char *name, const struct prov_servers *srv,
                    struct job *job, struct base_err *err)
{
	char device[PROV_TFTP_MAX_NAME + 1];
	job->kind = JOB_SGN;
	if (strcmp(name, "ITLFile.tlv") == 0 || strcmp(name, "CTLFile.tlv") == 0) {
		job->kind = JOB_TRUST_LIST;
		job->list = name[0] == 'I' ? PKI_ITL : PKI_CTL;
		if (job->list == PKI_CTL && !cluster_mixed(files->store))
			return base_err_set(err, BASE_E_NOT_FOUND, NULL,
			                    "CTLFile.tlv exists only in mixed mode");
		return 0;
	}
	if (device_of(name, ".enc.sgn", device, sizeof(device))) {
		/* Only for devices whose profile asks for it, and that have a certificate to
		 * encrypt to; otherwise "not found" sends the phone to the .sgn. */
		if (!prov_cnf_encrypted(files->store, device) ||
		    prov_legacy_device_bits(files->store, device) ||
		    !(job->cert = prov_cnf_device_cert(files->store, device)))
			return not_found_err(err, name);
		job->kind = JOB_ENC_SGN;
		base_strlcpy(job->sign_name, name, strlen(name) - strlen(".enc.sgn") + 1);
		return prov_cnf_device(files->store, srv, device, true, &job->data, &job->len, err);
	}
	struct prov_legacy_job manual = {0};
	int legacy = prov_legacy_plan(files->store, srv, name, &manual, err);
	if (legacy <= 0) {
		job->kind = JOB_MANUAL;
		base_strlcpy(job->sign_name, name, sizeof(job->sign_name));
		memcpy(job->manual_key, manual.key, sizeof(job->manual_key));
		job->manual_key_len = manual.key_len;
		job->data = manual.data, job->len = manual.len;
		OPENSSL_cleanse(&manual, sizeof(manual));
		return legacy;
	}
	if (!ends_with(name, ".sgn") || ends_with(name, ".tlv.sgn"))
		return not_found_err(err, name);
	base_strlcpy(job->sign_name, name, strlen(name) - strlen(".sgn") + 1);
	return make_plain(files, job->sign_name, srv, &job->data, &job->len, err);
}

static void run_job(void *arg)
{
	struct job *job = arg;
	struct pki *pki = job->files->pki;
	switch (job->kind) {
	case JOB_TRUST_LIST:
		job->rc =
		    pki_trust_list_build(pki, NULL, job->list, &job->out, &job->out_len, &job->err);
		break;
	case JOB_ENC_SGN:
		job->rc = pki_enc_sgn_build(pki, job->sign_name, job->data, job->len, job->cert,
		                            &job->out, &job->out_len, &job->err);
		break;
	case JOB_MANUAL:
		job->rc =
		    pki_manual_sgn_build(pki, job->sign_name, job->manual_key, job->manual_key_len,
		                         job->data, job->len, &job->out, &job->out_len, &job->err);
		break;
	case JOB_SGN:
		job->rc = pki_sgn_build(pki, job->sign_name, job->data, job->len, &job->out,
		                        &job->out_len, &job->err);
		break;
	}
}

static void job_free(struct job *job)
{
	if (job->data)
		OPENSSL_cleanse(job->data, job->len); /* may hold digest credentials */
	free(job->data);
	OPENSSL_cleanse(job->manual_key, sizeof(job->manual_key));
	X509_free(job->cert);
	free(job->out);
	free(job);
}

/* Keeps f (or &not_found) under key; the cache takes its own reference. */
static void cache_put(struct prov_files *files, const char *key, struct prov_file *f)
{
	if (base_hash_count(files->cache) >= MAX_CACHED) {
		base_hash_free(files->cache, unref_value);
		files->cache = base_hash_new();
	}
	void *old = NULL;
	if (files->cache &&
	    base_hash_put(files->cache, key, f == &not_found ? f : prov_file_ref(f), &old) != 0 &&
	    f != &not_found)
		prov_file_unref(f);
	prov_file_unref(old);
}

static void job_done(void *arg)
{
	struct job *job = arg;
	struct prov_files *files = job->files;
	base_hash_remove(files->jobs, job->key);
	struct prov_file *f = NULL;
	if (job->rc == 0 && (f = prov_file_new(job->out, job->out_len, job->content_type)))
		job->out = NULL;
	else if (job->rc == 0)
		base_err_set(&job->err, BASE_E_INTERNAL, NULL, "out of memory");
	bool current = job->generation == files->generation;
	if (current && (f || job->err.code == BASE_E_NOT_FOUND))
		cache_put(files, job->key, f ? f : &not_found);
	while (job->waiters) {
		struct waiter *w = job->waiters;
		job->waiters = w->next;
		files->waiting--;
		w->fn(w->arg, f, f ? NULL : &job->err);
		free(w);
	}
	prov_file_unref(f);
	job_free(job);
}

static int wait_for(struct prov_files *files, struct job *job, prov_fetch_fn fn, void *arg,
                    struct base_err *err)
{
	struct waiter *w = files->waiting < MAX_WAITING ? calloc(1, sizeof(*w)) : NULL;
	if (!w)
		return base_err_set(err, BASE_E_THROTTLED, NULL, "too many requests; try later");
	w->fn = fn, w->arg = arg, w->next = job->waiters;
	job->waiters = w;
	files->waiting++;
	return 1;
}

/* Starts the signing job for key, or reports at once when it needs none. */
static int start_job(struct prov_files *files, const char *key, const char *name,
                     const struct prov_servers *srv, struct prov_file **out, prov_fetch_fn fn,
                     void *arg, struct base_err *err)
{
	struct job *job = calloc(1, sizeof(*job));
	if (!job)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	job->files = files, job->generation = files->generation;
	job->content_type = content_type(name);
	base_strlcpy(job->key, key, sizeof(job->key));
	if (plan_job(files, name, srv, job, &job->err) != 0) {
		if (job->err.code == BASE_E_NOT_FOUND)
			cache_put(files, key, &not_found);
		*err = job->err;
		job_free(job);
		return -1;
	}
	if (!files->work) { /* no pool (tests): sign here */
		run_job(job);
		struct prov_file *f = NULL;
		if (job->rc == 0 &&
		    (f = prov_file_new(job->out, job->out_len, job->content_type))) {
			job->out = NULL;
			cache_put(files, key, f);
			*out = f;
		} else if (job->rc == 0) {
			base_err_set(&job->err, BASE_E_INTERNAL, NULL, "out of memory");
		}
		*err = job->err;
		job_free(job);
		return f ? 0 : -1;
	}
	if (base_hash_put(files->jobs, key, job, NULL) != 0) {
		job_free(job);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	int rc = wait_for(files, job, fn, arg, err);
	if (rc != 1 || net_work_submit(files->work, run_job, job_done, job, err) != 0) {
		base_hash_remove(files->jobs, key);
		if (rc == 1)
			files->waiting--, free(job->waiters);
		job_free(job);
		return -1;
	}
	return 1;
}

int prov_files_fetch(struct prov_files *files, const char *name, enum prov_via via,
                     const char *host, struct prov_file **out, prov_fetch_fn fn, void *arg,
                     struct base_err *err)
{
	*out = NULL;
	if (name[0] == '/')
		name++;
	if (!prov_name_is_safe(name))
		return base_err_set(err, BASE_E_FORBIDDEN, NULL,
		                    "file names are relative paths of A-Z a-z 0-9 . _ -");
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
	if (f == &not_found)
		return not_found_err(err, name);
	if (f) {
		*out = prov_file_ref(f);
		return 0;
	}
	struct job *job = base_hash_get(files->jobs, key);
	if (job && job->generation == files->generation)
		return wait_for(files, job, fn, arg, err);
	struct prov_servers srv = files->ports;
	base_strlcpy(srv.host, host, sizeof(srv.host));
	files->generated++;
	char legacy_device[16];
	if (ends_with(effective, ".sgn") || ends_with(effective, ".tlv") ||
	    prov_legacy_name(effective, legacy_device))
		return start_job(files, key, effective, &srv, out, fn, arg, err);
	unsigned char *data;
	size_t len;
	struct base_err gen_err = {0};
	if (make_plain(files, effective, &srv, &data, &len, &gen_err) != 0) {
		if (gen_err.code == BASE_E_NOT_FOUND)
			cache_put(files, key, &not_found);
		*err = gen_err;
		return -1;
	}
	if (!(f = prov_file_new(data, len, content_type(effective))))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	cache_put(files, key, f);
	*out = f;
	return 0;
}

struct cancel {
	prov_fetch_fn fn;
	void *arg;
	int removed;
};

static void cancel_in(void *arg, const char *key, void *value)
{
	(void)key;
	struct cancel *c = arg;
	struct job *job = value;
	for (struct waiter **w = &job->waiters; *w;) {
		if ((*w)->fn == c->fn && (*w)->arg == c->arg) {
			struct waiter *gone = *w;
			*w = gone->next;
			free(gone);
			c->removed++;
		} else {
			w = &(*w)->next;
		}
	}
}

void prov_files_cancel(struct prov_files *files, prov_fetch_fn fn, void *arg)
{
	struct cancel c = {fn, arg, 0};
	base_hash_foreach(files->jobs, cancel_in, &c);
	files->waiting -= c.removed;
}
