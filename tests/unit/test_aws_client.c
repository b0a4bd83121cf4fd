/*
 * test_aws_client.c - profile and region choice, the credential chain
 * (environment, shared files, credential_process, role configuration
 * errors, nothing found), errors in plain words and the transport's
 * failure path.  Files live in a private temp dir; no network is used
 * (signatures are checked by botocore in tests/integration/t_aws_*.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws.h"
#include "aws_cred.h"
#include "aws_int.h"
#include "config.h"
#include "jc_plugin.h"
#include "log.h"

static char dir[64];
static char cfgpath[128], credpath[128];

static void
put(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static void
clean_env(void)
{
	static const char *const vars[] = { "AWS_PROFILE",
	    "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	    "AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION",
	    "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE", NULL };
	size_t i;

	for (i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_CONFIG_FILE", cfgpath, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", credpath, 1);
}

static int
group_setup(void **state)
{
	char path[160], cfg[4096];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/jc-aws-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", dir);
	snprintf(credpath, sizeof(credpath), "%s/credentials", dir);
	put(credpath,
	    "[default]\n"
	    "aws_access_key_id = AKIAFILEDEFAULT\n"
	    "aws_secret_access_key = filesecret\n"
	    "[dev]\n"
	    "aws_access_key_id = AKIAFILEDEV\n"
	    "aws_secret_access_key = devsecret\n"
	    "aws_session_token = devtoken\n"
	    "[half]\n"
	    "aws_access_key_id = AKIAHALF\n", 0600);
	snprintf(path, sizeof(path), "%s/proc.sh", dir);
	put(path,
	    "#!/bin/sh\n"
	    "case $1 in\n"
	    "ok) echo '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", "
	    "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctok\","
	    " \"Expiration\": \"2099-01-01T00:00:00Z\"}' ;;\n"
	    "old) echo '{\"Version\": 1, \"AccessKeyId\": \"ASIAOLD\", "
	    "\"SecretAccessKey\": \"s\", \"Expiration\": "
	    "\"2001-01-01T00:00:00Z\"}' ;;\n"
	    "fail) echo 'token expired, run aws sso login' >&2; exit 3 ;;\n"
	    "junk) echo 'hello' ;;\n"
	    "slow) sleep 3 ;;\n"
	    "esac\n", 0700);
	snprintf(cfg, sizeof(cfg),
	    "[default]\n"
	    "region = eu-central-1\n"
	    "[profile dev]\n"
	    "region = eu-west-1\n"
	    "[profile proc]\n"
	    "region = us-west-2\n"
	    "credential_process = %s/proc.sh ok\n"
	    "[profile proc-old]\n"
	    "credential_process = %s/proc.sh old\n"
	    "[profile proc-fail]\n"
	    "credential_process = %s/proc.sh fail\n"
	    "[profile proc-junk]\n"
	    "credential_process = %s/proc.sh junk\n"
	    "[profile proc-slow]\n"
	    "credential_process = %s/proc.sh slow\n"
	    "[profile mfa]\n"
	    "role_arn = arn:aws:iam::123456789012:role/r\n"
	    "source_profile = dev\n"
	    "mfa_serial = arn:aws:iam::123456789012:mfa/u\n"
	    "[profile lonely-role]\n"
	    "role_arn = arn:aws:iam::123456789012:role/r\n"
	    "[profile bad-source]\n"
	    "role_arn = arn:aws:iam::123456789012:role/r\n"
	    "source_profile = ghost\n"
	    "[profile both]\n"
	    "role_arn = arn:aws:iam::123456789012:role/r\n"
	    "source_profile = dev\n"
	    "credential_source = Environment\n"
	    "[profile sso]\n"
	    "sso_session = corp\n"
	    "sso_account_id = 123456789012\n"
	    "[profile nothing]\n"
	    "region = sa-east-1\n"
	    "[profile badregion]\n"
	    "region = us east\n", dir, dir, dir, dir, dir);
	put(cfgpath, cfg, 0600);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	jc_aws_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- region and profile ---------------------------------------------- */

