/*
 * Settings come from three places, later ones winning: built-in defaults, ucmd.conf, and
 * command-line options. Every setting has the same name in the file and on the command line
 * (`admin_listen = ...` and `--admin-listen ...`), so the help text documents both.
 */
#include "app/app_config.h"
#include "net/net.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG   "/etc/openucm/ucmd.conf"
#define DEFAULT_DATA_DIR "/var/lib/openucm"

static const struct app_listener listener_table[APP_LISTEN_COUNT] = {
    {"admin_listen", "REST API, EST, metrics (HTTPS)", "0.0.0.0:8443", ""},
    {"sip_udp_listen", "SIP over UDP", "0.0.0.0:5060", ""},
    {"sip_tcp_listen", "SIP over TCP", "0.0.0.0:5060", ""},
    {"sip_tls_listen", "SIP over TLS", "0.0.0.0:5061", ""},
    {"tftp_listen", "TFTP device files", "0.0.0.0:69", ""},
    {"http_listen", "HTTP device files", "0.0.0.0:6970", ""},
    {"https_listen", "HTTPS device files", "0.0.0.0:6971", ""},
    {"capf_listen", "CAPF certificate enrollment (TLS)", "0.0.0.0:3804", ""},
    {"tvs_listen", "Trust verification service (TLS)", "0.0.0.0:2445", ""},
    {"cti_listen", "CSTA XML for CTI applications", "0.0.0.0:2748", ""},
    {"cti_tls_listen", "CSTA XML over TLS", "0.0.0.0:2749", ""},
    {"rcc_listen", "CSTA over SIP for Microsoft clients (TLS)", "0.0.0.0:5062", ""},
};

void app_config_defaults(struct app_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	base_strlcpy(cfg->data_dir, DEFAULT_DATA_DIR, sizeof(cfg->data_dir));
	base_strlcpy(cfg->log_level, "info", sizeof(cfg->log_level));
	for (int i = 0; i < APP_LISTEN_COUNT; i++) {
		cfg->listen[i] = listener_table[i];
		base_strlcpy(cfg->listen[i].value, listener_table[i].def,
		             sizeof(cfg->listen[i].value));
	}
}

/* Sets one setting by its name; -1 if the name is unknown. */
static int set(struct app_config *cfg, const char *key, const char *value)
{
	struct {
		const char *key;
		char *dst;
		size_t size;
	} scalars[] = {{"data_dir", cfg->data_dir, sizeof(cfg->data_dir)},
	               {"database", cfg->database, sizeof(cfg->database)},
	               {"log_level", cfg->log_level, sizeof(cfg->log_level)}};
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		if (strcmp(scalars[i].key, key) == 0) {
			base_strlcpy(scalars[i].dst, value, scalars[i].size);
			return 0;
		}
	}
	for (int i = 0; i < APP_LISTEN_COUNT; i++) {
		if (strcmp(cfg->listen[i].key, key) == 0) {
			base_strlcpy(cfg->listen[i].value, value, sizeof(cfg->listen[i].value));
			return 0;
		}
	}
	return -1;
}

static int load_file(struct app_config *cfg, const char *path, struct base_err *err)
{
	struct base_conf conf;
	if (base_conf_load(&conf, path, err) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < conf.count && rc == 0; i++)
		if (set(cfg, conf.entries[i].key, conf.entries[i].value) != 0)
			rc = base_err_set(err, BASE_E_INVALID, conf.entries[i].key,
			                  "%s:%d: unknown setting %s", path, conf.entries[i].line,
			                  conf.entries[i].key);
	base_conf_free(&conf);
	return rc;
}

