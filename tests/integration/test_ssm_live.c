/*
 * test_ssm_live.c - the SSM plugin end to end against the fake agent
 * (tests/rig/fake_agent.py, a real WebSocket server on 127.0.0.1) and
 * real loopback servers, driven through the core's loop, forwarder and
 * relay exactly as jconnect drives it.  StartSession, ResumeSession and
 * TerminateSession are answered by a small in-process fake that writes
 * the session records the agent reads (the fake AWS contract).
 *
 * Local clients run in child processes, so the loop in this process
 * serves them as it would serve a browser or ssh.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "aws.h"
#include "aws_cred.h"
#include "forward.h"
#include "jc_plugin.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "plugin.h"
#include "relay.h"
#include "../../plugins/ssm/ssm.h"

#define MB		(1024 * 1024)
#define PF		"AWS-StartPortForwardingSession"

static char	 dir[256], state[300], faults[300];
static pid_t	 agent_pid = -1, echo_pid = -1, hello_pid = -1;
static int	 agent_port, echo_port, hello_port, dead_port;
static char	 last_error[1024];
static void	*pstate;

/* ---- options ----------------------------------------------------------- */

static struct { const char *k; char v[64]; } opts[16];

static void
opt_set(const char *k, const char *v)
{
	int i;

	for (i = 0; i < 16; i++)
		if (opts[i].k == NULL || strcmp(opts[i].k, k) == 0) {
			opts[i].k = k;
			snprintf(opts[i].v, sizeof(opts[i].v), "%s", v);
			return;
		}
}

static void
opt_reset(void)
{
	memset(opts, 0, sizeof(opts));
}

static const char *
th_option(const char *k)
{
	int i;

	for (i = 0; i < 16 && opts[i].k != NULL; i++)
		if (strcmp(opts[i].k, k) == 0)
			return opts[i].v[0] ? opts[i].v : NULL;
	return NULL;
}

/* ---- log --------------------------------------------------------------- */

static void
th_log(int level, const char *plugin, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (level == JC_LOG_ERROR)
		vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	jc_vlog(level, plugin, fmt, ap);
	va_end(ap);
}

/* ---- the fake AWS side ------------------------------------------------- */

static char	 sids[64][80];
static char	 docs[64][64];
static int	 nsids;

/* StartSession calls for document doc since the test began. */
static int
nstarts(const char *doc)
{
	int i, n = 0;

	for (i = 0; i < nsids; i++)
		n += strcmp(docs[i], doc) == 0;
	return n;
}

static void
rand_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = hex[rand() % 16];
	out[n] = '\0';
}

static cJSON *
rec_read(const char *sid)
{
	char path[512], buf[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/sessions/%s.json", state, sid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

static void
rec_write(const char *sid, cJSON *rec)
{
	char path[512], tmp[520], *s = cJSON_Print(rec);
	FILE *f;

	snprintf(path, sizeof(path), "%s/sessions/%s.json", state, sid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
	free(s);
}

static char *
answer(const char *sid, const char *tok)
{
	char url[256], *s;
	cJSON *o = cJSON_CreateObject();

	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/v1/data-channel/%s"
	    "?role=publish_subscribe", agent_port, sid);
	cJSON_AddStringToObject(o, "SessionId", sid);
	cJSON_AddStringToObject(o, "TokenValue", tok);
	cJSON_AddStringToObject(o, "StreamUrl", url);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int
th_aws_json(const char *service, const char *target, const char *body,
    char **out, struct jc_aws_error *err)
{
	cJSON *req = cJSON_Parse(body), *rec, *toks;
	const char *sid, *tgt;
	char tok[41], id[80];
	int r = 0;

	assert_string_equal(service, "ssm");
	assert_non_null(req);
	if (strcmp(target, "AmazonSSM.StartSession") == 0) {
		tgt = cJSON_GetObjectItem(req, "Target")->valuestring;
		assert_string_equal(cJSON_GetObjectItem(req,
		    "Reason")->valuestring, "jconnect");
		if (strncmp(tgt, "i-off", 5) == 0) {
			err->http_status = 400;
			snprintf(err->code, sizeof(err->code),
			    "TargetNotConnected");
			snprintf(err->message, sizeof(err->message),
			    "%s is not connected.", tgt);
			r = JC_ERR_UNREACHABLE;
			goto out;
		}
		if (strncmp(tgt, "i-0nossh", 8) == 0 &&
		    strcmp(cJSON_GetObjectItem(req,
		    "DocumentName")->valuestring, "AWS-StartSSHSession") == 0) {
			err->http_status = 400;
			snprintf(err->code, sizeof(err->code),
			    "AccessDeniedException");
			snprintf(err->message, sizeof(err->message), "not "
			    "authorized to perform ssm:StartSession on "
			    "document/AWS-StartSSHSession");
			r = JC_ERR_AWS_AUTH;
			goto out;
		}
		rand_hex(id, 17);
		memmove(id + 9, id, 18);
		memcpy(id, "jconnect-", 9);
		rand_hex(tok, 40);
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "SessionId", id);
		cJSON_AddStringToObject(rec, "Target", tgt);
		cJSON_AddItemToObject(rec, "DocumentName", cJSON_Duplicate(
		    cJSON_GetObjectItem(req, "DocumentName"), 1));
		cJSON_AddItemToObject(rec, "Parameters", cJSON_Duplicate(
		    cJSON_GetObjectItem(req, "Parameters"), 1));
		cJSON_AddStringToObject(rec, "Reason", "jconnect");
		toks = cJSON_AddArrayToObject(rec, "Tokens");
		cJSON_AddItemToArray(toks, cJSON_CreateString(tok));
		cJSON_AddStringToObject(rec, "Status", "Active");
		rec_write(id, rec);
		cJSON_Delete(rec);
		if (nsids < 64) {
			snprintf(docs[nsids], sizeof(docs[0]), "%s",
			    cJSON_GetObjectItem(req,
			    "DocumentName")->valuestring);
			snprintf(sids[nsids++], sizeof(sids[0]), "%s", id);
		}
		*out = answer(id, tok);
	} else if (strcmp(target, "AmazonSSM.ResumeSession") == 0) {
		sid = cJSON_GetObjectItem(req, "SessionId")->valuestring;
		if ((rec = rec_read(sid)) == NULL) {
			snprintf(err->code, sizeof(err->code),
			    "DoesNotExistException");
			r = JC_ERR_AWS;
			goto out;
		}
		rand_hex(tok, 40);
		cJSON_AddItemToArray(cJSON_GetObjectItem(rec, "Tokens"),
		    cJSON_CreateString(tok));
		rec_write(sid, rec);
		cJSON_Delete(rec);
		*out = answer(sid, tok);
	} else if (strcmp(target, "AmazonSSM.TerminateSession") == 0) {
		sid = cJSON_GetObjectItem(req, "SessionId")->valuestring;
		if ((rec = rec_read(sid)) != NULL) {
			cJSON_ReplaceItemInObject(rec, "Status",
			    cJSON_CreateString("Terminated"));
			rec_write(sid, rec);
			cJSON_Delete(rec);
		}
		*out = strdup("{}");
	} else
		fail_msg("unexpected AWS call %s", target);
 out:
	cJSON_Delete(req);
	return r;
}

static const char *
th_explain(const struct jc_aws_error *e)
{
	static char s[700];

	snprintf(s, sizeof(s), "%s: %s (the instance is stopped, its SSM "
	    "agent is offline or it has no instance profile)", e->code,
	    e->message);
	return s;
}

/*
 * aws_json_start as the core offers it (ABI 1.3), answered by the fake
 * above from a later loop pass.  Off unless a test turns it on; then the
 * next `throttle_after` StartSession calls pass and `throttle` more are
 * refused as AWS refuses them (400 ThrottlingException "Rate exceeded").
 */
struct th_call {
	char		 target[64];
	char		*body;
	jc_aws_done_fn	*done;
	void		*arg;
	struct th_call	*next;
};
static struct th_call *th_calls;
static struct jc_source *th_src;
static int	 throttle_after, throttle, throttled, async_calls;

static void
th_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	(void)arg;
	(void)ps;
	if (th_calls != NULL)
		*deadline = jc_now_ms();
}

static void
th_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jc_aws_error err;
	struct th_call *c, *list = th_calls;
	char *out;
	int r;

	(void)arg;
	(void)ps;
	th_calls = NULL;
	while ((c = list) != NULL) {
		list = c->next;
		memset(&err, 0, sizeof(err));
		out = NULL;
		if (strcmp(c->target, "AmazonSSM.StartSession") == 0 &&
		    throttle_after-- <= 0 && throttle > 0) {
			throttle--;
			throttled++;
			err.http_status = 400;
			snprintf(err.code, sizeof(err.code),
			    "ThrottlingException");
			snprintf(err.message, sizeof(err.message),
			    "Rate exceeded");
			r = JC_ERR_AWS;
		} else
			r = th_aws_json("ssm", c->target, c->body, &out, &err);
		c->done(c->arg, r, out, &err);
		free(c->body);
		free(c);
	}
}

