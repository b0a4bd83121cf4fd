/*
 * access.c - from TARGET to a logged-in session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "aws.h"
#include "aws_cred.h"
#include "event.h"
#include "log.h"
#include "plugin.h"

#define MAX_METHODS	8

int
jc_via_auto(const char *via)
{
	return via == NULL || strcmp(via, "auto") == 0;
}

static void
use(struct jc_access *a, const struct jc_plugin *p, void *st)
{
	a->p = p;
	a->pstate = st;
	a->caps = jc_plugin_caps(p);
	snprintf(a->via, sizeof(a->via), "%s", p->name);
}

/* --via NAME: that plugin, if it is an access method. */
static int
named(struct jc_access *a, const char *name)
{
	const struct jc_plugin *p;
	void *st;
	int r;

	if (!jc_plugin_built(name)) {
		jc_error("--via %s: no such access method (see jconnect "
		    "plugins)", name);
		return JC_ERR_USAGE;
	}
	if ((r = jc_plugin_get(name, &p, &st)) != 0)
		return r;
	if (!(p->kind & JC_KIND_METHOD)) {
		jc_error("--via %s: the %s plugin is not an access method "
		    "(see jconnect plugins)", name, name);
		return JC_ERR_USAGE;
	}
	use(a, p, st);
	return 0;
}

/*
 * The access method: the one named, or --via auto's pick among the
 * loaded ones by what each declares (JC_CAP_NEEDS_*, auto_rank) and what
 * the target offers: a host name offers a host only; an instance offers
 * what its resolution found.
 */
static int
choose(struct jc_access *a, const char *target)
{
	const struct jc_plugin *ps[MAX_METHODS];
	void *sts[MAX_METHODS];
	int aws = jc_target_is_aws(&a->spec), n = 0, i, best = -1, r,
	    need_agent = 0;

	if (!jc_via_auto(a->rq.via)) {
		if ((r = named(a, a->rq.via)) != 0)
			return r;
		ps[0] = a->p;
		sts[0] = a->pstate;
		n = 1;
		need_agent = (a->caps & JC_CAP_NEEDS_AGENT) != 0;
	} else {
		n = jc_plugin_methods(ps, sts, MAX_METHODS);
		if (n == 0) {
			jc_error("no access plugin could be loaded (jconnect "
			    "plugins says why): build them with make, or set "
			    "JCONNECT_PLUGIN_DIR");
			return JC_ERR_PLUGIN;
		}
		for (i = 0; i < n; i++)
			if (JC_PLUGIN_HAS(ps[i], auto_rank) &&
			    ps[i]->auto_rank > 0 &&
			    (jc_plugin_caps(ps[i]) & JC_CAP_NEEDS_AGENT))
				need_agent = 1;
	}
	if (!aws) {
		if (!jc_via_auto(a->rq.via) &&
		    (a->caps & JC_CAP_NEEDS_INSTANCE)) {
			jc_error("%s is a host name; %s needs an instance id, "
			    "a stack or a name: target", target,
			    jc_plugin_label(a->p));
			return JC_ERR_USAGE;
		}
		for (i = 0; i < n && jc_via_auto(a->rq.via); i++)
			if (JC_PLUGIN_HAS(ps[i], auto_rank) &&
			    ps[i]->auto_rank > 0 && !(jc_plugin_caps(ps[i]) &
			    JC_CAP_NEEDS_INSTANCE) && (best < 0 ||
			    ps[i]->auto_rank < ps[best]->auto_rank))
				best = i;
		if (jc_via_auto(a->rq.via)) {
			if (best < 0) {
				jc_error("no access method for the host %s "
				    "(see jconnect plugins)", target);
				return JC_ERR_PLUGIN;
			}
			use(a, ps[best], sts[best]);
		}
		snprintf(a->host, sizeof(a->host), "%s", a->spec.host);
		return 0;
	}
	if ((r = jc_aws_setup(a->rq.profile, a->rq.region)) != 0)
		return r;
	r = jc_resolve_instance(&a->spec, a->rq.start_instance, need_agent,
	    &a->inst);
	if (r != 0)
		return r;
	a->have_inst = 1;
	if ((r = jc_resolve_via(&a->inst, ps, n,
	    !jc_via_auto(a->rq.via))) < 0)
		return r;
	if (jc_via_auto(a->rq.via))
		use(a, ps[r], sts[r]);
	snprintf(a->host, sizeof(a->host), "%s", *a->inst.public_dns ?
	    a->inst.public_dns : a->inst.public_ip);
	jc_event("resolved", "target", target, "instance_id", a->inst.id,
	    "state", a->inst.state, "via", a->via, (char *)NULL);
	return 0;
}

