/*
 * test_jupyter.c - the Jupyter log and JSON parsers, URL building and the
 * HTTP answer parser.
 *
 * Inputs are the files in tests/fuzz/corpus/jupyter_{log,json}/ (also the
 * fuzzers' seeds).  Those named nb6_* and srv1_* and the JSON files are
 * real output of Debian's notebook 6.4.12 and jupyter-server 1.23.3,
 * captured on this kind of machine (servers started with --ip=::1,
 * --sock, base_url, a held port, JUPYTER_TOKEN, a password hash, then
 * stopped with SIGTERM for *_stopped).  nb57, srv2_2 and srv2_16 follow
 * the formats of notebook 5.7 and jupyter_server 2.2.1-2.15 and 2.16+
 * (shared jupyter.md), which Debian does not ship.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "httpcheck.h"
#include "jc_plugin.h"
#include "jupyter.h"
#include "log.h"

#define LOGDIR	"tests/fuzz/corpus/jupyter_log/"
#define JSONDIR	"tests/fuzz/corpus/jupyter_json/"

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf;
	long sz;

	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (tests run from the repository root)",
		    path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = '\0';
	fclose(f);
	*lenp = (size_t)sz;
	return buf;
}

/* ---- logs: one case per generation / variation ------------------------ */

struct logcase {
	const char	*file;
	int		 rc;
	int		 port;
	const char	*host;
	const char	*base;
	const char	*defpath;
	const char	*token;
	int		 masked;
	int		 password;
	const char	*sock;
};

static const struct logcase logcases[] = {
	/* notebook 5.7: "(host or 127.0.0.1)" */
	{ "nb57.log", 0, 8888, "127.0.0.1", "/", "",
	  "3f1c2a9d0b7e4c5a8f6e2d1b0a9c8e7f6d5c4b3a2e1f0d9c", 0, 0, "" },
	/* notebook 6.x, with request lines after the banner */
	{ "nb6_requests.log", 0, 18801, "127.0.0.1", "/", "",
	  "b5aaf393f5d6a05a86f99603ff6cf803a902c0d486b0dbb5", 0, 0, "" },
	/* jupyter_server 1.x, ip unset: localhost + " or 127.0.0.1", /lab */
	{ "srv1_lab.log", 0, 18815, "127.0.0.1", "/", "/lab",
	  "0b06f8328cdd6acedc97a666f233b78f03f2fb81657d179c", 0, 0, "" },
	/* jupyter_server 2.2.1-2.15: second URL indented, no "or" */
	{ "srv2_2.log", 0, 8888, "127.0.0.1", "/", "/lab",
	  "9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", 0, 0, "" },
	/* jupyter_server 2.16+: one URL, Notebook 7 /tree */
	{ "srv2_16.log", 0, 8890, "127.0.0.1", "/", "/tree",
	  "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", 0, 0, "" },
	/* base_url */
	{ "nb6_baseurl.log", 0, 18811, "127.0.0.1", "/jupyter/", "",
	  "7c9ea5a240414cceb27347ca0776ac851ecfb752301fb1c2", 0, 0, "" },
	{ "srv1_baseurl.log", 0, 18817, "127.0.0.1", "/jupyter/", "/lab",
	  "9702e7946738037338e8509ecd31d6c4a182b8057e93a966", 0, 0, "" },
	/* IPv6: notebook 6 prints a bare "::1:PORT", server 1.x "[::1]" */
	{ "nb6_ipv6.log", 0, 18812, "::1", "/", "",
	  "4d3226256681973a0c25ff22625043c9852348997102ce02", 0, 0, "" },
	{ "srv1_ipv6.log", 0, 18818, "::1", "/", "",
	  "bd51f20af81491190b7d2acfcefb0c61bfc730ba6d755e0e", 0, 0, "" },
	/* port hop: 18820 and 18821 were taken */
	{ "nb6_hop.log", 0, 18822, "127.0.0.1", "/", "",
	  "4e6a8eab9ed0985b71f9d59e5d18700c7e2855e372157db3", 0, 0, "" },
	{ "srv1_hop.log", 0, 18821, "127.0.0.1", "/", "",
	  "026f43cf6e0dd6c1b6df828f291f63e43b0f9df8d78733cf", 0, 0, "" },
	/* token from JUPYTER_TOKEN: "..." is never a token */
	{ "nb6_masked.log", 0, 18810, "127.0.0.1", "/", "", "", 1, 0, "" },
	{ "srv1_masked.log", 0, 18816, "127.0.0.1", "/", "", "", 1, 0, "" },
	/* password only: no query */
	{ "nb6_password.log", 0, 18813, "127.0.0.1", "/", "", "", 0, 1, "" },
	{ "srv1_password.log", 0, 18819, "127.0.0.1", "/", "", "", 0, 1, "" },
	/* Unix sockets */
	{ "nb6_sock.log", 0, 0, "", "/", "", "", 0, 1, "/tmp/jcap/nb6.sock" },
	{ "srv1_sock.log", 0, 0, "", "/", "",
	  "bebeb3acc35bc67773d43fa7857f8d53145dc881773cc980", 0, 0,
	  "/tmp/jcap/srv1.sock" },
	/* the server logged its shutdown: nothing runs */
	{ "nb6_stopped.log", JC_ERR_JUPYTER, 0, NULL, NULL, NULL, NULL, 0, 0,
	  NULL },
	{ "srv1_stopped.log", JC_ERR_JUPYTER, 0, NULL, NULL, NULL, NULL, 0, 0,
	  NULL },
	/* a stopped notebook then a running server in the same file */
	{ "two_runs.log", 0, 18817, "127.0.0.1", "/jupyter/", "/lab",
	  "9702e7946738037338e8509ecd31d6c4a182b8057e93a966", 0, 0, "" },
	/* binary junk with a NUL inside the only URL */
	{ "junk_nul.bin", JC_ERR_JUPYTER, 0, NULL, NULL, NULL, NULL, 0, 0,
	  NULL },
};

