/*
 * test_jupyter_live.c - discovery, start, stop and the tunnel check
 * against real Jupyter servers (Debian's notebook 6 and jupyter-server
 * 1.x) on 127.0.0.1.
 *
 * The "remote" is this machine under a private HOME; commands reach it
 * through a small access method that runs them with /bin/sh (fork/exec,
 * stdin fed, stdout/stderr collected, a deadline), the same contract as
 * the SSH plugin's exec.  Through-sshd runs are tests/integration/
 * t_jupyter_*.sh.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "jupyter.h"
#include "log.h"
#include "loop.h"

#define JUPYTER_BIN	"/usr/bin/jupyter"
#define MAX_SERVERS	8

struct jc_sess {
	char	home[512];		/* the remote user's HOME */
	char	path[1024];		/* PATH on the "remote" */
};

static struct jc_sess sess;
static char tmpdir[256];
static pid_t servers[MAX_SERVERS];

/* ---- the local access method ------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
grow_read(int fd, char **buf, size_t *len)
{
	char tmp[65536], *nb;
	ssize_t n;

	n = read(fd, tmp, sizeof(tmp));
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? 0 : 1;
	if ((nb = realloc(*buf, *len + (size_t)n + 1)) == NULL)
		return 0;
	memcpy(nb + *len, tmp, (size_t)n);
	*len += (size_t)n;
	nb[*len] = '\0';
	*buf = nb;
	return 1;
}

static int
local_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	int pin[2], pout[2], perr[2], st, open_out = 1, open_err = 1, n;
	size_t off = 0;
	pid_t pid;
	int64_t end = now_ms() + timeout_ms;
	char henv[600], penv[1100];
	char *envp[] = { henv, penv, (char *)"LANG=C.UTF-8", NULL };
	struct pollfd pf[3];
	ssize_t w;

	memset(res, 0, sizeof(*res));
	if (pipe(pin) || pipe(pout) || pipe(perr))
		return JC_ERR_IO;
	snprintf(henv, sizeof(henv), "HOME=%s", s->home);
	snprintf(penv, sizeof(penv), "PATH=%s", s->path);
	if ((pid = fork()) == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		for (n = 3; n < 256; n++)
			close(n);
		if (chdir(s->home) != 0)
			_exit(126);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, envp);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	res->out = calloc(1, 1);
	res->err = calloc(1, 1);
	while (open_out || open_err) {
		int k = 0, t = (int)(end - now_ms());

		if (t <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (pin[1] >= 0 && off < inlen) {
			pf[k].fd = pin[1];
			pf[k++].events = POLLOUT;
		} else if (pin[1] >= 0) {
			close(pin[1]);
			pin[1] = -1;
		}
		if (open_out) {
			pf[k].fd = pout[0];
			pf[k++].events = POLLIN;
		}
		if (open_err) {
			pf[k].fd = perr[0];
			pf[k++].events = POLLIN;
		}
		if (poll(pf, (nfds_t)k, t) <= 0)
			continue;
		for (n = 0; n < k; n++) {
			if (pf[n].revents == 0)
				continue;
			if (pf[n].fd == pin[1]) {
				w = write(pin[1], (const char *)in + off,
				    inlen - off);
				if (w > 0)
					off += (size_t)w;
				else if (errno != EAGAIN) {
					close(pin[1]);
					pin[1] = -1;
				}
			} else if (pf[n].fd == pout[0])
				open_out = grow_read(pout[0], &res->out,
				    &res->outlen);
			else
				open_err = grow_read(perr[0], &res->err,
				    &res->errlen);
		}
	}
	if (pin[1] >= 0)
		close(pin[1]);
	close(pout[0]);
	close(perr[0]);
	waitpid(pid, &st, 0);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (now_ms() >= end)
		return JC_ERR_TIMEOUT;
	return 0;
}

static void
local_exec_free(struct jc_exec_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

static const struct jc_plugin local = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "local",
	.kind = JC_KIND_METHOD,
	.exec = local_exec,
	.exec_free = local_exec_free,
};

/* ---- helpers ------------------------------------------------------------ */

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
rtpath(char *buf, size_t n, const char *file)
{
	snprintf(buf, n, "%s/.local/share/jupyter/runtime/%s", sess.home,
	    file);
}

