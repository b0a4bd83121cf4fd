/*
 * target.h - the TARGET grammar (README, "Targets").
 */
#ifndef JC_TARGET_H
#define JC_TARGET_H

#include <stddef.h>

#define JC_T_HOST	1	/* user@host[:port], IP literal, dotted name */
#define JC_T_INSTANCE	2	/* i-... / mi-... */
#define JC_T_STACK	3	/* stack:NAME */
#define JC_T_NAME	4	/* name:NAME (Name tag) */
#define JC_T_TAG	5	/* tag:KEY=VALUE */
#define JC_T_WORD	6	/* bare word: alias, else stack, else Name tag */

struct jc_tspec {
	int	kind;			/* JC_T_* */
	char	user[64];		/* from user@, "" when absent */
	char	host[256];		/* JC_T_HOST */
	int	port;			/* JC_T_HOST :port, 0 when absent */
	char	value[256];		/* id, stack, name, tag value or word */
	char	key[128];		/* JC_T_TAG key */
};

/*
 * Parse TARGET.  Returns 0, or JC_ERR_USAGE with a one-line reason in
 * why (at least 128 bytes) when it fits no form.
 */
int	jc_target_parse(const char *spec, struct jc_tspec *out, char *why,
	    size_t whylen);

/* 1 when the spec needs the AWS layer (not a direct host). */
int	jc_target_is_aws(const struct jc_tspec *);

#endif /* JC_TARGET_H */
