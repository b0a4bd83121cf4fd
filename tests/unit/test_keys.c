/*
 * test_keys.c - the pure half of the key plugin: the authorized_keys
 * merge (table-driven), public key and options parsing, base64, cksum
 * against the real cksum(1), sh quoting through a real /bin/sh, and the
 * ssh-agent identities answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "jc_plugin.h"
#include "../../plugins/keys/keys.h"

#define KA_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIHFVINeBPY5RP4u+/1ULmzNFKdysElYIiwSonvT2hd8r"
#define KB_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIHizJ/nYctg/ErUBt1h+CFfCaFoXxRW3IcZng8VCmqe6"
#define KC_B64	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP9BHagi3i7OMZjt" \
		"CYQf9IOuwPsBq19lhdxgP9R3WrUUvHqw+vZn4Meg6HyaKput+eUf8ElZK2T167LTmJIP8Z0="
#define KA	"ssh-ed25519 " KA_B64
#define KB	"ssh-ed25519 " KB_B64
#define KC	"ecdsa-sha2-nistp256 " KC_B64
#define META	"$(touch /tmp/jc-pwned);`id`|&>'\"\\ x"

/* Build a key list from public key lines (NULL-terminated). */
static void
mklist(struct keys_list *l, const char *const *lines)
{
	struct keys_pub k;
	size_t i;

	memset(l, 0, sizeof(*l));
	for (i = 0; lines[i] != NULL; i++) {
		assert_int_equal(keys_pub_parse(lines[i], strlen(lines[i]),
		    &k), 0);
		assert_int_equal(keys_pub_set_origin(&k, "test"), 0);
		assert_int_equal(keys_list_add(l, &k), 1);
	}
}

struct mcase {
	const char	*name;
	const char	*old;		/* NULL = missing file */
	size_t		 oldlen;	/* 0 = strlen(old) */
	const char	*keys[4];
	int		 op;
	const char	*want;		/* NULL = same as old */
	int		 st[4];
};

static const struct mcase mcases[] = {
	{ "missing file", NULL, 0, { KA " a@test" }, JC_KEYS_INSTALL,
	  KA " a@test\n", { KEYS_ST_ADDED } },
	{ "empty file", "", 0, { KA " a@test" }, JC_KEYS_INSTALL,
	  KA " a@test\n", { KEYS_ST_ADDED } },
	{ "no final newline", "# mine\n" KB " b", 0, { KA " a" },
	  JC_KEYS_INSTALL, "# mine\n" KB " b\n" KA " a\n", { KEYS_ST_ADDED } },
	{ "CRLF file", KB " b\r\n# note\r\n", 0, { KA " a" }, JC_KEYS_INSTALL,
	  KB " b\r\n# note\r\n" KA " a\r\n", { KEYS_ST_ADDED } },
	{ "CRLF file without final newline", KB " b\r\n" KC, 0, { KA " a" },
	  JC_KEYS_INSTALL, KB " b\r\n" KC "\r\n" KA " a\r\n",
	  { KEYS_ST_ADDED } },
	{ "last line ends in a lone CR", KB " b\r", 0, { KA }, JC_KEYS_INSTALL,
	  KB " b\r\n" KA "\n", { KEYS_ST_ADDED } },
	{ "present with options", "from=\"10.0.0.1,192.168.0.0/16\",no-pty "
	  KA " old\n", 0, { KA " a@test" }, JC_KEYS_INSTALL, NULL,
	  { KEYS_ST_PRESENT } },
	{ "present with quoted blanks in options",
	  "command=\"echo hi there; exit\",no-pty,environment=\"A=b c\" "
	  KA "\n", 0, { KA " a" }, JC_KEYS_INSTALL, NULL, { KEYS_ST_PRESENT } },
	{ "present with escaped quote in options",
	  "command=\"echo \\\"x y\\\"\" " KA "\n", 0, { KA " a" },
	  JC_KEYS_INSTALL, NULL, { KEYS_ST_PRESENT } },
	{ "present with another comment", KB "\n" KA " someone@else\n", 0,
	  { KA " a@test" }, JC_KEYS_INSTALL, NULL, { KEYS_ST_PRESENT } },
	{ "present, indented, CRLF", "  \t" KA "\r\n", 0, { KA },
	  JC_KEYS_INSTALL, NULL, { KEYS_ST_PRESENT } },
	{ "one present one new", KA "\n", 0, { KA, KB " b" }, JC_KEYS_INSTALL,
	  KA "\n" KB " b\n", { KEYS_ST_PRESENT, KEYS_ST_ADDED } },
	{ "commented-out key is not present", "#" KA "\n# " KA "\n", 0,
	  { KA " a" }, JC_KEYS_INSTALL, "#" KA "\n# " KA "\n" KA " a\n",
	  { KEYS_ST_ADDED } },
	{ "comment with shell metacharacters", KB "\n", 0, { KA " " META },
	  JC_KEYS_INSTALL, KB "\n" KA " " META "\n", { KEYS_ST_ADDED } },
	{ "odd junk lines kept", "garbage here\n\n   \n\tssh-ed25519 "
	  "notbase64!!\nssh-rsa " KA_B64 " wrong type\n\x01\x02 bin\xff\n"
	  "no-pty\n", 0, { KA " a" }, JC_KEYS_INSTALL, "garbage here\n\n   \n"
	  "\tssh-ed25519 notbase64!!\nssh-rsa " KA_B64 " wrong type\n"
	  "\x01\x02 bin\xff\nno-pty\n" KA " a\n", { KEYS_ST_ADDED } },
	{ "NUL bytes kept", "a\0b\n" KB "\n", 4 + sizeof(KB), { KA },
	  JC_KEYS_INSTALL, NULL, { KEYS_ST_ADDED } },
	{ "remove: every line with the key, nothing else",
	  KB " b\n" KA " one\r\nfrom=\"x\" " KA " two\n#" KA " kept\n"
	  KC "\n" KA, 0, { KA }, JC_KEYS_REMOVE,
	  KB " b\n#" KA " kept\n" KC "\n", { KEYS_ST_REMOVED } },
	{ "remove: absent key changes nothing", KB " b\n" KC, 0, { KA },
	  JC_KEYS_REMOVE, NULL, { KEYS_ST_ABSENT } },
	{ "remove: two keys", KA "\n\n" KB "\n" KC "\n", 0, { KA, KC },
	  JC_KEYS_REMOVE, "\n" KB "\n", { KEYS_ST_REMOVED, KEYS_ST_REMOVED } },
	{ "remove from a missing file", NULL, 0, { KA }, JC_KEYS_REMOVE, "",
	  { KEYS_ST_ABSENT } },
};

