/*
 * test_state.c - state files: written through an exclusive temporary file
 * (a link planted where a temporary or the file itself goes is never
 * written through), 0600; names bounded and unique for any target; the
 * remembered port.
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

#include <cmocka.h>

#include "jc_plugin.h"
#include "log.h"
#include "state.h"

static char tmp[PATH_MAX];

static int
setup(void **state)
{
	char sd[PATH_MAX + 16];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/jc-state-test.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(sd, sizeof(sd), "%s/state", tmp);
	setenv("XDG_STATE_HOME", sd, 1);
	jc_log_set_level(JC_LOG_ERROR);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void
slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t k;

	assert_non_null(f);
	k = fread(buf, 1, n - 1, f);
	buf[k] = '\0';
	fclose(f);
}

static void
victim(char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/victim", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("keep\n", f);
	fclose(f);
}

/* Links where earlier versions put the temporary file, and the file. */
static void
test_links_not_followed(void **state)
{
	struct jc_tunnel t;
	char v[PATH_MAX + 16], link[2 * PATH_MAX], buf[64], *dir;
	struct stat st;

	(void)state;
	victim(v, sizeof(v));
	assert_non_null(dir = strdup(jc_state_dir()));
	snprintf(link, sizeof(link), "%s/lnk.json.tmp%ld", dir,
	    (long)getpid());
	assert_int_equal(symlink(v, link), 0);
	memset(&t, 0, sizeof(t));
	t.pid = getpid();
	snprintf(t.target, sizeof(t.target), "lnk");
	snprintf(t.via, sizeof(t.via), "ssh");
	snprintf(t.url, sizeof(t.url), "http://127.0.0.1:1/?token=secret");
	t.local_port = 1;
	assert_int_equal(jc_state_write(&t), 0);
	slurp(v, buf, sizeof(buf));
	assert_string_equal(buf, "keep\n");
	/* The state file itself: a new file, 0600, the link replaced. */
	snprintf(link, sizeof(link), "%s/%s.json", dir, jc_state_name("lnk2"));
	assert_int_equal(symlink(v, link), 0);
	snprintf(t.target, sizeof(t.target), "lnk2");
	assert_int_equal(jc_state_write(&t), 0);
	slurp(v, buf, sizeof(buf));
	assert_string_equal(buf, "keep\n");
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	jc_state_remove("lnk");
	jc_state_remove("lnk2");
	free(dir);
}

static void
test_names(void **state)
{
	char a[301], b[600];

	(void)state;
	memset(a, 'x', 300);
	a[300] = '\0';
	assert_true(strlen(jc_state_name(a)) <= 57);
	snprintf(b, sizeof(b), "%s", jc_state_name(a));
	a[299] = 'y';		/* same first 40, another target */
	assert_string_not_equal(b, jc_state_name(a));
	/* Targets that are the same once made safe. */
	snprintf(b, sizeof(b), "%s", jc_state_name("[::1]:2222"));
	assert_string_not_equal(b, jc_state_name("___1__2222"));
	assert_string_equal(b, jc_state_name("[::1]:2222"));
	/* Never a hidden file or "..". */
	assert_int_not_equal(jc_state_name("..")[0], '.');
	assert_null(strchr(jc_state_name("a/../b"), '/'));
}

static void
test_port_memory(void **state)
{
	char path[2 * PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(jc_state_port_get("p"), 0);
	jc_state_port_put("p", 34567);
	assert_int_equal(jc_state_port_get("p"), 34567);
	assert_int_equal(jc_state_port_get("q"), 0);
	snprintf(path, sizeof(path), "%s/%s.port", jc_state_dir(),
	    jc_state_name("p"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	jc_state_port_put("p", 8889);
	assert_int_equal(jc_state_port_get("p"), 8889);
}

/* A plugin's memo: per plugin, 0600, forgets, bounded, survives junk. */
static void
test_plugin_memo(void **state)
{
	char v[64], key[32], path[2 * PATH_MAX];
	struct stat st;
	FILE *f;
	int i;

	(void)state;
	assert_int_equal(jc_state_memo_get("ssm", "a", v, sizeof(v)), -1);
	jc_state_memo_put("ssm", "a", "ws://h:1");
	jc_state_memo_put("ssm", "b", "x");
	jc_state_memo_put("other", "a", "y");
	assert_int_equal(jc_state_memo_get("ssm", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "ws://h:1");
	assert_int_equal(jc_state_memo_get("other", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "y");
	/* Too long for the caller's buffer: none, not a cut value. */
	assert_int_equal(jc_state_memo_get("ssm", "a", v, 4), -1);
	jc_state_memo_put("ssm", "a", "ws://h:2");
	assert_int_equal(jc_state_memo_get("ssm", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "ws://h:2");
	jc_state_memo_put("ssm", "a", NULL);
	assert_int_equal(jc_state_memo_get("ssm", "a", v, sizeof(v)), -1);
	assert_int_equal(jc_state_memo_get("ssm", "b", v, sizeof(v)), 0);
	snprintf(path, sizeof(path), "%s/%s.memo", jc_state_dir(),
	    jc_state_name("plugin:ssm"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A handful of keys, not a store. */
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		jc_state_memo_put("ssm", key, "v");
	}
	assert_int_equal(jc_state_memo_get("ssm", "k20", v, sizeof(v)), 0);
	assert_int_equal(jc_state_memo_get("ssm", "k39", v, sizeof(v)), -1);
	/* Junk in the file: nothing read, and the next put starts afresh. */
	assert_non_null(f = fopen(path, "w"));
	fputs("[1,2", f);
	fclose(f);
	assert_int_equal(jc_state_memo_get("ssm", "b", v, sizeof(v)), -1);
	jc_state_memo_put("ssm", "c", "z");
	assert_int_equal(jc_state_memo_get("ssm", "c", v, sizeof(v)), 0);
	assert_string_equal(v, "z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_not_followed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_port_memory),
		cmocka_unit_test(test_plugin_memo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
