/*
 * jupyter.c - find, start, stop and check Jupyter on the remote through an
 * access plugin's exec (one POSIX sh script per step, fed on stdin so
 * nothing secret is ever in a remote argv), and build the browser URL.
 *
 * Wire format of the scripts' stdout: sections that start with a line
 * "@@<nonce> <word> <args...>".  The nonce is random per call, so no file
 * content can forge a section.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "err.h"
#include "httpcheck.h"
#include "jc_plugin.h"
#include "jupyter.h"
#include "log.h"
#include "loop.h"
#include "rscript.h"
#include "user_guess.h"

#define EXEC_TIMEOUT_MS		40000	/* discovery: jupyter may hang 8 s x3 */
#define START_WAIT_MS		60000	/* readiness default */
#define STOP_TIMEOUT_MS		30000
#define VERIFY_STEP_MS		10000
#define CAND_MAX		(2 * JC_JUPYTER_MAX)

/* ---- remote scripts --------------------------------------------------- */

/* The scripts are sh/NAME.sh, made C strings by the build (Makefile). */

/*
 * Shared helpers: section marker M; alive PID for a pid read from a file
 * (a zombie is dead; a live pid must look like Jupyter, or a recycled
 * pid would pass); child PID for the script's own background job, which
 * shows the shell's command line until it has exec'd.
 */
static const char sh_common[] =
#include "core/jupyter/sh/common.sh.inc"
;

/*
 * Discovery: runtime files of live pids (newest first), the list
 * commands only when no file was live, the log lines that matter (grep,
 * so a 50 MB log costs one pass), and jconnect's own server.
 */
static const char sh_discover[] =
#include "core/jupyter/sh/discover.sh.inc"
;

/*
 * Start: pick lab > notebook > server, make a token from the remote's
 * /dev/urandom (the script itself may be visible on the remote, see
 * jc_plugin.h) and hand it over in a 0600 file (JUPYTER_TOKEN_FILE: the
 * log then shows "...", ps shows nothing), detach, record the pid, wait
 * for the runtime file, check the server took the token.
 */
static const char sh_start[] =
#include "core/jupyter/sh/start.sh.inc"
;

/* Stop only the server whose environment names our token file. */
static const char sh_stop[] =
#include "core/jupyter/sh/stop.sh.inc"
;

/* ---- helpers ------------------------------------------------------------ */

