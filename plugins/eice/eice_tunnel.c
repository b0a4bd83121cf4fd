/*
 * eice_tunnel.c - the openTunnel WebSocket of an EC2 Instance Connect
 * Endpoint: a SigV4-presigned GET upgraded to a WebSocket whose binary
 * messages carry the raw TCP bytes of one connection to the instance
 * (its sshd).  A loop source pumps it to one end of a socketpair; the
 * ssh plugin's session logs in over the other.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "compat.h"
#include "eice.h"
#include "../ssm/ssm_host.h"
#include "../ssm/ssm_msg.h"
#include "../ssm/ssm_ws.h"

#define RD_CHUNK	(32u << 10)	/* bytes per read of the local end */
#define WS_BACKLOG_MAX	(256u << 10)	/* stop reading while this is queued */
#define OUT_MAX		(1u << 20)	/* stop reading the WebSocket above */
#define PRESIGN_S	60		/* as AWS's CLI: the URL is used at once */

/*
 * The SSM plugin's WebSocket code, linked in, logs through ssm_host and
 * masks frames with ssm_rand.  Weak, as jssh_host in eice.c.
 */
__attribute__((weak)) const struct jc_host *ssm_host;

struct eice_tun {
	struct ssm_ws		*ws;
	struct jc_source	*src;
	int			 fd;		/* our end of the socketpair */
	int			 wslot, fslot;
	unsigned char		*out;		/* from the WebSocket, to fd */
	size_t			 outlen, outoff, outcap;
	int			 eof_local;	/* fd said EOF */
	int			 dead;
	volatile int		 settled;	/* open, or failed */
	char			 why[200];
};

__attribute__((weak)) int
ssm_rand(void *buf, size_t n)
{
	int fd, r = -1;
	ssize_t k;
	size_t o = 0;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (o < n && (k = read(fd, (char *)buf + o, n - o)) > 0)
		o += (size_t)k;
	if (o == n)
		r = 0;
	close(fd);
	return r;
}

static void
on_msg(void *arg, int text, const unsigned char *p, size_t n)
{
	struct eice_tun *tn = arg;
	unsigned char *nb;
	size_t cap;

	if (text || n == 0)
		return;			/* the tunnel speaks binary only */
	if (tn->outoff > 0 && tn->outoff == tn->outlen)
		tn->outoff = tn->outlen = 0;
	if (tn->outlen + n > tn->outcap) {
		cap = tn->outcap ? tn->outcap : 65536;
		while (cap < tn->outlen + n)
			cap *= 2;
		if ((nb = realloc(tn->out, cap)) == NULL) {
			tn->dead = 1;
			snprintf(tn->why, sizeof(tn->why), "out of memory");
			return;
		}
		tn->out = nb;
		tn->outcap = cap;
	}
	memcpy(tn->out + tn->outlen, p, n);
	tn->outlen += n;
}

static void
die(struct eice_tun *tn, const char *why)
{
	int code = 0;
	char reason[128] = "";

	if (tn->dead)
		return;
	tn->dead = 1;
	tn->settled = 1;
	if (tn->ws != NULL)
		ssm_ws_close_info(tn->ws, &code, reason, sizeof(reason));
	snprintf(tn->why, sizeof(tn->why), "%s%s%s", why, *reason ? ": " : "",
	    reason);
	eice_log(JC_LOG_VERBOSE, "tunnel closed: %s", tn->why);
	/* The session above sees EOF and says the connection dropped. */
	if (tn->fd >= 0)
		shutdown(tn->fd, SHUT_RDWR);
}

static void
t_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct eice_tun *tn = arg;
	short ev = 0;

	tn->wslot = tn->fslot = -1;
	if (tn->dead)
		return;
	if (ssm_ws_state(tn->ws) == SSM_WS_CONNECTING) {
		ssm_ws_connect_prepare(tn->ws, ps, deadline);
		return;
	}
	ev = ssm_ws_events(tn->ws);
	if (tn->outlen - tn->outoff >= OUT_MAX)
		ev &= (short)~POLLIN;
	tn->wslot = eice_host->ps_add(ps, ssm_ws_fd(tn->ws), ev);
	if (ssm_ws_pending(tn->ws) && tn->outlen - tn->outoff < OUT_MAX)
		*deadline = eice_host->now_ms();
	ev = 0;
	if (ssm_ws_state(tn->ws) == SSM_WS_OPEN && !tn->eof_local &&
	    ssm_ws_backlog(tn->ws) < WS_BACKLOG_MAX)
		ev |= POLLIN;
	if (tn->outoff < tn->outlen)
		ev |= POLLOUT;
	if (ev != 0)
		tn->fslot = eice_host->ps_add(ps, tn->fd, ev);
}

