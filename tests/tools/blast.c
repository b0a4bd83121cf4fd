/*
 * blast.c - a load tool for the benchmarks: a loopback server that sends
 * or swallows N bytes per connection, and clients that time it.
 *
 *   blast serve PORT            request "down N\n": send N bytes;
 *                               "up N\n" + N bytes: answer "ok\n"
 *   blast down PORT BYTES       one download; prints bytes, seconds, MB/s
 *   blast up PORT BYTES         one upload; same output
 *   blast many PORT CLIENTS BYTES
 *                               CLIENTS concurrent downloads; prints total
 *                               seconds, p50 and p99 per-request latency
 *   blast hold PORT N           open N idle connections, wait for stdin EOF
 *   blast relay PORT TARGET     a plain relay: each connection to PORT is
 *                               copied both ways to TARGET, one at a time,
 *                               256 KiB per read; its CPU time is what
 *                               moving the bytes costs without a protocol
 *   blast fair PORT CLIENTS SECONDS down|up
 *                               CLIENTS endless transfers at once; after a
 *                               second of warm-up, counts each one's bytes
 *                               for SECONDS; prints total MB/s and the
 *                               slowest and fastest as fractions of the
 *                               fair share (total / CLIENTS)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
read_line(int fd, char *buf, size_t n)
{
	size_t i = 0;

	while (i + 1 < n) {
		if (read(fd, buf + i, 1) != 1)
			return -1;
		if (buf[i++] == '\n')
			break;
	}
	buf[i] = '\0';
	return 0;
}

static void
serve_one(int c)
{
	static char buf[CHUNK];
	char line[64];
	long long n, k;
	ssize_t w;

	if (read_line(c, line, sizeof(line)) != 0)
		return;
	if (sscanf(line, "down %lld", &n) == 1) {
		memset(buf, 'j', sizeof(buf));
		for (k = 0; k < n; k += w)
			if ((w = write(c, buf, (size_t)(n - k < CHUNK ? n - k :
			    CHUNK))) <= 0)
				return;
	} else if (sscanf(line, "up %lld", &n) == 1) {
		for (k = 0; k < n; k += w)
			if ((w = read(c, buf, sizeof(buf))) <= 0)
				return;
		(void)!write(c, "ok\n", 3);
	}
}

static int
listen_on(int port)
{
	struct sockaddr_in sin;
	int s, one = 1;

	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s, 512) != 0) {
		perror("blast: bind");
		close(s);
		return -1;
	}
	printf("listening\n");
	fflush(stdout);
	return s;
}

static int
serve(int port)
{
	int s, c;

	signal(SIGCHLD, SIG_IGN);
	if ((s = listen_on(port)) < 0)
		return 1;
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			close(s);
			serve_one(c);
			_exit(0);
		}
		close(c);
	}
}

/* Copy a to b and b to a until both ends have closed their side. */
static void
pump(int a, int b)
{
	static char buf[CHUNK];
	struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
	ssize_t n, w, off;
	int i, open = 2;

	while (open > 0 && poll(p, 2, -1) > 0) {
		for (i = 0; i < 2; i++) {
			if (p[i].revents == 0)
				continue;
			if ((n = read(p[i].fd, buf, sizeof(buf))) <= 0) {
				shutdown(p[1 - i].fd, SHUT_WR);
				p[i].fd = -1;
				open--;
				continue;
			}
			for (off = 0; off < n; off += w)
				if ((w = write(p[1 - i].fd, buf + off,
				    (size_t)(n - off))) <= 0)
					return;
		}
	}
}

static int
relay(int port, int target)
{
	int s, c, t;

	signal(SIGPIPE, SIG_IGN);
	if ((s = listen_on(port)) < 0)
		return 1;
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0)
			continue;
		if ((t = dial(target)) >= 0) {
			pump(c, t);
			close(t);
		}
		close(c);
	}
}

/*
 * One timed transfer of n bytes: "down" reads them, "up" writes them and
 * waits for the server's "ok".  Prints bytes, seconds and MB/s.
 */
