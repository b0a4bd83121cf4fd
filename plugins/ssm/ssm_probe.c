/*
 * ssm_probe.c - what SSM knows of an instance (DescribeInstanceInformation):
 * whether its agent registered and is online, for --via auto's choice and
 * for waiting after a start; for hybrid nodes (mi-...), all there is.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ssm_host.h"
#include "ssm_probe.h"

static void
copy(char *dst, size_t n, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t i, k = 0;

	if (!cJSON_IsString(v))
		return;
	/* Printable bytes only: the text reaches messages and JSON. */
	for (i = 0; v->valuestring[i] != '\0' && k + 1 < n; i++)
		if (isprint((unsigned char)v->valuestring[i]))
			dst[k++] = v->valuestring[i];
	dst[k] = '\0';
}

int
ssm_probe_parse(const char *json, const char *id, struct jc_probe *pr)
{
	const cJSON *list, *e, *iid, *ping;
	cJSON *j;
	size_t i;

	if ((j = cJSON_Parse(json)) == NULL)
		return JC_ERR_PROTO;
	list = cJSON_GetObjectItemCaseSensitive(j, "InstanceInformationList");
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(j);
		return JC_ERR_PROTO;
	}
	cJSON_ArrayForEach(e, list) {
		iid = cJSON_GetObjectItemCaseSensitive(e, "InstanceId");
		if (!cJSON_IsString(iid) || strcmp(iid->valuestring, id) != 0)
			continue;
		pr->managed = 1;
		ping = cJSON_GetObjectItemCaseSensitive(e, "PingStatus");
		pr->online = cJSON_IsString(ping) &&
		    strcmp(ping->valuestring, "Online") == 0;
		copy(pr->agent_version, sizeof(pr->agent_version), e,
		    "AgentVersion");
		copy(pr->name, sizeof(pr->name), e, "ComputerName");
		copy(pr->private_ip, sizeof(pr->private_ip), e, "IPAddress");
		copy(pr->platform, sizeof(pr->platform), e, "PlatformType");
		for (i = 0; pr->platform[i] != '\0'; i++)
			pr->platform[i] = (char)tolower(
			    (unsigned char)pr->platform[i]);
	}
	cJSON_Delete(j);
	pr->checked = 1;
	return 0;
}

int
ssm_p_probe(void *state, const char *id, struct jc_probe *pr)
{
	struct jc_aws_error err;
	cJSON *body = NULL, *filters, *f, *vals;
	char *json = NULL, *out = NULL;
	int r = JC_ERR_NOMEM;

	(void)state;
	pr->checked = pr->managed = pr->online = 0;
	if ((body = cJSON_CreateObject()) == NULL ||
	    (filters = cJSON_AddArrayToObject(body, "Filters")) == NULL ||
	    (f = cJSON_CreateObject()) == NULL)
		goto out;
	cJSON_AddItemToArray(filters, f);
	if (cJSON_AddStringToObject(f, "Key", "InstanceIds") == NULL ||
	    (vals = cJSON_AddArrayToObject(f, "Values")) == NULL)
		goto out;
	cJSON_AddItemToArray(vals, cJSON_CreateString(id));
	if ((json = cJSON_PrintUnformatted(body)) == NULL)
		goto out;
	memset(&err, 0, sizeof(err));
	r = ssm_host->aws_json("ssm", "AmazonSSM.DescribeInstanceInformation",
	    json, &out, &err);
	if (r != 0) {
		snprintf(pr->why, sizeof(pr->why), "%s",
		    ssm_host->aws_explain(&err));
		goto out;
	}
	if ((r = ssm_probe_parse(out, id, pr)) != 0)
		snprintf(pr->why, sizeof(pr->why), "an answer that is not "
		    "JSON of DescribeInstanceInformation");
 out:
	cJSON_Delete(body);
	cJSON_free(json);
	if (out != NULL)
		ssm_host->free(out);
	return r;
}
