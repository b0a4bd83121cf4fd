/*
 * fuzz_aws_json.c - libFuzzer target for the AWS JSON the client reads:
 * JSON 1.1 answers and errors (network), DescribeInstanceInformation,
 * credential_process output and IMDS credentials (another program's
 * bytes), and the ISO 8601 times inside them.
 * Seeds: corpus/aws_json/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_answer.h"
#include "jc_plugin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_aws_error err;
	struct jc_instance in;
	struct jc_aws_creds c;
	char why[256], tok[64], *s;
	time_t t;
	int kind;

	jc_aws_error_decode(503, (const char *)data, size, &err);
	if (memchr(err.code, '\0', sizeof(err.code)) == NULL ||
	    memchr(err.message, '\0', sizeof(err.message)) == NULL)
		__builtin_trap();
	memset(&in, 0, sizeof(in));
	strcpy(in.id, size > 0 && (data[0] & 1) ? "mi-0123456789abcdef0" :
	    "i-0123456789abcdef0");
	if (jc_aws_ssm_info((const char *)data, size, &in, tok,
	    sizeof(tok)) == 0 && in.ssm_online && !in.ssm_managed)
		__builtin_trap();
	for (kind = JC_CREDS_PROCESS; kind <= JC_CREDS_IMDS; kind++) {
		memset(&c, 0, sizeof(c));
		if (jc_aws_creds_json((const char *)data, size, kind, &c, why,
		    sizeof(why)) == 0 && (c.akid == NULL || c.secret == NULL ||
		    *c.akid == '\0'))
			__builtin_trap();
		jc_aws_creds_clear(&c);
	}
	/* The same bytes as a time string. */
	if ((s = malloc(size + 1)) != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
		(void)jc_aws_time_parse(s, &t);
		free(s);
	}
	return 0;
}
