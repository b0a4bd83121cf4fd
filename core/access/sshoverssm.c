/*
 * sshoverssm.c - the compressed path over SSM (see sshoverssm.h).
 *
 * Steps, each running the loop so the plain port session keeps serving:
 * a second SSM session (its reachability probe is an AWS-StartSSHSession
 * to port 22, so with the usual port that probe becomes the transport),
 * a raw stream to the sshd port, the SSH banner awaited, then the ssh
 * plugin's login over that socket with compression on.  The path gets a
 * session of its own so that a remote without a reachable sshd ends only
 * that session, never the tunnel's.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "sshoverssm.h"

#define KEY_VALID_S	3600	/* a throwaway key logs in for an hour */
#define PROBE_QUIET_MS	2000	/* a silent forward that stays is fine */

struct jc_sshssm {
	struct jc_access	*a;		/* NB. borrowed */
	const struct jc_plugin	*sp;		/* the ssh plugin */
	void			*sstate;
	struct jc_sess		*ssm;		/* the SSM session under SSH */
	struct jc_sess		*ssh;
	char			 dhost[256];
	uint16_t		 dport;
	char			*keyline;	/* throwaway line installed */
	int			 explicit;
	int			 quiet_lvl;	/* log level to restore, or -1 */
	int			 nosshd;	/* the stream ended unanswered */
	int			 ossh;		/* OpenSSH 100 * major + minor, or 0 */
	int			 noforward;	/* logged in, but no forwarding */
	int			 http;		/* the destination speaks HTTP */
};

/* A throwaway line whose removal failed: retried later. */
static char *leftover;

/* ---- options ---------------------------------------------------------- */

int
jc_sshssm_wanted(const struct jc_access *a, int *explicit)
{
	const char *v = jc_config_option("ssm.compress");

	*explicit = 0;
	if (!(a->caps & JC_CAP_SSH_INSIDE))
		return 0;
	if (v == NULL || strcmp(v, "auto") == 0)
		return 1;
	if (strcmp(v, "yes") == 0) {
		*explicit = 1;
		return 1;
	}
	if (strcmp(v, "no") == 0)
		return 0;
	jc_error("option ssm.compress must be yes, no or auto, not \"%s\"", v);
	return JC_ERR_USAGE;
}

/* ---- helpers ----------------------------------------------------------- */

/*
 * The path is optional: the plugins' own error lines on the way (the SSM
 * plugin's for a port nobody listens on, the keys plugin's for a file it
 * may not change) would be noise.  Unless the user asked for the path or
 * runs -v, the log is quiet while it is set up, and one line says why it
 * failed at -v; a changed host key is always a warning.
 */
static void
quiet(struct jc_sshssm *l)
{
	if (l->explicit || jc_log_lvl >= JC_LOG_VERBOSE || l->quiet_lvl >= 0)
		return;
	l->quiet_lvl = jc_log_lvl;
	jc_log_lvl = 0;
}

static void
unquiet(struct jc_sshssm *l)
{
	if (l->quiet_lvl < 0)
		return;
	jc_log_lvl = l->quiet_lvl;
	l->quiet_lvl = -1;
}

struct banner_wait {
	int		 fd, slot;
	volatile int	 ready;
};

static void
bw_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct banner_wait *w = arg;

	(void)deadline;
	w->slot = jc_ps_add(ps, w->fd, POLLIN);
}

static void
bw_dispatch(void *arg, struct jc_pollset *ps)
{
	struct banner_wait *w = arg;

	if (jc_ps_revents(ps, w->slot) != 0)
		w->ready = 1;
}

static const struct jc_source_ops bw_ops = { bw_prepare, bw_dispatch };

