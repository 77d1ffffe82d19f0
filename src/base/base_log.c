/*
 * Logging: one line per event on stderr, UTC timestamp first, so that `grep`, `sort` and
 * journald all work on it. Secrets never reach this function: callers mask them first.
 */
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum base_log_level log_threshold = BASE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void base_log_set_level(enum base_log_level level)
{
	log_threshold = level;
}

int base_log_level_parse(const char *name, enum base_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum base_log_level)i;
			return 0;
		}
	}
	return -1;
}

void base_log(enum base_log_level level, const char *module, const char *fmt, ...)
{
	if (level < log_threshold)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof(line),
	                 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s %s: ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 (int)(tv.tv_usec / 1000), level_names[level], module);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* A log line is one line: embedded newlines from peers would let them forge entries. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}