static void
pump_out(struct eice_tun *tn)
{
	ssize_t n;

	while (tn->outoff < tn->outlen) {
		n = send(tn->fd, tn->out + tn->outoff, tn->outlen - tn->outoff,
		    JC_MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			die(tn, "the local end closed");
			return;
		}
		tn->outoff += (size_t)n;
	}
}

static void
pump_in(struct eice_tun *tn)
{
	unsigned char buf[RD_CHUNK];
	ssize_t n;

	n = recv(tn->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* The session is done with the tunnel: close it. */
		tn->eof_local = 1;
		die(tn, "closed by this side");
		return;
	}
	if (ssm_ws_send(tn->ws, 0, buf, (size_t)n) != 0)
		die(tn, "the WebSocket refused a message");
	else
		ssm_ws_flush(tn->ws);
}

static void
t_dispatch(void *arg, struct jc_pollset *ps)
{
	struct eice_tun *tn = arg;
	short rev, frev;
	int st, r;

	if (tn->dead)
		return;
	if ((st = ssm_ws_state(tn->ws)) == SSM_WS_CONNECTING) {
		if (ssm_ws_connect_step(tn->ws, ps) != 0)
			die(tn, ssm_ws_why(tn->ws));
		return;
	}
	rev = tn->wslot >= 0 ? eice_host->ps_revents(ps, tn->wslot) : 0;
	r = ssm_ws_run(tn->ws, (rev != 0 || ssm_ws_pending(tn->ws)) &&
	    tn->outlen - tn->outoff < OUT_MAX);
	if (r != 0) {
		pump_out(tn);	/* what came before the close still counts */
		die(tn, st == SSM_WS_UPGRADING ?
		    "the endpoint refused the tunnel" :
		    "the endpoint closed the tunnel");
		return;
	}
	if (ssm_ws_state(tn->ws) == SSM_WS_OPEN)
		tn->settled = 1;
	pump_out(tn);
	frev = tn->fslot >= 0 ? eice_host->ps_revents(ps, tn->fslot) : 0;
	if (!tn->dead && (frev & (POLLIN | POLLHUP | POLLERR)))
		pump_in(tn);
}

static const struct jc_source_ops tun_ops = { t_prepare, t_dispatch };