/* Run a shell line locally and return its stdout (caller frees). */
static char *
sh(const char *fmt, ...)
{
	struct jc_exec_result r;
	char cmd[4096];
	va_list ap;
	char *out;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(local_exec(&sess, cmd, NULL, 0, 30000, &r), 0);
	out = r.out;
	free(r.err);
	return out;
}

/*
 * Start a real server in the remote HOME.  kind "notebook" or "server";
 * extra: NULL-terminated argv tail; env: "NAME=VALUE" or NULL.  Waits for
 * its runtime file; returns the slot.
 */
static int
start_server(const char *kind, int port, const char *env,
    const char *const *extra)
{
	char *argv[32], portarg[32], rootarg[600], henv[600], file[700];
	char rt[1400];
	char *envp[] = { henv, (char *)"PATH=/usr/local/bin:/usr/bin:/bin",
	    (char *)"LANG=C.UTF-8", (char *)env, NULL };
	int i = 0, slot, fd;
	pid_t pid;
	struct stat st;
	int64_t end;

	for (slot = 0; slot < MAX_SERVERS && servers[slot] != 0; slot++)
		;
	assert_true(slot < MAX_SERVERS);
	snprintf(henv, sizeof(henv), "HOME=%s", sess.home);
	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	snprintf(rootarg, sizeof(rootarg), "--%s.root_dir=%s",
	    strcmp(kind, "notebook") == 0 ? "NotebookApp" : "ServerApp",
	    sess.home);
	argv[i++] = (char *)JUPYTER_BIN;
	argv[i++] = (char *)kind;
	argv[i++] = (char *)"--no-browser";
	argv[i++] = (char *)"--ip=127.0.0.1";
	if (port > 0) {		/* 0: a Unix socket in extra */
		argv[i++] = portarg;
		argv[i++] = (char *)"--port-retries=0";
	}
	if (strcmp(kind, "server") == 0)
		argv[i++] = rootarg;
	if (geteuid() == 0)
		argv[i++] = (char *)"--allow-root";
	while (extra != NULL && *extra != NULL && i < 30)
		argv[i++] = (char *)*extra++;
	argv[i] = NULL;
	if ((pid = fork()) == 0) {
		snprintf(file, sizeof(file), "%s/server-%d.log", tmpdir, port);
		fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		if (chdir(sess.home) != 0)
			_exit(126);
		setsid();
		execve(JUPYTER_BIN, argv, envp);
		_exit(127);
	}
	servers[slot] = pid;
	snprintf(file, sizeof(file), "%sserver-%d.json",
	    strcmp(kind, "notebook") == 0 ? "nb" : "jp", (int)pid);
	rtpath(rt, sizeof(rt), file);
	end = now_ms() + 60000;
	while (stat(rt, &st) != 0 || st.st_size < 20) {
		if (now_ms() > end || waitpid(pid, NULL, WNOHANG) == pid)
			fail_msg("jupyter %s on port %d did not start", kind,
			    port);
		usleep(50000);
	}
	usleep(100000);
	return slot;
}

static void
stop_server(int slot)
{
	int64_t end = now_ms() + 10000;

	if (servers[slot] == 0)
		return;
	kill(servers[slot], SIGTERM);
	while (waitpid(servers[slot], NULL, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(servers[slot], SIGKILL);
			waitpid(servers[slot], NULL, 0);
			break;
		}
		usleep(20000);
	}
	servers[slot] = 0;
}

static void
stop_all(void)
{
	int i;

	for (i = 0; i < MAX_SERVERS; i++)
		stop_server(i);
}

/* 1 once pid has exited (a zombie waiting for init counts), within ms. */
static int
gone(pid_t pid, int ms)
{
	char path[64], buf[512], *p;
	int64_t end = now_ms() + ms;
	FILE *f;
	size_t n;

	for (;;) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return 1;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
			    (p[2] == 'Z' || p[2] == 'X'))
				return 1;
		}
		if (now_ms() > end)
			return 0;
		usleep(20000);
	}
}

