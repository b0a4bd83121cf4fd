/*
 * ssm_chan.c - one Session Manager data channel: a session started with
 * StartSession, its WebSocket, and the reliable layer on top of it
 * (sequence numbers, acks, re-acks of duplicates, the reorder buffer,
 * retransmission with the reference's RTO, pause/start publication, the
 * handshake, channel_closed and resuming after the WebSocket drops).
 *
 * A channel is a loop source.  Its dispatch reads frames, hands in-order
 * payloads to the session handler (ssm_port.c / ssm_exec.c), lets the
 * port code pump local streams into new messages while the window has
 * room, then runs the timers and flushes.  Nothing here sleeps or drops
 * data: a full window stops local reads, a busy local reader stops the
 * handler, and a full reorder buffer stops reading the WebSocket.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "compat.h"
#include "ssm_host.h"
#include "ssm_api.h"
#include "ssm_chan.h"
#include "ssm_warm.h"
#include "ssm_ws.h"

#define TXQ_MAX_SLOTS	65536		/* outgoing ring, never more */
#define RXQ_SLOTS	8192		/* reorder buffer, messages */
#define RXQ_BYTES	(8u << 20)	/* reorder buffer, bytes */
#define WS_BACKLOG_MAX	(384u * 1024)	/* unwritten WebSocket bytes */
#define INFLIGHT_MIN	(512u * 1024)	/* unacked frame bytes: paced */
#define INFLIGHT_MAX	(4u << 20)	/* between these, any window */
#define RESEND_TICK_MAX	100		/* the reference's scheduler tick */
#define RESEND_TICK_MIN	10
#define RESEND_BACKOFF_MAX 2000
#define RESEND_BURST	512		/* resends per tick at most */
#define RESUME_DELAY_MAX 5000
#define BAD_FRAME_LOGS	5
#define ACK_FLUSH	(256 * 1024)	/* payload bytes between ack flushes */

#define PROBE_MS	2000	/* data unacked, agent silent: ping now */
/*
 * A connection made ahead and connected already answers its upgrade in a
 * round trip; one made while the path was gone (a network change) never
 * does: it is given up on after this, and the WebSocket dialled anew.
 */
#define AHEAD_UPGRADE_MS 2000

static void chan_prepare(void *, struct jc_pollset *, int64_t *);
static void chan_dispatch(void *, struct jc_pollset *);
static const struct jc_source_ops chan_ops = { chan_prepare, chan_dispatch };

static void on_ws_msg(void *, int, const unsigned char *, size_t);
static void deliver_queue(struct ssm_chan *);
static struct ssm_chan *chan_alloc(struct ssm_sess *,
    const struct ssm_chan_kind *, const char *);

/*
 * What differs by kind of channel comes from the kind itself: it hands
 * its table of operations (struct ssm_chan_kind, as OpenSSH's channels.c
 * keeps channel_pre and channel_post per channel type) to ssm_chan_open,
 * and the code below calls them through it, asking no "which kind is it".
 */
#define KIND(ch)	((ch)->ops)

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
finished(const struct ssm_chan *ch)
{
	return ch->state == SSM_C_ENDED || ch->state == SSM_C_FAILED;
}

/* ---- failure and the end ------------------------------------------------ */

static void
terminate_once(struct ssm_chan *ch)
{
	if (ch->terminated || ch->st.sid[0] == '\0')
		return;
	ch->terminated = 1;
	ssm_api_terminate_bg(ch->s, ch->st.sid);
}

static void
chan_end(struct ssm_chan *ch)
{
	ch->hs_deadline = ch->resume_at = ch->next_nop = 0;
	KIND(ch)->end(ch);
}

void
ssm_chan_fail(struct ssm_chan *ch, int err, const char *fmt, ...)
{
	va_list ap;

	if (finished(ch))
		return;
	va_start(ap, fmt);
	vsnprintf(ch->why, sizeof(ch->why), fmt, ap);
	va_end(ap);
	ch->state = SSM_C_FAILED;
	ch->error = err;
	/*
	 * An extra port session that never carried a byte fails quietly:
	 * its streams go to the other sessions, the pool stays smaller.
	 */
	ssm_log(ch->extra && !ch->was_ready ? JC_LOG_VERBOSE : JC_LOG_ERROR,
	    "%s", ch->why);
	/* Push out what is queued (a HandshakeResponse saying why). */
	if (ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_OPEN)
		(void)ssm_ws_run(ch->ws, 0);
	terminate_once(ch);
	chan_end(ch);
}

/* ---- sending ------------------------------------------------------------- */

static int
ws_open(const struct ssm_chan *ch)
{
	return ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_OPEN;
}

static void
transmit(struct ssm_chan *ch, struct ssm_txent *e, int64_t now)
{
	if (ssm_ws_send(ch->ws, 0, e->frame, e->len) == 0)
		e->sent = now;
}

/*
 * Take a frame (malloc'd, SSM_FRAME_HDR bytes of room in front of plen
 * payload bytes), seal it with our next sequence number and send it.
 */
static int
send_frame(struct ssm_chan *ch, unsigned char *frame, size_t plen,
    uint32_t ptype, int data)
{
	struct ssm_txent *e;
	unsigned char id[16];
	int64_t now = now_ms();
	int r;

	if (finished(ch)) {
		free(frame);
		return JC_ERR_CLOSED;
	}
	ssm_uuid_new(id);
	ssm_msg_seal(frame, SSM_MT_INPUT, ssm_epoch_ms(), ch->next_seq, 0, id,
	    ptype, (uint32_t)plen);
	if ((r = ssm_txq_push(&ch->tx, ch->next_seq, frame,
	    SSM_FRAME_HDR + plen, data, now)) != 0) {
		ssm_chan_fail(ch, r, "session %s: out of memory", ch->st.sid);
		return r;
	}
	e = ssm_txq_get(&ch->tx, ch->next_seq);
	ch->next_seq++;
	e->sent = 0;
	if (ws_open(ch) && !ch->paused)
		transmit(ch, e, now);
	return 0;
}