/* One cmocka test per file, so each format is its own TAP line. */
static void
test_log_one(void **state)
{
	const struct logcase *c = *state;
	struct jc_jupyter j;
	char path[256], *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), LOGDIR "%s", c->file);
	buf = slurp(path, &len);
	memset(&j, 0x5a, sizeof(j));
	r = jc_jupyter_log_parse(buf, len, &j);
	free(buf);
	if (r != c->rc)
		fail_msg("%s: rc %d, want %d", c->file, r, c->rc);
	if (c->rc != 0)
		return;
	if (j.port != c->port)
		fail_msg("%s: port %d, want %d", c->file, j.port, c->port);
	if (c->sock[0] == '\0' && strcmp(j.host, c->host) != 0)
		fail_msg("%s: host %s, want %s", c->file, j.host, c->host);
	if (strcmp(j.base_url, c->base) != 0)
		fail_msg("%s: base %s", c->file, j.base_url);
	if (strcmp(j.default_path, c->defpath) != 0)
		fail_msg("%s: default path \"%s\", want \"%s\"", c->file,
		    j.default_path, c->defpath);
	if (strcmp(j.token, c->token) != 0)
		fail_msg("%s: token \"%s\"", c->file, j.token);
	if (j.token_masked != c->masked)
		fail_msg("%s: masked %d", c->file, j.token_masked);
	if (j.password_only != c->password)
		fail_msg("%s: password_only %d", c->file, j.password_only);
	if (strcmp(j.sock, c->sock) != 0)
		fail_msg("%s: sock %s", c->file, j.sock);
	assert_string_equal(j.scheme, "http");
	assert_string_equal(j.source, "log");
}

/* Lines that look like URLs but announce nothing. */
static void
test_log_not_announcements(void **state)
{
	static const char text[] =
	    "[I 12:00:00.000 NotebookApp] 302 GET /?token=abc (127.0.0.1) 1ms\n"
	    "https://jupyter-notebook.readthedocs.io/en/latest/migrate_to_notebook7.html\n"
	    "[W 12:00:01.000 NotebookApp] see http://127.0.0.1:8888/ for more\n"
	    "[I 12:00:02.000 NotebookApp] http://127.0.0.1:99999/?token=abc\n"
	    "[I 12:00:03.000 NotebookApp] http://127.0.0.1:8888/?token=abc def\n";
	struct jc_jupyter j;

	(void)state;
	assert_int_equal(jc_jupyter_log_parse(text, sizeof(text) - 1, &j),
	    JC_ERR_JUPYTER);
	assert_int_equal(jc_jupyter_log_parse("", 0, &j), JC_ERR_JUPYTER);
}

