/*
 * test_keys_local.c - the user's keys on this machine: a real ssh-agent
 * (keys and a certificate added with ssh-add), .pub files good and bad,
 * the key behind -i (plain, PEM, encrypted), and --generate refusing to
 * replace anything.
 */
#include <sys/stat.h>

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

static char tmp[256];
static pid_t agent_pid = -1;

static void
th_log(int level, const char *plugin, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	fprintf(stderr, "# [%s] ", plugin ? plugin : "core");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* First line of a command's output, newline stripped. */
static void
sh_line(char *out, size_t n, const char *cmd)
{
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	assert_non_null(fgets(out, (int)n, p));
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/jc-keys-local.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	setenv("HOME", tmp, 1);
	unsetenv("SSH_AUTH_SOCK");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	if (agent_pid > 0)
		kill(agent_pid, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* Start a real ssh-agent on tmp/agent.sock and remember its pid. */
static void
start_agent(void)
{
	char line[512], sock[400];
	FILE *p;

	snprintf(sock, sizeof(sock), "%s/agent.sock", tmp);
	snprintf(line, sizeof(line), "ssh-agent -s -a '%s'", sock);
	p = popen(line, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		if (strncmp(line, "SSH_AGENT_PID=", 14) == 0)
			agent_pid = (pid_t)atoi(line + 14);
	pclose(p);
	assert_true(agent_pid > 0);
	setenv("SSH_AUTH_SOCK", sock, 1);
}

static void
test_agent(void **state)
{
	struct keys_list l;
	char want1[1024], want2[1024], s[600];
	size_t i;
	int r;

	(void)state;
	memset(&l, 0, sizeof(l));
	/* No agent: nothing, no error. */
	assert_int_equal(keys_local_agent(&th_host, &l), 0);
	/* A socket nobody listens on: a clear error. */
	snprintf(s, sizeof(s), "%s/nosuch.sock", tmp);
	setenv("SSH_AUTH_SOCK", s, 1);
	assert_int_equal(keys_local_agent(&th_host, &l), JC_ERR_IO);
	start_agent();
	/* An empty agent. */
	assert_int_equal(keys_local_agent(&th_host, &l), 0);
	assert_int_equal(l.n, 0);
	sh("ssh-keygen -q -t ed25519 -N '' -C 'agent one' -f %s/a1", tmp);
	sh("ssh-keygen -q -t ecdsa -N '' -C 'agent two' -f %s/a2", tmp);
	/* A CA-signed certificate for a1: ssh-add loads it too. */
	sh("ssh-keygen -q -t ed25519 -N '' -f %s/ca", tmp);
	sh("ssh-keygen -q -s %s/ca -I test -n root %s/a1.pub", tmp, tmp);
	sh("ssh-add -q %s/a1 %s/a2 2>/dev/null", tmp, tmp);
	sh_line(want1, sizeof(want1), "ssh-add -L | grep -c cert-v01 "
	    "| grep -qx 1 && echo yes");
	assert_string_equal(want1, "yes");
	snprintf(s, sizeof(s), "cut -d' ' -f1,2 %s/a1.pub", tmp);
	sh_line(want1, sizeof(want1), s);
	snprintf(s, sizeof(s), "cut -d' ' -f1,2 %s/a2.pub", tmp);
	sh_line(want2, sizeof(want2), s);
	r = keys_local_agent(&th_host, &l);
	assert_int_equal(r, 3);			/* 2 keys + 1 certificate */
	assert_int_equal(l.n, 2);
	for (i = 0; i < l.n; i++) {
		snprintf(s, sizeof(s), "%s %s", l.k[i].type, l.k[i].b64);
		assert_true(strcmp(s, want1) == 0 || strcmp(s, want2) == 0);
		assert_string_equal(l.k[i].origin, "ssh-agent");
		assert_true(strcmp(l.k[i].comment, "agent one") == 0 ||
		    strcmp(l.k[i].comment, "agent two") == 0);
	}
	keys_list_clear(&l);
	unsetenv("SSH_AUTH_SOCK");
}

static void
test_pubfile(void **state)
{
	struct keys_list l;
	char p[400];

	(void)state;
	memset(&l, 0, sizeof(l));
	snprintf(p, sizeof(p), "%s/none.pub", tmp);
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), JC_ERR_IO);
	sh("ssh-keygen -q -t ed25519 -N '' -C x -f %s/p1", tmp);
	sh("ssh-keygen -q -t rsa -b 2048 -N '' -C y -f %s/p2", tmp);
	/* Two keys, comments and blank lines, CRLF: both read. */
	sh("{ echo '# mine'; echo; cat %s/p1.pub; printf '%%s\\r\\n' "
	    "\"$(cat %s/p2.pub)\"; } > %s/both.pub", tmp, tmp, tmp);
	snprintf(p, sizeof(p), "%s/both.pub", tmp);
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), 2);
	assert_string_equal(l.k[1].type, "ssh-rsa");
	assert_string_equal(l.k[1].comment, "y");
	assert_string_equal(l.k[0].origin, p);
	/* The same file again adds nothing. */
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), 0);
	keys_list_clear(&l);
	/* A private key, an empty file, a file of junk: refused. */
	snprintf(p, sizeof(p), "%s/p1", tmp);
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), JC_ERR_USAGE);
	sh(": > %s/empty.pub; echo 'not a key' > %s/junk.pub", tmp, tmp);
	snprintf(p, sizeof(p), "%s/empty.pub", tmp);
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), JC_ERR_USAGE);
	snprintf(p, sizeof(p), "%s/junk.pub", tmp);
	assert_int_equal(keys_local_pubfile(&th_host, p, &l), JC_ERR_USAGE);
	/* A directory. */
	assert_int_equal(keys_local_pubfile(&th_host, tmp, &l), JC_ERR_IO);
	assert_int_equal(l.n, 0);
}

