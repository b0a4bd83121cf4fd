/*
 * resolve.c - TARGET -> one EC2 instance, started if asked, and the
 * choice between SSM and SSH.
 *
 * A stack is searched the way its user thinks of it: the instances it
 * created, those of its nested stacks and the InService members of its
 * Auto Scaling groups; when CloudFormation cannot tell (no such stack,
 * no permission, no instance among its resources) the instances tagged
 * aws:cloudformation:stack-name=NAME; a bare word finally tries the Name
 * tag.  Several matches are listed, never silently picked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "aws_answer.h"
#include "config.h"
#include "event.h"
#include "jc.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "resolve.h"

#define MAX_MATCH	64		/* instances considered per search */
#define MAX_RES		512		/* resources read per stack */
#define MAX_NEST	5		/* nested stack depth */
#define MAX_PAGES	20
#define EC2_VERSION	"2016-11-15"
#define STACK_TAG	"aws:cloudformation:stack-name"
#define CFN_VERSION	"2010-05-15"
#define ASG_VERSION	"2011-01-01"
#define START_TIMEOUT_S	600
#define SSM_TIMEOUT_S	300
#define PROGRESS_S	15		/* "still waiting" line this often */

/* A form body being built; overflow is reported once at the end. */
struct form {
	char	buf[16384];
	size_t	n;
	int	overflow;
};

struct matches {
	struct jc_instance	in[MAX_MATCH];
	size_t			n;
};

/* The ids found in stacks, with what was seen on the way. */
struct idset {
	char	id[MAX_MATCH][32];
	size_t	n;
	int	asg_other;		/* ASG members not InService */
};

static void
form_init(struct form *f, const char *action, const char *version)
{
	f->overflow = 0;
	f->n = (size_t)snprintf(f->buf, sizeof(f->buf),
	    "Action=%s&Version=%s", action, version);
}

static void
form_add(struct form *f, const char *key, const char *value)
{
	char enc[4096];
	int n;

	if (f->overflow || jc_aws_form_escape(enc, sizeof(enc), value) != 0) {
		f->overflow = 1;
		return;
	}
	n = snprintf(f->buf + f->n, sizeof(f->buf) - f->n, "&%s=%s", key, enc);
	if (n < 0 || (size_t)n >= sizeof(f->buf) - f->n) {
		f->overflow = 1;
		return;
	}
	f->n += (size_t)n;
}

/* Log an AWS failure once, in plain words. */
static int
aws_fail(int r, const char *what, const struct jc_aws_error *err)
{
	if (r == JC_ERR_INTR)
		return r;
	jc_error("%s: %s", what, jc_aws_explain(err));
	return r == JC_ERR_AWS_AUTH || r == JC_ERR_NOTFOUND ||
	    r == JC_ERR_UNREACHABLE || r == JC_ERR_NOMEM || r == JC_ERR_IO ?
	    r : JC_ERR_AWS;
}

/* A query call whose answer is parsed as XML. */
static int
query_xml(const char *service, const struct form *f, struct jc_xml **root,
    struct jc_aws_error *err)
{
	char *out = NULL;
	int r;

	if (f->overflow) {
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "request too "
		    "large");
		return JC_ERR_USAGE;
	}
	if ((r = jc_aws_query(service, f->buf, &out, err)) != 0)
		return r;
	r = jc_xml_parse(out, strlen(out), root);
	free(out);
	if (r == JC_ERR_PROTO) {
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "%s answered "
		    "something that is not XML", service);
	}
	return r;
}

/* ---- EC2 ------------------------------------------------------------- */

/* DescribeInstances with the parameters already in f, every page. */
static int
describe(struct form *f, struct matches *m, struct jc_aws_error *err)
{
	struct jc_xml *root = NULL;
	char token[2048];
	size_t base = f->n, n;
	int r, page;

	m->n = 0;
	for (page = 0; page < MAX_PAGES; page++) {
		if ((r = query_xml("ec2", f, &root, err)) != 0)
			return r;
		r = jc_aws_ec2_instances(root, jc_aws_region(), m->in + m->n,
		    MAX_MATCH - m->n, &n, token, sizeof(token));
		jc_xml_free(root);
		root = NULL;
		if (r != 0) {
			memset(err, 0, sizeof(*err));
			snprintf(err->message, sizeof(err->message), "EC2 "
			    "answered DescribeInstances with something else");
			return JC_ERR_PROTO;
		}
		m->n += n;
		if (*token == '\0' || m->n == MAX_MATCH)
			break;
		f->n = base;
		f->buf[base] = '\0';
		form_add(f, "NextToken", token);
	}
	return 0;
}