static const struct {
	const char	*profile, *region, *env_region, *env_default;
	const char	*env_profile;
	int		 r;
	const char	*want;		/* NULL: no region */
} region_cases[] = {
	{ NULL, NULL, NULL, NULL, NULL, 0, "eu-central-1" },
	{ "dev", NULL, NULL, NULL, NULL, 0, "eu-west-1" },
	{ NULL, NULL, NULL, NULL, "dev", 0, "eu-west-1" },
	{ "dev", NULL, NULL, "ap-south-1", NULL, 0, "ap-south-1" },
	{ "dev", NULL, "us-east-2", "ap-south-1", NULL, 0, "us-east-2" },
	{ "dev", "ca-central-1", "us-east-2", "ap-south-1", NULL, 0,
	  "ca-central-1" },
	{ "proc", NULL, NULL, NULL, NULL, 0, "us-west-2" },
	{ "half", NULL, NULL, NULL, NULL, 0, NULL },
	{ "ghost", NULL, NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL },
	{ NULL, NULL, NULL, NULL, "ghost", JC_ERR_AWS_AUTH, NULL },
	{ "badregion", NULL, NULL, NULL, NULL, JC_ERR_USAGE, NULL },
	{ NULL, "us-east-1;rm", NULL, NULL, NULL, JC_ERR_USAGE, NULL },
};

static void
test_region(void **state)
{
	const char *got;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(region_cases) / sizeof(region_cases[0]); i++) {
		clean_env();
		if (region_cases[i].env_region != NULL)
			setenv("AWS_REGION", region_cases[i].env_region, 1);
		if (region_cases[i].env_default != NULL)
			setenv("AWS_DEFAULT_REGION",
			    region_cases[i].env_default, 1);
		if (region_cases[i].env_profile != NULL)
			setenv("AWS_PROFILE", region_cases[i].env_profile, 1);
		r = jc_aws_setup(region_cases[i].profile,
		    region_cases[i].region);
		if (r != region_cases[i].r)
			fail_msg("case %zu: %d", i, r);
		if (r != 0)
			continue;
		got = jc_aws_region();
		if (region_cases[i].want == NULL ? got != NULL :
		    got == NULL || strcmp(got, region_cases[i].want) != 0)
			fail_msg("case %zu: %s", i, got ? got : "(none)");
	}
	/* missing files are fine */
	clean_env();
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	assert_int_equal(jc_aws_setup(NULL, "us-east-1"), 0);
	assert_string_equal(jc_aws_profile(), "default");
	jc_aws_cleanup();
}

/* ---- the credential chain -------------------------------------------- */

static const struct {
	const char	*profile, *env_key, *env_secret, *env_token;
	int		 r;
	const char	*akid, *token;	/* on success */
	const char	*source;	/* substring of c.source or message */
} chain_cases[] = {
	/* environment first, with or without a session token */
	{ NULL, "AKIAENV", "envsecret", NULL, 0, "AKIAENV", NULL,
	  "environment" },
	{ NULL, "ASIAENV", "envsecret", "envtoken", 0, "ASIAENV", "envtoken",
	  "AWS_SESSION_TOKEN" },
	{ NULL, "AKIAENV", NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "AWS_SECRET_ACCESS_KEY is not" },
	/* --profile skips the environment, like botocore */
	{ "dev", "AKIAENV", "envsecret", NULL, 0, "AKIAFILEDEV", "devtoken",
	  "profile dev in" },
	{ NULL, NULL, NULL, NULL, 0, "AKIAFILEDEFAULT", NULL,
	  "profile default in" },
	{ "half", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "has aws_access_key_id but not aws_secret_access_key" },
	/* credential_process */
	{ "proc", NULL, NULL, NULL, 0, "ASIAPROC", "proctok",
	  "credential_process of profile proc" },
	{ "proc-old", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "expired at 2001-01-01T00:00:00Z" },
	{ "proc-fail", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "failed (exit status 3)" },
	{ "proc-junk", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "not a JSON object" },
	/* role configurations that cannot work say why */
	/* mfa_serial asks on the terminal: t_aws_sso runs it in a pty */
	{ "lonely-role", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "neither source_profile nor credential_source" },
	{ "bad-source", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "source_profile ghost of profile bad-source is not in" },
	{ "both", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "both source_profile and credential_source" },
	{ "sso", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "has no [sso-session corp] section" },
	{ "nothing", NULL, NULL, NULL, JC_ERR_AWS_AUTH, NULL, NULL,
	  "no AWS credentials found" },
};

