/*
 * ssm_port.c - port sessions: the local streams the core asked for, and
 * how their bytes travel in a data channel.
 *
 *   mux   smux v1 (agent > 3.0.196.0, LocalPortForwarding): any number of
 *         streams, ids 3, 5, 7 ..., PSH frames packed into data messages
 *   basic one stream at a time; local EOF sends DisconnectToPort and the
 *         next queued stream takes over
 *   raw   one stream, no framing (AWS-StartSSHSession: ProxyCommand)
 *
 * Each stream is the accepted local socket itself (JC_STREAM_ADOPT), or
 * the plugin's end of a socketpair whose other end the core relays (the
 * ProxyCommand's stdin/stdout).  Local bytes are read straight into the
 * payload of a new message, and only while the channel's window has
 * room; agent bytes are written to the socket, buffered up to
 * STREAM_BUF, and a full buffer makes the handler refuse the rest (the
 * data channel then holds it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat.h"
#include "ssm_host.h"
#include "ssm_port.h"

#define STREAM_BUF	(64 * 1024)	/* agent -> local, per stream */
#define STREAMS_MAX	1024		/* local connections per session */
#define FIN_WAIT_MS	30000		/* mux: answer to our FIN */
#define RAW_LINGER_MS	2000		/* raw: quiet time after local EOF */
#define BUILD_MAX	256		/* messages built per pass */
#define STAGE_BUF	(64 * 1024)	/* local -> agent read-ahead */
#define STAGE_MIN	(16 * 1024)	/* reads this large skip it */
#define DIRECT_MIN	(16 * 1024)	/* agent bytes sent without copy */
#define SOCK_BUF	(512 * 1024)	/* socketpair send buffers */
#define GATHER_IOV	16		/* PSH bodies per sendmsg */

static void	ssm_port_flush(struct ssm_chan *);
static void	ssm_port_free_streams(struct ssm_chan *);

static int64_t
now_ms(void)
{
	return ssm_host->now_ms();
}

static void
lower(int64_t *deadline, int64_t t)
{
	if (t > 0 && (*deadline < 0 || t < *deadline))
		*deadline = t;
}

static int
ch_finished(const struct ssm_chan *ch)
{
	return ch->state == SSM_C_ENDED || ch->state == SSM_C_FAILED;
}

static struct ssm_stream *
first_live(const struct ssm_chan *ch)
{
	struct ssm_stream *st;

	for (st = ch->streams; st != NULL; st = st->next)
		if (!st->dead)
			return st;
	return NULL;
}

static void
stream_close(struct ssm_stream *st)
{
	if (st->dead)
		return;
	if (st->sp >= 0)
		close(st->sp);
	st->sp = -1;
	jc_buf_free(&st->tosock);
	jc_buf_free(&st->fromsock);
	st->dead = 1;
	st->readable = 0;
}

/* The local side is gone for good: drop what it will never read. */
static void
stream_gone(struct ssm_stream *st)
{
	st->gone = 1;
	st->local_eof = 1;
	st->readable = 0;
	if (st->eof_at == 0)
		st->eof_at = now_ms();
	jc_buf_free(&st->tosock);
	jc_buf_free(&st->fromsock);
}

