/*
 * aws_parse.c - AWS error shapes, credential JSON, ini files and endpoint
 * overrides into structs (the answers of the service calls are read in
 * aws_answer.c).  Everything the network hands us passes
 * through here, so every copy is bounded and control bytes are dropped
 * from text that ends up in messages.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws_parse.h"
#include "compat.h"
#include "log.h"

/*
 * Copy at most len-1 bytes of s into dst, cut at a whole character;
 * control characters (C0, DEL, C1) and bytes that are not UTF-8 become
 * spaces, so names and messages from AWS are safe to print.
 */
void
jc_aws_copy_clean(char *dst, size_t len, const char *s)
{
	size_t i = 0, o = 0, l;

	if (len == 0)
		return;
	if (s == NULL)
		s = "";
	while (s[i] != '\0') {
		if ((l = jc_log_utf8len(s + i)) == 0) {
			/* A C1 control is two bytes: one space for both. */
			l = (unsigned char)s[i] == 0xc2 &&
			    (unsigned char)s[i + 1] >= 0x80 &&
			    (unsigned char)s[i + 1] <= 0x9f ? 2 : 1;
			if (o + 1 >= len)
				break;
			dst[o++] = ' ';
		} else {
			if (o + l >= len)
				break;
			memcpy(dst + o, s + i, l);
			o += l;
		}
		i += l;
	}
	dst[o] = '\0';
}

/* ---- errors ---------------------------------------------------------- */

static int
skip_ws(const char *body, size_t len, size_t *i)
{
	while (*i < len && isspace((unsigned char)body[*i]))
		(*i)++;
	return *i < len;
}

static void
decode_json(const char *body, size_t len, struct jc_aws_error *err)
{
	const cJSON *t, *m;
	cJSON *j;
	const char *code, *p;
	char tmp[sizeof(err->code)];

	if ((j = cJSON_ParseWithLength(body, len)) == NULL)
		return;
	t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	if (!cJSON_IsString(t))
		t = cJSON_GetObjectItemCaseSensitive(j, "code");
	if (cJSON_IsString(t)) {
		code = t->valuestring;
		/* "com.amazonaws.ssm#TargetNotConnected" -> after '#'. */
		if ((p = strrchr(code, '#')) != NULL)
			code = p + 1;
		jc_aws_copy_clean(tmp, sizeof(tmp), code);
		/* rest-json style "Code:http://..." -> before ':'. */
		if ((p = strchr(tmp, ':')) != NULL)
			tmp[p - tmp] = '\0';
		jc_aws_copy_clean(err->code, sizeof(err->code), tmp);
	}
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(j, "Message");
	if (cJSON_IsString(m))
		jc_aws_copy_clean(err->message, sizeof(err->message), m->valuestring);
	cJSON_Delete(j);
}

static void
decode_xml(const char *body, size_t len, struct jc_aws_error *err)
{
	struct jc_xml *root = NULL;
	const struct jc_xml *e;

	if (jc_xml_parse(body, len, &root) != 0)
		return;
	/* Query: ErrorResponse/Error; EC2: Response/Errors/Error. */
	if (strcmp(root->name, "Error") == 0)
		e = root;
	else
		e = jc_xml_find(root, "Error");
	if (e != NULL) {
		jc_aws_copy_clean(err->code, sizeof(err->code),
		    jc_xml_text(e, "Code"));
		jc_aws_copy_clean(err->message, sizeof(err->message),
		    jc_xml_text(e, "Message"));
	}
	jc_xml_free(root);
}

void
jc_aws_error_decode(int http_status, const char *body, size_t len,
    struct jc_aws_error *err)
{
	size_t i = 0;

	memset(err, 0, sizeof(*err));
	err->http_status = http_status;
	if (body != NULL && skip_ws(body, len, &i)) {
		if (body[i] == '{')
			decode_json(body + i, len - i, err);
		else if (body[i] == '<')
			decode_xml(body + i, len - i, err);
	}
	if (err->message[0] == '\0') {
		if (err->code[0] != '\0')
			snprintf(err->message, sizeof(err->message),
			    "%s (HTTP %d)", err->code, http_status);
		else
			snprintf(err->message, sizeof(err->message),
			    "HTTP %d with no AWS error in the answer",
			    http_status);
	}
}

