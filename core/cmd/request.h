/*
 * request.h - TARGET plus the command line, a config alias and the
 * defaults, merged once in the command layer (jc_opts, then the request
 * handed to the access layer).
 */
#ifndef JC_REQUEST_H
#define JC_REQUEST_H

#include "jc.h"

struct jc_access;
struct jc_access_req;

/*
 * Parse TARGET, expand a config alias, apply the alias and the defaults
 * to jc_opts (the command line wins) and fill *rq.  Logs and returns
 * JC_ERR_* (JC_ERR_USAGE for a bad target or config value).
 */
int	jc_request_make(const char *target, struct jc_access_req *rq);

/* jc_request_make, then jc_access_resolve: what the commands call. */
int	jc_request_resolve(struct jc_access *, const char *target);

#endif /* JC_REQUEST_H */
