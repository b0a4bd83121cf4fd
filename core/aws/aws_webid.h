/*
 * aws_webid.h - credentials from a web identity token (STS
 * AssumeRoleWithWebIdentity) and from the container credentials endpoint.
 */
#ifndef JC_AWS_WEBID_H
#define JC_AWS_WEBID_H

#include "aws_parse.h"

/*
 * STS AssumeRoleWithWebIdentity (unsigned) for role with the token in
 * file; what names the configuration for messages, session may be NULL.
 * Returns 0 with *c, or JC_ERR_AWS_AUTH (or JC_ERR_NOMEM) with err.
 */
int	jc_aws_webid_creds(const char *what, const char *role, const char *file,
	    const char *session, struct jc_aws_creds *c,
	    struct jc_aws_error *err);

/*
 * The container credentials endpoint (AWS_CONTAINER_CREDENTIALS_
 * RELATIVE_URI or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN or
 * _TOKEN_FILE).  JC_ERR_NOTFOUND when neither URI is set.
 */
int	jc_aws_container_creds(struct jc_aws_creds *c, struct jc_aws_error *err);

#endif /* JC_AWS_WEBID_H */
