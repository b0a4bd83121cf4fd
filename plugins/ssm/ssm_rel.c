/*
 * ssm_rel.c - the reliable layer's data structures: the RTO estimator,
 * the outgoing queue of unacknowledged messages and the incoming reorder
 * buffer.  Both queues are rings indexed by sequence number, so an ack or
 * an out-of-order message costs O(1), and both are bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "ssm_host.h"
#include "ssm_rel.h"

/* ---- RTO (the reference's constants and formulas) ---------------------- */

#define RTO_ALPHA	0.125
#define RTO_BETA	0.25
#define RTO_G		10.0

void
ssm_rto_init(struct ssm_rto *r)
{
	r->rtt = 100.0;
	r->rttvar = 0.0;
	r->rto = SSM_RTO_INIT;
}

void
ssm_rto_sample(struct ssm_rto *r, int64_t r_ms)
{
	double s = (double)(r_ms < 0 ? 0 : r_ms), d, v;

	d = r->rtt - s;
	if (d < 0)
		d = -d;
	r->rttvar = (1.0 - RTO_BETA) * r->rttvar + RTO_BETA * d;
	r->rtt = (1.0 - RTO_ALPHA) * r->rtt + RTO_ALPHA * s;
	v = 4.0 * r->rttvar;
	if (v < RTO_G)
		v = RTO_G;
	v += r->rtt;
	r->rto = v > SSM_RTO_MAX ? SSM_RTO_MAX : (int64_t)v;
}

/* ---- in-flight cap ----------------------------------------------------- */

void
ssm_pace_init(struct ssm_pace *p, size_t lo, size_t hi, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->min_rtt = -1;
	p->t0 = now;
	p->lo = lo;
	p->hi = hi;
	p->cap = lo;
}

void
ssm_pace_ack(struct ssm_pace *p, size_t bytes, int64_t rtt_ms, int64_t now)
{
	int64_t rtt, span = now - p->t0;
	double rate, want;

	if (rtt_ms >= 0 && (p->min_rtt < 0 || rtt_ms < p->min_rtt))
		p->min_rtt = rtt_ms;
	p->acked += bytes;
	/* ms clocks: a local path counts as 1 ms. */
	rtt = p->min_rtt < 1 ? 1 : p->min_rtt;
	/* Two RTTs per interval, so a doubled cap shows in the next rate. */
	if (span < 2 * rtt || span < SSM_PACE_TICK)
		return;
	rate = (double)p->acked / (double)span;
	/* The best recent rate: an idle or slow spell lowers it gradually. */
	p->max_rate *= 0.75;
	if (rate > p->max_rate)
		p->max_rate = rate;
	want = 2.0 * p->max_rate * (double)rtt;
	p->cap = want < (double)p->lo ? p->lo : want > (double)p->hi ? p->hi :
	    (size_t)want;
	p->t0 = now;
	p->acked = 0;
}

/* ---- outgoing queue ---------------------------------------------------- */

void
ssm_txq_init(struct ssm_txq *q, size_t maxcap)
{
	memset(q, 0, sizeof(*q));
	q->maxcap = maxcap;
}

void
ssm_txq_free(struct ssm_txq *q)
{
	size_t i;

	for (i = 0; i < q->count; i++)
		free(q->e[(q->head + i) % q->cap].frame);
	free(q->e);
	memset(q, 0, sizeof(*q));
}

int
ssm_txq_room(const struct ssm_txq *q)
{
	return q->count < q->maxcap;
}

