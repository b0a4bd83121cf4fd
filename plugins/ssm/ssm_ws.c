/*
 * ssm_ws.c - a WebSocket client: libcurl connect-only for TCP, TLS and
 * proxies (this libcurl has no ws:// support), our own HTTP upgrade, and
 * wslay for framing.
 *
 * libcurl's multi interface does the connect (TCP, TLS, proxy tunnel): either
 * driven by the core loop (ssm_ws_dial_start) or waited for
 * (ssm_ws_connect_wait); everything after that is non-blocking in the core
 * loop.  Reads and writes go through two large local buffers so wslay's 4 KiB
 * steps do not become 4 KiB system calls, and every read loop runs until the
 * transport says "would block", so TLS never holds bytes poll() cannot see
 * (unless the per-call budget ran out; ssm_ws_pending() then says so).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "http_head.h"
#include "ssm_host.h"
#include "ssm_msg.h"
#include "ssm_ws.h"
#include "tls_hint.h"

#define WS_INBUF	(256 * 1024)	/* transport -> wslay */
#define WS_OUTBUF	(512 * 1024)	/* frames -> transport */
#define WS_RX_BUDGET	(4u << 20)	/* bytes read per ssm_ws_run */
#define WS_HDR_MAX	16384		/* upgrade answer */
#define WS_MAX_MSG	(64u << 20)	/* largest message accepted */
#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define WS_CSOCKS	4		/* sockets libcurl may try at once */

struct ssm_ws {
	CURL			*curl;	/* NULL with a caller transport */
	CURLM			*multi;	/* connects; then holds the socket */
	struct {
		curl_socket_t	 fd;
		int		 what;	/* CURL_POLL_* */
		int		 slot;	/* in this pass's pollset, or -1 */
	}			 csock[WS_CSOCKS];
	int			 ncsock;
	int64_t			 ctimer;	/* libcurl's timer, -1: none */
	char			 hostport[300];	/* for messages */
	char			 origin[320];	/* "wss://host:port" */
	char			 why[600];	/* why the connect failed */
	struct ssm_ws_io	 io;
	int			 fd;
	int			 state;		/* SSM_WS_* */
	wslay_event_context_ptr	 ctx;
	ssm_ws_msg_fn		*on_msg;
	void			*arg;
	char			 key[32];	/* Sec-WebSocket-Key */
	char			*req;		/* upgrade request */
	size_t			 reqlen, reqoff;
	char			*hdr;		/* upgrade answer so far */
	size_t			 hdrlen;
	unsigned char		*in;		/* read, not yet parsed */
	size_t			 inoff, inlen;
	unsigned char		*out;		/* framed, not yet written */
	size_t			 outoff, outlen;
	unsigned char		*msg;	/* data message being received */
	size_t			 msglen, msgcap;
	int			 msgtext;	/* its first frame was text */
	int			 in_data; /* current frame is not control */
	int			 too_big;	/* message over WS_MAX_MSG */
	size_t			 budget;	/* rx bytes left this run */
	int			 more;		/* budget ran out */
	int			 eof;		/* transport EOF */
	int			 ioerr;		/* transport error */
	int			 close_code;
	char			 close_reason[200];
	int64_t			 last_rx;	/* monotonic ms of the last read */
};

static int ws_fail(struct ssm_ws *, int);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- transports -------------------------------------------------------- */

static long
curl_recv_fn(void *c, void *buf, size_t n)
{
	size_t got = 0;
	CURLcode rc = curl_easy_recv(c, buf, n, &got);

	if (rc == CURLE_AGAIN)
		return -1;
	if (rc != CURLE_OK)
		return -2;
	return (long)got;
}

static long
curl_send_fn(void *c, const void *buf, size_t n)
{
	size_t sent = 0;
	CURLcode rc = curl_easy_send(c, buf, n, &sent);

	if (rc == CURLE_AGAIN)
		return -1;
	if (rc != CURLE_OK)
		return -2;
	return (long)sent;
}

/* ---- buffered I/O under wslay ------------------------------------------ */

