/*
 * test_cli.c - option parsing per subcommand and the exit-code table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "jc.h"
#include "log.h"
#include "num.h"

/*
 * argv for jc_cli_parse from string literals: copies them into writable
 * storage (getopt may permute argv).  Valid until the next call.
 */
static char **
mkargv(int *argc, ...)
{
	static char store[1024], *v[32];
	const char *a;
	size_t o = 0;
	va_list ap;
	int n = 0;

	va_start(ap, argc);
	for (a = "jconnect"; a != NULL && n < 31; a = va_arg(ap, const char *)) {
		v[n++] = strcpy(store + o, a);
		o += strlen(a) + 1;
	}
	va_end(ap);
	v[n] = NULL;
	*argc = n;
	return v;
}
#define ARGV(n, ...) mkargv(&(n), __VA_ARGS__, (const char *)NULL)

static int
parse(int argc, char **argv, const char **cmd, int *first)
{
	int r;

	jc_config_free();
	r = jc_cli_parse(argc, argv, cmd, first);
	return r;
}

static void
test_open_default(void **state)
{
	const char *cmd;
	int first, n;
	char **a = ARGV(n, "-i", "key.pem", "-p", "2222", "--no-browser",
	    "--jupyter-port", "8890", "-vv", "ubuntu@host.example.com");

	(void)state;
	assert_int_equal(parse(n, a, &cmd, &first), 0);
	assert_string_equal(cmd, "open");
	assert_string_equal(jc_opts.identity, "key.pem");
	assert_int_equal(jc_opts.ssh_port, 2222);
	assert_int_equal(jc_opts.jupyter_port, 8890);
	assert_true(jc_opts.no_browser);
	assert_int_equal(jc_opts.verbosity, JC_LOG_DEBUG);
	assert_string_equal(a[first], "ubuntu@host.example.com");
	jc_log_set_level(JC_LOG_INFO);
}

static void
test_options_after_target(void **state)
{
	const char *cmd;
	int first, n;
	char **a = ARGV(n, "url", "my-stack", "--via", "ssm", "--local-port",
	    "9000", "--json", "-q");

	(void)state;
	assert_int_equal(parse(n, a, &cmd, &first), 0);
	assert_string_equal(cmd, "url");
	assert_string_equal(jc_opts.via, "ssm");
	assert_int_equal(jc_opts.local_port, 9000);
	assert_true(jc_opts.json);
	assert_int_equal(jc_opts.verbosity, JC_LOG_ERROR);
	assert_string_equal(a[first], "my-stack");
	jc_log_set_level(JC_LOG_INFO);
}

static void
test_keys_and_stop(void **state)
{
	const char *cmd;
	int first, n;
	char **k = ARGV(n, "keys", "--key", "a.pub", "--key", "b.pub",
	    "--remove", "box");
	char **s;

	(void)state;
	assert_int_equal(parse(n, k, &cmd, &first), 0);
	assert_int_equal(jc_opts.nkey_files, 2);
	assert_string_equal(jc_opts.key_files[1], "b.pub");
	assert_true(jc_opts.keys_remove);
	s = ARGV(n, "stop", "--all");
	assert_int_equal(parse(n, s, &cmd, &first), 0);
	assert_true(jc_opts.all);
	assert_string_equal(cmd, "stop");
}

static void
test_usage_errors(void **state)
{
	static const char *bad[][6] = {	/* copied: getopt permutes */
		{ "--via", "telnet", "box", NULL },
		{ "-p", "0", "box", NULL },
		{ "-p", "65536", "box", NULL },
		{ "--local-port", "12x", "box", NULL },
		{ "--host-key-check", "maybe", "box", NULL },
		{ "-i", NULL },				/* missing value */
		{ "--frobnicate", "box", NULL },	/* unknown */
		{ "ls", "-i", "key", NULL },		/* not for ls */
		{ "proxy", "--no-browser", "box", NULL },
		{ "resolve", "--start-jupyter", "box", NULL },
		{ "-q", "-v", "box", NULL },
		{ "box", "extra", NULL },		/* too many */
		{ "url", NULL },			/* missing TARGET */
		{ "-o", "noequals", "box", NULL },
		/* numbers are digits only, in range */
		{ "-p", " 22", "box", NULL },
		{ "-p", "+22", "box", NULL },
		{ "-p", "22 ", "box", NULL },
		{ "-p", "0x16", "box", NULL },
		{ "--local-port", "-1", "box", NULL },
		{ "--jupyter-port", "99999999999999999999", "box", NULL },
		{ "--timeout", "+5", "box", NULL },
		/* -o keys are known, values of their type */
		{ "-o", "ssm.chunksize=4096", "box", NULL },
		{ "-o", "ssm.chunk_size=4k", "box", NULL },
		{ "-o", "ssh.keepalive=-1", "box", NULL },
		/* a user name, and no empty values */
		{ "-l", "a b", "box", NULL },
		{ "-l", "-oProxyCommand=x", "box", NULL },
		{ "-i", "", "box", NULL },
		{ "--identity=", "box", NULL },
		{ "--region", "", "box", NULL },
	};
	char *argv[8];
	const char *cmd;
	size_t i, n;
	int first;

	(void)state;
	jc_log_set_level(JC_LOG_ERROR);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[0] = strdup("jconnect");
		for (n = 0; bad[i][n] != NULL; n++)
			argv[n + 1] = strdup(bad[i][n]);
		argv[n + 1] = NULL;
		if (parse((int)n + 1, argv, &cmd, &first) != JC_ERR_USAGE)
			fail_msg("case %zu (%s %s) should be a usage error", i,
			    bad[i][0], bad[i][1] ? bad[i][1] : "");
		while (n + 1 > 0)
			free(argv[n--]);
	}
	jc_log_set_level(JC_LOG_INFO);
}

