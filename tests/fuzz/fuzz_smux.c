/*
 * fuzz_smux.c - libFuzzer target for the smux v1 frame parser.  The first
 * two bytes choose how the rest is cut into payloads and how much of each
 * PSH event the consumer takes, as a slow local reader would.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jc_plugin.h"
#include "../../plugins/ssm/ssm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssm_smux_rx rx;
	struct ssm_smux_ev ev;
	size_t cut, take, off, end, used, k;
	int r;

	if (size < 2)
		return 0;
	cut = (size_t)data[0] + 1;
	take = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	memset(&rx, 0, sizeof(rx));
	for (off = 0; off < size;) {
		end = off + cut < size ? off + cut : size;
		while (off < end) {
			r = ssm_smux_parse(&rx, data + off, end - off, &ev,
			    &used);
			if (r < 0)
				return 0;
			if (used > end - off)
				__builtin_trap();
			off += used;
			if (r == 0) {
				if (off != end)
					__builtin_trap();
				break;
			}
			if (ev.cmd == SMUX_PSH) {
				if (ev.data != data + off || ev.len == 0 ||
				    ev.len > end - off ||
				    ev.len > SMUX_MAX_PSH * 2)
					__builtin_trap();
				k = ev.len < take ? ev.len : take;
				ssm_smux_took(&rx, k);
				off += k;
			} else if (ev.cmd != SMUX_SYN && ev.cmd != SMUX_FIN &&
			    ev.cmd != SMUX_NOP)
				__builtin_trap();
		}
	}
	return 0;
}
