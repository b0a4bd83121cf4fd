/*
 * ssm.c - the SSM access plugin: registration, options and the session
 * operations (connect, exec, stream, status, close).
 *
 * A jconnect SSM "session" is a set of Session Manager sessions: a few
 * port sessions per remote port (each multiplexed with smux, see
 * ssm_pool.c), one per ProxyCommand stream and one per exec.  connect()
 * proves the instance is reachable with a StartSession and keeps that
 * session for the first stream that fits it, so `jconnect proxy` pays
 * for one StartSession, not two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "compat.h"
#include "ssm.h"
#include "ssm_warm.h"

#define SPARE_MS	30000		/* keep connect()'s session this long */
#define SPARE_DOC	"AWS-StartSSHSession"
#define SPARE_PORT	"22"

const struct jc_host *ssm_host;

/* ---- options ----------------------------------------------------------- */

static int
opt_num(const char *key, long def, long min, long max, long *v)
{
	const char *s = ssm_host->option(key);
	char *end;
	long x;

	*v = def;
	if (s == NULL || *s == '\0')
		return 0;
	x = strtol(s, &end, 10);
	if (*end != '\0' || x < min || x > max) {
		ssm_log(JC_LOG_ERROR, "option %s must be a number from %ld to "
		    "%ld, not \"%s\"", key, min, max, s);
		return JC_ERR_USAGE;
	}
	*v = x;
	return 0;
}

static int
opts_load(struct ssm_opts *o)
{
	long v;
	int r;

	if ((r = opt_num("ssm.chunk_size", 1024, 64, 65536, &v)) != 0)
		return r;
	o->chunk = (size_t)v;
	if ((r = opt_num("ssm.window", 256, 1, 10000, &v)) != 0)
		return r;
	o->window = (size_t)v;
	if ((r = opt_num("ssm.reconnect_s", 120, 1, 86400, &v)) != 0)
		return r;
	o->reconnect_ms = (int)v * 1000;
	if ((r = opt_num("ssm.smux_keepalive_ms", 10000, 100, 600000,
	    &v)) != 0)
		return r;
	o->keepalive_ms = (int)v;
	if ((r = opt_num("ssm.ping_s", 60, 1, 3600, &v)) != 0)
		return r;
	o->ping_ms = (int)v * 1000;
	if ((r = opt_num("ssm.dead_s", 8, 1, 600, &v)) != 0)
		return r;
	o->dead_ms = (int)v * 1000;
	if ((r = opt_num("ssm.give_up_s", 300, 1, 86400, &v)) != 0)
		return r;
	o->give_up_ms = (int)v * 1000;
	if ((r = opt_num("ssm.connect_timeout_s", 20, 1, 600, &v)) != 0)
		return r;
	o->connect_ms = (int)v * 1000;
	if ((r = opt_num("ssm.handshake_s", 30, 1, 600, &v)) != 0)
		return r;
	o->handshake_ms = (int)v * 1000;
	if ((r = opt_num("ssm.sessions", SSM_SESSIONS_DEFAULT, 1,
	    SSM_SESSIONS_MAX, &v)) != 0)
		return r;
	o->sessions = (int)v;
	if ((r = opt_num("ssm.session_idle_s", 60, 1, 86400, &v)) != 0)
		return r;
	o->idle_ms = (int)v * 1000;
	return 0;
}

/* ---- the spare session from connect() ---------------------------------- */

static void
spare_drop(struct ssm_sess *s)
{
	if (s->spare.sid[0] == '\0')
		return;
	/* Off the critical path: the first exec should not wait for it. */
	ssm_api_terminate_bg(s, s->spare.sid);
	ssm_start_clear(&s->spare);
}

/*
 * A session started by connect() (the reachability check) that no one
 * used yet: returns 0 and moves it into *st when doc and params match,
 * else 1 (and it is dropped: the first channel decides).  The channels
 * call it through ssm_sess.take_spare.
 */
static int
take_spare(struct ssm_sess *s, const char *doc, const char *const *params,
    struct ssm_start *st)
{
	if (s->spare.sid[0] == '\0')
		return 1;
	if (ssm_host->now_ms() > s->spare_until ||
	    strcmp(doc, s->spare_doc) != 0 || params == NULL ||
	    params[0] == NULL || strcmp(params[0], "portNumber") != 0 ||
	    params[1] == NULL || strcmp(params[1], s->spare_port) != 0 ||
	    params[2] != NULL) {
		spare_drop(s);
		return 1;
	}
	*st = s->spare;
	memset(&s->spare, 0, sizeof(s->spare));
	return 0;
}

/* ---- channels ---------------------------------------------------------- */

/* Free channels that ended and have nothing left to deliver. */
static void
reap(struct ssm_sess *s)
{
	struct ssm_chan *ch, *next;

	for (ch = s->chans; ch != NULL; ch = next) {
		next = ch->next;
		if (ch->kind != SSM_K_EXEC && !ch->in_dispatch &&
		    (ch->state == SSM_C_ENDED || ch->state == SSM_C_FAILED) &&
		    !ssm_port_busy(ch))
			ssm_chan_free(ch);
	}
}

/* ---- plugin operations ------------------------------------------------- */