/* Instances with a tag (or instance-id) filter, not terminated ones. */
static int
describe_filter(const char *name, const char *const *values, size_t nv,
    struct matches *m, struct jc_aws_error *err)
{
	static const char *const live[] = { "pending", "running", "stopping",
	    "stopped" };
	struct form *f;
	char k[64];
	size_t i;
	int r;

	if ((f = malloc(sizeof(*f))) == NULL)
		return JC_ERR_NOMEM;
	form_init(f, "DescribeInstances", EC2_VERSION);
	form_add(f, "Filter.1.Name", name);
	for (i = 0; i < nv; i++) {
		snprintf(k, sizeof(k), "Filter.1.Value.%zu", i + 1);
		form_add(f, k, values[i]);
	}
	form_add(f, "Filter.2.Name", "instance-state-name");
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		snprintf(k, sizeof(k), "Filter.2.Value.%zu", i + 1);
		form_add(f, k, live[i]);
	}
	r = describe(f, m, err);
	free(f);
	return r;
}

static int
describe_tag(const char *key, const char *value, struct matches *m,
    struct jc_aws_error *err)
{
	char name[160];
	const char *v[1] = { value };

	snprintf(name, sizeof(name), "tag:%s", key);
	return describe_filter(name, v, 1, m, err);
}

/* One instance by id: the real NotFound when it does not exist. */
static int
describe_id(const char *id, struct matches *m, struct jc_aws_error *err)
{
	struct form *f;
	int r;

	if ((f = malloc(sizeof(*f))) == NULL)
		return JC_ERR_NOMEM;
	form_init(f, "DescribeInstances", EC2_VERSION);
	form_add(f, "InstanceId.1", id);
	r = describe(f, m, err);
	free(f);
	return r;
}

/* ---- CloudFormation and Auto Scaling --------------------------------- */

static void
idset_add(struct idset *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->id[i], id) == 0)
			return;
	if (s->n < MAX_MATCH && strlen(id) < sizeof(s->id[0]))
		snprintf(s->id[s->n++], sizeof(s->id[0]), "%s", id);
}

static int
asg_ids(const char *asg, struct idset *s, struct jc_aws_error *err)
{
	struct jc_aws_asg_member mem[MAX_MATCH];
	struct jc_xml *root = NULL;
	struct form *f;
	size_t n, i;
	int r;

	if ((f = malloc(sizeof(*f))) == NULL)
		return JC_ERR_NOMEM;
	form_init(f, "DescribeAutoScalingGroups", ASG_VERSION);
	form_add(f, "AutoScalingGroupNames.member.1", asg);
	r = query_xml("autoscaling", f, &root, err);
	free(f);
	if (r != 0)
		return r;
	if (jc_aws_asg_instances(root, mem, MAX_MATCH, &n) != 0) {
		jc_xml_free(root);
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "Auto Scaling "
		    "answered something else");
		return JC_ERR_PROTO;
	}
	jc_xml_free(root);
	for (i = 0; i < n; i++) {
		if (strcmp(mem[i].lifecycle, "InService") == 0)
			idset_add(s, mem[i].id);
		else {
			s->asg_other++;
			jc_verbose("Auto Scaling group %s: %s is %s, not "
			    "InService", asg, mem[i].id, mem[i].lifecycle);
		}
	}
	jc_verbose("Auto Scaling group %s: %zu instance(s)", asg, n);
	return 0;
}

/* "arn:aws:cloudformation:R:A:stack/NAME/uuid" -> NAME, for messages. */
static const char *
stack_label(const char *stack, char *buf, size_t len)
{
	const char *p, *e;

	if (strncmp(stack, "arn:", 4) != 0 ||
	    (p = strstr(stack, ":stack/")) == NULL)
		return stack;
	p += 7;
	if ((e = strchr(p, '/')) == NULL)
		e = p + strlen(p);
	snprintf(buf, len, "%.*s", (int)(e - p), p);
	return buf;
}

/*
 * The instances of a stack, its nested stacks and its Auto Scaling
 * groups.  Returns 0, JC_ERR_NOTFOUND when the stack does not exist, or
 * the call's error.
 */
static int
stack_ids(const char *stack, int depth, struct idset *s,
    struct jc_aws_error *err)
{
	struct jc_aws_resource *res = NULL;
	struct jc_xml *root = NULL;
	struct form *f = NULL;
	char lbuf[256];
	const char *label = stack_label(stack, lbuf, sizeof(lbuf));
	size_t n = 0, i;
	int r;

