/*
 * jssh_chan.c - many channels on one non-blocking libssh session, driven
 * by the core loop.
 *
 * Streams (direct-tcpip): the core holds one end of a socketpair, we pump
 * the other.  socket -> channel: read only as much as the peer's window
 * allows and only while libssh has no unsent output, so nothing piles up
 * in memory.  channel -> socket: a bounded buffer per stream; while it is
 * full we stop reading the channel, libssh keeps the rest and stops
 * growing the window (backpressure).  Exec channels collect stdout and
 * stderr (bounded by JC_EXEC_MAX) and the exit status.
 *
 * libssh may hold decrypted bytes that poll() cannot see, so after each
 * pass we ask for an immediate new pass while a channel still has data
 * and room to take it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/server.h>	/* ssh_send_keepalive */

#include "jssh.h"

static void pump_prepare(void *, struct jc_pollset *, int64_t *);
static void pump_dispatch(void *, struct jc_pollset *);
static const struct jc_source_ops pump_ops = { pump_prepare, pump_dispatch };

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
jssh_pump_start(struct jssh_sess *ss)
{
	if ((ss->counter = calloc(1, sizeof(*ss->counter))) == NULL)
		return JC_ERR_NOMEM;
	ssh_set_counters(ss->s, ss->counter, NULL);
	if ((ss->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(ss->ev, ss->s) != SSH_OK)
		return JC_ERR_NOMEM;
	ss->last_rx = jssh_host->now_ms();
	if (ss->keepalive_ms > 0)
		ss->next_ka = ss->last_rx + ss->keepalive_ms;
	if ((ss->src = jssh_host->source_add(&pump_ops, ss)) == NULL)
		return JC_ERR_NOMEM;
	return 0;
}

static void
chan_free(struct jssh_chan *c)
{
	if (c->ch != NULL) {
		if (ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->sp != -1)
		close(c->sp);
	jc_buf_free(&c->tosock);
	free(c->cmd);
	free(c->out);
	free(c->err);
	free(c);
}

static void
unlink_chan(struct jssh_sess *ss, struct jssh_chan *c)
{
	struct jssh_chan **pp;

	for (pp = &ss->chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

void
jssh_pump_stop(struct jssh_sess *ss)
{
	struct jssh_chan *c;

	while ((c = ss->chans) != NULL) {
		ss->chans = c->next;
		if (c->kind == CH_EXEC) {
			/* The exec caller owns it; just mark it failed. */
			c->failed = JC_ERR_CLOSED;
			c->done = 1;
			c->next = NULL;
			continue;
		}
		chan_free(c);
	}
	if (ss->src != NULL)
		jssh_host->source_del(ss->src);
	ss->src = NULL;
	if (ss->ev != NULL) {
		ssh_event_remove_session(ss->ev, ss->s);
		ssh_event_free(ss->ev);
		ss->ev = NULL;
	}
}

static struct jssh_chan *
chan_new(struct jssh_sess *ss, int kind)
{
	struct jssh_chan *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->ss = ss;
	c->kind = kind;
	c->sp = -1;
	c->status = -1;
	c->state = CH_OPENING;
	jc_buf_init(&c->tosock, JSSH_CHAN_BUF);
	if ((c->ch = ssh_channel_new(ss->s)) == NULL) {
		free(c);
		return NULL;
	}
	c->next = ss->chans;
	ss->chans = c;
	ss->kick = 1;		/* its open request goes out in dispatch */
	return c;
}

/* ---- streams opened ahead ------------------------------------------------ */

/*
 * Each new stream costs a round trip (the channel open and its answer)
 * before its first byte may go: over a distant path, every connection a
 * page load opens waits that long.  So streams to where the connections
 * are likely to go are opened ahead, and a connection takes one that is
 * open already.  A spare the far end closes is dropped; one taken is
 * replaced, so a burst finds the next ready.
 */
static int
is_spare_for(const struct jssh_chan *c, const char *host, uint16_t port)
{
	return c->kind == CH_STREAM && c->spare && c->state != CH_DONE &&
	    c->port == port && strcmp(c->host, host) == 0;
}

static void
spares_top_up(struct jssh_sess *ss)
{
	struct jssh_chan *c;
	int n = 0;

	if (ss->spare_host[0] == '\0' || ss->dead)
		return;
	for (c = ss->chans; c != NULL; c = c->next)
		if (is_spare_for(c, ss->spare_host, ss->spare_port))
			n++;
	for (; n < JSSH_SPARES; n++) {
		if ((c = chan_new(ss, CH_STREAM)) == NULL)
			return;
		snprintf(c->host, sizeof(c->host), "%s", ss->spare_host);
		c->port = ss->spare_port;
		c->spare = 1;
	}
}

int
jssh_spares(struct jssh_sess *ss, const char *host, uint16_t port)
{
	if (ss->dead)
		return ss->dead;
	if (port == 0)
		return JC_ERR_UNSUPPORTED;	/* a Unix socket: no need */
	snprintf(ss->spare_host, sizeof(ss->spare_host), "%s", host);
	ss->spare_port = port;
	jssh_log(JC_LOG_DEBUG, "opening %d streams to %s:%u ahead",
	    JSSH_SPARES, host, port);
	spares_top_up(ss);
	return 0;
}

/* A spare to host:port, open or opening, or NULL. */
static struct jssh_chan *
spare_take(struct jssh_sess *ss, const char *host, uint16_t port)
{
	struct jssh_chan *c, *best = NULL;

	for (c = ss->chans; c != NULL; c = c->next)
		if (is_spare_for(c, host, port) && !ssh_channel_is_eof(c->ch) &&
		    (best == NULL || c->state == CH_OPEN))
			best = c;
	return best;
}

/*
 * A stream to host:port.  adopt: *fdp is the local socket and becomes
 * ours (JC_STREAM_ADOPT); else a socketpair, the core gets one end.
 */
int
jssh_stream(struct jssh_sess *ss, const char *host, uint16_t port, int adopt,
    int *fdp)
{
	struct jssh_chan *c;
	int sv[2];

	if (ss->dead)
		return ss->dead;
	if (adopt) {
		sv[0] = -1;
		sv[1] = *fdp;
	} else if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return JC_ERR_IO;
	if ((!adopt && set_nonblock(sv[0]) != 0) ||
	    set_nonblock(sv[1]) != 0 || ((c = spare_take(ss, host, port)) ==
	    NULL && (c = chan_new(ss, CH_STREAM)) == NULL)) {
		if (!adopt) {
			close(sv[0]);
			close(sv[1]);
		}
		return JC_ERR_NOMEM;
	}
	if (c->spare) {
		c->spare = 0;
		ss->kick = 1;
		jssh_log(JC_LOG_DEBUG, "stream to %s:%u: one opened ahead",
		    host, port);
		spares_top_up(ss);
	} else
		jssh_log(JC_LOG_DEBUG, "opening stream to %s:%u", host, port);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	c->sp = sv[1];
	if (!adopt)
		*fdp = sv[0];
	return 0;
}

/* Append to an exec output, bounded by JC_EXEC_MAX. */
/*
 * The command's exit status, or -1 while none has come (or it died of a
 * signal).  libssh 0.11 deprecates ssh_channel_get_exit_status for
 * ssh_channel_get_exit_state.
 */
static int
exit_status(ssh_channel ch)
{
#if LIBSSH_VERSION_INT >= SSH_VERSION_INT(0, 11, 0)
	uint32_t code = UINT32_MAX;
	char *sig = NULL;
	int r;

	r = ssh_channel_get_exit_state(ch, &code, &sig, NULL);
	if (sig != NULL) {
		ssh_string_free_char(sig);
		return -1;
	}
	return r == SSH_OK && code <= INT32_MAX ? (int)code : -1;
#else
	return ssh_channel_get_exit_status(ch);
#endif
}

static int
grow(struct jssh_chan *c, char **p, size_t *len, const char *d, size_t n)
{
	char *np;

	if (*len + n > JC_EXEC_MAX) {
		c->truncated = 1;
		n = JC_EXEC_MAX - *len;
	}
	if ((np = realloc(*p, *len + n + 1)) == NULL)
		return JC_ERR_NOMEM;
	memcpy(np + *len, d, n);
	*len += n;
	np[*len] = '\0';
	*p = np;
	return 0;
}

static void
chan_fail(struct jssh_chan *c, int err)
{
	if (c->kind == CH_EXEC) {
		c->failed = err;
		c->done = 1;
	}
	c->state = CH_DONE;
}

/* Open / request steps, repeated until libssh stops saying SSH_AGAIN. */
static void
chan_open_step(struct jssh_chan *c)
{
	int rc;

	if (c->state == CH_OPENING) {
		if (c->kind == CH_STREAM && c->port == 0)	/* Unix socket */
			rc = ssh_channel_open_forward_unix(c->ch, c->host,
			    "127.0.0.1", 0);
		else if (c->kind == CH_STREAM)
			rc = ssh_channel_open_forward(c->ch, c->host, c->port,
			    "127.0.0.1", 0);
		else
			rc = ssh_channel_open_session(c->ch);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			if (c->kind == CH_STREAM && c->spare)
				jssh_log(JC_LOG_DEBUG, "%s cannot open a stream "
				    "ahead to %s:%u: %s", c->ss->label, c->host,
				    c->port, ssh_get_error(c->ss->s));
			else if (c->kind == CH_STREAM)
				jssh_host->log(JC_LOG_WARN, "ssh",
				    "%s cannot open a connection to %s:%u: %s",
				    c->ss->label, c->host, c->port,
				    ssh_get_error(c->ss->s));
			else
				jssh_host->log(JC_LOG_ERROR, "ssh",
				    "%s refused a command channel: %s",
				    c->ss->label, ssh_get_error(c->ss->s));
			chan_fail(c, JC_ERR_UNREACHABLE);
			return;
		}
		c->state = c->kind == CH_STREAM ? CH_OPEN : CH_EXEC_REQ;
	}
	if (c->state == CH_EXEC_REQ) {
		rc = ssh_channel_request_exec(c->ch, c->cmd);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			jssh_host->log(JC_LOG_ERROR, "ssh",
			    "%s refused to run a command: %s", c->ss->label,
			    ssh_get_error(c->ss->s));
			chan_fail(c, JC_ERR_UNREACHABLE);
			return;
		}
		c->state = CH_OPEN;
	}
}

/*
 * Socket -> channel, within the peer's window and while libssh has no
 * unsent output.  Returns bytes moved.
 */
static size_t
stream_up(struct jssh_chan *c, int readable)
{
	unsigned char tmp[JSSH_IO_CHUNK];
	size_t moved = 0;
	uint32_t win;
	ssize_t n;
	int w, i;

	if (c->sent_eof || !readable)
		return 0;
	for (i = 0; i < 8; i++) {
		if (ssh_get_poll_flags(c->ss->s) & SSH_WRITE_PENDING)
			break;
		if ((win = ssh_channel_window_size(c->ch)) == 0)
			break;
		n = read(c->sp, tmp, win < sizeof(tmp) ? win : sizeof(tmp));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			n = 0;		/* treat errors as EOF */
		}
		if (n == 0) {
			ssh_channel_send_eof(c->ch);
			c->sent_eof = 1;
			break;
		}
		w = ssh_channel_write(c->ch, tmp, (uint32_t)n);
		if (w != n) {
			/* Cannot happen within the window; never drop data. */
			jssh_host->log(JC_LOG_WARN, "ssh", "%s: stream to %s:%u "
			    "write failed: %s", c->ss->label, c->host, c->port,
			    ssh_get_error(c->ss->s));
			c->state = CH_DONE;
			break;
		}
		moved += (size_t)n;
	}
	return moved;
}

/* Channel -> our buffer -> socket.  Returns bytes moved from libssh. */
static size_t
stream_down(struct jssh_chan *c)
{
	unsigned char tmp[JSSH_IO_CHUNK];
	size_t room, moved = 0;
	ssize_t w;
	int n;

	for (;;) {
		if (c->tosock.len > 0) {
			w = jc_buf_write_fd(&c->tosock, c->sp);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				c->state = CH_DONE;	/* core side went away */
				return moved;
			}
			jc_buf_shrink(&c->tosock);
		}
		if (c->got_eof || (room = jc_buf_room(&c->tosock)) == 0)
			break;
		if (room > sizeof(tmp))
			room = sizeof(tmp);
		n = ssh_channel_read_nonblocking(c->ch, tmp, (uint32_t)room, 0);
		if (n > 0) {
			jc_buf_put(&c->tosock, tmp, (size_t)n);
			moved += (size_t)n;
			continue;
		}
		if (n == SSH_ERROR) {
			c->state = CH_DONE;
			return moved;
		}
		if (ssh_channel_is_eof(c->ch) && ssh_channel_poll(c->ch, 0) <= 0)
			c->got_eof = 1;
		break;
	}
	if (c->got_eof && c->tosock.len == 0 && c->sp != -1 && !c->shut) {
		shutdown(c->sp, SHUT_WR);
		c->shut = 1;
	}
	if ((c->got_eof && c->sent_eof && c->tosock.len == 0) ||
	    ssh_channel_is_closed(c->ch))
		c->state = CH_DONE;
	return moved;
}

