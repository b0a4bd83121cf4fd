/*
 * test_sshconfig.c - ssh-config's pure parts: the merge of a marked Host
 * block into odd ssh config files (CRLF, no final newline, blocks of
 * other targets, Host * and Match, broken markers), idempotence, and the
 * quoting of ProxyCommand words and file arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "sshconfig.h"

#define CRBLK "# >>> jconnect g >>>\r\nHost g\r\n    User u\r\n" \
	"# <<< jconnect g <<<\r\n"
#define BLK(n, v) "# >>> jconnect " n " >>>\nHost " n "\n    User " v \
	"\n# <<< jconnect " n " <<<\n"

/* Merge block into old; the result must be want (and what, *changed). */
static void
merge_is(const char *old, const char *name, const char *block,
    const char *want, int what)
{
	char *out, *again, why[300];
	size_t len, len2;
	int ch, ch2;

	assert_int_equal(jc_sshcfg_merge(old, old ? strlen(old) : 0, name,
	    block, &out, &len, &ch, why, sizeof(why)), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(ch, what);
	/* Idempotent: the same block again changes nothing. */
	assert_int_equal(jc_sshcfg_merge(out, len, name, block, &again, &len2,
	    &ch2, why, sizeof(why)), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, out, len);
	assert_int_equal(ch2, JC_SSHCFG_SAME);
	free(out);
	free(again);
}

static void
test_new_file(void **state)
{
	(void)state;
	merge_is(NULL, "gpu", BLK("gpu", "ubuntu"), BLK("gpu", "ubuntu"),
	    JC_SSHCFG_ADDED);
	merge_is("", "gpu", BLK("gpu", "ubuntu"), BLK("gpu", "ubuntu"),
	    JC_SSHCFG_ADDED);
}

static void
test_before_first_host(void **state)
{
	(void)state;
	/* Global options stay first; the comment above Host * stays with it. */
	merge_is("ForwardAgent no\n\n# all hosts\nHost *\n  User nobody\n",
	    "gpu", BLK("gpu", "ubuntu"),
	    "ForwardAgent no\n\n" BLK("gpu", "ubuntu") "\n# all hosts\n"
	    "Host *\n  User nobody\n", JC_SSHCFG_ADDED);
	/* Match in any case, with '=': a section too. */
	merge_is("Compression yes\nMATCH=host x\n", "gpu", BLK("gpu", "u"),
	    "Compression yes\n" BLK("gpu", "u") "\nMATCH=host x\n",
	    JC_SSHCFG_ADDED);
	/* HostName and Hostkeyalias at top level are not sections. */
	merge_is("HostName x\nHostKeyAlias y\n", "gpu", BLK("gpu", "u"),
	    "HostName x\nHostKeyAlias y\n\n" BLK("gpu", "u"), JC_SSHCFG_ADDED);
	/* Indented Host still counts. */
	merge_is("  host a\n", "gpu", BLK("gpu", "u"),
	    BLK("gpu", "u") "\n  host a\n", JC_SSHCFG_ADDED);
}

static void
test_other_blocks(void **state)
{
	(void)state;
	/* Before another target's block, not inside it. */
	merge_is("# top\n\n" BLK("a", "x") "\nHost z\n", "b", BLK("b", "y"),
	    "# top\n\n" BLK("b", "y") "\n" BLK("a", "x") "\nHost z\n",
	    JC_SSHCFG_ADDED);
	/* A block of a name that is a prefix of ours is not ours. */
	merge_is(BLK("gpu", "x"), "gpu2", BLK("gpu2", "y"),
	    BLK("gpu2", "y") "\n" BLK("gpu", "x"), JC_SSHCFG_ADDED);
}

static void
test_update_in_place(void **state)
{
	(void)state;
	merge_is("Host *\n  User n\n" BLK("gpu", "old") "Host z\n# end",
	    "gpu", BLK("gpu", "new"),
	    "Host *\n  User n\n" BLK("gpu", "new") "Host z\n# end",
	    JC_SSHCFG_UPDATED);
	/* The end marker as the last line without a newline. */
	merge_is("x\n# >>> jconnect g >>>\nHost g\n# <<< jconnect g <<<", "g",
	    BLK("g", "u"), "x\n" BLK("g", "u"), JC_SSHCFG_UPDATED);
	/* Markers with trailing blanks still match. */
	merge_is("# >>> jconnect g >>>  \nold\n# <<< jconnect g <<<\t\nrest\n",
	    "g", BLK("g", "u"), BLK("g", "u") "rest\n", JC_SSHCFG_UPDATED);
}

static void
test_odd_endings(void **state)
{
	(void)state;
	/* CRLF file: the block takes CRLF too. */
	merge_is("Host *\r\n  User n\r\n", "g", BLK("g", "u"),
	    CRBLK "\r\nHost *\r\n  User n\r\n", JC_SSHCFG_ADDED);
	/* No final newline, no section: ended, a blank line, the block. */
	merge_is("User n", "g", BLK("g", "u"), "User n\n\n" BLK("g", "u"),
	    JC_SSHCFG_ADDED);
	merge_is("User n\r\nPort 2\r", "g", BLK("g", "u"),
	    "User n\r\nPort 2\r\n\r\n" CRBLK, JC_SSHCFG_ADDED);
	/* One line ending in CR and no LF: CRLF text (and stays so). */
	merge_is("User n\r", "g", BLK("g", "u"), "User n\r\n\r\n" CRBLK,
	    JC_SSHCFG_ADDED);
	/* A trailing blank line: no second one. */
	merge_is("User n\n\n", "g", BLK("g", "u"), "User n\n\n" BLK("g", "u"),
	    JC_SSHCFG_ADDED);
	/* NUL bytes and long lines pass through. */
	{
		char old[] = "User n\n\0weird\nHost x\n";
		char want[] = "User n\n\0weird\na\n\nHost x\n";
		char *out, why[200];
		size_t len;
		int ch;

		assert_int_equal(jc_sshcfg_merge(old, sizeof(old) - 1, "g",
		    "a\n", &out, &len, &ch, why, sizeof(why)), 0);
		assert_int_equal(len, sizeof(want) - 1);
		assert_memory_equal(out, want, len);
		free(out);
	}
}

static void
test_broken_markers(void **state)
{
	char *out, why[300];
	size_t len;
	int ch;
	const char *open_only = "# >>> jconnect g >>>\nHost g\n";
	const char *twice = BLK("g", "a") BLK("g", "b");

	(void)state;
	assert_int_equal(jc_sshcfg_merge(open_only, strlen(open_only), "g",
	    BLK("g", "u"), &out, &len, &ch, why, sizeof(why)), JC_ERR_USAGE);
	assert_non_null(strstr(why, "line 1"));
	assert_null(out);
	assert_int_equal(jc_sshcfg_merge(twice, strlen(twice), "g",
	    BLK("g", "u"), &out, &len, &ch, why, sizeof(why)), JC_ERR_USAGE);
	assert_non_null(strstr(why, "second"));
	/* Another name's broken block is not ours to judge. */
	merge_is("# >>> jconnect h >>>\n", "g", BLK("g", "u"),
	    BLK("g", "u") "\n# >>> jconnect h >>>\n", JC_SSHCFG_ADDED);
}

static void
test_shell_word(void **state)
{
	char b[200];

	(void)state;
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, sizeof(b), "/usr/bin/jconnect"),
	    0);
	assert_string_equal(b, "/usr/bin/jconnect");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, sizeof(b),
	    "/a b/it's 100%;$x"), 0);
	assert_string_equal(b, "'/a b/it'\\''s 100%%;$x'");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, sizeof(b), "ssm.chunk_size=1"),
	    0);
	assert_string_equal(b, "ssm.chunk_size=1");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, sizeof(b), ""), 0);
	assert_string_equal(b, "''");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, sizeof(b), "a\nb"), -1);
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_shell_word(b, 5, "abcdef"), -1);
}

