/*
 * open.c - `open` and `url`: the main job.
 *
 *   resolve -> log in -> find (or start) Jupyter -> pick a local port ->
 *   forward -> check the token through the tunnel -> print the URL ->
 *   browser -> serve until Ctrl-C, reconnecting on drops.
 *
 * With -f, and for `url`, the tunnel runs in a detached supervisor
 * process that reports "ready" (or the error) back through a pipe, then
 * records itself in a state file for `ls` and `stop`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "aws_mfa.h"
#include "browser.h"
#include "cmd.h"
#include "compat.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "forward.h"
#include "fwdspec.h"
#include "httpcheck.h"
#include "jc.h"
#include "jupyter.h"
#include "log.h"
#include "request.h"
#include "loop.h"
#include "net.h"
#include "num.h"
#include "sshoverssm.h"
#include "state.h"

#define VERIFY_MS	20000		/* checks through the tunnel */
#define READY_MS	180000		/* a background start, all steps */
#define RECONNECT_MAX_S	600		/* tunnel.give_up_s: give up after */
#define CREDS_WAIT_MAX_S (12 * 3600)	/* ... but credentials get this */
#define CHECK_S		5		/* jupyter.check_s: while in use */
#define CHECK_MS	5000		/* one check's budget */
#define GONE_MAX_S	60		/* look for a stopped one this often */
#define REUSE_WAIT_S	12		/* `url`: a silent tunnel may be healing */
#define BROWSER_WAIT_MS	3000		/* for the compressed path, at most */

/* An extra forward (--forward) beside Jupyter. */
struct xfwd {
	struct jc_fwdspec	 spec;
	int			 lfd;		/* listening, until fwd owns it */
	uint16_t		 lport;
	struct jc_fwd		*fwd;
};

struct tunnel {
	struct jc_access	 a;
	struct xfwd		 x[JC_FWD_MAX];
	int			 nx;
	struct jc_jupyter	 j;
	int			 jupyter;	/* 0 with --remote-port */
	struct jc_fwd		*fwd;
	uint16_t		 lport;
	char			 url[1200];
	struct jc_source	*watch;
	volatile int		 wake;		/* leave the loop: see below */
	volatile int		 lost;		/* the session died */
	int			 check_due;	/* time to check Jupyter */
	int			 check_s;	/* jupyter.check_s, 0 = never */
	int64_t			 next_check;
	uint64_t		 seen_accepted;
	int			 jupyter_gone;	/* none answers: backoff factor */
	struct jc_sshssm	*link;		/* compressed path, or NULL */
	int			 link_off;	/* not wanted (or not possible) */
	int			 link_failed;	/* failed: again after a reconnect */
	int			 link_explicit;	/* ssm.compress=yes */
	int			 relink;	/* the path died: set it up again */
	int64_t			 browser_at;	/* open the browser then, or 0 */
	struct jc_source	*browser_src;
	int			 page;		/* the browser was sent to our page */
	int			 notify_fd;	/* background: report here */
	int			 log_fd;	/* background: stderr after that */
};

/* ---- watchdog: notice a dead session within a second ---------------- */

/*
 * The same watch notices a restarted Jupyter (new pid, token, maybe
 * port): every jupyter.check_s while the tunnel is in use (a connection
 * open or accepted since the last look), never while idle, so Session
 * Manager's idle timeout still applies to a tunnel nobody uses.
 */
static void
watch_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct tunnel *tn = arg;
	int64_t d = jc_now_ms() + 1000;

	(void)ps;
	if (tn->check_s > 0 && tn->next_check < d)
		d = tn->next_check;
	if (*deadline < 0 || *deadline > d)
		*deadline = d;
}

static void
watch_dispatch(void *arg, struct jc_pollset *ps)
{
	struct tunnel *tn = arg;
	uint64_t acc;
	int64_t now = jc_now_ms();

	(void)ps;
	if (tn->a.s != NULL && tn->a.p->status(tn->a.s) != 0)
		tn->lost = tn->wake = 1;
	if (tn->check_s <= 0 || now < tn->next_check || tn->fwd == NULL)
		return;
	tn->next_check = now + tn->check_s * 1000;	/* recheck may push it */
	acc = jc_fwd_accepted(tn->fwd);
	if (acc != tn->seen_accepted || jc_fwd_active(tn->fwd) > 0 ||
	    tn->jupyter_gone)
		tn->check_due = tn->wake = 1;
	tn->seen_accepted = acc;
	if (tn->link != NULL && jc_sshssm_status(tn->link) != 0)
		tn->relink = tn->wake = 1;
}

static const struct jc_source_ops watch_ops = { watch_prepare, watch_dispatch };

/*
 * The browser keeps its first connections for the whole page load, so
 * over SSM it opens once the compressed path is up (or failed), at most
 * BROWSER_WAIT_MS after the URL; the URL itself is out at once.
 */
static void
browser_open_now(struct tunnel *tn)
{
	if (tn->browser_at == 0)
		return;
	tn->browser_at = 0;
	if (!jc_loop_stopping())
		tn->page = jc_browser_open(jc_opts.target, tn->url) == 0;
}

static void
browser_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct tunnel *tn = arg;

	(void)ps;
	if (tn->browser_at > 0 && (*deadline < 0 ||
	    tn->browser_at < *deadline))
		*deadline = tn->browser_at;
}

