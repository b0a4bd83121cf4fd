/*
 * keys_remote.c - read and replace the remote ~/.ssh/authorized_keys
 * through an access plugin's exec.
 *
 * The merge happens locally (keys_ak.c); the remote side only runs the small
 * POSIX sh script below, through the shared runner (core/access/rscript.h).
 * Data never travels in the command string: the new file goes on stdin; the
 * command carries the script, the operation, the nonce, two "CRC SIZE"
 * checksums and the user to act as.  The write refuses when the file changed
 * since it was read, fills a temporary file beside it (same mode and owner, via
 * cp -p), checks that every byte arrived, and renames it over the old one: any
 * failure leaves the old file as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "rscript.h"

#define ERR_PREFIX	"jconnect-keys: "

/*
 * $1 op (read|write), $2 nonce, $3 expected "CRC SIZE" of the current
 * file or "missing", $4 "CRC SIZE" of the new content; for write, the new
 * content is stdin.  Sections: present PATH (then the
 * file, then end), missing PATH, nodir PATH, written PATH.  Exit 70 with
 * a message on stderr on failure.  The body is keys_remote.sh, made a C
 * string by the build (Makefile).
 */
static const char script[] =
"N=$2\n"
JC_RS_SH_MARK
"err() { echo \"" ERR_PREFIX "$*\" >&2; exit 70; }\n"
#include "plugins/keys/keys_remote.sh.inc"
;

/* Append s to dst (size n); 0, or -1 when it does not fit. */
static int
append(char *dst, size_t n, const char *s)
{
	size_t o = strlen(dst), l = strlen(s);

	if (o + l + 1 > n)
		return -1;
	memcpy(dst + o, s, l + 1);
	return 0;
}

char *
keys_remote_cmd(const char *run_as, const char *op, const char *nonce,
    const char *oldck, const char *newck)
{
	char *c, args[256];
	size_t n = 2 * (4 * sizeof(script) / 3 + sizeof(args) + 1100) + 256;

	/* $0 names our error lines' prefix, so sh's own say it too. */
	snprintf(args, sizeof(args), "jconnect-keys ");
	if (keys_sh_quote(args, sizeof(args), op) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), nonce) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), oldck) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), newck) != 0)
		return NULL;
	if ((c = malloc(n)) == NULL)
		return NULL;
	if (jc_rs_command(c, n, run_as, script, sizeof(script) - 1, args) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Copy up to n bytes of remote text, control characters made '?'. */
static void
clean(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t i;

	if (n >= dstsz)
		n = dstsz - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/*
 * Log what the remote said: our own "jconnect-keys:" lines, or else the
 * last line of stderr.  Returns 1 when something was logged.
 */
static int
log_remote_err(struct keys_remote *rk, const struct jc_exec_result *res)
{
	const char *p = res->err, *end = res->err + res->errlen, *nl;
	const char *last = NULL;
	size_t plen = sizeof(ERR_PREFIX) - 1, lastlen = 0;
	char line[400];
	int n = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > plen && memcmp(p, ERR_PREFIX, plen) == 0) {
			clean(line, sizeof(line), p + plen,
			    (size_t)(nl - p) - plen);
			rk->host->log(JC_LOG_ERROR, "keys", "%s", line);
			n++;
		} else if (nl > p) {
			last = p;
			lastlen = (size_t)(nl - p);
		}
		p = nl + 1;
	}
	if (n == 0 && last != NULL) {
		clean(line, sizeof(line), last, lastlen);
		/*
		 * Our script exits 70 or 71; sudo -n exits 1 when refused,
		 * and the shell 127 when there is no sudo.
		 */
		if ((res->status == 1 || res->status == 127) &&
		    rk->run_as != NULL)
			rk->host->log(JC_LOG_ERROR, "keys", "cannot act as %s "
			    "with sudo -n (passwordless sudo is needed): %s",
			    rk->run_as, line);
		else
			rk->host->log(JC_LOG_ERROR, "keys", "remote: %s", line);
		n++;
	}
	return n > 0;
}

/* Run the script; 0 with *res filled, or the exec error (logged). */
static int
run(struct keys_remote *rk, const char *op, const char *oldck,
    const char *newck, const char *in, size_t inlen,
    struct jc_exec_result *res)
{
	char *cmd;
	int r;

