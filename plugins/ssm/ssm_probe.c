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
#include "ssm_warm.h"

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

/* DescribeInstanceInformation's body: one filter, one value. */
static char *
probe_body(const char *key, const char *value)
{
	cJSON *body, *filters, *f, *vals;
	char *json = NULL;

	if ((body = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((filters = cJSON_AddArrayToObject(body, "Filters")) != NULL &&
	    (f = cJSON_CreateObject()) != NULL) {
		cJSON_AddItemToArray(filters, f);
		if (cJSON_AddStringToObject(f, "Key", key) != NULL &&
		    (vals = cJSON_AddArrayToObject(f, "Values")) != NULL) {
			cJSON_AddItemToArray(vals, cJSON_CreateString(value));
			json = cJSON_PrintUnformatted(body);
		}
	}
	cJSON_Delete(body);
	return json;
}

/*
 * The question asked ahead (one at a time).  Its answer serves the next
 * probe of an instance it lists, once, while fresh: a later probe (the
 * wait after a start) asks again.
 */
#define AHEAD_FRESH_MS	10000

static struct {
	struct jc_aws_call *call;	/* in flight */
	volatile int	 done;
	int		 by_id;		/* asked about one instance id */
	char		 id[64];	/* that id */
	char		*answer;	/* host->free; NULL: failed */
	int64_t		 at;		/* when it came */
} ahead;

static void
ahead_clear(void)
{
	if (ahead.call != NULL)
		ssm_host->aws_json_cancel(ahead.call);
	if (ahead.answer != NULL)
		ssm_host->free(ahead.answer);
	memset(&ahead, 0, sizeof(ahead));
}

static void
ahead_done(void *arg, int r, char *out, const struct jc_aws_error *err)
{
	(void)arg;
	(void)err;
	ahead.call = NULL;
	ahead.done = 1;
	ahead.at = ssm_host->now_ms();
	if (r == 0)
		ahead.answer = out;
	else if (out != NULL)
		ssm_host->free(out);
}

void
ssm_p_probe_ahead(void *state, const char *tag_key, const char *value)
{
	struct jc_aws_error err;
	char key[160], *json;

	(void)state;
	ahead_clear();
	/* The sessions' WebSockets will want their connections too. */
	ssm_warm_ahead();
	if (!JC_HOST_HAS(ssm_host, aws_json_start) || value == NULL)
		return;
	if (tag_key == NULL) {
		snprintf(key, sizeof(key), "InstanceIds");
		ahead.by_id = 1;
		snprintf(ahead.id, sizeof(ahead.id), "%s", value);
	} else if ((size_t)snprintf(key, sizeof(key), "tag:%s", tag_key) >=
	    sizeof(key))
		return;
	if ((json = probe_body(key, value)) == NULL)
		return;
	memset(&err, 0, sizeof(err));
	if (ssm_host->aws_json_start("ssm",
	    "AmazonSSM.DescribeInstanceInformation", json, ahead_done, NULL,
	    &ahead.call, &err) != 0)
		memset(&ahead, 0, sizeof(ahead));
	cJSON_free(json);
}

/*
 * The answer asked ahead, when it covers instance id: 0 with *pr
 * filled, -1 to ask now.  An answer by tag that does not list id says
 * nothing (the target may have been found by another tag).
 */
static int
from_ahead(const char *id, struct jc_probe *pr)
{
	int r = -1;

	if (ahead.call == NULL && !ahead.done)
		return -1;
	/* In flight: it is the quicker way to the answer. */
	if (!ahead.done && ssm_host->loop_run(&ahead.done, 30000) != 0) {
		ahead_clear();
		return -1;
	}
	if (ahead.answer != NULL &&
	    ssm_host->now_ms() - ahead.at <= AHEAD_FRESH_MS &&
	    (!ahead.by_id || strcmp(ahead.id, id) == 0) &&
	    ssm_probe_parse(ahead.answer, id, pr) == 0 &&
	    (pr->managed || ahead.by_id)) {
		ssm_log(JC_LOG_DEBUG, "DescribeInstanceInformation: "
		    "the answer asked ahead covers %s", id);
		r = 0;
	}
	ahead_clear();
	return r;
}

int
ssm_p_probe(void *state, const char *id, struct jc_probe *pr)
{
	struct jc_aws_error err;
	char *json = NULL, *out = NULL;
	int r = JC_ERR_NOMEM;

	(void)state;
	pr->checked = pr->managed = pr->online = 0;
	if (from_ahead(id, pr) == 0)
		return 0;
	pr->checked = pr->managed = pr->online = 0;
	if ((json = probe_body("InstanceIds", id)) == NULL)
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
	cJSON_free(json);
	if (out != NULL)
		ssm_host->free(out);
	return r;
}

/* Nothing asked ahead outlives the plugin. */
void
ssm_probe_fini(void)
{
	ahead_clear();
}
