/*
 * cmds.c - the smaller subcommands: proxy, keys, resolve, ls, stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "access.h"
#include "cmd.h"
#include "compat.h"
#include "event.h"
#include "jc.h"
#include "jupyter.h"
#include "log.h"
#include "request.h"
#include "loop.h"
#include "net.h"
#include "num.h"
#include "plugin.h"
#include "relay.h"
#include "state.h"

#define PROXY_BUF	(64 * 1024)
#define STOP_WAIT_MS	10000

/* ---- proxy ----------------------------------------------------------- */

struct proxy {
	volatile int	done;
	int		error;
};

static void
proxy_done(void *arg, struct jc_relay *r, int error)
{
	struct proxy *px = arg;

	(void)r;
	px->done = 1;
	px->error = error;
}

int
jc_cmd_proxy(int argc, char **argv)
{
	struct jc_access a;
	struct jc_relay *relay = NULL;
	struct proxy px = { 0, 0 };
	int port = 22, fd, r;

	if (argc == 2 && jc_num_int(argv[1], 1, 65535, &port) != 0) {
		jc_error("PORT must be a number from 1 to 65535 (digits only), "
		    "not \"%s\"", argv[1]);
		return JC_ERR_USAGE;
	}
	if ((r = jc_request_resolve(&a, argv[0])) != 0)
		return r;
	/* SSH as ProxyCommand "through" SSH is a jump host: fine. */
	if ((r = jc_access_connect(&a)) != 0)
		return r;
	if (jc_opts.install_keys &&
	    (r = jc_keys_run(&a, JC_KEYS_INSTALL)) != 0)
		goto out;
	if ((r = a.p->stream(a.s, "127.0.0.1", (uint16_t)port, JC_STREAM_PROXY,
	    &fd)) != 0) {
		jc_error("cannot open a stream to port %d on %s", port,
		    a.target);
		goto out;
	}
	/* stdin -> remote, remote -> stdout; nothing else on stdout. */
	relay = jc_relay_new(STDIN_FILENO, STDOUT_FILENO, fd, fd, PROXY_BUF,
	    proxy_done, &px);
	if (relay == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	/* Until both sides are done, or the session fails (checked twice a
	 * second: a dead session would otherwise wait for stdin EOF). */
	while ((r = jc_loop_run(&px.done, 500)) == JC_ERR_TIMEOUT &&
	    a.p->status(a.s) == 0)
		;
	if (r == 0 && px.error)
		r = JC_ERR_CLOSED;
	if ((r == 0 || r == JC_ERR_INTR || r == JC_ERR_TIMEOUT) &&
	    a.p->status(a.s) != 0)
		r = a.p->status(a.s);
	if (r == JC_ERR_INTR)
		r = 0;
 out:
	jc_relay_free(relay);
	jc_access_disconnect(&a);
	return r;
}

/* ---- keys ------------------------------------------------------------ */

int
jc_keys_run(struct jc_access *a, int op)
{
	const struct jc_plugin *kp;
	struct jc_keys_req req;
	void *kstate;
	const char *files[17];
	int i, r;

	if ((r = jc_plugin_get("keys", &kp, &kstate)) != 0)
		return r;
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.op = op;
	for (i = 0; i < jc_opts.nkey_files; i++)
		files[i] = jc_opts.key_files[i];
	files[i] = NULL;
	req.files = jc_opts.nkey_files > 0 ? files : NULL;
	req.login_identity = jc_opts.identity;
	req.login_by_key = (a->caps & JC_CAP_KEY_LOGIN) != 0;
	/* A login that is not the user's (SSM's ssm-user): act for them. */
	req.run_as = !(a->caps & JC_CAP_LOGIN_IS_USER) ? a->user : NULL;
	req.generate = jc_opts.keys_generate;
	req.instance_id = a->have_inst ? a->inst.id : NULL;
	req.os_user = a->user;
	return kp->keys(kstate, a->p, a->s, &req);
}

int
jc_cmd_keys(int argc, char **argv)
{
	struct jc_access a;
	int op = JC_KEYS_INSTALL, r;

	(void)argc;
	if (jc_opts.keys_remove && jc_opts.keys_push) {
		jc_error("--remove and --push-key do not go together");
		return JC_ERR_USAGE;
	}
	if (jc_opts.keys_remove)
		op = JC_KEYS_REMOVE;
	else if (jc_opts.keys_push)
		op = JC_KEYS_PUSH;
	if ((r = jc_request_resolve(&a, argv[0])) != 0)
		return r;
	if (op == JC_KEYS_PUSH) {
		if (!a.have_inst) {
			jc_error("--push-key needs an EC2 target (instance id, "
			    "stack or name), not a host name");
			return JC_ERR_USAGE;
		}
		/* EC2 Instance Connect needs no session. */
		return jc_keys_run(&a, op);
	}
	if ((r = jc_access_connect(&a)) != 0)
		return r;
	r = jc_keys_run(&a, op);
	jc_access_disconnect(&a);
	return r;
}

/* ---- resolve --------------------------------------------------------- */

int
jc_cmd_resolve(int argc, char **argv)
{
	struct jc_access a;
	const char *via;
	cJSON *o;
	char *s;
	int r;

	(void)argc;
	/* --json here means the one result object, not event lines. */
	jc_event_enable(0);
	if ((r = jc_request_resolve(&a, argv[0])) != 0)
		return r;
	via = a.via;
	if (jc_opts.json) {
		if ((o = cJSON_CreateObject()) == NULL)
			return JC_ERR_NOMEM;
		cJSON_AddStringToObject(o, "target", a.target);
		if (a.have_inst) {
			cJSON_AddStringToObject(o, "instance_id", a.inst.id);
			cJSON_AddStringToObject(o, "state", a.inst.state);
			cJSON_AddStringToObject(o, "name", a.inst.name);
			cJSON_AddStringToObject(o, "public_dns",
			    a.inst.public_dns);
			cJSON_AddStringToObject(o, "public_ip", a.inst.public_ip);
			cJSON_AddStringToObject(o, "private_ip",
			    a.inst.private_ip);
			cJSON_AddStringToObject(o, "platform", a.inst.platform);
			cJSON_AddStringToObject(o, "region", a.inst.region);
			cJSON_AddBoolToObject(o, "ssm_managed",
			    a.inst.ssm_managed);
			cJSON_AddBoolToObject(o, "ssm_online",
			    a.inst.ssm_online);
			cJSON_AddStringToObject(o, "agent_version",
			    a.inst.agent_version);
		}
		cJSON_AddStringToObject(o, "host", a.host);
		cJSON_AddStringToObject(o, "user", a.user);
		cJSON_AddStringToObject(o, "via", via);
		s = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (s == NULL)
			return JC_ERR_NOMEM;
		printf("%s\n", s);
		free(s);
		return 0;
	}
	printf("target       %s\n", a.target);
	if (a.have_inst) {
		printf("instance_id  %s\nstate        %s\nname         %s\n"
		    "public_dns   %s\npublic_ip    %s\nprivate_ip   %s\n"
		    "platform     %s\nregion       %s\nssm          %s\n",
		    a.inst.id, a.inst.state, a.inst.name, a.inst.public_dns,
		    a.inst.public_ip, a.inst.private_ip, a.inst.platform,
		    a.inst.region, a.inst.ssm_online ? "online" :
		    a.inst.ssm_managed ? "offline" : "not managed");
	}
	printf("via          %s (%s)\n", via, jc_access_describe(&a));
	return 0;
}

/* ---- ls -------------------------------------------------------------- */

/* The extra forwards, with the URL of each local port. */
static void
ls_forwards_json(cJSON *o, const struct jc_tunnel *t)
{
	cJSON *list, *f;
	char url[64];
	int i;

	if ((list = cJSON_AddArrayToObject(o, "forwards")) == NULL)
		return;
	for (i = 0; i < t->nforwards; i++) {
		if ((f = cJSON_CreateObject()) == NULL)
			return;
		cJSON_AddItemToArray(list, f);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/",
		    t->forwards[i].local_port);
		cJSON_AddNumberToObject(f, "local_port",
		    t->forwards[i].local_port);
		cJSON_AddStringToObject(f, "host", t->forwards[i].host);
		cJSON_AddNumberToObject(f, "remote_port",
		    t->forwards[i].remote_port);
		cJSON_AddStringToObject(f, "url", url);
	}
}