int
ssm_chan_send(struct ssm_chan *ch, uint32_t ptype, const void *p, size_t n,
    int data)
{
	unsigned char *f;

	if ((f = malloc(SSM_FRAME_HDR + n)) == NULL)
		return JC_ERR_NOMEM;
	if (n > 0)
		memcpy(f + SSM_FRAME_HDR, p, n);
	return send_frame(ch, f, n, ptype, data);
}

int
ssm_chan_send_frame(struct ssm_chan *ch, unsigned char *frame, size_t plen,
    uint32_t ptype)
{
	return send_frame(ch, frame, plen, ptype, 1);
}

int
ssm_chan_can_send(const struct ssm_chan *ch)
{
	return ch->state == SSM_C_READY && !ch->paused && ws_open(ch) &&
	    ch->tx.unacked_data < ch->s->o.window &&
	    ch->tx.bytes < ch->pace.cap && ssm_txq_room(&ch->tx) &&
	    ssm_ws_backlog(ch->ws) < WS_BACKLOG_MAX;
}

static void
send_ack(struct ssm_chan *ch, const struct ssm_msg *m)
{
	unsigned char f[SSM_FRAME_HDR + 256], id[16];
	int n;

	if (!ws_open(ch))
		return;
	n = ssm_ack_json((char *)f + SSM_FRAME_HDR, sizeof(f) - SSM_FRAME_HDR,
	    m->type, m->id, m->seq);
	if (n < 0)
		return;
	ssm_uuid_new(id);
	ssm_msg_seal(f, SSM_MT_ACK, ssm_epoch_ms(), 0, 3, id, 0, (uint32_t)n);
	(void)ssm_ws_send(ch->ws, 0, f, SSM_FRAME_HDR + (size_t)n);
}

/* ---- handshake --------------------------------------------------------- */

static int
type_fits(const struct ssm_chan *ch, const char *t)
{
	const char *const *k;

	for (k = KIND(ch)->types; *k != NULL; k++)
		if (strcmp(t, *k) == 0)
			return 1;
	return 0;
}

static void
on_hs_request(struct ssm_chan *ch, const unsigned char *p, size_t n)
{
	char *resp;
	int i, r;

	if (ch->hs_seen) {
		ssm_log(JC_LOG_DEBUG, "session %s: second HandshakeRequest "
		    "ignored", ch->st.sid);
		return;
	}
	if (ssm_hs_parse(p, n, &ch->hs) != 0) {
		ssm_chan_fail(ch, JC_ERR_PROTO, "session %s: the SSM agent "
		    "sent a HandshakeRequest that is not valid JSON",
		    ch->st.sid);
		return;
	}
	ch->hs_seen = 1;
	if ((resp = ssm_hs_response(&ch->hs)) == NULL) {
		ssm_chan_fail(ch, JC_ERR_NOMEM, "session %s: out of memory",
		    ch->st.sid);
		return;
	}
	r = ssm_chan_send(ch, SSM_PT_HS_RESPONSE, resp, strlen(resp), 0);
	free(resp);
	if (r != 0)
		return;
	ssm_log(JC_LOG_VERBOSE, "session %s: agent %s, session type %s%s%s",
	    ch->st.sid, ch->hs.agent_version[0] ? ch->hs.agent_version : "?",
	    ch->hs.session_type[0] ? ch->hs.session_type : "?",
	    ch->hs.prop_type[0] ? ", " : "", ch->hs.prop_type);
	if (ch->hs.kms) {
		ssm_chan_fail(ch, JC_ERR_UNSUPPORTED, "session %s is "
		    "KMS-encrypted (the Session Manager preferences name a "
		    "KMS key) and jconnect does not support KMS-encrypted "
		    "sessions; remove the KMS key from the preferences or "
		    "use --via ssh", ch->st.sid);
		return;
	}
	for (i = 0; i < ch->hs.nact; i++)
		if (ch->hs.act[i].status != SSM_ACT_SUCCESS) {
			ssm_chan_fail(ch, JC_ERR_UNSUPPORTED, "session %s: "
			    "the SSM agent asked for %s, which jconnect "
			    "cannot do (%s)", ch->st.sid, ch->hs.act[i].type,
			    ch->hs.act[i].error);
			return;
		}
	if (ch->hs.session_type[0] == '\0' ||
	    !type_fits(ch, ch->hs.session_type)) {
		ssm_chan_fail(ch, JC_ERR_PROTO, "session %s: the SSM agent "
		    "opened a %s session for document %s", ch->st.sid,
		    ch->hs.session_type[0] ? ch->hs.session_type : "untyped",
		    ch->doc);
		return;
	}
	if (KIND(ch)->mode != NULL)
		KIND(ch)->mode(ch);
}

static void
on_hs_complete(struct ssm_chan *ch, const unsigned char *p, size_t n)
{
	char msg[512];

	if (!ch->hs_seen) {
		ssm_chan_fail(ch, JC_ERR_PROTO, "session %s: unable to "
		    "determine the session type (HandshakeComplete without "
		    "a HandshakeRequest)", ch->st.sid);
		return;
	}
	if (ssm_hs_complete(p, n, msg, sizeof(msg)) == 0 && msg[0] != '\0')
		ssm_log(JC_LOG_INFO, "%s", msg);
	if (ch->state != SSM_C_OPENING)
		return;
	ch->state = SSM_C_READY;
	ch->was_ready = 1;
	ch->hs_deadline = 0;
	ssm_log(JC_LOG_DEBUG, "session %s ready", ch->st.sid);
	if (KIND(ch)->ready != NULL)
		KIND(ch)->ready(ch);
}

/*
 * Hand an in-order payload to whoever consumes it.  Returns the bytes
 * taken (fewer than n: the consumer is full, try again later) or <0.
 */
