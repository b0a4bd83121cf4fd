/*
 * ssm_chan.h - one data channel, and the operations each kind of
 * channel gives it (ssm_chan.c).
 */
#ifndef SSM_CHAN_H
#define SSM_CHAN_H

#include "buf.h"
#include "ssm_msg.h"
#include "ssm_rel.h"
#include "ssm_sess.h"
#include "ssm_smux.h"

#define SSM_K_PORT		1	/* port forwarding (mux/basic) */
#define SSM_K_RAW		2	/* one raw stream (ProxyCommand) */
#define SSM_K_EXEC		3	/* NonInteractiveCommand */

#define SSM_C_OPENING		0	/* WebSocket up, handshake running */
#define SSM_C_READY		1	/* HandshakeComplete seen */
#define SSM_C_RESUMING		2	/* WebSocket lost, resuming */
#define SSM_C_ENDED		3	/* channel_closed or our close */
#define SSM_C_FAILED		4	/* fatal error (ch->error) */
#define SSM_C_QUEUED		5	/* extra: waits for its StartSession */
#define SSM_C_STARTING		6	/* extra: StartSession in flight */

/*
 * What differs by kind of channel (as OpenSSH's channels.c keeps
 * channel_pre and channel_post per channel type).  Each kind defines its
 * table (ssm_port.c, ssm_exec.c) and hands it to the channel it opens;
 * ssm_chan.c calls a kind only through it.  A NULL operation is nothing
 * to do.
 */
struct ssm_chan_kind {
	int	 kind;			/* SSM_K_* */
	const char *const *types;	/* session types the agent may open */
	int	 talks_first;		/* may start without a handshake */
	int	 quiet;			/* its ends logged at DEBUG */
	int	 stop_flag;		/* told to stop on release */
	int	 silent_end_fails;	/* ended before any byte: unreachable */
	int	 warn_refusal;		/* ended with a reason, no byte: warn */
	int	 drops_late;		/* data after its end is dropped */
	/* The handshake is done: read the mode it chose. */
	void	 (*mode)(struct ssm_chan *);
	void	 (*ready)(struct ssm_chan *);
	/* Payload of an in-order message.  Returns bytes taken or <0. */
	long	 (*deliver)(struct ssm_chan *, uint32_t,
		    const unsigned char *, size_t);
	/* Write what gathered for local consumers this pass. */
	void	 (*flush)(struct ssm_chan *);
	void	 (*prepare)(struct ssm_chan *, struct jc_pollset *,
		    int64_t *);
	void	 (*dispatch)(struct ssm_chan *, struct jc_pollset *);
	/* The channel ended or failed. */
	void	 (*end)(struct ssm_chan *);
	/* The channel is being released: free the kind's own state. */
	void	 (*release)(struct ssm_chan *);
};

struct ssm_chan {
	struct ssm_sess	*s;		/* NB. borrowed */
	const struct ssm_chan_kind *ops; /* its kind's operations */
	int		 kind;		/* SSM_K_*, ops->kind */
	/* How its StartSession went (ssm_chan_start): 0, THROTTLED, err. */
	void		(*on_started)(struct ssm_chan *, int r);
	int		 state;		/* SSM_C_* */
	int		 error;		/* JC_ERR_* when FAILED */
	char		 why[256];	/* channel_closed text / error */
	char		 doc[64];	/* document name */
	struct ssm_start st;		/* SessionId, token, StreamUrl */
	struct ssm_ws	*ws;
	struct jc_source *src;
	int		 ws_slot;
	int		 ws_ok;		/* a WebSocket reached OPEN once */
	int		 ws_ahead;	/* this one was made ahead (ssm_warm) */
	int		 no_ahead;	/* one such failed: dial anew */
	int		 in_dispatch;
	int		 terminated;	/* TerminateSession called */
	int		 bad_frames;	/* invalid frames dropped */
	uint64_t	 resent;	/* retransmissions */
	int		 resumes;	/* successful ResumeSession */
	int		 extra;		/* opened by the pool, not the first */
	int		 warm;		/* opened ahead of its first stream */
	int		 was_ready;	/* reached READY once */
	struct jc_aws_call *call;	/* StartSession in flight */
	int64_t		 idle_since;	/* no live stream since (0: busy) */
	uint64_t	 nstreams_total; /* streams it ever carried */

