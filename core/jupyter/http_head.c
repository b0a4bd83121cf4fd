/*
 * http_head.c - read an HTTP/1.x response head: where it ends, the status
 * line, the header fields.  Pure and bounded: every read stays inside the
 * first `max` bytes given; fuzzed by tests/fuzz/fuzz_http_head.c.
 */
#include <string.h>
#include <strings.h>

#include "http_head.h"
#include "jc_plugin.h"

/* The line at p (up to end): its length without CR LF, and the next one. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (eol == NULL) {
		*next = end;
		n = (size_t)(end - p);
	} else {
		*next = eol + 1;
		n = (size_t)(eol - p);
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* "HTTP/" version SP 3DIGIT [SP reason]: fills version and status. */
static void
status_line(struct jc_http_head *h)
{
	const char *p = h->line, *end = h->line + h->linelen, *sp;
	int i, st = 0;

	if (h->linelen < 5 || memcmp(p, "HTTP/", 5) != 0)
		return;
	p += 5;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL || sp == p)
		return;
	h->version = p;
	h->versionlen = (size_t)(sp - p);
	p = sp + 1;
	if (end - p < 3 || (end - p > 3 && p[3] != ' '))
		return;
	for (i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return;
		st = st * 10 + (p[i] - '0');
	}
	if (st >= 100)
		h->status = st;
}

int
jc_http_head_parse(const char *buf, size_t len, size_t max,
    struct jc_http_head *h)
{
	const char *end, *p, *next;
	size_t lim = len < max ? len : max;

	memset(h, 0, sizeof(*h));
	/* The blank line: LF LF or LF CR LF. */
	end = NULL;
	for (p = buf; p < buf + lim; p++) {
		if (*p != '\n')
			continue;
		if (p + 1 < buf + lim && p[1] == '\n') {
			end = p + 2;
			break;
		}
		if (p + 2 < buf + lim && p[1] == '\r' && p[2] == '\n') {
			end = p + 3;
			break;
		}
	}
	if (end == NULL)
		return len >= max ? JC_ERR_PROTO : 0;
	h->len = (size_t)(end - buf);
	h->line = buf;
	h->linelen = line_at(buf, end, &next);
	h->fields = next;
	h->fieldslen = (size_t)(end - next);
	status_line(h);
	return 1;
}

int
jc_http_head_next(const struct jc_http_head *h, size_t *off,
    const char **name, size_t *namelen, const char **val, size_t *vallen)
{
	const char *end = h->fields + h->fieldslen, *p, *next, *colon, *v;
	size_t n, vl;

	for (p = h->fields + *off; p < end; p = next) {
		n = line_at(p, end, &next);
		*off = (size_t)(next - h->fields);
		if ((colon = memchr(p, ':', n)) == NULL)
			continue;
		v = colon + 1;
		while (v < p + n && (*v == ' ' || *v == '\t'))
			v++;
		vl = (size_t)(p + n - v);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		*name = p;
		*namelen = (size_t)(colon - p);
		*val = v;
		*vallen = vl;
		return 1;
	}
	return 0;
}

const char *
jc_http_head_get(const struct jc_http_head *h, const char *name,
    size_t *vallen)
{
	const char *n, *v;
	size_t off = 0, nl, want = strlen(name);

	while (jc_http_head_next(h, &off, &n, &nl, &v, vallen))
		if (nl == want && strncasecmp(n, name, want) == 0)
			return v;
	return NULL;
}

int
jc_http_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}
