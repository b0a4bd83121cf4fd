/*
 * eice.c - the EICE access plugin: registration and the jc_plugin ops.
 *
 * connect: the instance's VPC and private address, the endpoint of that
 * VPC, the presigned openTunnel WebSocket to its sshd, then the ssh
 * plugin's login (linked in) over the tunnel.  When none of the user's
 * keys is accepted, the login's throwaway key is pushed with
 * SendSSHPublicKey.  Everything else (exec, streams, keepalives) is the
 * SSH session's, so nothing is rate-limited beyond the endpoint itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eice.h"
#include "../ssh/jssh.h"

/*
 * The linked-in ssh session code logs through jssh_host.  Weak: a test
 * linking the ssh plugin's archive as well gets that one definition.
 */
__attribute__((weak)) const struct jc_host *jssh_host;
extern const struct jc_host *ssm_host;	/* the linked-in WebSocket code */

struct eice_sess {
	struct jssh_sess	*ssh;
	struct eice_tun		*tun;
	char			 id[32];
	char			 user[64];
};

static const struct jc_plugin_opt eice_options[] = {
	{ "max_tunnel_s", JC_OPT_NUM, 1, EICE_MAX_TUNNEL_S, "seconds", "3600",
	    "maxTunnelDuration: the endpoint closes a tunnel after this; "
	    "jconnect then opens another" },
	{ "endpoint_id", JC_OPT_LIST, 0, 0, "eice-...", NULL,
	    "use this endpoint instead of one of the instance's VPC" },
	{ "endpoint_url", JC_OPT_LIST, 0, 0, "ws(s)://HOST[:PORT]", NULL,
	    "dial this instead of the endpoint's DNS name (a proxy)" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int
eice_p_init(const struct jc_host *h, void **statep)
{
	if (h->size < offsetof(struct jc_host, aws_presign) +
	    sizeof(h->aws_presign) || h->aws_presign == NULL ||
	    h->aws_query == NULL) {
		h->log(JC_LOG_ERROR, "eice", "this jconnect is too old for "
		    "the eice plugin (needs plugin ABI 1.5)");
		return JC_ERR_PLUGIN;
	}
	eice_host = jssh_host = ssm_host = h;
	if (ssh_init() != 0)
		return JC_ERR_INTERNAL;
	*statep = NULL;
	return 0;
}

static void
eice_p_fini(void *state)
{
	(void)state;
	ssh_finalize();
}

static int
max_tunnel_s(void)
{
	const char *v = eice_host->option("eice.max_tunnel_s");
	long n;
	char *end;

	if (v == NULL)
		return EICE_MAX_TUNNEL_S;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 1 || n > EICE_MAX_TUNNEL_S)
		return EICE_MAX_TUNNEL_S;
	return (int)n;
}

/* The login's throwaway key: Instance Connect accepts it for 60 s. */
static int
authorize(void *arg, const char *pubkey)
{
	struct eice_sess *es = arg;

	return eice_push_key(es->id, es->user, pubkey);
}

static void
sess_free(struct eice_sess *es)
{
	if (es->ssh != NULL)
		jssh_close(es->ssh);
	eice_tunnel_close(es->tun);
	free(es);
}

static int
eice_p_connect(void *state, const struct jc_target *t, struct jc_sess **out)
{
	struct eice_inst in;
	struct eice_ep ep;
	struct eice_sess *es;
	struct jc_target st;
	int port = t->port ? t->port : 22, fd = -1, r;

	(void)state;
	if (t->instance_id == NULL) {
		eice_log(JC_LOG_ERROR, "%s is not an EC2 instance: EC2 Instance "
		    "Connect Endpoints reach instances by id", t->spec);
		return JC_ERR_USAGE;
	}
	if ((es = calloc(1, sizeof(*es))) == NULL)
		return JC_ERR_NOMEM;
	snprintf(es->id, sizeof(es->id), "%s", t->instance_id);
	snprintf(es->user, sizeof(es->user), "%s", t->user);
	if ((r = eice_describe_instance(es->id, &in)) != 0 ||
	    (r = eice_find_endpoint(es->id, &in,
	    eice_host->option("eice.endpoint_id"), &ep)) != 0 ||
	    (r = eice_tunnel_open(&ep, in.ip, port, max_tunnel_s(),
	    t->timeout_ms, &fd, &es->tun)) != 0)
		goto fail;
	st = *t;
	st.size = sizeof(st);
	st.host = es->id;
	st.port = port;
	st.host_key_alias = es->id;	/* the private IP may be reused */
	st.flags = JC_TF_FD;
	st.fd = fd;
	st.authorize_key = authorize;
	st.authorize_arg = es;
	if ((r = jssh_connect(&st, &es->ssh)) != 0) {
		es->ssh = NULL;
		if (r == JC_ERR_UNREACHABLE)
			eice_log(JC_LOG_ERROR, "cannot log in to %s@%s through "
			    "its EC2 Instance Connect Endpoint: no key was "
			    "accepted, not even one pushed with "
			    "SendSSHPublicKey (-v tells more)", es->user,
			    es->id);
		else if (r == JC_ERR_TIMEOUT || r == JC_ERR_CLOSED)
			eice_log(JC_LOG_ERROR, "sshd of %s did not answer "
			    "through the tunnel (is it listening on port %d?)",
			    es->id, port);
		if (r == JC_ERR_TIMEOUT || r == JC_ERR_CLOSED)
			r = JC_ERR_UNREACHABLE;
		goto fail;
	}
	*out = (struct jc_sess *)es;
	return 0;
 fail:
	sess_free(es);
	return r;
}

static int
eice_p_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	return jssh_exec(((struct eice_sess *)s)->ssh, cmd, in, inlen,
	    timeout_ms, res);
}

static int
eice_p_stream(struct jc_sess *s, const char *host, uint16_t port, int flags,
    int *fdp)
{
	return jssh_stream(((struct eice_sess *)s)->ssh, host, port,
	    (flags & JC_STREAM_ADOPT) != 0, fdp);
}

static int
eice_p_status(struct jc_sess *s)
{
	struct eice_sess *es = (struct eice_sess *)s;

	if (es->ssh->dead)
		return es->ssh->dead;
	return eice_tunnel_status(es->tun);
}

static void
eice_p_close(struct jc_sess *s)
{
	sess_free((struct eice_sess *)s);
}

const struct jc_plugin jc_plugin_eice = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "eice",
	.kind = JC_KIND_METHOD | JC_KIND_ADOPT,
	.version = "1.0",
	.summary = "EC2 Instance Connect Endpoint: SSH through the VPC's "
	    "endpoint to a private instance, a one-time key pushed",
	.init = eice_p_init,
	.fini = eice_p_fini,
	.connect = eice_p_connect,
	.exec = eice_p_exec,
	.exec_free = jssh_exec_free,
	.stream = eice_p_stream,
	.status = eice_p_status,
	.close = eice_p_close,
	.caps = JC_CAP_NEEDS_INSTANCE | JC_CAP_NEEDS_PRIVATE_IP |
	    JC_CAP_UNIX_FWD | JC_CAP_LOGIN_IS_USER | JC_CAP_KEY_LOGIN |
	    JC_CAP_PUSH_KEYS | JC_CAP_EXEC,
	/* Named only: whether the VPC has an endpoint costs a call to know. */
	.auto_rank = 0,
	.label = "EC2 Instance Connect Endpoint",
	.options = eice_options,
};
