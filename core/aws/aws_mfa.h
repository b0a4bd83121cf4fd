/*
 * aws_mfa.h - asking for an MFA code on the terminal (aws_mfa.c): waiting
 * for it before a tunnel is up, beside the tunnel once it is.
 */
#ifndef JC_AWS_MFA_H
#define JC_AWS_MFA_H

#include <stddef.h>

#include "aws_parse.h"

/*
 * The terminal to ask on, or -1: the controlling one (/dev/tty, never
 * stdin: stdin may be relayed bytes or a pipe), else the terminal
 * standard error still is while a background tunnel starts (it has left
 * its terminal's session but the user is there).
 */
int	jc_aws_mfa_tty(void);

/*
 * Ask for the code of serial on the terminal fd (closed here) and wait:
 * 0 with six digits in code, else JC_ERR_AWS_AUTH (err says why) or
 * JC_ERR_INTR.
 */
int	jc_aws_mfa_read(int fd, const char *profile, const char *serial,
	    char *code, size_t len, struct jc_aws_error *err);

/*
 * On while a tunnel runs (its loop moves bytes): codes are then asked for
 * with jc_aws_mfa_ask.  Off puts the terminal back as it was.
 */
void	jc_aws_mfa_beside(int on);
int	jc_aws_mfa_beside_on(void);

/* Called from the loop with six digits the user typed. */
typedef void jc_aws_mfa_typed_fn(const char *profile, const char *serial,
    const char *code);

/*
 * Put the question on the terminal and return at once; typed() gets the
 * code when Enter comes (a malformed one is asked for again).  0 when the
 * question is (already) waiting, -1 with no terminal.
 */
int	jc_aws_mfa_ask(const char *profile, const char *serial,
	    jc_aws_mfa_typed_fn *typed);

#endif /* JC_AWS_MFA_H */