/* The token in a server's runtime file. */
static void
file_token(int slot, const char *prefix, char *tok, size_t n)
{
	char file[64], path[1400], *buf;
	struct jc_jupyter j;
	size_t nj = 0;
	FILE *f;
	long sz;

	snprintf(file, sizeof(file), "%sserver-%d.json", prefix,
	    (int)servers[slot]);
	rtpath(path, sizeof(path), file);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)sz + 1);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	assert_int_equal(jc_jupyter_json_parse(buf, (size_t)sz, "t", &j, 1,
	    &nj), 0);
	snprintf(tok, n, "%s", j.token);
	free(buf);
}

/* Capture what the core logs on stderr during a call. */
static int saved_err = -1;
static char errfile[300];

static void
capture_begin(void)
{
	int fd;

	fflush(stderr);
	snprintf(errfile, sizeof(errfile), "%s/stderr.txt", tmpdir);
	saved_err = dup(2);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
}

static char *
capture_end(void)
{
	FILE *f;
	char *buf = calloc(1, 65536);

	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	f = fopen(errfile, "r");
	if (f != NULL) {
		(void)!fread(buf, 1, 65535, f);
		fclose(f);
	}
	/* Echo it, so failures show what was said. */
	fprintf(stderr, "%s", buf);
	return buf;
}

static void
req_init(struct jc_jupyter_req *q)
{
	memset(q, 0, sizeof(*q));
	q->can_unix = 1;
}

/* ---- fixtures ----------------------------------------------------------- */

static int
setup_each(void **state)
{
	char *o;

	(void)state;
	/* A fresh "remote" HOME for every test. */
	snprintf(sess.home, sizeof(sess.home), "%s", tmpdir);
	snprintf(sess.path, sizeof(sess.path), "/usr/local/bin:/usr/bin:/bin");
	o = sh("rm -rf '%s/rhome' && mkdir -p '%s/rhome/.local/share/jupyter/"
	    "runtime' && echo ok", tmpdir, tmpdir);
	free(o);
	snprintf(sess.home, sizeof(sess.home), "%s/rhome", tmpdir);
	snprintf(sess.path, sizeof(sess.path), "/usr/local/bin:/usr/bin:/bin");
	return 0;
}

static int
teardown_each(void **state)
{
	struct jc_jupyter_req q;

	(void)state;
	stop_all();
	/* A server the test started through jconnect. */
	req_init(&q);
	(void)jc_jupyter_stop(&local, &sess, NULL);
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

/* A token server is found through its runtime file; the check passes. */
static void
test_token_server(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char tok[160], url[1024], want[1024];
	int port = free_port(), slot;

	(void)state;
	slot = start_server("notebook", port, NULL, NULL);
	file_token(slot, "nb", tok, sizeof(tok));
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.port, port);
	assert_string_equal(j.token, tok);
	assert_string_equal(j.host, "127.0.0.1");
	assert_string_equal(j.kind, "nb");
	assert_int_equal(j.pid, servers[slot]);
	/* No tunnel here: the check goes straight to the port. */
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
	assert_string_equal(j.default_path, "/tree");
	assert_int_equal(jc_jupyter_url(&j, port, url, sizeof(url)), 0);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/tree?token=%s",
	    port, tok);
	assert_string_equal(url, want);
}

/* JUPYTER_TOKEN: the log says "...", the runtime file has the token. */
static void
test_env_token(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char logf[400];
	int port = free_port();

	(void)state;
	start_server("notebook", port, "JUPYTER_TOKEN=tok-from-env-1234",
	    NULL);
	snprintf(logf, sizeof(logf), "%s/server-%d.log", tmpdir, port);
	req_init(&q);
	q.log_file = logf;
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_string_equal(j.token, "tok-from-env-1234");
	assert_int_equal(j.token_masked, 0);
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
}

/* `jupyter server` (jpserver file, 0600) */
static void
test_jupyter_server(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char tok[160], url[1024], *ver;
	int port = free_port(), slot;

	(void)state;
	slot = start_server("server", port, NULL, NULL);
	file_token(slot, "jp", tok, sizeof(tok));
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.port, port);
	assert_string_equal(j.kind, "jp");
	/* The installed jupyter_server's (1.x on Debian 12, 2.x on 13). */
	ver = sh("/usr/bin/python3 -c 'import jupyter_server; "
	    "print(jupyter_server.__version__)'");
	ver[strcspn(ver, "\n")] = '\0';
	assert_string_equal(j.version, ver);
	free(ver);
	assert_string_equal(j.token, tok);
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
	assert_int_equal(jc_jupyter_url(&j, port, url, sizeof(url)), 0);
	assert_non_null(strstr(url, tok));
}

