/*
 * state.h - files jconnect keeps per target in its private state
 * directory, $XDG_STATE_HOME/jconnect (default ~/.local/state/jconnect):
 *
 *   NAME.json	a background tunnel (0600 JSON; holds the URL)
 *   NAME.log	its log
 *   NAME.port	the local port the target got last time
 *   NAME.dest	where its Jupyter listened on the remote last time
 *   NAME.html	the page the browser is opened on (redirects to the URL)
 *   plugin:P's NAME.memo	small facts plugin P remembers (never secrets)
 *
 * NAME is jc_state_name(target): unique and bounded for any target.
 */
#ifndef JC_STATE_H
#define JC_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An extra forward (--forward) of a tunnel. */
struct jc_tunnel_fwd {
	int	 local_port;
	char	 host[256];		/* as the instance sees it */
	int	 remote_port;
};

#define JC_TUNNEL_FWD_MAX	16

struct jc_tunnel {
	pid_t	 pid;			/* supervisor process */
	char	 target[512];		/* TARGET as typed */
	char	 via[8];		/* the access plugin's name */
	int	 local_port;
	char	 url[1200];		/* with the token */
	long	 started;		/* time(NULL) */
	unsigned long long pid_start;	/* pid's start time, clock ticks since
					   boot (0: unknown); tells it from a
					   recycled pid */
	struct jc_tunnel_fwd forwards[JC_TUNNEL_FWD_MAX];
	int	 nforwards;
	char	 file[300];		/* the state file's name in the dir */
	int	 lock_fd;		/* the state file, while signalling */
};

/*
 * The state directory, created 0700 on demand and checked: a directory
 * (not a link) owned by the user, set back to 0700 when its mode was
 * wider.  NULL when unusable (HOME unset, owned by someone else, ...);
 * jc_state_why() then says why and what to do.
 */
const char *jc_state_dir(void);
const char *jc_state_why(void);

/*
 * The base name of target's files: the target made safe as a file name
 * and cut to a readable length, then a hash of the exact target, so that
 * two targets never share a name.  Static storage.
 */
const char *jc_state_name(const char *target);

/*
 * Write (atomically, 0600) the state of a tunnel.  When t->pid is this
 * process, it keeps the file open and locked for as long as it runs: the
 * lock is how `stop` knows the pid is still this tunnel.  Returns 0 or
 * JC_ERR_IO.
 */
int	jc_state_write(const struct jc_tunnel *);

/*
 * Read the tunnel for target.  Returns 0 when a live one exists, else
 * JC_ERR_NOTFOUND (stale files are removed).  Call jc_state_release()
 * when done.
 */
int	jc_state_find(const char *target, struct jc_tunnel *out);

/*
 * Send sig to the tunnel's process, after checking (again, right before)
 * that it still is that tunnel: same user, same start time, and holding
 * the lock on the tunnel's state file.  Returns 0, JC_ERR_NOTFOUND when
 * it has exited, JC_ERR_UNSUPPORTED when the pid is something else now.
 */
int	jc_state_signal(struct jc_tunnel *, int sig);

/*
 * Is the tunnel's process still there (same user and start time; an
 * exited one not yet reaped counts)?
 */
int	jc_state_running(struct jc_tunnel *);

/* Close what jc_state_signal() keeps open. */
void	jc_state_release(struct jc_tunnel *);

/* Remove the state (and browser) files of target's tunnel. */
void	jc_state_remove(const char *target);

/* Remove the files of a tunnel as read (it may have an older name). */
void	jc_state_forget(const struct jc_tunnel *);

/*
 * Call fn for every live tunnel (stale files removed), sorted by target.
 * Returns the number of tunnels, or JC_ERR_IO when the state directory
 * is unusable (see jc_state_why()).
 */
int	jc_state_each(void (*fn)(struct jc_tunnel *, void *), void *arg);

/*
 * Open the append-only 0600 log of target's background tunnel.  Returns
 * a descriptor or -1.
 */
int	jc_state_log_open(const char *target);

/* The local port target had last time, or 0. */
int	jc_state_port_get(const char *target);

/* Remember target's local port for next time. */
void	jc_state_port_put(const char *target, int port);

/*
 * Where the target's Jupyter listened last time, as the remote sees it
 * (NAME.dest, never a token): a port session opens there while the
 * remote is searched, and the same server process (pid) is known to
 * serve the same default page.
 */
struct jc_dest_memo {
	char	 host[256];
	int	 port;
	long	 pid;			/* 0 unknown */
	char	 default_path[16];	/* "" unknown */
};
/* 0 with *m filled, or -1. */
int	jc_state_dest_get(const char *target, struct jc_dest_memo *m);
void	jc_state_dest_put(const char *target, const struct jc_dest_memo *m);

/*
 * A plugin's remembered values (host->memo_get/memo_put): 0 with the
 * value of key in out, or -1.  put with value NULL forgets the key.
 */
int	jc_state_memo_get(const char *plugin, const char *key, char *out,
	    size_t n);
void	jc_state_memo_put(const char *plugin, const char *key,
	    const char *value);

/*
 * Write len bytes as a fresh 0600 file target's NAME + ext (e.g. ".html")
 * in the state directory, through an exclusively created temporary file
 * and a rename.  Its path goes to path.  Returns 0 or JC_ERR_IO.
 */
int	jc_state_put(const char *target, const char *ext, const void *data,
	    size_t len, char *path, size_t pathlen);

/* Remove target's NAME + ext. */
void	jc_state_unlink(const char *target, const char *ext);

#endif /* JC_STATE_H */
