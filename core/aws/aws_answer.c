/*
 * aws_answer.c - the answers of DescribeStackResources, DescribeInstances,
 * DescribeImages, DescribeAutoScalingGroups and DescribeInstanceInformation
 * into structs.  What AWS names and says is copied bounded and cleaned
 * (jc_aws_copy_clean), as everything from the network is.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws_answer.h"

int
jc_aws_stack_resources(const struct jc_xml *root, struct jc_aws_resource *out,
    size_t max, size_t *n)
{
	const struct jc_xml *m;

	*n = 0;
	if (root == NULL || strcmp(root->name,
	    "DescribeStackResourcesResponse") != 0)
		return JC_ERR_PROTO;
	m = jc_xml_path(root, "DescribeStackResourcesResult/StackResources/"
	    "member");
	for (; m != NULL && *n < max; m = jc_xml_next(m)) {
		struct jc_aws_resource *r = &out[(*n)++];

		jc_aws_copy_clean(r->type, sizeof(r->type),
		    jc_xml_text(m, "ResourceType"));
		jc_aws_copy_clean(r->physical, sizeof(r->physical),
		    jc_xml_text(m, "PhysicalResourceId"));
		jc_aws_copy_clean(r->logical, sizeof(r->logical),
		    jc_xml_text(m, "LogicalResourceId"));
		jc_aws_copy_clean(r->status, sizeof(r->status),
		    jc_xml_text(m, "ResourceStatus"));
	}
	return 0;
}

static void
one_instance(const struct jc_xml *it, const char *region,
    struct jc_instance *in)
{
	const struct jc_xml *t;
	const char *plat;

	memset(in, 0, sizeof(*in));
	jc_aws_copy_clean(in->id, sizeof(in->id), jc_xml_text(it, "instanceId"));
	jc_aws_copy_clean(in->state, sizeof(in->state),
	    jc_xml_text(it, "instanceState/name"));
	jc_aws_copy_clean(in->public_dns, sizeof(in->public_dns),
	    jc_xml_text(it, "dnsName"));
	jc_aws_copy_clean(in->public_ip, sizeof(in->public_ip),
	    jc_xml_text(it, "ipAddress"));
	jc_aws_copy_clean(in->private_ip, sizeof(in->private_ip),
	    jc_xml_text(it, "privateIpAddress"));
	jc_aws_copy_clean(in->launch_time, sizeof(in->launch_time),
	    jc_xml_text(it, "launchTime"));
	/* EC2 sets <platform> only for Windows. */
	plat = jc_xml_text(it, "platform");
	jc_aws_copy_clean(in->platform, sizeof(in->platform),
	    *plat != '\0' ? plat : "linux");
	jc_aws_copy_clean(in->platform_details, sizeof(in->platform_details),
	    jc_xml_text(it, "platformDetails"));
	jc_aws_copy_clean(in->image_id, sizeof(in->image_id),
	    jc_xml_text(it, "imageId"));
	jc_aws_copy_clean(in->region, sizeof(in->region), region);
	for (t = jc_xml_path(it, "tagSet/item"); t != NULL; t = jc_xml_next(t))
		if (strcmp(jc_xml_text(t, "key"), "Name") == 0)
			jc_aws_copy_clean(in->name, sizeof(in->name),
			    jc_xml_text(t, "value"));
}

int
jc_aws_ec2_instances(const struct jc_xml *root, const char *region,
    struct jc_instance *out, size_t max, size_t *n, char *next_token,
    size_t ntlen)
{
	const struct jc_xml *res, *it;

	*n = 0;
	if (next_token != NULL && ntlen > 0)
		*next_token = '\0';
	if (root == NULL ||
	    strcmp(root->name, "DescribeInstancesResponse") != 0)
		return JC_ERR_PROTO;
	for (res = jc_xml_path(root, "reservationSet/item"); res != NULL;
	    res = jc_xml_next(res))
		for (it = jc_xml_path(res, "instancesSet/item");
		    it != NULL && *n < max; it = jc_xml_next(it))
			one_instance(it, region, &out[(*n)++]);
	if (next_token != NULL && ntlen > 0)
		jc_aws_copy_clean(next_token, ntlen, jc_xml_text(root, "nextToken"));
	return 0;
}

int
jc_aws_ec2_image(const struct jc_xml *root, const char *id,
    struct jc_aws_image *out)
{
	const struct jc_xml *it;