	if ((f = malloc(sizeof(*f))) == NULL ||
	    (res = calloc(MAX_RES, sizeof(*res))) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	form_init(f, "DescribeStackResources", CFN_VERSION);
	form_add(f, "StackName", stack);
	if ((r = query_xml("cloudformation", f, &root, err)) != 0)
		goto out;
	if (jc_aws_stack_resources(root, res, MAX_RES, &n) != 0) {
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "CloudFormation "
		    "answered something else");
		r = JC_ERR_PROTO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (res[i].physical[0] == '\0' ||
		    strncmp(res[i].status, "DELETE_", 7) == 0)
			continue;
		if (strcmp(res[i].type, "AWS::EC2::Instance") == 0) {
			jc_verbose("stack %s: %s is instance %s", label,
			    res[i].logical, res[i].physical);
			idset_add(s, res[i].physical);
		} else if (strcmp(res[i].type,
		    "AWS::CloudFormation::Stack") == 0) {
			if (depth + 1 >= MAX_NEST) {
				jc_warn("stack %s: nested stacks deeper than "
				    "%d are not searched", label, MAX_NEST);
				continue;
			}
			jc_verbose("stack %s: nested stack %s", label,
			    res[i].logical);
			r = stack_ids(res[i].physical, depth + 1, s, err);
			/* A nested stack being deleted is not an error. */
			if (r != 0 && r != JC_ERR_NOTFOUND)
				goto out;
		} else if (strcmp(res[i].type,
		    "AWS::AutoScaling::AutoScalingGroup") == 0) {
			jc_verbose("stack %s: Auto Scaling group %s", label,
			    res[i].physical);
			if ((r = asg_ids(res[i].physical, s, err)) != 0)
				goto out;
		}
	}
	r = 0;
 out:
	jc_xml_free(root);
	free(res);
	free(f);
	return r;
}

/* ---- matching -------------------------------------------------------- */

static int
ambiguous(const char *spec, const struct matches *m)
{
	size_t i;

	jc_error("%s matches %zu instances in %s; name one by its id:", spec,
	    m->n, jc_aws_region());
	for (i = 0; i < m->n; i++)
		jc_error("  %-20s %-24s %-13s launched %s", m->in[i].id,
		    m->in[i].name[0] ? m->in[i].name : "(no Name tag)",
		    m->in[i].state, m->in[i].launch_time[0] ?
		    m->in[i].launch_time : "?");
	return JC_ERR_NOTFOUND;
}

static void
searched(char *buf, size_t len, const char *fmt, ...) JC_PRINTF(3, 4);

/* Append "; <what>" to the list of places searched. */
static void
searched(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n > 0 && n + 2 < len) {
		buf[n++] = ';';
		buf[n++] = ' ';
		buf[n] = '\0';
	}
	if (n < len) {
		va_start(ap, fmt);
		vsnprintf(buf + n, len - n, fmt, ap);
		va_end(ap);
	}
}

/*
 * stack:NAME and bare words.  Fills m; "what" says what was searched.
 *
 * CloudFormation tags what it creates with aws:cloudformation:stack-name,
 * so one DescribeInstances by that tag usually answers alone: one round
 * trip instead of two (three with the connection) on the way to the URL,
 * 100 ms each from a distant region.  Anything but exactly one live
 * instance (none, a stack of several, an Auto Scaling group in motion,
 * instances of nested stacks, which carry their own stack's name) is
 * settled by the stack's resources as before.
 */
