/*
 * fuzz_ssm_frame.c - libFuzzer target for the ClientMessage decoder and
 * the payload parsers behind it (ack, channel_closed, exit code): every
 * frame the agent or MGS sends passes through them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jc_plugin.h"
#include "../../plugins/ssm/ssm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssm_msg m;
	unsigned char *f;
	char out[256];
	int64_t seq;
	int code;

	if (ssm_msg_decode(data, size, &m) != 0)
		return 0;
	if (memchr(m.type, '\0', sizeof(m.type)) == NULL ||
	    (size_t)m.plen != size - SSM_FRAME_HDR ||
	    m.payload != data + SSM_FRAME_HDR)
		__builtin_trap();
	(void)ssm_ack_parse(m.payload, m.plen, &seq);
	if (ssm_closed_parse(m.payload, m.plen, out, sizeof(out)) == 0 &&
	    memchr(out, '\0', sizeof(out)) == NULL)
		__builtin_trap();
	(void)ssm_exit_parse(m.payload, m.plen, &code);
	/* Re-sealing a valid frame gives a frame that decodes the same. */
	if ((f = malloc(size)) == NULL)
		return 0;
	memcpy(f + SSM_FRAME_HDR, m.payload, m.plen);
	ssm_msg_seal(f, m.type[0] ? m.type : "x", m.created ? m.created : 1,
	    m.seq, m.flags, m.id, m.ptype, m.plen);
	if (ssm_msg_decode(f, size, &m) != 0)
		__builtin_trap();
	free(f);
	return 0;
}
