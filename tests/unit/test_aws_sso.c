/*
 * test_aws_sso.c - the names of the SSO cache files, which must be the
 * AWS CLI's and botocore's to the byte (expected values from Python's
 * hashlib and json.dumps, as botocore computes them), and JSON strings
 * quoted as json.dumps quotes them; the endpoints of SSO and SSO OIDC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_parse.h"
#include "aws_sso.h"
#include "jc_plugin.h"

static void
test_token_key(void **state)
{
	char k[41];

	(void)state;
	/* an sso-session: the sha1 of its name, whatever the start URL */
	assert_int_equal(jc_aws_sso_token_key("corp",
	    "https://corp.awsapps.com/start", k), 0);
	assert_string_equal(k, "ee0bfd2552fbd840c02cc48b6e823320543c450f");
	assert_int_equal(jc_aws_sso_token_key("\xc3\xa9quipe", "x", k), 0);
	assert_string_equal(k, "e85e3a0d6d7c5e4114d817fccf50b403c11e9b7f");
	/* legacy: the sha1 of the start URL */
	assert_int_equal(jc_aws_sso_token_key(NULL,
	    "https://legacy.awsapps.com/start", k), 0);
	assert_string_equal(k, "79e435d7a515078e81c9dffc35f38d5687ebd3a7");
}

static void
test_registration_key(void **state)
{
	char k[41];

	(void)state;
	assert_int_equal(jc_aws_sso_registration_key(
	    "https://corp.awsapps.com/start", "us-east-1",
	    "sso:account:access", "corp", k), 0);
	assert_string_equal(k, "1b56c55d6e723362537167a7f43960b8185b5a80");
	/* no scopes: null */
	assert_int_equal(jc_aws_sso_registration_key(
	    "https://corp.awsapps.com/start", "eu-west-1", NULL, "corp", k),
	    0);
	assert_string_equal(k, "a5ef4a75f83137c047e4ff336d1dade82162017b");
	/* legacy: no session either */
	assert_int_equal(jc_aws_sso_registration_key(
	    "https://legacy.awsapps.com/start", "us-east-1", NULL, NULL, k),
	    0);
	assert_string_equal(k, "e20952a21ad8c4e9f17c0a6776c9c4cbbded53d0");
	/* scopes split on commas and trimmed; quotes and UTF-8 escaped */
	assert_int_equal(jc_aws_sso_registration_key(
	    "https://d-1234.awsapps.com/start#/", "ap-south-1",
	    " sso:account:access , codewhisperer:completions ,",
	    "\xc3\xa9quipe \"ml\"", k), 0);
	assert_string_equal(k, "a1d58ff90c0b4b51ede6f5c1ffb94fec16e727c8");
}

static void
test_json_quote(void **state)
{
	char buf[256];

	(void)state;
	buf[0] = '\0';
	assert_int_equal(jc_json_quote(buf, sizeof(buf),
	    "a\"b\\c\n\t\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\x7f"), 0);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9\\u20ac"
	    "\\ud83d\\ude00/\\u007f\"");
	/* appends, and refuses to overflow */
	assert_int_equal(jc_json_quote(buf, sizeof(buf), "x"), 0);
	assert_non_null(strstr(buf, "\"\"x\""));
	buf[0] = '\0';
	assert_int_equal(jc_json_quote(buf, 4, "abcd"), JC_ERR_USAGE);
}

static void
test_endpoints(void **state)
{
	const char *from;
	char url[256];

	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_SSO");
	unsetenv("AWS_ENDPOINT_URL_SSO_OIDC");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	assert_int_equal(jc_aws_endpoint("sso", "eu-west-1", NULL, url,
	    sizeof(url), &from), 0);
	assert_string_equal(url, "https://portal.sso.eu-west-1.amazonaws.com/");
	assert_int_equal(jc_aws_endpoint("sso-oidc", "eu-west-1", NULL, url,
	    sizeof(url), &from), 0);
	assert_string_equal(url, "https://oidc.eu-west-1.amazonaws.com/");
	/* each has its own variable, before AWS_ENDPOINT_URL and the profile */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:2", 1);
	setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:3", 1);
	assert_int_equal(jc_aws_endpoint("sso", "eu-west-1",
	    "http://127.0.0.1:4", url, sizeof(url), &from), 0);
	assert_string_equal(url, "http://127.0.0.1:2/");
	assert_string_equal(from, "AWS_ENDPOINT_URL_SSO");
	assert_int_equal(jc_aws_endpoint("sso-oidc", "eu-west-1",
	    "http://127.0.0.1:4", url, sizeof(url), &from), 0);
	assert_string_equal(url, "http://127.0.0.1:3/");
	assert_string_equal(from, "AWS_ENDPOINT_URL_SSO_OIDC");
	unsetenv("AWS_ENDPOINT_URL_SSO_OIDC");
	unsetenv("AWS_ENDPOINT_URL");
	assert_int_equal(jc_aws_endpoint("sso-oidc", "eu-west-1",
	    "http://127.0.0.1:4", url, sizeof(url), &from), 0);
	assert_string_equal(url, "http://127.0.0.1:4/");
	unsetenv("AWS_ENDPOINT_URL_SSO");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_key),
		cmocka_unit_test(test_registration_key),
		cmocka_unit_test(test_json_quote),
		cmocka_unit_test(test_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
