/*
 * ssm_pool.c - several port sessions per destination.
 *
 * AWS's SSM agent paces every port session (1 KiB output messages, 1 ms
 * apart: about 0.7 MB/s), each session separately.  So the local
 * connections to one destination are spread over up to ssm.sessions port
 * sessions ("channels"), each an smux of its own:
 *
 * - the first channel is opened when the first connection comes, waited
 *   for, and serves at once;
 * - a new connection goes to the channel with the fewest live streams,
 *   then a READY one rather than one still opening, then the one with
 *   the fewest bytes queued or unacknowledged;
 * - when every channel already carries a stream, one more is queued (up
 *   to ssm.sessions) and the connection waits for it; StartSession is
 *   rate-limited per account, so one call at a time, at least
 *   START_GAP_MS apart, and never waited for: the call and the WebSocket
 *   connect run in the loop while the other channels move data;
 * - a queued channel starts SETTLE_MS after it was queued, not at once:
 *   a client that closes one connection and opens the next (a check, a
 *   browser's first requests) often has the close noticed a moment after
 *   the accept, and a READY channel left without an active stream takes
 *   the waiting connections at once instead of a session that costs
 *   StartSession, the WebSocket and the handshake (seven round trips);
 * - a start that is throttled (or meets a 5xx, a lost connection) is
 *   tried again after a jittered backoff; one that fails otherwise waits
 *   longer; either way the pool just stays smaller: the waiting
 *   connections move to the channels that work, nobody sees an error;
 * - a channel that ends (the agent's idle timeout, channel_closed) lets
 *   its connections finish as before; those that never reached the agent
 *   move to another channel; a replacement is queued on demand;
 * - an extra channel idle for ssm.session_idle_s is terminated; one is
 *   always kept, unless it was opened ahead (JC_STREAM_WARM: the port
 *   Jupyter had last time, started while the remote is searched) and
 *   never carried a stream: then the port was wrong.
 *
 * A stream that has not yet sent its SYN (its channel is not ready) has
 * no state on the far side and nothing read from its socket, so it may
 * move freely between channels of the same destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ssm_host.h"
#include "ssm_pool.h"
#include "ssm_port.h"

#define START_GAP_MS		340	/* about 3 StartSession per second */
#define SETTLE_MS		25	/* a queued channel's grace, see above */
#define THROTTLE_BASE_MS	500	/* first backoff after throttling */
#define THROTTLE_MAX_MS		16000
#define FAIL_BASE_MS		5000	/* after another failure */
#define FAIL_MAX_MS		120000

static void pool_prepare(void *, struct jc_pollset *, int64_t *);
static void pool_dispatch(void *, struct jc_pollset *);
static const struct jc_source_ops pool_ops = { pool_prepare, pool_dispatch };

static int
finished(const struct ssm_chan *ch)
{
	return ch->state == SSM_C_ENDED || ch->state == SSM_C_FAILED;
}

static int
same_dest(const struct ssm_chan *ch, const char *host, uint16_t port)
{
	return ch->kind == SSM_K_PORT && ch->port == port &&
	    strcmp(ch->host, host) == 0;
}

static int
enabled(const struct ssm_sess *s)
{
	return s->o.sessions > 1 && JC_HOST_HAS(ssm_host, aws_json_start) &&
	    JC_HOST_HAS(ssm_host, aws_json_cancel);
}

/* Equal jitter: half of ms fixed, half random. */
static int64_t
jitter(int64_t ms)
{
	unsigned char r[2] = { 0, 0 };

	(void)RAND_bytes(r, sizeof(r));
	return ms / 2 + (int64_t)(r[0] | r[1] << 8) % (ms / 2 + 1);
}

static int64_t
backoff(int64_t base, int64_t max, int n)
{
	int64_t b = base;

	while (--n > 0 && b < max)
		b *= 2;
	return jitter(b > max ? max : b);
}

/*
 * The channel for a new stream to host:port, skipping `not`: fewest
 * active streams (a stream that sent its FIN is over for this purpose),
 * then READY before opening, then fewest bytes in flight.  *live
 * receives its streams, *count the destination's unfinished channels.
 */
