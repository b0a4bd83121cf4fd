/*
 * jupyter_json.c - runtime files (nbserver-<pid>.json, jpserver-<pid>.json)
 * and `jupyter server|notebook list --json|--jsonlist` output -> struct
 * jc_jupyter.  The text is remote input: every field is checked, anything
 * odd is skipped, nothing is trusted to fit.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "compat.h"
#include "jc_plugin.h"
#include "jupyter_json.h"
#include "jupyter_log.h"
#include "jupyter_url.h"

#define VALUES_MAX	4096	/* JSON values parsed in one text */
#define DEPTH_MAX	32	/* deeper values are no server description */
#define WORK_FACTOR	4	/* bytes scanned per byte of text, at most ... */
#define WORK_SLACK	65536	/* ... plus this, before resuming after a failure */

/* Copy a JSON string member into dst; 0 ok, -1 absent or not a string, -2 too long. */
static int
getstr(const cJSON *o, const char *name, char *dst, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t l;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	if ((l = strlen(v->valuestring)) >= n)
		return -2;
	memcpy(dst, v->valuestring, l + 1);
	return 0;
}

static int
getbool(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsTrue(v) ? 1 : 0;
}

/* A whole number in [lo, hi], else -1. */
static long
getnum(const cJSON *o, const char *name, long lo, long hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(long)d)
		return -1;
	return (long)d;
}

/* One server object -> *j.  Returns 0 or -1 when it is not usable. */
static int
server_from(const cJSON *o, const char *source, struct jc_jupyter *j)
{
	char url[512];
	long port, pid;
	struct jc_jupyter u;
	int have_url;

	if (!cJSON_IsObject(o))
		return -1;
	memset(j, 0, sizeof(*j));
	port = getnum(o, "port", 0, 65535);
	pid = getnum(o, "pid", 1, INT32_MAX);
	have_url = getstr(o, "url", url, sizeof(url)) == 0;
	if (getstr(o, "sock", j->sock, sizeof(j->sock)) == -2)
		return -1;
	if (port <= 0 && j->sock[0] == '\0') {
		/* Older files may lack "port": take it from "url". */
		memset(&u, 0, sizeof(u));
		if (!have_url || jc_jupyter_url_parse(url, strlen(url), &u) != 0 ||
		    (u.port <= 0 && u.sock[0] == '\0'))
			return -1;
		port = u.port;
		memcpy(j->sock, u.sock, sizeof(j->sock));
	}
	if (j->sock[0] != '\0')
		port = 0;
	j->port = (int)port;
	j->pid = pid > 0 ? pid : 0;
	/* Too long a token or base_url cannot be used truncated. */
	switch (getstr(o, "token", j->token, sizeof(j->token))) {
	case -2:
		jc_wipe(j, sizeof(*j));
		return -1;
	default:
		break;
	}
	if (getstr(o, "base_url", j->base_url, sizeof(j->base_url)) == -2 ||
	    getstr(o, "hostname", j->host, sizeof(j->host)) == -2) {
		jc_wipe(j, sizeof(*j));
		return -1;
	}
	(void)getstr(o, "version", j->version, sizeof(j->version));
	snprintf(j->scheme, sizeof(j->scheme), "%s",
	    getbool(o, "secure") ? "https" : "http");
	if (j->token[0] == '\0') {
		if (getbool(o, "password"))
			j->password_only = 1;
		else
			j->no_auth = 1;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "notebook_dir") != NULL)
		snprintf(j->kind, sizeof(j->kind), "nb");
	else if (cJSON_GetObjectItemCaseSensitive(o, "root_dir") != NULL ||
	    j->version[0] != '\0')
		snprintf(j->kind, sizeof(j->kind), "jp");
	snprintf(j->source, sizeof(j->source), "%s", source ? source : "json");
	jc_jupyter_fixup(j);
	return 0;
}

static void
take(const cJSON *v, const char *source, struct jc_jupyter *out, size_t max,
    size_t *n, int *found)
{
	const cJSON *e;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(e, v) {
			if (*n >= max)
				return;
			if (server_from(e, source, &out[*n]) == 0) {
				(*n)++;
				*found = 1;
			}
		}
		return;
	}
	if (*n < max && server_from(v, source, &out[*n]) == 0) {
		(*n)++;
		*found = 1;
	}
}

/*
 * The end of the JSON value that starts at p ('{' or '['): brackets are
 * matched outside strings, strings end at an unescaped quote, exactly as
 * cJSON reads them.  Returns the byte after the value, or NULL when it is
 * not closed before end, closes with the wrong bracket or nests deeper
 * than DEPTH_MAX; *stop is then where the scan gave up.  Cost: the bytes
 * looked at, which the caller counts.
 */
static const char *
value_end(const char *p, const char *end, const char **stop)
{
	char open[DEPTH_MAX];
	int depth = 0, instr = 0;

	for (; p < end; p++) {
		if (instr) {
			if (*p == '\\') {
				if (++p >= end)
					break;
			} else if (*p == '"')
				instr = 0;
			continue;
		}
		switch (*p) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			if (depth == DEPTH_MAX) {
				*stop = p;
				return NULL;
			}
			open[depth++] = *p;
			break;
		case '}':
		case ']':
			if (open[depth - 1] != (*p == '}' ? '{' : '[')) {
				*stop = p;
				return NULL;
			}
			if (--depth == 0)
				return p + 1;
			break;
		default:
			break;
		}
	}
	*stop = end;
	return NULL;
}

/*
 * Values are found by scanning for '{' or '['.  After a value that does
 * not parse, the search resumes on the next line, so a broken line does
 * not hide good ones after it (the line may hold the start of another
 * value).  That rescans text the failed attempt already read: on hostile
 * input each line would cost up to the rest of the text, quadratic in
 * all.  So the bytes read are counted, and once they pass WORK_FACTOR
 * times the text, the search resumes after the failed value instead:
 * linear whatever the input.
 */
int
jc_jupyter_json_parse(const char *buf, size_t len, const char *source,
    struct jc_jupyter *out, size_t max, size_t *n)
{
	const char *p = buf, *end = buf + len, *stop, *q, *nl;
	size_t work = 0, budget = WORK_FACTOR * len + WORK_SLACK;
	cJSON *v;
	int found = 0, values = 0;

	while (p < end && values < VALUES_MAX) {
		/* Skip blanks, NULs and stray text up to a value start. */
		while (p < end && *p != '{' && *p != '[')
			p++;
		if (p >= end)
			break;
		stop = NULL;
		q = value_end(p, end, &stop);
		work += (size_t)((q != NULL ? q : stop) - p);
		/* Exactly the value: cJSON reads no further than the scan. */
		if (q != NULL &&
		    (v = cJSON_ParseWithLength(p, (size_t)(q - p))) != NULL) {
			values++;
			take(v, source, out, max, n, &found);
			cJSON_Delete(v);
			p = q;
			continue;
		}
		/* Malformed or truncated: resume on the next line. */
		nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (work > budget) {
			if (q == NULL)
				q = stop > p ? stop : p + 1;
			if (nl == NULL || nl < q)
				nl = memchr(q, '\n', (size_t)(end - q));
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return found ? 0 : JC_ERR_PROTO;
}
