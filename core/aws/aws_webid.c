/*
 * aws_webid.c - two credential sources of workloads: a web identity
 * token (EKS service accounts, CI systems' OIDC tokens) traded with STS
 * AssumeRoleWithWebIdentity, and the container credentials endpoint of
 * ECS, Fargate and EKS Pod Identity.
 *
 * AssumeRoleWithWebIdentity is not signed: the token is the proof.  The
 * container endpoint is plain HTTP, so a FULL_URI is only accepted for
 * the hosts the SDKs accept (the container agent's link-local addresses
 * and loopback): the authorization token must not travel anywhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "aws_int.h"
#include "aws_parse.h"
#include "aws_webid.h"
#include "compat.h"
#include "log.h"

#define TOKEN_MAX	(64u << 10)
#define CALL_MS		30000L
#define CONNECT_MS	10000L
#define ECS_HOST	"http://169.254.170.2"

/* A small secret file, trailing blanks and newlines cut; malloc'd. */
static int
read_token(const char *path, char **out, char *why, size_t whylen)
{
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	if ((r = jc_aws_read_file(path, TOKEN_MAX, &buf, &len)) != 0) {
		if (r == JC_ERR_NOMEM)
			return r;
		snprintf(why, whylen, "%s", strerror(errno));
		return JC_ERR_IO;
	}
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		len--;
	buf[len] = '\0';
	if (len == 0) {
		snprintf(why, whylen, "the file is empty");
		free(buf);
		return JC_ERR_IO;
	}
	*out = buf;
	return 0;
}

static int
creds_from(struct jc_aws_creds *c, const char *akid, const char *secret,
    const char *token, const char *exp)
{
	struct jc_aws_creds n;

	memset(&n, 0, sizeof(n));
	if (akid == NULL || *akid == '\0' || secret == NULL ||
	    *secret == '\0')
		return JC_ERR_PROTO;
	if ((n.akid = strdup(akid)) == NULL ||
	    (n.secret = strdup(secret)) == NULL ||
	    (token != NULL && *token != '\0' &&
	    (n.token = strdup(token)) == NULL)) {
		jc_aws_creds_clear(&n);
		return JC_ERR_NOMEM;
	}
	if (exp != NULL && *exp != '\0' &&
	    jc_aws_time_parse(exp, &n.expires) != 0) {
		jc_aws_creds_clear(&n);
		return JC_ERR_PROTO;
	}
	jc_aws_creds_clear(c);
	*c = n;
	return 0;
}

/* ---- web identity ---------------------------------------------------- */

