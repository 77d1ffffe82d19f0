/* Listen addresses: parsing "host:port", printing socket addresses, opening TCP listeners. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

static int syntax_error(const char *addr_port, struct base_err *err)
{
	return base_err_set(err, BASE_E_INVALID, NULL, "listen address \"%s\" is not host:port",
	                    addr_port);
}

/* Port: 1 to 5 decimal digits, at most 65535. strtoul is avoided because it accepts signs,
 * spaces and "0x". */
static int parse_port(const char *s, unsigned *out)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n == 0 || n > 5) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535) {
		return -1;
	}
	*out = v;
	return 0;
}

/* An IPv6 literal with an optional "%scope" (interface name or index). */
static int parse_ipv6(char *host, struct sockaddr_in6 *sin6)
{
	char *pct = strchr(host, '%');

	if (pct) {
		*pct = '\0';
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		return -1;
	}
	if (pct) {
		const char *scope = pct + 1;
		unsigned idx;

		if (parse_port(scope, &idx) == 0) {
			sin6->sin6_scope_id = idx;
		} else if ((idx = if_nametoindex(scope)) != 0) {
			sin6->sin6_scope_id = idx;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The parser behind net_addr_parse; *any tells net_listen_tcp that the host was a wildcard
 * ("*" or empty), which it binds dual-stack. */
static int addr_parse(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len, bool *any,
                      struct base_err *err)
{
	char host[NET_ADDR_STRLEN];
	const char *port_str;
	size_t host_len;
	bool bracketed = false;
	unsigned port;

	if (!addr_port) {
		return base_err_set(err, BASE_E_INVALID, NULL, "listen address is missing");
	}
	if (addr_port[0] == '[') {
		const char *close = strchr(addr_port, ']');

		if (!close || close[1] != ':') {
			return syntax_error(addr_port, err);
		}
		bracketed = true;
		host_len = (size_t)(close - addr_port - 1);
		if (host_len == 0 || host_len >= sizeof(host)) {
			return syntax_error(addr_port, err);
		}
		memcpy(host, addr_port + 1, host_len);
		port_str = close + 2;
	} else {
		const char *colon = strrchr(addr_port, ':');

		if (!colon) {
			return syntax_error(addr_port, err);
		}
		host_len = (size_t)(colon - addr_port);
		if (host_len >= sizeof(host)) {
			return syntax_error(addr_port, err);
		}
		memcpy(host, addr_port, host_len);
		port_str = colon + 1;
		/* "::1:8443" is ambiguous; IPv6 hosts must be bracketed. */
		if (memchr(host, ':', host_len)) {
			return syntax_error(addr_port, err);
		}
	}
	host[host_len] = '\0';
	if (port_str[0] == '\0') {
		return syntax_error(addr_port, err);
	}
	if (parse_port(port_str, &port) < 0) {
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "listen address \"%s\": port must be a number from 0 to 65535",
		                    addr_port);
	}

	memset(ss, 0, sizeof(*ss));
	*any = false;
	if (!bracketed && (host_len == 0 || strcmp(host, "*") == 0)) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};

		sin6.sin6_port = htons((uint16_t)port);
		memcpy(ss, &sin6, sizeof(sin6));
		*len = sizeof(sin6);
		*any = true;
		return 0;
	}
	if (bracketed) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

		if (parse_ipv6(host, &sin6) < 0) {
			return base_err_set(err, BASE_E_INVALID, NULL,
			                    "listen address \"%s\": not an IPv6 address",
			                    addr_port);
		}
		sin6.sin6_port = htons((uint16_t)port);
		memcpy(ss, &sin6, sizeof(sin6));
		*len = sizeof(sin6);
		return 0;
	}

	struct sockaddr_in sin = {.sin_family = AF_INET};

	/* inet_pton, unlike inet_aton, refuses "1.2" and "0x7f.0.0.1". */
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		/* Names are refused rather than resolved: resolving would block the event loop
		 * and a name can change to an address this host does not have. */
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "listen address \"%s\": host must be an IP address or *",
		                    addr_port);
	}
	sin.sin_port = htons((uint16_t)port);
	memcpy(ss, &sin, sizeof(sin));
	*len = sizeof(sin);
	return 0;
}

int net_addr_parse(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len,
                   struct base_err *err)
{
	bool any;