static void
stream_flush(struct ssm_stream *st)
{
	ssize_t n;

	while (st->tosock.len > 0) {
		n = send(st->sp, jc_buf_ptr(&st->tosock), st->tosock.len,
		    JC_MSG_NOSIGNAL);
		if (n > 0) {
			jc_buf_consume(&st->tosock, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		stream_gone(st);
		return;
	}
	jc_buf_shrink(&st->tosock);
}

/*
 * Agent bytes for st.  Large payloads go straight to the socket when
 * nothing waits; small ones gather in tosock, written when it holds
 * DIRECT_MIN bytes or at the end of the pass (ssm_port_flush): one system
 * call per many 1 KiB messages, not one each.  Returns bytes taken.
 */
static size_t
stream_take(struct ssm_stream *st, const unsigned char *p, size_t n)
{
	size_t taken = 0, k, before;
	ssize_t w;

	if (st->dead || st->gone)
		return n;
	if (st->tosock.len == 0 && n >= DIRECT_MIN) {
		w = send(st->sp, p, n, JC_MSG_NOSIGNAL);
		if (w > 0)
			taken = (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			stream_gone(st);
			return n;
		}
	}
	for (;;) {
		while (taken < n &&
		    (k = jc_buf_put(&st->tosock, p + taken, n - taken)) > 0)
			taken += k;
		if (st->tosock.len >= DIRECT_MIN) {
			before = st->tosock.len;
			stream_flush(st);
			if (st->gone)
				return n;
			if (taken < n && st->tosock.len < before)
				continue;
		}
		return taken;
	}
}

/* Read up to want local bytes of st into dst (see STAGE_BUF). */
static ssize_t
stream_read(struct ssm_stream *st, unsigned char *dst, size_t want)
{
	size_t room;
	ssize_t n;

	if (st->fromsock.len == 0) {
		if (want >= STAGE_MIN) {
			if ((n = read(st->sp, dst, want)) >= 0 &&
			    (size_t)n < want)
				st->readable = 0;
			return n;
		}
		room = jc_buf_room(&st->fromsock);
		if ((n = jc_buf_read_fd(&st->fromsock, st->sp)) <= 0)
			return n;
		if ((size_t)n < room)
			st->readable = 0;
	}
	n = (ssize_t)(st->fromsock.len < want ? st->fromsock.len : want);
	memcpy(dst, jc_buf_ptr(&st->fromsock), (size_t)n);
	jc_buf_consume(&st->fromsock, (size_t)n);
	jc_buf_shrink(&st->fromsock);
	return n;
}

/* Local bytes are waiting to be read (in the socket or read ahead). */
static int
has_local(const struct ssm_stream *st)
{
	return !st->local_eof && (st->readable || st->fromsock.len > 0);
}

static void
ssm_port_flush(struct ssm_chan *ch)
{
	struct ssm_stream *st;
	int room = 0;

	for (st = ch->streams; st != NULL; st = st->next)
		if (!st->dead && st->tosock.len > 0) {
			stream_flush(st);
			room = 1;
		}
	if (room)
		ssm_chan_kick(ch);
}

/*
 * A new stream on ch: with JC_STREAM_ADOPT, *fdp is the local socket and
 * becomes ours; otherwise make a socketpair and give the core one end.
 */
int
ssm_port_stream(struct ssm_chan *ch, int flags, int *fdp)
{
	struct ssm_stream *st;
	int sv[2], sockbuf = SOCK_BUF;

	if (ch_finished(ch))
		return JC_ERR_CLOSED;
	if (ch->nstreams >= STREAMS_MAX) {
		ssm_log(JC_LOG_WARN, "session %s: %d connections at once is the "
		    "limit; this one is closed", ch->st.sid, STREAMS_MAX);
		return JC_ERR_UNSUPPORTED;
	}
	if (flags & JC_STREAM_ADOPT) {
		sv[0] = *fdp;
		sv[1] = -1;
	} else if (jc_socketpair(AF_UNIX, SOCK_STREAM | JC_SOCK_CLOEXEC, 0,
	    sv) != 0)
		return JC_ERR_IO;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		if (sv[1] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		return JC_ERR_NOMEM;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	if (sv[1] >= 0) {
		/* Fewer, larger hand-overs between us and the core's relay. */
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sockbuf,
		    sizeof(sockbuf));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sockbuf,
		    sizeof(sockbuf));
	}
	st->ch = ch;
	st->sp = sv[0];
	st->in_slot = -1;
	jc_buf_init(&st->tosock, STREAM_BUF);
	jc_buf_init(&st->fromsock, STAGE_BUF);
	ssm_port_attach(ch, st);
	*fdp = sv[1];
	return 0;
}

void
ssm_port_attach(struct ssm_chan *ch, struct ssm_stream *st)
{
	struct ssm_stream **pp;

	for (pp = &ch->streams; *pp != NULL; pp = &(*pp)->next)
		;
	st->ch = ch;
	st->next = NULL;
	st->in_slot = st->out_slot = -1;
	*pp = st;
	ch->nstreams++;
	ch->nstreams_total++;
	ch->idle_since = 0;
}

int
ssm_port_live(const struct ssm_chan *ch)
{
	const struct ssm_stream *st;
	int n = 0;

	for (st = ch->streams; st != NULL; st = st->next)
		if (!st->dead)
			n++;
	return n;
}

int
ssm_port_active(const struct ssm_chan *ch)
{
	const struct ssm_stream *st;
	int n = 0;

	for (st = ch->streams; st != NULL; st = st->next)
		if (!st->dead && !st->gone && !st->fin_sent)
			n++;
	return n;
}

struct ssm_stream *
ssm_port_detach_unstarted(struct ssm_chan *ch)
{
	struct ssm_stream **pp, *st, *list = NULL, **tail = &list;

	for (pp = &ch->streams; (st = *pp) != NULL;) {
		if (!st->dead && !st->syn_sent && !st->local_eof &&
		    !st->gone && st->fromsock.len == 0 &&
		    st->tosock.len == 0) {
			if (ch->rr == st)
				ch->rr = st->next;
			*pp = st->next;
			ch->nstreams--;
			st->next = NULL;
			*tail = st;
			tail = &st->next;
		} else
			pp = &st->next;
	}
	return list;
}

static void
activate(struct ssm_chan *ch, struct ssm_stream *st)
{
	st->syn_sent = 1;
	if (!ch->said_accepted) {
		ch->said_accepted = 1;
		ssm_log(JC_LOG_DEBUG, "session %s: first connection",
		    ch->st.sid);
	}
}

/* ---- agent -> local ---------------------------------------------------- */

static struct ssm_stream *
find_sid(const struct ssm_chan *ch, uint32_t sid)
{
	struct ssm_stream *st;

	for (st = ch->streams; st != NULL; st = st->next)
		if (!st->dead && st->syn_sent && st->sid == sid)
			return st;
	return NULL;
}

/*
 * PSH bodies of one message for one stream, written with one sendmsg()
 * instead of one send() each: the agent's frames straddle its messages,
 * so a 64 KiB message usually holds three pieces of the same stream.
 * Only while the stream has nothing buffered (order), and never more
 * than its buffer's room, so whatever the socket refuses fits there.
 */
struct gather {
	struct ssm_stream *st;		/* NB. borrowed; NULL when empty */
	struct iovec	 iov[GATHER_IOV];
	int		 n;
	size_t		 len;
};

static void
gather_flush(struct gather *g)
{
	struct ssm_stream *st = g->st;
	struct msghdr mh;
	ssize_t w;
	size_t skip, k;
	int i, n = g->n;

	if (st == NULL)
		return;
	g->st = NULL;
	g->n = 0;
	g->len = 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = g->iov;
	mh.msg_iovlen = (size_t)n;
	w = sendmsg(st->sp, &mh, JC_MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		stream_gone(st);
		return;
	}
	skip = w > 0 ? (size_t)w : 0;
	for (i = 0; i < n; i++) {
		k = skip < g->iov[i].iov_len ? skip : g->iov[i].iov_len;
		skip -= k;
		(void)jc_buf_put(&st->tosock,
		    (const unsigned char *)g->iov[i].iov_base + k,
		    g->iov[i].iov_len - k);
	}
}

/* Take p for st into g, or return 0 (then use stream_take). */
static int
gather_add(struct gather *g, struct ssm_stream *st, const unsigned char *p,
    size_t n)
{
	if (g->st != NULL && g->st != st)
		gather_flush(g);
	if (st->dead || st->gone || st->tosock.len > 0)
		return 0;
	if (g->n == GATHER_IOV || g->len + n > jc_buf_room(&st->tosock)) {
		gather_flush(g);
		return 0;
	}
	g->st = st;
	g->iov[g->n].iov_base = (void *)(uintptr_t)p;
	g->iov[g->n].iov_len = n;
	g->n++;
	g->len += n;
	return 1;
}

static long
mux_deliver(struct ssm_chan *ch, const unsigned char *p, size_t n)
{
	struct gather g = { 0 };
	struct ssm_smux_ev ev;
	struct ssm_stream *st;
	size_t off = 0, used, k;
	int r;

	while (off < n) {
		r = ssm_smux_parse(&ch->smux, p + off, n - off, &ev, &used);
		if (r < 0) {
			gather_flush(&g);
			ssm_chan_fail(ch, JC_ERR_PROTO, "session %s: invalid "
			    "smux frame from the SSM agent", ch->st.sid);
			return -1;
		}
		off += used;
		if (r == 0)
			break;
		ch->last_frame = now_ms();
		st = find_sid(ch, ev.sid);
		switch (ev.cmd) {
		case SMUX_PSH:
			/* Bytes for a closed stream are discarded (smux). */
			if (st == NULL || st->remote_fin ||
			    gather_add(&g, st, ev.data, ev.len))
				k = ev.len;
			else
				k = stream_take(st, ev.data, ev.len);
			ssm_smux_took(&ch->smux, k);
			off += k;
			if (k < ev.len) {
				gather_flush(&g);
				return (long)off;
			}
			break;
		case SMUX_FIN:
			if (st != NULL)
				st->remote_fin = 1;
			break;
		default:
			/* SYN from the server, NOP: nothing to do. */
			break;
		}
	}
	gather_flush(&g);
	return (long)off;
}

static void
on_flag(struct ssm_chan *ch, const unsigned char *p, size_t n)
{
	struct ssm_stream *st;
	uint32_t code;

	if (n != 4)
		return;
	code = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (code != SSM_FLAG_CONNECT_ERROR) {
		ssm_log(JC_LOG_DEBUG, "session %s: flag %u ignored",
		    ch->st.sid, code);
		return;
	}
	if (ch->connect_errors++ < 3)
		ssm_log(JC_LOG_WARN, "the SSM agent on %s could not connect "
		    "to %s:%u (ConnectToPortError): is anything listening "
		    "there?", ch->s->target, ch->host[0] ? ch->host :
		    "localhost", ch->port);
	/* Basic mode: that connection is over.  Mux: a FIN follows. */
	if (!ch->mux && (st = first_live(ch)) != NULL) {
		st->fin_sent = 1;
		stream_gone(st);
		stream_close(st);
	}
}

static long
ssm_port_deliver(struct ssm_chan *ch, uint32_t ptype, const unsigned char *p,
    size_t n)
{
	struct ssm_stream *st;

	if (ptype == SSM_PT_FLAG) {
		on_flag(ch, p, n);
		return (long)n;
	}
	if (ptype != SSM_PT_OUTPUT) {
		ssm_log(JC_LOG_DEBUG, "session %s: payload type %u ignored",
		    ch->st.sid, ptype);
		return (long)n;
	}
	if (ch->mux) {
		ch->rx_bytes += n;
		return mux_deliver(ch, p, n);
	}
	/* Basic and raw: bytes belong to the current connection. */
	if ((st = first_live(ch)) == NULL)
		return 0;
	if (!st->syn_sent)
		activate(ch, st);
	st->last_rx = now_ms();
	ch->rx_bytes += n;
	return (long)stream_take(st, p, n);
}

/* ---- local -> agent ---------------------------------------------------- */

static unsigned char *
frame_new(const struct ssm_chan *ch)
{
	return malloc(SSM_FRAME_HDR + ch->s->o.chunk);
}

static int
nop_due(const struct ssm_chan *ch, int64_t now)
{
	return ch->mux && ch->keepalive && ch->next_nop > 0 &&
	    now >= ch->next_nop;
}

static int
mux_wants(const struct ssm_stream *st)
{
	return !st->dead && (!st->syn_sent ||
	    (!st->fin_sent && (st->local_eof || st->gone)) ||
	    has_local(st));
}

/* Pack SYN/FIN/NOP and PSH frames of several streams into one message. */
static int
mux_build(struct ssm_chan *ch, int64_t now)
{
	struct ssm_stream *st, *start;
	unsigned char *frame, *pl;
	size_t cap = ch->s->o.chunk, off = 0, want;
	ssize_t n;
	int any = nop_due(ch, now), full = 0, moved = 0;

	start = ch->rr != NULL && !ch->rr->dead ? ch->rr : ch->streams;
	for (st = ch->streams; st != NULL && !any; st = st->next)
		any = mux_wants(st);
	if (!any || (frame = frame_new(ch)) == NULL)
		return 0;
	pl = frame + SSM_FRAME_HDR;
	if (nop_due(ch, now)) {
		ssm_smux_hdr(pl, SMUX_NOP, 0, 0);
		off += SMUX_HDR;
		ch->next_nop = now + ch->s->o.keepalive_ms;
	}
	st = start;
	while (st != NULL && !full) {
		if (st->dead)
			goto next;
		if (!st->syn_sent) {
			if (cap - off < SMUX_HDR) {
				full = 1;
				break;
			}
			st->sid = ch->next_sid;
			ch->next_sid += 2;
			ssm_smux_hdr(pl + off, SMUX_SYN, 0, st->sid);
			off += SMUX_HDR;
			activate(ch, st);
		}
		if (st->remote_fin && !st->local_eof) {
			/* No half-close in smux: this stream is over. */
			st->local_eof = 1;
			st->readable = 0;
			st->eof_at = now;
		}
		if (has_local(st)) {
			if (cap - off <= SMUX_HDR) {
				full = 1;
				break;
			}
			want = cap - off - SMUX_HDR;
			if (want > SMUX_MAX_PSH)
				want = SMUX_MAX_PSH;
			n = stream_read(st, pl + off + SMUX_HDR, want);
			if (n > 0) {
				ssm_smux_hdr(pl + off, SMUX_PSH, (uint16_t)n,
				    st->sid);
				off += SMUX_HDR + (size_t)n;
				moved = 1;
			} else if (n == 0) {
				st->local_eof = 1;
				st->readable = 0;
				st->eof_at = now;
			} else if (errno == EAGAIN || errno == EINTR)
				st->readable = 0;
			else
				stream_gone(st);
		}
		if (!st->fin_sent && (st->local_eof || st->gone)) {
			if (cap - off < SMUX_HDR) {
				full = 1;
				break;
			}
			ssm_smux_hdr(pl + off, SMUX_FIN, 0, st->sid);
			off += SMUX_HDR;
			st->fin_sent = 1;
		}
 next:
		st = st->next != NULL ? st->next : ch->streams;
		if (st == start) {
			/* Another round while bytes keep coming. */
			if (!moved)
				break;
			moved = 0;
		}
	}
	/* The next message starts with the next stream (fairness). */
	if (full)
		ch->rr = st;
	else if (start != NULL)
		ch->rr = start->next != NULL ? start->next : ch->streams;
	if (off == 0) {
		free(frame);
		return 0;
	}
	return ssm_chan_send_frame(ch, frame, off, SSM_PT_OUTPUT) == 0;
}

/* Basic and raw: the first live stream is the connection. */
static int
plain_build(struct ssm_chan *ch, int64_t now)
{
	unsigned char flag[4] = { 0, 0, 0, SSM_FLAG_DISCONNECT };
	struct ssm_stream *st = first_live(ch);
	unsigned char *frame;
	ssize_t n;

	if (st == NULL)
		return 0;
	if (!st->syn_sent)
		activate(ch, st);
	if ((st->local_eof || st->gone) && !st->fin_sent) {
		if (ch->raw)
			return 0;	/* raw ends by linger (progress) */
		st->fin_sent = 1;
		stream_close(st);
		return ssm_chan_send(ch, SSM_PT_FLAG, flag, sizeof(flag),
		    1) == 0;
	}
	if (!has_local(st))
		return 0;
	if ((frame = frame_new(ch)) == NULL)
		return 0;
	n = stream_read(st, frame + SSM_FRAME_HDR, ch->s->o.chunk);
	if (n > 0)
		return ssm_chan_send_frame(ch, frame, (size_t)n,
		    SSM_PT_OUTPUT) == 0;
	free(frame);
	if (n == 0) {
		st->local_eof = 1;
		st->eof_at = now;
		st->readable = 0;
		return 1;	/* come back for the flag */
	}
	if (errno == EAGAIN || errno == EINTR)
		st->readable = 0;
	else
		stream_gone(st);
	return 1;
}

/* ---- per-stream endings ------------------------------------------------ */

static void
progress(struct ssm_chan *ch, struct ssm_stream *st, int64_t now)
{
	int drained = st->tosock.len == 0 && (ch->rx.count == 0 ||
	    ssm_rxq_head(&ch->rx) == NULL);

	if (st->dead)
		return;
	if (ch_finished(ch)) {
		/* Deliver what arrived, then EOF. */
		if (st->gone || drained)
			stream_close(st);
		return;
	}
	if (ch->mux) {
		if (st->remote_fin && st->tosock.len == 0 && !st->shut) {
			shutdown(st->sp, SHUT_WR);
			st->shut = 1;
		}
		if (st->fin_sent && (st->gone || (st->remote_fin &&
		    st->tosock.len == 0) || now - st->eof_at > FIN_WAIT_MS))
			stream_close(st);
		return;
	}
	if (ch->raw && (st->local_eof || st->gone) &&
	    ch->tx.unacked_data == 0 && now - (st->last_rx > st->eof_at ?
	    st->last_rx : st->eof_at) >= RAW_LINGER_MS)
		stream_close(st);
}

static void
reap(struct ssm_chan *ch)
{
	struct ssm_stream **pp, *st;

	for (pp = &ch->streams; (st = *pp) != NULL;) {
		if (st->dead) {
			if (ch->rr == st)
				ch->rr = st->next;
			*pp = st->next;
			free(st);
			ch->nstreams--;
		} else
			pp = &st->next;
	}
}

/* ---- loop hooks -------------------------------------------------------- */

static void
ssm_port_ready(struct ssm_chan *ch)
{
	int64_t now = now_ms();

	if (ch->mux)
		ssm_log(JC_LOG_VERBOSE, "session %s: smux v1, keepalive %s",
		    ch->st.sid, ch->keepalive ? "on" : "off");
	else
		ssm_log(JC_LOG_VERBOSE, "session %s: %s", ch->st.sid, ch->raw ?
		    "raw stream" : "basic mode (one connection at a time)");
	ch->last_frame = now;
	if (ch->keepalive)
		ch->next_nop = now + ch->s->o.keepalive_ms;
}

static void
ssm_port_prepare(struct ssm_chan *ch, struct jc_pollset *ps, int64_t *deadline)
{
	struct ssm_stream *st, *active = ch->mux ? NULL : first_live(ch);
	int can = ssm_chan_can_send(ch), work = 0;
	int64_t now = now_ms();
	short ev;

	for (st = ch->streams; st != NULL; st = st->next) {
		st->in_slot = -1;
		if (st->dead) {
			work = 1;
			continue;
		}
		ev = 0;
		if (st->tosock.len > 0)
			ev |= POLLOUT;
		/*
		 * Watch for local bytes even while the window is full, so
		 * that every stream with data is marked readable when room
		 * comes and the round robin serves them all, not only those
		 * that never ran dry.  Readable streams are not polled (no
		 * spinning); they just wait for room.
		 */
		if (!st->local_eof && (ch->mux || st == active)) {
			if (!has_local(st))
				ev |= POLLIN;
			else if (can)
				work = 1;
		}
		if (can && ch->mux && mux_wants(st))
			work = 1;
		if (can && !ch->mux && st == active && (st->local_eof ||
		    st->gone) && !st->fin_sent && !ch->raw)
			work = 1;
		if (ev != 0)
			st->in_slot = ssm_host->ps_add(ps, st->sp, ev);
		if (ch->mux && st->fin_sent)
			lower(deadline, st->eof_at + FIN_WAIT_MS + 1);
		if (ch->raw && st->local_eof)
			lower(deadline, (st->last_rx > st->eof_at ?
			    st->last_rx : st->eof_at) + RAW_LINGER_MS);
		if (ch_finished(ch) || (st->remote_fin && st->tosock.len == 0))
			work = 1;
	}
	if (ch->state == SSM_C_READY && ch->keepalive) {
		lower(deadline, ch->next_nop);
		lower(deadline, ch->last_frame + 3 * ch->s->o.keepalive_ms);
	}
	if (work)
		lower(deadline, now);
}

static void
ssm_port_dispatch(struct ssm_chan *ch, struct jc_pollset *ps)
{
	struct ssm_stream *st;
	int64_t now = now_ms();
	short rev;
	int i, room = 0;

	for (st = ch->streams; st != NULL; st = st->next) {
		if (st->dead || st->in_slot < 0)
			continue;
		rev = ssm_host->ps_revents(ps, st->in_slot);
		if (rev & (POLLIN | POLLHUP | POLLERR))
			st->readable = 1;
		if (st->tosock.len > 0 &&
		    (rev & (POLLOUT | POLLHUP | POLLERR))) {
			stream_flush(st);
			room = 1;
		}
	}
	if (room)
		ssm_chan_kick(ch);
	if (ch->state == SSM_C_READY && ch->keepalive &&
	    now - ch->last_frame > 3 * ch->s->o.keepalive_ms) {
		ssm_chan_fail(ch, JC_ERR_CLOSED, "session %s: nothing from "
		    "the SSM agent for %d s (smux keepalive)", ch->st.sid,
		    3 * ch->s->o.keepalive_ms / 1000);
	}
	for (i = 0; i < BUILD_MAX && ssm_chan_can_send(ch); i++)
		if (!(ch->mux ? mux_build(ch, now) : plain_build(ch, now)))
			break;
	for (st = ch->streams; st != NULL; st = st->next)
		progress(ch, st, now);
	reap(ch);
}

static void
ssm_port_end(struct ssm_chan *ch)
{
	/* progress() closes each stream once its bytes are delivered. */
	ch->next_nop = 0;
}

int
ssm_port_busy(const struct ssm_chan *ch)
{
	return first_live(ch) != NULL;
}

static void
ssm_port_free_streams(struct ssm_chan *ch)
{
	struct ssm_stream *st;

	while ((st = ch->streams) != NULL) {
		ch->streams = st->next;
		stream_close(st);
		free(st);
	}
	ch->rr = NULL;
	ch->nstreams = 0;
}

/* ---- opening, and the kinds' operations ---------------------------------- */

int
ssm_is_loopback(const char *h)
{
	return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "localhost") == 0 ||
	    strcmp(h, "::1") == 0 || *h == '\0';
}

