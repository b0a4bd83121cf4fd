/*
 * aws_cred.c - where AWS credentials come from (aws-wire.md, "Credentials
 * and region"), in the order of the AWS SDKs: the environment; in the
 * profile, role_arn with source_profile or credential_source (STS
 * AssumeRole, with an MFA code asked on the terminal when mfa_serial is
 * set, the session then kept in the AWS CLI's cache: aws_rolecache.c),
 * a web identity token (also from AWS_WEB_IDENTITY_TOKEN_FILE),
 * IAM Identity Center (aws_sso.c), keys, credential_process; then the
 * container credentials endpoint and the instance metadata service.
 *
 * Like botocore, an explicit --profile skips the environment keys, and a
 * profile that names a role_arn means that role even when it also holds
 * keys (the self-referencing source_profile pattern).  Secrets are never
 * logged and are wiped from every buffer that held them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "aws_int.h"
#include "aws_cred.h"
#include "aws_mfa.h"
#include "aws_rolecache.h"
#include "aws_sso.h"
#include "aws_webid.h"
#include "compat.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "loop.h"

#define PROCESS_OUT_MAX		(64u << 10)
#define PROCESS_TIMEOUT_S	120
#define MAX_ROLE_DEPTH		5

static int
set_source(struct jc_aws_creds *c, const char *fmt, ...) JC_PRINTF(2, 3);

static int
set_source(struct jc_aws_creds *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->source, sizeof(c->source), fmt, ap);
	va_end(ap);
	return 0;
}

static int
dup_creds(struct jc_aws_creds *c, const char *akid, const char *secret,
    const char *token)
{
	struct jc_aws_creds n;

	memset(&n, 0, sizeof(n));
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

/* Refuse credentials that have already expired, with a clear sentence. */
static int
check_expiry(const struct jc_aws_creds *c, struct jc_aws_error *err)
{
	char when[32];
	struct tm tm;

	if (c->expires == 0 || c->expires > time(NULL))
		return 0;
	gmtime_r(&c->expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return jc_aws_fail(err, JC_ERR_AWS_AUTH, "the AWS credentials from %s "
	    "expired at %s: get fresh ones (for SSO, run jconnect login) and "
	    "try again", c->source, when);
}

/* ---- environment ----------------------------------------------------- */

/* 0 with creds, JC_ERR_NOTFOUND when not set, or an error. */
static int
env_creds(struct jc_aws_creds *c, struct jc_aws_error *err)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *key = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");
	const char *exp = getenv("AWS_CREDENTIAL_EXPIRATION");
	int r;

	if ((id == NULL || *id == '\0') && (key == NULL || *key == '\0'))
		return JC_ERR_NOTFOUND;
	if (id == NULL || *id == '\0' || key == NULL || *key == '\0')
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "%s is set but %s is not: "
		    "set both, or neither", id != NULL && *id != '\0' ?
		    "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    id != NULL && *id != '\0' ? "AWS_SECRET_ACCESS_KEY" :
		    "AWS_ACCESS_KEY_ID");
	if (tok == NULL || *tok == '\0')
		tok = getenv("AWS_SECURITY_TOKEN");
	if ((r = dup_creds(c, id, key, tok)) != 0)
		return r;
	if (exp != NULL && *exp != '\0' &&
	    jc_aws_time_parse(exp, &c->expires) != 0)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "AWS_CREDENTIAL_EXPIRATION is "
		    "not an ISO 8601 time");
	set_source(c, "environment (AWS_ACCESS_KEY_ID%s)",
	    c->token != NULL ? " with AWS_SESSION_TOKEN" : "");
	return 0;
}

/* ---- instance metadata ----------------------------------------------- */

