/*
 * jc_plugin.h - the whole jconnect plugin ABI.
 *
 * This is the only core header a plugin includes.  A plugin is a shared
 * object plugins/NAME/jc-NAME.so that exports exactly one symbol,
 * jc_plugin_entry(), returning a pointer to one static const struct
 * jc_plugin.  The core hands the plugin a const struct jc_host function
 * table in init(), so plugins link no core symbols.
 *
 * Versioning: abi = major << 16 | minor.  The loader refuses a different
 * major and a struct smaller than JC_PLUGIN_MIN_SIZE.  Both structs are
 * append-only: a newer minor may add members at the end, and `size` says
 * which trailing members exist.
 */
#ifndef JC_PLUGIN_H
#define JC_PLUGIN_H

#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define JC_PLUGIN_ABI_MAJOR	1
#define JC_PLUGIN_ABI_MINOR	7
#define JC_PLUGIN_ABI		((JC_PLUGIN_ABI_MAJOR << 16) | JC_PLUGIN_ABI_MINOR)

#if defined(__GNUC__)
#define JC_PRINTF(f, a)		__attribute__((format(printf, f, a)))
#define JC_EXPORT		__attribute__((visibility("default")))
#else
#define JC_PRINTF(f, a)
#define JC_EXPORT
#endif

/*
 * Error codes.  Functions return 0 on success or one of these (negative).
 * main.c alone maps them to exit statuses (README, "Exit codes").
 */
#define JC_OK			0
#define JC_ERR_INTERNAL		-1	/* bug or unexpected failure (exit 1) */
#define JC_ERR_NOMEM		-2	/* out of memory (exit 1) */
#define JC_ERR_USAGE		-3	/* bad command line or config (exit 2) */
#define JC_ERR_NOTFOUND		-4	/* target not found or ambiguous (exit 3) */
#define JC_ERR_AWS_AUTH		-5	/* AWS credentials or permission (exit 4) */
#define JC_ERR_UNREACHABLE	-6	/* cannot reach / log in (exit 5) */
#define JC_ERR_HOSTKEY		-7	/* host key mismatch (exit 6) */
#define JC_ERR_JUPYTER		-8	/* Jupyter not found / token refused (exit 7) */
#define JC_ERR_PORT		-9	/* no free local port (exit 8) */
#define JC_ERR_IO		-10	/* local I/O error (exit 1) */
#define JC_ERR_PROTO		-11	/* malformed reply from a peer (exit 1) */
#define JC_ERR_TIMEOUT		-12	/* operation timed out (exit 1) */
#define JC_ERR_INTR		-13	/* interrupted by SIGINT/SIGTERM (exit 0) */
#define JC_ERR_CLOSED		-14	/* connection dropped (exit 5) */
#define JC_ERR_UNSUPPORTED	-15	/* not possible with this method (exit 1) */
#define JC_ERR_AWS		-16	/* other AWS API error (exit 1) */
#define JC_ERR_PLUGIN		-17	/* plugin missing or refused (exit 1) */

/* Log levels; -q selects ERROR, -v VERBOSE, -vv DEBUG, -vvv TRACE. */
#define JC_LOG_ERROR		1
#define JC_LOG_WARN		2
#define JC_LOG_INFO		3
#define JC_LOG_VERBOSE		4
#define JC_LOG_DEBUG		5
#define JC_LOG_TRACE		6

/* ---- event loop ------------------------------------------------------ */

struct jc_pollset;			/* opaque, owned by the core loop */
struct jc_source;			/* opaque registration handle */

/*
 * A loop source.  Each pass the core calls prepare() on every source: it
 * adds the fds it wants with host->ps_add() and may lower *deadline (a
 * host->now_ms() time; -1 = none; a deadline <= now means "call me again
 * without sleeping", e.g. when a library holds buffered bytes).  After
 * poll() the core calls dispatch() on every source; it reads results with
 * host->ps_revents() using the slots ps_add() returned, and must also do
 * its timer work when its deadline has passed.
 */