static void
ls_one(struct jc_tunnel *t, void *arg)
{
	long age = (long)time(NULL) - t->started;
	cJSON *o;
	char *s;
	int i;

	if (*(int *)arg) {
		if ((o = cJSON_CreateObject()) == NULL)
			return;
		cJSON_AddStringToObject(o, "target", t->target);
		cJSON_AddStringToObject(o, "via", t->via);
		cJSON_AddNumberToObject(o, "local_port", t->local_port);
		cJSON_AddNumberToObject(o, "pid", t->pid);
		cJSON_AddNumberToObject(o, "started", (double)t->started);
		cJSON_AddStringToObject(o, "url", t->url);
		ls_forwards_json(o, t);
		if ((s = cJSON_PrintUnformatted(o)) != NULL)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
		return;
	}
	printf("%-24s %-4s %-6d %-8ld %3ldh%02ldm  %s\n", t->target, t->via,
	    t->local_port, (long)t->pid, age / 3600, (age / 60) % 60, t->url);
	for (i = 0; i < t->nforwards; i++)
		printf("  forward http://127.0.0.1:%d/ -> %s%s%s:%d\n",
		    t->forwards[i].local_port,
		    strchr(t->forwards[i].host, ':') ? "[" : "",
		    t->forwards[i].host,
		    strchr(t->forwards[i].host, ':') ? "]" : "",
		    t->forwards[i].remote_port);
}