/* Options are the setting names with '-' for '_', plus --config and --help. */
int app_config_load(struct app_config *cfg, int argc, char **argv, bool *show_help,
                    struct base_err *err)
{
	struct option opts[APP_LISTEN_COUNT + 6];
	static char names[APP_LISTEN_COUNT + 3][40];
	const char *keys[APP_LISTEN_COUNT + 3] = {"data_dir", "database", "log_level"};
	for (int i = 0; i < APP_LISTEN_COUNT; i++)
		keys[3 + i] = cfg->listen[i].key;
	int n = 0;
	for (; n < APP_LISTEN_COUNT + 3; n++) {
		base_strlcpy(names[n], keys[n], sizeof(names[n]));
		for (char *p = names[n]; *p; p++)
			if (*p == '_')
				*p = '-';
		opts[n] = (struct option){names[n], required_argument, NULL, 1000 + n};
	}
	opts[n++] = (struct option){"config", required_argument, NULL, 'c'};
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n] = (struct option){0};

	/* First pass: only find the config file, which the options then override. */
	const char *config = NULL;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1)
		if (c == 'c')
			config = optarg;
	if (config || access(DEFAULT_CONFIG, R_OK) == 0) {
		base_strlcpy(cfg->config_path, config ? config : DEFAULT_CONFIG,
		             sizeof(cfg->config_path));
		if (load_file(cfg, cfg->config_path, err) != 0)
			return -1;
	}
	optind = 1;
	*show_help = false;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'h')
			*show_help = true;
		else if (c >= 1000)
			set(cfg, keys[c - 1000], optarg);
		else if (c != 'c')
			return base_err_set(err, BASE_E_INVALID, NULL,
			                    "unknown or incomplete option %s; see ucmd --help",
			                    argv[optind - 1]);
	}
	if (optind < argc)
		return base_err_set(err, BASE_E_INVALID, NULL, "unexpected argument %s",
		                    argv[optind]);
	return 0;
}

int app_config_validate(const struct app_config *cfg, struct base_err *err)
{
	enum base_log_level level;
	if (base_log_level_parse(cfg->log_level, &level) != 0)
		return base_err_set(err, BASE_E_INVALID, "log_level",
		                    "log_level must be debug, info, warn or error, not \"%s\"",
		                    cfg->log_level);
	if (!cfg->data_dir[0])
		return base_err_set(err, BASE_E_INVALID, "data_dir", "data_dir is empty");
	if (strncmp(cfg->database, "postgresql://", 13) == 0 ||
	    strncmp(cfg->database, "postgres://", 11) == 0)
		return base_err_set(err, BASE_E_INVALID, "database",
		                    "this build has only the SQLite store; use database = "
		                    "sqlite:PATH or leave it empty for %s/ucm.db",
		                    cfg->data_dir);
	if (cfg->database[0] && (strncmp(cfg->database, "sqlite:", 7) != 0 || !cfg->database[7]))
		return base_err_set(err, BASE_E_INVALID, "database",
		                    "database must be sqlite:PATH, not \"%s\"", cfg->database);
	for (int i = 0; i < APP_LISTEN_COUNT; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (net_addr_parse(cfg->listen[i].value, &ss, &len, err) != 0)
			return base_err_set(err, BASE_E_INVALID, cfg->listen[i].key,
			                    "%s: listen address \"%s\" is not host:port",
			                    cfg->listen[i].key, cfg->listen[i].value);
	}
	return 0;
}

void app_config_usage(const struct app_config *cfg)
{
	printf("usage: ucmd [options]\n\n"
	       "OpenUCM call-control server. Settings are read from ucmd.conf (`key = value`)\n"
	       "and each can be overridden by the option of the same name.\n\n"
	       "  -c, --config FILE        settings file (default %s, if present)\n"
	       "  --data-dir DIR           data directory: database, keys, certificates\n"
	       "                           (default %s)\n"
	       "  --database URL           sqlite:PATH (default DATA_DIR/ucm.db)\n"
	       "  --log-level LEVEL        debug, info, warn or error (default info)\n",
	       DEFAULT_CONFIG, DEFAULT_DATA_DIR);
	for (int i = 0; i < APP_LISTEN_COUNT; i++) {
		char opt[40];
		snprintf(opt, sizeof(opt), "--%s", cfg->listen[i].key);
		for (char *p = opt + 2; *p; p++)
			if (*p == '_')
				*p = '-';
		printf("  %-24s %s (default %s)\n", opt, cfg->listen[i].purpose,
		       listener_table[i].def);
	}
	printf("  -h, --help               this text\n\n"
	       "On first start ucmd creates its data directory, database and certificate\n"
	       "authority, and writes a one-time token; `ucmctl init` uses it to create the\n"
	       "first administrator. SIGTERM or SIGINT stops the server cleanly.\n");
}