struct jc_source_ops {
	void	(*prepare)(void *arg, struct jc_pollset *ps, int64_t *deadline);
	void	(*dispatch)(void *arg, struct jc_pollset *ps);
};

/* ---- targets --------------------------------------------------------- */

#define JC_HKC_ACCEPT_NEW	0	/* learn unknown hosts, refuse changed */
#define JC_HKC_STRICT		1	/* refuse unknown and changed hosts */

/* What an access plugin connects to.  All strings borrowed. */
struct jc_target {
	uint32_t	 size;		/* sizeof(struct jc_target) */
	const char	*spec;		/* TARGET as typed by the user */
	const char	*host;		/* DNS name or IP to dial (SSH) */
	int		 port;		/* SSH port, 0 = 22 */
	const char	*user;		/* login user, never NULL */
	const char	*instance_id;	/* i-... / mi-... when known, else NULL */
	const char	*region;	/* AWS region when known, else NULL */
	const char	*identity;	/* -i FILE, else NULL */
	const char	*known_hosts;	/* --known-hosts FILE, else NULL */
	int		 host_key_check; /* JC_HKC_* */
	const char	*host_key_alias; /* known_hosts name, else host */
	int		 timeout_ms;	/* connect + login budget */
	/* ABI 1.3 (check with JC_TARGET_HAS) */
	uint32_t	 flags;		/* JC_TF_* */
	int		 fd;		/* with JC_TF_FD: the connected socket */
	/*
	 * With JC_TF_FD, when none of the user's keys is accepted: the
	 * plugin makes a throwaway key in memory and calls this with its
	 * public half ("TYPE BASE64 COMMENT") to have the remote accept
	 * it for a while; 0 = installed, try it.  NULL = no such offer.
	 */
	int		(*authorize_key)(void *arg, const char *pubkey);
	void		*authorize_arg;
};

/*
 * ABI 1.3 target flags.  JC_TF_FD: log in over t->fd, a socket already
 * connected to the SSH server (e.g. an SSM stream), which the plugin
 * then owns; login must not block the loop, since the other end of that
 * socket may be pumped by the same loop.  Login failures are logged at
 * verbose level (the caller has a fallback and says why); a changed
 * host key is still an error.  JC_TF_COMPRESS: ask for zlib
 * compression (else the ssh.compression option decides, default no).
 */
#define JC_TF_FD		0x1
#define JC_TF_COMPRESS		0x2
/*
 * ABI 1.4.  JC_TF_LAZY: the caller runs exec or stream right after
 * connect, which prove the target reachable anyway; a plugin may skip a
 * round trip spent only on proving it at connect.
 */
#define JC_TF_LAZY		0x4

/* Does this target have member m (targets from older cores are shorter)? */
#define JC_TARGET_HAS(t, m)	((t)->size >= offsetof(struct jc_target, m) + \
				    sizeof((t)->m))

/* ---- AWS ------------------------------------------------------------- */

struct jc_aws_error {
	int	 http_status;		/* 0 when no HTTP answer */
	char	 code[96];		/* AWS error code, "" when none */
	char	 message[512];		/* AWS message or transport error */
};

/*
 * ABI 1.3: an AWS call that does not wait (host->aws_json_start).  done
 * runs once, from the loop: r as for aws_json, out the malloc'd answer
 * when r is 0 (host->free), err valid during the call only.
 */
struct jc_aws_call;			/* opaque, owned by the core */
typedef void jc_aws_done_fn(void *arg, int r, char *out,
	    const struct jc_aws_error *err);

/* ---- access sessions ------------------------------------------------- */

struct jc_sess;				/* opaque, owned by the plugin */

struct jc_exec_result {
	char	*out;			/* stdout bytes, NUL-terminated */
	size_t	 outlen;
	char	*err;			/* stderr bytes, NUL-terminated */
	size_t	 errlen;
	int	 status;		/* exit status, -1 if unknown */
	int	 truncated;		/* output exceeded JC_EXEC_MAX */
};
#define JC_EXEC_MAX		(16u << 20)