static void
test_file_arg(void **state)
{
	char b[200];

	(void)state;
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_file_arg(b, sizeof(b), "/k/id 1%"), 0);
	assert_string_equal(b, "\"/k/id 1%%\"");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_file_arg(b, sizeof(b), "/k/id"), 0);
	assert_string_equal(b, "/k/id");
	b[0] = '\0';
	assert_int_equal(jc_sshcfg_file_arg(b, sizeof(b), "/k/\"x"), -1);
	assert_int_equal(jc_sshcfg_file_arg(b, sizeof(b), "/k/\\x"), -1);
	assert_int_equal(jc_sshcfg_file_arg(b, sizeof(b), "/k/\tx"), -1);
}

static void
test_host_name(void **state)
{
	static const char *cases[][2] = {
		{ "gpu", "gpu" },
		{ "ubuntu@my-stack", "my-stack" },
		{ "stack:ml-stack", "ml-stack" },
		{ "name:box_1", "box_1" },
		{ "tag:team=ml", "team-ml" },
		{ "i-0123456789abcdef0", "i-0123456789abcdef0" },
		{ "admin@10.0.0.5:2222", "10.0.0.5-2222" },
		{ "[::1]:22", "---1--22" },
	};
	char b[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jc_sshcfg_host_name(cases[i][0], b, sizeof(b));
		assert_string_equal(b, cases[i][1]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_file),
		cmocka_unit_test(test_before_first_host),
		cmocka_unit_test(test_other_blocks),
		cmocka_unit_test(test_update_in_place),
		cmocka_unit_test(test_odd_endings),
		cmocka_unit_test(test_broken_markers),
		cmocka_unit_test(test_shell_word),
		cmocka_unit_test(test_file_arg),
		cmocka_unit_test(test_host_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
