/*
 * aws.h - the AWS client: region, SigV4-signed calls over libcurl
 * (query/ec2 XML and JSON 1.1), error decoding.  jc_aws_setup
 * (aws_cred.h) starts it with the credential chain.
 */
#ifndef JC_AWS_H
#define JC_AWS_H

#include "jc_plugin.h"

/* Credentials are renewed when they have less than this left. */
#define JC_AWS_REFRESH_MARGIN_S	300

/* Region in use after setup (NULL when none could be found). Borrowed. */
const char *jc_aws_region(void);

/* Extra CA file for HTTPS (AWS_CA_BUNDLE, ca_bundle), or NULL.  Borrowed. */
const char *jc_aws_ca_bundle(void);

/*
 * JSON 1.1 call: service and target as in the API reference.  On
 * success *out is a malloc'd NUL-terminated body (free()).  On failure
 * returns JC_ERR_AWS_AUTH (credentials, signature, AccessDenied),
 * JC_ERR_UNREACHABLE (TargetNotConnected), JC_ERR_NOTFOUND, JC_ERR_AWS
 * (any other AWS error) or JC_ERR_IO (transport), and fills *err.
 */
int	jc_aws_json(const char *service, const char *target, const char *body,
	    char **out, struct jc_aws_error *err);

/*
 * The same without waiting: one attempt driven by the loop, done() runs
 * from a later pass (see jc_host.aws_json_start).  Returns 0 and *callp,
 * or a JC_ERR_* with *err filled when the call cannot start.
 */
int	jc_aws_json_start(const char *service, const char *target,
	    const char *body, jc_aws_done_fn *done, void *arg,
	    struct jc_aws_call **callp, struct jc_aws_error *err);
/* Abandon a started call; its done() never runs.  NULL is a no-op. */
void	jc_aws_json_cancel(struct jc_aws_call *);
/*
 * After Ctrl-C or stop, before a method's session closes: the started
 * calls still in flight end (answered or not, within ~1.5 s) and their
 * done() runs.  A no-op while jconnect is not stopping.
 */
void	jc_aws_settle(void);

/*
 * Query/ec2 call: form body "Action=...&Version=...&...", already
 * URL-encoded.  *out is the XML body.  Same returns as jc_aws_json.
 */
int	jc_aws_query(const char *service, const char *form, char **out,
	    struct jc_aws_error *err);

/*
 * A SigV4 query-signed GET URL (scheme://host+path?query&X-Amz-...),
 * valid for expires_s seconds; query already URL-encoded.  It carries a
 * signature: never log it.  Returns 0, JC_ERR_USAGE (too long for out)
 * or as a call that cannot start, with *err filled.
 */
int	jc_aws_presign(const char *service, const char *scheme,
	    const char *host, const char *path, const char *query,
	    int expires_s, char *out, size_t outlen, struct jc_aws_error *err);

/* Plain-words explanation of an AWS error (static storage). */
const char *jc_aws_explain(const struct jc_aws_error *);

/* Free everything (credentials are wiped). */
void	jc_aws_cleanup(void);

#endif /* JC_AWS_H */
