/*
 * fuzz_ws.c - libFuzzer target for the WebSocket client: the server's
 * upgrade answer, then the frames (through wslay and our buffering), then
 * each message as a ClientMessage.  The first byte picks the mode: even,
 * the input is an upgrade answer for a fixed key; odd, a valid 101 for
 * the key the client sent is synthesised and the rest are frames.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "jc_plugin.h"
#include "../../plugins/ssm/ssm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t	*p;
	size_t		 n, off;
	char		 hdr[256];
	size_t		 hlen, hoff;
	char		 req[1024];
	size_t		 reqlen;
};

static long
f_recv(void *ctx, void *buf, size_t n)
{
	struct feed *f = ctx;
	size_t k;

	if (f->hoff < f->hlen) {
		k = f->hlen - f->hoff < n ? f->hlen - f->hoff : n;
		memcpy(buf, f->hdr + f->hoff, k);
		f->hoff += k;
		return (long)k;
	}
	if (f->off == f->n)
		return 0;
	/* Odd-sized reads so frames straddle buffer ends. */
	k = f->n - f->off < 97 ? f->n - f->off : 97;
	if (k > n)
		k = n;
	memcpy(buf, f->p + f->off, k);
	f->off += k;
	return (long)k;
}

static long
f_send(void *ctx, const void *buf, size_t n)
{
	struct feed *f = ctx;
	const char *k;
	unsigned char d[SHA_DIGEST_LENGTH], acc[40];
	char cat[128];

	if (f->reqlen == 0 && n < sizeof(f->req)) {
		memcpy(f->req, buf, n);
		f->req[n] = '\0';
		f->reqlen = n;
		if ((k = strstr(f->req, "Sec-WebSocket-Key: ")) != NULL) {
			snprintf(cat, sizeof(cat), "%.24s258EAFA5-E914-47DA-"
			    "95CA-C5AB0DC85B11", k + 19);
			SHA1((unsigned char *)cat, strlen(cat), d);
			EVP_EncodeBlock(acc, d, sizeof(d));
			f->hlen = (size_t)snprintf(f->hdr, sizeof(f->hdr),
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
			    "websocket\r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		}
	}
	return (long)n;
}

static void
on_msg(void *arg, int text, const unsigned char *p, size_t n)
{
	struct ssm_msg m;

	(void)arg;
	(void)text;
	(void)ssm_msg_decode(p, n, &m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssm_ws_io io = { f_recv, f_send, NULL };
	struct feed f;
	struct ssm_ws *ws;
	char why[160];
	size_t hl;
	int i, r;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		r = ssm_ws_parse_upgrade((const char *)data + 1, size - 1,
		    "dGhlIHNhbXBsZSBub25jZQ==", &hl, why, sizeof(why));
		if (r == 0 && (hl > size - 1 || hl < 4))
			__builtin_trap();
		if (r < 0 && memchr(why, '\0', sizeof(why)) == NULL)
			__builtin_trap();
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.p = data + 1;
	f.n = size - 1;
	io.ctx = &f;
	if (ssm_ws_new_io(&io, -1, "h", "/", on_msg, NULL, &ws) != 0)
		return 0;
	(void)ssm_ws_send(ws, 0, "abc", 3);
	for (i = 0; i < 64; i++) {
		if (ssm_ws_run(ws, 1) != 0)
			break;
		if (i == 1)
			(void)ssm_ws_ping(ws);
	}
	ssm_ws_free(ws);
	return 0;
}
