/*
 * keys.c - the key plugin: picks the user's public keys and installs or
 * removes them in the remote ~/.ssh/authorized_keys through any access
 * plugin's exec, or pushes one with EC2 Instance Connect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "keys.h"

struct keys_state {
	const struct jc_host	*host;		/* NB. borrowed */
};

#define klog(st, l, ...) do {						\
	if ((st)->host->log_level() >= (l))				\
		(st)->host->log((l), "keys", __VA_ARGS__);		\
} while (0)

static int
keys_p_init(const struct jc_host *h, void **statep)
{
	struct keys_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return JC_ERR_NOMEM;
	st->host = h;
	*statep = st;
	return 0;
}

static void
keys_p_fini(void *state)
{
	free(state);
}

/* A short description of a key for messages: "ssh-ed25519 (comment)". */
static void
describe(const struct keys_pub *k, char *buf, size_t n)
{
	if (k->comment[0] != '\0')
		snprintf(buf, n, "%s %.60s", k->type, k->comment);
	else
		snprintf(buf, n, "%s %.12s...", k->type, k->b64 + 20);
}

static void
list_del(struct keys_list *l, size_t i)
{
	keys_pub_clear(&l->k[i]);
	memmove(&l->k[i], &l->k[i + 1], (l->n - i - 1) * sizeof(l->k[0]));
	l->n--;
	memset(&l->k[l->n], 0, sizeof(l->k[0]));
}

/* Keys named with --key, else the agent's and the default .pub files. */
static int
select_keys(struct keys_state *st, const struct jc_keys_req *req,
    struct keys_list *l)
{
	struct keys_pub k;
	size_t i;
	int r;

	if (req->files != NULL && req->files[0] != NULL) {
		for (i = 0; req->files[i] != NULL; i++)
			if ((r = keys_local_pubfile(st->host, req->files[i],
			    l)) < 0)
				return r;
		return 0;
	}
	if (req->op == JC_KEYS_REMOVE) {
		st->host->log(JC_LOG_ERROR, "keys", "--remove needs the keys "
		    "to remove: --key FILE.pub (repeatable)");
		return JC_ERR_USAGE;
	}
	/* Over SSM no key logs us in: the one beside -i is wanted too. */
	if (req->login_identity != NULL && !req->login_by_key) {
		r = keys_local_identity(req->login_identity, &k);
		if (r == JC_ERR_NOMEM)
			return r;
		if (r == 0 && (r = keys_list_add(l, &k)) < 0)
			return r;
		if (r == JC_ERR_NOTFOUND)
			klog(st, JC_LOG_WARN, "no public key for %s (no %s.pub "
			    "and not an unencrypted private key)",
			    req->login_identity, req->login_identity);
	}
	if ((r = keys_local_agent(st->host, l)) < 0)
		return r;
	if ((r = keys_local_defaults(st->host, l)) < 0)
		return r;
	return 0;
}

/*
 * The -i key we logged in with is authorized already: drop it from an
 * automatic pick (drop != 0), and warn before removing it.
 */
static int
skip_login_key(struct keys_state *st, const struct jc_keys_req *req,
    struct keys_list *l, int drop)
{
	struct keys_pub k;
	char d[128];
	int i, r;

	if (!req->login_by_key || req->login_identity == NULL)
		return 0;
	if ((r = keys_local_identity(req->login_identity, &k)) != 0)
		return r == JC_ERR_NOMEM ? r : 0;
	if ((i = keys_list_find(l, k.blob, k.bloblen)) >= 0) {
		describe(&l->k[i], d, sizeof(d));
		if (req->op == JC_KEYS_REMOVE)
			klog(st, JC_LOG_WARN, "removing %s, the key this "
			    "session logged in with (%s): it will not log in "
			    "from this file any more", d, req->login_identity);
		else if (drop) {
			klog(st, JC_LOG_VERBOSE, "not adding %s: it is the -i "
			    "key that logged in, so it is authorized already",
			    d);
			list_del(l, (size_t)i);
		}
	}
	keys_pub_clear(&k);
	return 0;
}

static int
no_keys(struct keys_state *st, const struct jc_keys_req *req)
{
	if (req->login_by_key && req->login_identity != NULL) {
		st->host->log(JC_LOG_ERROR, "keys", "no key to install besides "
		    "%s, which logged in and is authorized already; name one "
		    "with --key FILE.pub or create one with --generate",
		    req->login_identity);
		return JC_ERR_USAGE;
	}
	st->host->log(JC_LOG_ERROR, "keys", "no public key found (ssh-agent, "
	    "~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub); create one "
	    "with --generate, or name one with --key FILE.pub");
	return JC_ERR_USAGE;
}

