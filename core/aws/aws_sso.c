/*
 * aws_sso.c - IAM Identity Center (SSO) without the AWS CLI.
 *
 * The token cache is the one the AWS CLI and the SDKs share: one JSON
 * file per sign-in in ~/.aws/sso/cache, named by the sha1 of the
 * sso-session name (or of the start URL for a legacy profile), plus the
 * client registration file botocore names by the sha1 of a JSON of the
 * start URL, region, scopes and session.  Both are written 0600 through
 * a temporary file and a rename, so a reader never sees half a file, and
 * either tool accepts the other's sign-in.
 *
 * SSO OIDC and the portal are REST-JSON and unsigned: the secrets are
 * the client secret, the refresh token and the access token (a bearer
 * header), none of which is ever logged or put in an argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "aws_int.h"
#include "aws_parse.h"
#include "aws_sso.h"
#include "browser.h"
#include "compat.h"
#include "log.h"
#include "loop.h"
#include "state.h"

#define REFRESH_WINDOW_S	(15 * 60)	/* botocore's window */
#define CALL_MS			30000L
#define CONNECT_MS		10000L
#define CACHE_MAX		(256u << 10)
#define SLOW_DOWN_S		5		/* RFC 8628, 3.5 */
#define DEFAULT_INTERVAL_S	5
#define DEVICE_GRANT	"urn:ietf:params:oauth:grant-type:device_code"

/* What a profile says about its SSO sign-in.  All borrowed. */
struct sso_cfg {
	const char	*profile;
	const char	*session;	/* NULL: legacy profile */
	const char	*start_url;
	const char	*region;
	const char	*scopes;	/* raw sso_registration_scopes */
	const char	*account;
	const char	*role;
};

/* A cached token; strings malloc'd (wipe with tok_clear). */
struct sso_tok {
	char	*start_url, *region, *access, *refresh;
	char	*client_id, *client_secret;
	time_t	 expires, reg_expires;
};

static void
tok_clear(struct sso_tok *t)
{
	jc_aws_wipe_free(t->start_url);
	jc_aws_wipe_free(t->region);
	jc_aws_wipe_free(t->access);
	jc_aws_wipe_free(t->refresh);
	jc_aws_wipe_free(t->client_id);
	jc_aws_wipe_free(t->client_secret);
	memset(t, 0, sizeof(*t));
}

/* ---- keys and JSON text --------------------------------------------- */

static int
append(char *dst, size_t len, const char *s)
{
	size_t n = strlen(dst), m = strlen(s);

	if (n + m + 1 > len)
		return JC_ERR_USAGE;
	memcpy(dst + n, s, m + 1);
	return 0;
}