static int
add_param(char *out, size_t len, const char *k, const char *v)
{
	size_t n = strlen(out);
	const unsigned char *s;
	static const char hex[] = "0123456789ABCDEF";

	if (n + strlen(k) + 2 >= len)
		return JC_ERR_USAGE;
	n += (size_t)snprintf(out + n, len - n, "%s%s=", n ? "&" : "", k);
	for (s = (const unsigned char *)v; *s != '\0'; s++) {
		if (n + 4 >= len)
			return JC_ERR_USAGE;
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.~", *s) != NULL)
			out[n++] = (char)*s;
		else {
			out[n++] = '%';
			out[n++] = hex[*s >> 4];
			out[n++] = hex[*s & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

int
eice_tunnel_query(const struct eice_ep *ep, const char *ip, int port,
    int max_s, char *out, size_t len)
{
	char p[16], m[16];

	snprintf(p, sizeof(p), "%d", port);
	snprintf(m, sizeof(m), "%d", max_s);
	*out = '\0';
	if (add_param(out, len, "instanceConnectEndpointId", ep->id) != 0 ||
	    add_param(out, len, "maxTunnelDuration", m) != 0 ||
	    add_param(out, len, "privateIpAddress", ip) != 0 ||
	    add_param(out, len, "remotePort", p) != 0)
		return JC_ERR_USAGE;
	return 0;
}

/*
 * Where to dial: wss://DNSNAME, unless eice.endpoint_url names another
 * ws(s)://HOST[:PORT] (a proxy, or a test's fake endpoint).
 */
static void
dial_base(const struct eice_ep *ep, char *scheme, size_t sl, char *host,
    size_t hl)
{
	const char *u = eice_host->option("eice.endpoint_url"), *h;

	snprintf(scheme, sl, "wss");
	snprintf(host, hl, "%s", ep->dns);
	if (u == NULL || (h = strstr(u, "://")) == NULL)
		return;
	snprintf(scheme, sl, "%.*s", (int)(h - u), u);
	snprintf(host, hl, "%.*s", (int)strcspn(h + 3, "/"), h + 3);
}

int
eice_tunnel_open(const struct eice_ep *ep, const char *ip, int port,
    int max_s, int timeout_ms, int *fdp, struct eice_tun **out)
{
	struct jc_aws_error err;
	struct eice_tun *tn;
	char query[512], url[8192], scheme[8], host[300], why[200];
	int sv[2] = { -1, -1 }, r;

	*out = NULL;
	if (eice_tunnel_query(ep, ip, port, max_s, query, sizeof(query)) != 0)
		return JC_ERR_USAGE;
	dial_base(ep, scheme, sizeof(scheme), host, sizeof(host));
	memset(&err, 0, sizeof(err));
	if ((r = eice_host->aws_presign(EICE_SERVICE, scheme, host,
	    "/openTunnel", query, PRESIGN_S, url, sizeof(url), &err)) != 0) {
		eice_log(JC_LOG_ERROR, "cannot sign the tunnel request: %s",
		    eice_host->aws_explain(&err));
		return r;
	}
	if ((tn = calloc(1, sizeof(*tn))) == NULL) {
		jc_wipe(url, sizeof(url));
		return JC_ERR_NOMEM;
	}
	tn->fd = -1;
	r = ssm_ws_dial_start(url, eice_host->aws_ca_bundle(), timeout_ms,
	    on_msg, tn, &tn->ws, why, sizeof(why));
	jc_wipe(url, sizeof(url));
	if (r != 0) {
		eice_log(JC_LOG_ERROR, "cannot reach the EC2 Instance Connect "
		    "Endpoint %s: %s", ep->dns, why);
		free(tn);
		return JC_ERR_UNREACHABLE;
	}
	if (jc_socketpair(AF_UNIX, SOCK_STREAM | JC_SOCK_CLOEXEC, 0, sv) != 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0 ||
	    (tn->src = eice_host->source_add(&tun_ops, tn)) == NULL) {
		eice_log(JC_LOG_ERROR, "cannot set up the tunnel: %s",
		    strerror(errno));
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		ssm_ws_free(tn->ws);
		free(tn);
		return JC_ERR_IO;
	}
	tn->fd = sv[0];
	/* Wait for the upgrade: a refusal is better said now than as EOF. */
	r = eice_host->loop_run(&tn->settled, timeout_ms);
	if (r == 0 && tn->dead)
		r = JC_ERR_UNREACHABLE;
	if (r != 0) {
		if (r == JC_ERR_TIMEOUT)
			eice_log(JC_LOG_ERROR, "the EC2 Instance Connect Endpoint "
			    "%s did not open a tunnel in %d s", ep->dns,
			    timeout_ms / 1000);
		else if (r != JC_ERR_INTR)
			eice_log(JC_LOG_ERROR, "the EC2 Instance Connect Endpoint "
			    "%s refused a tunnel to %s port %d: %s", ep->dns, ip,
			    port, tn->why);
		close(sv[1]);
		eice_tunnel_close(tn);
		return r == JC_ERR_TIMEOUT || r == JC_ERR_INTR ? r :
		    JC_ERR_UNREACHABLE;
	}
	eice_log(JC_LOG_VERBOSE, "tunnel open to %s port %d through %s (at "
	    "most %d s)", ip, port, ep->id, max_s);
	*fdp = sv[1];
	*out = tn;
	return 0;
}

int
eice_tunnel_status(const struct eice_tun *tn)
{
	return tn->dead ? JC_ERR_CLOSED : 0;
}

void
eice_tunnel_close(struct eice_tun *tn)
{
	if (tn == NULL)
		return;
	eice_host->source_del(tn->src);
	ssm_ws_free(tn->ws);
	if (tn->fd >= 0)
		close(tn->fd);
	free(tn->out);
	free(tn);
}
