/*
 * httpcheck.c - one HTTP/1.1 GET to 127.0.0.1:PORT from inside the core
 * loop (non-blocking connect, write, read until complete or EOF).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"
#include "http_head.h"
#include "httpcheck.h"
#include "jc_plugin.h"
#include "log.h"
#include "loop.h"
#include "net.h"

#define HEAD_MAX	(16u << 10)	/* status line + headers */
#define RESP_MAX	(HEAD_MAX + JC_HTTPCHECK_BODY_MAX + 4096)

struct hc {
	int		 fd;
	int		 connected;
	char		 req[2048];
	size_t		 reqlen, reqoff;
	char		*in;		/* response bytes so far */
	size_t		 inlen;
	int		 eof;
	int		 done;		/* loop flag */
	int		 err;		/* JC_ERR_* once failed */
	int		 slot;
	struct jc_source *src;
	struct jc_httpcheck *res;
};

void
jc_httpcheck_free(struct jc_httpcheck *res)
{
	if (res == NULL)
		return;
	free(res->body);
	res->body = NULL;
	res->bodylen = 0;
}

/* Decode a chunked body; returns 1 complete, 0 need more, <0 bad. */
static int
dechunk(const char *p, size_t len, char *out, size_t outmax, size_t *outlen,
    int *truncated)
{
	size_t off = 0, o = 0, sz, take;
	const char *eol;
	char *endp, num[20];

	for (;;) {
		if ((eol = memchr(p + off, '\n', len - off)) == NULL)
			return 0;
		if ((size_t)(eol - (p + off)) >= sizeof(num))
			return JC_ERR_PROTO;
		memcpy(num, p + off, (size_t)(eol - (p + off)));
		num[eol - (p + off)] = '\0';
		errno = 0;
		sz = strtoul(num, &endp, 16);
		if (endp == num || errno != 0 || sz > RESP_MAX)
			return JC_ERR_PROTO;
		off = (size_t)(eol - p) + 1;
		if (sz == 0)
			break;
		if (len - off < sz + 2)
			return 0;
		take = sz;
		if (o + take > outmax) {
			take = outmax - o;
			*truncated = 1;
		}
		memcpy(out + o, p + off, take);
		o += take;
		off += sz;
		if (p[off] == '\r')
			off++;
		if (off >= len || p[off] != '\n')
			return JC_ERR_PROTO;
		off++;
	}
	*outlen = o;
	return 1;
}

int
jc_httpcheck_parse(const char *buf, size_t len, int eof,
    struct jc_httpcheck *res)
{
	struct jc_http_head head;
	const char *hend, *v, *body;
	size_t headlen, vlen, blen, clen = 0, keep;
	int status, haslen = 0, chunked = 0, trunc = 0, r;
	char num[24], *endp, *copy = NULL;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
		return JC_ERR_PROTO;
	if (len < 5 && memcmp(buf, "HTTP/", len) != 0)
		return JC_ERR_PROTO;
	/* The head: status line and fields, up to the blank line. */
	if ((r = jc_http_head_parse(buf, len, HEAD_MAX, &head)) != 1)
		return (r != 0 || eof) ? JC_ERR_PROTO : 0;
	headlen = head.len;
	hend = buf + headlen;
	/* "HTTP/1.1 200 OK" */
	if ((status = head.status) == 0)
		return JC_ERR_PROTO;

	if ((v = jc_http_head_get(&head, "Transfer-Encoding", &vlen)) != NULL &&
	    vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0)
		chunked = 1;
	else if ((v = jc_http_head_get(&head, "Content-Length", &vlen)) != NULL) {
		if (vlen == 0 || vlen >= sizeof(num))
			return JC_ERR_PROTO;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		errno = 0;
		clen = strtoul(num, &endp, 10);
		if (*endp != '\0' || errno != 0)
			return JC_ERR_PROTO;
		haslen = 1;
	}
	body = hend;
	blen = len - headlen;
	if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
		haslen = 1;
		clen = 0;
	}
	if ((copy = malloc(JC_HTTPCHECK_BODY_MAX + 1)) == NULL)
		return JC_ERR_NOMEM;
	if (chunked) {
		if ((r = dechunk(body, blen, copy, JC_HTTPCHECK_BODY_MAX,
		    &keep, &trunc)) != 1) {
			free(copy);
			if (r == 0 && eof)
				return JC_ERR_PROTO;
			return r;
		}
	} else if (haslen) {
		if (blen < clen && !eof && blen < JC_HTTPCHECK_BODY_MAX) {
			free(copy);
			return 0;
		}
		keep = blen < clen ? blen : clen;
	} else {
		if (!eof && blen < JC_HTTPCHECK_BODY_MAX) {
			free(copy);
			return 0;
		}
		keep = blen;
	}
	if (!chunked) {
		if (keep > JC_HTTPCHECK_BODY_MAX) {
			keep = JC_HTTPCHECK_BODY_MAX;
			trunc = 1;
		}
		if (haslen && clen > keep)
			trunc = 1;
		memcpy(copy, body, keep);
	}
	copy[keep] = '\0';
	memset(res, 0, sizeof(*res));
	res->status = status;
	res->body = copy;
	res->bodylen = keep;
	res->truncated = trunc;
	if ((v = jc_http_head_get(&head, "Location", &vlen)) != NULL) {
		if (vlen >= sizeof(res->location))
			vlen = sizeof(res->location) - 1;
		memcpy(res->location, v, vlen);
		res->location[vlen] = '\0';
	}
	return 1;
}

