/*
 * keys_remote.c - read and replace the remote ~/.ssh/authorized_keys
 * through an access plugin's exec.
 *
 * The merge happens locally (keys_ak.c); the remote side only runs the
 * small POSIX sh script below.  Data never travels in the command string:
 * the new file goes on stdin, and the command carries only the operation,
 * a random marker, two "CRC SIZE" checksums and (quoted) the user to act
 * as.  The write refuses when the file changed since it was read, fills a
 * temporary file beside it (same mode and owner, via cp -p), checks that
 * every byte arrived, and renames it over the old one: any failure leaves
 * the old file as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"

#define MARK_FMT	"JCK1-%s"
#define ERR_PREFIX	"jconnect-keys: "

/*
 * $1 op (read|write), $2 marker, $3 expected "CRC SIZE" of the current
 * file or "missing", $4 "CRC SIZE" of the new content.  Exit 70 with a
 * message on stderr on failure; no single quotes inside.
 */
static const char script[] =
"m=JCK1-$2\n"
"err() { echo \"" ERR_PREFIX "$*\" >&2; exit 70; }\n"
"[ -n \"$HOME\" ] && [ -d \"$HOME\" ] || err \"no home directory (HOME=$HOME)\"\n"
"d=$HOME/.ssh\n"
"f=$d/authorized_keys\n"
"case $1 in\n"
"read)\n"
"	if [ -e \"$f\" ] || [ -L \"$f\" ]; then\n"
"		[ -r \"$f\" ] || err \"cannot read $f as $(id -un)\"\n"
"		echo \"$m present $f\"\n"
"		cat \"$f\" || err \"cannot read $f\"\n"
"		echo \"$m end\"\n"
"	elif [ -d \"$d\" ]; then\n"
"		echo \"$m missing $f\"\n"
"	else\n"
"		echo \"$m nodir $f\"\n"
"	fi\n"
"	exit 0 ;;\n"
"write) ;;\n"
"*) err \"unknown operation $1\" ;;\n"
"esac\n"
"umask 077\n"
"if [ ! -d \"$d\" ]; then\n"
"	[ \"$3\" = missing ] || err \"$d disappeared meanwhile; try again\"\n"
"	mkdir -m 700 \"$d\" || err \"cannot create $d\"\n"
"	command -v restorecon >/dev/null 2>&1 && restorecon \"$d\" 2>/dev/null\n"
"fi\n"
"[ -L \"$f\" ] && err \"$f is a symbolic link; not replacing it\"\n"
"if [ -e \"$f\" ]; then\n"
"	[ \"$3\" != missing ] || err \"$f appeared meanwhile; try again\"\n"
"	[ \"$(cksum < \"$f\")\" = \"$3\" ] || err \"$f changed meanwhile; try again\"\n"
"	case $(ls -ld \"$f\") in\n"
"	??w*) ;;\n"
"	*) err \"$f is read-only; make it writable (chmod u+w) or edit it by hand\" ;;\n"
"	esac\n"
"	[ -w \"$f\" ] || err \"$f is not writable by $(id -un)\"\n"
"else\n"
"	[ \"$3\" = missing ] || err \"$f disappeared meanwhile; try again\"\n"
"fi\n"
"[ -w \"$d\" ] || err \"cannot write in $d as $(id -un)\"\n"
"t=$d/.authorized_keys.jconnect.$$\n"
"( set -C; : > \"$t\" ) 2>/dev/null || err \"cannot create a temporary file in $d\"\n"
"trap 'rm -f \"$t\"' EXIT\n"
"trap 'exit 71' HUP INT TERM PIPE\n"
"if [ -e \"$f\" ]; then\n"
"	cp -p \"$f\" \"$t\" || err \"cannot copy $f\"\n"
"fi\n"
"cat > \"$t\" || err \"cannot write $t\"\n"
"[ \"$(cksum < \"$t\")\" = \"$4\" ] || err \"the new content arrived incomplete; $f is unchanged\"\n"
"if [ -e \"$f\" ]; then\n"
"	[ \"$(cksum < \"$f\")\" = \"$3\" ] || err \"$f changed meanwhile; try again\"\n"
"fi\n"
"sync \"$t\" 2>/dev/null\n"
"mv -f \"$t\" \"$f\" || err \"cannot replace $f\"\n"
"trap - EXIT\n"
"command -v restorecon >/dev/null 2>&1 && restorecon \"$f\" 2>/dev/null\n"
"echo \"$m written $f\"\n"
"exit 0\n";

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
	size_t n;

	args[0] = '\0';
	if (keys_sh_quote(args, sizeof(args), op) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), nonce) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), oldck) != 0 ||
	    append(args, sizeof(args), " ") != 0 ||
	    keys_sh_quote(args, sizeof(args), newck) != 0)
		return NULL;
	n = 4 * sizeof(script) + 4 * strlen(run_as ? run_as : "") +
	    2 * strlen(args) + 512;
	if ((c = malloc(n)) == NULL)
		return NULL;
	/*
	 * The login shell runs only this outer line: it picks sudo when
	 * the session user is not the one whose keys we manage.
	 */
	c[0] = '\0';
	if (append(c, n, "S=") != 0 ||
	    keys_sh_quote(c, n, script) != 0 ||
	    append(c, n, "; U=") != 0 ||
	    keys_sh_quote(c, n, run_as ? run_as : "") != 0 ||
	    append(c, n, "; if [ -z \"$U\" ] || [ \"$(id -un)\" = \"$U\" ]; "
	    "then exec /bin/sh -c \"$S\" jconnect-keys ") != 0 ||
	    append(c, n, args) != 0 ||
	    append(c, n, "; elif command -v sudo >/dev/null 2>&1; then "
	    "exec sudo -n -H -u \"$U\" -- /bin/sh -c \"$S\" jconnect-keys ")
	    != 0 ||
	    append(c, n, args) != 0 ||
	    append(c, n, "; else echo \"" ERR_PREFIX "cannot act as $U: sudo "
	    "is not installed on the remote\" >&2; exit 70; fi") != 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Last occurrence of needle in h (hlen bytes), or NULL. */
static const char *
memrmem_(const char *h, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle), i;

	if (nlen > hlen)
		return NULL;
	for (i = hlen - nlen + 1; i-- > 0;)
		if (memcmp(h + i, needle, nlen) == 0)
			return h + i;
	return NULL;
}