static int
txq_grow(struct ssm_txq *q)
{
	struct ssm_txent *n;
	size_t ncap = q->cap ? q->cap * 2 : 256, i;

	if (ncap > q->maxcap)
		ncap = q->maxcap;
	if (ncap <= q->cap || (n = calloc(ncap, sizeof(*n))) == NULL)
		return JC_ERR_NOMEM;
	for (i = 0; i < q->count; i++)
		n[i] = q->e[(q->head + i) % q->cap];
	free(q->e);
	q->e = n;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

int
ssm_txq_push(struct ssm_txq *q, int64_t seq, unsigned char *frame, size_t len,
    int data, int64_t now)
{
	struct ssm_txent *e;

	if (q->count == 0)
		q->base = seq;
	if (seq != q->base + (int64_t)q->count ||
	    (q->count == q->cap && txq_grow(q) != 0)) {
		free(frame);
		return JC_ERR_NOMEM;
	}
	e = &q->e[(q->head + q->count) % q->cap];
	e->frame = frame;
	e->len = len;
	e->first = e->sent = now;
	e->attempts = 0;
	e->data = data;
	q->count++;
	q->unacked++;
	if (data)
		q->unacked_data++;
	q->bytes += len;
	return 0;
}

struct ssm_txent *
ssm_txq_get(struct ssm_txq *q, int64_t seq)
{
	int64_t i = seq - q->base;

	if (q->count == 0 || i < 0 || i >= (int64_t)q->count)
		return NULL;
	return &q->e[(q->head + (size_t)i) % q->cap];
}

int
ssm_txq_ack(struct ssm_txq *q, int64_t seq, int64_t now, struct ssm_acked *a)
{
	struct ssm_txent *e = ssm_txq_get(q, seq);

	if (e == NULL || e->frame == NULL)
		return 0;
	a->sample_ms = now - (e->sent > 0 ? e->sent : e->first);
	a->len = e->len;
	a->resent = e->attempts > 0;
	free(e->frame);
	e->frame = NULL;
	q->unacked--;
	if (e->data)
		q->unacked_data--;
	q->bytes -= e->len;
	/* Slide past everything acknowledged at the front. */
	while (q->count > 0 && q->e[q->head].frame == NULL) {
		q->head = (q->head + 1) % q->cap;
		q->count--;
		q->base++;
	}
	return 1;
}

/* ---- incoming reorder buffer ------------------------------------------- */

int
ssm_rxq_init(struct ssm_rxq *q, size_t cap, size_t maxbytes)
{
	memset(q, 0, sizeof(*q));
	if ((q->e = calloc(cap, sizeof(*q->e))) == NULL)
		return JC_ERR_NOMEM;
	q->cap = cap;
	q->maxbytes = maxbytes;
	return 0;
}

void
ssm_rxq_free(struct ssm_rxq *q)
{
	size_t i;

	for (i = 0; q->e != NULL && i < q->cap; i++)
		free(q->e[i].p);
	free(q->e);
	memset(q, 0, sizeof(*q));
}

int
ssm_rxq_put(struct ssm_rxq *q, int64_t seq, uint32_t ptype, const void *p,
    size_t len)
{
	struct ssm_rxent *e;

	if (seq < q->expected)
		return SSM_RX_DUP;
	if (seq - q->expected >= (int64_t)q->cap)
		return SSM_RX_FULL;
	e = &q->e[(size_t)(seq % (int64_t)q->cap)];
	if (e->used)
		return SSM_RX_DUP;
	/* The head is always taken: it is what unblocks everything. */
	if (seq != q->expected && q->bytes + len > q->maxbytes)
		return SSM_RX_FULL;
	if ((e->p = malloc(len ? len : 1)) == NULL)
		return JC_ERR_NOMEM;
	if (len > 0)
		memcpy(e->p, p, len);
	e->len = (uint32_t)len;
	e->off = 0;
	e->ptype = ptype;
	e->used = 1;
	q->count++;
	q->bytes += len;
	return SSM_RX_STORED;
}

struct ssm_rxent *
ssm_rxq_head(struct ssm_rxq *q)
{
	struct ssm_rxent *e = &q->e[(size_t)(q->expected % (int64_t)q->cap)];

	return e->used ? e : NULL;
}

void
ssm_rxq_pop(struct ssm_rxq *q)
{
	struct ssm_rxent *e = ssm_rxq_head(q);

	if (e == NULL)
		return;
	q->bytes -= e->len;
	q->count--;
	free(e->p);
	memset(e, 0, sizeof(*e));
	q->expected++;
}
