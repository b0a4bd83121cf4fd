/*
 * fuzz_aws_xml.c - libFuzzer target for the AWS XML answers (bytes from
 * the network): the expat tree, the error decoder and the EC2,
 * CloudFormation, Auto Scaling and STS answer parsers, and the AMI login
 * user drawn from a DescribeImages answer.
 * Seeds: corpus/aws_xml/ (the shapes of aws-wire.md, with and without
 * namespaces).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aws_answer.h"
#include "jc_plugin.h"
#include "user_guess.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_instance in[8];
	struct jc_aws_resource res[8];
	struct jc_aws_asg_member mem[8];
	struct jc_aws_creds c;
	struct jc_aws_image img;
	const char *u, *what;
	struct jc_aws_error err;
	struct jc_xml *root = NULL;
	const struct jc_xml *e;
	char tok[128];
	size_t n, i;

	jc_aws_error_decode(400, (const char *)data, size, &err);
	if (memchr(err.code, '\0', sizeof(err.code)) == NULL ||
	    memchr(err.message, '\0', sizeof(err.message)) == NULL)
		__builtin_trap();
	(void)jc_aws_error_class(&err);
	(void)jc_aws_error_retryable(&err);
	if (jc_xml_parse((const char *)data, size, &root) != 0)
		return 0;
	if (jc_aws_ec2_instances(root, "us-east-1", in, 8, &n, tok,
	    sizeof(tok)) == 0) {
		if (n > 8)
			__builtin_trap();
		for (i = 0; i < n; i++)
			if (strlen(in[i].id) >= sizeof(in[i].id) ||
			    in[i].platform[0] == '\0')
				__builtin_trap();
	}
	if (jc_aws_ec2_image(root, "ami-0a00000000000001a", &img) == 0) {
		what = NULL;
		u = jc_user_for_image(img.platform_details, img.name,
		    img.description, img.location, &what);
		if (u != NULL && what == NULL)
			__builtin_trap();
	}
	if (jc_aws_stack_resources(root, res, 8, &n) == 0 && n > 8)
		__builtin_trap();
	if (jc_aws_asg_instances(root, mem, 8, &n) == 0 && n > 8)
		__builtin_trap();
	memset(&c, 0, sizeof(c));
	if (jc_aws_creds_sts(root, &c) == 0 &&
	    (c.akid == NULL || c.secret == NULL))
		__builtin_trap();
	jc_aws_creds_clear(&c);
	e = jc_xml_find(root, "member");
	for (; e != NULL; e = jc_xml_next(e))
		(void)jc_xml_text(e, "a/b/c");
	jc_xml_free(root);
	return 0;
}
