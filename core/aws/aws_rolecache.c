/*
 * aws_rolecache.c - the AWS CLI's cache of assumed-role credentials.
 *
 * The CLI keeps the answer of each AssumeRole in ~/.aws/cli/cache, one
 * JSON file per set of call parameters: {"Credentials": {"AccessKeyId",
 * "SecretAccessKey", "SessionToken", "Expiration"}, "AssumedRoleUser":
 * {...}}, named by the sha1 of those parameters as Python's json.dumps
 * writes them with sorted keys.  A role with mfa_serial asks for a code
 * each time it is assumed; sharing this cache means one code serves
 * jconnect and the CLI, and a background tunnel finds the credentials a
 * later run in a terminal got.  Files are written 0600 through a
 * temporary file and a rename, so a reader never sees half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aws_int.h"
#include "aws_parse.h"
#include "aws_rolecache.h"
#include "aws_sso.h"
#include "compat.h"
#include "log.h"

#define ENTRY_MAX	(64u << 10)

const char *
jc_aws_rolecache_dir(void)
{
	static char dir[1024];

	snprintf(dir, sizeof(dir), "%s/.aws/cli/cache", jc_aws_home());
	return dir;
}

/* ---- the key ---------------------------------------------------------- */

/* Append ", " unless first, then "NAME": (Python's default separators). */
static int
key_name(char *j, size_t len, int *first, const char *name)
{
	size_t n = strlen(j);
	int k;

	k = snprintf(j + n, len - n, "%s\"%s\": ", *first ? "" : ", ", name);
	*first = 0;
	return k < 0 || (size_t)k >= len - n ? JC_ERR_USAGE : 0;
}

static int
key_str(char *j, size_t len, int *first, const char *name, const char *v)
{
	if (v == NULL)
		return 0;
	if (key_name(j, len, first, name) != 0)
		return JC_ERR_USAGE;
	return jc_json_quote(j, len, v);
}

int
jc_aws_rolecache_key(const struct jc_aws_rolecall *rc, char out[41])
{
	char j[8192];
	size_t l;
	int first = 1;

	/* Sorted: DurationSeconds ExternalId RoleArn RoleSessionName Serial. */
	snprintf(j, sizeof(j), "{");
	if (rc->duration >= 0) {
		if (key_name(j, sizeof(j), &first, "DurationSeconds") != 0)
			return JC_ERR_USAGE;
		l = strlen(j);
		snprintf(j + l, sizeof(j) - l, "%ld", rc->duration);
	}
	if (key_str(j, sizeof(j), &first, "ExternalId", rc->external_id) ||
	    key_str(j, sizeof(j), &first, "RoleArn", rc->role_arn) ||
	    key_str(j, sizeof(j), &first, "RoleSessionName",
	    rc->session_name != NULL && *rc->session_name != '\0' ?
	    rc->session_name : NULL) ||
	    key_str(j, sizeof(j), &first, "SerialNumber", rc->mfa_serial))
		return JC_ERR_USAGE;
	l = strlen(j);
	if (l + 2 > sizeof(j))
		return JC_ERR_USAGE;
	j[l] = '}';
	j[l + 1] = '\0';
	return jc_aws_sha1_hex(j, out);
}

/* ---- reading ---------------------------------------------------------- */

/*
 * botocore writes the expiry as "2026-12-07T09:00:00UTC" (strftime's
 * %Z); other writers use Z or +00:00.  Returns 0 with *t.
 */
static int
cache_time(const char *s, time_t *t)
{
	char buf[64];
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return JC_ERR_PROTO;
	snprintf(buf, sizeof(buf), "%s", s);
	if (n > 3 && strcmp(buf + n - 3, "UTC") == 0)
		snprintf(buf + n - 3, sizeof(buf) - (n - 3), "Z");
	return jc_aws_time_parse(buf, t);
}

static void
wipe_json(cJSON *o)
{
	cJSON *it;

	if (o == NULL)
		return;
	for (it = o->child; it != NULL; it = it->next) {
		if (cJSON_IsString(it) && it->valuestring != NULL)
			jc_wipe(it->valuestring, strlen(it->valuestring));
		wipe_json(it);
	}
}