static long
handle(struct ssm_chan *ch, uint32_t ptype, const unsigned char *p, size_t n)
{
	switch (ptype) {
	case SSM_PT_HS_REQUEST:
		on_hs_request(ch, p, n);
		return (long)n;
	case SSM_PT_HS_COMPLETE:
		on_hs_complete(ch, p, n);
		return (long)n;
	case SSM_PT_ENC_CHALLENGE:
		ssm_chan_fail(ch, JC_ERR_UNSUPPORTED, "session %s: the SSM "
		    "agent sent a KMS challenge; jconnect does not support "
		    "KMS-encrypted sessions", ch->st.sid);
		return -1;
	default:
		break;
	}
	if (ch->state == SSM_C_OPENING && !ch->hs_seen &&
	    KIND(ch)->talks_first) {
		/* Agents too old for a handshake just start talking. */
		ch->state = SSM_C_READY;
		ch->hs_deadline = 0;
	}
	if (ch->state == SSM_C_OPENING) {
		ssm_log(JC_LOG_DEBUG, "session %s: data before the handshake "
		    "finished, dropped", ch->st.sid);
		return (long)n;
	}
	if (finished(ch) && KIND(ch)->drops_late)
		return (long)n;
	return KIND(ch)->deliver(ch, ptype, p, n);
}

/* ---- receiving --------------------------------------------------------- */

static void
deliver_queue(struct ssm_chan *ch)
{
	struct ssm_rxent *e;
	long k;

	while ((e = ssm_rxq_head(&ch->rx)) != NULL) {
		k = handle(ch, e->ptype, e->p + e->off, e->len - e->off);
		if (k < 0)
			return;
		e->off += (uint32_t)k;
		if (e->off < e->len) {
			ch->rx_blocked = 1;
			return;
		}
		ssm_rxq_pop(&ch->rx);
	}
	ch->rx_blocked = 0;
}

void
ssm_chan_kick(struct ssm_chan *ch)
{
	if (ch->rx_blocked)
		deliver_queue(ch);
}

static void
on_output(struct ssm_chan *ch, const struct ssm_msg *m)
{
	long k;
	int r;

	if (m->seq < ch->rx.expected) {
		/* A duplicate: our ack was lost, say it again. */
		send_ack(ch, m);
		return;
	}
	if (m->seq == ch->rx.expected && ssm_rxq_head(&ch->rx) == NULL) {
		/* In order with nothing waiting: no copy. */
		send_ack(ch, m);
		k = handle(ch, m->ptype, m->payload, m->plen);
		if (k < 0)
			return;
		if ((size_t)k == m->plen) {
			ch->rx.expected++;
			deliver_queue(ch);
			return;
		}
		r = ssm_rxq_put(&ch->rx, m->seq, m->ptype, m->payload + k,
		    m->plen - (size_t)k);
		if (r < 0)
			ssm_chan_fail(ch, r, "session %s: out of memory",
			    ch->st.sid);
		ch->rx_blocked = 1;
		return;
	}
	r = ssm_rxq_put(&ch->rx, m->seq, m->ptype, m->payload, m->plen);
	if (r < 0) {
		ssm_chan_fail(ch, r, "session %s: out of memory", ch->st.sid);
		return;
	}
	if (r == SSM_RX_FULL)
		return;		/* no ack: the agent sends it again */
	send_ack(ch, m);
	if (r == SSM_RX_STORED && m->seq == ch->rx.expected)
		deliver_queue(ch);
}

/*
 * Acks leave once ACK_FLUSH bytes of payload were handled, not only after
 * the rest of what one read brought (up to 4 MiB): a late ack looks like
 * loss to a sender whose RTO is a few milliseconds on a fast path.  Not
 * after every message either: with 1 KiB messages that would be a system
 * call, and a wake-up of the far side, per KiB.
 */
static void
ack_now(struct ssm_chan *ch, size_t n)
{
	ch->unflushed += n + SSM_FRAME_HDR;
	if (ch->unflushed < ACK_FLUSH || ch->ws == NULL)
		return;
	ch->unflushed = 0;
	if (KIND(ch)->flush != NULL)
		KIND(ch)->flush(ch);
	ssm_ws_flush(ch->ws);
}

static void
on_ack(struct ssm_chan *ch, const struct ssm_msg *m)
{
	struct ssm_acked a;
	int64_t seq, now = now_ms();

	if (ssm_ack_parse(m->payload, m->plen, &seq) != 0) {
		ssm_log(JC_LOG_DEBUG, "session %s: unreadable ack dropped",
		    ch->st.sid);
		return;
	}
	if (ssm_txq_ack(&ch->tx, seq, now, &a)) {
		ssm_rto_sample(&ch->rto, a.sample_ms);
		ssm_pace_ack(&ch->pace, a.len, a.resent ? -1 : a.sample_ms,
		    now);
	}
}

static void
on_closed(struct ssm_chan *ch, const struct ssm_msg *m)
{
	char out[sizeof(ch->why)];

	if (finished(ch))
		return;
	if (ssm_closed_parse(m->payload, m->plen, out, sizeof(out)) != 0)
		out[0] = '\0';
	if (KIND(ch)->silent_end_fails && ch->rx_bytes == 0) {
		/*
		 * A raw stream (ssh ProxyCommand) that ends before the far
		 * side said a word never reached it: SSH servers speak
		 * first.  That is a failure, not a clean end.
		 */
		ssm_chan_fail(ch, JC_ERR_UNREACHABLE, "the SSM agent on %s "
		    "could not reach port %u there (session %s ended: %s)",
		    ch->s->target, ch->port, ch->st.sid, out[0] ? out :
		    "no reason given");
		return;
	}
	if (out[0] != '\0')
		snprintf(ch->why, sizeof(ch->why), "%s", out);
	else
		snprintf(ch->why, sizeof(ch->why), "session ended");
	ch->state = SSM_C_ENDED;
	/*
	 * A port session refused before a byte came back carries the
	 * agent's reason (e.g. a remote host it may not forward to).
	 */
	if (KIND(ch)->warn_refusal && ch->rx_bytes == 0 && out[0] != '\0')
		ssm_log(JC_LOG_WARN, "the SSM agent ended the session to "
		    "%s:%u: %s", ch->host[0] ? ch->host : "the instance's port",
		    ch->port, out);
	else
		ssm_log(KIND(ch)->quiet ? JC_LOG_DEBUG : JC_LOG_VERBOSE,
		    "session %s closed by Session Manager: %s", ch->st.sid,
		    ch->why);
	chan_end(ch);
}