static int
transfer(int port, const char *dir, long long n)
{
	static char buf[CHUNK];
	long long done = 0;
	ssize_t k = 0;
	double t = now();
	char req[64];
	int fd, up = strcmp(dir, "up") == 0;

	if ((fd = dial(port)) < 0) {
		perror("blast: connect");
		return 1;
	}
	memset(buf, 'u', sizeof(buf));
	snprintf(req, sizeof(req), "%s %lld\n", dir, n);
	(void)!write(fd, req, strlen(req));
	while (done < n) {
		if (up)
			k = write(fd, buf, (size_t)(n - done < CHUNK ?
			    n - done : CHUNK));
		else
			k = read(fd, buf, sizeof(buf));
		if (k <= 0)
			break;
		done += k;
	}
	if (up)
		k = read(fd, buf, 3);
	t = now() - t;
	close(fd);
	printf("%lld %.3f %.1f\n", done, t, done / t / 1e6);
	return up ? k == 3 ? 0 : 1 : done == n ? 0 : 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* CLIENTS downloads at once, each timed from connect to last byte. */
static int
many(int port, int clients, long long n)
{
	struct pollfd *pfd = calloc((size_t)clients, sizeof(*pfd));
	long long *got = calloc((size_t)clients, sizeof(*got));
	double *start = calloc((size_t)clients, sizeof(*start));
	double *lat = calloc((size_t)clients, sizeof(*lat));
	static char buf[CHUNK];
	char req[64];
	double t0 = now();
	int i, left = clients, nlat = 0, bad = 0;
	ssize_t k;

	snprintf(req, sizeof(req), "down %lld\n", n);
	for (i = 0; i < clients; i++) {
		start[i] = now();
		if ((pfd[i].fd = dial(port)) < 0) {
			bad++;
			left--;
			pfd[i].fd = -1;
			continue;
		}
		(void)!write(pfd[i].fd, req, strlen(req));
		pfd[i].events = POLLIN;
	}
	while (left > 0) {
		if (poll(pfd, (nfds_t)clients, 60000) <= 0)
			break;
		for (i = 0; i < clients; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			k = read(pfd[i].fd, buf, sizeof(buf));
			if (k > 0)
				got[i] += k;
			if (k <= 0 || got[i] >= n) {
				if (got[i] == n)
					lat[nlat++] = now() - start[i];
				else
					bad++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
				left--;
			}
		}
	}
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_double);
	printf("%.3f %.4f %.4f %d\n", now() - t0,
	    nlat ? lat[nlat / 2] : 0, nlat ? lat[(nlat * 99) / 100 -
	    (nlat * 99 % 100 == 0 && nlat > 1)] : 0, bad);
	free(pfd);
	free(got);
	free(start);
	free(lat);
	return bad != 0 || left != 0;
}

/* Bytes each of CLIENTS endless transfers moves in the same window. */
static int
fair(int port, int clients, double secs, const char *dir)
{
	struct pollfd *pfd = calloc((size_t)clients, sizeof(*pfd));
	long long *got = calloc((size_t)clients, sizeof(*got)), total = 0;
	static char buf[CHUNK];
	int i, up = strcmp(dir, "up") == 0, counting = 0;
	double t0, t1 = 0, share, lo = 1e18, hi = 0;
	char req[64];
	ssize_t k;

	snprintf(req, sizeof(req), "%s %lld\n", up ? "up" : "down", 1LL << 60);
	memset(buf, 'f', sizeof(buf));
	for (i = 0; i < clients; i++) {
		if ((pfd[i].fd = dial(port)) < 0) {
			perror("blast: connect");
			return 1;
		}
		(void)!write(pfd[i].fd, req, strlen(req));
		fcntl(pfd[i].fd, F_SETFL, O_NONBLOCK);
		pfd[i].events = up ? POLLOUT : POLLIN;
	}
	t0 = now();
	for (;;) {
		if (!counting && now() - t0 >= 1.0) {
			counting = 1;
			t1 = now();
			memset(got, 0, (size_t)clients * sizeof(*got));
		}
		if (counting && now() - t1 >= secs)
			break;
		if (poll(pfd, (nfds_t)clients, 1000) < 0)
			break;
		for (i = 0; i < clients; i++) {
			if (!pfd[i].revents)
				continue;
			k = up ? write(pfd[i].fd, buf, sizeof(buf)) :
			    read(pfd[i].fd, buf, sizeof(buf));
			if (k == 0 || (k < 0 && errno != EAGAIN)) {
				fprintf(stderr, "blast: stream %d ended\n", i);
				return 1;
			}
			if (k > 0)
				got[i] += k;
		}
	}
	secs = now() - t1;
	for (i = 0; i < clients; i++) {
		total += got[i];
		close(pfd[i].fd);
	}
	share = (double)total / clients;
	for (i = 0; i < clients; i++) {
		if (got[i] / share < lo)
			lo = got[i] / share;
		if (got[i] / share > hi)
			hi = got[i] / share;
	}
	printf("%.1f %.3f %.3f\n", total / secs / 1e6, lo, hi);
	free(pfd);
	free(got);
	return 0;
}

static int
hold(int port, int n)
{
	char c;
	int i, ok = 0;

	for (i = 0; i < n; i++)
		if (dial(port) >= 0)
			ok++;
	printf("%d\n", ok);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return ok == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if (argc >= 4 && (strcmp(argv[1], "down") == 0 ||
	    strcmp(argv[1], "up") == 0))
		return transfer(atoi(argv[2]), argv[1], atoll(argv[3]));
	if (argc >= 6 && strcmp(argv[1], "fair") == 0)
		return fair(atoi(argv[2]), atoi(argv[3]), atof(argv[4]),
		    argv[5]);
	if (argc >= 5 && strcmp(argv[1], "many") == 0)
		return many(atoi(argv[2]), atoi(argv[3]), atoll(argv[4]));
	if (argc >= 4 && strcmp(argv[1], "hold") == 0)
		return hold(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "relay") == 0)
		return relay(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: blast serve PORT | down|up PORT BYTES | "
	    "many PORT CLIENTS BYTES | hold PORT N | relay PORT TARGET | "
	    "fair PORT CLIENTS SECONDS down|up\n");
	return 2;
}