static const struct jc_source_ops th_ops = { th_prepare, th_dispatch };

static int
th_aws_json_start(const char *service, const char *target, const char *body,
    jc_aws_done_fn *done, void *arg, struct jc_aws_call **callp,
    struct jc_aws_error *err)
{
	struct th_call *c;

	(void)err;
	assert_string_equal(service, "ssm");
	assert_non_null(c = calloc(1, sizeof(*c)));
	snprintf(c->target, sizeof(c->target), "%s", target);
	assert_non_null(c->body = strdup(body));
	c->done = done;
	c->arg = arg;
	c->next = th_calls;
	th_calls = c;
	if (th_src == NULL)
		assert_non_null(th_src = jc_source_add(&th_ops, NULL));
	async_calls++;
	*callp = (struct jc_aws_call *)c;
	return 0;
}

static void
th_aws_json_cancel(struct jc_aws_call *h)
{
	struct th_call **pp, *c = (struct th_call *)h;

	for (pp = &th_calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			free(c->body);
			free(c);
			return;
		}
}

/* The core's host table, with the stand-ins above for AWS, options, log. */
static struct jc_host th;

static void
async_aws(int on)
{
	th.aws_json_start = on ? th_aws_json_start : NULL;
	th.aws_json_cancel = on ? th_aws_json_cancel : NULL;
	throttle_after = throttle = throttled = async_calls = 0;
}

static const struct jc_host *
test_host(void)
{
	th = *jc_plugin_host();
	th.log = th_log;
	th.aws_json = th_aws_json;
	th.aws_explain = th_explain;
	th.option = th_option;
	async_aws(0);
	return &th;
}

/* Were all sessions started so far terminated? */
static int
all_terminated(void)
{
	cJSON *rec;
	int i, ok = 1;

	for (i = 0; i < nsids; i++) {
		if ((rec = rec_read(sids[i])) == NULL)
			continue;
		if (strcmp(cJSON_GetObjectItem(rec, "Status")->valuestring,
		    "Terminated") != 0) {
			fprintf(stderr, "session %s not terminated\n", sids[i]);
			ok = 0;
		}
		cJSON_Delete(rec);
	}
	return ok;
}

/* ---- processes --------------------------------------------------------- */

static int
free_port(void)
{
	uint16_t p;
	int fd;

	assert_int_equal(jc_net_listen(0, &fd, &p), 0);
	close(fd);
	return p;
}

static void
wait_listen(int port, int secs)
{
	int i;

	for (i = 0; i < secs * 50; i++) {
		if (jc_net_port_busy((uint16_t)port))
			return;
		usleep(20000);
	}
	fail_msg("nothing listens on %d", port);
}

static void
faults_write(const char *json)
{
	char tmp[320];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", faults);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	assert_int_equal(rename(tmp, faults), 0);
	/* The agent polls every 100 ms. */
	jc_loop_run(NULL, 250);
}

static void
agent_start(void)
{
	char port[16], script[512];

	agent_port = free_port();
	snprintf(port, sizeof(port), "%d", agent_port);
	snprintf(script, sizeof(script), "%s/tests/rig/fake_agent.py",
	    getenv("JC_ROOT") ? getenv("JC_ROOT") : ".");
	if ((agent_pid = fork()) == 0) {
		char log[400];
		int fd;

		snprintf(log, sizeof(log), "%s/agent.log", dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/bin/python3", "python3", script, "--port", port,
		    "--state", state, "--faults", faults, (char *)NULL);
		_exit(127);
	}
	wait_listen(agent_port, 20);
}

static int
listen_on(int *port)
{
	uint16_t p;
	int fd;

	assert_int_equal(jc_net_listen(0, &fd, &p), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*port = p;
	return fd;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		c += w;
		n -= (size_t)w;
	}
}