#define JC_STREAM_PROXY		0x1	/* a single raw stream for ssh ProxyCommand */
/*
 * ABI 1.1, for plugins whose kind has JC_KIND_ADOPT: *fdp holds the
 * accepted local socket on entry and the plugin pumps it itself, saving
 * the socketpair and the core's relay (two copies of every byte).  On
 * success the plugin owns the socket; on failure the caller still does.
 */
#define JC_STREAM_ADOPT		0x2
/*
 * ABI 1.4, for plugins whose kind has JC_KIND_WARM: no stream yet, but
 * one to host:port is likely soon (the port Jupyter had last time);
 * start what it will need in the background, fdp unused.  0, or an
 * error that only means "not prepared".
 */
#define JC_STREAM_WARM		0x4

/* ---- keys ------------------------------------------------------------ */

#define JC_KEYS_INSTALL		0
#define JC_KEYS_REMOVE		1
#define JC_KEYS_PUSH		2	/* EC2 Instance Connect SendSSHPublicKey */

struct jc_keys_req {
	uint32_t	 size;		/* sizeof(struct jc_keys_req) */
	int		 op;		/* JC_KEYS_* */
	const char	*const *files;	/* --key FILE.pub list, NULL-terminated, or NULL */
	const char	*login_identity; /* -i FILE used to log in, or NULL */
	int		 login_by_key;	/* 1 when -i logged us in (SSH) */
	const char	*run_as;	/* -l USER when it differs from the session user */
	int		 generate;	/* --generate when no key exists */
	const char	*instance_id;	/* for JC_KEYS_PUSH */
	const char	*os_user;	/* for JC_KEYS_PUSH */
	/*
	 * ABI 1.3: whole authorized_keys lines (options allowed, e.g. a
	 * throwaway key's expiry-time=...) to install or remove instead of
	 * picking keys; NULL-terminated, or NULL.  Logged at verbose level.
	 */
	const char	*const *lines;
};

/* Does this request have member m (requests from older cores are shorter)? */
#define JC_KEYS_HAS(r, m)	((r)->size >= offsetof(struct jc_keys_req, m) + \
				    sizeof((r)->m))

/* ---- the host table (core -> plugin) --------------------------------- */

struct jc_host {
	uint32_t abi;			/* JC_PLUGIN_ABI of the core */
	uint32_t size;			/* sizeof(struct jc_host) */

	/* Logging to stderr as "jconnect: [plugin] ..."; never log secrets. */
	void	(*log)(int level, const char *plugin, const char *fmt, ...)
		    JC_PRINTF(3, 4);
	int	(*log_level)(void);

	/* Monotonic milliseconds. */
	int64_t	(*now_ms)(void);

	/* Register / unregister a loop source (safe from inside dispatch). */
	struct jc_source *(*source_add)(const struct jc_source_ops *, void *arg);
	void	(*source_del)(struct jc_source *);
	/* Add an fd to the pollset; returns its slot, or -1 when full. */
	int	(*ps_add)(struct jc_pollset *, int fd, short events);
	short	(*ps_revents)(const struct jc_pollset *, int slot);
	/*
	 * Run the loop until *done becomes non-zero (0), timeout_ms passes
	 * (JC_ERR_TIMEOUT; -1 = no timeout) or SIGINT/SIGTERM arrives
	 * (JC_ERR_INTR).  May be nested: a plugin's blocking-looking call
	 * (exec, connect) runs the loop so other sources keep moving.
	 */
	int	(*loop_run)(volatile int *done, int timeout_ms);

	/*
	 * AWS JSON 1.1 call with the session's credentials and region:
	 * service and target as in the API reference (the SSM plugin's
	 * StartSession, say), body JSON.
	 * On success *out is a malloc'd NUL-terminated body (caller frees
	 * with host->free).  On an AWS error returns JC_ERR_AWS/_AWS_AUTH/...
	 * and fills *err when err is not NULL; nothing is logged.
	 */
	int	(*aws_json)(const char *service, const char *target,
		    const char *body, char **out, struct jc_aws_error *err);
	/* A plain-words sentence for an AWS error (static storage). */
	const char *(*aws_explain)(const struct jc_aws_error *);
	void	(*free)(void *);

