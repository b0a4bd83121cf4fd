/*
 * ssm_api.h - the Session Manager API calls (ssm_api.c).
 */
#ifndef SSM_API_H
#define SSM_API_H

#include "ssm_sess.h"

/*
 * StartSession for target with document doc and parameters given as
 * NULL-terminated name/value pairs.  Reason is "jconnect".  Returns 0 and
 * fills *st (free with ssm_start_clear), or a JC_ERR_* after logging one
 * clear line (TargetNotConnected -> JC_ERR_UNREACHABLE).
 */
int	ssm_api_start(const char *target, const char *doc,
	    const char *const *params, struct ssm_start *st);
/*
 * The same; with probe set, AccessDenied and InvalidDocument (a policy or
 * account without this document) are logged at verbose level only and
 * return SSM_PROBE_REFUSED (positive: not an error for connect()).
 */
#define SSM_PROBE_REFUSED	1
int	ssm_api_start_ex(const char *target, const char *doc,
	    const char *const *params, struct ssm_start *st, int probe);
/*
 * ResumeSession: a new token for sid in *token (wipe and free).  Returns
 * 0, JC_ERR_CLOSED when the session is gone (no token, DoesNotExist), or
 * another JC_ERR_* for a failure worth retrying.
 */
int	ssm_api_resume(const char *sid, char **token);
/*
 * The same in two steps, the call not waited for (ABI 1.3): start it
 * (0 or a JC_ERR_*; done() follows from the loop), then read the answer
 * done() got, with the returns of ssm_api_resume.
 */
int	ssm_api_resume_start(const char *sid, jc_aws_done_fn *done, void *arg,
	    struct jc_aws_call **callp);
int	ssm_api_resume_answer(const char *sid, int r, const char *out,
	    const struct jc_aws_error *err, char **token);
/* TerminateSession; failures are logged at debug level only. */
void	ssm_api_terminate(const char *sid);
void	ssm_start_clear(struct ssm_start *);
/* The SessionId, TokenValue and StreamUrl of a StartSession answer. */
int	ssm_api_parse_start(const char *out, const char *target,
	    struct ssm_start *st);
/* The request body of StartSession (cJSON_free), or NULL. */
char	*ssm_api_start_body(const char *target, const char *doc,
	    const char *const *params);
/*
 * TerminateSession without waiting when the host can (ABI 1.3) and the
 * session is not closing, else at once.  Calls still in flight when the
 * session closes are made again, waited for (ssm_api_terms_flush).
 */
void	ssm_api_terminate_bg(struct ssm_sess *, const char *sid);
void	ssm_api_terms_flush(struct ssm_sess *);

#endif /* SSM_API_H */
