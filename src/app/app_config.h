/* ucmd's settings: what is needed before the database opens, from ucmd.conf and options. */
#ifndef UCM_APP_CONFIG_H
#define UCM_APP_CONFIG_H

#include "base/base.h"

/* One listener of ARCHITECTURE.md: its config key and its default address. */
struct app_listener {
	const char *key;     /* "admin_listen" */
	const char *purpose; /* for --help */
	const char *def;     /* "0.0.0.0:8443" */
	char value[128];
};

enum {
	APP_LISTEN_ADMIN,
	APP_LISTEN_SIP_UDP,
	APP_LISTEN_SIP_TCP,
	APP_LISTEN_SIP_TLS,
	APP_LISTEN_TFTP,
	APP_LISTEN_HTTP,
	APP_LISTEN_HTTPS,
	APP_LISTEN_CAPF,
	APP_LISTEN_TVS,
	APP_LISTEN_CTI,
	APP_LISTEN_CTI_TLS,
	APP_LISTEN_RCC,
	APP_LISTEN_COUNT
};

struct app_config {
	char config_path[4096];
	char data_dir[4096];
	char database[4096];
	char log_level[16];
	struct app_listener listen[APP_LISTEN_COUNT];
};

void app_config_defaults(struct app_config *cfg);
/* Reads the options, and the config file they name (or the default one if it exists). */
int app_config_load(struct app_config *cfg, int argc, char **argv, bool *show_help,
                    struct base_err *err);
int app_config_validate(const struct app_config *cfg, struct base_err *err);
void app_config_usage(const struct app_config *cfg);

#endif
