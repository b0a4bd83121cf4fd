/*
 * aws_sso.h - IAM Identity Center (SSO): the token cache the AWS CLI and
 * SDKs share (~/.aws/sso/cache), its refresh through SSO OIDC, role
 * credentials from the SSO portal, and the device-authorization sign-in
 * of `jconnect login`.
 */
#ifndef JC_AWS_SSO_H
#define JC_AWS_SSO_H

#include <stddef.h>

#include "aws_parse.h"

/*
 * Credentials of an SSO profile (sso_session or sso_start_url): the
 * cached token (refreshed when it expires within 15 minutes), then
 * GetRoleCredentials.  Returns 0, JC_ERR_NOTFOUND when the profile is
 * not an SSO profile, JC_ERR_AWS_AUTH with a full sentence in err (a
 * token that cannot be refreshed names `jconnect login --profile P`),
 * JC_ERR_NOMEM or JC_ERR_INTR.
 */
int	jc_aws_sso_creds(const char *profile, struct jc_aws_creds *c,
	    struct jc_aws_error *err);

/*
 * Sign in for profile with the device authorization of SSO OIDC and
 * write the token cache.  no_browser: only print the URL and the code.
 * Returns 0 or JC_ERR_* after logging one line.
 */
int	jc_aws_sso_login(const char *profile, int no_browser);

/* ---- pieces with no I/O, for the unit tests -------------------------- */

/*
 * Append s to dst as a JSON string the way Python's json.dumps writes it
 * (quotes, ASCII only: other characters as \uXXXX).  Returns 0 or
 * JC_ERR_USAGE when dst (len bytes, already holding a C string) is full.
 */
int	jc_json_quote(char *dst, size_t len, const char *s);

/*
 * The name of the token cache file (without ".json"): sha1 hex of the
 * session name when there is one, else of the start URL.
 */
int	jc_aws_sso_token_key(const char *session, const char *start_url,
	    char out[41]);

/*
 * The name of the client registration cache file: sha1 hex of the JSON
 * {"region", "scopes", "session_name", "startUrl", "tool": "botocore"}
 * with sorted keys, as botocore's SSOTokenFetcher names it.  scopes is
 * the raw comma-separated sso_registration_scopes or NULL; session may
 * be NULL (legacy profile).
 */
int	jc_aws_sso_registration_key(const char *start_url, const char *region,
	    const char *scopes, const char *session, char out[41]);

#endif /* JC_AWS_SSO_H */
