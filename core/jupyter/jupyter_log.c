/*
 * jupyter_log.c - find the announced server in a Jupyter log, for every
 * log generation in jupyter.md (notebook 5.7 ... jupyter_server 2.16+).
 * The patterns are compiled once, on first use.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <pcre2.h>

#include "compat.h"
#include "jc_plugin.h"
#include "jupyter_log.h"
#include "jupyter_url.h"

#define LINE_MAX_LEN	4096	/* longer lines are not announcements */

/*
 * A line that holds nothing but a URL, after the optional "[I time App] "
 * prefix and an optional "or" (notebook's second URL, the indented banner
 * lines of the [C] block, 2.2.1+ indented second URL).
 */
static const char re_line[] =
    "^(?:\\[[A-Z] [^\\]]{1,64}\\])?[ \\t]*(?:or[ \\t]+)?"
    "((?:https?|http\\+unix)://(?:\\([^()\\s]+ or [^()\\s]+\\)\\S*|\\S+))"
    "[ \\t]*\\r?$";
/* "Jupyter Server is listening on URL" (Unix sockets). */
static const char re_listen[] =
    "\\bis listening on ((?:https?|http\\+unix)://\\S+)[ \\t]*\\r?$";
/* "Jupyter Notebook 6.4.12 is running at:", "The Jupyter Notebook is ..." */
static const char re_banner[] =
    "\\bis running at:?[ \\t]*\\r?$|\\bis listening on (?:https?|http\\+unix)://";
/* The server said it stopped. */
static const char re_stop[] =
    "^\\[[A-Z] [^\\]]{1,64}\\] (?:received signal [0-9]+|"
    "Shutting down [0-9]+ |Shutdown confirmed|"
    "ERROR: the (?:notebook|Jupyter) server could not be started)";
/*
 * The URL itself.  Hosts: [v6], "(name or 127.0.0.1)" (notebook 5.x),
 * a bare IPv6 literal as notebook 6 prints it ("::1:8888"), a name.
 */
static const char re_url[] =
    "^(https?|http\\+unix)://"
    "(?:\\[([0-9A-Fa-f:.]+(?:%[0-9A-Za-z._-]+)?)\\]"
    "|\\(([^()\\s]+) or ([^()\\s]+)\\)"
    "|([0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(?=:[0-9]{1,5}(?:[/?#]|$))"
    "|([^/:?#\\s\\[\\]()]+))"
    "(?::([0-9]{1,5}))?"
    "(/[^?#\\s]*)?"
    "(?:\\?([^#\\s]*))?"
    "(?:#\\S*)?$";

enum { RE_LINE, RE_LISTEN, RE_BANNER, RE_STOP, RE_URL, RE_N };

static const char *const patterns[RE_N] = {
	re_line, re_listen, re_banner, re_stop, re_url
};
static pcre2_code *code[RE_N];
static int compiled;

static int
compile_all(void)
{
	int i, err;
	PCRE2_SIZE off;

	if (compiled)
		return 0;
	for (i = 0; i < RE_N; i++) {
		code[i] = pcre2_compile((PCRE2_SPTR)patterns[i],
		    PCRE2_ZERO_TERMINATED, PCRE2_NO_UTF_CHECK, &err, &off, NULL);
		if (code[i] == NULL) {
			jc_jupyter_log_fini();
			return JC_ERR_INTERNAL;
		}
		/* JIT is an optimisation only; failure is fine. */
		(void)pcre2_jit_compile(code[i], PCRE2_JIT_COMPLETE);
	}
	compiled = 1;
	return 0;
}

void
jc_jupyter_log_fini(void)
{
	int i;

	for (i = 0; i < RE_N; i++) {
		pcre2_code_free(code[i]);
		code[i] = NULL;
	}
	compiled = 0;
}