static void
browser_dispatch(void *arg, struct jc_pollset *ps)
{
	struct tunnel *tn = arg;

	(void)ps;
	if (tn->browser_at > 0 && jc_now_ms() >= tn->browser_at)
		browser_open_now(tn);
}

static const struct jc_source_ops browser_ops = { browser_prepare,
    browser_dispatch };

/* ---- steps ----------------------------------------------------------- */

/* What to look for on the remote: at start, after a drop, after a restart. */
static void
jupyter_req(const struct tunnel *tn, struct jc_jupyter_req *req)
{
	memset(req, 0, sizeof(*req));
	req->want_port = jc_opts.jupyter_port;
	req->log_file = jc_opts.jupyter_log;
	/* Over SSM the login user (ssm-user) is not the notebook's user. */
	req->run_as = !(tn->a.caps & JC_CAP_LOGIN_IS_USER) ? tn->a.user : NULL;
	req->can_unix = (tn->a.caps & JC_CAP_UNIX_FWD) != 0;
}

static int
find_jupyter(struct tunnel *tn)
{
	struct jc_jupyter_req req;
	char d[256];
	int r;

	jupyter_req(tn, &req);
	req.start = jc_opts.start_jupyter;
	if ((r = jc_jupyter_find(tn->a.p, tn->a.s, &req, &tn->j)) != 0)
		return r;
	jc_jupyter_describe(&tn->j, d, sizeof(d));
	jc_info("found %s", d);
	return 0;
}

static void
dest(const struct tunnel *tn, const char **host, int *port)
{
	if (tn->jupyter)
		jc_jupyter_dial(&tn->j, host, port);
	else {
		*host = "127.0.0.1";
		*port = jc_opts.remote_port;
	}
}

static int
listen_and_forward(struct tunnel *tn)
{
	char why[160], ps[8];
	const char *host;
	uint16_t last = 0;
	int fd, port, r;

	/* Last time's port: the same origin, so the browser's cache works. */
	if (jc_opts.local_port == 0) {
		if (jc_state_dir() != NULL)
			last = (uint16_t)jc_state_port_get(jc_opts.target);
		else
			jc_verbose("the local port is not remembered: %s",
			    jc_state_why());
	}
	r = jc_net_pick_port((uint16_t)jc_opts.local_port, last, &fd,
	    &tn->lport, why, sizeof(why));
	if (r != 0) {
		if (jc_opts.local_port != 0)
			jc_error("local port %d is busy; pick another with "
			    "--local-port, or leave it out to choose "
			    "automatically", jc_opts.local_port);
		else
			jc_error("no free local port on 127.0.0.1");
		return JC_ERR_PORT;
	}
	if (last != 0 && tn->lport != last)
		jc_verbose("port %u, used last time for %s, is busy; took "
		    "another", last, jc_opts.target);
	jc_info("listening on 127.0.0.1, %s", why);
	snprintf(ps, sizeof(ps), "%u", tn->lport);
	jc_event("port", "#port", ps, "reason", why, (char *)NULL);
	dest(tn, &host, &port);
	return jc_fwd_new(fd, host, (uint16_t)port, tn->a.p, tn->a.s,
	    &tn->fwd);
}

/* ---- extra forwards (--forward) --------------------------------------- */

/*
 * Listen for every extra forward.  Those with a LOCAL port go first
 * (explicit: busy is exit 8, before anything connects); those without
 * wait for the main listener (late = 1) so it keeps its usual port.
 */
static int
extras_listen(struct tunnel *tn, int late)
{
	struct xfwd *x;
	char d[300];
	int i, r;

	if (!late) {
		for (i = 0; i < jc_opts.nforwards; i++) {
			x = &tn->x[tn->nx];
			x->lfd = -1;
			/* Checked when given: cannot fail here. */
			if (jc_fwdspec_parse(jc_opts.forwards[i], &x->spec, d,
			    sizeof(d)) != 0)
				return JC_ERR_USAGE;
			tn->nx++;
		}
	}
	for (i = 0; i < tn->nx; i++) {
		x = &tn->x[i];
		if (x->lfd >= 0 || x->fwd != NULL ||
		    (x->spec.lport != 0) == late)
			continue;
		jc_fwdspec_dest(&x->spec, d, sizeof(d));
		if ((r = jc_fwdspec_listen(&x->spec, &x->lfd,
		    &x->lport)) == 0)
			continue;
		if (r == JC_ERR_PORT && x->spec.lport != 0)
			jc_error("local port %u for --forward %s is busy (or "
			    "below 1024); pick another LOCAL, or leave it "
			    "out to choose automatically", x->spec.lport, d);
		else if (r == JC_ERR_PORT)
			jc_error("no free local port on 127.0.0.1 for "
			    "--forward %s", d);
		else
			jc_error("cannot listen for --forward %s: %s", d,
			    jc_strerror(r));
		return r;
	}
	return 0;
}