static void
test_merge_table(void **state)
{
	const struct mcase *c;
	struct keys_list l;
	char *out, *want;
	size_t i, n, oldlen, wantlen;
	int st[4], changed;

	(void)state;
	for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		c = &mcases[i];
		print_message("# merge: %s\n", c->name);
		mklist(&l, c->keys);
		oldlen = c->old == NULL ? 0 : c->oldlen ? c->oldlen :
		    strlen(c->old);
		assert_int_equal(keys_ak_merge(c->old, oldlen, &l, c->op, st,
		    &out, &n, &changed), 0);
		if (c->want == NULL) {
			want = (char *)(uintptr_t)(c->old ? c->old : "");
			wantlen = oldlen;
		} else {
			want = (char *)(uintptr_t)c->want;
			wantlen = strlen(c->want);
		}
		/* The NUL case: old bytes, then the new key. */
		if (c->oldlen != 0 && c->want == NULL &&
		    c->st[0] == KEYS_ST_ADDED) {
			assert_int_equal(n, oldlen + strlen(KA) + 1);
			assert_memory_equal(out, c->old, oldlen);
			assert_memory_equal(out + oldlen, KA "\n",
			    strlen(KA) + 1);
		} else {
			assert_int_equal(n, wantlen);
			assert_memory_equal(out, want, wantlen);
		}
		assert_int_equal(changed, n != oldlen ||
		    memcmp(out, c->old ? c->old : "", n) != 0);
		for (n = 0; n < l.n; n++)
			assert_int_equal(st[n], c->st[n]);
		free(out);
		keys_list_clear(&l);
	}
}