/* One UTF-8 sequence at s -> code point; *used bytes, -1 when invalid. */
static long
utf8_next(const unsigned char *s, size_t *used)
{
	long c;
	size_t n, i;

	if (s[0] < 0x80) {
		*used = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*used = 1;
		return -1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*used = 1;
			return -1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*used = n;
	return c;
}

int
jc_json_quote(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char e[32];
	size_t used;
	long c, hi, lo;

	if (append(dst, len, "\"") != 0)
		return JC_ERR_USAGE;
	while (*p != '\0') {
		c = utf8_next(p, &used);
		if (c == -1)
			c = *p;		/* not UTF-8: the byte as a code */
		p += used;
		if (c == '"')
			snprintf(e, sizeof(e), "\\\"");
		else if (c == '\\')
			snprintf(e, sizeof(e), "\\\\");
		else if (c == '\n')
			snprintf(e, sizeof(e), "\\n");
		else if (c == '\r')
			snprintf(e, sizeof(e), "\\r");
		else if (c == '\t')
			snprintf(e, sizeof(e), "\\t");
		else if (c == '\b')
			snprintf(e, sizeof(e), "\\b");
		else if (c == '\f')
			snprintf(e, sizeof(e), "\\f");
		else if (c < 0x20 || (c > 0x7e && c < 0x10000))
			snprintf(e, sizeof(e), "\\u%04lx", c);
		else if (c >= 0x10000) {
			hi = 0xd800 + ((c - 0x10000) >> 10);
			lo = 0xdc00 + ((c - 0x10000) & 0x3ff);
			snprintf(e, sizeof(e), "\\u%04lx\\u%04lx", hi, lo);
		} else {
			e[0] = (char)c;
			e[1] = '\0';
		}
		if (append(dst, len, e) != 0)
			return JC_ERR_USAGE;
	}
	return append(dst, len, "\"");
}

int
jc_aws_sso_token_key(const char *session, const char *start_url,
    char out[41])
{
	return jc_aws_sha1_hex(session != NULL ? session : start_url, out);
}

/* sso_registration_scopes "a, b" -> JSON list ["a", "b"] (or null). */
static int
scopes_json(char *dst, size_t len, const char *scopes)
{
	char one[512];
	const char *p, *e, *a, *b;
	int first = 1;

	if (scopes == NULL)
		return append(dst, len, "null");
	if (append(dst, len, "[") != 0)
		return JC_ERR_USAGE;
	for (p = scopes; ; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		for (a = p; a < e && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = e; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		if (b > a) {
			if (b - a >= (long)sizeof(one))
				return JC_ERR_USAGE;
			memcpy(one, a, (size_t)(b - a));
			one[b - a] = '\0';
			if ((!first && append(dst, len, ", ") != 0) ||
			    jc_json_quote(dst, len, one) != 0)
				return JC_ERR_USAGE;
			first = 0;
		}
		if (*e == '\0')
			break;
	}
	return append(dst, len, "]");
}

int
jc_aws_sso_registration_key(const char *start_url, const char *region,
    const char *scopes, const char *session, char out[41])
{
	char j[4096];

	j[0] = '\0';
	if (append(j, sizeof(j), "{\"region\": ") != 0 ||
	    jc_json_quote(j, sizeof(j), region) != 0 ||
	    append(j, sizeof(j), ", \"scopes\": ") != 0 ||
	    scopes_json(j, sizeof(j), scopes) != 0 ||
	    append(j, sizeof(j), ", \"session_name\": ") != 0 ||
	    (session == NULL ? append(j, sizeof(j), "null") :
	    jc_json_quote(j, sizeof(j), session)) != 0 ||
	    append(j, sizeof(j), ", \"startUrl\": ") != 0 ||
	    jc_json_quote(j, sizeof(j), start_url) != 0 ||
	    append(j, sizeof(j), ", \"tool\": \"botocore\"}") != 0)
		return JC_ERR_USAGE;
	return jc_aws_sha1_hex(j, out);
}

/* ---- configuration --------------------------------------------------- */

/* 0, JC_ERR_NOTFOUND (not SSO) or JC_ERR_AWS_AUTH with err. */
static int
sso_config(const char *profile, struct sso_cfg *s, struct jc_aws_error *err)
{
	char sec[256];
	const char *u;

	memset(s, 0, sizeof(*s));
	s->profile = profile;
	s->session = jc_aws_setting(profile, "sso_session");
	s->account = jc_aws_setting(profile, "sso_account_id");
	s->role = jc_aws_setting(profile, "sso_role_name");
	if (s->session != NULL) {
		snprintf(sec, sizeof(sec), "sso-session %s", s->session);
		if (!jc_aws_config_has(sec))
			return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s names "
			    "sso_session %s, but %s has no [sso-session %s] "
			    "section", profile, s->session,
			    jc_aws_config_path(), s->session);
		s->start_url = jc_aws_config_get(sec, "sso_start_url");
		s->region = jc_aws_config_get(sec, "sso_region");
		s->scopes = jc_aws_config_get(sec, "sso_registration_scopes");
		/* Both given: they must agree, as botocore checks. */
		if ((u = jc_aws_setting(profile, "sso_start_url")) != NULL &&
		    s->start_url != NULL && strcmp(u, s->start_url) != 0)
			return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s and its "
			    "sso-session %s give different sso_start_url "
			    "values; keep one", profile, s->session);
		if (s->start_url == NULL || s->region == NULL)
			return jc_aws_fail(err, JC_ERR_AWS_AUTH, "[sso-session %s] in "
			    "%s needs sso_start_url and sso_region",
			    s->session, jc_aws_config_path());
	} else {
		s->start_url = jc_aws_setting(profile, "sso_start_url");
		s->region = jc_aws_setting(profile, "sso_region");
		if (s->start_url == NULL && s->region == NULL)
			return JC_ERR_NOTFOUND;
		if (s->start_url == NULL || s->region == NULL)
			return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s needs "
			    "both sso_start_url and sso_region (or an "
			    "sso_session)", profile);
	}
	return 0;
}

/* ---- files ----------------------------------------------------------- */

/* ~/.aws/sso/cache/NAME.json; mk: create the directories (0700). */
static int
cache_path(const char *name, char *path, size_t len, int mk)
{
	const char *parts[] = { "/.aws", "/sso", "/cache" };
	size_t i;
	int n;

	n = snprintf(path, len, "%s", jc_aws_home());
	for (i = 0; i < 3; i++) {
		n += snprintf(path + n, len - (size_t)n, "%s", parts[i]);
		if ((size_t)n >= len)
			return JC_ERR_IO;
		if (mk && mkdir(path, 0700) != 0 && errno != EEXIST)
			return JC_ERR_IO;
	}
	n += snprintf(path + n, len - (size_t)n, "/%s.json", name);
	return (size_t)n >= len ? JC_ERR_IO : 0;
}

/* The whole file, malloc'd; JC_ERR_NOTFOUND when it does not exist. */
static int
read_small(const char *path, char **out)
{
	size_t len;

	return jc_aws_read_file(path, CACHE_MAX, out, &len);
}

static void
iso_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
json_str(const cJSON *o, const char *k, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*out = NULL;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return JC_ERR_NOTFOUND;
	return (*out = strdup(v->valuestring)) == NULL ? JC_ERR_NOMEM : 0;
}

