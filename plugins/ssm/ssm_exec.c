/*
 * ssm_exec.c - exec over AWS-StartNonInteractiveCommand with
 * separateOutputStream=true: stdout arrives as Output (1), stderr as
 * StdErr (11) and the exit status as ExitCode (12, "EXIT_CODE: n").
 * Without that parameter the agent mixes stderr into stdout and sends no
 * exit code at all.
 *
 * The agent splits the command into words the way a shell would (quotes
 * and backslashes; no pipes, no redirections) and execs the first word,
 * so the whole command is one `sh -c SCRIPT`.  The command has no stdin:
 * the agent gives it /dev/null and reads input messages only for ^C, ^\
 * and ^Z.  Input therefore travels inside SCRIPT, as
 *   printf %s BASE64 | base64 -d | sh -c CMD
 * (each level single-quoted, ' -> '\''), which the remote shows in its
 * process list and AWS records with the StartSession parameters: callers
 * keep secrets out of it.  The kernel caps one argument at 128 KiB, hence
 * EXEC_IN_MAX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ssm_host.h"
#include "ssm_exec.h"

#define EXEC_IN_MAX	(64 * 1024)
#define EXEC_DOC	"AWS-StartNonInteractiveCommand"

/* "sh -c " and s single-quoted for sh, as a new string. */
static char *
sh_c(const char *s)
{
	static const char pre[] = "sh -c ";
	size_t o = sizeof(pre) - 1;
	char *out;

	if ((out = malloc(sizeof(pre) + 4 * strlen(s) + 2)) == NULL)
		return NULL;
	memcpy(out, pre, o);
	out[o++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else
			out[o++] = *s;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

char *
ssm_exec_command(const char *cmd, const void *in, size_t inlen)
{
	static const char pre[] = "printf %s ";
	static const char mid[] = " | base64 -d | ";
	char *inner, *s;
	size_t o;

	if (inlen > EXEC_IN_MAX)
		return NULL;
	if (in == NULL || inlen == 0)
		return sh_c(cmd);
	if ((inner = sh_c(cmd)) == NULL)
		return NULL;
	s = malloc(sizeof(pre) + 4 * ((inlen + 2) / 3) + sizeof(mid) +
	    strlen(inner));
	if (s == NULL) {
		free(inner);
		return NULL;
	}
	memcpy(s, pre, sizeof(pre) - 1);
	o = sizeof(pre) - 1;
	o += (size_t)EVP_EncodeBlock((unsigned char *)s + o, in, (int)inlen);
	memcpy(s + o, mid, sizeof(mid) - 1);
	o += sizeof(mid) - 1;
	memcpy(s + o, inner, strlen(inner) + 1);
	free(inner);
	inner = sh_c(s);
	free(s);
	return inner;
}

/* Append to a growing capture, up to JC_EXEC_MAX. */
static int
append(char **buf, size_t *len, size_t *cap, const unsigned char *p,
    size_t n, int *truncated)
{
	size_t ncap;
	char *nb;

	if (*len + n > JC_EXEC_MAX) {
		n = JC_EXEC_MAX - *len;
		*truncated = 1;
	}
	if (*len + n + 1 > *cap) {
		ncap = *cap ? *cap : 4096;
		while (ncap < *len + n + 1)
			ncap *= 2;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return JC_ERR_NOMEM;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static long
ssm_exec_deliver(struct ssm_chan *ch, uint32_t ptype, const unsigned char *p,
    size_t n)
{
	int r = 0, code;

	switch (ptype) {
	case SSM_PT_OUTPUT:
		r = append(&ch->out, &ch->outlen, &ch->outcap, p, n,
		    &ch->truncated);
		break;
	case SSM_PT_STDERR:
		r = append(&ch->err, &ch->errlen, &ch->errcap, p, n,
		    &ch->truncated);
		break;
	case SSM_PT_EXITCODE:
		if (ssm_exit_parse(p, n, &code) == 0) {
			ch->status = code;
			ch->got_exit = 1;
			ch->done = 1;
		} else
			ssm_log(JC_LOG_DEBUG, "session %s: unreadable exit "
			    "code", ch->st.sid);
		break;
	default:
		ssm_log(JC_LOG_DEBUG, "session %s: payload type %u ignored",
		    ch->st.sid, ptype);
		break;
	}
	if (r != 0) {
		ssm_chan_fail(ch, r, "session %s: out of memory", ch->st.sid);
		return -1;
	}
	return (long)n;
}

static char *
take(char **p, size_t len, size_t *outlen)
{
	char *s = *p;

	if (s == NULL && (s = calloc(1, 1)) == NULL)
		return NULL;
	*p = NULL;
	*outlen = len;
	return s;
}

int
ssm_exec_run(struct ssm_sess *s, const char *cmd, const void *in,
    size_t inlen, int timeout_ms, struct jc_exec_result *res)
{
	const char *params[5] = { "command", NULL, "separateOutputStream",
	    "true", NULL };
	struct ssm_chan *ch = NULL;
	char *command;
	int r;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if ((command = ssm_exec_command(cmd, in, inlen)) == NULL) {
		if (inlen > EXEC_IN_MAX) {
			ssm_log(JC_LOG_ERROR, "exec over SSM: %zu bytes of "
			    "input is more than the %d a command can carry",
			    inlen, EXEC_IN_MAX);
			return JC_ERR_UNSUPPORTED;
		}
		return JC_ERR_NOMEM;
	}
	params[1] = command;
	r = ssm_chan_open(s, &ssm_exec_kind, EXEC_DOC, params, &ch);
	free(command);
	if (r != 0)
		return r;
	r = ssm_host->loop_run(&ch->done, timeout_ms);
	if (r == JC_ERR_TIMEOUT)
		ssm_log(JC_LOG_ERROR, "session %s: the command did not finish "
		    "within %d s", ch->st.sid, timeout_ms / 1000);
	if (r == 0 && ch->state == SSM_C_FAILED)
		r = ch->error;
	if (r == 0) {
		if ((res->out = take(&ch->out, ch->outlen, &res->outlen)) ==
		    NULL ||
		    (res->err = take(&ch->err, ch->errlen, &res->errlen)) ==
		    NULL) {
			ssm_exec_free(res);
			r = JC_ERR_NOMEM;
		} else {
			res->status = ch->got_exit ? ch->status : -1;
			res->truncated = ch->truncated;
		}
	}
	ssm_chan_free(ch);
	return r;
}

void
ssm_exec_free(struct jc_exec_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->outlen = res->errlen = 0;
}

static void
exec_end(struct ssm_chan *ch)
{
	ch->done = 1;
}

static const char *const exec_types[] = { "NonInteractiveCommands",
	"InteractiveCommands", "Standard_Stream", NULL };

const struct ssm_chan_kind ssm_exec_kind = {
	.kind = SSM_K_EXEC,
	.types = exec_types, .talks_first = 1, .quiet = 1,
	.drops_late = 1, .deliver = ssm_exec_deliver, .end = exec_end,
};
