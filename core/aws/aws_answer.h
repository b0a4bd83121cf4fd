/*
 * aws_answer.h - the answers of the service calls the resolver and the
 * user guess make (EC2, CloudFormation, Auto Scaling, SSM) read into
 * structs.  No I/O, so every function can be unit-tested and fuzzed.
 */
#ifndef JC_AWS_ANSWER_H
#define JC_AWS_ANSWER_H

#include <stddef.h>

#include "aws_parse.h"

/* One EC2 instance as the resolver and the access methods see it. */
struct jc_instance {
	char	id[32];			/* i-0123456789abcdef0 */
	char	state[24];		/* running, stopped, ... */
	char	name[256];		/* Name tag, "" when none */
	char	public_dns[256];	/* "" when none */
	char	public_ip[64];
	char	private_ip[64];
	char	platform[32];		/* "linux" or "windows" */
	char	platform_details[64];	/* "Linux/UNIX", "Red Hat Enterprise Linux" */
	char	image_id[32];		/* ami-..., "" when unknown */
	char	launch_time[32];	/* ISO 8601 */
	char	region[32];
	int	ssm_managed;		/* SSM knows the instance */
	int	ssm_online;		/* PingStatus == Online */
	char	agent_version[32];	/* SSM agent version, "" when unknown */
	int	ssm_checked;		/* SSM was asked and answered */
};

/* One resource of DescribeStackResources. */
struct jc_aws_resource {
	char	type[96];		/* AWS::EC2::Instance, ... */
	char	physical[512];		/* instance id, nested stack ARN, ASG */
	char	logical[256];
	char	status[48];		/* CREATE_COMPLETE, ... */
};

/*
 * DescribeStackResources answer -> up to max resources in out[], *n set
 * to how many were stored.  Returns 0 or JC_ERR_PROTO when the root is
 * not a DescribeStackResourcesResponse.
 */
int	jc_aws_stack_resources(const struct jc_xml *root,
	    struct jc_aws_resource *out, size_t max, size_t *n);

/*
 * DescribeInstances (or StartInstances for the state) answer -> up to max
 * instances, with their image id and platform details.  Fields missing
 * from the answer are "" (platform "linux").
 * region is copied into each instance.  next_token (may be NULL) receives
 * nextToken or "".  Returns 0 or JC_ERR_PROTO.
 */
int	jc_aws_ec2_instances(const struct jc_xml *root, const char *region,
	    struct jc_instance *out, size_t max, size_t *n, char *next_token,
	    size_t ntlen);

/* What DescribeImages says about an AMI that tells its OS. */
struct jc_aws_image {
	char	id[32];			/* ami-... */
	char	name[256];		/* "al2023-ami-2023.4...-x86_64" */
	char	description[256];
	char	location[256];		/* "amazon/al2023-ami-..." */
	char	platform_details[64];	/* "Linux/UNIX", "Red Hat ..." */
};

/*
 * DescribeImages answer -> the image whose imageId is id.  Returns 0,
 * JC_ERR_NOTFOUND when the answer does not list it, or JC_ERR_PROTO when
 * the root is not a DescribeImagesResponse.
 */
int	jc_aws_ec2_image(const struct jc_xml *root, const char *id,
	    struct jc_aws_image *out);

/* One instance of an Auto Scaling group. */
struct jc_aws_asg_member {
	char	id[32];			/* i-... */
	char	lifecycle[32];		/* InService, Pending, ... */
};

/*
 * DescribeAutoScalingGroups answer -> the instances of every group listed
 * (up to max).  Returns 0 or JC_ERR_PROTO.
 */
int	jc_aws_asg_instances(const struct jc_xml *root,
	    struct jc_aws_asg_member *out, size_t max, size_t *n);

/*
 * DescribeInstanceInformation JSON answer: fill ssm_managed, ssm_online
 * and agent_version of *inst from the entry whose InstanceId is inst->id
 * (left at 0/"" when absent).  For a hybrid node (mi-...), which EC2 does
 * not know, also name, private_ip, platform and state ("running" when
 * Online, else "offline").  next_token (may be NULL) gets NextToken or
 * "".  Returns 0 or JC_ERR_PROTO.
 */
int	jc_aws_ssm_info(const char *json, size_t len, struct jc_instance *inst,
	    char *next_token, size_t ntlen);

#endif /* JC_AWS_ANSWER_H */