/* Serve each extra listener through the tunnel's session. */
static int
extras_forward(struct tunnel *tn)
{
	struct xfwd *x;
	char d[300], ls[8], rs[8], url[64];
	int i, r;

	for (i = 0; i < tn->nx; i++) {
		x = &tn->x[i];
		r = jc_fwd_new(x->lfd, x->spec.host, x->spec.rport, tn->a.p,
		    tn->a.s, &x->fwd);
		x->lfd = -1;		/* jc_fwd_new owns it, even failing */
		if (r != 0)
			return r;
		jc_fwdspec_dest(&x->spec, d, sizeof(d));
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/", x->lport);
		snprintf(ls, sizeof(ls), "%u", x->lport);
		snprintf(rs, sizeof(rs), "%u", x->spec.rport);
		/* In the background, the starting process says it. */
		if (tn->notify_fd < 0)
			jc_info("forwarding %s -> %s on the remote side", url,
			    d);
		jc_event("forward", "#local_port", ls, "host", x->spec.host,
		    "#remote_port", rs, "url", url, (char *)NULL);
	}
	return 0;
}

static void
extras_set_session(struct tunnel *tn, const struct jc_plugin *p,
    struct jc_sess *s)
{
	int i;

	for (i = 0; i < tn->nx; i++)
		if (tn->x[i].fwd != NULL)
			jc_fwd_set_session(tn->x[i].fwd, p, s);
}

static void
extras_free(struct tunnel *tn)
{
	int i;

	for (i = 0; i < tn->nx; i++) {
		jc_fwd_free(tn->x[i].fwd);
		tn->x[i].fwd = NULL;
		if (tn->x[i].lfd >= 0)
			close(tn->x[i].lfd);
		tn->x[i].lfd = -1;
	}
	tn->nx = 0;
}

/* Without Jupyter: the forward works when a connection goes through. */
static int
verify_plain(struct tunnel *tn)
{
	struct jc_httpcheck res;
	int r;

	memset(&res, 0, sizeof(res));
	r = jc_httpcheck_get(tn->lport, "/", NULL, VERIFY_MS, &res);
	jc_httpcheck_free(&res);
	if (r == JC_ERR_INTR)
		return r;
	/* Not every port speaks HTTP; a refused stream shows as an error. */
	if (r != 0)
		jc_verbose("no HTTP answer through the tunnel on port %u",
		    tn->lport);
	return 0;
}

static int
build_url(struct tunnel *tn)
{
	if (tn->jupyter)
		return jc_jupyter_url(&tn->j, tn->lport, tn->url,
		    sizeof(tn->url));
	snprintf(tn->url, sizeof(tn->url), "http://127.0.0.1:%u/", tn->lport);
	return 0;
}

/*
 * Where the first stream will go, while the remote is still searched:
 * Jupyter's place as found before (after a drop) or as remembered from
 * last time, or the --remote-port.  Over a method that takes the hint
 * (JC_KIND_WARM: SSM, where a port session costs seven round trips) the
 * port session opens alongside the search.  A wrong guess costs an idle
 * session, closed after ssm.session_idle_s.
 */
static void
warm_dest(struct tunnel *tn)
{
	const struct jc_plugin *p = tn->a.p;
	struct jc_dest_memo m;
	const char *host;
	int port;

	if (!(p->kind & JC_KIND_WARM) || (p->abi & 0xffff) < 4)
		return;
	if (!tn->jupyter || tn->j.port > 0)
		dest(tn, &host, &port);
	else if (jc_opts.jupyter_port == 0 &&
	    jc_state_dest_get(jc_opts.target, &m) == 0) {
		host = m.host;
		port = m.port;
	} else
		return;
	if (port > 0 && port <= 65535)
		(void)p->stream(tn->a.s, host, (uint16_t)port, JC_STREAM_WARM,
		    NULL);
}

/*
 * The default page (/tree, /lab) costs a request through the tunnel to
 * learn, a round trip to a distant region; the same server process at
 * the same place serves the same one as last time.
 */
static void
recall_default_path(struct tunnel *tn)
{
	struct jc_dest_memo m;
	const char *host;
	int port;

	if (tn->j.default_path[0] != '\0' || tn->j.pid <= 0 ||
	    jc_state_dest_get(jc_opts.target, &m) != 0 ||
	    m.default_path[0] == '\0')
		return;
	dest(tn, &host, &port);
	if (m.pid == tn->j.pid && m.port == port && strcmp(m.host, host) == 0)
		snprintf(tn->j.default_path, sizeof(tn->j.default_path), "%s",
		    m.default_path);
}

static void
remember_dest(struct tunnel *tn)
{
	struct jc_dest_memo m;
	const char *host;
	int port;

	if (!tn->jupyter)
		return;
	dest(tn, &host, &port);
	if (port <= 0 || strlen(host) >= sizeof(m.host))
		return;
	memset(&m, 0, sizeof(m));
	snprintf(m.host, sizeof(m.host), "%s", host);
	m.port = port;
	m.pid = tn->j.pid;
	snprintf(m.default_path, sizeof(m.default_path), "%s",
	    tn->j.default_path);
	jc_state_dest_put(jc_opts.target, &m);
}

/* Log in and find the server; used at start and after each drop. */
static int
connect_and_find(struct tunnel *tn)
{
	int r;

	/* Discovery (or the first stream) proves the target reachable. */
	tn->a.t.flags |= JC_TF_LAZY;
	if ((r = jc_access_connect(&tn->a)) != 0)
		return r;
	warm_dest(tn);
	if (jc_opts.install_keys && !jc_opts.supervised &&
	    (r = jc_keys_run(&tn->a, JC_KEYS_INSTALL)) != 0)
		return r;
	if (tn->jupyter && (r = find_jupyter(tn)) != 0)
		return r;
	return 0;
}