static struct ssm_chan *
pick(const struct ssm_sess *s, const char *host, uint16_t port,
    const struct ssm_chan *not, int *live, int *count)
{
	struct ssm_chan *ch, *best = NULL;
	size_t bytes, best_bytes = 0;
	int n, best_n = 0, ready, best_ready = 0;

	*count = 0;
	for (ch = s->chans; ch != NULL; ch = ch->next) {
		if (!same_dest(ch, host, port) || finished(ch))
			continue;
		(*count)++;
		if (ch == not)
			continue;
		n = ssm_port_active(ch);
		ready = ch->state == SSM_C_READY;
		bytes = ch->tx.bytes + ch->rx.bytes;
		if (best == NULL || n < best_n || (n == best_n &&
		    (ready > best_ready || (ready == best_ready &&
		    bytes < best_bytes)))) {
			best = ch;
			best_n = n;
			best_ready = ready;
			best_bytes = bytes;
		}
	}
	*live = best_n;
	return best;
}

/* Move the streams of ch that never reached the agent elsewhere. */
static void
rehome(struct ssm_chan *ch)
{
	struct ssm_stream *list, *st;
	struct ssm_chan *to;
	int live, count, moved = 0;

	if (ch->s->closing)
		return;
	list = ssm_port_detach_unstarted(ch);
	while ((st = list) != NULL) {
		list = st->next;
		to = pick(ch->s, ch->host, ch->port, ch, &live, &count);
		if (to != NULL)
			moved++;
		ssm_port_attach(to != NULL ? to : ch, st);
	}
	if (moved > 0)
		ssm_log(JC_LOG_DEBUG, "%d connection%s to port %u moved to "
		    "another session", moved, moved == 1 ? "" : "s", ch->port);
}

/* A port channel ended or failed (ssm_sess.port_ended). */
static void
pool_chan_ended(struct ssm_chan *ch)
{
	struct ssm_sess *s = ch->s;
	int64_t wait, now = ssm_host->now_ms();

	/* An extra that never got ready: StartSession, dial, handshake. */
	if (ch->extra && !ch->was_ready && ch->state == SSM_C_FAILED &&
	    !s->closing) {
		wait = backoff(FAIL_BASE_MS, FAIL_MAX_MS, ++s->failures);
		if (s->next_start < now + wait)
			s->next_start = now + wait;
	}
	rehome(ch);
}

/* How a queued channel's StartSession went (ssm_chan_start). */
static void
pool_started(struct ssm_chan *ch, int r)
{
	struct ssm_sess *s = ch->s;
	int64_t wait, now = ssm_host->now_ms();

	if (s->starting == ch)
		s->starting = NULL;
	if (r == 0) {
		s->throttled = 0;
		s->failures = 0;
		return;
	}
	if (r == SSM_START_THROTTLED) {
		/* Waiting connections go where the data flows already. */
		wait = backoff(THROTTLE_BASE_MS, THROTTLE_MAX_MS,
		    ++s->throttled);
		if (s->next_start < now + wait)
			s->next_start = now + wait;
		ssm_log(JC_LOG_VERBOSE, "Session Manager throttled "
		    "StartSession; another session to port %u in %lld ms",
		    ch->port, (long long)wait);
		rehome(ch);
		if (ssm_port_live(ch) == 0)
			ssm_chan_free(ch);
		return;
	}
	/* The failure backs the next start off (pool_chan_ended). */
	if (!finished(ch))
		ssm_chan_fail(ch, r, "one more session to port %u could not "
		    "be added; the others carry on", ch->port);
}

/* Start the oldest queued channel when its turn came. */
static void
start_next(struct ssm_sess *s, int64_t now)
{
	struct ssm_chan *ch, *q = NULL;
	const char *pr[9];
	char ps[8];
	int r;

	if (s->starting != NULL || now < s->next_start)
		return;
	for (ch = s->chans; ch != NULL; ch = ch->next)
		if (ch->state == SSM_C_QUEUED)
			q = ch;		/* the list is newest first */
	if (q == NULL || now < q->opened + SETTLE_MS)
		return;
	(void)ssm_port_doc(q->host, q->port, 0, pr, ps);
	s->next_start = now + START_GAP_MS;
	if ((r = ssm_chan_start(q, pr, pool_started)) != 0) {
		pool_started(q, r);
		return;
	}
	s->starting = q;
}

