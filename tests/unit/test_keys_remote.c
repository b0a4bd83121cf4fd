/*
 * test_keys_remote.c - the remote half of the key plugin run by a real
 * /bin/sh on this machine: an access plugin whose exec forks
 * `/bin/sh -c CMD` with HOME set to a scratch "remote home".  Covers the
 * script (new ~/.ssh, modes and owner kept, read-only file, a file that
 * changed meanwhile, a symlink, stdin cut short, a shell killed in the
 * middle of writing) and the whole keys() operation on top of it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "../../plugins/keys/keys.h"

#define KA	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFVINeBPY5RP4u+/1ULmzNFKdysElYIiwSonvT2hd8r"
#define KB	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHizJ/nYctg/ErUBt1h+CFfCaFoXxRW3IcZng8VCmqe6"

/*
 * The host table a plugin gets, reduced to what the key plugin uses
 * off-line: logging to stderr and free.
 */
static char logbuf[8192];	/* the last log lines, for assertions */

static void
th_log(int level, const char *plugin, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# [%s] %s\n", plugin ? plugin : "core", line);
	n = strlen(logbuf);
	if (n + strlen(line) + 2 > sizeof(logbuf))
		n = 0;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

static int
th_log_level(void)
{
	return JC_LOG_VERBOSE;
}

static const struct jc_host th_host = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_host),
	.log = th_log,
	.log_level = th_log_level,
	.free = free,
};

static char tmp[256];		/* scratch dir */
static char rhome[300];		/* the "remote" HOME */
static char lhome[300];		/* the local HOME */
static char akpath[400];	/* rhome/.ssh/authorized_keys */

/* Knobs of the local access method. */
static size_t cut_stdin = (size_t)-1;	/* feed only this many bytes */
static const char *extra_path;		/* prepended to PATH */
static int nexec;			/* commands run */

struct jc_sess {
	int	unused;
};

