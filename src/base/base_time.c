/* Wall-clock time as seconds since the epoch, and its RFC 3339 form for APIs and logs. */
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t base_time_now(void)
{
	return (int64_t)time(NULL);
}

void base_time_format(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	/* strftime cannot overflow: the pattern has a fixed width for years 0-9999. */
	if (strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		base_strlcpy(out, "0000-00-00T00:00:00Z", 21);
}

int base_time_parse(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char zone[8] = "";
	int consumed = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
	    consumed != 19)
		return -1;
	base_strlcpy(zone, s + consumed, sizeof(zone));
	if (strcmp(zone, "Z") != 0 && strcmp(zone, "+00:00") != 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int day = tm.tm_mday;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != day) /* timegm normalises 31 Feb into March */
		return -1;
	*out = (int64_t)t;
	return 0;
}