/* Two servers: --jupyter-port picks, else the newest. */
static void
test_two_servers(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	int p1 = free_port(), p2;
	char *err;

	(void)state;
	start_server("notebook", p1, NULL, NULL);
	do
		p2 = free_port();
	while (p2 == p1);
	sleep(1);	/* distinct mtimes */
	start_server("server", p2, NULL, NULL);
	req_init(&q);
	jc_log_set_level(JC_LOG_VERBOSE);
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	err = capture_end();
	jc_log_set_level(JC_LOG_INFO);
	assert_int_equal(j.port, p2);
	/* -v lists the other one. */
	assert_non_null(strstr(err, "also running"));
	free(err);
	q.want_port = p1;
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.port, p1);
	assert_int_equal(jc_jupyter_verify(p1, &j, 10000), 0);
	q.want_port = p2;
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.port, p2);
	/* A port where nothing runs: an error that names the way out. */
	q.want_port = 1;
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "--start-jupyter"));
	free(err);
}

/* base_url=/jupyter/: checks and URL go under it. */
static void
test_base_url(void **state)
{
	static const char *const extra[] = {
		"--NotebookApp.base_url=/jupyter/", NULL
	};
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char url[1024];
	int port = free_port();

	(void)state;
	start_server("notebook", port, NULL, extra);
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_string_equal(j.base_url, "/jupyter/");
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
	assert_string_equal(j.default_path, "/tree");
	assert_int_equal(jc_jupyter_url(&j, port, url, sizeof(url)), 0);
	assert_non_null(strstr(url, "/jupyter/tree?token="));
}

/*
 * A Unix-socket server: dialled by path when the method can (SSH), a
 * clear "cannot" otherwise (SSM).
 */
static void
test_unix_socket(void **state)
{
	char sockarg[700], sockpath[600], *extra[2], *err;
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	const char *host;
	int port;

	(void)state;
	snprintf(sockpath, sizeof(sockpath), "%s/nb.sock", sess.home);
	snprintf(sockarg, sizeof(sockarg), "--sock=%s", sockpath);
	extra[0] = sockarg;
	extra[1] = NULL;
	start_server("notebook", 0, NULL, (const char *const *)extra);
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_string_equal(j.sock, sockpath);
	assert_int_equal(j.port, 0);
	assert_int_equal((int)strlen(j.token), 48);
	jc_jupyter_dial(&j, &host, &port);
	assert_string_equal(host, sockpath);
	assert_int_equal(port, 0);
	q.can_unix = 0;
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "Unix socket"));
	assert_non_null(strstr(err, "--via ssh"));
	free(err);
}

/* Password only: the login page and a sentence that says so. */
static void
test_password_only(void **state)
{
	char *extra[3], pw[400], *hash, *err;
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char url[1024], want[256];
	int port = free_port();

	(void)state;
	hash = sh("/usr/bin/python3 -c 'from notebook.auth import passwd; "
	    "print(passwd(\"pw\"))'");
	hash[strcspn(hash, "\n")] = '\0';
	snprintf(pw, sizeof(pw), "--NotebookApp.password=%s", hash);
	free(hash);
	extra[0] = (char *)"--NotebookApp.token=";
	extra[1] = pw;
	extra[2] = NULL;
	start_server("notebook", port, NULL, (const char *const *)extra);
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.password_only, 1);
	assert_string_equal(j.token, "");
	capture_begin();
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
	err = capture_end();
	assert_non_null(strstr(err, "password"));
	free(err);
	assert_int_equal(jc_jupyter_url(&j, port, url, sizeof(url)), 0);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/login?next=%%2Ftree",
	    port);
	assert_string_equal(url, want);
}

/* No server: exit 7 naming --start-jupyter. */
static void
test_none(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char *err;

	(void)state;
	req_init(&q);
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "--start-jupyter"));
	free(err);
}

/*
 * --start-jupyter: bound to 127.0.0.1 only, token in neither ps nor the
 * log, detached (outlives the exec), URL works, stop ends it.
 */
