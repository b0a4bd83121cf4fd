/*
 * test_eice.c - the answers the EICE access plugin reads: EC2's
 * DescribeInstances (the instance's own VPC, subnet and private address,
 * not those of its network interfaces) and DescribeInstanceConnectEndpoints
 * (every endpoint of the set), as EC2 writes them; and the SSM plugin's
 * probe of DescribeInstanceInformation, which --via auto's choice reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "../../plugins/eice/eice.h"

int	ssm_probe_parse(const char *json, const char *id, struct jc_probe *pr);

static const char instances[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
"<requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId>"
"<instancesSet><item><instanceId>i-0fedcba9876543210</instanceId>"
"<instanceState><code>16</code><name>running</name></instanceState>"
"<privateDnsName>ip-10-0-1-5.ec2.internal</privateDnsName><dnsName/>"
"<placement><availabilityZone>us-east-1a</availabilityZone></placement>"
"<subnetId>subnet-0a1b2c3d4e5f60719</subnetId><vpcId>vpc-0a1b2c3d4e5f60718</vpcId>"
"<privateIpAddress>10.0.1.5</privateIpAddress>"
"<networkInterfaceSet><item><subnetId>subnet-99</subnetId><vpcId>vpc-99</vpcId>"
"<privateIpAddress>10.9.9.9</privateIpAddress></item></networkInterfaceSet>"
"</item></instancesSet></item></reservationSet></DescribeInstancesResponse>";

static const char endpoints[] =
"<DescribeInstanceConnectEndpointsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
"<requestId>r</requestId><instanceConnectEndpointSet>"
"<item><ownerId>123456789012</ownerId>"
"<instanceConnectEndpointId>eice-0123456789abcdef0</instanceConnectEndpointId>"
"<state>create-complete</state><dnsName>eice-0123456789abcdef0.x.ec2-instance-connect-endpoint.us-east-1.amazonaws.com</dnsName>"
"<networkInterfaceIdSet><item>eni-1</item></networkInterfaceIdSet>"
"<vpcId>vpc-0a1b2c3d4e5f60718</vpcId><subnetId>subnet-a</subnetId>"
"<tagSet><item><key>k</key><value>v</value></item></tagSet></item>"
"<item><instanceConnectEndpointId>eice-0fffffffffffffff1</instanceConnectEndpointId>"
"<state>create-in-progress</state><dnsName>d2</dnsName>"
"<vpcId>vpc-0a1b2c3d4e5f60718</vpcId><subnetId>subnet-b</subnetId></item>"
"</instanceConnectEndpointSet></DescribeInstanceConnectEndpointsResponse>";

static void
test_instance(void **state)
{
	struct eice_inst in;

	(void)state;
	assert_int_equal(eice_parse_instance(instances, strlen(instances),
	    &in), 0);
	assert_string_equal(in.vpc, "vpc-0a1b2c3d4e5f60718");
	assert_string_equal(in.subnet, "subnet-0a1b2c3d4e5f60719");
	assert_string_equal(in.ip, "10.0.1.5");
	assert_string_equal(in.state, "running");
	assert_int_equal(eice_parse_instance("<a><instancesSet/></a>", 22,
	    &in), JC_ERR_NOTFOUND);
	assert_int_equal(eice_parse_instance("<a><b>", 6, &in), JC_ERR_PROTO);
}

static void
test_endpoints(void **state)
{
	struct eice_ep eps[4];

	(void)state;
	assert_int_equal(eice_parse_endpoints(endpoints, strlen(endpoints),
	    eps, 4), 2);
	assert_string_equal(eps[0].id, "eice-0123456789abcdef0");
	assert_string_equal(eps[0].state, "create-complete");
	assert_string_equal(eps[0].subnet, "subnet-a");
	assert_string_equal(eps[0].vpc, "vpc-0a1b2c3d4e5f60718");
	assert_non_null(strstr(eps[0].dns, "ec2-instance-connect-endpoint"));
	assert_string_equal(eps[1].state, "create-in-progress");
	/* No more than asked for. */
	assert_int_equal(eice_parse_endpoints(endpoints, strlen(endpoints),
	    eps, 1), 1);
}

static void
test_ssm_probe(void **state)
{
	const char *doc = "{\"InstanceInformationList\":[{\"InstanceId\":"
	    "\"i-1\",\"PingStatus\":\"ConnectionLost\"},{\"InstanceId\":"
	    "\"mi-0123456789abcdef0\",\"PingStatus\":\"Online\","
	    "\"AgentVersion\":\"3.3.40.0\",\"ComputerName\":\"lab\","
	    "\"IPAddress\":\"192.168.1.9\",\"PlatformType\":\"Linux\"}]}";
	struct jc_probe pr;

	(void)state;
	memset(&pr, 0, sizeof(pr));
	assert_int_equal(ssm_probe_parse(doc, "mi-0123456789abcdef0", &pr), 0);
	assert_true(pr.checked && pr.managed && pr.online);
	assert_string_equal(pr.agent_version, "3.3.40.0");
	assert_string_equal(pr.private_ip, "192.168.1.9");
	assert_string_equal(pr.platform, "linux");
	memset(&pr, 0, sizeof(pr));
	assert_int_equal(ssm_probe_parse(doc, "i-1", &pr), 0);
	assert_true(pr.checked && pr.managed && !pr.online);
	memset(&pr, 0, sizeof(pr));
	assert_int_equal(ssm_probe_parse(doc, "i-2", &pr), 0);
	assert_true(pr.checked && !pr.managed);
	assert_int_equal(ssm_probe_parse("{}", "i-2", &pr), JC_ERR_PROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instance),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_ssm_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
