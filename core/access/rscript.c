/*
 * rscript.c - the remote script runner's pieces: nonce, user names, the
 * command line that picks the user, and the section reader (rscript.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "compat.h"
#include "rscript.h"

int
jc_rs_nonce(char *buf, size_t n)
{
	unsigned char b[JC_RS_NONCE_LEN / 2];
	size_t i;

	if (n < JC_RS_NONCE_LEN + 1 || jc_random(b, sizeof(b)) != 0)
		return -1;
	for (i = 0; i < sizeof(b); i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	jc_wipe(b, sizeof(b));
	return 0;
}

int
jc_rs_user_ok(const char *u)
{
	const char *p;

	if (u == NULL || *u == '\0' || strlen(u) > 32 || *u == '-')
		return 0;
	for (p = u; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.' || (*p == '$' && p[1] == '\0')))
			return 0;
	return 1;
}

int
jc_rs_quote(char *dst, size_t n, const char *s)
{
	size_t o = strlen(dst), i;

	if (o + 3 > n)
		return -1;
	dst[o++] = '\'';
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'') {
			if (o + 4 >= n)
				return -1;
			memcpy(dst + o, "'\\''", 4);
			o += 4;
		} else {
			if (o + 1 >= n)
				return -1;
			dst[o++] = s[i];
		}
	}
	if (o + 2 > n)
		return -1;
	dst[o++] = '\'';
	dst[o] = '\0';
	return 0;
}

int
jc_rs_command(char *dst, size_t n, const char *run_as, const char *script,
    size_t script_len, const char *args)
{
	char user[1100], *inner;
	size_t il;
	int w, r = -1;

	if (n == 0)
		return -1;
	dst[0] = '\0';
	/*
	 * Script in argv: base64, so that it holds no newline (sudo -i
	 * would turn it into a line continuation) and no '$' (which sudo
	 * -i leaves for the login shell to expand); only ${...}-free text
	 * around it.  The session's shell sees it single-quoted.
	 */
	il = args == NULL ? 8 : 4 * ((script_len + 2) / 3) + strlen(args) + 80;
	if ((inner = malloc(il)) == NULL)
		return -1;
	if (args == NULL)
		w = snprintf(inner, il, "sh -s");
	else {
		w = snprintf(inner, il, "sh -c 'eval \"$(printf %%s ");
		w += EVP_EncodeBlock((unsigned char *)inner + w,
		    (const unsigned char *)script, (int)script_len);
		w += snprintf(inner + w, il - (size_t)w, " | base64 -d)\"' %s",
		    args);
	}
	if (w < 0 || (size_t)w >= il)
		goto out;
	if (run_as == NULL || *run_as == '\0')
		w = snprintf(dst, n, "%s", inner);
	else {
		user[0] = '\0';
		if (jc_rs_user_ok(run_as))
			snprintf(user, sizeof(user), "%s", run_as);
		else if (strlen(run_as) > 256 ||
		    jc_rs_quote(user, sizeof(user), run_as) != 0)
			goto out;
		w = snprintf(dst, n, JC_RS_AS("%s", "%s"), user, inner, user,
		    inner);
	}
	if (w >= 0 && (size_t)w < n)
		r = 0;
	else
		dst[0] = '\0';
 out:
	free(inner);
	return r;
}

/* The next "\n@@<nonce> " in out from i, or NULL. */
static const char *
find_mark(const char *out, size_t len, size_t i, const char *mark, size_t ml)
{
	for (; i + ml <= len; i++)
		if (out[i] == '\n' && memcmp(out + i, mark, ml) == 0)
			return out + i;
	return NULL;
}

int
jc_rs_next_section(const char *out, size_t len, const char *nonce,
    size_t *off, struct jc_rs_section *sec)
{
	char mark[48];
	size_t ml, wl, al;
	const char *m, *eol, *w, *nextm;

	ml = (size_t)snprintf(mark, sizeof(mark), "\n@@%s ", nonce);
	if (ml >= sizeof(mark) ||
	    (m = find_mark(out, len, *off, mark, ml)) == NULL)
		return 0;
	w = m + ml;
	if ((eol = memchr(w, '\n', len - (size_t)(w - out))) == NULL)
		eol = out + len;
	memset(sec, 0, sizeof(*sec));
	for (wl = 0; w + wl < eol && w[wl] != ' '; wl++)
		;
	if (wl >= sizeof(sec->word))
		wl = sizeof(sec->word) - 1;
	memcpy(sec->word, w, wl);
	if (w + wl < eol) {
		al = (size_t)(eol - (w + wl + 1));
		if (al >= sizeof(sec->args))
			al = sizeof(sec->args) - 1;
		memcpy(sec->args, w + wl + 1, al);
	}
	sec->body = eol < out + len ? eol + 1 : eol;
	/* The body runs up to the next marker. */
	if ((nextm = find_mark(out, len, (size_t)(sec->body - out), mark,
	    ml)) == NULL)
		nextm = out + len;
	sec->bodylen = nextm >= sec->body ? (size_t)(nextm - sec->body) : 0;
	*off = (size_t)(nextm - out);
	return 1;
}