static int
json_time(const cJSON *o, const char *k, time_t *t)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	char s[64];
	size_t n;

	*t = 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return JC_ERR_NOTFOUND;
	/* Older AWS CLIs wrote "2024-01-02T03:04:05UTC". */
	snprintf(s, sizeof(s), "%s", v->valuestring);
	if ((n = strlen(s)) > 3 && strcmp(s + n - 3, "UTC") == 0)
		snprintf(s + n - 3, 4, "Z");
	return jc_aws_time_parse(s, t);
}

/* Read a token file; JC_ERR_NOTFOUND (no file), JC_ERR_PROTO (bad). */
static int
tok_load(const char *path, struct sso_tok *t)
{
	cJSON *o;
	char *buf = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = read_small(path, &buf)) != 0)
		return r;
	o = cJSON_Parse(buf);
	jc_wipe(buf, strlen(buf));
	free(buf);
	if (o == NULL)
		return JC_ERR_PROTO;
	r = JC_ERR_PROTO;
	if (json_str(o, "accessToken", &t->access) != 0 ||
	    json_time(o, "expiresAt", &t->expires) != 0)
		goto out;
	if (json_str(o, "startUrl", &t->start_url) == JC_ERR_NOMEM ||
	    json_str(o, "region", &t->region) == JC_ERR_NOMEM ||
	    json_str(o, "refreshToken", &t->refresh) == JC_ERR_NOMEM ||
	    json_str(o, "clientId", &t->client_id) == JC_ERR_NOMEM ||
	    json_str(o, "clientSecret", &t->client_secret) == JC_ERR_NOMEM) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	(void)json_time(o, "registrationExpiresAt", &t->reg_expires);
	r = 0;
 out:
	/* cJSON does not wipe: clear the strings before they go back. */
	for (cJSON *it = o->child; it != NULL; it = it->next)
		if (cJSON_IsString(it) && it->valuestring != NULL)
			jc_wipe(it->valuestring,
			    strlen(it->valuestring));
	cJSON_Delete(o);
	if (r != 0)
		tok_clear(t);
	return r;
}

/* The token file, in the AWS CLI's own layout and key order. */
static int
tok_write(const char *path, const struct sso_tok *t)
{
	char *j, when[32];
	size_t len = 16384;
	int r = JC_ERR_USAGE;

	if ((j = calloc(1, len)) == NULL)
		return JC_ERR_NOMEM;
	iso_time(when, sizeof(when), t->expires);
	if (append(j, len, "{\"startUrl\": ") != 0 ||
	    jc_json_quote(j, len, t->start_url) != 0 ||
	    append(j, len, ", \"region\": ") != 0 ||
	    jc_json_quote(j, len, t->region) != 0 ||
	    append(j, len, ", \"accessToken\": ") != 0 ||
	    jc_json_quote(j, len, t->access) != 0 ||
	    append(j, len, ", \"expiresAt\": ") != 0 ||
	    jc_json_quote(j, len, when) != 0)
		goto out;
	if (t->client_id != NULL && t->client_secret != NULL) {
		iso_time(when, sizeof(when), t->reg_expires);
		if (append(j, len, ", \"clientId\": ") != 0 ||
		    jc_json_quote(j, len, t->client_id) != 0 ||
		    append(j, len, ", \"clientSecret\": ") != 0 ||
		    jc_json_quote(j, len, t->client_secret) != 0 ||
		    append(j, len, ", \"registrationExpiresAt\": ") != 0 ||
		    jc_json_quote(j, len, when) != 0)
			goto out;
	}
	if (t->refresh != NULL &&
	    (append(j, len, ", \"refreshToken\": ") != 0 ||
	    jc_json_quote(j, len, t->refresh) != 0))
		goto out;
	if (append(j, len, "}") != 0)
		goto out;
	r = jc_aws_write_file(path, j);
 out:
	jc_wipe(j, len);
	free(j);
	return r;
}

/* ---- SSO OIDC and the portal ----------------------------------------- */

/*
 * One unsigned REST-JSON exchange with service ("sso-oidc" or "sso") in
 * region: method, path (and query), optional bearer header and body.
 * 0 with *status and the malloc'd *ans, or an error with err filled.
 */
