/*
 * ssm_sess.h - the session every layer hangs from: options, the StartSession
 * answer and struct ssm_sess (filled by ssm.c and ssm_pool.c).
 */
#ifndef SSM_SESS_H
#define SSM_SESS_H

#include <stddef.h>
#include <stdint.h>

#include "jc_plugin.h"

#define SSM_SESSIONS_DEFAULT	4	/* ssm.sessions, from measurement */
#define SSM_SESSIONS_MAX	16

struct ssm_opts {
	size_t		 chunk;		/* ssm.chunk_size: payload bytes */
	size_t		 window;	/* ssm.window: unacked data msgs */
	int		 reconnect_ms;	/* ssm.reconnect_s: resume budget */
	int		 keepalive_ms;	/* ssm.smux_keepalive_ms (10 s) */
	int		 ping_ms;	/* ssm.ping_s (60 s) */
	int		 dead_ms;	/* ssm.dead_s: a ping unanswered this
					   long means a dead path */
	int		 give_up_ms;	/* unacked message resent this long */
	int		 connect_ms;	/* WebSocket connect + upgrade */
	int		 handshake_ms;	/* from open to HandshakeComplete */
	int		 sessions;	/* ssm.sessions: port sessions per
					   destination */
	int		 idle_ms;	/* ssm.session_idle_s: close an idle
					   extra one after this */
};

struct ssm_sess;
struct ssm_chan;
struct ssm_term;

struct ssm_start {
	char		 sid[160];	/* SessionId */
	char		*token;		/* TokenValue (secret: wipe) */
	char		*url;		/* StreamUrl */
};

/* Session-level (ssm.c) */
struct ssm_sess {
	char		 target[64];	/* instance id */
	char		 client_id[37];	/* one per process run */
	struct ssm_opts	 o;
	struct ssm_chan	*chans;		/* port, proxy and exec channels */
	struct ssm_start spare;		/* from connect(), until used */
	char		 spare_doc[64];
	char		 spare_port[8];
	int64_t		 spare_until;
	int		 dead;		/* 0, or sticky JC_ERR_* */
	int		 closing;

	/* the pool of port sessions (ssm_pool.c) */
	struct jc_source *pool_src;	/* ramp and idle timers */
	struct ssm_chan	*starting;	/* its StartSession is in flight */
	int64_t		 next_start;	/* no StartSession before this */
	int		 throttled;	/* ThrottlingExceptions in a row */
	int		 failures;	/* other failures in a row */
	struct ssm_term	*terms;		/* TerminateSession in flight */

	/*
	 * Set by the layers above the channel, so that it calls them
	 * only through these.  take_spare (ssm.c): the session connect()
	 * started, offered to each channel opened with StartSession
	 * (0: moved into *st; 1: none that fits).  port_ended (ssm_pool.c):
	 * a port channel ended or failed, its unstarted streams move on.
	 */
	int		(*take_spare)(struct ssm_sess *, const char *doc,
			    const char *const *params, struct ssm_start *st);
	void		(*port_ended)(struct ssm_chan *);
};

#endif /* SSM_SESS_H */