static void
child(const char *cmd, int in, int out, int err)
{
	char path[1024];
	int fd;

	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	setenv("HOME", rhome, 1);
	if (extra_path != NULL) {
		snprintf(path, sizeof(path), "%s:%s", extra_path,
		    getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
		setenv("PATH", path, 1);
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static int
grow_read(int fd, char **b, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	char *nb;

	if (n <= 0)
		return (int)n;
	if ((nb = realloc(*b, *len + (size_t)n + 1)) == NULL)
		return -1;
	memcpy(nb + *len, chunk, (size_t)n);
	*len += (size_t)n;
	nb[*len] = '\0';
	*b = nb;
	return 1;
}

/* exec through a real local /bin/sh; stdin, stdout, stderr, status. */
static int
local_exec(struct jc_sess *s, const char *cmd, const void *in, size_t inlen,
    int timeout_ms, struct jc_exec_result *res)
{
	int pin[2], pout[2], perr[2], st, open_out = 1, open_err = 1;
	size_t off = 0;
	struct pollfd p[3];
	pid_t pid;
	ssize_t w;

	(void)s;
	(void)timeout_ms;
	nexec++;
	if (inlen > cut_stdin)
		inlen = cut_stdin;
	if (pipe(pin) != 0 || pipe(pout) != 0 || pipe(perr) != 0)
		return JC_ERR_IO;
	if ((pid = fork()) == 0)
		child(cmd, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	memset(res, 0, sizeof(*res));
	res->out = calloc(1, 1);
	res->err = calloc(1, 1);
	if (in == NULL || inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	while (open_out || open_err) {
		p[0].fd = pin[1];
		p[0].events = POLLOUT;
		p[1].fd = open_out ? pout[0] : -1;
		p[1].events = POLLIN;
		p[2].fd = open_err ? perr[0] : -1;
		p[2].events = POLLIN;
		if (poll(p, 3, 10000) <= 0)
			break;
		if (pin[1] >= 0 && (p[0].revents & (POLLOUT | POLLERR))) {
			w = write(pin[1], (const char *)in + off, inlen - off);
			if (w > 0)
				off += (size_t)w;
			if (w < 0 || off == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (p[1].revents && grow_read(pout[0], &res->out,
		    &res->outlen) <= 0)
			open_out = 0;
		if (p[2].revents && grow_read(perr[0], &res->err,
		    &res->errlen) <= 0)
			open_err = 0;
	}
	if (pin[1] >= 0)
		close(pin[1]);
	close(pout[0]);
	close(perr[0]);
	waitpid(pid, &st, 0);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return 0;
}

static void
local_exec_free(struct jc_exec_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

static const struct jc_plugin local_access = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_plugin),
	.name = "local",
	.kind = JC_KIND_METHOD,
	.exec = local_exec,
	.exec_free = local_exec_free,
};
static struct jc_sess sess;

static void
put_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The whole file, NUL-terminated; *len its size.  NULL when missing. */
static char *
get_file(const char *path, size_t *len)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
rm_rf(const char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' 2>/dev/null; "
	    "rm -rf '%s'", d, d);
	assert_int_equal(system(cmd), 0);
}

/* No temp file left behind in rhome/.ssh. */
static int
no_temp(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "! ls -a '%s/.ssh' 2>/dev/null | "
	    "grep -q jconnect", rhome);
	return system(cmd) == 0;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/jc-keys-remote.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(rhome, sizeof(rhome), "%s/rhome", tmp);
	snprintf(lhome, sizeof(lhome), "%s/lhome", tmp);
	snprintf(akpath, sizeof(akpath), "%s/.ssh/authorized_keys", rhome);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rm_rf(tmp);
	return 0;
}

/* Fresh remote and local homes before each test. */
static int
fresh(void **state)
{
	(void)state;
	rm_rf(rhome);
	rm_rf(lhome);
	if (mkdir(rhome, 0755) != 0 || mkdir(lhome, 0755) != 0)
		return -1;
	setenv("HOME", lhome, 1);
	unsetenv("SSH_AUTH_SOCK");
	cut_stdin = (size_t)-1;
	extra_path = NULL;
	return 0;
}

static void
rk_init(struct keys_remote *rk)
{
	memset(rk, 0, sizeof(*rk));
	rk->host = &th_host;
	rk->access = &local_access;
	rk->sess = &sess;
	rk->timeout_ms = 10000;
}

static void
test_new_dir(void **state)
{
	struct keys_remote rk;
	struct stat st;
	size_t len;
	char *got;

	(void)state;
	rk_init(&rk);
	assert_int_equal(keys_remote_read(&rk), 0);
	assert_true(rk.nodir && rk.missing);
	assert_string_equal(rk.path, akpath);
	assert_int_equal(keys_remote_write(&rk, KA "\n", sizeof(KA)), 0);
	keys_remote_clear(&rk);
	got = get_file(akpath, &len);
	assert_non_null(got);
	assert_string_equal(got, KA "\n");
	assert_int_equal(stat(akpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
	got[0] = '\0';
	snprintf(got, 400, "%s/.ssh", rhome);
	assert_int_equal(stat(got, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(no_temp());
}

static void
test_read_exact_and_keep_mode(void **state)
{
	static const char old[] = "# x\r\n" KB " b\r\n\n" "tail no newline";
	struct keys_remote rk;
	struct stat st;
	char d[400];
	size_t len;
	char *got;

	(void)state;
	snprintf(d, sizeof(d), "%s/.ssh", rhome);
	assert_int_equal(mkdir(d, 0750), 0);
	put_file(akpath, old, sizeof(old) - 1, 0640);
	rk_init(&rk);
	assert_int_equal(keys_remote_read(&rk), 0);
	assert_false(rk.missing);
	assert_int_equal(rk.len, sizeof(old) - 1);
	assert_memory_equal(rk.data, old, rk.len);
	assert_int_equal(keys_remote_write(&rk, "new\n", 4), 0);
	keys_remote_clear(&rk);
	got = get_file(akpath, &len);
	assert_string_equal(got, "new\n");
	assert_int_equal(stat(akpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* The directory was there: its mode is left alone. */
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_true(no_temp());
}

/* An existing file that must stay byte for byte as it was. */
static void
refuse_case(const char *what, mode_t mode, void (*between)(void),
    const char *in, size_t inlen)
{
	static const char old[] = KB " keep me\n";
	struct keys_remote rk;
	char d[400];
	size_t len;
	char *got;

	print_message("# refuse: %s\n", what);
	snprintf(d, sizeof(d), "%s/.ssh", rhome);
	mkdir(d, 0700);
	put_file(akpath, old, sizeof(old) - 1, 0600);
	rk_init(&rk);
	assert_int_equal(keys_remote_read(&rk), 0);
	chmod(akpath, mode);
	if (between != NULL)
		between();
	assert_int_equal(keys_remote_write(&rk, in, inlen), JC_ERR_IO);
	keys_remote_clear(&rk);
	got = get_file(akpath, &len);
	assert_non_null(got);
	if (between == NULL) {
		assert_int_equal(len, sizeof(old) - 1);
		assert_memory_equal(got, old, len);
	}
	assert_true(no_temp());
	chmod(akpath, 0600);
}

static void
change_it(void)
{
	put_file(akpath, "someone else\n", 13, 0600);
}

static void
test_read_only(void **state)
{
	(void)state;
	logbuf[0] = '\0';
	refuse_case("read-only 0444", 0444, NULL, KA "\n", sizeof(KA));
	assert_non_null(strstr(logbuf, "is read-only"));
	refuse_case("read-only 0400", 0400, NULL, KA "\n", sizeof(KA));
}

static void
test_changed_meanwhile(void **state)
{
	size_t len;

	(void)state;
	refuse_case("changed since read", 0600, change_it, KA "\n",
	    sizeof(KA));
	assert_string_equal(get_file(akpath, &len), "someone else\n");
}

static void
test_stdin_cut(void **state)
{
	(void)state;
	cut_stdin = 10;
	refuse_case("stdin cut short", 0600, NULL, KA "\n", sizeof(KA));
}

static void
test_symlink(void **state)
{
	struct keys_remote rk;
	char target[400], d[400];
	size_t len;

	(void)state;
	snprintf(d, sizeof(d), "%s/.ssh", rhome);
	snprintf(target, sizeof(target), "%s/elsewhere", rhome);
	mkdir(d, 0700);
	put_file(target, "x\n", 2, 0600);
	assert_int_equal(symlink(target, akpath), 0);
	rk_init(&rk);
	assert_int_equal(keys_remote_read(&rk), 0);
	assert_int_equal(keys_remote_write(&rk, "y\n", 2), JC_ERR_IO);
	keys_remote_clear(&rk);
	assert_string_equal(get_file(target, &len), "x\n");
}

/*
 * A shell that dies in the middle of writing: a `cat` that copies part
 * of its input into the temp file, then kills the script's shell.
 */
static void
test_shell_dies(void **state)
{
	static const char old[] = KB " old\n";
	struct keys_remote rk;
	char bin[400], cat[500], d[400];
	size_t len;
	char *got;
	FILE *f;

	(void)state;
	snprintf(bin, sizeof(bin), "%s/bin", tmp);
	mkdir(bin, 0755);
	snprintf(cat, sizeof(cat), "%s/cat", bin);
	f = fopen(cat, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
	    "if [ -t 1 ] || [ $# -gt 0 ]; then exec /bin/cat \"$@\"; fi\n"
	    "head -c 20\n"
	    "kill -9 $PPID\n"
	    "exit 0\n");
	fclose(f);
	chmod(cat, 0755);
	snprintf(d, sizeof(d), "%s/.ssh", rhome);
	mkdir(d, 0700);
	put_file(akpath, old, sizeof(old) - 1, 0600);
	rk_init(&rk);
	assert_int_equal(keys_remote_read(&rk), 0);
	extra_path = bin;
	assert_int_equal(keys_remote_write(&rk, KA "\n" KB "\n",
	    2 * sizeof(KA)), JC_ERR_IO);
	extra_path = NULL;
	keys_remote_clear(&rk);
	got = get_file(akpath, &len);
	assert_int_equal(len, sizeof(old) - 1);
	assert_memory_equal(got, old, len);
	unlink(cat);
}

/* ---- the whole keys() operation over the local method -------------- */

static void *kstate;

static int
run_keys(int op, const char *const *files, const char *ident, int by_key,
    const char *run_as, int generate)
{
	struct jc_keys_req req;

	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.op = op;
	req.files = files;
	req.login_identity = ident;
	req.login_by_key = by_key;
	req.run_as = run_as;
	req.generate = generate;
	return jc_plugin_keys.keys(kstate, &local_access, &sess, &req);
}

static void
keygen(const char *path, const char *comment)
{
	char cmd[800];

	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t ed25519 -N '' -C '%s' "
	    "-f '%s'", comment, path);
	assert_int_equal(system(cmd), 0);
}

static void
test_op_defaults_and_login_key(void **state)
{
	char id[400], ident[400], want[2048], *got;
	size_t len;
	int n;

	(void)state;
	snprintf(id, sizeof(id), "%s/.ssh", lhome);
	mkdir(id, 0700);
	snprintf(id, sizeof(id), "%s/.ssh/id_ed25519", lhome);
	keygen(id, "me@laptop");
	snprintf(ident, sizeof(ident), "%s/aws.pem", tmp);
	keygen(ident, "aws");
	/* -i logged us in (SSH): only the default key goes in. */
	nexec = 0;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, ident, 1, NULL, 0),
	    0);
	assert_int_equal(nexec, 2);
	got = get_file(akpath, &len);
	assert_non_null(got);
	snprintf(id, sizeof(id), "%s/.ssh/id_ed25519.pub", lhome);
	snprintf(want, sizeof(want), "%s", get_file(id, &len));
	assert_string_equal(get_file(akpath, &len), want);
	/* Again: nothing to write, so only the read runs. */
	nexec = 0;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, ident, 1, NULL, 0),
	    0);
	assert_int_equal(nexec, 1);
	/* Over SSM (no key logs in): the key beside -i goes in too. */
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, ident, 0, NULL, 0),
	    0);
	got = get_file(akpath, &len);
	n = 0;
	for (; (got = strstr(got, "ssh-ed25519 ")) != NULL; got++)
		n++;
	assert_int_equal(n, 2);
	assert_non_null(strstr(get_file(akpath, &len), " aws\n"));
	/* Removing needs the keys named. */
	assert_int_equal(run_keys(JC_KEYS_REMOVE, NULL, NULL, 0, NULL, 0),
	    JC_ERR_USAGE);
}

static void
test_op_no_key(void **state)
{
	char ident[400], login[400];
	const char *files[2];
	size_t len;

	(void)state;
	nexec = 0;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, NULL, 0, NULL, 0),
	    JC_ERR_USAGE);
	/* The only key is the one that logged in. */
	snprintf(ident, sizeof(ident), "%s/only", tmp);
	unlink(ident);
	keygen(ident, "only");
	snprintf(login, sizeof(login), "%s", ident);
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, ident, 1, NULL, 0),
	    JC_ERR_USAGE);
	assert_int_equal(nexec, 0);
	assert_int_equal(access(akpath, F_OK), -1);
	/* Named with --key, the login key is taken as named. */
	strcat(ident, ".pub");
	files[0] = ident;
	files[1] = NULL;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, login, 1, NULL, 0),
	    0);
	assert_non_null(strstr(get_file(akpath, &len), " only\n"));
	assert_int_equal(run_keys(JC_KEYS_REMOVE, files, login, 1, NULL, 0),
	    0);
	assert_string_equal(get_file(akpath, &len), "");
	unlink(ident);
	unlink(login);
}

