/*
 * test_fwdspec.c - the --forward grammar, table-driven, and the choice
 * of local port (the remote's number, else the next free one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwdspec.h"
#include "jc_plugin.h"
#include "net.h"

static const struct {
	const char	*spec;
	int		 ok;
	int		 lport;
	const char	*host;
	int		 rport;
	int		 local_dest;
} cases[] = {
	{ "6006", 1, 0, "127.0.0.1", 6006, 1 },
	{ "16006:6006", 1, 16006, "127.0.0.1", 6006, 1 },
	{ "db.internal:5432", 1, 0, "db.internal", 5432, 0 },
	{ "5432:db.internal:5432", 1, 5432, "db.internal", 5432, 0 },
	{ "15432:10.0.0.5:5432", 1, 15432, "10.0.0.5", 5432, 0 },
	{ "15432:[fd00::5]:5432", 1, 15432, "fd00::5", 5432, 0 },
	{ "[fd00::5]:5432", 1, 0, "fd00::5", 5432, 0 },
	{ "8080:localhost:80", 1, 8080, "localhost", 80, 1 },
	{ "my_host-1:1", 1, 0, "my_host-1", 1, 0 },
	{ "65535:65535", 1, 65535, "127.0.0.1", 65535, 1 },
	/* refused */
	{ "", 0, 0, NULL, 0, 0 },
	{ "0", 0, 0, NULL, 0, 0 },
	{ "65536", 0, 0, NULL, 0, 0 },
	{ "+6006", 0, 0, NULL, 0, 0 },
	{ " 6006", 0, 0, NULL, 0, 0 },
	{ "abc", 0, 0, NULL, 0, 0 },
	{ ":6006", 0, 0, NULL, 0, 0 },
	{ "6006:", 0, 0, NULL, 0, 0 },
	{ "0:6006", 0, 0, NULL, 0, 0 },
	{ "70000:6006", 0, 0, NULL, 0, 0 },
	{ "1:2:3", 0, 0, NULL, 0, 0 },		/* a HOST of digits */
	{ "1:2:3:4", 0, 0, NULL, 0, 0 },
	{ "db:x", 0, 0, NULL, 0, 0 },
	{ "db:", 0, 0, NULL, 0, 0 },
	{ "-db:5432", 0, 0, NULL, 0, 0 },
	{ "d b:5432", 0, 0, NULL, 0, 0 },
	{ "db;rm:5432", 0, 0, NULL, 0, 0 },
	{ "[::1]", 0, 0, NULL, 0, 0 },
	{ "[fd00::5:5432", 0, 0, NULL, 0, 0 },
	{ "[not:v6]:5432", 0, 0, NULL, 0, 0 },
	{ "1:[fd00::5]5432", 0, 0, NULL, 0, 0 },
};

static void
test_table(void **state)
{
	struct jc_fwdspec f;
	char why[400];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		r = jc_fwdspec_parse(cases[i].spec, &f, why, sizeof(why));
		if (!cases[i].ok) {
			if (r == 0)
				fail_msg("\"%s\" was accepted", cases[i].spec);
			/* The message says what a forward is. */
			assert_non_null(strstr(why, "[LOCAL:]REMOTE"));
			continue;
		}
		if (r != 0)
			fail_msg("\"%s\" refused: %s", cases[i].spec, why);
		assert_int_equal(f.lport, cases[i].lport);
		assert_string_equal(f.host, cases[i].host);
		assert_int_equal(f.rport, cases[i].rport);
		assert_int_equal(jc_fwdspec_local_dest(&f),
		    cases[i].local_dest);
	}
}

static void
test_dest(void **state)
{
	struct jc_fwdspec f;
	char why[400], d[300];

	(void)state;
	assert_int_equal(jc_fwdspec_parse("1:[fd00::5]:5432", &f, why,
	    sizeof(why)), 0);
	jc_fwdspec_dest(&f, d, sizeof(d));
	assert_string_equal(d, "[fd00::5]:5432");
	assert_int_equal(jc_fwdspec_parse("db:5432", &f, why, sizeof(why)), 0);
	jc_fwdspec_dest(&f, d, sizeof(d));
	assert_string_equal(d, "db:5432");
}

/* Without LOCAL: the remote's number, else the next free one above. */
static void
test_listen(void **state)
{
	struct jc_fwdspec f;
	uint16_t p0, p1, p2;
	int fd0, fd1, fd2, i, r = -1;

	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.host, sizeof(f.host), "127.0.0.1");
	/* A free port with a free neighbour: take any, try its next. */
	for (i = 0; i < 50; i++) {
		assert_int_equal(jc_net_listen(0, &fd0, &p0), 0);
		close(fd0);
		if (p0 >= 65000)
			continue;
		f.rport = p0;
		if ((r = jc_fwdspec_listen(&f, &fd1, &p1)) == 0)
			break;
	}
	assert_int_equal(r, 0);
	assert_int_equal(p1, p0);
	/* Now p0 is ours: the same spec gets a port above it. */
	assert_int_equal(jc_fwdspec_listen(&f, &fd2, &p2), 0);
	assert_true(p2 > p0);
	close(fd2);
	/* An explicit LOCAL that is busy is JC_ERR_PORT. */
	f.lport = p1;
	assert_int_equal(jc_fwdspec_listen(&f, &fd2, &p2), JC_ERR_PORT);
	close(fd1);
	/* Below 1024: never tried, something above it is used. */
	memset(&f, 0, sizeof(f));
	f.rport = 80;
	assert_int_equal(jc_fwdspec_listen(&f, &fd2, &p2), 0);
	assert_true(p2 >= 1024);
	close(fd2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_dest),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