	/*
	 * Option lookup: "ssm.chunk_size", "ssh.keepalive" ...  Command line
	 * first, then the config file entry for the target, then defaults.
	 * Returns NULL when unset.  Borrowed.
	 */
	const char *(*option)(const char *key);

	/*
	 * ABI 1.2: the extra CA file trusted for HTTPS to AWS (AWS_CA_BUNDLE
	 * or the profile's ca_bundle), or NULL.  Plugins that open their own
	 * TLS connections to AWS (the SSM WebSocket) trust it too, so a
	 * proxy that re-signs TLS needs one setting, as with the AWS CLI.
	 */
	const char *(*aws_ca_bundle)(void);

	/*
	 * ABI 1.3: aws_json without blocking the loop, for calls made while
	 * streams flow (a distant AWS costs 0.1-0.4 s per call).  One
	 * attempt, no retries: the caller chooses its own backoff.  Returns
	 * 0 and a handle in *callp (done() follows from the loop, never
	 * from inside this call), or a JC_ERR_* with *err filled when the
	 * call cannot start (no region, no credentials).
	 */
	int	(*aws_json_start)(const char *service, const char *target,
		    const char *body, jc_aws_done_fn *done, void *arg,
		    struct jc_aws_call **callp, struct jc_aws_error *err);
	/* Abandon a started call: done() will not run.  NULL is a no-op. */
	void	(*aws_json_cancel)(struct jc_aws_call *);

	/*
	 * ABI 1.5: a query/ec2-protocol call (EC2's
	 * DescribeInstanceConnectEndpoints, say): form is the URL-encoded
	 * body "Action=...&Version=...&...", *out the XML answer (free with
	 * host->free).  Returns as aws_json.
	 */
	int	(*aws_query)(const char *service, const char *form, char **out,
		    struct jc_aws_error *err);
	/*
	 * ABI 1.5: a SigV4 query-signed ("presigned") GET URL with the
	 * session's credentials and region: scheme://host+path?query plus
	 * the X-Amz-* parameters, valid for expires_s seconds.  query is
	 * already URL-encoded ("a=1&b=2"), may be "".  The URL carries a
	 * signature (and a session token): never log it.  Returns 0, or
	 * JC_ERR_AWS_AUTH with *err filled, JC_ERR_USAGE when out is short.
	 */
	int	(*aws_presign)(const char *service, const char *scheme,
		    const char *host, const char *path, const char *query,
		    int expires_s, char *out, size_t outlen,
		    struct jc_aws_error *err);

	/*
	 * ABI 1.7: small facts a plugin remembers from one run to the next,
	 * to start work early next time (the SSM plugin: where its data
	 * channels connect).  Kept 0600 in jconnect's state directory under
	 * the plugin's name; never a secret.  memo_get: 0 with the value in
	 * out, -1 when none.  memo_put: best effort; value NULL forgets key.
	 */
	int	(*memo_get)(const char *plugin, const char *key, char *out,
		    size_t n);
	void	(*memo_put)(const char *plugin, const char *key,
		    const char *value);
	/* ABI 1.7: the AWS region of the calls, or NULL when none is set. */
	const char *(*aws_region)(void);
	/*
	 * ABI 1.7: a loop source whose prepare and dispatch only move its
	 * own sockets and timers and never call out (connections made
	 * ahead): it moves also while a call waits outside the loop (an
	 * AWS call that the target's resolution blocks on).  Removed with
	 * source_del.
	 */
	struct jc_source *(*source_add_light)(const struct jc_source_ops *,
		    void *arg);
};

/* Does this host table have member m (tables from older cores are shorter)? */
#define JC_HOST_HAS(h, m)	((h)->size >= offsetof(struct jc_host, m) + \
				    sizeof((h)->m) && (h)->m != NULL)

/* ---- the plugin (plugin -> core) ------------------------------------- */