static int
imds_creds(struct jc_aws_creds *c, struct jc_aws_error *err)
{
	char *role = NULL, *json = NULL, path[512], why[512], *nl;
	size_t len = 0, jlen = 0;
	int r;

	r = jc_aws_imds_get("/latest/meta-data/iam/security-credentials/",
	    &role, &len, why, sizeof(why));
	if (r == JC_ERR_UNSUPPORTED)
		return JC_ERR_NOTFOUND;
	if (r == JC_ERR_NOMEM)
		return r;
	if (r != 0) {
		jc_debug("instance metadata: %s", why);
		return JC_ERR_NOTFOUND;
	}
	if ((nl = strpbrk(role, "\r\n")) != NULL)
		*nl = '\0';
	if (*role == '\0' || strchr(role, '/') != NULL ||
	    strlen(role) > 128) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "this instance has no usable IAM "
		    "role in its instance profile");
		goto out;
	}
	snprintf(path, sizeof(path),
	    "/latest/meta-data/iam/security-credentials/%s", role);
	if ((r = jc_aws_imds_get(path, &json, &jlen, why, sizeof(why))) != 0) {
		r = r == JC_ERR_NOMEM ? r : jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "cannot read the role credentials from the instance "
		    "metadata service: %s", why);
		goto out;
	}
	if ((r = jc_aws_creds_json(json, jlen, JC_CREDS_IMDS, c, why,
	    sizeof(why))) != 0) {
		r = r == JC_ERR_NOMEM ? r : jc_aws_fail(err, r, "instance metadata "
		    "credentials: %s", why);
		goto out;
	}
	set_source(c, "instance metadata (IMDSv2, role %s)", role);
	r = 0;
 out:
	free(role);
	if (json != NULL) {
		jc_wipe(json, jlen);
		free(json);
	}
	return r;
}

/* ---- credential_process ---------------------------------------------- */

static int
process_timeout_s(void)
{
	return (int)jc_config_num("aws.credential_process_timeout",
	    PROCESS_TIMEOUT_S);
}

static int
process_creds(const char *profile, const char *cmd, struct jc_aws_creds *c,
    struct jc_aws_error *err)
{
	struct pollfd pfd;
	char *buf = NULL, why[256];
	size_t len = 0;
	ssize_t n;
	int64_t end;
	pid_t pid = -1;
	int fds[2] = { -1, -1 }, st = 0, r, devnull, left;

	if ((buf = malloc(PROCESS_OUT_MAX + 1)) == NULL)
		return JC_ERR_NOMEM;
	if (pipe(fds) != 0) {
		r = jc_aws_fail(err, JC_ERR_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	jc_verbose("running credential_process of profile %s", profile);
	if ((pid = fork()) == -1) {
		r = jc_aws_fail(err, JC_ERR_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* stdin and stdout may be relayed bytes (proxy): keep out. */
		if ((devnull = open("/dev/null", O_RDONLY)) > 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(fds[1], 1);
		/* Nor our sockets (AWS, the tunnel's): only 0, 1 and 2. */
		jc_close_from(3);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	end = jc_now_ms() + (int64_t)process_timeout_s() * 1000;
	for (;;) {
		if ((left = (int)(end - jc_now_ms())) <= 0) {
			kill(pid, SIGKILL);
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "credential_process of "
			    "profile %s did not finish within %d s", profile,
			    process_timeout_s());
			goto out;
		}
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, left)) <= 0) {
			if (n < 0 && errno == EINTR && jc_loop_stopping()) {
				kill(pid, SIGKILL);
				r = JC_ERR_INTR;
				goto out;
			}
			continue;
		}
		if (len == PROCESS_OUT_MAX) {
			kill(pid, SIGKILL);
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "credential_process of "
			    "profile %s printed more than %u bytes", profile,
			    PROCESS_OUT_MAX);
			goto out;
		}
		n = read(fds[0], buf + len, PROCESS_OUT_MAX - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	pid = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r = jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "credential_process of profile %s "
		    "failed (%s %d); its messages are above", profile,
		    WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		goto out;
	}
	if ((r = jc_aws_creds_json(buf, len, JC_CREDS_PROCESS, c, why,
	    sizeof(why))) != 0) {
		if (r != JC_ERR_NOMEM)
			r = jc_aws_fail(err, r, "credential_process of profile %s: %s",
			    profile, why);
		goto out;
	}
	set_source(c, "credential_process of profile %s", profile);
	r = check_expiry(c, err);
 out:
	if (pid > 0)
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	jc_wipe(buf, len);
	free(buf);
	return r;
}

/* ---- profiles and roles ---------------------------------------------- */

/* Keys written in the profile itself; JC_ERR_NOTFOUND when none. */
static int
static_creds(const char *profile, struct jc_aws_creds *c,
    struct jc_aws_error *err)
{
	const char *id, *key, *tok;
	int r;