/* Write buffered output until the transport would block. */
static int
flush_out(struct ssm_ws *ws)
{
	long n;

	while (ws->outlen > 0) {
		n = ws->io.send(ws->io.ctx, ws->out + ws->outoff, ws->outlen);
		if (n == -1)
			return 0;
		if (n <= 0) {
			ws->ioerr = 1;
			return JC_ERR_IO;
		}
		ws->outoff += (size_t)n;
		ws->outlen -= (size_t)n;
	}
	ws->outoff = 0;
	return 0;
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *user)
{
	struct ssm_ws *ws = user;
	long n;

	(void)flags;
	if (ws->inlen == 0) {
		if (ws->budget == 0) {
			ws->more = 1;
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
		n = ws->io.recv(ws->io.ctx, ws->in, WS_INBUF);
		if (n == -1) {
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
		if (n > 0)
			ws->last_rx = mono_ms();
		if (n <= 0) {
			if (n == 0)
				ws->eof = 1;
			else
				ws->ioerr = 1;
			wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
			return -1;
		}
		ws->inoff = 0;
		ws->inlen = (size_t)n;
		ws->budget = (size_t)n >= ws->budget ? 0 :
		    ws->budget - (size_t)n;
	}
	if (len > ws->inlen)
		len = ws->inlen;
	memcpy(buf, ws->in + ws->inoff, len);
	ws->inoff += len;
	ws->inlen -= len;
	return (ssize_t)len;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *user)
{
	struct ssm_ws *ws = user;
	size_t room;

	(void)flags;
	if (ws->outoff + ws->outlen + len > WS_OUTBUF && ws->outoff > 0) {
		memmove(ws->out, ws->out + ws->outoff, ws->outlen);
		ws->outoff = 0;
	}
	room = WS_OUTBUF - (ws->outoff + ws->outlen);
	if (room == 0) {
		if (flush_out(ws) != 0) {
			wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
			return -1;
		}
		if (ws->outlen > 0 && ws->outoff > 0) {
			memmove(ws->out, ws->out + ws->outoff, ws->outlen);
			ws->outoff = 0;
		}
		room = WS_OUTBUF - (ws->outoff + ws->outlen);
		if (room == 0) {
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
	}
	if (len > room)
		len = room;
	memcpy(ws->out + ws->outoff + ws->outlen, data, len);
	ws->outlen += len;
	return (ssize_t)len;
}

static int
genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	return ssm_rand(buf, len) == 0 ? 0 : -1;
}

/*
 * Data frames are not buffered by wslay (no_buffering): their payload is
 * gathered here, once, into a buffer that is reused for every message.
 * Control frames still come whole through msg_cb.
 */
static void
frame_start_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *a, void *user)
{
	struct ssm_ws *ws = user;

	(void)ctx;
	ws->in_data = (a->opcode & 0x8) == 0;
	if (!ws->in_data)
		return;
	if (a->opcode != WSLAY_CONTINUATION_FRAME) {
		ws->msglen = 0;
		ws->too_big = 0;
		ws->msgtext = a->opcode == WSLAY_TEXT_FRAME;
	}
	if (a->payload_length > WS_MAX_MSG - ws->msglen)
		ws->too_big = 1;
}

static void
frame_chunk_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_chunk_arg *a, void *user)
{
	struct ssm_ws *ws = user;
	unsigned char *n;
	size_t cap;

	(void)ctx;
	if (!ws->in_data || ws->too_big || a->data_length == 0)
		return;
	if (ws->msglen + a->data_length > ws->msgcap) {
		cap = ws->msgcap ? ws->msgcap : 65536;
		while (cap < ws->msglen + a->data_length)
			cap *= 2;
		if ((n = realloc(ws->msg, cap)) == NULL) {
			ws->too_big = 1;
			return;
		}
		ws->msg = n;
		ws->msgcap = cap;
	}
	memcpy(ws->msg + ws->msglen, a->data, a->data_length);
	ws->msglen += a->data_length;
}

static void
msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg
    *a, void *user)
{
	struct ssm_ws *ws = user;
	size_t n;

	(void)ctx;
	switch (a->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		if (ws->on_msg != NULL && !ws->too_big)
			ws->on_msg(ws->arg, ws->msgtext, ws->msg, ws->msglen);
		ws->msglen = 0;
		break;
	case WSLAY_CONNECTION_CLOSE:
		ws->close_code = a->status_code;
		n = a->msg_length > 2 ? a->msg_length - 2 : 0;
		if (n >= sizeof(ws->close_reason))
			n = sizeof(ws->close_reason) - 1;
		if (n > 0)
			memcpy(ws->close_reason, a->msg + 2, n);
		ws->close_reason[n] = '\0';
		break;
	default:
		break;
	}
}

static const struct wslay_event_callbacks ws_callbacks = {
	recv_cb, send_cb, genmask_cb, frame_start_cb, frame_chunk_cb, NULL,
	msg_cb
};

/* ---- upgrade ----------------------------------------------------------- */

static void
accept_value(const char *key, char out[32])
{
	unsigned char d[SHA_DIGEST_LENGTH];
	char buf[64 + sizeof(WS_GUID)];

	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)buf, strlen(buf), d);
	EVP_EncodeBlock((unsigned char *)out, d, (int)sizeof(d));
}