#define JC_KIND_METHOD		0x1	/* access method: connect/exec/stream */
#define JC_KIND_KEYS		0x2	/* key installer */
#define JC_KIND_ADOPT		0x4	/* stream() takes JC_STREAM_ADOPT (1.1) */
#define JC_KIND_WARM		0x8	/* stream() takes JC_STREAM_WARM (1.4) */

/*
 * ABI 1.5: what an access method needs and can do, as data.  The core
 * decides with these bits, never with a plugin's name: --via auto ranks
 * the loaded plugins by them and by what the target offers, and the
 * properties of a session (whose login it is, what it can forward) come
 * from them.  Unknown bits are ignored, so new ones may be added.
 */
#define JC_CAP_NEEDS_INSTANCE	0x0001	/* an EC2 instance or managed node id */
#define JC_CAP_NEEDS_HOST	0x0002	/* an address to dial (name, public IP) */
#define JC_CAP_NEEDS_AGENT	0x0004	/* the instance's SSM agent registered */
#define JC_CAP_NEEDS_PRIVATE_IP	0x0008	/* the instance's address in its VPC */
#define JC_CAP_UNIX_FWD		0x0010	/* stream() reaches Unix sockets too */
#define JC_CAP_LOGIN_IS_USER	0x0020	/* the login user is the notebook's user */
#define JC_CAP_KEY_LOGIN	0x0040	/* logs in with the user's SSH key (-i) */
#define JC_CAP_PUSH_KEYS	0x0080	/* pushes one-time keys (Instance Connect) */
#define JC_CAP_EXEC		0x0100	/* exec() runs remote commands */
#define JC_CAP_THROTTLED	0x0200	/* the provider rate-limits new streams */
/*
 * A raw stream(JC_STREAM_PROXY) to the instance's sshd can carry the ssh
 * plugin's login (JC_TF_FD): the core then may run SSH, with compression,
 * inside this method's session ("the compressed path").
 */
#define JC_CAP_SSH_INSIDE	0x0400
/* connect() takes JC_TF_FD: an SSH login over a socket already open. */
#define JC_CAP_FD_LOGIN		0x0800

/*
 * ABI 1.5: an option the plugin reads with host->option("NAME.KEY"),
 * declared so that `-o NAME.KEY=VALUE` and config values are checked
 * (type, range, words) before anything runs, and `jconnect options`
 * lists it.  A table ends with a NULL key.
 */
#define JC_OPT_NUM		0	/* decimal integer in [min, max] */
#define JC_OPT_LIST		1	/* comma-separated words */
#define JC_OPT_FILE		2	/* a local file that must exist */
#define JC_OPT_WORD		3	/* one of the words of unit, "a|b|c" */

struct jc_plugin_opt {
	const char	*key;		/* without the "NAME." prefix */
	int		 type;		/* JC_OPT_* */
	long		 min, max;	/* JC_OPT_NUM range */
	const char	*unit;		/* "seconds", or the words "a|b" */
	const char	*def;		/* the default, as text, or NULL */
	const char	*help;		/* one line */
};

/*
 * ABI 1.5: what an instance offers a method, asked while the target is
 * resolved (see probe below).  Strings NUL-terminated; "" = unknown.
 */
struct jc_probe {
	uint32_t	 size;		/* sizeof(struct jc_probe) */
	int		 checked;	/* the provider answered */
	int		 managed;	/* it knows the instance (an agent registered) */
	int		 online;	/* and can reach it now */
	char		 agent_version[32];
	/* For nodes only this provider knows (mi-...): */
	char		 name[256];
	char		 private_ip[64];
	char		 platform[32];	/* lower case: "linux", "windows" */
	char		 why[512];	/* on failure: plain words, for -v */
};

struct jc_plugin {
	uint32_t	 abi;		/* JC_PLUGIN_ABI the plugin was built with */
	uint32_t	 size;		/* sizeof(struct jc_plugin) as it saw it */
	const char	*name;		/* matches jc-NAME.so and --via NAME */
	uint32_t	 kind;		/* JC_KIND_* */
	const char	*version;	/* plugin version string */
	const char	*summary;	/* one line for `jconnect plugins` */

