/*
 * test_rscript.c - the shared remote script runner (core/access/rscript.c): the
 * one command form that picks the user, a script carried in the command
 * with its data left on stdin (run by a real /bin/sh here), hostile user
 * names kept as data, nonces, and the section reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rscript.h"

/* Run cmd with /bin/sh -c, feeding in; stdout into out (NUL-ended). */
static int
sh_run(const char *cmd, const char *in, char *out, size_t n)
{
	char tmpl[] = "/tmp/jc-rs-in.XXXXXX";
	FILE *p;
	char *full;
	size_t got;
	int fd, st;

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, in, strlen(in)), (ssize_t)strlen(in));
	close(fd);
	full = malloc(strlen(cmd) + 64);
	assert_non_null(full);
	sprintf(full, "/bin/sh -c \"$JC_RS_CMD\" <%s", tmpl);
	setenv("JC_RS_CMD", cmd, 1);
	p = popen(full, "r");
	assert_non_null(p);
	got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	st = pclose(p);
	unlink(tmpl);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_command_forms(void **state)
{
	char cmd[2048];

	(void)state;
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd), NULL, NULL, 0, NULL),
	    0);
	assert_string_equal(cmd, "sh -s");
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd), "", NULL, 0, NULL), 0);
	assert_string_equal(cmd, "sh -s");
	/* The one sudo form: never a prompt, the user's own login shell. */
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd), "ubuntu", NULL, 0,
	    NULL), 0);
	assert_string_equal(cmd, "if [ \"$(id -un)\" = ubuntu ]; then exec "
	    "sh -s; else exec sudo -n -u ubuntu -i sh -s; fi");
	/* A name that is not one is quoted, never bare. */
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd), "a b;c", NULL, 0,
	    NULL), 0);
	assert_non_null(strstr(cmd, "-u 'a b;c' -i"));
	assert_false(jc_rs_user_ok("a b"));
	assert_false(jc_rs_user_ok("-u"));
	assert_true(jc_rs_user_ok("ec2-user"));
	assert_true(jc_rs_user_ok("host$"));
	/* Too small a buffer: an error and an empty string. */
	assert_int_equal(jc_rs_command(cmd, 10, "ubuntu", NULL, 0, NULL), -1);
	assert_string_equal(cmd, "");
}

/* What sudo -i would mangle must not appear in the command as text. */
static const char script[] =
"N=$2\n"
JC_RS_SH_MARK
"M args \"$1\" \"$3\"\n"
"x='it''s' y=\"a\\\\b\"; printf '%s\\n' \"$x $y 100%\"\n"
"M data\n"
"cat\n"
"M end\n";

static void
test_script_in_command(void **state)
{
	struct jc_rs_section sec;
	char cmd[4096], out[2048];
	size_t off = 0;

	(void)state;
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd), NULL, script,
	    sizeof(script) - 1, "jc-test 'one two' 0123456789abcdef '$HOME'"),
	    0);
	assert_null(strchr(cmd, '\n'));
	assert_null(strstr(cmd, "$1"));
	assert_null(strstr(cmd, "$x"));
	assert_int_equal(sh_run(cmd, "the data\nline 2\n", out, sizeof(out)),
	    0);
	assert_int_equal(jc_rs_next_section(out, strlen(out),
	    "0123456789abcdef", &off, &sec), 1);
	assert_string_equal(sec.word, "args");
	assert_string_equal(sec.args, "one two $HOME");
	assert_int_equal(sec.bodylen, strlen("its a\\b 100%\n"));
	assert_memory_equal(sec.body, "its a\\b 100%\n", sec.bodylen);
	assert_int_equal(jc_rs_next_section(out, strlen(out),
	    "0123456789abcdef", &off, &sec), 1);
	assert_string_equal(sec.word, "data");
	/* stdin was the script's data, whole. */
	assert_int_equal(sec.bodylen, strlen("the data\nline 2\n"));
	assert_memory_equal(sec.body, "the data\nline 2\n", sec.bodylen);
	assert_int_equal(jc_rs_next_section(out, strlen(out),
	    "0123456789abcdef", &off, &sec), 1);
	assert_string_equal(sec.word, "end");
	assert_int_equal(jc_rs_next_section(out, strlen(out),
	    "0123456789abcdef", &off, &sec), 0);
}

static void
test_hostile_user(void **state)
{
	char cmd[4096], out[256];

	(void)state;
	unlink("/tmp/jc-rs-pwned");
	assert_int_equal(jc_rs_command(cmd, sizeof(cmd),
	    "x'; touch /tmp/jc-rs-pwned; echo '", script, sizeof(script) - 1,
	    "jc-test a 00 b"), 0);
	/* Not us, and no such user for sudo: either way nothing runs. */
	(void)sh_run(cmd, "", out, sizeof(out));
	assert_int_equal(access("/tmp/jc-rs-pwned", F_OK), -1);
}

static void
test_nonce_and_sections(void **state)
{
	static const char out[] = "noise\n@@0011 file a.json 12\n{\"a\":1}"
	    "\n@@0011 log\n\n@@9999 fake forged\n@@0011 end";
	struct jc_rs_section sec;
	char a[JC_RS_NONCE_LEN + 1], b[JC_RS_NONCE_LEN + 1];
	const char *f;
	size_t off = 0;

	(void)state;
	assert_int_equal(jc_rs_nonce(a, sizeof(a)), 0);
	assert_int_equal(jc_rs_nonce(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), JC_RS_NONCE_LEN);
	assert_int_not_equal(strcmp(a, b), 0);
	assert_int_equal(jc_rs_nonce(a, JC_RS_NONCE_LEN), -1);
	assert_int_equal(jc_rs_next_section(out, sizeof(out) - 1, "0011", &off,
	    &sec), 1);
	assert_string_equal(sec.word, "file");
	assert_string_equal(sec.args, "a.json 12");
	assert_int_equal(sec.bodylen, 7);
	assert_int_equal(jc_rs_next_section(out, sizeof(out) - 1, "0011", &off,
	    &sec), 1);
	assert_string_equal(sec.word, "log");
	/* Another nonce is body text, not a section. */
	f = strstr(sec.body, "@@9999 fake");
	assert_true(f != NULL && f + 11 <= sec.body + sec.bodylen);
	assert_int_equal(jc_rs_next_section(out, sizeof(out) - 1, "0011", &off,
	    &sec), 1);
	assert_string_equal(sec.word, "end");
	assert_int_equal(sec.bodylen, 0);
	assert_int_equal(jc_rs_next_section(out, sizeof(out) - 1, "0011", &off,
	    &sec), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_forms),
		cmocka_unit_test(test_script_in_command),
		cmocka_unit_test(test_hostile_user),
		cmocka_unit_test(test_nonce_and_sections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