static int
code_in(const char *code, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

static const char *const auth_codes[] = {
	"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
	"UnauthorizedException", "UnrecognizedClientException",
	"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
	"RequestExpired", "SignatureDoesNotMatch", "InvalidSignatureException",
	"AuthFailure", "MissingAuthenticationToken",
	"MissingAuthenticationTokenException", "IncompleteSignature",
	"IncompleteSignatureException", "InvalidAccessKeyId", "OptInRequired",
	"NotAuthorized", "InvalidToken", NULL
};

static const char *const unreachable_codes[] = {
	"TargetNotConnected", "IncorrectInstanceState",
	"EC2InstanceStateInvalidException", "EC2InstanceUnavailableException",
	"InvalidInstanceId", NULL
};

static const char *const notfound_codes[] = {
	"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed",
	"DoesNotExistException", "EC2InstanceNotFoundException",
	"ResourceNotFoundException", "InvalidTarget", NULL
};

static const char *const retry_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "RequestThrottled", "SlowDown",
	"PriorRequestNotComplete", "EC2ThrottledException",
	"TransactionInProgressException", "InternalError", "InternalFailure",
	"InternalServerError", "ServiceUnavailable",
	"ServiceUnavailableException",
	"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
	NULL
};

int
jc_aws_error_class(const struct jc_aws_error *err)
{
	if (code_in(err->code, auth_codes))
		return JC_ERR_AWS_AUTH;
	if (code_in(err->code, unreachable_codes))
		return JC_ERR_UNREACHABLE;
	if (code_in(err->code, notfound_codes))
		return JC_ERR_NOTFOUND;
	if (strcmp(err->code, "ValidationError") == 0 &&
	    strstr(err->message, "does not exist") != NULL)
		return JC_ERR_NOTFOUND;
	if (err->code[0] == '\0' && (err->http_status == 401 ||
	    err->http_status == 403))
		return JC_ERR_AWS_AUTH;
	return JC_ERR_AWS;
}

int
jc_aws_error_retryable(const struct jc_aws_error *err)
{
	if (code_in(err->code, retry_codes))
		return 1;
	if (err->code[0] == '\0' || !code_in(err->code, auth_codes))
		return err->http_status >= 500 && err->http_status != 501;
	return 0;
}

