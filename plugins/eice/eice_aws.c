/*
 * eice_aws.c - the AWS calls of the EICE plugin: DescribeInstances for
 * the instance's VPC, subnet and private address,
 * DescribeInstanceConnectEndpoints for its endpoint (EC2 query API), and
 * SendSSHPublicKey (EC2 Instance Connect, JSON 1.1).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <expat.h>

#include "eice.h"

#define EC2_VERSION	"2016-11-15"

const struct jc_host *eice_host;	/* set by init() in eice.c */
#define MAX_EPS		32

/* ---- XML: the fields of the items of one set -------------------------- */

struct walk {
	const char	*set;		/* "instancesSet" */
	int		 depth;		/* of the current element */
	int		 set_depth;	/* of <set>, 0 = outside */
	int		 item;		/* inside a direct item of set */
	char		 name[64];	/* field being read, "" = none */
	char		 text[256];
	size_t		 tlen;
	void		(*field)(void *, const char *name, const char *text);
	void		(*end_item)(void *);
	void		*arg;
};

static void
x_start(void *u, const XML_Char *el, const XML_Char **attr)
{
	struct walk *w = u;

	(void)attr;
	w->depth++;
	if (w->set_depth == 0 && strcmp(el, w->set) == 0)
		w->set_depth = w->depth;
	else if (w->set_depth && w->depth == w->set_depth + 1 &&
	    strcmp(el, "item") == 0)
		w->item = 1;
	else if (w->item && w->depth == w->set_depth + 2) {
		snprintf(w->name, sizeof(w->name), "%s", el);
		w->tlen = 0;
		w->text[0] = '\0';
	}
}

static void
x_text(void *u, const XML_Char *s, int n)
{
	struct walk *w = u;

	if (*w->name == '\0' || n <= 0)
		return;
	if (w->tlen + (size_t)n >= sizeof(w->text))
		n = (int)(sizeof(w->text) - 1 - w->tlen);
	memcpy(w->text + w->tlen, s, (size_t)n);
	w->tlen += (size_t)n;
	w->text[w->tlen] = '\0';
}

static void
x_end(void *u, const XML_Char *el)
{
	struct walk *w = u;

	(void)el;
	if (*w->name != '\0' && w->depth == w->set_depth + 2) {
		w->field(w->arg, w->name, w->text);
		*w->name = '\0';
	} else if (w->item && w->depth == w->set_depth + 1) {
		w->item = 0;
		if (w->end_item != NULL)
			w->end_item(w->arg);
	} else if (w->depth == w->set_depth)
		w->set_depth = 0;
	w->depth--;
}

static int
walk(const char *xml, size_t len, struct walk *w)
{
	XML_Parser p;
	int ok;

	if ((p = XML_ParserCreate("UTF-8")) == NULL)
		return JC_ERR_NOMEM;
	XML_SetUserData(p, w);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_text);
	ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : JC_ERR_PROTO;
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* ---- DescribeInstances ------------------------------------------------ */

struct inst_walk {
	struct eice_inst *in;
	int		  items;
};

static void
inst_field(void *arg, const char *name, const char *text)
{
	struct inst_walk *iw = arg;

	if (iw->items > 0)
		return;			/* the first instance only */
	if (strcmp(name, "vpcId") == 0)
		copy(iw->in->vpc, sizeof(iw->in->vpc), text);
	else if (strcmp(name, "subnetId") == 0)
		copy(iw->in->subnet, sizeof(iw->in->subnet), text);
	else if (strcmp(name, "privateIpAddress") == 0)
		copy(iw->in->ip, sizeof(iw->in->ip), text);
}

static void
inst_end(void *arg)
{
	((struct inst_walk *)arg)->items++;
}

/* <instanceState><name> is one level deeper: read it from the text. */
static void
inst_state(const char *xml, struct eice_inst *in)
{
	const char *s = strstr(xml, "<instanceState>"), *n, *e;

	if (s != NULL && (n = strstr(s, "<name>")) != NULL &&
	    (e = strstr(n, "</name>")) != NULL && e - n - 6 <
	    (long)sizeof(in->state))
		snprintf(in->state, sizeof(in->state), "%.*s",
		    (int)(e - n - 6), n + 6);
}

int
eice_parse_instance(const char *xml, size_t len, struct eice_inst *in)
{
	struct inst_walk iw = { in, 0 };
	struct walk w;
	int r;

	memset(in, 0, sizeof(*in));
	memset(&w, 0, sizeof(w));
	w.set = "instancesSet";
	w.field = inst_field;
	w.end_item = inst_end;
	w.arg = &iw;
	if ((r = walk(xml, len, &w)) != 0)
		return r;
	if (iw.items == 0)
		return JC_ERR_NOTFOUND;
	inst_state(xml, in);
	return 0;
}

static int
fail(int r, const char *what, const struct jc_aws_error *err)
{
	if (r == JC_ERR_INTR)
		return r;
	eice_log(JC_LOG_ERROR, "%s failed: %s", what,
	    eice_host->aws_explain(err));
	return r;
}

int
eice_describe_instance(const char *id, struct eice_inst *in)
{
	struct jc_aws_error err;
	char form[256], *out = NULL;
	int r;

	snprintf(form, sizeof(form), "Action=DescribeInstances&Version="
	    EC2_VERSION "&InstanceId.1=%s", id);
	if ((r = eice_host->aws_query("ec2", form, &out, &err)) != 0)
		return fail(r, "DescribeInstances", &err);
	r = eice_parse_instance(out, strlen(out), in);
	eice_host->free(out);
	if (r == JC_ERR_NOTFOUND) {
		eice_log(JC_LOG_ERROR, "instance %s not found", id);
		return r;
	}
	if (r != 0) {
		eice_log(JC_LOG_ERROR, "DescribeInstances: an answer that is "
		    "not EC2's XML");
		return r;
	}
	if (in->ip[0] == '\0' || in->vpc[0] == '\0') {
		eice_log(JC_LOG_ERROR, "%s has no private address in a VPC: an "
		    "EC2 Instance Connect Endpoint cannot reach it", id);
		return JC_ERR_UNREACHABLE;
	}
	return 0;
}