static void
on_ws_msg(void *arg, int text, const unsigned char *p, size_t n)
{
	struct ssm_chan *ch = arg;
	struct ssm_msg m;

	if (ssm_msg_decode_hdr(p, n, &m) != 0)
		goto bad;
	/*
	 * A copy of what we already hold needs no digest: we re-ack it from
	 * the header (the one we kept was checked).  Under a resend storm
	 * that spares a SHA-256 per duplicate.
	 */
	if (strcmp(m.type, SSM_MT_OUTPUT) == 0 && (m.seq < ch->rx.expected ||
	    (m.seq - ch->rx.expected < (int64_t)ch->rx.cap &&
	    ch->rx.e[(size_t)(m.seq % (int64_t)ch->rx.cap)].used))) {
		send_ack(ch, &m);
		ack_now(ch, m.plen);
		return;
	}
	if (ssm_msg_check_digest(&m) != 0)
		goto bad;
	if (strcmp(m.type, SSM_MT_OUTPUT) == 0) {
		on_output(ch, &m);
		ack_now(ch, m.plen);
	} else if (strcmp(m.type, SSM_MT_ACK) == 0)
		on_ack(ch, &m);
	else if (strcmp(m.type, SSM_MT_CLOSED) == 0)
		on_closed(ch, &m);
	else if (strcmp(m.type, SSM_MT_PAUSE_PUB) == 0) {
		ssm_log(JC_LOG_DEBUG, "session %s: pause_publication",
		    ch->st.sid);
		ch->paused = 1;
	} else if (strcmp(m.type, SSM_MT_START_PUB) == 0) {
		if (ch->paused)
			ssm_log(JC_LOG_DEBUG, "session %s: start_publication",
			    ch->st.sid);
		ch->paused = 0;
	} else
		ssm_log(JC_LOG_DEBUG, "session %s: message type %s ignored",
		    ch->st.sid, m.type);
	return;
 bad:
	/* Dropped without an ack: a good copy will come again. */
	if (ch->bad_frames++ < BAD_FRAME_LOGS)
		ssm_log(JC_LOG_DEBUG, "session %s: invalid %s frame (%zu "
		    "bytes) dropped", ch->st.sid, text ? "text" : "binary", n);
}

/* ---- the WebSocket: dial, lose, resume --------------------------------- */

/*
 * Dial the StreamUrl and queue OpenDataChannel.  With wait, the connect
 * (TCP, TLS, proxy) is waited for; else it runs in the loop.
 */
/*
 * How long a WebSocket may take to connect and upgrade.  Once a session
 * has lost one, a new one that stays silent is as dead as a ping nobody
 * answers: give up on it after ssm.dead_s, not connect_timeout_s, so that
 * a try begun while the path was gone does not hold the tunnel up long
 * after the path is back.
 */
static int
dial_ms(const struct ssm_chan *ch)
{
	const struct ssm_opts *o = &ch->s->o;

	return ch->resume_until != 0 && o->dead_ms < o->connect_ms ?
	    o->dead_ms : o->connect_ms;
}

static int
chan_dial(struct ssm_chan *ch, int wait, char *why, size_t whylen)
{
	char *open;
	int r, ms;

	ssm_warm_learn(ch->st.url);
	ch->ws = ch->no_ahead ? NULL : ssm_warm_take(ch->st.url, on_ws_msg, ch);
	if (ch->ws != NULL && wait &&
	    ssm_ws_connect_wait(ch->ws, why, whylen) != 0) {
		ssm_ws_free(ch->ws);
		ch->ws = NULL;
	}
	ch->ws_ahead = ch->ws != NULL;
	if (ch->ws == NULL) {
		if ((r = ssm_ws_dial_start(ch->st.url, ssm_ca_bundle(),
		    dial_ms(ch), on_ws_msg, ch, &ch->ws, why, whylen)) != 0)
			return r;
		/* Waited for: the first session of a destination, a resume. */
		if (wait && (r = ssm_ws_connect_wait(ch->ws, why,
		    whylen)) != 0) {
			ssm_ws_free(ch->ws);
			ch->ws = NULL;
			return r;
		}
	}
	if ((open = ssm_open_json(ch->st.token, ch->s->client_id)) == NULL) {
		ssm_ws_free(ch->ws);
		ch->ws = NULL;
		return JC_ERR_NOMEM;
	}
	r = ssm_ws_send(ch->ws, 1, open, strlen(open));
	jc_wipe(open, strlen(open));
	free(open);
	if (r == 0)
		r = ssm_ws_ping(ch->ws);
	if (r != 0) {
		ssm_ws_free(ch->ws);
		ch->ws = NULL;
		return r;
	}
	ms = dial_ms(ch);
	if (ch->ws_ahead && ssm_ws_state(ch->ws) == SSM_WS_UPGRADING &&
	    ms > AHEAD_UPGRADE_MS)
		ms = AHEAD_UPGRADE_MS;
	ch->dial_deadline = now_ms() + ms;
	ch->next_ping = now_ms() + ch->s->o.ping_ms;
	ch->ping_sent = 0;
	return 0;
}

