/*
 * ssh.c - the SSH access plugin: registration and the jc_plugin ops.
 */
#include <stdlib.h>

#include "jssh.h"

const struct jc_host *jssh_host;

static int
ssh_p_init(const struct jc_host *h, void **statep)
{
	jssh_host = h;
	if (ssh_init() != 0)
		return JC_ERR_INTERNAL;
	*statep = NULL;
	return 0;
}

static void
ssh_p_fini(void *state)
{
	(void)state;
	ssh_finalize();
}

static int
ssh_p_connect(void *state, const struct jc_target *t, struct jc_sess **out)
{
	struct jssh_sess *ss;
	int r;

	(void)state;
	if (t->host == NULL || t->user == NULL) {
		jssh_host->log(JC_LOG_ERROR, "ssh", "no host to connect to");
		return JC_ERR_USAGE;
	}
	if ((r = jssh_connect(t, &ss)) != 0)
		return r;
	*out = (struct jc_sess *)ss;
	return 0;
}

static int
ssh_p_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	return jssh_exec((struct jssh_sess *)s, cmd, in, inlen, timeout_ms, res);
}

static int
ssh_p_stream(struct jc_sess *s, const char *host, uint16_t port, int flags,
    int *fdp)
{
	if (flags & JC_STREAM_WARM)
		return jssh_spares((struct jssh_sess *)s, host, port);
	return jssh_stream((struct jssh_sess *)s, host, port,
	    (flags & JC_STREAM_ADOPT) != 0, fdp);
}

static int
ssh_p_status(struct jc_sess *s)
{
	return ((struct jssh_sess *)s)->dead;
}

static void
ssh_p_close(struct jc_sess *s)
{
	jssh_close((struct jssh_sess *)s);
}

const struct jc_plugin jc_plugin_ssh = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "ssh",
	.kind = JC_KIND_METHOD | JC_KIND_ADOPT | JC_KIND_WARM,
	.version = "1.0",
	.summary = "classic SSH (libssh): -i key, ssh-agent, known_hosts",
	.init = ssh_p_init,
	.fini = ssh_p_fini,
	.connect = ssh_p_connect,
	.exec = ssh_p_exec,
	.exec_free = jssh_exec_free,
	.stream = ssh_p_stream,
	.status = ssh_p_status,
	.close = ssh_p_close,
	.caps = JC_CAP_NEEDS_HOST | JC_CAP_UNIX_FWD | JC_CAP_LOGIN_IS_USER |
	    JC_CAP_KEY_LOGIN | JC_CAP_EXEC | JC_CAP_FD_LOGIN,
	.auto_rank = 20,
	.label = "SSH",
};

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &jc_plugin_ssh;
}