static void
test_start_stop(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j, again;
	char *out, url[1024], want[64];
	int port = free_port();
	long pid;

	(void)state;
	req_init(&q);
	q.start = 1;
	q.want_port = port;
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_int_equal(j.started, 1);
	assert_int_equal(j.port, port);
	assert_int_equal((int)strlen(j.token), 48);
	pid = j.pid;
	assert_true(pid > 0);
	/* Listening on 127.0.0.1 only. */
	out = sh("awk -v p=\":%04X\" '$2 ~ p\"$\" && $4 == \"0A\" "
	    "{ print \"L=\" $2 }' /proc/net/tcp /proc/net/tcp6", port);
	snprintf(want, sizeof(want), "L=0100007F:%04X\n", port);
	assert_string_equal(out, want);
	free(out);
	/* The token is in no argv and not in the log. */
	out = sh("ps -eo args; cat \"$HOME/.jconnect/jupyter.log\"");
	assert_null(strstr(out, j.token));
	assert_non_null(strstr(out, "--ip=127.0.0.1"));
	free(out);
	out = sh("ls -l \"$HOME/.jconnect\"; test -e "
	    "\"$HOME/.jconnect/jupyter.token\" && echo TOKENFILE; "
	    "stat -c %%a \"$HOME/.jconnect\"");
	assert_null(strstr(out, "TOKENFILE"));
	assert_non_null(strstr(out, "700"));
	free(out);
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), 0);
	assert_int_equal(jc_jupyter_url(&j, port, url, sizeof(url)), 0);
	/* Still running after the exec ended; found again, marked ours. */
	assert_int_equal(kill((pid_t)pid, 0), 0);
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &again), 0);
	assert_int_equal(again.pid, pid);
	assert_int_equal(again.started, 1);
	assert_string_equal(again.token, j.token);
	/* stop --jupyter */
	assert_int_equal(jc_jupyter_stop(&local, &sess, NULL), 0);
	assert_true(gone((pid_t)pid, 5000));
	out = sh("test -e \"$HOME/.jconnect/jupyter.pid\" && echo PIDFILE");
	assert_null(strstr(out, "PIDFILE"));
	free(out);
	/* Nothing left to stop: fine. */
	assert_int_equal(jc_jupyter_stop(&local, &sess, NULL), 0);
}

/* --start-jupyter on a busy remote port: a clear word, exit 7. */
static void
test_start_port_busy(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, one = 1;
	char *err;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	req_init(&q);
	q.start = 1;
	q.want_port = ntohs(sin.sin_port);
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	close(fd);
	assert_non_null(strstr(err, "already in use"));
	assert_non_null(strstr(err, "--jupyter-port"));
	free(err);
	err = sh("test -e \"$HOME/.jconnect/jupyter.pid\" && echo PIDFILE");
	assert_null(strstr(err, "PIDFILE"));
	free(err);
}

/* A jupyter that dies at start-up: its last log line is in the error. */
static void
test_start_dies(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char *out, *err;

	(void)state;
	out = sh("mkdir -p \"$HOME/bin\" && printf '#!/bin/sh\\necho "
	    "\"ModuleNotFoundError: No module named notebook\" >&2\\nexit 1\\n' "
	    "> \"$HOME/bin/jupyter\" && cp \"$HOME/bin/jupyter\" "
	    "\"$HOME/bin/jupyter-notebook\" && chmod +x \"$HOME\"/bin/* && "
	    "echo ok");
	free(out);
	snprintf(sess.path, sizeof(sess.path), "%s/bin:/usr/bin:/bin",
	    sess.home);
	req_init(&q);
	q.start = 1;
	q.want_port = free_port();
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "exited during start-up"));
	assert_non_null(strstr(err, "No module named notebook"));
	free(err);
}

/* stop --jupyter never kills a server jconnect did not start. */
static void
test_stop_not_ours(void **state)
{
	char *out;
	int port = free_port(), slot;

	(void)state;
	slot = start_server("notebook", port, NULL, NULL);
	out = sh("mkdir -p \"$HOME/.jconnect\" && echo %d > "
	    "\"$HOME/.jconnect/jupyter.pid\"", (int)servers[slot]);
	free(out);
	assert_int_equal(jc_jupyter_stop(&local, &sess, NULL), JC_ERR_JUPYTER);
	assert_int_equal(kill(servers[slot], 0), 0);
	out = sh("rm -f \"$HOME/.jconnect/jupyter.pid\"");
	free(out);
}

