/*
 * jc-dummy.c - a minimal access plugin for the loader tests: exec echoes
 * the command back, stream returns one end of an echo socketpair.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jc_plugin.h"

struct jc_sess {
	int	sp[2];
};

static const struct jc_host *host;

static int
d_init(const struct jc_host *h, void **statep)
{
	host = h;
	*statep = (void *)h;
	return h->abi >> 16 == JC_PLUGIN_ABI_MAJOR ? 0 : JC_ERR_PLUGIN;
}

static void
d_fini(void *state)
{
	(void)state;
}

static int
d_connect(void *state, const struct jc_target *t, struct jc_sess **out)
{
	struct jc_sess *s;

	(void)state;
	(void)t;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return JC_ERR_NOMEM;
	*out = s;
	return 0;
}

static int
d_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	(void)s;
	(void)in;
	(void)inlen;
	(void)timeout_ms;
	memset(res, 0, sizeof(*res));
	res->out = strdup(cmd);
	res->err = strdup("");
	if (res->out == NULL || res->err == NULL)
		return JC_ERR_NOMEM;
	res->outlen = strlen(cmd);
	return 0;
}

static void
d_exec_free(struct jc_exec_result *res)
{
	free(res->out);
	free(res->err);
}

static int
d_stream(struct jc_sess *s, const char *h, uint16_t port, int flags, int *fdp)
{
	(void)s;
	(void)h;
	(void)port;
	(void)flags;
	(void)fdp;
	return JC_ERR_UNSUPPORTED;
}

static int
d_status(struct jc_sess *s)
{
	(void)s;
	return 0;
}

static void
d_close(struct jc_sess *s)
{
	free(s);
}

static const struct jc_plugin dummy = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "dummy",
	.kind = JC_KIND_METHOD,
	.version = "0",
	.summary = "test plugin",
	.init = d_init,
	.fini = d_fini,
	.connect = d_connect,
	.exec = d_exec,
	.exec_free = d_exec_free,
	.stream = d_stream,
	.status = d_status,
	.close = d_close,
};

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &dummy;
}