/* A private key without .pub, in PEM as AWS hands them out. */
static void
test_op_pem_without_pub(void **state)
{
	char pem[400], cmd[1200], pub[2048], *got;
	size_t len;
	FILE *p;

	(void)state;
	snprintf(pem, sizeof(pem), "%s/k.pem", tmp);
	unlink(pem);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t rsa -b 2048 -m PEM -N '' "
	    "-f '%s' && rm '%s.pub'", pem, pem);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f '%s'", pem);
	p = popen(cmd, "r");
	assert_non_null(fgets(pub, sizeof(pub), p));
	pclose(p);
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, pem, 0, NULL, 0), 0);
	got = get_file(akpath, &len);
	assert_non_null(got);
	pub[strcspn(pub, "\n")] = '\0';
	assert_memory_equal(got, pub, strlen(pub));
	unlink(pem);
}

static void
test_op_key_files_and_remove(void **state)
{
	char k1[400], k2[400], d[400], *got;
	const char *files[3];
	size_t len;

	(void)state;
	snprintf(k1, sizeof(k1), "%s/k1.pub", tmp);
	snprintf(k2, sizeof(k2), "%s/k2.pub", tmp);
	put_file(k1, "# first\n" KA " one\n", strlen(KA) + 13, 0644);
	put_file(k2, KB " two", strlen(KB) + 4, 0644);
	snprintf(d, sizeof(d), "%s/.ssh", rhome);
	mkdir(d, 0700);
	put_file(akpath, "no-pty " KB " old\r\n# c\r\n", strlen(KB) + 18,
	    0600);
	files[0] = k1;
	files[1] = k2;
	files[2] = NULL;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, NULL, 0, NULL, 0),
	    0);
	got = get_file(akpath, &len);
	assert_string_equal(got, "no-pty " KB " old\r\n# c\r\n" KA " one\r\n");
	assert_int_equal(run_keys(JC_KEYS_REMOVE, files, NULL, 0, NULL, 0),
	    0);
	assert_string_equal(get_file(akpath, &len), "# c\r\n");
	/* A private key given as --key is refused. */
	snprintf(k1, sizeof(k1), "%s/priv", tmp);
	unlink(k1);
	keygen(k1, "p");
	files[1] = NULL;
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, NULL, 0, NULL, 0),
	    JC_ERR_USAGE);
	unlink(k1);
	strcat(k1, ".pub");
	unlink(k1);
	files[0] = "/nonexistent/x.pub";
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, NULL, 0, NULL, 0),
	    JC_ERR_IO);
}

