/*
 * ssm_host.h - the host table every layer of the SSM plugin calls (set
 * by init() in ssm.c) and its log macro.
 */
#ifndef SSM_HOST_H
#define SSM_HOST_H

#include "jc_plugin.h"

#define SSM_CLIENT_VERSION	"1.2.677.0"

extern const struct jc_host *ssm_host;		/* set by init() */

#define ssm_log(l, ...) do {						\
	if (ssm_host != NULL && ssm_host->log_level() >= (l))		\
		ssm_host->log((l), "ssm", __VA_ARGS__);			\
} while (0)

/* The CA bundle the AWS calls trust too (--ca-bundle), or NULL. */
#define ssm_ca_bundle()							\
	(JC_HOST_HAS(ssm_host, aws_ca_bundle) ? ssm_host->aws_ca_bundle() : NULL)

#endif /* SSM_HOST_H */
