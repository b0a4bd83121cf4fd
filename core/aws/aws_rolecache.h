/*
 * aws_rolecache.h - the AWS CLI's cache of assumed-role credentials
 * (~/.aws/cli/cache/KEY.json), which jconnect reads and writes for roles
 * that need an MFA code, so that one code serves jconnect and the CLI.
 */
#ifndef JC_AWS_ROLECACHE_H
#define JC_AWS_ROLECACHE_H

#include <time.h>

#include "aws_parse.h"

/* What names an AssumeRole in the cache; NULL/-1 members are unset. */
struct jc_aws_rolecall {
	const char	*role_arn;
	const char	*session_name;	/* only when the profile sets one */
	const char	*external_id;
	const char	*mfa_serial;
	long		 duration;	/* duration_seconds, -1 when unset */
};

/*
 * The cache file's name without ".json": the sha1 hex of the JSON of the
 * call's parameters with sorted keys, as botocore's AssumeRole fetcher
 * writes it (json.dumps(..., sort_keys=True)).  Returns 0 or
 * JC_ERR_USAGE when a value is too long.
 */
int	jc_aws_rolecache_key(const struct jc_aws_rolecall *rc, char out[41]);

/*
 * The cached credentials of key when they are good for more than margin
 * seconds more: 0 with *c, else JC_ERR_NOTFOUND (none, expired, soon
 * expired or unreadable; -vv says which) or JC_ERR_NOMEM.
 */
int	jc_aws_rolecache_get(const char *key, time_t margin,
	    struct jc_aws_creds *c);

/*
 * Store c (with its expiry) and the assumed role's user under key, in
 * the file shape botocore writes, 0600 in a 0700 directory, through a
 * temporary file and a rename.  Returns 0 or JC_ERR_IO / JC_ERR_NOMEM.
 */
int	jc_aws_rolecache_put(const char *key, const struct jc_aws_creds *c,
	    const char *user_arn, const char *user_id);

/* The cache directory (for messages).  Static storage. */
const char *jc_aws_rolecache_dir(void);

#endif /* JC_AWS_ROLECACHE_H */