static void
test_op_run_as(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	const char *files[2];
	char k1[400];
	size_t len;

	(void)state;
	snprintf(k1, sizeof(k1), "%s/k1.pub", tmp);
	put_file(k1, KA " one\n", strlen(KA) + 5, 0644);
	files[0] = k1;
	files[1] = NULL;
	/* Acting as ourselves needs no sudo. */
	assert_non_null(pw);
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, NULL, 0, pw->pw_name,
	    0), 0);
	assert_string_equal(get_file(akpath, &len), KA " one\n");
	/* Another user: sudo -n (missing here, or refusing): a clear error. */
	logbuf[0] = '\0';
	assert_int_equal(run_keys(JC_KEYS_INSTALL, files, NULL, 0,
	    "jc-no-such-user", 0), JC_ERR_IO);
	assert_true(strstr(logbuf, "cannot act as jc-no-such-user") != NULL);
	assert_true(strstr(logbuf, "sudo") != NULL);
}

static void
test_op_generate(void **state)
{
	char priv[400], cmd[900], line[1024], *pub;
	struct stat st;
	size_t len;
	FILE *p;

	(void)state;
	umask(077);
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, NULL, 0, NULL, 1),
	    0);
	umask(022);
	snprintf(priv, sizeof(priv), "%s/.ssh/id_ed25519", lhome);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(cmd, sizeof(cmd), "%s.pub", priv);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	pub = get_file(cmd, &len);
	assert_non_null(pub);
	assert_non_null(strstr(get_file(akpath, &len), "ssh-ed25519 "));
	/* ssh-keygen reads the private key and derives the same key. */
	snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f '%s'", priv);
	p = popen(cmd, "r");
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	line[strcspn(line, "\n")] = '\0';
	assert_memory_equal(get_file(akpath, &len), line, strlen(line));
	/* A second --generate finds the key and makes none. */
	assert_int_equal(run_keys(JC_KEYS_INSTALL, NULL, NULL, 0, NULL, 1),
	    0);
}

static int
op_setup(void **state)
{
	(void)state;
	return jc_plugin_keys.init(&th_host, &kstate);
}

static int
op_teardown(void **state)
{
	(void)state;
	jc_plugin_keys.fini(kstate);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_new_dir, fresh),
		cmocka_unit_test_setup(test_read_exact_and_keep_mode, fresh),
		cmocka_unit_test_setup(test_read_only, fresh),
		cmocka_unit_test_setup(test_changed_meanwhile, fresh),
		cmocka_unit_test_setup(test_stdin_cut, fresh),
		cmocka_unit_test_setup(test_symlink, fresh),
		cmocka_unit_test_setup(test_shell_dies, fresh),
		cmocka_unit_test_setup(test_op_defaults_and_login_key, fresh),
		cmocka_unit_test_setup(test_op_no_key, fresh),
		cmocka_unit_test_setup(test_op_pem_without_pub, fresh),
		cmocka_unit_test_setup(test_op_key_files_and_remove, fresh),
		cmocka_unit_test_setup(test_op_run_as, fresh),
		cmocka_unit_test_setup(test_op_generate, fresh),
	};
	int r;

	if (setup(NULL) != 0 || op_setup(NULL) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	op_teardown(NULL);
	teardown(NULL);
	return r;
}