	id = jc_aws_setting(profile, "aws_access_key_id");
	key = jc_aws_setting(profile, "aws_secret_access_key");
	if (id == NULL && key == NULL)
		return JC_ERR_NOTFOUND;
	if (id == NULL || *id == '\0' || key == NULL || *key == '\0')
		return jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "profile %s has %s but not %s",
		    profile, id != NULL ? "aws_access_key_id" :
		    "aws_secret_access_key", id != NULL ?
		    "aws_secret_access_key" : "aws_access_key_id");
	tok = jc_aws_setting(profile, "aws_session_token");
	if (tok == NULL)
		tok = jc_aws_setting(profile, "aws_security_token");
	if ((r = dup_creds(c, id, key, tok)) != 0)
		return r;
	set_source(c, "profile %s in %s", profile,
	    jc_aws_setting_where(profile, "aws_access_key_id"));
	return 0;
}

static int profile_creds(const char *profile, int depth,
    struct jc_aws_creds *c, struct jc_aws_error *err);

/*
 * duration_seconds of a role profile, as botocore reads it: a whole
 * number is sent as DurationSeconds (STS takes 900 to 43200, at most the
 * role's maximum session); anything else is ignored, as the AWS CLI
 * ignores it, but said once.  -1 when unset.
 */
static long
role_duration(const char *profile)
{
	static int warned;
	const char *v = jc_aws_setting(profile, "duration_seconds");

	if (v == NULL)
		return -1;
	if (*v != '\0' && strlen(v) <= 9 && strspn(v, "0123456789") ==
	    strlen(v))
		return strtol(v, NULL, 10);
	if (!warned)
		jc_warn("duration_seconds \"%s\" of profile %s is not a whole "
		    "number of seconds; ignored, as the AWS CLI does (STS's "
		    "default of one hour applies)", v, profile);
	warned = 1;
	return -1;
}

/* STS refused duration_seconds: say which setting and what it takes. */
static int
duration_refused(const char *profile, const char *role, long dur,
    struct jc_aws_error *err)
{
	char why[420];

	snprintf(why, sizeof(why), "%.100s: %.300s", err->code, err->message);
	return jc_aws_fail(err, JC_ERR_AWS_AUTH, "STS refused duration_seconds "
	    "%ld of profile %s for role %s (%s): set 900 to 43200 seconds, at "
	    "most the role's maximum session duration", dur, profile, role,
	    why);
}

/*
 * STS AssumeRole with the source credentials src; with mfa_serial, code
 * is the MFA code, and a key keeps the answer in the cache.
 */
static int
assume_role(const char *profile, const struct jc_aws_rolecall *rc,
    const struct jc_aws_creds *src, const char *code, const char *key,
    struct jc_aws_creds *c, struct jc_aws_error *err)
{
	struct jc_xml *root = NULL;
	const char *name, *region, *mfa = rc->mfa_serial, *role = rc->role_arn;
	char form[4096], enc[2048], sess[128], *out = NULL;
	size_t outlen = 0, n;
	int r;