/* Copy at most len bytes of src (stopping at NUL) into dst, truncating. */
static void
scopy(char *dst, size_t n, const char *src, size_t len)
{
	size_t l = strnlen(src, len);

	if (n == 0)
		return;
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* A growable string for building scripts; secrets get wiped on free. */
struct sb {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	char *np;
	size_t nc;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		nc = (b->len + n + 1) * 2;
		if ((np = malloc(nc)) == NULL) {
			b->err = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			jc_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* name='value' with sh single-quote escaping; "~/" becomes "$HOME"/. */
static void
sb_var(struct sb *b, const char *name, const char *val)
{
	const char *p;

	sb_str(b, name);
	sb_str(b, "=");
	if (val == NULL)
		val = "";
	if (strncmp(val, "~/", 2) == 0) {
		sb_str(b, "\"$HOME\"/");
		val += 2;
	}
	sb_str(b, "'");
	for (p = val; *p != '\0'; p++) {
		if (*p == '\'')
			sb_str(b, "'\\''");
		else
			sb_add(b, p, 1);
	}
	sb_str(b, "'\n");
}

static void
sb_free(struct sb *b)
{
	if (b->p != NULL) {
		jc_wipe(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/*
 * The command that picks the user when none was given (over SSM, where
 * the login user is ssm-user): the owner of a running Jupyter process
 * (not root unless only root runs one), else the guess G, else, when G
 * does not exist there, the first regular user (uid 1000, the one cloud
 * images create).  It says whom it chose in an "owner USER WHY PID"
 * section, then runs the script as that user.  No "jupyter" literal, so
 * it never matches itself.
 */
static const char sh_owner[] =
"G=%s U= P= R=; "
"for p in $(pgrep -f '[j]upyter' 2>/dev/null || "
    "ps -eo pid=,args= 2>/dev/null | awk '/[j]upyter/ {print $1}'); do "
"o=$(stat -c %%U /proc/$p 2>/dev/null); "
"case $o in root) [ -n \"$R\" ] || R=$p ;; "
    "''|UNKNOWN|*[!A-Za-z0-9._-]*) ;; *) U=$o P=$p; break ;; esac; "
"done; "
"W=owner; [ -n \"$U\" ] || { [ -n \"$R\" ] && U=root P=$R; }; "
"if [ -z \"$U\" ]; then W=guess U=$G; id -u \"$U\" >/dev/null 2>&1 || "
    "{ o=$(awk -F: '$3 == 1000 {print $1; exit}' /etc/passwd 2>/dev/null); "
    "[ -n \"$o\" ] && U=$o W=uid1000; }; fi; "
"printf '\\n@@%%s owner %%s %%s %%s\\n' %s \"$U\" \"$W\" \"$P\"; "
JC_RS_AS("\"$U\"", "sh -s");

/*
 * Run a script (prelude + common + body) in the remote login shell,
 * through sudo when run_as is set and is not the session's user; when
 * run_as is only jconnect's guess, as whoever runs Jupyter (sh_owner).
 * The script travels on stdin.
 */
static int
run_script(const struct jc_plugin *p, struct jc_sess *s, const char *run_as,
    const char *nonce, struct sb *script, int timeout_ms, const char *what,
    struct jc_exec_result *res)
{
	const char *guess = jc_user_guessed();
	char cmd[1024];
	int r;

	if (script->err)
		return JC_ERR_NOMEM;
	if (run_as != NULL && *run_as != '\0' && !jc_rs_user_ok(run_as)) {
		jc_error("cannot run Jupyter commands as \"%s\": "
		    "not a user name", run_as);
		return JC_ERR_USAGE;
	}
	if (run_as != NULL && *run_as != '\0' && guess != NULL &&
	    strcmp(guess, run_as) == 0) {
		if (snprintf(cmd, sizeof(cmd), sh_owner, run_as,
		    nonce) >= (int)sizeof(cmd))
			return JC_ERR_INTERNAL;
	} else if (jc_rs_command(cmd, sizeof(cmd), run_as, NULL, 0, NULL) != 0)
		return JC_ERR_INTERNAL;
	memset(res, 0, sizeof(*res));
	jc_debug("jupyter: %s on the remote (%s)", what, cmd);
	if ((r = p->exec(s, cmd, script->p, script->len, timeout_ms, res)) != 0) {
		jc_error("jupyter: %s on the remote failed: %s", what,
		    r == JC_ERR_TIMEOUT ? "no answer in time" : jc_strerror(r));
		return r;
	}
	return 0;
}

/* -v: whom sh_owner chose, and why ("USER WHY PID"). */
static void
say_owner(const char *args)
{
	char user[64] = "", why[16] = "", pid[16] = "";

	if (sscanf(args, "%63s %15s %15s", user, why, pid) < 2)
		return;
	if (strcmp(why, "owner") == 0)
		jc_verbose("jupyter: searching as %s, who runs Jupyter on the "
		    "remote (pid %s); no user was given", user, pid);
	else if (strcmp(why, "uid1000") == 0)
		jc_verbose("jupyter: searching as %s, the first regular user "
		    "on the remote (no Jupyter runs, and %s does not exist "
		    "there)", user, jc_user_guessed());
	else
		jc_verbose("jupyter: searching as %s (no Jupyter process runs "
		    "on the remote; no user was given)", user);
}

/* ---- discovery ---------------------------------------------------------- */

struct found {
	struct jc_jupyter	*c;		/* candidates, best first */
	size_t			 n;
	struct jc_jupyter	 log;		/* what the logs announced */
	int			 have_log;
	int			 stale;		/* dead runtime files seen */
	int			 hang;		/* `jupyter` did not answer */
	int			 no_jupyter;	/* no jupyter on PATH */
	int			 complete;	/* the script ran to its end */
	long			 ours;		/* pid of our server, 0 none */
	char			 user[64];	/* remote user */
	char			 nolog[256];	/* --jupyter-log not readable */
};

static int
by_pid_desc(const void *a, const void *b)
{
	const struct jc_jupyter *x = a, *y = b;

	return (x->pid < y->pid) - (x->pid > y->pid);
}

static int
same_server(const struct jc_jupyter *a, const struct jc_jupyter *b)
{
	if (a->pid != 0 && b->pid != 0)
		return a->pid == b->pid;
	return a->port == b->port && strcmp(a->sock, b->sock) == 0;
}

static void
parse_output(const char *out, size_t len, const char *nonce, struct found *f)
{
	struct jc_rs_section sec;
	struct jc_jupyter lg;
	char src[64];
	size_t off = 0, before, i, k;
	int dup;

	while (jc_rs_next_section(out, len, nonce, &off, &sec)) {
		if (strcmp(sec.word, "file") == 0 ||
		    strcmp(sec.word, "list") == 0) {
			if (strcmp(sec.word, "file") == 0) {
				scopy(src, sizeof(src), sec.args,
				    strcspn(sec.args, " "));
			} else
				snprintf(src, sizeof(src), "jupyter %.16s list",
				    sec.args);
			before = f->n;
			if (jc_jupyter_json_parse(sec.body, sec.bodylen, src,
			    f->c, CAND_MAX, &f->n) != 0 &&
			    strcmp(sec.word, "file") == 0)
				jc_verbose("jupyter: %s on the remote is not "
				    "valid JSON; skipped", src);
			if (strcmp(sec.word, "list") == 0 && f->n > before)
				qsort(f->c + before, f->n - before,
				    sizeof(f->c[0]), by_pid_desc);
			/* A list repeats what the files said: drop dups. */
			for (i = before; i < f->n;) {
				for (dup = 0, k = 0; k < before; k++)
					if (same_server(&f->c[k], &f->c[i]))
						dup = 1;
				if (!dup) {
					i++;
					continue;
				}
				jc_jupyter_clear(&f->c[i]);
				memmove(&f->c[i], &f->c[i + 1],
				    (f->n - i - 1) * sizeof(f->c[0]));
				f->n--;
			}
		} else if (strcmp(sec.word, "log") == 0) {
			if (jc_jupyter_log_parse(sec.body, sec.bodylen, &lg) ==
			    0) {
				jc_jupyter_clear(&f->log);
				f->log = lg;
				snprintf(f->log.source, sizeof(f->log.source),
				    "log %.58s", sec.args);
				f->have_log = 1;
				jc_jupyter_clear(&lg);
			} else
				jc_verbose("jupyter: the log %s announces no "
				    "running server", sec.args);
		} else if (strcmp(sec.word, "stale") == 0)
			f->stale += atoi(sec.args);
		else if (strcmp(sec.word, "hang") == 0) {
			f->hang = 1;
			jc_warn("jupyter: `%s` on the remote did not answer "
			    "within 8 s; skipped", sec.args);
		} else if (strcmp(sec.word, "jupyter") == 0)
			f->no_jupyter = sec.args[0] == '\0';
		else if (strcmp(sec.word, "ours") == 0)
			f->ours = atol(sec.args);
		else if (strcmp(sec.word, "owner") == 0)
			say_owner(sec.args);
		else if (strcmp(sec.word, "id") == 0)
			scopy(f->user, sizeof(f->user), strchr(sec.args, ' ') ?
			    strchr(sec.args, ' ') + 1 : sec.args, SIZE_MAX);
		else if (strcmp(sec.word, "nolog") == 0)
			scopy(f->nolog, sizeof(f->nolog), sec.args, SIZE_MAX);
		else if (strcmp(sec.word, "end") == 0)
			f->complete = 1;
	}
}

static void
found_free(struct found *f)
{
	size_t i;

	if (f->c != NULL) {
		for (i = 0; i < CAND_MAX; i++)
			jc_jupyter_clear(&f->c[i]);
		free(f->c);
	}
	jc_jupyter_clear(&f->log);
	memset(f, 0, sizeof(*f));
}

static void
say_none(const struct jc_jupyter_req *req, const struct found *f)
{
	char stale[64] = "";

	if (f->stale > 0)
		snprintf(stale, sizeof(stale), " (%d stale runtime file%s "
		    "skipped)", f->stale, f->stale == 1 ? "" : "s");
	if (f->no_jupyter && f->n == 0 && !f->have_log)
		jc_error("no Jupyter server runs on the remote%s and "
		    "`jupyter` is not on the PATH of %s's login shell: "
		    "install it, or start one yourself", stale,
		    f->user[0] ? f->user : "the remote user");
	else if (req->want_port > 0 && f->n > 0)
		jc_error("no Jupyter server on remote port %d (%zu other%s "
		    "running, see -v): drop --jupyter-port, or add "
		    "--start-jupyter to start one on port %d",
		    req->want_port, f->n, f->n == 1 ? "" : "s",
		    req->want_port);
	else
		jc_error("no Jupyter server runs on the remote%s: add "
		    "--start-jupyter to start one, or --jupyter-log FILE "
		    "if it was started with a custom runtime dir", stale);
}

/* Discovery proper; *none = 1 when nothing matched (start may help). */
static int
discover(const struct jc_plugin *p, struct jc_sess *s,
    const struct jc_jupyter_req *req, int quiet, struct jc_jupyter *out,
    int *none)
{
	struct jc_exec_result res;
	struct found f;
	struct sb sc;
	char nonce[17], desc[512], first[160];
	const struct jc_jupyter *pick = NULL;
	size_t i;
	int r = JC_ERR_INTERNAL, ran = 0, unix_skipped = 0;

	*none = 0;
	memset(&f, 0, sizeof(f));
	memset(&sc, 0, sizeof(sc));
	memset(&res, 0, sizeof(res));
	if ((f.c = calloc(CAND_MAX, sizeof(*f.c))) == NULL)
		return JC_ERR_NOMEM;
	if (jc_rs_nonce(nonce, sizeof(nonce)) != 0) {
		r = JC_ERR_INTERNAL;
		goto out;
	}
	sb_var(&sc, "N", nonce);
	sb_var(&sc, "LOGF", req->log_file);
	sb_str(&sc, "exec 2>/dev/null\n");
	sb_str(&sc, sh_common);
	sb_str(&sc, sh_discover);
	if ((r = run_script(p, s, req->run_as, nonce, &sc, EXEC_TIMEOUT_MS,
	    "discovery", &res)) != 0)
		goto out;
	ran = 1;
	parse_output(res.out, res.outlen, nonce, &f);
	if (!f.complete) {
		snprintf(first, sizeof(first), "%.*s",
		    (int)strcspn(res.err ? res.err : "", "\r\n"),
		    res.err ? res.err : "");
		jc_error("jupyter: the discovery script did not finish on the "
		    "remote (exit %d%s%s)%s", res.status, first[0] ? ": " : "",
		    first, req->run_as ? ": can the login user run "
		    "`sudo -n -u USER -i`?" : "");
		r = JC_ERR_JUPYTER;
		goto out;
	}
	if (f.nolog[0] != '\0')
		jc_warn("jupyter: cannot read the log %s on the remote",
		    f.nolog);
	/* The log fills in what JSON lacks, or stands in for it. */
	if (f.have_log) {
		for (i = 0; i < f.n; i++) {
			if (!same_server(&f.c[i], &f.log) ||
			    f.c[i].default_path[0] != '\0')
				continue;
			memcpy(f.c[i].default_path, f.log.default_path,
			    sizeof(f.c[i].default_path));
		}
		if (f.n == 0)
			f.c[f.n++] = f.log;
	}
	for (i = 0; i < f.n; i++)
		if (f.ours != 0 && f.c[i].pid == f.ours)
			f.c[i].started = 1;
	/* Choose: the wanted port, else the first (newest); not a socket
	 * the method cannot reach when a TCP one exists. */
	for (i = 0; i < f.n && pick == NULL; i++) {
		if (req->want_port > 0 && f.c[i].port != req->want_port)
			continue;
		if (f.c[i].sock[0] != '\0' && !req->can_unix) {
			unix_skipped++;
			continue;
		}
		pick = &f.c[i];
	}
	if (pick == NULL && unix_skipped > 0) {
		for (i = 0; i < f.n; i++)
			if (f.c[i].sock[0] != '\0')
				break;
		jc_error("the Jupyter server on the remote listens on the "
		    "Unix socket %s, which this access method cannot "
		    "forward: use --via ssh, or restart Jupyter with "
		    "--port instead of --sock", f.c[i].sock);
		r = JC_ERR_JUPYTER;
		goto out;
	}
	for (i = 0; i < f.n; i++) {
		jc_jupyter_describe(&f.c[i], desc, sizeof(desc));
		if (&f.c[i] == pick)
			jc_verbose("jupyter: using %s", desc);
		else
			jc_verbose("jupyter: also running: %s", desc);
	}
	if (pick == NULL) {
		*none = 1;
		if (!quiet)
			say_none(req, &f);
		r = JC_ERR_JUPYTER;
		goto out;
	}
	if (pick->token_masked && pick->token[0] == '\0')
		jc_warn("jupyter: the log hides the token (it was set in the "
		    "config or JUPYTER_TOKEN) and no runtime file shows it: "
		    "the browser opens the login page, enter the token there");
	*out = *pick;
	r = 0;
 out:
	if (ran)
		p->exec_free(&res);
	sb_free(&sc);
	found_free(&f);
	return r;
}

int
jc_jupyter_discover(const struct jc_plugin *p, struct jc_sess *s,
    const struct jc_jupyter_req *req, int quiet, struct jc_jupyter *out)
{
	int none;

	return discover(p, s, req, quiet, out, &none);
}

int
jc_jupyter_find(const struct jc_plugin *p, struct jc_sess *s,
    const struct jc_jupyter_req *req, struct jc_jupyter *out)
{
	int none = 0, r;

	r = discover(p, s, req, req->start, out, &none);
	if (r == JC_ERR_JUPYTER && none && req->start)
		r = jc_jupyter_start(p, s, req, out);
	return r;
}

/* ---- start / stop ------------------------------------------------------- */

int
jc_jupyter_start(const struct jc_plugin *p, struct jc_sess *s,
    const struct jc_jupyter_req *req, struct jc_jupyter *out)
{
	struct jc_exec_result res;
	struct jc_jupyter got[4];
	struct jc_rs_section sec;
	struct sb sc;
	char nonce[17], num[16], app[16] = "", tail[2048] = "";
	char desc[512];
	size_t off = 0, n = 0, i;
	int r = JC_ERR_INTERNAL, ran = 0, wait_ms, ready = 0, died = 0;
	int timedout = 0, nojup = 0, noapp = 0, notoken = 0;
	int64_t t0;

	memset(&sc, 0, sizeof(sc));
	memset(&res, 0, sizeof(res));
	memset(got, 0, sizeof(got));
	wait_ms = req->timeout_ms > 0 ? req->timeout_ms : START_WAIT_MS;
	if (jc_rs_nonce(nonce, sizeof(nonce)) != 0) {
		r = JC_ERR_INTERNAL;
		goto out;
	}
	sb_var(&sc, "N", nonce);
	snprintf(num, sizeof(num), "%d", req->want_port > 0 ?
	    req->want_port : 8888);
	sb_var(&sc, "PORT", num);
	sb_var(&sc, "RETRIES", req->want_port > 0 ? "0" : "50");
	snprintf(num, sizeof(num), "%d", (wait_ms + 199) / 200);
	sb_var(&sc, "WAIT", num);
	sb_str(&sc, sh_common);
	sb_str(&sc, sh_start);
	if (req->want_port > 0)
		jc_info("starting Jupyter on the remote (port %d); waiting "
		    "up to %d s for it", req->want_port, wait_ms / 1000);
	else
		jc_info("starting Jupyter on the remote; waiting up to %d s "
		    "for it", wait_ms / 1000);
	t0 = jc_now_ms();
	if ((r = run_script(p, s, req->run_as, nonce, &sc, wait_ms + 20000,
	    "start", &res)) != 0)
		goto out;
	ran = 1;
	while (jc_rs_next_section(res.out, res.outlen, nonce, &off, &sec)) {
		if (strcmp(sec.word, "file") == 0) {
			sec.args[strcspn(sec.args, " ")] = '\0';
			if (jc_jupyter_json_parse(sec.body, sec.bodylen,
			    sec.args, got, 1, &n) == 0)
				ready = 1;
		} else if (strcmp(sec.word, "log") == 0 && n == 1) {
			struct jc_jupyter lg;

			if (jc_jupyter_log_parse(sec.body, sec.bodylen,
			    &lg) == 0 && lg.port == got[0].port &&
			    got[0].default_path[0] == '\0')
				memcpy(got[0].default_path, lg.default_path,
				    sizeof(got[0].default_path));
			jc_jupyter_clear(&lg);
		} else if (strcmp(sec.word, "pid") == 0)
			snprintf(app, sizeof(app), "%s",
			    strchr(sec.args, ' ') ? strchr(sec.args, ' ') + 1 :
			    "");
		else if (strcmp(sec.word, "died") == 0)
			died = 1;
		else if (strcmp(sec.word, "timeout") == 0)
			timedout = 1;
		else if (strcmp(sec.word, "nojupyter") == 0)
			nojup = 1;
		else if (strcmp(sec.word, "noapp") == 0)
			noapp = 1;
		else if (strcmp(sec.word, "notoken") == 0)
			notoken = 1;
		else if (strcmp(sec.word, "owner") == 0)
			say_owner(sec.args);
		else if (strcmp(sec.word, "logtail") == 0)
			snprintf(tail, sizeof(tail), "%.*s",
			    (int)sec.bodylen, sec.body);
		else if (strcmp(sec.word, "err") == 0) {
			jc_error("cannot start Jupyter on the remote: %s",
			    sec.args);
			r = JC_ERR_JUPYTER;
			goto out;
		}
	}
	r = JC_ERR_JUPYTER;
	if (nojup) {
		jc_error("cannot start Jupyter: `jupyter` is not on the PATH "
		    "of the remote login shell (install it, e.g. "
		    "`pip install jupyterlab`, or activate its environment "
		    "in ~/.profile)");
		goto out;
	}
	if (noapp) {
		jc_error("cannot start Jupyter: `jupyter` is there but none of "
		    "`jupyter lab`, `jupyter notebook`, `jupyter server` is "
		    "installed on the remote");
		goto out;
	}
	if (!ready && (strstr(tail, "already in use") != NULL ||
	    strstr(tail, "is not available") != NULL)) {
		jc_error("cannot start Jupyter: remote port %d is already in "
		    "use; pick another with --jupyter-port",
		    req->want_port > 0 ? req->want_port : 8888);
		goto out;
	}
	if (!ready) {
		char last[320] = "", *line, *save = NULL;

		for (line = strtok_r(tail, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			jc_verbose("jupyter log: %s", line);
			if (line[strspn(line, " \t\r")] != '\0')
				scopy(last, sizeof(last), line, SIZE_MAX);
		}
		jc_error("jupyter %s on the remote %s%s%s; its log is "
		    "~/.jconnect/jupyter.log on the remote", app[0] ? app : "",
		    died ? "exited during start-up" : timedout ?
		    "was not ready in time and was stopped" :
		    "did not start", last[0] ? "; last log line: " : "", last);
		goto out;
	}
	/* The token is ours, not one the server made up and logged. */
	if (notoken) {
		jc_error("jupyter %s on the remote did not take the token "
		    "jconnect gave it (JUPYTER_TOKEN_FILE ignored?)", app);
		goto out;
	}
	got[0].started = 1;
	jc_jupyter_describe(&got[0], desc, sizeof(desc));
	jc_info("Jupyter (jupyter %s) is up on the remote after %.1f s",
	    app, (double)(jc_now_ms() - t0) / 1000.0);
	jc_verbose("jupyter: started %s", desc);
	*out = got[0];
	r = 0;
 out:
	if (ran)
		p->exec_free(&res);
	for (i = 0; i < sizeof(got) / sizeof(got[0]); i++)
		jc_jupyter_clear(&got[i]);
	jc_wipe(tail, sizeof(tail));
	sb_free(&sc);
	return r;
}

int
jc_jupyter_stop(const struct jc_plugin *p, struct jc_sess *s,
    const char *run_as)
{
	struct jc_exec_result res;
	struct jc_rs_section sec;
	struct sb sc;
	char nonce[17];
	size_t off = 0;
	int r, ran = 0, done = 0;

	memset(&sc, 0, sizeof(sc));
	memset(&res, 0, sizeof(res));
	if (jc_rs_nonce(nonce, sizeof(nonce)) != 0) {
		r = JC_ERR_INTERNAL;
		goto out;
	}
	sb_var(&sc, "N", nonce);
	sb_str(&sc, sh_common);
	sb_str(&sc, sh_stop);
	if ((r = run_script(p, s, run_as, nonce, &sc, STOP_TIMEOUT_MS, "stop",
	    &res)) != 0)
		goto out;
	ran = 1;
	r = JC_ERR_JUPYTER;
	while (jc_rs_next_section(res.out, res.outlen, nonce, &off, &sec)) {
		if (strcmp(sec.word, "none") == 0) {
			jc_info("no Jupyter server started by jconnect on the "
			    "remote; nothing to stop");
			done = 1;
		} else if (strcmp(sec.word, "gone") == 0) {
			jc_info("the Jupyter server jconnect started (pid %s) "
			    "had already exited", sec.args);
			done = 1;
		} else if (strcmp(sec.word, "notours") == 0) {
			jc_error("pid %s from ~/.jconnect/jupyter.pid on the "
			    "remote is not the Jupyter server jconnect "
			    "started; left alone", sec.args);
			goto out;
		} else if (strcmp(sec.word, "stopped") == 0) {
			jc_info("stopped Jupyter on the remote (pid %s)",
			    sec.args);
			done = 1;
		} else if (strcmp(sec.word, "killed") == 0) {
			jc_warn("Jupyter on the remote (pid %s) ignored "
			    "SIGTERM for 10 s and was killed", sec.args);
			done = 1;
		}
	}
	if (!done) {
		jc_error("jupyter: the stop script did not finish on the "
		    "remote (exit %d)", res.status);
		goto out;
	}
	r = 0;
 out:
	if (ran)
		p->exec_free(&res);
	sb_free(&sc);
	return r;
}

/* ---- verification through the tunnel ----------------------------------- */

/* Learn the default page from a redirect of <base_url>. */
static void
learn_default(struct jc_jupyter *j, const char *loc)
{
	const char *p = loc, *seg;
	size_t bl = strlen(j->base_url), sl;

	/* Absolute Location: skip scheme://host */
	if ((seg = strstr(p, "://")) != NULL && seg < strchr(p, '/') + 1) {
		if ((p = strchr(seg + 3, '/')) == NULL)
			return;
	}
	if (strncmp(p, j->base_url, bl) != 0)
		return;
	seg = p + bl;
	sl = strcspn(seg, "/?#");
	if (sl == 0 || sl + 2 > sizeof(j->default_path) ||
	    strncmp(seg, "login", sl) == 0)
		return;
	j->default_path[0] = '/';
	memcpy(j->default_path + 1, seg, sl);
	j->default_path[sl + 1] = '\0';
}

int
jc_jupyter_verify(int local_port, struct jc_jupyter *j, int timeout_ms)
{
	struct jc_httpcheck h;
	char path[sizeof(j->base_url) + 16], desc[512];
	int r, step, fast = 0;

	memset(&h, 0, sizeof(h));
	step = timeout_ms > 0 ? timeout_ms : VERIFY_STEP_MS;
	jc_jupyter_describe(j, desc, sizeof(desc));
	if (strcmp(j->scheme, "https") == 0) {
		jc_verbose("jupyter: %s uses https; checked by the browser "
		    "only", desc);
		return 0;
	}
	/*
	 * 0. The usual case in one round trip (each is one over the tunnel,
	 * 100 ms and more to a distant region): the token we know accepted
	 * by api/status proves the forward and the token at once; steps 1
	 * and 3 then only run to explain a failure.
	 */
	if (j->token[0] != '\0') {
		snprintf(path, sizeof(path), "%sapi/status", j->base_url);
		r = jc_httpcheck_get((uint16_t)local_port, path, j->token,
		    step, &h);
		if (r == JC_ERR_INTR)
			return r;
		fast = r == 0 && h.status == 200 && h.body != NULL &&
		    strstr(h.body, "\"started\"") != NULL;
		jc_httpcheck_free(&h);
		if (fast) {
			j->no_auth = j->password_only = 0;
			goto page;
		}
	}
	/* 1. The forward reaches a Jupyter server. */
	snprintf(path, sizeof(path), "%sapi", j->base_url);
	r = jc_httpcheck_get((uint16_t)local_port, path, NULL, step, &h);
	if (r == JC_ERR_INTR)
		return r;
	if (r != 0) {
		jc_error("%s does not answer through the tunnel (%s): it may "
		    "have stopped; run jconnect again, or add "
		    "--start-jupyter", desc, r == JC_ERR_TIMEOUT ?
		    "no answer in time" : "connection closed");
		return JC_ERR_JUPYTER;
	}
	if (h.status != 200 || strstr(h.body, "\"version\"") == NULL) {
		jc_error("%s answers %sapi with HTTP %d, not the Jupyter API: "
		    "wrong port or base_url? (--jupyter-port N)", desc,
		    j->base_url, h.status);
		jc_httpcheck_free(&h);
		return JC_ERR_JUPYTER;
	}
	if (j->version[0] == '\0') {
		const char *v = strstr(h.body, "\"version\"");
		const char *q1 = v ? strchr(v + 9, '"') : NULL;
		const char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;

		if (q2 != NULL && (size_t)(q2 - q1 - 1) < sizeof(j->version))
			snprintf(j->version, sizeof(j->version), "%.*s",
			    (int)(q2 - q1 - 1), q1 + 1);
	}
	jc_httpcheck_free(&h);

 page:
	/* 2. The default page, when no log told us. */
	if (j->default_path[0] == '\0') {
		r = jc_httpcheck_get((uint16_t)local_port, j->base_url, NULL,
		    step, &h);
		if (r == JC_ERR_INTR)
			return r;
		if (r == 0) {
			if (h.status >= 300 && h.status < 400)
				learn_default(j, h.location);
			jc_httpcheck_free(&h);
		}
	}
	if (fast)
		return 0;

	/* 3. The token, or what the server wants instead. */
	snprintf(path, sizeof(path), "%sapi/status", j->base_url);
	r = jc_httpcheck_get((uint16_t)local_port, path,
	    j->token[0] ? j->token : NULL, step, &h);
	if (r == JC_ERR_INTR)
		return r;
	if (r != 0) {
		jc_error("%s stopped answering through the tunnel during the "
		    "token check; run jconnect again", desc);
		return JC_ERR_JUPYTER;
	}
	r = 0;
	if (j->token[0] != '\0') {
		if (h.status == 401 || h.status == 403) {
			jc_error("%s refused the token (HTTP %d): it was "
			    "probably restarted since it was found; run "
			    "jconnect again", desc, h.status);
			r = JC_ERR_JUPYTER;
		} else if (h.status != 200) {
			jc_error("%s answers %s with HTTP %d", desc, path,
			    h.status);
			r = JC_ERR_JUPYTER;
		}
	} else if (h.status == 200) {
		j->no_auth = 1;
		j->password_only = 0;
		jc_warn("%s asks for no token and no password: anyone who "
		    "can reach its port on the remote can use it", desc);
	} else if (j->token_masked) {
		j->no_auth = 0;
		jc_info("%s has a token set in its config that jconnect cannot "
		    "read: the browser opens the login page, enter the token "
		    "there", desc);
	} else {
		j->no_auth = 0;
		j->password_only = 1;
		jc_info("%s uses a password, not a token: the browser opens "
		    "its login page, a password is needed", desc);
	}
	jc_httpcheck_free(&h);
	return r;
}