/* 2,000 lines of keys, options, comments and blanks; add one key. */
static void
test_merge_big(void **state)
{
	static const char *const ka[] = { KA " a", NULL };
	struct keys_list l;
	char *old, *out;
	size_t n, len = 0, i;
	int st[1], changed;

	(void)state;
	mklist(&l, ka);
	old = malloc(2000 * 200);
	assert_non_null(old);
	for (i = 0; i < 2000; i++) {
		switch (i % 4) {
		case 0:
			len += (size_t)snprintf(old + len, 200,
			    "# comment line %zu\n", i);
			break;
		case 1:
			len += (size_t)snprintf(old + len, 200,
			    "no-pty,from=\"10.0.%zu.1\" " KB " b\n", i);
			break;
		case 2:
			len += (size_t)snprintf(old + len, 200,
			    KC " host-%zu\r\n", i);
			break;
		default:
			old[len++] = '\n';
			break;
		}
	}
	assert_int_equal(keys_ak_merge(old, len, &l, JC_KEYS_INSTALL, st,
	    &out, &n, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(st[0], KEYS_ST_ADDED);
	assert_int_equal(n, len + strlen(KA " a\n"));
	assert_memory_equal(out, old, len);
	assert_memory_equal(out + len, KA " a\n", strlen(KA " a\n"));
	free(out);
	/* And out again: back to the same 2,000 lines. */
	memcpy(old + len, KA " a\n", strlen(KA " a\n"));
	assert_int_equal(keys_ak_merge(old, n, &l, JC_KEYS_REMOVE, st, &out,
	    &n, &changed), 0);
	assert_int_equal(n, len);
	assert_memory_equal(out, old, len);
	free(out);
	free(old);
	keys_list_clear(&l);
}

static void
test_merge_bad_op(void **state)
{
	struct keys_list l;
	char *out = NULL;
	size_t n;
	int changed;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(keys_ak_merge("", 0, &l, JC_KEYS_PUSH, NULL, &out,
	    &n, &changed), JC_ERR_USAGE);
	assert_null(out);
}

static void
test_pub_parse(void **state)
{
	struct keys_pub k;
	struct keys_list l;
	unsigned char *blob;
	size_t bl;
	static const char *const bad[] = {
		"", "ssh-ed25519", "ssh-ed25519 !!!!!!!!", "ssh-rsa " KA_B64,
		"ssh-ed25519 " KA_B64 "=", "ssh-ed25519 AAAA", "# " KA,
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
	};
	size_t i;

	(void)state;
	assert_int_equal(keys_pub_parse(KA "  a b c \r\n", strlen(KA) + 10,
	    &k), 0);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_string_equal(k.b64, KA_B64);
	assert_string_equal(k.comment, "a b c");
	assert_int_equal(k.bloblen, 51);
	assert_false(keys_pub_is_cert(&k));
	keys_pub_clear(&k);
	assert_int_equal(keys_pub_parse(KC, strlen(KC), &k), 0);
	assert_string_equal(k.type, "ecdsa-sha2-nistp256");
	assert_string_equal(k.comment, "");
	keys_pub_clear(&k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# bad key: %s\n", bad[i]);
		assert_int_equal(keys_pub_parse(bad[i], strlen(bad[i]), &k),
		    JC_ERR_PROTO);
	}
	/* A comment cannot smuggle a second line in. */
	assert_int_equal(keys_pub_from_blob((const unsigned char *)
	    "\0\0\0\x0bssh-ed25519\0\0\0\x04" "abcd", 23, "x\nssh-rsa AAAA\r", 15,
	    &k), 0);
	assert_string_equal(k.comment, "x?ssh-rsa AAAA");
	keys_pub_clear(&k);
	/* Lines with options. */
	assert_int_equal(keys_ak_line_blob("no-pty " KA, strlen(KA) + 7,
	    &blob, &bl), 0);
	assert_int_equal(bl, 51);
	free(blob);
	assert_int_equal(keys_ak_line_blob("command=\"a b\" x", 15, &blob,
	    &bl), JC_ERR_PROTO);
	assert_int_equal(keys_ak_line_blob("   ", 3, &blob, &bl),
	    JC_ERR_PROTO);
	/* Lists drop duplicates. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(keys_pub_parse(KA " one", strlen(KA) + 4, &k), 0);
	assert_int_equal(keys_list_add(&l, &k), 1);
	assert_int_equal(keys_pub_parse(KA " two", strlen(KA) + 4, &k), 0);
	assert_int_equal(keys_list_add(&l, &k), 0);
	assert_int_equal(l.n, 1);
	assert_null(k.type);
	keys_list_clear(&l);
}

/*
 * Whole authorized_keys lines (a throwaway key's): options kept as
 * written and put back in front of the key on install; remove finds the
 * line by its key whatever the options; nothing else in the file moves.
 */
static void
test_line_options(void **state)
{
	static const char opts[] = "restrict,port-forwarding,permitopen="
	    "\"localhost:8888\",from=\"127.0.0.1,::1\",expiry-time="
	    "\"20261206190000Z\"";
	static const char old[] = "# mine\r\n" KB " b\r\n\nno-pty " KC " c";
	static const char *const bad[] = {
		"", "# " KA, "no-pty", "no-pty ssh-ed25519 AAAA",
		"from=\"a\nb\" " KA, "command=\"x\" ",
	};
	struct keys_list l;
	struct keys_pub k;
	char line[512], *out, *back;
	size_t outlen, backlen, i;
	int st[1], changed;

	(void)state;
	snprintf(line, sizeof(line), "%s %s jconnect-throwaway", opts, KA);
	memset(&l, 0, sizeof(l));
	assert_int_equal(keys_ak_line_parse(line, strlen(line), &k), 0);
	assert_string_equal(k.options, opts);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_string_equal(k.comment, "jconnect-throwaway");
	assert_int_equal(keys_list_add(&l, &k), 1);
	/* A plain key line has no options. */
	assert_int_equal(keys_ak_line_parse(KB " x", strlen(KB) + 2, &k), 0);
	assert_null(k.options);
	keys_pub_clear(&k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# bad line: %s\n", bad[i]);
		assert_int_equal(keys_ak_line_parse(bad[i], strlen(bad[i]),
		    &k), JC_ERR_PROTO);
	}
	/* Install: the line as given, LF like the last line ending. */
	assert_int_equal(keys_ak_merge(old, sizeof(old) - 1, &l,
	    JC_KEYS_INSTALL, st, &out, &outlen, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(st[0], KEYS_ST_ADDED);
	assert_memory_equal(out, old, sizeof(old) - 1);
	assert_string_equal(out + sizeof(old) - 1, "\n" "restrict,"
	    "port-forwarding,permitopen=\"localhost:8888\",from=\"127.0.0.1,"
	    "::1\",expiry-time=\"20261206190000Z\" " KA
	    " jconnect-throwaway\n");
	/* Remove: back to the old bytes but for the line end added. */
	assert_int_equal(keys_ak_merge(out, outlen, &l, JC_KEYS_REMOVE, st,
	    &back, &backlen, &changed), 0);
	assert_int_equal(st[0], KEYS_ST_REMOVED);
	assert_int_equal(backlen, sizeof(old));
	assert_memory_equal(back, old, sizeof(old) - 1);
	assert_int_equal(back[sizeof(old) - 1], '\n');
	free(out);
	free(back);
	keys_list_clear(&l);
}

static void
test_b64(void **state)
{
	static const struct { const char *plain, *enc; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	unsigned char out[16];
	char enc[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		keys_b64_encode((const unsigned char *)v[i].plain,
		    strlen(v[i].plain), enc);
		assert_string_equal(enc, v[i].enc);
		assert_int_equal(keys_b64_decode(v[i].enc, strlen(v[i].enc),
		    out), (long)strlen(v[i].plain));
		assert_memory_equal(out, v[i].plain, strlen(v[i].plain));
	}
	assert_int_equal(keys_b64_decode("Zm9vYg", 6, out), 4);
	assert_int_equal(keys_b64_decode("Zm9vY", 5, out), -1);
	assert_int_equal(keys_b64_decode("Zm=v", 4, out), -1);
	assert_int_equal(keys_b64_decode("Zh==", 4, out), -1);
	assert_int_equal(keys_b64_decode("Zg===", 5, out), -1);
	assert_int_equal(keys_b64_decode("Z g=", 4, out), -1);
}

/* Run cmd through /bin/sh with stdin bytes; stdout into out. */
static int
sh_run(const char *cmd, const void *in, size_t inlen, char *out, size_t n)
{
	int pin[2], pout[2], st;
	pid_t pid;
	ssize_t k;
	size_t o = 0;

	assert_int_equal(pipe(pin), 0);
	assert_int_equal(pipe(pout), 0);
	if ((pid = fork()) == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	/* Small inputs only: fits the pipe buffer. */
	if (inlen > 0)
		assert_int_equal(write(pin[1], in, inlen), (ssize_t)inlen);
	close(pin[1]);
	while (o + 1 < n && (k = read(pout[0], out + o, n - 1 - o)) > 0)
		o += (size_t)k;
	out[o] = '\0';
	close(pout[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_cksum(void **state)
{
	static const size_t lens[] = { 0, 1, 3, 255, 256, 1000, 70000 };
	unsigned char *buf;
	char out[128], want[128], path[] = "/tmp/jc-test-cksum.XXXXXX";
	char cmd[128];
	size_t i, j;
	int fd;

	(void)state;
	buf = malloc(70000);
	assert_non_null(buf);
	for (j = 0; j < 70000; j++)
		buf[j] = (unsigned char)(j * 7 + (j >> 8));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	snprintf(cmd, sizeof(cmd), "cksum < %s", path);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* 70000 bytes would block in sh_run's pipe: use a file. */
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, buf, lens[i], 0), (ssize_t)lens[i]);
		sh_run(cmd, NULL, 0, out, sizeof(out));
		snprintf(want, sizeof(want), "%u %zu\n",
		    (unsigned)keys_cksum(buf, lens[i]), lens[i]);
		assert_string_equal(out, want);
	}
	close(fd);
	unlink(path);
	free(buf);
}

static void
test_sh_quote(void **state)
{
	static const char *const v[] = {
		"", "plain", "it's", "''", "a'b'c", META, "$HOME", "a\nb",
		"\\'\\", "; rm -rf / #", "*", "-n",
	};
	char cmd[512], out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(cmd, sizeof(cmd), "printf %%s ");
		assert_int_equal(keys_sh_quote(cmd, sizeof(cmd), v[i]), 0);
		assert_int_equal(sh_run(cmd, NULL, 0, out, sizeof(out)), 0);
		assert_string_equal(out, v[i]);
	}
	/* Too small: refused, dst untouched. */
	strcpy(cmd, "x");
	assert_int_equal(keys_sh_quote(cmd, 6, "abcd"), JC_ERR_NOMEM);
	assert_string_equal(cmd, "x");
	assert_int_equal(access("/tmp/jc-pwned", F_OK), -1);
}

/* The command string: a hostile user name stays data. */
static void
test_remote_cmd_quoting(void **state)
{
	char *cmd, out[512];
	const char *user = "x'; touch /tmp/jc-pwned; echo '";

	(void)state;
	cmd = keys_remote_cmd(user, "read", "00ff", "missing", "1 2");
	assert_non_null(cmd);
	/* Our user differs and this machine may lack sudo: either way no
	 * command from the name runs. */
	sh_run(cmd, NULL, 0, out, sizeof(out));
	assert_int_equal(access("/tmp/jc-pwned", F_OK), -1);
	free(cmd);
}

/* Put a uint32 big-endian. */
static size_t
p32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

static size_t
pstr(unsigned char *p, const void *s, size_t n)
{
	p32(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return 4 + n;
}

static void
test_agent_parse(void **state)
{
	unsigned char msg[512], blob[128];
	struct keys_list l;
	size_t o = 0, bl;
	long n;

	(void)state;
	memset(&l, 0, sizeof(l));
	n = keys_b64_decode(KA_B64, strlen(KA_B64), blob);
	assert_true(n > 0);
	bl = (size_t)n;
	msg[o++] = 12;
	o += p32(msg + o, 3);
	o += pstr(msg + o, blob, bl);
	o += pstr(msg + o, "a@agent", 7);
	/* A certificate: skipped. */
	o += pstr(msg + o, "\0\0\0\x20ssh-ed25519-cert-v01@openssh.com"
	    "\0\0\0\x01x", 41);
	o += pstr(msg + o, "cert", 4);
	/* The same key again: one entry. */
	o += pstr(msg + o, blob, bl);
	o += pstr(msg + o, "dup", 3);
	assert_int_equal(keys_agent_parse(msg, o, &l), 3);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.k[0].comment, "a@agent");
	assert_string_equal(l.k[0].origin, "ssh-agent");
	keys_list_clear(&l);
	/* Truncated anywhere: refused, nothing leaked. */
	for (bl = 0; bl < o; bl++) {
		int r = keys_agent_parse(msg, bl, &l);

		assert_true(r == JC_ERR_PROTO || r >= 0);
		keys_list_clear(&l);
	}
	/* A failure answer, and an absurd count. */
	msg[0] = 5;
	assert_int_equal(keys_agent_parse(msg, 1, &l), JC_ERR_PROTO);
	msg[0] = 12;
	p32(msg + 1, 0xffffffffu);
	assert_int_equal(keys_agent_parse(msg, o, &l), JC_ERR_PROTO);
	p32(msg + 1, 0);
	assert_int_equal(keys_agent_parse(msg, 5, &l), 0);
	assert_int_equal(l.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_table),
		cmocka_unit_test(test_merge_big),
		cmocka_unit_test(test_merge_bad_op),
		cmocka_unit_test(test_pub_parse),
		cmocka_unit_test(test_line_options),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_cksum),
		cmocka_unit_test(test_sh_quote),
		cmocka_unit_test(test_remote_cmd_quoting),
		cmocka_unit_test(test_agent_parse),
	};

	unlink("/tmp/jc-pwned");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