/* Report to the process that started us (background mode). */
static void
notify(struct tunnel *tn, int r)
{
	char line[1300];
	int n;

	if (tn->notify_fd < 0)
		return;
	if (r == 0)
		n = snprintf(line, sizeof(line), "OK %u %s\n", tn->lport,
		    tn->url);
	else
		n = snprintf(line, sizeof(line), "ERR %d\n", r);
	(void)!write(tn->notify_fd, line, (size_t)n);
	jc_wipe(line, sizeof(line));
	close(tn->notify_fd);
	tn->notify_fd = -1;
	/* The terminal may go away: from now on, messages go to the log. */
	if (tn->log_fd >= 0) {
		dup2(tn->log_fd, 2);
		close(tn->log_fd);
		tn->log_fd = -1;
	}
}

static void
write_state(struct tunnel *tn)
{
	struct jc_tunnel st;
	int i;

	memset(&st, 0, sizeof(st));
	st.pid = getpid();
	snprintf(st.target, sizeof(st.target), "%s", jc_opts.target);
	snprintf(st.via, sizeof(st.via), "%.*s", (int)sizeof(st.via) - 1,
	    tn->a.via);
	st.local_port = tn->lport;
	snprintf(st.url, sizeof(st.url), "%s", tn->url);
	st.started = (long)time(NULL);
	for (i = 0; i < tn->nx && i < JC_TUNNEL_FWD_MAX; i++) {
		st.forwards[i].local_port = tn->x[i].lport;
		snprintf(st.forwards[i].host, sizeof(st.forwards[i].host),
		    "%s", tn->x[i].spec.host);
		st.forwards[i].remote_port = tn->x[i].spec.rport;
		st.nforwards++;
	}
	jc_state_write(&st);
	jc_wipe(&st, sizeof(st));
}

/* jupyter.check_s: seconds between checks while in use; 0 = never. */
static int
check_interval(void)
{
	return (int)jc_config_num("jupyter.check_s", CHECK_S);
}

/* Tell the user (and the background state) about a new URL. */
static void
announce_url(struct tunnel *tn, const char *why)
{
	jc_info("%s; new URL on stdout", why);
	if (!jc_opts.supervised && !jc_event_enabled()) {
		printf("%s\n", tn->url);
		fflush(stdout);
	}
	jc_event("url", "url", tn->url, "reason", why, (char *)NULL);
	if (jc_opts.supervised)
		write_state(tn);
}

/*
 * Is the Jupyter we found still the one answering?  A refused token
 * (restarted: new token) or a refused connection (stopped, or moved to
 * another port) sends us looking again over the same session.  A check
 * that only times out says nothing about Jupyter: the session's own
 * keepalives judge the path.  Returns 0 or JC_ERR_INTR.
 */
static int
recheck_jupyter(struct tunnel *tn)
{
	struct jc_jupyter_req req;
	struct jc_jupyter j;
	struct jc_httpcheck h;
	char path[sizeof(tn->j.base_url) + 16], old[1200], was[160];
	const char *host;
	int r, port, oldport, changed;

	memset(&h, 0, sizeof(h));
	snprintf(path, sizeof(path), "%sapi/status", tn->j.base_url);
	r = jc_httpcheck_get(tn->lport, path,
	    tn->j.token[0] ? tn->j.token : NULL, CHECK_MS, &h);
	if (r == JC_ERR_INTR)
		return r;
	changed = r != 0 && r != JC_ERR_TIMEOUT;
	if (r == 0 && tn->j.token[0] != '\0')
		changed = h.status == 401 || h.status == 403;
	jc_httpcheck_free(&h);
	if (!changed && !tn->jupyter_gone)
		goto done;
	if (tn->a.p->status(tn->a.s) != 0) {
		tn->lost = 1;
		return 0;
	}
	jupyter_req(tn, &req);
	memset(&j, 0, sizeof(j));
	r = jc_jupyter_discover(tn->a.p, tn->a.s, &req, 1, &j);
	if (r == JC_ERR_INTR) {
		jc_jupyter_clear(&j);
		return r;
	}
	if (r != 0) {
		jc_jupyter_clear(&j);
		if (tn->a.p->status(tn->a.s) != 0) {
			tn->lost = 1;
			return 0;
		}
		if (!tn->jupyter_gone) {
			jc_warn("Jupyter on the remote stopped answering and no "
			    "running server was found; waiting for one");
			jc_event("jupyter", "state", "gone", (char *)NULL);
		}
		/* Each look is an exec (over SSM a session): back off. */
		tn->jupyter_gone = tn->jupyter_gone ? tn->jupyter_gone * 2 : 1;
		if (tn->jupyter_gone * tn->check_s > GONE_MAX_S)
			tn->jupyter_gone = GONE_MAX_S / tn->check_s + 1;
		tn->next_check = jc_now_ms() + (int64_t)tn->jupyter_gone *
		    tn->check_s * 1000;
		goto done;
	}
	snprintf(was, sizeof(was), "pid %ld, port %d", tn->j.pid, tn->j.port);
	dest(tn, &host, &oldport);
	jc_jupyter_clear(&tn->j);
	tn->j = j;
	jc_wipe(&j, sizeof(j));
	dest(tn, &host, &port);
	jc_fwd_set_dest(tn->fwd, host, (uint16_t)port);
	/* The compressed path may only reach the old port: set it up anew. */
	if (tn->link != NULL && port != oldport)
		tn->relink = 1;
	if ((r = jc_jupyter_verify(tn->lport, &tn->j, VERIFY_MS)) == JC_ERR_INTR)
		return r;
	tn->jupyter_gone = r != 0;
	if (r != 0)
		goto done;
	snprintf(old, sizeof(old), "%s", tn->url);
	build_url(tn);
	if (strcmp(old, tn->url) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "Jupyter on the remote restarted "
		    "(was %s, now pid %ld, port %d)", was, tn->j.pid,
		    tn->j.port);
		announce_url(tn, why);
	} else
		jc_info("Jupyter on the remote answers again");
	jc_wipe(old, sizeof(old));
 done:
	/* Our own check is not the user's activity. */
	tn->seen_accepted = jc_fwd_accepted(tn->fwd);
	return 0;
}