/* Another live READY channel for the same destination? */
static int
has_other(const struct ssm_sess *s, const struct ssm_chan *ch)
{
	const struct ssm_chan *o;

	for (o = s->chans; o != NULL; o = o->next)
		if (o != ch && same_dest(o, ch->host, ch->port) &&
		    o->state == SSM_C_READY)
			return 1;
	return 0;
}

/*
 * Connections waiting on a queued channel go to a READY channel of the
 * same destination that has no active stream left (see SETTLE_MS); the
 * queued channel, then empty, is dropped by trim() unstarted.
 */
static void
take_waiting(struct ssm_sess *s)
{
	struct ssm_chan *q, *to;
	struct ssm_stream *list, *st;
	int moved;

	for (q = s->chans; q != NULL; q = q->next) {
		if (q->kind != SSM_K_PORT || q->state != SSM_C_QUEUED ||
		    q->in_dispatch)
			continue;
		for (to = s->chans; to != NULL; to = to->next)
			if (to != q && same_dest(to, q->host, q->port) &&
			    to->state == SSM_C_READY &&
			    ssm_port_active(to) == 0)
				break;
		if (to == NULL)
			continue;
		moved = 0;
		list = ssm_port_detach_unstarted(q);
		while ((st = list) != NULL) {
			list = st->next;
			ssm_port_attach(to, st);
			moved++;
		}
		if (moved > 0)
			ssm_log(JC_LOG_DEBUG, "session %s free again: took %d "
			    "waiting connection%s to port %u", to->st.sid,
			    moved, moved == 1 ? "" : "s", q->port);
	}
}

/*
 * Queued channels whose connections all went away before their turn are
 * dropped (nothing was started); READY ones beyond the first are
 * terminated after ssm.session_idle_s without an active stream or a
 * frame from the agent.  Returns 1 when it freed one (the
 * list changed).
 */
static int
trim(struct ssm_sess *s, int64_t now)
{
	struct ssm_chan *ch;

	for (ch = s->chans; ch != NULL; ch = ch->next) {
		if (ch->kind != SSM_K_PORT || ch->in_dispatch)
			continue;
		if (ch->state == SSM_C_QUEUED && ssm_port_live(ch) == 0 &&
		    !ch->warm) {
			ssm_chan_free(ch);
			return 1;
		}
		if (ch->state != SSM_C_READY)
			continue;
		/*
		 * Streams that sent their FIN may wait long for the agent's
		 * (FIN_WAIT_MS): idle once nothing came for them either.
		 */
		if (ssm_port_active(ch) > 0 || ch->tx.unacked > 0) {
			ch->idle_since = 0;
			continue;
		}
		if (ch->idle_since == 0)
			ch->idle_since = now;
		if (ch->last_frame > ch->idle_since)
			ch->idle_since = ch->last_frame;
		if (now - ch->idle_since < s->o.idle_ms ||
		    (!has_other(s, ch) && !(ch->warm &&
		    ch->nstreams_total == 0)))
			continue;
		ssm_log(JC_LOG_VERBOSE, "session %s: idle for %d s after %llu "
		    "connection%s; terminated (one session to port %u is "
		    "always kept)", ch->st.sid, s->o.idle_ms / 1000,
		    (unsigned long long)ch->nstreams_total,
		    ch->nstreams_total == 1 ? "" : "s", ch->port);
		ssm_chan_free(ch);
		return 1;
	}
	return 0;
}