/* No banner (a tail of the log): the last URL line counts. */
static void
test_log_tail_only(void **state)
{
	static const char text[] =
	    "[I 2026-01-01 10:00:00.000 ServerApp]  or http://127.0.0.1:9001/lab?token=aaa\n"
	    "    Or copy and paste one of these URLs:\n"
	    "        http://localhost:9001/lab?token=aaa\n"
	    "     or http://127.0.0.1:9001/lab?token=aaa\n";
	struct jc_jupyter j;

	(void)state;
	assert_int_equal(jc_jupyter_log_parse(text, sizeof(text) - 1, &j), 0);
	assert_int_equal(j.port, 9001);
	assert_string_equal(j.token, "aaa");
	assert_string_equal(j.default_path, "/lab");
}

/* A 0.0.0.0 server names the machine first, then 127.0.0.1. */
static void
test_log_machine_name(void **state)
{
	static const char text[] =
	    "[I 10:00:00.000 NotebookApp] The Jupyter Notebook is running at:\n"
	    "[I 10:00:00.000 NotebookApp] http://ip-10-0-0-5:8888/?token=t1\n"
	    "[I 10:00:00.000 NotebookApp]  or http://127.0.0.1:8888/?token=t1\n";
	struct jc_jupyter j;

	(void)state;
	assert_int_equal(jc_jupyter_log_parse(text, sizeof(text) - 1, &j), 0);
	assert_string_equal(j.host, "127.0.0.1");
	assert_string_equal(j.token, "t1");
}

/* Binary junk, NULs, endless lines, CRLF: skipped, never a crash. */
static void
test_log_junk(void **state)
{
	static const char good[] =
	    "\r\n[I 10:00:00.000 NotebookApp] Jupyter Notebook 6.4.12 is running at:\r\n"
	    "[I 10:00:00.000 NotebookApp] http://127.0.0.1:8765/?token=%41b+c\r\n";
	size_t n = 4u << 20, i, off;
	char *buf;
	struct jc_jupyter j;
	unsigned int seed = 7;
	clock_t t0;

	(void)state;
	buf = malloc(n + sizeof(good));
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
		/* Long runs without newlines, and some with. */
		if (i % 50000 == 0)
			buf[i] = '\n';
	}
	off = n;
	memcpy(buf + off, good, sizeof(good) - 1);
	t0 = clock();
	assert_int_equal(jc_jupyter_log_parse(buf, off + sizeof(good) - 1,
	    &j), 0);
	assert_true((clock() - t0) / CLOCKS_PER_SEC < 20);
	assert_int_equal(j.port, 8765);
	/* Query values are percent-decoded ('+' is a space). */
	assert_string_equal(j.token, "Ab c");
	assert_int_equal(jc_jupyter_log_parse(buf, n, &j), JC_ERR_JUPYTER);
	free(buf);
}

/* Many request lines after the banner: the banner still wins. */
static void
test_log_many_lines(void **state)
{
	static const char head[] =
	    "[I 10:00:00.000 NotebookApp] Jupyter Notebook 6.4.12 is running at:\n"
	    "[I 10:00:00.000 NotebookApp] http://127.0.0.1:8800/?token=abcd\n";
	static const char line[] =
	    "[I 10:00:01.000 NotebookApp] 200 GET /api/contents?type=directory&_=1 (127.0.0.1) 3.1ms\n";
	size_t nl = 100000, i, len = 0;
	char *buf;
	struct jc_jupyter j;

	(void)state;
	buf = malloc(sizeof(head) + nl * (sizeof(line) - 1));
	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (i = 0; i < nl; i++) {
		memcpy(buf + len, line, sizeof(line) - 1);
		len += sizeof(line) - 1;
	}
	assert_int_equal(jc_jupyter_log_parse(buf, len, &j), 0);
	assert_int_equal(j.port, 8800);
	assert_string_equal(j.token, "abcd");
	free(buf);
}