/*
 * The compressed path over SSM, set up after the URL is out: meanwhile
 * and after a failure, connections use the plain port session.  One try
 * per start, reconnect or loss of the path; no retry loop.
 */
static void
link_start(struct tunnel *tn)
{
	const char *host;
	int port, r;

	if (tn->link_off || tn->link_failed || tn->link != NULL)
		return;
	if ((r = jc_sshssm_wanted(&tn->a, &tn->link_explicit)) <= 0) {
		tn->link_off = 1;
		return;
	}
	dest(tn, &host, &port);
	if (port == 0) {
		tn->link_off = 1;	/* a Unix socket: SSM has none */
		return;
	}
	r = jc_sshssm_open(&tn->a, host, (uint16_t)port, tn->jupyter,
	    tn->link_explicit, &tn->link);
	/*
	 * A lost tunnel session is not the path's fault: try again later.
	 * Otherwise not before the next reconnect (the instance may have
	 * been restarted, its sshd not up yet when the path was tried).
	 */
	if (r != 0 && r != JC_ERR_INTR && !tn->lost)
		tn->link_failed = 1;
	if (r == 0)
		jc_fwd_set_preferred(tn->fwd, jc_sshssm_plugin(tn->link),
		    jc_sshssm_sess(tn->link));
}

static void
link_stop(struct tunnel *tn)
{
	struct jc_sshssm *l = tn->link;

	/* Closing runs the loop (key removal): the watchdog must not look. */
	tn->link = NULL;
	if (tn->fwd != NULL)
		jc_fwd_set_preferred(tn->fwd, NULL, NULL);
	jc_sshssm_close(l);
}

/* "10 minutes", "12 hours", "45 s": a give-up time in words. */
static const char *
span(long s, char *buf, size_t len)
{
	if (s >= 3600 && s % 3600 == 0)
		snprintf(buf, len, "%ld hour%s", s / 3600, s == 3600 ? "" :
		    "s");
	else if (s >= 60 && s % 60 == 0)
		snprintf(buf, len, "%ld minute%s", s / 60, s == 60 ? "" :
		    "s");
	else
		snprintf(buf, len, "%ld s", s);
	return buf;
}

/*
 * After a drop: log in again with backoff, keeping the local port, so
 * open browser tabs keep working.  Returns 0 or the last error once
 * tunnel.give_up_s has passed (or JC_ERR_INTR).  Credentials that AWS
 * refuses or that need the user (a new MFA code, an SSO sign-in) are
 * waited for CREDS_WAIT_MAX_S: the user may be away for the night, and
 * each try reads them again.  What every try says, it says once.
 */
static int reconnect_tries(struct tunnel *);

static int
reconnect(struct tunnel *tn)
{
	int r;

	jc_log_once_begin();
	r = reconnect_tries(tn);
	jc_log_once_end();
	return r;
}