static int
find_stack(const char *name, int word, struct matches *m, char *what,
    size_t wlen)
{
	struct jc_aws_error err;
	struct idset *s;
	const char **ids = NULL;
	char lbuf[256];
	const char *label = stack_label(name, lbuf, sizeof(lbuf));
	size_t i;
	int r, tagged;

	m->n = 0;
	if ((r = describe_tag(STACK_TAG, label, m,
	    &err)) != 0)
		return aws_fail(r, "DescribeInstances", &err);
	if (m->n == 1) {
		jc_verbose("stack %s: instance %s (by its "
		    "aws:cloudformation:stack-name tag)", label, m->in[0].id);
		searched(what, wlen, "instances tagged %s=%s",
		    STACK_TAG, label);
		return 0;
	}
	tagged = m->n > 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return JC_ERR_NOMEM;
	m->n = 0;
	r = stack_ids(name, 0, s, &err);
	if (r == JC_ERR_NOTFOUND) {
		jc_verbose("no CloudFormation stack %s: %s", name, err.message);
		searched(what, wlen, "CloudFormation stack %s%s (no such "
		    "stack)", name, "");
	} else if (r == JC_ERR_AWS_AUTH && (strncmp(err.code, "AccessDenied",
	    12) == 0 || strcmp(err.code, "UnauthorizedOperation") == 0)) {
		/* Without CloudFormation rights the tag still works. */
		jc_verbose("cannot read stack %s (%s); searching by tag "
		    "instead", name, jc_aws_explain(&err));
		searched(what, wlen, "CloudFormation stack %s%s (not "
		    "allowed to read it)", name, "");
	} else if (r != 0) {
		r = aws_fail(r, "reading CloudFormation stack", &err);
		goto out;
	} else if (s->n == 0) {
		searched(what, wlen, "CloudFormation stack %s%s", name,
		    s->asg_other ? " (its Auto Scaling group has no InService "
		    "instance)" : " (no instance among its resources)");
	} else {
		/* instance-id filter: a vanished id is no error. */
		if ((ids = calloc(s->n, sizeof(*ids))) == NULL) {
			r = JC_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < s->n; i++)
			ids[i] = s->id[i];
		if ((r = describe_filter("instance-id", ids, s->n, m,
		    &err)) != 0) {
			r = aws_fail(r, "DescribeInstances", &err);
			goto out;
		}
		if (m->n > 0) {
			r = 0;
			goto out;
		}
		searched(what, wlen, "CloudFormation stack %s%s", name,
		    " (its instances are gone)");
	}
	/* Several tagged but none in the stack: the tag decides. */
	if (tagged && (r = describe_tag(STACK_TAG,
	    label, m, &err)) != 0) {
		r = aws_fail(r, "DescribeInstances", &err);
		goto out;
	}
	searched(what, wlen, "instances tagged %s=%s",
	    STACK_TAG, label);
	if (m->n == 0 && word) {
		if ((r = describe_tag("Name", name, m, &err)) != 0) {
			r = aws_fail(r, "DescribeInstances", &err);
			goto out;
		}
		searched(what, wlen, "instances tagged %s=%s", "Name", name);
	}
	r = 0;
 out:
	free(ids);
	free(s);
	return r;
}

/* ---- SSM ------------------------------------------------------------- */

/*
 * Fill the ssm_* fields from the method that needs an agent (its probe:
 * SSM's DescribeInstanceInformation); a refusal is not fatal (SSH may
 * do).  No such method loaded: nothing is known, nothing asked.
 */
/* The loaded method that needs an agent and can probe for it, or -1. */
static int
agent_method(const struct jc_plugin **ps, void **sts, int max)
{
	int i, n;

	n = jc_plugin_methods(ps, sts, max);
	for (i = 0; i < n; i++)
		if ((jc_plugin_caps(ps[i]) & JC_CAP_NEEDS_AGENT) &&
		    JC_PLUGIN_HAS(ps[i], probe) && ps[i]->probe != NULL)
			return i;
	return -1;
}

/*
 * Let that method ask about the target while EC2 is asked which
 * instance it is: the two round trips overlap (and over a new
 * connection each, which the calls after them then reuse).
 */
static void
probe_ahead(const struct jc_tspec *t)
{
	const struct jc_plugin *ps[8];
	const char *key;
	void *sts[8];
	int i;

	if ((i = agent_method(ps, sts, 8)) < 0 ||
	    !JC_PLUGIN_HAS(ps[i], probe_ahead) || ps[i]->probe_ahead == NULL)
		return;
	switch (t->kind) {
	case JC_T_INSTANCE:
		key = NULL;
		break;
	case JC_T_STACK:
	case JC_T_WORD:
		key = STACK_TAG;
		break;
	case JC_T_NAME:
		key = "Name";
		break;
	case JC_T_TAG:
		key = t->key;
		break;
	default:
		return;
	}
	ps[i]->probe_ahead(sts[i], key, t->value);
}

static int
ssm_info(struct jc_instance *in, int quiet)
{
	const struct jc_plugin *ps[8];
	struct jc_probe pr;
	void *sts[8];
	int i, r;

	in->ssm_checked = 0;
	if ((i = agent_method(ps, sts, 8)) < 0)
		return 0;
	memset(&pr, 0, sizeof(pr));
	pr.size = sizeof(pr);
	r = ps[i]->probe(sts[i], in->id, &pr);
	if (r == JC_ERR_INTR || r == JC_ERR_NOMEM)
		return r;
	if (r != 0 || !pr.checked) {
		if (!quiet)
			jc_verbose("cannot ask %s about %s: %s",
			    jc_plugin_label(ps[i]), in->id, pr.why);
		return 0;
	}
	in->ssm_managed = pr.managed;
	in->ssm_online = pr.online;
	if (pr.agent_version[0] != '\0')
		snprintf(in->agent_version, sizeof(in->agent_version), "%s",
		    pr.agent_version);
	/* A hybrid node is known only to the agent's service: take it all. */
	if (pr.managed && strncmp(in->id, "mi-", 3) == 0) {
		snprintf(in->state, sizeof(in->state), "%s", pr.online ?
		    "running" : "offline");
		if (pr.name[0] != '\0')
			snprintf(in->name, sizeof(in->name), "%s", pr.name);
		if (pr.private_ip[0] != '\0')
			snprintf(in->private_ip, sizeof(in->private_ip), "%s",
			    pr.private_ip);
		if (pr.platform[0] != '\0')
			snprintf(in->platform, sizeof(in->platform), "%s",
			    pr.platform);
	}
	in->ssm_checked = 1;
	return 0;
}

