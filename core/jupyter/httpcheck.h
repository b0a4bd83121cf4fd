/*
 * httpcheck.h - a small HTTP/1.1 GET client for 127.0.0.1:PORT, driven by
 * the core loop.  Used to check a forwarded Jupyter before the browser
 * opens; nothing else.  Plain HTTP only, one request per connection.
 */
#ifndef JC_HTTPCHECK_H
#define JC_HTTPCHECK_H

#include <stddef.h>
#include <stdint.h>

#define JC_HTTPCHECK_BODY_MAX	(64u << 10)	/* body bytes kept */

struct jc_httpcheck {
	int	 status;		/* HTTP status code */
	char	 location[512];		/* Location header, "" when none */
	char	*body;			/* NUL-terminated, at most BODY_MAX */
	size_t	 bodylen;
	int	 truncated;		/* the body was longer than BODY_MAX */
};

/*
 * GET path (starting with '/') from 127.0.0.1:port, with
 * "Authorization: token T" when token is not NULL or "".  Runs
 * jc_loop_run() until the answer is complete, the peer closes, or
 * timeout_ms passes, so other loop sources (the forwarder) keep moving.
 * On success fills *res (free with jc_httpcheck_free) and returns 0.
 * Errors: JC_ERR_CLOSED (refused, or closed before a status line),
 * JC_ERR_PROTO (not HTTP), JC_ERR_TIMEOUT, JC_ERR_INTR, JC_ERR_NOMEM,
 * JC_ERR_IO.  Nothing is logged above DEBUG; the token never is.
 */
int	jc_httpcheck_get(uint16_t port, const char *path, const char *token,
	    int timeout_ms, struct jc_httpcheck *res);

/* Free what jc_httpcheck_get() put in *res; NULL and repeats are fine. */
void	jc_httpcheck_free(struct jc_httpcheck *res);

/*
 * Parse a complete or partial response held in buf.  Returns 1 when the
 * response is complete (Content-Length reached; `eof` says the peer
 * closed, which ends a body without a length), 0 when more bytes are
 * needed, JC_ERR_PROTO when it is not HTTP.  Fills *res on 1.  Exposed
 * for tests.
 */
int	jc_httpcheck_parse(const char *buf, size_t len, int eof,
	    struct jc_httpcheck *res);

#endif /* JC_HTTPCHECK_H */
