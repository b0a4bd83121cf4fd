/*
 * jc-old13.c - an access plugin as one built against ABI 1.3 sees its
 * struct: `size` ends before the 1.5 members.  Whatever lies beyond (here
 * capability bits that would claim everything) must not be read.
 */
#include <stddef.h>
#include <stdlib.h>

#include "jc_plugin.h"

static int
o_connect(void *state, const struct jc_target *t, struct jc_sess **out)
{
	(void)state;
	(void)t;
	*out = NULL;
	return JC_ERR_UNREACHABLE;
}

static int
o_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	(void)s; (void)cmd; (void)in; (void)inlen; (void)timeout_ms;
	(void)res;
	return JC_ERR_UNSUPPORTED;
}

static void
o_exec_free(struct jc_exec_result *res)
{
	(void)res;
}

static int
o_stream(struct jc_sess *s, const char *host, uint16_t port, int flags,
    int *fdp)
{
	(void)s; (void)host; (void)port; (void)flags; (void)fdp;
	return JC_ERR_UNSUPPORTED;
}

static int
o_status(struct jc_sess *s)
{
	(void)s;
	return 0;
}

static void
o_close(struct jc_sess *s)
{
	(void)s;
}

static const struct jc_plugin old13 = {
	.abi = (1 << 16) | 3,
	.size = offsetof(struct jc_plugin, caps),
	.name = "old13",
	.kind = JC_KIND_METHOD,
	.version = "1.3",
	.summary = "an ABI 1.3 access plugin",
	.connect = o_connect,
	.exec = o_exec,
	.exec_free = o_exec_free,
	.stream = o_stream,
	.status = o_status,
	.close = o_close,
	/* Not there for a 1.3 plugin: the core must not believe them. */
	.caps = 0xffffffffu,
	.auto_rank = 1,
	.label = "never read",
};

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &old13;
}
