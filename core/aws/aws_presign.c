/*
 * aws_presign.c - SigV4 query signing ("presigned" URLs) with the
 * session's credentials, for WebSockets that AWS authenticates by URL
 * (EC2 Instance Connect Endpoint's openTunnel).  Calls are signed by
 * libcurl (aws.c); a URL handed to another client has to be signed here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "compat.h"
#include "aws.h"
#include "aws_int.h"

#define MAX_PARAMS	24

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
sha256_hex(const char *s, size_t n, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, n, d);
	hex(d, sizeof(d), out);
}

static int
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &n) == NULL ? -1 : 0;
}

static int
cmp_param(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append "&k=v" (v URL-encoded) to q; 0 or JC_ERR_USAGE when too long. */
static int
add(char *q, size_t qlen, const char *k, const char *v)
{
	char enc[4096];
	size_t n = strlen(q);

	if (jc_aws_form_escape(enc, sizeof(enc), v) != 0)
		return JC_ERR_USAGE;
	if ((size_t)snprintf(q + n, qlen - n, "%s%s=%s", n ? "&" : "", k,
	    enc) >= qlen - n)
		return JC_ERR_USAGE;
	return 0;
}

int
jc_aws_presign(const char *service, const char *scheme, const char *host,
    const char *path, const char *query, int expires_s, char *out,
    size_t outlen, struct jc_aws_error *err)
{
	const struct jc_aws_creds *c;
	const char *region;
	char amzdate[32], date[16], scope[256], cred[512], exp[16], *q = NULL,
	    *cq = NULL, *creq = NULL, *sts = NULL, *params[MAX_PARAMS], *p,
	    *save = NULL, h[65], sig[65], *kbuf = NULL;
	unsigned char k[32];
	size_t qlen, n, i, np = 0;
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if ((r = jc_aws_session(&c, &region, err)) != 0)
		return r;
	gmtime_r(&now, &tm);
	strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, region,
	    service);
	snprintf(cred, sizeof(cred), "%s/%s", c->akid, scope);
	snprintf(exp, sizeof(exp), "%d", expires_s);
	qlen = strlen(query) + 2048 + (c->token ? 3 * strlen(c->token) : 0);
	r = JC_ERR_NOMEM;
	if ((q = calloc(1, qlen)) == NULL || (cq = calloc(1, qlen)) == NULL)
		goto out;
	snprintf(q, qlen, "%s", query);
	r = JC_ERR_USAGE;
	if (add(q, qlen, "X-Amz-Algorithm", "AWS4-HMAC-SHA256") != 0 ||
	    add(q, qlen, "X-Amz-Credential", cred) != 0 ||
	    add(q, qlen, "X-Amz-Date", amzdate) != 0 ||
	    add(q, qlen, "X-Amz-Expires", exp) != 0 ||
	    (c->token != NULL &&
	    add(q, qlen, "X-Amz-Security-Token", c->token) != 0) ||
	    add(q, qlen, "X-Amz-SignedHeaders", "host") != 0)
		goto out;
	/* The canonical query: the same pairs, sorted. */
	memcpy(cq, q, qlen);
	for (p = strtok_r(cq, "&", &save); p != NULL && np < MAX_PARAMS;
	    p = strtok_r(NULL, "&", &save))
		params[np++] = p;
	if (p != NULL)
		goto out;
	qsort(params, np, sizeof(params[0]), cmp_param);
	n = 0;
	r = JC_ERR_NOMEM;
	if ((creq = malloc(qlen + 1024)) == NULL || (sts = malloc(1024)) ==
	    NULL)
		goto out;
	n = (size_t)snprintf(creq, qlen + 1024, "GET\n%s\n", path);
	for (i = 0; i < np; i++)
		n += (size_t)snprintf(creq + n, qlen + 1024 - n, "%s%s",
		    i ? "&" : "", params[i]);
	sha256_hex("", 0, h);
	snprintf(creq + n, qlen + 1024 - n, "\nhost:%s\n\nhost\n%s", host, h);
	sha256_hex(creq, strlen(creq), h);
	snprintf(sts, 1024, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amzdate, scope, h);
	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), svc), "aws4_request") */
	n = strlen(c->secret) + 5;
	if ((kbuf = malloc(n)) == NULL)
		goto out;
	snprintf(kbuf, n, "AWS4%s", c->secret);
	r = JC_ERR_INTERNAL;
	if (hmac(kbuf, strlen(kbuf), date, k) != 0 ||
	    hmac(k, 32, region, k) != 0 || hmac(k, 32, service, k) != 0 ||
	    hmac(k, 32, "aws4_request", k) != 0)
		goto out;
	{
		unsigned char s[32];

		if (hmac(k, 32, sts, s) != 0)
			goto out;
		hex(s, 32, sig);
	}
	r = JC_ERR_USAGE;
	if ((size_t)snprintf(out, outlen, "%s://%s%s?%s&X-Amz-Signature=%s",
	    scheme, host, path, q, sig) >= outlen) {
		jc_wipe(out, outlen);
		snprintf(err->message, sizeof(err->message), "the presigned "
		    "URL is too long");
		goto out;
	}
	r = 0;
 out:
	jc_wipe(k, sizeof(k));
	if (kbuf != NULL) {
		jc_wipe(kbuf, strlen(kbuf));
		free(kbuf);
	}
	if (q != NULL) {
		jc_wipe(q, qlen);
		free(q);
	}
	if (cq != NULL) {
		jc_wipe(cq, qlen);
		free(cq);
	}
	free(creq);
	free(sts);
	return r;
}