static void
test_url_parse(void **state)
{
	struct jc_jupyter j;
	static const char *bad[] = {
		"ftp://127.0.0.1:8888/",
		"http://127.0.0.1/",			/* no port */
		"http://127.0.0.1:0/",
		"http://127.0.0.1:65536/",
		"http://[::1:8888/",
		"http+unix://relative.sock/",
		"http://127.0.0.1:8888/ x",
		"",
	};
	size_t i;

	(void)state;
	assert_int_equal(jc_jupyter_url_parse("https://[fe80::1%eth0]:443/a/b/lab?x=1&token=zz#f",
	    strlen("https://[fe80::1%eth0]:443/a/b/lab?x=1&token=zz#f"), &j), 0);
	assert_string_equal(j.scheme, "https");
	assert_string_equal(j.host, "fe80::1%eth0");
	assert_int_equal(j.port, 443);
	assert_string_equal(j.base_url, "/a/b/");
	assert_string_equal(j.default_path, "/lab");
	assert_string_equal(j.token, "zz");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jc_jupyter_url_parse(bad[i], strlen(bad[i]), &j) == 0)
			fail_msg("accepted %s", bad[i]);
}

/* ---- JSON ------------------------------------------------------------- */

static void
test_json_runtime_files(void **state)
{
	struct jc_jupyter j[4];
	char *buf;
	size_t len, n;

	(void)state;
	/* notebook 6 token server */
	buf = slurp(JSONDIR "nbserver-8153.json", &len);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(buf, len, "nbserver-8153.json",
	    j, 4, &n), 0);
	free(buf);
	assert_int_equal(n, 1);
	assert_int_equal(j[0].port, 18811);
	assert_int_equal(j[0].pid, 8153);
	assert_string_equal(j[0].base_url, "/jupyter/");
	assert_string_equal(j[0].token,
	    "7c9ea5a240414cceb27347ca0776ac851ecfb752301fb1c2");
	assert_string_equal(j[0].kind, "nb");
	assert_string_equal(j[0].host, "127.0.0.1");
	assert_string_equal(j[0].scheme, "http");
	assert_string_equal(j[0].source, "nbserver-8153.json");
	assert_int_equal(j[0].password_only, 0);
	assert_int_equal(j[0].no_auth, 0);

	/* token set by JUPYTER_TOKEN: the file has it, the log did not */
	buf = slurp(JSONDIR "jpserver-8158.json", &len);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(buf, len, "f", j, 4, &n), 0);
	free(buf);
	assert_string_equal(j[0].token, "s3cretTokenFromEnv");
	assert_string_equal(j[0].kind, "jp");
	assert_string_equal(j[0].version, "1.23.3");

	/* password only */
	buf = slurp(JSONDIR "jpserver-8162.json", &len);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(buf, len, "f", j, 4, &n), 0);
	free(buf);
	assert_string_equal(j[0].token, "");
	assert_int_equal(j[0].password_only, 1);

	/* Unix socket */
	buf = slurp(JSONDIR "nbserver-8156.json", &len);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(buf, len, "f", j, 4, &n), 0);
	free(buf);
	assert_int_equal(j[0].port, 0);
	assert_string_equal(j[0].sock, "/tmp/jcap/nb6.sock");

	/* IPv6 hostname: dial ::1 */
	buf = slurp(JSONDIR "jpserver-8161.json", &len);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(buf, len, "f", j, 4, &n), 0);
	free(buf);
	assert_string_equal(j[0].host, "::1");
	assert_int_equal(j[0].port, 18818);
}

