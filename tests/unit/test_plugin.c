/*
 * test_plugin.c - the plugin loader: a good plugin loads, and each check
 * refuses what it must (ABI major, name mismatch, duplicate,
 * group-writable file, a file or directory of another user, a directory
 * others can write to, a symbolic link, not a plugin at all).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "log.h"
#include "plugin.h"

static char dir[PATH_MAX];		/* build/tests/plugins */
static char tmp[PATH_MAX];		/* scratch dir for copies */

static int
setup(void **state)
{
	const char *b = getenv("JC_TEST_BUILD");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/plugins", b ? b : "build");
	snprintf(tmp, sizeof(tmp), "/tmp/jc-plugin-test.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	jc_log_set_level(JC_LOG_ERROR);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	jc_plugin_unload_all();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void
copy(const char *from, const char *to, mode_t mode)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(to, mode), 0);
}

static void
test_load_dummy(void **state)
{
	const struct jc_plugin *p;
	struct jc_exec_result res;
	struct jc_sess *s;
	char path[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/jc-dummy.so", dir);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    0);
	assert_string_equal(p->name, "dummy");
	/* The host table reached init(). */
	assert_ptr_equal(st, jc_plugin_host());
	assert_int_equal(p->connect(st, NULL, &s), 0);
	assert_int_equal(p->exec(s, "echo hi", NULL, 0, 1000, &res), 0);
	assert_string_equal(res.out, "echo hi");
	p->exec_free(&res);
	p->close(s);
	/* The same name again is a duplicate. */
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "already loaded"));
	jc_plugin_unload_all();
}

/*
 * A plugin built against ABI 1.3 loads; the 1.5 members past its size
 * (capabilities, auto_rank, label) are not read: no capability, its name
 * for a label, and --via auto never picks it.
 */
static void
test_abi_13_loads(void **state)
{
	const struct jc_plugin *p;
	char path[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/jc-old13.so", dir);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    0);
	assert_false(JC_PLUGIN_HAS(p, caps));
	assert_int_equal(jc_plugin_caps(p), 0);
	assert_string_equal(jc_plugin_label(p), "old13");
	assert_false(JC_PLUGIN_HAS(p, auto_rank));
	jc_plugin_unload_all();
}

static void
test_bad_abi(void **state)
{
	const struct jc_plugin *p;
	char path[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/jc-badabi.so", dir);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "ABI 2.0"));
}

/* Each file loads as itself, also while another plugin is loaded. */
static void
test_two_plugins(void **state)
{
	const struct jc_plugin *p;
	char path[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/jc-dummy.so", dir);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    0);
	snprintf(path, sizeof(path), "%s/jc-badabi.so", dir);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "ABI 2.0"));
	jc_plugin_unload_all();
}

static void
test_name_mismatch(void **state)
{
	const struct jc_plugin *p;
	char from[PATH_MAX + 32], to[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(from, sizeof(from), "%s/jc-dummy.so", dir);
	snprintf(to, sizeof(to), "%s/jc-other.so", tmp);
	copy(from, to, 0755);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "does not match"));
}

static void
test_writable(void **state)
{
	const struct jc_plugin *p;
	char from[PATH_MAX + 32], to[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(from, sizeof(from), "%s/jc-dummy.so", dir);
	snprintf(to, sizeof(to), "%s/jc-dummy.so", tmp);
	copy(from, to, 0775);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "writable"));
	assert_int_equal(chmod(to, 0755), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    0);
	jc_plugin_unload_all();
}

/* A user that is neither root nor us, for chown (needs root). */
static uid_t
other_uid(void)
{
	struct passwd *pw = getpwnam("nobody");

	if (geteuid() != 0)
		return 0;
	return pw != NULL && pw->pw_uid != 0 ? pw->pw_uid : 65534;
}

static void
test_other_owner(void **state)
{
	const struct jc_plugin *p;
	char from[PATH_MAX + 32], to[PATH_MAX + 32], why[256];
	uid_t uid = other_uid();
	void *st;

	(void)state;
	if (uid == 0)
		skip();		/* chown needs root */
	snprintf(from, sizeof(from), "%s/jc-dummy.so", dir);
	snprintf(to, sizeof(to), "%s/jc-dummy.so", tmp);
	copy(from, to, 0755);
	/* Mode 0755, but someone else's file: they could rewrite it. */
	assert_int_equal(chown(to, uid, (gid_t)-1), 0);
	assert_int_equal(chmod(to, 0755), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "owned by uid"));
	assert_int_equal(chown(to, geteuid(), (gid_t)-1), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    0);
	jc_plugin_unload_all();
	unlink(to);
}