/* Echo server: a process per connection, like inetd. */
static pid_t
server_start(int *port, int hello)
{
	char buf[65536];
	pid_t pid;
	ssize_t n;
	int lfd = listen_on(port), c;

	if ((pid = fork()) != 0) {
		close(lfd);
		return pid;
	}
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			if (hello) {
				write_all(c, "hello from the far side\n", 24);
				_exit(0);
			}
			while ((n = read(c, buf, sizeof(buf))) > 0)
				write_all(c, buf, (size_t)n);
			_exit(0);
		}
		close(c);
	}
}

static void
kill_wait(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* ---- local clients ----------------------------------------------------- */

static uint32_t
prng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Child: connect to 127.0.0.1:port, send n pseudo-random bytes (seed)
 * and read them back, both at once; exit 0 when every byte matched.
 * slow: a small receive buffer read 4 KiB at a time, so writes toward
 * this client come up short and the rest waits in the plugin.
 */
static void
echo_client(int port, size_t n, uint32_t seed, int slow)
{
	unsigned char *src = malloc(n), *dst = malloc(n);
	struct sockaddr_in sa;
	struct pollfd pfd;
	size_t sent = 0, got = 0, i;
	uint32_t s = seed | 1;
	int fd, one = 1;
	ssize_t k;
	time_t end = time(NULL) + 240;

	for (i = 0; i < n; i++)
		src[i] = (unsigned char)prng(&s);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (slow) {
		one = 4096;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
		one = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(2);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < n && time(NULL) < end) {
		pfd.fd = fd;
		pfd.events = POLLIN | (sent < n ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) < 0)
			_exit(3);
		if (sent < n && (pfd.revents & POLLOUT)) {
			k = write(fd, src + sent, n - sent > 65536 ? 65536 :
			    n - sent);
			if (k > 0)
				sent += (size_t)k;
		}
		if (pfd.revents & (POLLIN | POLLHUP)) {
			k = read(fd, dst + got, slow && n - got > 4096 ?
			    4096 : n - got);
			if (slow)
				usleep(100);
			if (k == 0)
				break;
			if (k > 0)
				got += (size_t)k;
		}
	}
	if (got != n) {
		fprintf(stderr, "echo client %u: %zu of %zu bytes back\n",
		    seed, got, n);
		_exit(4);
	}
	if (memcmp(src, dst, n) != 0) {
		for (i = 0; i < n && src[i] == dst[i]; i++)
			;
		fprintf(stderr, "echo client %u: byte %zu differs\n", seed, i);
		_exit(5);
	}
	close(fd);
	_exit(0);
}

static pid_t
spawn_echo_as(int port, size_t n, uint32_t seed, int slow)
{
	pid_t pid = fork();

	if (pid == 0)
		echo_client(port, n, seed, slow);
	return pid;
}

static pid_t
spawn_echo(int port, size_t n, uint32_t seed)
{
	return spawn_echo_as(port, n, seed, 0);
}

/* Run the loop until every child exited; returns how many failed. */
static int
serve_children(pid_t *pids, int n, int timeout_s)
{
	int64_t end = jc_now_ms() + timeout_s * 1000;
	int left = n, bad = 0, i, st;

	while (left > 0 && jc_now_ms() < end) {
		jc_loop_run(NULL, 20);
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) <= 0)
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "client %d: status %d\n", i,
				    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
				bad++;
			}
			pids[i] = -1;
			left--;
		}
	}
	for (i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			bad++;
		}
	return bad;
}

/* ---- the agent's own records ------------------------------------------- */