static void
hc_finish(struct hc *h, int err)
{
	if (h->done)
		return;
	h->err = err;
	h->done = 1;
}

static void
hc_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct hc *h = arg;
	short ev;

	(void)deadline;
	h->slot = -1;
	if (h->done)
		return;
	ev = (!h->connected || h->reqoff < h->reqlen) ? POLLOUT : POLLIN;
	h->slot = jc_ps_add(ps, h->fd, ev);
}

static void
hc_read(struct hc *h)
{
	ssize_t n;
	int r;

	for (;;) {
		if (h->inlen >= RESP_MAX) {
			/* Enough to judge; the rest is not needed. */
			h->eof = 1;
			break;
		}
		n = read(h->fd, h->in + h->inlen, RESP_MAX - h->inlen);
		if (n > 0) {
			h->inlen += (size_t)n;
			continue;
		}
		if (n == 0) {
			h->eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (h->inlen == 0) {
			hc_finish(h, JC_ERR_CLOSED);
			return;
		}
		h->eof = 1;
		break;
	}
	if (h->inlen == 0) {
		if (h->eof)
			hc_finish(h, JC_ERR_CLOSED);
		return;
	}
	r = jc_httpcheck_parse(h->in, h->inlen, h->eof, h->res);
	if (r == 1)
		hc_finish(h, 0);
	else if (r < 0)
		hc_finish(h, r);
	else if (h->eof)
		hc_finish(h, JC_ERR_PROTO);
}

static void
hc_dispatch(void *arg, struct jc_pollset *ps)
{
	struct hc *h = arg;
	short re;
	ssize_t n;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (h->done || h->slot < 0)
		return;
	re = jc_ps_revents(ps, h->slot);
	if (re == 0)
		return;
	if (!h->connected) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			jc_debug("httpcheck: connect: %s",
			    strerror(soerr ? soerr : errno));
			hc_finish(h, JC_ERR_CLOSED);
			return;
		}
		h->connected = 1;
	}
	if (h->reqoff < h->reqlen) {
		n = send(h->fd, h->req + h->reqoff, h->reqlen - h->reqoff,
		    JC_MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			hc_finish(h, JC_ERR_CLOSED);
			return;
		}
		h->reqoff += (size_t)n;
		return;
	}
	if (re & (POLLIN | POLLHUP | POLLERR))
		hc_read(h);
}

static const struct jc_source_ops hc_ops = { hc_prepare, hc_dispatch };

int
jc_httpcheck_get(uint16_t port, const char *path, const char *token,
    int timeout_ms, struct jc_httpcheck *res)
{
	struct hc h;
	int r = JC_ERR_INTERNAL, n;
	struct jc_httpcheck tmp;

	memset(&h, 0, sizeof(h));
	memset(&tmp, 0, sizeof(tmp));
	h.fd = -1;
	h.res = &tmp;
	if (path == NULL || path[0] != '/' || strpbrk(path, " \r\n") != NULL)
		return JC_ERR_INTERNAL;
	if (token != NULL && (*token == '\0' || strpbrk(token, "\r\n")))
		token = NULL;
	n = snprintf(h.req, sizeof(h.req),
	    "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%u\r\n"
	    "User-Agent: jconnect/" JC_VERSION "\r\n"
	    "Accept: */*\r\n"
	    "Connection: close\r\n"
	    "%s%s%s"
	    "\r\n", path, port,
	    token ? "Authorization: token " : "", token ? token : "",
	    token ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(h.req)) {
		r = JC_ERR_INTERNAL;
		goto out;
	}
	h.reqlen = (size_t)n;
	jc_debug("httpcheck: GET %s on 127.0.0.1:%u%s", path, port,
	    token ? " (with token)" : "");
	if ((h.in = malloc(RESP_MAX + 1)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	if ((r = jc_net_connect_local(port, &h.fd)) != 0)
		goto out;
	if ((h.src = jc_source_add(&hc_ops, &h)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	r = jc_loop_run(&h.done, timeout_ms);
	if (r == 0)
		r = h.err;
	if (r == 0) {
		*res = tmp;
		memset(&tmp, 0, sizeof(tmp));
		jc_debug("httpcheck: %s -> %d", path, res->status);
	}
 out:
	if (h.src != NULL)
		jc_source_del(h.src);
	if (h.fd != -1)
		close(h.fd);
	jc_wipe(h.req, sizeof(h.req));
	free(h.in);
	jc_httpcheck_free(&tmp);
	return r;
}
