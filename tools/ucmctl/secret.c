/* secret.c: getting the administrator password without it showing up anywhere. */
#include "ucmctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from the terminal on stdin with echo off. The prompt goes to stderr so that
 * `ucmctl ... > file` still shows it and keeps it out of the file. */
static char *ucmctl_secret_prompt(const char *prompt)
{
	struct termios old, quiet;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool restore = false;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	n = getline(&line, &cap, stdin);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	else
		fputc('\n', stderr);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

char *ucmctl_secret_password(const char *file, const char *prompt, bool confirm, char *err,
                             size_t errlen)
{
	const char *env = getenv("UCM_PASSWORD");
	char *pw, *again;

	if (file) {
		pw = ucmctl_text_read_first_line(file);
		if (!pw) {
			snprintf(err, errlen, "cannot read password file %s: %s", file,
			         strerror(errno));
			return NULL;
		}
	} else if (env) {
		pw = ucmctl_xstrdup(env);
	} else if (isatty(STDIN_FILENO)) {
		pw = ucmctl_secret_prompt(prompt);
		if (pw && confirm && *pw) {
			again = ucmctl_secret_prompt("Again: ");
			if (!again || strcmp(pw, again) != 0) {
				snprintf(err, errlen, "the passwords do not match");
				ucmctl_text_free_secret(again);
				ucmctl_text_free_secret(pw);
				return NULL;
			}
			ucmctl_text_free_secret(again);
		}
		if (!pw) {
			snprintf(err, errlen, "no password entered");
			return NULL;
		}
	} else {
		snprintf(err, errlen,
		         "no password: use --password-file FILE or UCM_PASSWORD, or run on a "
		         "terminal");
		return NULL;
	}
	if (!*pw) {
		snprintf(err, errlen, "the password is empty");
		ucmctl_text_free_secret(pw);
		return NULL;
	}
	return pw;
}