/* ---- lifecycle ------------------------------------------------------- */

/* Sleep in the loop (other sources keep moving); JC_ERR_INTR on ^C. */
static int
nap(int ms)
{
	return jc_loop_run(NULL, ms) == JC_ERR_INTR ? JC_ERR_INTR : 0;
}

static int
refresh(struct jc_instance *in)
{
	struct jc_aws_error err;
	struct matches *m;
	int r;

	if ((m = malloc(sizeof(*m))) == NULL)
		return JC_ERR_NOMEM;
	if ((r = describe_id(in->id, m, &err)) != 0)
		r = aws_fail(r, "DescribeInstances", &err);
	else if (m->n != 1) {
		jc_error("instance %s vanished from DescribeInstances", in->id);
		r = JC_ERR_NOTFOUND;
	} else
		*in = m->in[0];
	free(m);
	return r;
}

/* Wait until the state is `want`; progress on stderr. */
static int
wait_state(struct jc_instance *in, const char *want, int timeout_s)
{
	int64_t t0 = jc_now_ms(), said = t0;
	char last[sizeof(in->state)];
	int delay = 1000, r;

	snprintf(last, sizeof(last), "%s", in->state);
	while (strcmp(in->state, want) != 0) {
		if (jc_now_ms() - t0 > (int64_t)timeout_s * 1000) {
			jc_error("instance %s is still %s after %d s; giving "
			    "up (raise -o aws.start_timeout=SECONDS)", in->id,
			    in->state, timeout_s);
			return JC_ERR_TIMEOUT;
		}
		if ((r = nap(delay)) != 0)
			return r;
		if (delay < 5000)
			delay *= 2;
		if ((r = refresh(in)) != 0)
			return r;
		if (strcmp(in->state, last) != 0 ||
		    jc_now_ms() - said >= PROGRESS_S * 1000) {
			jc_info("instance %s: %s (%lld s)", in->id, in->state,
			    (long long)((jc_now_ms() - t0) / 1000));
			snprintf(last, sizeof(last), "%s", in->state);
			said = jc_now_ms();
		}
		if (strcmp(in->state, "terminated") == 0 ||
		    strcmp(in->state, "shutting-down") == 0) {
			jc_error("instance %s is %s; it cannot be started "
			    "again", in->id, in->state);
			return JC_ERR_UNREACHABLE;
		}
	}
	return 0;
}

static int
start_instance(struct jc_instance *in)
{
	struct jc_aws_error err;
	struct jc_xml *root = NULL;
	struct form f;
	const char *now;
	int r;

	form_init(&f, "StartInstances", EC2_VERSION);
	form_add(&f, "InstanceId.1", in->id);
	jc_info("starting instance %s (%s)", in->id,
	    in->name[0] ? in->name : "no Name tag");
	if ((r = query_xml("ec2", &f, &root, &err)) != 0)
		return aws_fail(r, "StartInstances", &err);
	now = jc_xml_text(root, "instancesSet/item/currentState/name");
	if (*now != '\0')
		snprintf(in->state, sizeof(in->state), "%s", now);
	jc_xml_free(root);
	return 0;
}

/* Wait for PingStatus Online after a start; fine if never managed. */
static int
wait_ssm(struct jc_instance *in)
{
	int timeout_s = (int)jc_config_num("aws.ssm_timeout", SSM_TIMEOUT_S);
	int64_t t0 = jc_now_ms(), said = t0;
	int delay = 1000, r;

	if ((r = ssm_info(in, 0)) != 0)
		return r;
	if (!in->ssm_checked || in->ssm_online)
		return 0;
	if (!in->ssm_managed) {
		jc_verbose("%s is not registered with SSM; not waiting for "
		    "its agent", in->id);
		return 0;
	}
	jc_info("instance %s: waiting for its SSM agent to come online",
	    in->id);
	while (!in->ssm_online) {
		if (jc_now_ms() - t0 > (int64_t)timeout_s * 1000) {
			jc_warn("the SSM agent of %s is not online after %d s",
			    in->id, timeout_s);
			return 0;
		}
		if ((r = nap(delay)) != 0)
			return r;
		if (delay < 5000)
			delay *= 2;
		if ((r = ssm_info(in, 1)) != 0)
			return r;
		if (jc_now_ms() - said >= PROGRESS_S * 1000) {
			jc_info("instance %s: SSM agent not online yet "
			    "(%lld s)", in->id,
			    (long long)((jc_now_ms() - t0) / 1000));
			said = jc_now_ms();
		}
	}
	jc_info("instance %s: SSM agent online", in->id);
	return 0;
}