static int
sso_http(const char *service, const char *region, const char *method,
    const char *path, const char *bearer, const char *body, long *status,
    char **ans, size_t *alen, struct jc_aws_error *err)
{
	struct jc_aws_http h;
	const char *hdr[3], *from;
	char url[1400], base[1024], why[512], *bh = NULL;
	size_t n = 0, bl;
	int r, retry;

	*ans = NULL;
	if (jc_aws_endpoint(service, region, jc_aws_setting(jc_aws_profile(),
	    "endpoint_url"), base, sizeof(base), &from) != 0)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "no usable %s endpoint for "
		    "sso_region %s", service, region);
	/* The endpoint ends in "/"; our paths start with one. */
	if ((bl = strlen(base)) > 0 && base[bl - 1] == '/')
		base[bl - 1] = '\0';
	snprintf(url, sizeof(url), "%s%s", base, path);
	jc_debug("SSO: %s %s%s (%s)", method, base,
	    strchr(path, '?') != NULL ? "/federation/credentials" : path,
	    from);
	hdr[n++] = "Content-Type: application/json";
	if (bearer != NULL) {
		bl = strlen(bearer) + sizeof("x-amz-sso_bearer_token: ");
		if ((bh = malloc(bl)) == NULL)
			return JC_ERR_NOMEM;
		snprintf(bh, bl, "x-amz-sso_bearer_token: %s", bearer);
		hdr[n++] = bh;
	}
	hdr[n] = NULL;
	memset(&h, 0, sizeof(h));
	h.method = method;
	h.url = url;
	h.headers = hdr;
	h.body = body;
	h.bodylen = body != NULL ? strlen(body) : 0;
	h.timeout_ms = CALL_MS;
	h.connect_ms = CONNECT_MS;
	r = jc_aws_http_do(&h, status, ans, alen, why, sizeof(why), &retry);
	jc_aws_wipe_free(bh);
	if (r == JC_ERR_NOMEM)
		return r;
	if (r != 0)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "cannot reach AWS SSO at "
		    "%.300s: %s", base, why);
	return 0;
}

/*
 * The error of an SSO answer.  SSO OIDC says it in OAuth words ("error":
 * "authorization_pending"), the portal in "__type"/"message"; the
 * x-amzn-ErrorType header says the same, so the body is enough.
 */
static void
sso_error(long status, const char *ans, size_t len, struct jc_aws_error *err)
{
	static const struct {
		const char *oauth, *code;
	} map[] = {
		{ "authorization_pending", "AuthorizationPendingException" },
		{ "slow_down", "SlowDownException" },
		{ "expired_token", "ExpiredTokenException" },
		{ "invalid_grant", "InvalidGrantException" },
		{ "invalid_client", "InvalidClientException" },
		{ "unauthorized_client", "UnauthorizedClientException" },
		{ "access_denied", "AccessDeniedException" },
		{ "invalid_request", "InvalidRequestException" },
		{ "invalid_scope", "InvalidScopeException" },
		{ "unsupported_grant_type", "UnsupportedGrantTypeException" },
	};
	const cJSON *e, *d;
	cJSON *o;
	size_t i;

	jc_aws_error_decode((int)status, ans, len, err);
	if (ans == NULL || (o = cJSON_ParseWithLength(ans, len)) == NULL)
		return;
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	d = cJSON_GetObjectItemCaseSensitive(o, "error_description");
	if (cJSON_IsString(e)) {
		snprintf(err->code, sizeof(err->code), "%s", e->valuestring);
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(e->valuestring, map[i].oauth) == 0)
				snprintf(err->code, sizeof(err->code), "%s",
				    map[i].code);
		snprintf(err->message, sizeof(err->message), "%s",
		    cJSON_IsString(d) ? d->valuestring : e->valuestring);
	}
	cJSON_Delete(o);
}

/* POST a JSON body to SSO OIDC; 0 with the parsed answer in *out. */
static int
oidc_call(const struct sso_cfg *s, const char *path, const char *body,
    cJSON **out, struct jc_aws_error *err)
{
	char *ans = NULL;
	size_t alen = 0;
	long status = 0;
	int r;

	*out = NULL;
	if ((r = sso_http("sso-oidc", s->region, "POST", path, NULL, body,
	    &status, &ans, &alen, err)) != 0)
		return r;
	if (status != 200) {
		sso_error(status, ans, alen, err);
		r = status >= 500 ? JC_ERR_AWS : JC_ERR_AWS_AUTH;
	} else if ((*out = cJSON_ParseWithLength(ans, alen)) == NULL)
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO OIDC answered %s with "
		    "something that is not JSON", path);
	if (ans != NULL) {
		jc_wipe(ans, alen);
		free(ans);
	}
	return r;
}

static void
json_wipe_delete(cJSON *o)
{
	cJSON *it;

	if (o == NULL)
		return;
	for (it = o->child; it != NULL; it = it->next)
		if (cJSON_IsString(it) && it->valuestring != NULL)
			jc_wipe(it->valuestring,
			    strlen(it->valuestring));
	cJSON_Delete(o);
}

/* A JSON object of string members: {"k": "v", ...}; NULL v skipped. */
static char *
json_body(const char *const *kv)
{
	char *j;
	size_t len = 16384;
	int first = 1;

	if ((j = calloc(1, len)) == NULL)
		return NULL;
	append(j, len, "{");
	for (; kv[0] != NULL; kv += 2) {
		if (kv[1] == NULL)
			continue;
		if ((!first && append(j, len, ", ") != 0) ||
		    jc_json_quote(j, len, kv[0]) != 0 ||
		    append(j, len, ": ") != 0 ||
		    jc_json_quote(j, len, kv[1]) != 0) {
			jc_wipe(j, len);
			free(j);
			return NULL;
		}
		first = 0;
	}
	append(j, len, "}");
	return j;
}