int
jc_access_resolve(struct jc_access *a, const struct jc_access_req *rq)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->rq = *rq;
	a->spec = rq->spec;
	snprintf(a->target, sizeof(a->target), "%s", rq->target);
	snprintf(a->user, sizeof(a->user), "%s", rq->user);
	a->user_given = *a->user != '\0';
	if (!a->user_given)
		jc_user_default(a->user, sizeof(a->user), &a->spec);

	if ((r = choose(a, rq->typed)) != 0)
		return r;
	memset(&a->t, 0, sizeof(a->t));
	a->t.size = sizeof(a->t);
	a->t.spec = a->target;
	a->t.host = a->host;
	a->t.port = rq->ssh_port;
	a->t.user = a->user;
	a->t.instance_id = a->have_inst ? a->inst.id : NULL;
	a->t.region = a->have_inst ? a->inst.region : NULL;
	a->t.identity = rq->identity;
	a->t.known_hosts = rq->known_hosts;
	a->t.host_key_check = rq->host_key_check;
	/* Recycled public IPs must not look like a changed host key. */
	a->t.host_key_alias = a->have_inst ? a->inst.id : NULL;
	a->t.timeout_ms = (rq->timeout_s > 0 ? rq->timeout_s : 20) * 1000;
	return 0;
}

const char *
jc_access_describe(const struct jc_access *a)
{
	static char d[400];
	const char *label = a->p != NULL ? jc_plugin_label(a->p) : a->via;

	/* A method that needs no address reaches the instance by its id. */
	if (a->have_inst && !(a->caps & JC_CAP_NEEDS_HOST))
		snprintf(d, sizeof(d), "%s to %s", label, a->inst.id);
	else
		snprintf(d, sizeof(d), "%s to %s@%s:%d", label, a->user,
		    a->host, a->t.port ? a->t.port : 22);
	return d;
}

int
jc_access_connect(struct jc_access *a)
{
	int r;

	if (a->p == NULL && (r = named(a, a->via)) != 0)
		return r;
	jc_verbose("connecting: %s", jc_access_describe(a));
	if ((r = a->p->connect(a->pstate, &a->t, &a->s)) != 0)
		return r;
	jc_event("connected", "via", a->via, "target", a->target,
	    (char *)NULL);
	return 0;
}

int
jc_access_recover(struct jc_access *a, int *back)
{
	char was[sizeof(a->host)];
	int r;

	*back = 0;
	/* A managed node (mi-) outside EC2 has no state to look at. */
	if (!a->have_inst || strncmp(a->inst.id, "mi-", 3) == 0)
		return 0;
	if ((r = jc_resolve_back(&a->inst, a->rq.start_instance,
	    (a->caps & JC_CAP_NEEDS_AGENT) != 0, back)) != 0)
		return r;
	/* A start gives a new public IP (and DNS name): dial that one. */
	snprintf(was, sizeof(was), "%s", a->host);
	snprintf(a->host, sizeof(a->host), "%s",
	    *a->inst.public_dns ? a->inst.public_dns : a->inst.public_ip);
	if ((a->caps & JC_CAP_NEEDS_HOST) && strcmp(was, a->host) != 0)
		jc_info("instance %s has a new address: %s (was %s)",
		    a->inst.id, *a->host ? a->host : "none", was);
	return 0;
}

void
jc_access_disconnect(struct jc_access *a)
{
	if (a->s != NULL && a->p != NULL) {
		jc_aws_settle();
		a->p->close(a->s);
	}
	a->s = NULL;
}