	return addr_parse(addr_port, ss, len, &any, err);
}

/* Dotted-quad text of b[0..3], put together by hand: every datagram's source is formatted,
 * and inet_ntop goes through sprintf. */
static void format_ipv4(const unsigned char *b, char *out, size_t size)
{
	struct base_text t;
	base_text_init(&t, out, size);
	for (int i = 0; i < 4; i++) {
		if (i)
			base_text_add(&t, ".", 1);
		base_text_add_uint(&t, b[i]);
	}
}

/* Host part, and whether it needs brackets when a port follows. */
static bool format_host(const struct sockaddr *sa, char *out, size_t size, unsigned *port)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

	/* Copies rather than casts: sa may point into a byte buffer that is not aligned for
	 * sockaddr_in6. */
	if (sa && sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		format_ipv4((const unsigned char *)&sin.sin_addr, out, size);
		*port = ntohs(sin.sin_port);
		return false;
	}
	if (sa && sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		*port = ntohs(sin6.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			format_ipv4(&sin6.sin6_addr.s6_addr[12], out, size);
			return false;
		}
		inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof(buf));
		if (sin6.sin6_scope_id != 0) {
			char ifname[IF_NAMESIZE];

			if (if_indextoname(sin6.sin6_scope_id, ifname)) {
				snprintf(out, size, "%s%%%s", buf, ifname);
			} else {
				snprintf(out, size, "%s%%%u", buf, sin6.sin6_scope_id);
			}
		} else {
			snprintf(out, size, "%s", buf);
		}
		return true;
	}
	snprintf(out, size, "?");
	*port = 0;
	return false;
}

void net_addr_format_host(const struct sockaddr *sa, char *out, size_t size)
{
	unsigned port;

	if (size == 0) {
		return;
	}
	format_host(sa, out, size, &port);
}

void net_addr_format(const struct sockaddr *sa, char *out, size_t size)
{
	char host[NET_ADDR_STRLEN];
	unsigned port;
	bool brackets;

	if (size == 0) {
		return;
	}
	brackets = format_host(sa, host, sizeof(host), &port);
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		snprintf(out, size, "?");
	} else if (brackets) {
		snprintf(out, size, "[%s]:%u", host, port);
	} else {
		snprintf(out, size, "%s:%u", host, port);
	}
}

static int listen_error(const char *addr_port, int e, struct base_err *err)
{
	char buf[128];
	char reason[128];

	/* strerror() says "Address already in use"; the sentence reads better in lower case. */
	snprintf(reason, sizeof(reason), "%s", strerror_r(e, buf, sizeof(buf)));
	reason[0] = (char)tolower((unsigned char)reason[0]);
	return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot listen on %s: %s", addr_port,
	                    reason);
}

int net_listen_tcp(const char *addr_port, int backlog, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool any;
	int one = 1;
	int fd;
	int e;

	if (addr_parse(addr_port, &ss, &len, &any, err) < 0) {
		return -1;
	}
	if (backlog <= 0) {
		backlog = SOMAXCONN;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && any && errno == EAFNOSUPPORT) {
		/* A kernel without IPv6: "*" still means every (IPv4) address. */
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = INADDR_ANY};
		struct sockaddr_in6 sin6;

		memcpy(&sin6, &ss, sizeof(sin6));
		sin.sin_port = sin6.sin6_port;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, &sin, sizeof(sin));
		len = sizeof(sin);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		return listen_error(addr_port, errno, err);
	}
	/* SO_REUSEADDR lets a restarted ucmd bind while old connections sit in TIME_WAIT; on
	 * Linux it does not let two live listeners share a port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		goto fail;
	}
	/* Replies (an HTTP header then its body, a SIP response) are small writes the peer
	 * waits for: Nagle's delay would add ~40 ms to each. Accepted sockets inherit this. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		goto fail;
	}
	if (ss.ss_family == AF_INET6) {
		/* Set explicitly: the default follows net.ipv6.bindv6only, which varies. */
		int v6only = any ? 0 : 1;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) {
			goto fail;
		}
	}
	if (bind(fd, (const struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		goto fail;
	}
	return fd;

fail:
	e = errno;

	close(fd);
	return listen_error(addr_port, e, err);
}