int
ssm_ws_parse_upgrade(const char *buf, size_t len, const char *key,
    size_t *hdrlen, char *why, size_t whylen)
{
	struct jc_http_head h;
	const char *name, *v;
	char want[32];
	size_t i, nl, vl, off = 0;
	int r, up = 0, conn = 0, acc = 0;

	if ((r = jc_http_head_parse(buf, len, WS_HDR_MAX, &h)) != 1) {
		if (r == 0)
			return 1;
		snprintf(why, whylen, "upgrade answer too long");
		return JC_ERR_PROTO;
	}
	if (h.status != 101 || h.versionlen != 3 ||
	    memcmp(h.version, "1.1", 3) != 0) {
		for (i = 0; i < h.linelen; i++)
			if (buf[i] < 0x20 || buf[i] > 0x7e)
				break;
		snprintf(why, whylen, "server answered \"%.*s\" instead of "
		    "101 Switching Protocols", (int)(i > 80 ? 80 : i), buf);
		return JC_ERR_PROTO;
	}
	accept_value(key, want);
	while (jc_http_head_next(&h, &off, &name, &nl, &v, &vl)) {
#define HDR_IS(s) (nl == sizeof(s) - 1 && strncasecmp(name, s, nl) == 0)
		if (HDR_IS("Upgrade"))
			up |= jc_http_has_token(v, vl, "websocket");
		else if (HDR_IS("Connection"))
			conn |= jc_http_has_token(v, vl, "upgrade");
		else if (HDR_IS("Sec-WebSocket-Accept"))
			acc = vl == strlen(want) && memcmp(v, want, vl) == 0;
		else if (HDR_IS("Sec-WebSocket-Extensions") ||
		    HDR_IS("Sec-WebSocket-Protocol")) {
			snprintf(why, whylen, "server chose an extension or "
			    "subprotocol that was not offered");
			return JC_ERR_PROTO;
		}
#undef HDR_IS
	}
	if (!up || !conn || !acc) {
		snprintf(why, whylen, "bad upgrade answer (%s)", !up ?
		    "no Upgrade: websocket" : !conn ? "no Connection: upgrade" :
		    "wrong Sec-WebSocket-Accept");
		return JC_ERR_PROTO;
	}
	*hdrlen = h.len;
	return 0;
}

static int
ws_init(struct ssm_ws *ws, const char *host, const char *path)
{
	unsigned char raw[16];
	int n;

	if ((ws->in = malloc(WS_INBUF)) == NULL ||
	    (ws->out = malloc(WS_OUTBUF)) == NULL ||
	    (ws->hdr = malloc(WS_HDR_MAX)) == NULL)
		return JC_ERR_NOMEM;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return JC_ERR_INTERNAL;
	EVP_EncodeBlock((unsigned char *)ws->key, raw, sizeof(raw));
	n = snprintf(NULL, 0, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "User-Agent: jconnect-ssm/" SSM_CLIENT_VERSION "\r\n\r\n",
	    path, host, ws->key);
	if (n < 0 || (ws->req = malloc((size_t)n + 1)) == NULL)
		return JC_ERR_NOMEM;
	snprintf(ws->req, (size_t)n + 1, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "User-Agent: jconnect-ssm/" SSM_CLIENT_VERSION "\r\n\r\n",
	    path, host, ws->key);
	ws->reqlen = (size_t)n;
	if (wslay_event_context_client_init(&ws->ctx, &ws_callbacks, ws) != 0)
		return JC_ERR_NOMEM;
	wslay_event_config_set_max_recv_msg_length(ws->ctx, WS_MAX_MSG);
	wslay_event_config_set_no_buffering(ws->ctx, 1);
	ws->state = SSM_WS_UPGRADING;
	return 0;
}

int
ssm_ws_new_io(const struct ssm_ws_io *io, int fd, const char *host,
    const char *path, ssm_ws_msg_fn *on_msg, void *arg, struct ssm_ws **out)
{
	struct ssm_ws *ws;
	int r;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return JC_ERR_NOMEM;
	ws->io = *io;
	ws->fd = fd;
	ws->on_msg = on_msg;
	ws->arg = arg;
	if ((r = ws_init(ws, host, path)) != 0) {
		ssm_ws_free(ws);
		return r;
	}
	*out = ws;
	return 0;
}

/*
 * OpenSSL reads each TLS record (16 KiB at most) in two recv() calls,
 * header then body, unless it may read ahead: with a read-ahead buffer
 * as large as ours one recv() brings many records.  Nothing stays hidden
 * from poll() in that buffer, because every read loop here runs until
 * the transport would block.  Only for libcurl built with OpenSSL.
 */
