/*
 * test_target.c - the TARGET grammar, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "target.h"

static const struct {
	const char	*spec;
	int		 kind;		/* 0 = must fail */
	const char	*user, *host;
	int		 port;
	const char	*value, *key;
} cases[] = {
	{ "i-0123456789abcdef0", JC_T_INSTANCE, "", "", 0,
	  "i-0123456789abcdef0", "" },
	{ "i-12345678", JC_T_INSTANCE, "", "", 0, "i-12345678", "" },
	{ "mi-0123456789abcdef0", JC_T_INSTANCE, "", "", 0,
	  "mi-0123456789abcdef0", "" },
	{ "ubuntu@ec2-54-1-2-3.compute-1.amazonaws.com", JC_T_HOST, "ubuntu",
	  "ec2-54-1-2-3.compute-1.amazonaws.com", 0, "", "" },
	{ "ubuntu@10.0.0.5:2222", JC_T_HOST, "ubuntu", "10.0.0.5", 2222, "",
	  "" },
	{ "54.1.2.3", JC_T_HOST, "", "54.1.2.3", 0, "", "" },
	{ "::1", JC_T_HOST, "", "::1", 0, "", "" },
	{ "[::1]:2200", JC_T_HOST, "", "::1", 2200, "", "" },
	{ "root@[fe80::1]:22", JC_T_HOST, "root", "fe80::1", 22, "", "" },
	{ "localhost", JC_T_HOST, "", "localhost", 0, "", "" },
	{ "box.example.com:2022", JC_T_HOST, "", "box.example.com", 2022, "",
	  "" },
	{ "stack:my-stack", JC_T_STACK, "", "", 0, "my-stack", "" },
	{ "name:gpu-box", JC_T_NAME, "", "", 0, "gpu-box", "" },
	{ "tag:team=ml", JC_T_TAG, "", "", 0, "ml", "team" },
	{ "tag:Name=a=b", JC_T_TAG, "", "", 0, "a=b", "Name" },
	{ "my-stack", JC_T_WORD, "", "", 0, "my-stack", "" },
	{ "ubuntu@my-stack", JC_T_WORD, "ubuntu", "", 0, "my-stack", "" },
	{ "ubuntu@i-0123456789abcdef0", JC_T_INSTANCE, "ubuntu", "", 0,
	  "i-0123456789abcdef0", "" },
	/* i- with upper case or a wrong length is a word, not an id */
	{ "i-ABCDEF12", JC_T_WORD, "", "", 0, "i-ABCDEF12", "" },
	{ "", 0, NULL, NULL, 0, NULL, NULL },
	{ "stack:", 0, NULL, NULL, 0, NULL, NULL },
	{ "tag:novalue", 0, NULL, NULL, 0, NULL, NULL },
	{ "tag:=x", 0, NULL, NULL, 0, NULL, NULL },
	{ "@host.com", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:0", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:65536", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:22x", 0, NULL, NULL, 0, NULL, NULL },
	/* a port is digits only: no blank, sign or base prefix */
	{ "host.com: 22", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:+22", 0, NULL, NULL, 0, NULL, NULL },
	{ "ubuntu@10.0.0.5:+2222", 0, NULL, NULL, 0, NULL, NULL },
	{ "[::1]: 22", 0, NULL, NULL, 0, NULL, NULL },
	{ "[::1]:+22", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:0x16", 0, NULL, NULL, 0, NULL, NULL },
	{ "host.com:99999999999999999999", 0, NULL, NULL, 0, NULL, NULL },
	{ "bad word", 0, NULL, NULL, 0, NULL, NULL },
	{ "a;rm -rf /", 0, NULL, NULL, 0, NULL, NULL },
	{ "us$er@host.com", 0, NULL, NULL, 0, NULL, NULL },
	{ "-l@host.com", 0, NULL, NULL, 0, NULL, NULL },
	{ "-oProxyCommand@my-stack", 0, NULL, NULL, 0, NULL, NULL },
	{ "[::1", 0, NULL, NULL, 0, NULL, NULL },
	{ "-oProxyCommand=x.y", 0, NULL, NULL, 0, NULL, NULL },
};

static void
test_table(void **state)
{
	struct jc_tspec t;
	char why[256];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		r = jc_target_parse(cases[i].spec, &t, why, sizeof(why));
		if (cases[i].kind == 0) {
			if (r != JC_ERR_USAGE)
				fail_msg("\"%s\" should fail", cases[i].spec);
			assert_true(why[0] != '\0');
			continue;
		}
		if (r != 0)
			fail_msg("\"%s\": %s", cases[i].spec, why);
		assert_int_equal(t.kind, cases[i].kind);
		assert_string_equal(t.user, cases[i].user);
		assert_string_equal(t.host, cases[i].host);
		assert_int_equal(t.port, cases[i].port);
		assert_string_equal(t.value, cases[i].value);
		assert_string_equal(t.key, cases[i].key);
		assert_int_equal(jc_target_is_aws(&t), t.kind != JC_T_HOST);
	}
}

static void
test_long(void **state)
{
	char big[600], why[256];
	struct jc_tspec t;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(jc_target_parse(big, &t, why, sizeof(why)),
	    JC_ERR_USAGE);
	assert_int_equal(jc_target_parse(NULL, &t, why, sizeof(why)),
	    JC_ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
