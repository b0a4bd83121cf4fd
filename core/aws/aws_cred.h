/*
 * aws_cred.h - the credential chain of the AWS client (aws_cred.c), and
 * the setup that hands it to the client below.
 */
#ifndef JC_AWS_CRED_H
#define JC_AWS_CRED_H

#include "aws_parse.h"

/*
 * Choose profile and region (either may be NULL: env/config decide) and
 * read the shared config/credentials files.  Region order: region,
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's region, the instance
 * metadata service.  Credentials are looked up lazily on the first call
 * (and renewed before they expire).  May be called again to start over.
 * Returns 0, or after logging one line JC_ERR_AWS_AUTH (a named profile
 * that does not exist), JC_ERR_USAGE (a malformed region) or JC_ERR_IO.
 */
int	jc_aws_setup(const char *profile, const char *region);

/*
 * Walk the credential chain for the current profile (aws-wire.md order:
 * env, shared files, credential_process, role_arn + source_profile or
 * credential_source, IMDS).  On 0 *c holds credentials and c->source says
 * where they came from.  On failure returns JC_ERR_AWS_AUTH (or
 * JC_ERR_NOMEM / JC_ERR_INTR) with a full sentence in err->message.
 */
int	jc_aws_creds_chain(struct jc_aws_creds *c, struct jc_aws_error *err);

/*
 * The TARGET as the user typed it (NULL: unknown), so that a tunnel
 * whose MFA session runs out can name the command that gives a new code
 * (jconnect url TARGET); without it the message says TARGET.
 */
void	jc_aws_creds_target(const char *target);

#endif /* JC_AWS_CRED_H */
