/*
 * test_resolve.c - the access choice for --via auto/ssm/ssh from what is
 * known about an instance (jc_resolve_via), and the login user of an AMI
 * (jc_user_for_image), table-driven.  Resolution
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
#include "plugin.h"
#include "resolve.h"

/* The access plugins' own declarations (their static archives). */
extern const struct jc_plugin jc_plugin_ssh, ssm_plugin, jc_plugin_eice;

static const struct {
	const char	*via;		/* --via: "auto" or a plugin */
	int		 checked, managed, online;
	const char	*dns, *ip, *private_ip;
	const char	*want;		/* plugin chosen, NULL: unreachable */
} cases[] = {
	/* auto: SSM when the agent is Online */
	{ "auto", 1, 1, 1, "ec2-1.amazonaws.com", "54.1.2.3", "10.0.0.5",
	  "ssm" },
	{ "auto", 1, 1, 1, "", "", "10.0.0.5", "ssm" },
	/* auto: SSH to the public name or address otherwise */
	{ "auto", 1, 1, 0, "ec2-1.amazonaws.com", "54.1.2.3", "", "ssh" },
	{ "auto", 1, 0, 0, "", "54.1.2.3", "", "ssh" },
	{ "auto", 0, 0, 0, "ec2-1.amazonaws.com", "", "", "ssh" },
	/* auto: neither is possible (EICE is chosen by name only) */
	{ "auto", 1, 1, 0, "", "", "10.0.0.5", NULL },
	{ "auto", 1, 0, 0, "", "", "", NULL },
	/* ssm: refused only when SSM said it does not know the instance */
	{ "ssm", 1, 1, 1, "", "", "", "ssm" },
	{ "ssm", 1, 1, 0, "", "", "", "ssm" },
	{ "ssm", 0, 0, 0, "", "", "", "ssm" },
	{ "ssm", 1, 0, 0, "x", "1.2.3.4", "", NULL },
	/* ssh: needs a public address even when SSM is Online */
	{ "ssh", 1, 1, 1, "ec2-1.amazonaws.com", "", "", "ssh" },
	{ "ssh", 1, 1, 1, "", "", "10.0.0.5", NULL },
	/* eice: a private address is all it needs */
	{ "eice", 1, 0, 0, "", "", "10.0.0.5", "eice" },
	{ "eice", 1, 1, 1, "ec2-1.amazonaws.com", "54.1.2.3", "", NULL },
};

static void
test_via(void **state)
{
	const struct jc_plugin *all[] = { &jc_plugin_ssh, &ssm_plugin,
	    &jc_plugin_eice }, *one[1];
	const char *got;
	struct jc_instance in;
	size_t i, k;
	int r;

	(void)state;
	jc_log_set_level(0);
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
		if (strcmp(cases[i].via, "auto") == 0) {
			r = jc_resolve_via(&in, all, 3, 0);
			got = r >= 0 ? all[r]->name : NULL;
		} else {
			for (k = 0; strcmp(all[k]->name, cases[i].via) != 0;
			    k++)
				;
			one[0] = all[k];
			r = jc_resolve_via(&in, one, 1, 1);
			got = r == 0 ? one[0]->name : NULL;
		}
		if (r < 0 && r != JC_ERR_UNREACHABLE)
			fail_msg("case %zu: error %d", i, r);
		if ((got == NULL) != (cases[i].want == NULL) || (got != NULL &&
		    strcmp(got, cases[i].want) != 0))
			fail_msg("case %zu: got %s, want %s", i,
			    got ? got : "unreachable", cases[i].want ?
			    cases[i].want : "unreachable");
	}
	jc_log_set_level(JC_LOG_INFO);
}