int
jc_aws_webid_creds(const char *what, const char *role, const char *file,
    const char *session, struct jc_aws_creds *c, struct jc_aws_error *err)
{
	struct jc_aws_http h;
	struct jc_xml *root = NULL;
	const struct jc_xml *cr;
	const char *hdr[2], *region, *from;
	char url[1024], why[400], sess[64], *tok = NULL, *form = NULL,
	    *ans = NULL, *p;
	size_t flen, alen = 0, o;
	long status = 0;
	int r, retry;

	if ((r = read_token(file, &tok, why, sizeof(why))) != 0)
		return r == JC_ERR_NOMEM ? r : jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "cannot read the web identity token file %s of %s: %s",
		    file, what, why);
	if (session == NULL || *session == '\0') {
		snprintf(sess, sizeof(sess), "jconnect-%lld",
		    (long long)time(NULL));
		session = sess;
	}
	/* Each byte may become three: size the form for the worst case. */
	flen = 3 * (strlen(tok) + strlen(role) + strlen(session)) + 256;
	if ((form = malloc(flen)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	o = (size_t)snprintf(form, flen, "Action=AssumeRoleWithWebIdentity&"
	    "Version=2011-06-15&RoleArn=");
	p = form + o;
	if (jc_aws_form_escape(p, flen - o, role) != 0)
		goto toolong;
	o += strlen(p);
	o += (size_t)snprintf(form + o, flen - o, "&RoleSessionName=");
	if (jc_aws_form_escape(form + o, flen - o, session) != 0)
		goto toolong;
	o += strlen(form + o);
	o += (size_t)snprintf(form + o, flen - o, "&WebIdentityToken=");
	if (jc_aws_form_escape(form + o, flen - o, tok) != 0)
		goto toolong;
	if ((region = jc_aws_region()) == NULL)
		region = "us-east-1";
	if (jc_aws_endpoint("sts", region, jc_aws_setting(jc_aws_profile(),
	    "endpoint_url"), url, sizeof(url), &from) != 0) {
		r = jc_aws_fail(err, JC_ERR_USAGE, "no usable sts endpoint");
		goto out;
	}
	jc_verbose("assuming role %s with the web identity token of %s", role,
	    what);
	hdr[0] = "Content-Type: application/x-www-form-urlencoded; "
	    "charset=utf-8";
	hdr[1] = NULL;
	memset(&h, 0, sizeof(h));
	h.method = "POST";
	h.url = url;
	h.headers = hdr;
	h.body = form;
	h.bodylen = strlen(form);
	h.timeout_ms = CALL_MS;
	h.connect_ms = CONNECT_MS;
	if ((r = jc_aws_http_do(&h, &status, &ans, &alen, why, sizeof(why),
	    &retry)) != 0) {
		r = r == JC_ERR_NOMEM ? r : jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "cannot reach STS at %s: %s", url, why);
		goto out;
	}
	if (status != 200) {
		jc_aws_error_decode((int)status, ans, alen, err);
		r = jc_aws_error_class(err);
		if (r == JC_ERR_AWS || r == JC_ERR_NOTFOUND)
			r = JC_ERR_AWS_AUTH;
		snprintf(why, sizeof(why), "%.90s: %.300s", err->code, err->message);
		r = jc_aws_fail(err, r, "STS AssumeRoleWithWebIdentity for role %s "
		    "(%s) failed: %.300s", role, what, why);
		goto out;
	}
	if (jc_xml_parse(ans, alen, &root) != 0 ||
	    (cr = jc_xml_path(root,
	    "AssumeRoleWithWebIdentityResult/Credentials")) == NULL ||
	    (r = creds_from(c, jc_xml_text(cr, "AccessKeyId"),
	    jc_xml_text(cr, "SecretAccessKey"), jc_xml_text(cr,
	    "SessionToken"), jc_xml_text(cr, "Expiration"))) == JC_ERR_PROTO) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "STS AssumeRoleWithWebIdentity "
		    "for role %s gave an answer without credentials", role);
		goto out;
	}
	if (r != 0)
		goto out;
	snprintf(c->source, sizeof(c->source), "web identity (role %s, %s)",
	    role, what);
	goto out;
 toolong:
	r = jc_aws_fail(err, JC_ERR_USAGE, "the web identity request of %s is too "
	    "long", what);
 out:
	jc_xml_free(root);
	jc_aws_wipe_free(tok);
	jc_aws_wipe_free(form);
	if (ans != NULL) {
		jc_wipe(ans, alen);
		free(ans);
	}
	return r;
}

/* ---- container credentials -------------------------------------------- */

/* Is the FULL_URI's host one the SDKs send the token to? */
static int
container_host_ok(const char *url)
{
	static const char *ok[] = { "169.254.170.2", "169.254.170.23",
	    "localhost", "[::1]", "[fd00:ec2::23]" };
	const char *h, *e;
	size_t i, n;

	if (strncasecmp(url, "http://", 7) == 0)
		h = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		h = url + 8;
	else
		return 0;
	if (*h == '[')
		e = strchr(h, ']') != NULL ? strchr(h, ']') + 1 : h;
	else
		e = h + strcspn(h, ":/?#");
	n = (size_t)(e - h);
	if (memchr(h, '@', n) != NULL)
		return 0;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncasecmp(h, ok[i], n) == 0)
			return 1;
	/* Any 127.0.0.0/8 address. */
	if (n >= 9 && n <= 15 && strncmp(h, "127.", 4) == 0 &&
	    strspn(h, "0123456789.") >= n)
		return 1;
	return 0;
}