static int
reconnect_tries(struct tunnel *tn)
{
	int64_t start = jc_now_ms();
	int delay = 500, r, rr, port, attempt, back;
	int budget = tn->a.t.timeout_ms, creds_told = 0;
	long limit, net_s = jc_config_num("tunnel.give_up_s", RECONNECT_MAX_S);
	const char *host;
	char old[1200], words[32];

	link_stop(tn);
	jc_fwd_set_session(tn->fwd, NULL, NULL);
	extras_set_session(tn, NULL, NULL);
	jc_access_disconnect(&tn->a);
	jc_event("reconnecting", "target", jc_opts.target, (char *)NULL);
	/* Said once; each attempt only at -v. */
	jc_warn("connection lost; reconnecting (%s)",
	    jc_access_describe(&tn->a));
	for (attempt = 1;; attempt++) {
		if (attempt > 1)
			jc_verbose("reconnecting: attempt %d", attempt);
		/*
		 * A try started while the path is still gone hangs for its
		 * whole login budget: short ones first (4, 8, 16 s), so the
		 * tunnel is back soon after the path is.
		 */
		tn->a.t.timeout_ms = attempt > 3 || budget <= (4000 <<
		    (attempt - 1)) ? budget : 4000 << (attempt - 1);
		r = connect_and_find(tn);
		tn->a.t.timeout_ms = budget;
		if (r == 0) {
			dest(tn, &host, &port);
			jc_fwd_set_dest(tn->fwd, host, (uint16_t)port);
			jc_fwd_set_session(tn->fwd, tn->a.p, tn->a.s);
			extras_set_session(tn, tn->a.p, tn->a.s);
			/* The server may have restarted: check it again. */
			if (!tn->jupyter || (r = jc_jupyter_verify(tn->lport,
			    &tn->j, VERIFY_MS)) == 0)
				break;
			/* Refused by a live server: that is final (exit 7). */
			if (tn->a.p->status(tn->a.s) == 0 || r == JC_ERR_INTR)
				return r;
			jc_fwd_set_session(tn->fwd, NULL, NULL);
			extras_set_session(tn, NULL, NULL);
		}
		jc_access_disconnect(&tn->a);
		if (r == JC_ERR_HOSTKEY || r == JC_ERR_INTR)
			return r;
		/* Nobody there: the instance may have been stopped. */
		if (r == JC_ERR_UNREACHABLE || r == JC_ERR_CLOSED) {
			/* Still running: the try's own error stands. */
			if ((rr = jc_access_recover(&tn->a, &back)) != 0)
				return rr;
			if (back) {	/* its own clock from here, at once */
				start = jc_now_ms();
				delay = 500;
				continue;
			}
		}
		limit = net_s;
		if (r == JC_ERR_AWS_AUTH) {
			if (limit < CREDS_WAIT_MAX_S)
				limit = CREDS_WAIT_MAX_S;
			if (!creds_told)
				jc_warn("waiting for AWS credentials that work: "
				    "127.0.0.1:%u stays yours, tried again "
				    "every 10 s for up to %s", tn->lport,
				    span(limit, words, sizeof(words)));
			creds_told = 1;
		}
		if (jc_now_ms() - start > limit * 1000) {
			jc_error("could not reconnect within %s; giving up",
			    span(limit, words, sizeof(words)));
			return r;
		}
		if ((r = jc_loop_run(NULL, delay)) == JC_ERR_INTR)
			return r;
		delay = delay * 2 > 10000 ? 10000 : delay * 2;
	}
	tn->lost = 0;
	tn->link_failed = 0;
	snprintf(old, sizeof(old), "%s", tn->url);
	build_url(tn);
	if (strcmp(old, tn->url) != 0)
		/* A restarted server has a new token: say the new URL. */
		announce_url(tn, "the server changed while we were away");
	else if (jc_opts.supervised)
		write_state(tn);
	jc_wipe(old, sizeof(old));
	jc_info("reconnected; still on 127.0.0.1:%u", tn->lport);
	jc_event("ready", "url", tn->url, (char *)NULL);
	return 0;
}

static void
tunnel_free(struct tunnel *tn)
{
	jc_aws_mfa_beside(0);		/* the terminal as it was */
	/* Before the session goes: the path's key is removed through it. */
	link_stop(tn);
	if (tn->a.s != NULL && (tn->a.caps & JC_CAP_SSH_INSIDE))
		jc_sshssm_cleanup(&tn->a);
	jc_fwd_free(tn->fwd);
	tn->fwd = NULL;
	extras_free(tn);
	jc_source_del(tn->browser_src);
	tn->browser_src = NULL;
	jc_source_del(tn->watch);
	tn->watch = NULL;
	jc_access_disconnect(&tn->a);
	jc_jupyter_clear(&tn->j);
	jc_wipe(tn->url, sizeof(tn->url));
}