static CURLcode
tls_tune(CURL *curl, void *sslctx, void *arg)
{
	(void)curl;
	(void)arg;
	SSL_CTX_set_read_ahead((SSL_CTX *)sslctx, 1);
	SSL_CTX_set_default_read_buffer_len((SSL_CTX *)sslctx, WS_INBUF);
	return CURLE_OK;
}

static int
curl_uses_openssl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v->ssl_version != NULL &&
	    strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
}

static int
csock_cb(CURL *e, curl_socket_t fd, int what, void *u, void *sp)
{
	struct ssm_ws *ws = u;
	int i;

	(void)e;
	(void)sp;
	for (i = 0; i < ws->ncsock && ws->csock[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < ws->ncsock)
			ws->csock[i] = ws->csock[--ws->ncsock];
		return 0;
	}
	if (i == ws->ncsock) {
		if (ws->ncsock == WS_CSOCKS)
			return -1;
		ws->ncsock++;
		ws->csock[i].fd = fd;
		ws->csock[i].slot = -1;
	}
	ws->csock[i].what = what;
	return 0;
}

static int
ctimer_cb(CURLM *m, long ms, void *u)
{
	struct ssm_ws *ws = u;

	(void)m;
	ws->ctimer = ms < 0 ? -1 : ssm_host->now_ms() + ms;
	return 0;
}

/*
 * Split a ws(s):// (or http(s)://) URL into what the connect and the
 * upgrade need: "wss://host[:port]" in origin, "host[:port]" in hostport,
 * the http(s) URL of the origin for libcurl in *hurl, path?query in
 * *target (both malloc'd; NULL pointers skip them).
 */
static int
url_split(const char *url, char *origin, size_t on, char *hostport,
    size_t hn, char **hurl, char **target, char *why, size_t whylen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL, *h = NULL;
	size_t vl;
	int r = JC_ERR_NOMEM, tls;

	snprintf(why, whylen, "out of memory");
	if ((u = curl_url()) == NULL)
		return JC_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, whylen, "bad StreamUrl");
		r = JC_ERR_PROTO;
		goto out;
	}
	if (strcmp(scheme, "wss") == 0 || strcmp(scheme, "https") == 0)
		tls = 1;
	else if (strcmp(scheme, "ws") == 0 || strcmp(scheme, "http") == 0)
		tls = 0;
	else {
		snprintf(why, whylen, "StreamUrl scheme %.16s is not ws/wss",
		    scheme);
		r = JC_ERR_PROTO;
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	snprintf(hostport, hn, "%s%s%s", host, port != NULL ? ":" : "",
	    port != NULL ? port : "");
	snprintf(origin, on, "%s://%s", tls ? "wss" : "ws", hostport);
	if (target != NULL) {
		if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
			goto out;
		curl_url_get(u, CURLUPART_QUERY, &query, 0);
		vl = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
		if ((*target = malloc(vl)) == NULL)
			goto out;
		snprintf(*target, vl, "%s%s%s", path, query ? "?" : "",
		    query ? query : "");
	}
	if (hurl != NULL) {
		if (curl_url_set(u, CURLUPART_SCHEME, tls ? "https" : "http",
		    0) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_URL, &h, 0) != CURLUE_OK)
			goto out;
		if ((*hurl = strdup(h)) == NULL)
			goto out;
	}
	why[0] = '\0';
	r = 0;
 out:
	if (r != 0 && target != NULL) {
		free(*target);
		*target = NULL;
	}
	curl_free(h);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return r;
}

