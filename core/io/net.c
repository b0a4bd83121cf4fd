/*
 * net.c - non-blocking sockets on loopback and the local port picker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jc_plugin.h"
#include "net.h"

/* The ports Jupyter users expect, in order (design.md §5). */
static const uint16_t preferred[] = { 8888, 8889, 8080 };

int
jc_net_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return JC_ERR_IO;
	return 0;
}

static void
loopback(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int
jc_net_listen(uint16_t port, int *fdp, uint16_t *portp)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, one = 1, r;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return JC_ERR_IO;
	/* SO_REUSEADDR only skips TIME_WAIT; it never shares a live port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	loopback(&sin, port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		r = (errno == EADDRINUSE || errno == EACCES) ?
		    JC_ERR_PORT : JC_ERR_IO;
		close(fd);
		return r;
	}
	if (listen(fd, 128) != 0 || jc_net_nonblock(fd) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		close(fd);
		return JC_ERR_IO;
	}
	*fdp = fd;
	*portp = ntohs(sin.sin_port);
	return 0;
}

/* 1 when something accepts on [::1]:port. */
static int
v6_busy(uint16_t port)
{
	struct sockaddr_in6 sin6;
	int fd, busy;

	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_loopback;
	busy = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return busy;
}

/* Listen on a preferred port unless something holds it, v4 or v6. */
static int
listen_preferred(uint16_t port, int *fdp, uint16_t *portp)
{
	/*
	 * A local notebook on [::1] would not stop our bind, but a browser
	 * given "localhost" could land on it: skip the port.
	 */
	return v6_busy(port) ? JC_ERR_PORT : jc_net_listen(port, fdp, portp);
}

int
jc_net_pick_port(uint16_t forced, uint16_t last, int *fdp, uint16_t *portp,
    char *why, size_t whylen)
{
	char busy[64] = "";
	size_t i;
	int r;

	if (forced != 0) {
		if ((r = jc_net_listen(forced, fdp, portp)) == 0)
			snprintf(why, whylen, "port %u as asked", forced);
		return r;
	}
	/* The same origin as last time keeps the browser's cache useful. */
	if (last != 0) {
		if ((r = listen_preferred(last, fdp, portp)) == 0) {
			snprintf(why, whylen, "port %u (as last time)", last);
			return 0;
		}
		if (r != JC_ERR_PORT)
			return r;
	}
	for (i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++) {
		if (preferred[i] == last)
			r = JC_ERR_PORT;
		else
			r = listen_preferred(preferred[i], fdp, portp);
		if (r == 0) {
			if (i == 0)
				snprintf(why, whylen, "port %u", *portp);
			else
				snprintf(why, whylen, "port %u (%s in use)",
				    *portp, busy);
			return 0;
		}
		if (r != JC_ERR_PORT)
			return r;
		snprintf(busy + strlen(busy), sizeof(busy) - strlen(busy),
		    "%s%u", i ? " and " : "", preferred[i]);
	}
	if ((r = jc_net_listen(0, fdp, portp)) == 0)
		snprintf(why, whylen, "port %u (%s in use)", *portp, busy);
	return r == 0 ? 0 : JC_ERR_PORT;
}

int
jc_net_connect_local(uint16_t port, int *fdp)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return JC_ERR_IO;
	if (jc_net_nonblock(fd) != 0) {
		close(fd);
		return JC_ERR_IO;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	loopback(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return JC_ERR_IO;
	}
	*fdp = fd;
	return 0;
}

int
jc_net_port_busy(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, busy;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	loopback(&sin, port);
	busy = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return busy;
}