/* "SSH-2.0-OpenSSH_9.2p1 ..." -> 902; 0 for another server. */
static int
openssh_version(const char *banner)
{
	const char *p = strstr(banner, "SSH-2.0-OpenSSH_");
	int major, minor;

	if (p == NULL || sscanf(p + 16, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 100 + minor;
}

/*
 * Peek at what arrives on fd without taking it, running the loop: 0 once
 * a whole line (or n - 1 bytes) is there, in b; JC_ERR_UNREACHABLE on
 * EOF; JC_ERR_TIMEOUT; JC_ERR_INTR.
 */
static int
await_line(int fd, int timeout_ms, char *b, size_t n)
{
	struct banner_wait w = { fd, -1, 0 };
	struct jc_source *src;
	int64_t end = jc_now_ms() + timeout_ms;
	ssize_t k;
	int r = JC_ERR_TIMEOUT;

	if ((src = jc_source_add(&bw_ops, &w)) == NULL)
		return JC_ERR_NOMEM;
	for (;;) {
		k = recv(fd, b, n - 1, MSG_PEEK | MSG_DONTWAIT);
		if (k > 0) {
			b[k] = '\0';
			if (memchr(b, '\n', (size_t)k) != NULL ||
			    (size_t)k == n - 1) {
				r = 0;
				break;
			}
		} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
			r = JC_ERR_UNREACHABLE;
			break;
		}
		if (jc_now_ms() >= end) {
			r = JC_ERR_TIMEOUT;
			break;
		}
		w.ready = 0;
		/* More of a line that came in pieces: look again soon. */
		r = jc_loop_run(&w.ready, k > 0 ? 20 : (int)(end -
		    jc_now_ms()));
		if (r == JC_ERR_INTR)
			break;
	}
	jc_source_del(src);
	return r;
}

/*
 * SSH servers speak first: the banner says the agent reached an sshd,
 * and which OpenSSH it is.
 */
static int
await_banner(struct jc_sshssm *l, int fd, int timeout_ms)
{
	char b[256];
	int r;

	if ((r = await_line(fd, timeout_ms, b, sizeof(b))) == 0)
		l->ossh = openssh_version(b);
	return r;
}

/*
 * Does sshd forward there (AllowTcpForwarding, PermitOpen)?  A channel
 * it refuses ends at once; Jupyter must answer a HEAD request.  Other
 * servers may stay silent: no end within PROBE_QUIET_MS is a yes.
 */
static int
probe_forward(struct jc_sshssm *l, int http, int timeout_ms)
{
	static const char req[] = "HEAD /api HTTP/1.0\r\n\r\n";
	char b[64];
	int fd, r;

	if ((r = l->sp->stream(l->ssh, l->dhost, l->dport, 0, &fd)) != 0)
		return r;
	if (http && write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		close(fd);
		return JC_ERR_IO;
	}
	r = await_line(fd, http ? timeout_ms : PROBE_QUIET_MS, b, sizeof(b));
	close(fd);
	if (r == 0 && http && strncmp(b, "HTTP/", 5) != 0)
		r = JC_ERR_PROTO;
	if (r == JC_ERR_TIMEOUT && !http)
		r = 0;
	if (r != 0 && r != JC_ERR_INTR) {
		jc_verbose("sshd does not forward to %s:%u (%s)", l->dhost,
		    l->dport, r == JC_ERR_UNREACHABLE ? "channel refused" :
		    jc_strerror(r));
		l->noforward = 1;
		if (r != JC_ERR_TIMEOUT)
			r = JC_ERR_UNREACHABLE;
	}
	return r;
}

/* Install or remove one authorized_keys line for the notebook's user. */
static int
keys_line(struct jc_access *a, int op, const char *line)
{
	const struct jc_plugin *kp;
	struct jc_keys_req req;
	const char *lines[2] = { line, NULL };
	void *ks;
	int r;

	if ((r = jc_plugin_get("keys", &kp, &ks)) != 0)
		return r;
	/* An older keys plugin would ignore the line and pick keys itself. */
	if ((kp->abi >> 16) != 1 || (kp->abi & 0xffff) < 3) {
		jc_verbose("the keys plugin is too old for a throwaway key");
		return JC_ERR_PLUGIN;
	}
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.op = op;
	req.run_as = a->user;
	req.os_user = a->user;
	req.lines = lines;
	return kp->keys(ks, a->p, a->s, &req);
}

/* Remove a line even after a stop signal: the loop runs once more. */
static int
remove_line(struct jc_access *a, const char *line)
{
	int sig, r;

	if (a->s == NULL || a->p->status(a->s) != 0)
		return JC_ERR_CLOSED;
	sig = jc_loop_hold_stop();
	r = keys_line(a, JC_KEYS_REMOVE, line);
	jc_loop_restore_stop(sig);
	return r;
}

static void
forget_line(struct jc_access *a, char *line)
{
	if (remove_line(a, line) == 0) {
		jc_verbose("removed the throwaway key from %s's "
		    "authorized_keys", a->user);
		free(line);
		return;
	}
	jc_verbose("could not remove the throwaway key from %s's "
	    "authorized_keys now; it stops working within the hour", a->user);
	if (leftover == NULL)
		leftover = line;
	else
		free(line);
}

void
jc_sshssm_cleanup(struct jc_access *a)
{
	char *line = leftover;

	if (line == NULL)
		return;
	leftover = NULL;
	forget_line(a, line);
}

/* permitopen="HOST:PORT" wants IPv6 addresses in brackets. */
static int
permit_dest(const char *host, uint16_t port, char *out, size_t n)
{
	const char *p;

	for (p = host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_:", *p) == NULL)
			return -1;
	if (strchr(host, ':') != NULL)
		snprintf(out, n, "[%s]:%u", host, port);
	else
		snprintf(out, n, "%s:%u", host, port);
	return 0;
}

/*
 * The ssh plugin's offer: authorize its throwaway key.  The line logs in
 * only from the instance itself (where the agent dials sshd), only to
 * forward to Jupyter's port, no shell, pty or agent, and only for
 * KEY_VALID_S seconds.
 */
static int
authorize(void *arg, const char *pubkey)
{
	struct jc_sshssm *l = arg;
	char dest[300], ts[32], *line;
	time_t exp = time(NULL) + KEY_VALID_S;
	struct tm tm;
	size_t n;
	int r;

	if (permit_dest(l->dhost, l->dport, dest, sizeof(dest)) != 0) {
		jc_verbose("no throwaway key for destination %s", l->dhost);
		return JC_ERR_UNSUPPORTED;
	}
	/* expiry-time came with OpenSSH 7.7; Dropbear & co have none. */
	if (l->ossh < 707) {
		jc_verbose("no throwaway key: the sshd is %s, which does not "
		    "know expiry-time", l->ossh ? "older than OpenSSH 7.7" :
		    "not OpenSSH");
		return JC_ERR_UNSUPPORTED;
	}
	/*
	 * The "Z" (UTC) suffix is recent; without it sshd reads the time
	 * in its own zone, UTC on EC2 images unless changed.
	 */
	gmtime_r(&exp, &tm);
	strftime(ts, sizeof(ts), l->ossh >= 900 ? "%Y%m%d%H%M%SZ" :
	    "%Y%m%d%H%M%S", &tm);
	n = strlen(pubkey) + strlen(dest) + 200;
	if ((line = malloc(n)) == NULL)
		return JC_ERR_NOMEM;
	snprintf(line, n, "restrict,port-forwarding,permitopen=\"%s\","
	    "from=\"127.0.0.1,::1\",expiry-time=\"%s\" %s", dest, ts, pubkey);
	if ((r = keys_line(l->a, JC_KEYS_INSTALL, line)) != 0) {
		jc_verbose("could not install a throwaway key for %s",
		    l->a->user);
		/* Interrupted half way: the line may be there; remove it. */
		if (r == JC_ERR_INTR || r == JC_ERR_TIMEOUT)
			l->keyline = line;
		else
			free(line);
		return r;
	}
	jc_verbose("installed a throwaway key in %s's authorized_keys "
	    "(expires %s, forwarding to %s only)", l->a->user, ts, dest);
	l->keyline = line;
	return 0;
}

/* ---- the path ----------------------------------------------------------- */

static const char *
why(const struct jc_sshssm *l, int r, int port)
{
	static char b[400];

	switch (r) {
	case JC_ERR_UNREACHABLE:
		if (l->nosshd)
			snprintf(b, sizeof(b), "the SSM agent reached no sshd "
			    "on port %d", port);
		else if (l->noforward)
			snprintf(b, sizeof(b), "sshd on port %d does not "
			    "forward to %s:%u", port, l->dhost, l->dport);
		else
			snprintf(b, sizeof(b), "no SSH login on port %d: no "
			    "key accepted, or the handshake failed (-v tells)",
			    port);
		return b;
	case JC_ERR_TIMEOUT:
		snprintf(b, sizeof(b), "sshd on port %d did not answer in time",
		    port);
		return b;
	default:
		return jc_strerror(r);
	}
}

/* The method that logs in over a given socket (the ssh plugin's). */
static int
fd_login_plugin(struct jc_sshssm *l)
{
	const struct jc_plugin *ps[8];
	void *sts[8];
	int i, n = jc_plugin_methods(ps, sts, 8);

	for (i = 0; i < n; i++)
		if (jc_plugin_caps(ps[i]) & JC_CAP_FD_LOGIN) {
			l->sp = ps[i];
			l->sstate = sts[i];
			return 0;
		}
	jc_verbose("no access plugin logs in over a stream (JC_CAP_FD_LOGIN)");
	return JC_ERR_PLUGIN;
}

static int
open_path(struct jc_sshssm *l)
{
	struct jc_access *a = l->a;
	struct jc_target t;
	int fd = -1, port = a->t.port ? a->t.port : 22, r;

	jc_verbose("setting up the compressed path: SSH to %s port %d inside "
	    "an SSM session", a->inst.id, port);
	if ((r = fd_login_plugin(l)) != 0)
		return r;
	quiet(l);
	if ((r = a->p->connect(a->pstate, &a->t, &l->ssm)) != 0)
		return r;
	if ((r = a->p->stream(l->ssm, "127.0.0.1", (uint16_t)port,
	    JC_STREAM_PROXY, &fd)) != 0)
		return r;
	if ((r = await_banner(l, fd, a->t.timeout_ms)) != 0) {
		l->nosshd = r == JC_ERR_UNREACHABLE;
		close(fd);
		return r;
	}
	t = a->t;
	t.size = sizeof(t);
	t.host = a->inst.id;
	t.port = port;
	t.host_key_alias = a->inst.id;
	t.flags = JC_TF_FD | JC_TF_COMPRESS;
	t.fd = fd;
	t.authorize_key = authorize;
	t.authorize_arg = l;
	if ((r = l->sp->connect(l->sstate, &t, &l->ssh)) != 0)
		return r;
	if ((r = probe_forward(l, l->http, a->t.timeout_ms)) != 0)
		return r;
	/* The browser's connections find their streams open already. */
	if ((l->sp->kind & JC_KIND_WARM) && (l->sp->abi & 0xffff) >= 4)
		(void)l->sp->stream(l->ssh, l->dhost, l->dport,
		    JC_STREAM_WARM, NULL);
	return 0;
}

int
jc_sshssm_open(struct jc_access *a, const char *dhost, uint16_t dport,
    int http, int explicit, struct jc_sshssm **out)
{
	struct jc_sshssm *l;
	int port = a->t.port ? a->t.port : 22, r;

	*out = NULL;
	jc_sshssm_cleanup(a);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return JC_ERR_NOMEM;
	l->a = a;
	l->explicit = explicit;
	l->http = http;
	l->quiet_lvl = -1;
	l->dport = dport;
	/* The SSM plugin's "" means the instance itself. */
	snprintf(l->dhost, sizeof(l->dhost), "%s",
	    *dhost != '\0' ? dhost : "localhost");
	r = open_path(l);
	unquiet(l);
	if (r != 0) {
		if (r == JC_ERR_HOSTKEY)
			jc_warn("the host key of %s's sshd is refused "
			    "(changed, or unknown with --host-key-check "
			    "strict); connections stay on the plain SSM "
			    "session (-v says more)", a->inst.id);
		else if (r != JC_ERR_INTR) {
			if (explicit)
				jc_warn("compressed path unavailable (%s); "
				    "connections stay on the plain SSM session",
				    why(l, r, port));
			else
				jc_verbose("compressed path unavailable (%s); "
				    "connections stay on the plain SSM session",
				    why(l, r, port));
		}
		jc_sshssm_close(l);
		return r;
	}
	jc_verbose("compressed path up: new connections go through SSH "
	    "(zlib) inside an SSM session to %s", a->inst.id);
	*out = l;
	return 0;
}

const struct jc_plugin *
jc_sshssm_plugin(const struct jc_sshssm *l)
{
	return l->sp;
}

struct jc_sess *
jc_sshssm_sess(const struct jc_sshssm *l)
{
	return l->ssh;
}

int
jc_sshssm_status(struct jc_sshssm *l)
{
	int r;

	if ((r = l->sp->status(l->ssh)) != 0)
		return r;
	return l->a->p->status(l->ssm);
}

void
jc_sshssm_close(struct jc_sshssm *l)
{
	if (l == NULL)
		return;
	if (l->ssh != NULL)
		l->sp->close(l->ssh);
	if (l->ssm != NULL) {
		jc_aws_settle();
		l->a->p->close(l->ssm);
	}
	l->ssh = NULL;
	l->ssm = NULL;
	if (l->keyline != NULL)
		forget_line(l->a, l->keyline);
	free(l);
}
