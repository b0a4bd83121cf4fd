/*
 * log.c - leveled logging to stderr with secret redaction.
 */
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

void
jc_vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048], clean[2048];

	if (level > jc_log_lvl)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	jc_log_redact(msg, clean, sizeof(clean));
	if (prefix != NULL)
		fprintf(stderr, "jconnect: [%s] %s\n", prefix, clean);
	else
		fprintf(stderr, "jconnect: %s\n", clean);
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
