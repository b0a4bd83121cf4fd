/*
 * ssm_pool.h - the pool of port sessions per destination (ssm_pool.c).
 */
#ifndef SSM_POOL_H
#define SSM_POOL_H

#include <stdint.h>
#include "ssm_sess.h"

/* A stream for host:port through the pool (ssm_pool.c). */
int	ssm_pool_stream(struct ssm_sess *, const char *host, uint16_t port,
	    int flags, int *fdp);
/* Start a channel to host:port before its first stream (JC_STREAM_WARM). */
int	ssm_pool_warm(struct ssm_sess *, const char *host, uint16_t port);
int	ssm_pool_init(struct ssm_sess *);
void	ssm_pool_fini(struct ssm_sess *);

#endif /* SSM_POOL_H */
