/*
 * ssm_ws.h - the WebSocket client under the data channel (ssm_ws.c).
 */
#ifndef SSM_WS_H
#define SSM_WS_H

#include <stddef.h>
#include <stdint.h>
#include "jc_plugin.h"

struct ssm_ws;

/* A complete message (text or binary); p is valid during the call. */
typedef void ssm_ws_msg_fn(void *arg, int text, const unsigned char *p,
	    size_t n);

/* Low-level byte transport (libcurl connect-only, or an fd in tests). */
struct ssm_ws_io {
	/* >0 bytes, 0 = EOF, -1 = would block, -2 = error */
	long	(*recv)(void *ctx, void *buf, size_t n);
	long	(*send)(void *ctx, const void *buf, size_t n);
	void	*ctx;
};

#define SSM_WS_UPGRADING	0	/* waiting for the 101 answer */
#define SSM_WS_OPEN		1
#define SSM_WS_CLOSED		2	/* closed by the peer or failed */
#define SSM_WS_CONNECTING	3	/* TCP/TLS/proxy connect under way */
#define SSM_WS_IDLE		4	/* made ahead, connected, not adopted */

/*
 * Dial url (ws:// or wss://, the http(s) form is used with libcurl) with
 * certificate checks (cafile, when not NULL, is the CA file to trust) and
 * $HTTPS_PROXY honoured, without waiting: returns 0 and *out in
 * SSM_WS_CONNECTING (messages may be queued already), or
 * JC_ERR_UNREACHABLE / JC_ERR_NOMEM with why filled.  TCP/TLS/proxy
 * set-up is libcurl's connect, bounded by timeout_ms: each loop pass, the
 * channel adds its sockets and timer with ssm_ws_connect_prepare and runs
 * ssm_ws_connect_step, which moves to SSM_WS_UPGRADING, or fails with
 * JC_ERR_UNREACHABLE (the reason in ssm_ws_why; state SSM_WS_CLOSED); or
 * ssm_ws_connect_wait waits for it.  The HTTP upgrade then completes in
 * ssm_ws_run(); on_msg is called for every message.
 */
int	ssm_ws_dial_start(const char *url, const char *cafile, int timeout_ms,
	    ssm_ws_msg_fn *on_msg, void *arg, struct ssm_ws **out, char *why,
	    size_t whylen);
/* Wait for the connect (0), or JC_ERR_UNREACHABLE with why filled. */
int	ssm_ws_connect_wait(struct ssm_ws *, char *why, size_t whylen);
/*
 * Connections made ahead of their StreamUrl: ssm_ws_preconnect dials
 * url's origin (TCP, TLS, proxy; driven as above, then SSM_WS_IDLE);
 * ssm_ws_adopt gives it the StreamUrl url and on_msg, on to the upgrade
 * (or still SSM_WS_CONNECTING).  Adopt returns 0, -1 when url is not of
 * that origin or the connection failed (ws unchanged), or JC_ERR_NOMEM.
 */
int	ssm_ws_preconnect(const char *url, const char *cafile, int timeout_ms,
	    struct ssm_ws **out, char *why, size_t whylen);
int	ssm_ws_adopt(struct ssm_ws *, const char *url, ssm_ws_msg_fn *on_msg,
	    void *arg);
/* "wss://host[:port]" of a URL (0), or -1. */
int	ssm_ws_origin(const char *url, char *origin, size_t n);
void	ssm_ws_connect_prepare(struct ssm_ws *, struct jc_pollset *,
	    int64_t *deadline);
int	ssm_ws_connect_step(struct ssm_ws *, struct jc_pollset *);
const char *ssm_ws_why(const struct ssm_ws *);

/*
 * The same over a caller-supplied transport; host/path go into the
 * upgrade request.  For tests and fuzzing.  Returns 0 or JC_ERR_NOMEM.
 */
int	ssm_ws_new_io(const struct ssm_ws_io *io, int fd, const char *host,
	    const char *path, ssm_ws_msg_fn *on_msg, void *arg,
	    struct ssm_ws **out);

/* Close the transport and free.  NULL is a no-op. */
void	ssm_ws_free(struct ssm_ws *);

int	ssm_ws_fd(const struct ssm_ws *);
int	ssm_ws_state(const struct ssm_ws *);
/* poll events the socket needs now (POLLIN, plus POLLOUT to flush). */
short	ssm_ws_events(const struct ssm_ws *);
/* 1 when bytes are already buffered locally: dispatch again at once. */
int	ssm_ws_pending(const struct ssm_ws *);

/*
 * Read (when rx is non-zero, up to a per-call budget) and write.  on_msg
 * runs from here.  Returns 0 while the socket is usable, else
 * JC_ERR_CLOSED (peer closed, see ssm_ws_close_info) or JC_ERR_PROTO /
 * JC_ERR_IO; the state is then SSM_WS_CLOSED.
 */
int	ssm_ws_run(struct ssm_ws *, int rx);

/* Queue one message (copied).  Returns 0 or JC_ERR_NOMEM / _CLOSED. */
int	ssm_ws_send(struct ssm_ws *, int text, const void *p, size_t n);
/*
 * Write what is framed now, without waiting for the next ssm_ws_run (acks
 * must not wait behind a long read).  A write error closes the socket;
 * the next ssm_ws_run reports it.
 */
void	ssm_ws_flush(struct ssm_ws *);
/* Bytes queued but not yet written to the socket. */
size_t	ssm_ws_backlog(const struct ssm_ws *);
/* Queue a ping with payload "keepalive". */
int	ssm_ws_ping(struct ssm_ws *);
/* Monotonic ms when bytes last came from the peer (0: never). */
int64_t	ssm_ws_last_rx(const struct ssm_ws *);
/*
 * Close code and reason the peer sent (0 / "" when none); a refused
 * upgrade gives its HTTP status (100-599) as the code.
 */
void	ssm_ws_close_info(const struct ssm_ws *, int *code, char *reason,
	    size_t n);

/*
 * Parse the server's answer to the upgrade request held in buf[0..len).
 * Returns 1 when more bytes are needed, 0 when it is a valid 101 answer
 * for key (the header length is stored in *hdrlen), or JC_ERR_PROTO
 * (with a short reason in why).
 */
int	ssm_ws_parse_upgrade(const char *buf, size_t len, const char *key,
	    size_t *hdrlen, char *why, size_t whylen);

#endif /* SSM_WS_H */