/* Exec: feed stdin, collect stdout/stderr, then the exit status. */
static size_t
exec_io(struct jssh_chan *c)
{
	char tmp[JSSH_IO_CHUNK];
	size_t moved = 0;
	uint32_t win;
	int n, is_err, w;

	while (c->inoff < c->inlen &&
	    (win = ssh_channel_window_size(c->ch)) > 0 &&
	    !(ssh_get_poll_flags(c->ss->s) & SSH_WRITE_PENDING)) {
		if (win > c->inlen - c->inoff)
			win = (uint32_t)(c->inlen - c->inoff);
		if ((w = ssh_channel_write(c->ch, c->in + c->inoff, win)) <= 0)
			break;
		c->inoff += (size_t)w;
	}
	if (c->inoff == c->inlen && !c->sent_eof) {
		ssh_channel_send_eof(c->ch);
		c->sent_eof = 1;
	}
	for (is_err = 0; is_err < 2; is_err++) {
		while ((n = ssh_channel_read_nonblocking(c->ch, tmp,
		    sizeof(tmp), is_err)) > 0) {
			moved += (size_t)n;
			if ((is_err ? grow(c, &c->err, &c->errlen, tmp, (size_t)n) :
			    grow(c, &c->out, &c->outlen, tmp, (size_t)n)) != 0) {
				chan_fail(c, JC_ERR_NOMEM);
				return moved;
			}
		}
		if (n == SSH_ERROR) {
			chan_fail(c, JC_ERR_CLOSED);
			return moved;
		}
	}
	if ((ssh_channel_is_eof(c->ch) && ssh_channel_poll(c->ch, 0) <= 0 &&
	    ssh_channel_poll(c->ch, 1) <= 0) || ssh_channel_is_closed(c->ch)) {
		c->status = exit_status(c->ch);
		/* The exit status may trail EOF by a packet; wait for close. */
		if (c->status != -1 || ssh_channel_is_closed(c->ch)) {
			c->state = CH_DONE;
			c->done = 1;
		}
	}
	return moved;
}

