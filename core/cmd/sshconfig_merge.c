/*
 * sshconfig_merge.c - pure helpers of ssh-config: the Host name of a
 * target, quoting for ssh_config and the shell, and the merge of a marked
 * block into an ssh config file.  No I/O, no logging.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jc_plugin.h"
#include "sshconfig.h"

void
jc_sshcfg_host_name(const char *target, char *out, size_t n)
{
	const char *at, *p = target;
	size_t o = 0;

	if (n == 0)
		return;
	if ((at = strchr(p, '@')) != NULL)
		p = at + 1;
	if (strncmp(p, "stack:", 6) == 0)
		p += 6;
	else if (strncmp(p, "name:", 5) == 0)
		p += 5;
	else if (strncmp(p, "tag:", 4) == 0)
		p += 4;
	for (; *p != '\0' && o + 1 < n; p++)
		out[o++] = isalnum((unsigned char)*p) || *p == '.' ||
		    *p == '_' || *p == '-' ? *p : '-';
	out[o] = '\0';
}

static int
append(char *out, size_t n, size_t *o, const char *s, size_t len)
{
	if (*o + len + 1 > n)
		return -1;
	memcpy(out + *o, s, len);
	*o += len;
	out[*o] = '\0';
	return 0;
}

int
jc_sshcfg_shell_word(char *out, size_t n, const char *s)
{
	size_t o = strlen(out);
	const char *p;
	int plain = *s != '\0';

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return -1;
		if (!isalnum((unsigned char)*p) && strchr("%+,-./:=@_", *p) ==
		    NULL)
			plain = 0;
	}
	if (!plain && append(out, n, &o, "'", 1) != 0)
		return -1;
	for (p = s; *p != '\0'; p++) {
		/* ssh expands %x first: a literal % is %%. */
		if (*p == '%' && append(out, n, &o, "%%", 2) != 0)
			return -1;
		/* Ends the quote, a quoted quote, opens again: any shell. */
		if (*p == '\'' && append(out, n, &o, "'\\''", 4) != 0)
			return -1;
		if (*p != '%' && *p != '\'' && append(out, n, &o, p, 1) != 0)
			return -1;
	}
	if (!plain && append(out, n, &o, "'", 1) != 0)
		return -1;
	return 0;
}

int
jc_sshcfg_file_arg(char *out, size_t n, const char *path)
{
	size_t o = strlen(out);
	const char *p;
	int blank = 0;

	if (*path == '\0')
		return -1;
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f || *p == '"' ||
		    *p == '\\')
			return -1;
		if (*p == ' ')
			blank = 1;
	}
	if (blank && append(out, n, &o, "\"", 1) != 0)
		return -1;
	for (p = path; *p != '\0'; p++)
		if (append(out, n, &o, p, 1) != 0 ||
		    (*p == '%' && append(out, n, &o, "%", 1) != 0))
			return -1;
	if (blank && append(out, n, &o, "\"", 1) != 0)
		return -1;
	return 0;
}

/* One line of the old file: [start, start+len) plus its terminator. */
struct line {
	size_t	start, len, term;	/* len without "\r\n" / "\n" */
};

/* Does the line (without terminator) equal text, trailing blanks aside? */
static int
line_is(const char *s, size_t len, const char *text)
{
	size_t tl = strlen(text);

	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		len--;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return len == tl && memcmp(s, text, tl) == 0;
}

/* Is the line a Host or Match keyword line (ssh_config: any case, '=')? */
static int
line_starts_section(const char *s, size_t len)
{
	size_t i = 0, k;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (k = i; k < len && isalpha((unsigned char)s[k]); k++)
		;
	if (k < len && s[k] != ' ' && s[k] != '\t' && s[k] != '=')
		return 0;
	return (k - i == 4 && strncasecmp(s + i, "host", 4) == 0) ||
	    (k - i == 5 && strncasecmp(s + i, "match", 5) == 0);
}

static int
line_is_comment(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == '#';
}

static int
line_is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Does the line start (after blanks) with the marker prefix pre? */
static int
is_marker(const char *s, size_t len, const char *pre)
{
	size_t i = 0, pl = strlen(pre);

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return len - i > pl && memcmp(s + i, pre, pl) == 0;
}

/* Copy block to buf, its "\n" made "\r\n" when crlf. */
static void
put_block(char *buf, size_t *o, const char *block, int crlf)
{
	for (; *block != '\0'; block++) {
		if (*block == '\n' && crlf)
			buf[(*o)++] = '\r';
		buf[(*o)++] = *block;
	}
}

/* p may be NULL with n == 0 (a new file): memcpy may not see it. */
static void
put(char *buf, size_t *o, const char *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(buf + *o, p, n);
	*o += n;
}

