/*
 * relay.c - bounded, half-duplex-aware byte relay between two endpoints.
 *
 * Per direction (OpenSSH nchan style):
 *   OPEN   reading from `in` while the buffer has room, writing to `out`
 *   DRAIN  `in` hit EOF; write what is buffered, then half-close `out`
 *   CLOSED nothing more to do
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "loop.h"
#include "net.h"
#include "relay.h"

enum { DIR_OPEN, DIR_DRAIN, DIR_CLOSED };

struct dir {
	int		 in, out;	/* NB. fds owned by the relay */
	struct jc_buf	 buf;
	int		 state;
	int		 in_slot, out_slot;
	uint64_t	 moved;
};

struct jc_relay {
	struct dir		 d[2];	/* [0] a->b, [1] b->a */
	int			 fds[4];
	struct jc_source	*src;
	jc_relay_done_fn	*done;
	void			*arg;
	int			 finished;
	int			 error;
	int			 notified;
};

static void relay_prepare(void *, struct jc_pollset *, int64_t *);
static void relay_dispatch(void *, struct jc_pollset *);
static const struct jc_source_ops relay_ops = { relay_prepare, relay_dispatch };

static void
close_fd(struct jc_relay *r, int fd)
{
	int i, last = 1;

	if (fd < 0)
		return;
	for (i = 0; i < 4; i++)
		if (r->fds[i] == fd) {
			r->fds[i] = -1;
			break;
		}
	for (i = 0; i < 4; i++)
		if (r->fds[i] == fd)
			last = 0;
	if (last)
		close(fd);
}

struct jc_relay *
jc_relay_new(int a_in, int a_out, int b_in, int b_out, size_t bufmax,
    jc_relay_done_fn *done, void *arg)
{
	struct jc_relay *r;
	int i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto fail;
	r->fds[0] = a_in;
	r->fds[1] = a_out;
	r->fds[2] = b_in;
	r->fds[3] = b_out;
	for (i = 0; i < 4; i++)
		jc_net_nonblock(r->fds[i]);
	r->d[0].in = a_in;
	r->d[0].out = b_out;
	r->d[1].in = b_in;
	r->d[1].out = a_out;
	for (i = 0; i < 2; i++) {
		jc_buf_init(&r->d[i].buf, bufmax);
		r->d[i].state = DIR_OPEN;
	}
	r->done = done;
	r->arg = arg;
	if ((r->src = jc_source_add(&relay_ops, r)) == NULL) {
		free(r);
		goto fail;
	}
	return r;
 fail:
	close(a_in);
	if (a_out != a_in)
		close(a_out);
	close(b_in);
	if (b_out != b_in)
		close(b_out);
	return NULL;
}

void
jc_relay_free(struct jc_relay *r)
{
	int i;

	if (r == NULL)
		return;
	jc_source_del(r->src);
	for (i = 0; i < 4; i++)
		close_fd(r, r->fds[i]);
	for (i = 0; i < 2; i++)
		jc_buf_free(&r->d[i].buf);
	free(r);
}

void
jc_relay_counts(const struct jc_relay *r, uint64_t *ab, uint64_t *ba)
{
	*ab = r->d[0].moved;
	*ba = r->d[1].moved;
}

int
jc_relay_finished(const struct jc_relay *r)
{
	return r->finished;
}

/* Pass EOF on: half-close a socket, close anything else. */
static void
half_close(struct jc_relay *r, struct dir *d)
{
	struct stat st;

	if (fstat(d->out, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    shutdown(d->out, SHUT_WR) == 0)
		return;
	/* A pipe or tty: closing is the only way to signal EOF. */
	close_fd(r, d->out);
	d->out = -1;
}

static void
finish(struct jc_relay *r, int error)
{
	int i;

	if (r->finished)
		return;
	r->finished = 1;
	r->error = error;
	for (i = 0; i < 4; i++)
		close_fd(r, r->fds[i]);
	for (i = 0; i < 2; i++) {
		r->d[i].state = DIR_CLOSED;
		jc_buf_free(&r->d[i].buf);
	}
}

static void
relay_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct jc_relay *r = arg;
	struct dir *d;
	int i;

	for (i = 0; i < 2; i++) {
		d = &r->d[i];
		d->in_slot = d->out_slot = -1;
		if (r->finished)
			continue;
		if (d->state == DIR_OPEN && jc_buf_room(&d->buf) > 0)
			d->in_slot = jc_ps_add(ps, d->in, POLLIN);
		if (d->buf.len > 0 && d->out >= 0)
			d->out_slot = jc_ps_add(ps, d->out, POLLOUT);
	}
	/* Finished, not yet reported: report without sleeping. */
	if (r->finished && !r->notified)
		*deadline = jc_now_ms();
}

static int
dir_io(struct jc_relay *r, struct dir *d, struct jc_pollset *ps)
{
	ssize_t n;
	short ev;

	if (d->in_slot >= 0) {
		ev = jc_ps_revents(ps, d->in_slot);
		if (ev & (POLLIN | POLLHUP | POLLERR)) {
			n = jc_buf_read_fd(&d->buf, d->in);
			if (n == 0)
				d->state = DIR_DRAIN;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
	}
	if (d->buf.len > 0 && d->out >= 0) {
		/* Write right away: the peer is usually ready. */
		n = jc_buf_write_fd(&d->buf, d->out);
		if (n > 0)
			d->moved += (uint64_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		jc_buf_shrink(&d->buf);
	}
	if (d->state == DIR_DRAIN && d->buf.len == 0) {
		half_close(r, d);
		d->state = DIR_CLOSED;
	}
	return 0;
}

static void
relay_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jc_relay *r = arg;
	int i;

	for (i = 0; i < 2 && !r->finished; i++)
		if (dir_io(r, &r->d[i], ps) != 0)
			finish(r, JC_ERR_IO);
	if (!r->finished && r->d[0].state == DIR_CLOSED &&
	    r->d[1].state == DIR_CLOSED)
		finish(r, 0);
	if (r->finished && !r->notified) {
		r->notified = 1;
		jc_source_del(r->src);
		r->src = NULL;
		if (r->done != NULL)
			r->done(r->arg, r, r->error);
	}
}