/* Files jconnect reads itself are checked before anything runs. */
static void
test_missing_files(void **state)
{
	int n;
	char **a;

	(void)state;
	jc_log_set_level(JC_LOG_ERROR);
	a = ARGV(n, "-i", "/nonexistent/key.pem", "box.example.com");
	assert_int_equal(jc_cli_main(n, a), 2);
	a = ARGV(n, "-i", "/tmp", "box.example.com");
	assert_int_equal(jc_cli_main(n, a), 2);
	a = ARGV(n, "keys", "--key", "/nonexistent/id.pub", "box.example.com");
	assert_int_equal(jc_cli_main(n, a), 2);
	a = ARGV(n, "resolve", "--known-hosts", "/tmp", "box.example.com");
	assert_int_equal(jc_cli_main(n, a), 2);
	a = ARGV(n, "resolve", "-F", "/tmp", "box.example.com");
	assert_int_equal(jc_cli_main(n, a), 2);
	jc_log_set_level(JC_LOG_INFO);
}

static void
test_numbers(void **state)
{
	static const char *bad[] = { "", " 1", "1 ", "+1", "-1", "0x10",
	    "1e3", "1.0", "65536", "0", "99999999999999999999999" };
	long v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jc_num_parse(bad[i], 1, 65535, &v) == 0)
			fail_msg("\"%s\" accepted as a port", bad[i]);
	assert_int_equal(jc_num_parse("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(jc_num_parse("0022", 1, 65535, &v), 0);
	assert_int_equal(v, 22);
	assert_int_equal(jc_num_parse("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(jc_num_parse(NULL, 0, 10, &v), -1);
}

static void
test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(jc_exit_status(0), 0);
	assert_int_equal(jc_exit_status(JC_ERR_INTERNAL), 1);
	assert_int_equal(jc_exit_status(JC_ERR_USAGE), 2);
	assert_int_equal(jc_exit_status(JC_ERR_NOTFOUND), 3);
	assert_int_equal(jc_exit_status(JC_ERR_AWS_AUTH), 4);
	assert_int_equal(jc_exit_status(JC_ERR_UNREACHABLE), 5);
	assert_int_equal(jc_exit_status(JC_ERR_CLOSED), 5);
	assert_int_equal(jc_exit_status(JC_ERR_HOSTKEY), 6);
	assert_int_equal(jc_exit_status(JC_ERR_JUPYTER), 7);
	assert_int_equal(jc_exit_status(JC_ERR_PORT), 8);
	assert_int_equal(jc_exit_status(JC_ERR_INTR), 0);
	assert_int_equal(jc_exit_status(-999), 1);
	assert_string_not_equal(jc_strerror(JC_ERR_PORT), "unknown error");
}

static void
test_option_lookup(void **state)
{
	const char *cmd;
	int first, n;
	char **a = ARGV(n, "-o", "ssm.chunk_size=4096", "-o",
	    "ssm.chunk_size=8192", "box");

	(void)state;
	assert_int_equal(parse(n, a, &cmd, &first), 0);
	/* The last -o wins, like ssh -o. */
	assert_string_equal(jc_config_option("ssm.chunk_size"), "8192");
	assert_null(jc_config_option("ssm.window"));
	jc_config_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_default),
		cmocka_unit_test(test_options_after_target),
		cmocka_unit_test(test_keys_and_stop),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_option_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
