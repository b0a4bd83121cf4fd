/*
 * http_head.h - the head of an HTTP/1.x response (status line and header
 * fields), read the same way for the core's Jupyter check (httpcheck.c)
 * and the SSM plugin's WebSocket upgrade (plugins/ssm/ssm_ws.c).
 *
 * A plugin reaches the core only through the host table, so this is a
 * small shared source: the core links it, and the Makefile compiles it
 * into each plugin as well with hidden visibility (PCOMMON_OBJ), like
 * buf.c.  It needs nothing else from the core.
 */
#ifndef JC_HTTP_HEAD_H
#define JC_HTTP_HEAD_H

#include <stddef.h>

struct jc_http_head {
	const char	*line;		/* status line, no line end */
	size_t		 linelen;
	const char	*version;	/* "1.1" of "HTTP/1.1"; NULL if none */
	size_t		 versionlen;
	int		 status;	/* 100..999; 0: not "HTTP/V NNN" */
	const char	*fields;	/* the header lines after the status */
	size_t		 fieldslen;
	size_t		 len;		/* bytes of the head, blank line incl. */
};

/*
 * Find and read the head at the start of buf (len bytes): the status line
 * and fields up to the blank line, within the first max bytes.  Lines end
 * at LF; a CR before it is dropped (RFC 9112 lets a recipient accept a
 * bare LF).  Returns 1 with *h filled (pointers into buf; status 0 when
 * the status line is not one, so the caller can quote it), 0 when more
 * bytes are needed, or JC_ERR_PROTO when no head ends within max bytes.
 */
int	jc_http_head_parse(const char *buf, size_t len, size_t max,
	    struct jc_http_head *h);

/*
 * The next header field from *off (start at 0): name and value, the value
 * without surrounding blanks.  Lines without a colon are skipped.
 * Returns 1, or 0 after the last field.
 */
int	jc_http_head_next(const struct jc_http_head *h, size_t *off,
	    const char **name, size_t *namelen, const char **val,
	    size_t *vallen);

/* The value of the first field called name (any case), or NULL. */
const char *jc_http_head_get(const struct jc_http_head *h, const char *name,
	    size_t *vallen);

/* Does the comma-separated list v (n bytes) hold token tok (any case)? */
int	jc_http_has_token(const char *v, size_t n, const char *tok);

#endif /* JC_HTTP_HEAD_H */