int
jc_cmd_ls(int argc, char **argv)
{
	int json = jc_opts.json;

	(void)argc;
	(void)argv;
	if (jc_state_dir() == NULL) {
		jc_error("%s", jc_state_why());
		return JC_ERR_IO;
	}
	if (!json)
		printf("%-24s %-4s %-6s %-8s %6s  %s\n", "TARGET", "VIA", "PORT",
		    "PID", "AGE", "URL");
	jc_state_each(ls_one, &json);
	return 0;
}

/* ---- stop ------------------------------------------------------------ */

/*
 * End one tunnel and wait until its port is free.  Each signal goes only
 * to a process that still is this tunnel, checked right before it.
 */
static int
stop_tunnel(struct jc_tunnel *t)
{
	int64_t end = jc_now_ms() + STOP_WAIT_MS;
	char port[8];
	int r;

	r = jc_state_signal(t, SIGTERM);
	if (r == JC_ERR_UNSUPPORTED) {
		jc_error("pid %ld of the tunnel for %s does not hold its state "
		    "file %s/%s, so it may not be that tunnel; not signalling "
		    "it (if it is yours, end it with kill)", (long)t->pid,
		    t->target, jc_state_dir(), t->file);
		return JC_ERR_IO;
	}
	if (r != 0 && r != JC_ERR_NOTFOUND) {
		jc_error("cannot stop pid %ld: %s", (long)t->pid,
		    strerror(errno));
		return JC_ERR_IO;
	}
	while (jc_now_ms() < end && (jc_state_running(t) ||
	    jc_net_port_busy((uint16_t)t->local_port)))
		usleep(20000);
	/* Checked again right before: the pid may be another process now. */
	if (jc_state_running(t) && jc_state_signal(t, SIGKILL) == 0) {
		jc_warn("tunnel %s (pid %ld) did not stop in %d s; killed it",
		    t->target, (long)t->pid, STOP_WAIT_MS / 1000);
		usleep(100000);
	}
	jc_state_forget(t);
	jc_info("stopped the tunnel for %s (port %d is free)", t->target,
	    t->local_port);
	snprintf(port, sizeof(port), "%d", t->local_port);
	jc_event("closed", "target", t->target, "#port", port, (char *)NULL);
	return 0;
}

static void
stop_each(struct jc_tunnel *t, void *arg)
{
	if (stop_tunnel(t) != 0)
		*(int *)arg = JC_ERR_IO;
}

static int
stop_jupyter(const char *target)
{
	struct jc_access a;
	int r;

	if ((r = jc_request_resolve(&a, target)) != 0 ||
	    (r = jc_access_connect(&a)) != 0)
		return r;
	r = jc_jupyter_stop(a.p, a.s, !(a.caps & JC_CAP_LOGIN_IS_USER) ?
	    a.user : NULL);
	jc_access_disconnect(&a);
	return r;
}

int
jc_cmd_stop(int argc, char **argv)
{
	struct jc_tunnel t;
	int r = 0;

	if (jc_opts.stop_jupyter) {
		if (argc != 1) {
			jc_error("stop --jupyter needs a TARGET");
			return JC_ERR_USAGE;
		}
		return stop_jupyter(argv[0]);
	}
	if (jc_opts.all) {
		if (argc != 0) {
			jc_error("give either --all or a TARGET, not both");
			return JC_ERR_USAGE;
		}
	} else if (argc != 1) {
		jc_error("stop needs a TARGET or --all; see jconnect ls");
		return JC_ERR_USAGE;
	}
	if (jc_state_dir() == NULL) {
		jc_error("%s", jc_state_why());
		return JC_ERR_IO;
	}
	if (jc_opts.all) {
		jc_state_each(stop_each, &r);
		return r;
	}
	if (jc_state_find(argv[0], &t) != 0) {
		jc_error("no background tunnel for %s (see jconnect ls)",
		    argv[0]);
		return JC_ERR_NOTFOUND;
	}
	r = stop_tunnel(&t);
	jc_state_release(&t);
	jc_wipe(&t, sizeof(t));
	return r;
}