	memset(out, 0, sizeof(*out));
	if (root == NULL || strcmp(root->name, "DescribeImagesResponse") != 0)
		return JC_ERR_PROTO;
	for (it = jc_xml_path(root, "imagesSet/item"); it != NULL;
	    it = jc_xml_next(it)) {
		if (strcmp(jc_xml_text(it, "imageId"), id) != 0)
			continue;
		jc_aws_copy_clean(out->id, sizeof(out->id), id);
		jc_aws_copy_clean(out->name, sizeof(out->name),
		    jc_xml_text(it, "name"));
		jc_aws_copy_clean(out->description, sizeof(out->description),
		    jc_xml_text(it, "description"));
		jc_aws_copy_clean(out->location, sizeof(out->location),
		    jc_xml_text(it, "imageLocation"));
		jc_aws_copy_clean(out->platform_details,
		    sizeof(out->platform_details),
		    jc_xml_text(it, "platformDetails"));
		return 0;
	}
	return JC_ERR_NOTFOUND;
}

int
jc_aws_asg_instances(const struct jc_xml *root, struct jc_aws_asg_member *out,
    size_t max, size_t *n)
{
	const struct jc_xml *g, *m;

	*n = 0;
	if (root == NULL || strcmp(root->name,
	    "DescribeAutoScalingGroupsResponse") != 0)
		return JC_ERR_PROTO;
	for (g = jc_xml_path(root, "DescribeAutoScalingGroupsResult/"
	    "AutoScalingGroups/member"); g != NULL; g = jc_xml_next(g))
		for (m = jc_xml_path(g, "Instances/member");
		    m != NULL && *n < max; m = jc_xml_next(m)) {
			jc_aws_copy_clean(out[*n].id, sizeof(out[*n].id),
			    jc_xml_text(m, "InstanceId"));
			jc_aws_copy_clean(out[*n].lifecycle,
			    sizeof(out[*n].lifecycle),
			    jc_xml_text(m, "LifecycleState"));
			(*n)++;
		}
	return 0;
}

/* A hybrid node is known only to SSM: take what it says. */
static void
hybrid(const cJSON *e, struct jc_instance *inst)
{
	const char *v;
	size_t i;

	jc_aws_copy_clean(inst->state, sizeof(inst->state), inst->ssm_online ?
	    "running" : "offline");
	if ((v = jc_aws_json_str(e, "ComputerName")) != NULL)
		jc_aws_copy_clean(inst->name, sizeof(inst->name), v);
	if ((v = jc_aws_json_str(e, "IPAddress")) != NULL)
		jc_aws_copy_clean(inst->private_ip, sizeof(inst->private_ip), v);
	if ((v = jc_aws_json_str(e, "PlatformType")) != NULL) {
		jc_aws_copy_clean(inst->platform, sizeof(inst->platform), v);
		for (i = 0; inst->platform[i] != '\0'; i++)
			inst->platform[i] = (char)tolower(
			    (unsigned char)inst->platform[i]);
	}
}

int
jc_aws_ssm_info(const char *json, size_t len, struct jc_instance *inst,
    char *next_token, size_t ntlen)
{
	const cJSON *list, *e;
	const char *id, *ping, *ver, *nt;
	cJSON *j;

	if (next_token != NULL && ntlen > 0)
		*next_token = '\0';
	if ((j = cJSON_ParseWithLength(json, len)) == NULL)
		return JC_ERR_PROTO;
	list = cJSON_GetObjectItemCaseSensitive(j, "InstanceInformationList");
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(j);
		return JC_ERR_PROTO;
	}
	cJSON_ArrayForEach(e, list) {
		if ((id = jc_aws_json_str(e, "InstanceId")) == NULL ||
		    strcmp(id, inst->id) != 0)
			continue;
		inst->ssm_managed = 1;
		ping = jc_aws_json_str(e, "PingStatus");
		inst->ssm_online = ping != NULL && strcmp(ping, "Online") == 0;
		if ((ver = jc_aws_json_str(e, "AgentVersion")) != NULL)
			jc_aws_copy_clean(inst->agent_version,
			    sizeof(inst->agent_version), ver);
		if (strncmp(inst->id, "mi-", 3) == 0)
			hybrid(e, inst);
	}
	if (next_token != NULL && ntlen > 0 &&
	    (nt = jc_aws_json_str(j, "NextToken")) != NULL)
		jc_aws_copy_clean(next_token, ntlen, nt);
	cJSON_Delete(j);
	return 0;
}
