/*
 * aws.c - the AWS client: profile and region, SigV4-signed calls over
 * libcurl (CURLOPT_AWS_SIGV4), retries with jittered backoff, the
 * instance metadata service, and AWS errors in plain words.  The layer
 * under the credential providers: it signs with what the source set by
 * jc_aws_set_creds_source (the chain of aws_cred.c) hands it.
 *
 * libcurl signs exactly like botocore provided (aws-wire.md): the
 * provider string names region and service, the body goes in
 * CURLOPT_POSTFIELDS, no header is removed with "Name:", the session
 * token is an added header, and we never set X-Amz-Date ourselves.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "aws.h"
#include "aws_int.h"
#include "compat.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "tls_hint.h"

#define DEFAULT_ATTEMPTS	5
#define MAX_ATTEMPTS		10
#define BACKOFF_BASE_MS		200
#define BACKOFF_CAP_MS		8000
#define CALL_TIMEOUT_MS		30000L
#define CONNECT_TIMEOUT_MS	10000L
#define REUSE_MAX_S		5L	/* keep-alive connections idle this long */
#define STALL_MAX_S		5L	/* no byte of an answer this long: retry */
#define ENDING_CALL_MS		1500L	/* after Ctrl-C or stop: cleanup calls */
#define STOP_GRACE_MS		1000	/* ... and the calls already in flight */
#define FILE_MAX		(1u << 20)
#define IMDS_DEFAULT		"http://169.254.169.254"

static void multi_cleanup(void);
static int am_busy(void);
static CURLcode perform_beside(CURL *);
static void aws_reset(void);

static struct {
	int			 setup;
	char			 profile[128];
	int			 profile_explicit;
	char			 region[64];
	char			 region_from[96];
	char			 config_path[1024];
	char			 creds_path[1024];
	struct jc_aws_ini	*config;
	struct jc_aws_ini	*creds_file;
	char			 ca_bundle[1024];
	int			 max_attempts;
	struct jc_aws_creds	 creds;		/* resolved lazily */
	int			 have_creds;
	CURL			*curl;
	unsigned		 seed;		/* backoff jitter */
	/* the last failed call, for jc_aws_explain */
	char			 last_action[160];
	struct jc_aws_error	 last_err;
	int			 silent_at_end;	/* see ending_budget() */
} aws;

/*
 * One connection pool for the calls that wait and those that do not: a
 * connection opened while another call was in flight serves the next.
 * It outlives aws_reset (calls in flight may still use it).
 */
static CURLSH *share;

/* Set from above (aws_cred.c); kept when the configuration starts over. */
static jc_aws_creds_fn *creds_source;

/* ---- files and profile ----------------------------------------------- */

const char *
jc_aws_home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return h;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_dir;
	return "/";
}

