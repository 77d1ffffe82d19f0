/*
 * ucm-phone: a phone simulator and diagnostics tool, so that tests and administrators can
 * drive ucmd the way a phone does: check its TLS service (tls-check), register a line
 * (register), place a call (call), take calls (answer) and transfer one (transfer).
 */
#include "phone.h"
#include "phone_enroll.h"

#include <string.h>

int main(int argc, char **argv)
{
	/* Each step is a line; whoever reads the output (a test, a pipe) sees it at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		phone_usage(stdout);
		phone_enroll_usage(stdout);
		phone_boot_usage(stdout);
		phone_tvs_usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "enroll") == 0)
		return phone_enroll_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "tvs-query") == 0)
		return phone_tvs_query(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "boot") == 0)
		return phone_boot_main(argc, argv);
	if (argc == 5 && strcmp(argv[1], "tls-check") == 0 && strcmp(argv[3], "--ca") == 0)
		return phone_tls_check(argv[2], argv[4]);
	if (argc < 2 || strcmp(argv[1], "tls-check") == 0) {
		phone_usage(stderr);
		return 2;
	}
	struct phone_opts o;
	struct base_err err = {0};
	if (phone_args_parse(argc, argv, &o, &err) != 0) {
		fprintf(stderr, "ucm-phone: %s\n(ucm-phone --help for usage)\n", err.message);
		phone_args_forget(&o);
		return 2;
	}
	base_log_set_level(o.verbose ? BASE_LOG_DEBUG : BASE_LOG_WARN);
	int rc = phone_ua_run(&o);
	phone_args_forget(&o);
	return rc;
}
