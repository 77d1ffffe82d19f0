/*
 * A TFTP client for reading one file (RFC 1350), asking for a larger block size and the
 * transfer size (RFC 2347/2348/2349) and taking a plain RFC 1350 answer when the server
 * ignores options. Blocking, one transfer at a time: what a booting phone needs. Block
 * numbers roll over after 65535 so files over 32 MB still arrive; the size is capped.
 */
#include "phone_fetch.h"

#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { OP_RRQ = 1, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };

#define BLKSIZE       1428 /* fits an Ethernet MTU with IP and UDP headers */
#define RETRIES       5
#define MAX_PACKET    (4 + 65464)
#define ERR_NOT_FOUND 1

struct transfer {
	int fd;
	struct sockaddr_storage server; /* the server's transfer port once it answered */
	socklen_t server_len;
	bool have_tid;
	size_t blksize;
	unsigned char *data;
	size_t len, cap;
	uint16_t block; /* the last block received */
	unsigned char last_sent[600];
	size_t last_sent_len;
	int timeout_ms;
};

static int send_packet(struct transfer *t, const unsigned char *p, size_t len, struct base_err *err)
{
	if (len <= sizeof(t->last_sent)) {
		memcpy(t->last_sent, p, len);
		t->last_sent_len = len;
	}
	if (sendto(t->fd, p, len, 0, (struct sockaddr *)&t->server, t->server_len) < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "TFTP: cannot send: %s",
		                    strerror(errno));
	return 0;
}

static int send_ack(struct transfer *t, uint16_t block, struct base_err *err)
{
	unsigned char p[4] = {0, OP_ACK, (unsigned char)(block >> 8), (unsigned char)block};
	return send_packet(t, p, sizeof(p), err);
}

/* Tells a stranger (a packet from another port) that it is not part of this transfer. */
static void reject_stranger(int fd, const struct sockaddr_storage *from, socklen_t len)
{
	static const unsigned char p[] = {0,   OP_ERROR, 0,   5,   'u', 'n', 'k', 'n',
	                                  'o', 'w',      'n', ' ', 't', 'i', 'd', 0};
	(void)sendto(fd, p, sizeof(p), 0, (const struct sockaddr *)from, len);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                : ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* The options of an OACK: only those we asked for, with values we can take. */
static int read_oack(struct transfer *t, const unsigned char *p, size_t len, struct base_err *err)
{
	size_t i = 2;
	while (i < len) {
		const char *name = (const char *)p + i;
		const unsigned char *nul = memchr(p + i, 0, len - i);
		if (!nul || nul + 1 >= p + len)
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "TFTP: malformed OACK");
		const char *value = (const char *)nul + 1;
		const unsigned char *vnul = memchr(value, 0, len - (size_t)(nul + 1 - p));
		if (!vnul)
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "TFTP: malformed OACK");
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (strcasecmp(name, "blksize") == 0) {
			if (*end || v < 8 || v > BLKSIZE)
				return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
				                    "TFTP: server chose blksize %s", value);
			t->blksize = v;
		} else if (strcasecmp(name, "tsize") == 0) {
			if (*end || v > PHONE_FETCH_MAX)
				return base_err_set(err, BASE_E_TOO_LARGE, NULL,
				                    "TFTP: file of %s bytes is too large", value);
		} else {
			return base_err_set(
			    err, BASE_E_BAD_REQUEST, NULL,
			    "TFTP: server acknowledged an option never asked for: %s", name);
		}
		i = (size_t)(vnul + 1 - p);
	}
	return 0;
}

static int append(struct transfer *t, const unsigned char *p, size_t len, struct base_err *err)
{
	if (t->len + len > PHONE_FETCH_MAX)
		return base_err_set(err, BASE_E_TOO_LARGE, NULL, "TFTP: file over %d bytes",
		                    PHONE_FETCH_MAX);
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 65536;
		while (cap < t->len + len)
			cap *= 2;
		unsigned char *d = realloc(t->data, cap);
		if (!d)
			return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		t->data = d;
		t->cap = cap;
	}
	memcpy(t->data + t->len, p, len);
	t->len += len;
	return 0;
}