int
jc_aws_rolecache_get(const char *key, time_t margin, struct jc_aws_creds *c)
{
	struct jc_aws_creds n;
	char path[1200], *buf = NULL;
	const cJSON *cr, *k, *s, *t, *e;
	cJSON *o = NULL;
	size_t len = 0;
	time_t exp;
	int r;

	memset(&n, 0, sizeof(n));
	snprintf(path, sizeof(path), "%s/%s.json", jc_aws_rolecache_dir(), key);
	if ((r = jc_aws_read_file(path, ENTRY_MAX, &buf, &len)) != 0) {
		if (r == JC_ERR_NOMEM)
			return r;
		jc_debug("no MFA session cached in %s", path);
		return JC_ERR_NOTFOUND;
	}
	r = JC_ERR_NOTFOUND;
	if ((o = cJSON_ParseWithLength(buf, len)) == NULL ||
	    (cr = cJSON_GetObjectItemCaseSensitive(o, "Credentials")) == NULL) {
		jc_debug("%s is not a cached AssumeRole answer; ignored", path);
		goto out;
	}
	k = cJSON_GetObjectItemCaseSensitive(cr, "AccessKeyId");
	s = cJSON_GetObjectItemCaseSensitive(cr, "SecretAccessKey");
	t = cJSON_GetObjectItemCaseSensitive(cr, "SessionToken");
	e = cJSON_GetObjectItemCaseSensitive(cr, "Expiration");
	if (!cJSON_IsString(k) || !cJSON_IsString(s) || !cJSON_IsString(t) ||
	    !cJSON_IsString(e) || *k->valuestring == '\0' ||
	    *s->valuestring == '\0' || cache_time(e->valuestring, &exp) != 0) {
		jc_debug("%s lacks credentials or their expiry; ignored", path);
		goto out;
	}
	if (exp <= time(NULL) + margin) {
		jc_debug("the MFA session cached in %s %s", path,
		    exp <= time(NULL) ? "has expired" : "expires within "
		    "minutes");
		goto out;
	}
	if ((n.akid = strdup(k->valuestring)) == NULL ||
	    (n.secret = strdup(s->valuestring)) == NULL ||
	    (n.token = strdup(t->valuestring)) == NULL) {
		jc_aws_creds_clear(&n);
		r = JC_ERR_NOMEM;
		goto out;
	}
	n.expires = exp;
	jc_aws_creds_clear(c);
	*c = n;
	r = 0;
 out:
	wipe_json(o);
	cJSON_Delete(o);
	jc_wipe(buf, len);
	free(buf);
	return r;
}

/* ---- writing ---------------------------------------------------------- */

/* ~/.aws, ~/.aws/cli, ~/.aws/cli/cache: made 0700 when missing. */
static int
make_dirs(void)
{
	const char *parts[] = { "/.aws", "/cli", "/cache" };
	char path[1024];
	size_t i, n;

	n = (size_t)snprintf(path, sizeof(path), "%s", jc_aws_home());
	for (i = 0; i < 3; i++) {
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%s",
		    parts[i]);
		if (n >= sizeof(path))
			return JC_ERR_IO;
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return JC_ERR_IO;
	}
	return 0;
}

int
jc_aws_rolecache_put(const char *key, const struct jc_aws_creds *c,
    const char *user_arn, const char *user_id)
{
	cJSON *o, *cr, *u;
	char path[1200], when[40], *text = NULL;
	struct tm tm;
	int r = JC_ERR_NOMEM;

	if (c->expires == 0 || c->token == NULL)
		return JC_ERR_IO;
	gmtime_r(&c->expires, &tm);
	/* As botocore writes it: strftime's %Z of UTC. */
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SUTC", &tm);
	if ((o = cJSON_CreateObject()) == NULL)
		return JC_ERR_NOMEM;
	if ((cr = cJSON_AddObjectToObject(o, "Credentials")) == NULL ||
	    cJSON_AddStringToObject(cr, "AccessKeyId", c->akid) == NULL ||
	    cJSON_AddStringToObject(cr, "SecretAccessKey", c->secret) == NULL ||
	    cJSON_AddStringToObject(cr, "SessionToken", c->token) == NULL ||
	    cJSON_AddStringToObject(cr, "Expiration", when) == NULL)
		goto out;
	if (user_arn != NULL && user_id != NULL &&
	    ((u = cJSON_AddObjectToObject(o, "AssumedRoleUser")) == NULL ||
	    cJSON_AddStringToObject(u, "AssumedRoleId", user_id) == NULL ||
	    cJSON_AddStringToObject(u, "Arn", user_arn) == NULL))
		goto out;
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/%s.json", jc_aws_rolecache_dir(), key);
	if ((r = make_dirs()) == 0)
		r = jc_aws_write_file(path, text);
	if (r != 0)
		jc_warn("cannot keep the MFA session in %s: %s; the next run "
		    "will ask for a code again", path, strerror(errno));
	else
		jc_verbose("MFA session kept in %s until %s", path, when);
 out:
	if (text != NULL) {
		jc_wipe(text, strlen(text));
		free(text);
	}
	wipe_json(o);
	cJSON_Delete(o);
	return r;
}
