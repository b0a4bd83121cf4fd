/*
 * jupyter.h - find, start, stop and check the Jupyter server on the
 * remote (see shared jupyter.md).  Written once against an access
 * plugin's exec, so SSH and SSM behave the same.
 *
 * Flow for `open`: jc_jupyter_find() (discover, else start when asked) ->
 * listen and forward to jc_jupyter_dial() -> jc_jupyter_verify() through
 * the tunnel -> jc_jupyter_url() -> browser.
 */
#ifndef JC_JUPYTER_H
#define JC_JUPYTER_H

#include <stddef.h>

#include "jc_plugin.h"

#define JC_JUPYTER_MAX		32	/* servers one discovery keeps */

/* One Jupyter server as found on the remote. */
struct jc_jupyter {
	char	 scheme[8];		/* "http" or "https" */
	int	 port;			/* remote TCP port; 0 for a Unix socket */
	char	 host[64];		/* address to dial on the remote */
	char	 base_url[256];		/* "/" or "/jupyter/": ends with '/' */
	char	 default_path[16];	/* "/lab", "/tree", "/"; "" unknown */
	char	 token[160];		/* secret; "" when none is known */
	int	 password_only;		/* no token: the server wants a password */
	int	 token_masked;		/* the log hid the token ("...") */
	int	 no_auth;		/* the server asks for nothing */
	char	 sock[256];		/* Unix socket path; "" for TCP */
	char	 version[32];		/* server version when known */
	long	 pid;			/* server pid; 0 unknown */
	char	 kind[4];		/* "nb" (notebook <= 6), "jp" (server) */
	char	 source[64];		/* where found: "nbserver-12.json", ... */
	int	 started;		/* 1 when this jconnect started it */
};

/* What the caller wants from jc_jupyter_find(). */
struct jc_jupyter_req {
	int		 want_port;	/* --jupyter-port, 0 = any */
	const char	*log_file;	/* --jupyter-log FILE (remote), or NULL */
	const char	*run_as;	/* -l USER when not the login user, or NULL */
	int		 start;		/* --start-jupyter: start when none runs */
	int		 can_unix;	/* the method can forward to a Unix socket */
	int		 timeout_ms;	/* start: readiness budget, 0 = 60 s */
};

/*
 * Discover the running servers in one remote round trip (runtime JSON
 * files of live pids, then `jupyter server|notebook list`, then the log
 * file), and pick one: req->want_port, else the newest (the others are
 * listed at -v).  When none is found and req->start is set, start one
 * with jc_jupyter_start().  On success fills *out.  Errors:
 * JC_ERR_JUPYTER after one clear line (no server: names --start-jupyter;
 * Unix socket over a method that cannot forward it), or what p->exec
 * returned (JC_ERR_CLOSED, JC_ERR_TIMEOUT ...).
 */
int	jc_jupyter_find(const struct jc_plugin *p, struct jc_sess *s,
	    const struct jc_jupyter_req *req, struct jc_jupyter *out);

/*
 * Discovery alone (never starts a server).  Returns JC_ERR_JUPYTER when
 * none matches; it logs why only when `quiet` is 0.
 */
int	jc_jupyter_discover(const struct jc_plugin *p, struct jc_sess *s,
	    const struct jc_jupyter_req *req, int quiet, struct jc_jupyter *out);

/*
 * Start a server on the remote: `jupyter lab`, else `notebook`, else
 * `server`, bound to 127.0.0.1, port req->want_port (else 8888 and up),
 * with a token made here and handed over in a 0600 file (never argv),
 * logging to ~/.jconnect/jupyter.log, detached so it outlives us.  Waits
 * for readiness (a progress line on stderr) up to req->timeout_ms.
 * Fills *out (started = 1).  Returns 0, JC_ERR_JUPYTER after one line
 * (no jupyter on PATH, the server died: its log tail at -v), or an exec
 * error.
 */