int
jc_sshcfg_merge(const char *old, size_t oldlen, const char *name,
    const char *block, char **out, size_t *outlen, int *changed, char *why,
    size_t whylen)
{
	char begin[300], end[300];
	const char *nl;
	struct line *ln = NULL, *tmp;
	size_t nln = 0, cap = 0, pos, i, o = 0, bl, sz;
	size_t b = (size_t)-1, e = (size_t)-1, ins = (size_t)-1;
	int crlf = 0, crlf_known = 0, last_open;
	char *buf;

	*out = NULL;
	if (old == NULL)
		oldlen = 0;
	snprintf(begin, sizeof(begin), JC_SSHCFG_BEGIN, name);
	snprintf(end, sizeof(end), JC_SSHCFG_END, name);
	for (pos = 0; pos < oldlen; pos += ln[nln - 1].len +
	    ln[nln - 1].term) {
		if (nln == cap) {
			cap = cap ? cap * 2 : 64;
			if ((tmp = realloc(ln, cap * sizeof(*ln))) == NULL) {
				free(ln);
				return JC_ERR_NOMEM;
			}
			ln = tmp;
		}
		nl = memchr(old + pos, '\n', oldlen - pos);
		ln[nln].start = pos;
		ln[nln].len = nl ? (size_t)(nl - old - pos) : oldlen - pos;
		ln[nln].term = nl != NULL;
		if (nl != NULL && !crlf_known) {
			crlf = ln[nln].len > 0 && old[pos + ln[nln].len - 1] ==
			    '\r';
			crlf_known = 1;
		}
		nln++;
	}
	/* No line ended yet: a last line ending in CR is CRLF text. */
	if (!crlf_known && oldlen > 0 && old[oldlen - 1] == '\r')
		crlf = 1;
	for (i = 0; i < nln; i++) {
		const char *s = old + ln[i].start;

		if (line_is(s, ln[i].len, begin)) {
			if (b != (size_t)-1) {
				snprintf(why, whylen, "line %zu: a second "
				    "\"%s\" (the first is on line %zu); "
				    "remove one block by hand", i + 1, begin,
				    b + 1);
				free(ln);
				return JC_ERR_USAGE;
			}
			b = i;
		} else if (line_is(s, ln[i].len, end) && b != (size_t)-1 &&
		    e == (size_t)-1)
			e = i;
		else if (ins == (size_t)-1 && b == (size_t)-1 &&
		    (line_starts_section(s, ln[i].len) ||
		    is_marker(s, ln[i].len, "# >>> jconnect ")))
			ins = i;
	}
	if (b != (size_t)-1 && e == (size_t)-1) {
		snprintf(why, whylen, "line %zu: \"%s\" has no \"%s\" after "
		    "it; fix or remove the block by hand", b + 1, begin, end);
		free(ln);
		return JC_ERR_USAGE;
	}
	/* Keep a comment that introduces the first section with it. */
	if (b == (size_t)-1 && ins != (size_t)-1)
		while (ins > 0 && line_is_comment(old + ln[ins - 1].start,
		    ln[ins - 1].len) && !is_marker(old + ln[ins - 1].start,
		    ln[ins - 1].len, "# <<< jconnect "))
			ins--;
	bl = strlen(block);
	sz = oldlen + 2 * bl + 8;
	if ((buf = malloc(sz + 1)) == NULL) {
		free(ln);
		return JC_ERR_NOMEM;
	}
	if (b != (size_t)-1) {
		/* In place: before the begin marker, the block, after end. */
		put(buf, &o, old, ln[b].start);
		put_block(buf, &o, block, crlf);
		pos = ln[e].start + ln[e].len + ln[e].term;
		put(buf, &o, old + pos, oldlen - pos);
	} else if (ins != (size_t)-1) {
		put(buf, &o, old, ln[ins].start);
		put_block(buf, &o, block, crlf);
		put_block(buf, &o, "\n", crlf);
		put(buf, &o, old + ln[ins].start, oldlen - ln[ins].start);
	} else {
		put(buf, &o, old, oldlen);
		/* End an unterminated last line, then a blank line apart. */
		last_open = oldlen > 0 && old[oldlen - 1] != '\n';
		if (last_open && old[oldlen - 1] == '\r')
			put(buf, &o, "\n", 1);
		else if (last_open)
			put_block(buf, &o, "\n", crlf);
		if (nln > 0 && !line_is_blank(old + ln[nln - 1].start,
		    ln[nln - 1].len))
			put_block(buf, &o, "\n", crlf);
		put_block(buf, &o, block, crlf);
	}
	buf[o] = '\0';
	free(ln);
	*out = buf;
	*outlen = o;
	if (o == oldlen && memcmp(buf, old, o) == 0)
		*changed = JC_SSHCFG_SAME;
	else
		*changed = b != (size_t)-1 ? JC_SSHCFG_UPDATED :
		    JC_SSHCFG_ADDED;
	return 0;
}