static void
pool_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct ssm_sess *s = arg;
	struct ssm_chan *ch;
	int64_t t;

	(void)ps;
	for (ch = s->chans; ch != NULL; ch = ch->next) {
		if (ch->kind != SSM_K_PORT)
			continue;
		t = -1;
		if (ch->state == SSM_C_QUEUED && s->starting == NULL)
			t = s->next_start > ch->opened + SETTLE_MS ?
			    s->next_start : ch->opened + SETTLE_MS;
		else if (ch->state == SSM_C_READY && (has_other(s, ch) ||
		    (ch->warm && ch->nstreams_total == 0))) {
			if (ch->idle_since > 0)
				t = ch->idle_since + s->o.idle_ms;
			else if (ssm_port_active(ch) == 0 &&
			    ch->tx.unacked == 0)
				t = ssm_host->now_ms();	/* note it idle */
		}
		if (t >= 0 && (*deadline < 0 || t < *deadline))
			*deadline = t;
	}
}

static void
pool_dispatch(void *arg, struct jc_pollset *ps)
{
	struct ssm_sess *s = arg;
	int64_t now = ssm_host->now_ms();

	(void)ps;
	if (s->closing)
		return;
	take_waiting(s);
	while (trim(s, now))
		;
	start_next(s, now);
}

int
ssm_pool_stream(struct ssm_sess *s, const char *host, uint16_t port,
    int flags, int *fdp)
{
	struct ssm_chan *ch;
	const char *pr[9];
	char ps[8];
	int live, count, r;

	if (ssm_is_loopback(host))
		host = "";
	ch = pick(s, host, port, NULL, &live, &count);
	/* After a throttled or failed start, only once the backoff is over. */
	if (ch != NULL && live > 0 && count < s->o.sessions && enabled(s) &&
	    ((s->throttled == 0 && s->failures == 0) ||
	    ssm_host->now_ms() >= s->next_start)) {
		/* Every session carries a stream already: one more. */
		if (ssm_chan_new_queued(s, &ssm_port_kind,
		    ssm_port_doc(host, port, 0, pr, ps), &ch) != 0)
			return JC_ERR_NOMEM;
		snprintf(ch->host, sizeof(ch->host), "%s", host);
		ch->port = port;
		ssm_log(JC_LOG_DEBUG, "another session to port %u queued (%d "
		    "of %d)", port, count + 1, s->o.sessions);
		if ((r = ssm_port_stream(ch, flags, fdp)) != 0) {
			ssm_chan_free(ch);
			return r;
		}
		/* Started by pool_dispatch() once SETTLE_MS is over. */
		return 0;
	}
	if (ch == NULL)		/* the first: waited for */
		return ssm_open_chan_stream(s, host, port, 0, flags, fdp);
	/* Opened ahead, now the destination's first: its failures count. */
	if (ch->warm && count == 1)
		ch->extra = 0;
	return ssm_port_stream(ch, flags, fdp);
}

int
ssm_pool_warm(struct ssm_sess *s, const char *host, uint16_t port)
{
	struct ssm_chan *ch;
	const char *pr[9];
	char ps[8];
	int live, count;

	if (ssm_is_loopback(host))
		host = "";
	if (pick(s, host, port, NULL, &live, &count) != NULL ||
	    !JC_HOST_HAS(ssm_host, aws_json_start) ||
	    !JC_HOST_HAS(ssm_host, aws_json_cancel))
		return 0;
	if (ssm_chan_new_queued(s, &ssm_port_kind, ssm_port_doc(host, port, 0, pr, ps),
	    &ch) != 0)
		return JC_ERR_NOMEM;
	snprintf(ch->host, sizeof(ch->host), "%s", host);
	ch->port = port;
	ch->warm = 1;
	ch->opened -= SETTLE_MS;	/* nothing to settle: start now */
	ssm_log(JC_LOG_DEBUG, "a session to port %u opened ahead", port);
	start_next(s, ssm_host->now_ms());
	return 0;
}

int
ssm_pool_init(struct ssm_sess *s)
{
	if ((s->pool_src = ssm_host->source_add(&pool_ops, s)) == NULL)
		return JC_ERR_NOMEM;
	s->port_ended = pool_chan_ended;
	return 0;
}

void
ssm_pool_fini(struct ssm_sess *s)
{
	if (s->pool_src != NULL) {
		ssm_host->source_del(s->pool_src);
		s->pool_src = NULL;
	}
}