int
jc_aws_denied_action(const char *message, char *buf, size_t len)
{
	static const char *const marks[] = { "perform: ", "perform ", NULL };
	const char *p = NULL, *s;
	size_t i, n;

	for (i = 0; marks[i] != NULL && p == NULL; i++)
		if ((p = strstr(message, marks[i])) != NULL)
			p += strlen(marks[i]);
	if (p == NULL)
		return JC_ERR_NOTFOUND;
	/* service:Action, e.g. ec2-instance-connect:SendSSHPublicKey */
	for (s = p; isalnum((unsigned char)*s) || *s == '-'; s++)
		;
	if (s == p || *s != ':')
		return JC_ERR_NOTFOUND;
	for (s++; isalnum((unsigned char)*s) || *s == '*'; s++)
		;
	n = (size_t)(s - p);
	if (s[-1] == ':' || n + 1 > len)
		return JC_ERR_NOTFOUND;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

/* ---- JSON ------------------------------------------------------------ */

const char *
jc_aws_json_str(const struct cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- credentials ----------------------------------------------------- */

void
jc_aws_wipe_free(char *s)
{
	if (s == NULL)
		return;
	jc_wipe(s, strlen(s));
	free(s);
}

void
jc_aws_creds_clear(struct jc_aws_creds *c)
{
	if (c == NULL)
		return;
	jc_aws_wipe_free(c->akid);
	jc_aws_wipe_free(c->secret);
	jc_aws_wipe_free(c->token);
	memset(c, 0, sizeof(*c));
}

/* Only printable ASCII without spaces: keys and tokens go in headers. */
static int
header_safe(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
set_creds(struct jc_aws_creds *c, const char *akid, const char *secret,
    const char *token, const char *exp, char *why, size_t whylen)
{
	struct jc_aws_creds n;

	memset(&n, 0, sizeof(n));
	if (akid == NULL || secret == NULL || !header_safe(akid) ||
	    !header_safe(secret) || (token != NULL && *token != '\0' &&
	    !header_safe(token))) {
		snprintf(why, whylen, "the access key id or secret is missing "
		    "or not a plain string");
		return JC_ERR_AWS_AUTH;
	}
	if (exp != NULL && *exp != '\0' &&
	    jc_aws_time_parse(exp, &n.expires) != 0) {
		snprintf(why, whylen, "Expiration is not an ISO 8601 time");
		return JC_ERR_AWS_AUTH;
	}
	if ((n.akid = strdup(akid)) == NULL ||
	    (n.secret = strdup(secret)) == NULL ||
	    (token != NULL && *token != '\0' &&
	    (n.token = strdup(token)) == NULL)) {
		jc_aws_creds_clear(&n);
		return JC_ERR_NOMEM;
	}
	jc_aws_creds_clear(c);
	*c = n;
	return 0;
}

int
jc_aws_creds_json(const char *json, size_t len, int kind,
    struct jc_aws_creds *c, char *why, size_t whylen)
{
	const cJSON *v;
	const char *code;
	cJSON *j;
	int r = JC_ERR_AWS_AUTH;

	if (whylen > 0)
		*why = '\0';
	if ((j = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsObject(j)) {
		snprintf(why, whylen, "the output is not a JSON object");
		goto out;
	}
	if (kind == JC_CREDS_PROCESS) {
		v = cJSON_GetObjectItemCaseSensitive(j, "Version");
		if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
			snprintf(why, whylen, "\"Version\" must be 1");
			goto out;
		}
		r = set_creds(c, jc_aws_json_str(j, "AccessKeyId"),
		    jc_aws_json_str(j, "SecretAccessKey"), jc_aws_json_str(j, "SessionToken"),
		    jc_aws_json_str(j, "Expiration"), why, whylen);
	} else if (kind == JC_CREDS_IMDS) {
		if ((code = jc_aws_json_str(j, "Code")) == NULL ||
		    strcmp(code, "Success") != 0) {
			snprintf(why, whylen, "the instance metadata service "
			    "answered Code %.64s", code ? code : "(none)");
			goto out;
		}
		r = set_creds(c, jc_aws_json_str(j, "AccessKeyId"),
		    jc_aws_json_str(j, "SecretAccessKey"), jc_aws_json_str(j, "Token"),
		    jc_aws_json_str(j, "Expiration"), why, whylen);
	} else
		r = JC_ERR_INTERNAL;
 out:
	if (j != NULL) {
		/* The parsed tree holds the secrets too. */
		cJSON_ArrayForEach(v, j)
			if (cJSON_IsString(v))
				jc_wipe(v->valuestring,
				    strlen(v->valuestring));
		cJSON_Delete(j);
	}
	return r;
}

int
jc_aws_creds_sts(const struct jc_xml *root, struct jc_aws_creds *c)
{
	const struct jc_xml *cr;
	char why[128];

	if (root == NULL || strcmp(root->name, "AssumeRoleResponse") != 0 ||
	    (cr = jc_xml_path(root, "AssumeRoleResult/Credentials")) == NULL)
		return JC_ERR_PROTO;
	if (set_creds(c, jc_xml_text(cr, "AccessKeyId"),
	    jc_xml_text(cr, "SecretAccessKey"), jc_xml_text(cr, "SessionToken"),
	    jc_xml_text(cr, "Expiration"), why, sizeof(why)) != 0)
		return JC_ERR_PROTO;
	return 0;
}

int
jc_aws_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	long off = 0;
	const char *p;
	time_t v;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	    &n) != 6 || n != 19)
		return JC_ERR_PROTO;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    h < 0 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return JC_ERR_PROTO;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 ||
		    oh > 23 || om > 59 || oh < 0 || om < 0)
			return JC_ERR_PROTO;
		off = (oh * 60L + om) * 60L * (*p == '+' ? 1 : -1);
		p += 6;
	}
	if (*p != '\0')
		return JC_ERR_PROTO;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((v = timegm(&tm)) == (time_t)-1)
		return JC_ERR_PROTO;
	*t = v - off;
	return 0;
}

