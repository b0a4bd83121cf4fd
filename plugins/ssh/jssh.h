/*
 * jssh.h - internals of the SSH access plugin (libssh).
 */
#ifndef JSSH_H
#define JSSH_H

#include <libssh/libssh.h>

#include "jc_plugin.h"
#include "buf.h"

#define JSSH_CHAN_BUF	(64 * 1024)	/* channel -> socket, per stream */
#define JSSH_IO_CHUNK	(32 * 1024)	/* socket -> channel, per read */
/*
 * Streams opened ahead to the destination a connection is likely soon
 * for (JC_STREAM_WARM): a browser opens six per origin at once.
 */
#define JSSH_SPARES	6

extern const struct jc_host *jssh_host;	/* set by init() */
extern const struct jc_plugin jc_plugin_ssh;	/* for static linking in tests */

#define jssh_log(l, ...) do {						\
	if (jssh_host->log_level() >= (l))				\
		jssh_host->log((l), "ssh", __VA_ARGS__);		\
} while (0)

enum { CH_OPENING, CH_EXEC_REQ, CH_OPEN, CH_DONE };
enum { CH_STREAM, CH_EXEC };

struct jssh_sess;

struct jssh_chan {
	struct jssh_sess	*ss;		/* NB. borrowed */
	ssh_channel		 ch;
	int			 kind;		/* CH_STREAM / CH_EXEC */
	int			 state;		/* CH_* */
	int			 sp;		/* plugin end of the socketpair */
	int			 in_slot, out_slot;
	struct jc_buf		 tosock;	/* channel -> sp, bounded */
	int			 sent_eof;	/* sp EOF passed to channel */
	int			 got_eof;	/* channel EOF seen */
	int			 shut;		/* ... and passed to sp */
	char			 host[256];	/* stream destination */
	uint16_t		 port;
	int			 spare;		/* opened ahead, no socket yet */
	/* exec */
	const unsigned char	*in;		/* NB. borrowed stdin bytes */
	size_t			 inlen, inoff;
	char			*cmd;
	char			*out, *err;	/* grown up to JC_EXEC_MAX */
	size_t			 outlen, errlen;
	int			 truncated;
	int			 status;
	volatile int		 done;
	int			 failed;	/* JC_ERR_* */
	struct jssh_chan	*next;
};

struct jssh_sess {
	ssh_session		 s;
	struct jc_source	*src;
	int			 fd, slot;
	int			 dead;		/* 0, or JC_ERR_* once it failed */
	char			 label[300];	/* user@host:port for messages */
	struct jssh_chan	*chans;
	ssh_counter		 counter;	/* socket byte counts */
	int64_t			 last_rx;	/* when bytes last arrived */
	uint64_t		 rx_seen;	/* counter->in_bytes then */
	int			 kick;		/* a channel waits to start */
	ssh_event		 ev;		/* libssh's own poll of the socket */
	int64_t			 next_ka;	/* next keepalive due */
	int			 keepalive_ms;	/* 0 = off */
	int			 in_dispatch;
	char			 spare_host[256]; /* where spares go ("": none) */
	uint16_t		 spare_port;
	/* login over a given socket (JC_TF_FD): non-blocking, loop runs */
	int			 nb;
	short			 nb_ev;		/* events to wait for, 0 = libssh's */
	int			 intr;		/* a stop signal came while waiting */
	int			 errlvl;	/* level of login failures */
	struct jc_source	*nb_src;
	volatile int		 nb_ready;
	int64_t			 nb_end;	/* login deadline */
};

/* Channel pump (jssh_chan.c). */
int	jssh_pump_start(struct jssh_sess *);
void	jssh_pump_stop(struct jssh_sess *);
int	jssh_stream(struct jssh_sess *, const char *host, uint16_t port,
	    int adopt, int *fdp);
/* Keep JSSH_SPARES streams to host:port open ahead (JC_STREAM_WARM). */
int	jssh_spares(struct jssh_sess *, const char *host, uint16_t port);
int	jssh_exec(struct jssh_sess *, const char *cmd, const void *in,
	    size_t inlen, int timeout_ms, struct jc_exec_result *res);
void	jssh_exec_free(struct jc_exec_result *);

/* Login (jssh_session.c). */
int	jssh_connect(const struct jc_target *, struct jssh_sess **out);
void	jssh_close(struct jssh_sess *);

#endif /* JSSH_H */