static void
schedule_resume(struct ssm_chan *ch, int64_t now)
{
	unsigned char rnd[2] = { 0, 0 };

	if (ch->resume_delay == 0) {
		(void)RAND_bytes(rnd, sizeof(rnd));
		ch->resume_delay = 100 + (rnd[0] | rnd[1] << 8) % 100;
	} else if ((ch->resume_delay *= 2) > RESUME_DELAY_MAX)
		ch->resume_delay = RESUME_DELAY_MAX;
	ch->resume_at = now + ch->resume_delay;
	if (ch->resume_at > ch->resume_until)
		ch->resume_at = ch->resume_until;
}

static void
resume_give_up(struct ssm_chan *ch)
{
	ssm_chan_fail(ch, JC_ERR_CLOSED, "lost the connection to Session "
	    "Manager (session %s) and could not resume it within %d s",
	    ch->st.sid, ch->s->o.reconnect_ms / 1000);
}

static void
chan_lost(struct ssm_chan *ch, const char *what)
{
	int64_t now = now_ms();
	char reason[160] = "", why[256];
	int code = 0;

	if (ch->ws != NULL) {
		ssm_ws_close_info(ch->ws, &code, reason, sizeof(reason));
		ssm_ws_free(ch->ws);
		ch->ws = NULL;
	}
	if (finished(ch))
		return;
	/*
	 * A connection made ahead that the far end closed while it waited,
	 * before any answer: not the session's fault, so one fresh dial.
	 */
	if (!ch->ws_ok && ch->ws_ahead && code == 0) {
		ch->no_ahead = 1;
		ch->ws_ahead = 0;
		ssm_log(JC_LOG_DEBUG, "session %s: the connection made ahead "
		    "failed (%s); dialling anew", ch->st.sid, what);
		if (chan_dial(ch, 0, why, sizeof(why)) == 0)
			return;
	}
	if (!ch->ws_ok) {
		/* Never got through: resuming would fail the same way. */
		ssm_chan_fail(ch, JC_ERR_UNREACHABLE, "session %s: the data "
		    "channel did not open (%s%s%s)", ch->st.sid, what,
		    reason[0] ? ": " : "", reason);
		return;
	}
	/*
	 * Session Manager refusing the resumed WebSocket (4xx but for a
	 * timeout or throttling) closed the session for good: fail now, so
	 * a transfer in flight ends at once instead of after ssm.reconnect_s.
	 */
	if (ch->resume_until != 0 && code >= 400 && code < 500 &&
	    code != 408 && code != 429) {
		ssm_chan_fail(ch, JC_ERR_CLOSED, "lost the connection to "
		    "Session Manager (session %s) and could not resume it: "
		    "the WebSocket was refused (HTTP %d)", ch->st.sid, code);
		return;
	}
	if (ch->state != SSM_C_RESUMING) {
		ch->resume_state = ch->state;
		ch->state = SSM_C_RESUMING;
	}
	/* The budget runs from the first loss until a socket is open again. */
	if (ch->resume_until == 0) {
		ch->resume_until = now + ch->s->o.reconnect_ms;
		ch->resume_delay = 0;
	} else if (now >= ch->resume_until) {
		resume_give_up(ch);
		return;
	}
	if (code != 0)
		ssm_log(JC_LOG_VERBOSE, "session %s: WebSocket lost (%s, close "
		    "%d \"%s\"); resuming", ch->st.sid, what, code, reason);
	else
		ssm_log(JC_LOG_VERBOSE, "session %s: WebSocket lost (%s%s%s); "
		    "resuming", ch->st.sid, what, reason[0] ? ": " : "",
		    reason);
	schedule_resume(ch, now);
}

/* ResumeSession answered (r, tok): dial again, or try later. */
static void
resume_answered(struct ssm_chan *ch, int r, char *tok, int wait)
{
	char why[256];
	int64_t now = now_ms();
	size_t i;

	if (r == JC_ERR_CLOSED) {
		ssm_chan_fail(ch, JC_ERR_CLOSED, "session %s: Session Manager "
		    "refused to resume it after the connection dropped",
		    ch->st.sid);
		return;
	}
	if (r == 0) {
		jc_wipe(ch->st.token, strlen(ch->st.token));
		free(ch->st.token);
		ch->st.token = tok;
		/* The original StreamUrl, only the token is new. */
		r = chan_dial(ch, wait, why, sizeof(why));
		if (r != 0)
			ssm_log(JC_LOG_VERBOSE, "session %s: %s", ch->st.sid,
			    why);
	}
	if (r != 0) {
		if (now >= ch->resume_until) {
			resume_give_up(ch);
			return;
		}
		schedule_resume(ch, now);
		return;
	}
	ch->state = ch->resume_state;
	if (ch->state == SSM_C_OPENING)
		ch->hs_deadline = now + ch->s->o.handshake_ms;
	/* Same sequence state: everything unacked goes out again. */
	for (i = 0; i < ch->tx.count; i++)
		ch->tx.e[(ch->tx.head + i) % ch->tx.cap].sent = 0;
	/* The new WebSocket may take another path: measure it afresh. */
	ssm_pace_init(&ch->pace, INFLIGHT_MIN, INFLIGHT_MAX, now);
	ch->resumes++;
}

static void
resume_done(void *arg, int r, char *out, const struct jc_aws_error *err)
{
	struct ssm_chan *ch = arg;
	char *tok = NULL;

	ch->call = NULL;
	r = ssm_api_resume_answer(ch->st.sid, r, out, err, &tok);
	if (out != NULL) {
		jc_wipe(out, strlen(out));
		ssm_host->free(out);
	}
	if (ch->state == SSM_C_RESUMING)
		resume_answered(ch, r, tok, 0);
	else if (tok != NULL) {
		jc_wipe(tok, strlen(tok));
		free(tok);
	}
}

/*
 * ResumeSession and the new WebSocket: run in the loop when the host
 * can (the other sessions keep moving), else waited for.
 */
