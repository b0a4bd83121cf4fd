/*
 * test_aws_rolecache.c - the AWS CLI's cache of assumed-role sessions:
 * file names as botocore's AssumeRole fetcher makes them (expected values
 * from botocore itself, AssumeRoleCredentialFetcher._cache_key), and a
 * session written then read back, in the file shape and time format the
 * CLI writes, with the margin that refuses one about to expire.
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

#include "aws_parse.h"
#include "aws_rolecache.h"
#include "jc_plugin.h"

#define MFA	"arn:aws:iam::123456789012:mfa/ana"

static void
test_key(void **state)
{
	struct jc_aws_rolecall rc;
	char k[41];

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.role_arn = "arn:aws:iam::123456789012:role/guarded";
	rc.session_name = "ana-laptop";
	rc.mfa_serial = MFA;
	rc.duration = 43200;
	assert_int_equal(jc_aws_rolecache_key(&rc, k), 0);
	assert_string_equal(k, "18f9cde2700d40f606f01e84e605998a698f651a");
	/* a generated session name is not part of the key */
	rc.role_arn = "arn:aws:iam::123456789012:role/tunnel";
	rc.session_name = NULL;
	rc.duration = 3600;
	assert_int_equal(jc_aws_rolecache_key(&rc, k), 0);
	assert_string_equal(k, "3f7b5f9a377634b7d0b200897a518d5c6cd5893f");
	rc.role_arn = "arn:aws:iam::123456789012:role/x";
	rc.duration = -1;
	assert_int_equal(jc_aws_rolecache_key(&rc, k), 0);
	assert_string_equal(k, "12e9bc63be9e519acb71c1e7f81c90ab38cb7ac9");
	/* an empty name counts as none; quotes, \ and UTF-8 as json.dumps */
	rc.session_name = "";
	rc.external_id = "ext \"q\" \xc3\xa9\\";
	assert_int_equal(jc_aws_rolecache_key(&rc, k), 0);
	assert_string_equal(k, "e9ec5ecfc02ce8de97107ae6ebc8effd027a3bbf");
}

static void
test_put_get(void **state)
{
	struct jc_aws_creds c, got;
	char home[] = "/tmp/jc-rolecache.XXXXXX", path[512], buf[2048];
	struct stat sb;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(home));
	setenv("HOME", home, 1);
	memset(&c, 0, sizeof(c));
	memset(&got, 0, sizeof(got));
	c.akid = strdup("ASIAEXAMPLE000000001");
	c.secret = strdup("secretsecretsecretsecretsecretsecret0001");
	c.token = strdup("FwoGZXIvYXdzEXAMPLETOKEN");
	c.expires = time(NULL) + 3600;
	assert_int_equal(jc_aws_rolecache_put("k1", &c,
	    "arn:aws:sts::123456789012:assumed-role/guarded/x", "AROAX:x"), 0);
	snprintf(path, sizeof(path), "%s/.aws/cli/cache/k1.json", home);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/.aws/cli/cache", home);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/.aws/cli/cache/k1.json", home);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "{\"Credentials\":{\"AccessKeyId\":"
	    "\"ASIAEXAMPLE000000001\""));
	assert_non_null(strstr(buf, "UTC\"},\"AssumedRoleUser\":"));
	assert_int_equal(jc_aws_rolecache_get("k1", 300, &got), 0);
	assert_string_equal(got.akid, c.akid);
	assert_string_equal(got.secret, c.secret);
	assert_string_equal(got.token, c.token);
	assert_int_equal(got.expires, c.expires);
	/* good for an hour: not for two */
	assert_int_equal(jc_aws_rolecache_get("k1", 7200, &got),
	    JC_ERR_NOTFOUND);
	assert_int_equal(jc_aws_rolecache_get("none", 0, &got),
	    JC_ERR_NOTFOUND);
	/* other writers' time formats */
	snprintf(path, sizeof(path), "%s/.aws/cli/cache/k2.json", home);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "{\"Credentials\": {\"AccessKeyId\": \"ASIA2\", "
	    "\"SecretAccessKey\": \"s2\", \"SessionToken\": \"t2\", "
	    "\"Expiration\": \"2999-01-02T03:04:05+00:00\"}}");
	fclose(f);
	assert_int_equal(jc_aws_rolecache_get("k2", 300, &got), 0);
	assert_string_equal(got.akid, "ASIA2");
	jc_aws_creds_clear(&got);
	jc_aws_creds_clear(&c);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.aws/cli/cache/k1.json", home);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.aws/cli/cache", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.aws/cli", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.aws", home);
	rmdir(path);
	rmdir(home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_put_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
