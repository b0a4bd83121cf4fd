/*
 * test_config.c - the config file: aliases, defaults, options, and a
 * clear error with the line number for a broken file.
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

#include "config.h"
#include "jc.h"
#include "log.h"

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
	assert_int_equal(jc_opts.via, JC_VIA_SSM);
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
	jc_opts.via = JC_VIA_SSM;
	assert_int_equal(jc_config_load(path), 0);
	assert_int_equal(jc_config_apply(&jc_opts, NULL), 0);
	assert_string_equal(jc_opts.user, "alice");
	assert_int_equal(jc_opts.via, JC_VIA_SSM);
	jc_config_free();
	unlink(path);
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
	assert_int_equal(jc_config_load(path), 0);
	assert_int_equal(jc_config_apply(&jc_opts, NULL), JC_ERR_USAGE);
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
		cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