static int
lifecycle(struct jc_instance *in, int start, int need_ssm)
{
	int timeout_s = (int)jc_config_num("aws.start_timeout", START_TIMEOUT_S);
	int waited = 0, r;

	if (strcmp(in->state, "running") == 0)
		return 0;
	if (strcmp(in->state, "terminated") == 0) {
		jc_error("instance %s is terminated; it cannot be started "
		    "again (a new one needs a new id)", in->id);
		return JC_ERR_UNREACHABLE;
	}
	if (strcmp(in->state, "shutting-down") == 0) {
		jc_error("instance %s is shutting down (being terminated); it "
		    "cannot be started again", in->id);
		return JC_ERR_UNREACHABLE;
	}
	if (strcmp(in->state, "stopping") == 0) {
		if (!start) {
			jc_error("instance %s is stopping; once it has "
			    "stopped, start it with --start-instance", in->id);
			return JC_ERR_UNREACHABLE;
		}
		jc_info("instance %s is stopping; waiting for it to stop "
		    "before starting it", in->id);
		if ((r = wait_state(in, "stopped", timeout_s)) != 0)
			return r;
	}
	if (strcmp(in->state, "stopped") == 0) {
		if (!start) {
			jc_error("instance %s is stopped; start it with "
			    "--start-instance", in->id);
			return JC_ERR_UNREACHABLE;
		}
		if ((r = start_instance(in)) != 0)
			return r;
		waited = 1;
	}
	if (strcmp(in->state, "pending") == 0) {
		jc_info("instance %s is pending; waiting for it to run "
		    "(up to %d s)", in->id, timeout_s);
		waited = 1;
	} else if (strcmp(in->state, "running") != 0 && !waited) {
		jc_error("instance %s is in an unknown state \"%s\"", in->id,
		    in->state);
		return JC_ERR_UNREACHABLE;
	}
	if ((r = wait_state(in, "running", timeout_s)) != 0)
		return r;
	jc_info("instance %s is running", in->id);
	/* Public addresses are given at start: read them again. */
	if ((r = refresh(in)) != 0)
		return r;
	if (need_ssm && waited)
		return wait_ssm(in);
	return 0;
}

/* ---- after a lost connection ------------------------------------------ */

/* refresh() without a word: AWS may be out of reach with the instance. */
static int
peek(struct jc_instance *in)
{
	struct jc_aws_error err;
	struct matches *m;
	int r;

	if ((m = malloc(sizeof(*m))) == NULL)
		return JC_ERR_NOMEM;
	if ((r = describe_id(in->id, m, &err)) != 0)
		jc_verbose("cannot ask EC2 about %s: %s", in->id,
		    jc_aws_explain(&err));
	else if (m->n != 1)
		r = JC_ERR_NOTFOUND;
	else
		*in = m->in[0];
	free(m);
	return r;
}

static int
gone_for_good(const struct jc_instance *in)
{
	return strcmp(in->state, "terminated") == 0 ||
	    strcmp(in->state, "shutting-down") == 0;
}

int
jc_resolve_back(struct jc_instance *in, int start, int need_ssm, int *waited)
{
	int timeout_s = (int)jc_config_num("aws.start_timeout", START_TIMEOUT_S);
	int64_t started = 0;
	int delay = 1000, r;

	*waited = 0;
	if ((r = peek(in)) == JC_ERR_NOTFOUND) {
		jc_error("instance %s is gone (terminated); giving up", in->id);
		return JC_ERR_UNREACHABLE;
	}
	if (r != 0)
		return r == JC_ERR_INTR || r == JC_ERR_NOMEM ? r : 0;
	while (strcmp(in->state, "running") != 0) {
		if (gone_for_good(in)) {
			jc_error("instance %s is %s; it cannot come back, "
			    "giving up", in->id, in->state);
			return JC_ERR_UNREACHABLE;
		}
		if (!*waited) {
			/* Said once; the states in between only at -v. */
			if (start || strcmp(in->state, "pending") == 0)
				jc_warn("instance %s is %s; waiting for it to "
				    "run again%s", in->id, in->state, start &&
				    strcmp(in->state, "pending") != 0 ?
				    " (--start-instance: starting it)" : "");
			else
				jc_warn("instance %s is %s; waiting until it "
				    "is started again (--start-instance "
				    "starts it)", in->id, in->state);
			jc_event("instance", "instance_id", in->id, "state",
			    in->state, (char *)NULL);
			*waited = 1;
		} else
			jc_verbose("instance %s: %s", in->id, in->state);
		if (start && started == 0 &&
		    strcmp(in->state, "stopped") == 0) {
			if ((r = start_instance(in)) == JC_ERR_INTR)
				return r;
			if (r == 0)
				started = jc_now_ms();
		}
		if (started > 0 && jc_now_ms() - started >
		    (int64_t)timeout_s * 1000) {
			jc_error("instance %s is still %s %d s after it was "
			    "started; giving up (raise -o "
			    "aws.start_timeout=SECONDS)", in->id, in->state,
			    timeout_s);
			return JC_ERR_TIMEOUT;
		}
		if ((r = nap(delay)) != 0)
			return r;
		if (delay < 5000)
			delay *= 2;
		if ((r = peek(in)) == JC_ERR_INTR || r == JC_ERR_NOMEM)
			return r;
	}
	if (!*waited)
		return 0;
	jc_info("instance %s is running again%s%s", in->id,
	    *in->public_ip ? " at " : "", in->public_ip);
	jc_event("instance", "instance_id", in->id, "state", in->state,
	    (char *)NULL);
	return need_ssm ? wait_ssm(in) : 0;
}

