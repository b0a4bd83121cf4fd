/*
 * fwdspec.c - parse --forward specs and pick their local ports.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fwdspec.h"
#include "jc_plugin.h"
#include "net.h"
#include "num.h"

#define NEXT_TRIES	32	/* ports above the remote's number to try */

static const char allowed[] = "[LOCAL:]REMOTE or [LOCAL:]HOST:PORT, "
    "e.g. 6006, 16006:6006, 5432:db.internal:5432";

static int
port_ok(const char *s, size_t len, uint16_t *out)
{
	char tmp[8];
	int v;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (jc_num_int(tmp, 1, 65535, &v) != 0)
		return 0;
	*out = (uint16_t)v;
	return 1;
}

static int
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/* A DNS name or IPv4 address: letters, digits, '.', '-', '_'. */
static int
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 253 || *s == '-' || *s == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* The inside of [...]: hex digits, ':' and '.' (an embedded IPv4). */
static int
v6_ok(const char *s, size_t len)
{
	size_t i, colons = 0;

	if (len < 2 || len > 45)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colons++;
		else if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(s[i] >= 'a' && s[i] <= 'f') &&
		    !(s[i] >= 'A' && s[i] <= 'F') && s[i] != '.')
			return 0;
	}
	return colons >= 2;
}

/* "HOST:PORT" from s: HOST a name, an IPv4 or [IPv6]. */
static int
host_port(const char *s, struct jc_fwdspec *f, char *why, size_t n)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':') {
			snprintf(why, n, "an IPv6 HOST goes in brackets, then "
			    ":PORT, as in [fd00::5]:5432");
			return -1;
		}
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
		if (!v6_ok(h, hl)) {
			snprintf(why, n, "\"%.*s\" is not an IPv6 address",
			    (int)hl, h);
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		hl = (size_t)(colon - s);
		if (!name_ok(s, hl) || all_digits(s, hl)) {
			snprintf(why, n, "\"%.*s\" is not a host name or IPv4 "
			    "address (letters, digits, . - _)", (int)hl, s);
			return -1;
		}
	}
	if (!port_ok(colon + 1, strlen(colon + 1), &f->rport)) {
		snprintf(why, n, "\"%s\" is not a port (1-65535, digits only)",
		    colon + 1);
		return -1;
	}
	snprintf(f->host, sizeof(f->host), "%.*s", (int)hl, h);
	return 0;
}

int
jc_fwdspec_parse(const char *s, struct jc_fwdspec *f, char *why, size_t n)
{
	const char *c1;
	size_t l1;

	memset(f, 0, sizeof(*f));
	snprintf(f->host, sizeof(f->host), "127.0.0.1");
	if (*s == '\0' || strlen(s) > 300) {
		snprintf(why, n, "a forward is %s", allowed);
		return -1;
	}
	if ((c1 = strchr(s, ':')) == NULL) {
		if (port_ok(s, strlen(s), &f->rport))
			return 0;
		snprintf(why, n, "\"%s\" is not a port (1-65535, digits only); "
		    "a forward is %s", s, allowed);
		return -1;
	}
	l1 = (size_t)(c1 - s);
	if (!all_digits(s, l1)) {
		/* HOST:PORT, local port picked. */
		if (host_port(s, f, why, n) == 0)
			return 0;
	} else if (!port_ok(s, l1, &f->lport))
		snprintf(why, n, "local port \"%.*s\" is not 1-65535", (int)l1,
		    s);
	else if (strchr(c1 + 1, ':') == NULL) {
		if (port_ok(c1 + 1, strlen(c1 + 1), &f->rport))
			return 0;
		snprintf(why, n, "\"%s\" is not a port (1-65535, digits only)",
		    c1 + 1);
	} else if (host_port(c1 + 1, f, why, n) == 0)
		return 0;
	snprintf(why + strlen(why), n - strlen(why), "; a forward is %s",
	    allowed);
	return -1;
}

int
jc_fwdspec_local_dest(const struct jc_fwdspec *f)
{
	return strcmp(f->host, "127.0.0.1") == 0 ||
	    strcmp(f->host, "localhost") == 0 || strcmp(f->host, "::1") == 0;
}

void
jc_fwdspec_dest(const struct jc_fwdspec *f, char *out, size_t n)
{
	if (strchr(f->host, ':') != NULL)
		snprintf(out, n, "[%s]:%u", f->host, f->rport);
	else
		snprintf(out, n, "%s:%u", f->host, f->rport);
}

int
jc_fwdspec_listen(const struct jc_fwdspec *f, int *fdp, uint16_t *portp)
{
	unsigned p;
	int r;

	if (f->lport != 0)
		return jc_net_listen(f->lport, fdp, portp);
	/* The remote's own number first: http://127.0.0.1:6006/ as usual. */
	for (p = f->rport; p < 65536u && p < (unsigned)f->rport + NEXT_TRIES;
	    p++) {
		/* Ports below 1024 are root's: skip them. */
		if (p < 1024)
			continue;
		if ((r = jc_net_listen((uint16_t)p, fdp, portp)) != JC_ERR_PORT)
			return r;
	}
	return jc_net_listen(0, fdp, portp);
}
