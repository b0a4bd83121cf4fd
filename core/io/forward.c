/*
 * forward.c - accept local connections and relay each over its own stream.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "forward.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "relay.h"

#define FWD_BUF		(64 * 1024)	/* per direction, per connection */
#define FWD_MAX_CONN	1024		/* stop accepting beyond this */
#define FWD_ACCEPT_BURST 64
#define FWD_FD_PAUSE_MS	200		/* out of descriptors: wait */

struct conn {
	struct jc_relay	*relay;
	struct jc_fwd	*fwd;		/* NB. borrowed */
	struct conn	*next;
};

struct jc_fwd {
	int			 lfd, slot;
	char			 rhost[256];
	uint16_t		 rport;
	const struct jc_plugin	*p;
	struct jc_sess		*s;
	const struct jc_plugin	*pp;		/* preferred, or NULL */
	struct jc_sess		*ps;
	struct jc_source	*src;
	struct conn		*conns;
	int			 nconn;
	uint64_t		 accepted;
	int64_t			 paused_until;	/* no fds: accept later */
	int			 failing;	/* streams failed in a row */
};

static void fwd_prepare(void *, struct jc_pollset *, int64_t *);
static void fwd_dispatch(void *, struct jc_pollset *);
static const struct jc_source_ops fwd_ops = { fwd_prepare, fwd_dispatch };

int
jc_fwd_new(int lfd, const char *rhost, uint16_t rport,
    const struct jc_plugin *p, struct jc_sess *s, struct jc_fwd **out)
{
	struct jc_fwd *f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		close(lfd);
		return JC_ERR_NOMEM;
	}
	f->lfd = lfd;
	jc_fwd_set_dest(f, rhost, rport);
	f->p = p;
	f->s = s;
	if ((f->src = jc_source_add(&fwd_ops, f)) == NULL) {
		close(lfd);
		free(f);
		return JC_ERR_NOMEM;
	}
	*out = f;
	return 0;
}

void
jc_fwd_set_dest(struct jc_fwd *f, const char *rhost, uint16_t rport)
{
	snprintf(f->rhost, sizeof(f->rhost), "%s", rhost);
	f->rport = rport;
}

static void
drop_all(struct jc_fwd *f)
{
	struct conn *c;

	while ((c = f->conns) != NULL) {
		f->conns = c->next;
		jc_relay_free(c->relay);
		free(c);
	}
	f->nconn = 0;
}

void
jc_fwd_set_session(struct jc_fwd *f, const struct jc_plugin *p,
    struct jc_sess *s)
{
	drop_all(f);
	f->p = p;
	f->s = s;
}

void
jc_fwd_set_preferred(struct jc_fwd *f, const struct jc_plugin *p,
    struct jc_sess *s)
{
	f->pp = s != NULL ? p : NULL;
	f->ps = p != NULL ? s : NULL;
}

int
jc_fwd_active(const struct jc_fwd *f)
{
	return f->nconn;
}

uint64_t
jc_fwd_accepted(const struct jc_fwd *f)
{
	return f->accepted;
}

void
jc_fwd_free(struct jc_fwd *f)
{
	if (f == NULL)
		return;
	drop_all(f);
	jc_source_del(f->src);
	close(f->lfd);
	free(f);
}

static void
conn_done(void *arg, struct jc_relay *r, int error)
{
	struct conn *c = arg, **pp;
	struct jc_fwd *f = c->fwd;
	uint64_t ab, ba;

	jc_relay_counts(r, &ab, &ba);
	jc_debug("connection closed%s (%llu bytes out, %llu in)",
	    error ? " on error" : "", (unsigned long long)ab,
	    (unsigned long long)ba);
	for (pp = &f->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	f->nconn--;
	jc_relay_free(r);
	free(c);
}

static void
fwd_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct jc_fwd *f = arg;

	f->slot = -1;
	if (f->paused_until > jc_now_ms()) {
		if (*deadline < 0 || f->paused_until < *deadline)
			*deadline = f->paused_until;
		return;
	}
	if (f->s != NULL && f->nconn < FWD_MAX_CONN)
		f->slot = jc_ps_add(ps, f->lfd, POLLIN);
}

/* One line per run of failures, not one per connection. */
static void
stream_failed(struct jc_fwd *f, int r)
{
	int e = errno;

	if (f->failing++ > 0)
		return;
	jc_warn("cannot open a stream to %s:%u: %s%s", f->rhost, f->rport,
	    r == JC_ERR_CLOSED ? "connection lost" :
	    r == JC_ERR_IO && (e == EMFILE || e == ENFILE) ?
	    "out of file descriptors (ulimit -n)" : jc_strerror(r),
	    "; new connections are closed until streams open again");
}

/* Does the plugin pump accepted sockets itself (JC_STREAM_ADOPT)? */
static int
adopts(const struct jc_plugin *p)
{
	return (p->kind & JC_KIND_ADOPT) && (p->abi >> 16) == 1 &&
	    (p->abi & 0xffff) >= 1;
}

/*
 * One stream from p/s for the accepted cfd: 0 when p took cfd over
 * (JC_STREAM_ADOPT), 1 with *sfd to relay, or the stream's error (cfd
 * still ours).
 */
static int
open_stream(struct jc_fwd *f, const struct jc_plugin *p, struct jc_sess *s,
    int cfd, int *sfd)
{
	int r;

	if (adopts(p)) {
		*sfd = cfd;
		return p->stream(s, f->rhost, f->rport, JC_STREAM_ADOPT, sfd);
	}
	if ((r = p->stream(s, f->rhost, f->rport, 0, sfd)) != 0)
		return r;
	return 1;
}

static void
accept_one(struct jc_fwd *f, int cfd)
{
	struct conn *c;
	int sfd, one = 1, r = JC_ERR_CLOSED;

	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (f->pp != NULL && f->pp->status(f->ps) == 0)
		r = open_stream(f, f->pp, f->ps, cfd, &sfd);
	if (f->pp != NULL && r < 0)
		jc_debug("preferred path cannot take the connection (%s); "
		    "using the plain one", jc_strerror(r));
	if (r < 0 && (r = open_stream(f, f->p, f->s, cfd, &sfd)) < 0) {
		stream_failed(f, r);
		close(cfd);
		return;
	}
	f->failing = 0;
	f->accepted++;
	if (r == 0)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		close(sfd);
		return;
	}
	c->fwd = f;
	c->relay = jc_relay_new(cfd, cfd, sfd, sfd, FWD_BUF, conn_done, c);
	if (c->relay == NULL) {
		free(c);
		return;
	}
	c->next = f->conns;
	f->conns = c;
	f->nconn++;
}

static void
fwd_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jc_fwd *f = arg;
	int cfd, i;

	if (f->slot < 0 || !(jc_ps_revents(ps, f->slot) & POLLIN))
		return;
	for (i = 0; i < FWD_ACCEPT_BURST && f->nconn < FWD_MAX_CONN; i++) {
		cfd = accept(f->lfd, NULL, NULL);
		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* The listener stays readable: do not spin. */
				if (f->paused_until == 0)
					jc_warn("accept: %s; new connections "
					    "wait until some close",
					    strerror(errno));
				f->paused_until = jc_now_ms() + FWD_FD_PAUSE_MS;
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				jc_warn("accept: %s", strerror(errno));
			break;
		}
		f->paused_until = 0;
		jc_debug("connection %llu accepted",
		    (unsigned long long)f->accepted + 1);
		accept_one(f, cfd);
	}
}