/* ---- entry points ---------------------------------------------------- */

static int
find_hybrid(const char *id, struct jc_instance *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%.31s", id);
	snprintf(out->region, sizeof(out->region), "%s", jc_aws_region());
	if (ssm_info(out, 0) != 0)
		return JC_ERR_NOMEM;
	if (!out->ssm_checked) {
		jc_error("cannot look up %s: SSM did not answer (see -v)", id);
		return JC_ERR_AWS;
	}
	if (!out->ssm_managed) {
		jc_error("no managed node %s in %s", id, jc_aws_region());
		return JC_ERR_NOTFOUND;
	}
	return 0;
}

int
jc_resolve_instance(const struct jc_tspec *t, int start, int need_ssm,
    struct jc_instance *out)
{
	struct jc_aws_error err;
	struct matches *m = NULL;
	char what[1024] = "";
	int r;

	if (jc_aws_region() == NULL) {
		jc_error("no AWS region: pass --region, set AWS_REGION, or put "
		    "region in the AWS profile");
		return JC_ERR_AWS_AUTH;
	}
	if (t->kind == JC_T_INSTANCE && strncmp(t->value, "mi-", 3) == 0)
		return (r = find_hybrid(t->value, out)) != 0 ? r :
		    jc_user_infer(out);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return JC_ERR_NOMEM;
	if (need_ssm)
		probe_ahead(t);
	switch (t->kind) {
	case JC_T_INSTANCE:
		r = describe_id(t->value, m, &err);
		if (r == JC_ERR_NOTFOUND) {
			jc_error("no instance %s in %s (%s)", t->value,
			    jc_aws_region(), err.message);
			goto out;
		}
		if (r != 0) {
			r = aws_fail(r, "DescribeInstances", &err);
			goto out;
		}
		searched(what, sizeof(what), "instance %s%s", t->value, "");
		break;
	case JC_T_STACK:
	case JC_T_WORD:
		if ((r = find_stack(t->value, t->kind == JC_T_WORD, m, what,
		    sizeof(what))) != 0)
			goto out;
		break;
	case JC_T_NAME:
		if ((r = describe_tag("Name", t->value, m, &err)) != 0) {
			r = aws_fail(r, "DescribeInstances", &err);
			goto out;
		}
		searched(what, sizeof(what), "instances tagged %s=%s", "Name",
		    t->value);
		break;
	case JC_T_TAG:
		if ((r = describe_tag(t->key, t->value, m, &err)) != 0) {
			r = aws_fail(r, "DescribeInstances", &err);
			goto out;
		}
		searched(what, sizeof(what), "instances tagged %s=%s", t->key,
		    t->value);
		break;
	default:
		jc_error("not an AWS target");
		r = JC_ERR_USAGE;
		goto out;
	}
	if (m->n == 0) {
		jc_error("no instance found for %s in %s: searched %s",
		    t->value, jc_aws_region(), what);
		r = JC_ERR_NOTFOUND;
		goto out;
	}
	if (m->n > 1) {
		r = ambiguous(t->value, m);
		goto out;
	}
	jc_verbose("%s -> %s (%s, %s)", t->value, m->in[0].id,
	    m->in[0].name[0] ? m->in[0].name : "no Name tag", m->in[0].state);
	if ((r = lifecycle(&m->in[0], start, need_ssm)) != 0)
		goto out;
	if (need_ssm && !m->in[0].ssm_checked &&
	    (r = ssm_info(&m->in[0], 0)) != 0)
		goto out;
	/* No user given: the AMI's (cached after the first time). */
	if ((r = jc_user_infer(&m->in[0])) != 0)
		goto out;
	*out = m->in[0];
	r = 0;
 out:
	if (r != 0)
		(void)jc_user_infer(NULL);	/* nothing to learn it from */
	free(m);
	return r;
}

