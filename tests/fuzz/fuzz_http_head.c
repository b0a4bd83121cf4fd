/*
 * fuzz_http_head.c - libFuzzer target for the HTTP response-head reader
 * shared by the Jupyter check (core/jupyter/httpcheck.c) and the SSM WebSocket
 * upgrade (plugins/ssm/ssm_ws.c): the head itself, every field, then the
 * whole response as httpcheck reads it (head, length, chunked body).
 * The first byte picks the limit and whether the peer has closed.
 * Seeds: corpus/http_head/ (Jupyter and AWS answers).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_head.h"
#include "httpcheck.h"
#include "jc_plugin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_http_head h;
	struct jc_httpcheck res;
	const char *buf, *name, *v;
	size_t len, max, off = 0, nl, vl;
	int eof, r;

	if (size < 1)
		return 0;
	max = (data[0] & 0x7f) == 0 ? 16384 : (size_t)(data[0] & 0x7f) * 8;
	eof = data[0] >> 7;
	buf = (const char *)data + 1;
	len = size - 1;
	r = jc_http_head_parse(buf, len, max, &h);
	if (r == 1) {
		/* Everything it points at lies inside the head. */
		if (h.len > len || h.len > max || h.linelen > h.len ||
		    h.fields + h.fieldslen != buf + h.len ||
		    (h.status != 0 && (h.status < 100 || h.status > 999)))
			__builtin_trap();
		while (jc_http_head_next(&h, &off, &name, &nl, &v, &vl)) {
			if (name < h.fields || v + vl > h.fields + h.fieldslen ||
			    memchr(name, ':', nl) != NULL)
				__builtin_trap();
			(void)jc_http_has_token(v, vl, "upgrade");
		}
		(void)jc_http_head_get(&h, "Content-Length", &vl);
	} else if (r != 0 && r != JC_ERR_PROTO)
		__builtin_trap();
	if (jc_httpcheck_parse(buf, len, eof, &res) == 1) {
		if (res.bodylen > JC_HTTPCHECK_BODY_MAX ||
		    strlen(res.location) >= sizeof(res.location))
			__builtin_trap();
		jc_httpcheck_free(&res);
	}
	return 0;
}
