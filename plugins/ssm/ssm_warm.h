/*
 * ssm_warm.h - connections to the data-channel host made ahead of their
 * StreamUrl (ssm_warm.c).
 */
#ifndef SSM_WARM_H
#define SSM_WARM_H

#include "ssm_ws.h"

/* Start a few connections to where the region's StreamUrls went last. */
void	ssm_warm_ahead(void);
/*
 * A connection made ahead to url's origin, adopted for url with on_msg
 * (ssm_ws_adopt): connected or still connecting.  NULL when none fits.
 */
struct ssm_ws *ssm_warm_take(const char *url, ssm_ws_msg_fn *on_msg,
	    void *arg);
/* Remember url's origin for the next run (a memo, when it changed). */
void	ssm_warm_learn(const char *url);
/* Close what nobody adopted. */
void	ssm_warm_fini(void);

#endif /* SSM_WARM_H */
