/*
 * The floor of the REGISTER benchmark: a UDP responder that does nothing but the system calls.
 *
 * It answers every REGISTER without an Authorization header with a fixed 401 challenge and
 * every other one with 200 OK, copying Via, From, To, Call-ID, CSeq and Contact. No digest
 * check, no registrar, no transaction, no store: what it costs per registration is what the
 * kernel charges any server for the same four datagrams on this machine, waiting for them the
 * way the server does. Not part of ucmd; bench/run.sh measures it beside ucmd and Kamailio so
 * that the two servers' numbers can be read against it.
 *
 *	sip_floor 127.0.0.1 PORT epoll     one thread: epoll_wait, recvmmsg, sendto (ucmd's way)
 *	sip_floor 127.0.0.1 PORT blocking  two processes in blocking recvfrom (Kamailio's way)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 16
#define MAX   4096

static const char *copied[] = {"Via:", "From:", "To:", "Call-ID:", "CSeq:", "Contact:"};

static size_t add(char *out, size_t len, const char *s, size_t n)
{
	if (len + n < MAX) {
		memcpy(out + len, s, n);
		len += n;
	}
	return len;
}

/* The response to the request in `in`: 401 or 200, headers copied line by line. */
static size_t respond(const char *in, size_t n, char *out)
{
	bool authorized = memmem(in, n, "\nAuthorization:", 15) != NULL;
	size_t len = 0;
	len = authorized ? add(out, len, "SIP/2.0 200 OK\r\n", 16)
	                 : add(out, len, "SIP/2.0 401 Unauthorized\r\n", 26);
	const char *p = memchr(in, '\n', n), *end = in + n;
	while (p && ++p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t line = (size_t)((eol ? eol : end) - p);
		for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
			size_t k = strlen(copied[i]);
			if (line > k && strncasecmp(p, copied[i], k) == 0) {
				size_t keep = line && p[line - 1] == '\r' ? line - 1 : line;
				len = add(out, len, p, keep);
				if (i == 2)
					len = add(out, len, ";tag=floor", 10);
				if (i == 5 && authorized)
					len = add(out, len, ";expires=3600", 13);
				len = add(out, len, "\r\n", 2);
			}
		}
		p = eol;
	}
	if (!authorized) {
		static const char challenge[] =
		    "WWW-Authenticate: Digest realm=\"ccmsipline\", "
		    "nonce=\"AAAAAGdU7sAAAAAAAAAAAZ3sNxWUfC8ZOl5q1w1pG6Q\", algorithm=MD5, "
		    "qop=\"auth\"\r\n";
		len = add(out, len, challenge, sizeof(challenge) - 1);
	}
	return add(out, len, "Content-Length: 0\r\n\r\n", 21);
}

static void answer(int fd, const char *in, size_t n, const struct sockaddr *from,
                   socklen_t from_len)
{
	char out[MAX];
	size_t len = respond(in, n, out);
	sendto(fd, out, len, 0, from, from_len);
}

static void serve_epoll(int fd)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	static char bufs[BATCH][MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], MAX};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
			                                  .msg_namelen = sizeof(from[i]),
			                                  .msg_iov = &iov[i],
			                                  .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++)
			answer(fd, bufs[i], msgs[i].msg_len, (struct sockaddr *)&from[i],
			       msgs[i].msg_hdr.msg_namelen);
	}
}

static void serve_blocking(int fd)
{
	char in[MAX];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &from_len);
		if (n > 0)
			answer(fd, in, (size_t)n, (struct sockaddr *)&from, from_len);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: sip_floor ADDRESS PORT epoll|blocking\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("sip_floor: bind");
		return 1;
	}
	if (strcmp(argv[3], "epoll") == 0) {
		serve_epoll(fd);
	} else {
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM); /* stopped with its parent, by its pid */
			serve_blocking(fd);
		}
		serve_blocking(fd);
	}
	return 0;
}