/* ---- DescribeInstanceConnectEndpoints --------------------------------- */

struct ep_walk {
	struct eice_ep	*eps;
	int		 n, max;
};

static void
ep_field(void *arg, const char *name, const char *text)
{
	struct ep_walk *ew = arg;
	struct eice_ep *e;

	if (ew->n >= ew->max)
		return;
	e = &ew->eps[ew->n];
	if (strcmp(name, "instanceConnectEndpointId") == 0)
		copy(e->id, sizeof(e->id), text);
	else if (strcmp(name, "dnsName") == 0)
		copy(e->dns, sizeof(e->dns), text);
	else if (strcmp(name, "vpcId") == 0)
		copy(e->vpc, sizeof(e->vpc), text);
	else if (strcmp(name, "subnetId") == 0)
		copy(e->subnet, sizeof(e->subnet), text);
	else if (strcmp(name, "state") == 0)
		copy(e->state, sizeof(e->state), text);
}

static void
ep_end(void *arg)
{
	struct ep_walk *ew = arg;

	if (ew->n < ew->max)
		ew->n++;
}

int
eice_parse_endpoints(const char *xml, size_t len, struct eice_ep *eps,
    int max)
{
	struct ep_walk ew = { eps, 0, max };
	struct walk w;
	int r;

	memset(eps, 0, sizeof(*eps) * (size_t)max);
	memset(&w, 0, sizeof(w));
	w.set = "instanceConnectEndpointSet";
	w.field = ep_field;
	w.end_item = ep_end;
	w.arg = &ew;
	if ((r = walk(xml, len, &w)) != 0)
		return r;
	return ew.n;
}

int
eice_find_endpoint(const char *id, const struct eice_inst *in,
    const char *want, struct eice_ep *out)
{
	struct jc_aws_error err;
	struct eice_ep eps[MAX_EPS];
	char form[256], *xml = NULL;
	int r, n, i, best = -1;

	if (want != NULL)
		snprintf(form, sizeof(form), "Action=DescribeInstanceConnect"
		    "Endpoints&Version=" EC2_VERSION "&InstanceConnectEndpointId"
		    ".1=%s", want);
	else
		snprintf(form, sizeof(form), "Action=DescribeInstanceConnect"
		    "Endpoints&Version=" EC2_VERSION "&Filter.1.Name=vpc-id&"
		    "Filter.1.Value.1=%s", in->vpc);
	if ((r = eice_host->aws_query("ec2", form, &xml, &err)) != 0)
		return fail(r, "DescribeInstanceConnectEndpoints", &err);
	n = eice_parse_endpoints(xml, strlen(xml), eps, MAX_EPS);
	eice_host->free(xml);
	if (n < 0) {
		eice_log(JC_LOG_ERROR, "DescribeInstanceConnectEndpoints: an "
		    "answer that is not EC2's XML");
		return n;
	}
	/* As AWS's CLI: a ready one of the subnet first, then of the VPC. */
	for (i = 0; i < n; i++) {
		if (strcmp(eps[i].state, "create-complete") != 0 ||
		    strcmp(eps[i].vpc, in->vpc) != 0 || eps[i].dns[0] == '\0')
			continue;
		if (best < 0 || (strcmp(eps[i].subnet, in->subnet) == 0 &&
		    strcmp(eps[best].subnet, in->subnet) != 0))
			best = i;
	}
	if (best < 0) {
		if (want != NULL)
			eice_log(JC_LOG_ERROR, "EC2 Instance Connect Endpoint "
			    "%s is not ready in %s, the VPC of %s", want,
			    in->vpc, id);
		else
			eice_log(JC_LOG_ERROR, "no EC2 Instance Connect "
			    "Endpoint in %s, the VPC of %s: create one (aws "
			    "ec2 create-instance-connect-endpoint --subnet-id "
			    "%s), or use --via ssm / ssh", in->vpc, id,
			    in->subnet[0] ? in->subnet : "SUBNET");
		return JC_ERR_UNREACHABLE;
	}
	*out = eps[best];
	eice_log(JC_LOG_VERBOSE, "endpoint %s (%s) for %s in %s", out->id,
	    out->dns, id, in->vpc);
	return 0;
}

/* ---- SendSSHPublicKey ------------------------------------------------- */

int
eice_push_key(const char *id, const char *user, const char *pubkey)
{
	struct jc_aws_error err;
	cJSON *o;
	char *body = NULL, *out = NULL;
	int r = JC_ERR_NOMEM;

	if ((o = cJSON_CreateObject()) == NULL)
		return r;
	if (cJSON_AddStringToObject(o, "InstanceId", id) == NULL ||
	    cJSON_AddStringToObject(o, "InstanceOSUser", user) == NULL ||
	    cJSON_AddStringToObject(o, "SSHPublicKey", pubkey) == NULL ||
	    (body = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	r = eice_host->aws_json(EICE_SERVICE,
	    "AWSEC2InstanceConnectService.SendSSHPublicKey", body, &out, &err);
	if (r != 0) {
		(void)fail(r, "SendSSHPublicKey", &err);
		goto out;
	}
	eice_log(JC_LOG_VERBOSE, "pushed a one-time key for %s@%s (valid 60 "
	    "seconds)", user, id);
 out:
	cJSON_Delete(o);
	cJSON_free(body);
	if (out != NULL)
		eice_host->free(out);
	return r;
}
