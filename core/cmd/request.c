/*
 * request.c - the one merge of the command line, a config alias and the
 * config defaults for a TARGET, into jc_opts (the command layer's) and
 * the request the access layer is handed.
 */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "aws_cred.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "request.h"

int
jc_request_make(const char *target, struct jc_access_req *rq)
{
	char why[256], alias[sizeof(rq->spec.value)] = "";
	char typed_user[sizeof(rq->spec.user)];
	const char *alias_target, *cli_user = jc_opts.user;
	int r;

	memset(rq, 0, sizeof(*rq));
	jc_opts.target = target;
	/* For the line that tells how to give an MFA code again. */
	jc_aws_creds_target(target);
	rq->typed = target;
	snprintf(rq->target, sizeof(rq->target), "%s", target);
	if ((r = jc_target_parse(target, &rq->spec, why, sizeof(why))) != 0) {
		jc_error("bad TARGET: %s", why);
		return r;
	}
	snprintf(typed_user, sizeof(typed_user), "%s", rq->spec.user);
	/*
	 * A bare word may be an alias from the config file.  Its name is
	 * copied out first: parsing the alias's own target reuses rq->spec.
	 */
	if (rq->spec.kind == JC_T_WORD && jc_config_is_alias(rq->spec.value)) {
		snprintf(alias, sizeof(alias), "%s", rq->spec.value);
		if ((alias_target = jc_config_alias_target(alias)) == NULL) {
			jc_error("alias \"%s\" in the config file has no "
			    "\"target\"", alias);
			return JC_ERR_USAGE;
		}
		jc_verbose("alias %s -> %s", alias, alias_target);
		snprintf(rq->target, sizeof(rq->target), "%s", alias_target);
		if ((r = jc_target_parse(alias_target, &rq->spec, why,
		    sizeof(why))) != 0) {
			jc_error("alias \"%s\": bad target: %s", alias, why);
			return r;
		}
	}
	/* host:port beats "port" from the config; -p beats both. */
	if (rq->spec.kind == JC_T_HOST && rq->spec.port != 0 &&
	    jc_opts.ssh_port == 0)
		jc_opts.ssh_port = rq->spec.port;
	if ((r = jc_config_apply(&jc_opts, *alias ? alias : NULL)) != 0)
		return r;
	/*
	 * user@ as typed first (like ssh), then -l, then the alias target's
	 * user@, then "user" from the alias or the defaults.
	 */
	if (*typed_user != '\0')
		snprintf(rq->user, sizeof(rq->user), "%s", typed_user);
	else if (cli_user != NULL)
		snprintf(rq->user, sizeof(rq->user), "%s", cli_user);
	else if (*alias != '\0' && *rq->spec.user != '\0')
		snprintf(rq->user, sizeof(rq->user), "%s", rq->spec.user);
	else if (jc_opts.user != NULL)
		snprintf(rq->user, sizeof(rq->user), "%s", jc_opts.user);

	rq->via = jc_opts.via;
	rq->ssh_port = jc_opts.ssh_port;
	rq->identity = jc_opts.identity;
	rq->known_hosts = jc_opts.known_hosts;
	rq->host_key_check = jc_opts.host_key_check;
	rq->timeout_s = jc_opts.timeout_s;
	rq->start_instance = jc_opts.start_instance;
	rq->profile = jc_opts.profile;
	rq->region = jc_opts.region;
	return 0;
}

int
jc_request_resolve(struct jc_access *a, const char *target)
{
	struct jc_access_req rq;
	int r;

	if ((r = jc_request_make(target, &rq)) != 0)
		return r;
	return jc_access_resolve(a, &rq);
}
