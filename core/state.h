/*
 * state.h - background tunnels: one 0600 JSON file per tunnel under
 * $XDG_STATE_HOME/jconnect (default ~/.local/state/jconnect).
 */
#ifndef JC_STATE_H
#define JC_STATE_H

#include <stdint.h>
#include <sys/types.h>

struct jc_tunnel {
	pid_t	 pid;			/* supervisor process */
	char	 target[512];		/* TARGET as typed */
	char	 via[8];		/* "ssh" / "ssm" */
	int	 local_port;
	char	 url[1200];		/* with the token */
	long	 started;		/* time(NULL) */
	unsigned long long pid_start;	/* pid's start time, clock ticks since
					   boot (0: unknown); tells it from a
					   recycled pid */
	char	 file[1024];		/* the state file */
};

/* The state directory (created 0700 on demand).  Static storage. */
const char *jc_state_dir(void);

/* The state file name for a target (static storage). */
const char *jc_state_file(const char *target);

/* Write (atomically, 0600) the state of a tunnel.  Returns 0 or JC_ERR_IO. */
int	jc_state_write(const struct jc_tunnel *);

/*
 * Read the tunnel for target.  Returns 0 when a live one exists, else
 * JC_ERR_NOTFOUND (stale files are removed).
 */
int	jc_state_find(const char *target, struct jc_tunnel *out);

/* Remove the state file of a tunnel. */
void	jc_state_remove(const char *target);

/*
 * Call fn for every live tunnel (stale files removed), sorted by target.
 * Returns the number of tunnels.
 */
int	jc_state_each(void (*fn)(const struct jc_tunnel *, void *), void *arg);

#endif /* JC_STATE_H */