static void
test_directory(void **state)
{
	const struct jc_plugin *p;
	char from[PATH_MAX + 32], sub[PATH_MAX + 32], to[PATH_MAX + 64];
	char why[256];
	uid_t uid = other_uid();
	void *st;

	(void)state;
	snprintf(from, sizeof(from), "%s/jc-dummy.so", dir);
	snprintf(sub, sizeof(sub), "%s/d", tmp);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(to, sizeof(to), "%s/jc-dummy.so", sub);
	copy(from, to, 0755);
	/* Anyone could swap the file in a world-writable (even sticky) dir. */
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "directory"));
	assert_non_null(strstr(why, "writable"));
	assert_int_equal(chmod(sub, 0775), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_int_equal(chmod(sub, 0755), 0);
	if (uid != 0) {
		assert_int_equal(chown(sub, uid, (gid_t)-1), 0);
		assert_int_equal(jc_plugin_load_file(to, &p, &st, why,
		    sizeof(why)), JC_ERR_PLUGIN);
		assert_non_null(strstr(why, "belongs to uid"));
		assert_int_equal(chown(sub, geteuid(), (gid_t)-1), 0);
	}
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    0);
	jc_plugin_unload_all();
}

static void
test_symlink(void **state)
{
	const struct jc_plugin *p;
	char from[PATH_MAX + 32], to[PATH_MAX + 32], why[256];
	void *st;

	(void)state;
	snprintf(from, sizeof(from), "%s/jc-dummy.so", dir);
	snprintf(to, sizeof(to), "%s/jc-dummy.so", tmp);
	unlink(to);
	assert_int_equal(symlink(from, to), 0);
	assert_int_equal(jc_plugin_load_file(to, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "link"));
	unlink(to);
}

static void
test_not_a_plugin(void **state)
{
	const struct jc_plugin *p;
	char path[PATH_MAX + 32], why[256];
	FILE *f;
	void *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/jc-junk.so", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not an ELF file\n", f);
	fclose(f);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	snprintf(path, sizeof(path), "%s/jc-dir.so", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(jc_plugin_load_file(path, &p, &st, why, sizeof(why)),
	    JC_ERR_PLUGIN);
	assert_non_null(strstr(why, "regular"));
}

static void
test_search_path(void **state)
{
	const struct jc_plugin *p;
	void *st;

	(void)state;
	/* --plugin-dir first: the dummy is found there by name. */
	jc_plugin_set_dir(dir);
	assert_int_equal(jc_plugin_get("dummy", &p, &st), 0);
	assert_string_equal(p->name, "dummy");
	assert_int_equal(jc_plugin_get("nosuch", &p, &st), JC_ERR_PLUGIN);
	jc_plugin_set_dir(NULL);
	jc_plugin_unload_all();
}

/* A member newer than the core's table is absent; so is a NULL one. */
static const char *
some_ca(void)
{
	return "ca.pem";
}

static void
test_host_has(void **state)
{
	struct jc_host h = *jc_plugin_host();

	(void)state;
	assert_true(JC_HOST_HAS(&h, aws_ca_bundle));
	h.size = (uint32_t)offsetof(struct jc_host, aws_ca_bundle);
	assert_false(JC_HOST_HAS(&h, aws_ca_bundle));
	assert_true(JC_HOST_HAS(&h, option));
	h.size = sizeof(h);
	h.aws_ca_bundle = NULL;
	assert_false(JC_HOST_HAS(&h, aws_ca_bundle));
	h.aws_ca_bundle = some_ca;
	assert_true(JC_HOST_HAS(&h, aws_ca_bundle));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_dummy),
		cmocka_unit_test(test_abi_13_loads),
		cmocka_unit_test(test_bad_abi),
		cmocka_unit_test(test_two_plugins),
		cmocka_unit_test(test_name_mismatch),
		cmocka_unit_test(test_writable),
		cmocka_unit_test(test_other_owner),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_not_a_plugin),
		cmocka_unit_test(test_search_path),
		cmocka_unit_test(test_host_has),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
