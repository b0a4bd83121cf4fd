/*
 * forward.h - the local listener: every accepted connection gets its own
 * stream from the access plugin and a relay.
 */
#ifndef JC_FORWARD_H
#define JC_FORWARD_H

#include <stdint.h>

#include "jc_plugin.h"

struct jc_fwd;

/*
 * Serve listen_fd (owned from now on): each connection is relayed to
 * rhost:rport through p/s.  Returns 0 or JC_ERR_NOMEM.
 */
int	jc_fwd_new(int listen_fd, const char *rhost, uint16_t rport,
	    const struct jc_plugin *p, struct jc_sess *s, struct jc_fwd **out);

/*
 * Switch to a new session (after a reconnect), or pause accepting with
 * s == NULL (connections wait in the kernel backlog).  Relays of the old
 * session are dropped.
 */
void	jc_fwd_set_session(struct jc_fwd *, const struct jc_plugin *p,
	    struct jc_sess *s);

/*
 * A preferred stream provider (e.g. SSH inside SSM, compressed): new
 * connections go through p/s while p->status(s) is 0, else (and when a
 * stream cannot be opened there) through the session given above, the
 * fallback.  Connections already relayed stay where they are.  p == NULL
 * drops the preference.  The caller keeps p/s alive while set.
 */
void	jc_fwd_set_preferred(struct jc_fwd *, const struct jc_plugin *p,
	    struct jc_sess *s);

/* Change the destination (e.g. Jupyter moved after a reconnect). */
void	jc_fwd_set_dest(struct jc_fwd *, const char *rhost, uint16_t rport);

/* Number of live relayed connections. */
int	jc_fwd_active(const struct jc_fwd *);

/* Connections accepted since the start (a measure of activity). */
uint64_t jc_fwd_accepted(const struct jc_fwd *);

/* Close the listener and every connection.  NULL is a no-op. */
void	jc_fwd_free(struct jc_fwd *);

#endif /* JC_FORWARD_H */