/* Read a whole (small) file; a missing file is not an error. */
static int
load_ini(const char *path, struct jc_aws_ini **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;
	int r = JC_ERR_IO;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : JC_ERR_IO;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		goto out;
	if ((buf = malloc(FILE_MAX)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	while (len < FILE_MAX &&
	    (n = fread(buf + len, 1, FILE_MAX - len, f)) > 0)
		len += n;
	if (ferror(f))
		goto out;
	if ((*out = jc_aws_ini_parse(buf, len)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	r = 0;
 out:
	if (buf != NULL) {
		jc_wipe(buf, len);
		free(buf);
	}
	fclose(f);
	return r;
}

const char *
jc_aws_profile(void)
{
	return aws.profile;
}

int
jc_aws_profile_explicit(void)
{
	return aws.profile_explicit;
}

const char *
jc_aws_setting(const char *profile, const char *key)
{
	return jc_aws_profile_get(aws.creds_file, aws.config, profile, key);
}

const char *
jc_aws_setting_where(const char *profile, const char *key)
{
	if (jc_aws_ini_get(aws.creds_file, profile, key) != NULL)
		return aws.creds_path;
	if (jc_aws_profile_get(NULL, aws.config, profile, key) != NULL)
		return aws.config_path;
	return "nowhere";
}

const char *
jc_aws_config_get(const char *section, const char *key)
{
	return jc_aws_ini_get(aws.config, section, key);
}

int
jc_aws_config_has(const char *section)
{
	return jc_aws_ini_has(aws.config, section);
}

int
jc_aws_has_profile(const char *profile)
{
	return jc_aws_profile_exists(aws.creds_file, aws.config, profile);
}

const char *
jc_aws_config_path(void)
{
	return aws.config_path;
}

const char *
jc_aws_credentials_path(void)
{
	return aws.creds_path;
}

static int
region_ok(const char *r)
{
	if (*r == '\0' || strlen(r) >= sizeof(aws.region))
		return 0;
	for (; *r != '\0'; r++)
		if (!islower((unsigned char)*r) &&
		    !isdigit((unsigned char)*r) && *r != '-')
			return 0;
	return 1;
}

/* The region of the instance we run on, when there is one. */
static void
region_from_imds(void)
{
	char *out = NULL, why[256];
	size_t len;

	if (jc_aws_imds_get("/latest/meta-data/placement/region", &out, &len,
	    why, sizeof(why)) != 0) {
		jc_debug("no region from instance metadata: %s", why);
		return;
	}
	if (region_ok(out)) {
		snprintf(aws.region, sizeof(aws.region), "%s", out);
		snprintf(aws.region_from, sizeof(aws.region_from),
		    "instance metadata");
	}
	free(out);
}

int
jc_aws_profile_setup(const char *profile, const char *region)
{
	const char *v, *from = NULL;
	long n;
	int r;

	aws_reset();
	aws.setup = 1;
	aws.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	aws.profile_explicit = profile != NULL && *profile != '\0';
	if (!aws.profile_explicit &&
	    ((profile = getenv("AWS_PROFILE")) == NULL || *profile == '\0') &&
	    ((profile = getenv("AWS_DEFAULT_PROFILE")) == NULL ||
	    *profile == '\0'))
		profile = "default";
	if (strlen(profile) >= sizeof(aws.profile)) {
		jc_error("AWS profile name too long");
		return JC_ERR_USAGE;
	}
	snprintf(aws.profile, sizeof(aws.profile), "%s", profile);

	if ((v = getenv("AWS_CONFIG_FILE")) != NULL && *v != '\0')
		snprintf(aws.config_path, sizeof(aws.config_path), "%s", v);
	else
		snprintf(aws.config_path, sizeof(aws.config_path),
		    "%s/.aws/config", jc_aws_home());
	if ((v = getenv("AWS_SHARED_CREDENTIALS_FILE")) != NULL && *v != '\0')
		snprintf(aws.creds_path, sizeof(aws.creds_path), "%s", v);
	else
		snprintf(aws.creds_path, sizeof(aws.creds_path),
		    "%s/.aws/credentials", jc_aws_home());
	if ((r = load_ini(aws.config_path, &aws.config)) != 0 ||
	    (r = load_ini(aws.creds_path, &aws.creds_file)) != 0) {
		if (r == JC_ERR_IO)
			jc_error("cannot read %s or %s: %s", aws.config_path,
			    aws.creds_path, strerror(errno));
		return r;
	}
	/* botocore refuses a named profile that does not exist. */
	if (strcmp(aws.profile, "default") != 0 &&
	    !jc_aws_profile_exists(aws.creds_file, aws.config, aws.profile)) {
		jc_error("AWS profile \"%s\" is not in %s or %s", aws.profile,
		    aws.config_path, aws.creds_path);
		return JC_ERR_AWS_AUTH;
	}

	/* Region: --region, AWS_REGION, AWS_DEFAULT_REGION, profile. */
	if (region != NULL && *region != '\0')
		from = "--region";
	else if ((region = getenv("AWS_REGION")) != NULL && *region != '\0')
		from = "AWS_REGION";
	else if ((region = getenv("AWS_DEFAULT_REGION")) != NULL &&
	    *region != '\0')
		from = "AWS_DEFAULT_REGION";
	else if ((region = jc_aws_setting(aws.profile, "region")) != NULL &&
	    *region != '\0')
		from = "profile";
	if (from != NULL) {
		if (!region_ok(region)) {
			jc_error("\"%.64s\" (from %s) is not an AWS region "
			    "name", region, from);
			return JC_ERR_USAGE;
		}
		snprintf(aws.region, sizeof(aws.region), "%s", region);
		if (strcmp(from, "profile") == 0)
			snprintf(aws.region_from, sizeof(aws.region_from),
			    "profile %.80s", aws.profile);
		else
			snprintf(aws.region_from, sizeof(aws.region_from),
			    "%s", from);
	} else
		region_from_imds();

	/* Attempts: -o aws.max_attempts, AWS_MAX_ATTEMPTS, profile. */
	aws.max_attempts = DEFAULT_ATTEMPTS;
	if ((v = jc_config_option("aws.max_attempts")) == NULL &&
	    (v = getenv("AWS_MAX_ATTEMPTS")) == NULL)
		v = jc_aws_setting(aws.profile, "max_attempts");
	if (v != NULL) {
		n = strtol(v, NULL, 10);
		if (n >= 1 && n <= MAX_ATTEMPTS)
			aws.max_attempts = (int)n;
	}
	/* A CA bundle adds trust; verification itself is never off. */
	if (((v = getenv("AWS_CA_BUNDLE")) != NULL && *v != '\0') ||
	    (v = jc_aws_setting(aws.profile, "ca_bundle")) != NULL)
		snprintf(aws.ca_bundle, sizeof(aws.ca_bundle), "%s", v);
	return 0;
}

void
jc_aws_set_creds_source(jc_aws_creds_fn *fn)
{
	creds_source = fn;
}

const char *
jc_aws_ca_bundle(void)
{
	return aws.ca_bundle[0] != '\0' ? aws.ca_bundle : NULL;
}

const char *
jc_aws_region(void)
{
	return aws.region[0] != '\0' ? aws.region : NULL;
}

/* Configuration and credentials forgotten; calls in flight go on. */
static void
aws_reset(void)
{
	jc_aws_ini_free(aws.config);
	jc_aws_ini_free(aws.creds_file);
	jc_aws_creds_clear(&aws.creds);
	if (aws.curl != NULL)
		curl_easy_cleanup(aws.curl);
	jc_wipe(&aws, sizeof(aws));
}

void
jc_aws_cleanup(void)
{
	multi_cleanup();
	aws_reset();
	/* After every handle that used it. */
	if (share != NULL)
		curl_share_cleanup(share);
	share = NULL;
}

/* ---- HTTP ------------------------------------------------------------ */

struct sink {
	char	*buf;
	size_t	 len, cap;
	int	 toobig;
};

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, cap;
	char *b;

	if (n > JC_AWS_BODY_MAX - s->len) {
		s->toobig = 1;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		if ((b = realloc(s->buf, cap)) == NULL)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* Transport failures worth another attempt. */
static int
curl_retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/*
 * A call made before Ctrl-C or stop gets a second more to answer, then
 * ends (libcurl calls this at least once a second): an answer may name
 * something to clean up, such as the session a StartSession made.  One
 * that did not answer in that second finds AWS silent (ending_budget).
 * Cleanup calls made after the stop run on their own short budget.
 */
static int
stop_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	static int64_t stop_seen;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (arg == NULL || !jc_loop_stopping())
		return 0;
	if (stop_seen == 0)
		stop_seen = jc_now_ms();
	if (jc_now_ms() - stop_seen < STOP_GRACE_MS)
		return 0;
	aws.silent_at_end = 1;
	return 1;
}

/*
 * Options of one exchange on handle e: URL, TLS checks, proxy, timeouts,
 * headers (a list made in *hl, freed by the caller), body, signature and
 * the answer into s.  Returns 0 or JC_ERR_NOMEM.
 */
static int
http_setup(CURL *e, const struct jc_aws_http *h, struct sink *s,
    char *errbuf, struct curl_slist **hl)
{
	struct curl_slist *t;
	size_t i;

	*hl = NULL;
	for (i = 0; h->headers != NULL && h->headers[i] != NULL; i++) {
		if ((t = curl_slist_append(*hl, h->headers[i])) == NULL)
			return JC_ERR_NOMEM;
		*hl = t;
	}
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	if (share == NULL && (share = curl_share_init()) != NULL)
		curl_share_setopt(share, CURLSHOPT_SHARE,
		    CURL_LOCK_DATA_CONNECT);
	if (share != NULL)
		curl_easy_setopt(e, CURLOPT_SHARE, share);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "jconnect/" JC_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
	/*
	 * A connection idle for a while may sit on a path that went silent
	 * (the laptop moved): not reused then; an answer that stalls ends
	 * early (and the call is retried on a new connection).
	 */
	/* A blocking call ends within a second of Ctrl-C or stop. */
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, stop_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA,
	    jc_loop_ending() ? NULL : (void *)e);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, REUSE_MAX_S);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, STALL_MAX_S);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (aws.ca_bundle[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, aws.ca_bundle);
	if (h->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hl);
	if (strcmp(h->method, "GET") != 0) {
		/* Signed bodies go in POSTFIELDS: a read callback signs "". */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)h->bodylen);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    h->body != NULL ? h->body : "");
		if (strcmp(h->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
	}
	if (h->sigv4 != NULL) {
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, h->sigv4);
		curl_easy_setopt(e, CURLOPT_USERNAME, h->creds->akid);
		curl_easy_setopt(e, CURLOPT_PASSWORD, h->creds->secret);
	}
	return 0;
}

