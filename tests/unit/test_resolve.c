/*
 * test_resolve.c - the access choice for --via auto/ssm/ssh from what is
 * known about an instance (jc_resolve_via), table-driven.  Resolution
 * itself talks to AWS and is tested against the fake in
 * tests/integration/t_aws_resolve.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jc.h"
#include "log.h"
#include "resolve.h"

static const struct {
	int		 via;
	int		 checked, managed, online;
	const char	*dns, *ip, *private_ip;
	int		 want;
} cases[] = {
	/* auto: SSM when the agent is Online */
	{ JC_VIA_AUTO, 1, 1, 1, "ec2-1.amazonaws.com", "54.1.2.3", "10.0.0.5",
	  JC_VIA_SSM },
	{ JC_VIA_AUTO, 1, 1, 1, "", "", "10.0.0.5", JC_VIA_SSM },
	/* auto: SSH to the public name or address otherwise */
	{ JC_VIA_AUTO, 1, 1, 0, "ec2-1.amazonaws.com", "54.1.2.3", "",
	  JC_VIA_SSH },
	{ JC_VIA_AUTO, 1, 0, 0, "", "54.1.2.3", "", JC_VIA_SSH },
	{ JC_VIA_AUTO, 0, 0, 0, "ec2-1.amazonaws.com", "", "", JC_VIA_SSH },
	/* auto: neither is possible */
	{ JC_VIA_AUTO, 1, 1, 0, "", "", "10.0.0.5", JC_ERR_UNREACHABLE },
	{ JC_VIA_AUTO, 1, 0, 0, "", "", "", JC_ERR_UNREACHABLE },
	/* ssm: refused only when SSM said it does not know the instance */
	{ JC_VIA_SSM, 1, 1, 1, "", "", "", JC_VIA_SSM },
	{ JC_VIA_SSM, 1, 1, 0, "", "", "", JC_VIA_SSM },
	{ JC_VIA_SSM, 0, 0, 0, "", "", "", JC_VIA_SSM },
	{ JC_VIA_SSM, 1, 0, 0, "x", "1.2.3.4", "", JC_ERR_UNREACHABLE },
	/* ssh: needs a public address even when SSM is Online */
	{ JC_VIA_SSH, 1, 1, 1, "ec2-1.amazonaws.com", "", "", JC_VIA_SSH },
	{ JC_VIA_SSH, 1, 1, 1, "", "", "10.0.0.5", JC_ERR_UNREACHABLE },
};

static void
test_via(void **state)
{
	struct jc_instance in;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		snprintf(in.id, sizeof(in.id), "i-0123456789abcdef0");
		snprintf(in.region, sizeof(in.region), "us-east-1");
		snprintf(in.state, sizeof(in.state), "running");
		in.ssm_checked = cases[i].checked;
		in.ssm_managed = cases[i].managed;
		in.ssm_online = cases[i].online;
		snprintf(in.public_dns, sizeof(in.public_dns), "%s",
		    cases[i].dns);
		snprintf(in.public_ip, sizeof(in.public_ip), "%s",
		    cases[i].ip);
		snprintf(in.private_ip, sizeof(in.private_ip), "%s",
		    cases[i].private_ip);
		r = jc_resolve_via(&in, cases[i].via);
		if (r != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, r,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via),
	};

	jc_log_set_level(JC_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