	if ((name = rc->session_name) == NULL || *name == '\0') {
		snprintf(sess, sizeof(sess), "jconnect-%lld",
		    (long long)time(NULL));
		name = sess;
	}
	n = (size_t)snprintf(form, sizeof(form),
	    "Action=AssumeRole&Version=2011-06-15&RoleArn=");
	r = JC_ERR_USAGE;
	if (jc_aws_form_escape(enc, sizeof(enc), role) != 0) {
		jc_aws_fail(err, r, "role_arn of profile %s is too long", profile);
		goto out;
	}
	n += (size_t)snprintf(form + n, sizeof(form) - n, "%s&RoleSessionName=",
	    enc);
	if (jc_aws_form_escape(enc, sizeof(enc), name) != 0) {
		jc_aws_fail(err, r, "role_session_name too long");
		goto out;
	}
	n += (size_t)snprintf(form + n, sizeof(form) - n, "%s", enc);
	if (rc->external_id != NULL) {
		if (jc_aws_form_escape(enc, sizeof(enc), rc->external_id) != 0) {
			jc_aws_fail(err, r, "external_id too long");
			goto out;
		}
		n += (size_t)snprintf(form + n, sizeof(form) - n,
		    "&ExternalId=%s", enc);
	}
	if (rc->duration >= 0)
		n += (size_t)snprintf(form + n, sizeof(form) - n,
		    "&DurationSeconds=%ld", rc->duration);
	if (mfa != NULL) {
		if (jc_aws_form_escape(enc, sizeof(enc), mfa) != 0) {
			jc_aws_fail(err, r, "mfa_serial too long");
			goto out;
		}
		n += (size_t)snprintf(form + n, sizeof(form) - n,
		    "&SerialNumber=%s&TokenCode=%s", enc, code);
	}
	if (n >= sizeof(form)) {
		r = jc_aws_fail(err, JC_ERR_USAGE, "AssumeRole request too long");
		goto out;
	}
	/* STS works in every region; us-east-1 when none is configured. */
	if ((region = jc_aws_region()) == NULL)
		region = "us-east-1";
	jc_verbose("assuming role %s for profile %s with %s", role, profile,
	    src->source);
	r = jc_aws_call(src, region, "sts", NULL, form, &out, &outlen, err);
	jc_wipe(form, sizeof(form));
	if (r != 0) {
		jc_verbose("AssumeRole %s failed", role);
		if (rc->duration >= 0 &&
		    strcmp(err->code, "ValidationError") == 0 &&
		    strstr(err->message, "urationSeconds") != NULL)
			r = duration_refused(profile, role, rc->duration, err);
		else if (mfa != NULL && r == JC_ERR_AWS_AUTH) {
			snprintf(enc, sizeof(enc), "%.100s: %.300s", err->code,
			    err->message);
			r = jc_aws_fail(err, r, "STS refused role %s with the MFA code "
			    "of %s (%s): check the code and try again", role,
			    mfa, enc);
		}
		goto out;
	}
	if ((r = jc_xml_parse(out, outlen, &root)) != 0 ||
	    (r = jc_aws_creds_sts(root, c)) != 0) {
		r = r == JC_ERR_NOMEM ? r : jc_aws_fail(err, JC_ERR_AWS_AUTH,
		    "STS AssumeRole for %s gave an answer without "
		    "credentials", role);
		goto out;
	}
	set_source(c, "role %s (profile %s, via %s)", role, profile,
	    src->source);
	if (key != NULL)
		(void)jc_aws_rolecache_put(key, c, jc_xml_text(root,
		    "AssumeRoleResult/AssumedRoleUser/Arn"), jc_xml_text(root,
		    "AssumeRoleResult/AssumedRoleUser/AssumedRoleId"));
	r = 0;
 out:
	jc_xml_free(root);
	if (out != NULL) {
		jc_wipe(out, outlen);
		free(out);
	}
	return r;
}

/*
 * The source credentials of a role profile (source_profile or
 * credential_source).
 */
static int
role_source(const char *profile, int depth, struct jc_aws_creds *src,
    struct jc_aws_error *err)
{
	const char *sp, *cs;
	int r;

