/*
 * sshoverssm.h - the compressed path over SSM: jconnect's own SSH client
 * (the ssh plugin, zlib on) logged in to the instance's sshd through an
 * SSM session (AWS-StartSSHSession), carrying the tunnel's connections
 * as direct-tcpip channels.  AWS's agent paces every session to about
 * 1 KiB per millisecond; compressed, the same pace carries several times
 * the bytes of Jupyter's JavaScript.
 *
 * The login uses the user's own keys (-i, ssh-agent, ~/.ssh), or else a
 * throwaway key made in memory whose public half is written to the
 * user's authorized_keys (over SSM exec, by the keys plugin) with a short
 * expiry-time and restrictions, and removed again when the path closes.
 */
#ifndef JC_SSHOVERSSM_H
#define JC_SSHOVERSSM_H

#include <stdint.h>

#include "access.h"

struct jc_sshssm;

/*
 * Should the tunnel try the compressed path?  Option ssm.compress: "no"
 * never, "yes" (explicit: failures are warnings) or unset/"auto" (try,
 * failures said at -v).  Returns 1 or 0; *explicit set when "yes".
 * JC_ERR_USAGE (logged) for another value.
 */
int	jc_sshssm_wanted(const struct jc_access *a, int *explicit);

/*
 * Set the path up for connections to dhost:dport on the remote (http:
 * it speaks HTTP, and a request through the path must be answered before
 * the path counts as up).  Runs the loop meanwhile, so the plain session
 * keeps serving.  a is the
 * tunnel's SSM access (its session runs the key installs); it must
 * outlive the path.  Returns 0 with *out, JC_ERR_INTR, or another error
 * after saying why once (at -v, or as a warning when explicit).
 */
int	jc_sshssm_open(struct jc_access *a, const char *dhost, uint16_t dport,
	    int http, int explicit, struct jc_sshssm **out);

/* The stream provider for jc_fwd_set_preferred. */
const struct jc_plugin *jc_sshssm_plugin(const struct jc_sshssm *);
struct jc_sess *jc_sshssm_sess(const struct jc_sshssm *);

/* 0 while the path is usable, else why it ended. */
int	jc_sshssm_status(struct jc_sshssm *);

/*
 * Close the path: its SSH and SSM sessions, then remove the throwaway
 * key through a (the tunnel's session must still be up; after a stop
 * signal the loop runs once more for it).  A key that cannot be removed
 * now is retried at the next open or close; it expires anyway.  NULL is
 * a no-op.
 */
void	jc_sshssm_close(struct jc_sshssm *);

/* Remove a throwaway key left over by an earlier close, through a. */
void	jc_sshssm_cleanup(struct jc_access *a);

#endif /* JC_SSHOVERSSM_H */