int
jc_aws_container_creds(struct jc_aws_creds *c, struct jc_aws_error *err)
{
	struct jc_aws_http h;
	const char *rel, *full, *tokfile, *tokenv, *hdr[3];
	char url[2048], why[512], *tok = NULL, *auth = NULL, *ans = NULL;
	cJSON *o = NULL;
	const cJSON *k, *s, *t, *e;
	size_t alen = 0, n;
	long status = 0;
	int r, retry;

	rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel != NULL && *rel != '\0') {
		if (*rel != '/' || strpbrk(rel, " \r\n") != NULL)
			return jc_aws_fail(err, JC_ERR_AWS_AUTH,
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a "
			    "path starting with /");
		snprintf(url, sizeof(url), "%s%s", ECS_HOST, rel);
	} else if (full != NULL && *full != '\0') {
		if (!container_host_ok(full) || strpbrk(full, " \r\n") != NULL)
			return jc_aws_fail(err, JC_ERR_AWS_AUTH,
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI must name the "
			    "container agent (169.254.170.2, 169.254.170.23) "
			    "or a loopback address, as the AWS SDKs require");
		snprintf(url, sizeof(url), "%s", full);
	} else
		return JC_ERR_NOTFOUND;
	tokfile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	tokenv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (tokfile != NULL && *tokfile != '\0') {
		if ((r = read_token(tokfile, &tok, why, sizeof(why))) != 0)
			return r == JC_ERR_NOMEM ? r : jc_aws_fail(err,
			    JC_ERR_AWS_AUTH, "cannot read "
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s",
			    tokfile, why);
	} else if (tokenv != NULL && *tokenv != '\0' &&
	    (tok = strdup(tokenv)) == NULL)
		return JC_ERR_NOMEM;
	n = 0;
	if (tok != NULL) {
		if (strpbrk(tok, "\r\n") != NULL) {
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the container "
			    "authorization token holds a line break");
			goto out;
		}
		n = strlen(tok) + sizeof("Authorization: ");
		if ((auth = malloc(n)) == NULL) {
			r = JC_ERR_NOMEM;
			goto out;
		}
		snprintf(auth, n, "Authorization: %s", tok);
		n = 0;
		hdr[n++] = auth;
	}
	hdr[n++] = "Accept: application/json";
	hdr[n] = NULL;
	memset(&h, 0, sizeof(h));
	h.method = "GET";
	h.url = url;
	h.headers = hdr;
	h.timeout_ms = 5000;
	h.connect_ms = 2000;
	h.no_proxy = 1;
	if ((r = jc_aws_http_do(&h, &status, &ans, &alen, why, sizeof(why),
	    &retry)) != 0) {
		r = r == JC_ERR_NOMEM ? r : jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "cannot read container credentials from %s: %s", url,
		    why);
		goto out;
	}
	if (status != 200) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the container credentials "
		    "endpoint %s answered HTTP %ld%s", url, status,
		    status == 401 || status == 403 ? " (check the "
		    "authorization token)" : "");
		goto out;
	}
	if ((o = cJSON_ParseWithLength(ans, alen)) == NULL) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the container credentials "
		    "endpoint %s answered something that is not JSON", url);
		goto out;
	}
	k = cJSON_GetObjectItemCaseSensitive(o, "AccessKeyId");
	s = cJSON_GetObjectItemCaseSensitive(o, "SecretAccessKey");
	t = cJSON_GetObjectItemCaseSensitive(o, "Token");
	e = cJSON_GetObjectItemCaseSensitive(o, "Expiration");
	if (!cJSON_IsString(k) || !cJSON_IsString(s) ||
	    (r = creds_from(c, k->valuestring, s->valuestring,
	    cJSON_IsString(t) ? t->valuestring : NULL, cJSON_IsString(e) ?
	    e->valuestring : NULL)) == JC_ERR_PROTO) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "the container credentials "
		    "endpoint %s gave no usable credentials", url);
		goto out;
	}
	if (r != 0)
		goto out;
	snprintf(c->source, sizeof(c->source), "container credentials (%s%s)",
	    rel != NULL && *rel != '\0' ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_"
	    "URI" : "AWS_CONTAINER_CREDENTIALS_FULL_URI", tok != NULL ?
	    ", with an authorization token" : "");
 out:
	if (o != NULL) {
		for (cJSON *it = o->child; it != NULL; it = it->next)
			if (cJSON_IsString(it) && it->valuestring != NULL)
				jc_wipe(it->valuestring,
				    strlen(it->valuestring));
		cJSON_Delete(o);
	}
	jc_aws_wipe_free(tok);
	jc_aws_wipe_free(auth);
	if (ans != NULL) {
		jc_wipe(ans, alen);
		free(ans);
	}
	return r;
}
