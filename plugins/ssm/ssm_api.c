/*
 * ssm_api.c - StartSession, ResumeSession and TerminateSession through the
 * host's signed AWS JSON 1.1 client (host->aws_json).  Answers carry the
 * session token: they are wiped before they are freed, never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "compat.h"
#include "ssm_host.h"
#include "ssm_api.h"

#define REASON		"jconnect"

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	jc_wipe(s, strlen(s));
	ssm_host->free(s);
}

static char *
dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

void
ssm_start_clear(struct ssm_start *st)
{
	if (st->token != NULL) {
		jc_wipe(st->token, strlen(st->token));
		free(st->token);
	}
	free(st->url);
	memset(st, 0, sizeof(*st));
}

char *
ssm_api_start_body(const char *target, const char *doc,
    const char *const *params)
{
	cJSON *root, *pm, *arr;
	char *s = NULL;
	size_t i;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "Target", target) == NULL ||
	    cJSON_AddStringToObject(root, "DocumentName", doc) == NULL ||
	    (pm = cJSON_AddObjectToObject(root, "Parameters")) == NULL)
		goto out;
	for (i = 0; params != NULL && params[i] != NULL &&
	    params[i + 1] != NULL; i += 2) {
		if ((arr = cJSON_AddArrayToObject(pm, params[i])) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, cJSON_CreateString(params[i + 1]));
	}
	if (cJSON_AddStringToObject(root, "Reason", REASON) == NULL)
		goto out;
	s = cJSON_PrintUnformatted(root);
 out:
	cJSON_Delete(root);
	return s;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(j) && *j->valuestring != '\0' ?
	    j->valuestring : NULL;
}

int
ssm_api_start(const char *target, const char *doc, const char *const *params,
    struct ssm_start *st)
{
	return ssm_api_start_ex(target, doc, params, st, 0);
}

int
ssm_api_start_ex(const char *target, const char *doc,
    const char *const *params, struct ssm_start *st, int probe)
{
	struct jc_aws_error err;
	char *body = NULL, *out = NULL;
	int r;

	memset(st, 0, sizeof(*st));
	memset(&err, 0, sizeof(err));
	if ((body = ssm_api_start_body(target, doc, params)) == NULL)
		return JC_ERR_NOMEM;
	r = ssm_host->aws_json("ssm", "AmazonSSM.StartSession", body, &out,
	    &err);
	if (r != 0) {
		if (r == JC_ERR_UNREACHABLE ||
		    strcmp(err.code, "TargetNotConnected") == 0) {
			ssm_log(JC_LOG_ERROR, "Session Manager cannot reach "
			    "%s: %s", target, ssm_host->aws_explain(&err));
			r = JC_ERR_UNREACHABLE;
		} else if (probe && (strcmp(err.code, "AccessDenied") == 0 ||
		    strcmp(err.code, "AccessDeniedException") == 0 ||
		    strcmp(err.code, "InvalidDocument") == 0)) {
			/* A policy may allow other documents: not fatal. */
			ssm_log(JC_LOG_VERBOSE, "StartSession (%s) for %s: %s",
			    doc, target, ssm_host->aws_explain(&err));
			r = SSM_PROBE_REFUSED;
		} else
			ssm_log(JC_LOG_ERROR, "StartSession (%s) for %s "
			    "failed: %s", doc, target,
			    ssm_host->aws_explain(&err));
		goto out;
	}
	if ((r = ssm_api_parse_start(out, target, st)) == 0)
		ssm_log(JC_LOG_VERBOSE, "session %s started (%s)", st->sid,
		    doc);
 out:
	wipe_free(out);
	cJSON_free(body);
	return r;
}

int
ssm_api_parse_start(const char *out, const char *target, struct ssm_start *st)
{
	cJSON *root, *t;
	const char *sid, *tok, *url;
	int r = JC_ERR_PROTO;

	memset(st, 0, sizeof(*st));
	if ((root = cJSON_Parse(out)) == NULL ||
	    (sid = jstr(root, "SessionId")) == NULL ||
	    (tok = jstr(root, "TokenValue")) == NULL ||
	    (url = jstr(root, "StreamUrl")) == NULL ||
	    strlen(sid) >= sizeof(st->sid)) {
		ssm_log(JC_LOG_ERROR, "StartSession for %s: the answer lacks "
		    "SessionId, TokenValue or StreamUrl", target);
		goto out;
	}
	snprintf(st->sid, sizeof(st->sid), "%s", sid);
	if ((st->token = dup_str(tok)) == NULL ||
	    (st->url = dup_str(url)) == NULL) {
		ssm_start_clear(st);
		r = JC_ERR_NOMEM;
		goto out;
	}
	r = 0;
 out:
	if (root != NULL) {
		/* The parsed tree holds the token too. */
		t = cJSON_GetObjectItemCaseSensitive(root, "TokenValue");
		if (cJSON_IsString(t))
			jc_wipe(t->valuestring, strlen(t->valuestring));
		cJSON_Delete(root);
	}
	return r;
}

static char *
sid_body(const char *sid)
{
	cJSON *root;
	char *s = NULL;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "SessionId", sid) != NULL)
		s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