/* First line of out starting with needle, or NULL. */
static const char *
find_line(const char *out, size_t len, const char *needle)
{
	size_t nlen = strlen(needle), i;

	for (i = 0; i + nlen <= len; i++) {
		if ((i == 0 || out[i - 1] == '\n') &&
		    memcmp(out + i, needle, nlen) == 0)
			return out + i;
	}
	return NULL;
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
		/* Our script exits 70 or 71; sudo -n exits 1 when refused. */
		if (res->status == 1 && rk->run_as != NULL)
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

static int
make_nonce(char *buf)
{
	unsigned char b[8];
	int i;

	if (getentropy(b, sizeof(b)) != 0)
		return JC_ERR_INTERNAL;
	for (i = 0; i < 8; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Copy the path after "MARK STATE " up to the end of the line. */
static void
take_path(struct keys_remote *rk, const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

	clean(rk->path, sizeof(rk->path), p, n);
}

int
keys_remote_read(struct keys_remote *rk)
{
	struct jc_exec_result res;
	char mark[64], trailer[80];
	const char *h, *end, *body, *tail;
	size_t mlen;
	int r;

	if (rk->nonce[0] == '\0' && (r = make_nonce(rk->nonce)) != 0)
		return r;
	if ((r = run(rk, "read", "-", "-", NULL, 0, &res)) != 0)
		return r;
	snprintf(mark, sizeof(mark), MARK_FMT " ", rk->nonce);
	mlen = strlen(mark);
	end = res.out + res.outlen;
	r = JC_ERR_IO;
	if ((h = find_line(res.out, res.outlen, mark)) == NULL) {
		if (!log_remote_err(rk, &res))
			rk->host->log(JC_LOG_ERROR, "keys", "the remote shell "
			    "gave no answer (exit status %d)", res.status);
		goto out;
	}
	h += mlen;
	if ((size_t)(end - h) >= 7 && memcmp(h, "nodir ", 6) == 0) {
		rk->nodir = rk->missing = 1;
		take_path(rk, h + 6, end);
		r = 0;
		goto out;
	}
	if ((size_t)(end - h) >= 9 && memcmp(h, "missing ", 8) == 0) {
		rk->missing = 1;
		take_path(rk, h + 8, end);
		r = 0;
		goto out;
	}
	if ((size_t)(end - h) < 9 || memcmp(h, "present ", 8) != 0 ||
	    (body = memchr(h, '\n', (size_t)(end - h))) == NULL) {
		rk->host->log(JC_LOG_ERROR, "keys", "unexpected answer from "
		    "the remote shell");
		r = JC_ERR_PROTO;
		goto out;
	}
	take_path(rk, h + 8, end);
	body++;
	snprintf(trailer, sizeof(trailer), MARK_FMT " end\n", rk->nonce);
	if ((tail = memrmem_(body, (size_t)(end - body), trailer)) == NULL) {
		log_remote_err(rk, &res);
		rk->host->log(JC_LOG_ERROR, "keys", "could not read all of %s",
		    rk->path);
		goto out;
	}
	rk->len = (size_t)(tail - body);
	if ((rk->data = malloc(rk->len + 1)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	memcpy(rk->data, body, rk->len);
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
	char oldck[48], newck[48], mark[64];
	int r;

	if (rk->missing)
		snprintf(oldck, sizeof(oldck), "missing");
	else
		snprintf(oldck, sizeof(oldck), "%u %zu",
		    (unsigned)keys_cksum(rk->data, rk->len), rk->len);
	snprintf(newck, sizeof(newck), "%u %zu",
	    (unsigned)keys_cksum(buf, len), len);
	if ((r = run(rk, "write", oldck, newck, buf, len, &res)) != 0)
		return r;
	snprintf(mark, sizeof(mark), MARK_FMT " written ", rk->nonce);
	if (find_line(res.out, res.outlen, mark) != NULL &&
	    (res.status == 0 || res.status == -1)) {
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