static void
resume_try(struct ssm_chan *ch)
{
	char *tok = NULL;
	int r;

	ch->resume_at = 0;
	if (!ch->s->closing && ssm_api_resume_start(ch->st.sid, resume_done,
	    ch, &ch->call) == 0)
		return;
	r = ssm_api_resume(ch->st.sid, &tok);
	resume_answered(ch, r, tok, 1);
}

/* ---- timers ------------------------------------------------------------ */

static int64_t
resend_after(const struct ssm_chan *ch, const struct ssm_txent *e)
{
	int64_t t = ch->rto.rto << (e->attempts < 3 ? e->attempts : 3);

	return t > RESEND_BACKOFF_MAX ? RESEND_BACKOFF_MAX : t;
}

static int64_t
resend_tick(const struct ssm_chan *ch)
{
	int64_t t = ch->rto.rto / 2;

	if (t < RESEND_TICK_MIN)
		t = RESEND_TICK_MIN;
	return t > RESEND_TICK_MAX ? RESEND_TICK_MAX : t;
}

static void
resend(struct ssm_chan *ch, int64_t now)
{
	struct ssm_txent *e;
	size_t i;
	int burst = 0;

	ch->next_resend = 0;
	if (!ws_open(ch) || ch->paused || ch->tx.unacked == 0)
		return;
	for (i = 0; i < ch->tx.count && burst < RESEND_BURST; i++) {
		e = &ch->tx.e[(ch->tx.head + i) % ch->tx.cap];
		if (e->frame == NULL)
			continue;
		if (e->sent == 0) {
			/* Queued while paused or disconnected. */
			transmit(ch, e, now);
			burst++;
			continue;
		}
		if (now - e->sent <= resend_after(ch, e))
			continue;
		if (now - e->first > ch->s->o.give_up_ms) {
			ssm_chan_fail(ch, JC_ERR_CLOSED, "session %s: no "
			    "acknowledgement from the SSM agent for %d s; "
			    "giving up", ch->st.sid,
			    ch->s->o.give_up_ms / 1000);
			return;
		}
		/* Same bytes, same MessageId; the send time moves on. */
		e->attempts++;
		ch->resent++;
		transmit(ch, e, now);
		burst++;
	}
	if (ch->tx.unacked > 0)
		ch->next_resend = now + resend_tick(ch);
}

/*
 * A path that went silent (Wi-Fi lost, another network: no FIN, no RST)
 * shows only as silence, and TCP would take minutes to say so.  Ping
 * every ssm.ping_s, and at once when our data waits for an ack and the
 * agent has said nothing for PROBE_MS; a ping that nothing answers for
 * ssm.dead_s means the WebSocket is dead: resume on a new one.
 */
static int
liveness(struct ssm_chan *ch, int64_t now)
{
	int64_t rx = ssm_ws_last_rx(ch->ws);

	if (ch->ping_sent > 0 && rx >= ch->ping_sent)
		ch->ping_sent = 0;		/* answered (or data came) */
	if (ch->ping_sent > 0 && now - ch->ping_sent >= ch->s->o.dead_ms) {
		static int64_t said;

		/* Once for every session of the tunnel, not once each. */
		if (said == 0 || now - said > 60000)
			ssm_log(JC_LOG_WARN, "Session Manager left a ping "
			    "unanswered for %d s (did the network change?); "
			    "resuming", (int)((now - ch->ping_sent) / 1000));
		said = now;
		ch->ping_sent = 0;
		chan_lost(ch, "the path to Session Manager went silent");
		return -1;
	}
	if (ch->ping_sent == 0 && ((ch->next_ping > 0 && now >=
	    ch->next_ping) || (ch->tx.unacked > 0 && rx > 0 &&
	    now - rx >= PROBE_MS))) {
		if (ssm_ws_ping(ch->ws) == 0)
			ch->ping_sent = now;
		ch->next_ping = now + ch->s->o.ping_ms;
	}
	return 0;
}

static void
timers(struct ssm_chan *ch, int64_t now)
{
	if (ch->state == SSM_C_RESUMING) {
		if (ch->resume_at > 0 && now >= ch->resume_at)
			resume_try(ch);
		return;
	}
	if (finished(ch))
		return;
	if (ch->ws != NULL && (ssm_ws_state(ch->ws) == SSM_WS_UPGRADING ||
	    ssm_ws_state(ch->ws) == SSM_WS_CONNECTING) &&
	    now >= ch->dial_deadline + (ssm_ws_state(ch->ws) ==
	    SSM_WS_CONNECTING ? 1000 : 0)) {
		chan_lost(ch, "no WebSocket upgrade answer in time");
		return;
	}
	if (ch->hs_deadline > 0 && now >= ch->hs_deadline) {
		ssm_chan_fail(ch, JC_ERR_TIMEOUT, "session %s: no handshake "
		    "from the SSM agent within %d s", ch->st.sid,
		    ch->s->o.handshake_ms / 1000);
		return;
	}
	if (ws_open(ch) && liveness(ch, now) != 0)
		return;
	if (ch->tx.unacked > 0 && (ch->next_resend == 0 ||
	    now >= ch->next_resend))
		resend(ch, now);
}

/* ---- the loop source --------------------------------------------------- */