static void
test_identity(void **state)
{
	struct keys_pub k;
	char p[400], want[1024], cmd[600];

	(void)state;
	/* With its .pub. */
	sh("ssh-keygen -q -t ed25519 -N '' -C idc -f %s/i1", tmp);
	snprintf(p, sizeof(p), "%s/i1", tmp);
	assert_int_equal(keys_local_identity(p, &k), 0);
	assert_string_equal(k.comment, "idc");
	keys_pub_clear(&k);
	/* Without: derived from the private key, PEM or OpenSSH format. */
	sh("ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f %s/i2.pem && "
	    "rm %s/i2.pem.pub", tmp, tmp);
	snprintf(p, sizeof(p), "%s/i2.pem", tmp);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f %s | cut -d' ' -f2", p);
	sh_line(want, sizeof(want), cmd);
	assert_int_equal(keys_local_identity(p, &k), 0);
	assert_string_equal(k.type, "ssh-rsa");
	assert_string_equal(k.b64, want);
	assert_string_equal(k.origin, p);
	keys_pub_clear(&k);
	/* Encrypted and no .pub: not found, no prompt. */
	sh("ssh-keygen -q -t ed25519 -N 'secret pass' -f %s/i3 && rm %s/i3.pub",
	    tmp, tmp);
	snprintf(p, sizeof(p), "%s/i3", tmp);
	assert_int_equal(keys_local_identity(p, &k), JC_ERR_NOTFOUND);
	snprintf(p, sizeof(p), "%s/missing", tmp);
	assert_int_equal(keys_local_identity(p, &k), JC_ERR_NOTFOUND);
}

static void
test_defaults_and_generate(void **state)
{
	struct keys_list l;
	struct stat st;
	char p[400];

	(void)state;
	memset(&l, 0, sizeof(l));
	/* No ~/.ssh at all. */
	assert_int_equal(keys_local_defaults(&th_host, &l), 0);
	assert_int_equal(keys_local_generate(&th_host, &l), 0);
	assert_int_equal(l.n, 1);
	snprintf(p, sizeof(p), "%s/.ssh", tmp);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	sh("ssh-keygen -y -f %s/.ssh/id_ed25519 | cut -d' ' -f1,2 > %s/derived "
	    "&& cut -d' ' -f1,2 %s/.ssh/id_ed25519.pub | cmp - %s/derived",
	    tmp, tmp, tmp, tmp);
	keys_list_clear(&l);
	/* It is now a default key. */
	sh("ssh-keygen -q -t rsa -b 2048 -N '' -f %s/.ssh/id_rsa", tmp);
	assert_int_equal(keys_local_defaults(&th_host, &l), 2);
	assert_string_equal(l.k[0].type, "ssh-ed25519");
	assert_string_equal(l.k[1].type, "ssh-rsa");
	keys_list_clear(&l);
	/* Never replaces a key, not even a lone private half. */
	assert_int_equal(keys_local_generate(&th_host, &l), JC_ERR_IO);
	sh("rm %s/.ssh/id_ed25519.pub && cp %s/.ssh/id_ed25519 %s/keep", tmp,
	    tmp, tmp);
	assert_int_equal(keys_local_generate(&th_host, &l), JC_ERR_IO);
	sh("cmp %s/.ssh/id_ed25519 %s/keep", tmp, tmp);
	assert_int_equal(l.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent),
		cmocka_unit_test(test_pubfile),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_defaults_and_generate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