/* The answer of CreateToken -> t (access, refresh, expiry). */
static int
take_token(const cJSON *o, struct sso_tok *t)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "expiresIn");
	char *acc = NULL, *ref = NULL;
	int r;

	if ((r = json_str(o, "accessToken", &acc)) != 0 ||
	    !cJSON_IsNumber(in))
		return r == JC_ERR_NOMEM ? r : JC_ERR_PROTO;
	if (json_str(o, "refreshToken", &ref) == JC_ERR_NOMEM) {
		jc_aws_wipe_free(acc);
		return JC_ERR_NOMEM;
	}
	jc_aws_wipe_free(t->access);
	t->access = acc;
	if (ref != NULL) {
		jc_aws_wipe_free(t->refresh);
		t->refresh = ref;
	}
	t->expires = time(NULL) + (time_t)in->valuedouble;
	return 0;
}

/* CreateToken with the refresh token: 0, or why in err. */
static int
refresh(const struct sso_cfg *s, struct sso_tok *t, struct jc_aws_error *err)
{
	const char *kv[] = { "clientId", t->client_id, "clientSecret",
	    t->client_secret, "grantType", "refresh_token", "refreshToken",
	    t->refresh, NULL };
	cJSON *o = NULL;
	char *body;
	int r;

	if (t->refresh == NULL || t->client_id == NULL ||
	    t->client_secret == NULL)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "the cached token has no "
		    "refresh token");
	if (t->reg_expires != 0 && t->reg_expires <= time(NULL))
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "the client registration "
		    "of the cached token has expired");
	if ((body = json_body(kv)) == NULL)
		return JC_ERR_NOMEM;
	r = oidc_call(s, "/token", body, &o, err);
	jc_aws_wipe_free(body);
	if (r == 0 && (r = take_token(o, t)) == JC_ERR_PROTO)
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO OIDC CreateToken gave "
		    "no accessToken/expiresIn");
	json_wipe_delete(o);
	return r;
}

static int
need_login(const struct sso_cfg *s, struct jc_aws_error *err,
    const char *why)
{
	return jc_aws_fail(err, JC_ERR_AWS_AUTH, "the AWS SSO sign-in of profile %s "
	    "%s: run jconnect login --profile %s (or aws sso login --profile "
	    "%s)", s->profile, why, s->profile, s->profile);
}

/* A valid access token for s, from the cache, refreshed when due. */
static int
access_token(const struct sso_cfg *s, struct sso_tok *t,
    struct jc_aws_error *err)
{
	struct sso_tok other;
	char key[41], path[1100], why[600];
	int r;

	memset(&other, 0, sizeof(other));
	if (jc_aws_sso_token_key(s->session, s->start_url, key) != 0 ||
	    cache_path(key, path, sizeof(path), 0) != 0)
		return jc_aws_fail(err, JC_ERR_IO, "cannot name the SSO token cache");
	if ((r = tok_load(path, t)) == JC_ERR_NOTFOUND)
		return need_login(s, err, "has no cached token");
	if (r == JC_ERR_NOMEM)
		return r;
	if (r != 0)
		return need_login(s, err, "has an unreadable token cache");
	jc_verbose("AWS SSO: cached token of %s %s", s->session != NULL ?
	    "sso-session" : "start URL", s->session != NULL ? s->session :
	    s->start_url);
	if (t->expires - time(NULL) >= REFRESH_WINDOW_S)
		return 0;
	if ((r = refresh(s, t, err)) != 0) {
		if (r == JC_ERR_NOMEM || r == JC_ERR_INTR)
			return r;
		/* Another process (the AWS CLI, a second tunnel) may have
		 * used the refresh token first: take what it cached. */
		tok_clear(&other);
		if (tok_load(path, &other) == 0 &&
		    other.expires - time(NULL) >= REFRESH_WINDOW_S) {
			jc_verbose("AWS SSO: the token was renewed by another "
			    "program");
			tok_clear(t);
			*t = other;
			return 0;
		}
		tok_clear(&other);
		snprintf(why, sizeof(why), "%s", err->code[0] != '\0' ?
		    err->code : err->message);
		/* Still valid for a while: use it, as botocore does. */
		if (t->expires > time(NULL)) {
			jc_verbose("AWS SSO: cannot refresh the token (%s); "
			    "using it until it expires", why);
			return 0;
		}
		jc_verbose("AWS SSO: token refresh failed: %s", why);
		return need_login(s, err, "has expired and cannot be renewed");
	}
	/* The CLI keeps these; a legacy token may lack them. */
	if (t->start_url == NULL && (t->start_url = strdup(s->start_url)) ==
	    NULL)
		return JC_ERR_NOMEM;
	if (t->region == NULL && (t->region = strdup(s->region)) == NULL)
		return JC_ERR_NOMEM;
	if (cache_path(key, path, sizeof(path), 1) != 0 ||
	    tok_write(path, t) != 0)
		jc_warn("cannot write the renewed AWS SSO token to %s: %s",
		    path, strerror(errno));
	else
		jc_verbose("AWS SSO: token renewed and cached");
	return 0;
}