/* EC2 Instance Connect: a key the instance accepts for 60 seconds. */
static int
push_key(struct keys_state *st, const struct jc_keys_req *req,
    struct keys_list *l)
{
	struct jc_aws_error err;
	struct keys_pub *k = NULL, ident;
	cJSON *body = NULL, *ans = NULL, *ok;
	char *json = NULL, *out = NULL, *line = NULL, d[128];
	size_t i, n;
	int r;

	memset(&ident, 0, sizeof(ident));
	if (req->instance_id == NULL || req->os_user == NULL) {
		st->host->log(JC_LOG_ERROR, "keys", "--push-key needs an EC2 "
		    "instance and a user name");
		return JC_ERR_USAGE;
	}
	/* The key that will log in: --key, else -i's, else the first. */
	if ((req->files == NULL || req->files[0] == NULL) &&
	    req->login_identity != NULL) {
		r = keys_local_identity(req->login_identity, &ident);
		if (r == JC_ERR_NOMEM)
			return r;
		/* Instance Connect takes only these two types. */
		if (r == 0 && (strcmp(ident.type, "ssh-ed25519") == 0 ||
		    strcmp(ident.type, "ssh-rsa") == 0))
			k = &ident;
	}
	for (i = 0; k == NULL && i < l->n; i++)
		if (strcmp(l->k[i].type, "ssh-ed25519") == 0 ||
		    strcmp(l->k[i].type, "ssh-rsa") == 0)
			k = &l->k[i];
	if (k == NULL) {
		st->host->log(JC_LOG_ERROR, "keys", "EC2 Instance Connect "
		    "takes an ssh-ed25519 or ssh-rsa key and none was found; "
		    "name one with --key FILE.pub or create one with "
		    "--generate");
		r = JC_ERR_USAGE;
		goto out;
	}
	n = strlen(k->type) + strlen(k->b64) + strlen(k->comment) + 3;
	if ((line = malloc(n)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	snprintf(line, n, "%s %s%s%s", k->type, k->b64,
	    k->comment[0] ? " " : "", k->comment);
	r = JC_ERR_NOMEM;
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "InstanceId",
	    req->instance_id) == NULL ||
	    cJSON_AddStringToObject(body, "InstanceOSUser",
	    req->os_user) == NULL ||
	    cJSON_AddStringToObject(body, "SSHPublicKey", line) == NULL ||
	    (json = cJSON_PrintUnformatted(body)) == NULL)
		goto out;
	memset(&err, 0, sizeof(err));
	if ((r = st->host->aws_json("ec2-instance-connect",
	    "AWSEC2InstanceConnectService.SendSSHPublicKey", json, &out,
	    &err)) != 0) {
		st->host->log(JC_LOG_ERROR, "keys", "EC2 Instance Connect did "
		    "not take the key: %s", st->host->aws_explain(&err));
		goto out;
	}
	ans = cJSON_Parse(out);
	ok = cJSON_GetObjectItemCaseSensitive(ans, "Success");
	if (ans == NULL || !cJSON_IsTrue(ok)) {
		st->host->log(JC_LOG_ERROR, "keys", "EC2 Instance Connect "
		    "answered without success for %s", req->instance_id);
		r = JC_ERR_AWS;
		goto out;
	}
	describe(k, d, sizeof(d));
	klog(st, JC_LOG_INFO, "sent %s (%s) to %s for user %s; it is "
	    "accepted for 60 seconds", d, k->origin ? k->origin : "",
	    req->instance_id, req->os_user);
	r = 0;
 out:
	if (out != NULL)
		st->host->free(out);
	cJSON_Delete(ans);
	cJSON_Delete(body);
	cJSON_free(json);
	free(line);
	keys_pub_clear(&ident);
	return r;
}

/* ABI 1.3: does the request carry whole authorized_keys lines? */
static int
given_lines(const struct jc_keys_req *req)
{
	return JC_KEYS_HAS(req, lines) && req->lines != NULL &&
	    req->lines[0] != NULL;
}

/* The given lines, options and all, as keys to install or remove. */
static int
parse_lines(struct keys_state *st, const struct jc_keys_req *req,
    struct keys_list *l)
{
	struct keys_pub k;
	size_t i;
	int r;

	for (i = 0; req->lines[i] != NULL; i++) {
		memset(&k, 0, sizeof(k));
		if ((r = keys_ak_line_parse(req->lines[i],
		    strlen(req->lines[i]), &k)) != 0) {
			if (r == JC_ERR_PROTO)
				st->host->log(JC_LOG_ERROR, "keys", "not an "
				    "authorized_keys line: %.60s",
				    req->lines[i]);
			return r == JC_ERR_PROTO ? JC_ERR_USAGE : r;
		}
		if ((r = keys_pub_set_origin(&k, "given line")) != 0 ||
		    (r = keys_list_add(l, &k)) < 0) {
			keys_pub_clear(&k);
			return r;
		}
	}
	return 0;
}