/* The server restarted between discovery and the check: exit 7. */
static void
test_wrong_token(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	int port = free_port(), slot;
	char *err;

	(void)state;
	slot = start_server("notebook", port, NULL, NULL);
	req_init(&q);
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	stop_server(slot);
	start_server("notebook", port, NULL, NULL);
	capture_begin();
	assert_int_equal(jc_jupyter_verify(port, &j, 10000), JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "refused the token"));
	assert_null(strstr(err, j.token));
	free(err);
}

/* A stale file (dead pid) is skipped; so is a port nobody answers. */
static void
test_stale_and_dead(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char *out, *err;
	int64_t t0;
	int port = free_port();

	(void)state;
	/* 2000 stale files, and malformed JSON under a live python pid. */
	out = sh("cd \"$HOME/.local/share/jupyter/runtime\" && i=0; "
	    "while [ $i -lt 2000 ]; do echo '{\"port\": %d, \"pid\": 9999999, "
	    "\"token\": \"x\"}' > nbserver-$((4000000 + i)).json; "
	    "i=$((i + 1)); done; echo ok", port);
	free(out);
	start_server("notebook", port, NULL, NULL);
	out = sh("cd \"$HOME/.local/share/jupyter/runtime\" && "
	    "printf '{\"port\": 1, \"tok' > jpserver-%d.json && "
	    "head -c 3000 /dev/urandom > nbserver-%d.json && echo ok",
	    (int)getpid(), (int)getpid());
	free(out);
	req_init(&q);
	t0 = now_ms();
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	err = capture_end();
	free(err);
	assert_true(now_ms() - t0 < 15000);
	assert_int_equal(j.port, port);
	/* Only stale files: none found, said plainly. */
	stop_all();
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "--start-jupyter"));
	free(err);
}

/* A `jupyter` that hangs: bounded, a clear word, no crash. */
static void
test_hanging_jupyter(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char *out, *err;
	int64_t t0;

	(void)state;
	out = sh("mkdir -p \"$HOME/bin\" && printf '#!/bin/sh\\nexec sleep "
	    "600\\n' > \"$HOME/bin/jupyter\" && chmod +x \"$HOME/bin/jupyter\""
	    " && echo ok");
	free(out);
	snprintf(sess.path, sizeof(sess.path), "%s/bin:/usr/bin:/bin",
	    sess.home);
	req_init(&q);
	t0 = now_ms();
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	err = capture_end();
	assert_true(now_ms() - t0 < 30000);
	assert_non_null(strstr(err, "did not answer"));
	free(err);
}

/* --jupyter-log on a 50 MB log: found within a bounded time. */
static void
test_big_log(void **state)
{
	struct jc_jupyter_req q;
	struct jc_jupyter j;
	char *out, logf[600];
	int64_t t0;

	(void)state;
	snprintf(logf, sizeof(logf), "%s/big.log", sess.home);
	out = sh("{ cat '%s/tests/fuzz/corpus/jupyter_log/srv1_lab.log'; "
	    "yes '[I 2026-11-23 20:05:00.000 ServerApp] 200 GET "
	    "/api/kernels?1234567890 (127.0.0.1) 1.00ms' | head -c 50000000;"
	    " head -c 100000 /dev/urandom; } > '%s'; echo ok",
	    getenv("JC_TEST_ROOT") ? getenv("JC_TEST_ROOT") : ".", logf);
	free(out);
	req_init(&q);
	q.log_file = logf;
	t0 = now_ms();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j), 0);
	assert_true(now_ms() - t0 < 20000);
	assert_int_equal(j.port, 18815);
	assert_string_equal(j.default_path, "/lab");
	assert_string_equal(j.token,
	    "0b06f8328cdd6acedc97a666f233b78f03f2fb81657d179c");
	/* A log that does not exist: a warning, then "none". */
	q.log_file = "~/no/such.log";
	capture_begin();
	assert_int_equal(jc_jupyter_find(&local, &sess, &q, &j),
	    JC_ERR_JUPYTER);
	out = capture_end();
	assert_non_null(strstr(out, "no/such.log"));
	free(out);
}