static char *
slurp(const char *path)
{
	struct stat st;
	char *s;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fstat(fileno(f), &st);
	s = calloc(1, (size_t)st.st_size + 1);
	if (fread(s, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void
no_violations(void)
{
	char path[400], *v;

	snprintf(path, sizeof(path), "%s/violations.log", state);
	v = slurp(path);
	if (v != NULL && *v != '\0')
		fail_msg("the fake agent saw protocol violations:\n%s", v);
	free(v);
}

static void
clear_violations(void)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/violations.log", state);
	unlink(path);
}

/* A counter from agent-stats.json, of session sid or summed over all. */
static long
session_stat(const char *sid, const char *name)
{
	char path[400], *s;
	cJSON *root, *e, *v;
	long sum = 0;

	jc_loop_run(NULL, 700);		/* stats are saved twice a second */
	snprintf(path, sizeof(path), "%s/agent-stats.json", state);
	if ((s = slurp(path)) == NULL)
		return -1;
	root = cJSON_Parse(s);
	free(s);
	cJSON_ArrayForEach(e, root) {
		if (sid != NULL && strcmp(e->string, sid) != 0)
			continue;
		v = cJSON_GetObjectItem(e, name);
		if (cJSON_IsNumber(v))
			sum += (long)v->valuedouble;
	}
	cJSON_Delete(root);
	return sum;
}

static long
agent_stat(const char *name)
{
	return session_stat(NULL, name);
}

/*
 * Wait until the agent has seen data on the newest session, the one this
 * test started: earlier sessions' counters say nothing about it, and a
 * fault written before the agent knows the session would miss it.
 */
static void
wait_flowing(void)
{
	int i;

	for (i = 0; i < 30 && (nsids == 0 ||
	    session_stat(sids[nsids - 1], "in_bytes") <= 0); i++)
		;
	assert_true(nsids > 0 && session_stat(sids[nsids - 1], "in_bytes") > 0);
}

/* The "mode" of the newest session. */
static void
agent_mode(const char *want)
{
	char path[400], *s;
	cJSON *root, *e, *v;

	jc_loop_run(NULL, 700);
	snprintf(path, sizeof(path), "%s/agent-stats.json", state);
	s = slurp(path);
	assert_non_null(s);
	root = cJSON_Parse(s);
	free(s);
	v = NULL;
	e = cJSON_GetObjectItem(root, sids[nsids - 1]);
	if (e != NULL)
		v = cJSON_GetObjectItem(e, "mode");
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, want);
	cJSON_Delete(root);
}

/* ---- fixtures ---------------------------------------------------------- */

static int
group_setup(void **st)
{
	char cwd[256];

	(void)st;
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	jc_log_set_level(getenv("SSM_TEST_VERBOSE") ? JC_LOG_DEBUG :
	    JC_LOG_WARN);
	if (getenv("JC_ROOT") == NULL && getcwd(cwd, sizeof(cwd)) != NULL)
		setenv("JC_ROOT", cwd, 1);
	snprintf(dir, sizeof(dir), "%s/jct-ssm.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/ssm", dir);
	snprintf(faults, sizeof(faults), "%s/faults.json", dir);
	mkdir(state, 0700);
	faults_write("{}");
	agent_start();
	echo_pid = server_start(&echo_port, 0);
	hello_pid = server_start(&hello_port, 1);
	dead_port = free_port();
	return ssm_plugin.init(test_host(), &pstate);
}

static int
group_teardown(void **st)
{
	char cmd[400];

	(void)st;
	ssm_plugin.fini(pstate);
	kill_wait(&agent_pid);
	kill_wait(&echo_pid);
	kill_wait(&hello_pid);
	if (getenv("SSM_TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	} else
		fprintf(stderr, "kept %s\n", dir);
	return 0;
}

static int
test_setup(void **st)
{
	(void)st;
	opt_reset();
	faults_write("{}");
	clear_violations();
	last_error[0] = '\0';
	nsids = 0;
	async_aws(0);
	return 0;
}

static struct jc_sess *
connect_to(const char *id)
{
	struct jc_target t;
	struct jc_sess *s = NULL;

	memset(&t, 0, sizeof(t));
	t.size = sizeof(t);
	t.spec = id;
	t.user = "ubuntu";
	t.instance_id = id;
	t.timeout_ms = 20000;
	assert_int_equal(ssm_plugin.connect(pstate, &t, &s), 0);
	return s;
}

/* A forwarder on an ephemeral port to 127.0.0.1:rport through s. */
static struct jc_fwd *
forward(struct jc_sess *s, int rport, uint16_t *lport)
{
	struct jc_fwd *f;
	int fd;

	assert_int_equal(jc_net_listen(0, &fd, lport), 0);
	assert_int_equal(jc_fwd_new(fd, "127.0.0.1", (uint16_t)rport,
	    &ssm_plugin, s, &f), 0);
	return f;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_exec(void **st)
{
	struct jc_exec_result res;
	struct jc_sess *s;
	const char in[] = "line one\nit's \"quoted\" $HOME `x`\n\0binary\xff";

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.exec(s, "echo out; echo err >&2; exit 3",
	    NULL, 0, 20000, &res), 0);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.err, "err\n");
	assert_int_equal(res.status, 3);
	ssm_plugin.exec_free(&res);
	/* stdin arrives byte for byte, quotes and NULs included */
	assert_int_equal(ssm_plugin.exec(s, "cat; echo \"it's\"", in,
	    sizeof(in) - 1, 20000, &res), 0);
	assert_int_equal(res.outlen, sizeof(in) - 1 + 5);
	assert_memory_equal(res.out, in, sizeof(in) - 1);
	assert_string_equal(res.out + sizeof(in) - 1, "it's\n");
	assert_int_equal(res.status, 0);
	ssm_plugin.exec_free(&res);
	/* a script on stdin, as Jupyter discovery sends it */
	assert_int_equal(ssm_plugin.exec(s, "sh -s", "echo $((6*7))\nexit 0\n",
	    20, 20000, &res), 0);
	assert_string_equal(res.out, "42\n");
	assert_int_equal(res.status, 0);
	ssm_plugin.exec_free(&res);
	/* a command reading stdin without input sees EOF at once */
	assert_int_equal(ssm_plugin.exec(s, "cat; exit 7", NULL, 0, 20000,
	    &res), 0);
	assert_int_equal(res.outlen, 0);
	assert_int_equal(res.status, 7);
	ssm_plugin.exec_free(&res);
	assert_int_equal(ssm_plugin.status(s), 0);
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/*
 * A CONNECT proxy, one process per connection: logs the request line,
 * answers 200 and relays both ways.  For the proxy test.
 */
static void
proxy_conn(int c, const char *log)
{
	char req[2048], host[256];
	struct sockaddr_in sa;
	struct pollfd p[2];
	unsigned char buf[65536];
	size_t n = 0;
	ssize_t k;
	FILE *f;
	int port, t, i;

	while (n < sizeof(req) - 1 && (k = read(c, req + n, 1)) == 1) {
		n++;
		req[n] = '\0';
		if (n >= 4 && strcmp(req + n - 4, "\r\n\r\n") == 0)
			break;
	}
	if (sscanf(req, "CONNECT %255[^:]:%d ", host, &port) != 2)
		_exit(1);
	if ((f = fopen(log, "a")) != NULL) {
		fprintf(f, "CONNECT %s:%d\n", host, port);
		fclose(f);
	}
	t = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(t, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(1);
	write_all(c, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
	p[0].fd = c;
	p[1].fd = t;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((k = read(p[i].fd, buf, sizeof(buf))) <= 0)
				_exit(0);
			write_all(p[1 - i].fd, buf, (size_t)k);
		}
	}
}

static pid_t
proxy_start(int *port, const char *log)
{
	pid_t pid;
	int lfd = listen_on(port), c;

	if ((pid = fork()) != 0) {
		close(lfd);
		return pid;
	}
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			proxy_conn(c, log);
		}
		close(c);
	}
}

/*
 * Through an HTTP proxy from the environment (as HTTPS_PROXY is used for
 * wss:// in production; http_proxy here since the fake speaks ws://):
 * the WebSocket goes through a CONNECT tunnel.
 */
static void
test_proxy_env(void **st)
{
	struct jc_exec_result res;
	struct jc_sess *s;
	char log[400], url[64], want[64], *got;
	pid_t pid;
	int pport;

	(void)st;
	snprintf(log, sizeof(log), "%s/proxy.log", dir);
	unlink(log);
	pid = proxy_start(&pport, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", pport);
	setenv("http_proxy", url, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.exec(s, "echo via proxy", NULL, 0, 20000,
	    &res), 0);
	unsetenv("http_proxy");
	assert_string_equal(res.out, "via proxy\n");
	ssm_plugin.exec_free(&res);
	ssm_plugin.close(s);
	kill_wait(&pid);
	got = slurp(log);
	snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d\n", agent_port);
	assert_non_null(got);
	assert_non_null(strstr(got, want));
	free(got);
	no_violations();
}

static void
test_target_not_connected(void **st)
{
	struct jc_target t;
	struct jc_sess *s = NULL;

	(void)st;
	memset(&t, 0, sizeof(t));
	t.size = sizeof(t);
	t.user = "ubuntu";
	t.instance_id = "i-offline000000000";
	assert_int_equal(ssm_plugin.connect(pstate, &t, &s),
	    JC_ERR_UNREACHABLE);
	assert_null(s);
	assert_non_null(strstr(last_error, "i-offline000000000"));
	assert_non_null(strstr(last_error, "TargetNotConnected"));
	assert_non_null(strstr(last_error, "agent is offline"));
}

/*
 * A policy that allows port forwarding and commands but not the SSH
 * document: connect() still succeeds (its check is refused quietly),
 * exec works, and a ProxyCommand stream is refused with a clear error.
 */
static void
test_policy_without_ssh(void **st)
{
	struct jc_exec_result res;
	struct jc_sess *s;
	int fd = -1;

	(void)st;
	s = connect_to("i-0nossh0000000000");
	assert_int_equal(last_error[0], '\0');
	assert_int_equal(ssm_plugin.exec(s, "echo ok", NULL, 0, 20000, &res),
	    0);
	assert_string_equal(res.out, "ok\n");
	ssm_plugin.exec_free(&res);
	assert_int_equal(ssm_plugin.stream(s, "127.0.0.1", 22,
	    JC_STREAM_PROXY, &fd), JC_ERR_AWS_AUTH);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(last_error, "AWS-StartSSHSession"));
	assert_int_equal(ssm_plugin.status(s), JC_ERR_AWS_AUTH);
	ssm_plugin.close(s);
	assert_true(all_terminated());
}

static void
test_mux_many(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pids[50];
	uint16_t lp;
	int i;

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	for (i = 0; i < 50; i++)
		pids[i] = spawn_echo(lp, 256 * 1024 + (size_t)i * 997,
		    (uint32_t)i + 1);
	assert_int_equal(serve_children(pids, 50, 120), 0);
	/* all through one smux session */
	assert_int_equal(nstarts(PF), 1);
	agent_mode("mux");
	assert_int_equal(agent_stat("streams"), 50);
	assert_int_equal(agent_stat("nops_in"), 0);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/*
 * Readers slower than the agent: writes toward them come up short, and
 * what the socket refused must reach them later, in order, byte-exact.
 */
static void
test_mux_slow_readers(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pids[4];
	uint16_t lp;
	int i;

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	for (i = 0; i < 4; i++)
		pids[i] = spawn_echo_as(lp, 1024 * 1024 + (size_t)i * 4099,
		    (uint32_t)i + 77, 1);
	assert_int_equal(serve_children(pids, 4, 120), 0);
	agent_mode("mux");
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/*
 * Fairness: 50 local connections upload as fast as they can through one
 * smux session for 3.5 s; a sink on the far side counts what each one
 * delivered between 1 s and 3 s.  The order in which streams reach the
 * agent is ours to choose (mux_build), so the slowest stream must get at
 * least half of the average (the issue: "at least half of its fair
 * share").  Client and sink are single processes polling every socket,
 * so the scheduler cannot favour some of 100 processes on 2 cores.
 */
#define FAIR_N	50

static void
fair_sink(int lfd, const char *out)
{
	unsigned char buf[65536];
	struct pollfd p[FAIR_N + 1];
	long long got[FAIR_N + 1];
	int64_t t0 = 0, now;
	int n = 1, open_n = 0, i;
	FILE *f;
	ssize_t k;

	p[0].fd = lfd;
	p[0].events = POLLIN;
	while (n <= FAIR_N || open_n > 0) {
		if (poll(p, (nfds_t)n, 10000) <= 0)
			_exit(2);
		now = jc_now_ms();
		if ((p[0].revents & POLLIN) && n <= FAIR_N) {
			if ((p[n].fd = accept(lfd, NULL, NULL)) >= 0) {
				p[n].events = POLLIN;
				got[n++] = 0;
				open_n++;
				if (t0 == 0)
					t0 = now;
			}
		}
		for (i = 1; i < n; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if ((k = read(p[i].fd, buf, sizeof(buf))) <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_n--;
			} else if (now >= t0 + 1000 && now < t0 + 3000)
				got[i] += k;
		}
	}
	if ((f = fopen(out, "w")) == NULL)
		_exit(3);
	for (i = 1; i <= FAIR_N; i++)
		fprintf(f, "%lld\n", got[i]);
	fclose(f);
	_exit(0);
}

static void
fair_client(int port)
{
	unsigned char buf[65536];
	struct sockaddr_in sa;
	struct pollfd p[FAIR_N];
	int64_t t0;
	int i;

	memset(buf, 'f', sizeof(buf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < FAIR_N; i++) {
		p[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(p[i].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(2);
		fcntl(p[i].fd, F_SETFL, O_NONBLOCK);
		p[i].events = POLLOUT;
	}
	t0 = jc_now_ms();
	while (jc_now_ms() < t0 + 3500) {
		if (poll(p, FAIR_N, 100) < 0)
			_exit(3);
		for (i = 0; i < FAIR_N; i++)
			if (p[i].revents & POLLOUT)
				(void)!write(p[i].fd, buf, sizeof(buf));
	}
	for (i = 0; i < FAIR_N; i++)
		close(p[i].fd);
	_exit(0);
}

static void
test_fairness(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pids[2];
	char path[400];
	long long v, sum = 0, min = -1;
	uint16_t lp;
	FILE *fp;
	int i, sport, lfd;

	(void)st;
	snprintf(path, sizeof(path), "%s/fair", dir);
	lfd = listen_on(&sport);
	if ((pids[0] = fork()) == 0)
		fair_sink(lfd, path);
	close(lfd);
	opt_set("ssm.chunk_size", "16384");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, sport, &lp);
	if ((pids[1] = fork()) == 0)
		fair_client(lp);
	assert_int_equal(serve_children(pids, 2, 90), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	for (i = 0; i < FAIR_N; i++) {
		assert_int_equal(fscanf(fp, "%lld", &v), 1);
		sum += v;
		if (min < 0 || v < min)
			min = v;
	}
	fclose(fp);
	fprintf(stderr, "# fairness: %d uploads, mean %lld B/s, slowest %lld "
	    "B/s (%.0f%% of the mean)\n", FAIR_N, sum / FAIR_N / 2, min / 2,
	    100.0 * (double)min / ((double)sum / FAIR_N));
	assert_true(sum > 0);
	assert_true(min * 2 * FAIR_N >= sum);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
}

static void
test_basic_mode(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;
	int i;

	(void)st;
	faults_write("{\"agent_version\": \"3.0.196.0\"}");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	for (i = 0; i < 4; i++) {
		pid = spawn_echo(lp, 300 * 1024, (uint32_t)i + 100);
		assert_int_equal(serve_children(&pid, 1, 60), 0);
	}
	assert_int_equal(nstarts(PF), 1);
	agent_mode("basic");
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
}

static void
test_keepalive(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;

	(void)st;
	faults_write("{\"agent_version\": \"3.1.1511.0\", "
	    "\"smux_keepalive_ms\": 300}");
	opt_set("ssm.smux_keepalive_ms", "300");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	pid = spawn_echo(lp, 100 * 1024, 7);
	assert_int_equal(serve_children(&pid, 1, 60), 0);
	agent_mode("mux-keepalive");
	/* idle for more than three intervals: both sides keep it alive */
	jc_loop_run(NULL, 1500);
	assert_int_equal(ssm_plugin.status(s), 0);
	assert_true(agent_stat("nops_in") >= 3);
	pid = spawn_echo(lp, 100 * 1024, 8);
	assert_int_equal(serve_children(&pid, 1, 60), 0);
	assert_int_equal(nstarts(PF), 1);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
}

static void
big_transfer(const char *fault_json, size_t n, int resumes)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;

	faults_write(fault_json);
	opt_set("ssm.chunk_size", "16384");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	pid = spawn_echo(lp, n, 4242);
	assert_int_equal(serve_children(&pid, 1, 240), 0);
	assert_int_equal(ssm_plugin.status(s), 0);
	if (resumes)
		assert_true(agent_stat("connections") >= 1 + resumes);
	assert_int_equal(nstarts(PF), 1);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	faults_write("{}");
	no_violations();
}

static void
test_lossy(void **st)
{
	(void)st;
	/* 5% lost each way, duplicates, reordering: not one byte wrong */
	big_transfer("{\"drop_pct\": 5, \"dup_pct\": 5, \"reorder_pct\": 5, "
	    "\"chunk_size\": 16384}", 50 * MB, 0);
	assert_true(agent_stat("out_resent") > 0);
	assert_true(agent_stat("reacks") > 0);
}

static void
test_corrupt(void **st)
{
	(void)st;
	/* frames whose digest does not match are dropped, then resent */
	big_transfer("{\"corrupt_pct\": 3, \"chunk_size\": 16384}", 8 * MB, 0);
	assert_true(agent_stat("out_resent") > 0);
}

static void
test_resume(void **st)
{
	(void)st;
	/* MGS closes the WebSocket every 6 MB: resumed, nothing lost */
	big_transfer("{\"close_every_bytes\": 6000000, \"chunk_size\": 16384}",
	    20 * MB, 3);
}

static void
test_pause_and_acks(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;

	(void)st;
	opt_set("ssm.chunk_size", "4096");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	/* Big enough to be in flight through every phase below. */
	pid = spawn_echo(lp, 120 * MB, 99);
	wait_flowing();
	faults_write("{\"pause\": true}");
	jc_loop_run(NULL, 1000);
	/* Longer than the largest RTO (1 s): resends must happen. */
	faults_write("{\"withhold_acks\": true}");
	jc_loop_run(NULL, 2500);
	faults_write("{\"delay_ms\": 30}");
	jc_loop_run(NULL, 500);
	faults_write("{}");
	assert_int_equal(serve_children(&pid, 1, 180), 0);
	assert_true(agent_stat("reacks") > 0);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
}

static void
test_resume_refused(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;
	int64_t end;
	int st2;

	(void)st;
	opt_set("ssm.reconnect_s", "2");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	pid = spawn_echo(lp, 200 * MB, 5);
	wait_flowing();
	faults_write("{\"refuse_resume\": true, \"close_ws\": 1}");
	end = jc_now_ms() + 15000;
	while (ssm_plugin.status(s) == 0 && jc_now_ms() < end)
		jc_loop_run(NULL, 100);
	assert_int_equal(ssm_plugin.status(s), JC_ERR_CLOSED);
	assert_non_null(strstr(last_error, "could not resume"));
	/* the local connection sees the end instead of hanging */
	end = jc_now_ms() + 10000;
	while (waitpid(pid, &st2, WNOHANG) == 0 && jc_now_ms() < end)
		jc_loop_run(NULL, 50);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_true(jc_now_ms() < end);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	assert_true(all_terminated());
}

/* exec through a handshake the client must refuse */
static void
refused(const char *fault_json, const char *msg)
{
	struct jc_exec_result res;
	struct jc_sess *s;

	faults_write(fault_json);
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.exec(s, "true", NULL, 0, 20000, &res),
	    JC_ERR_UNSUPPORTED);
	assert_non_null(strstr(last_error, msg));
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

static void
test_kms(void **st)
{
	(void)st;
	refused("{\"kms\": true}", "KMS-encrypted");
}

static void
test_unknown_action(void **st)
{
	(void)st;
	refused("{\"unknown_action\": true}", "FancyNewFeature");
}

struct pxdone {
	volatile int	 done;
	int		 error;
};

static void
px_done(void *arg, struct jc_relay *r, int error)
{
	struct pxdone *d = arg;

	(void)r;
	d->done = 1;
	d->error = error;
}

/*
 * ProxyCommand style: a raw stream over AWS-StartSSHSession, relayed to
 * a pipe pair the way `jconnect proxy` relays stdin/stdout.
 */
static void
test_proxy(void **st)
{
	struct jc_sess *s;
	struct jc_relay *r;
	struct pxdone d = { 0, 0 };
	int in[2], out[2], fd, eof = 0;
	char buf[256];
	ssize_t n;
	size_t got = 0;
	int64_t end;

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	/* the far side talks and closes: we read it all, then EOF */
	assert_int_equal(ssm_plugin.stream(s, "127.0.0.1",
	    (uint16_t)hello_port, JC_STREAM_PROXY, &fd), 0);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	r = jc_relay_new(in[0], out[1], fd, fd, 65536, px_done, &d);
	assert_non_null(r);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	end = jc_now_ms() + 20000;
	while (!eof && jc_now_ms() < end) {
		jc_loop_run(NULL, 20);
		while ((n = read(out[0], buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)n;
		eof = n == 0;
	}
	assert_true(eof);
	/* stdin still open: the relay ends once we close it */
	close(in[1]);
	jc_loop_run(&d.done, 10000);
	assert_true(d.done);
	assert_int_equal(d.error, 0);
	assert_int_equal(got, 24);
	assert_memory_equal(buf, "hello from the far side\n", 24);
	jc_relay_free(r);
	close(out[0]);
	assert_int_equal(ssm_plugin.status(s), 0);
	agent_mode("raw");
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/* A raw stream both ways, byte for byte (a lone LF stays LF). */
static void
test_proxy_echo(void **st)
{
	struct jc_sess *s;
	unsigned char src[70000], dst[70000];
	size_t sent = 0, got = 0, i;
	struct pollfd p;
	ssize_t n;
	int fd;

	(void)st;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + (i >> 8));
	src[100] = '\n';	/* a lone LF must stay LF */
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.stream(s, "127.0.0.1",
	    (uint16_t)echo_port, JC_STREAM_PROXY, &fd), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < sizeof(dst)) {
		p.fd = fd;
		p.events = POLLIN | (sent < sizeof(src) ? POLLOUT : 0);
		p.revents = 0;
		if (poll(&p, 1, 0) > 0) {
			if (p.revents & POLLOUT) {
				n = write(fd, src + sent, sent < 100 ?
				    100 - sent : sent == 100 ? 1 :
				    sizeof(src) - sent);
				if (n > 0)
					sent += (size_t)n;
			}
			if (p.revents & POLLIN) {
				n = read(fd, dst + got, sizeof(dst) - got);
				assert_true(n > 0);
				got += (size_t)n;
			}
		}
		assert_true(jc_loop_run(NULL, 10) == JC_ERR_TIMEOUT);
	}
	assert_memory_equal(src, dst, sizeof(src));
	close(fd);
	jc_loop_run(NULL, 2500);
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/*
 * connect() proves reachability with an AWS-StartSSHSession to port 22
 * and hands that very session to the first ProxyCommand stream to port
 * 22: one StartSession for `jconnect proxy`, not two.  Nothing listens
 * on port 22 here, so the agent ends the session and the stream sees EOF.
 */
static void
test_spare_session(void **st)
{
	struct jc_sess *s;
	char buf[16];
	int fd, i;

	(void)st;
	if (jc_net_port_busy(22))
		skip();
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.stream(s, "127.0.0.1", 22,
	    JC_STREAM_PROXY, &fd), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 400; i++) {
		jc_loop_run(NULL, 25);
		if (read(fd, buf, sizeof(buf)) == 0)
			break;
	}
	assert_true(i < 400);
	close(fd);
	assert_int_equal(nsids, 1);
	assert_int_equal(nstarts("AWS-StartSSHSession"), 1);
	ssm_plugin.close(s);
	assert_true(all_terminated());
}

static void
test_connect_error(void **st)
{
	struct jc_sess *s;
	char buf[16];
	ssize_t n;
	int fd, i;

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	assert_int_equal(ssm_plugin.stream(s, "127.0.0.1",
	    (uint16_t)dead_port, 0, &fd), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	(void)!write(fd, "GET /\r\n", 7);
	for (i = 0; i < 200; i++) {
		jc_loop_run(NULL, 25);
		if ((n = read(fd, buf, sizeof(buf))) == 0)
			break;
	}
	assert_true(i < 200);	/* EOF, not a hang */
	close(fd);
	assert_int_equal(ssm_plugin.status(s), 0);
	ssm_plugin.close(s);
	no_violations();
}

static void
test_session_ended(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pid;
	uint16_t lp;

	(void)st;
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	pid = spawn_echo(lp, 64 * 1024, 11);
	assert_int_equal(serve_children(&pid, 1, 60), 0);
	/* MGS ends the session (idle timeout): a new one serves the next */
	faults_write("{\"end_session\": 1, \"end_output\": \"Your session "
	    "timed out due to inactivity and has been terminated.\"}");
	jc_loop_run(NULL, 500);
	assert_int_equal(ssm_plugin.status(s), 0);
	pid = spawn_echo(lp, 64 * 1024, 12);
	assert_int_equal(serve_children(&pid, 1, 60), 0);
	assert_int_equal(nstarts(PF), 2);
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
}

/*
 * ssm.sessions=3: concurrent connections are spread over several port
 * sessions, the extra ones started from the loop; a throttled start
 * costs nothing but a smaller pool, and nobody hears of it.
 */
static void
test_pool(void **st)
{
	struct jc_sess *s;
	struct jc_fwd *f;
	pid_t pids[12];
	uint16_t lp;
	long k, total;
	int i, n;

	(void)st;
	async_aws(1);
	throttle_after = 1;	/* the second extra start is throttled */
	throttle = 1;
	opt_set("ssm.sessions", "3");
	s = connect_to("i-0123456789abcdef0");
	f = forward(s, echo_port, &lp);
	for (i = 0; i < 12; i++)
		pids[i] = spawn_echo(lp, 2 * MB + (size_t)i * 997,
		    (uint32_t)i + 100);
	assert_int_equal(serve_children(pids, 12, 120), 0);
	assert_int_equal(ssm_plugin.status(s), 0);
	assert_int_equal(throttled, 1);
	assert_true(nstarts(PF) >= 2);
	assert_true(nstarts(PF) <= 3);
	/* Every port session started here carried streams: 12 in all. */
	for (i = n = total = 0; i < nsids; i++)
		if (strcmp(docs[i], PF) == 0) {
			k = session_stat(sids[i], "streams");
			n += k > 0;
			total += k;
		}
	assert_int_equal(total, 12);
	assert_true(n >= 2);
	assert_string_equal(last_error, "");
	jc_fwd_free(f);
	ssm_plugin.close(s);
	no_violations();
	assert_true(all_terminated());
}

/* The WebSocket closed every 6 MB, resumed without waiting for AWS. */
static void
test_resume_async(void **st)
{
	(void)st;
	async_aws(1);
	big_transfer("{\"close_every_bytes\": 6000000, \"chunk_size\": 16384}",
	    20 * MB, 3);
	assert_true(async_calls >= 3);
	assert_true(all_terminated());
}

/* ---- the core's aws_json_start, against a slow HTTP server ---------- */

/*
 * Answer n requests on lfd, each `delay_ms` late: 200 with a JSON body,
 * or 400 ThrottlingException "Rate exceeded" as AWS says it.
 */
static pid_t
slow_server(int lfd, int n, int delay_ms, int throttle_it)
{
	static const char ok[] = "{\"SessionId\":\"s-1\"}";
	static const char thr[] = "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"Rate exceeded\"}";
	char buf[65536], hdr[256];
	struct pollfd pfd;
	const char *b;
	pid_t pid = fork();
	size_t got;
	ssize_t k;
	char *e, *cl;
	int fd, i;

	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	for (i = 0; i < n; i++) {
		/* lfd is non-blocking (jc_net_listen): wait for a client. */
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20000) != 1 ||
		    (fd = accept(lfd, NULL, NULL)) < 0)
			_exit(1);
		got = 0;
		for (;;) {
			k = read(fd, buf + got, sizeof(buf) - 1 - got);
			if (k <= 0)
				break;
			got += (size_t)k;
			buf[got] = '\0';
			if ((e = strstr(buf, "\r\n\r\n")) == NULL)
				continue;
			cl = strstr(buf, "Content-Length:");
			if (cl == NULL || got >= (size_t)(e + 4 - buf) +
			    (size_t)atol(cl + 15))
				break;
		}
		usleep((useconds_t)delay_ms * 1000);
		b = throttle_it ? thr : ok;
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: "
		    "application/x-amz-json-1.1\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", throttle_it ?
		    "400 Bad Request" : "200 OK", strlen(b));
		if (write(fd, hdr, strlen(hdr)) < 0 || write(fd, b,
		    strlen(b)) < 0)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

static int	 ticks, call_r, call_done;
static char	 call_out[256], call_code[96];

static void
tick_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	int64_t *next = arg;

	(void)ps;
	if (*deadline < 0 || *next < *deadline)
		*deadline = *next;
}

static void
tick_dispatch(void *arg, struct jc_pollset *ps)
{
	int64_t *next = arg;

	(void)ps;
	if (jc_now_ms() >= *next) {
		ticks++;
		*next = jc_now_ms() + 10;
	}
}

static const struct jc_source_ops tick_ops = { tick_prepare, tick_dispatch };

static void
call_cb(void *arg, int r, char *out, const struct jc_aws_error *err)
{
	(void)arg;
	call_r = r;
	snprintf(call_out, sizeof(call_out), "%s", out != NULL ? out : "");
	snprintf(call_code, sizeof(call_code), "%s", err->code);
	free(out);
	call_done = 1;
}

/*
 * What the pool relies on: a call in flight costs the loop nothing (a
 * 10 ms ticker keeps ticking while AWS takes 400 ms), the answer or
 * AWS's throttling comes through done(), a cancelled call never does.
 */
static void
test_aws_async(void **st)
{
	struct jc_aws_error err;
	struct jc_aws_call *c;
	struct jc_source *src;
	int64_t next;
	char url[64];
	uint16_t port;
	pid_t pid;
	int lfd, i;

	(void)st;
	assert_int_equal(jc_net_listen(0, &lfd, &port), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_int_equal(jc_aws_setup(NULL, "us-east-1"), 0);
	next = jc_now_ms() + 10;
	assert_non_null(src = jc_source_add(&tick_ops, &next));
	for (i = 0; i < 4; i++) {
		pid = slow_server(lfd, 1, 400, i % 2 == 1);
		call_done = 0;
		ticks = 0;
		assert_int_equal(jc_aws_json_start("ssm",
		    "AmazonSSM.StartSession", "{}", call_cb, NULL, &c, &err),
		    0);
		assert_int_equal(call_done, 0);		/* never from inside */
		if (jc_loop_run(&call_done, 10000) != 0)
			fail_msg("call %d: no answer in 10 s (%d ticks)", i,
			    ticks);
		assert_true(ticks >= 20);
		if (i % 2 == 0) {
			assert_int_equal(call_r, 0);
			assert_string_equal(call_out, "{\"SessionId\":\"s-1\"}");
		} else {
			assert_true(call_r < 0);
			assert_string_equal(call_code, "ThrottlingException");
		}
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	}
	/* Cancelled: done() never runs. */
	pid = slow_server(lfd, 1, 100, 0);
	call_done = 0;
	assert_int_equal(jc_aws_json_start("ssm", "AmazonSSM.StartSession",
	    "{}", call_cb, NULL, &c, &err), 0);
	jc_loop_run(NULL, 50);
	jc_aws_json_cancel(c);
	jc_loop_run(NULL, 400);
	assert_int_equal(call_done, 0);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	jc_source_del(src);
	close(lfd);
	jc_aws_cleanup();
	unsetenv("AWS_ENDPOINT_URL");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exec, test_setup),
		cmocka_unit_test_setup(test_target_not_connected, test_setup),
		cmocka_unit_test_setup(test_proxy_env, test_setup),
		cmocka_unit_test_setup(test_policy_without_ssh, test_setup),
		cmocka_unit_test_setup(test_mux_many, test_setup),
		cmocka_unit_test_setup(test_mux_slow_readers, test_setup),
		cmocka_unit_test_setup(test_fairness, test_setup),
		cmocka_unit_test_setup(test_basic_mode, test_setup),
		cmocka_unit_test_setup(test_keepalive, test_setup),
		cmocka_unit_test_setup(test_proxy, test_setup),
		cmocka_unit_test_setup(test_proxy_echo, test_setup),
		cmocka_unit_test_setup(test_spare_session, test_setup),
		cmocka_unit_test_setup(test_connect_error, test_setup),
		cmocka_unit_test_setup(test_session_ended, test_setup),
		cmocka_unit_test_setup(test_kms, test_setup),
		cmocka_unit_test_setup(test_unknown_action, test_setup),
		cmocka_unit_test_setup(test_pause_and_acks, test_setup),
		cmocka_unit_test_setup(test_corrupt, test_setup),
		cmocka_unit_test_setup(test_resume, test_setup),
		cmocka_unit_test_setup(test_resume_refused, test_setup),
		cmocka_unit_test_setup(test_lossy, test_setup),
		cmocka_unit_test_setup(test_pool, test_setup),
		cmocka_unit_test_setup(test_resume_async, test_setup),
		cmocka_unit_test_setup(test_aws_async, test_setup),
	};

	if (getenv("SSM_TEST_ONLY") != NULL)
		cmocka_set_test_filter(getenv("SSM_TEST_ONLY"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