static void
test_chain(void **state)
{
	struct jc_aws_error err;
	struct jc_aws_creds c;
	time_t t0;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++) {
		clean_env();
		if (chain_cases[i].env_key != NULL)
			setenv("AWS_ACCESS_KEY_ID", chain_cases[i].env_key, 1);
		if (chain_cases[i].env_secret != NULL)
			setenv("AWS_SECRET_ACCESS_KEY",
			    chain_cases[i].env_secret, 1);
		if (chain_cases[i].env_token != NULL)
			setenv("AWS_SESSION_TOKEN", chain_cases[i].env_token,
			    1);
		assert_int_equal(jc_aws_setup(chain_cases[i].profile, NULL),
		    0);
		memset(&c, 0, sizeof(c));
		r = jc_aws_creds_chain(&c, &err);
		if (r != chain_cases[i].r)
			fail_msg("case %zu: %d: %s", i, r, err.message);
		if (r != 0) {
			if (strstr(err.message, chain_cases[i].source) == NULL)
				fail_msg("case %zu: message \"%s\"", i,
				    err.message);
			/* our own sentence: shown as is */
			assert_string_equal(jc_aws_explain(&err), err.message);
			jc_aws_creds_clear(&c);
			continue;
		}
		assert_string_equal(c.akid, chain_cases[i].akid);
		if (chain_cases[i].token == NULL)
			assert_null(c.token);
		else
			assert_string_equal(c.token, chain_cases[i].token);
		if (strstr(c.source, chain_cases[i].source) == NULL)
			fail_msg("case %zu: source \"%s\"", i, c.source);
		jc_aws_creds_clear(&c);
	}
	/* a credential_process that hangs is killed after the timeout */
	clean_env();
	assert_int_equal(jc_config_set_option(
	    "aws.credential_process_timeout=1"), 0);
	assert_int_equal(jc_aws_setup("proc-slow", NULL), 0);
	t0 = time(NULL);
	assert_int_equal(jc_aws_creds_chain(&c, &err), JC_ERR_AWS_AUTH);
	assert_true(time(NULL) - t0 < 5);
	assert_non_null(strstr(err.message, "did not finish within 1 s"));
	/* nothing anywhere */
	clean_env();
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	assert_int_equal(jc_aws_setup(NULL, "us-east-1"), 0);
	assert_int_equal(jc_aws_creds_chain(&c, &err), JC_ERR_AWS_AUTH);
	assert_non_null(strstr(err.message, "AWS_EC2_METADATA_DISABLED"));
	/* expired environment credentials are refused before any call */
	setenv("AWS_ACCESS_KEY_ID", "ASIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	setenv("AWS_SESSION_TOKEN", "t", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z", 1);
	assert_int_equal(jc_aws_creds_chain(&c, &err), JC_ERR_AWS_AUTH);
	assert_non_null(strstr(err.message, "expired"));
	jc_aws_creds_clear(&c);
	jc_aws_cleanup();
}

/* ---- plain words ----------------------------------------------------- */

