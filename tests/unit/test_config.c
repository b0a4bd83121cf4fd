/*
 * test_config.c - the config file: aliases, defaults, options, every
 * value checked at load (key, type, range), a clear error with the line
 * number for a broken file, and aliases applied through
 * jc_request_resolve as the commands use them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access.h"
#include "request.h"
#include "config.h"
#include "jc.h"
#include "log.h"
#include "plugin.h"

static char path[] = "/tmp/jc-config-test.XXXXXX";

static void
write_cfg(const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/jc-config-test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

static void
test_alias(void **state)
{
	(void)state;
	write_cfg("{\"defaults\": {\"user\": \"ec2-user\", \"region\": "
	    "\"eu-west-1\", \"options\": {\"ssm.chunk_size\": 4096}},\n"
	    " \"aliases\": {\"gpu\": {\"target\": \"stack:ml-stack\", "
	    "\"via\": \"ssm\", \"user\": \"ubuntu\", \"jupyter_port\": 8890,"
	    " \"options\": {\"ssm.window\": \"64\"}}}}\n");
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_load(path), 0);
	assert_true(jc_config_is_alias("gpu"));
	assert_false(jc_config_is_alias("cpu"));
	assert_string_equal(jc_config_alias_target("gpu"), "stack:ml-stack");
	assert_int_equal(jc_config_apply(&jc_opts, "gpu"), 0);
	assert_string_equal(jc_opts.via, "ssm");
	assert_string_equal(jc_opts.user, "ubuntu");	/* alias wins */
	assert_string_equal(jc_opts.region, "eu-west-1");	/* defaults */
	assert_int_equal(jc_opts.jupyter_port, 8890);
	assert_string_equal(jc_config_option("ssm.window"), "64");
	assert_string_equal(jc_config_option("ssm.chunk_size"), "4096");
	jc_config_free();
	unlink(path);
}

static void
test_cli_wins(void **state)
{
	(void)state;
	write_cfg("{\"defaults\": {\"user\": \"ec2-user\", \"via\": \"ssh\"}}");
	memset(&jc_opts, 0, sizeof(jc_opts));
	jc_opts.user = "alice";
	jc_opts.via = "ssm";
	assert_int_equal(jc_config_load(path), 0);
	assert_int_equal(jc_config_apply(&jc_opts, NULL), 0);
	assert_string_equal(jc_opts.user, "alice");
	assert_string_equal(jc_opts.via, "ssm");
	jc_config_free();
	unlink(path);
	/* --via auto and --host-key-check accept-new, given explicitly,
	 * beat an alias that says otherwise; an alias beats defaults. */
	write_cfg("{\"defaults\": {\"via\": \"ssm\", \"host_key_check\": "
	    "\"strict\"}, \"aliases\": {\"a\": {\"target\": \"stack:s\", "
	    "\"via\": \"ssh\", \"host_key_check\": \"accept-new\"}}}");
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_load(path), 0);
	assert_int_equal(jc_config_apply(&jc_opts, "a"), 0);
	assert_string_equal(jc_opts.via, "ssh");
	assert_int_equal(jc_opts.host_key_check, JC_HKC_ACCEPT_NEW);
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_apply(&jc_opts, NULL), 0);
	assert_string_equal(jc_opts.via, "ssm");
	assert_int_equal(jc_opts.host_key_check, JC_HKC_STRICT);
	memset(&jc_opts, 0, sizeof(jc_opts));
	jc_config_cli_set(JC_CFG_CLI_VIA | JC_CFG_CLI_HKC);
	assert_int_equal(jc_config_apply(&jc_opts, NULL), 0);
	assert_null(jc_opts.via);	/* auto */
	assert_int_equal(jc_opts.host_key_check, JC_HKC_ACCEPT_NEW);
	jc_config_free();
	unlink(path);
}

/*
 * Every alias key reaches what the access plugins are handed, through
 * jc_request_resolve (the path of open, url, proxy, keys and resolve).
 */