static void
test_json_lists(void **state)
{
	static const struct {
		const char *file;
		size_t count;
	} c[] = {
		{ "list_nb_json.txt", 6 },	/* one object per line */
		{ "list_nb_jsonlist.txt", 6 },	/* an array */
		{ "list_srv_json.txt", 7 },
		{ "list_srv_jsonlist.txt", 7 },
	};
	struct jc_jupyter *j;
	char path[256], *buf;
	size_t i, len, n, k;
	int saw_pw = 0, saw_sock = 0;

	(void)state;
	j = calloc(JC_JUPYTER_MAX, sizeof(*j));
	assert_non_null(j);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(path, sizeof(path), JSONDIR "%s", c[i].file);
		buf = slurp(path, &len);
		n = 0;
		assert_int_equal(jc_jupyter_json_parse(buf, len, "list", j,
		    JC_JUPYTER_MAX, &n), 0);
		if (n != c[i].count)
			fail_msg("%s: %zu servers", c[i].file, n);
		for (k = 0; k < n; k++) {
			assert_true(j[k].pid > 0);
			assert_true(j[k].port > 0 || j[k].sock[0] != '\0');
			saw_pw |= j[k].password_only;
			saw_sock |= j[k].sock[0] != '\0';
		}
		/* The same text cut in the middle: complete objects stay. */
		n = 0;
		(void)jc_jupyter_json_parse(buf, len / 2, "list", j,
		    JC_JUPYTER_MAX, &n);
		assert_true(n >= 1 && n < c[i].count);
		free(buf);
	}
	assert_true(saw_pw && saw_sock);
	free(j);
}

