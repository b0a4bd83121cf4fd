/*
 * ssm_port.h - port sessions: local streams carried by a port or raw
 * channel (ssm_port.c).
 */
#ifndef SSM_PORT_H
#define SSM_PORT_H

#include "ssm_chan.h"

/* The kinds of port channel, handed to the channel it opens. */
extern const struct ssm_chan_kind ssm_port_kind;
extern const struct ssm_chan_kind ssm_raw_kind;

/* One local connection of a port session. */
struct ssm_stream {
	struct ssm_chan	*ch;		/* NB. borrowed */
	int		 sp;		/* plugin end of the socketpair */
	uint32_t	 sid;		/* smux id (mux mode) */
	int		 syn_sent;	/* SYN went out (or basic: active) */
	int		 local_eof;	/* read 0 from sp */
	int		 fin_sent;	/* FIN (or DisconnectToPort) out */
	int		 remote_fin;	/* FIN received */
	int		 shut;		/* sp write side shut down */
	int		 gone;		/* sp unusable (peer closed) */
	int		 dead;		/* to be freed */
	int		 in_slot, out_slot;
	int		 readable;	/* POLLIN seen this pass */
	int64_t		 eof_at;	/* when local EOF was seen */
	int64_t		 last_rx;	/* raw: agent bytes last came */
	struct jc_buf	 tosock;	/* agent -> sp, bounded */
	struct jc_buf	 fromsock;	/* sp -> agent read-ahead */
	struct ssm_stream *next;
};

/* Open a port or raw channel to host:port, waiting (ssm_port.c). */
int	ssm_open_port_chan(struct ssm_sess *, const char *host, uint16_t port,
	    int raw, struct ssm_chan **out);
int	ssm_open_chan_stream(struct ssm_sess *, const char *host,
	    uint16_t port, int raw, int flags, int *fdp);
/* Parameters of a port session to host:port; ps holds the port text. */
const char *ssm_port_doc(const char *host, uint16_t port, int raw,
	    const char *pr[9], char ps[8]);
int	ssm_is_loopback(const char *host);

/* Port sessions (ssm_port.c); the rest is in ssm_port_kind. */
/* 1 when streams still have bytes to deliver locally. */
int	ssm_port_busy(const struct ssm_chan *);
/* New local stream; returns 0 and the core's socketpair end in *fdp. */
int	ssm_port_stream(struct ssm_chan *, int flags, int *fdp);
/* Streams not yet freed. */
int	ssm_port_live(const struct ssm_chan *);
/* ... and not finishing (FIN sent): the pool's load measure. */
int	ssm_port_active(const struct ssm_chan *);
/*
 * Unlink the streams of ch that never reached the agent (no SYN sent,
 * nothing read from them): they may go to another channel.
 */
struct ssm_stream *ssm_port_detach_unstarted(struct ssm_chan *ch);
/* Link a detached stream to ch. */
void	ssm_port_attach(struct ssm_chan *ch, struct ssm_stream *st);

#endif /* SSM_PORT_H */