	sp = jc_aws_setting(profile, "source_profile");
	cs = jc_aws_setting(profile, "credential_source");
	if (sp != NULL && cs != NULL)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s has both "
		    "source_profile and credential_source; keep one", profile);
	if (sp != NULL) {
		if (!jc_aws_has_profile(sp))
			return jc_aws_fail(err, JC_ERR_AWS_AUTH,
			    "source_profile %s of "
			    "profile %s is not in %s or %s", sp, profile,
			    jc_aws_config_path(), jc_aws_credentials_path());
		/* Self-reference: this profile's own keys assume its role. */
		if (strcmp(sp, profile) == 0)
			r = static_creds(sp, src, err);
		else
			r = profile_creds(sp, depth + 1, src, err);
		if (r == JC_ERR_NOTFOUND)
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH, "source_profile %s of "
			    "profile %s has no credentials", sp, profile);
	} else if (cs != NULL) {
		if (strcmp(cs, "Environment") == 0)
			r = env_creds(src, err);
		else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
			r = imds_creds(src, err);
		else if (strcmp(cs, "EcsContainer") == 0)
			r = jc_aws_container_creds(src, err);
		else
			return jc_aws_fail(err, JC_ERR_AWS_AUTH,
			    "credential_source %s "
			    "of profile %s is not supported (Environment, "
			    "Ec2InstanceMetadata or EcsContainer)", cs,
			    profile);
		if (r == JC_ERR_NOTFOUND)
			r = jc_aws_fail(err, JC_ERR_AWS_AUTH,
			    "credential_source %s of "
			    "profile %s gave no credentials", cs, profile);
	} else
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s has role_arn but "
		    "neither source_profile nor credential_source", profile);
	if (r == 0)
		r = check_expiry(src, err);
	return r;
}

/*
 * A role that needs an MFA code and no terminal to ask on.  The first
 * time this happens after this process had such credentials (a tunnel
 * that outlived them), the log and --json say it once: the tunnel keeps
 * reading the cache at each reconnect attempt, so a code entered in a
 * terminal (jconnect or the AWS CLI) brings it back.
 */
static int mfa_had, mfa_told;
static char hint_target[256];		/* TARGET as typed, for messages */

void
jc_aws_creds_target(const char *target)
{
	snprintf(hint_target, sizeof(hint_target), "%s",
	    target != NULL ? target : "");
}

static int
mfa_no_tty(const char *profile, const char *serial, struct jc_aws_error *err)
{
	const char *pf = jc_aws_profile_explicit() ? " --profile " : "";
	const char *pn = jc_aws_profile_explicit() ? profile : "";
	char how[700];

	if (mfa_had && hint_target[0] != '\0')
		snprintf(how, sizeof(how), "run jconnect url %s (or jconnect "
		    "resolve%s%s %s) in a terminal to enter a new code",
		    hint_target, pf, pn, hint_target);
	else if (mfa_had)
		snprintf(how, sizeof(how), "run jconnect url TARGET with this "
		    "tunnel's TARGET (or jconnect resolve%s%s TARGET) in a "
		    "terminal to enter a new code", pf, pn);
	else
		snprintf(how, sizeof(how), "run jconnect from a terminal, or "
		    "use a profile without mfa_serial");
	jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s needs an MFA code "
	    "(mfa_serial %s) and there is no terminal to ask for it: %s",
	    profile, serial, how);
	if (mfa_had && !mfa_told) {
		jc_warn("the MFA session of profile %s is running out and "
		    "needs a new code; %s (or use the AWS CLI there): this "
		    "tunnel picks it up from %s", profile, how,
		    jc_aws_rolecache_dir());
		jc_event("credentials", "state", "mfa_code_needed", "profile",
		    profile, "message", err->message, (char *)NULL);
		mfa_told = 1;
	}
	return JC_ERR_AWS_AUTH;
}

/* The AssumeRole call a role profile makes. */
static void
role_call(const char *profile, const char *role, struct jc_aws_rolecall *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->role_arn = role;
	rc->session_name = jc_aws_setting(profile, "role_session_name");
	rc->external_id = jc_aws_setting(profile, "external_id");
	rc->mfa_serial = jc_aws_setting(profile, "mfa_serial");
	rc->duration = role_duration(profile);
}

/*
 * The code typed at the prompt ask_beside put up: a new MFA session,
 * kept in the cache where the next call that needs credentials finds
 * it.  STS refusing it (a mistyped code) asks again.
 */