int	jc_jupyter_start(const struct jc_plugin *p, struct jc_sess *s,
	    const struct jc_jupyter_req *req, struct jc_jupyter *out);

/*
 * Stop the server that jconnect started (pid file ~/.jconnect/
 * jupyter.pid), never another one.  Returns 0 when it stopped (or none
 * was running: said on stderr), JC_ERR_JUPYTER when the pid file names a
 * process that is not ours, or an exec error.
 */
int	jc_jupyter_stop(const struct jc_plugin *p, struct jc_sess *s,
	    const char *run_as);

/*
 * The address the forwarder dials on the remote: *hostp (borrowed from
 * j) and *portp; for a Unix socket *hostp is the socket path and *portp
 * is 0.
 */
void	jc_jupyter_dial(const struct jc_jupyter *j, const char **hostp,
	    int *portp);

/*
 * Check through the tunnel on 127.0.0.1:local_port before the browser
 * opens: GET <base_url>api (the forward works), GET <base_url> (learns
 * the default path when unknown), GET <base_url>api/status with the
 * token (the token works).  Runs the core loop, so the forwarder keeps
 * moving.  May refine j->default_path and j->no_auth.  Returns 0 (a
 * password-only server is fine: a line says a password is needed),
 * JC_ERR_JUPYTER after one line (403: token refused; no answer; not a
 * Jupyter server), or JC_ERR_INTR.
 */
int	jc_jupyter_verify(int local_port, struct jc_jupyter *j,
	    int timeout_ms);

/*
 * The browser URL: http://127.0.0.1:LOCAL<base_url><default>?token=T,
 * or the login page when no token is known.  Returns 0 or JC_ERR_INTERNAL
 * when buf (n bytes) is too small.  The result holds the token: never
 * log it.
 */
int	jc_jupyter_url(const struct jc_jupyter *j, int local_port, char *buf,
	    size_t n);

/* One line without secrets: "notebook 6.4.12 on port 8888 (nbserver-1.json)". */
void	jc_jupyter_describe(const struct jc_jupyter *j, char *buf, size_t n);

/* Wipe the token (jc_wipe). */
void	jc_jupyter_clear(struct jc_jupyter *j);

/* ---- parsers (jupyter_json.c, jupyter_log.c); pure, fuzzed ---------- */

/*
 * Parse runtime JSON files or `list --json` / `--jsonlist` output: any
 * sequence of JSON objects or arrays of objects.  Appends up to
 * max - *n servers to out[*n...], marking each with `source`; skips
 * values that are not server objects.  Returns 0, or JC_ERR_PROTO when
 * the text holds no server at all (malformed, truncated, empty).
 */
int	jc_jupyter_json_parse(const char *buf, size_t len, const char *source,
	    struct jc_jupyter *out, size_t max, size_t *n);

/*
 * Parse a Jupyter log (any generation in jupyter.md): the URL announced
 * after the last "is running at" banner, else the last URL line.  Fills
 * *out (token_masked when the log prints "...", password_only when the
 * URL has no token).  Returns 0, JC_ERR_JUPYTER when no server is
 * announced or the last one logged its shutdown.  NUL bytes and junk are
 * skipped.
 */
int	jc_jupyter_log_parse(const char *buf, size_t len,
	    struct jc_jupyter *out);

/*
 * Parse one announced URL (http, https, http+unix; hosts as in
 * jupyter.md incl. "(host or 127.0.0.1)" and bare IPv6) into *out.
 * Returns 0 or JC_ERR_PROTO.
 */
int	jc_jupyter_url_parse(const char *url, size_t len,
	    struct jc_jupyter *out);

/* Free the compiled log patterns (they are compiled on first use). */
void	jc_jupyter_log_fini(void);

/* Normalise base_url ("/x" -> "/x/") and host; used by both parsers. */
void	jc_jupyter_fixup(struct jc_jupyter *j);

#endif /* JC_JUPYTER_H */