int
jc_aws_sso_creds(const char *profile, struct jc_aws_creds *c,
    struct jc_aws_error *err)
{
	struct sso_cfg s;
	struct sso_tok t;
	const cJSON *rc, *exp;
	cJSON *o = NULL;
	char path[1024], acc[128], role[256], *ans = NULL;
	size_t alen = 0;
	long status = 0;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = sso_config(profile, &s, err)) != 0)
		return r;
	if (s.account == NULL || s.role == NULL)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "SSO profile %s needs "
		    "sso_account_id and sso_role_name", profile);
	if ((r = access_token(&s, &t, err)) != 0)
		goto out;
	if (jc_aws_form_escape(role, sizeof(role), s.role) != 0 ||
	    jc_aws_form_escape(acc, sizeof(acc), s.account) != 0) {
		r = jc_aws_fail(err, JC_ERR_USAGE, "sso_role_name or sso_account_id "
		    "of profile %s is too long", profile);
		goto out;
	}
	snprintf(path, sizeof(path), "/federation/credentials?role_name=%s&"
	    "account_id=%s", role, acc);
	if ((r = sso_http("sso", s.region, "GET", path, t.access, NULL,
	    &status, &ans, &alen, err)) != 0)
		goto out;
	if (status == 401 || status == 403) {
		sso_error(status, ans, alen, err);
		jc_verbose("AWS SSO GetRoleCredentials: %s: %s", err->code,
		    err->message);
		if (status == 401)
			r = need_login(&s, err, "is no longer accepted");
		else
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO refuses role "
			    "%s in account %s to this sign-in (%s): check "
			    "sso_role_name and sso_account_id of profile %s",
			    s.role, s.account, err->message, profile);
		goto out;
	}
	if (status != 200) {
		sso_error(status, ans, alen, err);
		r = jc_aws_error_class(err);
		goto out;
	}
	if ((o = cJSON_ParseWithLength(ans, alen)) == NULL ||
	    (rc = cJSON_GetObjectItemCaseSensitive(o,
	    "roleCredentials")) == NULL) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO GetRoleCredentials "
		    "gave no roleCredentials");
		goto out;
	}
	jc_aws_creds_clear(c);
	if (json_str(rc, "accessKeyId", &c->akid) != 0 ||
	    json_str(rc, "secretAccessKey", &c->secret) != 0 ||
	    json_str(rc, "sessionToken", &c->token) != 0) {
		jc_aws_creds_clear(c);
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO GetRoleCredentials "
		    "gave incomplete roleCredentials");
		goto out;
	}
	exp = cJSON_GetObjectItemCaseSensitive(rc, "expiration");
	if (cJSON_IsNumber(exp))	/* milliseconds since the epoch */
		c->expires = (time_t)(exp->valuedouble / 1000);
	snprintf(c->source, sizeof(c->source), "AWS SSO (profile %s, role %s "
	    "in account %s)", profile, s.role, s.account);
	r = 0;
 out:
	if (ans != NULL) {
		jc_wipe(ans, alen);
		free(ans);
	}
	json_wipe_delete(o);
	tok_clear(&t);
	return r;
}

/* ---- jconnect login ---------------------------------------------------- */

struct reg {
	char	*id, *secret;
	time_t	 expires;
};

static void
reg_clear(struct reg *g)
{
	jc_aws_wipe_free(g->id);
	jc_aws_wipe_free(g->secret);
	memset(g, 0, sizeof(*g));
}

/* The cached client registration, or RegisterClient (then cached). */
static int
registration(const struct sso_cfg *s, struct reg *g, int force,
    struct jc_aws_error *err)
{
	char key[41], path[1100], name[160], *buf = NULL, *body, *j;
	const char *kv[] = { "clientName", name, "clientType", "public",
	    NULL };
	const cJSON *exp;
	cJSON *o = NULL;
	size_t len = 8192;
	int r;