static int
ssm_p_init(const struct jc_host *h, void **statep)
{
	ssm_host = h;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return JC_ERR_INTERNAL;
	*statep = NULL;
	return 0;
}

static void
ssm_p_fini(void *state)
{
	(void)state;
	ssm_probe_fini();
	ssm_warm_fini();
	ssm_msg_cleanup();
	curl_global_cleanup();
}

static int
ssm_p_connect(void *state, const struct jc_target *t, struct jc_sess **out)
{
	const char *params[] = { "portNumber", SPARE_PORT, NULL };
	unsigned char id[16];
	struct ssm_sess *s;
	int r;

	(void)state;
	if (t->instance_id == NULL || *t->instance_id == '\0') {
		ssm_log(JC_LOG_ERROR, "SSM needs an instance id (i-... or "
		    "mi-...), a stack or a Name tag as TARGET");
		return JC_ERR_USAGE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return JC_ERR_NOMEM;
	snprintf(s->target, sizeof(s->target), "%s", t->instance_id);
	s->take_spare = take_spare;
	ssm_uuid_new(id);
	ssm_uuid_fmt(id, s->client_id);
	if ((r = opts_load(&s->o)) != 0 || (r = ssm_pool_init(s)) != 0)
		goto fail;
	/*
	 * Reachability now, not at the first stream: StartSession answers
	 * TargetNotConnected when the agent is offline.  A policy that
	 * refuses this one document is left to the calls that really need
	 * a session; bad credentials or no AWS at all fail here.  Unless the
	 * caller's next call proves it anyway (JC_TF_LAZY): a round trip
	 * less on the way to the URL.
	 */
	if (JC_TARGET_HAS(t, flags) && (t->flags & JC_TF_LAZY)) {
		*out = (struct jc_sess *)s;
		return 0;
	}
	r = ssm_api_start_ex(s->target, SPARE_DOC, params, &s->spare, 1);
	if (r < 0)
		goto fail;
	if (r == 0) {
		snprintf(s->spare_doc, sizeof(s->spare_doc), "%s", SPARE_DOC);
		snprintf(s->spare_port, sizeof(s->spare_port), "%s",
		    SPARE_PORT);
		s->spare_until = ssm_host->now_ms() + SPARE_MS;
	}
	ssm_log(JC_LOG_VERBOSE, "Session Manager reaches %s", s->target);
	*out = (struct jc_sess *)s;
	return 0;
 fail:
	ssm_pool_fini(s);
	free(s);
	return r;
}

static int
ssm_p_exec(struct jc_sess *js, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	struct ssm_sess *s = (struct ssm_sess *)js;

	reap(s);
	if (s->dead)
		return s->dead;
	return ssm_exec_run(s, cmd, in, inlen, timeout_ms, res);
}

static int
ssm_p_stream(struct jc_sess *js, const char *host, uint16_t port, int flags,
    int *fdp)
{
	struct ssm_sess *s = (struct ssm_sess *)js;

	reap(s);
	if (s->dead)
		return s->dead;
	if (host == NULL)
		host = "";
	if (flags & JC_STREAM_WARM)
		return ssm_pool_warm(s, host, port);
	if (!(flags & JC_STREAM_PROXY))
		return ssm_pool_stream(s, host, port, flags, fdp);
	return ssm_open_chan_stream(s, host, port, 1, flags, fdp);
}

static int
ssm_p_status(struct jc_sess *js)
{
	struct ssm_sess *s = (struct ssm_sess *)js;
	struct ssm_chan *ch;

	for (ch = s->chans; ch != NULL && s->dead == 0; ch = ch->next)
		if (ch->kind != SSM_K_EXEC && ch->state == SSM_C_FAILED &&
		    ch->error != JC_ERR_PROTO && !ch->extra)
			s->dead = ch->error;
	reap(s);
	return s->dead;
}

static void
ssm_p_close(struct jc_sess *js)
{
	struct ssm_sess *s = (struct ssm_sess *)js;

	if (s == NULL)
		return;
	s->closing = 1;
	ssm_pool_fini(s);
	while (s->chans != NULL)
		ssm_chan_free(s->chans);
	ssm_api_terms_flush(s);
	spare_drop(s);
	jc_wipe(s->client_id, sizeof(s->client_id));
	free(s);
}

const struct jc_plugin ssm_plugin = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "ssm",
	.kind = JC_KIND_METHOD | JC_KIND_ADOPT | JC_KIND_WARM,
	.version = SSM_CLIENT_VERSION,
	.summary = "AWS Session Manager, spoken directly (no AWS CLI, no "
	    "session-manager-plugin)",
	.init = ssm_p_init,
	.fini = ssm_p_fini,
	.connect = ssm_p_connect,
	.exec = ssm_p_exec,
	.exec_free = ssm_exec_free,
	.stream = ssm_p_stream,
	.status = ssm_p_status,
	.close = ssm_p_close,
	/* Logs in as ssm-user, on a rate-limited API, by instance id. */
	.caps = JC_CAP_NEEDS_INSTANCE | JC_CAP_NEEDS_AGENT | JC_CAP_EXEC |
	    JC_CAP_THROTTLED | JC_CAP_SSH_INSIDE,
	.auto_rank = 10,
	.label = "SSM",
	.probe = ssm_p_probe,
	.probe_ahead = ssm_p_probe_ahead,
};
