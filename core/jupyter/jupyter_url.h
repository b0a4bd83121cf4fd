/*
 * jupyter_url.h - one Jupyter server as jconnect knows it, and the URL
 * helpers on it (jupyter_url.c).  The bottom of the Jupyter layers: the
 * parsers (jupyter_json.h, jupyter_log.h) fill a struct jc_jupyter, and
 * jupyter.h finds, starts and checks servers on top of both.
 */
#ifndef JC_JUPYTER_URL_H
#define JC_JUPYTER_URL_H

#include <stddef.h>

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

/* Normalise base_url ("/x" -> "/x/") and host; used by both parsers. */
void	jc_jupyter_fixup(struct jc_jupyter *j);

/*
 * The address the forwarder dials on the remote: *hostp (borrowed from
 * j) and *portp; for a Unix socket *hostp is the socket path and *portp
 * is 0.
 */
void	jc_jupyter_dial(const struct jc_jupyter *j, const char **hostp,
	    int *portp);

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

#endif /* JC_JUPYTER_URL_H */
