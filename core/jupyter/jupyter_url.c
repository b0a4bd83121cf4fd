/*
 * jupyter_url.c - what jconnect knows of one Jupyter server (struct
 * jc_jupyter) and the URL helpers on it: normalise what a parser found,
 * the address to dial, a one-line description, the browser URL.  Pure:
 * no I/O, no parser; the parsers and jupyter.c build on it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "jc_plugin.h"
#include "jupyter_url.h"

void
jc_jupyter_fixup(struct jc_jupyter *j)
{
	char tmp[sizeof(j->base_url)];
	size_t l;

	if (j->scheme[0] == '\0')
		snprintf(j->scheme, sizeof(j->scheme), "http");
	/* base_url always "/.../" */
	l = strlen(j->base_url);
	if (l == 0 || j->base_url[0] != '/') {
		tmp[0] = '/';
		memcpy(tmp + 1, j->base_url, sizeof(tmp) - 1);
		tmp[sizeof(tmp) - 1] = '\0';
		memcpy(j->base_url, tmp, sizeof(tmp));
		l = strlen(j->base_url);
	}
	if (j->base_url[l - 1] != '/') {
		if (l + 1 < sizeof(j->base_url)) {
			j->base_url[l] = '/';
			j->base_url[l + 1] = '\0';
		} else
			j->base_url[l - 1] = '/';
	}
	/* The address to dial on the remote. */
	l = strlen(j->host);
	if (l >= 2 && j->host[0] == '[' && j->host[l - 1] == ']') {
		memmove(j->host, j->host + 1, l - 2);
		j->host[l - 2] = '\0';
	}
	if (j->host[0] == '\0' || strcmp(j->host, "0.0.0.0") == 0 ||
	    strcmp(j->host, "*") == 0 || strcasecmp(j->host, "localhost") == 0)
		snprintf(j->host, sizeof(j->host), "127.0.0.1");
	else if (strcmp(j->host, "::") == 0)
		snprintf(j->host, sizeof(j->host), "::1");
	if (j->sock[0] != '\0')
		j->port = 0;
}

void
jc_jupyter_clear(struct jc_jupyter *j)
{
	if (j != NULL)
		jc_wipe(j->token, sizeof(j->token));
}

void
jc_jupyter_dial(const struct jc_jupyter *j, const char **hostp, int *portp)
{
	if (j->sock[0] != '\0') {
		*hostp = j->sock;
		*portp = 0;
	} else {
		*hostp = j->host;
		*portp = j->port;
	}
}

static const char *
kind_name(const struct jc_jupyter *j)
{
	if (strcmp(j->kind, "nb") == 0)
		return "Jupyter Notebook";
	if (strcmp(j->kind, "jp") == 0)
		return "Jupyter Server";
	return "Jupyter";
}

void
jc_jupyter_describe(const struct jc_jupyter *j, char *buf, size_t n)
{
	char where[300], pid[32] = "";
	int based = strcmp(j->base_url, "/") != 0 && j->base_url[0] != '\0';

	if (j->sock[0] != '\0')
		snprintf(where, sizeof(where), "Unix socket %s", j->sock);
	else
		snprintf(where, sizeof(where), "remote port %d", j->port);
	if (j->pid != 0)
		snprintf(pid, sizeof(pid), ", pid %ld", j->pid);
	snprintf(buf, n, "%s%s%s on %s%s%s (%s%s)", kind_name(j),
	    j->version[0] ? " " : "", j->version, where,
	    based ? ", base_url " : "", based ? j->base_url : "",
	    j->source[0] ? j->source : "found", pid);
}

/* Percent-encode for a query value or path part. */
static int
enc(const char *s, char *dst, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || (keep_slash && c == '/')) {
			if (o + 1 >= n)
				return -1;
			dst[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				return -1;
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (o >= n)
		return -1;
	dst[o] = '\0';
	return 0;
}

int
jc_jupyter_url(const struct jc_jupyter *j, int local_port, char *buf, size_t n)
{
	char base[3 * sizeof(j->base_url)], def[3 * sizeof(j->default_path)];
	char tok[3 * sizeof(j->token)], next[sizeof(base) * 3 + sizeof(def)];
	char nextraw[sizeof(base) + sizeof(def)];
	const char *d;
	int w, r = JC_ERR_INTERNAL;

	d = j->default_path[0] == '/' ? j->default_path + 1 : j->default_path;
	if (enc(j->base_url, base, sizeof(base), 1) != 0 ||
	    enc(d, def, sizeof(def), 1) != 0 ||
	    enc(j->token, tok, sizeof(tok), 0) != 0)
		goto out;
	if (j->token[0] != '\0')
		w = snprintf(buf, n, "%s://127.0.0.1:%d%s%s?token=%s",
		    j->scheme, local_port, base, def, tok);
	else if (j->no_auth)
		w = snprintf(buf, n, "%s://127.0.0.1:%d%s%s", j->scheme,
		    local_port, base, def);
	else if (def[0] != '\0') {
		/* The login page, then on to the default page. */
		snprintf(nextraw, sizeof(nextraw), "%s%s", j->base_url, d);
		if (enc(nextraw, next, sizeof(next), 0) != 0)
			goto out;
		w = snprintf(buf, n, "%s://127.0.0.1:%d%slogin?next=%s",
		    j->scheme, local_port, base, next);
	} else
		w = snprintf(buf, n, "%s://127.0.0.1:%d%slogin", j->scheme,
		    local_port, base);
	if (w < 0 || (size_t)w >= n)
		goto out;
	r = 0;
 out:
	jc_wipe(tok, sizeof(tok));
	if (r != 0 && n > 0)
		jc_wipe(buf, n);
	return r;
}