static void
pump_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct jssh_sess *ss = arg;
	struct jssh_chan *c;
	short ev = POLLIN;
	int pending = 0;

	if (ss->dead)
		return;
	if (ssh_get_poll_flags(ss->s) & SSH_WRITE_PENDING)
		ev |= POLLOUT;
	ss->slot = jssh_host->ps_add(ps, ss->fd, ev);
	for (c = ss->chans; c != NULL; c = c->next) {
		c->in_slot = c->out_slot = -1;
		if (c->state == CH_DONE || c->state == CH_OPENING ||
		    c->state == CH_EXEC_REQ) {
			if (c->state == CH_DONE)
				pending = 1;	/* reap without sleeping */
			continue;
		}
		if (c->kind != CH_STREAM || c->spare)
			continue;
		if (!c->sent_eof && ssh_channel_window_size(c->ch) > 0 &&
		    !(ev & POLLOUT))
			c->in_slot = jssh_host->ps_add(ps, c->sp, POLLIN);
		if (c->tosock.len > 0)
			c->out_slot = jssh_host->ps_add(ps, c->sp, POLLOUT);
		else if (!c->got_eof && ssh_channel_poll(c->ch, 0) > 0)
			pending = 1;	/* libssh holds bytes we can take */
	}
	/*
	 * A new channel, or packets libssh read outside our dispatch (the
	 * ssh_channel_poll above reads the socket): the socket will not
	 * wake us for them, so run a pass now.
	 */
	if (ss->kick || ss->counter->in_bytes != ss->rx_seen)
		pending = 1;
	if (ss->keepalive_ms > 0 && (*deadline < 0 || ss->next_ka < *deadline))
		*deadline = ss->next_ka;
	if (pending)
		*deadline = jssh_host->now_ms();
}