int
ssm_api_resume_answer(const char *sid, int r, const char *out,
    const struct jc_aws_error *err, char **token)
{
	cJSON *root = NULL, *t;
	const char *tok;

	if (r != 0) {
		ssm_log(JC_LOG_VERBOSE, "ResumeSession %s: %s", sid,
		    ssm_host->aws_explain(err));
		if (strcmp(err->code, "DoesNotExistException") == 0 ||
		    strcmp(err->code, "InvalidParameters") == 0 ||
		    r == JC_ERR_AWS_AUTH)
			r = JC_ERR_CLOSED;
		return r;
	}
	r = JC_ERR_CLOSED;
	if ((root = cJSON_Parse(out)) == NULL ||
	    (tok = jstr(root, "TokenValue")) == NULL) {
		ssm_log(JC_LOG_VERBOSE, "ResumeSession %s: no token (the "
		    "session timed out)", sid);
		goto out;
	}
	if ((*token = dup_str(tok)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	r = 0;
 out:
	if (root != NULL) {
		t = cJSON_GetObjectItemCaseSensitive(root, "TokenValue");
		if (cJSON_IsString(t))
			jc_wipe(t->valuestring, strlen(t->valuestring));
		cJSON_Delete(root);
	}
	return r;
}

int
ssm_api_resume(const char *sid, char **token)
{
	struct jc_aws_error err;
	char *body, *out = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	if ((body = sid_body(sid)) == NULL)
		return JC_ERR_NOMEM;
	r = ssm_host->aws_json("ssm", "AmazonSSM.ResumeSession", body, &out,
	    &err);
	cJSON_free(body);
	r = ssm_api_resume_answer(sid, r, out, &err, token);
	wipe_free(out);
	return r;
}

int
ssm_api_resume_start(const char *sid, jc_aws_done_fn *done, void *arg,
    struct jc_aws_call **callp)
{
	struct jc_aws_error err;
	char *body;
	int r;

	if (!JC_HOST_HAS(ssm_host, aws_json_start))
		return JC_ERR_UNSUPPORTED;
	memset(&err, 0, sizeof(err));
	if ((body = sid_body(sid)) == NULL)
		return JC_ERR_NOMEM;
	r = ssm_host->aws_json_start("ssm", "AmazonSSM.ResumeSession", body,
	    done, arg, callp, &err);
	cJSON_free(body);
	if (r != 0)
		ssm_log(JC_LOG_VERBOSE, "ResumeSession %s: %s", sid,
		    ssm_host->aws_explain(&err));
	return r;
}

void
ssm_api_terminate(const char *sid)
{
	struct jc_aws_error err;
	char *body, *out = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	if ((body = sid_body(sid)) == NULL)
		return;
	r = ssm_host->aws_json("ssm", "AmazonSSM.TerminateSession", body,
	    &out, &err);
	cJSON_free(body);
	if (r != 0)
		ssm_log(JC_LOG_DEBUG, "TerminateSession %s: %s", sid,
		    ssm_host->aws_explain(&err));
	else
		ssm_log(JC_LOG_DEBUG, "session %s terminated", sid);
	if (out != NULL)
		ssm_host->free(out);
}

/* ---- TerminateSession in the background -------------------------------- */

struct ssm_term {
	struct ssm_sess	*s;		/* NB. borrowed */
	struct jc_aws_call *call;
	char		 sid[160];
	struct ssm_term	*next;
};

static void
term_unlink(struct ssm_term *t)
{
	struct ssm_term **pp;

	for (pp = &t->s->terms; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
}

static void
term_done(void *arg, int r, char *out, const struct jc_aws_error *err)
{
	struct ssm_term *t = arg;

	term_unlink(t);
	if (r != 0)
		ssm_log(JC_LOG_DEBUG, "TerminateSession %s: %s", t->sid,
		    ssm_host->aws_explain(err));
	else
		ssm_log(JC_LOG_DEBUG, "session %s terminated", t->sid);
	if (out != NULL)
		ssm_host->free(out);
	free(t);
}

void
ssm_api_terminate_bg(struct ssm_sess *s, const char *sid)
{
	struct jc_aws_error err;
	struct ssm_term *t;
	char *body;

	if (s == NULL || s->closing ||
	    !JC_HOST_HAS(ssm_host, aws_json_start) ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		ssm_api_terminate(sid);
		return;
	}
	t->s = s;
	snprintf(t->sid, sizeof(t->sid), "%s", sid);
	memset(&err, 0, sizeof(err));
	if ((body = sid_body(sid)) == NULL ||
	    ssm_host->aws_json_start("ssm", "AmazonSSM.TerminateSession",
	    body, term_done, t, &t->call, &err) != 0) {
		/* Could not even start: the waiting call says why. */
		cJSON_free(body);
		free(t);
		ssm_api_terminate(sid);
		return;
	}
	cJSON_free(body);
	t->next = s->terms;
	s->terms = t;
}

void
ssm_api_terms_flush(struct ssm_sess *s)
{
	struct ssm_term *t;

	while ((t = s->terms) != NULL) {
		s->terms = t->next;
		ssm_host->aws_json_cancel(t->call);
		ssm_api_terminate(t->sid);
		free(t);
	}
}