/* The instance's address for SSH-like methods, "" when none. */
static const char *
public_addr(const struct jc_instance *in)
{
	return in->public_dns[0] ? in->public_dns : in->public_ip;
}

/* Does the instance offer what plugin p needs? */
static int
meets(const struct jc_instance *in, const struct jc_plugin *p)
{
	uint32_t c = jc_plugin_caps(p);

	if ((c & JC_CAP_NEEDS_AGENT) && !in->ssm_online)
		return 0;
	if ((c & JC_CAP_NEEDS_HOST) && *public_addr(in) == '\0')
		return 0;
	if ((c & JC_CAP_NEEDS_PRIVATE_IP) && in->private_ip[0] == '\0')
		return 0;
	return 1;
}

/* --via NAME: the method the user chose, said why it may not work. */
static int
via_named(const struct jc_instance *in, const struct jc_plugin *p)
{
	uint32_t c = jc_plugin_caps(p);
	const char *label = jc_plugin_label(p);

	if (c & JC_CAP_NEEDS_AGENT) {
		if (in->ssm_checked && !in->ssm_managed) {
			jc_error("%s is not managed by SSM in %s (no agent has "
			    "registered): attach an instance profile with "
			    "AmazonSSMManagedInstanceCore, or use --via ssh",
			    in->id, in->region);
			return JC_ERR_UNREACHABLE;
		}
		if (in->ssm_checked && !in->ssm_online)
			jc_warn("the SSM agent of %s is not online; trying "
			    "anyway", in->id);
		jc_verbose("access: %s to %s (--via %s)", label, in->id,
		    p->name);
		return 0;
	}
	if ((c & JC_CAP_NEEDS_PRIVATE_IP) && in->private_ip[0] == '\0') {
		jc_error("%s has no private address in a VPC: %s cannot reach "
		    "it", in->id, label);
		return JC_ERR_UNREACHABLE;
	}
	if (c & JC_CAP_NEEDS_HOST) {
		if (*public_addr(in) == '\0')
			return JC_ERR_UNREACHABLE;	/* said by the caller */
		jc_verbose("access: %s to %s (--via %s)", label,
		    public_addr(in), p->name);
		return 0;
	}
	jc_verbose("access: %s to %s (--via %s)", label, in->id, p->name);
	return 0;
}

int
jc_resolve_via(const struct jc_instance *in, const struct jc_plugin *const *ps,
    int n, int named)
{
	const char *addr = public_addr(in);
	int i, best = -1, r;

	if (named) {
		if ((r = via_named(in, ps[0])) == 0)
			return 0;
		if (r != JC_ERR_UNREACHABLE || *addr != '\0' ||
		    !(jc_plugin_caps(ps[0]) & JC_CAP_NEEDS_HOST))
			return r;
	} else {
		/* The lowest auto_rank among the methods the target allows. */
		for (i = 0; i < n; i++)
			if (JC_PLUGIN_HAS(ps[i], auto_rank) &&
			    ps[i]->auto_rank > 0 && meets(in, ps[i]) &&
			    (best < 0 || ps[i]->auto_rank < ps[best]->auto_rank))
				best = i;
		if (best >= 0 && (jc_plugin_caps(ps[best]) &
		    JC_CAP_NEEDS_AGENT)) {
			jc_verbose("access: %s to %s: its agent%s%s is online",
			    jc_plugin_label(ps[best]), in->id,
			    in->agent_version[0] ? " " : "", in->agent_version);
			return best;
		}
		if (best >= 0) {
			jc_verbose("access: %s to %s: %s",
			    jc_plugin_label(ps[best]), *addr ? addr : in->id,
			    !in->ssm_checked ? "SSM could not be asked" :
			    !in->ssm_managed ? "not managed by SSM" :
			    "its SSM agent is not online");
			return best;
		}
	}
	/* Nothing the target offers suits a method. */
	if (strncmp(in->id, "mi-", 3) == 0)
		jc_error("%s is a managed node without a public address and its "
		    "SSM agent is not online", in->id);
	else if (in->private_ip[0] != '\0')
		jc_error("%s has no public address%s; from inside its network "
		    "use jconnect USER@%s", in->id, !named ?
		    " and is not online in SSM" : "", in->private_ip);
	else
		jc_error("%s has no address to connect to", in->id);
	return JC_ERR_UNREACHABLE;
}