/* ---- ini files ------------------------------------------------------- */

#define INI_MAX		(1u << 20)

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
ini_add(struct jc_aws_ini *ini, const char *sec, const char *key,
    const char *val)
{
	struct jc_aws_ini_ent *e;
	size_t cap;

	if (ini->n == ini->cap) {
		cap = ini->cap ? ini->cap * 2 : 16;
		if ((e = jc_reallocarray(ini->ent, cap, sizeof(*e))) == NULL)
			return JC_ERR_NOMEM;
		ini->ent = e;
		ini->cap = cap;
	}
	ini->ent[ini->n].section = sec;
	ini->ent[ini->n].key = key;
	ini->ent[ini->n].value = val;
	ini->n++;
	return 0;
}

struct jc_aws_ini *
jc_aws_ini_parse(const char *text, size_t len)
{
	struct jc_aws_ini *ini;
	char *line, *next, *p, *eq, *key, *sec = NULL, *q;

	if ((ini = calloc(1, sizeof(*ini))) == NULL)
		return NULL;
	if (len > INI_MAX)
		len = INI_MAX;
	if ((ini->text = malloc(len + 1)) == NULL) {
		free(ini);
		return NULL;
	}
	memcpy(ini->text, text, len);
	ini->text[len] = '\0';
	ini->textlen = len;
	for (line = ini->text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* Indented: a sub-section value (s3 = ...); not ours. */
		if (*line == ' ' || *line == '\t')
			continue;
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			if ((q = strrchr(p, ']')) == NULL) {
				sec = NULL;
				continue;
			}
			*q = '\0';
			sec = trim(p + 1);
			/* "profile   dev" -> "profile dev" */
			if (strncmp(sec, "profile", 7) == 0 &&
			    (sec[7] == ' ' || sec[7] == '\t')) {
				q = trim(sec + 8);
				memmove(sec + 8, q, strlen(q) + 1);
				sec[7] = ' ';
			}
			/* A marker entry, so an empty section exists. */
			if (ini_add(ini, sec, "", "") != 0) {
				jc_aws_ini_free(ini);
				return NULL;
			}
			continue;
		}
		if (sec == NULL || (eq = strpbrk(p, "=:")) == NULL)
			continue;
		*eq = '\0';
		key = trim(p);
		if (*key == '\0')
			continue;
		for (q = key; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if (ini_add(ini, sec, key, trim(eq + 1)) != 0) {
			jc_aws_ini_free(ini);
			return NULL;
		}
	}
	return ini;
}

void
jc_aws_ini_free(struct jc_aws_ini *ini)
{
	if (ini == NULL)
		return;
	jc_wipe(ini->text, ini->textlen);
	free(ini->text);
	free(ini->ent);
	free(ini);
}

const char *
jc_aws_ini_get(const struct jc_aws_ini *ini, const char *section,
    const char *key)
{
	size_t i;

	if (ini == NULL)
		return NULL;
	/* The last one wins, as when a file repeats a key. */
	for (i = ini->n; i-- > 0; )
		if (strcmp(ini->ent[i].section, section) == 0 &&
		    strcasecmp(ini->ent[i].key, key) == 0)
			return ini->ent[i].value;
	return NULL;
}

int
jc_aws_ini_has(const struct jc_aws_ini *ini, const char *section)
{
	size_t i;

	if (ini == NULL)
		return 0;
	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->ent[i].section, section) == 0)
			return 1;
	return 0;
}

static const char *
config_get(const struct jc_aws_ini *config, const char *profile,
    const char *key)
{
	char sec[256];
	const char *v;

	if (strcmp(profile, "default") == 0 &&
	    (v = jc_aws_ini_get(config, "default", key)) != NULL)
		return v;
	snprintf(sec, sizeof(sec), "profile %s", profile);
	return jc_aws_ini_get(config, sec, key);
}

