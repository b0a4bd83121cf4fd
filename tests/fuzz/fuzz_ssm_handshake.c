/*
 * fuzz_ssm_handshake.c - libFuzzer target for the handshake JSON: the
 * HandshakeRequest parser, the response built from what it decided, the
 * HandshakeComplete parser, the ack parser's fast path (checked against
 * cJSON), and the OpenDataChannel builder fed the bytes as a token (its
 * JSON must parse back to the same token).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jc_plugin.h"
#include "../../plugins/ssm/ssm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssm_hs hs;
	char msg[128], tok[512], *s;
	int64_t seq;
	cJSON *j;
	int i, mux, ka, raw;

	if (ssm_hs_parse(data, size, &hs) == 0) {
		if (hs.nact < 0 || hs.nact > SSM_HS_MAX_ACTIONS)
			__builtin_trap();
		for (i = 0; i < hs.nact; i++)
			if (hs.act[i].status < SSM_ACT_SUCCESS ||
			    hs.act[i].status > SSM_ACT_UNSUPPORTED ||
			    (hs.act[i].status != SSM_ACT_SUCCESS &&
			    hs.act[i].error[0] == '\0'))
				__builtin_trap();
		ssm_port_mode(&hs, &mux, &ka, &raw);
		if (ka && !mux)
			__builtin_trap();
		if ((s = ssm_hs_response(&hs)) != NULL) {
			if ((j = cJSON_Parse(s)) == NULL)
				__builtin_trap();
			cJSON_Delete(j);
			free(s);
		}
	}
	(void)ssm_hs_complete(data, size, msg, sizeof(msg));
	/* The ack fast path never disagrees with a real JSON parse. */
	if (ssm_ack_parse(data, size, &seq) == 0 &&
	    (j = cJSON_ParseWithLength((const char *)data, size)) != NULL) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j,
		    "AcknowledgedMessageSequenceNumber");

		if (cJSON_IsNumber(v) && v->valuedouble != (double)seq)
			__builtin_trap();
		cJSON_Delete(j);
	}
	/* Any bytes as a token still make valid JSON. */
	if (size < sizeof(tok) && memchr(data, '\0', size) == NULL) {
		memcpy(tok, data, size);
		tok[size] = '\0';
		if ((s = ssm_open_json(tok, "c")) != NULL) {
			j = cJSON_Parse(s);
			if (j == NULL || !cJSON_IsString(cJSON_GetObjectItem(j,
			    "TokenValue")) || strcmp(cJSON_GetObjectItem(j,
			    "TokenValue")->valuestring, tok) != 0)
				__builtin_trap();
			cJSON_Delete(j);
			free(s);
		}
	}
	return 0;
}