	int	(*init)(const struct jc_host *, void **statep);
	void	(*fini)(void *state);

	/*
	 * Access methods (NULL unless kind has JC_KIND_METHOD).
	 * connect: log in; blocks (running the loop) up to t->timeout_ms.
	 *   Returns JC_ERR_UNREACHABLE / _HOSTKEY / _AWS_AUTH ... after
	 *   logging one clear line saying what to do.
	 * exec: run cmd in the remote login shell, feed `in` (may be NULL)
	 *   to its stdin then EOF; fills *res on success (free with
	 *   exec_free).  Runs the loop, so streams keep flowing.  Neither
	 *   cmd nor `in` may hold a secret: a method may carry both on the
	 *   remote's command line (SSM does, and AWS logs it).
	 * stream: open a TCP stream to host:port as seen by the remote.
	 *   *fdp receives the core's end of a socketpair, owned by the
	 *   caller; the plugin pumps the other end.  Opening completes in
	 *   the background; failure closes the plugin's end (EOF) after a
	 *   log line.
	 * status: 0 while the session is usable, else why it ended.
	 * close: tear down every channel and free the session.
	 */
	int	(*connect)(void *state, const struct jc_target *,
		    struct jc_sess **out);
	int	(*exec)(struct jc_sess *, const char *cmd, const void *in,
		    size_t inlen, int timeout_ms, struct jc_exec_result *res);
	void	(*exec_free)(struct jc_exec_result *);
	int	(*stream)(struct jc_sess *, const char *host, uint16_t port,
		    int flags, int *fdp);
	int	(*status)(struct jc_sess *);
	void	(*close)(struct jc_sess *);

	/*
	 * Key plugins (NULL unless kind has JC_KIND_KEYS): install, remove
	 * or push keys through any access plugin's exec.
	 */
	int	(*keys)(void *state, const struct jc_plugin *access,
		    struct jc_sess *sess, const struct jc_keys_req *req);

	/* ABI 1.5 (check with JC_PLUGIN_HAS) */
	uint32_t	 caps;		/* JC_CAP_*; access methods only */
	/*
	 * Place in --via auto's order among the plugins whose needs the
	 * target meets: lowest first; 0 = only when named with --via.
	 */
	int		 auto_rank;
	const char	*label;		/* "SSM" in "SSM to i-..." messages */
	const struct jc_plugin_opt *options; /* NULL-key-terminated, or NULL */
	/*
	 * Methods with JC_CAP_NEEDS_AGENT: ask the provider about instance
	 * id (an AWS call, which may block).  Returns 0 with *pr filled, or
	 * a JC_ERR_* with pr->why saying why (not fatal: another method may
	 * do).  NULL = nothing to ask.
	 */
	int	(*probe)(void *state, const char *id, struct jc_probe *pr);

	/* ABI 1.6 (check with JC_PLUGIN_HAS) */
	/*
	 * Start asking, without waiting, what probe will want to know,
	 * while the target is still being resolved: about instance `value`
	 * (tag_key NULL) or the instances tagged tag_key=value.  A later
	 * probe of one of them takes the answer instead of asking again.
	 * Failures are silent (probe asks itself).  NULL = no such help.
	 */
	void	(*probe_ahead)(void *state, const char *tag_key,
		    const char *value);
};

/* Does this plugin struct have member m (older plugins are shorter)? */
#define JC_PLUGIN_HAS(p, m)	((p)->size >= offsetof(struct jc_plugin, m) + \
				    sizeof((p)->m))

/* Smallest struct jc_plugin the loader accepts (ABI 1.0). */
#define JC_PLUGIN_MIN_SIZE	(offsetof(struct jc_plugin, keys) + sizeof(void *))

/* The one symbol each plugin exports. */
const struct jc_plugin *jc_plugin_entry(void);

#endif /* JC_PLUGIN_H */
