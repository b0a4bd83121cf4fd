/*
 * err.h - JC_ERR_* codes (jc_plugin.h) as text and as exit statuses.
 */
#ifndef JC_ERR_H
#define JC_ERR_H

/* A short description of an error code (static storage). */
const char *jc_strerror(int r);

/* The documented exit status for an error code (README, "Exit codes"). */
int	jc_exit_status(int r);

#endif /* JC_ERR_H */
