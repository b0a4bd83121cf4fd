/*
 * resolve.h - TARGET -> EC2 instance (DescribeInstances,
 * DescribeStackResources, tags), lifecycle (start, wait) and the choice
 * between SSM and SSH.
 */
#ifndef JC_RESOLVE_H
#define JC_RESOLVE_H

#include <stddef.h>

#include "aws_answer.h"
#include "jc_plugin.h"
#include "target.h"
#include "user_guess.h"

/*
 * Resolve an AWS target (instance id, stack, name, tag or bare word) to
 * exactly one instance.  start: --start-instance.  need_ssm: wait for
 * PingStatus Online after a start.  On failure logs one clear line and
 * returns JC_ERR_NOTFOUND (none / several: listed), JC_ERR_UNREACHABLE
 * (stopped without start, terminated), JC_ERR_AWS_AUTH, ...
 */
int	jc_resolve_instance(const struct jc_tspec *, int start, int need_ssm,
	    struct jc_instance *out);

/*
 * After a lost connection: look at the instance again.  One that is
 * stopping, stopped or pending is waited for (said once; with start, a
 * stopped one is started), then its addresses are read again (a start
 * gives a new public IP) and, with need_ssm, its agent gets up to
 * aws.ssm_timeout to come online.  *waited tells whether it had been
 * away.  Returns 0 to try to connect now (also when AWS cannot be asked:
 * the path may be what failed), JC_ERR_UNREACHABLE when it is terminated
 * (logged), JC_ERR_TIMEOUT when a start takes too long, JC_ERR_INTR.
 */
int	jc_resolve_back(struct jc_instance *, int start, int need_ssm,
	    int *waited);

/*
 * Pick the access method for an instance.  named: ps[0] is the one of
 * --via NAME; 0 is returned when the instance allows it.  Otherwise
 * (--via auto) ps holds the n loaded methods; the index of the one of
 * lowest auto_rank whose JC_CAP_NEEDS_* the instance meets is returned
 * (an online SSM agent, a public address, ...).  JC_ERR_UNREACHABLE
 * when none can (logged).
 */
int	jc_resolve_via(const struct jc_instance *,
	    const struct jc_plugin *const *ps, int n, int named);

#endif /* JC_RESOLVE_H */