/* Match; returns the number of pairs set (>0), or 0 for no match. */
static int
match(int which, const char *s, size_t len, pcre2_match_data *md)
{
	int rc;

	rc = pcre2_match(code[which], (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	return rc > 0 ? rc : 0;
}

/* Group g of the last match, or NULL when unset. */
static const char *
group(pcre2_match_data *md, int rc, int g, const char *s, size_t *glen)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

	if (g >= rc || ov[2 * g] == PCRE2_UNSET)
		return NULL;
	*glen = ov[2 * g + 1] - ov[2 * g];
	return s + ov[2 * g];
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode src (len bytes) into dst (n bytes); -1 if it cannot fit. */
static int
pct_decode(const char *src, size_t len, char *dst, size_t n, int plus)
{
	size_t i, o = 0;
	int hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)src[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0' || o + 1 >= n)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* The token from a query string; sets masked for "...". */
static void
query_token(const char *q, size_t qlen, struct jc_jupyter *j)
{
	const char *p = q, *end = q + qlen, *amp;

	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((size_t)(amp - p) >= 6 && strncmp(p, "token=", 6) == 0) {
			if (amp - p == 9 && strncmp(p + 6, "...", 3) == 0) {
				j->token_masked = 1;
				j->token[0] = '\0';
			} else if (pct_decode(p + 6, (size_t)(amp - p - 6),
			    j->token, sizeof(j->token), 1) != 0)
				j->token[0] = '\0';
			else if (strcmp(j->token, "...") == 0) {
				j->token_masked = 1;
				j->token[0] = '\0';
			}
		}
		p = amp + 1;
	}
}

int
jc_jupyter_url_parse(const char *url, size_t len, struct jc_jupyter *out)
{
	pcre2_match_data *md = NULL;
	struct jc_jupyter j;
	const char *g, *path = NULL;
	size_t gl, pathlen = 0, cut;
	int rc, r = JC_ERR_PROTO, port = 0, i;

	memset(&j, 0, sizeof(j));
	if (compile_all() != 0)
		return JC_ERR_INTERNAL;
	if (len > LINE_MAX_LEN || memchr(url, '\0', len) != NULL)
		return JC_ERR_PROTO;
	if ((md = pcre2_match_data_create_from_pattern(code[RE_URL], NULL)) ==
	    NULL)
		return JC_ERR_NOMEM;
	if ((rc = match(RE_URL, url, len, md)) == 0)
		goto out;
	gl = 0;
	if ((g = group(md, rc, 1, url, &gl)) == NULL)
		goto out;
	if (gl == 9) {				/* http+unix */
		/* The "host" is the percent-encoded socket path. */
		if ((g = group(md, rc, 6, url, &gl)) == NULL ||
		    pct_decode(g, gl, j.sock, sizeof(j.sock), 0) != 0 ||
		    j.sock[0] != '/')
			goto out;
		snprintf(j.scheme, sizeof(j.scheme), "http");
	} else {
		snprintf(j.scheme, sizeof(j.scheme), "%.*s", (int)gl, g);
		/* Host: [v6] | (name or local) -> local | bare v6 | name */
		if ((g = group(md, rc, 2, url, &gl)) == NULL &&
		    (g = group(md, rc, 4, url, &gl)) == NULL &&
		    (g = group(md, rc, 5, url, &gl)) == NULL &&
		    (g = group(md, rc, 6, url, &gl)) == NULL)
			goto out;
		if (gl >= sizeof(j.host))
			goto out;
		memcpy(j.host, g, gl);
		j.host[gl] = '\0';
		if ((g = group(md, rc, 7, url, &gl)) == NULL)
			goto out;		/* announced URLs carry a port */
		for (i = 0; i < (int)gl; i++)
			port = port * 10 + (g[i] - '0');
		if (port < 1 || port > 65535)
			goto out;
		j.port = port;
	}
	/* Path: base_url, then the default path as the last segment. */
	if ((path = group(md, rc, 8, url, &pathlen)) == NULL || pathlen == 0) {
		path = "/";
		pathlen = 1;
	}
	if (path[pathlen - 1] == '/')
		cut = pathlen;
	else {
		for (cut = pathlen; cut > 0 && path[cut - 1] != '/'; cut--)
			;
		if (pathlen - cut + 1 < sizeof(j.default_path)) {
			j.default_path[0] = '/';
			memcpy(j.default_path + 1, path + cut, pathlen - cut);
			j.default_path[pathlen - cut + 1] = '\0';
		}
	}
	if (pct_decode(path, cut, j.base_url, sizeof(j.base_url), 0) != 0)
		goto out;
	if ((g = group(md, rc, 9, url, &gl)) != NULL)
		query_token(g, gl, &j);
	if (j.token[0] == '\0' && !j.token_masked)
		j.password_only = 1;
	jc_jupyter_fixup(&j);
	*out = j;
	r = 0;
 out:
	jc_wipe(&j, sizeof(j));
	pcre2_match_data_free(md);
	return r;
}

/* A host that is this machine: prefer it for dialling. */
static int
is_local(const char *h)
{
	return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0 ||
	    strcasecmp(h, "localhost") == 0;
}

/* A host that names a machine, not an address (notebook prints gethostname()). */
static int
is_name(const char *h)
{
	const char *p;

	if (is_local(h) || strchr(h, ':') != NULL)
		return 0;
	for (p = h; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return 1;
	return 0;
}

int
jc_jupyter_log_parse(const char *buf, size_t len, struct jc_jupyter *out)
{
	pcre2_match_data *md = NULL;
	struct jc_jupyter cur, u;
	const char *p = buf, *end = buf + len, *eol, *g;
	size_t ll, gl;
	int have = 0, nblock = 0, stopped = 0, rc, r;

	memset(&cur, 0, sizeof(cur));
	if ((r = compile_all()) != 0)
		return r;
	if ((md = pcre2_match_data_create(16, NULL)) == NULL)
		return JC_ERR_NOMEM;
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		ll = (size_t)(eol - p);
		if (ll == 0 || ll > LINE_MAX_LEN || memchr(p, '\0', ll) != NULL)
			continue;
		if (match(RE_STOP, p, ll, md)) {
			if (have)
				stopped = 1;
			continue;
		}
		if (match(RE_BANNER, p, ll, md)) {
			/* A new start: what came before is history. */
			nblock = 0;
			stopped = 0;
		}
		g = NULL;
		if ((rc = match(RE_LINE, p, ll, md)) != 0 ||
		    (rc = match(RE_LISTEN, p, ll, md)) != 0)
			g = group(md, rc, 1, p, &gl);
		if (g == NULL || jc_jupyter_url_parse(g, gl, &u) != 0)
			continue;
		if (u.port == 0 && u.sock[0] == '\0')
			continue;
		/*
		 * First URL of a block names the server; a later one of the
		 * same block replaces it only when the first gave a machine
		 * name and this one a local address (5.x "(host or
		 * 127.0.0.1)", 0.0.0.0 servers), or it adds a token the
		 * first lacked.  A bound ::1 server also prints 127.0.0.1:
		 * keep ::1 then.
		 */
		if (nblock == 0 || !have || stopped) {
			jc_wipe(&cur, sizeof(cur));
			cur = u;
			have = 1;
			stopped = 0;
		} else if ((is_name(cur.host) && is_local(u.host)) ||
		    (cur.token[0] == '\0' && u.token[0] != '\0' &&
		    u.port == cur.port)) {
			jc_wipe(&cur, sizeof(cur));
			cur = u;
		}
		nblock++;
		jc_wipe(&u, sizeof(u));
	}
	pcre2_match_data_free(md);
	if (!have || stopped) {
		jc_wipe(&cur, sizeof(cur));
		return JC_ERR_JUPYTER;
	}
	snprintf(cur.source, sizeof(cur.source), "log");
	*out = cur;
	jc_wipe(&cur, sizeof(cur));
	return 0;
}