/* Real AMI names, descriptions and platform details. */
static const struct {
	const char	*details, *name, *desc, *location, *user;
} amis[] = {
	{ "Linux/UNIX", "al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64",
	  "Amazon Linux 2023 AMI 2023.4.20240611.0 x86_64 HVM kernel-6.1",
	  "amazon/al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64", "ec2-user" },
	{ "Linux/UNIX", "amzn2-ami-kernel-5.10-hvm-2.0.20240610.1-x86_64-gp2",
	  "Amazon Linux 2 Kernel 5.10 AMI", "", "ec2-user" },
	{ "Linux/UNIX", "amzn-ami-hvm-2018.03.0.20231218.0-x86_64-gp2", "",
	  "", "ec2-user" },
	{ "Linux/UNIX", "debian-12-amd64-20240507-1740",
	  "Debian 12 (20240507-1740)", "", "admin" },
	{ "Linux/UNIX", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-"
	  "server-20240301", "Canonical, Ubuntu, 22.04 LTS", "", "ubuntu" },
	{ "Linux/UNIX", "Deep Learning OSS Nvidia Driver AMI GPU PyTorch "
	  "2.3.0 (Ubuntu 20.04) 20240611", "", "", "ubuntu" },
	{ "Linux/UNIX", "Deep Learning AMI GPU PyTorch 2.0.1 (Amazon Linux 2) "
	  "20230926", "", "", "ec2-user" },
	{ "Linux/UNIX", "Deep Learning Base OSS Nvidia Driver GPU AMI "
	  "(Amazon Linux 2023) 20240607", "", "", "ec2-user" },
	{ "Red Hat Enterprise Linux", "RHEL-9.4.0_HVM-20240605-x86_64-82-"
	  "Hourly2-GP3", "", "", "ec2-user" },
	{ "Linux/UNIX", "RHEL-9.4.0_HVM-20240605-x86_64-82-Access2-GP3", "",
	  "", "ec2-user" },
	{ "SUSE Linux", "suse-sles-15-sp5-v20240129-hvm-ssd-x86_64", "", "",
	  "ec2-user" },
	{ "Ubuntu Pro", "ubuntu-pro-server/images/hvm-ssd/ubuntu-jammy-22.04-"
	  "amd64-pro-server-20240301", "", "", "ubuntu" },
	{ "Linux/UNIX", "CentOS-7-2111-20220825_1.x86_64", "", "", "centos" },
	{ "Linux/UNIX", "CentOS Stream 9 x86_64 20240610", "", "", "centos" },
	{ "Linux/UNIX", "Fedora-Cloud-Base-39-1.5.x86_64-hvm-us-east-1-gp3-0",
	  "", "", "fedora" },
	{ "Linux/UNIX", "Rocky-9-EC2-Base-9.4-20240523.0.x86_64", "", "",
	  "rocky" },
	{ "Linux/UNIX", "AlmaLinux OS 9.4.20240507 x86_64", "", "",
	  "ec2-user" },
	{ "Linux/UNIX", "bitnami-jupyterhub-4.1.5-0-r01-linux-debian-12-"
	  "x86_64-hvm-ebs", "", "", "bitnami" },
	/* only the description or the location tells */
	{ "Linux/UNIX", "golden-42", "built from Debian 12", "", "admin" },
	{ "Linux/UNIX", "golden-43", "", "123/ubuntu-base", "ubuntu" },
	/* words inside other words do not count */
	{ "Linux/UNIX", "mydebianish-thing", "bundles", "", NULL },
	{ "Linux/UNIX", "golden-image-42", "our build", "", NULL },
	{ "Windows", "Windows_Server-2022-English-Full-Base", "", "", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static void
test_ami_user(void **state)
{
	const char *u, *what;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(amis) / sizeof(amis[0]); i++) {
		what = NULL;
		u = jc_user_for_image(amis[i].details, amis[i].name,
		    amis[i].desc, amis[i].location, &what);
		if ((u == NULL) != (amis[i].user == NULL) ||
		    (u != NULL && strcmp(u, amis[i].user) != 0))
			fail_msg("AMI %zu (%s): got %s, want %s", i,
			    amis[i].name ? amis[i].name : "-", u ? u : "none",
			    amis[i].user ? amis[i].user : "none");
		if (u != NULL && what == NULL)
			fail_msg("AMI %zu: no reason given", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_ami_user),
	};

	jc_log_set_level(JC_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
