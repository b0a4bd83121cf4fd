/*
 * jupyter.h - find, start, stop and check the Jupyter server on the
 * remote (see shared jupyter.md).  Written once against an access
 * plugin's exec, so SSH and SSM behave the same.
 *
 * Flow for `open`: jc_jupyter_find() (discover, else start when asked) ->
 * listen and forward to jc_jupyter_dial() -> jc_jupyter_verify() through
 * the tunnel -> jc_jupyter_url() -> browser.
 *
 * Layers, one way: jupyter.c -> the parsers (jupyter_json.h, jupyter_log.h)
 * -> jupyter_url.h (struct jc_jupyter and its URL helpers).  This header
 * also brings the lower ones in, for its callers.
 */
#ifndef JC_JUPYTER_H
#define JC_JUPYTER_H

#include <stddef.h>

#include "jc_plugin.h"
#include "jupyter_json.h"
#include "jupyter_log.h"
#include "jupyter_url.h"

#define JC_JUPYTER_MAX		32	/* servers one discovery keeps */

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

#endif /* JC_JUPYTER_H */