/* Read, merge locally, write back when something changed. */
static int
update_remote(struct keys_state *st, const struct jc_plugin *access,
    struct jc_sess *sess, const struct jc_keys_req *req,
    struct keys_list *l)
{
	struct keys_remote rk;
	char *buf = NULL, d[128];
	size_t len, i;
	int status[KEYS_MAX_KEYS], changed, r, n = 0, lv;

	memset(&rk, 0, sizeof(rk));
	rk.host = st->host;
	rk.access = access;
	rk.sess = sess;
	rk.run_as = req->run_as;
	rk.timeout_ms = KEYS_EXEC_TIMEOUT_MS;
	if ((r = keys_remote_read(&rk)) != 0)
		goto out;
	if (rk.nodir)
		klog(st, JC_LOG_VERBOSE, "the remote has no ~/.ssh yet");
	/* Given lines are a caller's own business: verbose, not info. */
	lv = given_lines(req) ? JC_LOG_VERBOSE : JC_LOG_INFO;
	if ((r = keys_ak_merge(rk.data, rk.len, l, req->op, status, &buf,
	    &len, &changed)) != 0)
		goto out;
	if (changed && (r = keys_remote_write(&rk, buf, len)) != 0)
		goto out;
	for (i = 0; i < l->n; i++) {
		describe(&l->k[i], d, sizeof(d));
		switch (status[i]) {
		case KEYS_ST_ADDED:
			klog(st, lv, "added %s (%s) to %s", d,
			    l->k[i].origin, rk.path);
			n++;
			break;
		case KEYS_ST_PRESENT:
			klog(st, lv, "%s (%s) is in %s already", d,
			    l->k[i].origin, rk.path);
			break;
		case KEYS_ST_REMOVED:
			klog(st, lv, "removed %s (%s) from %s", d,
			    l->k[i].origin, rk.path);
			n++;
			break;
		default:
			klog(st, lv, "%s (%s) was not in %s", d,
			    l->k[i].origin, rk.path);
			break;
		}
	}
	if (n > 0 && req->op == JC_KEYS_INSTALL && !given_lines(req))
		klog(st, JC_LOG_INFO, "sshd now accepts %s: no -i FILE needed "
		    "with ssh", n == 1 ? "this key" : "these keys");
	r = 0;
 out:
	free(buf);
	keys_remote_clear(&rk);
	return r;
}

static int
keys_p_keys(void *state, const struct jc_plugin *access, struct jc_sess *sess,
    const struct jc_keys_req *req)
{
	struct keys_state *st = state;
	struct keys_list *l;
	int r;

	if (req == NULL || req->size < sizeof(*req))
		return JC_ERR_USAGE;
	if (req->op != JC_KEYS_PUSH && (access == NULL || sess == NULL ||
	    access->exec == NULL || access->exec_free == NULL)) {
		st->host->log(JC_LOG_ERROR, "keys", "no remote session to "
		    "install keys through");
		return JC_ERR_USAGE;
	}
	if (req->op != JC_KEYS_INSTALL && req->op != JC_KEYS_REMOVE &&
	    req->op != JC_KEYS_PUSH)
		return JC_ERR_USAGE;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return JC_ERR_NOMEM;
	if (given_lines(req) && req->op != JC_KEYS_PUSH) {
		if ((r = parse_lines(st, req, l)) == 0)
			r = update_remote(st, access, sess, req, l);
		goto out;
	}
	if ((r = select_keys(st, req, l)) != 0)
		goto out;
	/* Named keys are taken as named; only the automatic pick skips. */
	if (req->op != JC_KEYS_PUSH && (r = skip_login_key(st, req, l,
	    req->op == JC_KEYS_INSTALL && (req->files == NULL ||
	    req->files[0] == NULL))) != 0)
		goto out;
	if (l->n == 0 && req->op != JC_KEYS_REMOVE &&
	    !(req->op == JC_KEYS_PUSH && req->login_identity != NULL)) {
		if (!req->generate) {
			r = no_keys(st, req);
			goto out;
		}
		if ((r = keys_local_generate(st->host, l)) != 0)
			goto out;
	} else if (req->generate && req->op != JC_KEYS_REMOVE)
		klog(st, JC_LOG_INFO, "--generate not needed: keys were found");
	if (req->op == JC_KEYS_PUSH)
		r = push_key(st, req, l);
	else
		r = update_remote(st, access, sess, req, l);
 out:
	keys_list_clear(l);
	free(l);
	return r;
}

const struct jc_plugin jc_plugin_keys = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "keys",
	.kind = JC_KIND_KEYS,
	.version = "1.0",
	.summary = "installs your public keys in authorized_keys (any access "
	    "method) or pushes one with EC2 Instance Connect",
	.init = keys_p_init,
	.fini = keys_p_fini,
	.keys = keys_p_keys,
};