	memset(g, 0, sizeof(*g));
	if (jc_aws_sso_registration_key(s->start_url, s->region,
	    s->session != NULL ? s->scopes : NULL, s->session, key) != 0 ||
	    cache_path(key, path, sizeof(path), 1) != 0)
		return jc_aws_fail(err, JC_ERR_IO, "cannot create %s/.aws/sso/cache",
		    jc_aws_home());
	if (!force && read_small(path, &buf) == 0) {
		o = cJSON_Parse(buf);
		jc_aws_wipe_free(buf);
		if (o != NULL && json_str(o, "clientId", &g->id) == 0 &&
		    json_str(o, "clientSecret", &g->secret) == 0 &&
		    json_time(o, "expiresAt", &g->expires) == 0 &&
		    g->expires - time(NULL) >= REFRESH_WINDOW_S) {
			json_wipe_delete(o);
			jc_verbose("AWS SSO: cached client registration");
			return 0;
		}
		json_wipe_delete(o);
		o = NULL;
		reg_clear(g);
	}
	if (s->session != NULL)
		snprintf(name, sizeof(name), "jconnect-%s", s->session);
	else
		snprintf(name, sizeof(name), "jconnect-%lld",
		    (long long)time(NULL));
	if ((body = json_body(kv)) == NULL)
		return JC_ERR_NOMEM;
	/* Scopes are a list: add them by hand before the closing brace. */
	if (s->session != NULL && s->scopes != NULL) {
		body[strlen(body) - 1] = '\0';
		if (append(body, 16384, ", \"scopes\": ") != 0 ||
		    scopes_json(body, 16384, s->scopes) != 0 ||
		    append(body, 16384, "}") != 0) {
			jc_aws_wipe_free(body);
			return jc_aws_fail(err, JC_ERR_USAGE, "sso_registration_scopes "
			    "too long");
		}
	}
	r = oidc_call(s, "/client/register", body, &o, err);
	jc_aws_wipe_free(body);
	if (r != 0)
		return r;
	exp = cJSON_GetObjectItemCaseSensitive(o, "clientSecretExpiresAt");
	if (json_str(o, "clientId", &g->id) != 0 ||
	    json_str(o, "clientSecret", &g->secret) != 0 ||
	    !cJSON_IsNumber(exp)) {
		json_wipe_delete(o);
		reg_clear(g);
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO OIDC RegisterClient "
		    "gave no client");
	}
	g->expires = (time_t)exp->valuedouble;
	json_wipe_delete(o);
	if ((j = calloc(1, len)) == NULL)
		return JC_ERR_NOMEM;
	iso_time(name, sizeof(name), g->expires);
	if (append(j, len, "{\"clientId\": ") == 0 &&
	    jc_json_quote(j, len, g->id) == 0 &&
	    append(j, len, ", \"clientSecret\": ") == 0 &&
	    jc_json_quote(j, len, g->secret) == 0 &&
	    append(j, len, ", \"expiresAt\": ") == 0 &&
	    jc_json_quote(j, len, name) == 0 &&
	    (s->session == NULL || s->scopes == NULL ||
	    (append(j, len, ", \"scopes\": ") == 0 &&
	    scopes_json(j, len, s->scopes) == 0)) &&
	    append(j, len, "}") == 0 && jc_aws_write_file(path, j) == 0)
		jc_verbose("AWS SSO: client registered and cached");
	else
		jc_warn("cannot cache the AWS SSO client registration in %s",
		    path);
	jc_wipe(j, len);
	free(j);
	return 0;
}

struct device {
	char	*code, *user_code, *uri, *uri_complete;
	time_t	 expires;
	int	 interval;
};

static void
device_clear(struct device *d)
{
	jc_aws_wipe_free(d->code);
	jc_aws_wipe_free(d->user_code);
	free(d->uri);
	jc_aws_wipe_free(d->uri_complete);
	memset(d, 0, sizeof(*d));
}

static int
start_device(const struct sso_cfg *s, const struct reg *g, struct device *d,
    struct jc_aws_error *err)
{
	const char *kv[] = { "clientId", g->id, "clientSecret", g->secret,
	    "startUrl", s->start_url, NULL };
	const cJSON *in, *iv;
	cJSON *o = NULL;
	char *body;
	int r;

	memset(d, 0, sizeof(*d));
	if ((body = json_body(kv)) == NULL)
		return JC_ERR_NOMEM;
	r = oidc_call(s, "/device_authorization", body, &o, err);
	jc_aws_wipe_free(body);
	if (r != 0)
		return r;
	in = cJSON_GetObjectItemCaseSensitive(o, "expiresIn");
	iv = cJSON_GetObjectItemCaseSensitive(o, "interval");
	if (json_str(o, "deviceCode", &d->code) != 0 ||
	    json_str(o, "userCode", &d->user_code) != 0 ||
	    json_str(o, "verificationUri", &d->uri) != 0 ||
	    json_str(o, "verificationUriComplete", &d->uri_complete) != 0 ||
	    !cJSON_IsNumber(in)) {
		json_wipe_delete(o);
		device_clear(d);
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO OIDC "
		    "StartDeviceAuthorization gave an incomplete answer");
	}
	d->expires = time(NULL) + (time_t)in->valuedouble;
	d->interval = cJSON_IsNumber(iv) && iv->valuedouble >= 1 &&
	    iv->valuedouble <= 60 ? (int)iv->valuedouble : DEFAULT_INTERVAL_S;
	json_wipe_delete(o);
	return 0;
}