const char *
ssm_port_doc(const char *host, uint16_t port, int raw, const char *pr[9],
    char ps[8])
{
	const char *doc;
	int i = 0;

	snprintf(ps, 8, "%u", port);
	if (ssm_is_loopback(host)) {
		doc = raw ? "AWS-StartSSHSession" :
		    "AWS-StartPortForwardingSession";
	} else {
		doc = "AWS-StartPortForwardingSessionToRemoteHost";
		pr[i++] = "host";
		pr[i++] = host;
	}
	pr[i++] = "portNumber";
	pr[i++] = ps;
	if (!raw || !ssm_is_loopback(host)) {
		pr[i++] = "localPortNumber";
		pr[i++] = "0";
	}
	pr[i] = NULL;
	return doc;
}

int
ssm_open_port_chan(struct ssm_sess *s, const char *host, uint16_t port,
    int raw, struct ssm_chan **out)
{
	char ps[8];
	const char *pr[9];
	const char *doc;
	struct ssm_chan *ch;
	int r;

	doc = ssm_port_doc(host, port, raw, pr, ps);
	if ((r = ssm_chan_open(s, raw ? &ssm_raw_kind : &ssm_port_kind, doc,
	    pr, &ch)) != 0)
		return r;
	snprintf(ch->host, sizeof(ch->host), "%s", ssm_is_loopback(host) ?
	    "" : host);
	ch->port = port;
	*out = ch;
	return 0;
}