/* Keepalive: a reply-wanted global request; silence means a dead peer. */
static void
keepalive(struct jssh_sess *ss, int64_t now)
{
	if (ss->keepalive_ms <= 0 || now < ss->next_ka)
		return;
	if (now - ss->last_rx > 3 * (int64_t)ss->keepalive_ms) {
		jssh_host->log(JC_LOG_ERROR, "ssh", "%s stopped answering "
		    "(no reply to keepalives for %d s)", ss->label,
		    3 * ss->keepalive_ms / 1000);
		ss->dead = JC_ERR_CLOSED;
		return;
	}
	ssh_send_keepalive(ss->s);
	ss->next_ka = now + ss->keepalive_ms;
}

static void
pump_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jssh_sess *ss = arg;
	struct jssh_chan *c, *next;
	uint64_t before;
	size_t moved;
	short rev;
	int round;

	if (ss->dead)
		return;
	rev = jssh_host->ps_revents(ps, ss->slot);
	/*
	 * Let libssh's own poll handle what ours saw: it reads and handles
	 * packets no channel asked for (keepalive replies, global requests),
	 * and it is what drops the POLLOUT wish once its buffer is empty.
	 * Without it an idle session spins on a readable or writable socket.
	 */
	if (rev != 0)
		ssh_event_dopoll(ss->ev, 0);
	/* Let libssh read and write the socket; each pass reads <= 4 KiB. */
	for (round = 0; round < 64; round++) {
		before = ss->counter->in_bytes;
		if (ssh_blocking_flush(ss->s, 0) == SSH_ERROR ||
		    !ssh_is_connected(ss->s)) {
			jssh_host->log(JC_LOG_ERROR, "ssh", "connection to %s "
			    "lost: %s", ss->label, ssh_get_error(ss->s));
			ss->dead = JC_ERR_CLOSED;
			break;
		}
		moved = 0;
		for (c = ss->chans; c != NULL; c = c->next) {
			if (c->state == CH_OPENING || c->state == CH_EXEC_REQ)
				chan_open_step(c);
			if (c->state != CH_OPEN)
				continue;
			if (c->spare) {
				/* Bytes wait in libssh for the taker; an end drops it. */
				if (ssh_channel_is_eof(c->ch) ||
				    ssh_channel_is_closed(c->ch))
					c->state = CH_DONE;
			} else if (c->kind == CH_STREAM) {
				moved += stream_up(c, round > 0 ||
				    (jssh_host->ps_revents(ps, c->in_slot) &
				    (POLLIN | POLLHUP | POLLERR)) != 0);
				moved += stream_down(c);
			} else
				moved += exec_io(c);
		}
		if (ss->counter->in_bytes == before && moved == 0)
			break;
		(void)rev;
	}
	/*
	 * Any byte from the server is a sign of life, whichever libssh call
	 * read it (channel reads pull packets in too): a long download must
	 * not look like silence.
	 */
	if (ss->counter->in_bytes != ss->rx_seen) {
		ss->rx_seen = ss->counter->in_bytes;
		ss->last_rx = jssh_host->now_ms();
	}
	ss->kick = 0;
	keepalive(ss, jssh_host->now_ms());
	/* Reap finished streams; exec channels belong to their caller. */
	for (c = ss->chans; c != NULL; c = next) {
		next = c->next;
		if (c->state == CH_DONE && c->kind == CH_STREAM) {
			unlink_chan(ss, c);
			chan_free(c);
		}
	}
	if (ss->dead) {
		for (c = ss->chans; c != NULL; c = c->next)
			if (c->kind == CH_EXEC && !c->done)
				chan_fail(c, ss->dead);
	}
}

