/*
 * TFTP load for bench/prov_run.sh: CONCURRENCY clients fetch FILE from HOST:PORT over and over
 * for SECONDS, each as a phone does (RRQ in octet mode, ACK of every DATA block, a new
 * request as soon as the last block came). Client i sends from 127.0.0.(2 + i % 200), so that
 * a server's per-address limits see many phones. Every fetch must bring exactly EXPECT bytes.
 * Prints: fetches=N bad=B errors=E timeouts=T seconds=S rate=R
 *
 * usage: prov_tftp_load HOST PORT FILE SECONDS CONCURRENCY EXPECT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int fd;
	unsigned expect; /* next block number */
	size_t got;
	double last; /* time of the last packet, for the timeout */
	struct sockaddr_in local;
};

static struct sockaddr_in server;
static const char *file;
static size_t expect_size;
static long fetches, bad, errors, timeouts;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&c->local, sizeof(c->local)) != 0) {
		perror("socket");
		exit(1);
	}
	char pkt[600];
	int n = snprintf(pkt, sizeof(pkt), "%c%c%s%coctet%c", 0, 1, file, 0, 0);
	sendto(c->fd, pkt, (size_t)n, 0, (struct sockaddr *)&server, sizeof(server));
	c->expect = 1, c->got = 0, c->last = now();
}

static void readable(struct client *c)
{
	unsigned char buf[1600];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	for (;;) {
		ssize_t n = recvfrom(c->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			return;
		c->last = now();
		if (n >= 4 && buf[1] == 5) {
			errors++;
			start(c);
			return;
		}
		if (n < 4 || buf[1] != 3 ||
		    (unsigned)(buf[2] << 8 | buf[3]) != (c->expect & 0xffff))
			continue;
		unsigned char ack[4] = {0, 4, buf[2], buf[3]};
		sendto(c->fd, ack, 4, 0, (struct sockaddr *)&from, len);
		c->got += (size_t)n - 4;
		c->expect++;
		if (n - 4 < 512) {
			if (c->got == expect_size)
				fetches++;
			else
				bad++;
			start(c);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: %s HOST PORT FILE SECONDS CONCURRENCY EXPECT\n", argv[0]);
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &server.sin_addr);
	file = argv[3];
	double seconds = atof(argv[4]);
	int n = atoi(argv[5]);
	expect_size = (size_t)atol(argv[6]);
	struct client *clients = calloc((size_t)n, sizeof(*clients));
	struct pollfd *fds = calloc((size_t)n, sizeof(*fds));
	for (int i = 0; i < n; i++) {
		clients[i].fd = -1;
		clients[i].local.sin_family = AF_INET;
		clients[i].local.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % 200));
		start(&clients[i]);
	}
	double t0 = now(), end = t0 + seconds;
	while (now() < end) {
		for (int i = 0; i < n; i++)
			fds[i].fd = clients[i].fd, fds[i].events = POLLIN;
		poll(fds, (nfds_t)n, 50);
		double t = now();
		for (int i = 0; i < n; i++) {
			if (fds[i].revents & POLLIN)
				readable(&clients[i]);
			else if (t - clients[i].last > 2.0) {
				timeouts++;
				start(&clients[i]);
			}
		}
	}
	double took = now() - t0;
	printf("fetches=%ld bad=%ld errors=%ld timeouts=%ld seconds=%.2f rate=%.0f\n", fetches, bad,
	       errors, timeouts, took, (double)fetches / took);
	return 0;
}
