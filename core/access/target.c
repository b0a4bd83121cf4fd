/*
 * target.c - the TARGET grammar, tried in this order:
 *   i-... / mi-...            instance id
 *   user@host[:port], IP literal ([v6]:port too), name with a dot,
 *   "localhost"               direct host (SSH only)
 *   stack:NAME, name:NAME, tag:KEY=VALUE   explicit AWS forms
 *   a bare word               alias, else stack, else Name tag
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jc_plugin.h"
#include "num.h"
#include "target.h"

static int fail(char *, size_t, const char *, ...) JC_PRINTF(3, 4);

static int
fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return JC_ERR_USAGE;
}

static int
is_instance_id(const char *s)
{
	size_t i, n;

	if (strncmp(s, "i-", 2) == 0)
		s += 2;
	else if (strncmp(s, "mi-", 3) == 0)
		s += 3;
	else
		return 0;
	n = strlen(s);
	if (n != 8 && n != 17)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Host names and IPs: letters, digits, '-', '.', '_' (or IPv6 chars). */
static int
host_ok(const char *h)
{
	unsigned char a[16];

	if (*h == '\0' || strlen(h) > 253)
		return 0;
	if (inet_pton(AF_INET6, h, a) == 1 || inet_pton(AF_INET, h, a) == 1)
		return 1;
	if (*h == '-' || *h == '.')
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' &&
		    *h != '_')
			return 0;
	return 1;
}

static int
parse_port(const char *s, int *port)
{
	return jc_num_int(s, 1, 65535, port);
}

/* host[:port] or [v6]:port or a bare IPv6 literal. */
static int
parse_hostport(const char *s, struct jc_tspec *t, char *why, size_t n)
{
	const char *colon, *rb;
	unsigned char a[16];

	if (*s == '[') {
		if ((rb = strchr(s, ']')) == NULL)
			return fail(why, n, "missing ']' in \"%s\"", s);
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(rb - s - 1),
		    s + 1);
		if (rb[1] == ':' && parse_port(rb + 2, &t->port) != 0)
			return fail(why, n, "bad port in \"%s\"", s);
		if (rb[1] != '\0' && rb[1] != ':')
			return fail(why, n, "junk after ']' in \"%s\"", s);
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		snprintf(t->host, sizeof(t->host), "%s", s);
	} else if ((colon = strrchr(s, ':')) != NULL) {
		if (parse_port(colon + 1, &t->port) != 0)
			return fail(why, n, "bad port in \"%s\" (want "
			    "host:1-65535)", s);
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(colon - s), s);
	} else
		snprintf(t->host, sizeof(t->host), "%s", s);
	if (!host_ok(t->host))
		return fail(why, n, "\"%s\" is not a valid host name", t->host);
	t->kind = JC_T_HOST;
	return 0;
}

static int
word_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 255)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

int
jc_target_parse(const char *spec, struct jc_tspec *t, char *why, size_t n)
{
	const char *at, *eq, *v;
	size_t ul;

	memset(t, 0, sizeof(*t));
	if (spec == NULL || *spec == '\0')
		return fail(why, n, "empty TARGET");
	if (strlen(spec) > 511)
		return fail(why, n, "TARGET is too long");
	if (is_instance_id(spec)) {
		t->kind = JC_T_INSTANCE;
		snprintf(t->value, sizeof(t->value), "%s", spec);
		return 0;
	}
	if (strncmp(spec, "stack:", 6) == 0 || strncmp(spec, "name:", 5) == 0) {
		v = strchr(spec, ':') + 1;
		if (*v == '\0' || strlen(v) >= sizeof(t->value))
			return fail(why, n, "empty or too long name in \"%s\"",
			    spec);
		t->kind = spec[0] == 's' ? JC_T_STACK : JC_T_NAME;
		snprintf(t->value, sizeof(t->value), "%s", v);
		return 0;
	}
	if (strncmp(spec, "tag:", 4) == 0) {
		v = spec + 4;
		if ((eq = strchr(v, '=')) == NULL || eq == v)
			return fail(why, n, "\"%s\": want tag:KEY=VALUE", spec);
		if ((size_t)(eq - v) >= sizeof(t->key) ||
		    strlen(eq + 1) >= sizeof(t->value))
			return fail(why, n, "tag too long in \"%s\"", spec);
		t->kind = JC_T_TAG;
		snprintf(t->key, sizeof(t->key), "%.*s", (int)(eq - v), v);
		snprintf(t->value, sizeof(t->value), "%s", eq + 1);
		return 0;
	}
	if ((at = strchr(spec, '@')) != NULL) {
		ul = (size_t)(at - spec);
		/* No leading '-': a user name must never read as an option. */
		if (ul == 0 || ul >= sizeof(t->user) || *spec == '-')
			return fail(why, n, "bad user in \"%s\"", spec);
		snprintf(t->user, sizeof(t->user), "%.*s", (int)ul, spec);
		for (size_t i = 0; i < ul; i++)
			if (!isalnum((unsigned char)spec[i]) && spec[i] != '-' &&
			    spec[i] != '_' && spec[i] != '.')
				return fail(why, n, "bad user name in \"%s\"",
				    spec);
		/* ubuntu@my-stack: an AWS target with a user. */
		if (word_ok(at + 1) && strcmp(at + 1, "localhost") != 0) {
			t->kind = is_instance_id(at + 1) ? JC_T_INSTANCE :
			    JC_T_WORD;
			snprintf(t->value, sizeof(t->value), "%s", at + 1);
			return 0;
		}
		return parse_hostport(at + 1, t, why, n);
	}
	if (strchr(spec, '.') != NULL || strchr(spec, ':') != NULL ||
	    strcmp(spec, "localhost") == 0)
		return parse_hostport(spec, t, why, n);
	if (!word_ok(spec))
		return fail(why, n, "\"%s\" is not a host, instance id, stack, "
		    "name: or tag: target", spec);
	t->kind = JC_T_WORD;
	snprintf(t->value, sizeof(t->value), "%s", spec);
	return 0;
}

int
jc_target_is_aws(const struct jc_tspec *t)
{
	return t->kind != JC_T_HOST;
}
