/* Private to the prov layer. */
#ifndef UCM_PROV_INT_H
#define UCM_PROV_INT_H

#include "prov/prov.h"

#include <jansson.h>

struct event;
struct evhttp;
struct ssl_ctx_st;

/* ---- files (prov_files.c) ---------------------------------------------------------------- */

/* Immutable bytes of one served file, shared by the cache and the transfers sending it. */
struct prov_file {
	int refs;
	unsigned char *data;
	size_t len;
	const char *content_type;
};

struct prov_file *prov_file_new(unsigned char *data, size_t len, const char *content_type);
struct prov_file *prov_file_ref(struct prov_file *f);
void prov_file_unref(struct prov_file *f);

/* The namespace and its cache. */
struct prov_files;
struct net_work_pool;

/* A file that was not ready when asked for: f (borrowed: take a reference to keep it), or
 * NULL and err. Called on the loop. */
typedef void (*prov_fetch_fn)(void *arg, struct prov_file *f, const struct base_err *err);

/* work NULL: files are signed on the calling thread (tests). */
struct prov_files *prov_files_new(struct store *store, struct pki *pki, struct net_work_pool *work,
                                  const struct prov_servers *ports);
void prov_files_free(struct prov_files *files);
/*
 * The file `name` as asked through `via` by a client that reached us at `host`. 0 with *out
 * (release with prov_file_unref); 1 when the file is being signed: fn(arg, ...) follows on
 * the loop; -1 with err: BASE_E_NOT_FOUND for no such file, BASE_E_FORBIDDEN for a name that
 * would leave the namespace, BASE_E_THROTTLED when too many requests wait, BASE_E_INTERNAL.
 */
int prov_files_fetch(struct prov_files *files, const char *name, enum prov_via via,
                     const char *host, struct prov_file **out, prov_fetch_fn fn, void *arg,
                     struct base_err *err);
/* Forgets a waiting request (its client went away). */
void prov_files_cancel(struct prov_files *files, prov_fetch_fn fn, void *arg);
/* How many files were generated (not served from the cache) so far: for tests and logs. */
uint64_t prov_files_generated(const struct prov_files *files);

/* ---- configuration files (prov_cnf.c, prov_cnf_doc.c) ------------------------------------ */

/* The minimal unencrypted configuration served in place of the full one to a device whose
 * profile asks for TFTP encrypted config (sgn-and-encrypted-config.md §2.4). */
int prov_cnf_stub(struct store *store, const struct prov_servers *srv, const char *device,
                  unsigned char **out, size_t *len, struct base_err *err);
/* The certificate the system issued to a device (its LSC), or NULL; X509_free() it. */
struct x509_st *prov_cnf_device_cert(struct store *store, const char *device);
/* True when the device's phone security profile sets TFTP encrypted config. */
bool prov_cnf_encrypted(struct store *store, const char *device);
/* The service profile file a Jabber client reads after its configuration. */
int prov_cnf_service_profile(struct store *store, const struct prov_servers *srv,
                             unsigned char **out, size_t *len, struct base_err *err);

#define PROV_SERVICE_PROFILE_FILE "SPDefault.cnf.xml"

/* ---- legacy manual-key files (prov_legacy.c) ---------------------------------------------- */

/* The key bits a manual-key file name implies (SIP<MAC>.cnf.enc.sgn: 128, LD<MAC>.x: 256)
 * and its device SEP<MAC>; 0 for any other name. */
int prov_legacy_name(const char *name, char device[16]);
/* The manual key bits of a device's model (0: not a manual-key phone, or no such device). */
int prov_legacy_device_bits(struct store *store, const char *device);

/* What encrypting a manual-key file needs; the key and data are secrets. */
struct prov_legacy_job {
	unsigned char key[32];
	size_t key_len;
	unsigned char *data;
	size_t len;
};
/* 1: not a manual-key name; 0: job filled; -1 with err (BASE_E_NOT_FOUND: not served). */
int prov_legacy_plan(struct store *store, const struct prov_servers *srv, const char *name,
                     struct prov_legacy_job *job, struct base_err *err);

/* ---- TFTP server (prov_tftp.c) ----------------------------------------------------------- */

struct prov_tftp;

struct prov_tftp_options {
	const char *listen;
	int max_transfers, max_per_source;
	struct prov_tftp_limits limits;
	uint32_t timeout_ms; /* retransmission timeout without the timeout option */
	int retries;         /* retransmissions before a transfer is abandoned */
};

int prov_tftp_start(struct prov_tftp **out, struct event_base *base, struct prov_files *files,
                    const struct prov_tftp_options *opt, struct base_err *err);
void prov_tftp_stop(struct prov_tftp *tftp);

/* ---- HTTP and HTTPS servers (prov_http.c) ------------------------------------------------ */

struct prov_http;

int prov_http_start(struct prov_http **out, struct event_base *base, struct prov_files *files,
                    const char *listen, enum prov_via via, const char *cert, const char *key,
                    struct base_err *err);
void prov_http_stop(struct prov_http *http);

/* ---- device actions (prov_actions.c) ----------------------------------------------------- */

struct prov_actions;

int prov_actions_start(struct prov_actions **out, struct event_base *base, struct store *store,
                       struct prov_files *files, struct sip_stack *sip,
                       struct sip_registrar *registrar, struct base_err *err);
void prov_actions_stop(struct prov_actions *actions);

#endif