/* 1: the transfer is complete; 0: go on; -1: failed (err set). */
static int on_packet(struct transfer *t, const unsigned char *p, size_t len, const char *name,
                     struct base_err *err)
{
	if (len < 4)
		return 0; /* too short to mean anything: ignore, the retransmission comes */
	unsigned op = (unsigned)p[0] << 8 | p[1];
	unsigned arg = (unsigned)p[2] << 8 | p[3];
	if (op == OP_ERROR) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%.*s", (int)strnlen((const char *)p + 4, len - 4),
		         (const char *)p + 4);
		return base_err_set(err, arg == ERR_NOT_FOUND ? BASE_E_NOT_FOUND : BASE_E_FORBIDDEN,
		                    NULL, "TFTP: %s: error %u: %s", name, arg, msg);
	}
	if (op == OP_OACK && t->block == 0 && t->len == 0) {
		if (read_oack(t, p, len, err) != 0)
			return -1;
		return send_ack(t, 0, err) == 0 ? 0 : -1;
	}
	if (op != OP_DATA)
		return 0;
	uint16_t expect = (uint16_t)(t->block + 1);
	if (arg == t->block && (t->block != 0 || t->len != 0))
		return send_ack(t, t->block, err) == 0 ? 0 : -1; /* our ACK was lost */
	if (arg != expect)
		return 0;
	size_t n = len - 4;
	if (n > t->blksize)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "TFTP: block of %zu bytes", n);
	if (append(t, p + 4, n, err) != 0 || send_ack(t, expect, err) != 0)
		return -1;
	t->block = expect;
	return n < t->blksize ? 1 : 0;
}

static int request(struct transfer *t, const char *name, struct base_err *err)
{
	unsigned char p[600];
	int n = snprintf((char *)p + 2, sizeof(p) - 2, "%s%coctet%cblksize%c%d%ctsize%c0", name, 0,
	                 0, 0, BLKSIZE, 0, 0);
	if (n < 0 || (size_t)n + 3 > sizeof(p))
		return base_err_set(err, BASE_E_INVALID, NULL, "TFTP: file name too long");
	p[0] = 0;
	p[1] = OP_RRQ;
	return send_packet(t, p, (size_t)n + 3, err);
}

static int run(struct transfer *t, const char *name, struct base_err *err)
{
	unsigned char *p = malloc(MAX_PACKET);
	int tries = 0, rc = 0;
	if (!p)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	while (rc == 0) {
		struct pollfd pfd = {t->fd, POLLIN, 0};
		int ready = poll(&pfd, 1, t->timeout_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			if (++tries > RETRIES) {
				rc = base_err_set(err, BASE_E_INTERNAL, NULL,
				                  "TFTP: %s: no answer from the server", name);
				break;
			}
			if (sendto(t->fd, t->last_sent, t->last_sent_len, 0,
			           (struct sockaddr *)&t->server, t->server_len) < 0)
				rc = base_err_set(err, BASE_E_INTERNAL, NULL, "TFTP: cannot send");
			continue;
		}
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(t->fd, p, MAX_PACKET, 0, (struct sockaddr *)&from, &from_len);
		if (n < 0 || !same_host(&from, &t->server))
			continue;
		if (!t->have_tid) { /* the server answers from its transfer port (RFC 1350 §4) */
			t->server = from;
			t->server_len = from_len;
			t->have_tid = true;
		} else if (port_of(&from) != port_of(&t->server)) {
			reject_stranger(t->fd, &from, from_len);
			continue;
		}
		tries = 0;
		rc = on_packet(t, p, (size_t)n, name, err);
	}
	free(p);
	return rc < 0 ? -1 : 0;
}

int phone_tftp_get(const char *server, const char *name, double timeout, unsigned char **out,
                   size_t *out_len, struct base_err *err)
{
	struct transfer t = {.fd = -1, .blksize = 512};
	*out = NULL;
	*out_len = 0;
	t.timeout_ms = timeout > 0 && timeout < 5 ? (int)(timeout * 1000) : 1000;
	t.server_len = sizeof(t.server);
	if (net_addr_parse(server, &t.server, &t.server_len, err) != 0)
		return -1;
	t.fd = socket(t.server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t.fd < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "TFTP: socket: %s",
		                    strerror(errno));
	int rc = request(&t, name, err) == 0 ? run(&t, name, err) : -1;
	close(t.fd);
	if (rc != 0) {
		free(t.data);
		return -1;
	}
	if (!t.data && !(t.data = malloc(1))) /* an empty file */
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	*out = t.data;
	*out_len = t.len;
	return 0;
}