/* Run cmd through the user's login shell, so conda/pyenv PATHs apply. */
static char *
login_shell_cmd(const char *cmd)
{
	static const char pre[] = "exec \"${SHELL:-/bin/sh}\" -l -c '";
	size_t n = sizeof(pre) + 2, i, o;
	char *s;

	for (i = 0; cmd[i] != '\0'; i++)
		n += cmd[i] == '\'' ? 4 : 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	memcpy(s, pre, sizeof(pre) - 1);
	o = sizeof(pre) - 1;
	for (i = 0; cmd[i] != '\0'; i++) {
		if (cmd[i] == '\'') {
			memcpy(s + o, "'\\''", 4);
			o += 4;
		} else
			s[o++] = cmd[i];
	}
	s[o++] = '\'';
	s[o] = '\0';
	return s;
}

int
jssh_exec(struct jssh_sess *ss, const char *cmd, const void *in,
    size_t inlen, int timeout_ms, struct jc_exec_result *res)
{
	struct jssh_chan *c;
	int r;

	if (ss->dead)
		return ss->dead;
	if ((c = chan_new(ss, CH_EXEC)) == NULL)
		return JC_ERR_NOMEM;
	if ((c->cmd = login_shell_cmd(cmd)) == NULL) {
		unlink_chan(ss, c);
		chan_free(c);
		return JC_ERR_NOMEM;
	}
	c->in = in;
	c->inlen = in != NULL ? inlen : 0;
	jssh_log(JC_LOG_DEBUG, "exec: %s", cmd);
	r = jssh_host->loop_run(&c->done, timeout_ms);
	unlink_chan(ss, c);
	if (r == 0 && c->failed)
		r = c->failed;
	if (r == JC_ERR_TIMEOUT)
		jssh_host->log(JC_LOG_ERROR, "ssh", "%s: remote command did "
		    "not finish within %d s", ss->label, timeout_ms / 1000);
	if (r == 0) {
		memset(res, 0, sizeof(*res));
		res->out = c->out ? c->out : strdup("");
		res->outlen = c->outlen;
		res->err = c->err ? c->err : strdup("");
		res->errlen = c->errlen;
		res->status = c->status;
		res->truncated = c->truncated;
		c->out = c->err = NULL;
		if (res->out == NULL || res->err == NULL) {
			jssh_exec_free(res);
			r = JC_ERR_NOMEM;
		}
	}
	c->in = NULL;
	chan_free(c);
	return r;
}

void
jssh_exec_free(struct jc_exec_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}