/* The reason a transfer failed, in why. */
static void
http_why(CURLcode c, const struct sink *s, const char *url,
    const char *errbuf, char *why, size_t whylen)
{
	if (s->toobig)
		snprintf(why, whylen, "the answer from %s is larger than "
		    "%u MiB", url, JC_AWS_BODY_MAX >> 20);
	else
		snprintf(why, whylen, "%s: %s%s", url, errbuf[0] != '\0' ?
		    errbuf : curl_easy_strerror(c), jc_tls_hint(c));
}

/*
 * After Ctrl-C or stop only cleanup calls run (TerminateSession, removing
 * a key): a silent AWS must not hold the exit up.  Each gets a short
 * budget, and once one found AWS silent the rest are not tried.
 */
static int
ending_budget(struct jc_aws_http *h, struct jc_aws_error *err)
{
	if (!jc_loop_ending())
		return 0;
	if (aws.silent_at_end) {
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "not tried: AWS "
		    "did not answer while jconnect was stopping");
		return -1;
	}
	h->timeout_ms = ENDING_CALL_MS;
	h->connect_ms = ENDING_CALL_MS;
	return 0;
}

int
jc_aws_http_do(const struct jc_aws_http *h, long *status, char **body,
    size_t *len, char *why, size_t whylen, int *retry)
{
	struct curl_slist *hl = NULL;
	struct sink s;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode c;
	int r = JC_ERR_IO;

	memset(&s, 0, sizeof(s));
	*retry = 0;
	errbuf[0] = '\0';
	if (aws.curl == NULL && (aws.curl = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "libcurl is not usable");
		return JC_ERR_IO;
	}
	/* Reset keeps the connection cache: later calls reuse it. */
	curl_easy_reset(aws.curl);
	if ((r = http_setup(aws.curl, h, &s, errbuf, &hl)) != 0)
		goto out;
	r = JC_ERR_IO;
	c = am_busy() ? perform_beside(aws.curl) : curl_easy_perform(aws.curl);
	/* Do not leave the secret in the handle's options. */
	curl_easy_setopt(aws.curl, CURLOPT_PASSWORD, "");
	curl_easy_setopt(aws.curl, CURLOPT_ERRORBUFFER, NULL);
	if (c == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(why, whylen, "%s: stopped", h->url);
		r = JC_ERR_INTR;
		goto out;
	}
	if (c != CURLE_OK) {
		http_why(c, &s, h->url, errbuf, why, whylen);
		*retry = curl_retryable(c);
		goto out;
	}
	curl_easy_getinfo(aws.curl, CURLINFO_RESPONSE_CODE, status);
	if (s.buf == NULL && (s.buf = strdup("")) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	*body = s.buf;
	*len = s.len;
	s.buf = NULL;
	r = 0;
 out:
	curl_easy_setopt(aws.curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	free(s.buf);
	return r;
}

/* ---- signed calls ---------------------------------------------------- */

/* "ec2:DescribeInstances" from the form body or the JSON target. */
static void
iam_action(const char *service, const char *target, const char *body,
    char *buf, size_t len)
{
	const char *a, *e;
	size_t n;

	if (target != NULL) {
		a = strrchr(target, '.');
		snprintf(buf, len, "%s:%s", service, a ? a + 1 : target);
		return;
	}
	if (strncmp(body, "Action=", 7) == 0)
		a = body + 7;
	else if ((a = strstr(body, "&Action=")) != NULL)
		a += 8;
	else {
		snprintf(buf, len, "%s:*", service);
		return;
	}
	n = (e = strchr(a, '&')) != NULL ? (size_t)(e - a) : strlen(a);
	snprintf(buf, len, "%s:%.*s", service, (int)(n > 80 ? 80 : n), a);
}

static int
backoff_ms(int attempt)
{
	long b = BACKOFF_BASE_MS;
	int i;

	for (i = 1; i < attempt && b < BACKOFF_CAP_MS; i++)
		b *= 2;
	if (b > BACKOFF_CAP_MS)
		b = BACKOFF_CAP_MS;
	/* Equal jitter: half fixed, half random. */
	return (int)(b / 2 + rand_r(&aws.seed) % (b / 2 + 1));
}

/*
 * The URL, headers and signature of a call: hdr gets up to 3 headers
 * (and NULL), tgt and *tokhdr (malloc'd, wipe and free) hold their text.
 * Returns 0, JC_ERR_NOMEM, or an endpoint error with err filled.
 */
static int
request_setup(const struct jc_aws_creds *c, const char *region,
    const char *service, const char *target, const char *action, char *url,
    size_t urllen, char *sig, size_t siglen, const char *hdr[4], char *tgt,
    size_t tgtlen, char **tokhdr, struct jc_aws_error *err)
{
	const char *from;
	size_t nh = 0, tl;
	int r;

	*tokhdr = NULL;
	if ((r = jc_aws_endpoint(service, region, jc_aws_setting(aws.profile,
	    "endpoint_url"), url, urllen, &from)) != 0) {
		snprintf(err->message, sizeof(err->message), "no usable %s "
		    "endpoint: %s", service, region == NULL || *region == '\0' ?
		    "no AWS region (use --region, AWS_REGION or the profile's "
		    "region)" : "the endpoint URL override is not http(s)");
		return r;
	}
	jc_debug("%s -> %s (%s)", action, url, from);
	snprintf(sig, siglen, "aws:amz:%s:%s", region, service);
	if (target != NULL) {
		hdr[nh++] = "Content-Type: application/x-amz-json-1.1";
		snprintf(tgt, tgtlen, "X-Amz-Target: %s", target);
		hdr[nh++] = tgt;
	} else
		hdr[nh++] = "Content-Type: application/x-www-form-urlencoded; "
		    "charset=utf-8";
	if (c->token != NULL) {
		/* Added as a header so libcurl signs it, as botocore does. */
		tl = strlen(c->token) + sizeof("X-Amz-Security-Token: ");
		if ((*tokhdr = malloc(tl)) == NULL)
			return JC_ERR_NOMEM;
		snprintf(*tokhdr, tl, "X-Amz-Security-Token: %s", c->token);
		hdr[nh++] = *tokhdr;
	}
	hdr[nh] = NULL;
	return 0;
}

static void
wipe_str(char *p)
{
	if (p != NULL) {
		jc_wipe(p, strlen(p));
		free(p);
	}
}

int
jc_aws_call(const struct jc_aws_creds *c, const char *region,
    const char *service, const char *target, const char *body, char **out,
    size_t *outlen, struct jc_aws_error *err)
{
	struct jc_aws_http h;
	const char *hdr[4];
	char url[1024], sig[160], tgt[192], *ans = NULL, *tokhdr = NULL,
	    why[1024], action[160];
	size_t len = 0;
	long status = 0;
	int attempt, r = JC_ERR_INTERNAL, retry, wait;

	memset(err, 0, sizeof(*err));
	iam_action(service, target, body, action, sizeof(action));
	if ((r = request_setup(c, region, service, target, action, url,
	    sizeof(url), sig, sizeof(sig), hdr, tgt, sizeof(tgt), &tokhdr,
	    err)) != 0)
		return r;
	memset(&h, 0, sizeof(h));
	h.method = "POST";
	h.url = url;
	h.headers = hdr;
	h.body = body;
	h.bodylen = strlen(body);
	h.sigv4 = sig;
	h.creds = c;
	h.timeout_ms = CALL_TIMEOUT_MS;
	h.connect_ms = CONNECT_TIMEOUT_MS;
	if (ending_budget(&h, err) != 0) {
		r = JC_ERR_UNREACHABLE;
		goto out;
	}
	for (attempt = 1; ; attempt++) {
		free(ans);
		ans = NULL;
		r = jc_aws_http_do(&h, &status, &ans, &len, why, sizeof(why),
		    &retry);
		if (r == JC_ERR_NOMEM)
			goto out;
		if (r != 0) {
			memset(err, 0, sizeof(*err));
			snprintf(err->message, sizeof(err->message),
			    "cannot reach AWS at %.480s", why);
		} else if (status >= 200 && status < 300) {
			*out = ans;
			ans = NULL;
			if (outlen != NULL)
				*outlen = len;
			r = 0;
			goto out;
		} else {
			jc_aws_error_decode((int)status, ans, len, err);
			retry = jc_aws_error_retryable(err);
			r = jc_aws_error_class(err);
		}
		if (r != 0 && r != JC_ERR_INTR && status == 0 &&
		    jc_loop_ending())
			aws.silent_at_end = 1;
		if (r == JC_ERR_INTR)
			break;
		if (!retry || attempt >= aws.max_attempts || jc_loop_ending())
			break;
		wait = backoff_ms(attempt);
		jc_verbose("%s: %s%s%s; retrying in %d ms (attempt %d of %d)",
		    action, err->code, err->code[0] ? ": " : "", err->message,
		    wait, attempt + 1, aws.max_attempts);
		if (jc_loop_run(NULL, wait) == JC_ERR_INTR) {
			r = JC_ERR_INTR;
			goto out;
		}
	}
	if (retry)
		jc_verbose("%s: giving up after %d attempts", action, attempt);
	/* Remember the action: AccessDenied messages may not name it. */
	snprintf(aws.last_action, sizeof(aws.last_action), "%s", action);
	aws.last_err = *err;
 out:
	free(ans);
	wipe_str(tokhdr);
	return r;
}

/* ---- IMDSv2 ---------------------------------------------------------- */

static long
env_long(const char *name, long def, long lo, long hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	return *end != '\0' || n < lo || n > hi ? def : n;
}

int
jc_aws_imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

int
jc_aws_imds_get(const char *path, char **out, size_t *len, char *why,
    size_t whylen)
{
	struct jc_aws_http h;
	const char *base, *hdr[2];
	char url[1024], root[768], tokhdr[256], *tok = NULL, *ans = NULL;
	size_t toklen = 0, alen = 0, n;
	long status = 0, tmo;
	int r = JC_ERR_IO, retry, attempts, i;

	if (jc_aws_imds_disabled()) {
		snprintf(why, whylen, "AWS_EC2_METADATA_DISABLED is true");
		return JC_ERR_UNSUPPORTED;
	}
	if ((base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")) == NULL ||
	    *base == '\0')
		if ((base = jc_aws_setting(jc_aws_profile(),
		    "ec2_metadata_service_endpoint")) == NULL)
			base = IMDS_DEFAULT;
	if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		snprintf(why, whylen, "the metadata endpoint %.200s is not "
		    "http(s)", base);
		return JC_ERR_USAGE;
	}
	tmo = env_long("AWS_METADATA_SERVICE_TIMEOUT", 1, 1, 60) * 1000;
	attempts = (int)env_long("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 5);
	memset(&h, 0, sizeof(h));
	h.timeout_ms = tmo;
	h.connect_ms = tmo;
	h.no_proxy = 1;		/* link-local: never via a proxy */
	h.url = url;
	h.headers = hdr;
	snprintf(root, sizeof(root), "%s", base);
	if ((n = strlen(root)) > 0 && root[n - 1] == '/')
		root[n - 1] = '\0';
	for (i = 0; i < attempts; i++) {
		/* IMDSv2: a session token first, then the GET with it. */
		snprintf(url, sizeof(url), "%s/latest/api/token", root);
		hdr[0] = "X-aws-ec2-metadata-token-ttl-seconds: 21600";
		hdr[1] = NULL;
		h.method = "PUT";
		r = jc_aws_http_do(&h, &status, &tok, &toklen, why, whylen,
		    &retry);
		if (r == JC_ERR_NOMEM)
			return r;
		if (r != 0)
			continue;
		if (status != 200 || toklen == 0 || toklen > 200 ||
		    strpbrk(tok, "\r\n") != NULL) {
			snprintf(why, whylen, "the metadata service answered "
			    "HTTP %ld to the IMDSv2 token request", status);
			r = JC_ERR_IO;
			goto next;
		}
		snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %s",
		    tok);
		hdr[0] = tokhdr;
		snprintf(url, sizeof(url), "%s%s", root, path);
		h.method = "GET";
		r = jc_aws_http_do(&h, &status, &ans, &alen, why, whylen,
		    &retry);
		jc_wipe(tokhdr, sizeof(tokhdr));
		if (r == 0 && status != 200) {
			snprintf(why, whylen, "the metadata service answered "
			    "HTTP %ld for %s", status, path);
			r = status == 404 ? JC_ERR_NOTFOUND : JC_ERR_IO;
			free(ans);
			ans = NULL;
		}
		if (r == 0) {
			*out = ans;
			*len = alen;
			ans = NULL;
		}
 next:
		if (tok != NULL) {
			jc_wipe(tok, toklen);
			free(tok);
			tok = NULL;
		}
		if (r == 0 || r == JC_ERR_NOTFOUND || r == JC_ERR_NOMEM)
			return r;
	}
	return r;
}

/* ---- the public calls ------------------------------------------------ */

/* Credentials for the current profile, renewed shortly before expiry. */
static int
creds(struct jc_aws_error *err)
{
	time_t now = time(NULL);
	char when[48];
	struct tm tm;
	int r;

	if (aws.have_creds && (aws.creds.expires == 0 ||
	    aws.creds.expires > now + JC_AWS_REFRESH_MARGIN_S))
		return 0;
	if (aws.have_creds)
		jc_verbose("AWS credentials from %s expire soon; renewing",
		    aws.creds.source);
	jc_aws_creds_clear(&aws.creds);
	aws.have_creds = 0;
	if (creds_source == NULL) {
		snprintf(err->message, sizeof(err->message), "no source of AWS "
		    "credentials was set up");
		return JC_ERR_AWS_AUTH;
	}
	if ((r = creds_source(&aws.creds, err)) != 0)
		return r;
	aws.have_creds = 1;
	if (aws.creds.expires != 0) {
		gmtime_r(&aws.creds.expires, &tm);
		strftime(when, sizeof(when), ", valid until %Y-%m-%dT%H:%M:%SZ",
		    &tm);
	} else
		when[0] = '\0';
	jc_verbose("AWS credentials: %s (key %.4s...)%s; region %s (%s)",
	    aws.creds.source, aws.creds.akid, when,
	    aws.region[0] ? aws.region : "none",
	    aws.region[0] ? aws.region_from : "not configured");
	return 0;
}

/* Configuration, region and credentials in place for a call. */
static int
call_ready(struct jc_aws_error *err)
{
	int r;

	if (!aws.setup && (r = jc_aws_profile_setup(NULL, NULL)) != 0) {
		snprintf(err->message, sizeof(err->message), "the AWS "
		    "configuration could not be read");
		return r;
	}
	if (aws.region[0] == '\0') {
		snprintf(err->message, sizeof(err->message), "no AWS region: "
		    "pass --region, set AWS_REGION or put region in the "
		    "profile %.100s of %.200s", aws.profile, aws.config_path);
		return JC_ERR_AWS_AUTH;
	}
	return creds(err);
}

static int
call(const char *service, const char *target, const char *body, char **out,
    struct jc_aws_error *err)
{
	struct jc_aws_error tmp;
	int r;

	if (err == NULL)
		err = &tmp;
	memset(err, 0, sizeof(*err));
	if ((r = call_ready(err)) != 0)
		return r;
	return jc_aws_call(&aws.creds, aws.region, service, target, body, out,
	    NULL, err);
}

int
jc_aws_session(const struct jc_aws_creds **c, const char **region,
    struct jc_aws_error *err)
{
	int r;

	memset(err, 0, sizeof(*err));
	if ((r = call_ready(err)) != 0)
		return r;
	*c = &aws.creds;
	*region = aws.region;
	return 0;
}

/* ---- calls driven by the loop ---------------------------------------- */

/*
 * libcurl's multi interface with its socket callbacks: the sockets it
 * wants and its timer become a loop source, so an API call made while
 * streams flow costs the loop nothing while AWS answers.
 */
struct jc_aws_call {
	CURL		*easy;
	struct curl_slist *hl;
	struct sink	 s;
	char		*body;		/* POSTFIELDS does not copy it */
	char		*tokhdr;	/* the session token header */
	char		 url[1024];
	char		 action[160];
	char		 errbuf[CURL_ERROR_SIZE];
	jc_aws_done_fn	*done;
	void		*arg;
	CURLcode	 rc;		/* on am.finished: how it ended */
	struct jc_aws_call *next;
};

#define MULTI_SOCKS	32

static struct {
	CURLM		*multi;
	struct jc_source *src;
	struct jc_aws_call *calls;
	/* Ended while a waiting call ran the transfers: told from the loop. */
	struct jc_aws_call *finished;
	struct {
		curl_socket_t	 fd;
		int		 what;	/* CURL_POLL_* */
		int		 slot;	/* in this pass's pollset, or -1 */
	} sock[MULTI_SOCKS];
	int		 nsock;
	int64_t		 timer_at;	/* -1: none */
} am = { .timer_at = -1 };

static int
multi_sock_cb(CURL *e, curl_socket_t fd, int what, void *u, void *sp)
{
	int i;

	(void)e;
	(void)u;
	(void)sp;
	for (i = 0; i < am.nsock && am.sock[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < am.nsock)
			am.sock[i] = am.sock[--am.nsock];
		return 0;
	}
	if (i == am.nsock) {
		if (am.nsock == MULTI_SOCKS)
			return -1;	/* that transfer fails */
		am.nsock++;
		am.sock[i].fd = fd;
		am.sock[i].slot = -1;
	}
	am.sock[i].what = what;
	return 0;
}

static int
multi_timer_cb(CURLM *m, long ms, void *u)
{
	(void)m;
	(void)u;
	am.timer_at = ms < 0 ? -1 : jc_now_ms() + ms;
	return 0;
}

static void
call_free(struct jc_aws_call *c)
{
	if (c->easy != NULL) {
		curl_multi_remove_handle(am.multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->hl);
	free(c->s.buf);
	free(c->body);
	wipe_str(c->tokhdr);
	free(c);
}

static void
call_unlink(struct jc_aws_call *c)
{
	struct jc_aws_call **pp;

	for (pp = &am.calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	for (pp = &am.finished; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* A transfer ended: decode the answer and tell the caller. */
static void
call_finish(struct jc_aws_call *c, CURLcode rc)
{
	struct jc_aws_error err;
	char why[1024], *out = NULL;
	long status = 0;
	int r;

	memset(&err, 0, sizeof(err));
	call_unlink(c);
	if (rc != CURLE_OK) {
		http_why(rc, &c->s, c->url, c->errbuf, why, sizeof(why));
		snprintf(err.message, sizeof(err.message), "cannot reach AWS "
		    "at %.480s", why);
		r = JC_ERR_IO;
		if (rc == CURLE_ABORTED_BY_CALLBACK)
			r = JC_ERR_INTR;
		else if (jc_loop_ending())
			aws.silent_at_end = 1;
	} else {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			out = c->s.buf != NULL ? c->s.buf : strdup("");
			c->s.buf = NULL;
			r = out != NULL ? 0 : JC_ERR_NOMEM;
		} else {
			jc_aws_error_decode((int)status, c->s.buf, c->s.len,
			    &err);
			r = jc_aws_error_class(&err);
		}
	}
	if (r != 0) {
		snprintf(aws.last_action, sizeof(aws.last_action), "%s",
		    c->action);
		aws.last_err = err;
	}
	c->done(c->arg, r, out, &err);
	call_free(c);
}

/* libcurl's CURL_POLL_* wish as poll()'s events. */
static short
pevents(int what)
{
	return (short)((what & CURL_POLL_IN ? POLLIN : 0) |
	    (what & CURL_POLL_OUT ? POLLOUT : 0));
}

/* poll()'s revents as libcurl's CURL_CSELECT_* bits. */
static int
cselect(short rev)
{
	return (rev & POLLIN ? CURL_CSELECT_IN : 0) |
	    (rev & POLLOUT ? CURL_CSELECT_OUT : 0) |
	    (rev & (POLLERR | POLLHUP | POLLNVAL) ? CURL_CSELECT_ERR : 0);
}

static void
multi_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	long ms;
	int i;

	(void)arg;
	for (i = 0; i < am.nsock; i++)
		am.sock[i].slot = jc_ps_add(ps, (int)am.sock[i].fd,
		    pevents(am.sock[i].what));
	/* libcurl may not repeat a timeout it already gave: ask it too. */
	if (am.calls != NULL && curl_multi_timeout(am.multi, &ms) ==
	    CURLM_OK && ms >= 0 && (am.timer_at < 0 ||
	    jc_now_ms() + ms < am.timer_at))
		am.timer_at = jc_now_ms() + ms;
	if (am.timer_at >= 0 && (*deadline < 0 || am.timer_at < *deadline))
		*deadline = am.timer_at;
	if (am.finished != NULL)
		*deadline = jc_now_ms();
}

static void
multi_dispatch(void *arg, struct jc_pollset *ps)
{
	curl_socket_t fd[MULTI_SOCKS];
	int mask[MULTI_SOCKS], i, n = 0, running, left;
	struct jc_aws_call *c;
	CURLMsg *m;
	short rev;

	(void)arg;
	if (am.multi == NULL)
		return;
	while ((c = am.finished) != NULL)
		call_finish(c, c->rc);
	/* The callbacks change the socket list: act on a copy. */
	for (i = 0; i < am.nsock; i++) {
		if (am.sock[i].slot < 0)
			continue;
		rev = jc_ps_revents(ps, am.sock[i].slot);
		am.sock[i].slot = -1;
		if (rev == 0)
			continue;
		fd[n] = am.sock[i].fd;
		mask[n++] = cselect(rev);
	}
	for (i = 0; i < n; i++)
		curl_multi_socket_action(am.multi, fd[i], mask[i], &running);
	if (am.timer_at >= 0 && jc_now_ms() >= am.timer_at) {
		am.timer_at = -1;
		curl_multi_socket_action(am.multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((m = curl_multi_info_read(am.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (c = am.calls; c != NULL && c->easy != m->easy_handle;
		    c = c->next)
			;
		if (c != NULL)
			call_finish(c, m->data.result);
	}
}

static const struct jc_source_ops multi_ops = { multi_prepare,
    multi_dispatch };

static int
am_busy(void)
{
	return am.multi != NULL && am.calls != NULL;
}

/*
 * One pass of the transfers outside the loop, at most 250 ms (libcurl's
 * progress check sees Ctrl-C): the calls that end wait on am.finished
 * for the loop, except e, whose result goes to *rc.  Returns 1 once e
 * ended.
 */
static int
multi_pass(CURL *e, CURLcode *rc)
{
	struct pollfd pfd[MULTI_SOCKS];
	struct jc_aws_call *c;
	CURLMsg *m;
	long ms;
	int i, n, running, left, done = 0;

	n = am.nsock;
	for (i = 0; i < n; i++) {
		pfd[i].fd = (int)am.sock[i].fd;
		pfd[i].events = pevents(am.sock[i].what);
		pfd[i].revents = 0;
	}
	if (curl_multi_timeout(am.multi, &ms) != CURLM_OK || ms < 0 ||
	    ms > 250)
		ms = 250;
	/* Connections made ahead (light sources) move meanwhile. */
	if (jc_loop_poll_light(pfd, n, (int)ms) <= 0)
		curl_multi_socket_action(am.multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			curl_multi_socket_action(am.multi, pfd[i].fd,
			    cselect(pfd[i].revents), &running);
	while ((m = curl_multi_info_read(am.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (e != NULL && m->easy_handle == e) {
			*rc = m->data.result;
			done = 1;
			continue;
		}
		for (c = am.calls; c != NULL && c->easy != m->easy_handle;
		    c = c->next)
			;
		if (c != NULL) {
			call_unlink(c);
			c->rc = m->data.result;
			c->next = am.finished;
			am.finished = c;
		}
	}
	return done;
}

/*
 * A call that waits while calls that do not are in flight: run it in
 * the same multi handle, so that they all move (curl_easy_perform would
 * hold the others back until it returns).  Only the transfers run here,
 * not the loop: the others' done() waits for the loop (am.finished).
 */
static CURLcode
perform_beside(CURL *e)
{
	CURLcode rc = CURLE_OK;
	int running;

	if (curl_multi_add_handle(am.multi, e) != CURLM_OK)
		return curl_easy_perform(e);
	curl_multi_socket_action(am.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	while (!multi_pass(e, &rc))
		;
	curl_multi_remove_handle(am.multi, e);
	return rc;
}

/*
 * After Ctrl-C or stop the loop no longer runs: before a session closes,
 * the calls still in flight get what is left of their grace
 * (stop_progress) and their done() runs, so that a session StartSession
 * made is known, and terminated by the close that follows.
 */
void
jc_aws_settle(void)
{
	int64_t end = jc_now_ms() + ENDING_CALL_MS;

	if (!jc_loop_ending() || am.multi == NULL)
		return;
	while (am.calls != NULL && jc_now_ms() < end)
		(void)multi_pass(NULL, NULL);
	while (am.finished != NULL)
		call_finish(am.finished, am.finished->rc);
}

int
jc_aws_json_start(const char *service, const char *target, const char *body,
    jc_aws_done_fn *done, void *arg, struct jc_aws_call **callp,
    struct jc_aws_error *err)
{
	struct jc_aws_error tmp;
	struct jc_aws_http h;
	struct jc_aws_call *c;
	const char *hdr[4];
	char sig[160], tgt[192];
	int r;

	if (err == NULL)
		err = &tmp;
	memset(err, 0, sizeof(*err));
	if (body == NULL)
		body = "{}";
	if ((r = call_ready(err)) != 0)
		return r;
	if (am.multi == NULL) {
		if ((am.multi = curl_multi_init()) == NULL) {
			snprintf(err->message, sizeof(err->message), "libcurl "
			    "is not usable");
			return JC_ERR_IO;
		}
		curl_multi_setopt(am.multi, CURLMOPT_SOCKETFUNCTION,
		    multi_sock_cb);
		curl_multi_setopt(am.multi, CURLMOPT_TIMERFUNCTION,
		    multi_timer_cb);
	}
	if (am.src == NULL && (am.src = jc_source_add(&multi_ops,
	    NULL)) == NULL)
		return JC_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return JC_ERR_NOMEM;
	c->done = done;
	c->arg = arg;
	iam_action(service, target, body, c->action, sizeof(c->action));
	if ((r = request_setup(&aws.creds, aws.region, service, target,
	    c->action, c->url, sizeof(c->url), sig, sizeof(sig), hdr, tgt,
	    sizeof(tgt), &c->tokhdr, err)) != 0)
		goto fail;
	r = JC_ERR_NOMEM;
	if ((c->body = strdup(body)) == NULL ||
	    (c->easy = curl_easy_init()) == NULL)
		goto fail;
	memset(&h, 0, sizeof(h));
	h.method = "POST";
	h.url = c->url;
	h.headers = hdr;
	h.body = c->body;
	h.bodylen = strlen(c->body);
	h.sigv4 = sig;
	h.creds = &aws.creds;
	h.timeout_ms = CALL_TIMEOUT_MS;
	h.connect_ms = CONNECT_TIMEOUT_MS;
	if (ending_budget(&h, err) != 0) {
		r = JC_ERR_UNREACHABLE;
		goto fail;
	}
	if ((r = http_setup(c->easy, &h, &c->s, c->errbuf, &c->hl)) != 0)
		goto fail;
	if (curl_multi_add_handle(am.multi, c->easy) != CURLM_OK) {
		snprintf(err->message, sizeof(err->message), "libcurl refused "
		    "the transfer");
		r = JC_ERR_IO;
		goto fail;
	}
	c->next = am.calls;
	am.calls = c;
	*callp = c;
	return 0;
 fail:
	if (c->easy != NULL) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	call_free(c);
	return r;
}

void
jc_aws_json_cancel(struct jc_aws_call *c)
{
	if (c == NULL)
		return;
	call_unlink(c);
	call_free(c);
}

/* Every call abandoned, the multi handle and its source gone. */
static void
multi_cleanup(void)
{
	while (am.calls != NULL)
		jc_aws_json_cancel(am.calls);
	if (am.src != NULL)
		jc_source_del(am.src);
	if (am.multi != NULL)
		curl_multi_cleanup(am.multi);
	memset(&am, 0, sizeof(am));
	am.timer_at = -1;
}

int
jc_aws_json(const char *service, const char *target, const char *body,
    char **out, struct jc_aws_error *err)
{
	return call(service, target, body != NULL ? body : "{}", out, err);
}

int
jc_aws_query(const char *service, const char *form, char **out,
    struct jc_aws_error *err)
{
	return call(service, NULL, form, out, err);
}

/* ---- plain words ----------------------------------------------------- */

static int
is(const struct jc_aws_error *e, const char *a, const char *b)
{
	return strcmp(e->code, a) == 0 ||
	    (b != NULL && strcmp(e->code, b) == 0);
}

const char *
jc_aws_explain(const struct jc_aws_error *e)
{
	static char s[1400];
	char action[160], who[256];
	const char *src = aws.have_creds ? aws.creds.source :
	    "the configured credentials";
	const char *p, *q;

	if (e == NULL)
		return "unknown AWS error";
	if (e->code[0] == '\0') {
		/* Our own sentence (credentials, transport) or a status. */
		if (e->http_status == 0)
			snprintf(s, sizeof(s), "%s", e->message);
		else
			snprintf(s, sizeof(s), "AWS answered %s", e->message);
		return s;
	}
	if (is(e, "AccessDenied", "AccessDeniedException") ||
	    is(e, "UnauthorizedOperation", "UnauthorizedException") ||
	    is(e, "NotAuthorized", NULL)) {
		if (jc_aws_denied_action(e->message, action,
		    sizeof(action)) != 0) {
			if (strcmp(e->code, aws.last_err.code) == 0 &&
			    strcmp(e->message, aws.last_err.message) == 0 &&
			    aws.last_action[0] != '\0')
				snprintf(action, sizeof(action), "%s",
				    aws.last_action);
			else
				snprintf(action, sizeof(action), "this call");
		}
		who[0] = '\0';
		if ((p = strstr(e->message, "User: ")) != NULL &&
		    (q = strchr(p + 6, ' ')) != NULL)
			snprintf(who, sizeof(who), " for %.*s",
			    (int)(q - p - 6 > 200 ? 200 : q - p - 6), p + 6);
		snprintf(s, sizeof(s), "AWS denied %s%s: the IAM policy of "
		    "these credentials (%s) must allow the action %s",
		    action, who, src, action);
		return s;
	}
	if (is(e, "UnrecognizedClientException", "InvalidClientTokenId") ||
	    is(e, "InvalidAccessKeyId", "AuthFailure")) {
		snprintf(s, sizeof(s), "AWS does not recognise the access key "
		    "from %s: check the key id (or that it belongs to this "
		    "partition/region) and that it has not been deleted "
		    "(%s: %s)", src, e->code, e->message);
		return s;
	}
	if (is(e, "ExpiredToken", "ExpiredTokenException") ||
	    is(e, "InvalidToken", NULL)) {
		snprintf(s, sizeof(s), "the AWS session token from %s has "
		    "expired: get fresh credentials (for SSO, run aws sso "
		    "login) and try again", src);
		return s;
	}
	if (is(e, "RequestExpired", NULL) ||
	    (is(e, "SignatureDoesNotMatch", "InvalidSignatureException") &&
	    strstr(e->message, "expired") != NULL)) {
		snprintf(s, sizeof(s), "AWS says the request was signed at the "
		    "wrong time: check this machine's clock (%s)", e->message);
		return s;
	}
	if (is(e, "SignatureDoesNotMatch", "InvalidSignatureException") ||
	    is(e, "IncompleteSignature", "IncompleteSignatureException")) {
		snprintf(s, sizeof(s), "AWS rejected the request signature: "
		    "the secret access key from %s does not match its key id",
		    src);
		return s;
	}
	if (is(e, "MissingAuthenticationToken",
	    "MissingAuthenticationTokenException")) {
		snprintf(s, sizeof(s), "AWS saw no credentials in the request "
		    "(%s)", e->message);
		return s;
	}
	if (jc_aws_error_retryable(e)) {
		snprintf(s, sizeof(s), "AWS kept throttling or failing the "
		    "requests (%s: %s) after %d attempts; wait a minute and "
		    "try again", e->code, e->message, aws.max_attempts ?
		    aws.max_attempts : DEFAULT_ATTEMPTS);
		return s;
	}
	if (is(e, "TargetNotConnected", NULL)) {
		snprintf(s, sizeof(s), "the instance is not connected to "
		    "Session Manager: it may be stopped, its SSM agent may be "
		    "offline or missing, it may lack an instance profile with "
		    "AmazonSSMManagedInstanceCore, or it is in another region "
		    "or account than %s (%s)", aws.region[0] ? aws.region :
		    "the one configured", e->message);
		return s;
	}
	if (is(e, "InvalidDocument", NULL)) {
		snprintf(s, sizeof(s), "the Session Manager document is "
		    "missing or not usable in this account and region (%s)",
		    e->message);
		return s;
	}
	if (is(e, "IncorrectInstanceState",
	    "EC2InstanceStateInvalidException")) {
		snprintf(s, sizeof(s), "the instance is not in a state that "
		    "allows this right now (for example still stopping or "
		    "starting): %s", e->message);
		return s;
	}
	if (is(e, "InvalidInstanceID.NotFound",
	    "EC2InstanceNotFoundException")) {
		snprintf(s, sizeof(s), "no such instance in %s: %s",
		    aws.region[0] ? aws.region : "this region", e->message);
		return s;
	}
	if (is(e, "ValidationError", "ValidationException")) {
		snprintf(s, sizeof(s), "AWS rejected the request: %s",
		    e->message);
		return s;
	}
	snprintf(s, sizeof(s), "AWS error %s: %s", e->code, e->message);
	return s;
}

int
jc_aws_fail(struct jc_aws_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return r;
}

int
jc_aws_read_file(const char *path, size_t max, char **out, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	*out = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? JC_ERR_NOTFOUND : JC_ERR_IO;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return JC_ERR_NOMEM;
	}
	while (len < max && (n = read(fd, buf + len, max - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			jc_wipe(buf, len);
			free(buf);
			errno = e;
			return JC_ERR_IO;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

int
jc_aws_write_file(const char *path, const char *data)
{
	char tmp[1300];
	size_t len = strlen(data), off = 0;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return JC_ERR_IO;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return JC_ERR_IO;
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off < len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return JC_ERR_IO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return JC_ERR_IO;
	}
	return 0;
}

int
jc_aws_sha1_hex(const char *s, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) != 1 ||
	    n != 20)
		return JC_ERR_INTERNAL;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
	return 0;
}
