/*
 * test_net.c - the local port picker: 8888, else 8889, else 8080, else
 * ephemeral; the port of last time first when free; a forced busy port
 * is an error; loopback only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "net.h"

/* Hold port on 127.0.0.1 (or leave it to whoever already holds it). */
static int
hold(uint16_t port)
{
	uint16_t got;
	int fd;

	if (jc_net_listen(port, &fd, &got) != 0)
		return -1;
	return fd;
}

static void
test_preferred_order(void **state)
{
	char why[160];
	uint16_t port;
	int h1, h2, fd;

	(void)state;
	h1 = hold(8888);
	/* 8888 busy (by us or by someone) -> never 8888 */
	assert_int_equal(jc_net_pick_port(0, 0, &fd, &port, why, sizeof(why)), 0);
	assert_int_not_equal(port, 8888);
	if (port == 8889)
		assert_non_null(strstr(why, "8888"));
	close(fd);
	h2 = hold(8889);
	assert_int_equal(jc_net_pick_port(0, 0, &fd, &port, why, sizeof(why)), 0);
	assert_int_not_equal(port, 8888);
	assert_int_not_equal(port, 8889);
	if (port == 8080)
		assert_non_null(strstr(why, "8889"));
	close(fd);
	if (h1 >= 0)
		close(h1);
	if (h2 >= 0)
		close(h2);
}

static void
test_forced(void **state)
{
	char why[160];
	uint16_t port, p2;
	int fd, fd2;

	(void)state;
	/* An ephemeral port, then force it while held: exit 8 territory. */
	assert_int_equal(jc_net_listen(0, &fd, &port), 0);
	assert_int_equal(jc_net_pick_port(port, 0, &fd2, &p2, why, sizeof(why)),
	    JC_ERR_PORT);
	close(fd);
	assert_int_equal(jc_net_pick_port(port, 0, &fd2, &p2, why, sizeof(why)),
	    0);
	assert_int_equal(p2, port);
	close(fd2);
}

/* The port of last time wins over the usual order, unless it is busy. */
static void
test_last_port(void **state)
{
	char why[160];
	uint16_t last, port;
	int fd, held;

	(void)state;
	assert_int_equal(jc_net_listen(0, &held, &last), 0);
	close(held);
	assert_int_equal(jc_net_pick_port(0, last, &fd, &port, why,
	    sizeof(why)), 0);
	assert_int_equal(port, last);
	assert_non_null(strstr(why, "last time"));
	close(fd);
	held = hold(last);
	assert_true(held >= 0);
	assert_int_equal(jc_net_pick_port(0, last, &fd, &port, why,
	    sizeof(why)), 0);
	assert_int_not_equal(port, last);
	close(fd);
	close(held);
	/* --local-port still wins. */
	assert_int_equal(jc_net_listen(0, &held, &port), 0);
	close(held);
	assert_int_equal(jc_net_pick_port(port, last, &fd, &last, why,
	    sizeof(why)), 0);
	assert_int_equal(last, port);
	close(fd);
}

static void
test_loopback_only(void **state)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	uint16_t port;
	int fd;

	(void)state;
	assert_int_equal(jc_net_listen(0, &fd, &port), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_true(jc_net_port_busy(port));
	close(fd);
	assert_false(jc_net_port_busy(port));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preferred_order),
		cmocka_unit_test(test_forced),
		cmocka_unit_test(test_last_port),
		cmocka_unit_test(test_loopback_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
