/*
 * ssm_rel.h - reliability of the data channel: RTO, pacing, the send
 * ring and the reorder buffer (ssm_rel.c).
 */
#ifndef SSM_REL_H
#define SSM_REL_H

#include <stddef.h>
#include <stdint.h>

/* Round-trip estimator of the reference (Jacobson), in ms. */
struct ssm_rto {
	double		 rtt;		/* smoothed RTT */
	double		 rttvar;	/* RTT variation */
	int64_t		 rto;		/* current timeout */
};
#define SSM_RTO_INIT		200
#define SSM_RTO_MAX		1000
void	ssm_rto_init(struct ssm_rto *);
void	ssm_rto_sample(struct ssm_rto *, int64_t r_ms);

/*
 * How many frame bytes may wait for an ack: twice the path's
 * bandwidth-delay product (the best ack rate of recent intervals times the
 * smallest RTT seen), within [lo, hi].  It starts at lo; while the cap is
 * what limits the rate, rate x RTT equals the cap and it doubles every
 * interval, so a slow path reaches hi in a few round trips while a fast
 * local one keeps little in memory.
 */
struct ssm_pace {
	int64_t		 min_rtt;	/* ms, -1 until sampled */
	int64_t		 t0;		/* start of the rate interval */
	size_t		 acked;		/* bytes acked since t0 */
	double		 max_rate;	/* bytes per ms, decaying maximum */
	size_t		 lo, hi, cap;
};
#define SSM_PACE_TICK		10	/* ms, shortest rate interval */
void	ssm_pace_init(struct ssm_pace *, size_t lo, size_t hi, int64_t now);
/* bytes acked now; rtt_ms < 0 when the ack may be for a resend (Karn). */
void	ssm_pace_ack(struct ssm_pace *, size_t bytes, int64_t rtt_ms,
	    int64_t now);

/* Outgoing sequenced messages kept until acknowledged. */
struct ssm_txent {
	unsigned char	*frame;		/* NULL once acked */
	size_t		 len;
	int64_t		 first;		/* first send, monotonic ms */
	int64_t		 sent;		/* last (re)send, 0 = resend now */
	int		 attempts;	/* resends so far */
	int		 data;		/* counts against the window */
};

struct ssm_txq {
	struct ssm_txent *e;		/* ring of cap slots */
	size_t		 cap, head, count;
	int64_t		 base;		/* seq of e[head] */
	size_t		 unacked;	/* entries with a frame */
	size_t		 unacked_data;	/* ... that are data */
	size_t		 bytes;		/* frame bytes held */
	size_t		 maxcap;	/* ring never grows past this */
};

void	ssm_txq_init(struct ssm_txq *, size_t maxcap);
void	ssm_txq_free(struct ssm_txq *);
/* Room for one more entry (the ring may still grow)? */
int	ssm_txq_room(const struct ssm_txq *);
/*
 * Keep frame (ownership passes) as sequence number seq, which must be
 * base + count.  Returns 0 or JC_ERR_NOMEM (frame is then freed).
 */
int	ssm_txq_push(struct ssm_txq *, int64_t seq, unsigned char *frame,
	    size_t len, int data, int64_t now);
/*
 * An ack for seq: frees its frame.  Returns 1 and fills *a when it was
 * outstanding, 0 for an unknown or repeated ack.
 */
struct ssm_acked {
	int64_t		 sample_ms;	/* now - last send */
	size_t		 len;		/* frame bytes freed */
	int		 resent;	/* sent more than once (Karn) */
};
int	ssm_txq_ack(struct ssm_txq *, int64_t seq, int64_t now,
	    struct ssm_acked *a);
/* Entry for seq, or NULL. */
struct ssm_txent *ssm_txq_get(struct ssm_txq *, int64_t seq);

/* Incoming messages buffered in sequence order (reorder buffer). */
struct ssm_rxent {
	unsigned char	*p;		/* payload copy, NULL = empty slot */
	uint32_t	 len, off;	/* off: bytes already handed off */
	uint32_t	 ptype;
	int		 used;		/* slot holds a message */
};

struct ssm_rxq {
	struct ssm_rxent *e;		/* cap slots, seq % cap */
	size_t		 cap;
	int64_t		 expected;	/* next seq to hand off */
	size_t		 count, bytes, maxbytes;
};

#define SSM_RX_STORED		0	/* kept: ack it */
#define SSM_RX_DUP		1	/* seen before: re-ack it */
#define SSM_RX_FULL		2	/* no room: drop, no ack */

/* Returns 0 or JC_ERR_NOMEM. */
int	ssm_rxq_init(struct ssm_rxq *, size_t cap, size_t maxbytes);
void	ssm_rxq_free(struct ssm_rxq *);
/* Store a copy of message seq.  Returns SSM_RX_* or JC_ERR_NOMEM. */
int	ssm_rxq_put(struct ssm_rxq *, int64_t seq, uint32_t ptype,
	    const void *p, size_t len);
/* The message at `expected`, or NULL. */
struct ssm_rxent *ssm_rxq_head(struct ssm_rxq *);
/* Drop the head and advance `expected`. */
void	ssm_rxq_pop(struct ssm_rxq *);

#endif /* SSM_REL_H */