static void
mfa_typed(const char *profile, const char *serial, const char *code)
{
	struct jc_aws_rolecall rc;
	struct jc_aws_creds src, c;
	struct jc_aws_error err;
	const char *role = jc_aws_setting(profile, "role_arn");
	char key[41];
	int r;

	memset(&src, 0, sizeof(src));
	memset(&c, 0, sizeof(c));
	memset(&err, 0, sizeof(err));
	if (role == NULL)
		return;		/* the config changed meanwhile */
	role_call(profile, role, &rc);
	if (rc.mfa_serial == NULL || strcmp(rc.mfa_serial, serial) != 0 ||
	    jc_aws_rolecache_key(&rc, key) != 0)
		return;
	if ((r = role_source(profile, 0, &src, &err)) == 0)
		r = assume_role(profile, &rc, &src, code, key, &c, &err);
	jc_aws_creds_clear(&src);
	jc_aws_creds_clear(&c);
	if (r != 0) {
		jc_error("%s", err.message);
		if (r == JC_ERR_AWS_AUTH)
			(void)jc_aws_mfa_ask(profile, serial, mfa_typed);
		return;
	}
	jc_info("new MFA credentials for profile %s; carrying on", profile);
	mfa_had = 1;
	mfa_told = 0;
}

/*
 * A tunnel is up: the question goes on its terminal and the tunnel
 * carries on.  Until the code comes, calls that need these credentials
 * fail as they do with no terminal, and the sessions it has keep going.
 */
static int
ask_beside(const char *profile, const char *serial, struct jc_aws_error *err)
{
	if (jc_aws_mfa_ask(profile, serial, mfa_typed) != 0)
		return mfa_no_tty(profile, serial, err);
	if (!mfa_told) {
		jc_event("credentials", "state", "mfa_code_needed", "profile",
		    profile, "message", "asked on the terminal", (char *)NULL);
		mfa_told = 1;
	}
	return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s needs a new MFA "
	    "code (mfa_serial %s): type it at jconnect's prompt", profile,
	    serial);
}

static int
role_creds(const char *profile, const char *role, int depth,
    struct jc_aws_creds *c, struct jc_aws_error *err)
{
	struct jc_aws_rolecall rc;
	struct jc_aws_creds src;
	char key[41], code[16] = "";
	int r, tty = -1, cache;

	memset(&src, 0, sizeof(src));
	if (depth >= MAX_ROLE_DEPTH)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "profile %s: source_profile "
		    "chain longer than %d (a loop?)", profile, MAX_ROLE_DEPTH);
	role_call(profile, role, &rc);
	/* An MFA session shared with the AWS CLI: no code while it lasts. */
	cache = rc.mfa_serial != NULL && jc_aws_rolecache_key(&rc, key) == 0;
	if (cache) {
		if ((r = jc_aws_rolecache_get(key,
		    JC_AWS_REFRESH_MARGIN_S, c)) == 0) {
			set_source(c, "role %s (profile %s, its MFA session "
			    "cached in %s/%s.json)", role, profile,
			    jc_aws_rolecache_dir(), key);
			if (mfa_told)
				jc_info("new MFA credentials for profile %s "
				    "found in %s; carrying on", profile,
				    jc_aws_rolecache_dir());
			mfa_had = 1;
			mfa_told = 0;
			return 0;
		}
		if (r == JC_ERR_NOMEM)
			return r;
	}
	if (rc.mfa_serial != NULL && jc_aws_mfa_beside_on())
		return ask_beside(profile, rc.mfa_serial, err);
	if (rc.mfa_serial != NULL && (tty = jc_aws_mfa_tty()) == -1)
		return mfa_no_tty(profile, rc.mfa_serial, err);
	r = role_source(profile, depth, &src, err);
	if (r == 0 && tty != -1)
		r = jc_aws_mfa_read(tty, profile, rc.mfa_serial, code,
		    sizeof(code), err);		/* closes tty */
	else if (tty != -1)
		close(tty);
	if (r == 0)
		r = assume_role(profile, &rc, &src, code, cache ? key : NULL, c,
		    err);
	jc_wipe(code, sizeof(code));
	jc_aws_creds_clear(&src);
	if (r == 0 && rc.mfa_serial != NULL) {
		mfa_had = 1;
		mfa_told = 0;
	}
	return r;
}

/*
 * A web identity of the profile (web_identity_token_file with role_arn),
 * else of the environment (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN),
 * each setting from the profile first, as botocore reads them.
 */
static int
webid_creds(const char *profile, struct jc_aws_creds *c,
    struct jc_aws_error *err)
{
	const char *file, *role, *sess;
	char what[256];