static void
test_json_bad(void **state)
{
	static const char *bad[] = {
		"",
		"{",
		"{\"port\": 8888, ",
		"[{\"port\": 8888",
		"{\"a\": 1}",
		"[1, 2, \"x\", null]",
		"{\"port\": 70000, \"pid\": 1}",
		"{\"port\": -1}",
		"{\"port\": 8888.5}",
		"{\"port\": \"8888\"}",
		"\x00\x01\x02\xff\xfe{{{{[[[[",
		"not json at all\nstill not\n",
		"{\"sock\": 5, \"port\": 0}",
	};
	struct jc_jupyter j[2];
	size_t i, n;
	char big[512];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		if (jc_jupyter_json_parse(bad[i], strlen(bad[i]) +
		    (i == 10 ? 14 : 0), "x", j, 2, &n) == 0 || n != 0)
			fail_msg("accepted bad[%zu]", i);
	}
	/* A token that does not fit is not used truncated. */
	memset(big, 'a', sizeof(big));
	snprintf(big, sizeof(big), "{\"port\": 8888, \"token\": \"%0300d\"}",
	    7);
	n = 0;
	assert_int_equal(jc_jupyter_json_parse(big, strlen(big), "x", j, 2,
	    &n), JC_ERR_PROTO);
	/* Junk around a good object, and a bad line before it. */
	n = 0;
	assert_int_equal(jc_jupyter_json_parse("garbage {\"port\": 1,\n"
	    "{\"port\": 9000, \"hostname\": \"0.0.0.0\", \"secure\": true, "
	    "\"base_url\": \"x\", \"password\": false, \"token\": \"\"} tail",
	    strlen("garbage {\"port\": 1,\n{\"port\": 9000, \"hostname\": "
	    "\"0.0.0.0\", \"secure\": true, \"base_url\": \"x\", \"password\": "
	    "false, \"token\": \"\"} tail"), "x", j, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(j[0].port, 9000);
	assert_string_equal(j[0].host, "127.0.0.1");
	assert_string_equal(j[0].scheme, "https");
	assert_string_equal(j[0].base_url, "/x/");
	assert_int_equal(j[0].no_auth, 1);
	/* Port from "url" when "port" is missing; "::" dials ::1. */
	n = 0;
	assert_int_equal(jc_jupyter_json_parse("{\"url\": "
	    "\"http://[::]:8123/\", \"hostname\": \"::\", \"token\": \"t\"}",
	    strlen("{\"url\": \"http://[::]:8123/\", \"hostname\": \"::\", "
	    "\"token\": \"t\"}"), "x", j, 2, &n), 0);
	assert_int_equal(j[0].port, 8123);
	assert_string_equal(j[0].host, "::1");
}

static void
test_json_limit(void **state)
{
	char *buf;
	size_t i, len = 0, n = 0;
	struct jc_jupyter *j;

	(void)state;
	buf = malloc(100 * 64);
	assert_non_null(buf);
	buf[0] = '[';
	len = 1;
	for (i = 0; i < 100; i++)
		len += (size_t)sprintf(buf + len, "%s{\"port\": %zu, "
		    "\"pid\": %zu}", i ? "," : "", 9000 + i, i + 1);
	buf[len++] = ']';
	j = calloc(JC_JUPYTER_MAX, sizeof(*j));
	assert_non_null(j);
	assert_int_equal(jc_jupyter_json_parse(buf, len, "x", j,
	    JC_JUPYTER_MAX, &n), 0);
	assert_int_equal(n, JC_JUPYTER_MAX);
	assert_int_equal(j[JC_JUPYTER_MAX - 1].port, 9000 + JC_JUPYTER_MAX - 1);
	free(j);
	free(buf);
}

/*
 * Hostile remote output costs linear time: 16 MiB of lines that each open
 * a value running on for many lines (long strings, blanks, nesting) took
 * seconds to tens of seconds when every failed line restarted the parse.
 */
#define HOSTILE_LEN	(16u << 20)

static char *
hostile(const char *head, const char *line, size_t *len)
{
	size_t hl = strlen(head), ll = strlen(line), o;
	char *b;

	b = malloc(HOSTILE_LEN + hl + 1);
	assert_non_null(b);
	memcpy(b, head, hl);
	for (o = hl; o + ll <= HOSTILE_LEN + hl; o += ll)
		memcpy(b + o, line, ll);
	*len = o;
	return b;
}

static void
test_json_hostile(void **state)
{
	static const char good[] = "{\"port\": 8888, \"pid\": 7, "
	    "\"token\": \"t\"}\n";
	char *line, *buf;
	const char *shapes[4];
	struct jc_jupyter j[4];
	size_t len, n, i;
	clock_t t0;
	double cpu;

	(void)state;
	line = malloc(16384 + 8);
	assert_non_null(line);
	/* [ "xxxx...", and [ followed by blanks, 16 KiB a line */
	memset(line, 'x', 16384);
	memcpy(line, "[ \"", 3);
	memcpy(line + 16380, "\",\n", 4);
	line[16384] = '\0';
	shapes[0] = line;
	shapes[1] = "{\"a\":                                            \n";
	shapes[2] = "[1,\n";
	shapes[3] = "[\"[\",\n";
	for (i = 0; i < 4; i++) {
		buf = hostile(i == 0 ? "" : good, shapes[i], &len);
		n = 0;
		t0 = clock();
		(void)jc_jupyter_json_parse(buf, len, "x", j, 4, &n);
		cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
		if (cpu >= 1.0)
			fail_msg("shape %zu: %.2f s of CPU for %zu bytes", i,
			    cpu, len);
		if (i > 0 && (n != 1 || j[0].port != 8888))
			fail_msg("shape %zu: the good line before it was lost",
			    i);
		free(buf);
	}
	/* The line resync still works: a bad line, then a good one. */
	n = 0;
	assert_int_equal(jc_jupyter_json_parse("{\"port\": 1, [\n{\"port\": "
	    "9}\n", strlen("{\"port\": 1, [\n{\"port\": 9}\n"), "x", j, 4,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(j[0].port, 9);
	free(line);
}

static void
test_log_hostile(void **state)
{
	static const char *const shapes[] = {
		"[I 10:00 ServerApp] is listening on http://aaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:8888/ x\n",
		"http://1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:"
		    "1:1:1:1:1:1:1:1:1:1:1:1:x\n",
		"[I 10:00 NotebookApp] http://127.0.0.1:8888/?token=abc\n",
		"is running at: is running at: is running at: or or or or \n",
	};
	struct jc_jupyter j;
	char *buf;
	size_t len, i;
	clock_t t0;
	double cpu;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		buf = hostile("", shapes[i], &len);
		t0 = clock();
		(void)jc_jupyter_log_parse(buf, len, &j);
		cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
		jc_jupyter_clear(&j);
		if (cpu >= 1.0)
			fail_msg("log shape %zu: %.2f s of CPU for %zu bytes",
			    i, cpu, len);
		free(buf);
	}
}

/* ---- remote text on the terminal --------------------------------------- */

static void
test_log_safe(void **state)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "plain text, caf\xc3\xa9 \xe2\x9c\x93", "plain text, "
		  "caf\xc3\xa9 \xe2\x9c\x93" },
		{ "a\nb\rc\td", "a\\nb\\rc\\td" },
		{ "\x1b]0;title\x07\x1b[31m", "\\x1b]0;title\\x07\\x1b[31m" },
		{ "del\x7f", "del\\x7f" },
		{ "csi\xc2\x9b" "2J", "csi\\xc2\\x9b2J" },	/* C1 */
		{ "bad\xff\xfe", "bad\\xff\\xfe" },
		{ "cut\xe2\x9c", "cut\\xe2\\x9c" },	/* truncated */
		{ "over\xc0\xaf", "over\\xc0\\xaf" },	/* overlong */
		{ "surr\xed\xa0\x80", "surr\\xed\\xa0\\x80" },
	};
	char out[128], small[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_string_equal(jc_log_safe(c[i].in, out, sizeof(out)),
		    c[i].out);
	/* Truncation never splits an escape or a character. */
	assert_string_equal(jc_log_safe("ab\x1b", small, sizeof(small)),
	    "ab\\x1b");
	assert_string_equal(jc_log_safe("abcd\x1b", small, sizeof(small)),
	    "abcd");
	assert_string_equal(jc_log_safe("abcde\xc3\xa9", small,
	    sizeof(small)), "abcde\xc3\xa9");
	assert_string_equal(jc_log_safe("abcdef\xc3\xa9", small,
	    sizeof(small)), "abcdef");
}

