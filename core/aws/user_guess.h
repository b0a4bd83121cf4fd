/*
 * user_guess.h - the remote user when none is given (USER@TARGET, -l or
 * "user" in the config).  For an EC2 instance it is the usual login user
 * of its AMI (ec2-user on Amazon Linux, admin on Debian, ubuntu, ...),
 * learnt from the instance's platform details or from DescribeImages and
 * kept in a cache by image id, so only the first contact with an AMI
 * costs an AWS call.  Anything else, or an AMI jconnect does not know,
 * gets "ubuntu".  -v says which user was chosen and why.
 */
#ifndef JC_USER_GUESS_H
#define JC_USER_GUESS_H

#include <stddef.h>

/* Included by resolve.h, so every user of the resolver sees it. */
struct jc_instance;
struct jc_tspec;

#define JC_USER_FALLBACK	"ubuntu"

/*
 * No user was given for spec: write the fallback into user (n bytes).
 * For an AWS target the buffer is remembered, and jc_user_infer (called
 * by jc_resolve_instance once the instance is known) replaces the
 * fallback with the AMI's user.
 */
void	jc_user_default(char *user, size_t n, const struct jc_tspec *spec);

/*
 * Fill the buffer remembered by jc_user_default from in's AMI; nothing
 * when no user is pending.  Never fails the resolution: an AMI that
 * cannot be read leaves the fallback (said at -v).  in NULL just drops
 * the pending buffer (the resolution failed).  Returns 0, or JC_ERR_INTR
 * when interrupted.
 */
int	jc_user_infer(const struct jc_instance *in);

/*
 * The user this run chose by itself (not given), or NULL when one was
 * given.  The Jupyter search over SSM then looks for whoever runs
 * Jupyter before falling back to it.
 */
const char *jc_user_guessed(void);

/* Say (for tests) that the user in `user` was guessed; NULL: given. */
void	jc_user_set_guessed(const char *user);

/*
 * The usual login user of an AMI from what describes it (any may be ""
 * or NULL): platform details first ("Red Hat Enterprise Linux", "SUSE
 * Linux", "Ubuntu Pro"), then the first known distribution named in the
 * name, the description or the location.  Returns the user, or NULL when
 * nothing is recognised; *what (may be NULL) names what matched.
 */
const char *jc_user_for_image(const char *platform_details, const char *name,
	    const char *description, const char *location, const char **what);

#endif /* JC_USER_GUESS_H */
