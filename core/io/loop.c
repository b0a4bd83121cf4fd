/*
 * loop.c - the poll() event loop (prepare -> poll -> dispatch -> collect).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "log.h"

struct jc_source {
	const struct jc_source_ops	*ops;	/* NB. borrowed */
	void				*arg;	/* NB. borrowed */
	int				 dead;	/* deleted, free after the pass */
	int				 light;	/* see jc_source_add_light */
	uint64_t			 pass;	/* pass of its last prepare */
	struct jc_source		*next;
};

struct jc_pollset {
	struct pollfd	*fds;
	size_t		 n, cap;
};

static struct jc_source *sources;
static int depth;			/* nesting of jc_loop_run */
static uint64_t passes;			/* unique id of each pass */
static volatile sig_atomic_t stop_sig;
static int wake_pipe[2] = { -1, -1 };

int64_t
jc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct jc_source *
jc_source_add(const struct jc_source_ops *ops, void *arg)
{
	struct jc_source *s, **pp;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = ops;
	s->arg = arg;
	/* Append, so sources are served in registration order. */
	for (pp = &sources; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
	return s;
}

struct jc_source *
jc_source_add_light(const struct jc_source_ops *ops, void *arg)
{
	struct jc_source *s = jc_source_add(ops, arg);

	if (s != NULL)
		s->light = 1;
	return s;
}

static void
collect(void)
{
	struct jc_source **pp, *s;

	for (pp = &sources; (s = *pp) != NULL;) {
		if (s->dead) {
			*pp = s->next;
			free(s);
		} else
			pp = &s->next;
	}
}

void
jc_source_del(struct jc_source *s)
{
	if (s == NULL)
		return;
	s->dead = 1;
	if (depth == 0)
		collect();
}

int
jc_ps_add(struct jc_pollset *ps, int fd, short events)
{
	struct pollfd *n;
	size_t ncap;

	if (fd < 0)
		return -1;
	if (ps->n == ps->cap) {
		ncap = ps->cap ? ps->cap * 2 : 64;
		if ((n = realloc(ps->fds, ncap * sizeof(*n))) == NULL)
			return -1;
		ps->fds = n;
		ps->cap = ncap;
	}
	ps->fds[ps->n].fd = fd;
	ps->fds[ps->n].events = events;
	ps->fds[ps->n].revents = 0;
	return (int)ps->n++;
}

short
jc_ps_revents(const struct jc_pollset *ps, int slot)
{
	if (slot < 0 || (size_t)slot >= ps->n)
		return 0;
	return ps->fds[slot].revents;
}

static void
on_signal(int sig)
{
	int saved = errno;

	stop_sig = sig;
	if (wake_pipe[1] != -1)
		(void)!write(wake_pipe[1], "", 1);
	errno = saved;
}

int
jc_loop_signals(void)
{
	struct sigaction sa;
	int i;

	if (wake_pipe[0] == -1) {
		if (pipe(wake_pipe) != 0)
			return JC_ERR_IO;
		for (i = 0; i < 2; i++) {
			fcntl(wake_pipe[i], F_SETFL,
			    fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

int
jc_loop_stopping(void)
{
	return stop_sig != 0;
}

void
jc_loop_stop(void)
{
	if (stop_sig == 0)
		stop_sig = SIGTERM;
}

int
jc_loop_signal(void)
{
	return stop_sig;
}

static int held_sig;		/* a stop signal jc_loop_hold_stop() holds */

int
jc_loop_hold_stop(void)
{
	int sig = stop_sig;

	held_sig = sig;
	stop_sig = 0;
	return sig;
}

void
jc_loop_restore_stop(int sig)
{
	held_sig = 0;
	if (sig != 0 && stop_sig == 0)
		stop_sig = sig;
}

int
jc_loop_ending(void)
{
	return stop_sig != 0 || held_sig != 0;
}

int
jc_loop_run(volatile int *done, int timeout_ms)
{
	struct jc_pollset ps = { NULL, 0, 0 };
	struct jc_source *s;
	int64_t end = -1, deadline, now;
	uint64_t pass;
	int wake = -1, r = 0, n, tmo, pass_done = 0;
	char junk[64];

	if (timeout_ms >= 0)
		end = jc_now_ms() + timeout_ms;
	depth++;
	for (;;) {
		if (done != NULL && *done)
			break;
		if (stop_sig) {
			r = JC_ERR_INTR;
			break;
		}
		now = jc_now_ms();
		/* Past the timeout after at least one pass (0 = one pass). */
		if (end >= 0 && now >= end && pass_done) {
			r = JC_ERR_TIMEOUT;
			break;
		}
		pass_done = 1;
		/* prepare */
		ps.n = 0;
		deadline = end;
		if (wake_pipe[0] != -1)
			wake = jc_ps_add(&ps, wake_pipe[0], POLLIN);
		pass = ++passes;
		for (s = sources; s != NULL; s = s->next) {
			if (s->dead)
				continue;
			s->pass = pass;
			if (s->ops->prepare != NULL)
				s->ops->prepare(s->arg, &ps, &deadline);
		}
		tmo = -1;
		if (deadline >= 0)
			tmo = deadline <= now ? 0 : (int)(deadline - now);
		n = poll(ps.fds, ps.n, tmo);
		if (n < 0 && errno != EINTR) {
			jc_error("poll: %s", strerror(errno));
			r = JC_ERR_IO;
			break;
		}
		if (n < 0) {
			for (size_t i = 0; i < ps.n; i++)
				ps.fds[i].revents = 0;
		}
		if (wake >= 0 && (jc_ps_revents(&ps, wake) & POLLIN))
			while (read(wake_pipe[0], junk, sizeof(junk)) > 0)
				;
		/*
		 * dispatch.  A source added during this pass, or prepared
		 * again by a nested jc_loop_run, holds no slots in this
		 * pollset: it waits for the next pass.
		 */
		for (s = sources; s != NULL; s = s->next)
			if (!s->dead && s->pass == pass &&
			    s->ops->dispatch != NULL)
				s->ops->dispatch(s->arg, &ps);
		if (depth == 1)
			collect();
	}
	depth--;
	if (depth == 0)
		collect();
	free(ps.fds);
	return r;
}

int
jc_loop_poll_light(struct pollfd *fds, int n, int timeout_ms)
{
	struct jc_pollset ps = { NULL, 0, 0 };
	struct jc_source *s;
	int64_t deadline = -1, now = jc_now_ms();
	uint64_t pass;
	int i, r, tmo, k = 0;

	for (i = 0; i < n; i++)
		if (jc_ps_add(&ps, fds[i].fd, fds[i].events) != i) {
			free(ps.fds);
			return poll(fds, (nfds_t)n, timeout_ms);
		}
	pass = ++passes;
	depth++;
	for (s = sources; s != NULL; s = s->next)
		if (s->light && !s->dead) {
			s->pass = pass;
			s->ops->prepare(s->arg, &ps, &deadline);
		}
	tmo = timeout_ms;
	if (deadline >= 0 && (tmo < 0 || deadline - now < tmo))
		tmo = deadline <= now ? 0 : (int)(deadline - now);
	if ((r = poll(ps.fds, ps.n, tmo)) < 0)
		for (i = 0; (size_t)i < ps.n; i++)
			ps.fds[i].revents = 0;
	for (i = 0; i < n; i++)
		if ((fds[i].revents = ps.fds[i].revents) != 0)
			k++;
	for (s = sources; s != NULL; s = s->next)
		if (s->light && !s->dead && s->pass == pass)
			s->ops->dispatch(s->arg, &ps);
	depth--;
	if (depth == 0)
		collect();
	free(ps.fds);
	return r < 0 ? r : k;
}