/* ---- URL building ------------------------------------------------------ */

static void
test_url_build(void **state)
{
	struct jc_jupyter j;
	char url[1024], small[20], desc[512];

	(void)state;
	memset(&j, 0, sizeof(j));
	snprintf(j.base_url, sizeof(j.base_url), "/jupyter/");
	snprintf(j.default_path, sizeof(j.default_path), "/lab");
	snprintf(j.token, sizeof(j.token), "a b&c");
	j.port = 8888;
	jc_jupyter_fixup(&j);
	assert_int_equal(jc_jupyter_url(&j, 8889, url, sizeof(url)), 0);
	assert_string_equal(url,
	    "http://127.0.0.1:8889/jupyter/lab?token=a%20b%26c");
	assert_int_not_equal(jc_jupyter_url(&j, 8889, small, sizeof(small)), 0);

	/* password only: the login page, then the default page */
	j.token[0] = '\0';
	j.password_only = 1;
	assert_int_equal(jc_jupyter_url(&j, 8889, url, sizeof(url)), 0);
	assert_string_equal(url,
	    "http://127.0.0.1:8889/jupyter/login?next=%2Fjupyter%2Flab");
	j.default_path[0] = '\0';
	assert_int_equal(jc_jupyter_url(&j, 8889, url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:8889/jupyter/login");

	/* no auth at all */
	j.password_only = 0;
	j.no_auth = 1;
	snprintf(j.base_url, sizeof(j.base_url), "/");
	snprintf(j.default_path, sizeof(j.default_path), "/tree");
	assert_int_equal(jc_jupyter_url(&j, 8080, url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:8080/tree");

	/* The description never carries the token. */
	snprintf(j.token, sizeof(j.token), "SECRET");
	snprintf(j.source, sizeof(j.source), "nbserver-1.json");
	snprintf(j.kind, sizeof(j.kind), "nb");
	j.pid = 1;
	jc_jupyter_describe(&j, desc, sizeof(desc));
	assert_null(strstr(desc, "SECRET"));
	assert_non_null(strstr(desc, "remote port 8888"));
	assert_non_null(strstr(desc, "nbserver-1.json"));
	jc_jupyter_clear(&j);
	assert_string_equal(j.token, "");
}

/* ---- HTTP answers ------------------------------------------------------ */

static void
test_http_parse(void **state)
{
	struct jc_httpcheck h;
	static const char ok[] =
	    "HTTP/1.1 200 OK\r\nServer: TornadoServer/6.2\r\n"
	    "Content-Type: application/json\r\nContent-Length: 21\r\n\r\n"
	    "{\"version\": \"1.23.3\"}";
	static const char redir[] =
	    "HTTP/1.1 302 Found\r\nLocation: /tree?\r\n"
	    "Content-Length: 0\r\n\r\n";
	static const char chunked[] =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
	static const char noclen[] = "HTTP/1.0 403 Forbidden\r\n\r\nnope";

	(void)state;
	memset(&h, 0, sizeof(h));
	/* Partial answers need more bytes. */
	assert_int_equal(jc_httpcheck_parse(ok, 20, 0, &h), 0);
	assert_int_equal(jc_httpcheck_parse(ok, sizeof(ok) - 3, 0, &h), 0);
	assert_int_equal(jc_httpcheck_parse(ok, sizeof(ok) - 1, 0, &h), 1);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.body, "{\"version\": \"1.23.3\"}");
	jc_httpcheck_free(&h);
	assert_int_equal(jc_httpcheck_parse(redir, sizeof(redir) - 1, 0, &h),
	    1);
	assert_int_equal(h.status, 302);
	assert_string_equal(h.location, "/tree?");
	jc_httpcheck_free(&h);
	assert_int_equal(jc_httpcheck_parse(chunked, sizeof(chunked) - 1, 0,
	    &h), 1);
	assert_string_equal(h.body, "abcdefg");
	jc_httpcheck_free(&h);
	assert_int_equal(jc_httpcheck_parse(noclen, sizeof(noclen) - 1, 0,
	    &h), 0);
	assert_int_equal(jc_httpcheck_parse(noclen, sizeof(noclen) - 1, 1,
	    &h), 1);
	assert_int_equal(h.status, 403);
	assert_string_equal(h.body, "nope");
	jc_httpcheck_free(&h);
	jc_httpcheck_free(&h);
	jc_httpcheck_free(NULL);
	assert_int_equal(jc_httpcheck_parse("SSH-2.0-OpenSSH\r\n", 17, 0, &h),
	    JC_ERR_PROTO);
	assert_int_equal(jc_httpcheck_parse("HTTP/1.1 abc\r\n\r\n", 16, 1, &h),
	    JC_ERR_PROTO);
	assert_int_equal(jc_httpcheck_parse("HTTP/1.1 200 OK\r\n"
	    "Content-Length: x\r\n\r\n", 38, 0, &h), JC_ERR_PROTO);
	assert_int_equal(jc_httpcheck_parse("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 51, 1, &h),
	    JC_ERR_PROTO);
}

static int
teardown_all(void **state)
{
	(void)state;
	jc_jupyter_log_fini();
	return 0;
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_log_not_announcements),
		cmocka_unit_test(test_log_tail_only),
		cmocka_unit_test(test_log_machine_name),
		cmocka_unit_test(test_log_junk),
		cmocka_unit_test(test_log_many_lines),
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_json_runtime_files),
		cmocka_unit_test(test_json_lists),
		cmocka_unit_test(test_json_bad),
		cmocka_unit_test(test_json_limit),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_log_hostile),
		cmocka_unit_test(test_log_safe),
		cmocka_unit_test(test_url_build),
		cmocka_unit_test(test_http_parse),
	};
	size_t nlog = sizeof(logcases) / sizeof(logcases[0]);
	size_t nfix = sizeof(fixed) / sizeof(fixed[0]), i;
	struct CMUnitTest *t;
	char (*names)[64];
	int rc;

	t = calloc(nlog + nfix, sizeof(*t));
	names = calloc(nlog, sizeof(*names));
	if (t == NULL || names == NULL)
		return 1;
	for (i = 0; i < nlog; i++) {
		snprintf(names[i], sizeof(names[i]), "log_%s",
		    logcases[i].file);
		t[i].name = names[i];
		t[i].test_func = test_log_one;
		t[i].initial_state = (void *)(uintptr_t)&logcases[i];
	}
	memcpy(t + nlog, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("jupyter", t, nlog + nfix, NULL,
	    teardown_all);
	free(names);
	free(t);
	return rc;
}