/* Poll CreateToken at the interval the service asks for. */
static int
poll_token(const struct sso_cfg *s, const struct reg *g,
    const struct device *d, struct sso_tok *t, struct jc_aws_error *err)
{
	const char *kv[] = { "clientId", g->id, "clientSecret", g->secret,
	    "deviceCode", d->code, "grantType", DEVICE_GRANT, NULL };
	cJSON *o = NULL;
	char *body;
	int r, interval = d->interval;

	if ((body = json_body(kv)) == NULL)
		return JC_ERR_NOMEM;
	for (;;) {
		r = oidc_call(s, "/token", body, &o, err);
		if (r == 0)
			break;
		if (strcmp(err->code, "SlowDownException") == 0) {
			interval += SLOW_DOWN_S;
			jc_verbose("AWS SSO asks to poll slower: every %d s",
			    interval);
		} else if (strcmp(err->code,
		    "AuthorizationPendingException") != 0) {
			if (strcmp(err->code, "ExpiredTokenException") == 0)
				r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the sign-in "
				    "code expired before it was approved: run "
				    "jconnect login --profile %s again",
				    s->profile);
			else if (strcmp(err->code,
			    "AccessDeniedException") == 0)
				r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the sign-in "
				    "was denied in the browser");
			goto out;
		}
		/*
		 * The service has the last word on expiry (its clock started
		 * first); this guard only ends a poll it never ends itself.
		 */
		if (time(NULL) > d->expires + 2 * interval) {
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the sign-in code "
			    "expired before it was approved: run jconnect "
			    "login --profile %s again", s->profile);
			goto out;
		}
		if (jc_loop_run(NULL, interval * 1000) == JC_ERR_INTR) {
			r = JC_ERR_INTR;
			goto out;
		}
	}
	if ((r = take_token(o, t)) == JC_ERR_PROTO)
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "AWS SSO OIDC CreateToken gave "
		    "no accessToken/expiresIn");
 out:
	json_wipe_delete(o);
	jc_aws_wipe_free(body);
	return r;
}

int
jc_aws_sso_login(const char *profile, int no_browser)
{
	struct jc_aws_error err;
	struct sso_cfg s;
	struct sso_tok t;
	struct device d;
	struct reg g;
	char key[41], path[1100], page[160];
	int r;

	memset(&t, 0, sizeof(t));
	memset(&d, 0, sizeof(d));
	memset(&g, 0, sizeof(g));
	if ((r = sso_config(profile, &s, &err)) == JC_ERR_NOTFOUND) {
		jc_error("profile %s is not an AWS SSO profile: give it "
		    "sso_session (with an [sso-session NAME] section) or "
		    "sso_start_url and sso_region in %s", profile,
		    jc_aws_config_path());
		return JC_ERR_USAGE;
	}
	if (r != 0)
		goto fail;
	if ((r = registration(&s, &g, 0, &err)) != 0)
		goto fail;
	if ((r = start_device(&s, &g, &d, &err)) != 0 &&
	    strcmp(err.code, "InvalidClientException") == 0) {
		/* A cached registration the service no longer knows. */
		jc_verbose("AWS SSO: the cached client registration was "
		    "refused; registering again");
		reg_clear(&g);
		if ((r = registration(&s, &g, 1, &err)) == 0)
			r = start_device(&s, &g, &d, &err);
	}
	if (r != 0)
		goto fail;
	fprintf(stderr, "Sign in to AWS (profile %s) at:\n  %s\n"
	    "and check that the page shows the code:\n  %s\n", profile,
	    d.uri, d.user_code);
	snprintf(page, sizeof(page), "login-%s", profile);
	for (char *p = page; *p != '\0'; p++)
		if (*p == '/' || *p == '.')
			*p = '_';
	if (!no_browser && jc_browser_open(page, d.uri_complete) != 0)
		fprintf(stderr, "Could not open a browser; open the address "
		    "above and enter the code.\n");
	fprintf(stderr, "Waiting for the sign-in to be approved...\n");
	r = poll_token(&s, &g, &d, &t, &err);
	if (!no_browser)
		jc_state_unlink(page, ".html");
	if (r != 0)
		goto fail;
	t.reg_expires = g.expires;
	if ((t.start_url = strdup(s.start_url)) == NULL ||
	    (t.region = strdup(s.region)) == NULL ||
	    (t.client_id = strdup(g.id)) == NULL ||
	    (t.client_secret = strdup(g.secret)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	if (jc_aws_sso_token_key(s.session, s.start_url, key) != 0 ||
	    cache_path(key, path, sizeof(path), 1) != 0 ||
	    tok_write(path, &t) != 0) {
		jc_error("cannot write the AWS SSO token to %s: %s", path,
		    strerror(errno));
		r = JC_ERR_IO;
		goto out;
	}
	jc_info("signed in to AWS SSO for profile %s; the token is cached "
	    "in %s", profile, path);
	r = 0;
	goto out;
 fail:
	if (r != JC_ERR_INTR && r != JC_ERR_NOMEM)
		jc_error("%s", err.code[0] != '\0' && strstr(err.message,
		    err.code) == NULL ? jc_aws_explain(&err) : err.message);
 out:
	tok_clear(&t);
	device_clear(&d);
	reg_clear(&g);
	return r;
}