static void
chan_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct ssm_chan *ch = arg;
	short ev;

	ch->ws_slot = -1;
	if (ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_CONNECTING) {
		ssm_ws_connect_prepare(ch->ws, ps, deadline);
		lower(deadline, ch->dial_deadline);
	} else if (ch->ws != NULL && ssm_ws_state(ch->ws) != SSM_WS_CLOSED) {
		/*
		 * Always read: acks must keep flowing while a local reader
		 * is slow, or a client that writes before it reads would
		 * deadlock.  A full reorder buffer drops without an ack.
		 */
		ev = ssm_ws_events(ch->ws);
		if (ssm_ws_pending(ch->ws))
			lower(deadline, now_ms());
		ch->ws_slot = ssm_host->ps_add(ps, ssm_ws_fd(ch->ws), ev);
		if (ssm_ws_state(ch->ws) == SSM_WS_UPGRADING)
			lower(deadline, ch->dial_deadline);
	}
	if (ch->state == SSM_C_RESUMING)
		lower(deadline, ch->resume_at);
	else if (!finished(ch)) {
		lower(deadline, ch->hs_deadline);
		lower(deadline, ch->next_ping);
		if (ch->ping_sent > 0)
			lower(deadline, ch->ping_sent + ch->s->o.dead_ms);
		else if (ch->tx.unacked > 0 && ch->ws != NULL &&
		    ssm_ws_last_rx(ch->ws) > 0)
			lower(deadline, ssm_ws_last_rx(ch->ws) + PROBE_MS);
		if (ch->tx.unacked > 0) {
			if (ch->next_resend == 0)
				ch->next_resend = now_ms() + resend_tick(ch);
			lower(deadline, ch->next_resend);
		}
	}
	if (KIND(ch)->prepare != NULL)
		KIND(ch)->prepare(ch, ps, deadline);
}

static void
ws_io(struct ssm_chan *ch, short ev)
{
	int r, rx;

	if (ch->ws == NULL)
		return;
	rx = (ev & (POLLIN | POLLHUP | POLLERR)) || ssm_ws_pending(ch->ws);
	r = ssm_ws_run(ch->ws, rx);
	if (r == 0 && ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_OPEN) {
		ch->ws_ok = 1;
		ch->resume_until = 0;
	}
	if (r != 0 && ch->ws != NULL)
		chan_lost(ch, r == JC_ERR_CLOSED ? "closed by the peer" :
		    r == JC_ERR_PROTO ? "protocol error" : "I/O error");
}

/* The connect of a WebSocket dialled without waiting. */
static void
connect_io(struct ssm_chan *ch, struct jc_pollset *ps)
{
	char why[sizeof(ch->why)];

	if (ssm_ws_connect_step(ch->ws, ps) != 0) {
		snprintf(why, sizeof(why), "%s", ssm_ws_why(ch->ws));
		chan_lost(ch, why);
		return;
	}
	if (ssm_ws_state(ch->ws) == SSM_WS_UPGRADING) {
		/* The upgrade has its own budget, as when waited. */
		ch->dial_deadline = now_ms() + dial_ms(ch);
		ws_io(ch, POLLOUT);
	}
}

static void
chan_dispatch(void *arg, struct jc_pollset *ps)
{
	struct ssm_chan *ch = arg;
	short ev = 0;

	ch->in_dispatch = 1;
	if (ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_CONNECTING)
		connect_io(ch, ps);
	if (ch->ws_slot >= 0)
		ev = ssm_host->ps_revents(ps, ch->ws_slot);
	ws_io(ch, ev);
	ch->unflushed = 0;
	if (KIND(ch)->flush != NULL)
		KIND(ch)->flush(ch);
	if (ch->rx_blocked)
		deliver_queue(ch);
	if (KIND(ch)->dispatch != NULL)
		KIND(ch)->dispatch(ch, ps);
	timers(ch, now_ms());
	/* Flush what this pass queued (acks, data, resends). */
	if (ch->ws != NULL && ssm_ws_state(ch->ws) == SSM_WS_OPEN &&
	    ssm_ws_backlog(ch->ws) > 0)
		ws_io(ch, 0);
	ch->in_dispatch = 0;
}

/* ---- open and free ----------------------------------------------------- */

int
ssm_chan_open(struct ssm_sess *s, const struct ssm_chan_kind *kind,
    const char *doc, const char *const *params, struct ssm_chan **out)
{
	struct ssm_chan *ch;
	char why[256];
	int r;

	if ((ch = chan_alloc(s, kind, doc)) == NULL)
		return JC_ERR_NOMEM;
	if ((s->take_spare == NULL ||
	    (r = s->take_spare(s, doc, params, &ch->st)) != 0) &&
	    (r = ssm_api_start(s->target, doc, params, &ch->st)) != 0)
		goto fail;
	if ((r = chan_dial(ch, 1, why, sizeof(why))) != 0) {
		ssm_log(JC_LOG_ERROR, "session %s: %s", ch->st.sid, why);
		terminate_once(ch);
		goto fail;
	}
	if ((ch->src = ssm_host->source_add(&chan_ops, ch)) == NULL) {
		r = JC_ERR_NOMEM;
		terminate_once(ch);
		goto fail;
	}
	ch->opened = now_ms();
	ch->hs_deadline = ch->opened + s->o.handshake_ms;
	ch->next = s->chans;
	s->chans = ch;
	*out = ch;
	return 0;
 fail:
	ssm_ws_free(ch->ws);
	ssm_txq_free(&ch->tx);
	ssm_rxq_free(&ch->rx);
	ssm_start_clear(&ch->st);
	free(ch);
	return r;
}

static struct ssm_chan *
chan_alloc(struct ssm_sess *s, const struct ssm_chan_kind *kind,
    const char *doc)
{
	struct ssm_chan *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	ch->s = s;
	ch->ops = kind;
	ch->kind = kind->kind;
	ch->state = SSM_C_OPENING;
	ch->status = -1;
	ch->next_sid = 3;
	ch->ws_slot = -1;
	snprintf(ch->doc, sizeof(ch->doc), "%s", doc);
	ssm_txq_init(&ch->tx, TXQ_MAX_SLOTS);
	ssm_rto_init(&ch->rto);
	ssm_pace_init(&ch->pace, INFLIGHT_MIN, INFLIGHT_MAX, now_ms());
	if (ssm_rxq_init(&ch->rx, RXQ_SLOTS, RXQ_BYTES) != 0) {
		ssm_txq_free(&ch->tx);
		free(ch);
		return NULL;
	}
	return ch;
}