/* The whole job, in this process.  Returns when stopped or failed. */
static int
run_tunnel(const char *target, int notify_fd, int log_fd)
{
	struct tunnel *tn;
	char ps[8];
	int r;

	if ((tn = calloc(1, sizeof(*tn))) == NULL)
		return JC_ERR_NOMEM;
	tn->notify_fd = notify_fd;
	tn->log_fd = log_fd;
	tn->jupyter = jc_opts.remote_port == 0;
	if ((r = jc_request_resolve(&tn->a, target)) != 0 ||
	    (r = extras_listen(tn, 0)) != 0 ||
	    (r = connect_and_find(tn)) != 0 ||
	    (r = listen_and_forward(tn)) != 0 ||
	    (r = extras_listen(tn, 1)) != 0)
		goto out;
	if (tn->jupyter) {
		recall_default_path(tn);
		r = jc_jupyter_verify(tn->lport, &tn->j, VERIFY_MS);
	} else
		r = verify_plain(tn);
	if (r != 0 || (r = build_url(tn)) != 0 ||
	    (r = extras_forward(tn)) != 0)
		goto out;
	jc_state_port_put(target, tn->lport);
	remember_dest(tn);
	snprintf(ps, sizeof(ps), "%u", tn->lport);
	jc_event("url", "url", tn->url, "#port", ps, (char *)NULL);
	if (tn->notify_fd >= 0) {
		write_state(tn);
		notify(tn, 0);
	} else {
		if (!jc_event_enabled()) {
			printf("%s\n", tn->url);
			fflush(stdout);
		}
		jc_info("forwarding 127.0.0.1:%u -> %s; Ctrl-C to stop",
		    tn->lport, jc_access_describe(&tn->a));
		if (!jc_opts.no_browser) {
			tn->browser_at = jc_now_ms() + BROWSER_WAIT_MS;
			if (!(tn->a.caps & JC_CAP_SSH_INSIDE) ||
			    (tn->browser_src =
			    jc_source_add(&browser_ops, tn)) == NULL)
				browser_open_now(tn);
		}
	}
	jc_event("ready", "url", tn->url, (char *)NULL);
	tn->check_s = tn->jupyter ? check_interval() : 0;
	tn->next_check = jc_now_ms() + tn->check_s * 1000;
	tn->seen_accepted = jc_fwd_accepted(tn->fwd);	/* ours so far */
	if ((tn->watch = jc_source_add(&watch_ops, tn)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	link_start(tn);
	browser_open_now(tn);
	jc_source_del(tn->browser_src);
	tn->browser_src = NULL;
	/* From now on an MFA code is asked for without stopping the tunnel. */
	jc_aws_mfa_beside(1);
	for (;;) {
		r = jc_loop_run(&tn->wake, -1);
		tn->wake = 0;
		if (r == JC_ERR_INTR) {
			r = 0;
			break;
		}
		if (r == 0 && tn->lost) {
			if ((r = reconnect(tn)) != 0)
				break;
			link_start(tn);
			continue;
		}
		if (r == 0 && tn->check_due) {
			tn->check_due = 0;
			r = recheck_jupyter(tn);
		}
		if (r != 0)
			break;
		if (tn->relink) {
			tn->relink = 0;
			link_stop(tn);
			jc_verbose("the compressed path ended; new connections "
			    "use the plain session while it is set up again");
			link_start(tn);
		}
	}
	if (r == JC_ERR_INTR)
		r = 0;
	jc_info("closing the tunnel on 127.0.0.1:%u", tn->lport);
	jc_event("closed", "target", target, (char *)NULL);
 out:
	notify(tn, r);
	/* The page the browser was sent to holds the token: gone with us. */
	if (tn->page)
		jc_state_unlink(target, ".html");
	tunnel_free(tn);
	free(tn);
	return r;
}

/* ---- background ------------------------------------------------------ */

/*
 * Read the supervisor's lines: "PID n", then "OK port url" or "ERR code".
 * The URL holds the token: it is wiped from every temporary.
 */
static int
await_ready(int fd, char *url, size_t n)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[1400], *nl, *line;
	size_t len = 0;
	ssize_t k;
	int64_t end = jc_now_ms() + READY_MS;
	long pid = 0;
	int code, r = JC_ERR_INTERNAL, left;

	for (;;) {
		buf[len] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			line = buf;
			if (sscanf(line, "PID %ld", &pid) == 1) {
				memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf));
				len -= (size_t)(nl + 1 - buf);
				continue;
			}
			if (sscanf(line, "ERR %d", &code) == 1)
				r = code;
			else if (strncmp(line, "OK ", 3) == 0 &&
			    (line = strchr(line + 3, ' ')) != NULL &&
			    strlen(line + 1) < n) {
				snprintf(url, n, "%s", line + 1);
				r = 0;
			}
			break;
		}
		left = (int)(end - jc_now_ms());
		if (left <= 0 || poll(&p, 1, left) == 0) {
			jc_error("the background tunnel did not get ready in "
			    "%d s; run it in the foreground with -v to see why",
			    READY_MS / 1000);
			r = JC_ERR_TIMEOUT;
			break;
		}
		k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR) {
			if (jc_loop_stopping()) {
				r = JC_ERR_INTR;
				break;
			}
			continue;
		}
		if (k <= 0 || (len += (size_t)k) >= sizeof(buf) - 1) {
			jc_error("the background tunnel exited before it was "
			    "ready");
			break;
		}
	}
	if ((r == JC_ERR_TIMEOUT || r == JC_ERR_INTR) && pid > 0)
		kill((pid_t)pid, SIGTERM);
	jc_wipe(buf, sizeof(buf));
	return r;
}

/*
 * Start the supervisor: a grandchild in its own session, stdin and stdout
 * on /dev/null (so $(shell ...) returns at once), stderr kept until it is
 * ready, then moved to a 0600 log file next to its state file.
 */
static int
start_background(const char *target, char *url, size_t n)
{
	char line[32];
	int pfd[2], fd, status, r, len;
	pid_t pid, gc;

	if (pipe(pfd) != 0)
		return JC_ERR_IO;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return JC_ERR_IO;
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		if ((gc = fork()) != 0)
			_exit(gc == -1);
		signal(SIGHUP, SIG_IGN);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			close(fd);
		}
		jc_opts.supervised = 1;
		jc_opts.no_browser = 1;
		jc_event_enable(0);
		fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
		len = snprintf(line, sizeof(line), "PID %ld\n", (long)getpid());
		(void)!write(pfd[1], line, (size_t)len);
		fd = jc_state_log_open(target);
		r = run_tunnel(target, pfd[1], fd);
		jc_state_remove(target);
		_exit(jc_exit_status(r));
	}
	close(pfd[1]);
	waitpid(pid, &status, 0);
	r = await_ready(pfd[0], url, n);
	close(pfd[0]);
	return r;
}