static const struct {
	const char	*code, *message;
	int		 status;
	const char	*want1, *want2;	/* substrings of the explanation */
} explain_cases[] = {
	{ "AccessDenied", "User: arn:aws:iam::1:user/ana is not authorized to "
	  "perform: cloudformation:DescribeStackResources on resource: x",
	  403, "cloudformation:DescribeStackResources",
	  "for arn:aws:iam::1:user/ana" },
	{ "UnauthorizedOperation", "You are not authorized to perform this "
	  "operation. User: u is not authorized to perform: ec2:StartInstances "
	  "on resource", 403, "allow the action ec2:StartInstances", NULL },
	{ "AccessDeniedException", "no action named here", 400,
	  "this call", NULL },
	{ "ExpiredToken", "The security token included in the request is "
	  "expired", 403, "expired", "aws sso login" },
	{ "ExpiredTokenException", "x", 400, "expired", NULL },
	{ "InvalidClientTokenId", "The security token included in the request "
	  "is invalid.", 403, "does not recognise the access key", NULL },
	{ "UnrecognizedClientException", "x", 400,
	  "does not recognise the access key", NULL },
	{ "SignatureDoesNotMatch", "The request signature we calculated does "
	  "not match", 403, "secret access key", NULL },
	{ "SignatureDoesNotMatch", "Signature expired: 2020 is now earlier",
	  403, "clock", NULL },
	{ "RequestLimitExceeded", "Request limit exceeded.", 503,
	  "throttling", "attempts" },
	{ "TargetNotConnected", "i-1 is not connected.", 400,
	  "Session Manager", "AmazonSSMManagedInstanceCore" },
	{ "InvalidDocument", "Document X does not exist", 400,
	  "document", NULL },
	{ "IncorrectInstanceState", "not in a state", 400, "state", NULL },
	{ "ValidationError", "Stack with id nope does not exist", 400,
	  "Stack with id nope does not exist", NULL },
	{ "SomethingNew", "detail", 400, "SomethingNew", "detail" },
	{ "", "HTTP 500 with no AWS error in the answer", 500, "AWS answered",
	  "HTTP 500" },
};

static void
test_explain(void **state)
{
	struct jc_aws_error e;
	const char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(explain_cases) / sizeof(explain_cases[0]);
	    i++) {
		memset(&e, 0, sizeof(e));
		e.http_status = explain_cases[i].status;
		snprintf(e.code, sizeof(e.code), "%s", explain_cases[i].code);
		snprintf(e.message, sizeof(e.message), "%s",
		    explain_cases[i].message);
		s = jc_aws_explain(&e);
		if (strstr(s, explain_cases[i].want1) == NULL ||
		    (explain_cases[i].want2 != NULL &&
		    strstr(s, explain_cases[i].want2) == NULL))
			fail_msg("case %zu: %s", i, s);
	}
	assert_non_null(jc_aws_explain(NULL));
}

/* ---- transport failure ----------------------------------------------- */

static void
test_unreachable(void **state)
{
	struct jc_aws_error err;
	char *out = NULL;
	time_t t0;
	int r;

	(void)state;
	clean_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	assert_int_equal(jc_aws_setup(NULL, "us-east-1"), 0);
	t0 = time(NULL);
	r = jc_aws_json("ssm", "AmazonSSM.DescribeInstanceInformation", "{}",
	    &out, &err);
	assert_int_equal(r, JC_ERR_IO);
	assert_null(out);
	assert_int_equal(err.http_status, 0);
	assert_non_null(strstr(err.message, "cannot reach AWS at "
	    "http://127.0.0.1:1/"));
	assert_true(time(NULL) - t0 < 10);
	/* err may be NULL for callers that only want the code */
	assert_int_equal(jc_aws_query("ec2", "Action=DescribeInstances&"
	    "Version=2016-11-15", &out, NULL), JC_ERR_IO);
	/* no region, no endpoint override: a clear sentence, no call */
	unsetenv("AWS_ENDPOINT_URL");
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	assert_int_equal(jc_aws_setup(NULL, NULL), 0);
	assert_null(jc_aws_region());
	r = jc_aws_json("ssm", "AmazonSSM.StartSession", "{}", &out, &err);
	assert_int_equal(r, JC_ERR_AWS_AUTH);
	assert_non_null(strstr(err.message, "no AWS region"));
	jc_aws_cleanup();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_unreachable),
	};

	jc_log_set_level(JC_LOG_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
