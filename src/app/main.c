/*
 * ucmd: one process, one event loop. main() reads the settings, prepares the data
 * directory, opens the store and the certificate authority, starts the services and runs
 * until SIGTERM or SIGINT.
 */
#include "admin/admin.h"
#include "app/app_config.h"
#include "app/app_sip.h"
#include "prov/prov.h"

#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct app {
	struct app_config cfg;
	struct event_base *base;
	struct store *store;
	struct pki *pki;
	struct admin *admin;
	struct app_sip *sip;
	struct net_work_pool *pool; /* signing and key checks, off the loop */
	struct pki_capf *capf;
	struct prov *prov;
	struct pki_tvs *tvs;
};

static void on_signal(evutil_socket_t sig, short events, void *arg)
{
	(void)events;
	struct app *app = arg;
	base_log(BASE_LOG_INFO, "app", "received %s; stopping",
	         sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(app->base, NULL);
}

static int prepare_data_dir(const char *dir, struct base_err *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return base_err_set(err, BASE_E_INVALID, "data_dir", "cannot create %s: %s", dir,
		                    strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return base_err_set(err, BASE_E_INVALID, "data_dir", "%s is not a directory", dir);
	/* Keys and the database live here: nobody else may look in. */
	if ((st.st_mode & 077) && chmod(dir, 0700) != 0)
		return base_err_set(err, BASE_E_INVALID, "data_dir", "cannot restrict %s: %s", dir,
		                    strerror(errno));
	return 0;
}

static int start(struct app *app, struct base_err *err)
{
	const struct app_config *cfg = &app->cfg;
	char db[4200], key[4200];
	if (cfg->database[0])
		snprintf(db, sizeof(db), "%s", cfg->database + strlen("sqlite:"));
	else
		snprintf(db, sizeof(db), "%s/ucm.db", cfg->data_dir);
	snprintf(key, sizeof(key), "%s/store.key", cfg->data_dir);
	if (prepare_data_dir(cfg->data_dir, err) != 0 ||
	    store_open(&app->store, db, key, err) != 0 ||
	    pki_open(&app->pki, cfg->data_dir, err) != 0)
		return -1;
	base_log(BASE_LOG_INFO, "app", "store %s opened", db);
	if (!(app->base = event_base_new()))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot create the event loop");
	if (net_work_pool_new(&app->pool, app->base, 2, 0, err) != 0 ||
	    pki_crl_start(app->pki, app->base, app->store, err) != 0)
		return -1;
	if (app_sip_start(&app->sip, app->base, app->store, app->pki, cfg, err) != 0)
		return -1;
	struct pki_capf_options capf_opt = {.listen = cfg->listen[APP_LISTEN_CAPF].value};
	if (pki_capf_start(&app->capf, app->base, app->pki, app->store, app->pool, &capf_opt,
	                   err) != 0 ||
	    pki_tvs_start(&app->tvs, app->base, app->pki, cfg->listen[APP_LISTEN_TVS].value, err) !=
	        0)
		return -1;
	struct prov_options prov_opt = {
	    .tftp_listen = cfg->listen[APP_LISTEN_TFTP].value,
	    .http_listen = cfg->listen[APP_LISTEN_HTTP].value,
	    .https_listen = cfg->listen[APP_LISTEN_HTTPS].value,
	    .sip_listen = cfg->listen[APP_LISTEN_SIP_TCP].value,
	    .sip_tls_listen = cfg->listen[APP_LISTEN_SIP_TLS].value,
	    .capf_listen = cfg->listen[APP_LISTEN_CAPF].value,
	    .tvs_listen = cfg->listen[APP_LISTEN_TVS].value,
	    .work = app->pool,
	};
	if (prov_start(&app->prov, app->base, app->store, app->pki, app_sip_stack(app->sip),
	               app_sip_registrar(app->sip), &prov_opt, err) != 0)
		return -1;
	struct admin_options admin_opt = {cfg->listen[APP_LISTEN_ADMIN].value, cfg->data_dir,
	                                  app_sip_calls(app->sip), app->pool};
	return admin_start(&app->admin, app->base, app->store, app->pki, &admin_opt, err);
}

static void stop(struct app *app)
{
	/* CAPF before the pool: a session being signed for is finished by the pool. The pool
	 * before admin: its last EST completions still use the admin. */
	pki_capf_stop(app->capf);
	net_work_pool_free(app->pool);
	admin_stop(app->admin);
	pki_tvs_stop(app->tvs);
	prov_stop(app->prov);
	app_sip_stop(app->sip);
	pki_close(app->pki);
	store_close(app->store);
	if (app->base)
		event_base_free(app->base);
}

/* Every SIP message allocates and frees its parse and its transaction. With glibc's default
 * thresholds the top of the heap goes back to the kernel whenever it falls free and is taken
 * again a moment later, a page fault per page each time (6 % of a REGISTER's CPU). */
static void keep_heap(void)
{
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 4 << 20);
}

int main(int argc, char **argv)
{
	static struct app app;
	struct base_err err = {0};
	bool help = false;
	keep_heap();
	app_config_defaults(&app.cfg);
	if (app_config_load(&app.cfg, argc, argv, &help, &err) != 0) {
		fprintf(stderr, "ucmd: %s\n", err.message);
		return 2;
	}
	if (help) {
		app_config_usage(&app.cfg);
		return 0;
	}
	if (app_config_validate(&app.cfg, &err) != 0) {
		fprintf(stderr, "ucmd: %s\n", err.message);
		return 2;
	}
	enum base_log_level level;
	base_log_level_parse(app.cfg.log_level, &level);
	base_log_set_level(level);
	signal(SIGPIPE, SIG_IGN);
	/* Everything ucmd writes (database, keys, tokens) is for the service user alone. */
	umask(077);
	if (start(&app, &err) != 0) {
		base_log(BASE_LOG_ERROR, "app", "cannot start: %s", err.message);
		stop(&app);
		return 1;
	}
	struct event *term = evsignal_new(app.base, SIGTERM, on_signal, &app);
	struct event *intr = evsignal_new(app.base, SIGINT, on_signal, &app);
	event_add(term, NULL);
	event_add(intr, NULL);
	base_log(BASE_LOG_INFO, "app", "ucmd ready (data %s)", app.cfg.data_dir);
	event_base_dispatch(app.base);
	event_free(term);
	event_free(intr);
	stop(&app);
	base_log(BASE_LOG_INFO, "app", "stopped");
	return 0;
}
