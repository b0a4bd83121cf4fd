/*
 * browser.c - $BROWSER, xdg-open or open, started detached on a private
 * page that redirects to the notebook: the URL holds the token, and a
 * browser's command line is readable by every local user (ps).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "compat.h"
#include "coredump.h"
#include "jc_plugin.h"
#include "log.h"
#include "state.h"

#define MAX_ARGS 32

/* Is prog runnable (absolute path, or found on PATH)? */
static int
runnable(const char *prog)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, prog);
		if (access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

/*
 * Start argv detached (double fork, so no zombie and no tie to our
 * terminal's job control).  Returns 0 when the exec succeeded.
 */
static int
spawn_detached(char *const argv[])
{
	int pfd[2], status, err = 0;
	pid_t pid, gc;
	ssize_t n;

	if (pipe(pfd) != 0)
		return -1;
	fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		if ((gc = fork()) != 0)
			_exit(gc == -1);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		/* Nothing of ours but the pipe that reports a failed exec. */
		if (pfd[1] != 3 && dup2(pfd[1], 3) == 3) {
			pfd[1] = 3;
			fcntl(3, F_SETFD, FD_CLOEXEC);
		}
		jc_close_from(pfd[1] + 1);
		signal(SIGPIPE, SIG_DFL);
		jc_coredump_restore();
		execvp(argv[0], argv);
		err = errno;
		(void)!write(pfd[1], &err, sizeof(err));
		_exit(127);
	}
	close(pfd[1]);
	waitpid(pid, &status, 0);
	/* The exec error, if any, arrives on the pipe; EOF means success. */
	n = read(pfd[0], &err, sizeof(err));
	close(pfd[0]);
	return n == (ssize_t)sizeof(err) ? -1 : 0;
}

/* Run one $BROWSER entry: split on spaces, substitute %s. */
static int
run_entry(const char *entry, const char *url)
{
	char *copy, *tok, *save, *argv[MAX_ARGS + 2];
	int n = 0, used = 0, r;

	if ((copy = strdup(entry)) == NULL)
		return -1;
	for (tok = strtok_r(copy, " \t", &save); tok != NULL && n < MAX_ARGS;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (strcmp(tok, "%s") == 0) {
			argv[n++] = (char *)url;
			used = 1;
		} else
			argv[n++] = tok;
	}
	if (n == 0 || !runnable(argv[0])) {
		free(copy);
		return -1;
	}
	if (!used)
		argv[n++] = (char *)url;
	argv[n] = NULL;
	r = spawn_detached(argv);
	free(copy);
	return r;
}

/* Append s to the page, escaped for an HTML attribute. */
static void
html_escape(char *out, size_t n, const char *s)
{
	size_t len = strlen(out);
	const char *e;

	for (; *s != '\0' && len + 7 < n; s++) {
		switch (*s) {
		case '&':	e = "&amp;"; break;
		case '<':	e = "&lt;"; break;
		case '>':	e = "&gt;"; break;
		case '"':	e = "&quot;"; break;
		case '\'':	e = "&#39;"; break;
		default:	out[len++] = *s; continue;
		}
		memcpy(out + len, e, strlen(e));
		len += strlen(e);
	}
	out[len] = '\0';
}

/*
 * The page: a meta refresh and a script, both to the link's target, so
 * the URL is written once, escaped.
 */
static int
page(char *out, size_t n, const char *url)
{
	char esc[6 * 1200 + 1] = "";	/* '"' -> "&quot;" */

	if (strlen(url) > 1200)
		return -1;
	html_escape(esc, sizeof(esc), url);
	return snprintf(out, n,
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"refresh\" content=\"0;url=%s\">\n"
	    "<title>jconnect</title></head>\n"
	    "<body><p>Opening <a id=\"u\" href=\"%s\">the notebook</a>.</p>\n"
	    "<script>location.replace(document.getElementById(\"u\").href)"
	    "</script></body></html>\n", esc, esc) >= (int)n ? -1 : 0;
}

/* file:// URL of path, with anything unusual percent-encoded. */
static void
file_url(char *out, size_t n, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len;

	snprintf(out, n, "file://");
	for (len = strlen(out); *path != '\0' && len + 4 < n; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/-._~@", c) != NULL)
			out[len++] = (char)c;
		else {
			out[len++] = '%';
			out[len++] = hex[c >> 4];
			out[len++] = hex[c & 15];
		}
	}
	out[len] = '\0';
}

/* Start the first browser that runs, on `what`. */
static int
start(const char *what)
{
	const char *env = getenv("BROWSER");
	static const char *fallback[] = { "xdg-open", "open" };
	char *list, *entry, *save;
	size_t i;

	if (env != NULL && *env != '\0') {
		if ((list = strdup(env)) == NULL)
			return JC_ERR_NOMEM;
		for (entry = strtok_r(list, ":", &save); entry != NULL;
		    entry = strtok_r(NULL, ":", &save))
			if (run_entry(entry, what) == 0) {
				jc_verbose("opened the browser with %s", entry);
				free(list);
				return 0;
			}
		free(list);
	}
	for (i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
		if (run_entry(fallback[i], what) == 0) {
			jc_verbose("opened the browser with %s", fallback[i]);
			return 0;
		}
	jc_warn("no browser found ($BROWSER, xdg-open, open): open the URL "
	    "above yourself");
	return JC_ERR_UNSUPPORTED;
}

int
jc_browser_open(const char *target, const char *url)
{
	char html[2 * 6 * 1200 + 512], path[1400], furl[3 * 1400 + 16];
	int r;

	if (page(html, sizeof(html), url) != 0)
		return JC_ERR_INTERNAL;
	if (jc_state_dir() == NULL) {
		jc_warn("not opening the browser (%s): open the URL above "
		    "yourself", jc_state_why());
		jc_wipe(html, sizeof(html));
		return JC_ERR_IO;
	}
	r = jc_state_put(target, ".html", html, strlen(html), path,
	    sizeof(path));
	jc_wipe(html, sizeof(html));
	if (r != 0) {
		jc_warn("not opening the browser: open the URL above yourself");
		return r;
	}
	file_url(furl, sizeof(furl), path);
	if ((r = start(furl)) != 0)
		jc_state_unlink(target, ".html");
	return r;
}
