/*
 * test_aws_parse.c - AWS answers and configuration into structs: XML with
 * and without namespaces, the three error shapes, EC2/CloudFormation/
 * Auto Scaling/SSM answers, credential JSON, times, ini files, endpoint
 * overrides and form encoding.  Table-driven where the shape allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "aws_int.h"
#include "aws_answer.h"
#include "jc_plugin.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- XML ------------------------------------------------------------- */

static const char instances_ns[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/"
    "2016-11-15/\">\n <requestId>r-1</requestId>\n <reservationSet>\n"
    "  <item><reservationId>r-0</reservationId><instancesSet>\n"
    "   <item><instanceId>i-0123456789abcdef0</instanceId>"
    "<instanceState><code>16</code><name>running</name></instanceState>"
    "<privateIpAddress>10.0.0.5</privateIpAddress>"
    "<ipAddress>54.1.2.3</ipAddress>"
    "<dnsName>ec2-54-1-2-3.compute-1.amazonaws.com</dnsName>"
    "<launchTime>2026-11-23T10:00:00.000Z</launchTime>"
    "<imageId>ami-0a00000000000001a</imageId>"
    "<platformDetails>Linux/UNIX</platformDetails>"
    "<tagSet><item><key>team</key><value>ml</value></item>"
    "<item><key>Name</key><value>gpu-box</value></item></tagSet>"
    "</item>\n"
    "   <item><instanceId>i-0fedcba9876543210</instanceId>"
    "<instanceState><code>80</code><name>stopped</name></instanceState>"
    "<platform>windows</platform><dnsName/></item>\n"
    "  </instancesSet></item>\n </reservationSet>\n"
    " <nextToken>tok-2</nextToken>\n"
    "</DescribeInstancesResponse>\n";

/* The same answer with a prefix instead of a default namespace. */
static const char instances_prefix[] =
    "<ec2:DescribeInstancesResponse xmlns:ec2=\"urn:x\">"
    "<ec2:reservationSet><ec2:item><ec2:instancesSet><ec2:item>"
    "<ec2:instanceId>i-0123456789abcdef0</ec2:instanceId>"
    "<ec2:instanceState><ec2:name>pending</ec2:name></ec2:instanceState>"
    "</ec2:item></ec2:instancesSet></ec2:item></ec2:reservationSet>"
    "</ec2:DescribeInstancesResponse>";

static void
test_xml_tree(void **state)
{
	struct jc_xml *root = NULL;
	const struct jc_xml *e;
	int n = 0;

	(void)state;
	assert_int_equal(jc_xml_parse(instances_ns, strlen(instances_ns),
	    &root), 0);
	assert_string_equal(root->name, "DescribeInstancesResponse");
	assert_string_equal(jc_xml_text(root, "requestId"), "r-1");
	assert_string_equal(jc_xml_text(root, "nothing/here"), "");
	e = jc_xml_path(root, "reservationSet/item/instancesSet/item");
	for (; e != NULL; e = jc_xml_next(e))
		n++;
	assert_int_equal(n, 2);
	e = jc_xml_find(root, "platform");
	assert_non_null(e);
	assert_string_equal(e->text, "windows");
	assert_null(jc_xml_find(root, "absent"));
	assert_null(jc_xml_path(root, "reservationSet//item"));
	jc_xml_free(root);
	jc_xml_free(NULL);
}

static const struct {
	const char	*doc;
	int		 r;
} xml_cases[] = {
	{ "<a><b>x</b></a>", 0 },
	{ "<a xmlns='urn:q'><q:b xmlns:q='urn:z'>x</q:b></a>", 0 },
	{ "<a><b>x</a>", JC_ERR_PROTO },
	{ "", JC_ERR_PROTO },
	{ "not xml", JC_ERR_PROTO },
	{ "<a/><b/>", JC_ERR_PROTO },
	/* entities must never expand: any DTD is refused */
	{ "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", JC_ERR_PROTO },
	{ "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", JC_ERR_PROTO },
	{ "<a>&amp;&lt;&#65;</a>", 0 },
};

static void
test_xml_table(void **state)
{
	struct jc_xml *root;
	size_t i;

	(void)state;
	for (i = 0; i < N(xml_cases); i++) {
		root = NULL;
		if (jc_xml_parse(xml_cases[i].doc, strlen(xml_cases[i].doc),
		    &root) != xml_cases[i].r)
			fail_msg("xml case %zu", i);
		jc_xml_free(root);
	}
	assert_int_equal(jc_xml_parse("<a>&amp;&lt;&#65;</a>", 21, &root), 0);
	assert_string_equal(root->text, "&<A");
	jc_xml_free(root);
}

static void
test_xml_limits(void **state)
{
	struct jc_xml *root = NULL;
	char *doc;
	size_t i, n = JC_XML_MAX_DEPTH + 2, o = 0;

	(void)state;
	doc = malloc(n * 8 + 1);
	assert_non_null(doc);
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(doc + o, "<a>");
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(doc + o, "</a>");
	assert_int_equal(jc_xml_parse(doc, o, &root), JC_ERR_PROTO);
	assert_null(root);
	/* just inside the limit is fine */
	o = 0;
	for (i = 0; i < JC_XML_MAX_DEPTH; i++)
		o += (size_t)sprintf(doc + o, "<a>");
	for (i = 0; i < JC_XML_MAX_DEPTH; i++)
		o += (size_t)sprintf(doc + o, "</a>");
	assert_int_equal(jc_xml_parse(doc, o, &root), 0);
	jc_xml_free(root);
	free(doc);
}

/* ---- errors ---------------------------------------------------------- */

static const struct {
	int		 status;
	const char	*body;
	const char	*code, *message;
	int		 cls, retry;
} err_cases[] = {
	{ 400, "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/"
	  "doc/2010-05-15/\"><Error><Type>Sender</Type><Code>ValidationError"
	  "</Code><Message>Stack with id nope does not exist</Message></Error>"
	  "<RequestId>x</RequestId></ErrorResponse>", "ValidationError",
	  "Stack with id nope does not exist", JC_ERR_NOTFOUND, 0 },
	{ 400, "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError"
	  "</Code><Message>bad value</Message></Error></ErrorResponse>",
	  "ValidationError", "bad value", JC_ERR_AWS, 0 },
	{ 400, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
	  "<Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance "
	  "ID 'i-1' does not exist</Message></Error></Errors><RequestID>r"
	  "</RequestID></Response>", "InvalidInstanceID.NotFound",
	  "The instance ID 'i-1' does not exist", JC_ERR_NOTFOUND, 0 },
	{ 503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
	  "<Message>Request limit exceeded.</Message></Error></Errors>"
	  "</Response>", "RequestLimitExceeded", "Request limit exceeded.",
	  JC_ERR_AWS, 1 },
	{ 400, "{\"__type\":\"com.amazonaws.ssm#TargetNotConnected\","
	  "\"message\":\"i-1 is not connected.\"}", "TargetNotConnected",
	  "i-1 is not connected.", JC_ERR_UNREACHABLE, 0 },
	{ 400, "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate "
	  "exceeded\"}", "ThrottlingException", "Rate exceeded", JC_ERR_AWS,
	  1 },
	{ 400, "{\"__type\":\"com.amazon.coral.service#UnrecognizedClient"
	  "Exception\",\"message\":\"The security token included in the "
	  "request is invalid.\"}", "UnrecognizedClientException",
	  "The security token included in the request is invalid.",
	  JC_ERR_AWS_AUTH, 0 },
	{ 403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: "
	  "arn:aws:iam::1:user/a is not authorized to perform: "
	  "cloudformation:DescribeStackResources</Message></Error>"
	  "</ErrorResponse>", "AccessDenied", "User: arn:aws:iam::1:user/a is "
	  "not authorized to perform: cloudformation:DescribeStackResources",
	  JC_ERR_AWS_AUTH, 0 },
	{ 400, "{\"__type\":\"ExpiredTokenException\",\"message\":\"expired\"}",
	  "ExpiredTokenException", "expired", JC_ERR_AWS_AUTH, 0 },
	{ 400, "{\"code\":\"Weird:http://x\",\"message\":\"m\"}", "Weird", "m",
	  JC_ERR_AWS, 0 },
	{ 500, "<html>oops</html>", "", "HTTP 500 with no AWS error in the "
	  "answer", JC_ERR_AWS, 1 },
	{ 502, "", "", "HTTP 502 with no AWS error in the answer", JC_ERR_AWS,
	  1 },
	{ 403, "garbage", "", "HTTP 403 with no AWS error in the answer",
	  JC_ERR_AWS_AUTH, 0 },
	{ 400, "{\"__type\":\"InvalidDocument\"}", "InvalidDocument",
	  "InvalidDocument (HTTP 400)", JC_ERR_AWS, 0 },
	/* control bytes from the wire never reach the terminal */
	{ 400, "{\"__type\":\"X\",\"message\":\"a\\u001b[2Jb\"}", "X",
	  "a [2Jb", JC_ERR_AWS, 0 },
	/* nor C1 controls (CSI) or bytes that are not UTF-8; UTF-8 stays */
	{ 400, "{\"__type\":\"X\",\"message\":\"a\\u009b2Jb\\u00e9\"}", "X",
	  "a 2Jb\xc3\xa9", JC_ERR_AWS, 0 },
	{ 400, "<Response><Errors><Error><Code>Y</Code><Message>a\xc2\x9b"
	  "[31m\xc2\x85" "b</Message></Error></Errors></Response>", "Y",
	  "a [31m b", JC_ERR_AWS, 0 },
	{ 400, "  \n<ErrorResponse><Error><Code>Throttling</Code><Message>Rate "
	  "exceeded</Message></Error></ErrorResponse>", "Throttling",
	  "Rate exceeded", JC_ERR_AWS, 1 },
};

static void
test_errors(void **state)
{
	struct jc_aws_error e;
	size_t i;

	(void)state;
	for (i = 0; i < N(err_cases); i++) {
		jc_aws_error_decode(err_cases[i].status, err_cases[i].body,
		    strlen(err_cases[i].body), &e);
		if (strcmp(e.code, err_cases[i].code) != 0 ||
		    strcmp(e.message, err_cases[i].message) != 0 ||
		    e.http_status != err_cases[i].status)
			fail_msg("case %zu: code \"%s\" message \"%s\"", i,
			    e.code, e.message);
		if (jc_aws_error_class(&e) != err_cases[i].cls)
			fail_msg("case %zu: class %d", i,
			    jc_aws_error_class(&e));
		if (jc_aws_error_retryable(&e) != err_cases[i].retry)
			fail_msg("case %zu: retry", i);
	}
	jc_aws_error_decode(400, NULL, 0, &e);
	assert_string_equal(e.code, "");
}

static const struct {
	const char	*msg;
	const char	*action;	/* NULL: none */
} denied_cases[] = {
	{ "User: arn:aws:iam::1:user/a is not authorized to perform: "
	  "ec2:StartInstances on resource: x", "ec2:StartInstances" },
	{ "You are not authorized to perform this operation. User: u is not "
	  "authorized to perform: ec2-instance-connect:SendSSHPublicKey",
	  "ec2-instance-connect:SendSSHPublicKey" },
	{ "not authorized to perform ssm:StartSession because", 
	  "ssm:StartSession" },
	{ "You are not authorized to perform this operation.", NULL },
	{ "perform: nocolon here", NULL },
	{ "perform: ec2:", NULL },
	{ "", NULL },
};

static void
test_denied_action(void **state)
{
	char a[64];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < N(denied_cases); i++) {
		r = jc_aws_denied_action(denied_cases[i].msg, a, sizeof(a));
		if (denied_cases[i].action == NULL) {
			if (r == 0)
				fail_msg("case %zu: found %s", i, a);
		} else if (r != 0 || strcmp(a, denied_cases[i].action) != 0)
			fail_msg("case %zu", i);
	}
	assert_int_equal(jc_aws_denied_action("perform: ec2:StartInstances",
	    a, 8), JC_ERR_NOTFOUND);
}