/* Does the running tunnel t have every forward asked for? */
static int
has_forwards(const struct jc_tunnel *t)
{
	struct jc_fwdspec f;
	char why[300];
	int i, k;

	for (i = 0; i < jc_opts.nforwards; i++) {
		if (jc_fwdspec_parse(jc_opts.forwards[i], &f, why,
		    sizeof(why)) != 0)
			return 0;
		for (k = 0; k < t->nforwards; k++)
			if (strcmp(t->forwards[k].host, f.host) == 0 &&
			    t->forwards[k].remote_port == f.rport &&
			    (f.lport == 0 ||
			    t->forwards[k].local_port == f.lport))
				break;
		if (k == t->nforwards) {
			jc_fwdspec_dest(&f, why, sizeof(why));
			jc_error("the background tunnel for %s (pid %ld) has "
			    "no forward to %s; stop it first with 'jconnect "
			    "stop %s'", t->target, (long)t->pid, why,
			    t->target);
			return 0;
		}
	}
	return 1;
}

/* Say the extra forwards of target's background tunnel (stderr, events). */
static void
say_forwards(const char *target)
{
	struct jc_tunnel t;
	char url[64], ls[8], rs[8];
	int i;

	if (jc_state_find(target, &t) != 0)
		return;
	for (i = 0; i < t.nforwards; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/",
		    t.forwards[i].local_port);
		snprintf(ls, sizeof(ls), "%d", t.forwards[i].local_port);
		snprintf(rs, sizeof(rs), "%d", t.forwards[i].remote_port);
		jc_info("forwarding %s -> %s%s%s:%d on the remote side", url,
		    strchr(t.forwards[i].host, ':') ? "[" : "",
		    t.forwards[i].host,
		    strchr(t.forwards[i].host, ':') ? "]" : "",
		    t.forwards[i].remote_port);
		jc_event("forward", "#local_port", ls, "host",
		    t.forwards[i].host, "#remote_port", rs, "url", url,
		    (char *)NULL);
	}
	jc_state_release(&t);
	jc_wipe(&t, sizeof(t));
}

/* `url` and `open -f` on a target that already has a tunnel. */
static int
reuse(const char *target, char *url, size_t n)
{
	struct jc_httpcheck res;
	struct jc_tunnel t;
	int r, tries;

	if (jc_state_find(target, &t) != 0)
		return JC_ERR_NOTFOUND;
	if (!has_forwards(&t)) {
		jc_state_release(&t);
		jc_wipe(&t, sizeof(t));
		return JC_ERR_USAGE;
	}
	/*
	 * Only a tunnel that answers counts.  A live one that does not may
	 * be finding a restarted Jupyter (our tries are the activity that
	 * makes it look): give it REUSE_WAIT_S before replacing it.
	 */
	for (tries = 0;; tries++) {
		memset(&res, 0, sizeof(res));
		r = jc_httpcheck_get((uint16_t)t.local_port, "/api", NULL,
		    5000, &res);
		jc_httpcheck_free(&res);
		if (r == 0 || r == JC_ERR_INTR || tries >= REUSE_WAIT_S)
			break;
		if (tries == 0)
			jc_verbose("tunnel for %s (pid %ld) does not answer; "
			    "waiting up to %d s for it", target, (long)t.pid,
			    REUSE_WAIT_S);
		if (jc_loop_run(NULL, 1000) == JC_ERR_INTR) {
			r = JC_ERR_INTR;
			break;
		}
	}
	if (r == JC_ERR_INTR) {
		jc_state_release(&t);
		jc_wipe(&t, sizeof(t));
		return r;
	}
	if (r != 0) {
		jc_verbose("tunnel for %s (pid %ld) does not answer; starting "
		    "a new one", target, (long)t.pid);
		jc_state_signal(&t, SIGTERM);
		jc_state_release(&t);
		jc_state_forget(&t);
		jc_wipe(&t, sizeof(t));
		return JC_ERR_NOTFOUND;
	}
	/* It may have found a new server meanwhile: its URL of now. */
	if (tries > 0) {
		jc_state_release(&t);
		if (jc_state_find(target, &t) != 0)
			return JC_ERR_NOTFOUND;
	}
	jc_verbose("reusing the tunnel on 127.0.0.1:%d (pid %ld)",
	    t.local_port, (long)t.pid);
	snprintf(url, n, "%s", t.url);
	jc_state_release(&t);
	jc_wipe(&t, sizeof(t));
	return 0;
}

static int
background(const char *target, int browser)
{
	char url[1200];
	int r;

	/* Background tunnels live in the state directory: it must be ours. */
	if (jc_state_dir() == NULL) {
		jc_error("cannot keep a background tunnel: %s", jc_state_why());
		return JC_ERR_IO;
	}
	if ((r = reuse(target, url, sizeof(url))) == JC_ERR_INTR ||
	    r == JC_ERR_USAGE)
		return r;
	if (r != 0 && (r = start_background(target, url, sizeof(url))) != 0)
		return r;
	say_forwards(target);
	if (jc_event_enabled())
		jc_event("url", "url", url, (char *)NULL);
	else {
		printf("%s\n", url);
		fflush(stdout);
	}
	if (browser && !jc_opts.no_browser)
		jc_browser_open(target, url);
	jc_wipe(url, sizeof(url));
	return 0;
}

int
jc_cmd_open(int argc, char **argv)
{
	(void)argc;
	if (jc_opts.background)
		return background(argv[0], 1);
	return run_tunnel(argv[0], -1, -1);
}

int
jc_cmd_url(int argc, char **argv)
{
	(void)argc;
	return background(argv[0], 0);
}