const char *
jc_aws_profile_get(const struct jc_aws_ini *creds,
    const struct jc_aws_ini *config, const char *profile, const char *key)
{
	const char *v;

	if ((v = jc_aws_ini_get(creds, profile, key)) != NULL)
		return v;
	return config_get(config, profile, key);
}

int
jc_aws_profile_exists(const struct jc_aws_ini *creds,
    const struct jc_aws_ini *config, const char *profile)
{
	char sec[256];

	snprintf(sec, sizeof(sec), "profile %s", profile);
	return jc_aws_ini_has(creds, profile) || jc_aws_ini_has(config, sec) ||
	    (strcmp(profile, "default") == 0 &&
	    jc_aws_ini_has(config, "default"));
}

/* ---- endpoints ------------------------------------------------------- */

static const struct {
	const char	*service;	/* signing name and our key */
	const char	*env;		/* AWS_ENDPOINT_URL_<env> */
	const char	*host;		/* host prefix */
} services[] = {
	{ "ec2",			"EC2",			"ec2" },
	{ "cloudformation",		"CLOUDFORMATION",
	  "cloudformation" },
	{ "ssm",			"SSM",			"ssm" },
	{ "ec2-instance-connect",	"EC2_INSTANCE_CONNECT",
	  "ec2-instance-connect" },
	{ "sts",			"STS",			"sts" },
	{ "autoscaling",		"AUTO_SCALING",		"autoscaling" },
	/* IAM Identity Center: the portal and its OIDC service. */
	{ "sso",			"SSO",			"portal.sso" },
	{ "sso-oidc",			"SSO_OIDC",		"oidc" },
};

static int
url_ok(const char *u)
{
	size_t i;

	if (strncasecmp(u, "https://", 8) != 0 &&
	    strncasecmp(u, "http://", 7) != 0)
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

int
jc_aws_endpoint(const char *service, const char *region,
    const char *profile_url, char *url, size_t len, const char **from)
{
	static char envname[64];
	const char *v, *ign, *p;
	size_t i;
	int n;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i].service, service) == 0)
			break;
	if (i == sizeof(services) / sizeof(services[0]))
		return JC_ERR_USAGE;
	ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (ign == NULL || strcasecmp(ign, "true") != 0) {
		snprintf(envname, sizeof(envname), "AWS_ENDPOINT_URL_%s",
		    services[i].env);
		v = getenv(envname);
		*from = envname;
		if (v == NULL || *v == '\0') {
			v = getenv("AWS_ENDPOINT_URL");
			*from = "AWS_ENDPOINT_URL";
		}
		if (v == NULL || *v == '\0') {
			v = profile_url;
			*from = "the profile's endpoint_url";
		}
		if (v != NULL && *v != '\0') {
			if (!url_ok(v))
				return JC_ERR_USAGE;
			/* A bare origin gets the "/" path the API uses. */
			p = strchr(v + (v[4] == 's' || v[4] == 'S' ? 8 : 7),
			    '/');
			n = snprintf(url, len, "%s%s", v, p == NULL ? "/" : "");
			return n < 0 || (size_t)n >= len ? JC_ERR_USAGE : 0;
		}
	}
	if (region == NULL || *region == '\0')
		return JC_ERR_USAGE;
	for (p = region; *p != '\0'; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '-')
			return JC_ERR_USAGE;
	*from = "default";
	n = snprintf(url, len, "https://%s.%s.amazonaws.com%s/",
	    services[i].host, region,
	    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	return n < 0 || (size_t)n >= len ? JC_ERR_USAGE : 0;
}

int
jc_aws_form_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.' || *s == '~') {
			if (o + 1 >= len)
				return JC_ERR_USAGE;
			dst[o++] = (char)*s;
		} else {
			if (o + 3 >= len)
				return JC_ERR_USAGE;
			dst[o++] = '%';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 15];
		}
	}
	if (o >= len)
		return JC_ERR_USAGE;
	dst[o] = '\0';
	return 0;
}