/*
 * A new port channel and its first stream, waited for: a failure is the
 * caller's, and an instance out of reach ends the session (status()).
 */
int
ssm_open_chan_stream(struct ssm_sess *s, const char *host, uint16_t port,
    int raw, int flags, int *fdp)
{
	struct ssm_chan *ch;
	int r;

	if ((r = ssm_open_port_chan(s, host, port, raw, &ch)) != 0) {
		if (r == JC_ERR_UNREACHABLE || r == JC_ERR_AWS_AUTH)
			s->dead = r;
		return r;
	}
	if ((r = ssm_port_stream(ch, flags, fdp)) != 0)
		ssm_chan_free(ch);
	return r;
}

static void
port_mode(struct ssm_chan *ch)
{
	ssm_port_mode(&ch->hs, &ch->mux, &ch->keepalive, &ch->raw);
}

/* A port channel's end also tells the pool (its streams may move on). */
static void
port_end(struct ssm_chan *ch)
{
	ssm_port_end(ch);
	if (ch->s->port_ended != NULL)
		ch->s->port_ended(ch);
}

static const char *const port_types[] = { "Port", NULL };

const struct ssm_chan_kind ssm_port_kind = {
	.kind = SSM_K_PORT,
	.types = port_types, .stop_flag = 1, .warn_refusal = 1,
	.mode = port_mode, .ready = ssm_port_ready,
	.deliver = ssm_port_deliver, .flush = ssm_port_flush,
	.prepare = ssm_port_prepare, .dispatch = ssm_port_dispatch,
	.end = port_end, .release = ssm_port_free_streams,
};

const struct ssm_chan_kind ssm_raw_kind = {
	.kind = SSM_K_RAW,
	.types = port_types, .stop_flag = 1, .silent_end_fails = 1,
	.mode = port_mode, .ready = ssm_port_ready,
	.deliver = ssm_port_deliver, .flush = ssm_port_flush,
	.prepare = ssm_port_prepare, .dispatch = ssm_port_dispatch,
	.end = ssm_port_end, .release = ssm_port_free_streams,
};
