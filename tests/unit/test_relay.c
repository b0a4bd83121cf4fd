/*
 * test_relay.c - the bounded buffer and the relay: byte-exact, bounded
 * memory under a stalled reader, half-close passed on, errors reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "jc_plugin.h"
#include "loop.h"
#include "relay.h"

static void
test_buf(void **state)
{
	struct jc_buf b;
	unsigned char out[16];

	(void)state;
	jc_buf_init(&b, 8);
	assert_int_equal(jc_buf_room(&b), 8);
	assert_int_equal(jc_buf_put(&b, "abcdef", 6), 6);
	assert_int_equal(jc_buf_put(&b, "ghijk", 5), 2);	/* bounded */
	assert_int_equal(jc_buf_room(&b), 0);
	jc_buf_consume(&b, 3);
	assert_memory_equal(jc_buf_ptr(&b), "defgh", 5);
	assert_int_equal(jc_buf_put(&b, "XYZ", 3), 3);	/* wraps by moving */
	memcpy(out, jc_buf_ptr(&b), b.len);
	assert_memory_equal(out, "defghXYZ", 8);
	jc_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	jc_buf_shrink(&b);
	assert_null(b.d);
	jc_buf_free(&b);
}

struct done {
	volatile int	 n;
	int		 error;
};

static void
on_done(void *arg, struct jc_relay *r, int error)
{
	struct done *d = arg;

	(void)r;
	d->n = 1;
	d->error = error;
}

static void
nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Move 8 MB a->b through a relay with a 4 KiB buffer, check every byte. */
static void
test_exact_and_halfclose(void **state)
{
	int a[2], b[2];
	struct done d = { 0, 0 };
	struct jc_relay *r;
	unsigned char *src, *dst;
	size_t n = 8u << 20, sent = 0, got = 0, i;
	ssize_t k;
	int64_t end;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	src = malloc(n);
	dst = malloc(n);
	for (i = 0; i < n; i++)
		src[i] = (unsigned char)(i * 131 + (i >> 11));
	/* relay: a[1] <-> b[1]; the test drives a[0] and b[0] */
	r = jc_relay_new(a[1], a[1], b[1], b[1], 4096, on_done, &d);
	assert_non_null(r);
	nonblock(a[0]);
	nonblock(b[0]);
	end = jc_now_ms() + 20000;
	while (got < n && jc_now_ms() < end) {
		if (sent < n) {
			k = write(a[0], src + sent, n - sent);
			if (k > 0)
				sent += (size_t)k;
			if (sent == n)
				shutdown(a[0], SHUT_WR);
		}
		jc_loop_run(NULL, 1);
		while ((k = read(b[0], dst + got, n - got)) > 0)
			got += (size_t)k;
	}
	assert_int_equal(got, n);
	assert_memory_equal(src, dst, n);
	/* EOF passed on as a half-close; the other direction still works */
	jc_loop_run(NULL, 20);
	assert_int_equal(read(b[0], dst, 1), 0);
	assert_int_equal(write(b[0], "pong", 4), 4);
	end = jc_now_ms() + 2000;
	k = -1;
	while (k <= 0 && jc_now_ms() < end) {
		jc_loop_run(NULL, 5);
		k = read(a[0], dst, 16);
	}
	assert_int_equal(k, 4);
	assert_memory_equal(dst, "pong", 4);
	assert_int_equal(d.n, 0);
	shutdown(b[0], SHUT_WR);
	end = jc_now_ms() + 2000;
	while (!d.n && jc_now_ms() < end)
		jc_loop_run(&d.n, 10);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.error, 0);
	jc_relay_free(r);
	close(a[0]);
	close(b[0]);
	free(src);
	free(dst);
}

/* A reader that never reads: the relay must stop at its bound. */
static void
test_backpressure(void **state)
{
	int a[2], b[2], sz = 4096;
	struct done d = { 0, 0 };
	struct jc_relay *r;
	unsigned char chunk[4096];
	size_t sent = 0;
	ssize_t k;
	int i;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	setsockopt(b[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(b[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(a[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(a[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	r = jc_relay_new(a[1], a[1], b[1], b[1], 16384, on_done, &d);
	assert_non_null(r);
	nonblock(a[0]);
	for (i = 0; i < 2000; i++) {
		k = write(a[0], chunk, sizeof(chunk));
		if (k > 0)
			sent += (size_t)k;
		jc_loop_run(NULL, 0);
	}
	/*
	 * Everything accepted is in kernel buffers or the relay's 16 KiB:
	 * far less than the 8 MB offered.
	 */
	printf("# sent %zu\n", sent);
	assert_true(sent < 1024 * 1024);
	assert_true(sent > 16384);
	jc_relay_free(r);
	close(a[0]);
	close(b[0]);
}

/* A peer that resets: the relay reports and closes. */
static void
test_error(void **state)
{
	int a[2], b[2];
	struct done d = { 0, 0 };
	struct jc_relay *r;
	int64_t end;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	r = jc_relay_new(a[1], a[1], b[1], b[1], 4096, on_done, &d);
	close(b[0]);
	assert_int_equal(write(a[0], "data", 4), 4);
	end = jc_now_ms() + 2000;
	while (!d.n && jc_now_ms() < end)
		jc_loop_run(&d.n, 10);
	assert_int_equal(d.n, 1);
	jc_relay_free(r);
	close(a[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_exact_and_halfclose),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_error),
	};

	jc_loop_signals();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