static void
test_alias_resolved(void **state)
{
	struct jc_access a;
	char key[] = "/tmp/jc-config-key.XXXXXX", text[2048];
	int fd;

	(void)state;
	fd = mkstemp(key);
	assert_true(fd >= 0);
	close(fd);
	snprintf(text, sizeof(text), "{\"defaults\": {\"user\": \"bob\", "
	    "\"local_port\": 7000, \"options\": {\"ssh.keepalive\": 9}},\n"
	    " \"aliases\": {\"lab\": {\"target\": \"10.0.0.5\", "
	    "\"user\": \"alice\", \"port\": 2222, \"identity\": \"%s\", "
	    "\"known_hosts\": \"/tmp/jc-kh\", \"host_key_check\": \"strict\", "
	    "\"jupyter_port\": 8890, \"local_port\": \"9999\", "
	    "\"jupyter_log\": \"~/j.log\", \"via\": \"ssh\", "
	    "\"options\": {\"ssh.keepalive\": 5}},\n"
	    " \"ulab\": {\"target\": \"carol@10.0.0.6:2200\", "
	    "\"user\": \"alice\"}}}\n", key);
	write_cfg(text);
	assert_int_equal(jc_config_load(path), 0);
	/* The access method comes from the plugins' declarations. */
	setenv("JCONNECT_PLUGIN_DIR", "plugins/ssh:plugins/ssm:plugins/eice",
	    1);

	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_request_resolve(&a, "lab"), 0);
	assert_string_equal(a.target, "10.0.0.5");
	assert_string_equal(a.host, "10.0.0.5");
	assert_string_equal(a.user, "alice");		/* alias beats defaults */
	assert_string_equal(a.via, "ssh");
	assert_int_equal(a.t.port, 2222);
	assert_string_equal(a.t.identity, key);
	assert_string_equal(a.t.known_hosts, "/tmp/jc-kh");
	assert_int_equal(a.t.host_key_check, JC_HKC_STRICT);
	assert_int_equal(jc_opts.jupyter_port, 8890);
	assert_int_equal(jc_opts.local_port, 9999);
	assert_string_equal(jc_opts.jupyter_log, "~/j.log");	/* remote */
	assert_string_equal(jc_config_option("ssh.keepalive"), "5");

	/* user@ as typed, then -l, then the alias target's user@ */
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_request_resolve(&a, "dave@lab"), 0);
	assert_string_equal(a.user, "dave");
	assert_int_equal(a.t.port, 2222);
	memset(&jc_opts, 0, sizeof(jc_opts));
	jc_opts.user = "erin";
	assert_int_equal(jc_request_resolve(&a, "ulab"), 0);
	assert_string_equal(a.user, "erin");
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_request_resolve(&a, "ulab"), 0);
	assert_string_equal(a.user, "carol");
	assert_int_equal(a.t.port, 2200);	/* :port beats nothing set */
	assert_int_equal(jc_opts.local_port, 7000);	/* from defaults */
	assert_string_equal(jc_config_option("ssh.keepalive"), "9");

	/* not an alias: defaults only, and host:port beats them */
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_request_resolve(&a, "box.example.com:2022"), 0);
	assert_int_equal(a.t.port, 2022);
	assert_string_equal(a.user, "bob");
	jc_config_free();
	unlink(path);

	/* an alias's identity that does not exist is exit 2, up front */
	snprintf(text, sizeof(text), "{\"aliases\": {\"lab\": {\"target\": "
	    "\"10.0.0.5\", \"identity\": \"%s.gone\"}}}", key);
	write_cfg(text);
	assert_int_equal(jc_config_load(path), 0);
	memset(&jc_opts, 0, sizeof(jc_opts));
	jc_log_set_level(0);
	assert_int_equal(jc_request_resolve(&a, "lab"), JC_ERR_USAGE);
	jc_log_set_level(JC_LOG_INFO);
	jc_config_free();
	unlink(path);
	unlink(key);
}

/* ~/ in a local path of the config is $HOME. */
static void
test_home(void **state)
{
	const char *home = getenv("HOME");
	char *saved = home ? strdup(home) : NULL;

	(void)state;
	setenv("HOME", "/home/somebody", 1);
	write_cfg("{\"defaults\": {\"known_hosts\": \"~/.ssh/kh\"}}");
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_load(path), 0);
	assert_int_equal(jc_config_apply(&jc_opts, NULL), 0);
	assert_string_equal(jc_opts.known_hosts, "/home/somebody/.ssh/kh");
	jc_config_free();
	unlink(path);
	if (saved != NULL)
		setenv("HOME", saved, 1);
	free(saved);
}

/* Each of these is refused when the file is loaded. */
static const char *bad_configs[] = {
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"local_port\": \"88a\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"local_port\": -1}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"local_port\": 65536}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"local_port\": 0}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"port\": 22.5}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"port\": \" 22\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"port\": \"+22\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"port\": true}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"jupyter_port\": 4294975296}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"host_key_check\": \"strct\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"host_key_check\": true}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"via\": \"telnet\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"user\": \"a b\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"user\": \"\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"region\": \"EU West\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"profile\": 7}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"identity\": \"\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"stack:x\", \"hostkeycheck\": \"strict\"}}}",
	"{\"aliases\": {\"gpu\": {\"target\": \"a;b\"}}}",
	"{\"aliases\": {\"gpu\": {\"via\": \"ssm\"}}}",
	"{\"aliases\": {\"gpu\": \"stack:x\"}}",
	"{\"aliases\": [1]}",
	"{\"alias\": {}}",
	"{\"defaults\": {\"target\": \"stack:x\"}}",
	"{\"defaults\": {\"options\": {\"ssm.chunksize\": 4096}}}",
	"{\"defaults\": {\"options\": {\"ssm.chunk_size\": \"4k\"}}}",
	"{\"defaults\": {\"options\": {\"ssm.chunk_size\": 63}}}",
	"{\"defaults\": {\"options\": {\"ssh.keepalive\": -1}}}",
	"{\"defaults\": {\"options\": {\"aws.max_attempts\": 11}}}",
	"{\"defaults\": {\"options\": {\"ssh.ciphers\": \"\"}}}",
	"{\"defaults\": {\"options\": {\"ssh.ciphers\": 5}}}",
	"{\"defaults\": {\"options\": [\"ssm.window=4\"]}}",
	"{\"defaults\": 5}",
	/* names TARGET cannot reach as an alias */
	"{\"aliases\": {\"gpu.box\": {\"target\": \"stack:x\"}}}",
	"{\"aliases\": {\"i-12345678\": {\"target\": \"stack:x\"}}}",
	"{\"aliases\": {\"a@gpu\": {\"target\": \"stack:x\"}}}",
	"{\"aliases\": {\"\": {\"target\": \"stack:x\"}}}",
};