int
ssm_chan_new_queued(struct ssm_sess *s, const struct ssm_chan_kind *kind,
    const char *doc, struct ssm_chan **out)
{
	struct ssm_chan *ch;

	if ((ch = chan_alloc(s, kind, doc)) == NULL)
		return JC_ERR_NOMEM;
	ch->state = SSM_C_QUEUED;
	ch->extra = 1;
	if ((ch->src = ssm_host->source_add(&chan_ops, ch)) == NULL) {
		ssm_txq_free(&ch->tx);
		ssm_rxq_free(&ch->rx);
		free(ch);
		return JC_ERR_NOMEM;
	}
	ch->opened = now_ms();
	ch->next = s->chans;
	s->chans = ch;
	*out = ch;
	return 0;
}

/* Errors worth another StartSession later: throttling, 5xx, transport. */
static int
start_retryable(int r, const struct jc_aws_error *err)
{
	static const char *const codes[] = { "ThrottlingException",
	    "Throttling", "ThrottledException", "RequestLimitExceeded",
	    "TooManyRequestsException", "RequestThrottled",
	    "RequestThrottledException", "ServiceUnavailable",
	    "InternalServerError", "InternalFailure", NULL };
	int i;

	if (r == JC_ERR_IO || r == JC_ERR_TIMEOUT || err->http_status >= 500)
		return 1;
	for (i = 0; codes[i] != NULL; i++)
		if (strcmp(err->code, codes[i]) == 0)
			return 1;
	return 0;
}

/* Tell whoever started the channel how its start went. */
static void
started(struct ssm_chan *ch, int r)
{
	if (ch->on_started != NULL)
		ch->on_started(ch, r);
}

static void
chan_started(void *arg, int r, char *out, const struct jc_aws_error *err)
{
	struct ssm_chan *ch = arg;
	char why[256];

	ch->call = NULL;
	if (r == 0) {
		r = ssm_api_parse_start(out, ch->s->target, &ch->st);
		jc_wipe(out, strlen(out));
		ssm_host->free(out);
		out = NULL;
	}
	if (r != 0) {
		ch->state = SSM_C_QUEUED;
		if (start_retryable(r, err)) {
			/* One attempt: aws_explain would speak of retries. */
			ssm_log(JC_LOG_VERBOSE, "StartSession (%s) for another "
			    "session to port %u: %s%s%s", ch->doc, ch->port,
			    err->code, err->code[0] != '\0' ? ": " : "",
			    err->message);
			started(ch, SSM_START_THROTTLED);
			return;
		}
		ssm_log(JC_LOG_VERBOSE, "StartSession (%s) for another session "
		    "to port %u: %s", ch->doc, ch->port, err->code[0] != '\0' ||
		    err->message[0] != '\0' ? ssm_host->aws_explain(err) :
		    "unreadable answer");
		started(ch, r);
		return;
	}
	ssm_log(JC_LOG_VERBOSE, "session %s started (%s, one more for port "
	    "%u)", ch->st.sid, ch->doc, ch->port);
	ch->state = SSM_C_OPENING;
	if ((r = chan_dial(ch, 0, why, sizeof(why))) != 0) {
		ssm_chan_fail(ch, r, "session %s: %s", ch->st.sid, why);
		started(ch, r);
		return;
	}
	ch->hs_deadline = now_ms() + ch->s->o.handshake_ms;
	started(ch, 0);
}

int
ssm_chan_start(struct ssm_chan *ch, const char *const *params,
    void (*on_started)(struct ssm_chan *, int))
{
	struct jc_aws_error err;
	char *body;
	int r;

	if (!JC_HOST_HAS(ssm_host, aws_json_start))
		return JC_ERR_UNSUPPORTED;
	ch->on_started = on_started;
	if ((body = ssm_api_start_body(ch->s->target, ch->doc,
	    params)) == NULL)
		return JC_ERR_NOMEM;
	memset(&err, 0, sizeof(err));
	r = ssm_host->aws_json_start("ssm", "AmazonSSM.StartSession", body,
	    chan_started, ch, &ch->call, &err);
	cJSON_free(body);
	if (r != 0) {
		ssm_log(JC_LOG_VERBOSE, "StartSession (%s) for another session "
		    "to port %u: %s", ch->doc, ch->port,
		    ssm_host->aws_explain(&err));
		return r;
	}
	ch->state = SSM_C_STARTING;
	return 0;
}

/* Free what a finished channel holds, but not the struct. */
void
ssm_chan_release(struct ssm_chan *ch)
{
	unsigned char flag[4] = { 0, 0, 0, SSM_FLAG_TERMINATE };

	if (ch->src != NULL) {
		ssm_host->source_del(ch->src);
		ch->src = NULL;
	}
	if (ch->call != NULL) {
		ssm_host->aws_json_cancel(ch->call);
		ch->call = NULL;
	}
	if (ch->s->starting == ch)
		ch->s->starting = NULL;
	/* A port session is told to stop, as Ctrl-C does in the reference. */
	if (KIND(ch)->stop_flag && ch->state == SSM_C_READY &&
	    ws_open(ch) && ssm_version_cmp(ch->hs.agent_version,
	    "2.3.722.0") == 1 &&
	    ssm_chan_send(ch, SSM_PT_FLAG, flag, sizeof(flag), 0) == 0)
		(void)ssm_ws_run(ch->ws, 0);
	if (ch->state != SSM_C_FAILED && ch->state != SSM_C_ENDED)
		ch->state = SSM_C_ENDED;
	terminate_once(ch);
	ssm_ws_free(ch->ws);
	ch->ws = NULL;
	if (KIND(ch)->release != NULL)
		KIND(ch)->release(ch);
	ssm_txq_free(&ch->tx);
	ssm_rxq_free(&ch->rx);
}

void
ssm_chan_free(struct ssm_chan *ch)
{
	struct ssm_chan **pp;

	if (ch == NULL)
		return;
	for (pp = &ch->s->chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	ssm_chan_release(ch);
	ssm_start_clear(&ch->st);
	free(ch->out);
	free(ch->err);
	free(ch);
}
