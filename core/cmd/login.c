/*
 * login.c - `jconnect login`: sign in to IAM Identity Center (SSO) for a
 * profile, as `aws sso login` does, into the same token cache.
 */
#include <stddef.h>

#include "aws.h"
#include "aws_cred.h"
#include "aws_int.h"
#include "aws_sso.h"
#include "cmd.h"
#include "jc.h"

int
jc_cmd_login(int argc, char **argv)
{
	int r;

	(void)argc;
	(void)argv;
	if ((r = jc_aws_setup(jc_opts.profile, NULL)) != 0)
		return r;
	return jc_aws_sso_login(jc_aws_profile(), jc_opts.no_browser);
}
