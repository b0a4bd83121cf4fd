/*
 * aws_int.h - the lower layer of the AWS client (aws.c): the HTTP
 * transport, a signed call with given credentials, the loaded profile and
 * shared files, the instance metadata service.  For the credential
 * providers (aws_cred.c, aws_sso.c, aws_webid.c) and the calls built on
 * the client; the rest of jconnect uses aws.h.  Nothing here calls up:
 * the session's credentials come from the source set with
 * jc_aws_set_creds_source.
 */
#ifndef JC_AWS_INT_H
#define JC_AWS_INT_H

#include <stddef.h>

#include "aws_parse.h"

#define JC_AWS_BODY_MAX		(16u << 20)	/* largest answer we read */

/* One HTTP exchange.  All pointers borrowed. */
struct jc_aws_http {
	const char	*method;	/* "GET", "PUT" or "POST" */
	const char	*url;
	const char	*const *headers; /* "Name: value", NULL-terminated */
	const char	*body;		/* POST/PUT body, may be NULL */
	size_t		 bodylen;
	const char	*sigv4;		/* "aws:amz:REGION:SERVICE" or NULL */
	const struct jc_aws_creds *creds; /* with sigv4 */
	long		 timeout_ms;	/* whole exchange */
	long		 connect_ms;
	int		 no_proxy;	/* never through a proxy (IMDS) */
};

/*
 * Perform one exchange (no retries).  On 0 *status is the HTTP status and
 * *body a malloc'd NUL-terminated answer of *len bytes (caller frees).
 * On transport failure returns JC_ERR_IO with the reason in why and
 * *retry set to 1 when another attempt could succeed.
 */
int	jc_aws_http_do(const struct jc_aws_http *h, long *status, char **body,
	    size_t *len, char *why, size_t whylen, int *retry);

/*
 * A SigV4-signed AWS call with explicit credentials and region, with
 * retries on throttling, 5xx and transient transport errors.  target is
 * the X-Amz-Target for JSON 1.1, NULL for a query/ec2 form body.  On 0
 * *out is the malloc'd answer.  On failure *err is filled and the return
 * is the error's class (jc_aws_error_class), JC_ERR_IO, JC_ERR_USAGE
 * (bad endpoint) or JC_ERR_INTR.  Logs retries at -v only.
 */
int	jc_aws_call(const struct jc_aws_creds *c, const char *region,
	    const char *service, const char *target, const char *body,
	    char **out, size_t *outlen, struct jc_aws_error *err);

/*
 * The session's credentials (fetched or refreshed as for a call) and
 * region, for signing outside jc_aws_call (a presigned URL).  Borrowed
 * until the next call.  Returns 0 or as a call that cannot start.
 */
int	jc_aws_session(const struct jc_aws_creds **c, const char **region,
	    struct jc_aws_error *err);

/*
 * Choose profile and region and read the shared files, as jc_aws_setup
 * (aws_cred.h) says, without setting where credentials come from.
 */
int	jc_aws_profile_setup(const char *profile, const char *region);

/*
 * Where the session's credentials come from: fills *c (c->source says
 * from where), or returns a JC_ERR_* with a full sentence in err.
 */
typedef int jc_aws_creds_fn(struct jc_aws_creds *c, struct jc_aws_error *err);

/* Set it (kept when jc_aws_profile_setup starts over). */
void	jc_aws_set_creds_source(jc_aws_creds_fn *);

/* The profile in use ("default" when none was named).  Borrowed. */
const char *jc_aws_profile(void);

/* 1 when the profile came from --profile (then env keys are skipped). */
int	jc_aws_profile_explicit(void);

/* A setting of a profile from the shared files, or NULL.  Borrowed. */
const char *jc_aws_setting(const char *profile, const char *key);

/* The path of the file where the profile sets key, or "nowhere". */
const char *jc_aws_setting_where(const char *profile, const char *key);

/* A key of a config file section ("sso-session NAME"), or NULL. */
const char *jc_aws_config_get(const char *section, const char *key);

/* 1 when the config file has that section. */
int	jc_aws_config_has(const char *section);

/* 1 when the profile is in either shared file. */
int	jc_aws_has_profile(const char *profile);

/* Paths of the shared files in use (for messages).  Borrowed. */
const char *jc_aws_config_path(void);
const char *jc_aws_credentials_path(void);

/*
 * IMDSv2 GET of path ("/latest/meta-data/...") into a malloc'd answer.
 * Returns 0, JC_ERR_UNSUPPORTED when disabled, or JC_ERR_IO with why.
 */
int	jc_aws_imds_get(const char *path, char **out, size_t *len, char *why,
	    size_t whylen);

/* 1 when AWS_EC2_METADATA_DISABLED is true. */
int	jc_aws_imds_disabled(void);

/*
 * A small file whole (at most max bytes), NUL-terminated and malloc'd in
 * *out, its length in *len.  JC_ERR_NOTFOUND when it does not exist,
 * JC_ERR_IO with errno set for another failure; what was read of a
 * secret is wiped before it is freed.
 */
int	jc_aws_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Write data to path, 0600, through PATH.tmp-PID and a rename, so that a
 * reader (the AWS CLI too) never sees half a file.  0 or JC_ERR_IO.
 */
int	jc_aws_write_file(const char *path, const char *data);

/* SHA-1 of s in lower-case hex (the AWS CLI's cache file names). */
int	jc_aws_sha1_hex(const char *s, char out[41]);

/* The user's home: $HOME, else the password database's. */
const char *jc_aws_home(void);

/* An error of our own in *err: a sentence, no AWS code.  Returns r. */
int	jc_aws_fail(struct jc_aws_error *err, int r, const char *fmt, ...)
	    JC_PRINTF(3, 4);

#endif /* JC_AWS_INT_H */
