/*
 * ssm_exec.h - exec over a NonInteractiveCommand session (ssm_exec.c).
 */
#ifndef SSM_EXEC_H
#define SSM_EXEC_H

#include "ssm_chan.h"

/* The exec kind of channel, handed to the channel it opens. */
extern const struct ssm_chan_kind ssm_exec_kind;

/* Exec (ssm_exec.c); delivery is in ssm_exec_kind. */
int	ssm_exec_run(struct ssm_sess *, const char *cmd, const void *in,
	    size_t inlen, int timeout_ms, struct jc_exec_result *res);
void	ssm_exec_free(struct jc_exec_result *);
/* The command actually sent: stdin wrapped in base64 (malloc'd). */
char	*ssm_exec_command(const char *cmd, const void *in, size_t inlen);

#endif /* SSM_EXEC_H */