	/* sequencing */
	int64_t		 next_seq;	/* our next sequence number */
	struct ssm_txq	 tx;
	struct ssm_rxq	 rx;
	struct ssm_rto	 rto;
	struct ssm_pace	 pace;		/* in-flight byte cap */
	int		 paused;	/* pause_publication in force */
	int		 rx_blocked;	/* handler refused the head */
	size_t		 unflushed;	/* bytes handled since acks left */

	/* handshake */
	struct ssm_hs	 hs;
	int		 hs_seen;	/* HandshakeRequest handled */
	int		 mux, keepalive, raw;

	/* timers (monotonic ms; 0 = off) */
	int64_t		 hs_deadline;
	int64_t		 dial_deadline;	/* WebSocket upgrade */
	int64_t		 next_ping;
	int64_t		 ping_sent;	/* an unanswered ping's time, or 0 */
	int64_t		 next_resend;
	int64_t		 resume_at;	/* next resume attempt */
	int64_t		 resume_until;	/* give up after this */
	int		 resume_delay;
	int		 resume_state;	/* state to go back to */
	int64_t		 next_nop;	/* smux keepalive */
	int64_t		 last_frame;	/* smux frame received */
	int64_t		 opened;	/* channel creation */

	/* port sessions */
	char		 host[256];	/* destination as the agent sees it */
	uint16_t	 port;
	struct ssm_stream *streams;
	struct ssm_stream *rr;		/* round-robin start */
	struct ssm_smux_rx smux;
	uint32_t	 next_sid;
	int		 nstreams;
	int		 connect_errors;
	uint64_t	 rx_bytes;	/* bytes from the far side */
	int		 said_accepted;

	/* exec */
	char		*out, *err;
	size_t		 outlen, errlen, outcap, errcap;
	int		 truncated;
	int		 status;	/* exit code, -1 unknown */
	int		 got_exit;
	volatile int	 done;		/* exec finished (or failed) */

	struct ssm_chan	*next;
};

/*
 * Open a channel: StartSession(doc, params), dial, send OpenDataChannel.
 * The handshake completes in the loop.  Returns 0 and *out (already
 * linked into s->chans) or a JC_ERR_* after logging one clear line.
 */
int	ssm_chan_open(struct ssm_sess *s, const struct ssm_chan_kind *kind,
	    const char *doc, const char *const *params,
	    struct ssm_chan **out);
/*
 * An extra port session of the pool: linked into s->chans in state
 * SSM_C_QUEUED, with a loop source but no Session Manager session yet;
 * ssm_chan_start() begins its StartSession without waiting.
 */
int	ssm_chan_new_queued(struct ssm_sess *s,
	    const struct ssm_chan_kind *kind, const char *doc,
	    struct ssm_chan **out);
/*
 * StartSession for a queued channel through host->aws_json_start, then
 * the WebSocket dialled from the loop.  on_started (when not NULL) hears
 * how it went: 0, SSM_START_THROTTLED or an error.  Returns 0 or a
 * JC_ERR_* (not started).
 */
#define SSM_START_THROTTLED	1
int	ssm_chan_start(struct ssm_chan *, const char *const *params,
	    void (*on_started)(struct ssm_chan *, int r));

/*
 * Close: Terminate flag for port sessions, TerminateSession, WebSocket
 * down, streams closed; unlinks from s->chans and frees.
 */
void	ssm_chan_free(struct ssm_chan *);
/* Free what a finished channel holds (source, socket, streams), not it. */
void	ssm_chan_release(struct ssm_chan *);
/*
 * Queue one sequenced input_stream_data message.  data messages count
 * against the window.  Returns 0 or JC_ERR_NOMEM / JC_ERR_CLOSED.
 */
int	ssm_chan_send(struct ssm_chan *, uint32_t ptype, const void *p,
	    size_t n, int data);
/*
 * The same for a data message built in place: frame is malloc'd with
 * SSM_FRAME_HDR bytes of room before its plen payload bytes; ownership
 * passes in every case.
 */
int	ssm_chan_send_frame(struct ssm_chan *, unsigned char *frame,
	    size_t plen, uint32_t ptype);
/* A consumer has room again: hand off what the reorder buffer holds. */
void	ssm_chan_kick(struct ssm_chan *);
/* Room for another data message (window, ring, socket backlog)? */
int	ssm_chan_can_send(const struct ssm_chan *);
/* Mark the channel failed with err and a reason; logged once. */
void	ssm_chan_fail(struct ssm_chan *, int err, const char *fmt, ...)
	    JC_PRINTF(3, 4);

#endif /* SSM_CHAN_H */