static void
test_validated(void **state)
{
	size_t i;

	(void)state;
	jc_log_set_level(0);
	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		write_cfg(bad_configs[i]);
		if (jc_config_load(path) != JC_ERR_USAGE)
			fail_msg("accepted: %s", bad_configs[i]);
		assert_false(jc_config_is_alias("gpu"));
		jc_config_free();
		unlink(path);
	}
	/* the same values written correctly load */
	write_cfg("{\"defaults\": {\"port\": \"22\", \"region\": \"eu-west-1\", "
	    "\"options\": {\"ssm.chunk_size\": \"65536\", \"ssh.keepalive\": 0,"
	    " \"ssh.ciphers\": \"aes128-ctr,chacha20-poly1305@openssh.com\"}},"
	    " \"aliases\": {\"gpu\": {\"target\": \"stack:x\", "
	    "\"local_port\": 65535, \"jupyter_port\": 1.0, "
	    "\"host_key_check\": \"accept-new\", \"user\": \"ec2-user\"}}}");
	assert_int_equal(jc_config_load(path), 0);
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_apply(&jc_opts, "gpu"), 0);
	assert_int_equal(jc_opts.local_port, 65535);
	assert_int_equal(jc_opts.jupyter_port, 1);
	assert_int_equal(jc_opts.ssh_port, 22);
	assert_string_equal(jc_config_option("ssh.keepalive"), "0");
	jc_config_free();
	unlink(path);
	/* a directory is not a config file */
	assert_int_equal(jc_config_load("/tmp"), JC_ERR_USAGE);
	jc_config_free();
	jc_log_set_level(JC_LOG_INFO);
}

/* -o KEY=VALUE: known keys only, values of their type and range. */
static void
test_cli_options(void **state)
{
	static const char *bad[] = {
		"ssm.chunksize=4096", "nosuch=1", "ssm.chunk_size=4k",
		"ssm.chunk_size= 4096", "ssm.chunk_size=+4096",
		"ssm.chunk_size=63", "ssm.chunk_size=", "ssh.keepalive=-1",
		"aws.max_attempts=0", "aws.start_timeout=1e3",
		"ssh.ciphers=", "ssh.ciphers=a b",
	};
	size_t i;

	(void)state;
	jc_log_set_level(0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jc_config_set_option(bad[i]) != JC_ERR_USAGE)
			fail_msg("-o %s accepted", bad[i]);
	jc_log_set_level(JC_LOG_INFO);
	assert_int_equal(jc_config_set_option("ssm.chunk_size=64"), 0);
	assert_int_equal(jc_config_set_option("ssh.keepalive=0"), 0);
	assert_int_equal(jc_config_set_option("ssh.ciphers=aes256-ctr"), 0);
	assert_string_equal(jc_config_option("ssm.chunk_size"), "64");
	assert_null(jc_config_option("ssm.window"));
	jc_config_free();
}

static void
test_broken(void **state)
{
	(void)state;
	jc_log_set_level(0);
	write_cfg("{\n \"aliases\": {\n  \"gpu\": {\"target\": \"x\",}\n }\n}\n");
	assert_int_equal(jc_config_load(path), JC_ERR_USAGE);
	jc_config_free();
	unlink(path);
	write_cfg("{\"defaults\": {\"via\": \"carrier-pigeon\"}}");
	memset(&jc_opts, 0, sizeof(jc_opts));
	assert_int_equal(jc_config_load(path), JC_ERR_USAGE);
	jc_config_free();
	unlink(path);
	/* -F with a missing file is an error; a missing default is not */
	assert_int_equal(jc_config_load("/nonexistent/jconnect.json"),
	    JC_ERR_USAGE);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	assert_int_equal(jc_config_load(NULL), 0);
	jc_config_free();
	jc_log_set_level(JC_LOG_INFO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_cli_wins),
		cmocka_unit_test(test_alias_resolved),
		cmocka_unit_test(test_home),
		cmocka_unit_test(test_validated),
		cmocka_unit_test(test_cli_options),
		cmocka_unit_test(test_broken),
	};

	/* As the command line does: the plugins' options are known. */
	jc_config_set_plugins(jc_plugin_config_ops());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