	file = jc_aws_setting(profile, "web_identity_token_file");
	role = jc_aws_setting(profile, "role_arn");
	sess = jc_aws_setting(profile, "role_session_name");
	if (file != NULL)
		snprintf(what, sizeof(what), "profile %s", profile);
	else {
		file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
		snprintf(what, sizeof(what), "AWS_WEB_IDENTITY_TOKEN_FILE");
	}
	if (file == NULL || *file == '\0')
		return JC_ERR_NOTFOUND;
	if (role == NULL)
		role = getenv("AWS_ROLE_ARN");
	if (sess == NULL)
		sess = getenv("AWS_ROLE_SESSION_NAME");
	if (role == NULL || *role == '\0')
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "a web identity token file "
		    "is set (%s) but no role: set role_arn in the profile or "
		    "AWS_ROLE_ARN", what);
	return jc_aws_webid_creds(what, role, file, sess, c, err);
}

/*
 * Credentials of one profile, in botocore's order: role_arn with a
 * source (see the top comment), web identity (the environment's too,
 * for the profile in use), SSO, keys, then credential_process.  A source
 * profile (depth > 0) with keys uses them even when it names a role, as
 * botocore does.  Returns JC_ERR_NOTFOUND when the profile configures
 * none of these.
 */
static int
profile_creds(const char *profile, int depth, struct jc_aws_creds *c,
    struct jc_aws_error *err)
{
	const char *role, *proc, *wif;
	int r;

	role = jc_aws_setting(profile, "role_arn");
	wif = jc_aws_setting(profile, "web_identity_token_file");
	if (depth > 0 &&
	    (r = static_creds(profile, c, err)) != JC_ERR_NOTFOUND)
		return r;
	if (role != NULL && wif == NULL)
		return role_creds(profile, role, depth, c, err);
	if ((wif != NULL || depth == 0) &&
	    (r = webid_creds(profile, c, err)) != JC_ERR_NOTFOUND)
		return r;
	if ((r = jc_aws_sso_creds(profile, c, err)) != JC_ERR_NOTFOUND)
		return r;
	if ((r = static_creds(profile, c, err)) != JC_ERR_NOTFOUND)
		return r;
	if ((proc = jc_aws_setting(profile, "credential_process")) != NULL &&
	    *proc != '\0')
		return process_creds(profile, proc, c, err);
	return JC_ERR_NOTFOUND;
}

int
jc_aws_creds_chain(struct jc_aws_creds *c, struct jc_aws_error *err)
{
	const char *profile = jc_aws_profile();
	int r;

	memset(err, 0, sizeof(*err));
	jc_aws_creds_clear(c);
	if (!jc_aws_profile_explicit()) {
		if ((r = env_creds(c, err)) == 0)
			return check_expiry(c, err);
		if (r != JC_ERR_NOTFOUND)
			return r;
	}
	if ((r = profile_creds(profile, 0, c, err)) == 0)
		return check_expiry(c, err);
	if (r != JC_ERR_NOTFOUND)
		return r;
	if ((r = jc_aws_container_creds(c, err)) == 0)
		return check_expiry(c, err);
	if (r != JC_ERR_NOTFOUND)
		return r;
	if ((r = imds_creds(c, err)) == 0)
		return check_expiry(c, err);
	if (r != JC_ERR_NOTFOUND)
		return r;
	return jc_aws_fail(err, JC_ERR_AWS_AUTH, "no AWS credentials found: looked "
	    "at %sprofile %s in %s and %s, and the instance metadata service%s;"
	    " run aws configure, set AWS_PROFILE or AWS_ACCESS_KEY_ID, or pass "
	    "--profile", jc_aws_profile_explicit() ? "" :
	    "AWS_ACCESS_KEY_ID, ", profile, jc_aws_credentials_path(),
	    jc_aws_config_path(), jc_aws_imds_disabled() ?
	    " (disabled by AWS_EC2_METADATA_DISABLED)" : "");
}

int
jc_aws_setup(const char *profile, const char *region)
{
	/* The client below signs with what this chain finds. */
	jc_aws_set_creds_source(jc_aws_creds_chain);
	return jc_aws_profile_setup(profile, region);
}
