/*
 * log.c - leveled logging to stderr with secret redaction.  Every line
 * is made safe for a terminal on the way out: much of what is logged
 * (versions, paths, log lines, error text) comes from the remote or from
 * AWS, and a control byte in it must not reach the terminal raw.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

int jc_log_lvl = JC_LOG_INFO;

void
jc_log_set_level(int level)
{
	if (level < JC_LOG_ERROR)
		level = JC_LOG_ERROR;
	if (level > JC_LOG_TRACE)
		level = JC_LOG_TRACE;
	jc_log_lvl = level;
}

/*
 * While a tunnel tries again and again (jc_log_once_begin), a line it
 * already said goes to -v only: a tunnel that waits hours for a new MFA
 * code would otherwise repeat the same two errors every 10 s.
 */
#define ONCE_MAX	64

static struct {
	int		 on;
	unsigned	 n;
	uint32_t	 seen[ONCE_MAX];	/* FNV-1a of lines said */
} once;

void
jc_log_once_begin(void)
{
	once.on = 1;
	once.n = 0;
}

void
jc_log_once_end(void)
{
	once.on = 0;
}

/* FNV-1a of s into h, a run of 8 or more hex digits (an id) as one '#'. */
static uint32_t
line_hash(uint32_t h, const char *s)
{
	size_t n;

	while (*s != '\0') {
		n = strspn(s, "0123456789abcdef");
		if (n >= 8) {
			h = (h ^ '#') * 16777619u;
			s += n;
			continue;
		}
		h = (h ^ (unsigned char)*s++) * 16777619u;
	}
	return h;
}

/*
 * Said before since jc_log_once_begin? (Remembers it if not.)  Lines
 * that differ only in ids (each try's new session) are the same line.
 */
static int
said_before(const char *prefix, const char *line)
{
	uint32_t h;
	unsigned i;

	h = line_hash(line_hash(2166136261u, prefix != NULL ? prefix : ""),
	    line);
	for (i = 0; i < once.n && i < ONCE_MAX; i++)
		if (once.seen[i] == h)
			return 1;
	once.seen[once.n++ % ONCE_MAX] = h;
	return 0;
}

void
jc_vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048], clean[2048], safe[4 * 2048 + 1];
	char pre[64];

	if (level > jc_log_lvl)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	jc_log_redact(msg, clean, sizeof(clean));
	jc_log_safe(clean, safe, sizeof(safe));
	if (once.on && level < JC_LOG_VERBOSE &&
	    jc_log_lvl < JC_LOG_VERBOSE && said_before(prefix, safe))
		return;
	if (prefix != NULL)
		fprintf(stderr, "jconnect: [%s] %s\n",
		    jc_log_safe(prefix, pre, sizeof(pre)), safe);
	else
		fprintf(stderr, "jconnect: %s\n", safe);
}

void
jc_log(int level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jc_vlog(level, prefix, fmt, ap);
	va_end(ap);
}

/* Markers after which a value is secret; the value ends at these chars. */
static const struct {
	const char *marker;
	const char *stop;
} secrets[] = {
	{ "token=",			"&# \t\r\n\"'" },
	{ "Authorization:",		"\r\n" },
	{ "X-Amz-Security-Token:",	"\r\n" },
	{ "\"TokenValue\":\"",		"\"" },
	{ "\"SecretAccessKey\":\"",	"\"" },
	{ "\"SessionToken\":\"",	"\"" },
	{ "\"token\": \"",		"\"" },
	{ "\"token\":\"",		"\"" },
};

char *
jc_log_redact(const char *s, char *dst, size_t n)
{
	size_t o = 0, i, ml;
	const char *p = s;

	if (n == 0)
		return dst;
	while (*p != '\0' && o + 1 < n) {
		for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
			ml = strlen(secrets[i].marker);
			if (strncasecmp(p, secrets[i].marker, ml) == 0)
				break;
		}
		if (i == sizeof(secrets) / sizeof(secrets[0])) {
			dst[o++] = *p++;
			continue;
		}
		/* Copy the marker, then replace the value with "***". */
		while (ml-- > 0 && o + 1 < n)
			dst[o++] = *p++;
		while (*p == ' ' && o + 1 < n)
			dst[o++] = *p++;
		if (*p != '\0' && strchr(secrets[i].stop, *p) == NULL) {
			while (*p != '\0' && strchr(secrets[i].stop, *p) == NULL)
				p++;
			if (o + 4 < n) {
				memcpy(dst + o, "***", 3);
				o += 3;
			}
		}
	}
	dst[o] = '\0';
	return dst;
}

size_t
jc_log_utf8len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, i;
	unsigned int c;

	if (s[0] < 0x80)
		return s[0] < 0x20 || s[0] == 0x7f ? 0 : 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	/* C1 controls (U+0080-U+009F) act like ESC on some terminals. */
	if (c >= 0x80 && c <= 0x9f)
		return 0;
	return n;
}

char *
jc_log_safe(const char *s, char *dst, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, l = 0;
	char esc[5];
	size_t el;

	if (n == 0)
		return dst;
	while (*p != '\0') {
		el = 0;
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			el = 2;
			l = 1;
		} else if (*p < 0x20 || *p == 0x7f || (l = jc_log_utf8len((const char *)p)) == 0) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			el = 4;
			l = 1;
		}
		if (el > 0) {
			if (o + el >= n)
				break;
			memcpy(dst + o, esc, el);
		} else {
			if (o + l >= n)
				break;
			memcpy(dst + o, p, l);
			el = l;
		}
		o += el;
		p += l;
	}
	dst[o] = '\0';
	return dst;
}