/* Another user (-l USER over SSM): through sudo, the script on stdin. */
static char rec_cmd[256];
static char *rec_in;

static int
rec_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	(void)s;
	(void)timeout_ms;
	snprintf(rec_cmd, sizeof(rec_cmd), "%s", cmd);
	free(rec_in);
	rec_in = calloc(1, inlen + 1);
	memcpy(rec_in, in, inlen);
	memset(res, 0, sizeof(*res));
	return JC_ERR_CLOSED;
}

/* The command that runs a script as ubuntu (sudo only when needed). */
#define SUDO_UBUNTU "if [ \"$(id -un)\" = ubuntu ]; then exec sh -s; " \
    "else exec sudo -n -u ubuntu -i sh -s; fi"

static void
test_run_as(void **state)
{
	struct jc_plugin rec = local;
	struct jc_jupyter_req q;
	struct jc_jupyter j;

	(void)state;
	rec.exec = rec_exec;
	req_init(&q);
	q.run_as = "ubuntu";
	q.start = 1;
	q.want_port = 8999;
	assert_int_equal(jc_jupyter_discover(&rec, &sess, &q, 1, &j),
	    JC_ERR_CLOSED);
	assert_string_equal(rec_cmd, SUDO_UBUNTU);
	assert_non_null(strstr(rec_in, "jupyter"));
	assert_int_equal(jc_jupyter_start(&rec, &sess, &q, &j), JC_ERR_CLOSED);
	assert_string_equal(rec_cmd, SUDO_UBUNTU);
	/* No token in the script: the remote makes it. */
	assert_null(strstr(rec_in, "TOK='"));
	assert_non_null(strstr(rec_in, "/dev/urandom"));
	assert_non_null(strstr(rec_in, "PORT='8999'"));
	assert_int_equal(jc_jupyter_stop(&rec, &sess, "ubuntu"),
	    JC_ERR_CLOSED);
	/* A user name that is not one never reaches a command line. */
	q.run_as = "x;reboot";
	rec_cmd[0] = '\0';
	assert_int_equal(jc_jupyter_discover(&rec, &sess, &q, 1, &j),
	    JC_ERR_USAGE);
	assert_string_equal(rec_cmd, "");
	free(rec_in);
	rec_in = NULL;
}

/* Nothing answers on the port: the check says so, exit 7. */
static void
test_verify_dead_port(void **state)
{
	struct jc_jupyter j;
	char *err;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.port = free_port();
	snprintf(j.token, sizeof(j.token), "abc");
	snprintf(j.source, sizeof(j.source), "nbserver-1.json");
	jc_jupyter_fixup(&j);
	capture_begin();
	assert_int_equal(jc_jupyter_verify(j.port, &j, 3000), JC_ERR_JUPYTER);
	err = capture_end();
	assert_non_null(strstr(err, "does not answer"));
	free(err);
}

static int
setup_all(void **state)
{
	char *d;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/jcjup.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	d = mkdtemp(tmpdir);
	if (d == NULL)
		return -1;
	if (getenv("JC_TEST_ROOT") == NULL) {
		static char cwd[512];

		if (getcwd(cwd, sizeof(cwd)) != NULL)
			setenv("JC_TEST_ROOT", cwd, 1);
	}
	if (access(JUPYTER_BIN, X_OK) != 0) {
		fprintf(stderr, "%s missing: run `make deps`\n", JUPYTER_BIN);
		return -1;
	}
	return 0;
}

static int
teardown_all(void **state)
{
	char cmd[400];

	(void)state;
	stop_all();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)!system(cmd);
	jc_jupyter_log_fini();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_server, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_env_token, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_jupyter_server, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_two_servers, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_base_url, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_unix_socket, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_password_only, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_none, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_start_stop, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_start_port_busy,
		    setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_start_dies, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_stop_not_ours, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_wrong_token, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_stale_and_dead,
		    setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_hanging_jupyter,
		    setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_big_log, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_run_as, setup_each,
		    teardown_each),
		cmocka_unit_test_setup_teardown(test_verify_dead_port,
		    setup_each, teardown_each),
	};

	return cmocka_run_group_tests_name("jupyter_live", tests, setup_all,
	    teardown_all);
}