int
ssm_ws_preconnect(const char *url, const char *cafile, int timeout_ms,
    struct ssm_ws **out, char *why, size_t whylen)
{
	struct ssm_ws *ws;
	char *hurl = NULL;
	int r;

	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return JC_ERR_NOMEM;
	}
	ws->fd = -1;
	ws->ctimer = -1;
	if ((r = url_split(url, ws->origin, sizeof(ws->origin), ws->hostport,
	    sizeof(ws->hostport), &hurl, NULL, why, whylen)) != 0)
		goto out;
	r = JC_ERR_NOMEM;
	snprintf(why, whylen, "out of memory");
	if ((ws->curl = curl_easy_init()) == NULL ||
	    (ws->multi = curl_multi_init()) == NULL)
		goto out;
	curl_easy_setopt(ws->curl, CURLOPT_URL, hurl);
	curl_easy_setopt(ws->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(ws->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL)
		curl_easy_setopt(ws->curl, CURLOPT_CAINFO, cafile);
	if (strncmp(ws->origin, "wss:", 4) == 0 && curl_uses_openssl())
		curl_easy_setopt(ws->curl, CURLOPT_SSL_CTX_FUNCTION, tls_tune);
	/* Kept until the handle is freed: libcurl writes it when failing. */
	curl_easy_setopt(ws->curl, CURLOPT_ERRORBUFFER, ws->why);
	/* A proxy from the environment must tunnel, not relay a GET. */
	curl_easy_setopt(ws->curl, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(ws->curl, CURLOPT_TCP_NODELAY, 1L);
	/* curl_easy_recv reads at most this much per call (16 KiB else). */
	curl_easy_setopt(ws->curl, CURLOPT_BUFFERSIZE, (long)WS_INBUF);
	curl_multi_setopt(ws->multi, CURLMOPT_SOCKETFUNCTION, csock_cb);
	curl_multi_setopt(ws->multi, CURLMOPT_SOCKETDATA, ws);
	curl_multi_setopt(ws->multi, CURLMOPT_TIMERFUNCTION, ctimer_cb);
	curl_multi_setopt(ws->multi, CURLMOPT_TIMERDATA, ws);
	ws->io.recv = curl_recv_fn;
	ws->io.send = curl_send_fn;
	ws->io.ctx = ws->curl;
	ws->state = SSM_WS_CONNECTING;
	if (curl_multi_add_handle(ws->multi, ws->curl) != CURLM_OK) {
		snprintf(why, whylen, "libcurl refused the connection");
		r = JC_ERR_UNREACHABLE;
		goto out;
	}
	*out = ws;
	ws = NULL;
	why[0] = '\0';
	r = 0;
 out:
	ssm_ws_free(ws);
	free(hurl);
	return r;
}

int
ssm_ws_adopt(struct ssm_ws *ws, const char *url, ssm_ws_msg_fn *on_msg,
    void *arg)
{
	char origin[sizeof(ws->origin)], hostport[sizeof(ws->hostport)];
	char why[64], *target = NULL;
	int r, state = ws->state;

	if (ws->req != NULL || state == SSM_WS_CLOSED || url_split(url,
	    origin, sizeof(origin), hostport, sizeof(hostport), NULL, &target,
	    why, sizeof(why)) != 0)
		return -1;
	if (strcmp(origin, ws->origin) != 0) {
		free(target);
		return -1;
	}
	ws->on_msg = on_msg;
	ws->arg = arg;
	r = ws_init(ws, ws->hostport, target);
	free(target);
	if (r != 0)
		return r;
	/* Framing is ready at once: messages may be queued while dialling. */
	if (state == SSM_WS_CONNECTING)
		ws->state = SSM_WS_CONNECTING;
	return 0;
}

int
ssm_ws_origin(const char *url, char *origin, size_t n)
{
	char hostport[300], why[64];

	return url_split(url, origin, n, hostport, sizeof(hostport), NULL,
	    NULL, why, sizeof(why)) == 0 ? 0 : -1;
}

int
ssm_ws_dial_start(const char *url, const char *cafile, int timeout_ms,
    ssm_ws_msg_fn *on_msg, void *arg, struct ssm_ws **out, char *why,
    size_t whylen)
{
	struct ssm_ws *ws;
	int r;

	if ((r = ssm_ws_preconnect(url, cafile, timeout_ms, &ws, why,
	    whylen)) != 0)
		return r;
	if ((r = ssm_ws_adopt(ws, url, on_msg, arg)) != 0) {
		ssm_ws_free(ws);
		snprintf(why, whylen, "out of memory");
		return r < 0 ? JC_ERR_PROTO : r;
	}
	*out = ws;
	return 0;
}

void
ssm_ws_connect_prepare(struct ssm_ws *ws, struct jc_pollset *ps,
    int64_t *deadline)
{
	short ev;
	long ms;
	int i;

	if (ws->state != SSM_WS_CONNECTING)
		return;
	for (i = 0; i < ws->ncsock; i++) {
		ev = 0;
		if (ws->csock[i].what & CURL_POLL_IN)
			ev |= POLLIN;
		if (ws->csock[i].what & CURL_POLL_OUT)
			ev |= POLLOUT;
		ws->csock[i].slot = ssm_host->ps_add(ps, (int)ws->csock[i].fd,
		    ev);
	}
	/* libcurl may not repeat a timeout it already gave: ask it too. */
	if (curl_multi_timeout(ws->multi, &ms) == CURLM_OK && ms >= 0 &&
	    (ws->ctimer < 0 || ssm_host->now_ms() + ms < ws->ctimer))
		ws->ctimer = ssm_host->now_ms() + ms;
	if (ws->ctimer >= 0 && (*deadline < 0 || ws->ctimer < *deadline))
		*deadline = ws->ctimer;
}

/* libcurl finished the connect with rc: on to the upgrade, or failed. */
static int
connect_done(struct ssm_ws *ws, CURLcode rc)
{
	char err[CURL_ERROR_SIZE];
	curl_socket_t sock = CURL_SOCKET_BAD;

	if (rc != CURLE_OK) {
		snprintf(err, sizeof(err), "%.200s", ws->why);
		snprintf(ws->why, sizeof(ws->why), "cannot connect to %s: "
		    "%s%s", ws->hostport, err[0] != '\0' ? err :
		    curl_easy_strerror(rc), jc_tls_hint(rc));
		return ws_fail(ws, JC_ERR_UNREACHABLE);
	}
	if (curl_easy_getinfo(ws->curl, CURLINFO_ACTIVESOCKET, &sock) !=
	    CURLE_OK || sock == CURL_SOCKET_BAD) {
		snprintf(ws->why, sizeof(ws->why), "no socket after "
		    "connecting to %s", ws->hostport);
		return ws_fail(ws, JC_ERR_UNREACHABLE);
	}
	ws->fd = (int)sock;
	ws->why[0] = '\0';
	/* Made ahead: idle until a StreamUrl adopts it. */
	ws->state = ws->req != NULL ? SSM_WS_UPGRADING : SSM_WS_IDLE;
	return 0;
}

/*
 * Run libcurl for the sockets whose events are given (fd, CURL_CSELECT_*)
 * and its timer; 0 while connecting or connected, else the failure.
 */
static int
connect_act(struct ssm_ws *ws, const curl_socket_t *fd, const int *mask,
    int n)
{
	CURLMsg *m;
	int i, running, left;

	for (i = 0; i < n && ws->state == SSM_WS_CONNECTING; i++)
		curl_multi_socket_action(ws->multi, fd[i], mask[i], &running);
	if (ws->ctimer >= 0 && ssm_host->now_ms() >= ws->ctimer) {
		ws->ctimer = -1;
		curl_multi_socket_action(ws->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((m = curl_multi_info_read(ws->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && ws->state == SSM_WS_CONNECTING)
			return connect_done(ws, m->data.result);
	return 0;
}

static int
cselect(short rev)
{
	return (rev & POLLIN ? CURL_CSELECT_IN : 0) |
	    (rev & POLLOUT ? CURL_CSELECT_OUT : 0) |
	    (rev & (POLLERR | POLLHUP | POLLNVAL) ? CURL_CSELECT_ERR : 0);
}

int
ssm_ws_connect_step(struct ssm_ws *ws, struct jc_pollset *ps)
{
	curl_socket_t fd[WS_CSOCKS];
	int mask[WS_CSOCKS], i, n = 0;
	short rev;

	if (ws->state != SSM_WS_CONNECTING)
		return ws->state == SSM_WS_CLOSED ? JC_ERR_UNREACHABLE : 0;
	/* The callbacks change the socket list: act on a copy. */
	for (i = 0; i < ws->ncsock; i++) {
		if (ws->csock[i].slot < 0)
			continue;
		rev = ssm_host->ps_revents(ps, ws->csock[i].slot);
		ws->csock[i].slot = -1;
		if (rev != 0) {
			fd[n] = ws->csock[i].fd;
			mask[n++] = cselect(rev);
		}
	}
	return connect_act(ws, fd, mask, n);
}

const char *
ssm_ws_why(const struct ssm_ws *ws)
{
	return ws->why;
}

int
ssm_ws_connect_wait(struct ssm_ws *ws, char *why, size_t whylen)
{
	struct pollfd pfd[WS_CSOCKS];
	curl_socket_t fd[WS_CSOCKS];
	int64_t wait;
	long ms;
	int mask[WS_CSOCKS], i, n, r;

	while (ws->state == SSM_WS_CONNECTING) {
		for (i = 0; i < ws->ncsock; i++) {
			pfd[i].fd = (int)ws->csock[i].fd;
			pfd[i].events = (short)((ws->csock[i].what &
			    CURL_POLL_IN ? POLLIN : 0) | (ws->csock[i].what &
			    CURL_POLL_OUT ? POLLOUT : 0));
			pfd[i].revents = 0;
		}
		n = ws->ncsock;
		if (curl_multi_timeout(ws->multi, &ms) == CURLM_OK &&
		    ms >= 0 && (ws->ctimer < 0 ||
		    ssm_host->now_ms() + ms < ws->ctimer))
			ws->ctimer = ssm_host->now_ms() + ms;
		wait = ws->ctimer < 0 ? 100 : ws->ctimer - ssm_host->now_ms();
		if (wait < 0)
			wait = 0;
		if (poll(pfd, (nfds_t)n, (int)(wait > 100 ? 100 : wait)) < 0 &&
		    errno != EINTR)
			break;
		for (i = 0, r = 0; i < n; i++)
			if (pfd[i].revents != 0) {
				fd[r] = pfd[i].fd;
				mask[r++] = cselect(pfd[i].revents);
			}
		if (connect_act(ws, fd, mask, r) != 0)
			break;
	}
	if (ws->state != SSM_WS_UPGRADING && ws->state != SSM_WS_IDLE) {
		snprintf(why, whylen, "%s", ws->why[0] != '\0' ? ws->why :
		    "the connect was interrupted");
		return JC_ERR_UNREACHABLE;
	}
	return 0;
}

void
ssm_ws_free(struct ssm_ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	if (ws->multi != NULL && ws->curl != NULL)
		curl_multi_remove_handle(ws->multi, ws->curl);
	if (ws->curl != NULL)
		curl_easy_cleanup(ws->curl);
	if (ws->multi != NULL)
		curl_multi_cleanup(ws->multi);
	free(ws->req);
	free(ws->hdr);
	free(ws->in);
	free(ws->out);
	free(ws->msg);
	free(ws);
}

int
ssm_ws_fd(const struct ssm_ws *ws)
{
	return ws->fd;
}

int
ssm_ws_state(const struct ssm_ws *ws)
{
	return ws->state;
}

short
ssm_ws_events(const struct ssm_ws *ws)
{
	short ev = 0;

	if (ws->state == SSM_WS_CLOSED || ws->state == SSM_WS_CONNECTING ||
	    ws->state == SSM_WS_IDLE)
		return 0;
	ev = POLLIN;
	if (ws->reqoff < ws->reqlen || ws->outlen > 0)
		ev |= POLLOUT;
	return ev;
}

int
ssm_ws_pending(const struct ssm_ws *ws)
{
	return ws->state != SSM_WS_CLOSED && (ws->more || ws->inlen > 0);
}

static int
ws_fail(struct ssm_ws *ws, int r)
{
	ws->state = SSM_WS_CLOSED;
	return r;
}

/* Send the request, read the 101; leftover bytes are the first frames. */
static int
upgrade_step(struct ssm_ws *ws)
{
	struct jc_http_head hh;
	char why[160];
	size_t hl = 0;
	long n;
	int r;

	while (ws->reqoff < ws->reqlen) {
		n = ws->io.send(ws->io.ctx, ws->req + ws->reqoff,
		    ws->reqlen - ws->reqoff);
		if (n == -1)
			return 0;
		if (n <= 0)
			return ws_fail(ws, JC_ERR_IO);
		ws->reqoff += (size_t)n;
	}
	for (;;) {
		n = ws->io.recv(ws->io.ctx, ws->hdr + ws->hdrlen,
		    WS_HDR_MAX - ws->hdrlen);
		if (n == -1)
			return 0;
		if (n == 0) {
			ws->eof = 1;
			return ws_fail(ws, JC_ERR_CLOSED);
		}
		if (n < 0)
			return ws_fail(ws, JC_ERR_IO);
		ws->hdrlen += (size_t)n;
		r = ssm_ws_parse_upgrade(ws->hdr, ws->hdrlen, ws->key, &hl, why,
		    sizeof(why));
		if (r < 0) {
			ssm_log(JC_LOG_DEBUG, "WebSocket upgrade: %s", why);
			snprintf(ws->close_reason, sizeof(ws->close_reason),
			    "%s", why);
			/* An HTTP status as the code: no close code is < 1000. */
			if (jc_http_head_parse(ws->hdr, ws->hdrlen, WS_HDR_MAX,
			    &hh) == 1 && hh.status != 0 && hh.status < 600 &&
			    hh.versionlen > 2 &&
			    strncmp(hh.version, "1.", 2) == 0)
				ws->close_code = hh.status;
			return ws_fail(ws, r);
		}
		if (r == 0)
			break;
	}
	memcpy(ws->in, ws->hdr + hl, ws->hdrlen - hl);
	ws->inoff = 0;
	ws->inlen = ws->hdrlen - hl;
	free(ws->hdr);
	ws->hdr = NULL;
	ws->state = SSM_WS_OPEN;
	return 0;
}

int
ssm_ws_run(struct ssm_ws *ws, int rx)
{
	int r;

	if (ws->state == SSM_WS_CLOSED)
		return JC_ERR_CLOSED;
	if (ws->state == SSM_WS_CONNECTING || ws->state == SSM_WS_IDLE)
		return 0;
	if (ws->state == SSM_WS_UPGRADING) {
		if ((r = upgrade_step(ws)) != 0)
			return r;
		if (ws->state != SSM_WS_OPEN)
			return 0;
		/* First frames may sit in TLS buffers, out of poll()'s view. */
		rx = 1;
	}
	if (rx || ws->inlen > 0) {
		ws->budget = WS_RX_BUDGET;
		ws->more = 0;
		if (wslay_event_recv(ws->ctx) != 0) {
			if (ws->eof || wslay_event_get_close_received(ws->ctx))
				return ws_fail(ws, JC_ERR_CLOSED);
			return ws_fail(ws, ws->ioerr ? JC_ERR_IO :
			    JC_ERR_PROTO);
		}
		if (ws->too_big) {
			ssm_log(JC_LOG_DEBUG, "WebSocket message over %u bytes",
			    WS_MAX_MSG);
			return ws_fail(ws, JC_ERR_PROTO);
		}
	}
	if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0)
		return ws_fail(ws, JC_ERR_IO);
	if (flush_out(ws) != 0)
		return ws_fail(ws, JC_ERR_IO);
	if (wslay_event_get_close_received(ws->ctx)) {
		/* Our close answer is queued: one try to send it. */
		if (wslay_event_want_write(ws->ctx))
			(void)wslay_event_send(ws->ctx);
		(void)flush_out(ws);
		return ws_fail(ws, JC_ERR_CLOSED);
	}
	return 0;
}

/* XOR with the 4-byte mask, eight bytes at a time, into dst. */
static void
mask_copy(unsigned char *dst, const unsigned char *src, size_t n,
    const unsigned char key[4])
{
	unsigned char k8[8];
	uint64_t w, k;
	size_t i = 0;

	memcpy(k8, key, 4);
	memcpy(k8 + 4, key, 4);
	memcpy(&k, k8, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		w ^= k;
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ key[i % 4];
}

/*
 * Frame one message straight into the output buffer: a single pass that
 * masks and copies (wslay would copy it, then mask it a byte at a time).
 * Only when wslay has nothing queued, so messages keep their order.
 * Returns 1 when done, 0 when the slow path must take it.
 */
static int
send_fast(struct ssm_ws *ws, int text, const void *p, size_t n)
{
	unsigned char *h, key[4];
	size_t hl = n < 126 ? 2 : n < 65536 ? 4 : 10, i;

	if (ws->state != SSM_WS_OPEN || wslay_event_want_write(ws->ctx))
		return 0;
	if (ws->outoff + ws->outlen + hl + 4 + n > WS_OUTBUF &&
	    ws->outoff > 0) {
		memmove(ws->out, ws->out + ws->outoff, ws->outlen);
		ws->outoff = 0;
	}
	if (ws->outlen + hl + 4 + n > WS_OUTBUF)
		return 0;
	if (ssm_rand(key, sizeof(key)) != 0)
		return 0;
	h = ws->out + ws->outoff + ws->outlen;
	h[0] = 0x80 | (text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME);
	if (hl == 2)
		h[1] = 0x80 | (unsigned char)n;
	else if (hl == 4) {
		h[1] = 0x80 | 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
	} else {
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(h + hl, key, 4);
	mask_copy(h + hl + 4, p, n, key);
	ws->outlen += hl + 4 + n;
	return 1;
}

int
ssm_ws_send(struct ssm_ws *ws, int text, const void *p, size_t n)
{
	struct wslay_event_msg m;

	if (ws->state == SSM_WS_CLOSED)
		return JC_ERR_CLOSED;
	if (send_fast(ws, text, p, n))
		return 0;
	m.opcode = text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME;
	m.msg = p;
	m.msg_length = n;
	switch (wslay_event_queue_msg(ws->ctx, &m)) {
	case 0:
		return 0;
	case WSLAY_ERR_NOMEM:
		return JC_ERR_NOMEM;
	default:
		return JC_ERR_CLOSED;
	}
}

void
ssm_ws_flush(struct ssm_ws *ws)
{
	if (ws->state == SSM_WS_OPEN && ws->outlen > 0 && flush_out(ws) != 0)
		ws->state = SSM_WS_CLOSED;
}

size_t
ssm_ws_backlog(const struct ssm_ws *ws)
{
	if (ws->ctx == NULL)
		return ws->outlen;
	return ws->outlen + wslay_event_get_queued_msg_length(ws->ctx);
}

int
ssm_ws_ping(struct ssm_ws *ws)
{
	struct wslay_event_msg m;

	if (ws->state == SSM_WS_CLOSED)
		return JC_ERR_CLOSED;
	m.opcode = WSLAY_PING;
	m.msg = (const uint8_t *)"keepalive";
	m.msg_length = 9;
	return wslay_event_queue_msg(ws->ctx, &m) == 0 ? 0 : JC_ERR_NOMEM;
}

int64_t
ssm_ws_last_rx(const struct ssm_ws *ws)
{
	return ws->last_rx;
}

void
ssm_ws_close_info(const struct ssm_ws *ws, int *code, char *reason, size_t n)
{
	*code = ws->close_code;
	snprintf(reason, n, "%s", ws->close_reason);
}