	if ((cmd = keys_remote_cmd(rk->run_as, op, rk->nonce, oldck,
	    newck)) == NULL)
		return JC_ERR_NOMEM;
	r = rk->access->exec(rk->sess, cmd, in, inlen, rk->timeout_ms, res);
	free(cmd);
	if (r != 0) {
		rk->host->log(JC_LOG_ERROR, "keys", "cannot run the %s step "
		    "on the remote (%s access)", op, rk->access->name);
		return r;
	}
	if (res->truncated) {
		rk->host->log(JC_LOG_ERROR, "keys", "the remote sent more "
		    "than %u bytes; is authorized_keys that large?",
		    JC_EXEC_MAX);
		rk->access->exec_free(res);
		return JC_ERR_PROTO;
	}
	return 0;
}

/* The path a section names, for messages. */
static void
take_path(struct keys_remote *rk, const struct jc_rs_section *sec)
{
	clean(rk->path, sizeof(rk->path), sec->args, strlen(sec->args));
}

int
keys_remote_read(struct keys_remote *rk)
{
	struct jc_exec_result res;
	struct jc_rs_section sec, end;
	size_t off = 0;
	int r;

	if (rk->nonce[0] == '\0' &&
	    jc_rs_nonce(rk->nonce, sizeof(rk->nonce)) != 0)
		return JC_ERR_INTERNAL;
	if ((r = run(rk, "read", "-", "-", NULL, 0, &res)) != 0)
		return r;
	r = JC_ERR_IO;
	if (!jc_rs_next_section(res.out, res.outlen, rk->nonce, &off, &sec)) {
		if (!log_remote_err(rk, &res))
			rk->host->log(JC_LOG_ERROR, "keys", "the remote shell "
			    "gave no answer (exit status %d)", res.status);
		goto out;
	}
	if (strcmp(sec.word, "nodir") == 0 && sec.args[0] != '\0') {
		rk->nodir = rk->missing = 1;
		take_path(rk, &sec);
		r = 0;
		goto out;
	}
	if (strcmp(sec.word, "missing") == 0 && sec.args[0] != '\0') {
		rk->missing = 1;
		take_path(rk, &sec);
		r = 0;
		goto out;
	}
	if (strcmp(sec.word, "present") != 0 || sec.args[0] == '\0') {
		rk->host->log(JC_LOG_ERROR, "keys", "unexpected answer from "
		    "the remote shell");
		r = JC_ERR_PROTO;
		goto out;
	}
	take_path(rk, &sec);
	/* The file is the body up to the "end" section. */
	if (!jc_rs_next_section(res.out, res.outlen, rk->nonce, &off, &end) ||
	    strcmp(end.word, "end") != 0) {
		log_remote_err(rk, &res);
		rk->host->log(JC_LOG_ERROR, "keys", "could not read all of %s",
		    rk->path);
		goto out;
	}
	rk->len = sec.bodylen;
	if ((rk->data = malloc(rk->len + 1)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	memcpy(rk->data, sec.body, rk->len);
	rk->data[rk->len] = '\0';
	r = 0;
 out:
	rk->access->exec_free(&res);
	return r;
}

int
keys_remote_write(struct keys_remote *rk, const char *buf, size_t len)
{
	struct jc_exec_result res;
	struct jc_rs_section sec;
	char oldck[48], newck[48];
	size_t off = 0;
	int r, written = 0;

	if (rk->missing)
		snprintf(oldck, sizeof(oldck), "missing");
	else
		snprintf(oldck, sizeof(oldck), "%u %zu",
		    (unsigned)keys_cksum(rk->data, rk->len), rk->len);
	snprintf(newck, sizeof(newck), "%u %zu",
	    (unsigned)keys_cksum(buf, len), len);
	if ((r = run(rk, "write", oldck, newck, buf, len, &res)) != 0)
		return r;
	while (jc_rs_next_section(res.out, res.outlen, rk->nonce, &off, &sec))
		if (strcmp(sec.word, "written") == 0)
			written = 1;
	if (written && (res.status == 0 || res.status == -1)) {
		r = 0;
		goto out;
	}
	r = JC_ERR_IO;
	if (!log_remote_err(rk, &res))
		rk->host->log(JC_LOG_ERROR, "keys", "the remote shell ended "
		    "(status %d) before %s was replaced; it is unchanged",
		    res.status, rk->path[0] ? rk->path : "authorized_keys");
 out:
	rk->access->exec_free(&res);
	return r;
}

void
keys_remote_clear(struct keys_remote *rk)
{
	if (rk == NULL)
		return;
	free(rk->data);
	rk->data = NULL;
	rk->len = 0;
}
