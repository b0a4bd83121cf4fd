/*
 * ssm_smux.c - smux protocol version 1 framing (little-endian 8-byte
 * header: version, cmd, length, stream id).  The frames travel as a byte
 * stream cut at arbitrary points across Output payloads, so the parser
 * is incremental and never needs more than the 8 header bytes of state.
 */
#include <string.h>

#include "ssm_host.h"
#include "ssm_smux.h"

void
ssm_smux_hdr(unsigned char out[SMUX_HDR], int cmd, uint16_t len, uint32_t sid)
{
	out[0] = SMUX_VER;
	out[1] = (unsigned char)cmd;
	out[2] = (unsigned char)len;
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)sid;
	out[5] = (unsigned char)(sid >> 8);
	out[6] = (unsigned char)(sid >> 16);
	out[7] = (unsigned char)(sid >> 24);
}

int
ssm_smux_parse(struct ssm_smux_rx *rx, const unsigned char *p, size_t n,
    struct ssm_smux_ev *ev, size_t *used)
{
	size_t k, off = 0;
	uint16_t len;
	int cmd;

	memset(ev, 0, sizeof(*ev));
	*used = 0;
	for (;;) {
		if (rx->left > 0) {
			/* Inside a PSH body: hand out what is here. */
			if (off == n) {
				*used = off;
				return 0;
			}
			ev->cmd = SMUX_PSH;
			ev->sid = rx->sid;
			ev->data = p + off;
			ev->len = n - off < rx->left ? n - off : rx->left;
			*used = off;
			return 1;
		}
		k = SMUX_HDR - rx->hlen;
		if (k > n - off)
			k = n - off;
		memcpy(rx->hdr + rx->hlen, p + off, k);
		rx->hlen += k;
		off += k;
		if (rx->hlen < SMUX_HDR) {
			*used = off;
			return 0;
		}
		rx->hlen = 0;
		if (rx->hdr[0] != SMUX_VER)
			return JC_ERR_PROTO;
		cmd = rx->hdr[1];
		len = (uint16_t)(rx->hdr[2] | rx->hdr[3] << 8);
		ev->sid = (uint32_t)rx->hdr[4] | (uint32_t)rx->hdr[5] << 8 |
		    (uint32_t)rx->hdr[6] << 16 | (uint32_t)rx->hdr[7] << 24;
		switch (cmd) {
		case SMUX_SYN:
		case SMUX_FIN:
		case SMUX_NOP:
			/* v1 reads no body for these: a length desyncs. */
			if (len != 0)
				return JC_ERR_PROTO;
			ev->cmd = cmd;
			*used = off;
			return 1;
		case SMUX_PSH:
			/* An empty PSH carries nothing: skip it. */
			rx->left = len;
			rx->sid = ev->sid;
			continue;
		default:
			return JC_ERR_PROTO;
		}
	}
}

void
ssm_smux_took(struct ssm_smux_rx *rx, size_t k)
{
	rx->left -= k > rx->left ? rx->left : (uint32_t)k;
}
