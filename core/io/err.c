/*
 * err.c - error codes as text and exit statuses.
 */
#include "jc_plugin.h"
#include "err.h"

static const struct {
	int		 code;
	int		 status;
	const char	*text;
} errs[] = {
	{ JC_OK,		0, "success" },
	{ JC_ERR_INTERNAL,	1, "internal error" },
	{ JC_ERR_NOMEM,		1, "out of memory" },
	{ JC_ERR_USAGE,		2, "usage error" },
	{ JC_ERR_NOTFOUND,	3, "target not found or ambiguous" },
	{ JC_ERR_AWS_AUTH,	4, "AWS credentials or permission problem" },
	{ JC_ERR_UNREACHABLE,	5, "cannot reach or log in to the instance" },
	{ JC_ERR_HOSTKEY,	6, "host key mismatch" },
	{ JC_ERR_JUPYTER,	7, "Jupyter not found or token rejected" },
	{ JC_ERR_PORT,		8, "no free local port" },
	{ JC_ERR_IO,		1, "I/O error" },
	{ JC_ERR_PROTO,		1, "malformed reply" },
	{ JC_ERR_TIMEOUT,	1, "timed out" },
	{ JC_ERR_INTR,		0, "interrupted" },
	{ JC_ERR_CLOSED,	5, "connection closed" },
	{ JC_ERR_UNSUPPORTED,	1, "not supported" },
	{ JC_ERR_AWS,		1, "AWS API error" },
	{ JC_ERR_PLUGIN,	1, "plugin error" },
};

const char *
jc_strerror(int r)
{
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].code == r)
			return errs[i].text;
	return "unknown error";
}

int
jc_exit_status(int r)
{
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].code == r)
			return errs[i].status;
	return 1;
}