/* ---- answers --------------------------------------------------------- */

static void
test_ec2_instances(void **state)
{
	struct jc_instance in[4];
	struct jc_xml *root = NULL;
	char tok[64];
	size_t n;

	(void)state;
	assert_int_equal(jc_xml_parse(instances_ns, strlen(instances_ns),
	    &root), 0);
	assert_int_equal(jc_aws_ec2_instances(root, "eu-west-1", in, 4, &n,
	    tok, sizeof(tok)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(tok, "tok-2");
	assert_string_equal(in[0].id, "i-0123456789abcdef0");
	assert_string_equal(in[0].state, "running");
	assert_string_equal(in[0].name, "gpu-box");
	assert_string_equal(in[0].public_dns,
	    "ec2-54-1-2-3.compute-1.amazonaws.com");
	assert_string_equal(in[0].public_ip, "54.1.2.3");
	assert_string_equal(in[0].private_ip, "10.0.0.5");
	assert_string_equal(in[0].platform, "linux");
	assert_string_equal(in[0].launch_time, "2026-11-23T10:00:00.000Z");
	assert_string_equal(in[0].region, "eu-west-1");
	assert_string_equal(in[0].image_id, "ami-0a00000000000001a");
	assert_string_equal(in[0].platform_details, "Linux/UNIX");
	assert_string_equal(in[1].image_id, "");
	assert_string_equal(in[1].platform, "windows");
	assert_string_equal(in[1].state, "stopped");
	assert_string_equal(in[1].name, "");
	assert_string_equal(in[1].public_dns, "");
	/* max is honoured */
	assert_int_equal(jc_aws_ec2_instances(root, "r", in, 1, &n, NULL, 0),
	    0);
	assert_int_equal(n, 1);
	jc_xml_free(root);

	assert_int_equal(jc_xml_parse(instances_prefix,
	    strlen(instances_prefix), &root), 0);
	assert_int_equal(jc_aws_ec2_instances(root, "r", in, 4, &n, tok,
	    sizeof(tok)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(in[0].state, "pending");
	assert_string_equal(tok, "");
	jc_xml_free(root);

	assert_int_equal(jc_xml_parse("<Other/>", 8, &root), 0);
	assert_int_equal(jc_aws_ec2_instances(root, "r", in, 4, &n, NULL, 0),
	    JC_ERR_PROTO);
	jc_xml_free(root);
}

/* DescribeImages as EC2 answers it (checked against /usr/bin/aws). */
static const char images_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeImagesResponse xmlns=\"http://ec2.amazonaws.com/doc/"
    "2016-11-15/\"><requestId>r</requestId><imagesSet>"
    "<item><imageId>ami-0b</imageId><name>other</name></item>"
    "<item><imageId>ami-0a</imageId>"
    "<imageLocation>amazon/al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64"
    "</imageLocation><imageState>available</imageState>"
    "<imageOwnerId>137112412989</imageOwnerId><isPublic>true</isPublic>"
    "<imageOwnerAlias>amazon</imageOwnerAlias>"
    "<name>al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64</name>"
    "<description>Amazon Linux 2023 AMI</description>"
    "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs>"
    "<volumeSize>8</volumeSize></ebs></item></blockDeviceMapping>"
    "<platformDetails>Linux/UNIX</platformDetails>"
    "<usageOperation>RunInstances</usageOperation></item>"
    "</imagesSet></DescribeImagesResponse>";

static void
test_ec2_image(void **state)
{
	struct jc_aws_image img;
	struct jc_xml *root = NULL;

	(void)state;
	assert_int_equal(jc_xml_parse(images_doc, strlen(images_doc), &root),
	    0);
	assert_int_equal(jc_aws_ec2_image(root, "ami-0a", &img), 0);
	assert_string_equal(img.id, "ami-0a");
	assert_string_equal(img.name,
	    "al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64");
	assert_string_equal(img.description, "Amazon Linux 2023 AMI");
	assert_string_equal(img.location,
	    "amazon/al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64");
	assert_string_equal(img.platform_details, "Linux/UNIX");
	assert_int_equal(jc_aws_ec2_image(root, "ami-0c", &img),
	    JC_ERR_NOTFOUND);
	jc_xml_free(root);
	assert_int_equal(jc_xml_parse("<Other/>", 8, &root), 0);
	assert_int_equal(jc_aws_ec2_image(root, "ami-0a", &img),
	    JC_ERR_PROTO);
	jc_xml_free(root);
}

static void
test_stack_resources(void **state)
{
	static const char doc[] =
	    "<DescribeStackResourcesResponse xmlns=\"http://cloudformation."
	    "amazonaws.com/doc/2010-05-15/\"><DescribeStackResourcesResult>"
	    "<StackResources><member><LogicalResourceId>Notebook"
	    "</LogicalResourceId><PhysicalResourceId>i-0123456789abcdef0"
	    "</PhysicalResourceId><ResourceType>AWS::EC2::Instance"
	    "</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus>"
	    "<Timestamp>2026-11-23T10:00:00Z</Timestamp></member><member>"
	    "<LogicalResourceId>Inner</LogicalResourceId><PhysicalResourceId>"
	    "arn:aws:cloudformation:us-east-1:1:stack/inner/u"
	    "</PhysicalResourceId><ResourceType>AWS::CloudFormation::Stack"
	    "</ResourceType><ResourceStatus>UPDATE_COMPLETE</ResourceStatus>"
	    "</member></StackResources></DescribeStackResourcesResult>"
	    "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
	    "</DescribeStackResourcesResponse>";
	struct jc_aws_resource r[4];
	struct jc_xml *root = NULL;
	size_t n;

	(void)state;
	assert_int_equal(jc_xml_parse(doc, strlen(doc), &root), 0);
	assert_int_equal(jc_aws_stack_resources(root, r, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].type, "AWS::EC2::Instance");
	assert_string_equal(r[0].physical, "i-0123456789abcdef0");
	assert_string_equal(r[0].logical, "Notebook");
	assert_string_equal(r[0].status, "CREATE_COMPLETE");
	assert_string_equal(r[1].type, "AWS::CloudFormation::Stack");
	assert_string_equal(r[1].physical,
	    "arn:aws:cloudformation:us-east-1:1:stack/inner/u");
	jc_xml_free(root);
	assert_int_equal(jc_xml_parse("<DescribeStacksResponse/>", 25, &root),
	    0);
	assert_int_equal(jc_aws_stack_resources(root, r, 4, &n), JC_ERR_PROTO);
	jc_xml_free(root);
}

static void
test_asg(void **state)
{
	static const char doc[] =
	    "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroups"
	    "Result><AutoScalingGroups><member><AutoScalingGroupName>g"
	    "</AutoScalingGroupName><Instances><member><InstanceId>i-1"
	    "</InstanceId><LifecycleState>InService</LifecycleState></member>"
	    "<member><InstanceId>i-2</InstanceId><LifecycleState>Pending"
	    "</LifecycleState></member></Instances></member><member>"
	    "<Instances><member><InstanceId>i-3</InstanceId><LifecycleState>"
	    "InService</LifecycleState></member></Instances></member>"
	    "</AutoScalingGroups></DescribeAutoScalingGroupsResult>"
	    "</DescribeAutoScalingGroupsResponse>";
	struct jc_aws_asg_member m[4];
	struct jc_xml *root = NULL;
	size_t n;

	(void)state;
	assert_int_equal(jc_xml_parse(doc, strlen(doc), &root), 0);
	assert_int_equal(jc_aws_asg_instances(root, m, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].id, "i-1");
	assert_string_equal(m[1].lifecycle, "Pending");
	assert_string_equal(m[2].id, "i-3");
	jc_xml_free(root);
}

static void
test_ssm_info(void **state)
{
	static const char doc[] = "{\"InstanceInformationList\":["
	    "{\"InstanceId\":\"i-1\",\"PingStatus\":\"ConnectionLost\","
	    "\"AgentVersion\":\"3.0.0.0\"},"
	    "{\"InstanceId\":\"i-2\",\"PingStatus\":\"Online\","
	    "\"AgentVersion\":\"3.3.40.0\",\"LastPingDateTime\":1.7e9},"
	    "{\"InstanceId\":\"mi-0123456789abcdef0\",\"PingStatus\":"
	    "\"Online\",\"PlatformType\":\"Linux\",\"IPAddress\":\"192.168.1.9\","
	    "\"ComputerName\":\"lab-box\"}],\"NextToken\":\"n2\"}";
	struct jc_instance in;
	char tok[16];

	(void)state;
	memset(&in, 0, sizeof(in));
	strcpy(in.id, "i-2");
	assert_int_equal(jc_aws_ssm_info(doc, strlen(doc), &in, tok,
	    sizeof(tok)), 0);
	assert_true(in.ssm_managed);
	assert_true(in.ssm_online);
	assert_string_equal(in.agent_version, "3.3.40.0");
	assert_string_equal(tok, "n2");
	assert_string_equal(in.state, "");

	memset(&in, 0, sizeof(in));
	strcpy(in.id, "i-1");
	assert_int_equal(jc_aws_ssm_info(doc, strlen(doc), &in, NULL, 0), 0);
	assert_true(in.ssm_managed);
	assert_false(in.ssm_online);

	memset(&in, 0, sizeof(in));
	strcpy(in.id, "i-9");
	assert_int_equal(jc_aws_ssm_info(doc, strlen(doc), &in, NULL, 0), 0);
	assert_false(in.ssm_managed);

	memset(&in, 0, sizeof(in));
	strcpy(in.id, "mi-0123456789abcdef0");
	assert_int_equal(jc_aws_ssm_info(doc, strlen(doc), &in, NULL, 0), 0);
	assert_string_equal(in.state, "running");
	assert_string_equal(in.name, "lab-box");
	assert_string_equal(in.private_ip, "192.168.1.9");
	assert_string_equal(in.platform, "linux");

	assert_int_equal(jc_aws_ssm_info("{}", 2, &in, NULL, 0), JC_ERR_PROTO);
	assert_int_equal(jc_aws_ssm_info("[", 1, &in, NULL, 0), JC_ERR_PROTO);
}

/* ---- credentials ----------------------------------------------------- */

static const struct {
	int		 kind;
	const char	*json;
	int		 r;
	const char	*akid, *token;
	time_t		 expires;
} cred_cases[] = {
	{ JC_CREDS_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"AKIA1\","
	  "\"SecretAccessKey\":\"s\"}", 0, "AKIA1", NULL, 0 },
	{ JC_CREDS_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"ASIA1\","
	  "\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":"
	  "\"2030-01-02T03:04:05Z\"}", 0, "ASIA1", "t", 1893553445 },
	{ JC_CREDS_PROCESS, "{\"Version\":2,\"AccessKeyId\":\"A\","
	  "\"SecretAccessKey\":\"s\"}", JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}",
	  JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"A\"}",
	  JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"A B\","
	  "\"SecretAccessKey\":\"s\"}", JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"A\","
	  "\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}",
	  JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "not json", JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_PROCESS, "[1]", JC_ERR_AWS_AUTH, NULL, NULL, 0 },
	{ JC_CREDS_IMDS, "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
	  "\"AccessKeyId\":\"ASIA2\",\"SecretAccessKey\":\"s\",\"Token\":\"tk\","
	  "\"Expiration\":\"2030-01-02T03:04:05Z\"}", 0, "ASIA2", "tk",
	  1893553445 },
	{ JC_CREDS_IMDS, "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}",
	  JC_ERR_AWS_AUTH, NULL, NULL, 0 },
};

static void
test_creds_json(void **state)
{
	struct jc_aws_creds c;
	char why[128];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < N(cred_cases); i++) {
		memset(&c, 0, sizeof(c));
		why[0] = '\0';
		r = jc_aws_creds_json(cred_cases[i].json,
		    strlen(cred_cases[i].json), cred_cases[i].kind, &c, why,
		    sizeof(why));
		if (r != cred_cases[i].r)
			fail_msg("case %zu: %d (%s)", i, r, why);
		if (r != 0) {
			if (why[0] == '\0')
				fail_msg("case %zu: no reason", i);
			assert_null(c.akid);
			continue;
		}
		assert_string_equal(c.akid, cred_cases[i].akid);
		assert_string_equal(c.secret, "s");
		if (cred_cases[i].token == NULL)
			assert_null(c.token);
		else
			assert_string_equal(c.token, cred_cases[i].token);
		assert_int_equal(c.expires, cred_cases[i].expires);
		jc_aws_creds_clear(&c);
		assert_null(c.akid);
	}
	jc_aws_creds_clear(NULL);
}

static void
test_creds_sts(void **state)
{
	static const char doc[] =
	    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA3"
	    "</AccessKeyId><SecretAccessKey>sec</SecretAccessKey><SessionToken>"
	    "tok</SessionToken><Expiration>2030-01-02T03:04:05Z</Expiration>"
	    "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
	struct jc_aws_creds c;
	struct jc_xml *root = NULL;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(jc_xml_parse(doc, strlen(doc), &root), 0);
	assert_int_equal(jc_aws_creds_sts(root, &c), 0);
	assert_string_equal(c.akid, "ASIA3");
	assert_string_equal(c.secret, "sec");
	assert_string_equal(c.token, "tok");
	assert_int_equal(c.expires, 1893553445);
	jc_aws_creds_clear(&c);
	jc_xml_free(root);
	assert_int_equal(jc_xml_parse("<AssumeRoleResponse/>", 21, &root), 0);
	assert_int_equal(jc_aws_creds_sts(root, &c), JC_ERR_PROTO);
	jc_xml_free(root);
}

static const struct {
	const char	*s;
	int		 r;
	time_t		 t;
} time_cases[] = {
	{ "2030-01-02T03:04:05Z", 0, 1893553445 },
	{ "2030-01-02T03:04:05.123Z", 0, 1893553445 },
	{ "2030-01-02T03:04:05+00:00", 0, 1893553445 },
	{ "2030-01-02T05:04:05+02:00", 0, 1893553445 },
	{ "2030-01-01T22:04:05-05:00", 0, 1893553445 },
	{ "2030-01-02T03:04:05", 0, 1893553445 },
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2030-13-02T03:04:05Z", JC_ERR_PROTO, 0 },
	{ "2030-01-02 03:04:05Z", JC_ERR_PROTO, 0 },
	{ "2030-01-02T03:04:05Zjunk", JC_ERR_PROTO, 0 },
	{ "2030-1-2T3:4:5Z", JC_ERR_PROTO, 0 },
	{ "", JC_ERR_PROTO, 0 },
};

static void
test_time(void **state)
{
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < N(time_cases); i++) {
		t = 42;
		if (jc_aws_time_parse(time_cases[i].s, &t) != time_cases[i].r)
			fail_msg("case %zu (%s)", i, time_cases[i].s);
		if (time_cases[i].r == 0 && t != time_cases[i].t)
			fail_msg("case %zu: %lld", i, (long long)t);
	}
}

/* ---- ini files ------------------------------------------------------- */

static const char credentials_file[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIADEFAULT\n"
    "aws_secret_access_key=secret-default\r\n"
    "\n"
    "[dev]\n"
    "AWS_ACCESS_KEY_ID = AKIADEV\n"
    "aws_secret_access_key = secret = with equals\n"
    "; another comment\n"
    "[empty]\n";

static const char config_file[] =
    "[default]\n"
    "region = us-east-1\n"
    "[profile dev]\n"
    "region = eu-west-1\n"
    "aws_access_key_id = AKIA-IN-CONFIG\n"
    "s3 =\n"
    "  addressing_style = path\n"
    "endpoint_url = http://127.0.0.1:9\n"
    "[profile   spaced  ]\n"
    "region: ap-south-1\n"
    "[profile default]\n"
    "output = json\n"
    "[sso-session corp]\n"
    "sso_region = us-east-1\n"
    "orphan line\n"
    "[broken\n"
    "region = nowhere\n";

static void
test_ini(void **state)
{
	struct jc_aws_ini *cr, *cf;

	(void)state;
	cr = jc_aws_ini_parse(credentials_file, strlen(credentials_file));
	cf = jc_aws_ini_parse(config_file, strlen(config_file));
	assert_non_null(cr);
	assert_non_null(cf);
	assert_string_equal(jc_aws_ini_get(cr, "default",
	    "aws_secret_access_key"), "secret-default");
	assert_string_equal(jc_aws_ini_get(cr, "dev", "aws_access_key_id"),
	    "AKIADEV");
	assert_string_equal(jc_aws_ini_get(cr, "dev",
	    "aws_secret_access_key"), "secret = with equals");
	assert_true(jc_aws_ini_has(cr, "empty"));
	assert_false(jc_aws_ini_has(cr, "nope"));
	/* credentials file wins over config for the same key */
	assert_string_equal(jc_aws_profile_get(cr, cf, "dev",
	    "aws_access_key_id"), "AKIADEV");
	assert_string_equal(jc_aws_profile_get(cr, cf, "dev", "region"),
	    "eu-west-1");
	assert_string_equal(jc_aws_profile_get(cr, cf, "dev", "endpoint_url"),
	    "http://127.0.0.1:9");
	/* the indented sub-section line is not a key of the profile */
	assert_null(jc_aws_profile_get(cr, cf, "dev", "addressing_style"));
	assert_string_equal(jc_aws_profile_get(cr, cf, "dev", "s3"), "");
	assert_string_equal(jc_aws_profile_get(cr, cf, "default", "region"),
	    "us-east-1");
	assert_string_equal(jc_aws_profile_get(cr, cf, "default", "output"),
	    "json");
	assert_string_equal(jc_aws_profile_get(NULL, cf, "spaced", "region"),
	    "ap-south-1");
	assert_null(jc_aws_profile_get(cr, cf, "corp", "sso_region"));
	assert_null(jc_aws_profile_get(cr, cf, "broken", "region"));
	assert_true(jc_aws_profile_exists(cr, cf, "dev"));
	assert_true(jc_aws_profile_exists(cr, cf, "spaced"));
	assert_true(jc_aws_profile_exists(NULL, cf, "default"));
	assert_true(jc_aws_profile_exists(cr, NULL, "empty"));
	assert_false(jc_aws_profile_exists(cr, cf, "corp"));
	assert_false(jc_aws_profile_exists(NULL, NULL, "dev"));
	jc_aws_ini_free(cr);
	jc_aws_ini_free(cf);
	jc_aws_ini_free(NULL);
	cr = jc_aws_ini_parse("", 0);
	assert_non_null(cr);
	assert_null(jc_aws_ini_get(cr, "default", "region"));
	jc_aws_ini_free(cr);
}

/* ---- endpoints ------------------------------------------------------- */

static const struct {
	const char	*service, *region, *profile_url;
	const char	*env_all, *env_svc_name, *env_svc, *ignore;
	int		 r;
	const char	*url, *from;
} ep_cases[] = {
	{ "ssm", "us-east-1", NULL, NULL, NULL, NULL, NULL, 0,
	  "https://ssm.us-east-1.amazonaws.com/", "default" },
	{ "ec2-instance-connect", "eu-west-1", NULL, NULL, NULL, NULL, NULL, 0,
	  "https://ec2-instance-connect.eu-west-1.amazonaws.com/", "default" },
	{ "autoscaling", "cn-north-1", NULL, NULL, NULL, NULL, NULL, 0,
	  "https://autoscaling.cn-north-1.amazonaws.com.cn/", "default" },
	{ "ec2", "us-east-1", NULL, "http://127.0.0.1:4566", NULL, NULL, NULL,
	  0, "http://127.0.0.1:4566/", "AWS_ENDPOINT_URL" },
	{ "ec2", "us-east-1", NULL, "http://127.0.0.1:4566",
	  "AWS_ENDPOINT_URL_EC2", "https://ec2.local/x", NULL, 0,
	  "https://ec2.local/x", "AWS_ENDPOINT_URL_EC2" },
	{ "ssm", "us-east-1", NULL, "http://a:1", "AWS_ENDPOINT_URL_EC2",
	  "http://b:2", NULL, 0, "http://a:1/", "AWS_ENDPOINT_URL" },
	{ "ec2-instance-connect", "us-east-1", NULL, NULL,
	  "AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT", "http://c:3/", NULL, 0,
	  "http://c:3/", "AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT" },
	{ "autoscaling", "us-east-1", NULL, NULL, "AWS_ENDPOINT_URL_AUTO_SCALING",
	  "http://d:4", NULL, 0, "http://d:4/", "AWS_ENDPOINT_URL_AUTO_SCALING" },
	{ "sts", "us-east-1", "http://profile:5", NULL, NULL, NULL, NULL, 0,
	  "http://profile:5/", "the profile's endpoint_url" },
	{ "sts", "us-east-1", "http://profile:5", "http://env:6", NULL, NULL,
	  NULL, 0, "http://env:6/", "AWS_ENDPOINT_URL" },
	{ "sts", "us-east-1", "http://profile:5", "http://env:6", NULL, NULL,
	  "true", 0, "https://sts.us-east-1.amazonaws.com/", "default" },
	{ "cloudformation", "us-east-1", NULL, "ftp://x", NULL, NULL, NULL,
	  JC_ERR_USAGE, NULL, NULL },
	{ "cloudformation", "us-east-1", NULL, "http://a b", NULL, NULL, NULL,
	  JC_ERR_USAGE, NULL, NULL },
	{ "s3", "us-east-1", NULL, NULL, NULL, NULL, NULL, JC_ERR_USAGE, NULL,
	  NULL },
	{ "ssm", NULL, NULL, NULL, NULL, NULL, NULL, JC_ERR_USAGE, NULL, NULL },
	{ "ssm", "us-east-1/evil", NULL, NULL, NULL, NULL, NULL, JC_ERR_USAGE,
	  NULL, NULL },
	/* an override needs no region */
	{ "ssm", NULL, NULL, "http://127.0.0.1:1", NULL, NULL, NULL, 0,
	  "http://127.0.0.1:1/", "AWS_ENDPOINT_URL" },
};

static void
test_endpoints(void **state)
{
	const char *from;
	char url[256];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < N(ep_cases); i++) {
		unsetenv("AWS_ENDPOINT_URL");
		unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
		unsetenv(ep_cases[i].env_svc_name ? ep_cases[i].env_svc_name :
		    "AWS_ENDPOINT_URL_SSM");
		if (ep_cases[i].env_all != NULL)
			setenv("AWS_ENDPOINT_URL", ep_cases[i].env_all, 1);
		if (ep_cases[i].env_svc_name != NULL)
			setenv(ep_cases[i].env_svc_name, ep_cases[i].env_svc, 1);
		if (ep_cases[i].ignore != NULL)
			setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
			    ep_cases[i].ignore, 1);
		from = NULL;
		r = jc_aws_endpoint(ep_cases[i].service, ep_cases[i].region,
		    ep_cases[i].profile_url, url, sizeof(url), &from);
		if (ep_cases[i].env_svc_name != NULL)
			unsetenv(ep_cases[i].env_svc_name);
		if (r != ep_cases[i].r)
			fail_msg("case %zu: %d", i, r);
		if (r != 0)
			continue;
		if (strcmp(url, ep_cases[i].url) != 0 ||
		    strcmp(from, ep_cases[i].from) != 0)
			fail_msg("case %zu: %s from %s", i, url, from);
	}
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	/* too small a buffer is an error, not a truncated URL */
	assert_int_equal(jc_aws_endpoint("ssm", "us-east-1", NULL, url, 10,
	    &from), JC_ERR_USAGE);
}

static void
test_form_escape(void **state)
{
	char b[64];

	(void)state;
	assert_int_equal(jc_aws_form_escape(b, sizeof(b), "my-stack_1.~"), 0);
	assert_string_equal(b, "my-stack_1.~");
	assert_int_equal(jc_aws_form_escape(b, sizeof(b),
	    "arn:aws:iam::1:role/a b+c&d=é"), 0);
	assert_string_equal(b, "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc%26d"
	    "%3D%C3%A9");
	assert_int_equal(jc_aws_form_escape(b, 4, "abc"), 0);
	assert_int_equal(jc_aws_form_escape(b, 3, "abc"), JC_ERR_USAGE);
	assert_int_equal(jc_aws_form_escape(b, 4, "a/"), JC_ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_tree),
		cmocka_unit_test(test_xml_table),
		cmocka_unit_test(test_xml_limits),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_denied_action),
		cmocka_unit_test(test_ec2_instances),
		cmocka_unit_test(test_ec2_image),
		cmocka_unit_test(test_stack_resources),
		cmocka_unit_test(test_asg),
		cmocka_unit_test(test_ssm_info),
		cmocka_unit_test(test_creds_json),
		cmocka_unit_test(test_creds_sts),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_ini),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_form_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
